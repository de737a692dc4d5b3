//! Frames and batcher transactions.
//!
//! `frame = channel_id (16) ‖ frame_number (u16 BE) ‖ frame_data_length (u32 BE) ‖ frame_data
//! ‖ is_last (0 or 1)`; a batcher transaction's data is `0x00 ‖ frame ‖ frame …`.

use crate::DERIVATION_VERSION_0;

/// A channel's id (random, chosen by the batcher).
pub type ChannelId = [u8; 16];

/// The bytes a frame adds to its data.
pub const FRAME_OVERHEAD: usize = 16 + 2 + 4 + 1;

/// The largest frame data derivation accepts (op-node's `MaxFrameLen`).
pub const MAX_FRAME_LEN: usize = 1_000_000;

/// One piece of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The channel it belongs to.
    pub channel: ChannelId,
    /// Its position in the channel, from 0.
    pub number: u16,
    /// Its part of the channel's data.
    pub data: Vec<u8>,
    /// Whether it closes the channel.
    pub is_last: bool,
}

/// Why bytes are not a frame or a batcher transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The transaction data is empty.
    #[error("empty batcher transaction")]
    Empty,
    /// An unknown derivation version.
    #[error("unknown derivation version {0}")]
    Version(u8),
    /// The bytes end inside a frame.
    #[error("truncated frame")]
    Truncated,
    /// Frame data longer than derivation accepts.
    #[error("frame data of {0} bytes (at most {MAX_FRAME_LEN})")]
    TooLong(usize),
    /// `is_last` is neither 0 nor 1.
    #[error("invalid is_last byte {0}")]
    IsLast(u8),
}

impl Frame {
    /// Appends its encoding.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel);
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&(self.data.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.data);
        out.push(u8::from(self.is_last));
    }

    /// Reads one frame from the front of `r`.
    pub fn decode(r: &mut &[u8]) -> Result<Self, FrameError> {
        let b = *r;
        if b.len() < FRAME_OVERHEAD {
            return Err(FrameError::Truncated);
        }
        let mut channel = [0u8; 16];
        channel.copy_from_slice(&b[..16]);
        let number = u16::from_be_bytes([b[16], b[17]]);
        let len = u32::from_be_bytes([b[18], b[19], b[20], b[21]]) as usize;
        if len > MAX_FRAME_LEN {
            return Err(FrameError::TooLong(len));
        }
        let end = 22 + len;
        if b.len() < end + 1 {
            return Err(FrameError::Truncated);
        }
        let is_last = match b[end] {
            0 => false,
            1 => true,
            other => return Err(FrameError::IsLast(other)),
        };
        *r = &b[end + 1..];
        Ok(Self { channel, number, data: b[22..end].to_vec(), is_last })
    }
}

/// A batcher transaction's data carrying `frames`.
pub fn batcher_tx_data<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<u8> {
    let mut out = vec![DERIVATION_VERSION_0];
    for f in frames {
        f.encode_to(&mut out);
    }
    out
}

/// The frames of a batcher transaction's data. As derivation does, any error drops the whole
/// transaction.
pub fn parse_batcher_tx(data: &[u8]) -> Result<Vec<Frame>, FrameError> {
    let (&version, mut r) = data.split_first().ok_or(FrameError::Empty)?;
    if version != DERIVATION_VERSION_0 {
        return Err(FrameError::Version(version));
    }
    let mut frames = Vec::new();
    while !r.is_empty() {
        frames.push(Frame::decode(&mut r)?);
    }
    if frames.is_empty() {
        return Err(FrameError::Truncated);
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u16, last: bool) -> Frame {
        Frame { channel: [7; 16], number: n, data: vec![n as u8; 3 + n as usize], is_last: last }
    }

    #[test]
    fn frames_round_trip_through_a_batcher_transaction() {
        let frames = [frame(0, false), frame(1, true)];
        let data = batcher_tx_data(&frames);
        assert_eq!(data[0], 0);
        assert_eq!(data.len(), 1 + 2 * FRAME_OVERHEAD + 3 + 4);
        // The layout of the first frame, byte by byte.
        assert_eq!(&data[1..17], &[7; 16]);
        assert_eq!(&data[17..19], &[0, 0]);
        assert_eq!(&data[19..23], &[0, 0, 0, 3]);
        assert_eq!(data[26], 0);
        assert_eq!(parse_batcher_tx(&data).unwrap(), frames);
    }

    #[test]
    fn malformed_transactions_are_refused() {
        let good = batcher_tx_data(&[frame(0, true)]);
        assert_eq!(parse_batcher_tx(&[]), Err(FrameError::Empty));
        assert_eq!(parse_batcher_tx(&[1]), Err(FrameError::Version(1)));
        assert_eq!(parse_batcher_tx(&[0]), Err(FrameError::Truncated));
        assert_eq!(parse_batcher_tx(&good[..good.len() - 1]), Err(FrameError::Truncated));
        let mut bad_last = good.clone();
        *bad_last.last_mut().unwrap() = 2;
        assert_eq!(parse_batcher_tx(&bad_last), Err(FrameError::IsLast(2)));
        let mut huge = good;
        huge[19..23].copy_from_slice(&(MAX_FRAME_LEN as u32 + 1).to_be_bytes());
        assert_eq!(parse_batcher_tx(&huge), Err(FrameError::TooLong(MAX_FRAME_LEN + 1)));
    }
}
