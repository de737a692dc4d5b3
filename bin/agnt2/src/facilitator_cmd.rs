//! `agnt2 facilitator`: an x402 facilitator for agnt2 (`GET /supported`, `POST /verify`,
//! `POST /settle` for the `exact` scheme, and with `--channel.hub`/`--channel.adjudicator` for
//! `agnt2-channel` with its key as the payee), so resource servers written with the x402 SDKs
//! take payments on agnt2 pointed at it.

use agnt2_client::Client;
use agnt2_sidecar::{
    exact::Settler,
    facilitator::{Facilitator, serve},
    payee::{Identity, Payee},
};
use clap::Args;
use eyre::WrapErr;
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

/// Options of `agnt2 facilitator`.
#[derive(Debug, Args)]
pub(crate) struct FacilitatorArgs {
    #[command(flatten)]
    l2: agnt2_cli::L2RpcArgs,
    /// The key settlements are sent from (it pays their gas; the payers' signatures decide
    /// where the money goes).
    #[command(flatten)]
    key: agnt2_cli::PrivateKeyArgs,
    /// Listen address.
    #[arg(long = "http.addr", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    addr: IpAddr,
    /// Listen port (0: any free port).
    #[arg(long = "http.port", default_value_t = 4021)]
    port: u16,
    /// Connections served at once (more wait to be accepted); bodies are capped at 64 KiB and
    /// headers must arrive within 10 s.
    #[arg(long = "max-connections", default_value_t = 1024)]
    max_connections: usize,
    /// Also take `agnt2-channel` payments, storing co-signed states at this hub (its binary
    /// protocol address). The key is then side B of the payers' channels: run the facilitator
    /// with your service's key.
    #[arg(long = "channel.hub", requires = "channel_adjudicator")]
    channel_hub: Option<SocketAddr>,
    /// The Adjudicator the channels live in (with `--channel.hub`).
    #[arg(long = "channel.adjudicator", requires = "channel_hub")]
    channel_adjudicator: Option<alloy_primitives::Address>,
    /// Refuse channels whose challenge window is shorter (seconds); default: the Adjudicator's
    /// minimum.
    #[arg(long = "channel.min-challenge-window")]
    channel_min_window: Option<u64>,
}

pub(crate) async fn run(args: FacilitatorArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.l2.l2_rpc_url)?;
    let key = args.key.signer()?;
    let secret = key.to_bytes();
    let settler = tokio::task::spawn_blocking(move || Settler::new(l2, key)).await??;
    let chain_id = settler.chain_id();
    let mut f = Facilitator::new(settler);
    if let (Some(hub), Some(adjudicator)) = (args.channel_hub, args.channel_adjudicator) {
        let (url, policy) = (args.l2.l2_rpc_url.clone(), args.channel_min_window);
        let min_window = tokio::task::spawn_blocking(move || {
            let l2 = agnt2_channels::l2::L2::new(&url)?;
            agnt2_channels::l2::challenge_window_policy(&l2, adjudicator, policy)
        })
        .await??;
        let key = agnt2_channels::Key::from_bytes(&secret)?;
        let identity = Identity { address: key.address(), session: None };
        let payee = Payee::new(
            key,
            identity,
            chain_id,
            adjudicator,
            hub,
            args.l2.l2_rpc_url.clone(),
            min_window,
        );
        f = f.with_channel(Arc::new(payee), hub.to_string());
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.addr, args.port))
        .await
        .wrap_err("binding the facilitator's port")?;
    // The line scripts and tests wait for.
    println!("Facilitator on {}", listener.local_addr()?);
    serve(listener, Arc::new(f), args.max_connections, async {
        let _ = agnt2_cli::shutdown_signal().await;
    })
    .await;
    Ok(())
}
