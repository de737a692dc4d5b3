use crate::{
    ChainApi, eth,
    metrics::{MetricsLayer, RpcMetrics},
};
use jsonrpsee::{
    core::{middleware::RpcServiceBuilder, traits::IdProvider},
    server::{Server, ServerConfig, ServerHandle},
    types::SubscriptionId,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::{net::SocketAddr, sync::Arc};

/// Server limits.
#[derive(Debug, Clone, Copy)]
pub struct RpcServerConfig {
    /// Address to bind (127.0.0.1 by default).
    pub addr: SocketAddr,
    /// Largest request body (bytes).
    pub max_request_body: u32,
    /// Largest response body (bytes).
    pub max_response_body: u32,
    /// Most concurrent connections.
    pub max_connections: u32,
}

impl RpcServerConfig {
    /// Defaults for `addr`: 10 MiB requests, 160 MiB responses, 500 connections.
    pub const fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            max_request_body: 10 * 1024 * 1024,
            max_response_body: 160 * 1024 * 1024,
            max_connections: 500,
        }
    }
}

/// Starts the JSON-RPC server (HTTP and WebSocket on the same port). Returns the bound address
/// (useful with port 0) and the handle that stops it.
pub async fn start_server<C: ChainApi>(
    config: RpcServerConfig,
    api: Arc<C>,
    metrics: Arc<RpcMetrics>,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let cfg = ServerConfig::builder()
        .max_request_body_size(config.max_request_body)
        .max_response_body_size(config.max_response_body)
        .max_connections(config.max_connections)
        .set_id_provider(HexIdProvider::default())
        .build();
    let middleware = RpcServiceBuilder::new().layer(MetricsLayer(metrics));
    let server =
        Server::builder().set_config(cfg).set_rpc_middleware(middleware).build(config.addr).await?;
    let addr = server.local_addr()?;
    let handle = server.start(eth::module(api));
    Ok((addr, handle))
}

/// Subscription ids as Ethereum clients expect them: `0x`-prefixed hex strings, unique per
/// server (a counter mixed with a per-process random key, so ids are not guessable).
#[derive(Debug)]
struct HexIdProvider {
    key: u64,
    next: AtomicU64,
}

impl Default for HexIdProvider {
    fn default() -> Self {
        let key = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            ^ u64::from(std::process::id()).rotate_left(32);
        Self { key, next: AtomicU64::new(1) }
    }
}

impl IdProvider for HexIdProvider {
    fn next_id(&self) -> SubscriptionId<'static> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // A bijective mix of the counter keyed per process (splitmix64 finalizer).
        let mut z = n.wrapping_add(self.key).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        SubscriptionId::Str(format!("0x{z:016x}{n:016x}").into())
    }
}
