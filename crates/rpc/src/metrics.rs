//! Per-method request counts and latency of the JSON-RPC server (a jsonrpsee middleware).

use jsonrpsee::{
    core::middleware::{Batch, BatchEntry, Notification, RpcServiceT},
    types::Request,
};
use parking_lot::Mutex;
use std::{collections::BTreeMap, fmt::Write, future::Future, sync::Arc, time::Instant};

/// Counts and total seconds per method.
#[derive(Debug, Default)]
pub struct RpcMetrics {
    methods: Mutex<BTreeMap<String, (u64, f64)>>,
}

impl RpcMetrics {
    fn record(&self, method: &str, seconds: f64) {
        let mut m = self.methods.lock();
        let e = m.entry(method.to_string()).or_default();
        e.0 += 1;
        e.1 += seconds;
    }

    /// Prometheus text exposition of the counters.
    pub fn render(&self, out: &mut String) {
        let m = self.methods.lock();
        let _ = writeln!(out, "# TYPE agnt2_rpc_requests_total counter");
        for (method, (n, _)) in m.iter() {
            let _ = writeln!(out, "agnt2_rpc_requests_total{{method=\"{method}\"}} {n}");
        }
        let _ = writeln!(out, "# TYPE agnt2_rpc_request_seconds summary");
        for (method, (n, s)) in m.iter() {
            let _ = writeln!(out, "agnt2_rpc_request_seconds_sum{{method=\"{method}\"}} {s}");
            let _ = writeln!(out, "agnt2_rpc_request_seconds_count{{method=\"{method}\"}} {n}");
        }
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
