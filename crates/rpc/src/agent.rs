//! The `agent_` namespace: typed reads of the interaction trie at any kept block, and proofs of
//! them against the block's state root.

use crate::{
    ChainApi,
    api::AgentApiServer,
    error::{RpcError, RpcResult},
    eth::proof_response,
    plumbing::{Ctx, Handler, state_block},
};
use agnt2_agent::{
    AGENT_STATE,
    view::{self, StateSlots, ViewError},
};
use agnt2_storage::{StateAt, StoreReader};
use alloy_eips::BlockId;
use alloy_primitives::{Address, B256, U256};
use alloy_serde::JsonStorageKey;
use serde_json::{Value, json};

impl From<ViewError> for RpcError {
    fn from(e: ViewError) -> Self {
        Self::Internal(e.0)
    }
}

/// The objects `agent_getProof` can prove.
const KINDS: [&str; 4] = ["identity", "reputation", "capabilities", "sessions"];

/// A block's view of the interaction trie.
struct At<'a> {
    slots: StateSlots<StateAt<'a>>,
    number: u64,
    /// `None`: the head state.
    state_at: Option<u64>,
    timestamp: u64,
}

fn at(r: &StoreReader, block: Option<BlockId>) -> RpcResult<At<'_>> {
    let (number, state_at) = state_block(r, block)?;
    let timestamp = r.header(number)?.ok_or(RpcError::UnknownBlock)?.timestamp;
    Ok(At { slots: StateSlots::new(r.state(state_at)), number, state_at, timestamp })
}

/// Feedback of `clients` (none: every client) matching `tags` (`[tag1, tag2]`, either may be
/// missing or empty), revoked included and flagged, with the ERC-8004 summary of the rest.
fn reputation(
    s: &mut StateSlots<StateAt<'_>>,
    id: U256,
    clients: Option<Vec<Address>>,
    tags: &[String],
) -> RpcResult<Value> {
    let tag = |i: usize| tags.get(i).cloned().unwrap_or_default();
    let (tag1, tag2) = (tag(0), tag(1));
    let clients = match clients {
        Some(c) if !c.is_empty() => c,
        _ => view::clients(s, id)?,
    };
    let feedback = view::all_feedback(s, id, &clients, &tag1, &tag2, true)?;
    let live: Vec<_> = feedback.iter().filter(|f| !f.is_revoked).cloned().collect();
    Ok(json!({
        "agentId": id,
        "clients": clients,
        "summary": view::summarize(&live),
        "feedback": feedback,
    }))
}

fn capabilities(s: &mut StateSlots<StateAt<'_>>, id: U256, now: u64) -> RpcResult<Value> {
    let caps = view::capabilities(s, id)?;
    Ok(caps
        .into_iter()
        .map(|c| {
            let active = c.active(now);
            let mut v = json!(c);
            v["active"] = json!(active);
            v
        })
        .collect())
}

fn sessions(s: &mut StateSlots<StateAt<'_>>, id: U256, now: u64) -> RpcResult<Value> {
    let all = view::sessions(s, id)?;
    Ok(all
        .into_iter()
        .map(|x| {
            let valid = x.valid(now, Address::ZERO);
            let mut v = json!(x);
            v["valid"] = json!(valid);
            v
        })
        .collect())
}

impl<C: ChainApi> AgentApiServer for Handler<C> {
    fn get_agent(&self, id: U256, block: Option<BlockId>) -> RpcResult<Value> {
        let r = self.api.reader()?;
        let mut at = at(&r, block)?;
        Ok(json!(view::agent(&mut at.slots, id)?))
    }

    fn get_agents_by_owner(&self, owner: Address, block: Option<BlockId>) -> RpcResult<Value> {
        agents_by_owner(self, owner, block)
    }

    fn get_reputation(
        &self,
        id: U256,
        clients: Option<Vec<Address>>,
        tags: Option<Vec<String>>,
        block: Option<BlockId>,
    ) -> RpcResult<Value> {
        let tags = tags.unwrap_or_default();
        if tags.len() > 2 {
            return Err(RpcError::InvalidParams(
                "argument 2 (tags): at most two, [tag1, tag2]".into(),
            ));
        }
        let r = self.api.reader()?;
        let mut at = at(&r, block)?;
        reputation(&mut at.slots, id, clients, &tags)
    }

    fn get_capabilities(&self, id: U256, block: Option<BlockId>) -> RpcResult<Value> {
        let r = self.api.reader()?;
        let mut at = at(&r, block)?;
        capabilities(&mut at.slots, id, at.timestamp)
    }

    fn get_sessions(&self, id: U256, block: Option<BlockId>) -> RpcResult<Value> {
        let r = self.api.reader()?;
        let mut at = at(&r, block)?;
        sessions(&mut at.slots, id, at.timestamp)
    }

    fn get_proof(
        &self,
        id: U256,
        kinds: Option<Vec<String>>,
        block: Option<BlockId>,
    ) -> RpcResult<Value> {
        proof(self, id, kinds, block)
    }
}

fn agents_by_owner<C: ChainApi>(
    c: &Ctx<C>,
    owner: Address,
    block: Option<BlockId>,
) -> RpcResult<Value> {
    let r = c.api.reader()?;
    let mut at = at(&r, block)?;
    let mut out = Vec::new();
    for id in view::agents_of(&mut at.slots, owner)? {
        out.push(view::agent(&mut at.slots, id)?.ok_or_else(|| {
            RpcError::Internal(format!("agent {id} is listed for {owner} but does not exist"))
        })?);
    }
    Ok(json!(out))
}

fn proof<C: ChainApi>(
    c: &Ctx<C>,
    id: U256,
    kinds: Option<Vec<String>>,
    block: Option<BlockId>,
) -> RpcResult<Value> {
    let kinds = match kinds {
        Some(k) if !k.is_empty() => k,
        _ => KINDS.iter().map(|k| k.to_string()).collect(),
    };
    if let Some(bad) = kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
        return Err(RpcError::InvalidParams(format!(
            "kinds: unknown kind {bad:?} (expected some of {KINDS:?})"
        )));
    }
    let r = c.api.reader()?;
    let mut at = at(&r, block)?;
    let mut objects = serde_json::Map::new();
    for kind in &kinds {
        let v = match kind.as_str() {
            "identity" => json!(view::agent(&mut at.slots, id)?),
            "reputation" => reputation(&mut at.slots, id, None, &[])?,
            "capabilities" => capabilities(&mut at.slots, id, at.timestamp)?,
            _ => sessions(&mut at.slots, id, at.timestamp)?,
        };
        objects.insert(kind.clone(), v);
    }
    let header = r.header(at.number)?.ok_or(RpcError::UnknownBlock)?;
    let state_at = at.state_at;
    let keys: Vec<JsonStorageKey> =
        at.slots.into_read().into_iter().map(|s| JsonStorageKey::from(B256::from(s))).collect();
    let proof = proof_response(&r, AGENT_STATE, keys, state_at)?;
    Ok(json!({
        "agentId": id,
        "blockNumber": format!("{:#x}", header.number),
        "blockHash": header.hash_slow(),
        "stateRoot": header.state_root,
        "interactionRoot": proof.storage_hash,
        "objects": objects,
        "proof": proof,
    }))
}
