//! Prometheus metrics of the node: chain counters the miner updates, pool and database gauges
//! read at scrape time, and the RPC server's per-method series, all in one
//! [`Registry`] served on `--metrics`.

use crate::Chain;
use agnt2_metrics::{Counter, Gauge, Page, Pages, Registry};
use agnt2_rpc::ChainApi;
use std::{net::SocketAddr, sync::Arc};
use tokio::{net::TcpListener, sync::oneshot};
use tracing::info;

/// Counters the miner updates.
#[derive(Debug)]
pub(crate) struct ChainMetrics {
    pub(crate) registry: Registry,
    pub(crate) blocks: Counter,
    pub(crate) transactions: Counter,
    pub(crate) gas: Counter,
    /// Seconds spent building and committing blocks (a float, so a gauge only ever increased).
    pub(crate) build_seconds: Gauge,
    /// Blocks the parallel builder built in parallel.
    pub(crate) parallel_blocks: Counter,
    /// Speculated transactions committed as they were.
    pub(crate) speculated: Counter,
    /// Speculated transactions executed again after a conflict.
    pub(crate) reexecuted: Counter,
    /// Transactions executed directly at commit in parallel blocks.
    pub(crate) direct: Counter,
    head: Gauge,
    safe: Gauge,
    finalized: Gauge,
    pending: Gauge,
    queued: Gauge,
    db_bytes: Gauge,
    /// DA throttling's series.
    pub(crate) throttle: crate::throttle::ThrottleMetrics,
}

impl Default for ChainMetrics {
    fn default() -> Self {
        let r = Registry::new();
        Self {
            blocks: r.counter("agnt2_blocks_total", "Blocks produced"),
            transactions: r
                .counter("agnt2_transactions_total", "Pool transactions included in blocks"),
            gas: r.counter("agnt2_gas_used_total", "Gas used by blocks"),
            build_seconds: r.gauge(
                "agnt2_block_build_seconds_total",
                "Time spent building and committing blocks",
            ),
            parallel_blocks: r.counter(
                "agnt2_builder_parallel_blocks_total",
                "Blocks built by the parallel builder (not its sequential fallback)",
            ),
            speculated: r.counter(
                "agnt2_builder_speculated_total",
                "Speculatively executed transactions committed as they were",
            ),
            reexecuted: r.counter(
                "agnt2_builder_reexecuted_total",
                "Speculated transactions executed again after a conflict",
            ),
            direct: r.counter(
                "agnt2_builder_direct_total",
                "Transactions of parallel blocks executed directly at commit (hot keys, not yet \
                 speculated)",
            ),
            head: r.gauge("agnt2_head_block_number", "Head block number"),
            safe: r.gauge(
                "agnt2_safe_block_number",
                "Safe head: the newest block derived from (or checked against) the L1's batches",
            ),
            finalized: r.gauge(
                "agnt2_finalized_block_number",
                "Finalized head: the newest safe block whose batch is in a finalized L1 block",
            ),
            pending: r.gauge("agnt2_txpool_pending", "Executable pool transactions"),
            queued: r.gauge("agnt2_txpool_queued", "Pool transactions waiting for a nonce"),
            db_bytes: r.gauge("agnt2_db_size_bytes", "Bytes in MDBX pages across tables"),
            throttle: crate::throttle::ThrottleMetrics::new(&r),
            registry: r,
        }
    }
}

/// The exposition: the gauges read now, then every series.
fn render(chain: &Chain) -> String {
    let m = chain.metrics();
    let status = chain.pool().status();
    let db_bytes: usize =
        chain.store().stats().map(|s| s.iter().map(|t| t.bytes).sum()).unwrap_or_default();
    m.head.set(chain.head().number as f64);
    if let Ok(r) = chain.store().reader() {
        m.safe.set(r.safe_head().unwrap_or_default() as f64);
        m.finalized.set(r.finalized_head().unwrap_or_default() as f64);
    }
    m.pending.set(status.pending as f64);
    m.queued.set(status.queued as f64);
    m.db_bytes.set(db_bytes as f64);
    m.registry.render()
}

/// Serves the metrics on `addr` (every path) until `stop` fires; returns the bound address.
pub(crate) async fn serve(
    addr: SocketAddr,
    chain: Arc<Chain>,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    info!(target: "node::metrics", %bound, "serving Prometheus metrics");
    let registry = chain.metrics().registry.clone();
    let pages: Pages = Arc::new(move |_| Some(Page::metrics(render(&chain))));
    let task = tokio::spawn(agnt2_metrics::serve(listener, registry, pages, async {
        let _ = stop.await;
    }));
    Ok((bound, task))
}
