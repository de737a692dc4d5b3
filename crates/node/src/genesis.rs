//! The genesis allocation as state changes.

use agnt2_primitives::ChainSpec;
use agnt2_storage::{StateChanges, StorageChange};
use agnt2_trie::{Account, EMPTY_ROOT_HASH};
use alloy_primitives::{B256, U256, keccak256};
use revm::{primitives::KECCAK_EMPTY, state::AccountInfo};

/// The allocation of `spec` as the changes of block 0.
pub(crate) fn genesis_changes(spec: &ChainSpec) -> StateChanges {
    let mut out = StateChanges::default();
    for (address, acc) in &spec.genesis.alloc {
        let code_hash = match &acc.code {
            Some(code) if !code.is_empty() => {
                let h = keccak256(code);
                out.codes.push((h, code.clone()));
                h
            }
            _ => KECCAK_EMPTY,
        };
        let info = AccountInfo {
            balance: acc.balance,
            nonce: acc.nonce.unwrap_or_default(),
            code_hash,
            ..Default::default()
        };
        out.accounts.push((*address, Some(info)));
        if let Some(storage) = &acc.storage {
            let slots: Vec<_> = storage
                .iter()
                .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
                .filter(|(_, v)| !v.is_zero())
                .collect();
            if !slots.is_empty() {
                out.storage.push((*address, StorageChange { wiped: false, slots }));
            }
        }
    }
    out
}

/// State root of the genesis allocation, computed in memory (to check a datadir's genesis).
pub(crate) fn genesis_state_root(spec: &ChainSpec) -> B256 {
    let mut accounts: Vec<(B256, Account)> = spec
        .genesis
        .alloc
        .iter()
        .map(|(address, acc)| {
            let mut slots: Vec<(B256, U256)> = acc
                .storage
                .iter()
                .flatten()
                .map(|(k, v)| (keccak256(k), U256::from_be_bytes(v.0)))
                .filter(|(_, v)| !v.is_zero())
                .collect();
            slots.sort_by_key(|(k, _)| *k);
            let storage_root =
                if slots.is_empty() { EMPTY_ROOT_HASH } else { agnt2_trie::storage_root(slots) };
            let code_hash = match &acc.code {
                Some(code) if !code.is_empty() => keccak256(code),
                _ => KECCAK_EMPTY,
            };
            let account = Account {
                nonce: acc.nonce.unwrap_or_default(),
                balance: acc.balance,
                storage_root,
                code_hash,
            };
            (keccak256(address), account)
        })
        .collect();
    accounts.sort_by_key(|(k, _)| *k);
    agnt2_trie::state_root(accounts)
}
