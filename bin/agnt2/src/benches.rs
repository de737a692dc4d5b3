//! `agnt2 bench …`: the benchmark commands and their options (the measuring code is in
//! `crates/bench`, the JSON-RPC load generator in `bench.rs`, settlement in `bench_settlement.rs`).

use crate::{bench, bench_settlement};
use agnt2_primitives::dev_signers;
use clap::Subcommand;
use std::{net::SocketAddr, path::PathBuf};

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
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
    /// What a workload costs on the L1 once batched (span batches, brotli, frames), next to
    /// OP's Fjord estimate of the same transactions.
    Da(DaBenchArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct DaBenchArgs {
    /// transfer, erc20, agent, swap, contended or mixed.
    #[arg(long)]
    workload: agnt2_bench::builder::Workload,
    /// Transactions batched.
    #[arg(long, default_value_t = 5000)]
    txs: usize,
    /// Transactions per L2 block.
    #[arg(long = "txs-per-block", default_value_t = 100)]
    txs_per_block: usize,
    /// Foundry's output with the benchmark contracts (`make contracts`).
    #[arg(long, default_value = "contracts/out", value_name = "DIR")]
    artifacts: PathBuf,
    /// Also post the channel to this L1 (anvil), as calldata and as blobs, and report the L1
    /// gas and blob gas from the receipts.
    #[arg(long = "l1.rpc-url", value_name = "URL")]
    l1_rpc_url: Option<String>,
    /// The key that posts (default: anvil's account 9).
    #[arg(long = "l1.key", env = "AGNT2_BENCH_L1_KEY", hide_env_values = true)]
    l1_key: Option<String>,
    /// Where it posts (OP's convention for a batch inbox: 0xff00…00 followed by the chain id).
    #[arg(long, default_value = "0xff00000000000000000000000000000000080042")]
    inbox: alloy_primitives::Address,
    /// Print one JSON object instead of a line.
    #[arg(long)]
    json: bool,
}

/// anvil's account 9 (its well-known test mnemonic): funded on every anvil, unused by the
/// other benchmarks.
const ANVIL_KEY_9: &str = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";

#[derive(Debug, clap::Args)]
pub(crate) struct SidecarBenchArgs {
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
pub(crate) struct ChannelBenchArgs {
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
pub(crate) struct BuilderBenchArgs {
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
pub(crate) struct AgentBenchArgs {
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

/// Runs a benchmark command.
pub(crate) fn run(command: BenchCommand) -> eyre::Result<()> {
    match command {
        BenchCommand::Rpc(args) => bench::run(args),
        BenchCommand::Agent(args) => bench_agent(args),
        BenchCommand::Builder(args) => bench_builder(args),
        BenchCommand::Channels(args) => bench_channels(args),
        BenchCommand::Sidecar(args) => bench_sidecar(args),
        BenchCommand::Settlement(args) => bench_settlement::run(args),
        BenchCommand::Da(args) => bench_da(args),
    }
}

fn bench_da(args: DaBenchArgs) -> eyre::Result<()> {
    if args.txs == 0 || args.txs_per_block == 0 {
        eyre::bail!("--txs and --txs-per-block must be at least 1");
    }
    let l1 = match &args.l1_rpc_url {
        Some(url) => {
            let key: alloy_signer_local::PrivateKeySigner = args
                .l1_key
                .as_deref()
                .unwrap_or(ANVIL_KEY_9)
                .trim()
                .parse()
                .map_err(|e| eyre::eyre!("--l1.key: {e}"))?;
            Some((agnt2_client::Client::new(url)?, key))
        }
        None => None,
    };
    let (workload, txs, per_block, artifacts, inbox) =
        (args.workload, args.txs, args.txs_per_block, args.artifacts.clone(), args.inbox);
    // Blob proofs need a deep stack.
    let r = std::thread::Builder::new()
        .name("bench-da".into())
        .stack_size(agnt2_node::BLOB_STACK)
        .spawn(move || {
            let l1 = l1.as_ref().map(|(c, k)| (c, k, inbox));
            agnt2_bench::da::run(workload, txs, per_block, &artifacts, l1)
        })?
        .join()
        .map_err(|_| eyre::eyre!("the benchmark thread panicked"))??;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{:<10} txs {:>6} blocks {:>4} raw {:>6.1} B/tx batch {:>6.1} posted {:>6.1} (×{:.2} smaller) OP estimate {:>6.1} B/tx (posted/estimate {:.2}) calldata {} txs {:>6.0} L1 gas/tx, {} blob(s), {:>6.0} tx/s at the blob target",
            r.workload,
            r.txs,
            r.blocks,
            r.raw_bytes_per_tx,
            r.batch_bytes_per_tx,
            r.posted_bytes_per_tx,
            r.compression_ratio,
            r.op_estimate_bytes_per_tx,
            r.posted_vs_op_estimate,
            r.calldata_txs,
            r.calldata_gas_per_tx,
            r.blobs,
            r.tps_at_blob_target,
        );
        if let Some(l1) = &r.l1 {
            println!(
                "{:<10} on the L1: calldata {} txs {:>6.0} gas/tx · blobs {} in {} txs, {:>6.0} blob gas/tx + {:>4.1} gas/tx",
                r.workload,
                l1.calldata_txs,
                l1.calldata_gas_per_tx,
                l1.blobs,
                l1.blob_txs,
                l1.blob_gas_per_tx,
                l1.blob_tx_gas_per_tx,
            );
        }
    }
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
