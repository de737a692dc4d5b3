//! The reverse proxy: free routes pass through unchanged (streamed both ways); priced routes
//! answer `402` until a request carries a payment, which is checked, held while the upstream
//! answers, and stored at the hub before the answer (with `PAYMENT-RESPONSE`) goes out. An
//! upstream that fails (connection error, timeout, 5xx) is not paid.

mod exact;

pub use exact::{EXACT_TIMEOUT_SECS, ExactSide};

use crate::{
    config::Route,
    exact::ExactPayload,
    meter::{Meter, Outcome},
    payee::{PayError, Payee},
    register::REGISTRATION_PATH,
    scheme::{self, ChannelPayment, PaymentPayload, PaymentRequired, Requirement, Resource},
};
use alloy_primitives::{Address, U256};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::{
    Request, Response, StatusCode,
    body::Incoming,
    header::{self, HeaderMap, HeaderName, HeaderValue},
};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use serde_json::{Value, json};
use std::{net::SocketAddr, sync::Arc, time::Duration};

/// A response body: the upstream's stream or the sidecar's own bytes.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// What the proxy serves with.
#[derive(Debug)]
pub struct Proxy {
    /// Routes in order.
    pub routes: Vec<Route>,
    /// `http://host:port` of the upstream.
    pub upstream_authority: String,
    /// Path prefix of the upstream (empty or `/prefix`).
    pub upstream_prefix: String,
    /// Waiting longer for the upstream's response head is a 504.
    pub upstream_timeout: Duration,
    /// HTTP/1.1, or HTTP/2 (h2c) with `upstream_http2`.
    pub upstream_version: hyper::Version,
    /// The channels.
    pub payee: Arc<Payee>,
    /// Counters.
    pub meter: Arc<Meter>,
    /// CAIP-2 network.
    pub network: String,
    /// The hub clients should name.
    pub hub: String,
    /// The agent id, once registered.
    pub agent_id: Option<U256>,
    /// The registration file.
    pub registration: Value,
    /// The upstream client (HTTP/1.1, pooled).
    pub client: Client<HttpConnector, Incoming>,
    /// Settles `exact` payments, when a route offers the scheme.
    pub exact: Option<Arc<ExactSide>>,
}

/// A payment header, by scheme.
enum Payment {
    Channel(ChannelPayment),
    Exact(ExactPayload),
}

impl Proxy {
    /// A client for the upstream with keep-alive and no Nagle delay.
    pub fn upstream_client(http2: bool) -> Client<HttpConnector, Incoming> {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .http2_only(http2)
            .build(http)
    }

    /// Serves one request.
    pub async fn serve(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<Body> {
        let start = std::time::Instant::now();
        if req.method() == hyper::Method::GET && req.uri().path() == REGISTRATION_PATH {
            return json_response(StatusCode::OK, &self.registration, HeaderMap::new());
        }
        // Free requests are matched on borrowed parts and forwarded without copying anything.
        let priced_at = |p: &str| {
            self.routes
                .iter()
                .position(|r| r.matches(req.method().as_str(), p))
                .filter(|&i| !self.routes[i].price.is_zero())
        };
        let raw = req.uri().path();
        let priced = if crate::path::is_plain(raw) {
            priced_at(raw)
        } else {
            // Another spelling of a priced path must not pass free, nor a priced spelling of a
            // free one be charged: such requests are refused with the normal form to send.
            let normal = match crate::path::normalize(raw) {
                Ok(p) => p,
                Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
            };
            let priced = priced_at(&normal);
            if normal != raw && (priced.is_some() || priced_at(raw).is_some()) {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("ambiguous request path {raw:?}: send {normal:?}"),
                );
            }
            priced
        };
        let Some(i) = priced else {
            return self.forward_free(req, peer).await;
        };
        let route = &self.routes[i];
        let method = req.method().as_str().to_string();
        let path_and_query =
            req.uri().path_and_query().map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
        let resource = Resource {
            url: path_and_query.clone(),
            description: route.description.clone(),
            mime_type: String::new(),
        };
        let Some(header) = req.headers().get(scheme::PAYMENT_SIGNATURE) else {
            return self.payment_required(&resource, route, "payment required", None);
        };
        let payment = match parse_payment(header.as_bytes()) {
            Ok(Payment::Channel(p)) if route.channel => p,
            Ok(Payment::Exact(p)) if route.exact => {
                return self.serve_exact(req, peer, i, &resource, p, start).await;
            }
            Ok(_) => {
                self.meter.record(None, Outcome::Refused, 0);
                return self.payment_required(&resource, route, "scheme not offered here", None);
            }
            Err(reason) => {
                self.meter.record(None, Outcome::Malformed, 0);
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &json!({"error": format!("malformed PAYMENT-SIGNATURE: {reason}")}),
                    HeaderMap::new(),
                );
            }
        };
        let payer = payment.channel.a;
        let channel_id = payment.channel.id();
        let binding = scheme::request_binding(&method, &path_and_query);
        let pending = match self.payee.check(payment, route.price, route.asset, binding).await {
            Ok(p) => p,
            Err(PayError::Refused(reason)) => {
                self.meter.record(Some(payer), Outcome::Refused, 0);
                let latest = self.payee.latest(&channel_id);
                return self.payment_required(&resource, route, &reason, latest);
            }
            Err(PayError::Unavailable(reason)) => {
                return error(StatusCode::SERVICE_UNAVAILABLE, &reason);
            }
        };
        let upstream = match self.forward_paid(req, peer, payer).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let amount = pending.amount;
        let receipt = match pending.commit().await {
            Ok(r) => r,
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        };
        let settlement = scheme::SettlementResponse {
            success: true,
            payer,
            transaction: receipt.channel_id.to_string(),
            network: self.network.clone(),
            amount: amount.to_string(),
            extra: json!({"version": receipt.version, "signature": receipt.signature.to_bytes()}),
        };
        self.paid(upstream, &settlement, amount, start)
    }

    /// Forwards a paid request; a failed service (connection error, timeout, 5xx) is passed
    /// on as the response to give, and not paid.
    async fn forward_paid(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        payer: Address,
    ) -> Result<Response<Incoming>, Response<Body>> {
        match self.forward(req, peer, Some(payer)).await {
            Ok(r) if !r.status().is_server_error() => Ok(r),
            Ok(r) => {
                self.meter.record(Some(payer), Outcome::UpstreamFailed, 0);
                Err(r.map(BodyExt::boxed))
            }
            Err(resp) => {
                self.meter.record(Some(payer), Outcome::UpstreamFailed, 0);
                Err(resp)
            }
        }
    }

    /// The service's answer to a paid request, with `PAYMENT-RESPONSE`; counted as paid.
    fn paid(
        &self,
        upstream: Response<Incoming>,
        settlement: &scheme::SettlementResponse,
        amount: U256,
        start: std::time::Instant,
    ) -> Response<Body> {
        let mut resp = upstream.map(BodyExt::boxed);
        if let Ok(v) = HeaderValue::from_str(&scheme::encode(settlement)) {
            resp.headers_mut().insert(scheme::PAYMENT_RESPONSE, v);
        }
        let us = start.elapsed().as_micros() as u64;
        self.meter.record(Some(settlement.payer), Outcome::Paid(amount), us);
        resp
    }

    async fn forward_free(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        self.meter.record(None, Outcome::Free, 0);
        match self.forward(req, peer, None).await {
            Ok(r) => r.map(BodyExt::boxed),
            Err(resp) => resp,
        }
    }

    /// Sends the request upstream (body streamed); a failure is the response to give.
    async fn forward(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        payer: Option<Address>,
    ) -> Result<Response<Incoming>, Response<Body>> {
        let (mut parts, body) = req.into_parts();
        let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let uri = format!("{}{}{}", self.upstream_authority, self.upstream_prefix, pq);
        parts.uri =
            uri.parse().map_err(|_| error(StatusCode::BAD_REQUEST, "bad request target"))?;
        // The upstream speaks its configured version whatever the client spoke.
        parts.version = self.upstream_version;
        let host = parts.headers.get(header::HOST).cloned();
        strip_hop_by_hop(&mut parts.headers);
        parts.headers.remove(scheme::PAYMENT_SIGNATURE);
        // Only the sidecar says who paid: a client's own header never reaches the upstream.
        parts.headers.remove("x-agnt2-payer");
        if let Some(h) = host {
            parts.headers.insert("x-forwarded-host", h);
        }
        append_forwarded_for(&mut parts.headers, peer);
        if let Some(p) = payer
            && let Ok(v) = HeaderValue::from_str(&p.to_string())
        {
            parts.headers.insert("x-agnt2-payer", v);
        }
        let req = Request::from_parts(parts, body);
        match tokio::time::timeout(self.upstream_timeout, self.client.request(req)).await {
            Ok(Ok(mut resp)) => {
                strip_hop_by_hop(resp.headers_mut());
                Ok(resp)
            }
            Ok(Err(e)) => Err(error(StatusCode::BAD_GATEWAY, &format!("upstream: {e}"))),
            Err(_) => Err(error(
                StatusCode::GATEWAY_TIMEOUT,
                &format!("upstream did not answer within {:?}", self.upstream_timeout),
            )),
        }
    }

    /// `402` with the requirement in `PAYMENT-REQUIRED` (and as the JSON body).
    fn payment_required(
        &self,
        resource: &Resource,
        route: &Route,
        reason: &str,
        latest: Option<agnt2_channels::SignedState>,
    ) -> Response<Body> {
        let mut accepts = Vec::with_capacity(2);
        if route.channel {
            accepts.push(Requirement {
                scheme: scheme::SCHEME.into(),
                network: self.network.clone(),
                amount: route.price.to_string(),
                asset: route.asset,
                pay_to: self.payee.address(),
                max_timeout_seconds: self.upstream_timeout.as_secs(),
                extra: scheme::requirement_extra(
                    self.payee.adjudicator(),
                    route.asset,
                    &self.hub,
                    self.agent_id,
                    self.payee.session_signer(),
                    latest.as_ref(),
                ),
            });
        }
        if route.exact {
            let r = self.exact_requirement(route);
            let exact = Requirement {
                scheme: r.scheme,
                network: r.network,
                amount: r.amount,
                asset: r.asset,
                pay_to: r.pay_to,
                max_timeout_seconds: r.max_timeout_seconds,
                extra: r.extra,
            };
            if route.exact_first { accepts.insert(0, exact) } else { accepts.push(exact) }
        }
        let required = PaymentRequired {
            x402_version: scheme::X402_VERSION,
            error: reason.to_string(),
            resource: resource.clone(),
            accepts,
        };
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&scheme::encode(&required)) {
            headers.insert(scheme::PAYMENT_REQUIRED, v);
        }
        json_response(
            StatusCode::PAYMENT_REQUIRED,
            &serde_json::to_value(&required).unwrap_or_default(),
            headers,
        )
    }
}

fn parse_payment(header: &[u8]) -> Result<Payment, scheme::SchemeError> {
    let p: PaymentPayload = scheme::decode(header)?;
    match p.accepted.scheme.as_str() {
        scheme::SCHEME => ChannelPayment::from_json(&p.payload).map(Payment::Channel),
        crate::exact::SCHEME => serde_json::from_value(p.payload)
            .map(Payment::Exact)
            .map_err(|e| scheme::SchemeError::Bad { field: "payload", reason: e.to_string() }),
        other => Err(scheme::SchemeError::Bad {
            field: "accepted.scheme",
            reason: format!("{other:?} is neither {} nor {}", scheme::SCHEME, crate::exact::SCHEME),
        }),
    }
}

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1), including
/// those the `Connection` header names.
fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in [
        header::CONNECTION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
    ] {
        h.remove(n);
    }
    h.remove("keep-alive");
    h.remove("proxy-connection");
}

fn append_forwarded_for(h: &mut HeaderMap, peer: SocketAddr) {
    let ip = peer.ip().to_string();
    let v = match h.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(prev) => format!("{prev}, {ip}"),
        None => ip,
    };
    if let Ok(v) = HeaderValue::from_str(&v) {
        h.insert("x-forwarded-for", v);
    }
}

/// A JSON response.
pub fn json_response(status: StatusCode, v: &Value, mut headers: HeaderMap) -> Response<Body> {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut r = Response::new(full(serde_json::to_vec(v).unwrap_or_default()));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

/// An error response with a JSON `{"error": …}` body.
pub fn error(status: StatusCode, reason: &str) -> Response<Body> {
    json_response(status, &json!({"error": reason}), HeaderMap::new())
}

/// A body of bytes.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}
