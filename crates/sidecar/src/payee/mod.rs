//! The service's side of its channels: checks a payment, holds the channel while the request is
//! served, and stores the co-signed state at the hub before the answer goes out.
//!
//! One request at a time per channel (a channel's versions are a sequence); channels are
//! independent. The book of a channel is loaded from the hub (registering the channel there after
//! reading it from the adjudicator) the first time a payment names it, so a restarted sidecar
//! continues from the hub's latest co-signed state: a payment it already took is a stale
//! version, never charged twice.

mod hub;

use crate::scheme::ChannelPayment;
use agnt2_channels::{
    ChannelParams, Key, Side, Sig, SignedState, State,
    client::HubClient,
    keys::recover,
    l2::{ChannelCalls, L2},
    state::{self, check_transition, status},
    wire::Msg,
};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::Eip712Domain;
use hub::{Conn, Countersigner, answer, dispatch, send};
use parking_lot::Mutex;
use std::{collections::HashMap, net::SocketAddr, sync::Arc};
use tokio::sync::{OwnedMutexGuard, oneshot};

/// Why a payment was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    /// The payment does not pay for this request (answer 402 with the reason).
    #[error("{0}")]
    Refused(String),
    /// The hub or the rollup could not be reached (answer 503).
    #[error("{0}")]
    Unavailable(String),
}

/// A channel as the service knows it.
#[derive(Debug)]
pub(super) struct Book {
    /// Side A, the payer.
    pub(super) payer: Address,
    pub(super) deposits: [U256; 2],
    latest: SignedState,
    /// When the channel was last read from the rollup.
    checked: std::time::Instant,
    /// Set once the rollup showed the channel disputed or concluded: no more payments (and no
    /// more reads).
    closed: Option<&'static str>,
}

/// Channels read from the rollup at once, at most (a channel is read the first time a payment
/// names it; more at once answer 503).
pub const MAX_LOADING: usize = 16;

/// How long a channel's on-chain status and deposits are trusted before a payment reads them
/// again: a channel that is disputed or concluded takes no payment after at most this long
/// (the hub refuses its states as soon as its watchtower sees the event).
pub const STATUS_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Who the service is on its channels.
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    /// Side B of its channels: the key's own address, or the agent owner's.
    pub address: Address,
    /// With a session key: the agent it is a session of (the hub connection authenticates as a
    /// session, and channels must name this agent for side B).
    pub session: Option<U256>,
}

/// Seconds before a session's expiry at which the sidecar stops taking payments (the chain's
/// clock and this one differ a little; after the expiry the key can be admitted to no new
/// channel and the hub no longer authenticates it).
pub const SESSION_MARGIN_SECS: u64 = 2;

/// The service's channels.
#[derive(Debug)]
pub struct Payee {
    key: Key,
    identity: Identity,
    /// With a session key: its expiry (unix seconds), and whether the rollup still holds it valid
    /// (closed, or the agent changed hands, and it is not).
    session_expiry: std::sync::atomic::AtomicU64,
    session_valid: std::sync::atomic::AtomicBool,
    chain_id: u64,
    adjudicator: Address,
    domain: Eip712Domain,
    hub: SocketAddr,
    l2: String,
    /// The rollup client, made once on first use (one connection pool for every read).
    l2_client: std::sync::OnceLock<L2>,
    /// Channels with a shorter challenge window (seconds) are refused.
    min_challenge_window: u64,
    conn: tokio::sync::Mutex<Option<Conn>>,
    /// One registration at a time (the hub answers a failed one without naming the channel).
    registering: tokio::sync::Mutex<()>,
    /// Channels being read from the rollup at once (any key can name a new channel id, and
    /// each costs a read).
    loading: tokio::sync::Semaphore,
    books: Books,
}

type Books = Arc<Mutex<HashMap<B256, Arc<tokio::sync::Mutex<Option<Book>>>>>>;

/// A payment checked and holding its channel until the request is answered.
#[derive(Debug)]
pub struct Pending {
    payee: Arc<Payee>,
    book: OwnedMutexGuard<Option<Book>>,
    state: State,
    /// The state's EIP-712 digest (checked against the payer's signature, countersigned).
    digest: B256,
    payer_sig: Sig,
    /// The payer (side A).
    pub payer: Address,
    /// Wei this request pays.
    pub amount: U256,
}

/// A payment taken: the co-signed state is stored at the hub.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The channel.
    pub channel_id: B256,
    /// The paid version.
    pub version: u64,
    /// The service's countersignature.
    pub signature: Sig,
}

impl Payee {
    /// A payee signing with `key` as `identity` on the chain's `adjudicator`, storing states at
    /// `hub`.
    pub fn new(
        key: Key,
        identity: Identity,
        chain_id: u64,
        adjudicator: Address,
        hub: SocketAddr,
        l2: String,
        min_challenge_window: u64,
    ) -> Self {
        Self {
            key,
            identity,
            session_expiry: std::sync::atomic::AtomicU64::new(u64::MAX),
            session_valid: std::sync::atomic::AtomicBool::new(true),
            chain_id,
            adjudicator,
            domain: state::domain(chain_id, adjudicator),
            hub,
            l2,
            l2_client: std::sync::OnceLock::new(),
            min_challenge_window,
            conn: tokio::sync::Mutex::new(None),
            registering: tokio::sync::Mutex::new(()),
            loading: tokio::sync::Semaphore::new(MAX_LOADING),
            books: Books::default(),
        }
    }

    /// The service's address (side B of its channels).
    pub const fn address(&self) -> Address {
        self.identity.address
    }

    /// Records what the rollup says of the session key (see [`crate::Sidecar`]'s watcher).
    pub fn set_session(&self, valid: bool, expiry: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.session_valid.store(valid, Relaxed);
        self.session_expiry.store(expiry, Relaxed);
    }

    /// The session key's gauges: whether it countersigns now and when it expires (none
    /// without a session key).
    pub fn session_gauges(&self) -> Option<(bool, u64)> {
        use std::sync::atomic::Ordering::Relaxed;
        self.identity.session.as_ref()?;
        Some((self.session_unusable().is_none(), self.session_expiry.load(Relaxed)))
    }

    /// Why the session key cannot countersign now, if it cannot.
    fn session_unusable(&self) -> Option<String> {
        use std::sync::atomic::Ordering::Relaxed;
        let agent = self.identity.session?;
        let expiry = self.session_expiry.load(Relaxed);
        let now = crate::session::unix_now();
        if !self.session_valid.load(Relaxed) {
            return Some(format!(
                "this service's session key is no longer valid for agent {agent} (closed, or the \
                 agent changed hands): it takes no payments until its owner opens a new session"
            ));
        }
        (now.saturating_add(SESSION_MARGIN_SECS) > expiry).then(|| {
            format!(
                "this service's session key for agent {agent} expired at {expiry}: it takes no \
                 payments until its owner extends the session"
            )
        })
    }

    /// The session key it countersigns with, when it runs on one (not the payee's own key).
    pub fn session_signer(&self) -> Option<Address> {
        self.identity.session.map(|_| self.key.address())
    }

    /// The Adjudicator its channels live in.
    pub const fn adjudicator(&self) -> Address {
        self.adjudicator
    }

    /// The latest co-signed state of a channel this sidecar has loaded.
    pub fn latest(&self, id: &B256) -> Option<SignedState> {
        let book = self.books.lock().get(id)?.clone();
        let guard = book.try_lock().ok()?;
        guard.as_ref().map(|b| b.latest.clone())
    }

    /// Checks `p` as the payment of `price` wei for the request bound to `binding`, and holds
    /// its channel until [`Pending::commit`] or drop.
    pub async fn check(
        self: &Arc<Self>,
        p: ChannelPayment,
        price: U256,
        asset: Address,
        binding: B256,
    ) -> Result<Pending, PayError> {
        let refuse = |m: String| Err(PayError::Refused(m));
        let c = &p.channel;
        if c.chain_id != self.chain_id || c.adjudicator != self.adjudicator {
            return refuse(format!(
                "the channel is on chain {} adjudicator {}, this service takes chain {} adjudicator {}",
                c.chain_id, c.adjudicator, self.chain_id, self.adjudicator
            ));
        }
        if c.b != self.address() {
            return refuse(format!(
                "the channel pays {}, not this service ({})",
                c.b,
                self.address()
            ));
        }
        if c.token != asset {
            let name = |a: Address| if a.is_zero() { "ETH".to_string() } else { a.to_string() };
            return refuse(format!(
                "the channel carries {}; this route is priced in {}",
                name(c.token),
                name(asset)
            ));
        }
        if p.state.channelId != c.id() {
            return refuse("the state names another channel than the payload's".into());
        }
        let digest = state::digest(&p.state, &self.domain);
        if recover(&digest, &p.signature) != Some(c.a) {
            return refuse(format!("the signature is not the payer's ({})", c.a));
        }
        if p.state.appData != binding {
            return refuse("the payment is bound to another request".into());
        }
        if p.state.isFinal {
            return refuse("a final state cannot pay for a request".into());
        }
        if let Some(why) = self.session_unusable() {
            return Err(PayError::Unavailable(why));
        }
        let mut book = self.book(c).await?;
        if let Some(why) = book.as_ref().and_then(|b| b.closed) {
            return refuse(format!(
                "the channel is {why} on the rollup: it takes no more payments"
            ));
        }
        if book.as_ref().is_some_and(|b| b.checked.elapsed() > STATUS_TTL) {
            let (l2, adjudicator, id) = (self.l2_client()?, self.adjudicator, c.id());
            let onchain = tokio::task::spawn_blocking(move || l2.channel(adjudicator, id))
                .await
                .map_err(|e| PayError::Unavailable(e.to_string()))?
                .map_err(|e| {
                    PayError::Unavailable(format!("reading the channel on the rollup: {e:#}"))
                })?;
            if onchain.status != status::OPEN {
                let why = if onchain.status == status::DISPUTED { "disputed" } else { "concluded" };
                if let Some(b) = book.as_mut() {
                    b.closed = Some(why);
                }
                return refuse(format!(
                    "the channel is {why} on the rollup: it takes no more payments"
                ));
            }
            if let Some(b) = book.as_mut() {
                b.deposits = [onchain.depositA, onchain.depositB];
                b.checked = std::time::Instant::now();
            }
        }
        let b = book.as_ref().ok_or_else(|| PayError::Unavailable("channel not loaded".into()))?;
        check_transition(&b.latest.state, &p.state, Side::A, b.deposits).map_err(|e| {
            PayError::Refused(format!(
                "not the next state of the channel (latest co-signed version {}): {e}",
                b.latest.state.version
            ))
        })?;
        let amount = p.state.sentA - b.latest.state.sentA;
        if amount != price {
            return refuse(format!("the state pays {amount} wei; this request costs {price} wei"));
        }
        Ok(Pending {
            payee: self.clone(),
            book,
            state: p.state,
            digest,
            payer_sig: p.signature,
            payer: c.a,
            amount,
        })
    }

    /// The rollup client (made on first use).
    fn l2_client(&self) -> Result<L2, PayError> {
        if let Some(c) = self.l2_client.get() {
            return Ok(c.clone());
        }
        let c = L2::new(&self.l2).map_err(|e| PayError::Unavailable(format!("{e:#}")))?;
        Ok(self.l2_client.get_or_init(|| c).clone())
    }

    /// The channel's book, loaded (and the channel registered at the hub) on first use.
    async fn book(
        &self,
        params: &ChannelParams,
    ) -> Result<OwnedMutexGuard<Option<Book>>, PayError> {
        let id = params.id();
        let slot = self.books.lock().entry(id).or_default().clone();
        let mut guard = slot.lock_owned().await;
        if guard.is_none() {
            match self.load(params).await {
                Ok(b) => *guard = Some(b),
                Err(e) => {
                    // Forget channels that do not load (a stranger's made-up ids must not pile up).
                    drop(guard);
                    let mut books = self.books.lock();
                    if books.get(&id).is_some_and(|s| s.try_lock().is_ok_and(|g| g.is_none())) {
                        books.remove(&id);
                    }
                    return Err(e);
                }
            }
        }
        Ok(guard)
    }

    /// Reads the channel from the adjudicator and registers it with the hub.
    async fn load(&self, params: &ChannelParams) -> Result<Book, PayError> {
        let _reading = self.loading.try_acquire().map_err(|_| {
            PayError::Unavailable(format!(
                "{MAX_LOADING} channels are being read from the rollup already; retry"
            ))
        })?;
        let (l2, adjudicator, id) = (self.l2_client()?, self.adjudicator, params.id());
        let session_key = self.session_signer();
        let (onchain, admitted) = tokio::task::spawn_blocking(move || {
            let onchain = l2.channel(adjudicator, id)?;
            let admitted = match session_key {
                Some(key) if onchain.status == status::OPEN => l2.admitted(adjudicator, id, key)?,
                _ => None,
            };
            eyre::Ok((onchain, admitted))
        })
        .await
        .map_err(|e| PayError::Unavailable(e.to_string()))?
        .map_err(|e| PayError::Unavailable(format!("reading the channel on the rollup: {e:#}")))?;
        if onchain.status != status::OPEN || onchain.a != params.a || onchain.b != params.b {
            return Err(PayError::Refused(format!(
                "channel {id} is not open on the rollup between {} and {}",
                params.a, params.b
            )));
        }
        agnt2_channels::l2::check_challenge_window(&onchain, self.min_challenge_window)
            .map_err(PayError::Refused)?;
        if let Some(agent) = self.identity.session
            && onchain.agentB != agent
        {
            return Err(PayError::Refused(format!(
                "channel {id} names agent {} for the service; this service signs with a session \
                 key of agent {agent} (open the channel with --to-agent {agent})",
                onchain.agentB
            )));
        }
        // Its countersignatures count on chain only once the key is admitted to side B.
        if let Some(key) = self.session_signer()
            && !admitted.is_some_and(|a| a.side == Side::B)
        {
            return Err(PayError::Refused(format!(
                "this service countersigns with the session key {key}, which is not admitted to \
                 its side of channel {id}: anyone may admit it with cap 0 (`agnt2 pay` does; or \
                 agnt2 channel admit --adjudicator {adjudicator} --channel {id} --key {key})",
                adjudicator = self.adjudicator
            )));
        }
        let deposits = [onchain.depositA, onchain.depositB];
        let _one = self.registering.lock().await;
        let mut tries = 0;
        let latest = loop {
            tries += 1;
            let conn = self.conn().await?;
            let (tx, rx) = oneshot::channel();
            if !conn.wait(|w| w.register = Some((id, tx))) {
                if tries >= 3 {
                    return Err(PayError::Unavailable("the hub connection keeps closing".into()));
                }
                continue;
            }
            send(&conn, Msg::Register { params: *params, deposits })?;
            match answer(rx).await? {
                Ok(l) => break l,
                // The connection died under the request: once more on a new one.
                Err(_) if !conn.is_alive() && tries < 2 => {}
                Err(e) => return Err(PayError::Unavailable(format!("hub: {e}"))),
            }
        };
        Ok(Book {
            payer: params.a,
            deposits,
            latest,
            checked: std::time::Instant::now(),
            closed: None,
        })
    }

    /// The hub's latest co-signed state of channel `id`.
    async fn hub_latest(&self, id: B256) -> Result<SignedState, PayError> {
        let _one = self.registering.lock().await;
        let conn = self.conn().await?;
        let (tx, rx) = oneshot::channel();
        if !conn.wait(|w| w.register = Some((id, tx))) {
            return Err(PayError::Unavailable("the hub connection closed".into()));
        }
        send(&conn, Msg::GetLatest { channel_id: id })?;
        answer(rx).await?.map_err(|e| PayError::Unavailable(format!("hub: {e}")))
    }

    /// The hub connection, (re)connecting when there is none.
    async fn conn(&self) -> Result<Conn, PayError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| c.is_alive()) {
            return Ok(c.clone());
        }
        let client = match self.identity.session {
            Some(agent) => HubClient::connect_session(self.hub, &self.key, agent).await,
            None => HubClient::connect(self.hub, &self.key).await,
        }
        .map_err(|e| PayError::Unavailable(format!("connecting to the hub: {e:#}")))?;
        let conn = Conn {
            out: client.sender(),
            waiters: Arc::default(),
            alive: Arc::new(std::sync::atomic::AtomicBool::new(true)),
        };
        let signer = Countersigner {
            key: self.key.clone(),
            domain: self.domain.clone(),
            books: self.books.clone(),
            out: client.sender(),
        };
        tokio::spawn(dispatch(client, conn.clone(), signer));
        *slot = Some(conn.clone());
        Ok(conn)
    }
}

impl Pending {
    /// Countersigns the payment and stores it at the hub; the request may then be answered.
    pub async fn commit(mut self) -> Result<Receipt, PayError> {
        let payee = self.payee.clone();
        let mine = payee.key.sign(&self.digest);
        let id = self.state.channelId;
        let mut tries = 0;
        loop {
            tries += 1;
            let conn = payee.conn().await?;
            let (tx, rx) = oneshot::channel();
            let key = (id, self.state.version);
            if !conn.wait(|w| {
                w.submits.insert(key, tx);
            }) {
                if tries >= 3 {
                    return Err(PayError::Unavailable("the hub connection keeps closing".into()));
                }
                continue;
            }
            let (state, sig_a) = (self.state.clone(), self.payer_sig);
            send(&conn, Msg::Submit { state, sig_a, sig_b: mine })?;
            match answer(rx).await? {
                Ok(()) => break,
                // The connection died under the request: once more on a new one (a state the
                // hub did store comes back as a stale version and is refused, not doubled).
                Err(_) if !conn.is_alive() && tries < 2 => {}
                Err(e) => {
                    // Stored already (its acknowledgement lost with a connection)? Then it is
                    // paid. Otherwise take the hub's state, so the channel is not stuck behind
                    // a version the hub will never take.
                    let hub = payee.hub_latest(id).await?;
                    if hub.state == self.state {
                        break;
                    }
                    if let Some(b) = self.book.as_mut()
                        && hub.state.version > b.latest.state.version
                        && hub.is_cosigned()
                    {
                        b.latest = hub;
                    }
                    return Err(PayError::Unavailable(format!("the hub refused: {e}")));
                }
            }
        }
        if let Some(b) = self.book.as_mut() {
            b.latest = SignedState {
                state: self.state.clone(),
                sig_a: Some(self.payer_sig),
                sig_b: Some(mine),
            };
        }
        Ok(Receipt { channel_id: id, version: self.state.version, signature: mine })
    }

    /// The channel's latest co-signed state (before this payment).
    pub fn latest(&self) -> Option<SignedState> {
        self.book.as_ref().map(|b| b.latest.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_key_stops_taking_payments_when_it_expires_or_is_closed() {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let hub = SocketAddr::from(([127, 0, 0, 1], 1));
        let session = Identity { address: Address::repeat_byte(1), session: Some(U256::from(7)) };
        let p = Payee::new(Key::random(), session, 1, Address::ZERO, hub, String::new(), 0);
        p.set_session(true, now + 100);
        assert_eq!(p.session_unusable(), None);
        p.set_session(true, now + 1);
        assert!(p.session_unusable().is_some_and(|w| w.contains("expired")), "within the margin");
        p.set_session(true, now - 1);
        assert!(p.session_unusable().is_some_and(|w| w.contains("agent 7 expired")));
        p.set_session(false, now + 100);
        assert!(p.session_unusable().is_some_and(|w| w.contains("no longer valid")));
        // The owner's own key has no session to lose.
        let own = Identity { address: Address::repeat_byte(1), session: None };
        let p = Payee::new(Key::random(), own, 1, Address::ZERO, hub, String::new(), 0);
        p.set_session(false, 0);
        assert_eq!(p.session_unusable(), None);
    }

    /// Strangers naming new channel ids cannot make the sidecar read the rollup without bound:
    /// at most `MAX_LOADING` reads run at once, the next payment is told to retry (503).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_of_unknown_channels_are_bounded() {
        // A "rollup" that accepts connections and never answers.
        let l2 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l2.local_addr().unwrap());
        let held = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        let h = held.clone();
        std::thread::spawn(move || {
            for s in l2.incoming().flatten() {
                h.lock().push(s);
            }
        });
        let service = Key::random();
        let own = Identity { address: service.address(), session: None };
        let hub = SocketAddr::from(([127, 0, 0, 1], 1));
        let payee = Arc::new(Payee::new(service.clone(), own, 1, Address::ZERO, hub, url, 0));
        let price = U256::from(5);
        let binding = B256::repeat_byte(3);
        let payment = |nonce: u64| {
            let payer = Key::random();
            let channel = ChannelParams {
                chain_id: 1,
                adjudicator: Address::ZERO,
                a: payer.address(),
                b: service.address(),
                token: Address::ZERO,
                nonce,
            };
            let state = State {
                channelId: channel.id(),
                version: 1,
                sentA: price,
                sentB: U256::ZERO,
                appData: binding,
                isFinal: false,
            };
            let signature = payer.sign(&state::digest(&state, &channel.domain()));
            ChannelPayment { channel, state, signature }
        };
        let mut waiting = Vec::new();
        for nonce in 0..MAX_LOADING as u64 {
            let (p, pay) = (payee.clone(), payment(nonce));
            waiting.push(tokio::spawn(
                async move { p.check(pay, price, Address::ZERO, binding).await },
            ));
        }
        let t0 = std::time::Instant::now();
        while payee.loading.available_permits() > 0 {
            assert!(t0.elapsed() < std::time::Duration::from_secs(10), "the reads did not start");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let over = payee.check(payment(99), price, Address::ZERO, binding).await;
        assert!(
            matches!(&over, Err(PayError::Unavailable(m)) if m.contains("already; retry")),
            "{:?}",
            over.err()
        );
        // The rollup goes away: the waiting reads fail and free their permits.
        held.lock().clear();
        for w in waiting {
            let _ = w.await;
        }
        assert_eq!(payee.loading.available_permits(), MAX_LOADING);
    }
}
