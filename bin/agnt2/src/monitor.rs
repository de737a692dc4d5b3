//! `agnt2 monitor`: watches the L1 and the L2s it is given — base fee, blob fee, block time,
//! TPS, time to safe, what one of the agent's interactions costs — and says, against the
//! agent's thresholds, whether to stay on the L1, move to one of the L2s, or launch its own,
//! with the numbers behind it: a table for people, JSON lines (`--json`) for agents.

use agnt2_client::{Client, hex_u64};
use agnt2_economy::monitor::{ChainObservation, Decision, Thresholds, decide};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::Address;
use clap::Args;
use eyre::{WrapErr, eyre};
use serde_json::{Value, json};
use std::{path::PathBuf, time::Duration};

/// Options of `agnt2 monitor`.
#[derive(Debug, Args)]
pub(crate) struct MonitorArgs {
    /// The L1's JSON-RPC.
    #[arg(long = "l1.rpc-url", value_name = "URL")]
    l1: String,
    /// An L2 to consider: NAME=URL (repeatable).
    #[arg(long = "l2", value_name = "NAME=URL", value_parser = parse_l2)]
    l2s: Vec<(String, String)>,
    /// The thresholds (JSON, camelCase fields of agnt2-economy's `Thresholds`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The agent whose own receipts price an interaction (else the base fee × the config's
    /// gas per interaction).
    #[arg(long)]
    agent: Option<Address>,
    /// Blocks sampled per chain.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1024))]
    blocks: u64,
    /// Observe again every SECS seconds (default: once).
    #[arg(long, value_name = "SECS")]
    watch: Option<u64>,
    /// One JSON object per observation instead of a table.
    #[arg(long)]
    json: bool,
    /// Act on the decision, then stop: on a `move`, bridge --bridge-amount of the key's L1
    /// ETH to its address on the chosen L2 through the OP portal and wait for it there; on a
    /// `launch` (with --launch.datadir), run `agnt2 launch` with the arguments after `--` as a
    /// process of its own, bridge there, and post the duties of --launch.plan.
    #[arg(long, requires = "bridge_amount")]
    act: bool,
    /// Where a launched chain keeps its data, its log (`launch.log`) and its pid
    /// (`launch.pid`); without it a `launch` decision is reported, not performed.
    #[arg(long = "launch.datadir", value_name = "DIR", requires = "act")]
    launch_datadir: Option<PathBuf>,
    /// What to hire for a launched chain: a JSON plan (`agentUri`, `board`: {unbondDelay,
    /// claimGrace, missedLimit, reporterBps, quorum}, `duties`: [{kind, spec, rate, unitsCap,
    /// epoch, minBond, escrow}]), read before anything is launched.
    #[arg(long = "launch.plan", value_name = "FILE", requires = "launch_datadir")]
    launch_plan: Option<PathBuf>,
    /// Foundry's output with the duty board's contracts.
    #[arg(long, default_value = "contracts/out", value_name = "DIR")]
    artifacts: PathBuf,
    /// Serve Prometheus metrics on ADDR:PORT while watching (`agnt2_monitor_*`, one series
    /// per chain; the address is printed on stderr).
    #[arg(long = "metrics", value_name = "ADDR:PORT")]
    metrics: Option<std::net::SocketAddr>,
    /// Arguments for `agnt2 launch` (after `--`): the L1 key, block time, genesis allocations…
    #[arg(last = true, value_name = "LAUNCH ARGS")]
    launch_args: Vec<String>,
    /// What to bridge when acting: wei or with a unit (`1ether`).
    #[arg(long = "bridge-amount", value_name = "AMOUNT")]
    bridge_amount: Option<String>,
    #[command(flatten)]
    key: agnt2_cli::PrivateKeyArgs,
}

fn parse_l2(s: &str) -> Result<(String, String), String> {
    let (name, url) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected NAME=URL"))?;
    if name.is_empty() || url.is_empty() {
        return Err(format!("{s:?}: expected NAME=URL"));
    }
    Ok((name.to_string(), url.to_string()))
}

fn num(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(|x| hex_u64(x).ok()).unwrap_or_default()
}

/// Observes one chain over its newest `blocks` blocks.
fn observe(
    name: &str,
    c: &Client,
    blocks: u64,
    agent: Option<Address>,
    t: &Thresholds,
    l2: bool,
) -> eyre::Result<ChainObservation> {
    let chain_id = c.chain_id()?;
    let head = c.block_number()?;
    let first = head.saturating_sub(blocks - 1);
    let (mut txs, mut gas, mut limit) = (0u64, 0u64, 0u64);
    let (mut t0, mut t1, mut base_fee) = (0u64, 0u64, 0u64);
    let mut mine = Vec::new();
    for n in first..=head {
        let b = c.call("eth_getBlockByNumber", json!([format!("{n:#x}"), true]))?;
        if b.is_null() {
            continue;
        }
        let ts = num(&b, "timestamp");
        if n == first {
            t0 = ts;
        }
        t1 = ts;
        base_fee = num(&b, "baseFeePerGas");
        gas += num(&b, "gasUsed");
        limit += num(&b, "gasLimit");
        for tx in b["transactions"].as_array().into_iter().flatten() {
            if tx["type"] == "0x7e" {
                continue; // deposits and the L1-info transaction are not the chain's load
            }
            txs += 1;
            let from = tx["from"].as_str().and_then(|f| f.parse::<Address>().ok());
            if agent.is_some() && from == agent {
                mine.push(tx["hash"].clone());
            }
        }
    }
    let span = t1.saturating_sub(t0);
    let sampled = head - first;
    let block_time_s = if sampled > 0 { span as f64 / sampled as f64 } else { 0.0 };
    let tps = if span > 0 { txs as f64 / span as f64 } else { 0.0 };
    let blob_base_fee_gwei = c.blob_base_fee().ok().map(|f| f as f64 / 1e9);
    let lag = |tag| -> eyre::Result<Option<u64>> {
        Ok(c.tagged_block_number(tag)?.map(|n| head.saturating_sub(n)))
    };
    let (time_to_safe_s, finalized_lag_blocks) = if l2 {
        let safe = lag(BlockNumberOrTag::Safe).unwrap_or(None);
        (safe.map(|l| l as f64 * block_time_s.max(1.0)), lag(BlockNumberOrTag::Finalized)?)
    } else {
        (None, None)
    };
    let mut fees = Vec::new();
    for h in &mine {
        let r = c.call("eth_getTransactionReceipt", json!([h]))?;
        let fee = num(&r, "gasUsed") as f64 * num(&r, "effectiveGasPrice") as f64
            + num(&r, "l1Fee") as f64;
        fees.push(fee);
    }
    let (cost, from_receipts) = if fees.is_empty() {
        (base_fee as f64 * t.gas_per_interaction as f64, false)
    } else {
        (fees.iter().sum::<f64>() / fees.len() as f64, true)
    };
    Ok(ChainObservation {
        name: name.to_string(),
        chain_id,
        head,
        base_fee_gwei: base_fee as f64 / 1e9,
        blob_base_fee_gwei,
        block_time_s,
        tps,
        gas_used_ratio: if limit > 0 { gas as f64 / limit as f64 } else { 0.0 },
        time_to_safe_s,
        finalized_lag_blocks,
        cost_per_interaction_wei: cost,
        cost_from_receipts: from_receipts,
    })
}

/// The URL of the L2 named `to`.
fn l2_url(args: &MonitorArgs, to: &str) -> eyre::Result<String> {
    args.l2s
        .iter()
        .find(|(n, _)| n == to)
        .map(|(_, u)| u.clone())
        .ok_or_else(|| eyre!("no L2 named {to}"))
}

/// Bridges `--bridge-amount` to the key's own address on the L2 at `url`; what was done.
fn bridge_to(args: &MonitorArgs, to: &str, url: &str) -> eyre::Result<Value> {
    use alloy_sol_types::SolCall;
    let key = args.key.signer()?;
    let amount = agnt2_client::parse_amount(args.bridge_amount.as_deref().unwrap_or("0"))?;
    let ctx = crate::bridge::Ctx::connect(&args.l1, url)?;
    let call = crate::bridge::IPortal::depositTransactionCall {
        to: key.address(),
        value: amount,
        gasLimit: 100_000,
        isCreation: false,
        data: Default::default(),
    };
    let l1_tx = ctx
        .l1
        .transact(&key, Some(ctx.portal), amount, call.abi_encode())
        .wrap_err("depositing through the portal")?;
    let mut l2_txs = Vec::new();
    for h in crate::bridge::l2_hashes_of_deposit(&ctx, l1_tx)? {
        ctx.l2.wait_receipt(h, Duration::from_secs(120))?;
        l2_txs.push(h);
    }
    Ok(json!({
        "bridged": amount.to_string(),
        "to": to,
        "account": key.address(),
        "l1Tx": l1_tx,
        "l2Txs": l2_txs,
    }))
}

fn print_table(chains: &[ChainObservation], d: &Decision) {
    println!(
        "{:<10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>8} {:>9} {:>16}",
        "chain",
        "id",
        "head",
        "base gwei",
        "blob gwei",
        "block s",
        "tps",
        "safe s",
        "cost/interaction"
    );
    for c in chains {
        println!(
            "{:<10} {:>8} {:>10} {:>10.3} {:>10} {:>8.2} {:>8.2} {:>9} {:>12.0} wei{}",
            c.name,
            c.chain_id,
            c.head,
            c.base_fee_gwei,
            c.blob_base_fee_gwei.map_or_else(|| "-".into(), |f| format!("{f:.3}")),
            c.block_time_s,
            c.tps,
            c.time_to_safe_s.map_or_else(|| "-".into(), |s| format!("{s:.0}")),
            c.cost_per_interaction_wei,
            if c.cost_from_receipts { "*" } else { "" },
        );
    }
    match d {
        Decision::Stay { reason } => println!("→ stay on the L1: {reason}"),
        Decision::Move { to, reason } => println!("→ move to {to}: {reason}"),
        Decision::Launch { reason } => println!("→ launch an L2: {reason}"),
    }
}

pub(crate) fn run(args: MonitorArgs) -> eyre::Result<()> {
    let t: Thresholds = match &args.config {
        Some(path) => serde_json::from_str(
            &std::fs::read_to_string(path)
                .wrap_err_with(|| format!("reading {}", path.display()))?,
        )
        .wrap_err_with(|| format!("{} is not a thresholds file", path.display()))?,
        None => Thresholds::default(),
    };
    let launch = match &args.launch_datadir {
        Some(dir) => Some(crate::monitor_launch::LaunchAct {
            datadir: dir.clone(),
            plan: args.launch_plan.as_deref().map(crate::monitor_launch::Plan::load).transpose()?,
        }),
        None => None,
    };
    let registry = agnt2_metrics::Registry::new();
    // Kept for the life of the loop: it serves the scrapes.
    let _server = match args.metrics {
        Some(addr) => Some(serve_metrics(addr, &registry)?),
        None => None,
    };
    let l1 = Client::new(&args.l1)?;
    let l2s = args
        .l2s
        .iter()
        .map(|(n, u)| Ok((n.clone(), Client::new(u)?)))
        .collect::<eyre::Result<Vec<_>>>()?;
    loop {
        let l1o = observe("l1", &l1, args.blocks, args.agent, &t, false)
            .map_err(|e| eyre!("observing the L1: {e:#}"))?;
        let mut obs = Vec::new();
        for (name, c) in &l2s {
            obs.push(
                observe(name, c, args.blocks, args.agent, &t, true)
                    .wrap_err_with(|| format!("observing {name}"))?,
            );
        }
        let d = decide(&l1o, &obs, &t);
        let mut all = vec![l1o];
        all.extend(obs);
        record(&registry, &all, &d);
        let acted = match (&d, args.act, &launch) {
            (Decision::Move { to, .. }, true, _) => {
                Some(bridge_to(&args, to, &l2_url(&args, to)?)?)
            }
            (Decision::Launch { .. }, true, Some(launch)) => Some(launch.run(
                &args.l1,
                &args.launch_args,
                &args.key.signer()?,
                |url| bridge_to(&args, "launched", url),
                &args.artifacts,
            )?),
            _ => None,
        };
        if args.json {
            let time = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            println!("{}", json!({ "time": time, "chains": all, "decision": d, "acted": acted }));
        } else {
            print_table(&all, &d);
            if let Some(a) = &acted {
                println!("acted: {a}");
            }
        }
        if acted.is_some() {
            return Ok(());
        }
        match args.watch {
            Some(s) => std::thread::sleep(Duration::from_secs(s.max(1))),
            None => return Ok(()),
        }
    }
}

/// Starts the metrics endpoint on a runtime of its own (the monitor's loop blocks).
fn serve_metrics(
    addr: std::net::SocketAddr,
    registry: &agnt2_metrics::Registry,
) -> eyre::Result<tokio::runtime::Runtime> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(addr))
        .wrap_err_with(|| format!("binding --metrics {addr}"))?;
    eprintln!("Metrics on {}", listener.local_addr()?);
    let r = registry.clone();
    let pages: agnt2_metrics::Pages =
        std::sync::Arc::new(move |_| Some(agnt2_metrics::Page::metrics(r.render())));
    rt.spawn(agnt2_metrics::serve(listener, registry.clone(), pages, std::future::pending()));
    Ok(rt)
}

/// The observation and the decision as gauges (`chain` label per chain; `action` on the
/// decision: 1 for the one taken, 0 for the others).
fn record(r: &agnt2_metrics::Registry, chains: &[ChainObservation], d: &Decision) {
    use agnt2_metrics::Unit;
    for (name, help) in [
        ("agnt2_monitor_base_fee_gwei", "Base fee of the chain's newest block, in gwei"),
        ("agnt2_monitor_blob_base_fee_gwei", "Blob base fee, in gwei (where the chain has one)"),
        ("agnt2_monitor_block_time_seconds", "Mean seconds per block over the sample"),
        ("agnt2_monitor_tps", "Transactions per second over the sample (deposits left out)"),
        ("agnt2_monitor_gas_used_ratio", "Gas used over the gas limit over the sample"),
        ("agnt2_monitor_time_to_safe_seconds", "Head minus safe head, in seconds (L2s)"),
        ("agnt2_monitor_cost_per_interaction_wei", "What one of the agent's interactions costs"),
        ("agnt2_monitor_decision", "1 for the action decided (stay, move, launch), else 0"),
    ] {
        r.describe(name, None::<Unit>, help);
    }
    for c in chains {
        let l = [("chain", c.name.clone())];
        r.gauge_with("agnt2_monitor_base_fee_gwei", &l).set(c.base_fee_gwei);
        if let Some(f) = c.blob_base_fee_gwei {
            r.gauge_with("agnt2_monitor_blob_base_fee_gwei", &l).set(f);
        }
        r.gauge_with("agnt2_monitor_block_time_seconds", &l).set(c.block_time_s);
        r.gauge_with("agnt2_monitor_tps", &l).set(c.tps);
        r.gauge_with("agnt2_monitor_gas_used_ratio", &l).set(c.gas_used_ratio);
        if let Some(s) = c.time_to_safe_s {
            r.gauge_with("agnt2_monitor_time_to_safe_seconds", &l).set(s);
        }
        r.gauge_with("agnt2_monitor_cost_per_interaction_wei", &l).set(c.cost_per_interaction_wei);
    }
    let taken = match d {
        Decision::Stay { .. } => "stay",
        Decision::Move { .. } => "move",
        Decision::Launch { .. } => "launch",
    };
    for action in ["stay", "move", "launch"] {
        let g = r.gauge_with("agnt2_monitor_decision", &[("action", action.to_string())]);
        g.set(if action == taken { 1.0 } else { 0.0 });
    }
}
