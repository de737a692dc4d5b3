//! The key schema of the interaction trie: `slot = keccak256(kind ‖ agentId ‖ subkey)`, with
//! counters at small fixed slots. Byte strings use Solidity's layout under their slot (length
//! in the slot, data from `keccak256(slot)`).

use alloy_primitives::{Address, B256, U256, keccak256};

/// Object kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Owner address of an agent.
    Owner = 1,
    /// agentURI bytes.
    Uri = 2,
    /// Metadata value under a key (`subkey = keccak256(key)`).
    Metadata = 3,
    /// Agent wallet (zero: the owner).
    Wallet = 4,
    /// Number of agents an address owns (`agentId` = the address).
    Balance = 5,
    /// Block an agent was registered at.
    Registered = 6,
    /// Feedback value, decimals and revoked flag (`subkey = client ‖ index`).
    Feedback = 7,
    /// Feedback tag1 (`subkey = client ‖ index`).
    FeedbackTag1 = 8,
    /// Feedback tag2 (`subkey = client ‖ index`).
    FeedbackTag2 = 9,
    /// Last feedback index of a client (`subkey = client`).
    LastIndex = 10,
    /// The list of clients that gave feedback (length at no subkey, entries at `subkey = i`).
    Clients = 11,
    /// Responses appended to a feedback (`subkey = client ‖ index`).
    Responses = 12,
}

/// `client ‖ index` subkey of a feedback.
pub fn feedback_subkey(client: Address, index: u64) -> [u8; 28] {
    let mut out = [0u8; 28];
    out[..20].copy_from_slice(client.as_slice());
    out[20..].copy_from_slice(&index.to_be_bytes());
    out
}

/// The slot of the last agent id issued.
pub const LAST_ID: U256 = U256::from_limbs([1, 0, 0, 0]);

/// Slot of `kind` for `agent_id` with `subkey`.
pub fn slot(kind: Kind, agent_id: U256, subkey: &[u8]) -> U256 {
    let mut buf = Vec::with_capacity(33 + subkey.len());
    buf.push(kind as u8);
    buf.extend_from_slice(&agent_id.to_be_bytes::<32>());
    buf.extend_from_slice(subkey);
    U256::from_be_bytes(keccak256(&buf).0)
}

/// Slot counting the agents `owner` holds.
pub fn balance_slot(owner: Address) -> U256 {
    slot(Kind::Balance, U256::from_be_slice(owner.as_slice()), &[])
}

/// Slot of metadata `key` of `agent_id`.
pub fn metadata_slot(agent_id: U256, key: &str) -> U256 {
    slot(Kind::Metadata, agent_id, keccak256(key.as_bytes()).as_slice())
}

/// First data slot of a byte string stored at `base`.
pub fn data_slot(base: U256) -> U256 {
    U256::from_be_bytes(keccak256(B256::from(base)).0)
}
