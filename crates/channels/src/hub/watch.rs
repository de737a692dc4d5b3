//! The watchtower: follows the adjudicator's `Disputed`, `Refuted` and `Concluded` events and,
//! while a dispute's window is open, refutes it whenever the hub holds a newer co-signed state
//! than the one on chain (again if a newer one arrives during the window).
//!
//! Each dispute is handled on its own: a refute that fails (a dispute that cannot be refuted any
//! more, a state whose session was closed, the hub out of gas) is logged, counted in
//! `agnt2_hub_refute_failures_total` and retried at the next poll until its window closes; it
//! never stops the scan, whose cursor moves on.

use super::{OnChain, Shared};
use crate::{
    l2::{ChannelCalls, L2},
    state::Adjudicator,
};
use alloy_primitives::{B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use std::{collections::HashMap, sync::Arc, time::Duration};

/// Blocks asked for in one `eth_getLogs` (nodes cap the range of one query).
const CHUNK: u64 = 5_000;
/// Below this balance (wei) the hub warns that it may not afford its refutes (0.01 ETH: about a
/// hundred refutes at 1 gwei).
const LOW_BALANCE: u128 = 10_000_000_000_000_000;
/// Polls between two reads of the hub's balance.
const BALANCE_EVERY: u64 = 20;

/// Open disputes: channel → end of its window (unix seconds).
type Open = HashMap<B256, u64>;

/// Polls from `from` (the cursor the hub stored: a restarted hub resumes where it stopped, so a
/// dispute sent while it was down is still seen, and it does not rescan the chain), storing the
/// cursor as it advances. Disputes that were open when the hub stopped are found again from the
/// channels it holds.
pub(super) async fn watchtower(shared: Arc<Shared>, l2: L2, interval: Duration, from: Option<u64>) {
    let mut from = from.unwrap_or(0);
    let mut open = Open::new();
    if !shared.channels.lock().is_empty() {
        let (s, l) = (shared.clone(), l2.clone());
        match tokio::task::spawn_blocking(move || reopen(&s, &l)).await {
            Ok(Ok(found)) => open = found,
            Ok(Err(err)) => tracing::warn!(err = %format!("{err:#}"), "reading open disputes"),
            Err(err) => tracing::warn!(%err, "watchtower task failed"),
        }
    }
    let mut polls = 0u64;
    loop {
        let (s, l) = (shared.clone(), l2.clone());
        let balance = polls.is_multiple_of(BALANCE_EVERY);
        polls += 1;
        let result = tokio::task::spawn_blocking(move || {
            let next = poll(&s, &l, from, &mut open);
            (next, open, balance.then(|| check_balance(&s, &l)))
        })
        .await;
        match result {
            Ok((next, back, _)) => {
                open = back;
                match next {
                    Ok(next) if next > from => {
                        from = next;
                        shared.persist.submit(super::persist::Job {
                            write: crate::store::Write::WatchCursor(next),
                            entry: None,
                            then: Vec::new(),
                        });
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(err = %format!("{err:#}"), "watchtower poll failed");
                    }
                }
            }
            Err(err) => {
                tracing::warn!(%err, "watchtower task failed");
                open = Open::new();
            }
        }
        shared.metrics.disputes_open.set(open.len() as f64);
        tokio::time::sleep(interval).await;
    }
}

/// Scans blocks `from..=head` for the adjudicator's events, then tends every open dispute;
/// returns the next block to scan (after the last chunk that was scanned completely).
fn poll(shared: &Shared, l2: &L2, from: u64, open: &mut Open) -> eyre::Result<u64> {
    let head = l2.block_number()?;
    let mut next = from;
    while next <= head {
        let to = head.min(next.saturating_add(CHUNK - 1));
        let logs = match l2.logs(shared.adjudicator, next, to) {
            Ok(logs) => logs,
            // Tend what is open before reporting: a node that fails log queries must not keep
            // refutes from going out.
            Err(err) => {
                tend(shared, l2, open);
                return Err(err);
            }
        };
        for log in &logs {
            match event(log) {
                Some(Event::Disputed { id, end }) => {
                    shared.metrics.disputes_seen.increment(1);
                    if let Some(entry) = shared.entry(&id) {
                        mark(&entry, OnChain::Disputed);
                        open.insert(id, end);
                    }
                }
                Some(Event::Concluded(id)) => {
                    if let Some(entry) = shared.entry(&id) {
                        mark(&entry, OnChain::Concluded);
                    }
                    open.remove(&id);
                }
                None => {}
            }
        }
        shared.metrics.watched_blocks.increment(to + 1 - next);
        next = to + 1;
    }
    tend(shared, l2, open);
    Ok(next)
}

/// Refutes each open dispute the hub can beat; drops those whose window has passed or that
/// concluded. Failures are counted and retried at the next poll.
fn tend(shared: &Shared, l2: &L2, open: &mut Open) {
    if open.is_empty() {
        return;
    }
    let now = match l2.latest_timestamp() {
        Ok(t) => t,
        Err(err) => {
            tracing::warn!(err = %format!("{err:#}"), "reading the rollup's time");
            return;
        }
    };
    open.retain(|id, end| {
        if now >= *end {
            tracing::info!(%id, "dispute window closed");
            return false;
        }
        match refute_if_stale(shared, l2, *id) {
            Ok(still_open) => still_open,
            Err(err) => {
                shared.metrics.refute_failures.increment(1);
                tracing::warn!(%id, err = %format!("{err:#}"), "refute failed; retrying while the window is open");
                true
            }
        }
    });
}

enum Event {
    Disputed { id: B256, end: u64 },
    Concluded(B256),
}

fn event(log: &alloy_rpc_types_eth::Log) -> Option<Event> {
    let first = *log.topics().first()?;
    let log = &log.inner.data;
    if first == Adjudicator::Disputed::SIGNATURE_HASH {
        let ev = Adjudicator::Disputed::decode_log_data(log).ok()?;
        Some(Event::Disputed { id: ev.channelId, end: ev.disputeEnd })
    } else if first == Adjudicator::Concluded::SIGNATURE_HASH {
        let ev = Adjudicator::Concluded::decode_log_data(log).ok()?;
        Some(Event::Concluded(ev.channelId))
    } else {
        None
    }
}

/// Refutes channel `id` when the hub holds a co-signed state newer than the one on chain.
/// Returns whether the dispute is still open.
fn refute_if_stale(shared: &Shared, l2: &L2, id: B256) -> eyre::Result<bool> {
    let Some(entry) = shared.entry(&id) else { return Ok(false) };
    let onchain = l2.channel(shared.adjudicator, id)?;
    if onchain.status != crate::state::status::DISPUTED {
        return Ok(false);
    }
    let latest = entry.lock().latest.clone();
    let (Some(sig_a), Some(sig_b)) = (latest.sig_a, latest.sig_b) else { return Ok(true) };
    if onchain.version >= latest.state.version {
        return Ok(true);
    }
    tracing::info!(%id, disputed = onchain.version, latest = latest.state.version, "refuting a stale dispute");
    let signer = PrivateKeySigner::from_bytes(&shared.key.secret_bytes())?;
    let call =
        Adjudicator::refuteCall { s: latest.state, sigA: sig_a.to_bytes(), sigB: sig_b.to_bytes() };
    l2.transact(&signer, Some(shared.adjudicator), U256::ZERO, call.abi_encode())?;
    shared.metrics.refutes_sent.increment(1);
    Ok(true)
}

/// Records what the chain says of a channel: new states are refused once it is not open.
fn mark(entry: &parking_lot::Mutex<super::Entry>, status: OnChain) {
    let mut e = entry.lock();
    // Concluded is final.
    if e.onchain != OnChain::Concluded {
        e.onchain = status;
    }
}

/// After a restart: the on-chain status of the channels the hub holds, and those disputed
/// with their window still open (a dispute seen before the stop is behind the stored cursor).
fn reopen(shared: &Shared, l2: &L2) -> eyre::Result<Open> {
    let entries: Vec<(B256, Arc<parking_lot::Mutex<super::Entry>>)> =
        shared.channels.lock().iter().map(|(id, e)| (*id, e.clone())).collect();
    let mut open = Open::new();
    for (id, entry) in entries {
        let ch = l2.channel(shared.adjudicator, id)?;
        match ch.status {
            crate::state::status::DISPUTED => {
                mark(&entry, OnChain::Disputed);
                open.insert(id, ch.disputeEnd);
            }
            crate::state::status::OPEN => {}
            _ => mark(&entry, OnChain::Concluded),
        }
    }
    Ok(open)
}

/// Records the hub's balance and warns early when it runs low: refutes cost gas.
fn check_balance(shared: &Shared, l2: &L2) {
    let me = shared.key.address();
    match l2.balance(me) {
        Ok(b) => {
            let gwei = b / U256::from(1_000_000_000u64);
            shared.metrics.balance_gwei.set(gwei.saturating_to::<u64>() as f64);
            if b < U256::from(LOW_BALANCE) {
                tracing::warn!(hub = %me, balance_wei = %b, "the hub's balance is low: it may not afford refutes; fund it");
            }
        }
        Err(err) => tracing::warn!(err = %format!("{err:#}"), "reading the hub's balance"),
    }
}
