//! Calldata of the agent precompiles the benchmarks call (the same ABI as their Solidity
//! equivalents).

use alloy_primitives::{B256, Bytes, U256};
use alloy_sol_types::{SolCall, sol};

sol! {
    function register(string agentURI) external returns (uint256 agentId);
    function giveFeedback(uint256 agentId, int128 value, uint8 valueDecimals, string tag1, string tag2, string endpoint, string feedbackURI, bytes32 feedbackHash) external;
}

/// `register(uri)`.
pub(crate) fn register(uri: String) -> Bytes {
    registerCall { agentURI: uri }.abi_encode().into()
}

/// `giveFeedback` of `value` (0 decimals, tag1 "starred") for `agent`, naming `endpoint`.
pub(crate) fn feedback(agent: U256, value: i128, endpoint: &str) -> Bytes {
    giveFeedbackCall {
        agentId: agent,
        value,
        valueDecimals: 0,
        tag1: "starred".into(),
        tag2: String::new(),
        endpoint: endpoint.into(),
        feedbackURI: String::new(),
        feedbackHash: B256::ZERO,
    }
    .abi_encode()
    .into()
}
