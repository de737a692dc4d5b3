//! Paying a duty's units over a channel: no transaction per unit.
//!
//! The funder opens a channel to the operator's owner on the Adjudicator (its deposit is the
//! duty's money, locked where the operator can always settle its latest co-signed state) and,
//! as each epoch finishes, asks the duty's own verifier what the probes say — the same call
//! the board makes, answered by `eth_call` as the board, so nothing is written — then proposes
//! one co-signed update through the hub: `rate` more to the operator for an epoch done,
//! nothing for one missed. Every state's app data records how far the duty is settled
//! ([`settled`]: the duty id and the first epoch not yet settled), so the latest co-signed state
//! is itself the record of what was paid, for the operator's dispute and for paid feedback.
//!
//! The operator ([`receive`]) countersigns what the hub relays as long as it only pays it and
//! settles the same duty forward; a funder that stops paying costs the operator at most the
//! epoch it is in, since it stops serving.

use crate::{Board, IDutyBoard, SignedProbe, evidence};
use agnt2_channels::{
    Key,
    client::{ChannelSide, HubClient},
    l2::ChannelCalls,
    wire::Msg,
};
use alloy_primitives::{Address, B256, U256};
use eyre::{bail, eyre};
use std::time::Duration;

#[allow(missing_docs)]
mod bindings {
    alloy_sol_types::sol! {
        /// What a board asks a duty's verifier (`contracts/src/economy/IDutyVerifier.sol`).
        interface IDutyVerifier {
            function unitsDone(uint256 dutyId, uint256 operatorAgentId, uint256 funderAgentId, uint64 from, uint64 to, bytes evidence) external returns (uint64 done);
            function unitsMissed(uint256 dutyId, uint256 operatorAgentId, uint256 funderAgentId, uint64 from, uint64 to, bytes evidence) external returns (uint64 missed);
        }
    }
}
pub use bindings::IDutyVerifier;

/// The app data of a duty's channel states: the duty id in the high 24 bytes, the first epoch
/// not yet settled in the low 8 (big-endian). Duty ids past 2¹⁹² are refused.
pub fn settled(duty: U256, through: u64) -> eyre::Result<B256> {
    if duty.bit_len() > 192 {
        bail!("duty id {duty} does not fit the channel's app data");
    }
    let mut out: [u8; 32] = (duty << 64usize).to_be_bytes();
    out[24..].copy_from_slice(&through.to_be_bytes());
    Ok(out.into())
}

/// [`settled`]'s inverse: (duty id, first epoch not settled).
pub fn parse_settled(data: B256) -> (U256, u64) {
    let duty = U256::from_be_bytes(data.0) >> 64;
    let mut low = [0u8; 8];
    low.copy_from_slice(&data[24..]);
    (duty, u64::from_be_bytes(low))
}

/// What the probes at hand say about one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A quorum says the operator served it.
    Done,
    /// A quorum says it was down.
    Missed,
    /// Not enough probes either way (yet).
    Undecided,
}

impl Board {
    /// The duty's verifier on `epoch`, given `probes` (those of other epochs or duties are left
    /// out): asked as the board asks it, with `eth_call` from the board's address.
    pub fn verdict(
        &self,
        duty_id: U256,
        duty: &IDutyBoard::Duty,
        epoch: u64,
        probes: &[SignedProbe],
    ) -> eyre::Result<Verdict> {
        let mine: Vec<SignedProbe> = probes
            .iter()
            .filter(|p| p.probe.dutyId == duty_id && p.probe.epoch == epoch)
            .cloned()
            .collect();
        if mine.is_empty() {
            return Ok(Verdict::Undecided);
        }
        let ev = evidence(mine)?;
        let (op, funder) = (duty.operatorAgentId, duty.funderAgentId);
        let (from, to) = (epoch, epoch + 1);
        let done = IDutyVerifier::unitsDoneCall {
            dutyId: duty_id,
            operatorAgentId: op,
            funderAgentId: funder,
            from,
            to,
            evidence: ev.clone(),
        };
        if self.l2().view_as(self.address(), duty.verifier, &done)? == 1 {
            return Ok(Verdict::Done);
        }
        let missed = IDutyVerifier::unitsMissedCall {
            dutyId: duty_id,
            operatorAgentId: op,
            funderAgentId: funder,
            from,
            to,
            evidence: ev,
        };
        Ok(if self.l2().view_as(self.address(), duty.verifier, &missed)? == 1 {
            Verdict::Missed
        } else {
            Verdict::Undecided
        })
    }
}

/// Where [`pay_epochs`] starts and how long it waits.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Epochs before this one are settled unpaid.
    pub start: u64,
    /// How long the operator gets to countersign an update.
    pub answer_within: Duration,
}

/// One epoch settled over the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochSettled {
    /// The epoch.
    pub epoch: u64,
    /// What the probes said (never `Undecided`: settling stops there).
    pub verdict: Verdict,
    /// Wei paid for it.
    pub amount: U256,
    /// The co-signed state's version.
    pub version: u64,
}

/// The funder's side: settles every finished epoch of `duty_id` from the one the channel's
/// latest state names up to the first the probes do not decide, one co-signed update each
/// through `hub` (the operator countersigns). `side` is the funder's side of a channel to the
/// operator agent's owner; on return its latest state is the newest co-signed one. Epochs
/// before `pace.start` are settled unpaid (the first update moves the record past them: epochs nobody
/// probed would otherwise hold every later one back). An update
/// the operator does not countersign within `pace.answer_within` is an error.
pub async fn pay_epochs(
    board: &Board,
    duty_id: U256,
    side: &mut ChannelSide,
    hub: &mut HubClient,
    key: &Key,
    probes: &[SignedProbe],
    Pace { start, answer_within }: Pace,
) -> eyre::Result<Vec<EpochSettled>> {
    let duty = board.duty(duty_id)?;
    let operator = board.l2().agent_owner(duty.operatorAgentId)?;
    let payee = side.params().participant(side.side().other());
    if operator != payee {
        bail!(
            "the channel pays {payee}, but duty {duty_id}'s operator agent is owned by {operator}"
        );
    }
    let mut from = channel_progress(side.latest().state.appData, duty_id)?.max(start);
    let current = board.current_unit(duty_id)?;
    let mut out = Vec::new();
    while from < current {
        let verdict = board.verdict(duty_id, &duty, from, probes)?;
        let amount = match verdict {
            Verdict::Done => duty.ratePerUnit,
            Verdict::Missed => U256::ZERO,
            Verdict::Undecided => break,
        };
        let msg = side
            .propose(key, amount, Some(settled(duty_id, from + 1)?), false)
            .map_err(|e| eyre!("cannot pay epoch {from}: {e}"))?;
        hub.send(msg)?;
        let version = loop {
            let answer = tokio::time::timeout(answer_within, hub.recv()).await.map_err(|_| {
                eyre!(
                    "the operator did not countersign epoch {from} within {answer_within:?} \
                     (is it connected to the hub, running `agnt2 duty receive`?)"
                )
            })?;
            match answer? {
                Msg::Accepted { version, sig, .. } => {
                    side.accepted(version, sig)?;
                    side.verify()?;
                    break version;
                }
                Msg::Reject { version, reason, .. } => {
                    side.rejected(version);
                    bail!("epoch {from} (version {version}) refused: {reason}");
                }
                Msg::Ping { .. } | Msg::Pong { .. } => {}
                other => bail!("unexpected message from the hub: {other:?}"),
            }
        };
        out.push(EpochSettled { epoch: from, verdict, amount, version });
        from += 1;
    }
    Ok(out)
}

/// The first unsettled epoch a channel state's app data names for `duty_id` (0 on a fresh
/// channel); an error when the channel carries another duty.
pub fn channel_progress(app_data: B256, duty_id: U256) -> eyre::Result<u64> {
    if app_data.is_zero() {
        return Ok(0);
    }
    let (duty, through) = parse_settled(app_data);
    if duty != duty_id {
        bail!("this channel settles duty {duty}, not {duty_id}");
    }
    Ok(through)
}

/// A payment the operator countersigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The co-signed state's version.
    pub version: u64,
    /// The first epoch not settled after it.
    pub through: u64,
    /// What this state paid.
    pub amount: U256,
    /// What the channel has paid the operator in all.
    pub total: U256,
}

/// Why the operator refuses a relayed proposal, if it does: it must settle `duty_id` (no other
/// duty, never backwards) and may only pay the operator (the transition check of
/// [`ChannelSide::countersign`] holds the rest).
pub fn refuse(current: B256, next: B256, duty_id: U256) -> Option<String> {
    let from = match channel_progress(current, duty_id) {
        Ok(f) => f,
        Err(e) => return Some(format!("{e}")),
    };
    match channel_progress(next, duty_id) {
        Err(e) => Some(format!("{e}")),
        Ok(to) if to < from => Some(format!("settles duty {duty_id} back from {from} to {to}")),
        Ok(_) => None,
    }
}

/// The operator's side: countersigns the payments the hub relays for `duty_id` until
/// `until_epoch` is settled (or forever with `None`), calling `on` after each. Proposals that
/// name another duty, move backwards or take from the operator are refused.
pub async fn receive(
    side: &mut ChannelSide,
    hub: &mut HubClient,
    key: &Key,
    duty_id: U256,
    until_epoch: Option<u64>,
    mut on: impl FnMut(&ChannelSide, &Received) -> eyre::Result<()>,
) -> eyre::Result<()> {
    let me = side.side();
    let sent = |s: &agnt2_channels::State| match me {
        agnt2_channels::Side::A => s.sentB,
        agnt2_channels::Side::B => s.sentA,
    };
    loop {
        if let Some(u) = until_epoch
            && channel_progress(side.latest().state.appData, duty_id)? > u
        {
            // The hub answers in order: once it answers this, it has the last countersignature
            // (the writer would otherwise be dropped with it still queued).
            hub.latest(side.params().id()).await?;
            return Ok(());
        }
        match hub.recv().await? {
            Msg::Propose { state, sig } => {
                let before = side.head().clone();
                let version = state.version;
                let channel_id = state.channelId;
                if let Some(reason) = refuse(before.appData, state.appData, duty_id) {
                    hub.send(Msg::Reject { channel_id, version, reason })?;
                    continue;
                }
                let through = channel_progress(state.appData, duty_id)?;
                // Saturating: a proposal that lowers what it paid is refused by the transition
                // check below, and must not be able to panic here first.
                let (paid, total) = (sent(&state).saturating_sub(sent(&before)), sent(&state));
                match side.countersign(key, state, sig) {
                    Ok(accept) => {
                        hub.send(accept)?;
                        on(side, &Received { version, through, amount: paid, total })?;
                    }
                    Err(reason) => hub.send(Msg::Reject { channel_id, version, reason })?,
                }
            }
            Msg::Ping { .. } | Msg::Pong { .. } | Msg::Latest { .. } | Msg::Registered { .. } => {}
            Msg::Error { message } => bail!("the hub: {message}"),
            _ => {}
        }
    }
}

/// The channel's counterparty must be `expected` (the funder, when receiving).
pub fn check_counterparty(side: &ChannelSide, expected: Address) -> eyre::Result<()> {
    let other = side.params().participant(side.side().other());
    if other != expected {
        bail!("the channel's other side is {other}, not {expected}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_data_round_trips_and_refuses_what_does_not_fit() {
        let d = settled(U256::from(7), 42).unwrap();
        assert_eq!(parse_settled(d), (U256::from(7), 42));
        assert_eq!(d[31], 42);
        assert_eq!(d[23], 7);
        assert!(settled(U256::MAX, 0).is_err());
        let max = (U256::from(1) << 192) - U256::from(1);
        assert_eq!(parse_settled(settled(max, u64::MAX).unwrap()), (max, u64::MAX));
    }

    #[test]
    fn the_operator_refuses_other_duties_and_going_back() {
        let one = U256::from(1);
        let s = |d: u64, t| settled(U256::from(d), t).unwrap();
        assert_eq!(refuse(B256::ZERO, s(1, 1), one), None);
        assert_eq!(refuse(s(1, 3), s(1, 4), one), None);
        assert_eq!(refuse(s(1, 3), s(1, 3), one), None);
        assert!(refuse(s(1, 3), s(1, 2), one).unwrap().contains("back"));
        assert!(refuse(s(1, 3), s(2, 4), one).unwrap().contains("duty 2"));
        assert!(refuse(B256::ZERO, B256::repeat_byte(0xff), one).is_some());
        assert_eq!(channel_progress(B256::ZERO, one).unwrap(), 0);
    }
}
