//! The key schema of the interaction trie: `slot = keccak256(kind ‖ agentId ‖ subkey)`, with
//! counters at small fixed slots. Byte strings use Solidity's layout under their slot (up to 31
//! bytes in the slot with `2 × length` in its last byte; longer: `2 × length + 1` in the slot
//! and the data from `keccak256(slot)`).

use alloy_primitives::{Address, B256, U256, keccak256};

/// Object kinds (discriminants 5 and 6 are retired).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Owner of an agent, its block of registration and its position in the owner's list
    /// ([`OwnerWord`]).
    Owner = 1,
    /// agentURI bytes.
    Uri = 2,
    /// Metadata value under a key (`subkey = keccak256(key)`).
    Metadata = 3,
    /// Agent wallet (zero: the owner).
    Wallet = 4,
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
    /// The agents an address owns, a list (`agentId` = the address); its length is the
    /// ERC-721 balance.
    Owned = 13,
    /// A capability grant ([`CapabilityWord`], `subkey = capability`).
    Capability = 14,
    /// A grant's scope (`subkey = capability`).
    CapabilityScope = 15,
    /// A grant's limit (`subkey = capability`).
    CapabilityLimit = 16,
    /// The capabilities granted to an agent, a list.
    Capabilities = 17,
    /// A session ([`SessionWord`], `subkey = key`).
    Session = 18,
    /// A session's spend limit (`subkey = key`).
    SessionLimit = 19,
    /// What a session has spent (`subkey = key`).
    SessionSpent = 20,
    /// The open sessions of an agent, a list of keys.
    Sessions = 21,
    /// Counterparty `i` of a session (`subkey = key ‖ i`).
    SessionParty = 22,
    /// The epoch of the session a counterparty is allowed in (`subkey = key ‖ counterparty`).
    SessionAllowed = 23,
    /// Responses appended to a feedback by one responder (`subkey = responder ‖ client ‖
    /// index`).
    ResponsesBy = 24,
    /// An attested interaction of a pair ([`InteractionWord`]; `agentId` = agent A,
    /// `subkey = attester ‖ agentB`).
    Interaction = 25,
    /// The volume of an attested pair (same key as [`Kind::Interaction`]).
    InteractionVolume = 26,
    /// An agent's attested interactions with anyone ([`InteractionWord`]; `subkey = attester`).
    InteractionTotal = 27,
    /// An agent's attested volume with anyone (`subkey = attester`).
    InteractionTotalVolume = 28,
}

/// Entry `i` of a list of `kind` under `id` (the list's length is at no subkey).
pub fn list_slot(kind: Kind, id: U256, i: u64) -> U256 {
    slot(kind, id, &U256::from(i).to_be_bytes::<32>())
}

/// An address as the `agentId` part of a key.
pub fn address_id(a: Address) -> U256 {
    U256::from_be_slice(a.as_slice())
}

fn field(w: U256, shift: usize, bits: usize) -> u64 {
    let mask = (U256::from(1u8) << bits) - U256::from(1u8);
    ((w >> shift) & mask).saturating_to()
}

/// The owner word: `owner (160 bits) | registered block (48) | 1-based position in the owner's
/// list (48)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerWord {
    /// The owner (zero: no such agent).
    pub owner: Address,
    /// Block of registration.
    pub registered: u64,
    /// Position in the owner's [`Kind::Owned`] list.
    pub pos: u64,
}

impl OwnerWord {
    /// Packs the word.
    pub fn pack(&self) -> U256 {
        address_id(self.owner)
            | (U256::from(self.registered) << 160usize)
            | (U256::from(self.pos) << 208usize)
    }

    /// Unpacks a word.
    pub fn unpack(w: U256) -> Self {
        Self {
            owner: Address::from_word(B256::from(
                w & ((U256::from(1u8) << 160usize) - U256::from(1u8)),
            )),
            registered: field(w, 160, 48),
            pos: field(w, 208, 48),
        }
    }
}

/// A capability grant: `expiry (64 bits) | grantor (160) | 1-based position in the agent's list
/// (32)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityWord {
    /// Unix time after which the grant no longer holds (0: never expires).
    pub expiry: u64,
    /// Who granted it (the agent's owner at the time).
    pub grantor: Address,
    /// Position in the agent's [`Kind::Capabilities`] list (0: not granted).
    pub pos: u64,
}

impl CapabilityWord {
    /// Packs the word.
    pub fn pack(&self) -> U256 {
        U256::from(self.expiry)
            | (address_id(self.grantor) << 64usize)
            | (U256::from(self.pos) << 224usize)
    }

    /// Unpacks a word.
    pub fn unpack(w: U256) -> Self {
        let grantor = (w >> 64usize) & ((U256::from(1u8) << 160usize) - U256::from(1u8));
        Self {
            expiry: field(w, 0, 64),
            grantor: Address::from_word(B256::from(grantor)),
            pos: field(w, 224, 32),
        }
    }
}

/// A session: `expiry (64 bits) | 1-based position in the agent's list (32) | epoch (32) |
/// number of counterparties (32) | owner tag (96)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionWord {
    /// Unix time after which the key is no longer valid.
    pub expiry: u64,
    /// Position in the agent's [`Kind::Sessions`] list (0: closed).
    pub pos: u64,
    /// Bumped on every open, so that counterparties allowed in an earlier session lapse.
    pub epoch: u64,
    /// Number of allowed counterparties (0: any).
    pub parties: u64,
    /// [`owner_tag`] of the owner who opened the session: it is valid only while that owner
    /// holds the agent (a transfer ends it).
    pub owner_tag: u128,
}

/// The low 96 bits of an owner's address, kept in its sessions' words (matching another
/// address by chance takes 2^96 tries).
pub fn owner_tag(owner: Address) -> u128 {
    let mut b = [0u8; 16];
    b[4..].copy_from_slice(&owner.as_slice()[8..]);
    u128::from_be_bytes(b)
}

impl SessionWord {
    /// Packs the word.
    pub fn pack(&self) -> U256 {
        U256::from(self.expiry)
            | (U256::from(self.pos) << 64usize)
            | (U256::from(self.epoch) << 96usize)
            | (U256::from(self.parties) << 128usize)
            | (U256::from(self.owner_tag & ((1u128 << 96) - 1)) << 160usize)
    }

    /// Unpacks a word.
    pub fn unpack(w: U256) -> Self {
        Self {
            expiry: field(w, 0, 64),
            pos: field(w, 64, 32),
            epoch: field(w, 96, 32),
            parties: field(w, 128, 32),
            owner_tag: (w >> 160usize).saturating_to(),
        }
    }
}

/// Interactions an attester recorded: `count (64 bits) | block of the last one (64)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InteractionWord {
    /// How many were recorded.
    pub count: u64,
    /// Block of the last one.
    pub last_block: u64,
}

impl InteractionWord {
    /// Packs the word.
    pub fn pack(&self) -> U256 {
        U256::from(self.count) | (U256::from(self.last_block) << 64usize)
    }

    /// Unpacks a word.
    pub fn unpack(w: U256) -> Self {
        Self { count: field(w, 0, 64), last_block: field(w, 64, 64) }
    }
}

/// `a ‖ b` of two addresses, or of an address and a big-endian index.
pub fn pair_subkey(a: Address, b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + b.len());
    out.extend_from_slice(a.as_slice());
    out.extend_from_slice(b);
    out
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

/// Slot counting the agents `owner` holds (the length of its [`Kind::Owned`] list).
pub fn balance_slot(owner: Address) -> U256 {
    slot(Kind::Owned, address_id(owner), &[])
}

/// Slot of metadata `key` of `agent_id`.
pub fn metadata_slot(agent_id: U256, key: &str) -> U256 {
    slot(Kind::Metadata, agent_id, keccak256(key.as_bytes()).as_slice())
}

/// First data slot of a byte string stored at `base`.
pub fn data_slot(base: U256) -> U256 {
    U256::from_be_bytes(keccak256(B256::from(base)).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn packed_words_round_trip() {
        let a = address!("0xffffffffffffffffffffffffffffffffffffff01");
        let o = OwnerWord { owner: a, registered: (1 << 48) - 1, pos: (1 << 48) - 2 };
        assert_eq!(OwnerWord::unpack(o.pack()), o);
        let c = CapabilityWord { expiry: u64::MAX, grantor: a, pos: u32::MAX as u64 };
        assert_eq!(CapabilityWord::unpack(c.pack()), c);
        let s = SessionWord {
            expiry: u64::MAX,
            pos: 7,
            epoch: u32::MAX as u64,
            parties: 3,
            owner_tag: owner_tag(a),
        };
        assert_eq!(SessionWord::unpack(s.pack()), s);
        assert_eq!(owner_tag(a), 0xffff_ffff_ffff_ffff_ffff_ff01);
        let i = InteractionWord { count: u64::MAX, last_block: u64::MAX - 1 };
        assert_eq!(InteractionWord::unpack(i.pack()), i);
        assert_eq!(OwnerWord::unpack(U256::ZERO).owner, Address::ZERO);
    }
}
