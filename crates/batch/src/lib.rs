//! The OP Stack's data-availability formats, as the batcher writes them and derivation reads
//! them (specs/protocol/derivation.md, span-batches.md, fjord/derivation.md):
//!
//! - a **span batch** ([`span`]) holds a run of consecutive L2 blocks — timestamps relative to
//!   genesis, L1 origins as one bit per block, the non-deposit transactions column by column;
//! - a **channel** ([`channel`]) is a brotli-compressed stream (version byte `0x01`, Fjord) of
//!   RLP strings, each `batch_version ‖ batch`;
//! - a channel is cut into **frames** ([`frame`]) that travel in **batcher transactions**: a
//!   derivation version byte `0x00` followed by frames, sent to the batch inbox.
//!
//! Pure data: no I/O. The encodings are checked against kona-protocol (an implementation this
//! project did not write) in `tests/kona.rs`.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod channel;
pub mod frame;
pub mod span;
mod varint;

pub use channel::{ChannelError, ChannelOut, decompress_channel};
pub use frame::{ChannelId, Frame, FrameError, batcher_tx_data, parse_batcher_tx};
pub use span::{BlockInput, SpanBatch, SpanBatchError, SpanElement};

/// The derivation version byte that starts every batcher transaction's data.
pub const DERIVATION_VERSION_0: u8 = 0;

/// The batch version byte of span batches.
pub const SPAN_BATCH_TYPE: u8 = 1;
