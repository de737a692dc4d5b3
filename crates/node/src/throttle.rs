//! DA throttling, as op-batcher drives op-geth's `miner_setMaxDASize`: when the L1 takes the
//! chain's data more slowly than the sequencer makes it, the backlog of unsafe data (blocks
//! not yet derived from the L1) grows; past a threshold the miner caps the estimated
//! compressed size of each transaction and of each block, harder as the backlog grows
//! (quadratically, op-batcher's default controller), until the L1 catches up.
//!
//! The backlog is measured on the sequencer itself (its safe head), so it works wherever the
//! batcher runs. Sizes are OP's Fjord estimate (`max(100, -42.59 + 0.8365 × FastLZ size)`),
//! what the L1 fee charges for. The caps are applied to the pool's candidates before the
//! block is built, so the sequential and the parallel builder see the same list.

use crate::Chain;
use agnt2_metrics::{Counter, Gauge, Registry};
use agnt2_rpc::ChainApi;
use agnt2_txpool::PooledTx;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::B256;
use std::{
    collections::BTreeMap,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

/// The thresholds and limits (op-batcher's `--throttle.*` flags and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Unsafe DA bytes past which throttling starts; 0 turns it off.
    pub lower_threshold: u64,
    /// Unsafe DA bytes at which throttling is at its hardest.
    pub upper_threshold: u64,
    /// The per-transaction cap at the hardest.
    pub tx_size_lower_limit: u64,
    /// The per-transaction cap when throttling starts.
    pub tx_size_upper_limit: u64,
    /// The per-block cap at the hardest.
    pub block_size_lower_limit: u64,
    /// The per-block cap when throttling starts.
    pub block_size_upper_limit: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            lower_threshold: 3_200_000,
            upper_threshold: 12_800_000,
            tx_size_lower_limit: 150,
            tx_size_upper_limit: 20_000,
            block_size_lower_limit: 2_000,
            block_size_upper_limit: 130_000,
        }
    }
}

impl ThrottleConfig {
    /// The caps `(per transaction, per block)` for a backlog of `pending` bytes, and the
    /// intensity (0 to 1); `None` below the threshold.
    pub fn limits(&self, pending: u64) -> Option<(u64, u64, f64)> {
        if self.lower_threshold == 0 || pending <= self.lower_threshold {
            return None;
        }
        let span = self.upper_threshold.saturating_sub(self.lower_threshold).max(1) as f64;
        let intensity = ((pending - self.lower_threshold) as f64 / span).min(1.0);
        let q = intensity * intensity;
        let lerp = |lower: u64, upper: u64| {
            (upper as f64 - (upper.saturating_sub(lower)) as f64 * q).round() as u64
        };
        Some((
            lerp(self.tx_size_lower_limit, self.tx_size_upper_limit),
            lerp(self.block_size_lower_limit, self.block_size_upper_limit),
            intensity,
        ))
    }
}

/// OP's Fjord estimate of a transaction's compressed size, in bytes.
pub fn estimated_size(encoded: &[u8]) -> u64 {
    op_revm::transaction::estimate_tx_compressed_size(encoded) / 1_000_000
}

/// The caps the miner applies (0: none), set by the throttle thread.
#[derive(Debug, Default)]
pub(crate) struct DaLimits {
    max_tx: AtomicU64,
    max_block: AtomicU64,
}

impl DaLimits {
    fn set(&self, limits: Option<(u64, u64)>) {
        let (tx, block) = limits.unwrap_or_default();
        self.max_tx.store(tx, Ordering::Relaxed);
        self.max_block.store(block, Ordering::Relaxed);
    }

    /// The candidates a block may take: those under the per-transaction cap, in order, while
    /// their sum stays under the per-block cap; the others wait in the pool. Returns how many
    /// were held back.
    pub(crate) fn apply(&self, candidates: Vec<Arc<PooledTx>>) -> (Vec<Arc<PooledTx>>, usize) {
        let (max_tx, max_block) =
            (self.max_tx.load(Ordering::Relaxed), self.max_block.load(Ordering::Relaxed));
        if max_tx == 0 && max_block == 0 {
            return (candidates, 0);
        }
        let total = candidates.len();
        let mut used = 0u64;
        let kept: Vec<_> = candidates
            .into_iter()
            .filter(|c| {
                let size = estimated_size(&c.tx.inner().encoded_2718());
                if (max_tx > 0 && size > max_tx) || (max_block > 0 && used + size > max_block) {
                    return false;
                }
                used += size;
                true
            })
            .collect();
        let held = total - kept.len();
        (kept, held)
    }
}

/// The throttle's series (`agnt2_throttle_*`).
#[derive(Debug, Clone)]
pub(crate) struct ThrottleMetrics {
    unsafe_bytes: Gauge,
    intensity: Gauge,
    pub(crate) held: Counter,
}

impl ThrottleMetrics {
    pub(crate) fn new(r: &Registry) -> Self {
        Self {
            unsafe_bytes: r.gauge(
                "agnt2_throttle_unsafe_da_bytes",
                "Estimated compressed bytes of the blocks not yet derived from the L1",
            ),
            intensity: r.gauge(
                "agnt2_throttle_intensity",
                "DA throttling: 0 off or at its start, 1 at its hardest",
            ),
            held: r.counter(
                "agnt2_throttle_held_txs_total",
                "Times a pool transaction was kept out of a block by DA throttling",
            ),
        }
    }
}

/// Measures the unsafe backlog once a second and sets the miner's caps, until `stop`.
pub(crate) fn spawn(
    config: ThrottleConfig,
    chain: Weak<Chain>,
    stop: Arc<AtomicBool>,
) -> eyre::Result<()> {
    if config.lower_threshold == 0 {
        return Ok(());
    }
    std::thread::Builder::new().name("da-throttle".into()).spawn(move || {
        // Each block's estimate, by number, with the hash it was computed for.
        let mut sizes: BTreeMap<u64, (B256, u64)> = BTreeMap::new();
        let mut throttled = false;
        while !stop.load(Ordering::Relaxed)
            && let Some(chain) = chain.upgrade()
        {
            match unsafe_bytes(&chain, &mut sizes) {
                Ok(pending) => {
                    let limits = config.limits(pending);
                    let m = chain.throttle_metrics();
                    m.unsafe_bytes.set(pending as f64);
                    m.intensity.set(limits.map_or(0.0, |l| l.2));
                    if limits.is_some() != throttled {
                        throttled = limits.is_some();
                        tracing::info!(target: "node::throttle", pending, ?limits, "DA throttling {}", if throttled { "on" } else { "off" });
                    }
                    chain.da_limits().set(limits.map(|(tx, block, _)| (tx, block)));
                }
                Err(e) => tracing::warn!(target: "node::throttle", "measuring the backlog: {e:#}"),
            }
            drop(chain);
            std::thread::sleep(Duration::from_secs(1));
        }
    })?;
    Ok(())
}

/// The estimated compressed size of the non-deposit transactions of the blocks after the safe
/// head (each block computed once).
fn unsafe_bytes(chain: &Chain, sizes: &mut BTreeMap<u64, (B256, u64)>) -> eyre::Result<u64> {
    let r = chain.reader()?;
    let (safe, head) = (r.safe_head()?, chain.head().number);
    *sizes = sizes.split_off(&(safe + 1));
    sizes.retain(|n, _| *n <= head);
    let mut total = 0;
    for n in safe + 1..=head {
        let Some(hash) = r.block_hash(n)? else { break };
        let size = match sizes.get(&n) {
            Some((h, size)) if *h == hash => *size,
            _ => {
                let body = r.body(n)?.unwrap_or_default();
                let size = body
                    .iter()
                    .filter(|(_, tx)| !tx.is_deposit())
                    .map(|(_, tx)| estimated_size(&tx.encoded_2718()))
                    .sum();
                sizes.insert(n, (hash, size));
                size
            }
        };
        total += size;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::ThrottleConfig;

    #[test]
    fn limits_tighten_quadratically_between_the_thresholds() {
        let c = ThrottleConfig::default();
        assert_eq!(c.limits(0), None);
        assert_eq!(c.limits(3_200_000), None);
        // Just past the lower threshold: the upper limits.
        assert_eq!(c.limits(3_200_001).map(|l| (l.0, l.1)), Some((20_000, 130_000)));
        // Halfway: a quarter of the way down.
        let (tx, block, i) = c.limits(8_000_000).unwrap();
        assert!((i - 0.5).abs() < 1e-9);
        assert_eq!((tx, block), (20_000 - (20_000 - 150) / 4, 130_000 - 128_000 / 4));
        // At and past the upper threshold: the lower limits.
        assert_eq!(c.limits(12_800_000).map(|l| (l.0, l.1)), Some((150, 2_000)));
        assert_eq!(c.limits(u64::MAX).map(|l| (l.0, l.1)), Some((150, 2_000)));
        // Off.
        let off = ThrottleConfig { lower_threshold: 0, ..c };
        assert_eq!(off.limits(u64::MAX), None);
    }
}
