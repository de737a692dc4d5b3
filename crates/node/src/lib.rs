//! The agnt2 node: opens the database (writing genesis on first start), wires the pool, the
//! block builder and the JSON-RPC server, runs the miner in one of three modes, and — settling
//! on an L1 — the rollup components (L1 follower, proposer).
//!
//! Data flows one way: RPC → pool → builder → executor → storage → RPC. A block is committed
//! durably to MDBX before the head moves, so every receipt a client can see survives a crash.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod batcher;
mod chain;
mod derive;
mod genesis;
mod l1;
mod metrics;
mod miner;
mod rollup;
mod throttle;

pub use agnt2_rpc::MiningMode;
pub use agnt2_rpc::{ApiSelection, RpcLimits, RpcServerConfig};
pub use agnt2_txpool::PoolConfig;
pub use batcher::{
    Batcher, BatcherConfig, BlockSource, DataAvailability, MAX_FRAME_SIZE, Posted, REORG_DEPTH,
    RpcSource, SpanParams, round as batcher_round,
};
pub use chain::{Chain, ChainConfig, DryRun, PARALLEL_MIN_TXS};
pub use derive::{BLOB_STACK, DeriveConfig};
pub use l1::L1Inbox;
pub use rollup::{CHANNEL_TIMEOUT, MAX_SEQUENCER_DRIFT, RollupConfig, SEQ_WINDOW_SIZE};
pub use throttle::{ThrottleConfig, estimated_size};

use agnt2_primitives::ChainSpec;
use agnt2_rpc::start_server;
use std::{net::SocketAddr, path::PathBuf, sync::Arc};

/// Node configuration.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Where the database lives (`<datadir>/db`).
    pub datadir: PathBuf,
    /// The chain.
    pub chain: Arc<ChainSpec>,
    /// The JSON-RPC server (HTTP and WS on one port): address, namespaces, limits.
    pub rpc: RpcServerConfig,
    /// Mining, history, builder threads, mode, pool limits.
    pub chain_config: ChainConfig,
    /// Where to serve Prometheus metrics (none: not served).
    pub metrics: Option<SocketAddr>,
    /// The key this node signs the blocks it builds with (none: it does not sign).
    pub block_signer: Option<alloy_signer_local::PrivateKeySigner>,
    /// Settlement on an L1: the node follows it (L1 origins and deposits) and proposes output
    /// roots (none: devnet L1 attributes).
    pub rollup: Option<RollupConfig>,
    /// Follow a rollup from its L1 alone (`rollup.json`): derive every block, mine none.
    pub derive: Option<DeriveConfig>,
}

/// A running node.
#[derive(Debug)]
pub struct Node {
    /// The chain handle.
    pub chain: Arc<Chain>,
    /// The bound RPC address.
    pub http: SocketAddr,
    /// The bound metrics address, if served.
    pub metrics: Option<SocketAddr>,
    rpc: jsonrpsee::server::ServerHandle,
    miner: tokio::task::JoinHandle<()>,
    rollup: Option<rollup::Rollup>,
    derivation: Option<derive::Derivation>,
    metrics_task: Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Node {
    /// Opens the datadir, starts the miner and the RPC server.
    pub async fn launch(config: NodeConfig) -> eyre::Result<Self> {
        if config.rpc.dev != config.chain_config.dev {
            eyre::bail!("the RPC server and the chain disagree on --dev");
        }
        if let Some(r) = &config.rollup
            && r.proposes()
            && !config.rpc.http_api.serves("optimism_")
        {
            eyre::bail!(
                "the proposer reads optimism_outputAtBlock from this node: keep optimism in --http.api"
            );
        }
        let chain = Chain::open(config.chain.clone(), &config.datadir, config.chain_config)?;
        let inbox = config.rollup.as_ref().map(|_| Arc::new(L1Inbox::new()));
        if let Some(inbox) = &inbox {
            chain.set_l1_inbox(inbox.clone());
        }
        if let Some(r) = &config.rollup {
            chain.set_block_time(r.deployment.config.l2_block_time);
        }
        if let Some(key) = &config.block_signer {
            chain.set_block_signer(key.clone());
        }
        if let Some(d) = &config.derive {
            eyre::ensure!(config.rollup.is_none(), "a node either sequences or derives");
            chain.set_block_time(d.block_time);
            chain.set_follower();
            if let Some(url) = &d.sequencer_http {
                chain.set_sequencer(agnt2_client::Client::new(url)?);
            }
        }
        // A follower builds only the blocks it derives.
        let miner = match config.derive {
            Some(_) => tokio::spawn(std::future::pending()),
            None => tokio::spawn(miner::run(chain.clone())),
        };
        // Per-method latency samples only when someone scrapes them (they are kept until then).
        let rpc_registry = match config.metrics {
            Some(_) => chain.metrics().registry.clone(),
            None => agnt2_metrics::Registry::disabled(),
        };
        let rpc_metrics = Arc::new(agnt2_rpc::RpcMetrics::new(rpc_registry));
        let (http, rpc) = start_server(config.rpc, chain.clone(), rpc_metrics.clone()).await?;
        let rollup = match (config.rollup, inbox) {
            (Some(r), Some(inbox)) => {
                let url = format!("http://{http}");
                let (c, r, dir) = (chain.clone(), r, config.datadir.clone());
                // Its start reads the L1 (blocking calls).
                Some(
                    tokio::task::spawn_blocking(move || rollup::start(r, &c, inbox, &url, &dir))
                        .await??,
                )
            }
            _ => None,
        };
        let (metrics, metrics_task) = match config.metrics {
            Some(addr) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let (bound, task) = metrics::serve(addr, chain.clone(), rx).await?;
                (Some(bound), Some((tx, task)))
            }
            None => (None, None),
        };
        let derivation = match config.derive {
            Some(d) => {
                let c = chain.clone();
                Some(tokio::task::spawn_blocking(move || derive::start(d, &c)).await??)
            }
            None => None,
        };
        Ok(Self { chain, http, metrics, rpc, miner, rollup, derivation, metrics_task })
    }

    /// Stops serving and mining, within a few seconds even while calls or traces run: they are
    /// aborted first (nothing they did is committed). Every block already committed is durable.
    pub async fn shutdown(mut self) {
        drop(self.rollup.take());
        drop(self.derivation.take());
        agnt2_evm::cancel_all();
        let _ = self.rpc.stop();
        if tokio::time::timeout(std::time::Duration::from_secs(5), self.rpc.stopped())
            .await
            .is_err()
        {
            tracing::warn!(target: "node", "the RPC server did not stop within 5 s; leaving it");
        }
        self.miner.abort();
        let _ = self.miner.await;
        if let Some((stop, task)) = self.metrics_task {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}
