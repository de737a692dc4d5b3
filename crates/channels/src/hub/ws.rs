//! The hub over WebSocket JSON-RPC (jsonrpsee), for clients that cannot speak the binary
//! protocol. The same messages in their JSON form ([`crate::json`]):
//!
//! - `hub_subscribe` opens a session: a subscription whose notifications (`hub_message`) carry
//!   every message the hub sends, starting with the `challenge`;
//! - `hub_auth(session, sig)` answers the challenge (returns the authenticated address);
//! - `hub_send(session, message)` sends a client message (`register`, `propose`, `accept`,
//!   `reject`, `getLatest`); answers arrive as notifications, as over TCP.
//!
//! A session is bound to the WebSocket connection that opened it.

use super::{Outbox, Shared, Who, conn};
use crate::{
    json::{msg_from_json, msg_to_json},
    keys::Sig,
    wire::Msg,
};
use alloy_primitives::{B256, Bytes, U256};
use jsonrpsee::{
    ConnectionId, PendingSubscriptionSink, RpcModule,
    server::{Server, ServerHandle},
    types::ErrorObjectOwned,
};
use serde_json::Value;
use std::{net::SocketAddr, sync::Arc};

/// A WebSocket session.
#[derive(Debug)]
pub(super) struct Session {
    conn: ConnectionId,
    nonce: B256,
    who: Option<Who>,
    out: Outbox,
    id: u64,
}

fn err(msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32602, msg.into(), None::<()>)
}

fn key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Starts the WebSocket JSON-RPC server.
pub(super) async fn start(
    shared: Arc<Shared>,
    addr: SocketAddr,
) -> eyre::Result<(SocketAddr, ServerHandle)> {
    let mut m = RpcModule::new(shared);
    m.register_subscription(
        "hub_subscribe",
        "hub_message",
        "hub_unsubscribe",
        |_params, pending: PendingSubscriptionSink, shared, ext| async move {
            let Some(conn) = ext.get::<ConnectionId>().copied() else { return };
            let Ok(sink) = pending.accept().await else { return };
            let sid = key(&serde_json::to_value(sink.subscription_id()).unwrap_or_default());
            let (out, mut rx) = super::Outbox::channel(shared.max_queued_messages);
            let nonce = B256::from(rand::random::<[u8; 32]>());
            let id = super::conn::next_conn_id();
            shared.metrics.connections.increment(1);
            let _ = out.send(Msg::Challenge { nonce, hub: shared.key.address() });
            shared.ws.lock().insert(sid.clone(), Session { conn, nonce, who: None, out, id });
            loop {
                tokio::select! {
                    _ = sink.closed() => break,
                    m = crate::wire::MsgQueue::recv(&mut rx) => {
                        let Some(m) = m else { break };
                        let Ok(raw) = serde_json::value::to_raw_value(&msg_to_json(&m)) else { break };
                        if sink.send(raw).await.is_err() {
                            break;
                        }
                    }
                }
            }
            if let Some(s) = shared.ws.lock().remove(&sid)
                && let Some(who) = s.who
            {
                shared.forget_conn(who.me, s.id);
            }
        },
    )?;
    m.register_async_method("hub_auth", |params, shared, ext| async move {
        // [session, sig] with the participant's own key, [session, sig, agentId] with a
        // session key of that agent.
        let mut seq = params.sequence();
        let sid: Value = seq.next()?;
        let sig: Bytes = seq.next()?;
        let agent: Option<U256> = seq.optional_next()?;
        let conn = ext.get::<ConnectionId>().copied();
        let nonce = {
            let sessions = shared.ws.lock();
            let s = sessions
                .get(&key(&sid))
                .filter(|s| Some(s.conn) == conn)
                .ok_or_else(|| err("unknown session"))?;
            if s.who.is_some() {
                return Err(err("session already authenticated"));
            }
            s.nonce
        };
        let sig = Sig::from_slice(&sig).ok_or_else(|| err("a signature is 65 bytes"))?;
        let who = shared.authenticate(&nonce, &sig, agent).await.map_err(err)?;
        let mut sessions = shared.ws.lock();
        let s = sessions.get_mut(&key(&sid)).ok_or_else(|| err("session closed"))?;
        shared.add_conn(who.me, s.id, &s.out).map_err(err)?;
        s.who = Some(who);
        shared.metrics.authenticated.increment(1);
        let _ = s.out.send(Msg::Welcome { address: who.me });
        Ok::<_, ErrorObjectOwned>(who.me)
    })?;
    m.register_async_method("hub_send", |params, shared, ext| async move {
        let (sid, message): (Value, Value) = params.parse()?;
        let conn = ext.get::<ConnectionId>().copied();
        let (who, out) = {
            let sessions = shared.ws.lock();
            let s = sessions
                .get(&key(&sid))
                .filter(|s| Some(s.conn) == conn)
                .ok_or_else(|| err("unknown session"))?;
            (s.who.ok_or_else(|| err("authenticate first (hub_auth)"))?, s.out.clone())
        };
        let msg = msg_from_json(&message).map_err(|e| {
            shared.metrics.protocol_errors.increment(1);
            err(format!("malformed message: {e}"))
        })?;
        if let Some(reply) = conn::handle(&shared, &who, msg, &out).await {
            let _ = out.send(reply);
        }
        Ok::<_, ErrorObjectOwned>(true)
    })?;
    let server = Server::builder().build(addr).await?;
    let local = server.local_addr()?;
    Ok((local, server.start(m)))
}
