//! What the agnt2 binaries (`agnt2`, `agnt2-hub`, `agnt2-sidecar`) share: one logging set-up,
//! one shutdown signal, and the option blocks several commands take (flattened into their
//! `clap` structs, as Foundry's shared options are).

use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use tracing_subscriber::EnvFilter;

/// Logs to stderr (stdout carries what a command prints), at `RUST_LOG` when set, otherwise at
/// the level `-v`/`-q` give: `info` by default, `debug` with `-vv`, `trace` beyond, `warn` with
/// `-q`.
pub fn init_tracing(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (_, 0 | 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Resolves on Ctrl-C or SIGTERM (what process managers send to stop a service).
pub async fn shutdown_signal() -> eyre::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// The rollup's JSON-RPC endpoint.
#[derive(Debug, Clone, Args)]
pub struct L2RpcArgs {
    /// The rollup's JSON-RPC: `http(s)://` or `ws(s)://`.
    #[arg(long = "l2.rpc-url", default_value = "http://127.0.0.1:8545", global = true)]
    pub l2_rpc_url: String,
}

/// The key a command signs with.
#[derive(Debug, Clone, Args)]
pub struct PrivateKeyArgs {
    /// The private key (hex).
    #[arg(long = "private-key", env = "AGNT2_PRIVATE_KEY", hide_env_values = true, global = true)]
    pub private_key: Option<String>,
}

impl PrivateKeyArgs {
    /// The key as hex, or why there is none.
    pub fn hex(&self) -> eyre::Result<&str> {
        self.private_key
            .as_deref()
            .map(str::trim)
            .ok_or_else(|| eyre::eyre!("--private-key (or AGNT2_PRIVATE_KEY) is required"))
    }

    /// The signer.
    pub fn signer(&self) -> eyre::Result<PrivateKeySigner> {
        self.hex()?.parse().map_err(|e| eyre::eyre!("--private-key: {e}"))
    }
}
