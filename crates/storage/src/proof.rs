//! EIP-1186 proofs of an account and its slots at the head or at a past block.
//!
//! The tries are rebuilt from the hashed state (the head), with the values a past block had
//! restored from the changesets of the blocks after it: linear in the state's size, which is
//! what a devnet needs; a production node would keep historical trie nodes instead.

use crate::{
    StoreReader,
    codec::{self, decode_b256, decode_num, num},
    error::{StorageResult, corrupt},
    tables,
};
use agnt2_trie::{Account as TrieAccount, EMPTY_ROOT_HASH};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use revm::state::AccountInfo;
use std::collections::{BTreeMap, HashMap, btree_map::Entry};

/// An account and some of its slots, proven against a state root.
#[derive(Debug, Clone)]
pub struct StateProof {
    /// The state root the proofs lead to.
    pub state_root: B256,
    /// The account (`None`: it does not exist; the proof shows its absence).
    pub account: Option<TrieAccount>,
    /// Nodes from the state root to the account's leaf (or its absence).
    pub account_proof: Vec<Bytes>,
    /// The account's storage root.
    pub storage_root: B256,
    /// Per requested slot, in order: its value and the nodes from the storage root.
    pub storage: Vec<(U256, Vec<Bytes>)>,
}

/// What blocks after `n` changed: accounts and slots as they were after `n`.
#[derive(Default)]
struct Reverts {
    /// Hashed address → the account after `n` (`None`: it did not exist).
    accounts: HashMap<B256, Option<AccountInfo>>,
    /// Hashed address → hashed slot → value after `n`.
    storage: HashMap<B256, BTreeMap<B256, U256>>,
}

impl StoreReader {
    /// Proof of `address` and `slots` in the state after block `at` (`None`: the head).
    pub fn proof_at(
        &self,
        address: Address,
        slots: &[B256],
        at: Option<u64>,
    ) -> StorageResult<StateProof> {
        let reverts = match at {
            Some(n) => self.reverts_after(n)?,
            None => Reverts::default(),
        };
        let hashed = keccak256(address);
        let mut accounts: BTreeMap<B256, TrieAccount> = BTreeMap::new();
        let mut c = self.tx.cursor(self.t.hashed_accounts)?;
        for item in c.iter_start::<Vec<u8>, Vec<u8>>()? {
            let (k, v) = item?;
            let key = decode_b256(tables::HASHED_ACCOUNTS, &k)?;
            let (info, storage_root) = codec::decode_hashed_account(&v)?;
            accounts.insert(key, trie_account(&info, storage_root));
        }
        for (key, info) in &reverts.accounts {
            match info {
                None => {
                    accounts.remove(key);
                }
                Some(info) => {
                    let root = accounts.get(key).map_or(EMPTY_ROOT_HASH, |a| a.storage_root);
                    accounts.insert(*key, trie_account(info, root));
                }
            }
        }
        // Storage roots of the accounts whose storage changed after `at`.
        for (key, old) in &reverts.storage {
            if let Entry::Occupied(mut e) = accounts.entry(*key) {
                e.get_mut().storage_root =
                    agnt2_trie::storage_root(self.storage_leaves(*key, old)?);
            }
        }
        let none = BTreeMap::new();
        let old = reverts.storage.get(&hashed).unwrap_or(&none);
        let leaves = self.storage_leaves(hashed, old)?;
        let slot_keys: Vec<B256> = slots.iter().map(keccak256).collect();
        let values: Vec<U256> = slot_keys
            .iter()
            .map(|k| leaves.iter().find(|(lk, _)| lk == k).map(|(_, v)| *v).unwrap_or_default())
            .collect();
        let storage = agnt2_trie::root_with_proofs(
            leaves.into_iter().map(|(k, v)| (k, agnt2_trie::encode_storage_value(v))),
            &slot_keys,
        );
        let account = accounts.get(&hashed).copied();
        let state = agnt2_trie::root_with_proofs(
            accounts.iter().map(|(k, a)| (*k, agnt2_trie::encode_account(a))),
            &[hashed],
        );
        Ok(StateProof {
            state_root: state.root,
            account,
            account_proof: state.proofs.into_iter().next().unwrap_or_default(),
            storage_root: storage.root,
            storage: values.into_iter().zip(storage.proofs).collect(),
        })
    }

    /// The non-zero hashed slots of an account at the head, with `old` values restored.
    fn storage_leaves(
        &self,
        hashed: B256,
        old: &BTreeMap<B256, U256>,
    ) -> StorageResult<Vec<(B256, U256)>> {
        let mut slots = BTreeMap::new();
        let mut c = self.tx.cursor(self.t.hashed_storage)?;
        for item in c.iter_from::<Vec<u8>, Vec<u8>>(hashed.as_slice())? {
            let (k, v) = item?;
            if k.len() != 64 || k[..32] != hashed[..] {
                break;
            }
            slots.insert(B256::from_slice(&k[32..]), U256::from_be_slice(&v));
        }
        for (k, v) in old {
            slots.insert(*k, *v);
        }
        Ok(slots.into_iter().filter(|(_, v)| !v.is_zero()).collect())
    }

    /// The changesets of blocks after `n`, reduced to the values after `n` (the first change
    /// of each account and slot holds them).
    fn reverts_after(&self, n: u64) -> StorageResult<Reverts> {
        self.check_history(n)?;
        let mut out = Reverts::default();
        let from = num(n + 1);
        let mut c = self.tx.cursor(self.t.account_changesets)?;
        for item in c.iter_from::<Vec<u8>, Vec<u8>>(&from)? {
            let (k, v) = item?;
            if k.len() != 28 {
                return Err(corrupt(tables::ACCOUNT_CHANGESETS, "key length"));
            }
            decode_num(tables::ACCOUNT_CHANGESETS, &k[..8])?;
            let info = if v.is_empty() {
                None
            } else {
                Some(codec::decode_account(tables::ACCOUNT_CHANGESETS, &v)?)
            };
            out.accounts.entry(keccak256(&k[8..])).or_insert(info);
        }
        let mut c = self.tx.cursor(self.t.storage_changesets)?;
        for item in c.iter_from::<Vec<u8>, Vec<u8>>(&from)? {
            let (k, v) = item?;
            if k.len() != 60 {
                return Err(corrupt(tables::STORAGE_CHANGESETS, "key length"));
            }
            let slots = out.storage.entry(keccak256(&k[8..28])).or_default();
            slots.entry(keccak256(&k[28..])).or_insert_with(|| U256::from_be_slice(&v));
        }
        Ok(out)
    }
}

const fn trie_account(info: &AccountInfo, storage_root: B256) -> TrieAccount {
    TrieAccount {
        nonce: info.nonce,
        balance: info.balance,
        storage_root,
        code_hash: info.code_hash,
    }
}
