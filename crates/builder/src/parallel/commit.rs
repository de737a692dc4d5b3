//! The committed side: transactions committed in block order, each speculated result checked
//! against what committed transactions wrote before it (or executed again), the conflict tally
//! that turns keys hot.

use crate::{
    BuilderError, Skipped,
    sequential::{fatal, refused},
};
use agnt2_evm::{BlockExecutor, Executor, FEE_VAULTS, TxOut};
use agnt2_primitives::TxEnvelope;
use alloy_consensus::Transaction;
use alloy_primitives::{
    Address, U256,
    map::{HashMap, HashSet},
};
use revm::{DatabaseCommit, primitives::AddressMap, state::Account};
use std::sync::atomic::Ordering;

use super::{
    HOT_MIN_CONFLICTS, ParallelStats, StateDb,
    group::{Key, key},
    record::{Loc, Spec, Val, account_val},
    shared::{CLAIMED, DIRECT, PENDING, Shared},
};

/// The committed side: the block executor and the block so far.
pub(super) struct Committer<'a, D: StateDb> {
    pub(super) ex: Executor<'a, D>,
    pub(super) next: usize,
    pub(super) gas_limit: u64,
    pub(super) txs: Vec<(Address, TxEnvelope)>,
    pub(super) skipped: Vec<Skipped>,
    pub(super) error: Option<BuilderError>,
    pub(super) new_hot: Vec<Key>,
    /// Per key: speculated results validated, and how many failed.
    pub(super) tally: HashMap<Key, (u32, u32)>,
    /// Locations committed transactions of this block wrote: a speculated read elsewhere saw
    /// the block's base state, which is still current, so only reads of these are compared.
    pub(super) written: HashSet<Loc>,
    /// Accounts whose storage a committed transaction wiped or created.
    pub(super) wiped: HashSet<Address>,
    pub(super) stats: ParallelStats,
}

impl<D: StateDb> Committer<'_, D> {
    pub(super) fn finished(&self, n: usize) -> bool {
        self.next >= n || self.error.is_some()
    }

    pub(super) fn gas_used(&self) -> u64 {
        self.ex.receipts().last().map(alloy_consensus::TxReceipt::cumulative_gas_used).unwrap_or(0)
    }

    /// Commits transactions in order while their outcome is known.
    pub(super) fn advance<O: DatabaseCommit>(&mut self, shared: &Shared<'_, O>) {
        let n = shared.cands.len();
        while self.next < n && self.error.is_none() {
            let i = self.next;
            let cand = &shared.cands[i];
            let gas_used = self.gas_used();
            if self.gas_limit.saturating_sub(gas_used) < 21_000 {
                self.next = n;
                return;
            }
            match shared.status[i].load(Ordering::Acquire) {
                CLAIMED => return,
                PENDING => {
                    // Not speculated yet and its group's turn: execute it here.
                    let g = shared.groups[shared.group_of[i]].lock();
                    if g.next != shared.pos[i]
                        || g.overlay.is_none()
                        || shared.status[i]
                            .compare_exchange(PENDING, DIRECT, Ordering::AcqRel, Ordering::Acquire)
                            .is_err()
                    {
                        return;
                    }
                    drop(g);
                }
                _ => {}
            }
            self.next += 1;
            if cand.tx.gas_limit() > self.gas_limit - gas_used {
                self.skipped.push(Skipped::Deferred(cand.hash));
                self.release_group(shared, i, None);
                continue;
            }
            let spec = shared.specs[i].lock().take();
            let accepted = match spec {
                Some(spec) => self.accept(spec, shared.vaults_watched),
                None => None,
            };
            if let (Some(result), Some(k)) = (&accepted, key(cand)) {
                let t = self.tally.entry(k).or_default();
                t.0 += 1;
                if result.is_err() {
                    t.1 += 1;
                    // Hot once conflicts are frequent, not on the first one: a token's
                    // transfers conflict now and then and still gain from speculation.
                    if t.1 >= HOT_MIN_CONFLICTS && t.1 * 2 >= t.0 && shared.hot.write().insert(k) {
                        shared.any_hot.store(true, Ordering::Release);
                        self.new_hot.push(k);
                    }
                }
            }
            match accepted {
                Some(Ok(out)) => {
                    self.stats.committed_speculative += 1;
                    self.note_writes(&out.inner.result.state);
                    if let Err(e) = self.ex.commit_transaction(out) {
                        self.error = Some(fatal(e));
                        return;
                    }
                    self.txs.push((cand.sender(), cand.tx.inner().clone()));
                    self.release_group(shared, i, None);
                }
                other => {
                    if other.is_some() {
                        self.stats.reexecuted += 1;
                    } else {
                        self.stats.direct += 1;
                    }
                    match self.ex.execute_transaction_without_commit(&cand.tx) {
                        Ok(out) => {
                            let state =
                                shared.overlay_needed(i).then(|| out.inner.result.state.clone());
                            self.note_writes(&out.inner.result.state);
                            if let Err(e) = self.ex.commit_transaction(out) {
                                self.error = Some(fatal(e));
                                return;
                            }
                            self.txs.push((cand.sender(), cand.tx.inner().clone()));
                            self.release_group(shared, i, state);
                        }
                        Err(e) => match refused(cand, e) {
                            Ok(s) => {
                                self.skipped.push(s);
                                self.release_group(shared, i, None);
                            }
                            Err(e) => {
                                self.error = Some(e);
                                return;
                            }
                        },
                    }
                }
            }
        }
    }

    /// Records what a transaction about to be committed writes.
    pub(super) fn note_writes(&mut self, state: &AddressMap<Account>) {
        for (address, account) in state {
            if !account.is_touched() {
                continue;
            }
            self.written.insert(Loc::Account(*address));
            if account.is_created() || account.is_selfdestructed() || account.is_empty() {
                self.wiped.insert(*address);
            }
            for (k, slot) in &account.storage {
                if slot.is_changed() {
                    self.written.insert(Loc::Slot(*address, *k));
                }
            }
        }
    }

    /// After the committer executed (or skipped) transaction `i` itself, its group moves on;
    /// the committed writes go into the group's overlay when it is free, so that the group's
    /// next speculations read them.
    pub(super) fn release_group<O: DatabaseCommit>(
        &self,
        shared: &Shared<'_, O>,
        i: usize,
        state: Option<AddressMap<Account>>,
    ) {
        let status = shared.status[i].load(Ordering::Acquire);
        let mut g = shared.groups[shared.group_of[i]].lock();
        if let (Some(state), Some(o)) = (state, g.overlay.as_mut()) {
            o.commit(state);
        }
        if status == DIRECT && g.next == shared.pos[i] {
            g.next += 1;
        }
    }

    /// The speculated result if its reads still hold in the committed state (fee credits
    /// re-applied to the committed vault balances); `Some(Err)` if it must run again; `None`
    /// if speculation left nothing (the executor refused it).
    pub(super) fn accept(&mut self, spec: Spec, vaults_watched: bool) -> Option<Result<TxOut, ()>> {
        let mut out = spec.out?;
        // The DA footprint limit is checked against the block so far (the speculating executor
        // had an empty block): past it, the committing executor refuses it properly.
        if out.inner.blob_gas_used > self.gas_limit.saturating_sub(self.ex.da_footprint_used) {
            return Some(Err(()));
        }
        let deltas = vaults_watched && !spec.observed;
        let mut vault_seen: Vec<(Address, U256)> = Vec::new();
        let db = alloy_evm::Evm::db_mut(&mut self.ex.evm);
        for (loc, seen, own) in &spec.reads {
            match (loc, seen) {
                (Loc::Account(a), Val::Account(v)) if deltas && FEE_VAULTS.contains(a) => {
                    vault_seen.push((*a, v.map(|v| v.0).unwrap_or_default()));
                }
                // Read from the block's base and nothing committed wrote it since: current.
                (Loc::Account(a) | Loc::Slot(a, _), _)
                    if !own && !self.written.contains(loc) && !self.wiped.contains(a) => {}
                (Loc::Account(a), _) => match db.basic(*a) {
                    Ok(now) if account_val(&now) == *seen => {}
                    _ => return Some(Err(())),
                },
                (Loc::Slot(a, k), Val::Slot(v)) => match db.storage(*a, *k) {
                    Ok(now) if now == *v => {}
                    _ => return Some(Err(())),
                },
                _ => return Some(Err(())),
            }
        }
        for (vault, seen) in vault_seen {
            let Ok(now) = db.basic(vault) else { return Some(Err(())) };
            let now = now.map(|a| a.balance).unwrap_or_default();
            if let Some(acc) = out.inner.result.state.get_mut(&vault) {
                let Some(delta) = acc.info.balance.checked_sub(seen) else {
                    return Some(Err(()));
                };
                acc.info.balance = now + delta;
            }
        }
        Some(Ok(out))
    }
}
