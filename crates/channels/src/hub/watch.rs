//! The watchtower: polls the adjudicator's `Disputed` events and refutes any dispute whose state
//! is older than the latest co-signed state the hub stores.

use super::Shared;
use crate::{
    l2::{ChannelCalls, L2},
    state::Adjudicator,
};
use alloy_primitives::{B256, Bytes, LogData, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use serde_json::Value;
use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

/// Blocks asked for in one `eth_getLogs` (nodes cap the range of one query).
const CHUNK: u64 = 5_000;

/// Polls from `from` (the cursor the hub stored: a restarted hub resumes where it stopped, so a
/// dispute sent while it was down is still seen, and it does not rescan the chain), storing the
/// cursor as it advances.
pub(super) async fn watchtower(shared: Arc<Shared>, l2: L2, interval: Duration, from: Option<u64>) {
    let mut from = from.unwrap_or(0);
    loop {
        let (s, l) = (shared.clone(), l2.clone());
        match tokio::task::spawn_blocking(move || poll(&s, &l, from)).await {
            Ok(Ok(next)) if next > from => {
                from = next;
                shared.persist.submit(super::persist::Job {
                    write: crate::store::Write::WatchCursor(next),
                    entry: None,
                    then: Vec::new(),
                });
            }
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(err = %format!("{err:#}"), "watchtower poll failed"),
            Err(err) => tracing::warn!(%err, "watchtower task failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// Scans blocks `from..=head` in chunks, refuting stale disputes; returns the next block to scan
/// (after the last chunk that was scanned completely).
fn poll(shared: &Shared, l2: &L2, from: u64) -> eyre::Result<u64> {
    let head = l2.block_number()?;
    let mut next = from;
    while next <= head {
        let to = head.min(next.saturating_add(CHUNK - 1));
        for log in l2.logs(shared.adjudicator, next, to)? {
            if let Some((id, version)) = disputed(&log) {
                shared.metrics.disputes_seen.fetch_add(1, Ordering::Relaxed);
                refute_if_stale(shared, l2, id, version)?;
            }
        }
        shared.metrics.watched_blocks.fetch_add(to + 1 - next, Ordering::Relaxed);
        next = to + 1;
    }
    Ok(next)
}

fn disputed(log: &Value) -> Option<(B256, u64)> {
    let topics: Vec<B256> =
        log["topics"].as_array()?.iter().filter_map(|t| t.as_str()?.parse().ok()).collect();
    if topics.first() != Some(&Adjudicator::Disputed::SIGNATURE_HASH) {
        return None;
    }
    let data: Bytes = log["data"].as_str()?.parse().ok()?;
    let ev = Adjudicator::Disputed::decode_log_data(&LogData::new(topics, data)?).ok()?;
    Some((ev.channelId, ev.version))
}

fn refute_if_stale(shared: &Shared, l2: &L2, id: B256, version: u64) -> eyre::Result<()> {
    let Some(entry) = shared.entry(&id) else { return Ok(()) };
    let latest = entry.lock().latest.clone();
    let (Some(sig_a), Some(sig_b)) = (latest.sig_a, latest.sig_b) else { return Ok(()) };
    if latest.state.version <= version {
        return Ok(());
    }
    let onchain = l2.channel(shared.adjudicator, id)?;
    if onchain.status != crate::state::status::DISPUTED || onchain.version >= latest.state.version {
        return Ok(());
    }
    tracing::info!(%id, disputed = version, latest = latest.state.version, "refuting a stale dispute");
    let signer = PrivateKeySigner::from_bytes(&shared.key.secret_bytes())?;
    let call =
        Adjudicator::refuteCall { s: latest.state, sigA: sig_a.to_bytes(), sigB: sig_b.to_bytes() };
    l2.transact(&signer, Some(shared.adjudicator), U256::ZERO, call.abi_encode())?;
    shared.metrics.refutes_sent.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
