//! `agnt2 node`: its options (RPC, pool, mining) and running it; `agnt2 db stats`.

use agnt2_node::{MiningMode, Node, NodeConfig};
use agnt2_primitives::{ChainSpec, dev_signers};
use agnt2_storage::Store;
use clap::Args;
use eyre::WrapErr;
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// Development mode: the embedded devnet chain (unless --chain is given), 20 funded dev
    /// accounts from the `test … junk` mnemonic, instant mining unless --block-time is set.
    #[arg(long)]
    pub(crate) dev: bool,
    /// Sign every block this node builds with this key (hex), served by
    /// `optimism_blockSignature`: the unsafe-block signer a sequencer duty names, whose two
    /// signatures for one height slash it (op-node's --p2p.sequencer.key). A follower builds
    /// nothing and refuses it.
    #[arg(
        long = "sequencer.block-signing-key",
        env = "AGNT2_BLOCK_SIGNING_KEY",
        hide_env_values = true,
        value_name = "HEX"
    )]
    pub(crate) block_signing_key: Option<String>,
    /// Data directory (database under `<datadir>/db`). Default: `$HOME/.agnt2/<chain id>`.
    #[arg(long, value_name = "DIR")]
    pub(crate) datadir: Option<PathBuf>,
    /// Genesis file (geth-style JSON). Default: the embedded devnet genesis.
    #[arg(long, value_name = "FILE")]
    pub(crate) chain: Option<PathBuf>,
    /// JSON-RPC listen address (HTTP and WebSocket share the port).
    #[arg(long = "http.addr", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    http_addr: IpAddr,
    /// JSON-RPC port (0 picks a free port; the chosen address is printed).
    #[arg(long = "http.port", default_value_t = 8545)]
    http_port: u16,
    /// Produce a block every MS milliseconds (interval mining). Absent: instant mining.
    #[arg(long = "block-time", value_name = "MS", conflicts_with = "no_mining")]
    pub(crate) block_time: Option<u64>,
    /// Produce blocks only on `evm_mine` / `anvil_mine` (manual mining).
    #[arg(long = "no-mining")]
    pub(crate) no_mining: bool,
    /// Load accounts from a state dump (anvil's JSON format, as `anvil_dumpState` writes) at
    /// start.
    #[arg(long = "load-state", value_name = "PATH")]
    load_state: Option<PathBuf>,
    /// Keep state history (queries at past blocks, snapshots) for the last N blocks only; blocks
    /// and receipts are kept. Default: all history.
    #[arg(long = "history", value_name = "BLOCKS")]
    history: Option<u64>,
    /// Threads of the block builder: independent transactions execute side by side, with
    /// results identical to sequential execution. 1 builds sequentially. Default: available
    /// cores.
    #[arg(long = "builder.threads", value_name = "N")]
    builder_threads: Option<usize>,
    /// Serve Prometheus metrics on ADDR:PORT (e.g. 127.0.0.1:9001).
    #[arg(long = "metrics", value_name = "ADDR:PORT")]
    metrics: Option<SocketAddr>,
    /// Write the head state (anvil's JSON format) to PATH on shutdown.
    #[arg(long = "dump-state", value_name = "PATH")]
    dump_state: Option<PathBuf>,
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(flatten)]
    txpool: TxPoolArgs,
}

/// What the JSON-RPC server serves and what one client may make it spend (reth's and geth's
/// flag names and defaults; docs/operations.md).
#[derive(Debug, Args)]
struct RpcArgs {
    /// Namespaces served over HTTP, comma-separated (eth, net, web3, rpc, txpool, debug,
    /// optimism, agent; with --dev also anvil, evm, hardhat, personal; or all). Default: all
    /// with --dev, else eth,net,web3,optimism,agent.
    #[arg(long = "http.api", value_name = "LIST")]
    http_api: Option<String>,
    /// Namespaces served over WebSocket (same port). Default: as --http.api.
    #[arg(long = "ws.api", value_name = "LIST")]
    ws_api: Option<String>,
    /// Most gas one eth_call, eth_estimateGas, eth_createAccessList or debug_traceCall may
    /// use; a larger gas is lowered to it (0: no cap).
    #[arg(long = "rpc.gascap", value_name = "GAS", default_value_t = 50_000_000)]
    gas_cap: u64,
    /// Wall time of one call, estimate or trace, e.g. 5s or 500ms (0: none).
    #[arg(long = "rpc.evmtimeout", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    evm_timeout: Duration,
    /// Most requests in one JSON-RPC batch (0: no limit).
    #[arg(long = "rpc.batch-request-limit", value_name = "N", default_value_t = 1_000)]
    batch_request_limit: u32,
    /// Largest request, in MB.
    #[arg(long = "rpc.max-request-size", value_name = "MB", default_value_t = 15)]
    max_request_size: u32,
    /// Largest response (a whole batch's included), in MB.
    #[arg(long = "rpc.max-response-size", value_name = "MB", default_value_t = 160)]
    max_response_size: u32,
    /// Most concurrent connections.
    #[arg(long = "rpc.max-connections", value_name = "N", default_value_t = 500)]
    max_connections: u32,
    /// Most subscriptions one WebSocket connection may hold.
    #[arg(
        long = "rpc.max-subscriptions-per-connection",
        value_name = "N",
        default_value_t = 1_024
    )]
    max_subscriptions: u32,
    /// Tracing requests running at once; more are refused. Default: cores − 2, at least 1.
    #[arg(long = "rpc.max-tracing-requests", value_name = "N")]
    max_tracing_requests: Option<usize>,
    /// Steps the struct logger may record in one request (0: none).
    #[arg(long = "rpc.max-trace-steps", value_name = "N", default_value_t = 1_000_000)]
    max_trace_steps: u64,
    /// Logs in one eth_getLogs answer (0: none).
    #[arg(long = "rpc.max-logs-per-response", value_name = "N", default_value_t = 20_000)]
    max_logs_per_response: usize,
    /// Blocks one log query may span (0: none).
    #[arg(long = "rpc.max-blocks-per-filter", value_name = "N", default_value_t = 100_000)]
    max_blocks_per_filter: u64,
    /// Polling filters installed at once (idle ones expire after 5 minutes).
    #[arg(long = "rpc.max-filters", value_name = "N", default_value_t = 10_000)]
    max_filters: usize,
}

/// Pool limits. Defaults without --dev: geth's and reth's; with --dev: no per-sender limits.
#[derive(Debug, Args)]
struct TxPoolArgs {
    /// Executable transactions one sender may have (default 16; --dev: no limit; 0: none).
    #[arg(long = "txpool.max-account-slots", value_name = "N")]
    max_account_slots: Option<usize>,
    /// Transactions one sender may have waiting for a lower nonce (default 64; --dev: no
    /// limit; 0: none).
    #[arg(long = "txpool.max-account-queued", value_name = "N")]
    max_account_queued: Option<usize>,
    /// Transactions held in all (default 20,000; --dev: 200,000).
    #[arg(long = "txpool.max-count", value_name = "N")]
    max_count: Option<usize>,
    /// Encoded transactions held in all, in MB (default 40; --dev: 512).
    #[arg(long = "txpool.max-size", value_name = "MB")]
    max_size: Option<usize>,
    /// How long a transaction may wait for a lower nonce, e.g. 3h (0: forever).
    #[arg(long = "txpool.lifetime", value_name = "DURATION", default_value = "3h", value_parser = parse_duration)]
    lifetime: Duration,
}

/// `5s`, `500ms`, `3h`, `2m`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 =
        num.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 5s, 500ms, 3h)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1_000.0,
        "m" => n * 60.0,
        "h" => n * 3_600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

impl NodeArgs {
    /// The RPC server's configuration for `addr` in this mode.
    fn rpc_config(&self, addr: SocketAddr) -> eyre::Result<agnt2_node::RpcServerConfig> {
        let r = &self.rpc;
        let mut c = agnt2_node::RpcServerConfig::new(addr, self.dev);
        let select = |list: &Option<String>, flag: &str| match list {
            Some(l) => {
                agnt2_node::ApiSelection::parse(l, self.dev).map_err(|e| eyre::eyre!("{flag}: {e}"))
            }
            None => Ok(agnt2_node::ApiSelection::default_for(self.dev)),
        };
        c.http_api = select(&r.http_api, "--http.api")?;
        c.ws_api = match &r.ws_api {
            Some(_) => select(&r.ws_api, "--ws.api")?,
            None => c.http_api.clone(),
        };
        let mb = |v: u32, flag: &str| {
            v.checked_mul(1024 * 1024)
                .filter(|b| *b > 0)
                .ok_or_else(|| eyre::eyre!("{flag} must be 1..=4095 MB"))
        };
        c.max_request_body = mb(r.max_request_size, "--rpc.max-request-size")?;
        c.max_response_body = mb(r.max_response_size, "--rpc.max-response-size")?;
        c.max_connections = r.max_connections;
        c.max_batch_size = r.batch_request_limit;
        c.max_subscriptions_per_connection = r.max_subscriptions;
        c.limits = agnt2_node::RpcLimits {
            gas_cap: r.gas_cap,
            evm_timeout: r.evm_timeout,
            max_tracing_requests: match r.max_tracing_requests {
                Some(0) => eyre::bail!("--rpc.max-tracing-requests must be at least 1"),
                Some(n) => n,
                None => c.limits.max_tracing_requests,
            },
            max_trace_steps: r.max_trace_steps,
            max_logs_per_response: r.max_logs_per_response,
            max_blocks_per_filter: r.max_blocks_per_filter,
            max_filters: r.max_filters,
        };
        Ok(c)
    }

    /// The pool's limits for `chain` in this mode.
    fn pool_config(&self, chain: &ChainSpec) -> agnt2_node::PoolConfig {
        let t = &self.txpool;
        let base = if self.dev {
            agnt2_node::PoolConfig::dev(chain.chain_id(), chain.gas_limit())
        } else {
            agnt2_node::PoolConfig::production(chain.chain_id(), chain.gas_limit())
        };
        agnt2_node::PoolConfig {
            max_account_slots: t.max_account_slots.unwrap_or(base.max_account_slots),
            max_account_queued: t.max_account_queued.unwrap_or(base.max_account_queued),
            max_txs: t.max_count.unwrap_or(base.max_txs),
            max_bytes: t.max_size.map_or(base.max_bytes, |mb| mb.saturating_mul(1024 * 1024)),
            queued_lifetime: t.lifetime,
            ..base
        }
    }
}

/// A follower: the rollup to derive from its L1.
#[derive(Debug, clap::Args)]
pub(crate) struct FollowArgs {
    /// The rollup's `rollup.json` (op-node's format, written by `agnt2 launch` into its
    /// datadir): derive the chain from the L1 instead of producing blocks. Needs --chain (the
    /// rollup's genesis.json) and --l1.rpc-url.
    #[arg(long = "rollup.config", value_name = "FILE", requires = "l1_rpc_url")]
    rollup_config: Option<PathBuf>,
    /// The L1's JSON-RPC (`http(s)://` or `ws(s)://`) a follower derives from.
    #[arg(long = "l1.rpc-url", value_name = "URL", requires = "rollup_config")]
    l1_rpc_url: Option<String>,
    /// The sequencer's JSON-RPC: raw transactions sent to this follower go there (op-geth's
    /// `--rollup.sequencerhttp`). Without it a follower refuses them.
    #[arg(long = "rollup.sequencer-http", value_name = "URL", requires = "rollup_config")]
    sequencer_http: Option<String>,
    /// The L1 beacon node's API (`http(s)://`), where blob batches are read from (op-node's
    /// `--l1.beacon`). Default: --l1.rpc-url, where anvil serves it.
    #[arg(long = "l1.beacon-url", value_name = "URL", requires = "rollup_config")]
    l1_beacon_url: Option<String>,
}

impl FollowArgs {
    pub(crate) fn derive_config(&self) -> eyre::Result<Option<agnt2_node::DeriveConfig>> {
        match (&self.rollup_config, &self.l1_rpc_url) {
            (Some(path), Some(url)) => {
                let mut d = agnt2_node::DeriveConfig::from_rollup_json(path, url.clone())?;
                d.sequencer_http = self.sequencer_http.clone();
                d.l1_beacon_url = self.l1_beacon_url.clone();
                Ok(Some(d))
            }
            _ => Ok(None),
        }
    }
}

pub(crate) async fn run_node(
    args: NodeArgs,
    rollup: Option<agnt2_node::RollupConfig>,
    derive: Option<agnt2_node::DeriveConfig>,
) -> eyre::Result<()> {
    let chain = match &args.chain {
        Some(path) => ChainSpec::from_file(path)?,
        None => ChainSpec::devnet(),
    };
    if !args.dev && args.chain.is_none() {
        eyre::bail!(
            "without --dev a --chain genesis file is required (settlement mode comes later)"
        );
    }
    let chain = Arc::new(chain);
    let datadir = match args.datadir.clone() {
        Some(d) => d,
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| ".".into());
            home.join(".agnt2").join(chain.chain_id().to_string())
        }
    };
    let mining = match (args.block_time, args.no_mining) {
        (Some(0), _) => eyre::bail!("--block-time must be at least 1 ms"),
        (Some(ms), _) => MiningMode::Interval(Duration::from_millis(ms)),
        (None, true) => MiningMode::Manual,
        (None, false) => MiningMode::Instant,
    };
    if !args.dev && args.load_state.is_some() {
        eyre::bail!("--load-state rewrites accounts: it is a devnet control, only with --dev");
    }
    let rpc = args.rpc_config(SocketAddr::new(args.http_addr, args.http_port))?;
    let config = NodeConfig {
        datadir: datadir.clone(),
        chain: chain.clone(),
        rpc,
        chain_config: agnt2_node::ChainConfig {
            mining,
            history: args.history,
            builder_threads: match args.builder_threads {
                Some(0) => eyre::bail!("--builder.threads must be at least 1"),
                Some(n) => n,
                None => std::thread::available_parallelism().map_or(1, usize::from),
            },
            dev: args.dev,
            pool: Some(args.pool_config(&chain)),
        },
        metrics: args.metrics,
        block_signer: match &args.block_signing_key {
            Some(_) if derive.is_some() => {
                eyre::bail!("--sequencer.block-signing-key: a follower builds no blocks to sign")
            }
            Some(hex) => Some(
                hex.trim()
                    .parse::<alloy_signer_local::PrivateKeySigner>()
                    .map_err(|e| eyre::eyre!("--sequencer.block-signing-key: {e}"))?,
            ),
            None => None,
        },
        rollup,
        derive,
    };
    let node = Node::launch(config).await?;
    if let Some(path) = &args.load_state {
        let raw = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("cannot read state dump {}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&raw)
            .wrap_err_with(|| format!("{} is not JSON", path.display()))?;
        let edits = agnt2_rpc::edits_from_dump(&json)?;
        let n = edits.len();
        agnt2_rpc::DevApi::edit_accounts(&*node.chain, edits).map_err(|e| eyre::eyre!(e))?;
        tracing::info!(accounts = n, path = %path.display(), "loaded state");
    }

    if args.dev {
        println!("agnt2 devnet · chain id {} · datadir {}", chain.chain_id(), datadir.display());
        println!();
        println!("Available accounts (10,000 ETH each; mnemonic \"test test … junk\")");
        for (i, s) in dev_signers(20).iter().enumerate() {
            println!("({i}) {} 0x{}", s.address(), alloy_primitives::hex::encode(s.to_bytes()));
        }
        println!();
    } else {
        // A chain that holds value: no keys are held, none is printed.
        println!("agnt2 node · chain id {} · datadir {}", chain.chain_id(), datadir.display());
    }
    println!("Listening on {}", node.http);
    println!("RPC: http://{0}  ws://{0}", node.http);
    if let Some(m) = node.metrics {
        println!("Metrics on {m}");
    }

    agnt2_cli::shutdown_signal().await?;
    tracing::info!("shutting down");
    let dump = match &args.dump_state {
        Some(path) => Some((path.clone(), agnt2_rpc::dump_state(&*node.chain))),
        None => None,
    };
    node.shutdown().await;
    if let Some((path, state)) = dump {
        let state = state.wrap_err("dumping the state")?;
        std::fs::write(&path, serde_json::to_vec_pretty(&state)?)
            .wrap_err_with(|| format!("cannot write state dump {}", path.display()))?;
        tracing::info!(path = %path.display(), "dumped state");
    }
    Ok(())
}

/// Runs the node on a multi-threaded runtime; once it returns, work still running on the
/// runtime (a call that ignores the cancel switch) gets 3 s before the process leaves it.
pub(crate) fn in_runtime(
    fut: impl std::future::Future<Output = eyre::Result<()>>,
) -> eyre::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let out = rt.block_on(fut);
    rt.shutdown_timeout(Duration::from_secs(3));
    out
}

pub(crate) fn db_stats(datadir: PathBuf) -> eyre::Result<()> {
    let db = datadir.join("db");
    if !db.exists() {
        eyre::bail!("no database in {}", datadir.display());
    }
    let store = Store::open(&db).wrap_err("cannot open database")?;
    let head = store.reader()?.head()?;
    println!("head block: {}", head.map_or_else(|| "none".into(), |h| h.to_string()));
    println!("{:<24} {:>12} {:>14}", "table", "entries", "bytes");
    let mut total = 0;
    for s in store.stats()? {
        total += s.bytes;
        println!("{:<24} {:>12} {:>14}", s.table, s.entries, s.bytes);
    }
    println!("{:<24} {:>12} {:>14}", "total", "", total);
    Ok(())
}
