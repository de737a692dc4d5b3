//! agnt2-sidecar: put it in front of any HTTP service and the service is an agent on the rollup —
//! registered in the Identity precompile with an ERC-8004 registration file, priced per route,
//! paid per request over channels (the `agnt2-channel` scheme in x402 v2's HTTP shape), with
//! per-client counters.
//!
//! - [`config`]: the TOML configuration;
//! - [`exact`]: x402's `exact` scheme (EIP-3009): the payload, a facilitator's checks;
//! - [`facilitator`]: an x402 facilitator (`/supported`, `/verify`, `/settle`) for `exact`;
//! - [`scheme`]: the 402 / `PAYMENT-SIGNATURE` / `PAYMENT-RESPONSE` bodies;
//! - [`payee`]: the service's side of its channels (checks, holds, stores at the hub);
//! - [`path`]: request paths as routes see them (normalized; ambiguous spellings refused);
//! - [`proxy`]: the reverse proxy;
//! - [`register`]: the agent's registration;
//! - [`meter`]: per-client counters;
//! - [`payer`]: the client side (`agnt2 pay`, the benchmark);
//! - `session`: running on a session key of the agent (checked at start, watched after).
//!
//! `docs/sidecar.md` describes the scheme and the deployment.

pub mod config;
pub mod exact;
pub mod facilitator;
pub mod meter;
pub mod path;
pub mod payee;
pub mod payer;
pub mod proxy;
pub mod register;
pub mod scheme;
mod session;

pub use config::Config;

use agnt2_channels::Key;
use eyre::{WrapErr, eyre};
use hyper::{Request, body::Incoming, service::service_fn};
use hyper_util::{rt::TokioIo, server::conn::auto};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::watch};

/// A running sidecar.
#[derive(Debug)]
pub struct Sidecar {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    proxy: Arc<proxy::Proxy>,
}

impl Sidecar {
    /// Registers the agent (unless disabled), binds and serves.
    pub async fn start(cfg: Config, key: Key) -> eyre::Result<Self> {
        let routes = cfg.routes().map_err(|e| eyre!("{e}"))?;
        let l2_url = cfg.chain.l2_rpc.clone();
        let chain_id = match cfg.chain.chain_id {
            Some(c) => c,
            None => {
                let url = l2_url.clone();
                tokio::task::spawn_blocking(move || agnt2_client::Client::new(&url)?.chain_id())
                    .await?
                    .wrap_err("reading the chain id from the rollup")?
            }
        };
        let listener = TcpListener::bind(cfg.listen)
            .await
            .wrap_err_with(|| format!("binding {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let public = cfg.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let uri = format!("{}{}", public.trim_end_matches('/'), register::REGISTRATION_PATH);
        let (payee_address, session, agent_id) = if let Some(agent) = cfg.agent.session_of {
            let agent = alloy_primitives::U256::from(agent);
            let (owner, expiry) = session::owner_and_expiry(&l2_url, agent, key.address()).await?;
            tracing::info!(
                agent_id = %agent, %owner, session_key = %key.address(), %uri,
                "running on a session key; the agentURI is the owner's to set"
            );
            (owner, Some((agent, expiry)), Some(agent))
        } else if cfg.agent.registers() {
            let (url, secret, uri2) = (l2_url.clone(), key.secret_bytes(), uri.clone());
            let (id, sent) = tokio::task::spawn_blocking(move || {
                let signer = alloy_signer_local::PrivateKeySigner::from_bytes(&secret)?;
                register::ensure_registered(&agnt2_client::Client::new(&url)?, &signer, &uri2)
            })
            .await?
            .wrap_err("registering the agent in the Identity precompile")?;
            tracing::info!(agent_id = %id, %uri, updated = sent, "agent registered");
            (key.address(), None, Some(id))
        } else {
            (key.address(), None, None)
        };
        let min_window = {
            let (url, adjudicator, policy) =
                (l2_url.clone(), cfg.chain.adjudicator, cfg.chain.min_challenge_window);
            tokio::task::spawn_blocking(move || {
                let l2 = agnt2_channels::l2::L2::new(&url)?;
                agnt2_channels::l2::challenge_window_policy(&l2, adjudicator, policy)
            })
            .await??
        };
        let (authority, prefix) = split_upstream(&cfg.upstream)?;
        let payee = Arc::new(payee::Payee::new(
            key.clone(),
            payee::Identity { address: payee_address, session: session.map(|(agent, _)| agent) },
            chain_id,
            cfg.chain.adjudicator,
            cfg.chain.hub,
            l2_url.clone(),
            min_window,
        ));
        let exact = exact_side(&routes, &l2_url, &key).await?;
        let meter = Arc::new(meter::Meter::default());
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some((agent, expiry)) = session {
            payee.set_session(true, expiry);
            tasks.push(tokio::spawn(session::watch(
                payee.clone(),
                l2_url,
                agent,
                payee_address,
                key.address(),
                stopped.clone(),
            )));
        }
        let proxy = Arc::new(proxy::Proxy {
            routes,
            upstream_authority: authority,
            upstream_prefix: prefix,
            upstream_timeout: Duration::from_secs(cfg.upstream_timeout_secs.max(1)),
            payee: payee.clone(),
            meter: meter.clone(),
            network: format!("eip155:{chain_id}"),
            hub: cfg.chain.hub.to_string(),
            agent_id,
            registration: register::registration_file(
                &cfg.agent.name,
                &cfg.agent.description,
                &public,
                chain_id,
                agent_id,
                payee_address,
            ),
            upstream_version: if cfg.upstream_http2 {
                hyper::Version::HTTP_2
            } else {
                hyper::Version::HTTP_11
            },
            client: proxy::Proxy::upstream_client(cfg.upstream_http2),
            exact,
        });
        tasks.push(tokio::spawn(serve(
            listener,
            proxy.clone(),
            stopped.clone(),
            cfg.max_connections,
            Duration::from_secs(cfg.idle_timeout_secs.max(1)),
        )));
        let metrics_addr = match cfg.metrics {
            Some(a) => {
                let l = TcpListener::bind(a).await.wrap_err_with(|| format!("binding {a}"))?;
                let addr = l.local_addr()?;
                tasks.push(tokio::spawn(serve_metrics(l, meter, payee.clone(), stopped)));
                Some(addr)
            }
            None => None,
        };
        Ok(Self { addr, metrics_addr, stop, tasks, proxy })
    }

    /// Where it listens.
    pub const fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the metrics are served.
    pub const fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The agent id, when registered.
    pub fn agent_id(&self) -> Option<alloy_primitives::U256> {
        self.proxy.agent_id
    }

    /// The address it is paid at (side B of its channels): its key's, or with a session key
    /// the agent owner's.
    pub fn address(&self) -> alloy_primitives::Address {
        self.proxy.payee.address()
    }

    /// Stops accepting and waits for the listeners to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The `exact` scheme's settler and token domains, when a route offers it: each token must
/// publish its EIP-712 domain (EIP-5267) on this chain, or the sidecar does not start.
async fn exact_side(
    routes: &[config::Route],
    l2_url: &str,
    key: &Key,
) -> eyre::Result<Option<Arc<proxy::ExactSide>>> {
    let mut tokens: Vec<_> = routes.iter().filter(|r| r.exact).map(|r| r.asset).collect();
    if tokens.is_empty() {
        return Ok(None);
    }
    tokens.sort();
    tokens.dedup();
    let (url, secret) = (l2_url.to_string(), key.secret_bytes());
    let side = tokio::task::spawn_blocking(move || -> eyre::Result<proxy::ExactSide> {
        let l2 = agnt2_client::Client::new(&url)?;
        let mut extras = std::collections::HashMap::new();
        for t in tokens {
            let extra = exact::token_extra(&l2, t)
                .wrap_err_with(|| format!("a route offers exact in {t}"))?;
            extras.insert(t, extra);
        }
        let signer = alloy_signer_local::PrivateKeySigner::from_bytes(&secret)?;
        Ok(proxy::ExactSide { settler: exact::Settler::new(l2, signer)?, extras })
    })
    .await??;
    Ok(Some(Arc::new(side)))
}

/// `http://host:port/prefix` → (`http://host:port`, `/prefix` without a trailing slash).
fn split_upstream(url: &str) -> eyre::Result<(String, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| eyre!("upstream must be http://"))?;
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    if host.is_empty() {
        return Err(eyre!("upstream {url:?} has no host"));
    }
    let prefix =
        if path.is_empty() { String::new() } else { format!("/{}", path.trim_end_matches('/')) };
    Ok((format!("http://{host}"), prefix))
}

/// Accepts connections until `stop`, then closes the listener and waits (at most 11 s) for the
/// connections to finish what they are serving.
async fn serve(
    listener: TcpListener,
    proxy: Arc<proxy::Proxy>,
    mut stop: watch::Receiver<bool>,
    max_connections: usize,
    idle_timeout: Duration,
) {
    let mut conns = tokio::task::JoinSet::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(%e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            _ = stop.changed() => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection over --max-connections closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let proxy = proxy.clone();
        let mut stop = stop.clone();
        conns.spawn(async move {
            let _permit = permit;
            // hyper's auto builder reads the first bytes to tell HTTP/1 from HTTP/2 before any
            // of its timers run: a client that sends nothing would hold its slot forever.
            if !protocol_known(&stream, idle_timeout).await {
                return;
            }
            let svc = service_fn(move |req: Request<Incoming>| {
                let proxy = proxy.clone();
                async move { Ok::<_, std::convert::Infallible>(proxy.serve(req, peer).await) }
            });
            let mut builder = auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            // A client gets `idle_timeout` to send a request head, also between requests of a
            // kept-alive connection (hyper starts the timer as soon as it waits for a head):
            // idle and slow-header clients do not hold connections forever. HTTP/2 peers are
            // pinged and dropped when they stop answering.
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(idle_timeout);
            builder
                .http2()
                .timer(hyper_util::rt::TokioTimer::new())
                .keep_alive_interval(idle_timeout)
                .keep_alive_timeout(idle_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%e, "connection ended with an error");
                    }
                }
                _ = stop.changed() => {
                    // Stop taking requests on this connection; let the ones in flight finish
                    // (a paid request is answered after its state is stored), for up to 10 s.
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(10), conn.as_mut()).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(11), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
}

/// Waits (at most `limit`) until the client has sent enough to tell HTTP/1 from HTTP/2: a byte
/// off the HTTP/2 preface, or the whole preface. False when it sent nothing useful in time.
async fn protocol_known(stream: &tokio::net::TcpStream, limit: Duration) -> bool {
    const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let wait = async {
        let mut buf = [0u8; 24];
        loop {
            match stream.peek(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) if n == PREFACE.len() || buf[..n] != PREFACE[..n] => return true,
                // Part of the preface: wait for the rest (peek returns what is there at once).
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    };
    tokio::time::timeout(limit, wait).await.unwrap_or(false)
}

/// `/metrics` (Prometheus text) and `/clients` (the per-payer table as JSON).
async fn serve_metrics(
    listener: TcpListener,
    meter: Arc<meter::Meter>,
    payee: Arc<payee::Payee>,
    mut stop: watch::Receiver<bool>,
) {
    let registry = meter.registry().clone();
    let pages: agnt2_metrics::Pages = Arc::new(move |path| match path {
        "/metrics" => {
            if let Some((usable, expiry)) = payee.session_gauges() {
                meter.session(usable, expiry);
            }
            Some(agnt2_metrics::Page::metrics(meter.prometheus()))
        }
        "/clients" => Some(agnt2_metrics::Page {
            content_type: "application/json",
            body: meter.clients_json().to_string(),
        }),
        _ => None,
    });
    agnt2_metrics::serve(listener, registry, pages, async move {
        let _ = stop.wait_for(|s| *s).await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn upstream_urls_split() {
        assert_eq!(
            super::split_upstream("http://127.0.0.1:3000").unwrap(),
            ("http://127.0.0.1:3000".to_string(), String::new())
        );
        assert_eq!(
            super::split_upstream("http://h:1/api/").unwrap(),
            ("http://h:1".to_string(), "/api".to_string())
        );
        assert!(super::split_upstream("http:///x").is_err());
    }
}
