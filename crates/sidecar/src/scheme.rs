//! The `agnt2-channel` payment scheme in x402 v2's HTTP shape.
//!
//! - `402` + `PAYMENT-REQUIRED: base64(json)`: [`PaymentRequired`] with a [`Requirement`] per
//!   scheme the route offers (`exact` is described in [`crate::exact`]); for `agnt2-channel`:
//!   network `eip155:<chainId>`, amount in wei (or token units), asset = the zero address for
//!   ETH, payTo = the service's agent address; `extra` names the adjudicator, the hub, the agent
//!   id and, for a known channel, its latest co-signed state.
//! - Retry with `PAYMENT-SIGNATURE: base64(json)`: [`PaymentPayload`] whose `payload` is the
//!   channel's parameters and the payer's signature of the next state: version + 1, `sentA`
//!   raised by exactly the amount, `appData` = [`request_binding`] of the request.
//! - `200` + `PAYMENT-RESPONSE: base64(json)`: [`SettlementResponse`] with the service's
//!   countersignature; the co-signed state is stored at the hub before the request is served.

use agnt2_channels::{
    ChannelParams, SignedState, State,
    json::{params_from_json, params_to_json, signed_to_json, state_from_json, state_to_json},
};
use alloy_primitives::{Address, B256, U256, keccak256};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The scheme's name.
pub const SCHEME: &str = "agnt2-channel";
/// The x402 version of the header shapes.
pub const X402_VERSION: u64 = 2;
/// Header of the 402 answer.
pub const PAYMENT_REQUIRED: &str = "payment-required";
/// Header of the paid retry.
pub const PAYMENT_SIGNATURE: &str = "payment-signature";
/// Header of the paid answer.
pub const PAYMENT_RESPONSE: &str = "payment-response";

/// The resource a payment is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Path and query of the request.
    pub url: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// Its media type, when known.
    #[serde(default)]
    pub mime_type: String,
}

/// One way to pay (x402 `PaymentRequirements`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// `agnt2-channel` or `exact`.
    pub scheme: String,
    /// CAIP-2 network, `eip155:<chainId>`.
    pub network: String,
    /// The price in the asset's smallest unit (wei for ETH), as a decimal string.
    pub amount: String,
    /// The zero address (ETH), or a token.
    pub asset: Address,
    /// The service's agent address (side B of the channel for `agnt2-channel`).
    pub pay_to: Address,
    /// How long the offer stands.
    pub max_timeout_seconds: u64,
    /// Scheme details: `adjudicator`, `hub`, `agentId`, and `latest` for a known channel.
    #[serde(default)]
    pub extra: Value,
}

/// Why a header of the scheme does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    /// A required field is absent.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A field does not hold what the scheme says.
    #[error("{field}: {reason}")]
    Bad {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The header is not `base64(json)` of the expected shape.
    #[error("{0}")]
    Encoding(String),
}

fn bad(field: &'static str, reason: impl std::fmt::Display) -> SchemeError {
    SchemeError::Bad { field, reason: reason.to_string() }
}

impl Requirement {
    /// The amount in wei.
    pub fn amount_wei(&self) -> Result<U256, SchemeError> {
        U256::from_str_radix(&self.amount, 10)
            .map_err(|e| bad("amount", format!("{:?}: {e}", self.amount)))
    }

    /// The chain id of the network.
    pub fn chain_id(&self) -> Result<u64, SchemeError> {
        self.network
            .strip_prefix("eip155:")
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad("network", format!("{:?} is not eip155:<chainId>", self.network)))
    }

    /// The adjudicator named in `extra`.
    pub fn adjudicator(&self) -> Result<Address, SchemeError> {
        serde_json::from_value(self.extra["adjudicator"].clone())
            .map_err(|_| SchemeError::Missing("extra.adjudicator"))
    }

    /// The channel's latest co-signed state the service holds, if it sent one.
    pub fn latest(&self) -> Option<SignedState> {
        agnt2_channels::json::signed_from_json(self.extra.get("latest")?).ok()
    }
}

/// The body of `PAYMENT-REQUIRED`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequired {
    /// 2.
    pub x402_version: u64,
    /// Why the request was not served.
    pub error: String,
    /// What is being paid for.
    pub resource: Resource,
    /// The ways to pay.
    pub accepts: Vec<Requirement>,
}

/// The body of `PAYMENT-SIGNATURE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    /// 2.
    pub x402_version: u64,
    /// What is being paid for.
    pub resource: Resource,
    /// The requirement taken.
    pub accepted: Requirement,
    /// `{channel, state, signature}` (see [`ChannelPayment`]), or for `exact`
    /// `{authorization, signature}` ([`crate::exact::ExactPayload`]).
    pub payload: Value,
}

/// The scheme's payload: a signed next state of a channel to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPayment {
    /// The channel.
    pub channel: ChannelParams,
    /// The next state.
    pub state: State,
    /// The payer's signature of it.
    pub signature: agnt2_channels::Sig,
}

impl ChannelPayment {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "channel": params_to_json(&self.channel),
            "state": state_to_json(&self.state),
            "signature": self.signature.to_bytes(),
        })
    }

    /// From JSON, with a reason when malformed.
    pub fn from_json(v: &Value) -> Result<Self, SchemeError> {
        let channel =
            params_from_json(v.get("channel").ok_or(SchemeError::Missing("payload.channel"))?)
                .map_err(|e| bad("payload.channel", e))?;
        let state = state_from_json(v.get("state").ok_or(SchemeError::Missing("payload.state"))?)
            .map_err(|e| bad("payload.state", e))?;
        let sig: alloy_primitives::Bytes = serde_json::from_value(
            v.get("signature").cloned().ok_or(SchemeError::Missing("payload.signature"))?,
        )
        .map_err(|e| bad("payload.signature", e))?;
        let signature = agnt2_channels::Sig::from_slice(&sig)
            .ok_or_else(|| bad("payload.signature", "must be 65 bytes"))?;
        Ok(Self { channel, state, signature })
    }
}

/// The body of `PAYMENT-RESPONSE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementResponse {
    /// The payment was taken.
    pub success: bool,
    /// The payer (side A).
    pub payer: Address,
    /// Channel-backed: the channel id (no transaction on chain per request).
    pub transaction: String,
    /// CAIP-2 network.
    pub network: String,
    /// Wei taken.
    pub amount: String,
    /// `{version, signature}`: the service's countersignature of the paid state.
    pub extra: Value,
}

/// `base64(json)` of a header body.
pub fn encode<T: Serialize>(v: &T) -> String {
    STANDARD.encode(serde_json::to_vec(v).unwrap_or_default())
}

/// A header body from `base64(json)`, with a reason when malformed.
pub fn decode<T: serde::de::DeserializeOwned>(header: &[u8]) -> Result<T, SchemeError> {
    let raw = STANDARD
        .decode(header.trim_ascii())
        .map_err(|e| SchemeError::Encoding(format!("not base64: {e}")))?;
    serde_json::from_slice(&raw)
        .map_err(|e| SchemeError::Encoding(format!("not the expected JSON: {e}")))
}

/// The app data a payment for `method` `path_and_query` carries: a payment pays for one
/// request, and cannot be moved to another.
pub fn request_binding(method: &str, path_and_query: &str) -> B256 {
    let mut buf = Vec::with_capacity(16 + method.len() + path_and_query.len());
    buf.extend_from_slice(b"agnt2-pay\0");
    buf.extend_from_slice(method.to_ascii_uppercase().as_bytes());
    buf.push(0);
    buf.extend_from_slice(path_and_query.as_bytes());
    keccak256(&buf)
}

/// The extra a service puts in its requirement.
pub fn requirement_extra(
    adjudicator: Address,
    token: Address,
    hub: &str,
    agent_id: Option<U256>,
    signer: Option<Address>,
    latest: Option<&SignedState>,
) -> Value {
    let mut v = json!({"adjudicator": adjudicator, "hub": hub, "token": token});
    if let Some(id) = agent_id {
        v["agentId"] = json!(id.to_string());
    }
    if let Some(s) = signer {
        v["signer"] = json!(s);
    }
    if let Some(l) = latest {
        v["latest"] = signed_to_json(l);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_bad_ones_say_why() {
        let r = Requirement {
            scheme: SCHEME.into(),
            network: "eip155:80042".into(),
            amount: "1000".into(),
            asset: Address::ZERO,
            pay_to: Address::repeat_byte(2),
            max_timeout_seconds: 60,
            extra: requirement_extra(
                Address::repeat_byte(3),
                Address::ZERO,
                "127.0.0.1:9545",
                None,
                None,
                None,
            ),
        };
        let pr = PaymentRequired {
            x402_version: 2,
            error: "payment required".into(),
            resource: Resource {
                url: "/a".into(),
                description: String::new(),
                mime_type: String::new(),
            },
            accepts: vec![r.clone()],
        };
        let back: PaymentRequired = decode(encode(&pr).as_bytes()).unwrap();
        assert_eq!(back, pr);
        assert_eq!(r.chain_id(), Ok(80042));
        assert_eq!(r.amount_wei(), Ok(U256::from(1000)));
        assert_eq!(r.adjudicator(), Ok(Address::repeat_byte(3)));
        let not_base64 = decode::<PaymentRequired>(b"%%%").unwrap_err();
        assert!(matches!(&not_base64, SchemeError::Encoding(m) if m.contains("base64")));
        let not_json = decode::<PaymentRequired>(b"e30=").unwrap_err();
        assert!(matches!(&not_json, SchemeError::Encoding(m) if m.contains("JSON")));
        assert_eq!(
            ChannelPayment::from_json(&json!({})),
            Err(SchemeError::Missing("payload.channel"))
        );
        assert_ne!(request_binding("GET", "/a"), request_binding("GET", "/b"));
        assert_eq!(request_binding("get", "/a"), request_binding("GET", "/a"));
    }
}
