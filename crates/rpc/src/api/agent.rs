//! `agent_`: the agent objects of the interaction trie (identity, reputation, capabilities,
//! sessions) at a block, and their proofs against the block's state root.

use crate::error::RpcResult;
use alloy_eips::BlockId;
use alloy_primitives::{Address, U256};
use jsonrpsee::proc_macros::rpc;
use serde_json::Value;

#[rpc(server, namespace = "agent")]
pub(crate) trait AgentApi {
    /// The identity of `agentId` (null when it does not exist).
    #[method(name = "getAgent", blocking)]
    fn get_agent(&self, agent_id: U256, block: Option<BlockId>) -> RpcResult<Value>;

    /// The identities `owner` holds.
    #[method(name = "getAgentsByOwner", blocking)]
    fn get_agents_by_owner(&self, owner: Address, block: Option<BlockId>) -> RpcResult<Value>;

    /// Feedback of `clients` (default: every client) with at most two tags, and its summary.
    #[method(name = "getReputation", blocking)]
    fn get_reputation(
        &self,
        agent_id: U256,
        clients: Option<Vec<Address>>,
        tags: Option<Vec<String>>,
        block: Option<BlockId>,
    ) -> RpcResult<Value>;

    /// The capabilities granted to `agentId`, each with whether it is active at the block.
    #[method(name = "getCapabilities", blocking)]
    fn get_capabilities(&self, agent_id: U256, block: Option<BlockId>) -> RpcResult<Value>;

    /// The session keys of `agentId`, each with whether it is valid at the block.
    #[method(name = "getSessions", blocking)]
    fn get_sessions(&self, agent_id: U256, block: Option<BlockId>) -> RpcResult<Value>;

    /// The objects of `kinds` (default: all four) with the storage proof of every slot read.
    #[method(name = "getProof", blocking)]
    fn get_proof(
        &self,
        agent_id: U256,
        kinds: Option<Vec<String>>,
        block: Option<BlockId>,
    ) -> RpcResult<Value>;
}
