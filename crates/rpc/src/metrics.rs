//! Per-method request counts and latency of the JSON-RPC server (a jsonrpsee middleware).

use agnt2_metrics::{Counter, Histogram, Registry};
use jsonrpsee::{
    core::middleware::{Batch, BatchEntry, Notification, RpcServiceT},
    types::Request,
};
use parking_lot::RwLock;
use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::{Arc, OnceLock},
    time::Instant,
};

/// Requests and latency per method (`agnt2_rpc_requests_total`, `agnt2_rpc_request_seconds`).
/// Calls of methods that do not exist count as `method="unknown"`: a client cannot grow the
/// series without bound by inventing names.
#[derive(Debug)]
pub struct RpcMetrics {
    registry: Registry,
    methods: RwLock<HashMap<&'static str, (Counter, Histogram)>>,
    served: OnceLock<HashSet<&'static str>>,
}

impl Default for RpcMetrics {
    fn default() -> Self {
        Self::new(Registry::disabled())
    }
}

impl RpcMetrics {
    /// Series in `registry`.
    pub fn new(registry: Registry) -> Self {
        registry.describe("agnt2_rpc_requests_total", None, "JSON-RPC requests per method");
        registry.describe(
            "agnt2_rpc_request_seconds",
            Some(agnt2_metrics::Unit::Seconds),
            "JSON-RPC request latency per method",
        );
        Self { registry, methods: RwLock::new(HashMap::new()), served: OnceLock::new() }
    }

    /// The methods the server serves; every other name is counted as `unknown`.
    pub(crate) fn serve(&self, methods: impl Iterator<Item = &'static str>) {
        let _ = self.served.set(methods.collect());
    }

    fn record(&self, method: &str, seconds: f64) {
        if !self.registry.is_enabled() {
            return;
        }
        let method = self.served.get().and_then(|s| s.get(method).copied()).unwrap_or("unknown");
        if let Some((c, h)) = self.methods.read().get(method) {
            c.increment(1);
            h.record(seconds);
            return;
        }
        let labels = [("method", method.to_string())];
        let c = self.registry.counter_with("agnt2_rpc_requests_total", &labels);
        let h = self.registry.histogram_with("agnt2_rpc_request_seconds", &labels);
        c.increment(1);
        h.record(seconds);
        self.methods.write().insert(method, (c, h));
    }
}

/// The middleware layer.
#[derive(Debug, Clone)]
pub(crate) struct MetricsLayer(pub(crate) Arc<RpcMetrics>);

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService { inner, metrics: self.0.clone() }
    }
}

/// The middleware service: times calls; counts the calls of a batch (timed as a whole).
#[derive(Debug, Clone)]
pub(crate) struct MetricsService<S> {
    inner: S,
    metrics: Arc<RpcMetrics>,
}

impl<S> RpcServiceT for MetricsService<S>
where
    S: RpcServiceT + Send + Sync + Clone + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        let (inner, metrics) = (self.inner.clone(), self.metrics.clone());
        let method = request.method_name().to_string();
        async move {
            let started = Instant::now();
            let response = inner.call(request).await;
            metrics.record(&method, started.elapsed().as_secs_f64());
            response
        }
    }

    fn batch<'a>(
        &self,
        requests: Batch<'a>,
    ) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        let (inner, metrics) = (self.inner.clone(), self.metrics.clone());
        let methods: Vec<String> = requests
            .iter()
            .filter_map(|e| match e {
                Ok(BatchEntry::Call(r)) => Some(r.method_name().to_string()),
                _ => None,
            })
            .collect();
        async move {
            let started = Instant::now();
            let response = inner.batch(requests).await;
            let per_call = started.elapsed().as_secs_f64() / methods.len().max(1) as f64;
            for m in &methods {
                metrics.record(m, per_call);
            }
            response
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.inner.notification(n)
    }
}
