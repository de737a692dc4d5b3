//! Interactions as a precompile (at [`crate::INTERACTIONS`]): contracts attest that two agents
//! interacted — a channel adjudicator when a channel between them settles, with the volume that
//! moved — and anyone reads the record per attester.
//!
//! The attester is the caller: a record says "contract X saw agents A and B interact", and a
//! reader chooses which attesters it trusts (the Adjudicator it uses, say). Either agent may be
//! 0 (an unregistered counterparty), not both. Each record adds to the pair's count and volume
//! and to each named agent's totals with that attester.

use crate::{
    INTERACTIONS,
    keys::{self, InteractionWord, Kind},
    shell::{Ctx, Outcome, check, emit, revert, run},
    store::{Slots, Stop, Store},
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, sol};
use revm::precompile::PrecompileResult;

sol! {
    /// The Interactions ABI agnt2 serves natively.
    interface IInteractions {
        function record(uint256 agentA, uint256 agentB, uint256 volume) external;
        function get(address attester, uint256 agentA, uint256 agentB) external view returns (uint64 count, uint256 volume, uint64 lastBlock);
        function totals(address attester, uint256 agentId) external view returns (uint64 count, uint256 volume, uint64 lastBlock);

        event InteractionRecorded(address indexed attester, uint256 indexed agentA, uint256 indexed agentB, uint256 volume, uint64 count);
    }
}

use IInteractions::IInteractionsCalls as Call;

/// Entry point of the precompile.
pub(crate) fn call(input: PrecompileInput<'_>) -> PrecompileResult {
    run::<Call>(input, "Interactions", dispatch)
}

fn pair_subkey(attester: Address, agent_b: U256) -> Vec<u8> {
    keys::pair_subkey(attester, &agent_b.to_be_bytes::<32>())
}

/// Adds one interaction of `volume` to the counter at `word` / `volume_slot`; the new count.
fn add(
    store: &mut Store<'_, '_>,
    word: U256,
    volume_slot: U256,
    volume: U256,
    block: u64,
) -> Result<u64, Stop> {
    let mut w = InteractionWord::unpack(store.word(word)?);
    w.count = w.count.saturating_add(1);
    w.last_block = block;
    store.store(word, w.pack())?;
    let v = store.word(volume_slot)?.saturating_add(volume);
    store.store(volume_slot, v)?;
    Ok(w.count)
}

fn read<S: Slots>(
    s: &mut S,
    word: U256,
    volume_slot: U256,
) -> Result<(InteractionWord, U256), S::Error> {
    Ok((InteractionWord::unpack(s.word(word)?), s.word(volume_slot)?))
}

fn dispatch(store: &mut Store<'_, '_>, call: Call, ctx: &Ctx) -> Result<Outcome, Stop> {
    match call {
        Call::record(c) => {
            check!(ctx.require_writable());
            if c.agentA.is_zero() && c.agentB.is_zero() {
                return revert("no agent named");
            }
            let block: u64 = store.internals.block_number().saturating_to();
            let sub = pair_subkey(ctx.caller, c.agentB);
            let count = add(
                store,
                keys::slot(Kind::Interaction, c.agentA, &sub),
                keys::slot(Kind::InteractionVolume, c.agentA, &sub),
                c.volume,
                block,
            )?;
            for agent in [c.agentA, c.agentB] {
                if agent.is_zero() || (agent == c.agentB && c.agentA == c.agentB) {
                    continue;
                }
                let sub = ctx.caller.as_slice();
                add(
                    store,
                    keys::slot(Kind::InteractionTotal, agent, sub),
                    keys::slot(Kind::InteractionTotalVolume, agent, sub),
                    c.volume,
                    block,
                )?;
            }
            let ev = IInteractions::InteractionRecorded {
                attester: ctx.caller,
                agentA: c.agentA,
                agentB: c.agentB,
                volume: c.volume,
                count,
            };
            emit(store, INTERACTIONS, &ev)?;
            Ok(Outcome::Return(vec![]))
        }
        Call::get(c) => {
            let sub = pair_subkey(c.attester, c.agentB);
            let (w, v) = read(
                store,
                keys::slot(Kind::Interaction, c.agentA, &sub),
                keys::slot(Kind::InteractionVolume, c.agentA, &sub),
            )?;
            let ret =
                IInteractions::getReturn { count: w.count, volume: v, lastBlock: w.last_block };
            Ok(Outcome::Return(IInteractions::getCall::abi_encode_returns(&ret)))
        }
        Call::totals(c) => {
            let sub = c.attester.as_slice();
            let (w, v) = read(
                store,
                keys::slot(Kind::InteractionTotal, c.agentId, sub),
                keys::slot(Kind::InteractionTotalVolume, c.agentId, sub),
            )?;
            let ret =
                IInteractions::totalsReturn { count: w.count, volume: v, lastBlock: w.last_block };
            Ok(Outcome::Return(IInteractions::totalsCall::abi_encode_returns(&ret)))
        }
    }
}
