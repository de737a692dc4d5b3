//! Prometheus metrics of the agnt2 services (node, hub, sidecar).
//!
//! Each service owns a [`Registry`]: its own `metrics-exporter-prometheus` recorder rather
//! than the process-global one, so two services in one process (as tests run them) count
//! apart. Handles ([`Counter`], [`Gauge`], [`Histogram`]) are registered once and updated
//! lock-free on hot paths; [`serve`] answers scrapes over HTTP/1 and keeps the recorder's
//! summaries bounded (upkeep every few seconds).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode, body::Incoming, header, service::service_fn};
use hyper_util::rt::TokioIo;
use metrics::{Key, KeyName, Label, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};
use tokio::net::TcpListener;
use tracing::debug;

pub use metrics::{Counter, Gauge, Histogram, Unit};

/// The content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// How often [`serve`] drains the recorder's histogram buckets into its summaries.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// One service's metrics. Cheap to clone (shared); a disabled registry hands out no-op handles
/// and renders nothing.
#[derive(Clone)]
pub struct Registry(Option<Arc<Inner>>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("enabled", &self.0.is_some()).finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry that records.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        Self(Some(Arc::new(Inner { recorder, handle })))
    }

    /// A registry whose handles do nothing (a service started without `--metrics` that would
    /// otherwise keep latency samples nobody reads).
    pub const fn disabled() -> Self {
        Self(None)
    }

    /// Whether it records.
    pub const fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// A counter named `name`, described by `help` (the `# HELP` line).
    pub fn counter(&self, name: &'static str, help: &'static str) -> Counter {
        let Some(i) = &self.0 else { return Counter::noop() };
        i.recorder.describe_counter(KeyName::from(name), None, SharedString::from(help));
        i.recorder.register_counter(&Key::from_static_name(name), &METADATA)
    }

    /// A gauge named `name`, described by `help`.
    pub fn gauge(&self, name: &'static str, help: &'static str) -> Gauge {
        let Some(i) = &self.0 else { return Gauge::noop() };
        i.recorder.describe_gauge(KeyName::from(name), None, SharedString::from(help));
        i.recorder.register_gauge(&Key::from_static_name(name), &METADATA)
    }

    /// Describes a labelled family once (its series are registered with [`Self::counter_with`],
    /// [`Self::gauge_with`] or [`Self::histogram_with`]).
    pub fn describe(&self, name: &'static str, unit: Option<Unit>, help: &'static str) {
        if let Some(i) = &self.0 {
            // The exporter keeps one description per name whatever the kind.
            i.recorder.describe_counter(KeyName::from(name), unit, SharedString::from(help));
        }
    }

    /// The series of counter `name` with `labels`.
    pub fn counter_with(&self, name: &'static str, labels: &[(&'static str, String)]) -> Counter {
        let Some(i) = &self.0 else { return Counter::noop() };
        i.recorder.register_counter(&key(name, labels), &METADATA)
    }

    /// The series of gauge `name` with `labels`.
    pub fn gauge_with(&self, name: &'static str, labels: &[(&'static str, String)]) -> Gauge {
        let Some(i) = &self.0 else { return Gauge::noop() };
        i.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    /// The series of histogram `name` with `labels` (rendered as a summary: quantiles, sum,
    /// count).
    pub fn histogram_with(
        &self,
        name: &'static str,
        labels: &[(&'static str, String)],
    ) -> Histogram {
        let Some(i) = &self.0 else { return Histogram::noop() };
        i.recorder.register_histogram(&key(name, labels), &METADATA)
    }

    /// The text exposition of every series.
    pub fn render(&self) -> String {
        self.0.as_ref().map(|i| i.handle.render()).unwrap_or_default()
    }

    /// Drains histogram samples into their summaries (bounds the memory they hold).
    pub fn upkeep(&self) {
        if let Some(i) = &self.0 {
            i.handle.run_upkeep();
        }
    }

    /// The value of one series as rendered (`name` or `name{label="value"}`), for tests and
    /// diagnostics.
    pub fn value(&self, series: &str) -> Option<f64> {
        value_in(&self.render(), series)
    }
}

/// The value of `series` in a text exposition.
pub fn value_in(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn key(name: &'static str, labels: &[(&'static str, String)]) -> Key {
    let labels: Vec<Label> = labels.iter().map(|(k, v)| Label::new(*k, v.clone())).collect();
    Key::from_parts(name, labels)
}

/// One answer of the endpoint.
#[derive(Debug)]
pub struct Page {
    /// Its content type.
    pub content_type: &'static str,
    /// Its body.
    pub body: String,
}

impl Page {
    /// A Prometheus text exposition.
    pub const fn metrics(body: String) -> Self {
        Self { content_type: CONTENT_TYPE, body }
    }
}

/// What the endpoint answers for a path (`None`: 404). Runs on the blocking pool: it may read
/// a database.
pub type Pages = Arc<dyn Fn(&str) -> Option<Page> + Send + Sync>;

/// Serves `pages` over HTTP/1 on `listener` until `stop` completes, and runs the upkeep of
/// `registry` meanwhile.
pub async fn serve(
    listener: TcpListener,
    registry: Registry,
    pages: Pages,
    stop: impl Future<Output = ()>,
) {
    let mut upkeep = tokio::time::interval(UPKEEP_INTERVAL);
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            _ = upkeep.tick() => {
                let r = registry.clone();
                let _ = tokio::task::spawn_blocking(move || r.upkeep()).await;
                continue;
            }
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    debug!(target: "metrics", %e, "accept failed");
                    continue;
                }
            },
        };
        let pages = pages.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let pages = pages.clone();
                async move {
                    let path = req.uri().path().to_string();
                    let page = tokio::task::spawn_blocking(move || pages(&path)).await;
                    Ok::<_, Infallible>(respond(page.ok().flatten()))
                }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await
            {
                debug!(target: "metrics", %e, "scrape connection failed");
            }
        });
    }
}

fn respond(page: Option<Page>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match page {
        Some(p) => (StatusCode::OK, p.content_type, p.body),
        None => (StatusCode::NOT_FOUND, "text/plain", "not found\n".to_string()),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn series_render_with_help_type_and_labels() {
        let r = Registry::new();
        let c = r.counter("x_total", "things counted");
        c.increment(3);
        r.gauge("y", "a level").set(2.5);
        r.describe("z_total", None, "per method");
        r.counter_with("z_total", &[("method", "eth_call".into())]).increment(1);
        let text = r.render();
        assert!(text.contains("# HELP x_total things counted\n# TYPE x_total counter\nx_total 3"));
        assert!(text.contains("# TYPE y gauge\ny 2.5"), "{text}");
        assert_eq!(r.value("z_total{method=\"eth_call\"}"), Some(1.0), "{text}");
        assert_eq!(r.value("x_total"), Some(3.0));
    }

    #[test]
    fn two_registries_count_apart_and_disabled_is_silent() {
        let (a, b) = (Registry::new(), Registry::new());
        a.counter("n_total", "n").increment(1);
        b.counter("n_total", "n").increment(5);
        assert_eq!((a.value("n_total"), b.value("n_total")), (Some(1.0), Some(5.0)));
        let off = Registry::disabled();
        off.counter("n_total", "n").increment(1);
        off.histogram_with("h", &[]).record(1.0);
        assert_eq!(off.render(), "");
    }

    #[tokio::test]
    async fn the_endpoint_serves_pages_and_404s() {
        let registry = Registry::new();
        registry.counter("hits_total", "hits").increment(7);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let r = registry.clone();
        let pages: Pages = Arc::new(move |p| (p == "/metrics").then(|| Page::metrics(r.render())));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, registry, pages, async {
            let _ = rx.await;
        }));
        let get = |path: &'static str| async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        let ok = get("/metrics").await;
        assert!(ok.starts_with("HTTP/1.0 200"), "{ok}");
        assert!(ok.contains("hits_total 7"), "{ok}");
        assert!(ok.to_lowercase().contains("content-type: text/plain; version=0.0.4"), "{ok}");
        assert!(get("/nope").await.starts_with("HTTP/1.0 404"));
        tx.send(()).unwrap();
        server.await.unwrap();
    }
}
