//! Sessions as a precompile (at [`crate::SESSIONS`]): short-lived keys an agent's owner lets act
//! for the agent, with an expiry, a spend limit and the counterparties they may deal with.
//! Contracts check them (`isValid`) and meter them (`recordSpend`); the channel hub accepts
//! channel states signed by a valid session key of the participant's agent.
//!
//! Opening a key that is already open replaces its session (spent back to zero; the old
//! counterparties lapse through an epoch bump, without clearing them one by one). A key is
//! valid up to and including its expiry second. The key itself or the owner closes it.

use crate::{
    SESSIONS,
    identity::require_owner,
    keys::{self, Kind, SessionWord},
    shell::{Ctx, Outcome, check, emit, revert, run},
    store::{Slots, Stop, Store},
    view,
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, sol};
use revm::precompile::PrecompileResult;

sol! {
    /// An open session key of an agent.
    struct Session { address key; uint64 expiry; uint256 spendLimit; uint256 spent; address[] counterparties; }

    /// The Sessions ABI agnt2 serves natively.
    interface ISessions {
        function open(uint256 agentId, address key, uint64 expiry, uint256 spendLimit, address[] counterparties) external;
        function close(uint256 agentId, address key) external;
        function isValid(uint256 agentId, address key, address counterparty) external view returns (bool);
        function recordSpend(uint256 agentId, address key, address counterparty, uint256 amount) external returns (uint256 remaining);
        function get(uint256 agentId, address key) external view returns (Session);
        function list(uint256 agentId) external view returns (address[]);

        event SessionOpened(uint256 indexed agentId, address indexed key, uint64 expiry, uint256 spendLimit, address[] counterparties);
        event SessionClosed(uint256 indexed agentId, address indexed key, address indexed closedBy);
        event SpendRecorded(uint256 indexed agentId, address indexed key, address indexed counterparty, uint256 amount, uint256 spent);
    }
}

use ISessions::ISessionsCalls as Call;

/// The most counterparties one session may name.
pub(crate) const MAX_COUNTERPARTIES: usize = 64;

/// Entry point of the precompile.
pub(crate) fn call(input: PrecompileInput<'_>) -> PrecompileResult {
    run::<Call>(input, "Sessions", dispatch)
}

fn now(store: &Store<'_, '_>) -> u64 {
    store.internals.block_timestamp().saturating_to()
}

/// The open, unexpired session of `key` allowed to deal with `counterparty` (zero: any), or why
/// not. One read for the session word, one more for a named counterparty.
fn check_valid(
    store: &mut Store<'_, '_>,
    id: U256,
    key: Address,
    counterparty: Address,
) -> Result<Result<SessionWord, String>, Stop> {
    let Some(w) = view::session_word(store, id, key)? else {
        return Ok(Err("no open session for this key".into()));
    };
    if now(store) > w.expiry {
        return Ok(Err("session expired".into()));
    }
    // Bound to the owner who opened it: a session of a seller does not sign for its buyer.
    let owner = view::owner_word(store, id)?.map(|o| o.owner).unwrap_or_default();
    if keys::owner_tag(owner) != w.owner_tag {
        return Ok(Err("the agent changed hands since this session was opened".into()));
    }
    if !counterparty.is_zero() && w.parties != 0 {
        let sub = keys::pair_subkey(key, counterparty.as_slice());
        let epoch = store.word(keys::slot(Kind::SessionAllowed, id, &sub))?;
        if epoch != U256::from(w.epoch) {
            return Ok(Err("counterparty not allowed in this session".into()));
        }
    }
    Ok(Ok(w))
}

fn open(
    store: &mut Store<'_, '_>,
    caller: Address,
    c: ISessions::openCall,
) -> Result<Outcome, Stop> {
    check!(require_owner(store, c.agentId, caller)?);
    if c.key.is_zero() {
        return revert("session key is the zero address");
    }
    if c.expiry <= now(store) {
        return revert("expiry must be in the future");
    }
    if c.counterparties.len() > MAX_COUNTERPARTIES {
        return revert(format!("at most {MAX_COUNTERPARTIES} counterparties"));
    }
    let (id, key) = (c.agentId, c.key);
    let slot = keys::slot(Kind::Session, id, key.as_slice());
    let mut w = SessionWord::unpack(store.word(slot)?);
    if w.pos == 0 {
        w.pos = store.list_push(Kind::Sessions, id, keys::address_id(key))?;
    }
    w.expiry = c.expiry;
    w.epoch = (w.epoch + 1) & u64::from(u32::MAX);
    w.parties = c.counterparties.len() as u64;
    w.owner_tag = keys::owner_tag(caller);
    store.store(slot, w.pack())?;
    store.store(keys::slot(Kind::SessionLimit, id, key.as_slice()), c.spendLimit)?;
    store.store(keys::slot(Kind::SessionSpent, id, key.as_slice()), U256::ZERO)?;
    for (i, party) in c.counterparties.iter().enumerate() {
        let sub = keys::pair_subkey(key, &(i as u64).to_be_bytes());
        store.store_address(keys::slot(Kind::SessionParty, id, &sub), *party)?;
        let sub = keys::pair_subkey(key, party.as_slice());
        store.store(keys::slot(Kind::SessionAllowed, id, &sub), U256::from(w.epoch))?;
    }
    let ev = ISessions::SessionOpened {
        agentId: id,
        key,
        expiry: c.expiry,
        spendLimit: c.spendLimit,
        counterparties: c.counterparties,
    };
    emit(store, SESSIONS, &ev)?;
    Ok(Outcome::Return(vec![]))
}

fn close(
    store: &mut Store<'_, '_>,
    caller: Address,
    id: U256,
    key: Address,
) -> Result<Outcome, Stop> {
    if caller != key {
        check!(require_owner(store, id, caller)?);
    }
    let slot = keys::slot(Kind::Session, id, key.as_slice());
    let w = SessionWord::unpack(store.word(slot)?);
    if w.pos == 0 {
        return revert("no open session for this key");
    }
    if let Some(moved) = store.list_remove(Kind::Sessions, id, w.pos)? {
        let moved = Address::from_word(moved.into());
        let mslot = keys::slot(Kind::Session, id, moved.as_slice());
        let mut m = SessionWord::unpack(store.word(mslot)?);
        m.pos = w.pos;
        store.store(mslot, m.pack())?;
    }
    // The epoch stays, so that a later session of this key does not revive these counterparties.
    let closed = SessionWord { expiry: 0, pos: 0, epoch: w.epoch, parties: 0, owner_tag: 0 };
    store.store(slot, closed.pack())?;
    store.store(keys::slot(Kind::SessionLimit, id, key.as_slice()), U256::ZERO)?;
    store.store(keys::slot(Kind::SessionSpent, id, key.as_slice()), U256::ZERO)?;
    emit(store, SESSIONS, &ISessions::SessionClosed { agentId: id, key, closedBy: caller })?;
    Ok(Outcome::Return(vec![]))
}

fn record_spend(
    store: &mut Store<'_, '_>,
    caller: Address,
    c: ISessions::recordSpendCall,
) -> Result<Outcome, Stop> {
    let (id, key) = (c.agentId, c.key);
    let Some(owner) = view::owner_word(store, id)? else { return revert("unknown agent") };
    if caller != key && caller != owner.owner && caller != view::wallet(store, id, owner.owner)? {
        return revert("caller is neither the session key, the owner nor the agent wallet");
    }
    check!(check_valid(store, id, key, c.counterparty)?);
    let limit = store.word(keys::slot(Kind::SessionLimit, id, key.as_slice()))?;
    let spent_slot = keys::slot(Kind::SessionSpent, id, key.as_slice());
    let spent = store.word(spent_slot)?;
    let Some(total) = spent.checked_add(c.amount).filter(|t| *t <= limit) else {
        return revert(format!(
            "spend limit exceeded: spent {spent} + {} > limit {limit}",
            c.amount
        ));
    };
    store.store(spent_slot, total)?;
    let ev = ISessions::SpendRecorded {
        agentId: id,
        key,
        counterparty: c.counterparty,
        amount: c.amount,
        spent: total,
    };
    emit(store, SESSIONS, &ev)?;
    Ok(Outcome::Return(ISessions::recordSpendCall::abi_encode_returns(&(limit - total))))
}

fn dispatch(store: &mut Store<'_, '_>, call: Call, ctx: &Ctx) -> Result<Outcome, Stop> {
    if matches!(call, Call::open(_) | Call::close(_) | Call::recordSpend(_)) {
        check!(ctx.require_writable());
    }
    match call {
        Call::open(c) => open(store, ctx.caller, c),
        Call::close(c) => close(store, ctx.caller, c.agentId, c.key),
        Call::recordSpend(c) => record_spend(store, ctx.caller, c),
        Call::isValid(c) => {
            let valid = check_valid(store, c.agentId, c.key, c.counterparty)?.is_ok();
            Ok(Outcome::Return(ISessions::isValidCall::abi_encode_returns(&valid)))
        }
        Call::get(c) => match view::session(store, c.agentId, c.key)? {
            None => revert("no open session for this key"),
            Some(s) => {
                let s = Session {
                    key: s.key,
                    expiry: s.expiry,
                    spendLimit: s.spend_limit,
                    spent: s.spent,
                    counterparties: s.counterparties,
                };
                Ok(Outcome::Return(ISessions::getCall::abi_encode_returns(&s)))
            }
        },
        Call::list(c) => {
            let now = now(store);
            let owner = view::owner_word(store, c.agentId)?.map(|o| o.owner).unwrap_or_default();
            let tag = keys::owner_tag(owner);
            let mut live = Vec::new();
            for key in store.list(Kind::Sessions, c.agentId)? {
                let key = Address::from_word(key.into());
                if view::session_word(store, c.agentId, key)?
                    .is_some_and(|w| now <= w.expiry && w.owner_tag == tag)
                {
                    live.push(key);
                }
            }
            Ok(Outcome::Return(ISessions::listCall::abi_encode_returns(&live)))
        }
    }
}
