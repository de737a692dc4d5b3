//! The client side of the `agnt2-channel` scheme: an agent with an open channel to a service
//! makes requests; a `402` is answered by signing the channel's next state for exactly the
//! price (bound to that request) and retrying; the service's countersignature in
//! `PAYMENT-RESPONSE` is checked before the new state counts. Requirements are remembered per
//! route, so later requests pay up front without a second round trip.

use crate::scheme::{
    self, ChannelPayment, PaymentPayload, PaymentRequired, Requirement, SettlementResponse,
};
use agnt2_channels::{ChannelParams, Key, Sig, SignedState, State, keys::recover, state};
use alloy_primitives::{Address, U256};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode, header::HeaderValue};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use std::collections::HashMap;

/// Why a paid request failed.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    /// The request could not be sent or answered.
    #[error("http: {0}")]
    Http(String),
    /// The service's requirements cannot be met with this channel.
    #[error("{0}")]
    Unpayable(String),
    /// The service answered with something the scheme does not allow.
    #[error("the service misbehaved: {0}")]
    Service(String),
}

/// A response with its body read.
#[derive(Debug)]
pub struct Paid {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
    /// Wei paid for this request (zero for a free route).
    pub paid: U256,
}

/// What a payer pays for one request at most unless told otherwise: 0.001 ETH (10^15 of the
/// asset's smallest units). A service cannot make a client sign away its channel with one 402.
pub const DEFAULT_MAX_AMOUNT: u64 = 1_000_000_000_000_000;

/// An agent paying one service over one channel (it is side A).
#[derive(Debug)]
pub struct Payer {
    key: Key,
    params: ChannelParams,
    latest: SignedState,
    /// The channel's deposits `[A, B]`, when known: a payment must fit in what A has left.
    deposits: Option<[U256; 2]>,
    /// The most it pays for one request (default [`DEFAULT_MAX_AMOUNT`]).
    pub max_amount: U256,
    /// Check the service's countersignature on every answer (default); otherwise call
    /// [`Payer::verify`] before relying on the latest state.
    pub verify_every: bool,
    known: HashMap<(String, String), Requirement>,
    /// Keys besides side B whose countersignatures count (session keys of the service's agent,
    /// checked by the caller on the rollup).
    countersigners: Vec<Address>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Payer {
    /// A payer over `params` (its side A must be `key`) from the co-signed state `latest`.
    pub fn new(key: Key, params: ChannelParams, latest: SignedState) -> Result<Self, PayError> {
        if params.a != key.address() {
            return Err(PayError::Unpayable(format!(
                "the channel's payer is {}, the key is {}",
                params.a,
                key.address()
            )));
        }
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        Ok(Self {
            key,
            params,
            latest,
            deposits: None,
            max_amount: U256::from(DEFAULT_MAX_AMOUNT),
            verify_every: true,
            known: HashMap::new(),
            countersigners: Vec::new(),
            client: Client::builder(TokioExecutor::new()).build(http),
        })
    }

    /// The channel's deposits `[A, B]` (as the rollup holds them): payments that A's side cannot
    /// cover are refused before anything is signed.
    pub const fn set_deposits(&mut self, deposits: [U256; 2]) {
        self.deposits = Some(deposits);
    }

    /// The channel's latest co-signed state.
    pub const fn latest(&self) -> &SignedState {
        &self.latest
    }

    /// Accepts countersignatures by `signer` besides the service's own key: a session key of the
    /// agent the channel names for side B, which the caller has checked is valid for this payer
    /// (the Adjudicator takes such signatures only while the session is).
    pub fn allow_countersigner(&mut self, signer: Address) {
        if !self.countersigners.contains(&signer) {
            self.countersigners.push(signer);
        }
    }

    /// Remembers what `method` `path_and_query` costs, so the next request pays up front.
    pub fn remember(&mut self, method: &str, path_and_query: &str, r: &Requirement) {
        self.known
            .insert((method.to_ascii_uppercase(), path_and_query.to_string()), strip_latest(r));
    }

    /// Sends `method url` with `headers` and `body`, paying when the route asks.
    pub async fn request(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
    ) -> Result<Paid, PayError> {
        let uri: hyper::Uri = url.parse().map_err(|e| PayError::Http(format!("{url}: {e}")))?;
        let pq = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let route = (method.to_ascii_uppercase(), pq.clone());
        let mut requirement = self.known.get(&route).cloned();
        // Unpaid (or paid with a remembered requirement), then at most two paid retries: the
        // second after taking a newer co-signed state the service holds.
        for _ in 0..3 {
            let payment = match requirement.take() {
                Some(r) => {
                    let (state, sig) = self.sign(&r, method, &pq)?;
                    Some((state, sig, r))
                }
                None => None,
            };
            let resp = self.send(method, &uri, headers, body.clone(), payment.as_ref()).await?;
            if resp.status() != StatusCode::PAYMENT_REQUIRED {
                let (parts, b) = resp.into_parts();
                let body = b.collect().await.map_err(|e| PayError::Http(e.to_string()))?.to_bytes();
                // Taken exactly when the service says so (any status it was paid for; an
                // upstream failure comes back without PAYMENT-RESPONSE and costs nothing).
                let paid = match payment {
                    Some((state, sig, _))
                        if parts.headers.contains_key(scheme::PAYMENT_RESPONSE) =>
                    {
                        self.settle(state, sig, &parts.headers)?
                    }
                    _ => U256::ZERO,
                };
                return Ok(Paid { status: parts.status, headers: parts.headers, body, paid });
            }
            let required: PaymentRequired = resp
                .headers()
                .get(scheme::PAYMENT_REQUIRED)
                .ok_or_else(|| PayError::Service("402 without PAYMENT-REQUIRED".into()))
                .and_then(|h| {
                    scheme::decode(h.as_bytes()).map_err(|e| PayError::Service(e.to_string()))
                })?;
            let r = self.choose(&required)?;
            let before = self.latest.state.version;
            if let Some(theirs) = r.latest() {
                self.adopt(theirs);
            }
            let r = strip_latest(&r);
            if let Some((.., offered)) = &payment
                && *offered == r
                && self.latest.state.version == before
            {
                return Err(PayError::Unpayable(format!(
                    "the service refused: {}",
                    required.error
                )));
            }
            self.known.insert(route.clone(), r.clone());
            requirement = Some(r);
        }
        Err(PayError::Unpayable("the service kept asking for payment".into()))
    }

    /// The requirement this channel can meet.
    fn choose(&self, required: &PaymentRequired) -> Result<Requirement, PayError> {
        let mut why = Vec::new();
        for r in &required.accepts {
            if r.scheme != scheme::SCHEME {
                why.push(format!("scheme {}", r.scheme));
                continue;
            }
            if r.pay_to != self.params.b || r.chain_id() != Ok(self.params.chain_id) {
                why.push(format!("pays {} on {}", r.pay_to, r.network));
                continue;
            }
            if r.adjudicator() != Ok(self.params.adjudicator) || r.asset != self.params.token {
                why.push("another adjudicator or asset".into());
                continue;
            }
            let amount = r.amount_wei().map_err(|e| PayError::Service(e.to_string()))?;
            if amount > self.max_amount {
                return Err(PayError::Unpayable(format!(
                    "the route costs {amount} wei, more than the {} wei allowed",
                    self.max_amount
                )));
            }
            return Ok(r.clone());
        }
        Err(PayError::Unpayable(format!(
            "no accepted payment fits this channel ({}): {}",
            self.params.id(),
            why.join("; ")
        )))
    }

    /// The next state paying `r` for `method pq`, signed.
    fn sign(&self, r: &Requirement, method: &str, pq: &str) -> Result<(State, Sig), PayError> {
        let amount = r.amount_wei().map_err(|e| PayError::Service(e.to_string()))?;
        if amount > self.max_amount {
            return Err(PayError::Unpayable(format!(
                "the route costs {amount} wei, more than the {} wei allowed",
                self.max_amount
            )));
        }
        let prev = &self.latest.state;
        if let Some([deposit_a, _]) = self.deposits {
            let left = (deposit_a + prev.sentB).saturating_sub(prev.sentA);
            if amount > left {
                return Err(PayError::Unpayable(format!(
                    "the route costs {amount}; the channel has {left} left on your side (deposit more)"
                )));
            }
        }
        let state = State {
            version: prev.version + 1,
            sentA: prev.sentA + amount,
            appData: scheme::request_binding(method, pq),
            ..prev.clone()
        };
        let sig = self.key.sign(&state::digest(&state, &self.params.domain()));
        Ok((state, sig))
    }

    /// Checks the service's countersignature and makes the paid state the latest.
    fn settle(
        &mut self,
        state: State,
        my: Sig,
        headers: &hyper::HeaderMap,
    ) -> Result<U256, PayError> {
        let h = headers.get(scheme::PAYMENT_RESPONSE).ok_or_else(|| {
            PayError::Service("a paid request was answered without PAYMENT-RESPONSE".into())
        })?;
        let s: SettlementResponse =
            scheme::decode(h.as_bytes()).map_err(|e| PayError::Service(e.to_string()))?;
        let sig: alloy_primitives::Bytes = serde_json::from_value(s.extra["signature"].clone())
            .map_err(|e| PayError::Service(format!("settlement signature: {e}")))?;
        let sig = Sig::from_slice(&sig)
            .ok_or_else(|| PayError::Service("settlement signature is not 65 bytes".into()))?;
        let paid = state.sentA - self.latest.state.sentA;
        self.latest = SignedState { state, sig_a: Some(my), sig_b: Some(sig) };
        if self.verify_every {
            self.verify()?;
        }
        Ok(paid)
    }

    /// Checks the service's countersignature of the latest state. The payer's own signature
    /// is what binds it, so checking every answer buys nothing but detection time: a client that
    /// pays in a loop checks the newest one before it relies on it (closing, disputing, saving).
    pub fn verify(&self) -> Result<(), PayError> {
        let Some(sig) = self.latest.sig_b else { return Ok(()) };
        let digest = state::digest(&self.latest.state, &self.params.domain());
        let signer = recover(&digest, &sig);
        if signer != Some(self.params.b)
            && !signer.is_some_and(|s| self.countersigners.contains(&s))
        {
            return Err(PayError::Service(format!(
                "the countersignature is not the service's ({}) but {}",
                self.params.b,
                signer.map_or_else(|| "unrecoverable".to_string(), |s| s.to_string())
            )));
        }
        Ok(())
    }

    /// Takes the service's co-signed state when it is newer than ours and carries both
    /// signatures (a payment whose answer was lost is still paid).
    fn adopt(&mut self, theirs: SignedState) {
        let (Some(a), Some(b)) = (theirs.sig_a, theirs.sig_b) else { return };
        if theirs.state.channelId != self.params.id()
            || theirs.state.version <= self.latest.state.version
        {
            return;
        }
        let digest = state::digest(&theirs.state, &self.params.domain());
        if recover(&digest, &a) == Some(self.params.a)
            && recover(&digest, &b) == Some(self.params.b)
        {
            self.latest = theirs;
        }
    }

    async fn send(
        &self,
        method: &str,
        uri: &hyper::Uri,
        headers: &[(String, String)],
        body: Bytes,
        payment: Option<&(State, Sig, Requirement)>,
    ) -> Result<Response<hyper::body::Incoming>, PayError> {
        let mut req = Request::builder().method(method).uri(uri.clone());
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut req = req.body(Full::new(body)).map_err(|e| PayError::Http(e.to_string()))?;
        if let Some((state, sig, r)) = payment {
            let payload = PaymentPayload {
                x402_version: scheme::X402_VERSION,
                resource: scheme::Resource {
                    url: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
                    description: String::new(),
                    mime_type: String::new(),
                },
                accepted: r.clone(),
                payload: ChannelPayment {
                    channel: self.params,
                    state: state.clone(),
                    signature: *sig,
                }
                .to_json(),
            };
            let v = HeaderValue::from_str(&scheme::encode(&payload))
                .map_err(|e| PayError::Http(e.to_string()))?;
            req.headers_mut().insert(scheme::PAYMENT_SIGNATURE, v);
        }
        self.client.request(req).await.map_err(|e| PayError::Http(format!("{uri}: {e}")))
    }
}

/// The requirement without the per-answer `latest` (what is remembered and echoed back).
fn strip_latest(r: &Requirement) -> Requirement {
    let mut r = r.clone();
    if let Some(o) = r.extra.as_object_mut() {
        o.remove("latest");
    }
    r
}

/// One request without payment (a first look at a route: free, or its 402).
pub async fn plain_request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
) -> Result<Paid, PayError> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let req = req.body(Full::new(body)).map_err(|e| PayError::Http(e.to_string()))?;
    let resp = client.request(req).await.map_err(|e| PayError::Http(format!("{url}: {e}")))?;
    let (parts, b) = resp.into_parts();
    let body = b.collect().await.map_err(|e| PayError::Http(e.to_string()))?.to_bytes();
    Ok(Paid { status: parts.status, headers: parts.headers, body, paid: U256::ZERO })
}
