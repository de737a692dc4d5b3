//! The runtime the blocking helpers run alloy's futures on.
//!
//! Callers are synchronous code, `spawn_blocking` threads and (for short calls) async tasks of
//! their own runtimes. Running the futures on one background runtime of this crate and waiting
//! on a plain channel works from all three: no runtime is ever entered twice on one thread.

use std::{
    future::Future,
    sync::{LazyLock, mpsc},
};
use tokio::runtime::Runtime;

static RUNTIME: LazyLock<Result<Runtime, String>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("agnt2-client")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
});

/// Runs `fut` on the client runtime and waits for its output.
pub(crate) fn block_on<F>(fut: F) -> eyre::Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = RUNTIME.as_ref().map_err(|e| eyre::eyre!("starting the client runtime: {e}"))?;
    let (tx, rx) = mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| eyre::eyre!("the client runtime dropped a call (it panicked)"))
}
