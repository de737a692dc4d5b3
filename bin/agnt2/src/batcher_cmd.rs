//! `agnt2 batcher`: the batcher as its own process (op-batcher's place), reading the chain from
//! an L2 node's JSON-RPC and posting to the L1 from SystemConfig's batcher key. The sequencer
//! then runs with `--no-batcher`.

use crate::launch::{BatcherFlags, unlock};
use agnt2_client::Client;
use agnt2_node::{Batcher, BatcherConfig, BlockSource, RpcSource};
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail, eyre};
use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// Options of `agnt2 batcher`.
#[derive(Debug, clap::Args)]
pub(crate) struct BatcherArgs {
    /// The rollup's `rollup.json` (written by `agnt2 launch` into its datadir): the inbox, the
    /// authorised batcher, the chain's span batch parameters.
    #[arg(long = "rollup.config", value_name = "FILE")]
    rollup_config: PathBuf,
    /// The L2 node whose blocks are posted (the sequencer, or a node following it).
    #[arg(long = "l2.rpc-url", value_name = "URL")]
    l2_rpc_url: String,
    /// The L1's JSON-RPC.
    #[arg(long = "l1.rpc-url", value_name = "URL")]
    l1_rpc_url: String,
    /// The batcher key (SystemConfig's batcher).
    #[arg(
        long = "batcher.key",
        env = "AGNT2_BATCHER_KEY",
        hide_env_values = true,
        conflicts_with = "keystore"
    )]
    key: Option<String>,
    /// The batcher key from an encrypted keystore, unlocked with --password-file.
    #[arg(long, value_name = "FILE", requires = "password_file")]
    keystore: Option<PathBuf>,
    /// The file whose first line is the keystore's password.
    #[arg(long = "password-file", value_name = "FILE", requires = "keystore")]
    password_file: Option<PathBuf>,
    /// Where the batcher keeps its state (`batcher.json`: the next block to post and the
    /// channels not yet final on the L1).
    #[arg(long, value_name = "DIR")]
    datadir: PathBuf,
    #[command(flatten)]
    batcher: BatcherFlags,
    /// The most L2 blocks one channel carries.
    #[arg(long = "batcher.max-blocks", value_name = "N", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_blocks: u64,
    /// Milliseconds between rounds (a channel per round when there are new blocks).
    #[arg(long = "poll-interval", value_name = "MS", default_value_t = 1000)]
    poll_ms: u64,
    /// Serve Prometheus metrics on ADDR:PORT (the `agnt2_batcher_*` series).
    #[arg(long = "metrics", value_name = "ADDR:PORT")]
    metrics: Option<SocketAddr>,
}

impl BatcherArgs {
    fn key(&self) -> eyre::Result<PrivateKeySigner> {
        match (&self.key, &self.keystore, &self.password_file) {
            (Some(k), _, _) => k.trim().parse().map_err(|e| eyre!("--batcher.key: {e}")),
            (None, Some(file), Some(pw)) => unlock(file, pw),
            _ => bail!(
                "give --batcher.key (or AGNT2_BATCHER_KEY) or --keystore with --password-file"
            ),
        }
    }
}

pub(crate) async fn run(args: BatcherArgs) -> eyre::Result<()> {
    let path = &args.rollup_config;
    let rollup: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?,
    )
    .wrap_err_with(|| format!("{} is not JSON", path.display()))?;
    // The inbox and the genesis batcher, read as a follower reads them.
    let derive = agnt2_node::DeriveConfig::from_rollup_json(path, args.l1_rpc_url.clone())?;
    let (inbox, genesis_batcher) = (derive.inbox, derive.batcher);
    let key = args.key()?;
    std::fs::create_dir_all(&args.datadir)
        .wrap_err_with(|| format!("creating {}", args.datadir.display()))?;
    let l1 = Client::new(&args.l1_rpc_url)?;
    let l2 = Client::new(&args.l2_rpc_url)?;
    let (source, l1_chain) = {
        let rollup = rollup.clone();
        tokio::task::spawn_blocking(move || -> eyre::Result<_> {
            Ok((
                RpcSource::new(l2, &rollup)?,
                l1.chain_id().wrap_err("asking the L1 its chain id")?,
            ))
        })
        .await??
    };
    // Derivation reads only the batcher SystemConfig names now (the genesis one, unless
    // `setBatcherHash` changed it, as the L2's L1Block predeploy shows): anything else is
    // wasted L1 gas.
    let authorised = {
        let source = source.clone();
        tokio::task::spawn_blocking(move || source.batcher()).await??.unwrap_or(genesis_batcher)
    };
    if key.address() != authorised {
        bail!(
            "the key is {}, but SystemConfig's batcher is {authorised}: derivation would ignore its batches",
            key.address()
        );
    }
    if let Some(want) = rollup.pointer("/l1_chain_id").and_then(serde_json::Value::as_u64)
        && want != l1_chain
    {
        bail!("the L1 is chain {l1_chain}, the rollup config's L1 is chain {want}");
    }
    let registry = agnt2_metrics::Registry::new();
    let mut batcher = Batcher::new(
        BatcherConfig {
            da: args.batcher.da,
            key,
            inbox,
            max_blocks: args.max_blocks,
            target_frames: args.batcher.target_frames(),
            cursor: args.datadir.join("batcher.json"),
            resubmit: args.batcher.resubmit(),
        },
        Client::new(&args.l1_rpc_url)?,
        &registry,
    )?;
    let (stop_metrics, stopped) = tokio::sync::oneshot::channel::<()>();
    if let Some(addr) = args.metrics {
        let listener = tokio::net::TcpListener::bind(addr).await.wrap_err("binding --metrics")?;
        println!("Metrics on {}", listener.local_addr()?);
        let r = registry.clone();
        let pages: agnt2_metrics::Pages =
            Arc::new(move |_| Some(agnt2_metrics::Page::metrics(r.render())));
        tokio::spawn(agnt2_metrics::serve(listener, registry, pages, async {
            let _ = stopped.await;
        }));
    }
    // The line scripts and tests wait for.
    println!("agnt2 batcher posting to {inbox} from {authorised}, next block {}", batcher.next());
    let stop = Arc::new(AtomicBool::new(false));
    let every = Duration::from_millis(args.poll_ms.max(10));
    let halt = stop.clone();
    let worker = std::thread::Builder::new()
        .name("batcher".into())
        .stack_size(agnt2_node::BLOB_STACK)
        .spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                if agnt2_node::batcher_round(&mut batcher, &source) {
                    continue;
                }
                let slept = Instant::now();
                while slept.elapsed() < every && !halt.load(Ordering::Relaxed) {
                    std::thread::sleep(every.min(Duration::from_millis(100)));
                }
            }
        })?;
    agnt2_cli::shutdown_signal().await?;
    tracing::info!("shutting down: finishing the channel being posted");
    stop.store(true, Ordering::Relaxed);
    let _ = stop_metrics.send(());
    // A channel being posted is finished (its state written) unless it takes too long: a
    // channel cut short is posted again on restart, which derivation tolerates.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !worker.is_finished() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
