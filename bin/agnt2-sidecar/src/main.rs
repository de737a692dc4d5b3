//! `agnt2-sidecar`: a reverse proxy in front of an HTTP service that registers the service as
//! an agent on the rollup and has it paid per request over channels (docs/sidecar.md).

use agnt2_channels::Key;
use agnt2_sidecar::{Config, Sidecar};
use clap::Parser;
use eyre::WrapErr;
use std::{net::SocketAddr, path::PathBuf};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The agnt2 sidecar.
#[derive(Debug, Parser)]
#[command(name = "agnt2-sidecar", version)]
struct Args {
    /// The TOML configuration (see etc/sidecar.toml).
    #[arg(long, default_value = "etc/sidecar.toml")]
    config: PathBuf,
    /// Listen here instead of the configured address.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Forward to this upstream instead of the configured one.
    #[arg(long)]
    upstream: Option<String>,
    /// The rollup's JSON-RPC instead of the configured one.
    #[arg(long = "l2.rpc-url")]
    l2_rpc_url: Option<String>,
    /// The hub instead of the configured one.
    #[arg(long)]
    hub: Option<SocketAddr>,
    /// The Adjudicator instead of the configured one.
    #[arg(long)]
    adjudicator: Option<agnt2_sidecar::config::Address>,
    /// The URL clients reach the sidecar at instead of the configured one.
    #[arg(long = "public-url")]
    public_url: Option<String>,
    /// Metrics (/metrics, /clients) here instead of the configured address.
    #[arg(long)]
    metrics: Option<SocketAddr>,
    /// The agent's key (hex); otherwise the configuration's, otherwise `<datadir>/sidecar.key`
    /// (created on first start: fund it on the rollup for the registration's gas). With
    /// --session-of, a session key of that agent.
    #[arg(long, env = "AGNT2_SIDECAR_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Refuse channels whose challenge window is shorter than SECONDS instead of the
    /// configured `min_challenge_window` (default: the Adjudicator's minimum).
    #[arg(long = "min-challenge-window", value_name = "SECONDS")]
    min_challenge_window: Option<u64>,
    /// Run on a session key of this agent (its owner registered it and opened the session)
    /// instead of the configured `session_of`.
    #[arg(long = "session-of", value_name = "AGENT_ID")]
    session_of: Option<u64>,
}

fn load_key(args: &Args, cfg: &Config) -> eyre::Result<Key> {
    if let Some(k) = args.key.as_deref().or(cfg.agent.key.as_deref()) {
        return Key::from_hex(k.trim()).wrap_err("the agent key");
    }
    Key::load_or_create(&cfg.datadir.join("sidecar.key"))
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    agnt2_cli::init_tracing(0, false);
    let args = Args::parse();
    let mut cfg = Config::load(&args.config)?;
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if let Some(u) = &args.upstream {
        cfg.upstream = u.clone();
    }
    if args.metrics.is_some() {
        cfg.metrics = args.metrics;
    }
    if let Some(u) = &args.l2_rpc_url {
        cfg.chain.l2_rpc = u.clone();
    }
    if let Some(h) = args.hub {
        cfg.chain.hub = h;
    }
    if let Some(a) = args.adjudicator {
        cfg.chain.adjudicator = a;
    }
    if args.min_challenge_window.is_some() {
        cfg.chain.min_challenge_window = args.min_challenge_window;
    }
    if args.public_url.is_some() {
        cfg.public_url = args.public_url.clone();
    }
    if args.session_of.is_some() {
        cfg.agent.session_of = args.session_of;
        if cfg.agent.register == Some(true) {
            eyre::bail!("--session-of: a session key cannot register; drop register = true");
        }
    }
    let key = load_key(&args, &cfg)?;
    let sidecar = Sidecar::start(cfg, key.clone()).await?;
    // The line tests and scripts wait for.
    let session = sidecar.address() != key.address();
    println!(
        "agnt2-sidecar listening on {} as {} agent {}{}{}",
        sidecar.local_addr(),
        sidecar.address(),
        sidecar.agent_id().map_or_else(|| "-".to_string(), |id| id.to_string()),
        sidecar.metrics_addr().map(|m| format!(" metrics {m}")).unwrap_or_default(),
        if session { format!(" session {}", key.address()) } else { String::new() },
    );
    agnt2_cli::shutdown_signal().await?;
    tracing::info!("shutting down");
    sidecar.shutdown().await;
    Ok(())
}
