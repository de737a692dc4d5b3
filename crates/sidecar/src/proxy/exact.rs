//! The `exact` scheme at the proxy: the route's requirement, and a payment verified, held,
//! forwarded and settled on chain before the answer goes out.

use super::{Body, Proxy, error};
use crate::{
    config::Route,
    exact::{self, ExactPayload, SettleError, Settler},
    meter::Outcome,
    scheme::{self, Resource},
};
use alloy_primitives::Address;
use hyper::{Request, Response, StatusCode, body::Incoming};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// What the `exact` scheme needs: a settler and each token's EIP-712 domain.
#[derive(Debug)]
pub struct ExactSide {
    /// Settles from the sidecar's key.
    pub settler: Settler,
    /// `extra` (`name`, `version`) by token.
    pub extras: std::collections::HashMap<Address, Value>,
}

/// Seconds an `exact` authorization may take to arrive (x402's `maxTimeoutSeconds`): the
/// client signs it valid until then.
pub const EXACT_TIMEOUT_SECS: u64 = 300;

impl Proxy {
    /// An `exact` payment: verified (and held, so the same authorization cannot be served
    /// twice at once), the upstream asked, then settled on chain before the answer goes out. A
    /// failed upstream is not paid; a failed settlement answers 402 instead of the upstream's
    /// answer.
    pub(super) async fn serve_exact(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        route_index: usize,
        resource: &Resource,
        payment: ExactPayload,
        start: std::time::Instant,
    ) -> Response<Body> {
        let route = &self.routes[route_index];
        let Some(side) = self.exact.clone() else {
            return error(StatusCode::SERVICE_UNAVAILABLE, "exact is not set up");
        };
        let payer = payment.authorization.from;
        let refuse = |reason: String| {
            self.meter.record(Some(payer), Outcome::Refused, 0);
            self.payment_required(resource, route, &reason, None)
        };
        let held = match side.settler.hold(&payment) {
            Ok(h) => h,
            Err(e) => return refuse(e.to_string()),
        };
        let wanted = self.exact_requirement(route);
        let (s, p, w) = (side.clone(), payment.clone(), wanted.clone());
        match tokio::task::spawn_blocking(move || s.settler.verify(&p, &w)).await {
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err(e))) => return refuse(e.to_string()),
            Ok(Err(e)) => return error(StatusCode::SERVICE_UNAVAILABLE, &format!("{e:#}")),
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        }
        let upstream = match self.forward_paid(req, peer, payer).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let amount = route.price;
        let s = side.clone();
        let settled =
            match tokio::task::spawn_blocking(move || s.settler.settle(&payment, &wanted)).await {
                Ok(r) => r,
                Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            };
        drop(held);
        let settled = match settled {
            Ok(s) => s,
            Err(SettleError::Invalid(e)) => return refuse(format!("settlement refused: {e}")),
            Err(SettleError::Chain(e)) => return refuse(format!("settlement failed: {e:#}")),
        };
        let settlement = scheme::SettlementResponse {
            success: true,
            payer,
            transaction: settled.transaction.to_string(),
            network: self.network.clone(),
            amount: amount.to_string(),
            extra: json!({}),
        };
        self.paid(upstream, &settlement, amount, start)
    }

    /// The `exact` requirement of a route.
    pub(super) fn exact_requirement(&self, route: &Route) -> exact::Requirements {
        exact::Requirements {
            scheme: exact::SCHEME.into(),
            network: self.network.clone(),
            amount: route.price.to_string(),
            asset: route.asset,
            pay_to: self.payee.address(),
            max_timeout_seconds: EXACT_TIMEOUT_SECS,
            extra: self
                .exact
                .as_ref()
                .and_then(|x| x.extras.get(&route.asset).cloned())
                .unwrap_or_default(),
        }
    }
}
