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

pub(super) async fn watchtower(shared: Arc<Shared>, l2: L2, interval: Duration) {
    let mut from = None;
    loop {
        let (s, l, f) = (shared.clone(), l2.clone(), from);
        match tokio::task::spawn_blocking(move || poll(&s, &l, f)).await {
            Ok(Ok(next)) => from = Some(next),
            Ok(Err(err)) => tracing::warn!(err = %format!("{err:#}"), "watchtower poll failed"),
            Err(err) => tracing::warn!(%err, "watchtower task failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// Scans blocks `from..=head` (the head alone on the first poll after start, plus the stored
/// channels' open disputes are caught by their events in later blocks); returns the next start.
fn poll(shared: &Shared, l2: &L2, from: Option<u64>) -> eyre::Result<u64> {
    let head = l2.block_number()?;
    let from = from.unwrap_or(0);
    if from > head {
        return Ok(from);
    }
    for log in l2.logs(shared.adjudicator, from, head)? {
        if let Some((id, version)) = disputed(&log) {
            shared.metrics.disputes_seen.fetch_add(1, Ordering::Relaxed);
            refute_if_stale(shared, l2, id, version)?;
        }
    }
    Ok(head + 1)
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
