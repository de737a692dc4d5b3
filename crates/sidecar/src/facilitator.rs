//! An x402 facilitator for agnt2 (`agnt2 facilitator`): `GET /supported`, `POST /verify`,
//! `POST /settle` in x402 v2's shapes, for the `exact` scheme on this chain — so resource
//! servers written with the x402 SDKs take payments on agnt2 pointed at it. Settling sends
//! `transferWithAuthorization` from the facilitator's own key (one at a time: one nonce
//! sequence); the payer's signature decides where the money goes, never the facilitator.

use crate::exact::{ExactPayload, Requirements, SettleError, Settler};
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
}

impl Facilitator {
    /// A facilitator settling through `settler`.
    pub const fn new(settler: Settler) -> Self {
        Self { settler }
    }

    fn network(&self) -> String {
        format!("eip155:{}", self.settler.chain_id())
    }

    /// `GET /supported`.
    pub fn supported(&self) -> Value {
        json!({
            "kinds": [{"x402Version": 2, "scheme": "exact", "network": self.network()}],
            "extensions": [],
            "signers": {self.network(): [self.settler.address()]},
        })
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

    /// `POST /settle`: verify again, then send the transfer.
    pub fn settle(&self, body: &Value) -> Value {
        let network = self.network();
        let fail = |reason: String, message: Option<String>, payer: Value| {
            json!({
                "success": false,
                "errorReason": reason,
                "errorMessage": message,
                "transaction": "",
                "network": network,
                "payer": payer,
            })
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
            json!({"success": false, "errorReason": "invalid_payload", "transaction": "", "network": f.network()})
        };
        return respond(StatusCode::BAD_REQUEST, &bad);
    };
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
