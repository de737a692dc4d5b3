//! Incremental state root: only the paths to changed keys are rehashed.
//!
//! After each root computation the branch nodes the [`HashBuilder`] produced are stored (keyed
//! by their nibble path). The next computation walks the stored nodes from the root: a child
//! subtree without changed keys is added to the builder by its stored hash; a child with
//! changes is descended into (if a stored branch lies below it) or rebuilt from its leaves. The
//! cost is proportional to the number of changed keys times the depth of the trie.
//!
//! The walk assumes no key was removed: a removal can collapse a branch into its remaining
//! child, which must then be re-read rather than referenced by hash. Callers fall back to
//! [`full_root`] for blocks that remove keys (rare for accounts: self-destructs and emptied
//! accounts).

use alloy_primitives::B256;
use alloy_primitives::map::HashMap;
use alloy_trie::{BranchNodeCompact, HashBuilder, Nibbles, TrieMask};

/// Stored branch nodes.
pub trait TrieNodes {
    /// The node at exactly `path`.
    fn node(&self, path: &Nibbles) -> Option<BranchNodeCompact>;
    /// The first node (in nibble order) whose path starts with `prefix`.
    fn first_under(&self, prefix: &Nibbles) -> Option<(Nibbles, BranchNodeCompact)>;
}

/// The leaves of the trie, by hashed key.
pub trait TrieLeaves {
    /// Calls `f` for every leaf with `from <= key <= to`, in key order.
    fn for_each(&self, from: B256, to: B256, f: &mut dyn FnMut(B256, &[u8]));
}

/// A root and the branch nodes to store (overwriting those at the same paths).
pub type RootWithUpdates = (B256, HashMap<Nibbles, BranchNodeCompact>);

/// Rebuilds the root from every leaf, returning all branch nodes to store (the caller replaces
/// everything it stored before).
pub fn full_root(leaves: &impl TrieLeaves) -> RootWithUpdates {
    let mut hb = HashBuilder::default().with_updates(true);
    leaves.for_each(B256::ZERO, B256::repeat_byte(0xff), &mut |k, v| {
        hb.add_leaf(Nibbles::unpack(k), v)
    });
    let root = hb.root();
    let (_, updates) = hb.split();
    (root, updates)
}

/// Recomputes the root after `changed` keys (sorted, deduplicated; inserted or updated, none
/// removed). `None` when there is no stored root node to start from: use [`full_root`].
pub fn incremental_root(
    nodes: &impl TrieNodes,
    leaves: &impl TrieLeaves,
    changed: &[B256],
) -> Option<RootWithUpdates> {
    let root = nodes.node(&Nibbles::default())?;
    let changed: Vec<Nibbles> = changed.iter().map(|k| Nibbles::unpack(*k)).collect();
    let mut w = Walk { nodes, leaves, hb: HashBuilder::default().with_updates(true) };
    w.branch(&Nibbles::default(), &root, &changed);
    let root = w.hb.root();
    let (_, updates) = w.hb.split();
    Some((root, updates))
}

struct Walk<'a, N, L> {
    nodes: &'a N,
    leaves: &'a L,
    hb: HashBuilder,
}

fn with_prefix<'c>(changed: &'c [Nibbles], prefix: &Nibbles) -> &'c [Nibbles] {
    let start = changed.partition_point(|k| k < prefix && !k.starts_with(prefix));
    let len = changed[start..].iter().take_while(|k| k.starts_with(prefix)).count();
    &changed[start..start + len]
}

/// The smallest and largest 32-byte keys that start with `prefix`.
fn bounds(prefix: &Nibbles) -> (B256, B256) {
    let mut lo = [0u8; 64];
    let mut hi = [0x0fu8; 64];
    for i in 0..prefix.len() {
        lo[i] = prefix.get_unchecked(i);
        hi[i] = prefix.get_unchecked(i);
    }
    let pack = |n: [u8; 64]| {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = (n[2 * i] << 4) | n[2 * i + 1];
        }
        B256::from(out)
    };
    (pack(lo), pack(hi))
}

fn next_key(k: B256) -> Option<B256> {
    let mut b = k.0;
    for i in (0..32).rev() {
        if b[i] == 0xff {
            b[i] = 0;
        } else {
            b[i] += 1;
            return Some(B256::from(b));
        }
    }
    None
}

fn prev_key(k: B256) -> Option<B256> {
    let mut b = k.0;
    for i in (0..32).rev() {
        if b[i] == 0 {
            b[i] = 0xff;
        } else {
            b[i] -= 1;
            return Some(B256::from(b));
        }
    }
    None
}

impl<N: TrieNodes, L: TrieLeaves> Walk<'_, N, L> {
    fn leaves(&mut self, from: B256, to: B256) {
        if from > to {
            return;
        }
        let hb = &mut self.hb;
        self.leaves.for_each(from, to, &mut |k, v| hb.add_leaf(Nibbles::unpack(k), v));
    }

    fn branch(&mut self, path: &Nibbles, node: &BranchNodeCompact, changed: &[Nibbles]) {
        for c in 0u8..16 {
            let mut child = *path;
            child.push(c);
            let ch = with_prefix(changed, &child);
            let present = node.state_mask.is_bit_set(c);
            if ch.is_empty() {
                if !present {
                    continue;
                }
                if node.hash_mask.is_bit_set(c) {
                    let stored = node.tree_mask.is_bit_set(c);
                    self.hb.add_branch(child, node.hash_for_nibble(c), stored);
                } else {
                    let (lo, hi) = bounds(&child);
                    self.leaves(lo, hi);
                }
                continue;
            }
            let (lo, hi) = bounds(&child);
            let below = if present && node.tree_mask.is_bit_set(c) {
                self.nodes.first_under(&child)
            } else {
                None
            };
            match below {
                Some((q, below)) => {
                    // Leaves that now diverge inside the extension above `q`, the branch at
                    // `q`, then leaves after it.
                    let (qlo, qhi) = bounds(&q);
                    if let Some(before) = prev_key(qlo) {
                        self.leaves(lo, before);
                    }
                    self.branch(&q, &below, with_prefix(ch, &q));
                    if let Some(after) = next_key(qhi) {
                        self.leaves(after, hi);
                    }
                }
                None => self.leaves(lo, hi),
            }
        }
    }
}

/// Encodes a branch node for storage: masks, optional root hash, child hashes.
pub fn encode_node(n: &BranchNodeCompact) -> Vec<u8> {
    let mut out = Vec::with_capacity(7 + 32 * (n.hashes.len() + 1));
    out.extend_from_slice(&n.state_mask.get().to_be_bytes());
    out.extend_from_slice(&n.tree_mask.get().to_be_bytes());
    out.extend_from_slice(&n.hash_mask.get().to_be_bytes());
    match n.root_hash {
        Some(h) => {
            out.push(1);
            out.extend_from_slice(h.as_slice());
        }
        None => out.push(0),
    }
    for h in n.hashes.iter() {
        out.extend_from_slice(h.as_slice());
    }
    out
}

/// Decodes a stored branch node; `None` if the bytes are not a valid node.
pub fn decode_node(b: &[u8]) -> Option<BranchNodeCompact> {
    if b.len() < 7 {
        return None;
    }
    let mask = |i: usize| TrieMask::new(u16::from_be_bytes([b[i], b[i + 1]]));
    let (state, tree, hash) = (mask(0), mask(2), mask(4));
    let (root, rest) = match b[6] {
        0 => (None, &b[7..]),
        1 if b.len() >= 39 => (Some(B256::from_slice(&b[7..39])), &b[39..]),
        _ => return None,
    };
    if !tree.is_subset_of(state)
        || !hash.is_subset_of(state)
        || rest.len() != 32 * hash.count_bits() as usize
    {
        return None;
    }
    let hashes = rest.chunks(32).map(B256::from_slice).collect();
    Some(BranchNodeCompact::new(state, tree, hash, hashes, root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Mem {
        leaves: BTreeMap<B256, Vec<u8>>,
        nodes: BTreeMap<Vec<u8>, BranchNodeCompact>,
    }

    impl TrieLeaves for Mem {
        fn for_each(&self, from: B256, to: B256, f: &mut dyn FnMut(B256, &[u8])) {
            for (k, v) in self.leaves.range(from..=to) {
                f(*k, v);
            }
        }
    }

    impl TrieNodes for Mem {
        fn node(&self, path: &Nibbles) -> Option<BranchNodeCompact> {
            self.nodes.get(&path.to_vec()).cloned()
        }
        fn first_under(&self, prefix: &Nibbles) -> Option<(Nibbles, BranchNodeCompact)> {
            let p = prefix.to_vec();
            let (k, v) = self.nodes.range(p.clone()..).next()?;
            k.starts_with(&p).then(|| (Nibbles::from_nibbles(k), v.clone()))
        }
    }

    fn store(m: &mut Mem, updates: HashMap<Nibbles, BranchNodeCompact>, replace: bool) {
        if replace {
            m.nodes.clear();
        }
        for (k, v) in updates {
            let decoded = decode_node(&encode_node(&v)).expect("roundtrip");
            assert_eq!(decoded, v);
            m.nodes.insert(k.to_vec(), v);
        }
    }

    #[test]
    fn incremental_matches_full_rebuild_over_random_blocks() {
        let mut rng = StdRng::seed_from_u64(42);
        let mut m = Mem::default();
        for _ in 0..300 {
            m.leaves.insert(B256::from(rng.random::<[u8; 32]>()), vec![rng.random(); 40]);
        }
        let (_, nodes) = full_root(&m);
        store(&mut m, nodes, true);
        let keys: Vec<B256> = m.leaves.keys().copied().collect();
        for round in 0..200 {
            let mut changed = Vec::new();
            for _ in 0..rng.random_range(1..20) {
                let k = if rng.random_bool(0.5) {
                    B256::from(rng.random::<[u8; 32]>())
                } else {
                    keys[rng.random_range(0..keys.len())]
                };
                m.leaves.insert(k, vec![rng.random(); rng.random_range(33..60)]);
                changed.push(k);
            }
            changed.sort();
            changed.dedup();
            let (root, updates) = incremental_root(&m, &m, &changed).expect("root node stored");
            let (expected, _) = full_root(&m);
            assert_eq!(root, expected, "round {round}");
            store(&mut m, updates, false);
        }
    }

    #[test]
    fn corrupt_nodes_do_not_decode() {
        assert!(decode_node(&[0; 3]).is_none());
        // hash mask says one hash, none given
        assert!(decode_node(&[0, 1, 0, 0, 0, 1, 0]).is_none());
        // tree mask not a subset of the state mask
        assert!(decode_node(&[0, 1, 0, 2, 0, 0, 0]).is_none());
    }
}
