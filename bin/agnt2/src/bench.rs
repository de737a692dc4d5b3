//! `agnt2 bench rpc`: an end-to-end load generator for any Ethereum JSON-RPC endpoint.
//!
//! Pre-signs EIP-1559 transfers from the dev accounts, submits them in JSON-RPC batches over a
//! few connections, and watches new blocks to time each transaction from submission to the
//! moment a client can see it in a block. Run against agnt2 and anvil in the same session (see
//! `scripts/bench-e2e.sh`) and compare the ratio.

use agnt2_client::Client;
use agnt2_primitives::{TxEnvelope, dev_signers};
use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, TxKind, U256, hex};
use alloy_signer::SignerSync;
use clap::Args;
use eyre::{bail, eyre};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Options of `agnt2 bench rpc`.
#[derive(Debug, Args)]
pub(crate) struct RpcBenchArgs {
    /// JSON-RPC endpoint: `http(s)://host:port`.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    url: String,
    /// Number of transfers.
    #[arg(long, default_value_t = 2000)]
    txs: usize,
    /// Number of sending dev accounts (at most 20).
    #[arg(long, default_value_t = 20)]
    senders: u32,
    /// Transactions per JSON-RPC batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Concurrent connections submitting batches.
    #[arg(long, default_value_t = 4)]
    conns: usize,
    /// Label in the output.
    #[arg(long, default_value = "target")]
    label: String,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// One keep-alive connection pool per submitter and one for the watcher.
fn client(url: &str) -> eyre::Result<Client> {
    Client::with_timeout_at(url, Duration::from_secs(120))
}

fn call(c: &Client, method: &str, params: Value) -> eyre::Result<Value> {
    let v = c.post(
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
    )?;
    v.get("result").cloned().ok_or_else(|| eyre!("{method}: {v}"))
}

fn hex_u64(v: &Value) -> eyre::Result<u64> {
    let s = v.as_str().ok_or_else(|| eyre!("not a string: {v}"))?;
    Ok(u64::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs the benchmark and prints one JSON object.
pub(crate) fn run(args: RpcBenchArgs) -> eyre::Result<()> {
    let watcher = client(&args.url)?;
    if args.senders == 0 || args.senders > 20 {
        bail!("--senders must be 1..=20");
    }
    let chain_id = hex_u64(&call(&watcher, "eth_chainId", json!([]))?)?;
    let gas_price = u128::from(hex_u64(&call(&watcher, "eth_gasPrice", json!([]))?)?);
    let signers = dev_signers(args.senders);
    let mut nonces = Vec::new();
    for s in &signers {
        nonces.push(hex_u64(&call(
            &watcher,
            "eth_getTransactionCount",
            json!([s.address(), "latest"]),
        )?)?);
    }

    // Pre-sign, round-robin over senders so that every batch mixes senders.
    let mut raws = Vec::with_capacity(args.txs);
    let mut hashes = Vec::with_capacity(args.txs);
    for i in 0..args.txs {
        let k = i % signers.len();
        let tx = TxEip1559 {
            chain_id,
            nonce: nonces[k] + (i / signers.len()) as u64,
            gas_limit: 21_000,
            max_fee_per_gas: gas_price * 4,
            max_priority_fee_per_gas: 1_000_000,
            to: TxKind::Call(Address::with_last_byte(0xbe)),
            value: U256::from(1),
            ..Default::default()
        };
        let sig = signers[k].sign_hash_sync(&tx.signature_hash())?;
        let env = TxEnvelope::Eip1559(tx.into_signed(sig));
        hashes.push(env.tx_hash());
        raws.push(format!("0x{}", hex::encode(env.encoded_2718())));
    }

    let start_block = hex_u64(&call(&watcher, "eth_blockNumber", json!([]))?)?;
    let submitted: Arc<Mutex<HashMap<alloy_primitives::B256, Instant>>> = Arc::default();
    let batches: Vec<Vec<usize>> =
        (0..args.txs).collect::<Vec<_>>().chunks(args.batch).map(<[usize]>::to_vec).collect();
    let queue = Arc::new(Mutex::new(batches.into_iter()));
    let raws = Arc::new(raws);
    let hashes = Arc::new(hashes);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.conns.max(1) {
        let (queue, raws, hashes, submitted) =
            (queue.clone(), raws.clone(), hashes.clone(), submitted.clone());
        let conn = client(&args.url)?;
        workers.push(std::thread::spawn(move || -> eyre::Result<()> {
            loop {
                let Some(batch) = queue.lock().map_err(|_| eyre!("poisoned"))?.next() else { return Ok(()) };
                let body: Vec<Value> = batch
                    .iter()
                    .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raws[*i]]}))
                    .collect();
                let now = Instant::now();
                {
                    let mut s = submitted.lock().map_err(|_| eyre!("poisoned"))?;
                    for i in &batch {
                        s.insert(hashes[*i], now);
                    }
                }
                let resp = conn.post(&Value::Array(body).to_string())?;
                if let Some(err) = resp.as_array().and_then(|a| a.iter().find(|r| r.get("error").is_some())) {
                    bail!("submission rejected: {err}");
                }
            }
        }));
    }

    // Watch blocks until every transaction has been seen in one.
    let mut seen: HashMap<alloy_primitives::B256, Instant> = HashMap::new();
    let mut next = start_block + 1;
    let mut blocks = 0u64;
    let deadline = started + Duration::from_secs(args.timeout);
    while seen.len() < args.txs {
        if Instant::now() > deadline {
            bail!("timeout: {} of {} transactions included", seen.len(), args.txs);
        }
        let head = hex_u64(&call(&watcher, "eth_blockNumber", json!([]))?)?;
        if head < next {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        for n in next..=head {
            let b = call(&watcher, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]))?;
            let now = Instant::now();
            blocks += 1;
            for h in b["transactions"].as_array().into_iter().flatten() {
                if let Some(h) = h.as_str().and_then(|h| h.parse().ok()) {
                    seen.entry(h).or_insert(now);
                }
            }
        }
        next = head + 1;
    }
    let elapsed = started.elapsed();
    for w in workers {
        w.join().map_err(|_| eyre!("submitter panicked"))??;
    }
    let submitted = submitted.lock().map_err(|_| eyre!("poisoned"))?;
    let mut lat: Vec<f64> = hashes
        .iter()
        .filter_map(|h| Some(seen.get(h)?.duration_since(*submitted.get(h)?).as_secs_f64() * 1e3))
        .collect();
    lat.sort_by(f64::total_cmp);
    let out = json!({
        "label": args.label,
        "txs": args.txs,
        "senders": args.senders,
        "batch": args.batch,
        "conns": args.conns,
        "blocks": blocks,
        "elapsed_ms": (elapsed.as_secs_f64() * 1e3).round(),
        "tps": (args.txs as f64 / elapsed.as_secs_f64()).round(),
        "p50_ms": (percentile(&lat, 0.5) * 10.0).round() / 10.0,
        "p99_ms": (percentile(&lat, 0.99) * 10.0).round() / 10.0,
    });
    println!("{out}");
    Ok(())
}
