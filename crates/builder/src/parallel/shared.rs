//! What the worker threads share: per-transaction status, per-group overlays handed from one
//! speculation to the next, the hot keys, and the claim of the next transaction to speculate.

use agnt2_txpool::PooledTx;
use alloy_primitives::map::HashSet;
use parking_lot::{Mutex, RwLock};
use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
};

use super::{
    group::{Key, key},
    record::Spec,
};

/// A candidate's speculation status: not taken yet.
pub(super) const PENDING: u8 = 0;
/// Taken by a worker.
pub(super) const CLAIMED: u8 = 1;
/// Speculated; its result waits for the committer.
pub(super) const DONE: u8 = 2;
/// Executed by the committer directly (hot key), not speculated.
pub(super) const DIRECT: u8 = 3;

/// A group's speculation state: the next position to speculate and its overlay (taken out
/// while a worker executes on it).
pub(super) struct GroupState<O> {
    pub(super) next: usize,
    pub(super) overlay: Option<O>,
}

/// What the workers share.
pub(super) struct Shared<'a, O> {
    pub(super) cands: &'a [Arc<PooledTx>],
    pub(super) group_of: &'a [usize],
    pub(super) pos: &'a [usize],
    pub(super) members: &'a [Vec<usize>],
    pub(super) groups: Vec<Mutex<GroupState<O>>>,
    pub(super) status: Vec<AtomicU8>,
    pub(super) specs: Vec<Mutex<Option<Spec>>>,
    /// Keys whose transactions are executed at commit, not speculated.
    pub(super) hot: RwLock<HashSet<Key>>,
    /// Whether `hot` has any key: lets the claim path skip the lock (shared by every thread
    /// on every scan) in the common case.
    pub(super) any_hot: AtomicBool,
    /// Every transaction below this index has left PENDING.
    pub(super) scan_from: AtomicUsize,
    pub(super) done: AtomicBool,
    /// Whether fee credits may be treated as deltas (the beneficiary is a known vault).
    pub(super) vaults_watched: bool,
}

impl<O> Shared<'_, O> {
    pub(super) fn is_hot(&self, k: &Key) -> bool {
        self.any_hot.load(Ordering::Acquire) && self.hot.read().contains(k)
    }

    /// The transaction after `i` in its group, if any.
    pub(super) fn next_in_group(&self, i: usize) -> Option<usize> {
        self.members[self.group_of[i]].get(self.pos[i] + 1).copied()
    }

    /// Whether a later transaction of `i`'s group may be speculated on `i`'s writes: it
    /// exists and is not under the same hot key (which the committer executes directly).
    pub(super) fn overlay_needed(&self, i: usize) -> bool {
        self.next_in_group(i).is_some_and(|j| {
            let k = key(&self.cands[j]);
            k.is_none() || k != key(&self.cands[i]) || !k.is_some_and(|k| self.is_hot(&k))
        })
    }

    /// Claims the lowest-indexed pending transaction whose group predecessor is done, taking
    /// its group's overlay; transactions under hot keys are left for the committer.
    pub(super) fn claim(&self) -> Option<(usize, O)> {
        let n = self.cands.len();
        let mut i = self.scan_from.load(Ordering::Acquire);
        let mut all_below_taken = true;
        while i < n {
            if self.status[i].load(Ordering::Acquire) == PENDING {
                let is_hot = key(&self.cands[i]).is_some_and(|k| self.is_hot(&k));
                if is_hot {
                    let _ = self.status[i].compare_exchange(
                        PENDING,
                        DIRECT,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                } else if let Some(mut g) = self.groups[self.group_of[i]].try_lock() {
                    if g.next == self.pos[i]
                        && g.overlay.is_some()
                        && self.status[i]
                            .compare_exchange(PENDING, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok()
                    {
                        return g.overlay.take().map(|o| (i, o));
                    }
                    all_below_taken = false;
                } else {
                    all_below_taken = false;
                }
            }
            if all_below_taken {
                self.scan_from.store(i + 1, Ordering::Release);
            }
            i += 1;
        }
        None
    }

    /// Publishes a speculated transaction and hands its group on.
    pub(super) fn finish(&self, i: usize, overlay: O, spec: Spec) {
        *self.specs[i].lock() = Some(spec);
        let mut g = self.groups[self.group_of[i]].lock();
        g.overlay = Some(overlay);
        g.next = self.pos[i] + 1;
        self.status[i].store(DONE, Ordering::Release);
    }
}
