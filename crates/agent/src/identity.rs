//! ERC-8004 IdentityRegistry as a precompile (at [`crate::IDENTITY`]).
//!
//! Agents are ERC-721 tokens; ids start at 1. Differences from the reference contract: no
//! receiver callback on safe transfers, no approvals (only the owner transfers), and
//! `setAgentWallet` takes EOA signatures only (a precompile cannot call ERC-1271).

use crate::{
    IDENTITY,
    keys::{self, Kind, OwnerWord},
    shell::{Ctx, Outcome, check, emit, revert, run},
    store::{Slots, Stop, Store},
    view,
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{Address, B256, B512, U256, keccak256};
use alloy_sol_types::{SolCall, SolStruct, eip712_domain, sol};
use revm::precompile::PrecompileResult;

sol! {
    /// One metadata entry given at registration.
    struct MetadataEntry { string metadataKey; bytes metadataValue; }

    /// What the new agent wallet signs (EIP-712) to prove control.
    struct AgentWalletSet { uint256 agentId; address newWallet; address owner; uint256 deadline; }

    /// The IdentityRegistry ABI agnt2 serves natively.
    interface IIdentityRegistry {
        function register() external returns (uint256 agentId);
        function register(string agentURI) external returns (uint256 agentId);
        function register(string agentURI, MetadataEntry[] metadata) external returns (uint256 agentId);
        function setAgentURI(uint256 agentId, string newURI) external;
        function getMetadata(uint256 agentId, string metadataKey) external view returns (bytes);
        function setMetadata(uint256 agentId, string metadataKey, bytes metadataValue) external;
        function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes signature) external;
        function getAgentWallet(uint256 agentId) external view returns (address);
        function unsetAgentWallet(uint256 agentId) external;
        function ownerOf(uint256 tokenId) external view returns (address);
        function balanceOf(address owner) external view returns (uint256);
        function tokenOfOwnerByIndex(address owner, uint256 index) external view returns (uint256);
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
/// How far ahead an agent wallet proof's deadline may lie (ERC-8004: 5 minutes).
const MAX_DEADLINE_AHEAD: u64 = 300;
/// Gas of recovering a signer (as the ecrecover precompile).
const ECRECOVER: u64 = 3_000;
/// secp256k1's order halved: signatures with a larger `s` are malleable and rejected.
const HALF_ORDER: U256 = alloy_primitives::uint!(
    0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0_U256
);

/// Entry point of the precompile.
pub(crate) fn call(input: PrecompileInput<'_>) -> PrecompileResult {
    run::<Call>(input, "IdentityRegistry", dispatch)
}

/// Agent `id` if it exists and `caller` owns it; otherwise why not.
pub(crate) fn require_owner(
    store: &mut Store<'_, '_>,
    id: U256,
    caller: Address,
) -> Result<Result<OwnerWord, String>, Stop> {
    Ok(match view::owner_word(store, id)? {
        None => Err("unknown agent".into()),
        Some(o) if o.owner != caller => Err("caller is not the owner".into()),
        Some(o) => Ok(o),
    })
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
    let id = store.word(keys::LAST_ID)? + U256::from(1);
    store.store(keys::LAST_ID, id)?;
    let pos = store.list_push(Kind::Owned, keys::address_id(caller), id)?;
    let registered = store.internals.block_number().saturating_to();
    let word = OwnerWord { owner: caller, registered, pos };
    store.store(keys::slot(Kind::Owner, id, &[]), word.pack())?;
    if !uri.is_empty() {
        store.store_bytes(keys::slot(Kind::Uri, id, &[]), uri.as_bytes())?;
    }
    emit(
        store,
        IDENTITY,
        &IIdentityRegistry::Transfer { from: Address::ZERO, to: caller, tokenId: id },
    )?;
    let ev =
        IIdentityRegistry::Registered { agentId: id, agentURI: uri.to_string(), owner: caller };
    emit(store, IDENTITY, &ev)?;
    for m in metadata {
        store.store_bytes(keys::metadata_slot(id, &m.metadataKey), &m.metadataValue)?;
        let set = IIdentityRegistry::MetadataSet {
            agentId: id,
            indexedMetadataKey: keccak256(m.metadataKey.as_bytes()),
            metadataKey: m.metadataKey.clone(),
            metadataValue: m.metadataValue.clone(),
        };
        emit(store, IDENTITY, &set)?;
    }
    Ok(Outcome::Return(IIdentityRegistry::register_0Call::abi_encode_returns(&id)))
}

const fn is_write(call: &Call) -> bool {
    matches!(
        call,
        Call::register_0(_)
            | Call::register_1(_)
            | Call::register_2(_)
            | Call::setAgentURI(_)
            | Call::setMetadata(_)
            | Call::setAgentWallet(_)
            | Call::unsetAgentWallet(_)
            | Call::transferFrom(_)
            | Call::safeTransferFrom(_)
    )
}

fn dispatch(store: &mut Store<'_, '_>, call: Call, ctx: &Ctx) -> Result<Outcome, Stop> {
    if is_write(&call) {
        check!(ctx.require_writable());
    }
    let caller = ctx.caller;
    match call {
        Call::register_0(_) => register(store, caller, "", &[]),
        Call::register_1(c) => register(store, caller, &c.agentURI, &[]),
        Call::register_2(c) => register(store, caller, &c.agentURI, &c.metadata),
        Call::setAgentURI(c) => {
            check!(require_owner(store, c.agentId, caller)?);
            store.store_bytes(keys::slot(Kind::Uri, c.agentId, &[]), c.newURI.as_bytes())?;
            let ev = IIdentityRegistry::URIUpdated {
                agentId: c.agentId,
                newURI: c.newURI,
                updatedBy: caller,
            };
            emit(store, IDENTITY, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::setMetadata(c) => {
            if c.metadataKey == WALLET_KEY {
                return revert("agentWallet is reserved: use setAgentWallet");
            }
            check!(require_owner(store, c.agentId, caller)?);
            store.store_bytes(keys::metadata_slot(c.agentId, &c.metadataKey), &c.metadataValue)?;
            let ev = IIdentityRegistry::MetadataSet {
                agentId: c.agentId,
                indexedMetadataKey: keccak256(c.metadataKey.as_bytes()),
                metadataKey: c.metadataKey,
                metadataValue: c.metadataValue,
            };
            emit(store, IDENTITY, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::getMetadata(c) => {
            if view::owner_word(store, c.agentId)?.is_none() {
                return revert("unknown agent");
            }
            let v = if c.metadataKey == WALLET_KEY {
                let owner =
                    view::owner_word(store, c.agentId)?.map(|o| o.owner).unwrap_or_default();
                view::wallet(store, c.agentId, owner)?.to_vec()
            } else {
                store.bytes(keys::metadata_slot(c.agentId, &c.metadataKey))?
            };
            Ok(Outcome::Return(IIdentityRegistry::getMetadataCall::abi_encode_returns(&v.into())))
        }
        Call::setAgentWallet(c) => set_agent_wallet(store, caller, c),
        Call::getAgentWallet(c) => {
            let Some(o) = view::owner_word(store, c.agentId)? else {
                return revert("unknown agent");
            };
            let wallet = view::wallet(store, c.agentId, o.owner)?;
            Ok(Outcome::Return(IIdentityRegistry::getAgentWalletCall::abi_encode_returns(&wallet)))
        }
        Call::unsetAgentWallet(c) => {
            check!(require_owner(store, c.agentId, caller)?);
            store.store(keys::slot(Kind::Wallet, c.agentId, &[]), U256::ZERO)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::ownerOf(c) => match view::owner_word(store, c.tokenId)? {
            Some(o) => {
                Ok(Outcome::Return(IIdentityRegistry::ownerOfCall::abi_encode_returns(&o.owner)))
            }
            None => revert("unknown agent"),
        },
        Call::balanceOf(c) => {
            if c.owner.is_zero() {
                return revert("zero address is not an owner");
            }
            let n = store.word(keys::balance_slot(c.owner))?;
            Ok(Outcome::Return(IIdentityRegistry::balanceOfCall::abi_encode_returns(&n)))
        }
        Call::tokenOfOwnerByIndex(c) => {
            let n = store.word(keys::balance_slot(c.owner))?;
            if c.index >= n {
                return revert("owner index out of bounds");
            }
            let id = store.word(keys::list_slot(
                Kind::Owned,
                keys::address_id(c.owner),
                c.index.saturating_to(),
            ))?;
            Ok(Outcome::Return(IIdentityRegistry::tokenOfOwnerByIndexCall::abi_encode_returns(&id)))
        }
        Call::tokenURI(c) => {
            if view::owner_word(store, c.tokenId)?.is_none() {
                return revert("unknown agent");
            }
            let uri = store.string(keys::slot(Kind::Uri, c.tokenId, &[]))?;
            Ok(Outcome::Return(IIdentityRegistry::tokenURICall::abi_encode_returns(&uri)))
        }
        Call::name(_) => Ok(Outcome::Return(IIdentityRegistry::nameCall::abi_encode_returns(
            &"AgentIdentity".to_string(),
        ))),
        Call::symbol(_) => Ok(Outcome::Return(IIdentityRegistry::symbolCall::abi_encode_returns(
            &"AGENT".to_string(),
        ))),
        Call::totalAgents(_) => {
            let n = store.word(keys::LAST_ID)?;
            Ok(Outcome::Return(IIdentityRegistry::totalAgentsCall::abi_encode_returns(&n)))
        }
        Call::transferFrom(c) => transfer(store, caller, c.from, c.to, c.tokenId),
        Call::safeTransferFrom(c) => transfer(store, caller, c.from, c.to, c.tokenId),
    }
}

/// The signer of `hash` under a 65-byte `r ‖ s ‖ v` signature (v 27/28 or 0/1), rejecting
/// malleable (high-s) signatures.
fn recover(hash: B256, sig: &[u8]) -> Result<Address, String> {
    if sig.len() != 65 {
        return Err(format!("signature must be 65 bytes, got {}", sig.len()));
    }
    let v = match sig[64] {
        v @ (27 | 28) => v - 27,
        v @ (0 | 1) => v,
        v => return Err(format!("invalid signature v {v}")),
    };
    if U256::from_be_slice(&sig[32..64]) > HALF_ORDER {
        return Err("signature s is in the upper half of the order".into());
    }
    let rs = B512::from_slice(&sig[..64]);
    let word = revm::precompile::secp256k1::ecrecover(&rs, v, &hash)
        .map_err(|_| "signature does not recover".to_string())?;
    Ok(Address::from_word(word))
}

fn set_agent_wallet(
    store: &mut Store<'_, '_>,
    caller: Address,
    c: IIdentityRegistry::setAgentWalletCall,
) -> Result<Outcome, Stop> {
    let owner = match require_owner(store, c.agentId, caller)? {
        Ok(o) => o.owner,
        Err(e) => return revert(e),
    };
    if c.newWallet.is_zero() {
        return revert("new wallet is the zero address: use unsetAgentWallet");
    }
    let now = store.internals.block_timestamp();
    if c.deadline < now {
        return revert("proof deadline has passed");
    }
    if c.deadline > now + U256::from(MAX_DEADLINE_AHEAD) {
        return revert("proof deadline is more than 5 minutes ahead");
    }
    store.meter.charge(ECRECOVER)?;
    let domain = eip712_domain! {
        name: "ERC8004IdentityRegistry",
        version: "1",
        chain_id: store.internals.chain_id(),
        verifying_contract: IDENTITY,
    };
    let msg =
        AgentWalletSet { agentId: c.agentId, newWallet: c.newWallet, owner, deadline: c.deadline };
    match recover(msg.eip712_signing_hash(&domain), &c.signature) {
        Ok(signer) if signer == c.newWallet => {}
        Ok(_) => return revert("proof is not signed by the new wallet"),
        Err(e) => return revert(e),
    }
    store.store_address(keys::slot(Kind::Wallet, c.agentId, &[]), c.newWallet)?;
    let ev = IIdentityRegistry::MetadataSet {
        agentId: c.agentId,
        indexedMetadataKey: keccak256(WALLET_KEY.as_bytes()),
        metadataKey: WALLET_KEY.to_string(),
        metadataValue: c.newWallet.to_vec().into(),
    };
    emit(store, IDENTITY, &ev)?;
    Ok(Outcome::Return(vec![]))
}

fn transfer(
    store: &mut Store<'_, '_>,
    caller: Address,
    from: Address,
    to: Address,
    id: U256,
) -> Result<Outcome, Stop> {
    let Some(word) = view::owner_word(store, id)? else { return revert("unknown agent") };
    if word.owner != from {
        return revert("from is not the owner");
    }
    if caller != word.owner {
        return revert("caller is not the owner");
    }
    if to.is_zero() {
        return revert("transfer to the zero address");
    }
    // Out of the sender's list (the entry moved into its place learns its new position) ...
    if let Some(moved) = store.list_remove(Kind::Owned, keys::address_id(from), word.pos)? {
        let slot = keys::slot(Kind::Owner, moved, &[]);
        let mut w = OwnerWord::unpack(store.word(slot)?);
        w.pos = word.pos;
        store.store(slot, w.pack())?;
    }
    // ... into the receiver's.
    let pos = store.list_push(Kind::Owned, keys::address_id(to), id)?;
    let new = OwnerWord { owner: to, registered: word.registered, pos };
    store.store(keys::slot(Kind::Owner, id, &[]), new.pack())?;
    // A transfer clears the agent wallet (ERC-8004).
    store.store(keys::slot(Kind::Wallet, id, &[]), U256::ZERO)?;
    emit(store, IDENTITY, &IIdentityRegistry::Transfer { from, to, tokenId: id })?;
    Ok(Outcome::Return(vec![]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_signatures_are_refused_with_a_reason() {
        let h = B256::repeat_byte(1);
        assert!(recover(h, &[0u8; 64]).unwrap_err().contains("65 bytes"));
        let mut sig = [0u8; 65];
        sig[64] = 29;
        assert!(recover(h, &sig).unwrap_err().contains("invalid signature v"));
        sig[64] = 27;
        sig[32..64].copy_from_slice(&[0xff; 32]);
        assert!(recover(h, &sig).unwrap_err().contains("upper half"));
    }
}
