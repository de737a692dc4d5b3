//! `agnt2 duty stream` and `agnt2 duty receive`: a duty's epochs paid over a channel through
//! the hub — the funder settles each finished epoch the probes decide, the operator
//! countersigns — with no transaction per epoch (agnt2-economy's `stream`).

use crate::channel::{Saved, attach};
use agnt2_channels::{Key, SignedState, l2::ChannelCalls};
use agnt2_client::Client;
use agnt2_economy::{
    Board, SignedProbe,
    stream::{self, Verdict},
};
use alloy_primitives::{Address, B256, U256};
use clap::Args;
use eyre::WrapErr;
use serde_json::json;
use std::{net::SocketAddr, path::PathBuf};

/// Where the channel lives: the hub and the local state files (`agnt2 channel`'s).
#[derive(Debug, Args)]
pub(crate) struct ChannelFlags {
    /// The hub's binary protocol address.
    #[arg(long, default_value = "127.0.0.1:9545")]
    hub: SocketAddr,
    /// Where channel states are kept (shared with `agnt2 channel`, which can close or dispute
    /// what this writes).
    #[arg(long = "state-dir", default_value = ".agnt2/channels")]
    state_dir: PathBuf,
    /// Seconds the counterparty gets to countersign an update.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

impl ChannelFlags {
    fn answer_within(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout.max(1))
    }
}

fn channel_key(signer: &alloy_signer_local::PrivateKeySigner) -> eyre::Result<Key> {
    Ok(Key::from_bytes(&signer.to_bytes())?)
}

fn rt() -> eyre::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// The funder's side: settles the finished epochs the probes decide over `channel`.
pub(crate) fn stream(
    board: Board,
    signer: &alloy_signer_local::PrivateKeySigner,
    duty: U256,
    channel: B256,
    probes: &[SignedProbe],
    start: u64,
    flags: &ChannelFlags,
) -> eyre::Result<()> {
    let key = channel_key(signer)?;
    let saved = Saved::load(&flags.state_dir, &channel)?;
    rt()?.block_on(async {
        let (mut saved, mut hub, mut side) = attach(flags.hub, board.l2(), saved, &key).await?;
        let result = stream::pay_epochs(
            &board,
            duty,
            &mut side,
            &mut hub,
            &key,
            probes,
            stream::Pace { start, answer_within: flags.answer_within() },
        )
        .await;
        // What was co-signed before a failure is kept.
        saved.latest = side.latest().clone();
        saved.save(&flags.state_dir)?;
        let settled = result?;
        let mut paid = U256::ZERO;
        for s in &settled {
            paid += s.amount;
            println!(
                "{}",
                json!({
                    "epoch": s.epoch,
                    "verdict": verdict(s.verdict),
                    "paid": s.amount.to_string(),
                    "version": s.version,
                })
            );
        }
        let through = stream::channel_progress(side.latest().state.appData, duty)?;
        println!(
            "{}",
            json!({
                "duty": duty.to_string(),
                "channel": channel,
                "epochs": settled.len(),
                "paid": paid.to_string(),
                "settledThrough": through,
                "version": side.latest().state.version,
            })
        );
        Ok(())
    })
}

const fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Done => "done",
        Verdict::Missed => "missed",
        Verdict::Undecided => "undecided",
    }
}

/// The operator's side: countersigns the funder's payments for `duty` over `channel` until
/// `until` is settled, saving each co-signed state.
pub(crate) fn receive(
    board: Board,
    signer: &alloy_signer_local::PrivateKeySigner,
    duty: U256,
    (adjudicator, channel): (Address, B256),
    until: Option<u64>,
    flags: &ChannelFlags,
) -> eyre::Result<()> {
    let key = channel_key(signer)?;
    let l2: &Client = board.l2();
    let funder = board.duty(duty)?.funder;
    let saved = if Saved::path(&flags.state_dir, &channel).exists() {
        Saved::load(&flags.state_dir, &channel)?
    } else {
        {
            let params = l2
                .opened(adjudicator, channel)
                .wrap_err_with(|| format!("reading channel {channel} on {adjudicator}"))?;
            Saved { params, deposits: [U256::ZERO; 2], latest: SignedState::opening(&params) }
        }
    };
    rt()?.block_on(async {
        let (saved, mut hub, mut side) = attach(flags.hub, l2, saved, &key).await?;
        stream::check_counterparty(&side, funder)?;
        saved.save(&flags.state_dir)?;
        println!("{}", json!({ "listening": channel, "duty": duty.to_string() }));
        let dir = flags.state_dir.clone();
        let mut saved = saved;
        stream::receive(&mut side, &mut hub, &key, duty, until, |side, r| {
            saved.latest = side.latest().clone();
            saved.save(&dir)?;
            println!(
                "{}",
                json!({
                    "version": r.version,
                    "settledThrough": r.through,
                    "paid": r.amount.to_string(),
                    "total": r.total.to_string(),
                })
            );
            Ok(())
        })
        .await
    })
}
