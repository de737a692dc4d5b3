//! MDBX storage of agnt2.
//!
//! One MDBX environment under `<datadir>/db` holds every table (see [`tables`]): headers,
//! canonical index, bodies with senders, transaction lookup, receipts, plain state, bytecode,
//! account and storage changesets with history indices (for queries at past blocks), and the
//! hashed state the state root is computed from. A block is written by one read-write
//! transaction ([`BlockWriter`]) that commits durably, so whatever a client has seen survives a
//! `kill -9`.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod changes;
mod codec;
mod error;
mod proof;
mod reader;
mod store;
pub mod tables;
mod unwind;
mod writer;

pub use changes::{StateChanges, StorageChange};
pub use error::{StorageError, StorageResult};
pub use proof::StateProof;
pub use reader::{AccountDump, StateAt, StoreReader, TxLocation};
pub use store::{Store, StoreStats};
pub use writer::BlockWriter;
