//! Composition: every namespace's typed module merged into one, then trimmed to what the
//! transports' module selections serve (a method outside them answers -32601, as one that does
//! not exist). The only place that knows every namespace.

use crate::{
    ChainApi, RpcServerConfig,
    api::{
        AgentApiServer, DebugApiServer, DevControlsServer, EthApiServer, NetApiServer,
        OptimismApiServer, PersonalApiServer, RpcApiServer, TxpoolApiServer, Web3ApiServer,
    },
    filters::Filters,
    limits::TracingPermits,
    modules::Apis,
    plumbing::{Ctx, Handler},
};
use jsonrpsee::{Methods, RpcModule, core::RegisterMethodError};
use std::sync::Arc;

/// The methods the server serves.
pub(crate) fn module<C: ChainApi>(
    api: Arc<C>,
    config: &RpcServerConfig,
    apis: Arc<Apis>,
) -> Result<Methods, RegisterMethodError> {
    let limits = config.limits;
    let filters = Filters::new(limits);
    let tracing = TracingPermits::default();
    let (api_forwards, forward_api) = (api.forwards_transactions(), api.clone());
    let h = Handler::new(Ctx { api, filters, limits, tracing, apis });

    let mut m = RpcModule::new(());
    m.merge(EthApiServer::into_rpc(h.clone()))?;
    m.merge(NetApiServer::into_rpc(h.clone()))?;
    m.merge(Web3ApiServer::into_rpc(h.clone()))?;
    m.merge(TxpoolApiServer::into_rpc(h.clone()))?;
    m.merge(RpcApiServer::into_rpc(h.clone()))?;
    m.merge(PersonalApiServer::into_rpc(h.clone()))?;
    m.merge(DebugApiServer::into_rpc(h.clone()))?;
    m.merge(AgentApiServer::into_rpc(h.clone()))?;
    m.merge(OptimismApiServer::into_rpc(h.clone()))?;
    if config.dev {
        m.merge(DevControlsServer::into_rpc(h))?;
    }
    if api_forwards {
        // A follower: raw transactions go to the sequencer, as op-geth forwards them.
        m.remove_method("eth_sendRawTransaction");
        m.register_async_method("eth_sendRawTransaction", move |params, _, _| {
            let api = forward_api.clone();
            async move {
                let raw: alloy_primitives::Bytes = params.one()?;
                api.forward_raw(raw)
                    .await
                    .map_err(|e| jsonrpsee::types::ErrorObjectOwned::owned(-32000, e, None::<()>))
            }
        })?;
    }
    // Drop what neither transport serves: it answers -32601 as a method that does not exist.
    let served = config.http_api.union(&config.ws_api);
    let names: Vec<&'static str> = m.method_names().collect();
    for name in names {
        if !served.serves(name) {
            m.remove_method(name);
        }
    }
    Ok(m.into())
}
