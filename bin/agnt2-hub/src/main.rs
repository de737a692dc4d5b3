//! `agnt2-hub`: the channel hub. Agents connect over the binary protocol (docs/channels.md), the
//! hub relays and stores their co-signed states, countersigns its own channels, and refutes stale
//! disputes on the rollup.

use agnt2_channels::{
    Key,
    hub::{Hub, HubConfig},
    l2::L2,
};
use alloy_primitives::Address;
use clap::Parser;
use eyre::WrapErr;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The agnt2 channel hub.
#[derive(Debug, Parser)]
#[command(name = "agnt2-hub", version)]
struct Args {
    /// Address of the binary protocol.
    #[arg(long, default_value = "127.0.0.1:9545")]
    listen: SocketAddr,
    /// Address of the WebSocket JSON-RPC server (`hub_subscribe`, `hub_auth`, `hub_send`).
    #[arg(long, default_value = "127.0.0.1:9546")]
    ws: SocketAddr,
    /// Do not serve WebSocket JSON-RPC.
    #[arg(long = "no-ws")]
    no_ws: bool,
    /// Prometheus metrics at http://ADDR/metrics (off if not given).
    #[arg(long)]
    metrics: Option<SocketAddr>,
    /// Directory of the hub's MDBX store and key.
    #[arg(long, default_value = ".hub")]
    datadir: PathBuf,
    /// The rollup's JSON-RPC (channels are checked against the adjudicator; the watchtower runs).
    #[arg(long = "l2.rpc-url")]
    l2_rpc_url: Option<String>,
    /// The adjudicator contract.
    #[arg(long)]
    adjudicator: Address,
    /// Chain id (read from --l2.rpc-url when given).
    #[arg(long = "chain-id")]
    chain_id: Option<u64>,
    /// The hub's private key (hex); otherwise the one in the datadir, created on first start.
    #[arg(long, env = "AGNT2_HUB_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Watchtower poll interval in milliseconds.
    #[arg(long = "watch.interval-ms", default_value_t = 500)]
    watch_interval_ms: u64,
    /// Refuse channels whose challenge window is shorter than SECONDS. Default: the
    /// adjudicator's MIN_CHALLENGE_DURATION (which it enforces itself); a longer value is a
    /// stricter policy of this hub.
    #[arg(long = "min-challenge-window", value_name = "SECONDS")]
    min_challenge_window: Option<u64>,
    /// Binary-protocol connections open at once; more are closed on accept. An idle
    /// connection costs about 15 KiB; one that has not authenticated is closed after 10 s.
    #[arg(long = "max-connections", value_name = "N", default_value_t = 10_000)]
    max_connections: usize,
    /// Authenticated connections (TCP and WebSocket sessions) one address may hold at once;
    /// more are refused after authentication, so one key cannot take every slot.
    #[arg(long = "max-connections-per-address", value_name = "N", default_value_t = 64)]
    max_connections_per_address: usize,
    /// Seconds a new connection has to authenticate before it is closed.
    #[arg(long = "handshake-timeout", value_name = "SECONDS", default_value_t = 10)]
    handshake_timeout: u64,
    /// Seconds an authenticated connection may stay silent: half-way the hub pings it (clients
    /// answer on their own), and one that has completed no message by then is closed. 0: never.
    /// Default 120 s, geth's HTTP idle timeout.
    #[arg(long = "idle-timeout", value_name = "SECONDS", default_value_t = 120)]
    idle_timeout: u64,
    /// Messages held for a connection that does not read them (acknowledgements, relayed
    /// proposals); past this it is closed and resynchronizes on reconnect.
    #[arg(long = "max-queued-messages", value_name = "N", default_value_t = 4_096)]
    max_queued_messages: usize,
}

fn load_key(args: &Args) -> eyre::Result<Key> {
    if let Some(k) = &args.key {
        return Key::from_hex(k).wrap_err("--key");
    }
    Key::load_or_create(&args.datadir.join("hub.key"))
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    agnt2_cli::init_tracing(0, false);
    let args = Args::parse();
    let key = load_key(&args)?;
    let l2 = args.l2_rpc_url.as_deref().map(L2::new).transpose()?;
    let chain_id = match (&l2, args.chain_id) {
        (Some(l2), given) => {
            let c = l2.chain_id().wrap_err("reading the chain id from --l2.rpc-url")?;
            if let Some(g) = given.filter(|g| *g != c) {
                eyre::bail!("--chain-id {g} but the L2 reports {c}");
            }
            c
        }
        (None, Some(c)) => c,
        (None, None) => eyre::bail!("give --l2.rpc-url or --chain-id"),
    };
    let min_challenge_window = match &l2 {
        Some(l2) => agnt2_channels::l2::challenge_window_policy(
            l2,
            args.adjudicator,
            args.min_challenge_window,
        )?,
        None => args.min_challenge_window.unwrap_or(0),
    };
    let hub = Hub::start(HubConfig {
        listen: args.listen,
        ws: (!args.no_ws).then_some(args.ws),
        datadir: args.datadir.clone(),
        key,
        chain_id,
        adjudicator: args.adjudicator,
        l2,
        watch_interval: Duration::from_millis(args.watch_interval_ms),
        min_challenge_window,
        max_connections: args.max_connections,
        max_connections_per_address: args.max_connections_per_address,
        handshake_timeout: Duration::from_secs(args.handshake_timeout.max(1)),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        max_queued_messages: args.max_queued_messages,
    })
    .await?;
    // The line tests and scripts wait for.
    match hub.ws_addr() {
        Some(ws) => {
            println!("agnt2-hub listening on {} as {} ws {ws}", hub.local_addr(), hub.address())
        }
        None => println!("agnt2-hub listening on {} as {}", hub.local_addr(), hub.address()),
    }
    let (stop_metrics, stopped) = tokio::sync::oneshot::channel::<()>();
    if let Some(addr) = args.metrics {
        let listener = tokio::net::TcpListener::bind(addr).await.wrap_err("binding --metrics")?;
        tracing::info!(addr = %listener.local_addr()?, "metrics");
        let m = hub.metrics();
        let registry = m.registry().clone();
        let pages: agnt2_metrics::Pages =
            std::sync::Arc::new(move |_| Some(agnt2_metrics::Page::metrics(m.render())));
        tokio::spawn(agnt2_metrics::serve(listener, registry, pages, async {
            let _ = stopped.await;
        }));
    }
    agnt2_cli::shutdown_signal().await?;
    let _ = stop_metrics.send(());
    tracing::info!("shutting down");
    hub.shutdown();
    Ok(())
}
