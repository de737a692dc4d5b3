//! The devnet controls (anvil semantics) the chain implements ([`DevApi`]).

use super::Chain;
use agnt2_rpc::{AccountEdit, DevApi, DevError, MiningMode};
use agnt2_storage::{StateChanges, StorageChange};
use alloy_primitives::{Address, keccak256};
use revm::primitives::KECCAK_EMPTY;
use std::sync::atomic::Ordering;

/// A failure of the node's own machinery, with its context, for a devnet control.
pub(super) fn internal(e: eyre::Report) -> DevError {
    DevError::Internal(format!("{e:#}"))
}

impl DevApi for Chain {
    fn edit_account(&self, e: AccountEdit) -> Result<(), DevError> {
        self.edit_accounts(vec![e])
    }

    fn edit_accounts(&self, edits: Vec<AccountEdit>) -> Result<(), DevError> {
        let reader = self.store.reader().map_err(|e| DevError::Internal(e.to_string()))?;
        let mut changes = StateChanges::default();
        for e in edits {
            let mut info = reader
                .account(e.address)
                .map_err(|e| DevError::Internal(e.to_string()))?
                .unwrap_or_default();
            if let Some(b) = e.balance {
                info.balance = b;
            }
            if let Some(n) = e.nonce {
                info.nonce = n;
            }
            if let Some(code) = e.code {
                let hash = if code.is_empty() { KECCAK_EMPTY } else { keccak256(&code) };
                if !code.is_empty() {
                    changes.codes.push((hash, code));
                }
                info.code_hash = hash;
            }
            info.code = None;
            changes.accounts.push((e.address, Some(info)));
            if !e.storage.is_empty() {
                let slots = e.storage;
                changes.storage.push((e.address, StorageChange { wiped: false, slots }));
            }
        }
        drop(reader);
        self.apply_dev_changes(&changes).map_err(internal)
    }

    fn snapshot(&self) -> u64 {
        let id = self.next_snapshot.fetch_add(1, Ordering::Relaxed);
        self.snapshots.lock().insert(id, self.head.read().number);
        id
    }

    fn revert(&self, id: u64) -> Result<bool, DevError> {
        let target = {
            let mut snaps = self.snapshots.lock();
            let Some(target) = snaps.get(&id).copied() else { return Ok(false) };
            // The snapshot is consumed, and every later one with it (as anvil does).
            snaps.retain(|k, _| *k < id);
            target
        };
        self.unwind(target).map_err(internal)?;
        Ok(true)
    }

    fn reset(&self) -> Result<(), DevError> {
        self.snapshots.lock().clear();
        self.unwind(0).map_err(internal)
    }

    fn mining_mode(&self) -> MiningMode {
        self.current_mining_mode()
    }

    fn impersonate(&self, address: Address, on: bool) {
        let mut set = self.impersonated.write();
        if on {
            set.insert(address);
        } else {
            set.remove(&address);
        }
    }

    fn set_auto_impersonate(&self, on: bool) {
        self.auto_impersonate.store(on, Ordering::Relaxed);
    }

    fn is_impersonated(&self, address: Address) -> bool {
        self.auto_impersonate.load(Ordering::Relaxed) || self.impersonated.read().contains(&address)
    }

    fn increase_time(&self, seconds: u64) -> u64 {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        let total = self.time_offset.fetch_add(seconds, Ordering::Relaxed).saturating_add(seconds);
        u64::try_from(total).unwrap_or(0)
    }

    fn set_next_timestamp(&self, timestamp: u64) -> Result<(), DevError> {
        let head = self.head.read().header.timestamp;
        if timestamp <= head {
            return Err(DevError::TimestampNotAfterHead { requested: timestamp, head });
        }
        *self.next_timestamp.lock() = Some(timestamp);
        Ok(())
    }

    fn set_next_base_fee(&self, base_fee: u64) {
        *self.next_base_fee_override.lock() = Some(base_fee);
    }

    fn set_mining_mode(&self, mode: MiningMode) {
        *self.mining.write() = mode;
        self.mode_changed.notify_one();
        if mode == MiningMode::Instant {
            self.wake.notify_one();
        }
    }
}
