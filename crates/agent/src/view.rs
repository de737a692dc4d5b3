//! Typed reads of the interaction trie, shared by the precompiles and the `agent_` RPC: the same
//! code decodes an object whether a contract asks for it or a client does, at any block.

use crate::{
    AGENT_STATE,
    keys::{self, CapabilityWord, Kind, OwnerWord, SessionWord},
    store::Slots,
};
use alloy_primitives::{Address, B256, U256};
use revm::DatabaseRef;
use serde::Serialize;
use std::collections::BTreeSet;

/// An agent's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// The agent id (ERC-721 token id).
    pub agent_id: U256,
    /// Its owner.
    pub owner: Address,
    /// Its agentURI (the registration file).
    #[serde(rename = "agentURI")]
    pub agent_uri: String,
    /// Its agent wallet (the owner unless one was set with proof).
    pub agent_wallet: Address,
    /// Block of registration.
    #[serde(with = "alloy_serde::quantity")]
    pub registered_at: u64,
}

/// The owner word of an agent, if it exists.
pub fn owner_word<S: Slots>(s: &mut S, id: U256) -> Result<Option<OwnerWord>, S::Error> {
    let w = OwnerWord::unpack(s.word(keys::slot(Kind::Owner, id, &[]))?);
    Ok((!w.owner.is_zero()).then_some(w))
}

/// The agent wallet of an agent owned by `owner`.
pub fn wallet<S: Slots>(s: &mut S, id: U256, owner: Address) -> Result<Address, S::Error> {
    let w = s.address(keys::slot(Kind::Wallet, id, &[]))?;
    Ok(if w.is_zero() { owner } else { w })
}

/// An agent's identity, if it exists.
pub fn agent<S: Slots>(s: &mut S, id: U256) -> Result<Option<Agent>, S::Error> {
    let Some(o) = owner_word(s, id)? else { return Ok(None) };
    Ok(Some(Agent {
        agent_id: id,
        owner: o.owner,
        agent_uri: s.string(keys::slot(Kind::Uri, id, &[]))?,
        agent_wallet: wallet(s, id, o.owner)?,
        registered_at: o.registered,
    }))
}

/// The ids of the agents `owner` holds, in the order of its list.
pub fn agents_of<S: Slots>(s: &mut S, owner: Address) -> Result<Vec<U256>, S::Error> {
    s.list(Kind::Owned, keys::address_id(owner))
}

/// One feedback of a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Feedback {
    /// The client that gave it.
    pub client: Address,
    /// Its 1-based index among the client's feedback for the agent.
    #[serde(with = "alloy_serde::quantity")]
    pub index: u64,
    /// The value, at `value_decimals`.
    #[serde(with = "i128_string")]
    pub value: i128,
    /// Decimals of `value` (≤ 18).
    pub value_decimals: u8,
    /// First tag.
    pub tag1: String,
    /// Second tag.
    pub tag2: String,
    /// Whether the client revoked it.
    pub is_revoked: bool,
    /// Number of responses appended.
    #[serde(with = "alloy_serde::quantity")]
    pub responses: u64,
}

mod i128_string {
    pub(super) fn serialize<S: serde::Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
}

/// value (low 128 bits, two's complement) | decimals << 128 | revoked << 136 | 1 << 144 (so that
/// a stored feedback is never the zero word, whatever its value).
pub(crate) fn pack_feedback(value: i128, decimals: u8, revoked: bool) -> U256 {
    U256::from(value as u128)
        | (U256::from(decimals) << 128usize)
        | (U256::from(revoked as u8) << 136usize)
        | (U256::from(1u8) << 144usize)
}

pub(crate) fn unpack_feedback(w: U256) -> (i128, u8, bool) {
    let low: U256 = w & U256::from(u128::MAX);
    let value = low.to::<u128>() as i128;
    let dec: U256 = (w >> 128usize) & U256::from(0xffu8);
    let flag: U256 = (w >> 136usize) & U256::from(1u8);
    (value, dec.to::<u8>(), !flag.is_zero())
}

/// The last feedback index of `client` for agent `id` (0: none).
pub fn last_index<S: Slots>(s: &mut S, id: U256, client: Address) -> Result<u64, S::Error> {
    Ok(s.word(keys::slot(Kind::LastIndex, id, client.as_slice()))?.saturating_to())
}

/// Feedback `index` of `client` for agent `id`.
pub fn feedback<S: Slots>(
    s: &mut S,
    id: U256,
    client: Address,
    index: u64,
) -> Result<Option<Feedback>, S::Error> {
    let sub = keys::feedback_subkey(client, index);
    let w = s.word(keys::slot(Kind::Feedback, id, &sub))?;
    if w.is_zero() {
        return Ok(None);
    }
    let (value, value_decimals, is_revoked) = unpack_feedback(w);
    Ok(Some(Feedback {
        client,
        index,
        value,
        value_decimals,
        tag1: s.string(keys::slot(Kind::FeedbackTag1, id, &sub))?,
        tag2: s.string(keys::slot(Kind::FeedbackTag2, id, &sub))?,
        is_revoked,
        responses: s.word(keys::slot(Kind::Responses, id, &sub))?.saturating_to(),
    }))
}

/// The clients that gave agent `id` feedback, in order of their first feedback.
pub fn clients<S: Slots>(s: &mut S, id: U256) -> Result<Vec<Address>, S::Error> {
    Ok(s.list(Kind::Clients, id)?.into_iter().map(|w| Address::from_word(B256::from(w))).collect())
}

/// Every feedback of `clients` for agent `id` matching the tags (empty: any), revoked included
/// when `include_revoked`.
pub fn all_feedback<S: Slots>(
    s: &mut S,
    id: U256,
    clients: &[Address],
    tag1: &str,
    tag2: &str,
    include_revoked: bool,
) -> Result<Vec<Feedback>, S::Error> {
    let mut out = Vec::new();
    for client in clients {
        for index in 1..=last_index(s, id, *client)? {
            let Some(f) = feedback(s, id, *client, index)? else { continue };
            if (f.is_revoked && !include_revoked)
                || (!tag1.is_empty() && f.tag1 != tag1)
                || (!tag2.is_empty() && f.tag2 != tag2)
            {
                continue;
            }
            out.push(f);
        }
    }
    Ok(out)
}

/// ERC-8004 `getSummary`: count, average value and its decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Feedback counted (not revoked, tags matching).
    #[serde(with = "alloy_serde::quantity")]
    pub count: u64,
    /// Their average, at `summary_value_decimals`.
    #[serde(with = "i128_string")]
    pub summary_value: i128,
    /// The most common decimals among the feedback counted (ties: the smaller).
    pub summary_value_decimals: u8,
}

/// The summary of `feedback` (already filtered): the average at 18 decimals, answered in the
/// most common decimals of the feedback counted.
pub fn summarize(feedback: &[Feedback]) -> Summary {
    let (mut sum, mut seen) = (0i128, [0u64; 19]);
    for f in feedback {
        // |value| ≤ 1e38 times 10^18 does not fit an i128: the sum saturates.
        let d = f.value_decimals.min(18);
        sum = sum.saturating_add(f.value.saturating_mul(10i128.pow(u32::from(18 - d))));
        seen[d as usize] += 1;
    }
    let count = feedback.len() as u64;
    if count == 0 {
        return Summary { count, summary_value: 0, summary_value_decimals: 0 };
    }
    let mode = (0..=18u8).max_by_key(|d| (seen[*d as usize], u8::MAX - d)).unwrap_or(0);
    Summary {
        count,
        summary_value: (sum / count as i128) / 10i128.pow(u32::from(18 - mode)),
        summary_value_decimals: mode,
    }
}

/// A capability granted to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capability {
    /// The capability id.
    pub capability: B256,
    /// Its scope (meaning defined by whoever checks it).
    pub scope: B256,
    /// Its limit (meaning defined by whoever checks it; 0: none).
    pub limit: U256,
    /// Unix time after which it no longer holds (0: never).
    #[serde(with = "alloy_serde::quantity")]
    pub expiry: u64,
    /// Who granted it.
    pub grantor: Address,
}

impl Capability {
    /// Whether the grant holds at unix time `now`.
    pub const fn active(&self, now: u64) -> bool {
        self.expiry == 0 || now <= self.expiry
    }
}

/// Capability `cap` of agent `id`, if granted (expired grants included).
pub fn capability<S: Slots>(
    s: &mut S,
    id: U256,
    cap: B256,
) -> Result<Option<Capability>, S::Error> {
    let w = CapabilityWord::unpack(s.word(keys::slot(Kind::Capability, id, cap.as_slice()))?);
    if w.pos == 0 {
        return Ok(None);
    }
    Ok(Some(Capability {
        capability: cap,
        scope: B256::from(s.word(keys::slot(Kind::CapabilityScope, id, cap.as_slice()))?),
        limit: s.word(keys::slot(Kind::CapabilityLimit, id, cap.as_slice()))?,
        expiry: w.expiry,
        grantor: w.grantor,
    }))
}

/// Every capability granted to agent `id` (expired grants included).
pub fn capabilities<S: Slots>(s: &mut S, id: U256) -> Result<Vec<Capability>, S::Error> {
    let mut out = Vec::new();
    for cap in s.list(Kind::Capabilities, id)? {
        let cap = B256::from(cap);
        out.push(capability(s, id, cap)?.ok_or_else(|| S::corrupt("capability list"))?);
    }
    Ok(out)
}

/// An open session key of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The session key.
    pub key: Address,
    /// Unix time after which it is no longer valid.
    #[serde(with = "alloy_serde::quantity")]
    pub expiry: u64,
    /// The most it may spend in this session.
    pub spend_limit: U256,
    /// What it has spent.
    pub spent: U256,
    /// The counterparties it may deal with (empty: any).
    pub counterparties: Vec<Address>,
    /// Whether the agent's current owner opened it (a transfer ends the seller's sessions).
    #[serde(skip)]
    pub current_owner: bool,
}

impl Session {
    /// Whether the key is valid at unix time `now` for `counterparty` (zero: any).
    pub fn valid(&self, now: u64, counterparty: Address) -> bool {
        self.current_owner
            && now <= self.expiry
            && (counterparty.is_zero()
                || self.counterparties.is_empty()
                || self.counterparties.contains(&counterparty))
    }
}

/// The session word of `key` for agent `id`, if open.
pub(crate) fn session_word<S: Slots>(
    s: &mut S,
    id: U256,
    key: Address,
) -> Result<Option<SessionWord>, S::Error> {
    let w = SessionWord::unpack(s.word(keys::slot(Kind::Session, id, key.as_slice()))?);
    Ok((w.pos != 0).then_some(w))
}

/// Session `key` of agent `id`, if open (expired sessions included).
pub fn session<S: Slots>(s: &mut S, id: U256, key: Address) -> Result<Option<Session>, S::Error> {
    let Some(w) = session_word(s, id, key)? else { return Ok(None) };
    let mut counterparties = Vec::with_capacity(w.parties.min(1024) as usize);
    for i in 0..w.parties {
        let sub = keys::pair_subkey(key, &i.to_be_bytes());
        counterparties.push(s.address(keys::slot(Kind::SessionParty, id, &sub))?);
    }
    let owner = owner_word(s, id)?.map(|o| o.owner).unwrap_or_default();
    Ok(Some(Session {
        key,
        current_owner: keys::owner_tag(owner) == w.owner_tag,
        expiry: w.expiry,
        spend_limit: s.word(keys::slot(Kind::SessionLimit, id, key.as_slice()))?,
        spent: s.word(keys::slot(Kind::SessionSpent, id, key.as_slice()))?,
        counterparties,
    }))
}

/// Every open session of agent `id` (expired sessions included).
pub fn sessions<S: Slots>(s: &mut S, id: U256) -> Result<Vec<Session>, S::Error> {
    let mut out = Vec::new();
    for key in s.list(Kind::Sessions, id)? {
        let key = Address::from_word(B256::from(key));
        out.push(session(s, id, key)?.ok_or_else(|| S::corrupt("session list"))?);
    }
    Ok(out)
}

/// A read of the interaction trie failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ViewError(pub String);

/// [`Slots`] over any revm state (a block's state for RPC), recording the slots read so that
/// they can be proven.
#[derive(Debug)]
pub struct StateSlots<D> {
    db: D,
    read: BTreeSet<U256>,
}

impl<D: DatabaseRef> StateSlots<D> {
    /// Reads from `db`.
    pub const fn new(db: D) -> Self {
        Self { db, read: BTreeSet::new() }
    }

    /// The slots read so far, in order.
    pub fn into_read(self) -> Vec<U256> {
        self.read.into_iter().collect()
    }
}

impl<D: DatabaseRef> Slots for StateSlots<D>
where
    D::Error: std::fmt::Display,
{
    type Error = ViewError;

    fn word(&mut self, slot: U256) -> Result<U256, ViewError> {
        self.read.insert(slot);
        self.db.storage_ref(AGENT_STATE, slot).map_err(|e| ViewError(e.to_string()))
    }

    fn corrupt(what: &str) -> ViewError {
        ViewError(format!("corrupt {what} in the interaction trie"))
    }
}
