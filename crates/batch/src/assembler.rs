//! Frames back into channels, as derivation reads them after Holocene (one channel at a time,
//! frames in order): the channel assembler of specs/protocol/holocene/derivation.md.
//!
//! - a frame numbered 0 starts a channel, dropping an unfinished one;
//! - any other frame must continue the channel being assembled (same id, next number), or it is
//!   dropped;
//! - the frame marked last completes the channel, which is handed out once;
//! - a channel not complete within the channel timeout (L1 blocks after the one its first frame
//!   came in) is dropped, as is one larger than the most derivation reads.

use crate::frame::{ChannelId, Frame};

/// Granite's channel timeout, in L1 blocks.
pub const GRANITE_CHANNEL_TIMEOUT: u64 = 50;

/// The most compressed bytes one channel may hold (Fjord's `MAX_RLP_BYTES_PER_CHANNEL` bounds
/// what it decompresses to; this bounds what is buffered before).
pub const MAX_CHANNEL_SIZE: usize = 100_000_000;

#[derive(Debug)]
struct Assembling {
    id: ChannelId,
    opened_at: u64,
    next: u16,
    data: Vec<u8>,
}

/// What happened to a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameOutcome {
    /// It was added to the channel being assembled.
    Added,
    /// It completed a channel (returned with it).
    Completed,
    /// It started a channel and dropped an unfinished one.
    Replaced,
    /// It was dropped: not the next frame of the channel being assembled.
    Dropped,
}

/// Frames into channels.
#[derive(Debug)]
pub struct ChannelAssembler {
    current: Option<Assembling>,
    timeout: u64,
}

impl Default for ChannelAssembler {
    fn default() -> Self {
        Self::new(GRANITE_CHANNEL_TIMEOUT)
    }
}

impl ChannelAssembler {
    /// An assembler dropping channels `timeout` L1 blocks after they opened.
    pub const fn new(timeout: u64) -> Self {
        Self { current: None, timeout }
    }

    /// Adds `frame`, included in L1 block `l1_block`; returns the channel's data when the frame
    /// completes it.
    pub fn add(&mut self, frame: Frame, l1_block: u64) -> (FrameOutcome, Option<Vec<u8>>) {
        if let Some(c) = &self.current
            && l1_block > c.opened_at + self.timeout
        {
            self.current = None;
        }
        let mut outcome = FrameOutcome::Added;
        if frame.number == 0 {
            if self.current.is_some() {
                outcome = FrameOutcome::Replaced;
            }
            self.current =
                Some(Assembling { id: frame.channel, opened_at: l1_block, next: 0, data: vec![] });
        }
        let Some(c) = self.current.as_mut() else { return (FrameOutcome::Dropped, None) };
        if c.id != frame.channel || c.next != frame.number {
            return (FrameOutcome::Dropped, None);
        }
        if c.data.len() + frame.data.len() > MAX_CHANNEL_SIZE {
            self.current = None;
            return (FrameOutcome::Dropped, None);
        }
        c.data.extend_from_slice(&frame.data);
        if frame.is_last {
            let done = self.current.take().map(|c| c.data);
            return (FrameOutcome::Completed, done);
        }
        c.next = match c.next.checked_add(1) {
            Some(n) => n,
            None => {
                self.current = None;
                return (FrameOutcome::Dropped, None);
            }
        };
        (outcome, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: u8, number: u16, last: bool) -> Frame {
        Frame { channel: [id; 16], number, data: vec![id, number as u8], is_last: last }
    }

    #[test]
    fn in_order_frames_make_a_channel_once() {
        let mut a = ChannelAssembler::default();
        assert_eq!(a.add(f(1, 0, false), 10), (FrameOutcome::Added, None));
        assert_eq!(a.add(f(1, 1, false), 11), (FrameOutcome::Added, None));
        assert_eq!(
            a.add(f(1, 2, true), 12),
            (FrameOutcome::Completed, Some(vec![1, 0, 1, 1, 1, 2]))
        );
        // Nothing is assembling now: a stray frame, or a repeat of the last, is dropped.
        assert_eq!(a.add(f(1, 2, true), 12).0, FrameOutcome::Dropped);
    }

    #[test]
    fn gaps_strangers_restarts_and_timeouts_follow_holocene() {
        let mut a = ChannelAssembler::new(5);
        a.add(f(1, 0, false), 10);
        // A gap, a repeat and another channel's continuation are dropped.
        assert_eq!(a.add(f(1, 2, false), 10).0, FrameOutcome::Dropped);
        assert_eq!(a.add(f(1, 0, false), 10).0, FrameOutcome::Replaced, "a restart replaces");
        assert_eq!(a.add(f(2, 1, false), 10).0, FrameOutcome::Dropped);
        // A new channel drops the unfinished one.
        assert_eq!(a.add(f(2, 0, false), 11).0, FrameOutcome::Replaced);
        assert_eq!(a.add(f(1, 1, true), 11).0, FrameOutcome::Dropped);
        // Past the timeout the channel is gone.
        assert_eq!(a.add(f(2, 1, true), 17), (FrameOutcome::Dropped, None));
        let mut b = ChannelAssembler::new(5);
        b.add(f(3, 0, false), 10);
        assert_eq!(b.add(f(3, 1, true), 15).0, FrameOutcome::Completed, "at the timeout it holds");
    }
}
