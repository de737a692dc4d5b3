//! Prometheus metrics: chain counters kept by the miner, pool and database gauges read at
//! scrape time, and the RPC server's per-method counters, served as text on `--metrics`.

use crate::Chain;
use agnt2_rpc::{ChainApi, RpcMetrics};
use std::{
    fmt::Write as _,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tracing::{debug, info};

/// Counters the miner updates.
#[derive(Debug, Default)]
pub(crate) struct ChainMetrics {
    pub(crate) blocks: AtomicU64,
    pub(crate) transactions: AtomicU64,
    pub(crate) gas: AtomicU64,
    /// Microseconds spent building and committing blocks.
    pub(crate) build_micros: AtomicU64,
    /// Blocks the parallel builder built in parallel.
    pub(crate) parallel_blocks: AtomicU64,
    /// Speculated transactions committed as they were.
    pub(crate) speculated: AtomicU64,
    /// Speculated transactions executed again after a conflict.
    pub(crate) reexecuted: AtomicU64,
    /// Transactions executed directly at commit in parallel blocks.
    pub(crate) direct: AtomicU64,
}

fn render(chain: &Chain, rpc: &RpcMetrics) -> String {
    let m = chain.metrics();
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, v: f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    };
    counter("agnt2_blocks_total", "Blocks produced", m.blocks.load(Ordering::Relaxed) as f64);
    counter(
        "agnt2_transactions_total",
        "Pool transactions included in blocks",
        m.transactions.load(Ordering::Relaxed) as f64,
    );
    counter("agnt2_gas_used_total", "Gas used by blocks", m.gas.load(Ordering::Relaxed) as f64);
    counter(
        "agnt2_block_build_seconds_total",
        "Time spent building and committing blocks",
        m.build_micros.load(Ordering::Relaxed) as f64 / 1e6,
    );
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
    counter(
        "agnt2_builder_parallel_blocks_total",
        "Blocks built by the parallel builder (not its sequential fallback)",
        load(&m.parallel_blocks),
    );
    counter(
        "agnt2_builder_speculated_total",
        "Speculatively executed transactions committed as they were",
        load(&m.speculated),
    );
    counter(
        "agnt2_builder_reexecuted_total",
        "Speculated transactions executed again after a conflict",
        load(&m.reexecuted),
    );
    counter(
        "agnt2_builder_direct_total",
        "Transactions of parallel blocks executed directly at commit (hot keys, not yet speculated)",
        load(&m.direct),
    );
    let status = chain.pool().status();
    let db_bytes: usize =
        chain.store().stats().map(|s| s.iter().map(|t| t.bytes).sum()).unwrap_or_default();
    let mut gauge = |name: &str, help: &str, v: f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    };
    gauge("agnt2_head_block_number", "Head block number", chain.head().number as f64);
    gauge("agnt2_txpool_pending", "Executable pool transactions", status.pending as f64);
    gauge("agnt2_txpool_queued", "Pool transactions waiting for a nonce", status.queued as f64);
    gauge("agnt2_db_size_bytes", "Bytes in MDBX pages across tables", db_bytes as f64);
    rpc.render(&mut out);
    out
}

/// Serves the metrics on `addr` until the task is dropped; returns the bound address.
pub(crate) async fn serve(
    addr: SocketAddr,
    chain: Arc<Chain>,
    rpc: Arc<RpcMetrics>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    info!(target: "node::metrics", %bound, "serving Prometheus metrics");
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { continue };
            let (chain, rpc) = (chain.clone(), rpc.clone());
            tokio::spawn(async move {
                // One request per connection; the request line and headers are not needed.
                let mut buf = [0u8; 2048];
                let _ = sock.read(&mut buf).await;
                let body = tokio::task::spawn_blocking(move || render(&chain, &rpc))
                    .await
                    .unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                if let Err(e) = sock.write_all(head.as_bytes()).await {
                    debug!(target: "node::metrics", %e, "scrape failed");
                    return;
                }
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    Ok((bound, task))
}
