//! The hub's compact binary protocol.
//!
//! A frame is a big-endian `u32` length followed by that many bytes: a one-byte tag and the
//! message's fields in order, fixed-size big-endian (addresses 20 bytes, words 32, `u64` 8,
//! signatures 65, strings as a `u16` length and UTF-8). Frames over [`MAX_FRAME`] bytes are a
//! protocol error: the peer closes the connection.

use crate::{
    keys::Sig,
    state::{ChannelParams, State},
};
use alloy_primitives::{Address, B256, U256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 4096;

/// A message of the hub protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// Hub → client on connect: sign `auth_digest(nonce, hub)` to prove your key.
    Challenge {
        /// Fresh random nonce.
        nonce: B256,
        /// The hub's address.
        hub: Address,
    },
    /// Client → hub: the signed challenge.
    Auth {
        /// Signature over [`auth_digest`].
        sig: Sig,
    },
    /// Client → hub: the challenge signed by a session key of agent `agent_id`; the connection
    /// then acts for the agent's owner (checked on the rollup: the owner, and the key's session
    /// valid).
    AuthSession {
        /// The agent whose session key signs.
        agent_id: U256,
        /// Signature over [`auth_digest`] by the session key.
        sig: Sig,
    },
    /// Hub → client: authenticated as `address`.
    Welcome {
        /// The address the connection acts for.
        address: Address,
    },
    /// Client → hub: follow a channel the client takes part in.
    Register {
        /// The channel (chain id and adjudicator must be the hub's).
        params: ChannelParams,
        /// Deposits `[a, b]` (checked against the adjudicator when the hub watches one).
        deposits: [U256; 2],
    },
    /// Hub → client: the channel is followed; its latest co-signed state follows as [`Msg::Latest`].
    Registered {
        /// Channel id.
        channel_id: B256,
    },
    /// A proposed next state and its proposer's signature (client → hub → counterparty).
    Propose {
        /// The state.
        state: State,
        /// The proposer's signature.
        sig: Sig,
    },
    /// Counterparty → hub: countersignature of a relayed proposal.
    Accept {
        /// Channel id.
        channel_id: B256,
        /// Version accepted.
        version: u64,
        /// The counterparty's signature.
        sig: Sig,
    },
    /// Hub → proposer: the state is co-signed and stored.
    Accepted {
        /// Channel id.
        channel_id: B256,
        /// Version stored.
        version: u64,
        /// The counterparty's signature.
        sig: Sig,
    },
    /// A proposal refused, with the reason.
    Reject {
        /// Channel id.
        channel_id: B256,
        /// Version refused.
        version: u64,
        /// Why.
        reason: String,
    },
    /// Client → hub: the latest co-signed state of a channel.
    GetLatest {
        /// Channel id.
        channel_id: B256,
    },
    /// Hub → client: the latest co-signed state (signatures absent for the opening state).
    Latest {
        /// The state.
        state: State,
        /// Side A's signature.
        sig_a: Option<Sig>,
        /// Side B's signature.
        sig_b: Option<Sig>,
    },
    /// Participant → hub: a next state both sides already signed (exchanged outside the hub,
    /// e.g. in an HTTP payment header); the hub checks both signatures and the transition,
    /// stores it and answers [`Msg::Accepted`] (with the other side's signature) or
    /// [`Msg::Reject`].
    Submit {
        /// The state.
        state: State,
        /// Side A's signature.
        sig_a: Sig,
        /// Side B's signature.
        sig_b: Sig,
    },
    /// Hub → client on a connection silent for half the hub's idle timeout: answer with
    /// [`Msg::Pong`] (any message will do) or be disconnected when the timeout passes.
    Ping {
        /// Echoed in the pong.
        nonce: u64,
    },
    /// Client → hub: the answer to a [`Msg::Ping`].
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// A protocol error; the hub closes the connection after a fatal one.
    Error {
        /// What went wrong.
        message: String,
    },
}

/// The digest a client signs to authenticate: `keccak256("agnt2-hub auth" ‖ nonce ‖ hub)`.
pub fn auth_digest(nonce: &B256, hub: &Address) -> B256 {
    let mut buf = Vec::with_capacity(14 + 32 + 20);
    buf.extend_from_slice(b"agnt2-hub auth");
    buf.extend_from_slice(nonce.as_slice());
    buf.extend_from_slice(hub.as_slice());
    alloy_primitives::keccak256(&buf)
}

/// A frame that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than its fields.
    #[error("frame truncated")]
    Truncated,
    /// Bytes left over after the fields.
    #[error("{0} trailing bytes in frame")]
    Trailing(usize),
    /// Unknown message tag.
    #[error("unknown message tag {0}")]
    UnknownTag(u8),
    /// Empty frame.
    #[error("empty frame")]
    Empty,
    /// A string that is not UTF-8.
    #[error("string is not UTF-8")]
    Utf8,
    /// A flag byte other than 0 or 1.
    #[error("bad flag byte {0}")]
    Flag(u8),
    /// Over [`MAX_FRAME`].
    #[error("frame of {0} bytes is over the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
}

mod tag {
    pub(super) const CHALLENGE: u8 = 1;
    pub(super) const AUTH: u8 = 2;
    pub(super) const WELCOME: u8 = 3;
    pub(super) const REGISTER: u8 = 4;
    pub(super) const REGISTERED: u8 = 5;
    pub(super) const PROPOSE: u8 = 6;
    pub(super) const ACCEPT: u8 = 7;
    pub(super) const ACCEPTED: u8 = 8;
    pub(super) const REJECT: u8 = 9;
    pub(super) const GET_LATEST: u8 = 10;
    pub(super) const LATEST: u8 = 11;
    pub(super) const ERROR: u8 = 12;
    pub(super) const AUTH_SESSION: u8 = 13;
    pub(super) const SUBMIT: u8 = 14;
    pub(super) const PING: u8 = 15;
    pub(super) const PONG: u8 = 16;
}

struct Enc(Vec<u8>);

impl Enc {
    fn b(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.b(&v.to_be_bytes())
    }
    fn u256(&mut self, v: &U256) -> &mut Self {
        self.b(&v.to_be_bytes::<32>())
    }
    fn str(&mut self, s: &str) -> &mut Self {
        let s = &s.as_bytes()[..s.len().min(1024)];
        self.b(&(s.len() as u16).to_be_bytes()).b(s)
    }
    fn state(&mut self, s: &State) -> &mut Self {
        self.b(s.channelId.as_slice())
            .u64(s.version)
            .u256(&s.sentA)
            .u256(&s.sentB)
            .b(s.appData.as_slice())
            .u8(s.isFinal as u8)
    }
    fn opt_sig(&mut self, s: &Option<Sig>) -> &mut Self {
        match s {
            Some(s) => self.u8(1).b(&s.0),
            None => self.u8(0),
        }
    }
}

struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated);
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Ok(h)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        self.take(N)?.try_into().map_err(|_| WireError::Truncated)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn flag(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            f => Err(WireError::Flag(f)),
        }
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn b256(&mut self) -> Result<B256, WireError> {
        Ok(B256::from_slice(self.take(32)?))
    }
    fn u256(&mut self) -> Result<U256, WireError> {
        Ok(U256::from_be_slice(self.take(32)?))
    }
    fn addr(&mut self) -> Result<Address, WireError> {
        Ok(Address::from_slice(self.take(20)?))
    }
    fn sig(&mut self) -> Result<Sig, WireError> {
        Ok(Sig(self.array()?))
    }
    fn opt_sig(&mut self) -> Result<Option<Sig>, WireError> {
        Ok(if self.flag()? { Some(self.sig()?) } else { None })
    }
    fn str(&mut self) -> Result<String, WireError> {
        let n = u16::from_be_bytes(self.array()?) as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| WireError::Utf8)
    }
    fn state(&mut self) -> Result<State, WireError> {
        Ok(State {
            channelId: self.b256()?,
            version: self.u64()?,
            sentA: self.u256()?,
            sentB: self.u256()?,
            appData: self.b256()?,
            isFinal: self.flag()?,
        })
    }
}

impl Msg {
    /// The frame body (tag and fields, without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc(Vec::with_capacity(160));
        match self {
            Self::Challenge { nonce, hub } => {
                e.u8(tag::CHALLENGE).b(nonce.as_slice()).b(hub.as_slice())
            }
            Self::Auth { sig } => e.u8(tag::AUTH).b(&sig.0),
            Self::AuthSession { agent_id, sig } => e.u8(tag::AUTH_SESSION).u256(agent_id).b(&sig.0),
            Self::Welcome { address } => e.u8(tag::WELCOME).b(address.as_slice()),
            Self::Register { params, deposits } => e
                .u8(tag::REGISTER)
                .u64(params.chain_id)
                .b(params.adjudicator.as_slice())
                .b(params.a.as_slice())
                .b(params.b.as_slice())
                .b(params.token.as_slice())
                .u64(params.nonce)
                .u256(&deposits[0])
                .u256(&deposits[1]),
            Self::Registered { channel_id } => e.u8(tag::REGISTERED).b(channel_id.as_slice()),
            Self::Propose { state, sig } => e.u8(tag::PROPOSE).state(state).b(&sig.0),
            Self::Accept { channel_id, version, sig } => {
                e.u8(tag::ACCEPT).b(channel_id.as_slice()).u64(*version).b(&sig.0)
            }
            Self::Accepted { channel_id, version, sig } => {
                e.u8(tag::ACCEPTED).b(channel_id.as_slice()).u64(*version).b(&sig.0)
            }
            Self::Reject { channel_id, version, reason } => {
                e.u8(tag::REJECT).b(channel_id.as_slice()).u64(*version).str(reason)
            }
            Self::GetLatest { channel_id } => e.u8(tag::GET_LATEST).b(channel_id.as_slice()),
            Self::Latest { state, sig_a, sig_b } => {
                e.u8(tag::LATEST).state(state).opt_sig(sig_a).opt_sig(sig_b)
            }
            Self::Submit { state, sig_a, sig_b } => {
                e.u8(tag::SUBMIT).state(state).b(&sig_a.0).b(&sig_b.0)
            }
            Self::Ping { nonce } => e.u8(tag::PING).u64(*nonce),
            Self::Pong { nonce } => e.u8(tag::PONG).u64(*nonce),
            Self::Error { message } => e.u8(tag::ERROR).str(message),
        };
        e.0
    }

    /// Decodes a frame body.
    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut d = Dec(body);
        let t = d.u8().map_err(|_| WireError::Empty)?;
        let msg = match t {
            tag::CHALLENGE => Self::Challenge { nonce: d.b256()?, hub: d.addr()? },
            tag::AUTH => Self::Auth { sig: d.sig()? },
            tag::AUTH_SESSION => Self::AuthSession { agent_id: d.u256()?, sig: d.sig()? },
            tag::WELCOME => Self::Welcome { address: d.addr()? },
            tag::REGISTER => Self::Register {
                params: ChannelParams {
                    chain_id: d.u64()?,
                    adjudicator: d.addr()?,
                    a: d.addr()?,
                    b: d.addr()?,
                    token: d.addr()?,
                    nonce: d.u64()?,
                },
                deposits: [d.u256()?, d.u256()?],
            },
            tag::REGISTERED => Self::Registered { channel_id: d.b256()? },
            tag::PROPOSE => Self::Propose { state: d.state()?, sig: d.sig()? },
            tag::ACCEPT => Self::Accept { channel_id: d.b256()?, version: d.u64()?, sig: d.sig()? },
            tag::ACCEPTED => {
                Self::Accepted { channel_id: d.b256()?, version: d.u64()?, sig: d.sig()? }
            }
            tag::REJECT => {
                Self::Reject { channel_id: d.b256()?, version: d.u64()?, reason: d.str()? }
            }
            tag::GET_LATEST => Self::GetLatest { channel_id: d.b256()? },
            tag::LATEST => {
                Self::Latest { state: d.state()?, sig_a: d.opt_sig()?, sig_b: d.opt_sig()? }
            }
            tag::SUBMIT => Self::Submit { state: d.state()?, sig_a: d.sig()?, sig_b: d.sig()? },
            tag::ERROR => Self::Error { message: d.str()? },
            tag::PING => Self::Ping { nonce: d.u64()? },
            tag::PONG => Self::Pong { nonce: d.u64()? },
            t => return Err(WireError::UnknownTag(t)),
        };
        if !d.0.is_empty() {
            return Err(WireError::Trailing(d.0.len()));
        }
        Ok(msg)
    }
}

/// Reading a frame failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The connection failed or closed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The frame is malformed.
    #[error("malformed frame: {0}")]
    Wire(#[from] WireError),
}

/// Reads one frame; `Ok(None)` on a clean end of stream before a frame starts.
pub async fn read_msg<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> Result<Option<Msg>, ReadError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let n = u32::from_be_bytes(len) as usize;
    if n > MAX_FRAME {
        return Err(WireError::TooLarge(n).into());
    }
    buf.resize(n, 0);
    r.read_exact(buf).await?;
    Ok(Some(Msg::decode(buf)?))
}

/// Appends `msg` as a frame to `out`.
pub fn frame_into(msg: &Msg, out: &mut Vec<u8>) {
    let body = msg.encode();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
}

/// Writes the messages of `rx` as frames until it closes, batching whatever is queued into one
/// write (up to ~60 KiB), then shuts the stream down. Stops at the first write error.
/// A queue of messages to write ([`write_queued`]).
pub trait MsgQueue: Send {
    /// The next message; `None` when the queue is closed.
    fn recv(&mut self) -> impl std::future::Future<Output = Option<Msg>> + Send;
    /// A message already queued, without waiting.
    fn try_recv(&mut self) -> Option<Msg>;
}

impl MsgQueue for tokio::sync::mpsc::UnboundedReceiver<Msg> {
    fn recv(&mut self) -> impl std::future::Future<Output = Option<Msg>> + Send {
        Self::recv(self)
    }

    fn try_recv(&mut self) -> Option<Msg> {
        Self::try_recv(self).ok()
    }
}

/// Writes what `rx` yields, batching frames already queued into one write; stops when the
/// queue closes or the peer goes away.
pub async fn write_queued<W: AsyncWrite + Unpin, Q: MsgQueue>(mut w: W, mut rx: Q) {
    // Grows with the batches a busy connection writes; an idle one keeps a small buffer.
    let mut buf = Vec::new();
    while let Some(msg) = rx.recv().await {
        buf.clear();
        frame_into(&msg, &mut buf);
        while buf.len() < 60 * 1024 {
            match rx.try_recv() {
                Some(m) => frame_into(&m, &mut buf),
                None => break,
            }
        }
        if w.write_all(&buf).await.is_err() {
            return;
        }
    }
    let _ = w.shutdown().await;
}

/// Writes one frame and flushes.
pub async fn write_msg<W: AsyncWrite + Unpin>(w: &mut W, msg: &Msg) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(200);
    frame_into(msg, &mut out);
    w.write_all(&out).await?;
    w.flush().await
}

/// One message of every kind (tests of both encodings).
#[cfg(test)]
pub(crate) fn samples() -> Vec<Msg> {
    {
        let state = State {
            channelId: B256::repeat_byte(1),
            version: 9,
            sentA: U256::from(5),
            sentB: U256::MAX,
            appData: B256::repeat_byte(2),
            isFinal: true,
        };
        let sig = Sig([7; 65]);
        let params = ChannelParams {
            chain_id: 1,
            adjudicator: Address::repeat_byte(3),
            a: Address::repeat_byte(4),
            b: Address::repeat_byte(5),
            token: Address::ZERO,
            nonce: 6,
        };
        vec![
            Msg::Challenge { nonce: B256::repeat_byte(9), hub: Address::repeat_byte(8) },
            Msg::Auth { sig },
            Msg::AuthSession { agent_id: U256::from(7), sig },
            Msg::Welcome { address: Address::repeat_byte(1) },
            Msg::Register { params, deposits: [U256::from(1), U256::from(2)] },
            Msg::Registered { channel_id: B256::ZERO },
            Msg::Propose { state: state.clone(), sig },
            Msg::Accept { channel_id: B256::ZERO, version: 3, sig },
            Msg::Accepted { channel_id: B256::ZERO, version: 3, sig },
            Msg::Reject { channel_id: B256::ZERO, version: 3, reason: "no ✓".into() },
            Msg::GetLatest { channel_id: B256::ZERO },
            Msg::Latest { state: state.clone(), sig_a: Some(sig), sig_b: None },
            Msg::Submit { state, sig_a: sig, sig_b: Sig([8; 65]) },
            Msg::Error { message: String::new() },
            Msg::Ping { nonce: 5 },
            Msg::Pong { nonce: u64::MAX },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_truncation_fails() {
        for m in samples() {
            let body = m.encode();
            assert_eq!(Msg::decode(&body), Ok(m.clone()));
            for cut in 0..body.len() {
                assert!(Msg::decode(&body[..cut]).is_err(), "{m:?} cut at {cut}");
            }
            let mut long = body.clone();
            long.push(0);
            assert_eq!(Msg::decode(&long), Err(WireError::Trailing(1)));
        }
        assert_eq!(Msg::decode(&[200]), Err(WireError::UnknownTag(200)));
    }

    #[tokio::test]
    async fn frames_over_the_limit_are_refused() {
        let mut bytes = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
        bytes.extend(vec![0; MAX_FRAME + 1]);
        let mut r = bytes.as_slice();
        let err = read_msg(&mut r, &mut Vec::new()).await.unwrap_err();
        assert!(matches!(err, ReadError::Wire(WireError::TooLarge(_))));
    }
}
