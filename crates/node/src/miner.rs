use crate::Chain;
use std::{sync::Arc, time::Duration};
use tracing::error;

/// How blocks are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiningMode {
    /// A block as soon as anything is pending, with everything pending that fits.
    Instant,
    /// A block every interval, empty or not.
    Interval(Duration),
    /// Only on request (`evm_mine`, `anvil_mine`).
    Manual,
}

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

/// The miner loop.
pub(crate) async fn run(chain: Arc<Chain>, mode: MiningMode) {
    match mode {
        MiningMode::Instant => loop {
            chain.wake.notified().await;
            // Keep building while transactions keep arriving: each block takes everything
            // that is pending at the moment it starts.
            while chain.has_pending() {
                match mine(&chain).await {
                    Some(0) | None => break,
                    Some(_) => {}
                }
            }
        },
        MiningMode::Interval(every) => {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                mine(&chain).await;
            }
        }
        MiningMode::Manual => std::future::pending().await,
    }
}
