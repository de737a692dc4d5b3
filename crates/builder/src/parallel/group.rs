//! Grouping candidates by predicted dependencies (union-find over same sender, a shared
//! access-list storage key, the same agent named in a call that writes its objects), and the
//! key conflicts are learned under.

use agnt2_txpool::PooledTx;
use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, map::HashMap};
use std::sync::Arc;

/// (target, selector): the key conflicts are learned under.
pub(super) type Key = (Address, [u8; 4]);

/// The key a transaction's conflicts are learned under: its target and selector; plain value
/// transfers (no selector) under the recipient, so that many payments to one account turn hot
/// like calls to one contract.
pub(super) fn key(tx: &PooledTx) -> Option<Key> {
    let to = tx.tx.to()?;
    let input = tx.tx.input();
    let selector = if input.len() >= 4 { [input[0], input[1], input[2], input[3]] } else { [0; 4] };
    Some((to, selector))
}

/// Union-find over candidate indexes.
struct Groups(Vec<usize>);

impl Groups {
    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// The agent an agent-precompile call writes for, if any: calls to the Identity (0x8004),
/// Capabilities (0x8007) and Sessions (0x8008) precompiles name the agent first and write that
/// agent's objects. Reputation (0x8005) is left out: feedback writes per-client slots, so two
/// clients rating one agent do not conflict.
fn agent_hint(tx: &PooledTx) -> Option<(Address, B256)> {
    let to = tx.tx.to()?;
    let b = to.as_slice();
    let agent = b[..18].iter().all(|x| *x == 0)
        && matches!(u16::from_be_bytes([b[18], b[19]]), 0x8004 | 0x8007 | 0x8008);
    let input = tx.tx.input();
    (agent && input.len() >= 36).then(|| (to, B256::from_slice(&input[4..36])))
}

/// Groups candidates by predicted dependencies: same sender, a shared access-list storage key,
/// the same agent named in a call that writes its objects.
pub(super) fn group(cands: &[Arc<PooledTx>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut uf = Groups((0..cands.len()).collect());
    let mut by_sender: HashMap<Address, usize> = HashMap::default();
    let mut by_slot: HashMap<(Address, B256), usize> = HashMap::default();
    let mut by_agent: HashMap<(Address, B256), usize> = HashMap::default();
    for (i, c) in cands.iter().enumerate() {
        if let Some(&j) = by_sender.get(&c.sender()) {
            uf.union(i, j);
        } else {
            by_sender.insert(c.sender(), i);
        }
        if let Some(list) = c.tx.access_list() {
            for item in list.iter() {
                for k in &item.storage_keys {
                    match by_slot.get(&(item.address, *k)) {
                        Some(&j) => uf.union(i, j),
                        None => {
                            by_slot.insert((item.address, *k), i);
                        }
                    }
                }
            }
        }
        if let Some(h) = agent_hint(c) {
            match by_agent.get(&h) {
                Some(&j) => uf.union(i, j),
                None => {
                    by_agent.insert(h, i);
                }
            }
        }
    }
    let mut index: HashMap<usize, usize> = HashMap::default();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut of = vec![0; cands.len()];
    for (i, slot) in of.iter_mut().enumerate() {
        let root = uf.find(i);
        let g = *index.entry(root).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
        *slot = g;
    }
    (of, groups)
}
