//! Agent-native state of agnt2.
//!
//! Agents' identity (and, next, reputation, capabilities and sessions) are protocol objects
//! kept in the *interaction trie*: the storage trie of the reserved account [`AGENT_STATE`],
//! written only by the agent precompiles through the EVM journal (so a revert undoes them) and
//! committed by every block's state root. Keys follow a typed schema ([`keys`]).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod gas;
mod identity;
pub mod keys;
mod reputation;
mod store;

use alloy_evm::precompiles::{DynPrecompile, PrecompilesMap};
use alloy_primitives::{Address, address};
use revm::precompile::PrecompileId;

/// The reserved account whose storage trie is the interaction trie (nonce 1 at genesis, so it
/// is never cleared as empty).
pub const AGENT_STATE: Address = address!("0x0000000000000000000000000000000000008000");
/// ERC-8004 IdentityRegistry precompile.
pub const IDENTITY: Address = address!("0x0000000000000000000000000000000000008004");
/// ERC-8004 ReputationRegistry precompile.
pub const REPUTATION: Address = address!("0x0000000000000000000000000000000000008005");

/// Adds the agent precompiles to an EVM's precompile set.
pub fn install(precompiles: &mut PrecompilesMap) {
    precompiles.apply_precompile(&IDENTITY, |_| {
        Some(DynPrecompile::new_stateful(PrecompileId::custom("agnt2-identity"), identity::call))
    });
    precompiles.apply_precompile(&REPUTATION, |_| {
        Some(DynPrecompile::new_stateful(
            PrecompileId::custom("agnt2-reputation"),
            reputation::call,
        ))
    });
}
