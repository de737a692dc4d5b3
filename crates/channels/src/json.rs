//! The JSON form of hub messages (WebSocket JSON-RPC, the CLI's state files).
//!
//! A message is an object with a `type` (`challenge`, `auth`, `authSession`, `welcome`, `register`,
//! `registered`, `propose`, `accept`, `accepted`, `reject`, `getLatest`, `latest`, `error`) and
//! the fields of [`Msg`] in camelCase: hashes, addresses, signatures and amounts as `0x` hex,
//! versions, nonces and chain ids as numbers.

use crate::{
    keys::Sig,
    state::{ChannelParams, SignedState, State},
    wire::Msg,
};
use alloy_primitives::{Address, B256, Bytes, U256};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A state as JSON.
pub fn state_to_json(s: &State) -> Value {
    json!({
        "channelId": s.channelId, "version": s.version, "sentA": s.sentA, "sentB": s.sentB,
        "appData": s.appData, "isFinal": s.isFinal,
    })
}

fn sig_to_json(s: &Option<Sig>) -> Value {
    s.map_or(Value::Null, |s| json!(s.to_bytes()))
}

/// A signed state as JSON (`state`, `sigA`, `sigB`; a missing signature is null).
pub fn signed_to_json(s: &SignedState) -> Value {
    json!({"state": state_to_json(&s.state), "sigA": sig_to_json(&s.sig_a), "sigB": sig_to_json(&s.sig_b)})
}

/// Channel parameters as JSON.
pub fn params_to_json(p: &ChannelParams) -> Value {
    json!({"chainId": p.chain_id, "adjudicator": p.adjudicator, "a": p.a, "b": p.b, "token": p.token, "nonce": p.nonce})
}

/// Why a JSON message, state or channel does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// A required field is absent.
    #[error("missing field {0}")]
    Missing(String),
    /// A field has the wrong type or value.
    #[error("field {field}: {reason}")]
    Bad {
        /// The field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `type` names no message of the protocol.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
}

fn missing(k: &str) -> JsonError {
    JsonError::Missing(k.to_string())
}

fn get<'a>(v: &'a Value, k: &str) -> Result<&'a Value, JsonError> {
    v.get(k).ok_or_else(|| missing(k))
}

fn field<T: DeserializeOwned>(v: &Value, k: &str) -> Result<T, JsonError> {
    serde_json::from_value(get(v, k)?.clone())
        .map_err(|e| JsonError::Bad { field: k.to_string(), reason: e.to_string() })
}

fn sig_field(v: &Value, k: &str) -> Result<Option<Sig>, JsonError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => {
            let b: Bytes = field(v, k)?;
            Sig::from_slice(&b).map(Some).ok_or_else(|| JsonError::Bad {
                field: k.to_string(),
                reason: "a signature is 65 bytes".into(),
            })
        }
    }
}

fn sig_required(v: &Value, k: &str) -> Result<Sig, JsonError> {
    sig_field(v, k)?.ok_or_else(|| missing(k))
}

/// A `u64` given as a JSON number or as a decimal or `0x` hex string: JavaScript numbers hold
/// integers up to 2^53 only, so JS clients send nonces as strings.
fn u64_field(v: &Value, k: &str) -> Result<u64, JsonError> {
    let bad = |reason: String| JsonError::Bad { field: k.to_string(), reason };
    match get(v, k)? {
        Value::String(s) => match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => s.parse(),
        }
        .map_err(|e| bad(format!("{s:?}: {e}"))),
        _ => field(v, k),
    }
}

/// A state from JSON.
pub fn state_from_json(v: &Value) -> Result<State, JsonError> {
    Ok(State {
        channelId: field(v, "channelId")?,
        version: u64_field(v, "version")?,
        sentA: field(v, "sentA")?,
        sentB: field(v, "sentB")?,
        appData: field(v, "appData")?,
        isFinal: field(v, "isFinal")?,
    })
}

/// A signed state from JSON.
pub fn signed_from_json(v: &Value) -> Result<SignedState, JsonError> {
    Ok(SignedState {
        state: state_from_json(get(v, "state")?)?,
        sig_a: sig_field(v, "sigA")?,
        sig_b: sig_field(v, "sigB")?,
    })
}

/// Channel parameters from JSON.
pub fn params_from_json(v: &Value) -> Result<ChannelParams, JsonError> {
    Ok(ChannelParams {
        chain_id: field(v, "chainId")?,
        adjudicator: field(v, "adjudicator")?,
        a: field(v, "a")?,
        b: field(v, "b")?,
        token: field(v, "token")?,
        nonce: u64_field(v, "nonce")?,
    })
}

/// A message as JSON.
pub fn msg_to_json(m: &Msg) -> Value {
    match m {
        Msg::Challenge { nonce, hub } => json!({"type": "challenge", "nonce": nonce, "hub": hub}),
        Msg::Auth { sig } => json!({"type": "auth", "sig": sig.to_bytes()}),
        Msg::AuthSession { agent_id, sig } => {
            json!({"type": "authSession", "agentId": agent_id, "sig": sig.to_bytes()})
        }
        Msg::Welcome { address } => json!({"type": "welcome", "address": address}),
        Msg::Register { params, deposits } => {
            json!({"type": "register", "params": params_to_json(params), "deposits": deposits})
        }
        Msg::Registered { channel_id } => json!({"type": "registered", "channelId": channel_id}),
        Msg::Propose { state, sig } => {
            json!({"type": "propose", "state": state_to_json(state), "sig": sig.to_bytes()})
        }
        Msg::Accept { channel_id, version, sig } => {
            json!({"type": "accept", "channelId": channel_id, "version": version, "sig": sig.to_bytes()})
        }
        Msg::Accepted { channel_id, version, sig } => {
            json!({"type": "accepted", "channelId": channel_id, "version": version, "sig": sig.to_bytes()})
        }
        Msg::Reject { channel_id, version, reason } => {
            json!({"type": "reject", "channelId": channel_id, "version": version, "reason": reason})
        }
        Msg::GetLatest { channel_id } => json!({"type": "getLatest", "channelId": channel_id}),
        Msg::Latest { state, sig_a, sig_b } => json!({
            "type": "latest", "state": state_to_json(state), "sigA": sig_to_json(sig_a), "sigB": sig_to_json(sig_b),
        }),
        Msg::Submit { state, sig_a, sig_b } => json!({
            "type": "submit", "state": state_to_json(state), "sigA": sig_a.to_bytes(), "sigB": sig_b.to_bytes(),
        }),
        Msg::Error { message } => json!({"type": "error", "message": message}),
        Msg::Ping { nonce } => json!({"type": "ping", "nonce": nonce}),
        Msg::Pong { nonce } => json!({"type": "pong", "nonce": nonce}),
    }
}

/// A message from JSON, with a reason when it is malformed.
pub fn msg_from_json(v: &Value) -> Result<Msg, JsonError> {
    let t = v.get("type").and_then(Value::as_str).ok_or_else(|| missing("type"))?;
    Ok(match t {
        "challenge" => {
            Msg::Challenge { nonce: field::<B256>(v, "nonce")?, hub: field::<Address>(v, "hub")? }
        }
        "auth" => Msg::Auth { sig: sig_required(v, "sig")? },
        "authSession" => {
            Msg::AuthSession { agent_id: field(v, "agentId")?, sig: sig_required(v, "sig")? }
        }
        "welcome" => Msg::Welcome { address: field(v, "address")? },
        "ping" => Msg::Ping { nonce: field(v, "nonce")? },
        "pong" => Msg::Pong { nonce: field(v, "nonce")? },
        "register" => Msg::Register {
            params: params_from_json(get(v, "params")?)?,
            deposits: field::<[U256; 2]>(v, "deposits")?,
        },
        "registered" => Msg::Registered { channel_id: field(v, "channelId")? },
        "propose" => {
            Msg::Propose { state: state_from_json(get(v, "state")?)?, sig: sig_required(v, "sig")? }
        }
        "accept" => Msg::Accept {
            channel_id: field(v, "channelId")?,
            version: u64_field(v, "version")?,
            sig: sig_required(v, "sig")?,
        },
        "accepted" => Msg::Accepted {
            channel_id: field(v, "channelId")?,
            version: u64_field(v, "version")?,
            sig: sig_required(v, "sig")?,
        },
        "reject" => Msg::Reject {
            channel_id: field(v, "channelId")?,
            version: u64_field(v, "version")?,
            reason: field(v, "reason")?,
        },
        "getLatest" => Msg::GetLatest { channel_id: field(v, "channelId")? },
        "latest" => {
            let s = signed_from_json(v)?;
            Msg::Latest { state: s.state, sig_a: s.sig_a, sig_b: s.sig_b }
        }
        "submit" => Msg::Submit {
            state: state_from_json(get(v, "state")?)?,
            sig_a: sig_required(v, "sigA")?,
            sig_b: sig_required(v, "sigB")?,
        },
        "error" => Msg::Error { message: field(v, "message")? },
        other => return Err(JsonError::UnknownType(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_and_versions_may_be_strings_for_javascript() {
        let n = u64::MAX - 1;
        let p = serde_json::json!({
            "chainId": 80042, "adjudicator": Address::ZERO, "a": Address::ZERO,
            "b": Address::ZERO, "token": Address::ZERO, "nonce": n.to_string(),
        });
        assert_eq!(params_from_json(&p).unwrap().nonce, n);
        let mut hex = p.clone();
        hex["nonce"] = format!("{n:#x}").into();
        assert_eq!(params_from_json(&hex).unwrap().nonce, n);
        let mut number = p.clone();
        number["nonce"] = n.into();
        assert_eq!(params_from_json(&number).unwrap().nonce, n);
        let mut bad = p;
        bad["nonce"] = "1e3".into();
        assert!(params_from_json(&bad).unwrap_err().to_string().contains("nonce"));
    }

    #[test]
    fn every_message_round_trips() {
        for m in crate::wire::samples() {
            assert_eq!(msg_from_json(&msg_to_json(&m)), Ok(m));
        }
        assert_eq!(
            msg_from_json(&json!({"type": "propose"})),
            Err(JsonError::Missing("state".into()))
        );
        let short = msg_from_json(&json!({"type": "auth", "sig": "0x01"})).unwrap_err();
        assert!(matches!(&short, JsonError::Bad { field, .. } if field == "sig"), "{short}");
        assert!(short.to_string().contains("65 bytes"), "{short}");
        assert_eq!(
            msg_from_json(&json!({"type": "nope"})),
            Err(JsonError::UnknownType("nope".into()))
        );
        assert_eq!(msg_from_json(&json!([])), Err(JsonError::Missing("type".into())));
    }
}
