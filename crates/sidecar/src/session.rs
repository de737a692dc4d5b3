//! Running on a session key of the service's agent: the owner and the session are checked at
//! start, then watched, so that the sidecar stops taking payments once the owner ends the
//! session (closes it, lets it expire or sells the agent). What the key countersigned before
//! still counts on chain: it is admitted to each channel (`Adjudicator.admit`) while valid.

use crate::payee::Payee;
use agnt2_channels::l2::{ChannelCalls, L2};
use eyre::{WrapErr, eyre};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;

/// Seconds since the Unix epoch (0 before it).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The owner of `agent` and the expiry of `key`'s session, after checking that the session is
/// valid.
pub(crate) async fn owner_and_expiry(
    l2_url: &str,
    agent: alloy_primitives::U256,
    key: alloy_primitives::Address,
) -> eyre::Result<(alloy_primitives::Address, u64)> {
    let url = l2_url.to_string();
    tokio::task::spawn_blocking(move || {
        let l2 = L2::new(&url)?;
        let owner = l2
            .agent_owner(agent)
            .wrap_err_with(|| format!("reading the owner of agent {agent} (is it registered?)"))?;
        if !l2.session_valid(agent, key, alloy_primitives::Address::ZERO)? {
            return Err(eyre!(
                "{key} holds no valid session of agent {agent}: its owner {owner} opens one with \
                 the Sessions precompile (0x0000000000000000000000000000000000008008 \
                 open(agentId, key, expiry, spendLimit, counterparties))"
            ));
        }
        Ok((owner, l2.session_expiry(agent, key)?))
    })
    .await?
}

/// How often the sidecar asks the rollup whether its session key still holds.
const SESSION_CHECK: Duration = Duration::from_secs(5);

/// Keeps the payee's view of its session key current: closed by the owner, the agent sold, the
/// expiry moved (a reopened session). Warns while the expiry is near: after it the key takes no
/// more payments (the hub no longer authenticates it either).
pub(crate) async fn watch(
    payee: Arc<Payee>,
    l2_url: String,
    agent: alloy_primitives::U256,
    owner: alloy_primitives::Address,
    key: alloy_primitives::Address,
    mut stop: watch::Receiver<bool>,
) {
    // One client (one connection pool) for every check, made on the first one.
    let client = Arc::new(std::sync::OnceLock::<L2>::new());
    loop {
        tokio::select! {
            () = tokio::time::sleep(SESSION_CHECK) => {}
            _ = stop.changed() => return,
        }
        let (url, client) = (l2_url.clone(), client.clone());
        let read = tokio::task::spawn_blocking(move || {
            let l2 = match client.get() {
                Some(c) => c,
                None => {
                    let c = L2::new(&url)?;
                    client.get_or_init(|| c)
                }
            };
            let valid = l2.agent_owner(agent)? == owner
                && l2.session_valid(agent, key, alloy_primitives::Address::ZERO)?;
            // A closed session has no expiry to read.
            let expiry = if valid { l2.session_expiry(agent, key)? } else { 0 };
            eyre::Ok((valid, expiry))
        })
        .await;
        match read {
            Ok(Ok((valid, expiry))) => {
                payee.set_session(valid, expiry);
                let now = unix_now();
                if !valid {
                    tracing::warn!(%agent, %key, "the session key is no longer valid; payments refused");
                } else if expiry.saturating_sub(now) < 600 {
                    tracing::warn!(
                        %agent, %key, expiry, "the session key expires soon: it takes no payments \
                        after that (extend the session)"
                    );
                }
            }
            // The rollup is unreachable: keep the last view (the expiry still applies).
            Ok(Err(e)) => tracing::warn!(err = %format!("{e:#}"), "checking the session key"),
            Err(e) => tracing::warn!(%e, "checking the session key"),
        }
    }
}
