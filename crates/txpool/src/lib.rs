//! Transaction pool of agnt2.
//!
//! Admission decodes, recovers the sender (libsecp256k1, outside the pool lock) and validates a
//! transaction against the head state; the pool keeps per-sender nonce queues, promotes queued
//! transactions when the gap fills, replaces by fee bump, and hands the builder the executable
//! transactions in nonce order per sender and fee order across senders.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod error;
mod pool;
mod recover;
mod validate;

pub use error::PoolError;
pub use pool::{AccountState, Pool, PoolConfig, PoolContent, PoolStatus, PooledTx};
pub use recover::recover_sender;
pub use validate::{MAX_TX_SIZE, decode_and_recover};
