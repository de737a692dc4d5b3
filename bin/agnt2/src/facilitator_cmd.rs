//! `agnt2 facilitator`: an x402 facilitator for agnt2 (`GET /supported`, `POST /verify`,
//! `POST /settle` for the `exact` scheme), so resource servers written with the x402 SDKs take
//! payments on agnt2 pointed at it.

use agnt2_client::Client;
use agnt2_sidecar::{
    exact::Settler,
    facilitator::{Facilitator, serve},
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
}

pub(crate) async fn run(args: FacilitatorArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.l2.l2_rpc_url)?;
    let key = args.key.signer()?;
    let settler = tokio::task::spawn_blocking(move || Settler::new(l2, key)).await??;
    let f = Facilitator::new(settler);
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
