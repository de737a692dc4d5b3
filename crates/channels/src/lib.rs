//! agnt2 channels (the Top tier): bilateral channels between agents whose co-signed states the
//! rollup's `Adjudicator` contract enforces.
//!
//! This crate owns
//! - [`state`]: the channel parameters, its id, the EIP-712 `State` both parties sign and the rules
//!   for a valid next state;
//! - [`keys`]: secp256k1 signing and recovery (libsecp256k1);
//! - [`wire`]: the hub's compact binary protocol (length-prefixed frames);
//! - [`store`]: the hub's MDBX store of channels and their latest co-signed states;
//! - [`hub`]: the hub server (relay, counterparty, group-committed persistence, watchtower);
//! - [`client`]: the client library agents, the CLI and the benchmark use;
//! - [`json`]: the JSON form of the messages (WebSocket JSON-RPC, state files);
//! - [`l2`]: the few JSON-RPC calls the hub and the CLI make to the rollup.
//!
//! `docs/channels.md` describes the protocol, the messages, the contract and the dispute timeline.

pub mod client;
pub mod hub;
pub mod json;
pub mod keys;
pub mod l2;
pub mod state;
pub mod store;
pub mod wire;

pub use keys::{Key, Sig};
pub use state::{Adjudicator, ChannelParams, Side, SignedState, State};
