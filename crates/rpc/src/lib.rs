//! JSON-RPC of agnt2.
//!
//! The server (jsonrpsee, HTTP and WebSocket on one port) exposes the `eth`, `net` and `web3`
//! namespaces over a [`ChainApi`], which the node implements: reads go to a consistent MDBX view,
//! writes go to the pool, and mining requests go to the miner. Nothing here knows about MDBX
//! tables or the CLI; nothing below knows about JSON.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod agent;
mod api;
mod chain;
mod compose;
mod convert;
mod debug;
mod dev;
mod error;
mod eth;
mod filters;
mod limits;
mod metrics;
mod modules;
mod optimism;
mod plumbing;
mod pubsub;
mod server;
mod sign;

pub use chain::{AccountEdit, ChainApi, DevApi, DevError, Head, MiningMode, NewBlock};
pub use dev::{MalformedDump, dump_state, edits_from_dump};
pub use error::RpcError;
pub use limits::RpcLimits;
pub use metrics::RpcMetrics;
pub use modules::{ApiSelection, ApiSelectionError, DEFAULT_API, DEV_NAMESPACES, NAMESPACES};
pub use server::{RpcServerConfig, methods, start_server};
