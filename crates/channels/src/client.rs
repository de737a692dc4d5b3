//! The client library: a connection to a hub ([`HubClient`]) and one side of a channel
//! ([`ChannelSide`]) that proposes, countersigns and tracks co-signed states.
//!
//! Updates are pipelined: [`ChannelSide::propose`] builds on the newest proposed state, so many
//! proposals can be in flight; acknowledgements arrive in version order. The hub's (or the
//! counterparty's) countersignatures are checked lazily: [`ChannelSide::accepted`] queues them
//! and [`ChannelSide::verify`] checks only the newest, which supersedes the rest — a client calls
//! it whenever its inbox is drained, and before it relies on the latest state.

use crate::{
    keys::{Key, Sig, recover},
    state::{self, ChannelParams, Side, SignedState, State, TransitionError, check_transition},
    wire::{self, Msg, ReadError},
};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::Eip712Domain;
use eyre::{WrapErr, bail, eyre};
use std::{collections::VecDeque, net::SocketAddr};
use tokio::{io::BufReader, net::TcpStream, sync::mpsc};

/// How long connecting and authenticating to a hub may take.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An authenticated connection to a hub.
#[derive(Debug)]
pub struct HubClient {
    out: mpsc::UnboundedSender<Msg>,
    inbox: mpsc::UnboundedReceiver<Result<Msg, String>>,
    address: Address,
    hub: Address,
}

impl HubClient {
    /// Connects and authenticates with `key`, acting for its own address.
    pub async fn connect(addr: SocketAddr, key: &Key) -> eyre::Result<Self> {
        Self::connect_as(addr, key, None).await
    }

    /// Connects with a session key of agent `agent_id`, acting for the agent's owner (the hub
    /// checks the session on the rollup).
    pub async fn connect_session(
        addr: SocketAddr,
        key: &Key,
        agent_id: U256,
    ) -> eyre::Result<Self> {
        Self::connect_as(addr, key, Some(agent_id)).await
    }

    async fn connect_as(addr: SocketAddr, key: &Key, agent: Option<U256>) -> eyre::Result<Self> {
        // The hub speaks first: a connection it never took (its accept queue overflowed) would
        // wait for the challenge forever.
        tokio::time::timeout(HANDSHAKE_TIMEOUT, Self::handshake(addr, key, agent)).await.map_err(
            |_| {
                eyre::eyre!(
                    "hub {addr} did not complete the handshake within {HANDSHAKE_TIMEOUT:?}"
                )
            },
        )?
    }

    async fn handshake(addr: SocketAddr, key: &Key, agent: Option<U256>) -> eyre::Result<Self> {
        let stream =
            TcpStream::connect(addr).await.wrap_err_with(|| format!("connecting to hub {addr}"))?;
        stream.set_nodelay(true)?;
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::with_capacity(64 * 1024, r);
        let mut buf = Vec::new();
        let (nonce, hub) = match wire::read_msg(&mut r, &mut buf).await? {
            Some(Msg::Challenge { nonce, hub }) => (nonce, hub),
            other => bail!("hub did not send a challenge: {other:?}"),
        };
        let sig = key.sign(&wire::auth_digest(&nonce, &hub));
        let auth = match agent {
            None => Msg::Auth { sig },
            Some(agent_id) => Msg::AuthSession { agent_id, sig },
        };
        wire::write_msg(&mut w, &auth).await?;
        let address = match wire::read_msg(&mut r, &mut buf).await? {
            Some(Msg::Welcome { address }) if agent.is_some() || address == key.address() => {
                address
            }
            Some(Msg::Error { message }) => bail!("hub refused authentication: {message}"),
            other => bail!("unexpected answer to authentication: {other:?}"),
        };
        let (out, out_rx) = mpsc::unbounded_channel::<Msg>();
        tokio::spawn(wire::write_queued(w, out_rx));
        let (in_tx, inbox) = mpsc::unbounded_channel();
        // Pings are answered here (the hub closes a connection silent for its idle timeout);
        // a weak handle, so that dropping the client still ends the writer.
        let pong = out.downgrade();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            loop {
                match wire::read_msg(&mut r, &mut buf).await {
                    Ok(Some(Msg::Ping { nonce })) => {
                        if let Some(out) = pong.upgrade() {
                            let _ = out.send(Msg::Pong { nonce });
                        }
                    }
                    Ok(Some(m)) => {
                        if in_tx.send(Ok(m)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        let _ = in_tx.send(Err("hub closed the connection".into()));
                        return;
                    }
                    Err(ReadError::Io(e)) => {
                        let _ = in_tx.send(Err(format!("connection: {e}")));
                        return;
                    }
                    Err(ReadError::Wire(e)) => {
                        let _ = in_tx.send(Err(format!("malformed frame from hub: {e}")));
                        return;
                    }
                }
            }
        });
        Ok(Self { out, inbox, address, hub })
    }

    /// The address this connection acts for (the agent's owner for a session key).
    pub const fn address(&self) -> Address {
        self.address
    }

    /// The hub's address.
    pub const fn hub(&self) -> Address {
        self.hub
    }

    /// A handle that queues messages to the hub from other tasks while this one receives.
    pub fn sender(&self) -> mpsc::UnboundedSender<Msg> {
        self.out.clone()
    }

    /// Queues a message to the hub.
    pub fn send(&self, msg: Msg) -> eyre::Result<()> {
        self.out.send(msg).map_err(|_| eyre!("hub connection closed"))
    }

    /// The next message from the hub; an error once the connection is gone.
    pub async fn recv(&mut self) -> eyre::Result<Msg> {
        match self.inbox.recv().await {
            Some(Ok(m)) => Ok(m),
            Some(Err(e)) => Err(eyre!(e)),
            None => Err(eyre!("hub connection closed")),
        }
    }

    /// A message if one is already here.
    pub fn try_recv(&mut self) -> Option<eyre::Result<Msg>> {
        match self.inbox.try_recv() {
            Ok(Ok(m)) => Some(Ok(m)),
            Ok(Err(e)) => Some(Err(eyre!(e))),
            Err(_) => None,
        }
    }

    /// Registers a channel with the hub and returns the hub's latest co-signed state of it.
    pub async fn register(
        &mut self,
        params: ChannelParams,
        deposits: [U256; 2],
    ) -> eyre::Result<SignedState> {
        self.send(Msg::Register { params, deposits })?;
        let id = params.id();
        loop {
            match self.recv().await? {
                Msg::Registered { channel_id } if channel_id == id => {}
                Msg::Latest { state, sig_a, sig_b } if state.channelId == id => {
                    return Ok(SignedState { state, sig_a, sig_b });
                }
                Msg::Error { message } => bail!("hub: {message}"),
                other => bail!("unexpected message while registering: {other:?}"),
            }
        }
    }

    /// The hub's latest co-signed state of a channel.
    pub async fn latest(&mut self, id: B256) -> eyre::Result<SignedState> {
        self.send(Msg::GetLatest { channel_id: id })?;
        loop {
            match self.recv().await? {
                Msg::Latest { state, sig_a, sig_b } if state.channelId == id => {
                    return Ok(SignedState { state, sig_a, sig_b });
                }
                Msg::Error { message } => bail!("hub: {message}"),
                _ => {}
            }
        }
    }
}

/// An acknowledgement that does not fit the channel.
#[derive(Debug, thiserror::Error)]
pub enum AckError {
    /// Acknowledged a version that is not the oldest in flight.
    #[error("acknowledged version {got}, expected {expected:?}")]
    OutOfOrder {
        /// Oldest version in flight.
        expected: Option<u64>,
        /// Acknowledged version.
        got: u64,
    },
    /// The countersignature is not the counterparty's.
    #[error("countersignature of version {0} is not the counterparty's")]
    BadCountersignature(u64),
}

/// One participant's view of a channel.
#[derive(Debug)]
pub struct ChannelSide {
    params: ChannelParams,
    domain: Eip712Domain,
    deposits: [U256; 2],
    side: Side,
    /// The newest state proposed or accepted (what the next proposal builds on).
    head: State,
    /// Proposals awaiting acknowledgement, oldest first, with our signatures.
    in_flight: VecDeque<(State, Sig)>,
    /// The newest acknowledged state not yet verified: state, our signature, theirs.
    unverified: Option<(State, Sig, Sig)>,
    /// The newest verified co-signed state.
    latest: SignedState,
    /// Keys besides the other participant's own whose signatures count for it (session keys
    /// the caller has checked on the rollup).
    other_signers: Vec<Address>,
}

impl ChannelSide {
    /// `me`'s side of a channel at its latest co-signed state.
    pub fn new(
        params: ChannelParams,
        deposits: [U256; 2],
        me: Address,
        latest: SignedState,
    ) -> eyre::Result<Self> {
        let side = params.side_of(me).ok_or_else(|| eyre!("{me} is not a participant"))?;
        Ok(Self {
            domain: params.domain(),
            params,
            deposits,
            side,
            head: latest.state.clone(),
            in_flight: VecDeque::new(),
            unverified: None,
            latest,
            other_signers: Vec::new(),
        })
    }

    /// Accepts signatures of `signer` for the other participant (a session key of its agent,
    /// checked by the caller).
    pub fn allow_signer(&mut self, signer: Address) {
        self.other_signers.push(signer);
    }

    fn signed_by_other(&self, digest: &B256, sig: &Sig) -> bool {
        recover(digest, sig).is_some_and(|a| {
            a == self.params.participant(self.side.other()) || self.other_signers.contains(&a)
        })
    }

    /// The channel's parameters.
    pub const fn params(&self) -> &ChannelParams {
        &self.params
    }

    /// This side.
    pub const fn side(&self) -> Side {
        self.side
    }

    /// Newest verified co-signed state.
    pub const fn latest(&self) -> &SignedState {
        &self.latest
    }

    /// Newest proposed or accepted state.
    pub const fn head(&self) -> &State {
        &self.head
    }

    /// Proposals not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// What this side holds at the head state.
    pub fn balance(&self) -> U256 {
        state::balance(&self.head, self.side, self.deposits).unwrap_or_default()
    }

    /// Proposes the next state: pay `amount` to the other side, set `app_data` if given, and
    /// mark it final if `last`. Returns the message to send.
    pub fn propose(
        &mut self,
        key: &Key,
        amount: U256,
        app_data: Option<B256>,
        last: bool,
    ) -> Result<Msg, TransitionError> {
        let mut next = self.head.clone();
        next.version += 1;
        match self.side {
            Side::A => next.sentA = next.sentA.saturating_add(amount),
            Side::B => next.sentB = next.sentB.saturating_add(amount),
        }
        if let Some(d) = app_data {
            next.appData = d;
        }
        next.isFinal = last;
        check_transition(&self.head, &next, self.side, self.deposits)?;
        let sig = key.sign(&state::digest(&next, &self.domain));
        self.head = next.clone();
        self.in_flight.push_back((next.clone(), sig));
        Ok(Msg::Propose { state: next, sig })
    }

    /// Records the acknowledgement of the oldest proposal in flight (checked by [`Self::verify`]).
    pub fn accepted(&mut self, version: u64, sig: Sig) -> Result<(), AckError> {
        let expected = self.in_flight.front().map(|(s, _)| s.version);
        if expected != Some(version) {
            return Err(AckError::OutOfOrder { expected, got: version });
        }
        let (state, mine) = self.in_flight.pop_front().expect("checked above");
        self.unverified = Some((state, mine, sig));
        Ok(())
    }

    /// A proposal was refused: it and every later one are dropped; the head goes back to the
    /// newest acknowledged state.
    pub fn rejected(&mut self, version: u64) {
        while self.in_flight.back().is_some_and(|(s, _)| s.version >= version) {
            self.in_flight.pop_back();
        }
        self.head = match (self.in_flight.back(), &self.unverified) {
            (Some((s, _)), _) => s.clone(),
            (None, Some((s, _, _))) => s.clone(),
            (None, None) => self.latest.state.clone(),
        };
    }

    /// The newest acknowledged state, before [`Self::verify`].
    pub fn unverified_state(&self) -> Option<&State> {
        self.unverified.as_ref().map(|(state, _, _)| state)
    }

    /// Who signed the newest acknowledged countersignature, before [`Self::verify`] (to check a
    /// signer that is not the counterparty, such as a session key of its agent).
    pub fn unverified_signer(&self) -> Option<Address> {
        let (state, _, theirs) = self.unverified.as_ref()?;
        recover(&state::digest(state, &self.domain), theirs)
    }

    /// Verifies the newest acknowledged countersignature and makes it the latest co-signed
    /// state. On failure the latest stays the last verified one.
    pub fn verify(&mut self) -> Result<(), AckError> {
        let Some((state, mine, theirs)) = self.unverified.take() else { return Ok(()) };
        let digest = state::digest(&state, &self.domain);
        if !self.signed_by_other(&digest, &theirs) {
            return Err(AckError::BadCountersignature(state.version));
        }
        let (sig_a, sig_b) = match self.side {
            Side::A => (mine, theirs),
            Side::B => (theirs, mine),
        };
        self.latest = SignedState { state, sig_a: Some(sig_a), sig_b: Some(sig_b) };
        Ok(())
    }

    /// As the counterparty of a relayed proposal: checks it against the head and countersigns.
    pub fn countersign(&mut self, key: &Key, state: State, sig: Sig) -> Result<Msg, String> {
        let digest = state::digest(&state, &self.domain);
        let proposer = self.side.other();
        if !self.signed_by_other(&digest, &sig) {
            return Err("proposal is not signed by the other participant".into());
        }
        check_transition(&self.head, &state, proposer, self.deposits).map_err(|e| e.to_string())?;
        let mine = key.sign(&digest);
        let version = state.version;
        self.head = state.clone();
        let (sig_a, sig_b) = match self.side {
            Side::A => (mine, sig),
            Side::B => (sig, mine),
        };
        self.latest = SignedState { state, sig_a: Some(sig_a), sig_b: Some(sig_b) };
        Ok(Msg::Accept { channel_id: self.params.id(), version, sig: mine })
    }
}
