//! `agnt2`: the node and its operator commands.

mod bench;
mod bench_settlement;
mod bridge;
mod channel;
mod launch;
mod pay;

/// mimalloc: the builder's threads allocate and free each other's memory (speculated states
/// move to the committing thread), which the system allocator serialises on arena locks.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use agnt2_node::{MiningMode, Node, NodeConfig};
use agnt2_primitives::{ChainSpec, dev_signers};
use agnt2_storage::Store;
use clap::{ArgAction, Args, Parser, Subcommand};
use eyre::WrapErr;
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

#[derive(Debug, Parser)]
#[command(name = "agnt2", version, about = "agnt2: an OP-Stack-style rollup for agent economies")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Verbosity: -v info (default), -vv debug, -vvv trace. `RUST_LOG` overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Only print warnings and errors.
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node (execution client and sequencer).
    Node(NodeArgs),
    /// Deploy (or reuse) the OP Stack's L1 contracts on an L1, then run the node.
    Launch {
        #[command(flatten)]
        launch: launch::LaunchArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Deposits and withdrawals between the L1 and the rollup.
    Bridge(bridge::BridgeArgs),
    /// Channels through an agnt2-hub: open, pay, update, close, dispute, settle, status.
    Channel(channel::ChannelArgs),
    /// A curl-like request to a service behind agnt2-sidecar, paying its 402 over your channel.
    Pay(pay::PayArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Inspect a datadir.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// End-to-end JSON-RPC load: pre-signed transfers in batches, timed until included.
    Rpc(bench::RpcBenchArgs),
    /// Gas and execution time of the native agent precompiles against the same ERC-8004
    /// functions in Solidity, on a throwaway chain.
    Agent(AgentBenchArgs),
    /// The parallel block builder against the sequential one on a generated workload.
    Builder(BuilderBenchArgs),
    /// Co-signed, persisted channel updates through an agnt2-hub.
    Channels(ChannelBenchArgs),
    /// Deposit latency and the L1 gas of deposits, proposals, proofs and finalizations.
    Settlement(bench_settlement::SettlementBenchArgs),
    /// What agnt2-sidecar adds in front of a service (free and paid routes) next to calling the
    /// service directly.
    Sidecar(SidecarBenchArgs),
}

#[derive(Debug, clap::Args)]
struct SidecarBenchArgs {
    /// Sequential requests per side for the free-route latency.
    #[arg(long = "latency-requests", default_value_t = 4_000)]
    latency_requests: usize,
    /// Requests per side for the free-route throughput.
    #[arg(long = "throughput-requests", default_value_t = 40_000)]
    throughput_requests: usize,
    /// Concurrent clients for the throughput.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Paid requests (one client; sequential on each of its channels).
    #[arg(long = "paid-requests", default_value_t = 4_000)]
    paid_requests: usize,
    /// Channels the paying client spreads its requests over.
    #[arg(long, default_value_t = 1)]
    channels: usize,
    /// CPU time the upstream spends per request, in µs (0: a bare echo).
    #[arg(long = "upstream-work-us", default_value_t = 0)]
    upstream_work_us: u64,
    /// A running node; without it the benchmark starts a devnet.
    #[arg(long = "l2.rpc-url")]
    l2_rpc_url: Option<String>,
    /// Foundry's output with Adjudicator.sol (`make contracts`).
    #[arg(long, default_value = "contracts/out", value_name = "DIR")]
    artifacts: PathBuf,
    /// Also measure nginx (this binary) as a plain reverse proxy on the free route, the reference
    /// for what a proxy costs here (`make bench-tools` installs one into .tools/).
    #[arg(long, value_name = "BIN")]
    nginx: Option<PathBuf>,
    /// Print one JSON object instead of lines.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ChannelBenchArgs {
    /// Channels (agent ↔ hub), all running at once.
    #[arg(long, default_value_t = 1)]
    pairs: usize,
    /// Updates per channel.
    #[arg(long, default_value_t = 10_000)]
    updates: u64,
    /// Proposals in flight per channel.
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// The rollup's JSON-RPC (channels are opened there).
    #[arg(long = "l2.rpc-url", default_value = "http://127.0.0.1:8545")]
    l2_rpc_url: String,
    /// A running hub (host:port); without it the benchmark starts its own agnt2-hub.
    #[arg(long)]
    hub: Option<SocketAddr>,
    /// The hub's adjudicator (needed with --hub); otherwise one is deployed.
    #[arg(long)]
    adjudicator: Option<alloy_primitives::Address>,
    /// Foundry's output with Adjudicator.sol (`make contracts`).
    #[arg(long, default_value = "contracts/out", value_name = "DIR")]
    artifacts: PathBuf,
    /// Private key paying for setup (default: dev account 0).
    #[arg(long = "private-key", env = "AGNT2_BENCH_KEY", hide_env_values = true)]
    private_key: Option<String>,
    /// Print one JSON object instead of a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct BuilderBenchArgs {
    /// transfer, erc20, agent, swap, contended or mixed.
    #[arg(long)]
    workload: agnt2_bench::builder::Workload,
    /// Transactions in the measured block.
    #[arg(long, default_value_t = 2000)]
    txs: usize,
    /// Threads of the parallel builder. Default: available cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Rounds (times are medians).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Foundry's output with the benchmark contracts (`make contracts`).
    #[arg(long, default_value = "contracts/out", value_name = "DIR")]
    artifacts: PathBuf,
    /// Print one JSON object instead of a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct AgentBenchArgs {
    /// Calls per measured block.
    #[arg(long, default_value_t = 200)]
    calls: usize,
    /// Rounds (times are medians).
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Foundry's output with the Solidity reference registries (`make contracts`).
    #[arg(long, default_value = "contracts/out", value_name = "DIR")]
    artifacts: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Entries and size of every table.
    Stats {
        /// The node's data directory.
        #[arg(long, value_name = "DIR")]
        datadir: PathBuf,
    },
}

#[derive(Debug, Args)]
struct NodeArgs {
    /// Development mode: the embedded devnet chain (unless --chain is given), 20 funded dev
    /// accounts from the `test … junk` mnemonic, instant mining unless --block-time is set.
    #[arg(long)]
    dev: bool,
    /// Data directory (database under `<datadir>/db`). Default: `$HOME/.agnt2/<chain id>`.
    #[arg(long, value_name = "DIR")]
    datadir: Option<PathBuf>,
    /// Genesis file (geth-style JSON). Default: the embedded devnet genesis.
    #[arg(long, value_name = "FILE")]
    chain: Option<PathBuf>,
    /// JSON-RPC listen address (HTTP and WebSocket share the port).
    #[arg(long = "http.addr", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    http_addr: IpAddr,
    /// JSON-RPC port (0 picks a free port; the chosen address is printed).
    #[arg(long = "http.port", default_value_t = 8545)]
    http_port: u16,
    /// Produce a block every MS milliseconds (interval mining). Absent: instant mining.
    #[arg(long = "block-time", value_name = "MS", conflicts_with = "no_mining")]
    block_time: Option<u64>,
    /// Produce blocks only on `evm_mine` / `anvil_mine` (manual mining).
    #[arg(long = "no-mining")]
    no_mining: bool,
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

async fn run_node(args: NodeArgs, rollup: Option<agnt2_node::RollupConfig>) -> eyre::Result<()> {
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
        rollup,
    };
    let node = Node::launch(config).await?;
    if let Some(path) = &args.load_state {
        let raw = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("cannot read state dump {}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&raw)
            .wrap_err_with(|| format!("{} is not JSON", path.display()))?;
        let edits = agnt2_rpc::edits_from_dump(&json).map_err(|e| eyre::eyre!(e))?;
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
        let state = state.map_err(|e| eyre::eyre!(e))?;
        std::fs::write(&path, serde_json::to_vec_pretty(&state)?)
            .wrap_err_with(|| format!("cannot write state dump {}", path.display()))?;
        tracing::info!(path = %path.display(), "dumped state");
    }
    Ok(())
}

/// Runs the node on a multi-threaded runtime; once it returns, work still running on the
/// runtime (a call that ignores the cancel switch) gets 3 s before the process leaves it.
fn in_runtime(fut: impl std::future::Future<Output = eyre::Result<()>>) -> eyre::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let out = rt.block_on(fut);
    rt.shutdown_timeout(Duration::from_secs(3));
    out
}

fn db_stats(datadir: PathBuf) -> eyre::Result<()> {
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

fn bench_builder(args: BuilderBenchArgs) -> eyre::Result<()> {
    let threads = match args.threads {
        Some(0) => eyre::bail!("--threads must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    if args.txs == 0 || args.rounds == 0 {
        eyre::bail!("--txs and --rounds must be at least 1");
    }
    let r =
        agnt2_bench::builder::run(args.workload, args.txs, threads, args.rounds, &args.artifacts)?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{:<10} txs {:>6} threads {} seq {:>8.2} ms par {:>8.2} ms speedup {:>5.2}× {:>7.0} tx/s ({:.1} µs/tx) roots equal: {} (speculated {}, re-executed {}, direct {}); pipeline {:.1} ms, {:.0} tx/s",
            r.workload,
            r.included,
            r.threads,
            r.seq_ms,
            r.par_ms,
            r.speedup,
            r.tps_par,
            r.us_per_tx,
            r.roots_equal,
            r.stats.committed_speculative,
            r.stats.reexecuted,
            r.stats.direct,
            r.pipeline_ms,
            r.pipeline_tps
        );
    }
    if !r.roots_equal {
        eyre::bail!("the parallel block differs from the sequential one");
    }
    Ok(())
}

fn bench_sidecar(args: SidecarBenchArgs) -> eyre::Result<()> {
    let exe = std::env::current_exe()?;
    let r = agnt2_bench::sidecar::run(agnt2_bench::sidecar::Options {
        latency_requests: args.latency_requests,
        throughput_requests: args.throughput_requests,
        concurrency: args.concurrency,
        paid_requests: args.paid_requests,
        channels: args.channels,
        upstream_work_us: args.upstream_work_us,
        l2_url: args.l2_rpc_url,
        artifacts: args.artifacts,
        node_bin: exe.clone(),
        hub_bin: exe.with_file_name("agnt2-hub"),
        sidecar_bin: exe.with_file_name("agnt2-sidecar"),
        funder: dev_signers(1).remove(0),
        nginx: args.nginx,
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "free route: p50 {:.0} µs direct, {:.0} µs via sidecar (+{:.0} µs, p99 +{:.0} µs); {:.0} vs {:.0} req/s with {} clients ({:.2}×)",
            r.free_direct_p50_us,
            r.free_sidecar_p50_us,
            r.free_p50_added_us,
            r.free_p99_added_us,
            r.free_direct_rps,
            r.free_sidecar_rps,
            r.concurrency,
            r.free_throughput_ratio
        );
        if let Some(n) = &r.nginx {
            println!(
                "reference (nginx): +{:.0} µs p50, +{:.0} µs p99; {:.0} req/s ({:.2}× direct); sidecar/nginx throughput {:.2}×",
                n.p50_added_us, n.p99_added_us, n.rps, n.throughput_ratio, n.sidecar_vs_reference
            );
        }
        println!(
            "paid route: {:.0} paid req/s (one client, {} channel(s)), p50 {:.0} µs, p99 {:.0} µs; channels moved by exactly the price: {} (upstream work {} µs)",
            r.paid_rps,
            r.paid_channels,
            r.paid_p50_us,
            r.paid_p99_us,
            r.paid_wei_checked,
            r.upstream_work_us
        );
    }
    if !r.paid_wei_checked {
        eyre::bail!("the channel did not move by exactly the price per request");
    }
    Ok(())
}

fn bench_channels(args: ChannelBenchArgs) -> eyre::Result<()> {
    if args.hub.is_some() && args.adjudicator.is_none() {
        eyre::bail!("--hub needs --adjudicator (the one that hub serves)");
    }
    let funder = match &args.private_key {
        Some(k) => k.parse().map_err(|e| eyre::eyre!("--private-key: {e}"))?,
        None => dev_signers(1).remove(0),
    };
    let exe = std::env::current_exe()?;
    let hub_bin = exe.with_file_name("agnt2-hub");
    let r = agnt2_bench::channels::run(agnt2_bench::channels::Options {
        pairs: args.pairs,
        updates: args.updates,
        window: args.window,
        l2_url: args.l2_rpc_url,
        hub: args.hub,
        adjudicator: args.adjudicator,
        artifacts: args.artifacts,
        hub_bin,
        funder,
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "channels: {} pairs x {} updates (window {}): {:.0} updates/s ({:.0} per pair), p50 {:.0} µs, p99 {:.0} µs, verified {}",
            r.pairs,
            r.updates,
            r.window,
            r.updates_per_s,
            r.per_pair_updates_per_s,
            r.p50_us,
            r.p99_us,
            r.verified
        );
    }
    if !r.verified {
        eyre::bail!("a channel's final state did not verify");
    }
    Ok(())
}

fn bench_agent(args: AgentBenchArgs) -> eyre::Result<()> {
    if args.calls == 0 || args.rounds == 0 {
        eyre::bail!("--calls and --rounds must be at least 1");
    }
    let report = agnt2_bench::agent::run(args.calls, args.rounds, &args.artifacts)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!("per-transaction floor (plain transfer): {:.1} µs", report.transfer_us);
    println!(
        "{:<16} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7} {:>9} {:>9} {:>7} {:>7}",
        "function",
        "gas nat",
        "gas sol",
        "ratio",
        "exec nat",
        "exec sol",
        "ratio",
        "µs nat",
        "µs sol",
        "ratio",
        "work"
    );
    for r in &report.results {
        let name = r.function.split('(').next().unwrap_or(r.function);
        println!(
            "{name:<16} {:>10} {:>10} {:>6.2}× {:>10} {:>10} {:>6.2}× {:>9.1} {:>9.1} {:>6.2}× {:>6.2}×",
            r.native.gas,
            r.solidity.gas,
            r.gas_ratio,
            r.native.exec_gas,
            r.solidity.exec_gas,
            r.exec_gas_ratio,
            r.native.us,
            r.solidity.us,
            r.time_ratio,
            r.work_time_ratio
        );
    }
    Ok(())
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    agnt2_cli::init_tracing(cli.verbose, cli.quiet);
    match cli.command {
        Command::Node(args) => in_runtime(run_node(args, None)),
        Command::Db { command: DbCommand::Stats { datadir } } => db_stats(datadir),
        Command::Bench { command: BenchCommand::Rpc(args) } => bench::run(args),
        Command::Bench { command: BenchCommand::Agent(args) } => bench_agent(args),
        Command::Bench { command: BenchCommand::Builder(args) } => bench_builder(args),
        Command::Bench { command: BenchCommand::Channels(args) } => bench_channels(args),
        Command::Bench { command: BenchCommand::Sidecar(args) } => bench_sidecar(args),
        Command::Bench { command: BenchCommand::Settlement(args) } => bench_settlement::run(args),
        Command::Channel(args) => channel::run(args),
        Command::Pay(args) => pay::run(args),
        Command::Bridge(args) => bridge::run(args),
        Command::Launch { launch, mut node } => {
            let datadir = node.datadir.clone().unwrap_or_else(|| PathBuf::from(".agnt2-launch"));
            let deployment = launch::deploy_or_reuse(&launch, &datadir)?;
            if launch.deploy_only {
                return Ok(());
            }
            // A genesis that commits to the L1 deployment (with the devnet's accounts only with
            // --dev; otherwise funding only --alloc), L1 origins and deposits from the L1.
            if node.chain.is_none() {
                node.chain = launch::write_genesis(&datadir, &deployment, &launch, node.dev)?;
            } else if !launch.alloc.is_empty() {
                eyre::bail!("--alloc shapes the genesis agnt2 writes; it cannot change --chain");
            }
            node.datadir = Some(datadir);
            if node.block_time.is_none() && !node.no_mining {
                node.block_time = Some(1000);
            }
            let rollup = launch::rollup_config(&launch, deployment)?;
            in_runtime(run_node(node, Some(rollup)))
        }
    }
}
