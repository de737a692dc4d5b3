use crate::{Chain, MiningMode};
use std::sync::Arc;
use tracing::error;

async fn mine(chain: &Arc<Chain>) -> Option<usize> {
    let c = chain.clone();
    match tokio::task::spawn_blocking(move || c.mine_block()).await {
        Ok(Ok((_, included))) => Some(included),
        Ok(Err(e)) => {
            error!(target: "node::miner", "block production failed: {e:#}");
            None
        }
        Err(e) => {
            error!(target: "node::miner", "miner task failed: {e}");
            None
        }
    }
}

/// The miner loop. It follows the chain's mining mode, which devnet controls may switch at
/// any time (`evm_setAutomine`, `evm_setIntervalMining`).
pub(crate) async fn run(chain: Arc<Chain>) {
    if let Some(slot) = chain.block_time() {
        return slots(chain, slot).await;
    }
    loop {
        match chain.current_mining_mode() {
            MiningMode::Instant => {
                tokio::select! {
                    _ = chain.wake.notified() => {}
                    _ = chain.mode_changed.notified() => continue,
                }
                // Keep building while transactions keep arriving: each block takes everything
                // that is pending at the moment it starts.
                while chain.has_pending() {
                    match mine(&chain).await {
                        Some(0) | None => break,
                        Some(_) => {}
                    }
                }
            }
            MiningMode::Interval(every) => {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {
                        mine(&chain).await;
                    }
                    _ = chain.mode_changed.notified() => {}
                }
            }
            MiningMode::Manual => chain.mode_changed.notified().await,
        }
    }
}

/// A rollup's sequencer: one block per slot, each `slot` seconds after its parent, produced
/// once the wall clock reaches its timestamp (at once, one after the other, when behind).
async fn slots(chain: Arc<Chain>, slot: u64) {
    loop {
        let due_ms =
            (agnt2_rpc::ChainApi::head(&*chain).header.timestamp + slot).saturating_mul(1000);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        if due_ms > now_ms {
            tokio::time::sleep(std::time::Duration::from_millis(due_ms - now_ms)).await;
        }
        if mine(&chain).await.is_none() {
            // Do not spin on a failing build.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}
