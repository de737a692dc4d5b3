//! Channels: batches as RLP strings, compressed together (brotli, Fjord's channel version byte
//! `0x01`), then cut into frames.

use crate::frame::{ChannelId, FRAME_OVERHEAD, Frame};
use alloy_rlp::{Decodable, Encodable, Header};
use std::io::{Read, Write};

/// Fjord's channel version byte for brotli.
pub const CHANNEL_VERSION_BROTLI: u8 = 1;

/// The most RLP bytes derivation reads from one channel (Fjord's `MAX_RLP_BYTES_PER_CHANNEL`).
pub const MAX_RLP_BYTES_PER_CHANNEL: usize = 100_000_000;

/// Brotli quality and window of op-batcher's `brotli-10` compressor.
const BROTLI_QUALITY: u32 = 10;
const BROTLI_LGWIN: u32 = 22;

/// Why a channel cannot be built or read.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// Frames must be able to carry at least one byte of data.
    #[error("a frame of {0} bytes cannot carry data (overhead {FRAME_OVERHEAD})")]
    FrameTooSmall(usize),
    /// More frames than a u16 numbers.
    #[error("the channel needs more than 65,536 frames")]
    TooManyFrames,
    /// An empty channel.
    #[error("empty channel")]
    Empty,
    /// A compression other than brotli (zlib channels predate Fjord).
    #[error("unsupported channel compression (first byte {0:#04x})")]
    Compression(u8),
    /// The decompressed batches exceed the limit.
    #[error("the channel decompresses to more than {0} bytes")]
    TooLarge(usize),
    /// Brotli or RLP failed.
    #[error("malformed channel: {0}")]
    Malformed(String),
    /// Compression failed.
    #[error("compressing: {0}")]
    Io(#[from] std::io::Error),
}

/// A channel being filled by the batcher.
#[derive(Debug, Clone)]
pub struct ChannelOut {
    id: ChannelId,
    rlp: Vec<u8>,
    batches: usize,
}

impl ChannelOut {
    /// An empty channel with id `id`.
    pub const fn new(id: ChannelId) -> Self {
        Self { id, rlp: Vec::new(), batches: 0 }
    }

    /// Its id.
    pub const fn id(&self) -> ChannelId {
        self.id
    }

    /// Adds a batch (`batch_version ‖ batch`) as one RLP string.
    pub fn add_batch(&mut self, versioned: &[u8]) {
        versioned.encode(&mut self.rlp);
        self.batches += 1;
    }

    /// The uncompressed size of its batches.
    pub const fn rlp_len(&self) -> usize {
        self.rlp.len()
    }

    /// How many batches it holds.
    pub const fn batches(&self) -> usize {
        self.batches
    }

    /// The compressed channel: `0x01 ‖ brotli(rlp batches)`.
    pub fn compress(&self) -> Result<Vec<u8>, ChannelError> {
        let mut out = vec![CHANNEL_VERSION_BROTLI];
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, BROTLI_LGWIN);
            w.write_all(&self.rlp)?;
            w.flush()?;
        }
        Ok(out)
    }

    /// The channel cut into frames of at most `max_frame_size` bytes each (overhead included),
    /// the last one marked.
    pub fn frames(&self, max_frame_size: usize) -> Result<Vec<Frame>, ChannelError> {
        if self.batches == 0 {
            return Err(ChannelError::Empty);
        }
        let room = max_frame_size
            .checked_sub(FRAME_OVERHEAD)
            .filter(|r| *r > 0)
            .ok_or(ChannelError::FrameTooSmall(max_frame_size))?;
        let data = self.compress()?;
        let chunks: Vec<&[u8]> = data.chunks(room).collect();
        if chunks.len() > usize::from(u16::MAX) + 1 {
            return Err(ChannelError::TooManyFrames);
        }
        let last = chunks.len() - 1;
        Ok(chunks
            .into_iter()
            .enumerate()
            .map(|(i, c)| Frame {
                channel: self.id,
                number: i as u16,
                data: c.to_vec(),
                is_last: i == last,
            })
            .collect())
    }
}

/// The batches (`batch_version ‖ batch` each) of a complete channel's data, reading at most
/// `max_rlp` decompressed bytes (a small channel must not expand without bound).
pub fn decompress_channel(data: &[u8], max_rlp: usize) -> Result<Vec<Vec<u8>>, ChannelError> {
    let (&version, body) = data.split_first().ok_or(ChannelError::Empty)?;
    if version != CHANNEL_VERSION_BROTLI {
        return Err(ChannelError::Compression(version));
    }
    let mut rlp = Vec::new();
    brotli::Decompressor::new(body, 4096)
        .take((max_rlp as u64).saturating_add(1))
        .read_to_end(&mut rlp)
        .map_err(|e| ChannelError::Malformed(format!("brotli: {e}")))?;
    if rlp.len() > max_rlp {
        return Err(ChannelError::TooLarge(max_rlp));
    }
    let mut r = &rlp[..];
    let mut out = Vec::new();
    while !r.is_empty() {
        let h = Header::decode(&mut &r[..]).map_err(|e| ChannelError::Malformed(e.to_string()))?;
        if h.list {
            return Err(ChannelError::Malformed("a batch is an RLP list, not a string".into()));
        }
        let b = alloy_primitives::Bytes::decode(&mut r)
            .map_err(|e| ChannelError::Malformed(e.to_string()))?;
        out.push(b.to_vec());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_survive_compression_and_framing() {
        let mut ch = ChannelOut::new([9; 16]);
        let batches: Vec<Vec<u8>> =
            (0..50u8).map(|i| [&[1u8][..], &vec![i; 100 + i as usize]].concat()).collect();
        for b in &batches {
            ch.add_batch(b);
        }
        let frames = ch.frames(200).unwrap();
        assert!(frames.len() > 1, "small frames split the channel");
        assert!(frames.iter().all(|f| f.data.len() + FRAME_OVERHEAD <= 200));
        assert!(frames.last().unwrap().is_last && frames.iter().filter(|f| f.is_last).count() == 1);
        assert!(frames.iter().enumerate().all(|(i, f)| f.number as usize == i));
        let data: Vec<u8> = frames.iter().flat_map(|f| f.data.clone()).collect();
        assert_eq!(data[0], CHANNEL_VERSION_BROTLI);
        assert_eq!(decompress_channel(&data, MAX_RLP_BYTES_PER_CHANNEL).unwrap(), batches);
    }

    #[test]
    fn bombs_and_other_compressions_are_refused() {
        let mut ch = ChannelOut::new([1; 16]);
        ch.add_batch(&vec![0u8; 100_000]);
        let data = ch.compress().unwrap();
        assert!(data.len() < 1_000, "zeros compress well: {}", data.len());
        assert!(matches!(decompress_channel(&data, 50_000), Err(ChannelError::TooLarge(50_000))));
        assert!(matches!(
            decompress_channel(&[0x78, 0x9c], 10),
            Err(ChannelError::Compression(0x78))
        ));
        assert!(matches!(
            decompress_channel(&[1, 0xff, 0xff], 10),
            Err(ChannelError::Malformed(_))
        ));
        assert!(matches!(ChannelOut::new([0; 16]).frames(100), Err(ChannelError::Empty)));
        assert!(matches!(ch.frames(FRAME_OVERHEAD), Err(ChannelError::FrameTooSmall(_))));
    }
}
