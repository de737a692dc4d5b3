//! `agnt2 bench settlement`: deposit latency (L1 receipt → L2 receipt) and the L1 gas of a
//! deposit, an output proposal, a prove and a finalize, against a node started by `agnt2 launch`.

use crate::bridge::{Ctx, IPortal, SolCall, l2_hashes_of_deposit};
use agnt2_settlement::withdraw;
use alloy_primitives::{B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use eyre::{WrapErr, bail};
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};

/// Options of `agnt2 bench settlement`.
#[derive(Debug, Args)]
pub(crate) struct SettlementBenchArgs {
    /// The L1's JSON-RPC.
    #[arg(long = "l1.rpc-url", default_value = "http://127.0.0.1:8546")]
    l1_rpc_url: String,
    /// The L2 node's JSON-RPC (started by `agnt2 launch`).
    #[arg(long = "l2.rpc-url", default_value = "http://127.0.0.1:8545")]
    l2_rpc_url: String,
    /// Deposits to time (one after another).
    #[arg(long, default_value_t = 20)]
    deposits: usize,
    /// The key that deposits and withdraws (default: dev account 3).
    #[arg(long = "private-key", env = "AGNT2_BENCH_KEY", hide_env_values = true)]
    private_key: Option<String>,
    /// Also time one withdrawal through prove and finalize (waits out the finalization period).
    #[arg(long)]
    withdrawal: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    deposits: usize,
    deposit_latency_p50_ms: f64,
    deposit_latency_p99_ms: f64,
    deposit_latency_max_ms: f64,
    deposit_l1_gas: u64,
    propose_l1_gas: Option<u64>,
    prove_l1_gas: Option<u64>,
    finalize_l1_gas: Option<u64>,
    withdrawal_total_s: Option<f64>,
}

fn gas_used(c: &agnt2_client::Client, tx: B256) -> eyre::Result<u64> {
    Ok(c.wait_receipt(tx, Duration::from_secs(120))?.gas_used)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0.0)
}

pub(crate) fn run(args: SettlementBenchArgs) -> eyre::Result<()> {
    let ctx = Ctx::connect(&args.l1_rpc_url, &args.l2_rpc_url)?;
    let key: PrivateKeySigner = match &args.private_key {
        Some(k) => k.trim().parse().map_err(|e| eyre::eyre!("--private-key: {e}"))?,
        None => agnt2_primitives::dev_signers(4).remove(3),
    };
    if args.deposits == 0 {
        bail!("--deposits must be at least 1");
    }
    let mut lat = Vec::new();
    let mut deposit_gas = 0;
    for _ in 0..args.deposits {
        let call = IPortal::depositTransactionCall {
            to: key.address(),
            value: U256::from(1u64),
            gasLimit: 100_000,
            isCreation: false,
            data: Bytes::new(),
        };
        let tx = ctx.l1.transact(&key, Some(ctx.portal), U256::from(1u64), call.abi_encode())?;
        let seen_l1 = Instant::now();
        deposit_gas = gas_used(&ctx.l1, tx)?;
        for h in l2_hashes_of_deposit(&ctx, tx)? {
            let start = Instant::now();
            while ctx.l2.call("eth_getTransactionReceipt", json!([h]))?.is_null() {
                if start.elapsed() > Duration::from_secs(120) {
                    bail!("deposit {h} did not reach L2 in 120 s");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        lat.push(seen_l1.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(f64::total_cmp);

    // The newest output proposal's L1 gas.
    let head = ctx.l1.block_number()?;
    let topic = alloy_primitives::keccak256("OutputProposed(bytes32,uint256,uint256,uint256)");
    let logs = ctx.l1.call(
        "eth_getLogs",
        json!([{"address": ctx.oracle, "fromBlock": "0x0", "toBlock": format!("0x{head:x}"), "topics": [topic]}]),
    )?;
    let propose_l1_gas = match logs.as_array().and_then(|l| l.last()) {
        Some(l) => Some(gas_used(&ctx.l1, serde_json::from_value(l["transactionHash"].clone())?)?),
        None => None,
    };

    let (mut prove_l1_gas, mut finalize_l1_gas, mut withdrawal_total_s) = (None, None, None);
    if args.withdrawal {
        let start = Instant::now();
        let tx = withdraw::initiate(
            &ctx.l2,
            &key,
            key.address(),
            U256::from(1u64),
            100_000,
            Bytes::new(),
        )?;
        let w = withdraw::from_l2_tx(&ctx.l2, tx)?;
        let proved = loop {
            match withdraw::prove(&ctx.l1, &ctx.l2, ctx.portal, ctx.oracle, &key, &w) {
                Ok(h) => break h,
                Err(e) if format!("{e:#}").contains("no output root covers") => {
                    if start.elapsed() > Duration::from_secs(600) {
                        return Err(e);
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(e).wrap_err("proving"),
            }
        };
        prove_l1_gas = Some(gas_used(&ctx.l1, proved)?);
        let finalized = loop {
            let s = withdraw::status(&ctx.l1, ctx.portal, ctx.oracle, &w)?;
            if s.finalizable_at.is_some_and(|t| t < ctx.l1.latest_timestamp().unwrap_or(0)) {
                match withdraw::finalize(&ctx.l1, ctx.portal, &key, &w) {
                    Ok(h) => break h,
                    Err(e) if start.elapsed() < Duration::from_secs(900) => {
                        tracing::debug!(err = %format!("{e:#}"), "finalize not yet possible");
                    }
                    Err(e) => return Err(e),
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        finalize_l1_gas = Some(gas_used(&ctx.l1, finalized)?);
        withdrawal_total_s = Some(start.elapsed().as_secs_f64());
    }

    let r = Report {
        deposits: args.deposits,
        deposit_latency_p50_ms: percentile(&lat, 0.5),
        deposit_latency_p99_ms: percentile(&lat, 0.99),
        deposit_latency_max_ms: lat.last().copied().unwrap_or(0.0),
        deposit_l1_gas: deposit_gas,
        propose_l1_gas,
        prove_l1_gas,
        finalize_l1_gas,
        withdrawal_total_s,
    };
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&r)?);
    }
    Ok(())
}
