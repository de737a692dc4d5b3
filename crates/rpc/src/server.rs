use crate::{ChainApi, eth};
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
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
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let cfg = ServerConfig::builder()
        .max_request_body_size(config.max_request_body)
        .max_response_body_size(config.max_response_body)
        .max_connections(config.max_connections)
        .build();
    let server = Server::builder().set_config(cfg).build(config.addr).await?;
    let addr = server.local_addr()?;
    let handle = server.start(eth::module(api));
    Ok((addr, handle))
}
