//! An x402 facilitator for agnt2 (`agnt2 facilitator`): `GET /supported`, `POST /verify`,
//! `POST /settle` in x402 v2's shapes, so resource servers written with the x402 SDKs take
//! payments on agnt2 pointed at it.
//!
//! - `exact`: settling sends `transferWithAuthorization` from the facilitator's own key (one at
//!   a time: one nonce sequence); the payer's signature decides where the money goes, never the
//!   facilitator.
//! - `agnt2-channel` (when given a hub and an Adjudicator): the facilitator's key is side B of
//!   the payers' channels — the service's operator runs it for its own service — and a payment is
//!   the payer's signed next state; `verify` checks it as the sidecar does, `settle`
//!   countersigns it and stores the co-signed state at the hub (no transaction). The SDKs'
//!   scheme interface does not give the client the request, so these payments carry no request
//!   binding (`appData` zero); each state is still taken once.

use crate::{
    exact::{ExactPayload, Requirements, SettleError, Settler},
    payee::{PayError, Payee},
    scheme::{self, ChannelPayment, Requirement},
};
use alloy_primitives::B256;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode, body::Incoming, header, service::service_fn};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::{future::Future, sync::Arc};
use tokio::net::TcpListener;

/// The largest request body taken (a payment is well under 4 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// The facilitator's state.
#[derive(Debug)]
pub struct Facilitator {
    settler: Settler,
    channel: Option<(Arc<Payee>, String)>,
}

impl Facilitator {
    /// A facilitator settling `exact` through `settler`.
    pub const fn new(settler: Settler) -> Self {
        Self { settler, channel: None }
    }

    /// Also takes `agnt2-channel` payments to `payee` (side B), whose states are stored at the
    /// hub clients reach at `hub`.
    pub fn with_channel(mut self, payee: Arc<Payee>, hub: String) -> Self {
        self.channel = Some((payee, hub));
        self
    }

    fn network(&self) -> String {
        format!("eip155:{}", self.settler.chain_id())
    }

    /// `GET /supported`: `exact`, and `agnt2-channel` with its `extra` (the Adjudicator, the
    /// hub, the payee) when configured.
    pub fn supported(&self) -> Value {
        let mut kinds =
            vec![json!({"x402Version": 2, "scheme": "exact", "network": self.network()})];
        if let Some((payee, hub)) = &self.channel {
            kinds.push(json!({
                "x402Version": 2,
                "scheme": scheme::SCHEME,
                "network": self.network(),
                "extra": {"adjudicator": payee.adjudicator(), "hub": hub, "payTo": payee.address()},
            }));
        }
        json!({
            "kinds": kinds,
            "extensions": [],
            "signers": {self.network(): [self.settler.address()]},
        })
    }

    /// Whether a request is for the channel scheme.
    fn is_channel(body: &Value) -> bool {
        body["paymentRequirements"]["scheme"] == scheme::SCHEME
    }

    /// Checks an `agnt2-channel` payment; with `settle`, countersigns it and stores it at the
    /// hub. `Err` is (reason, message, payer).
    async fn channel(&self, body: &Value, settle: bool) -> Result<Value, (String, String, Value)> {
        let fail = |reason: &str, m: String| (reason.to_string(), m, Value::Null);
        let Some((payee, _)) = &self.channel else {
            return Err(fail("unsupported_scheme", "agnt2-channel is not configured here".into()));
        };
        let req: Requirement = serde_json::from_value(body["paymentRequirements"].clone())
            .map_err(|e| fail("invalid_payload", format!("paymentRequirements: {e}")))?;
        let p = ChannelPayment::from_json(&body["paymentPayload"]["payload"])
            .map_err(|e| fail("invalid_payload", e.to_string()))?;
        let payer = json!(p.channel.a);
        if req.network != self.network() {
            return Err(("invalid_network".into(), req.network, payer));
        }
        if req.pay_to != payee.address() {
            let m =
                format!("payTo {} is not this facilitator's payee {}", req.pay_to, payee.address());
            return Err(("invalid_pay_to".into(), m, payer));
        }
        let price = req.amount_wei().map_err(|e| fail("invalid_payload", e.to_string()))?;
        let pending = match payee.check(p, price, req.asset, B256::ZERO).await {
            Ok(p) => p,
            Err(PayError::Refused(m)) => {
                return Err(("invalid_agnt2_channel_payment".into(), m, payer));
            }
            Err(PayError::Unavailable(m)) => return Err(("unexpected_error".into(), m, payer)),
        };
        if !settle {
            return Ok(json!({"isValid": true, "payer": pending.payer}));
        }
        let amount = pending.amount;
        match pending.commit().await {
            Ok(r) => Ok(json!({
                "success": true,
                "transaction": r.channel_id,
                "network": self.network(),
                "payer": payer,
                "amount": amount.to_string(),
                "extra": {"version": r.version, "signature": r.signature.to_bytes()},
            })),
            Err(e) => Err(("unexpected_settle_error".into(), e.to_string(), payer)),
        }
    }

    fn parse(body: &Value) -> Option<(ExactPayload, Requirements)> {
        let payload = serde_json::from_value(body["paymentPayload"]["payload"].clone()).ok()?;
        let req = serde_json::from_value(body["paymentRequirements"].clone()).ok()?;
        Some((payload, req))
    }

    /// `POST /verify`.
    pub fn verify(&self, body: &Value) -> Value {
        let Some((payload, req)) = Self::parse(body) else {
            return json!({"isValid": false, "invalidReason": "invalid_payload"});
        };
        match self.settler.verify(&payload, &req) {
            Ok(Ok(payer)) => json!({"isValid": true, "payer": payer}),
            Ok(Err(e)) => json!({
                "isValid": false,
                "invalidReason": e.to_string(),
                "payer": payload.authorization.from,
            }),
            Err(e) => json!({
                "isValid": false,
                "invalidReason": "unexpected_verify_error",
                "invalidMessage": format!("{e:#}"),
            }),
        }
    }

    /// A `/settle` answer that settled nothing.
    fn settle_failed(&self, reason: String, message: Option<String>, payer: Value) -> Value {
        json!({
            "success": false,
            "errorReason": reason,
            "errorMessage": message,
            "transaction": "",
            "network": self.network(),
            "payer": payer,
        })
    }

    /// `POST /settle`: verify again, then send the transfer.
    pub fn settle(&self, body: &Value) -> Value {
        let network = self.network();
        let fail = |reason: String, message: Option<String>, payer: Value| {
            self.settle_failed(reason, message, payer)
        };
        let Some((payload, req)) = Self::parse(body) else {
            return fail("invalid_payload".into(), None, Value::Null);
        };
        let payer = json!(payload.authorization.from);
        let held = match self.settler.hold(&payload) {
            Ok(h) => h,
            Err(e) => return fail(e.to_string(), None, payer),
        };
        let settled = self.settler.settle(&payload, &req);
        drop(held);
        match settled {
            Ok(s) => json!({
                "success": true,
                "transaction": s.transaction,
                "network": network,
                "payer": payer,
                "amount": req.amount,
            }),
            Err(SettleError::Invalid(e)) => fail(e.to_string(), None, payer),
            Err(SettleError::Chain(e)) => {
                fail("unexpected_settle_error".into(), Some(format!("{e:#}")), payer)
            }
        }
    }
}

fn respond(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    r
}

async fn handle(f: Arc<Facilitator>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    if method == Method::GET && path == "/supported" {
        return respond(StatusCode::OK, &f.supported());
    }
    if method != Method::POST || (path != "/verify" && path != "/settle") {
        return respond(
            StatusCode::NOT_FOUND,
            &json!({"error": "GET /supported, POST /verify, POST /settle"}),
        );
    }
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return respond(StatusCode::PAYLOAD_TOO_LARGE, &json!({"error": "body over 64 KiB"}));
        }
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        let bad = if path == "/verify" {
            json!({"isValid": false, "invalidReason": "invalid_payload"})
        } else {
            f.settle_failed("invalid_payload".into(), None, Value::Null)
        };
        return respond(StatusCode::BAD_REQUEST, &bad);
    };
    if Facilitator::is_channel(&v) {
        let settle = path == "/settle";
        let out = match f.channel(&v, settle).await {
            Ok(v) => v,
            Err((reason, message, payer)) if settle => {
                f.settle_failed(reason, Some(message), payer)
            }
            Err((reason, message, payer)) => json!({
                "isValid": false, "invalidReason": reason, "invalidMessage": message, "payer": payer,
            }),
        };
        return respond(StatusCode::OK, &out);
    }
    // The JSON-RPC client blocks: off the reactor.
    let out =
        tokio::task::spawn_blocking(
            move || {
                if path == "/verify" { f.verify(&v) } else { f.settle(&v) }
            },
        )
        .await
        .unwrap_or_else(|e| json!({"error": format!("{e}")}));
    respond(StatusCode::OK, &out)
}

/// How long a client has to send a request's headers.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `f` on `listener` until `stop` completes, with at most `max_connections` open at once
/// (more wait in the accept queue).
pub async fn serve(
    listener: TcpListener,
    f: Arc<Facilitator>,
    max_connections: usize,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    tokio::pin!(stop);
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let stream = tokio::select! {
            _ = &mut stop => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => continue,
            },
        };
        let f = f.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let f = f.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(f, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
            drop(permit);
        });
    }
}
