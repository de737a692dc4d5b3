//! ERC-8004 IdentityRegistry as a precompile (at [`crate::IDENTITY`]).
//!
//! Agents are ERC-721 tokens; ids start at 1. Differences from the reference contract: no
//! receiver callback on safe transfers, no approvals yet, and `setAgentWallet` (EIP-712 proof)
//! is not available yet.

use crate::{
    IDENTITY,
    gas::{self, Meter},
    keys::{self, Kind},
    store::{Stop, Store},
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent, SolInterface, SolValue, sol};
use revm::precompile::{PrecompileError, PrecompileHalt, PrecompileOutput, PrecompileResult};

sol! {
    /// One metadata entry given at registration.
    struct MetadataEntry { string metadataKey; bytes metadataValue; }

    /// The IdentityRegistry ABI agnt2 serves natively.
    interface IIdentityRegistry {
        function register() external returns (uint256 agentId);
        function register(string agentURI) external returns (uint256 agentId);
        function register(string agentURI, MetadataEntry[] metadata) external returns (uint256 agentId);
        function setAgentURI(uint256 agentId, string newURI) external;
        function getMetadata(uint256 agentId, string metadataKey) external view returns (bytes);
        function setMetadata(uint256 agentId, string metadataKey, bytes metadataValue) external;
        function getAgentWallet(uint256 agentId) external view returns (address);
        function unsetAgentWallet(uint256 agentId) external;
        function ownerOf(uint256 tokenId) external view returns (address);
        function balanceOf(address owner) external view returns (uint256);
        function tokenURI(uint256 tokenId) external view returns (string);
        function name() external view returns (string);
        function symbol() external view returns (string);
        function transferFrom(address from, address to, uint256 tokenId) external;
        function safeTransferFrom(address from, address to, uint256 tokenId) external;
        function totalAgents() external view returns (uint256);

        event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
        event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);
        event MetadataSet(uint256 indexed agentId, string indexed indexedMetadataKey, string metadataKey, bytes metadataValue);
        event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    }
}

use IIdentityRegistry::IIdentityRegistryCalls as Call;

/// The reserved metadata key that `setMetadata` may not write.
const WALLET_KEY: &str = "agentWallet";

pub(crate) enum Outcome {
    Return(Vec<u8>),
    Revert(String),
}

pub(crate) fn revert(msg: impl Into<String>) -> Result<Outcome, Stop> {
    Ok(Outcome::Revert(msg.into()))
}

/// Entry point of the precompile.
pub(crate) fn call(input: PrecompileInput<'_>) -> PrecompileResult {
    run::<Call>(input, "IdentityRegistry", dispatch)
}

/// The shell every agent precompile shares: base gas, ABI decoding with a clear revert,
/// write protection (a write needs a direct, non-static call: under DELEGATECALL the precompile
/// would act for the caller's context, and STATICCALL forbids writes), and the mapping of the
/// outcome to a precompile result.
pub(crate) fn run<T: SolInterface>(
    mut input: PrecompileInput<'_>,
    name: &str,
    dispatch: fn(&mut Store<'_, '_>, T, Address, bool) -> Result<Outcome, Stop>,
) -> PrecompileResult {
    let reservoir = input.reservoir;
    let mut meter = Meter::new(input.gas);
    if meter.charge(gas::BASE).is_err() {
        return Ok(PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir));
    }
    let call = match T::abi_decode(input.data) {
        Ok(c) => c,
        Err(e) => {
            let msg = if input.data.len() < 4 {
                format!("{name}: calldata shorter than a selector")
            } else {
                format!("{name}: malformed call: {e}")
            };
            return Ok(PrecompileOutput::revert(meter.used, error_string(&msg), reservoir));
        }
    };
    let caller = input.caller;
    let writable = !input.is_static && input.is_direct_call();
    let mut store = Store { internals: &mut input.internals, meter };
    let result = dispatch(&mut store, call, caller, writable);
    let used = store.meter.used;
    match result {
        Ok(Outcome::Return(bytes)) => Ok(PrecompileOutput::new(used, bytes.into(), reservoir)),
        Ok(Outcome::Revert(msg)) => {
            Ok(PrecompileOutput::revert(used, error_string(&format!("{name}: {msg}")), reservoir))
        }
        Err(Stop::OutOfGas) => Ok(PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir)),
        Err(Stop::Fatal(e)) => Err(PrecompileError::Fatal(e)),
    }
}

/// ABI of `Error(string)`.
pub(crate) fn error_string(msg: &str) -> Bytes {
    let mut out = vec![0x08, 0xc3, 0x79, 0xa0];
    out.extend_from_slice(&msg.to_string().abi_encode());
    out.into()
}

fn emit(store: &mut Store<'_, '_>, event: &impl SolEvent) -> Result<(), Stop> {
    emit_from(store, IDENTITY, event)
}

pub(crate) fn emit_from(
    store: &mut Store<'_, '_>,
    emitter: Address,
    event: &impl SolEvent,
) -> Result<(), Stop> {
    let data = event.encode_log_data();
    store.log(emitter, data.topics().to_vec(), data.data.clone())
}

pub(crate) fn owner_of(store: &mut Store<'_, '_>, id: U256) -> Result<Option<Address>, Stop> {
    let owner = store.load_address(keys::slot(Kind::Owner, id, &[]))?;
    Ok((!owner.is_zero()).then_some(owner))
}

fn register(
    store: &mut Store<'_, '_>,
    caller: Address,
    uri: &str,
    metadata: &[MetadataEntry],
) -> Result<Outcome, Stop> {
    if metadata.iter().any(|m| m.metadataKey == WALLET_KEY) {
        return revert("agentWallet is reserved");
    }
    let id = store.load(keys::LAST_ID)? + U256::from(1);
    store.store(keys::LAST_ID, id)?;
    store.store_address(keys::slot(Kind::Owner, id, &[]), caller)?;
    let balance = keys::balance_slot(caller);
    let n = store.load(balance)?;
    store.store(balance, n + U256::from(1))?;
    let block = store.internals.block_number();
    store.store(keys::slot(Kind::Registered, id, &[]), block)?;
    if !uri.is_empty() {
        store.store_bytes(keys::slot(Kind::Uri, id, &[]), uri.as_bytes())?;
    }
    emit(store, &IIdentityRegistry::Transfer { from: Address::ZERO, to: caller, tokenId: id })?;
    let registered =
        IIdentityRegistry::Registered { agentId: id, agentURI: uri.to_string(), owner: caller };
    emit(store, &registered)?;
    for m in metadata {
        store.store_bytes(keys::metadata_slot(id, &m.metadataKey), &m.metadataValue)?;
        let set = IIdentityRegistry::MetadataSet {
            agentId: id,
            indexedMetadataKey: alloy_primitives::keccak256(m.metadataKey.as_bytes()),
            metadataKey: m.metadataKey.clone(),
            metadataValue: m.metadataValue.clone(),
        };
        emit(store, &set)?;
    }
    Ok(Outcome::Return(IIdentityRegistry::register_0Call::abi_encode_returns(&id)))
}

fn dispatch(
    store: &mut Store<'_, '_>,
    call: Call,
    caller: Address,
    writable: bool,
) -> Result<Outcome, Stop> {
    let is_write = matches!(
        call,
        Call::register_0(_)
            | Call::register_1(_)
            | Call::register_2(_)
            | Call::setAgentURI(_)
            | Call::setMetadata(_)
            | Call::unsetAgentWallet(_)
            | Call::transferFrom(_)
            | Call::safeTransferFrom(_)
    );
    if is_write && !writable {
        return revert("state changes need a direct, non-static call");
    }
    match call {
        Call::register_0(_) => register(store, caller, "", &[]),
        Call::register_1(c) => register(store, caller, &c.agentURI, &[]),
        Call::register_2(c) => register(store, caller, &c.agentURI, &c.metadata),
        Call::setAgentURI(c) => {
            match owner_of(store, c.agentId)? {
                None => return revert("unknown agent"),
                Some(o) if o != caller => return revert("caller is not the owner"),
                Some(_) => {}
            }
            store.store_bytes(keys::slot(Kind::Uri, c.agentId, &[]), c.newURI.as_bytes())?;
            let ev = IIdentityRegistry::URIUpdated {
                agentId: c.agentId,
                newURI: c.newURI,
                updatedBy: caller,
            };
            emit(store, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::setMetadata(c) => {
            if c.metadataKey == WALLET_KEY {
                return revert("agentWallet is reserved");
            }
            match owner_of(store, c.agentId)? {
                None => return revert("unknown agent"),
                Some(o) if o != caller => return revert("caller is not the owner"),
                Some(_) => {}
            }
            store.store_bytes(keys::metadata_slot(c.agentId, &c.metadataKey), &c.metadataValue)?;
            let ev = IIdentityRegistry::MetadataSet {
                agentId: c.agentId,
                indexedMetadataKey: alloy_primitives::keccak256(c.metadataKey.as_bytes()),
                metadataKey: c.metadataKey,
                metadataValue: c.metadataValue,
            };
            emit(store, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::getMetadata(c) => {
            if owner_of(store, c.agentId)?.is_none() {
                return revert("unknown agent");
            }
            let v = store.load_bytes(keys::metadata_slot(c.agentId, &c.metadataKey))?;
            Ok(Outcome::Return(IIdentityRegistry::getMetadataCall::abi_encode_returns(&v)))
        }
        Call::getAgentWallet(c) => {
            let Some(owner) = owner_of(store, c.agentId)? else { return revert("unknown agent") };
            let wallet = store.load_address(keys::slot(Kind::Wallet, c.agentId, &[]))?;
            let wallet = if wallet.is_zero() { owner } else { wallet };
            Ok(Outcome::Return(IIdentityRegistry::getAgentWalletCall::abi_encode_returns(&wallet)))
        }
        Call::unsetAgentWallet(c) => {
            match owner_of(store, c.agentId)? {
                None => return revert("unknown agent"),
                Some(o) if o != caller => return revert("caller is not the owner"),
                Some(_) => {}
            }
            store.store(keys::slot(Kind::Wallet, c.agentId, &[]), U256::ZERO)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::ownerOf(c) => match owner_of(store, c.tokenId)? {
            Some(o) => Ok(Outcome::Return(IIdentityRegistry::ownerOfCall::abi_encode_returns(&o))),
            None => revert("unknown agent"),
        },
        Call::balanceOf(c) => {
            if c.owner.is_zero() {
                return revert("zero address is not an owner");
            }
            let n = store.load(keys::balance_slot(c.owner))?;
            Ok(Outcome::Return(IIdentityRegistry::balanceOfCall::abi_encode_returns(&n)))
        }
        Call::tokenURI(c) => {
            if owner_of(store, c.tokenId)?.is_none() {
                return revert("unknown agent");
            }
            let uri = store.load_bytes(keys::slot(Kind::Uri, c.tokenId, &[]))?;
            let uri = String::from_utf8_lossy(&uri).into_owned();
            Ok(Outcome::Return(IIdentityRegistry::tokenURICall::abi_encode_returns(&uri)))
        }
        Call::name(_) => Ok(Outcome::Return(IIdentityRegistry::nameCall::abi_encode_returns(
            &"AgentIdentity".to_string(),
        ))),
        Call::symbol(_) => Ok(Outcome::Return(IIdentityRegistry::symbolCall::abi_encode_returns(
            &"AGENT".to_string(),
        ))),
        Call::totalAgents(_) => {
            let n = store.load(keys::LAST_ID)?;
            Ok(Outcome::Return(IIdentityRegistry::totalAgentsCall::abi_encode_returns(&n)))
        }
        Call::transferFrom(c) => transfer(store, caller, c.from, c.to, c.tokenId),
        Call::safeTransferFrom(c) => transfer(store, caller, c.from, c.to, c.tokenId),
    }
}

fn transfer(
    store: &mut Store<'_, '_>,
    caller: Address,
    from: Address,
    to: Address,
    id: U256,
) -> Result<Outcome, Stop> {
    let Some(owner) = owner_of(store, id)? else { return revert("unknown agent") };
    if owner != from {
        return revert("from is not the owner");
    }
    if caller != owner {
        return revert("caller is not the owner");
    }
    if to.is_zero() {
        return revert("transfer to the zero address");
    }
    store.store_address(keys::slot(Kind::Owner, id, &[]), to)?;
    let (fb, tb) = (keys::balance_slot(from), keys::balance_slot(to));
    let n = store.load(fb)?;
    store.store(fb, n.saturating_sub(U256::from(1)))?;
    let n = store.load(tb)?;
    store.store(tb, n + U256::from(1))?;
    // A transfer clears the agent wallet (ERC-8004).
    store.store(keys::slot(Kind::Wallet, id, &[]), U256::ZERO)?;
    emit(store, &IIdentityRegistry::Transfer { from, to, tokenId: id })?;
    Ok(Outcome::Return(vec![]))
}
