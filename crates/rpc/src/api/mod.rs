//! The JSON-RPC interface, one typed trait per namespace (jsonrpsee's `#[rpc(server)]`): the
//! names, parameters and results a client sees, and for each method whether it runs inline
//! (answered from a consistent MDBX view in microseconds) or on the blocking pool (`blocking`:
//! EVM execution, scans over many blocks or the whole state, signing, state-changing devnet
//! controls). The implementations live in one module per namespace (`crate::eth`,
//! `crate::debug`, …); [`crate::compose`] merges them.

mod agent;
mod dev;
mod eth;
mod optimism;

pub(crate) use agent::AgentApiServer;
pub(crate) use dev::DevControlsServer;
pub(crate) use eth::{
    DebugApiServer, EthApiServer, NetApiServer, PersonalApiServer, RpcApiServer, TxpoolApiServer,
    Web3ApiServer,
};
pub(crate) use optimism::OptimismApiServer;
