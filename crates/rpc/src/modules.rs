//! Which namespaces are served (`--http.api`, `--ws.api`), and the middleware that enforces the
//! selection per transport on the shared port.
//!
//! The module holds the union of both selections; a method outside the selection of the
//! transport a request came over answers -32601 "method not found", exactly as if it did not
//! exist (as reth and geth answer for a namespace they do not serve). The devnet namespaces
//! (`anvil`, `evm`, `hardhat`) and `personal` (signing with the node's keys) exist only with
//! `--dev`: outside it they cannot be selected at all.

use jsonrpsee::{
    MethodResponse,
    core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification, RpcServiceT},
    server::HttpRequest,
    types::{ErrorCode, ErrorObject, Request},
};
use std::{collections::BTreeSet, future::Future, sync::Arc};

/// Namespaces agnt2 serves.
pub const NAMESPACES: [&str; 12] = [
    "eth", "net", "web3", "rpc", "txpool", "debug", "optimism", "agent", "personal", "anvil",
    "evm", "hardhat",
];

/// Namespaces that control or sign for the devnet: only with `--dev`.
pub const DEV_NAMESPACES: [&str; 4] = ["anvil", "evm", "hardhat", "personal"];

/// The default selection outside `--dev`: reth's (`eth,net,web3`) and agnt2's read-only
/// rollup and agent namespaces (`optimism` is what op-node serves; the proposer reads it).
pub const DEFAULT_API: [&str; 5] = ["eth", "net", "web3", "optimism", "agent"];

/// A set of namespaces (`rpc` is always served, as in reth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSelection(BTreeSet<&'static str>);

/// Why a namespace list is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiSelectionError {
    /// A name that is no namespace.
    #[error("unknown RPC namespace {0:?} (known: {known}, or all)", known = NAMESPACES.join(", "))]
    Unknown(String),
    /// A devnet namespace outside `--dev`.
    #[error("the {0} namespace controls or signs for a devnet: it is served only with --dev")]
    DevOnly(&'static str),
}

impl ApiSelection {
    /// Every namespace the mode allows: all with `--dev`, all but the devnet ones without.
    pub fn all(dev: bool) -> Self {
        Self(NAMESPACES.into_iter().filter(|n| dev || !DEV_NAMESPACES.contains(n)).collect())
    }

    /// The default of the mode: everything on a devnet, [`DEFAULT_API`] otherwise.
    pub fn default_for(dev: bool) -> Self {
        if dev { Self::all(true) } else { Self(DEFAULT_API.into_iter().chain(["rpc"]).collect()) }
    }

    /// Parses a comma-separated list (`eth,net,debug`, or `all`), refusing unknown namespaces
    /// and devnet namespaces outside `--dev`.
    pub fn parse(list: &str, dev: bool) -> Result<Self, ApiSelectionError> {
        let mut out = BTreeSet::from(["rpc"]);
        for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let name = raw.to_ascii_lowercase();
            if name == "all" {
                out.extend(Self::all(dev).0);
                continue;
            }
            let Some(ns) = NAMESPACES.iter().find(|n| **n == name) else {
                return Err(ApiSelectionError::Unknown(raw.to_string()));
            };
            if !dev && DEV_NAMESPACES.contains(ns) {
                return Err(ApiSelectionError::DevOnly(ns));
            }
            out.insert(ns);
        }
        Ok(Self(out))
    }

    /// Whether `method` belongs to a selected namespace.
    pub fn serves(&self, method: &str) -> bool {
        let ns = method.split_once('_').map_or(method, |(ns, _)| ns);
        self.0.contains(ns)
    }

    /// The union of two selections.
    pub fn union(&self, other: &Self) -> Self {
        Self(self.0.union(&other.0).copied().collect())
    }

    /// `rpc_modules`' answer: `{namespace: "1.0"}`.
    pub fn modules_json(&self) -> serde_json::Value {
        self.0.iter().map(|n| (n.to_string(), serde_json::Value::from("1.0"))).collect()
    }

    /// The namespaces, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().copied()
    }
}

/// Marks the requests of WebSocket connections (set on the upgrade request; jsonrpsee copies
/// the HTTP request's extensions into every call of the connection).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverWs;

/// The selections of both transports.
#[derive(Debug, Clone)]
pub(crate) struct Apis {
    pub(crate) http: ApiSelection,
    pub(crate) ws: ApiSelection,
}

impl Apis {
    pub(crate) fn of(&self, ext: &jsonrpsee::Extensions) -> &ApiSelection {
        if ext.get::<OverWs>().is_some() { &self.ws } else { &self.http }
    }
}

/// HTTP layer: tags WebSocket upgrade requests with [`OverWs`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagWsLayer;

impl<S> tower::Layer<S> for TagWsLayer {
    type Service = TagWs<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TagWs(inner)
    }
}

/// See [`TagWsLayer`].
#[derive(Debug, Clone)]
pub(crate) struct TagWs<S>(S);

impl<S, B> tower::Service<HttpRequest<B>> for TagWs<S>
where
    S: tower::Service<HttpRequest<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut req: HttpRequest<B>) -> Self::Future {
        let upgrade = req
            .headers()
            .get("upgrade")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if upgrade {
            req.extensions_mut().insert(OverWs);
        }
        self.0.call(req)
    }
}

/// RPC layer: answers -32601 for methods outside the transport's selection.
#[derive(Debug, Clone)]
pub(crate) struct ApiFilterLayer(pub(crate) Arc<Apis>);

impl<S> tower::Layer<S> for ApiFilterLayer {
    type Service = ApiFilter<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ApiFilter { inner, apis: self.0.clone() }
    }
}

/// See [`ApiFilterLayer`].
#[derive(Debug, Clone)]
pub(crate) struct ApiFilter<S> {
    inner: S,
    apis: Arc<Apis>,
}

impl<S> RpcServiceT for ApiFilter<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        let served = self.apis.of(request.extensions()).serves(request.method_name());
        let inner = self.inner.clone();
        async move {
            if served {
                inner.call(request).await
            } else {
                MethodResponse::error(request.id, ErrorObject::from(ErrorCode::MethodNotFound))
            }
        }
    }

    fn batch<'a>(
        &self,
        mut requests: Batch<'a>,
    ) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        for entry in requests.iter_mut() {
            let refuse = match &*entry {
                Ok(BatchEntry::Call(r)) => {
                    (!self.apis.of(r.extensions()).serves(r.method_name())).then(|| r.id.clone())
                }
                _ => None,
            };
            if let Some(id) = refuse {
                *entry = Err(BatchEntryErr::new(id, ErrorObject::from(ErrorCode::MethodNotFound)));
            }
        }
        self.inner.batch(requests)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.inner.notification(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_namespaces_need_dev() {
        assert!(
            ApiSelection::parse("eth,anvil", false)
                .unwrap_err()
                .to_string()
                .contains("only with --dev")
        );
        assert!(ApiSelection::parse("eth,anvil", true).unwrap().serves("anvil_setBalance"));
        assert!(
            ApiSelection::parse("eth,bogus", true).unwrap_err().to_string().contains("unknown")
        );
        let all = ApiSelection::parse("all", false).unwrap();
        assert!(all.serves("debug_traceCall") && !all.serves("evm_mine"));
        assert!(!all.serves("personal_sign"));
    }

    #[test]
    fn selection_gates_by_prefix_and_always_serves_rpc() {
        let s = ApiSelection::parse("eth, net", false).unwrap();
        assert!(s.serves("eth_call") && s.serves("net_version") && s.serves("rpc_modules"));
        assert!(!s.serves("web3_clientVersion") && !s.serves("txpool_status"));
        assert_eq!(s.names().collect::<Vec<_>>(), ["eth", "net", "rpc"]);
        let d = ApiSelection::default_for(false);
        assert!(d.serves("optimism_outputAtBlock") && !d.serves("debug_traceCall"));
    }
}
