//! Connections: the authentication handshake, the reader that handles requests in order, and the
//! writer that batches outgoing frames.

use super::{Outbox, Shared, Who};
use crate::wire::{self, Msg, ReadError};
use alloy_primitives::B256;
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::{
    io::BufReader,
    net::{TcpListener, TcpStream},
};

/// Read buffer of an authenticated connection (a few dozen frames per read).
const READ_BUFFER: usize = 16 * 1024;
/// Refused requests in a row after which the hub closes the connection (a flooding client).
const MAX_REFUSED_IN_A_ROW: u32 = 256;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// A fresh id for a connection or WebSocket session.
pub(super) fn next_conn_id() -> u64 {
    NEXT_CONN.fetch_add(1, Ordering::Relaxed)
}

pub(super) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let permits = Arc::new(tokio::sync::Semaphore::new(shared.max_connections));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // Over the limit the connection is closed at once (as reth's and geth's servers
                // do): nothing is allocated for it.
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    shared.metrics.connections_refused.increment(1);
                    drop(stream);
                    continue;
                };
                shared.metrics.connections.increment(1);
                let id = next_conn_id();
                let s = shared.clone();
                let task = tokio::spawn(async move {
                    if let Err(err) = serve(s.clone(), stream, id).await {
                        tracing::debug!(%peer, %err, "connection ended");
                    }
                    s.conn_tasks.lock().remove(&id);
                    drop(permit);
                });
                shared.conn_tasks.lock().insert(id, task.abort_handle());
            }
            Err(err) => {
                tracing::warn!(%err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve(shared: Arc<Shared>, stream: TcpStream, conn_id: u64) -> eyre::Result<()> {
    stream.set_nodelay(true)?;
    let (mut raw, w) = stream.into_split();
    let (out, rx) = Outbox::channel(shared.max_queued_messages);
    let writer = tokio::spawn(wire::write_queued(w, rx));
    let mut buf = Vec::new();

    let nonce = B256::from(rand::random::<[u8; 32]>());
    let hub = shared.key.address();
    let _ = out.send(Msg::Challenge { nonce, hub });
    // The handshake is read unbuffered (a connection that never authenticates costs no read
    // buffer); the buffer comes with authentication, nothing read past the Auth frame is lost.
    let answer =
        tokio::time::timeout(shared.handshake_timeout, wire::read_msg(&mut raw, &mut buf)).await;
    let (sig, agent) = match answer {
        Ok(Ok(Some(Msg::Auth { sig }))) => (sig, None),
        Ok(Ok(Some(Msg::AuthSession { agent_id, sig }))) => (sig, Some(agent_id)),
        Ok(Ok(Some(_))) => {
            return fail(&shared, out, writer, "authentication: expected Auth").await;
        }
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(e)) => return fail(&shared, out, writer, &format!("authentication: {e}")).await,
        Err(_) => return fail(&shared, out, writer, "authentication timed out").await,
    };
    let who = match shared.authenticate(&nonce, &sig, agent).await {
        Ok(w) => w,
        Err(e) => return fail(&shared, out, writer, &e).await,
    };
    if let Err(e) = shared.add_conn(who.me, conn_id, &out) {
        return fail(&shared, out, writer, &e).await;
    }
    shared.metrics.authenticated.increment(1);
    let mut r = BufReader::with_capacity(READ_BUFFER, raw);
    let _ = out.send(Msg::Welcome { address: who.me });

    let result = serve_authenticated(&shared, &who, &mut r, &mut buf, &out).await;

    shared.forget_conn(who.me, conn_id);
    drop(out);
    close_writer(writer).await;
    result
}

/// Lets the writer flush what is queued, then stops it (relayed proposals may still hold a clone
/// of its outbox).
async fn close_writer(writer: tokio::task::JoinHandle<()>) {
    let abort = writer.abort_handle();
    if tokio::time::timeout(Duration::from_secs(2), writer).await.is_err() {
        abort.abort();
    }
}

async fn serve_authenticated<R: tokio::io::AsyncRead + Unpin>(
    shared: &Arc<Shared>,
    who: &Who,
    r: &mut R,
    buf: &mut Vec<u8>,
    out: &Outbox,
) -> eyre::Result<()> {
    let mut refused_in_a_row = 0u32;
    let mut idle = Idle::new(shared.idle_timeout);
    loop {
        let read = match idle.next_message(r, buf, out).await {
            Some(read) => read,
            None => {
                shared.metrics.idle_closed.increment(1);
                let _ = out.send(Msg::Error {
                    message: format!("silent for {:?}; closing", shared.idle_timeout),
                });
                eyre::bail!("idle for {:?}", shared.idle_timeout);
            }
        };
        let msg = match read {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(()),
            Err(ReadError::Io(e)) => return Err(e.into()),
            Err(ReadError::Wire(e)) => {
                shared.metrics.protocol_errors.increment(1);
                let _ = out.send(Msg::Error { message: format!("malformed frame: {e}") });
                eyre::bail!("malformed frame: {e}");
            }
        };
        let refused = handle(shared, who, msg, out).await;
        if out.overflowed() {
            shared.metrics.outbox_overflows.increment(1);
            eyre::bail!("the client fell {} messages behind; closing", shared.max_queued_messages);
        }
        match refused {
            None => refused_in_a_row = 0,
            Some(reply) => {
                let _ = out.send(reply);
                refused_in_a_row += 1;
                if refused_in_a_row >= MAX_REFUSED_IN_A_ROW {
                    let _ = out.send(Msg::Error {
                        message: format!(
                            "{MAX_REFUSED_IN_A_ROW} refused requests in a row; closing"
                        ),
                    });
                    eyre::bail!("client refused {refused_in_a_row} times in a row");
                }
            }
        }
    }
}

/// A connection's idle clock: one timer for the connection's life, moved only when it fires
/// (a message costs a clock read, not a timer update).
struct Idle {
    /// Half the idle timeout (zero: no idle timeout).
    half: Duration,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// When the last message was completed.
    last: tokio::time::Instant,
    pinged: bool,
}

impl Idle {
    fn new(timeout: Duration) -> Self {
        let half = timeout / 2;
        let last = tokio::time::Instant::now();
        Self { half, timer: Box::pin(tokio::time::sleep_until(last + half)), last, pinged: false }
    }

    /// The next message, or `None` when the connection completed none within the idle timeout
    /// (a `Ping` goes out half-way; the read is never cancelled mid-frame, so framing survives
    /// it).
    async fn next_message<R: tokio::io::AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        buf: &mut Vec<u8>,
        out: &Outbox,
    ) -> Option<Result<Option<Msg>, ReadError>> {
        let read = wire::read_msg(r, buf);
        if self.half.is_zero() {
            return Some(read.await);
        }
        tokio::pin!(read);
        loop {
            tokio::select! {
                res = &mut read => {
                    (self.last, self.pinged) = (tokio::time::Instant::now(), false);
                    return Some(res);
                }
                () = self.timer.as_mut() => {
                    let now = tokio::time::Instant::now();
                    if now < self.last + self.half {
                        // Messages came since the timer was set: it only moves now.
                        self.timer.as_mut().reset(self.last + self.half);
                    } else if self.pinged {
                        return None;
                    } else {
                        self.pinged = true;
                        let _ = out.send(Msg::Ping { nonce: rand::random() });
                        self.timer.as_mut().reset(now + self.half);
                    }
                }
            }
        }
    }
}

/// Handles one request of an authenticated client (either transport); `Some(reply)` when it
/// was refused.
pub(super) async fn handle(shared: &Arc<Shared>, who: &Who, msg: Msg, out: &Outbox) -> Option<Msg> {
    let refused = match msg {
        Msg::Register { params, deposits } => shared
            .register(who, params, deposits, out)
            .await
            .err()
            .map(|reason| Msg::Error { message: format!("register: {reason}") }),
        Msg::Propose { state, sig } => {
            let (id, v) = (state.channelId, state.version);
            shared.propose(who, state, sig, out).err().map(|reason| Msg::Reject {
                channel_id: id,
                version: v,
                reason,
            })
        }
        Msg::Submit { state, sig_a, sig_b } => {
            let (id, v) = (state.channelId, state.version);
            shared.submit(who, state, [sig_a, sig_b], out).err().map(|reason| Msg::Reject {
                channel_id: id,
                version: v,
                reason,
            })
        }
        Msg::Accept { channel_id, version, sig } => shared
            .accept(who, channel_id, version, sig)
            .err()
            .map(|reason| Msg::Reject { channel_id, version, reason }),
        Msg::Reject { channel_id, version, reason } => shared
            .refuse(who, channel_id, version, reason)
            .err()
            .map(|reason| Msg::Reject { channel_id, version, reason }),
        Msg::Pong { .. } => None,
        Msg::GetLatest { channel_id } => match shared.latest_for(who, &channel_id) {
            Ok(m) => {
                let _ = out.send(m);
                None
            }
            Err(reason) => Some(Msg::Error { message: format!("get latest: {reason}") }),
        },
        other => {
            shared.metrics.protocol_errors.increment(1);
            Some(Msg::Error { message: format!("unexpected message from a client: {other:?}") })
        }
    };
    if refused.is_some() {
        shared.metrics.rejected.increment(1);
    }
    refused
}

async fn fail(
    shared: &Shared,
    out: Outbox,
    writer: tokio::task::JoinHandle<()>,
    message: &str,
) -> eyre::Result<()> {
    shared.metrics.protocol_errors.increment(1);
    let _ = out.send(Msg::Error { message: message.to_string() });
    drop(out);
    close_writer(writer).await;
    eyre::bail!("{message}")
}
