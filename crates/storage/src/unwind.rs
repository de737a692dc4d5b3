//! Unwinding the chain to an earlier block (devnet `evm_revert`, `anvil_reset`).

use crate::{
    BlockWriter,
    codec::{self, encode_account, encode_hashed_account, num},
    error::{StorageError, StorageResult},
    reader, tables,
};
use agnt2_primitives::TxEnvelope;
use agnt2_trie::EMPTY_ROOT_HASH;
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, U256, keccak256};
use signet_libmdbx::{WriteFlags, tx::Database};
use std::collections::{BTreeMap, BTreeSet};

impl BlockWriter {
    /// Drops the state history of block `block` (its changesets and history-index entries), so
    /// that state is kept from `block` on. Called with the block that leaves the window.
    pub fn prune_history(&mut self, block: u64) -> StorageResult<()> {
        let prefix = num(block);
        for k in self.keys_with_prefix(self.t.account_changesets, &prefix)? {
            self.tx.del(self.t.account_changesets, &k, None)?;
            let hk: [u8; 28] = codec::cat(&[&k[8..28], &k[..8]]);
            self.tx.del(self.t.account_history, hk, None)?;
        }
        for k in self.keys_with_prefix(self.t.storage_changesets, &prefix)? {
            self.tx.del(self.t.storage_changesets, &k, None)?;
            let hk: [u8; 60] = codec::cat(&[&k[8..60], &k[..8]]);
            self.tx.del(self.t.storage_history, hk, None)?;
        }
        self.tx.put(self.t.metadata, b"state_from", num(block), WriteFlags::empty())?;
        Ok(())
    }

    /// The keys of `db` that start with `prefix`.
    fn keys_with_prefix(&self, db: Database, prefix: &[u8]) -> StorageResult<Vec<Vec<u8>>> {
        let mut c = self.tx.cursor(db)?;
        let mut out = Vec::new();
        for item in c.iter_from::<Vec<u8>, ()>(prefix)? {
            let (k, ()) = item?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push(k);
        }
        Ok(out)
    }

    /// All keys of `db` from `start` on.
    fn keys_from(&self, db: Database, start: &[u8]) -> StorageResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut c = self.tx.cursor(db)?;
        let mut out = Vec::new();
        for item in c.iter_from::<Vec<u8>, Vec<u8>>(start)? {
            out.push(item?);
        }
        Ok(out)
    }

    /// Restores the state as it was after block `target` and deletes every later block (and any
    /// state changes recorded for the block after the head, such as devnet edits). The state
    /// root is recomputed incrementally from the restored keys; the caller checks it against
    /// the target header.
    pub fn unwind_to(&mut self, target: u64) -> StorageResult<()> {
        let kept_from = reader::state_from(&self.tx, &self.t)?;
        if target < kept_from {
            return Err(StorageError::Pruned { block: target, from: kept_from });
        }
        let from = num(target + 1);

        // The oldest changeset entry after `target` holds the value to restore.
        let mut accounts: BTreeMap<Address, Vec<u8>> = BTreeMap::new();
        let account_cs = self.keys_from(self.t.account_changesets, &from)?;
        for (k, v) in &account_cs {
            let address = Address::from_slice(&k[8..28]);
            accounts.entry(address).or_insert_with(|| v.clone());
        }
        let mut slots: BTreeMap<(Address, U256), U256> = BTreeMap::new();
        let storage_cs = self.keys_from(self.t.storage_changesets, &from)?;
        for (k, v) in &storage_cs {
            let address = Address::from_slice(&k[8..28]);
            let slot = U256::from_be_slice(&k[28..60]);
            slots.entry((address, slot)).or_insert_with(|| U256::from_be_slice(v));
        }

        for (address, prev) in &accounts {
            let hashed = keccak256(address);
            self.changed.insert(hashed);
            if prev.is_empty() {
                self.tx.del(self.t.accounts, address, None)?;
                self.tx.del(self.t.hashed_accounts, hashed, None)?;
            } else {
                let info = codec::decode_account(tables::ACCOUNT_CHANGESETS, prev)?;
                self.tx.put(
                    self.t.accounts,
                    address,
                    encode_account(&info),
                    WriteFlags::empty(),
                )?;
                let root = self.cached_storage_root(&hashed)?.unwrap_or(EMPTY_ROOT_HASH);
                let v = encode_hashed_account(&info, &root);
                self.tx.put(self.t.hashed_accounts, hashed, v, WriteFlags::empty())?;
            }
        }
        let mut touched: BTreeMap<Address, BTreeSet<B256>> = BTreeMap::new();
        for ((address, slot), value) in &slots {
            let key = codec::slot_key(address, slot);
            let hashed_slot = self.write_slot(&keccak256(address), &key, value)?;
            touched.entry(*address).or_default().insert(hashed_slot);
        }
        for (address, changed) in touched {
            let changed: Vec<B256> = changed.into_iter().collect();
            self.refresh_storage_root(&address, &changed)?;
            self.changed.insert(keccak256(address));
        }

        // Changesets and history entries after `target`.
        for (k, _) in &account_cs {
            self.tx.del(self.t.account_changesets, k, None)?;
            let hk: [u8; 28] = codec::cat(&[&k[8..28], &k[..8]]);
            self.tx.del(self.t.account_history, hk, None)?;
        }
        for (k, _) in &storage_cs {
            self.tx.del(self.t.storage_changesets, k, None)?;
            let hk: [u8; 60] = codec::cat(&[&k[8..60], &k[..8]]);
            self.tx.del(self.t.storage_history, hk, None)?;
        }

        // Blocks after `target`.
        for (k, v) in self.keys_from(self.t.transactions, &from)? {
            if v.len() > 20 {
                let mut buf = &v[20..];
                if let Ok(tx) = TxEnvelope::decode_2718(&mut buf) {
                    self.tx.del(self.t.tx_lookup, tx.tx_hash(), None)?;
                }
            }
            self.tx.del(self.t.transactions, k, None)?;
        }
        for (k, _) in self.keys_from(self.t.receipts, &from)? {
            self.tx.del(self.t.receipts, k, None)?;
        }
        for (k, _) in self.keys_from(self.t.interaction_roots, &from)? {
            self.tx.del(self.t.interaction_roots, k, None)?;
        }
        for (k, hash) in self.keys_from(self.t.canonical, &from)? {
            self.tx.del(self.t.header_numbers, hash, None)?;
            self.tx.del(self.t.canonical, &k, None)?;
            self.tx.del(self.t.headers, &k, None)?;
        }
        self.tx.put(self.t.metadata, b"head", num(target), WriteFlags::empty())?;
        // What the L1 made safe or final is never above the head.
        for key in [&b"safe"[..], b"finalized"] {
            if let Some(v) = self.tx.get::<Vec<u8>>(self.t.metadata.dbi(), key)?
                && codec::decode_num(tables::METADATA, &v)? > target
            {
                self.tx.put(self.t.metadata, key, num(target), WriteFlags::empty())?;
            }
        }
        Ok(())
    }
}
