//! `agnt2 bench channels`: co-signed, persisted channel updates through a real hub.
//!
//! Each pair is an agent with an ETH channel to the hub (opened on the rollup, so the hub checks
//! it against the adjudicator), paying the hub 1 wei per update with up to `window` proposals in
//! flight. An update counts when the hub has verified it, countersigned it, stored it durably
//! and the acknowledgement is back; its latency runs from signing the proposal to that moment.
//! All pairs run at once; `updates_per_s` is over all of them.

use agnt2_channels::{
    Key,
    client::{ChannelSide, HubClient},
    l2::{ChannelCalls, L2},
    wire::Msg,
};
use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail, eyre};
use serde::Serialize;
use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Instant,
};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Channels, each driven by its own agent.
    pub pairs: usize,
    /// Updates per channel.
    pub updates: u64,
    /// Proposals in flight per channel.
    pub window: usize,
    /// The rollup's RPC.
    pub l2_url: String,
    /// A running hub; otherwise one is started.
    pub hub: Option<SocketAddr>,
    /// The adjudicator; otherwise one is deployed from `artifacts`.
    pub adjudicator: Option<Address>,
    /// Foundry output with `Adjudicator.sol`.
    pub artifacts: PathBuf,
    /// The `agnt2-hub` binary to start.
    pub hub_bin: PathBuf,
    /// Key that pays for setup (deploy, funding).
    pub funder: PrivateKeySigner,
}

/// The result, one JSON object.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Channels.
    pub pairs: usize,
    /// Updates per channel.
    pub updates: u64,
    /// Proposals in flight per channel.
    pub window: usize,
    /// Updates over all channels per second.
    pub updates_per_s: f64,
    /// `updates_per_s / pairs`.
    pub per_pair_updates_per_s: f64,
    /// Median update latency (µs).
    pub p50_us: f64,
    /// 99th percentile update latency (µs).
    pub p99_us: f64,
    /// Wall time of the measured phase (s).
    pub secs: f64,
    /// Every channel's final co-signed state verified and equal to the hub's.
    pub verified: bool,
    /// The hub measured.
    pub hub: String,
}

/// A hub process of the benchmark's own, killed on drop.
struct OwnHub {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for OwnHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `agnt2-hub` on a free port and waits for its "listening" line.
pub fn spawn_hub(
    bin: &Path,
    l2: &str,
    adjudicator: Address,
    dir: &Path,
) -> eyre::Result<(Child, SocketAddr)> {
    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--no-ws", "--l2.rpc-url", l2, "--adjudicator"])
        .arg(adjudicator.to_string())
        .arg("--datadir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .wrap_err_with(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| eyre!("no stdout"))?;
    let mut line = String::new();
    let mut r = BufReader::new(stdout);
    r.read_line(&mut line)?;
    // What the hub logs later (warnings) goes to stderr; a closed pipe would fail its writes.
    std::thread::spawn(move || {
        for l in r.lines().map_while(Result::ok) {
            eprintln!("agnt2-hub: {l}");
        }
    });
    let addr = line
        .split_whitespace()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| eyre!("agnt2-hub did not start: {line:?}"));
    match addr {
        Ok(a) => Ok((child, a)),
        Err(e) => {
            let _ = child.kill();
            Err(e)
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    f64::from(sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

/// Runs the benchmark.
pub fn run(opts: Options) -> eyre::Result<Report> {
    if opts.pairs == 0 || opts.updates == 0 || opts.window == 0 {
        bail!("--pairs, --updates and --window must be at least 1");
    }
    let l2 = L2::new(&opts.l2_url)?;
    let adjudicator = match opts.adjudicator {
        Some(a) => a,
        None => {
            let code = crate::adjudicator_code(&opts.artifacts, 3600)?;
            l2.deploy(&opts.funder, code).wrap_err("deploying the adjudicator")?
        }
    };
    let own = match opts.hub {
        Some(_) => None,
        None => {
            let dir = tempfile::tempdir()?;
            let (child, addr) = spawn_hub(&opts.hub_bin, &opts.l2_url, adjudicator, dir.path())?;
            Some(OwnHub { child, addr, _dir: dir })
        }
    };
    let hub_addr = match (&opts.hub, &own) {
        (Some(a), _) => *a,
        (None, Some(h)) => h.addr,
        (None, None) => bail!("no hub"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;

    // The hub's address, then the channels on the rollup.
    let probe = Key::random();
    let hub_key = rt.block_on(HubClient::connect(hub_addr, &probe))?.hub();
    let agents: Vec<Key> = (0..opts.pairs).map(|_| Key::random()).collect();
    let deposit = U256::from(opts.updates) * U256::from(1_000u64);
    let channels = l2
        .open_channels(
            &opts.funder,
            adjudicator,
            hub_key,
            &agents,
            deposit + U256::from(10u64).pow(U256::from(16u64)),
            deposit,
            rand::random::<u64>(),
            3600,
        )
        .wrap_err("opening the channels on the rollup")?;

    rt.block_on(async move {
        // Every pair connects and registers, then all start together; a pair that fails to
        // get ready fails the run instead of leaving the others waiting.
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let (go_tx, go_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for (key, params) in agents.into_iter().zip(channels) {
            let ready = ready_tx.clone();
            let mut go = go_rx.clone();
            let (updates, window) = (opts.updates, opts.window);
            tasks.push(tokio::spawn(async move {
                let mut c = HubClient::connect(hub_addr, &key).await?;
                let deposits = [deposit, U256::ZERO];
                let latest = c.register(params, deposits).await?;
                let mut side = ChannelSide::new(params, deposits, key.address(), latest)?;
                let _ = ready.send(());
                drop(ready);
                go.wait_for(|g| *g).await?;
                let mut lat = Vec::with_capacity(updates as usize);
                let mut started = std::collections::VecDeque::with_capacity(window);
                let (mut sent, mut acked) = (0u64, 0u64);
                while acked < updates {
                    while sent < updates && side.in_flight() < window {
                        started.push_back(Instant::now());
                        c.send(side.propose(&key, U256::from(1), None, false)?)?;
                        sent += 1;
                    }
                    match c.recv().await? {
                        Msg::Accepted { version, sig, .. } => {
                            let t = started.pop_front().ok_or_else(|| eyre!("ack of nothing"))?;
                            lat.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                            side.accepted(version, sig)?;
                            acked += 1;
                            if acked % 64 == 0 {
                                side.verify()?;
                            }
                        }
                        other => bail!("hub answered {other:?}"),
                    }
                }
                side.verify()?;
                let hub_latest = c.latest(params.id()).await?;
                eyre::Ok((
                    lat,
                    hub_latest == *side.latest() && side.latest().state.version == updates,
                ))
            }));
        }
        drop(ready_tx);
        for _ in 0..opts.pairs {
            if ready_rx.recv().await.is_none() {
                // A pair ended before it was ready: report its error.
                for t in tasks {
                    t.await??;
                }
                bail!("a pair ended before it was ready");
            }
        }
        let _ = go_tx.send(true);
        let t0 = Instant::now();
        let mut all = Vec::new();
        let mut verified = true;
        for t in tasks {
            let (lat, ok) = t.await??;
            all.extend(lat);
            verified &= ok;
        }
        let secs = t0.elapsed().as_secs_f64();
        all.sort_unstable();
        let total = opts.updates as f64 * opts.pairs as f64;
        eyre::Ok(Report {
            pairs: opts.pairs,
            updates: opts.updates,
            window: opts.window,
            updates_per_s: total / secs,
            per_pair_updates_per_s: total / secs / opts.pairs as f64,
            p50_us: percentile(&all, 0.5),
            p99_us: percentile(&all, 0.99),
            secs,
            verified,
            hub: if own.is_some() { "started".into() } else { hub_addr.to_string() },
        })
    })
}
