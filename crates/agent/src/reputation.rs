//! ERC-8004 ReputationRegistry as a precompile (at [`crate::REPUTATION`]), over the same
//! interaction trie as the identities it rates.
//!
//! Rules from the spec: the agent must exist, its owner cannot rate it, `valueDecimals ≤ 18`,
//! `|value| ≤ 1e38`, feedback indexes start at 1 per client, `getSummary` needs a client list
//! and averages at 18 decimals, answering in the most common decimals of the feedback counted.
//! `endpoint`, `feedbackURI` and `feedbackHash` are emitted, not stored.

use crate::{
    REPUTATION,
    identity::{Outcome, emit_from, owner_of, revert, run},
    keys::{self, Kind},
    store::{Stop, Store},
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::{SolCall, SolEvent};
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

fn emit(store: &mut Store<'_, '_>, event: &impl SolEvent) -> Result<(), Stop> {
    emit_from(store, REPUTATION, event)
}

/// value (low 128 bits, two's complement) | decimals << 128 | revoked << 136 | 1 << 144 (so that
/// a stored feedback is never the zero word, whatever its value).
fn pack(value: i128, decimals: u8, revoked: bool) -> U256 {
    U256::from(value as u128)
        | (U256::from(decimals) << 128usize)
        | (U256::from(revoked as u8) << 136usize)
        | (U256::from(1u8) << 144usize)
}

fn unpack(w: U256) -> (i128, u8, bool) {
    let low: U256 = w & U256::from(u128::MAX);
    let value = low.to::<u128>() as i128;
    let dec: U256 = (w >> 128usize) & U256::from(0xffu8);
    let decimals = dec.to::<u8>();
    let flag: U256 = (w >> 136usize) & U256::from(1u8);
    let revoked = !flag.is_zero();
    (value, decimals, revoked)
}

struct FeedbackRecord {
    value: i128,
    decimals: u8,
    revoked: bool,
    tag1: String,
    tag2: String,
}

fn read(
    store: &mut Store<'_, '_>,
    id: U256,
    client: Address,
    idx: u64,
) -> Result<Option<FeedbackRecord>, Stop> {
    let sub = keys::feedback_subkey(client, idx);
    let w = store.load(keys::slot(Kind::Feedback, id, &sub))?;
    if w.is_zero() {
        return Ok(None);
    }
    let (value, decimals, revoked) = unpack(w);
    let tag1 = store.load_bytes(keys::slot(Kind::FeedbackTag1, id, &sub))?;
    let tag2 = store.load_bytes(keys::slot(Kind::FeedbackTag2, id, &sub))?;
    Ok(Some(FeedbackRecord {
        value,
        decimals,
        revoked,
        tag1: String::from_utf8_lossy(&tag1).into_owned(),
        tag2: String::from_utf8_lossy(&tag2).into_owned(),
    }))
}

fn last_index(store: &mut Store<'_, '_>, id: U256, client: Address) -> Result<u64, Stop> {
    Ok(store.load(keys::slot(Kind::LastIndex, id, client.as_slice()))?.saturating_to())
}

fn dispatch(
    store: &mut Store<'_, '_>,
    call: Call,
    caller: Address,
    writable: bool,
) -> Result<Outcome, Stop> {
    let is_write =
        matches!(call, Call::giveFeedback(_) | Call::revokeFeedback(_) | Call::appendResponse(_));
    if is_write && !writable {
        return revert("state changes need a direct, non-static call");
    }
    match call {
        Call::giveFeedback(c) => {
            let Some(owner) = owner_of(store, c.agentId)? else { return revert("unknown agent") };
            if owner == caller {
                return revert("owners cannot rate their own agent");
            }
            if c.valueDecimals > 18 {
                return revert("valueDecimals must be at most 18");
            }
            if c.value.unsigned_abs() > MAX_ABS_VALUE {
                return revert("|value| must be at most 1e38");
            }
            let idx = last_index(store, c.agentId, caller)? + 1;
            store.store(
                keys::slot(Kind::LastIndex, c.agentId, caller.as_slice()),
                U256::from(idx),
            )?;
            if idx == 1 {
                let len_slot = keys::slot(Kind::Clients, c.agentId, &[]);
                let n = store.load(len_slot)?;
                store.store(
                    keys::slot(Kind::Clients, c.agentId, &n.to_be_bytes::<32>()),
                    U256::from_be_slice(caller.as_slice()),
                )?;
                store.store(len_slot, n + U256::from(1))?;
            }
            let sub = keys::feedback_subkey(caller, idx);
            store.store(
                keys::slot(Kind::Feedback, c.agentId, &sub),
                pack(c.value, c.valueDecimals, false),
            )?;
            store
                .store_bytes(keys::slot(Kind::FeedbackTag1, c.agentId, &sub), c.tag1.as_bytes())?;
            store
                .store_bytes(keys::slot(Kind::FeedbackTag2, c.agentId, &sub), c.tag2.as_bytes())?;
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
            emit(store, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::revokeFeedback(c) => {
            let sub = keys::feedback_subkey(caller, c.feedbackIndex);
            let slot = keys::slot(Kind::Feedback, c.agentId, &sub);
            let w = store.load(slot)?;
            if w.is_zero() {
                return revert("no such feedback from the caller");
            }
            let (value, decimals, revoked) = unpack(w);
            if revoked {
                return revert("feedback already revoked");
            }
            store.store(slot, pack(value, decimals, true))?;
            let ev = IReputationRegistry::FeedbackRevoked {
                agentId: c.agentId,
                clientAddress: caller,
                feedbackIndex: c.feedbackIndex,
            };
            emit(store, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::appendResponse(c) => {
            let sub = keys::feedback_subkey(c.clientAddress, c.feedbackIndex);
            if store.load(keys::slot(Kind::Feedback, c.agentId, &sub))?.is_zero() {
                return revert("no such feedback");
            }
            let slot = keys::slot(Kind::Responses, c.agentId, &sub);
            let n = store.load(slot)?;
            store.store(slot, n + U256::from(1))?;
            let ev = IReputationRegistry::ResponseAppended {
                agentId: c.agentId,
                clientAddress: c.clientAddress,
                feedbackIndex: c.feedbackIndex,
                responder: caller,
                responseURI: c.responseURI,
                responseHash: c.responseHash,
            };
            emit(store, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::getSummary(c) => {
            if c.clientAddresses.is_empty() {
                return revert("getSummary needs a list of clients");
            }
            let (mut count, mut sum) = (0u64, 0i128);
            let mut decimals_seen = [0u64; 19];
            for client in &c.clientAddresses {
                for idx in 1..=last_index(store, c.agentId, *client)? {
                    let Some(f) = read(store, c.agentId, *client, idx)? else { continue };
                    if f.revoked
                        || (!c.tag1.is_empty() && f.tag1 != c.tag1)
                        || (!c.tag2.is_empty() && f.tag2 != c.tag2)
                    {
                        continue;
                    }
                    // At 18 decimals: |value| ≤ 1e38 and 10^18 fit an i128 only after dividing,
                    // so scale by what fits and keep the sum saturating.
                    let scaled = f.value.saturating_mul(10i128.pow(u32::from(18 - f.decimals)));
                    sum = sum.saturating_add(scaled);
                    count += 1;
                    decimals_seen[f.decimals as usize] += 1;
                }
            }
            let mode =
                (0..=18u8).max_by_key(|d| (decimals_seen[*d as usize], u8::MAX - d)).unwrap_or(0);
            let summary = if count == 0 {
                0
            } else {
                (sum / count as i128) / 10i128.pow(u32::from(18 - mode))
            };
            let out = (count, summary, if count == 0 { 0 } else { mode });
            Ok(Outcome::Return(IReputationRegistry::getSummaryCall::abi_encode_returns(
                &out.into(),
            )))
        }
        Call::readFeedback(c) => match read(store, c.agentId, c.clientAddress, c.feedbackIndex)? {
            None => revert("no such feedback"),
            Some(f) => {
                let ret = IReputationRegistry::readFeedbackReturn {
                    value: f.value,
                    valueDecimals: f.decimals,
                    tag1: f.tag1,
                    tag2: f.tag2,
                    isRevoked: f.revoked,
                };
                Ok(Outcome::Return(IReputationRegistry::readFeedbackCall::abi_encode_returns(&ret)))
            }
        },
        Call::getClients(c) => {
            let n: u64 = store.load(keys::slot(Kind::Clients, c.agentId, &[]))?.saturating_to();
            let mut clients = Vec::with_capacity(n as usize);
            for i in 0..n {
                let w = store.load(keys::slot(
                    Kind::Clients,
                    c.agentId,
                    &U256::from(i).to_be_bytes::<32>(),
                ))?;
                clients.push(Address::from_word(B256::from(w)));
            }
            Ok(Outcome::Return(IReputationRegistry::getClientsCall::abi_encode_returns(&clients)))
        }
        Call::getLastIndex(c) => {
            let idx = last_index(store, c.agentId, c.clientAddress)?;
            Ok(Outcome::Return(IReputationRegistry::getLastIndexCall::abi_encode_returns(&idx)))
        }
    }
}
