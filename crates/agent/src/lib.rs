//! Agent-native state of agnt2.
//!
//! Agents' identity, reputation, capabilities and session keys are protocol objects kept in the
//! *interaction trie*: the storage trie of the reserved account [`AGENT_STATE`], written only by
//! the agent precompiles through the EVM journal (so a revert undoes them) and committed by
//! every block's state root. Keys follow a typed schema ([`keys`]); [`view`] decodes the objects
//! for the precompiles and for RPC alike.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod capabilities;
mod gas;
mod identity;
mod interactions;
pub mod keys;
mod reputation;
mod sessions;
mod shell;
mod store;
pub mod view;

pub use store::Slots;

use alloy_evm::precompiles::{DynPrecompile, PrecompileInput, PrecompilesMap};
use alloy_primitives::{Address, address};
use revm::precompile::{PrecompileId, PrecompileResult};

/// The reserved account whose storage trie is the interaction trie (nonce 1 at genesis, so it
/// is never cleared as empty).
pub const AGENT_STATE: Address = address!("0x0000000000000000000000000000000000008000");
/// ERC-8004 IdentityRegistry precompile.
pub const IDENTITY: Address = address!("0x0000000000000000000000000000000000008004");
/// ERC-8004 ReputationRegistry precompile.
pub const REPUTATION: Address = address!("0x0000000000000000000000000000000000008005");
/// Capabilities precompile.
pub const CAPABILITIES: Address = address!("0x0000000000000000000000000000000000008007");
/// Sessions precompile.
pub const SESSIONS: Address = address!("0x0000000000000000000000000000000000008008");
/// Interactions precompile (attested interactions of agent pairs).
pub const INTERACTIONS: Address = address!("0x0000000000000000000000000000000000008009");

/// A precompile's entry point.
type Entry = fn(PrecompileInput<'_>) -> PrecompileResult;

/// The agent precompiles: address, id and entry point.
const PRECOMPILES: [(Address, &str, Entry); 5] = [
    (IDENTITY, "agnt2-identity", identity::call),
    (REPUTATION, "agnt2-reputation", reputation::call),
    (CAPABILITIES, "agnt2-capabilities", capabilities::call),
    (SESSIONS, "agnt2-sessions", sessions::call),
    (INTERACTIONS, "agnt2-interactions", interactions::call),
];

/// Adds the agent precompiles to an EVM's precompile set.
pub fn install(precompiles: &mut PrecompilesMap) {
    for (address, id, f) in PRECOMPILES {
        precompiles.apply_precompile(&address, |_| {
            Some(DynPrecompile::new_stateful(PrecompileId::custom(id), f))
        });
    }
}
