//! The L1 inbox: confirmed L1 blocks (with their deposits) waiting to be adopted as L1 origins.
//!
//! A follower (settlement) pushes epochs in L1 order; the miner adopts at most one per L2 block,
//! once the L2 block's timestamp has reached the L1 block's, putting its attributes in the
//! L1-info deposit (sequence number 0) and its deposits right after it. Blocks that adopt
//! nothing repeat the current origin, read from the L1Block predeploy's state, with the next
//! sequence number. The L1Block state is therefore the record of what has been adopted: a
//! restarted node resumes the follower after the origin its head holds.

use agnt2_primitives::L1Epoch;
use parking_lot::Mutex;
use std::collections::VecDeque;

/// Epochs waiting for the miner.
#[derive(Debug, Default)]
pub struct L1Inbox {
    queue: Mutex<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    epochs: VecDeque<L1Epoch>,
    /// The chain's L1 origin changed under the follower (derivation replaced blocks): pushes
    /// are dropped until the follower takes this and starts again after the new origin.
    resync: bool,
    /// The newest L1 block pushed.
    newest: u64,
}

impl L1Inbox {
    /// An empty inbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues the next confirmed L1 block.
    pub fn push(&self, epoch: L1Epoch) {
        let mut q = self.queue.lock();
        if !q.resync {
            q.newest = q.newest.max(epoch.attrs.number);
            q.epochs.push_back(epoch);
        }
    }

    /// Drops the queue and asks the follower to start again after the head's L1 origin.
    pub(crate) fn resync(&self) {
        let mut q = self.queue.lock();
        q.epochs.clear();
        q.resync = true;
    }

    /// The newest L1 block the follower has seen (0 before the first).
    pub fn newest(&self) -> u64 {
        self.queue.lock().newest
    }

    /// Whether the follower must start again (once: taking it clears it).
    pub fn take_resync(&self) -> bool {
        std::mem::take(&mut self.queue.lock().resync)
    }

    /// Epochs not adopted yet.
    pub fn len(&self) -> usize {
        self.queue.lock().epochs.len()
    }

    /// No epoch waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.lock().epochs.is_empty()
    }

    /// Drops every queued epoch (after an L1 reorg).
    pub fn clear(&self) {
        self.queue.lock().epochs.clear();
    }

    /// The next epoch if a block at `timestamp` may adopt it.
    pub(crate) fn peek(&self, timestamp: u64) -> Option<L1Epoch> {
        self.queue.lock().epochs.front().filter(|e| e.attrs.timestamp <= timestamp).cloned()
    }

    /// The block that adopted the next epoch is committed.
    pub(crate) fn adopted(&self) {
        self.queue.lock().epochs.pop_front();
    }
}
