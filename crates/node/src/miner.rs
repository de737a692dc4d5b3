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
