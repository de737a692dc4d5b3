//! ERC-8004 ReputationRegistry as a precompile (at [`crate::REPUTATION`]), over the same
//! interaction trie as the identities it rates.
//!
//! Rules from the spec: the agent must exist, its owner cannot rate it, `valueDecimals ≤ 18`,
//! `|value| ≤ 1e38`, feedback indexes start at 1 per client, `getSummary` needs a client list
//! and averages at 18 decimals, answering in the most common decimals of the feedback counted.
//! `endpoint`, `feedbackURI` and `feedbackHash` are emitted, not stored.

use crate::{
    REPUTATION,
    keys::{self, Kind},
    shell::{Ctx, Outcome, check, emit, revert, run},
    store::{Slots, Stop, Store},
    view,
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{Address, U256, keccak256};
use alloy_sol_types::SolCall;
use revm::precompile::PrecompileResult;

// The generated event constructor takes every event field as an argument.
#[allow(clippy::too_many_arguments)]
mod abi {
    alloy_sol_types::sol! {
    /// The ReputationRegistry ABI agnt2 serves natively.
    interface IReputationRegistry {
        function giveFeedback(uint256 agentId, int128 value, uint8 valueDecimals, string tag1, string tag2, string endpoint, string feedbackURI, bytes32 feedbackHash) external;
        function revokeFeedback(uint256 agentId, uint64 feedbackIndex) external;
        function appendResponse(uint256 agentId, address clientAddress, uint64 feedbackIndex, string responseURI, bytes32 responseHash) external;
        function getSummary(uint256 agentId, address[] clientAddresses, string tag1, string tag2) external view returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals);
        function readFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex) external view returns (int128 value, uint8 valueDecimals, string tag1, string tag2, bool isRevoked);
        function getClients(uint256 agentId) external view returns (address[]);
        function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64);
        function readAllFeedback(uint256 agentId, address[] clientAddresses, string tag1, string tag2, bool includeRevoked) external view returns (address[] clients, uint64[] feedbackIndexes, int128[] values, uint8[] valueDecimals, string[] tag1s, string[] tag2s, bool[] revokedStatuses);
        function getResponseCount(uint256 agentId, address clientAddress, uint64 feedbackIndex, address[] responders) external view returns (uint64 count);
        function getIdentityRegistry() external view returns (address);

        event NewFeedback(uint256 indexed agentId, address indexed clientAddress, uint64 feedbackIndex, int128 value, uint8 valueDecimals, string indexed indexedTag1, string tag1, string tag2, string endpoint, string feedbackURI, bytes32 feedbackHash);
        event FeedbackRevoked(uint256 indexed agentId, address indexed clientAddress, uint64 indexed feedbackIndex);
        event ResponseAppended(uint256 indexed agentId, address indexed clientAddress, uint64 feedbackIndex, address indexed responder, string responseURI, bytes32 responseHash);
    }
    }
}

use abi::IReputationRegistry;

use IReputationRegistry::IReputationRegistryCalls as Call;

const MAX_ABS_VALUE: u128 = 100_000_000_000_000_000_000_000_000_000_000_000_000; // 1e38

/// Entry point of the precompile.
pub(crate) fn call(input: PrecompileInput<'_>) -> PrecompileResult {
    run::<Call>(input, "ReputationRegistry", dispatch)
}

fn give_feedback(
    store: &mut Store<'_, '_>,
    caller: Address,
    c: IReputationRegistry::giveFeedbackCall,
) -> Result<Outcome, Stop> {
    let Some(owner) = view::owner_word(store, c.agentId)? else { return revert("unknown agent") };
    if owner.owner == caller {
        return revert("owners cannot rate their own agent");
    }
    if c.valueDecimals > 18 {
        return revert("valueDecimals must be at most 18");
    }
    if c.value.unsigned_abs() > MAX_ABS_VALUE {
        return revert("|value| must be at most 1e38");
    }
    let idx = view::last_index(store, c.agentId, caller)? + 1;
    store.store(keys::slot(Kind::LastIndex, c.agentId, caller.as_slice()), U256::from(idx))?;
    if idx == 1 {
        store.list_push(Kind::Clients, c.agentId, keys::address_id(caller))?;
    }
    let sub = keys::feedback_subkey(caller, idx);
    store.store(
        keys::slot(Kind::Feedback, c.agentId, &sub),
        view::pack_feedback(c.value, c.valueDecimals, false),
    )?;
    store.store_bytes(keys::slot(Kind::FeedbackTag1, c.agentId, &sub), c.tag1.as_bytes())?;
    store.store_bytes(keys::slot(Kind::FeedbackTag2, c.agentId, &sub), c.tag2.as_bytes())?;
    let ev = IReputationRegistry::NewFeedback {
        agentId: c.agentId,
        clientAddress: caller,
        feedbackIndex: idx,
        value: c.value,
        valueDecimals: c.valueDecimals,
        indexedTag1: keccak256(c.tag1.as_bytes()),
        tag1: c.tag1,
        tag2: c.tag2,
        endpoint: c.endpoint,
        feedbackURI: c.feedbackURI,
        feedbackHash: c.feedbackHash,
    };
    emit(store, REPUTATION, &ev)?;
    Ok(Outcome::Return(vec![]))
}

fn dispatch(store: &mut Store<'_, '_>, call: Call, ctx: &Ctx) -> Result<Outcome, Stop> {
    if matches!(call, Call::giveFeedback(_) | Call::revokeFeedback(_) | Call::appendResponse(_)) {
        check!(ctx.require_writable());
    }
    let caller = ctx.caller;
    match call {
        Call::giveFeedback(c) => give_feedback(store, caller, c),
        Call::revokeFeedback(c) => {
            let sub = keys::feedback_subkey(caller, c.feedbackIndex);
            let slot = keys::slot(Kind::Feedback, c.agentId, &sub);
            let w = store.word(slot)?;
            if w.is_zero() {
                return revert("no such feedback from the caller");
            }
            let (value, decimals, revoked) = view::unpack_feedback(w);
            if revoked {
                return revert("feedback already revoked");
            }
            store.store(slot, view::pack_feedback(value, decimals, true))?;
            let ev = IReputationRegistry::FeedbackRevoked {
                agentId: c.agentId,
                clientAddress: caller,
                feedbackIndex: c.feedbackIndex,
            };
            emit(store, REPUTATION, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::appendResponse(c) => {
            let sub = keys::feedback_subkey(c.clientAddress, c.feedbackIndex);
            if store.word(keys::slot(Kind::Feedback, c.agentId, &sub))?.is_zero() {
                return revert("no such feedback");
            }
            for slot in [
                keys::slot(Kind::Responses, c.agentId, &sub),
                keys::slot(Kind::ResponsesBy, c.agentId, &keys::pair_subkey(caller, &sub)),
            ] {
                let n = store.word(slot)?;
                store.store(slot, n + U256::from(1))?;
            }
            let ev = IReputationRegistry::ResponseAppended {
                agentId: c.agentId,
                clientAddress: c.clientAddress,
                feedbackIndex: c.feedbackIndex,
                responder: caller,
                responseURI: c.responseURI,
                responseHash: c.responseHash,
            };
            emit(store, REPUTATION, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::getSummary(c) => {
            if c.clientAddresses.is_empty() {
                return revert("getSummary needs a list of clients");
            }
            let all =
                view::all_feedback(store, c.agentId, &c.clientAddresses, &c.tag1, &c.tag2, false)?;
            let s = view::summarize(&all);
            let out = (s.count, s.summary_value, s.summary_value_decimals);
            Ok(Outcome::Return(IReputationRegistry::getSummaryCall::abi_encode_returns(
                &out.into(),
            )))
        }
        Call::readFeedback(c) => {
            match view::feedback(store, c.agentId, c.clientAddress, c.feedbackIndex)? {
                None => revert("no such feedback"),
                Some(f) => {
                    let ret = IReputationRegistry::readFeedbackReturn {
                        value: f.value,
                        valueDecimals: f.value_decimals,
                        tag1: f.tag1,
                        tag2: f.tag2,
                        isRevoked: f.is_revoked,
                    };
                    Ok(Outcome::Return(IReputationRegistry::readFeedbackCall::abi_encode_returns(
                        &ret,
                    )))
                }
            }
        }
        Call::readAllFeedback(c) => {
            let clients = if c.clientAddresses.is_empty() {
                view::clients(store, c.agentId)?
            } else {
                c.clientAddresses
            };
            let all =
                view::all_feedback(store, c.agentId, &clients, &c.tag1, &c.tag2, c.includeRevoked)?;
            let ret = IReputationRegistry::readAllFeedbackReturn {
                clients: all.iter().map(|f| f.client).collect(),
                feedbackIndexes: all.iter().map(|f| f.index).collect(),
                values: all.iter().map(|f| f.value).collect(),
                valueDecimals: all.iter().map(|f| f.value_decimals).collect(),
                tag1s: all.iter().map(|f| f.tag1.clone()).collect(),
                tag2s: all.iter().map(|f| f.tag2.clone()).collect(),
                revokedStatuses: all.iter().map(|f| f.is_revoked).collect(),
            };
            Ok(Outcome::Return(IReputationRegistry::readAllFeedbackCall::abi_encode_returns(&ret)))
        }
        Call::getResponseCount(c) => {
            let sub = keys::feedback_subkey(c.clientAddress, c.feedbackIndex);
            let n: u64 = if c.responders.is_empty() {
                store.word(keys::slot(Kind::Responses, c.agentId, &sub))?.saturating_to()
            } else {
                let mut n = 0u64;
                for r in &c.responders {
                    let slot =
                        keys::slot(Kind::ResponsesBy, c.agentId, &keys::pair_subkey(*r, &sub));
                    n = n.saturating_add(store.word(slot)?.saturating_to());
                }
                n
            };
            Ok(Outcome::Return(IReputationRegistry::getResponseCountCall::abi_encode_returns(&n)))
        }
        Call::getClients(c) => {
            let clients = view::clients(store, c.agentId)?;
            Ok(Outcome::Return(IReputationRegistry::getClientsCall::abi_encode_returns(&clients)))
        }
        Call::getLastIndex(c) => {
            let idx = view::last_index(store, c.agentId, c.clientAddress)?;
            Ok(Outcome::Return(IReputationRegistry::getLastIndexCall::abi_encode_returns(&idx)))
        }
        Call::getIdentityRegistry(_) => Ok(Outcome::Return(
            IReputationRegistry::getIdentityRegistryCall::abi_encode_returns(&crate::IDENTITY),
        )),
    }
}
