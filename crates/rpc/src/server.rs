use crate::{
    ApiSelection, ChainApi, RpcLimits, compose,
    metrics::{MetricsLayer, RpcMetrics},
    modules::{ApiFilterLayer, Apis, TagWsLayer},
};
use jsonrpsee::{
    core::{middleware::RpcServiceBuilder, traits::IdProvider},
    server::{BatchRequestConfig, Server, ServerConfig, ServerHandle},
    types::SubscriptionId,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::{net::SocketAddr, sync::Arc};

/// The server: where it listens, what it serves and what it allows.
#[derive(Debug, Clone)]
pub struct RpcServerConfig {
    /// Address to bind (127.0.0.1 by default).
    pub addr: SocketAddr,
    /// Largest request body in bytes (`--rpc.max-request-size`, reth: 15 MB).
    pub max_request_body: u32,
    /// Largest response body in bytes, a batch's whole answer included
    /// (`--rpc.max-response-size`, reth: 160 MB).
    pub max_response_body: u32,
    /// Most concurrent connections (`--rpc.max-connections`, reth: 500).
    pub max_connections: u32,
    /// Most requests in one batch (`--rpc.batch-request-limit`, geth: 1,000).
    pub max_batch_size: u32,
    /// Most subscriptions one WebSocket connection may hold
    /// (`--rpc.max-subscriptions-per-connection`, reth: 1,024).
    pub max_subscriptions_per_connection: u32,
    /// Devnet mode: the devnet controls are registered and the node's keys sign.
    pub dev: bool,
    /// Namespaces served over HTTP (`--http.api`).
    pub http_api: ApiSelection,
    /// Namespaces served over WebSocket (`--ws.api`).
    pub ws_api: ApiSelection,
    /// Per-request bounds.
    pub limits: RpcLimits,
}

impl RpcServerConfig {
    /// The defaults of a mode for `addr`: 15 MB requests, 160 MB responses, 500 connections,
    /// batches of 1,000, 1,024 subscriptions per connection; every namespace on a devnet,
    /// [`crate::DEFAULT_API`] otherwise.
    pub fn new(addr: SocketAddr, dev: bool) -> Self {
        Self {
            addr,
            max_request_body: 15 * 1024 * 1024,
            max_response_body: 160 * 1024 * 1024,
            max_connections: 500,
            max_batch_size: 1_000,
            max_subscriptions_per_connection: 1_024,
            dev,
            http_api: ApiSelection::default_for(dev),
            ws_api: ApiSelection::default_for(dev),
            limits: RpcLimits::default(),
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
    let batch = match config.max_batch_size {
        0 => BatchRequestConfig::Unlimited,
        n => BatchRequestConfig::Limit(n),
    };
    let cfg = ServerConfig::builder()
        .max_request_body_size(config.max_request_body)
        .max_response_body_size(config.max_response_body)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_batch_request_config(batch)
        .set_id_provider(HexIdProvider::default())
        .build();
    let apis = Arc::new(Apis { http: config.http_api.clone(), ws: config.ws_api.clone() });
    let methods = compose::module(api, &config, apis.clone()).map_err(std::io::Error::other)?;
    metrics.serve(methods.method_names());
    let middleware =
        RpcServiceBuilder::new().layer(MetricsLayer(metrics)).layer(ApiFilterLayer(apis.clone()));
    let server = Server::builder()
        .set_config(cfg)
        .set_http_middleware(tower::ServiceBuilder::new().layer(TagWsLayer))
        .set_rpc_middleware(middleware)
        .build(config.addr)
        .await?;
    let addr = server.local_addr()?;
    let handle = server.start(methods);
    Ok((addr, handle))
}

/// Every method the server would serve with `config`, without a server: for calling handlers
/// in-process (`Methods::call`), as unit tests of the node and the RPC do.
pub fn methods<C: ChainApi>(
    config: &RpcServerConfig,
    api: Arc<C>,
) -> Result<jsonrpsee::Methods, jsonrpsee::core::RegisterMethodError> {
    let apis = Arc::new(Apis { http: config.http_api.clone(), ws: config.ws_api.clone() });
    compose::module(api, config, apis)
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
