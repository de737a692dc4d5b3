//! The sidecar's connection to the hub: requests wait for their answers by channel and
//! version; a dispatcher routes the hub's messages to them, fails them all when the connection
//! dies (so nothing waits out a timeout), and countersigns proposals the hub relays from payers.

use super::{Books, PayError};
use agnt2_channels::{
    Key, Side, Sig, SignedState, State,
    client::HubClient,
    keys::recover,
    state::{self, check_transition},
    wire::Msg,
};
use alloy_primitives::B256;
use alloy_sol_types::Eip712Domain;
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::sync::{mpsc, oneshot};

/// Answers the dispatcher routes to callers.
#[derive(Debug, Default)]
pub(super) struct Waiters {
    pub(super) submits: HashMap<(B256, u64), oneshot::Sender<Result<(), String>>>,
    pub(super) register: Option<(B256, oneshot::Sender<Result<SignedState, String>>)>,
}

/// A live hub connection: where to send, and whether its reader still runs.
#[derive(Debug, Clone)]
pub(super) struct Conn {
    pub(super) out: mpsc::UnboundedSender<Msg>,
    pub(super) waiters: Arc<Mutex<Waiters>>,
    pub(super) alive: Arc<std::sync::atomic::AtomicBool>,
}

impl Conn {
    pub(super) fn is_alive(&self) -> bool {
        !self.out.is_closed() && self.alive.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Registers a waiter unless the connection is already dead (checked under the lock the
    /// dispatcher takes to fail everyone when it dies, so no waiter is left hanging).
    pub(super) fn wait(&self, f: impl FnOnce(&mut Waiters)) -> bool {
        let mut w = self.waiters.lock();
        if !self.alive.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        f(&mut w);
        true
    }
}

pub(super) fn send(conn: &Conn, msg: Msg) -> Result<(), PayError> {
    conn.out.send(msg).map_err(|_| PayError::Unavailable("the hub connection closed".into()))
}

pub(super) async fn answer<T>(rx: oneshot::Receiver<T>) -> Result<T, PayError> {
    match tokio::time::timeout(Duration::from_secs(10), rx).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(PayError::Unavailable("the hub connection closed".into())),
        Err(_) => Err(PayError::Unavailable("the hub did not answer within 10 s".into())),
    }
}

/// Answers proposals the hub relays from payers (a payment through the hub, new app data, a
/// final state to close with): countersigned when they follow the channel's latest state and
/// only the payer gives.
#[derive(Debug, Clone)]
pub(super) struct Countersigner {
    pub(super) key: Key,
    pub(super) domain: Eip712Domain,
    pub(super) books: Books,
    pub(super) out: mpsc::UnboundedSender<Msg>,
}

impl Countersigner {
    async fn answer(self, state: State, sig: Sig) {
        let (id, version) = (state.channelId, state.version);
        let slot = self.books.lock().get(&id).cloned();
        let reply = match slot {
            None => Err("unknown channel: pay this service over HTTP first".to_string()),
            Some(slot) => {
                let mut book = slot.lock().await;
                match book.as_mut() {
                    None => Err("channel not loaded".into()),
                    Some(b) => {
                        let digest = state::digest(&state, &self.domain);
                        check_transition(&b.latest.state, &state, Side::A, b.deposits)
                            .map_err(|e| e.to_string())
                            .and_then(|()| {
                                if recover(&digest, &sig) != Some(b.payer) {
                                    return Err("not signed by the payer".to_string());
                                }
                                let mine = self.key.sign(&digest);
                                b.latest = SignedState {
                                    state: state.clone(),
                                    sig_a: Some(sig),
                                    sig_b: Some(mine),
                                };
                                Ok(mine)
                            })
                    }
                }
            }
        };
        let msg = match reply {
            Ok(sig) => Msg::Accept { channel_id: id, version, sig },
            Err(reason) => Msg::Reject { channel_id: id, version, reason },
        };
        let _ = self.out.send(msg);
    }
}

/// Routes the hub's answers to the waiting callers; fails them all when the connection ends.
pub(super) async fn dispatch(mut client: HubClient, conn: Conn, signer: Countersigner) {
    let waiters = conn.waiters;
    loop {
        let msg = match client.recv().await {
            Ok(m) => m,
            Err(e) => {
                // Marked dead under the waiters' lock: a caller either registered before (and is
                // failed here) or sees the connection dead and reconnects.
                let mut w = waiters.lock();
                conn.alive.store(false, std::sync::atomic::Ordering::Release);
                for (_, tx) in w.submits.drain() {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
                if let Some((_, tx)) = w.register.take() {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
                tracing::warn!(err = %format!("{e:#}"), "hub connection lost");
                return;
            }
        };
        let mut w = waiters.lock();
        match msg {
            Msg::Accepted { channel_id, version, .. } => {
                if let Some(tx) = w.submits.remove(&(channel_id, version)) {
                    let _ = tx.send(Ok(()));
                }
            }
            Msg::Reject { channel_id, version, reason } => {
                if let Some(tx) = w.submits.remove(&(channel_id, version)) {
                    let _ = tx.send(Err(reason));
                }
            }
            Msg::Latest { state, sig_a, sig_b } => {
                if let Some((id, tx)) = w.register.take() {
                    if id == state.channelId {
                        let _ = tx.send(Ok(SignedState { state, sig_a, sig_b }));
                    } else {
                        w.register = Some((id, tx));
                    }
                }
            }
            Msg::Error { message } => {
                if let Some((_, tx)) = w.register.take() {
                    let _ = tx.send(Err(message));
                } else {
                    tracing::warn!(%message, "hub error");
                }
            }
            Msg::Propose { state, sig } => {
                tokio::spawn(signer.clone().answer(state, sig));
            }
            Msg::Registered { .. } => {}
            other => tracing::debug!(?other, "unexpected message from the hub"),
        }
    }
}
