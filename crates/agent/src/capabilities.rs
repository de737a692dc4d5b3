//! Capabilities as a precompile (at [`crate::CAPABILITIES`]): what an agent's owner says the
//! agent may do — a bytes32 capability id with a scope, a limit and an expiry — checked by
//! contracts (`has`) and by off-chain services such as the hub.
//!
//! The meaning of `scope` and `limit` belongs to whoever checks the capability (for example a
//! target contract in `scope` and a per-call amount in `limit`); the precompile stores and
//! proves them. A grant holds until its expiry (inclusive; 0: no expiry) or until revoked;
//! granting again replaces it. A transfer of the agent does not clear grants: the new owner
//! revokes what it does not want.

use crate::{
    CAPABILITIES,
    identity::require_owner,
    keys::{self, CapabilityWord, Kind},
    shell::{Ctx, Outcome, check, emit, revert, run},
    store::{Slots, Stop, Store},
    view,
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{B256, U256};
use alloy_sol_types::{SolCall, sol};
use revm::precompile::PrecompileResult;

sol! {
    /// A capability granted to an agent.
    struct Grant { bytes32 capability; bytes32 scope; uint256 limit; uint64 expiry; address grantor; }

    /// The Capabilities ABI agnt2 serves natively.
    interface ICapabilities {
        function grant(uint256 agentId, bytes32 capability, bytes32 scope, uint256 limit, uint64 expiry) external;
        function revoke(uint256 agentId, bytes32 capability) external;
        function has(uint256 agentId, bytes32 capability) external view returns (bool);
        function get(uint256 agentId, bytes32 capability) external view returns (Grant);
        function list(uint256 agentId) external view returns (Grant[]);

        event CapabilityGranted(uint256 indexed agentId, bytes32 indexed capability, bytes32 scope, uint256 limit, uint64 expiry, address indexed grantor);
        event CapabilityRevoked(uint256 indexed agentId, bytes32 indexed capability, address indexed revokedBy);
    }
}

use ICapabilities::ICapabilitiesCalls as Call;

/// Entry point of the precompile.
pub(crate) fn call(input: PrecompileInput<'_>) -> PrecompileResult {
    run::<Call>(input, "Capabilities", dispatch)
}

fn now(store: &Store<'_, '_>) -> u64 {
    store.internals.block_timestamp().saturating_to()
}

fn abi(c: view::Capability) -> Grant {
    Grant {
        capability: c.capability,
        scope: c.scope,
        limit: c.limit,
        expiry: c.expiry,
        grantor: c.grantor,
    }
}

fn dispatch(store: &mut Store<'_, '_>, call: Call, ctx: &Ctx) -> Result<Outcome, Stop> {
    if matches!(call, Call::grant(_) | Call::revoke(_)) {
        check!(ctx.require_writable());
    }
    match call {
        Call::grant(c) => {
            check!(require_owner(store, c.agentId, ctx.caller)?);
            if c.capability.is_zero() {
                return revert("capability id is zero");
            }
            if c.expiry != 0 && c.expiry < now(store) {
                return revert("expiry is in the past");
            }
            let key = c.capability.as_slice();
            let slot = keys::slot(Kind::Capability, c.agentId, key);
            let mut w = CapabilityWord::unpack(store.word(slot)?);
            if w.pos == 0 {
                w.pos = store.list_push(
                    Kind::Capabilities,
                    c.agentId,
                    B256::from(c.capability).into(),
                )?;
            }
            w.expiry = c.expiry;
            w.grantor = ctx.caller;
            store.store(slot, w.pack())?;
            store.store(keys::slot(Kind::CapabilityScope, c.agentId, key), c.scope.into())?;
            store.store(keys::slot(Kind::CapabilityLimit, c.agentId, key), c.limit)?;
            let ev = ICapabilities::CapabilityGranted {
                agentId: c.agentId,
                capability: c.capability,
                scope: c.scope,
                limit: c.limit,
                expiry: c.expiry,
                grantor: ctx.caller,
            };
            emit(store, CAPABILITIES, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::revoke(c) => {
            check!(require_owner(store, c.agentId, ctx.caller)?);
            let key = c.capability.as_slice();
            let slot = keys::slot(Kind::Capability, c.agentId, key);
            let w = CapabilityWord::unpack(store.word(slot)?);
            if w.pos == 0 {
                return revert("capability not granted");
            }
            if let Some(moved) = store.list_remove(Kind::Capabilities, c.agentId, w.pos)? {
                let mslot = keys::slot(Kind::Capability, c.agentId, &moved.to_be_bytes::<32>());
                let mut m = CapabilityWord::unpack(store.word(mslot)?);
                m.pos = w.pos;
                store.store(mslot, m.pack())?;
            }
            store.store(slot, U256::ZERO)?;
            store.store(keys::slot(Kind::CapabilityScope, c.agentId, key), U256::ZERO)?;
            store.store(keys::slot(Kind::CapabilityLimit, c.agentId, key), U256::ZERO)?;
            let ev = ICapabilities::CapabilityRevoked {
                agentId: c.agentId,
                capability: c.capability,
                revokedBy: ctx.caller,
            };
            emit(store, CAPABILITIES, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::has(c) => {
            // One read: the grant word carries the expiry.
            let w = CapabilityWord::unpack(store.word(keys::slot(
                Kind::Capability,
                c.agentId,
                c.capability.as_slice(),
            ))?);
            let has = w.pos != 0 && (w.expiry == 0 || now(store) <= w.expiry);
            Ok(Outcome::Return(ICapabilities::hasCall::abi_encode_returns(&has)))
        }
        Call::get(c) => match view::capability(store, c.agentId, c.capability)? {
            None => revert("capability not granted"),
            Some(g) => Ok(Outcome::Return(ICapabilities::getCall::abi_encode_returns(&abi(g)))),
        },
        Call::list(c) => {
            let now = now(store);
            let all = view::capabilities(store, c.agentId)?;
            let live: Vec<Grant> = all.into_iter().filter(|g| g.active(now)).map(abi).collect();
            Ok(Outcome::Return(ICapabilities::listCall::abi_encode_returns(&live)))
        }
    }
}
