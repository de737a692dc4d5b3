//! Incremental state root: only the paths to changed keys are rehashed.
//!
//! After each root computation the branch nodes the [`HashBuilder`] produced are stored (keyed
//! by their nibble path). The next computation walks the stored nodes from the root: a child
//! subtree without changed keys is added to the builder by its stored hash; a child with
//! changes is descended into (if a stored branch lies below it) or rebuilt from its leaves. The
//! cost is proportional to the number of changed keys times the depth of the trie.
//!
//! Removals need no special walk: the builder stores hashes only for branch children, so when a
//! branch collapses into its last child after a removal, that child is either a branch (an
//! extension may point at it by hash) or was read from its leaves. Stored nodes on the changed
//! paths that the builder no longer produces are returned for deletion.

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
    /// Whether any leaf has `from <= key <= to`.
    fn any_in(&self, from: B256, to: B256) -> bool;
}

/// A root and the branch nodes to store (overwriting those at the same paths).
pub type RootWithUpdates = (B256, HashMap<Nibbles, BranchNodeCompact>);

/// An incremental root: the root, the branch nodes to store, and the stored paths that are no
/// longer branch nodes (to delete).
#[derive(Debug)]
pub struct IncrementalRoot {
    /// The new root.
    pub root: B256,
    /// Nodes to store (overwriting).
    pub updates: HashMap<Nibbles, BranchNodeCompact>,
    /// Stored paths to delete.
    pub removed: Vec<Nibbles>,
}

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

/// Recomputes the root after `changed` keys (sorted, deduplicated; inserted, updated or
/// removed — `leaves` already reflects the change). `None` when there is no stored root node to
/// start from: use [`full_root`].
pub fn incremental_root(
    nodes: &impl TrieNodes,
    leaves: &impl TrieLeaves,
    changed: &[B256],
) -> Option<IncrementalRoot> {
    let root = nodes.node(&Nibbles::default())?;
    let changed: Vec<Nibbles> = changed.iter().map(|k| Nibbles::unpack(*k)).collect();
    let mut w =
        Walk { nodes, leaves, hb: HashBuilder::default().with_updates(true), visited: Vec::new() };
    w.branch(&Nibbles::default(), &root, &changed);
    let root = w.hb.root();
    let (_, updates) = w.hb.split();
    let removed = w.visited.into_iter().filter(|p| !updates.contains_key(p)).collect();
    Some(IncrementalRoot { root, updates, removed })
}

struct Walk<'a, N, L> {
    nodes: &'a N,
    leaves: &'a L,
    hb: HashBuilder,
    /// Stored nodes walked through: if the builder does not produce them again, they are gone.
    visited: Vec<Nibbles>,
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

    /// Adds an unchanged child whose hash is not stored (a leaf, or an extension above a stored
    /// branch): from the stored branch below it, else from its leaves.
    fn expand(&mut self, child: &Nibbles, in_trie: bool) {
        if in_trie && let Some((q, below)) = self.nodes.first_under(child) {
            self.branch(&q, &below, &[]);
            return;
        }
        let (lo, hi) = bounds(child);
        self.leaves(lo, hi);
    }

    fn branch(&mut self, path: &Nibbles, node: &BranchNodeCompact, changed: &[Nibbles]) {
        self.visited.push(*path);
        for c in 0u8..16 {
            let mut child = *path;
            child.push(c);
            let ch = with_prefix(changed, &child);
            let present = node.state_mask.is_bit_set(c);
            if ch.is_empty() {
                if !present {
                    continue;
                }
                // The builder records hashes only of branch children (never of leaves or
                // extensions), so a child added by hash stays valid even if this node collapses
                // into it after removals: an extension may point at a branch.
                if node.hash_mask.is_bit_set(c) {
                    let stored = node.tree_mask.is_bit_set(c);
                    self.hb.add_branch(child, node.hash_for_nibble(c), stored);
                } else {
                    self.expand(&child, node.tree_mask.is_bit_set(c));
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
        fn any_in(&self, from: B256, to: B256) -> bool {
            self.leaves.range(from..=to).next().is_some()
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

    fn store(
        m: &mut Mem,
        updates: HashMap<Nibbles, BranchNodeCompact>,
        removed: &[Nibbles],
        replace: bool,
    ) {
        if replace {
            m.nodes.clear();
        }
        for p in removed {
            m.nodes.remove(&p.to_vec());
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
        store(&mut m, nodes, &[], true);
        for round in 0..400 {
            let keys: Vec<B256> = m.leaves.keys().copied().collect();
            let mut changed = Vec::new();
            for _ in 0..rng.random_range(1..20) {
                let roll = rng.random_range(0..10);
                let k = if roll < 4 || keys.is_empty() {
                    B256::from(rng.random::<[u8; 32]>())
                } else {
                    keys[rng.random_range(0..keys.len())]
                };
                // Removals too, more often while the trie is large, so it shrinks and grows.
                if roll >= 7 && m.leaves.len() > 20 {
                    m.leaves.remove(&k);
                } else {
                    m.leaves.insert(k, vec![rng.random(); rng.random_range(33..60)]);
                }
                changed.push(k);
            }
            changed.sort();
            changed.dedup();
            let (expected, _) = full_root(&m);
            match incremental_root(&m, &m, &changed) {
                Some(r) => {
                    assert_eq!(r.root, expected, "round {round}");
                    store(&mut m, r.updates, &r.removed, false);
                }
                None => {
                    let (root, nodes) = full_root(&m);
                    store(&mut m, nodes, &[], true);
                    assert_eq!(root, expected);
                }
            }
            // The stored nodes are exactly what a full rebuild stores.
            let (_, fresh) = full_root(&m);
            let fresh: BTreeMap<Vec<u8>, BranchNodeCompact> =
                fresh.into_iter().map(|(k, v)| (k.to_vec(), v)).collect();
            assert_eq!(m.nodes, fresh, "stored nodes drifted at round {round}");
        }
    }

    /// A branch that loses all but one leaf collapses into it: the leaf must be re-read, and the
    /// branch's stored node deleted.
    #[test]
    fn removal_collapses_a_branch_into_its_last_leaf() {
        let key = |prefix: &[u8]| {
            let mut b = [0x77u8; 32];
            b[..prefix.len()].copy_from_slice(prefix);
            B256::from(b)
        };
        let mut m = Mem::default();
        // A branch at [1] whose children are a branch at [1,0] (two leaves) and a leaf at
        // [1,1]; more branches elsewhere so that the root stays a branch.
        let keys = [
            [0x10, 0x00],
            [0x10, 0x10],
            [0x11, 0x00],
            [0x20, 0x00],
            [0x20, 0x10],
            [0x30, 0x00],
            [0x30, 0x10],
        ];
        for k in keys {
            m.leaves.insert(key(&k), vec![7; 40]);
        }
        let (_, nodes) = full_root(&m);
        store(&mut m, nodes, &[], true);
        assert!(m.nodes.contains_key(&vec![1u8]), "branch at [1] stored: {:?}", m.nodes.keys());
        m.leaves.remove(&key(&[0x11, 0x00]));
        let r = incremental_root(&m, &m, &[key(&[0x11, 0x00])]).expect("root stored");
        assert_eq!(r.root, full_root(&m).0);
        assert!(r.removed.contains(&Nibbles::from_nibbles([1u8])), "{:?}", r.removed);
        store(&mut m, r.updates, &r.removed, false);
        let (_, fresh) = full_root(&m);
        let fresh: BTreeMap<Vec<u8>, BranchNodeCompact> =
            fresh.into_iter().map(|(k, v)| (k.to_vec(), v)).collect();
        assert_eq!(m.nodes, fresh);
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
