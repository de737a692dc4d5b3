//! Random state transitions through the real MDBX store: the state root after every block equals
//! a from-scratch computation over a model of the state, and every past state is readable.

use agnt2_storage::{StateChanges, StorageChange, Store};
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, Nibbles, TrieAccount, root::storage_root_unhashed};
use rand::{Rng, SeedableRng, rngs::StdRng};
use revm::{primitives::KECCAK_EMPTY, state::AccountInfo};
use std::collections::BTreeMap;

#[derive(Clone, Default)]
struct Model {
    accounts: BTreeMap<Address, AccountInfo>,
    storage: BTreeMap<Address, BTreeMap<U256, U256>>,
}

impl Model {
    fn root(&self) -> B256 {
        let mut leaves: Vec<(B256, TrieAccount)> = self
            .accounts
            .iter()
            .map(|(a, info)| {
                let slots = self.storage.get(a).cloned().unwrap_or_default();
                let storage_root = if slots.is_empty() {
                    EMPTY_ROOT_HASH
                } else {
                    storage_root_unhashed(slots.into_iter().map(|(k, v)| (B256::from(k), v)))
                };
                let acc = TrieAccount {
                    nonce: info.nonce,
                    balance: info.balance,
                    storage_root,
                    code_hash: info.code_hash,
                };
                (keccak256(a), acc)
            })
            .collect();
        leaves.sort_by_key(|(k, _)| *k);
        let mut hb = HashBuilder::default();
        for (k, acc) in leaves {
            let mut buf = Vec::new();
            alloy_rlp::Encodable::encode(&acc, &mut buf);
            hb.add_leaf(Nibbles::unpack(k), &buf);
        }
        hb.root()
    }
}

/// Random changes for `block`, applied to `model` as well.
fn random_block(
    rng: &mut StdRng,
    block: u64,
    addrs: &[Address],
    model: &mut Model,
) -> StateChanges {
    {
        let mut changes = StateChanges::default();
        let mut touched = BTreeMap::new();
        for _ in 0..rng.random_range(1..12) {
            let a = addrs[rng.random_range(0..addrs.len())];
            let roll = rng.random_range(0..10);
            // Removals only every fourth block, so that most blocks take the incremental path.
            if roll == 0 && block.is_multiple_of(4) && model.accounts.contains_key(&a) {
                touched.insert(a, None);
            } else {
                let info = AccountInfo {
                    nonce: rng.random_range(0..5),
                    balance: U256::from(rng.random_range(1u64..1_000_000)),
                    code_hash: KECCAK_EMPTY,
                    ..Default::default()
                };
                touched.insert(a, Some(info));
            }
        }
        for (a, info) in &touched {
            changes.accounts.push((*a, info.clone()));
            match info {
                Some(i) => {
                    model.accounts.insert(*a, i.clone());
                    if rng.random_bool(0.5) {
                        let mut slots = vec![];
                        for _ in 0..rng.random_range(1..6) {
                            let k = U256::from(rng.random_range(0u64..8));
                            let v = if rng.random_bool(0.3) {
                                U256::ZERO
                            } else {
                                U256::from(rng.random::<u64>())
                            };
                            slots.push((k, v));
                            let m = model.storage.entry(*a).or_default();
                            if v.is_zero() {
                                m.remove(&k);
                            } else {
                                m.insert(k, v);
                            }
                        }
                        changes.storage.push((*a, StorageChange { wiped: false, slots }));
                    }
                }
                None => {
                    model.accounts.remove(a);
                    model.storage.remove(a);
                }
            }
        }
        changes
    }
}

#[test]
fn random_transitions_match_from_scratch_roots_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let addrs: Vec<Address> = (0..120).map(|i| Address::with_last_byte(i as u8)).collect();
    let mut model = Model::default();
    let mut snapshots = vec![];

    for block in 0..60u64 {
        let changes = random_block(&mut rng, block, &addrs, &mut model);
        let mut w = store.writer().unwrap();
        w.apply_state(block, &changes).unwrap();
        assert_eq!(w.state_root().unwrap(), model.root(), "root differs at block {block}");
        w.commit().unwrap();
        snapshots.push(model.clone());
    }

    let r = store.reader().unwrap();
    for (block, snap) in snapshots.iter().enumerate() {
        for a in &addrs {
            let got = r.account_at(*a, block as u64).unwrap();
            let want = snap.accounts.get(a);
            assert_eq!(got.map(|i| (i.nonce, i.balance)), want.map(|i| (i.nonce, i.balance)));
            for k in 0..8u64 {
                let k = U256::from(k);
                let want = snap.storage.get(a).and_then(|s| s.get(&k)).copied().unwrap_or_default();
                assert_eq!(
                    r.storage_at(*a, k, block as u64).unwrap(),
                    want,
                    "{a} slot {k} at {block}"
                );
            }
        }
    }
}

#[test]
fn unwind_restores_the_state_and_root_of_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let addrs: Vec<Address> = (0..80).map(|i| Address::with_last_byte(i as u8)).collect();
    let mut model = Model::default();
    let mut at_ten = None;
    for block in 0..25u64 {
        let changes = random_block(&mut rng, block, &addrs, &mut model);
        let mut w = store.writer().unwrap();
        w.apply_state(block, &changes).unwrap();
        w.state_root().unwrap();
        w.commit().unwrap();
        if block == 10 {
            at_ten = Some(model.clone());
        }
    }
    let mut model = at_ten.unwrap();
    let mut w = store.writer().unwrap();
    w.unwind_to(10).unwrap();
    assert_eq!(w.state_root().unwrap(), model.root());
    w.commit().unwrap();
    let r = store.reader().unwrap();
    for a in &addrs {
        let got = r.account(*a).unwrap().map(|i| (i.nonce, i.balance));
        assert_eq!(got, model.accounts.get(a).map(|i| (i.nonce, i.balance)));
    }
    drop(r);
    // The chain goes on from there, with history intact.
    for block in 11..20u64 {
        let changes = random_block(&mut rng, block, &addrs, &mut model);
        let mut w = store.writer().unwrap();
        w.apply_state(block, &changes).unwrap();
        assert_eq!(w.state_root().unwrap(), model.root(), "block {block} after unwind");
        w.commit().unwrap();
    }
}
