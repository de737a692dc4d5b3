//! The OP Stack's data-availability formats, as the batcher writes them and derivation reads
//! them (specs/protocol/derivation.md, span-batches.md, fjord/derivation.md):
//!
//! - a **span batch** ([`span`]) holds a run of consecutive L2 blocks — timestamps relative to
//!   genesis, L1 origins as one bit per block, the non-deposit transactions column by column;
//! - a **channel** ([`channel`]) is a brotli-compressed stream (version byte `0x01`, Fjord) of
//!   RLP strings, each `batch_version ‖ batch`;
//! - a channel is cut into **frames** ([`frame`]) that travel in **batcher transactions**: a
//!   derivation version byte `0x00` followed by frames, sent to the batch inbox as calldata or
//!   in EIP-4844 blobs ([`blob`]).
//!
//! Pure data: no I/O. The encodings are checked against kona-protocol (an implementation this
//! project did not write) in `tests/kona.rs`.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod assembler;
pub mod blob;
pub mod channel;
pub mod frame;
pub mod span;
mod varint;

pub use assembler::{ChannelAssembler, FrameOutcome};
pub use channel::{ChannelError, ChannelOut, decompress_channel};
pub use frame::{ChannelId, Frame, FrameError, batcher_tx_data, parse_batcher_tx};
pub use span::{BlockInput, SpanBatch, SpanBatchError, SpanElement};

/// The derivation version byte that starts every batcher transaction's data.
pub const DERIVATION_VERSION_0: u8 = 0;

/// The batch version byte of span batches.
pub const SPAN_BATCH_TYPE: u8 = 1;

/// Why a channel's batches cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The channel does not decompress.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// A span batch does not decode.
    #[error(transparent)]
    Span(#[from] SpanBatchError),
    /// A batch of another version (singular batches predate Delta).
    #[error("batch version {0} is not read (span batches only)")]
    Version(u8),
}

/// The span batches of a complete channel's data, for a chain whose L2 genesis is at
/// `genesis_time`, with blocks `block_time` apart, signed for `chain_id`.
pub fn read_channel(
    data: &[u8],
    genesis_time: u64,
    block_time: u64,
    chain_id: u64,
) -> Result<Vec<SpanBatch>, ReadError> {
    decompress_channel(data, channel::MAX_RLP_BYTES_PER_CHANNEL)?
        .into_iter()
        .map(|b| match b.split_first() {
            Some((&SPAN_BATCH_TYPE, rest)) => {
                Ok(span::decode(rest, genesis_time, block_time, chain_id)?)
            }
            Some((&v, _)) => Err(ReadError::Version(v)),
            None => Err(ReadError::Version(0)),
        })
        .collect()
}
