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
    queue: Mutex<VecDeque<L1Epoch>>,
}

impl L1Inbox {
    /// An empty inbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues the next confirmed L1 block.
    pub fn push(&self, epoch: L1Epoch) {
        self.queue.lock().push_back(epoch);
    }

    /// Epochs not adopted yet.
    pub fn len(&self) -> usize {
        self.queue.lock().len()
    }

    /// No epoch waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    /// Drops every queued epoch (after an L1 reorg).
    pub fn clear(&self) {
        self.queue.lock().clear();
    }

    /// The next epoch if a block at `timestamp` may adopt it.
    pub(crate) fn peek(&self, timestamp: u64) -> Option<L1Epoch> {
        self.queue.lock().front().filter(|e| e.attrs.timestamp <= timestamp).cloned()
    }

    /// The block that adopted the next epoch is committed.
    pub(crate) fn adopted(&self) {
        self.queue.lock().pop_front();
    }
}
