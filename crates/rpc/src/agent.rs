//! The `agent_` namespace: typed reads of the interaction trie (at any kept block).

use crate::{
    ChainApi,
    error::{RpcError, RpcResult},
    eth::{Args, Ctx, reg_blocking, state_block},
};
use agnt2_agent::{
    AGENT_STATE,
    keys::{self, Kind},
};
use agnt2_storage::StateAt;
use alloy_eips::BlockId;
use alloy_primitives::{Address, B256, U256};
use jsonrpsee::RpcModule;
use revm::DatabaseRef;
use serde_json::{Value, json};

fn word(state: &StateAt<'_>, slot: U256) -> RpcResult<U256> {
    Ok(state.storage_ref(AGENT_STATE, slot)?)
}

fn bytes(state: &StateAt<'_>, base: U256) -> RpcResult<Vec<u8>> {
    let len = usize::try_from(word(state, base)?)
        .map_err(|_| RpcError::Internal("corrupt length in the interaction trie".into()))?;
    let first = keys::data_slot(base);
    let mut out = Vec::with_capacity(len);
    for i in 0..len.div_ceil(32) {
        out.extend_from_slice(&word(state, first.wrapping_add(U256::from(i)))?.to_be_bytes::<32>());
    }
    out.truncate(len);
    Ok(out)
}

fn get_agent<C: ChainApi>(c: &Ctx<C>, a: &Args) -> RpcResult<Value> {
    let id: U256 = a.req(0, "agentId")?;
    let block: Option<BlockId> = a.opt(1, "block")?;
    let r = c.api.reader()?;
    let (_, at) = state_block(&r, block)?;
    let state = r.state(at);
    let owner = Address::from_word(B256::from(word(&state, keys::slot(Kind::Owner, id, &[]))?));
    if owner.is_zero() {
        return Ok(Value::Null);
    }
    let uri = String::from_utf8_lossy(&bytes(&state, keys::slot(Kind::Uri, id, &[]))?).into_owned();
    let wallet = Address::from_word(B256::from(word(&state, keys::slot(Kind::Wallet, id, &[]))?));
    let registered = word(&state, keys::slot(Kind::Registered, id, &[]))?;
    Ok(json!({
        "agentId": id,
        "owner": owner,
        "agentURI": uri,
        "agentWallet": if wallet.is_zero() { owner } else { wallet },
        "registeredAt": registered,
    }))
}

/// Registers the `agent_` methods.
pub(crate) fn register<C: ChainApi>(m: &mut RpcModule<Ctx<C>>) {
    reg_blocking(m, "agent_getAgent", |a, c| get_agent(c, a));
}
