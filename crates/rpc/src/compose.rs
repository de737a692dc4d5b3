//! Composition: one RPC module with every namespace registered, then trimmed to what the
//! transports' module selections serve (a method outside them answers -32601, as one that does
//! not exist). The only place that knows every namespace.

use crate::{
    ChainApi, RpcServerConfig, filters::Filters, limits::TracingPermits, modules::Apis,
    plumbing::Ctx,
};
use jsonrpsee::RpcModule;
use std::sync::Arc;

/// The module the server serves.
pub(crate) fn module<C: ChainApi>(
    api: Arc<C>,
    config: &RpcServerConfig,
    apis: Arc<Apis>,
) -> RpcModule<Ctx<C>> {
    let limits = config.limits;
    let filters = Filters::new(limits);
    let tracing = TracingPermits::default();
    let mut m = RpcModule::new(Ctx { api, filters, limits, tracing, apis });

    crate::eth::register(&mut m);
    crate::pubsub::register(&mut m);
    crate::debug::register(&mut m);
    crate::agent::register(&mut m);
    crate::optimism::register(&mut m);
    if config.dev {
        crate::dev::register(&mut m);
    }
    // Drop what neither transport serves: it answers -32601 as a method that does not exist.
    let served = config.http_api.union(&config.ws_api);
    let names: Vec<&'static str> = m.method_names().collect();
    for name in names {
        if !served.serves(name) {
            m.remove_method(name);
        }
    }
    m
}
