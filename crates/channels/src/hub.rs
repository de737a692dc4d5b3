//! The hub server: authenticated connections over the binary protocol, relay of proposals between
//! the two parties of a channel, the hub as counterparty of its own channels, group-committed
//! persistence before any acknowledgement, and a watchtower that refutes stale disputes.
//!
//! Threads: tokio tasks per connection (a reader that validates and signs, a writer that batches
//! frames), one persister thread that commits every queued state in one MDBX transaction and only
//! then sends the acknowledgements, and one watchtower task polling the adjudicator's logs.

mod conn;
mod persist;
mod watch;
mod ws;

use crate::{
    keys::{Key, Sig, recover},
    l2::{ChannelCalls, L2},
    state::{self, ChannelParams, Side, SignedState, State, check_transition},
    store::{ChannelRecord, Store},
    wire::Msg,
};
use agnt2_metrics::{Counter, Gauge, Registry};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::Eip712Domain;
use parking_lot::Mutex;
use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};
use tokio::{
    net::TcpListener,
    sync::mpsc::{UnboundedReceiver, UnboundedSender},
};

/// Where a connection's outgoing messages go: a queue bounded in messages. A peer that does not
/// read what the hub sends cannot make it hold more than the bound; past it the queue closes
/// and so does the connection (the peer resynchronizes from the stored states on reconnect).
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    tx: UnboundedSender<Msg>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
    overflowed: Arc<std::sync::atomic::AtomicBool>,
    max: usize,
}

/// The writer's side of an [`Outbox`].
#[derive(Debug)]
pub(crate) struct OutboxRx {
    rx: UnboundedReceiver<Msg>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
    overflowed: Arc<std::sync::atomic::AtomicBool>,
}

impl Outbox {
    /// A queue of at most `max` messages.
    pub(crate) fn channel(max: usize) -> (Self, OutboxRx) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let overflowed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let out = Self { tx, queued: queued.clone(), overflowed: overflowed.clone(), max };
        (out, OutboxRx { rx, queued, overflowed })
    }

    /// Queues `m`; refused (and the queue closed for good) when `max` are waiting.
    pub(crate) fn send(&self, m: Msg) -> Result<(), Msg> {
        if self.overflowed.load(Ordering::Acquire) {
            return Err(m);
        }
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.overflowed.store(true, Ordering::Release);
            return Err(m);
        }
        self.tx.send(m).map_err(|e| {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            e.0
        })
    }

    /// Whether nothing more can be sent (the writer is gone or the peer fell behind).
    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed() || self.overflowed.load(Ordering::Acquire)
    }

    /// Whether the peer fell behind by more than the bound.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }
}

impl crate::wire::MsgQueue for OutboxRx {
    async fn recv(&mut self) -> Option<Msg> {
        if self.overflowed.load(Ordering::Acquire) {
            return None;
        }
        let m = self.rx.recv().await?;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        if self.overflowed.load(Ordering::Acquire) {
            return None;
        }
        Some(m)
    }

    fn try_recv(&mut self) -> Option<Msg> {
        if self.overflowed.load(Ordering::Acquire) {
            return None;
        }
        let m = self.rx.try_recv().ok()?;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        Some(m)
    }
}

/// What the hub is configured with.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Address of the binary protocol listener (port 0: any free port).
    pub listen: SocketAddr,
    /// Address of the WebSocket JSON-RPC listener, if any.
    pub ws: Option<SocketAddr>,
    /// Directory of the MDBX store.
    pub datadir: PathBuf,
    /// The hub's key: its identity, its countersignatures, and the account refutes are sent from.
    pub key: Key,
    /// Chain id of the rollup.
    pub chain_id: u64,
    /// The adjudicator whose channels the hub serves.
    pub adjudicator: Address,
    /// The rollup's RPC: channels are checked against the adjudicator and the watchtower runs.
    /// Without it the hub trusts registrations (for offline tests).
    pub l2: Option<L2>,
    /// How often the watchtower polls the adjudicator.
    pub watch_interval: Duration,
    /// Channels with a shorter challenge window (seconds) are refused at registration (checked
    /// only with `l2`; see [`crate::l2::challenge_window_policy`]).
    pub min_challenge_window: u64,
    /// Binary-protocol connections open at once; more are closed on accept.
    pub max_connections: usize,
    /// Authenticated connections (TCP and WebSocket sessions) one address may hold at once; a
    /// key that opens more is refused, so one participant cannot take every slot.
    pub max_connections_per_address: usize,
    /// Time a new connection has to authenticate.
    pub handshake_timeout: Duration,
    /// An authenticated connection that completes no message for this long is closed; it is
    /// pinged (`Ping`) half-way. Zero: never.
    pub idle_timeout: Duration,
    /// Messages the hub holds for one connection that does not read them; past this the
    /// connection is closed.
    pub max_queued_messages: usize,
}

/// The hub's series (`agnt2_hub_*`) in its own [`Registry`], served by the binary's
/// `--metrics`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Connections accepted.
    pub connections: Counter,
    /// Connections that authenticated.
    pub authenticated: Counter,
    /// Co-signed states stored.
    pub states_stored: Counter,
    /// MDBX commits (each stores a batch).
    pub commits: Counter,
    /// Proposals refused.
    pub rejected: Counter,
    /// Proposals relayed to a counterparty.
    pub relayed: Counter,
    /// Malformed frames and protocol violations.
    pub protocol_errors: Counter,
    /// Disputes the watchtower saw.
    pub disputes_seen: Counter,
    /// L2 blocks the watchtower scanned for disputes.
    pub watched_blocks: Counter,
    /// Refutes the watchtower sent.
    pub refutes_sent: Counter,
    /// Refutes that failed (retried at the next poll while the window is open).
    pub refute_failures: Counter,
    /// Connections closed on accept because `max_connections` were open.
    pub connections_refused: Counter,
    /// Connections closed because they fell `max_queued_messages` behind.
    pub outbox_overflows: Counter,
    /// Connections closed because they stayed silent for the idle timeout.
    pub idle_closed: Counter,
    /// Disputes being watched (their window is open).
    pub disputes_open: Gauge,
    /// The hub's balance on the rollup, in gwei (it pays for refutes).
    pub balance_gwei: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let r = Registry::new();
        let c = |name, help| r.counter(name, help);
        Self {
            connections: c("agnt2_hub_connections_total", "connections accepted"),
            authenticated: c("agnt2_hub_authenticated_total", "connections that authenticated"),
            states_stored: c("agnt2_hub_states_stored_total", "co-signed states stored"),
            commits: c("agnt2_hub_commits_total", "MDBX commits"),
            rejected: c("agnt2_hub_rejected_total", "proposals refused"),
            relayed: c("agnt2_hub_relayed_total", "proposals relayed to a counterparty"),
            protocol_errors: c(
                "agnt2_hub_protocol_errors_total",
                "malformed frames and violations",
            ),
            disputes_seen: c("agnt2_hub_disputes_seen_total", "disputes seen on the adjudicator"),
            watched_blocks: c("agnt2_hub_watched_blocks_total", "L2 blocks scanned for disputes"),
            refutes_sent: c("agnt2_hub_refutes_sent_total", "refutes sent by the watchtower"),
            refute_failures: c("agnt2_hub_refute_failures_total", "refutes that failed (retried)"),
            connections_refused: c(
                "agnt2_hub_connections_refused_total",
                "connections over the limit",
            ),
            outbox_overflows: c(
                "agnt2_hub_outbox_overflows_total",
                "connections closed for not reading",
            ),
            idle_closed: c("agnt2_hub_idle_closed_total", "connections closed for being silent"),
            disputes_open: r.gauge("agnt2_hub_disputes_open", "disputes whose window is open"),
            balance_gwei: r
                .gauge("agnt2_hub_balance_gwei", "the hub's balance on the rollup (pays refutes)"),
            registry: r,
        }
    }
}

impl Metrics {
    /// The registry the series live in (what the binary serves).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Prometheus exposition text.
    pub fn render(&self) -> String {
        self.registry.render()
    }

    /// The value of one series (`agnt2_hub_idle_closed_total`), for tests and diagnostics.
    pub fn value(&self, series: &str) -> f64 {
        self.registry.value(series).unwrap_or_default()
    }
}

/// Who a connection acts for: a participant address, and the key that signs for it (the
/// participant's own, or a session key of the participant's agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Who {
    /// The participant (the agent's owner for a session key).
    pub(crate) me: Address,
    /// The key the connection proved.
    pub(crate) signer: Address,
    /// The agent whose session key signs (zero: the participant's own key).
    pub(crate) agent: U256,
}

impl Who {
    const fn own(me: Address) -> Self {
        Self { me, signer: me, agent: U256::ZERO }
    }

    fn is_session(&self) -> bool {
        !self.agent.is_zero()
    }
}

/// A proposal relayed to the counterparty, awaiting its countersignature.
#[derive(Debug)]
struct Relayed {
    state: State,
    sig: Sig,
    proposer: Side,
    reply: Outbox,
}

/// A followed channel.
#[derive(Debug)]
pub(crate) struct Entry {
    rec: ChannelRecord,
    /// The highest version admitted (relayed or co-signed, maybe not yet stored).
    head: State,
    /// The highest co-signed version handed to the persister.
    cosigned: State,
    /// The highest stored co-signed state.
    latest: SignedState,
    relayed: BTreeMap<u64, Relayed>,
    /// Session keys admitted to sign for side A and side B, with their caps (read from the
    /// adjudicator when the key's connection registered the channel; not stored: a session
    /// re-registers).
    session_signers: [Vec<(Address, U256)>; 2],
    /// What the watchtower saw on chain: the channel is disputed (only final states, which
    /// close it cooperatively, are still taken) or concluded (nothing is).
    pub(crate) onchain: OnChain,
}

/// A channel's status on the rollup as the watchtower last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OnChain {
    /// Open (or not yet seen otherwise).
    #[default]
    Open,
    /// A dispute is running.
    Disputed,
    /// Settled or closed.
    Concluded,
}

impl Entry {
    /// Refuses a new state the channel's on-chain status no longer allows.
    fn check_onchain(&self, state: &State) -> Result<(), String> {
        match self.onchain {
            OnChain::Open => Ok(()),
            OnChain::Disputed if state.isFinal => Ok(()),
            OnChain::Disputed => {
                Err("the channel is disputed on the rollup: only a final state is taken".into())
            }
            OnChain::Concluded => Err("the channel is concluded on the rollup".into()),
        }
    }
}

impl Entry {
    fn new(rec: ChannelRecord, latest: SignedState) -> Self {
        Self {
            rec,
            head: latest.state.clone(),
            cosigned: latest.state.clone(),
            latest,
            relayed: BTreeMap::new(),
            session_signers: [Vec::new(), Vec::new()],
            onchain: OnChain::Open,
        }
    }

    /// The side `who` signs for on this channel, if its key may sign for it.
    fn side_of(&self, who: &Who) -> Result<Side, String> {
        let side = self.rec.params.side_of(who.me).ok_or("not a participant of this channel")?;
        if who.is_session() && self.cap_of(side, who.signer).is_none() {
            return Err("this session key is not admitted on this channel (register it)".into());
        }
        Ok(side)
    }

    /// The cap of `signer` as a session key of `side`, if admitted.
    fn cap_of(&self, side: Side, signer: Address) -> Option<U256> {
        self.session_signers[side as usize].iter().find(|(k, _)| *k == signer).map(|(_, c)| *c)
    }

    /// Refuses a state `signer` signs for `side` that the adjudicator would not count: another
    /// key than the participant's own or an admitted session key's, or beyond that key's cap.
    fn check_signer(&self, side: Side, signer: Address, state: &State) -> Result<(), String> {
        if signer == self.rec.params.participant(side) {
            return Ok(());
        }
        let Some(cap) = self.cap_of(side, signer) else {
            return Err(format!("signature of side {side:?} is not its participant's"));
        };
        crate::l2::Admitted { side, cap }.check(state)
    }
}

/// State shared by the hub's tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    key: Key,
    chain_id: u64,
    adjudicator: Address,
    domain: Eip712Domain,
    l2: Option<L2>,
    min_challenge_window: u64,
    max_connections: usize,
    max_connections_per_address: usize,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    max_queued_messages: usize,
    channels: Mutex<HashMap<B256, Arc<Mutex<Entry>>>>,
    conns: Mutex<HashMap<Address, Vec<(u64, Outbox)>>>,
    /// Bounds concurrent L2 reads (a burst of registrations must not exhaust the node's
    /// connection limit).
    l2_permits: tokio::sync::Semaphore,
    /// WebSocket sessions by subscription id.
    ws: Mutex<HashMap<String, ws::Session>>,
    /// Tasks of open connections, stopped at shutdown.
    conn_tasks: Mutex<HashMap<u64, tokio::task::AbortHandle>>,
    persist: persist::Persister,
    metrics: Arc<Metrics>,
}

/// Proposals of one channel relayed and not yet answered by the counterparty, at most (far
/// above any pipelining window; a counterparty that never answers cannot grow the hub).
pub const MAX_RELAYED: usize = 1_024;

/// Binds `addr` with a deep accept queue: the hub speaks first, so a connection whose final ACK
/// an overflowing queue dropped would leave its client waiting for a challenge (bursts of a
/// thousand agents connecting at once are normal).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// A running hub.
#[derive(Debug)]
pub struct Hub {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    ws: Option<(SocketAddr, jsonrpsee::server::ServerHandle)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Hub {
    /// Opens the store, binds the listener and starts serving.
    pub async fn start(cfg: HubConfig) -> eyre::Result<Self> {
        let store = Store::open(&cfg.datadir)?;
        let mut channels = HashMap::new();
        for (rec, latest) in store.load()? {
            channels.insert(rec.params.id(), Arc::new(Mutex::new(Entry::new(rec, latest))));
        }
        let watch_from = store.watch_cursor()?;
        let metrics = Arc::new(Metrics::default());
        let persist = persist::Persister::start(store, metrics.clone())?;
        let listener = listen(cfg.listen)?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            domain: state::domain(cfg.chain_id, cfg.adjudicator),
            key: cfg.key,
            chain_id: cfg.chain_id,
            adjudicator: cfg.adjudicator,
            l2: cfg.l2,
            min_challenge_window: cfg.min_challenge_window,
            max_connections: cfg.max_connections.max(1),
            max_connections_per_address: cfg.max_connections_per_address.max(1),
            handshake_timeout: cfg.handshake_timeout,
            idle_timeout: cfg.idle_timeout,
            max_queued_messages: cfg.max_queued_messages.max(16),
            channels: Mutex::new(channels),
            conns: Mutex::new(HashMap::new()),
            l2_permits: tokio::sync::Semaphore::new(8),
            ws: Mutex::new(HashMap::new()),
            conn_tasks: Mutex::new(HashMap::new()),
            persist,
            metrics,
        });
        let mut tasks = vec![tokio::spawn(conn::accept_loop(shared.clone(), listener))];
        if let Some(l2) = shared.l2.clone() {
            tasks.push(tokio::spawn(watch::watchtower(
                shared.clone(),
                l2,
                cfg.watch_interval,
                watch_from,
            )));
        }
        let ws = match cfg.ws {
            Some(addr) => Some(ws::start(shared.clone(), addr).await?),
            None => None,
        };
        Ok(Self { shared, local_addr, ws, tasks })
    }

    /// The bound address of the WebSocket JSON-RPC server, if started.
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.ws.as_ref().map(|(a, _)| *a)
    }

    /// The bound address of the binary protocol.
    pub const fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The hub's address (its key).
    pub fn address(&self) -> Address {
        self.shared.key.address()
    }

    /// The hub's counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.shared.metrics.clone()
    }

    /// The latest stored co-signed state of a channel.
    pub fn latest(&self, id: &B256) -> Option<SignedState> {
        let e = self.shared.channels.lock().get(id).cloned()?;
        Some(e.lock().latest.clone())
    }

    /// Stops accepting and serving, stores what is queued and closes the store.
    pub fn shutdown(self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some((_, h)) = &self.ws {
            let _ = h.stop();
        }
        for (_, t) in self.shared.conn_tasks.lock().drain() {
            t.abort();
        }
        self.shared.persist.stop();
    }
}

impl Shared {
    fn entry(&self, id: &B256) -> Option<Arc<Mutex<Entry>>> {
        self.channels.lock().get(id).cloned()
    }

    /// Drops a closed connection or session of `who` from the routing table.
    /// Routes messages for `who` to this connection, unless the address already holds
    /// `max_connections_per_address` of them.
    pub(crate) fn add_conn(&self, who: Address, id: u64, out: &Outbox) -> Result<(), String> {
        let mut conns = self.conns.lock();
        let held = conns.entry(who).or_default();
        if held.len() >= self.max_connections_per_address {
            return Err(format!(
                "{who} already holds {} connections to this hub",
                self.max_connections_per_address
            ));
        }
        held.push((id, out.clone()));
        Ok(())
    }

    fn forget_conn(&self, who: Address, id: u64) {
        let mut conns = self.conns.lock();
        if let Some(v) = conns.get_mut(&who) {
            v.retain(|(c, _)| *c != id);
            if v.is_empty() {
                conns.remove(&who);
            }
        }
    }

    fn outbox_of(&self, who: Address) -> Option<Outbox> {
        self.conns
            .lock()
            .get(&who)
            .and_then(|v| v.iter().rev().find(|(_, o)| !o.is_closed()).map(|(_, o)| o.clone()))
    }

    /// Checks a signed challenge: the signer's own address, or for a session key, the agent's
    /// owner (the session must be valid on the rollup).
    pub(crate) async fn authenticate(
        &self,
        nonce: &B256,
        sig: &Sig,
        agent: Option<U256>,
    ) -> Result<Who, String> {
        let signer = recover(&crate::wire::auth_digest(nonce, &self.key.address()), sig)
            .ok_or("authentication: invalid signature")?;
        let Some(agent) = agent else { return Ok(Who::own(signer)) };
        if agent.is_zero() {
            return Err("authentication: agent id 0".into());
        }
        let l2 = self.l2.clone().ok_or("this hub has no L2 to check session keys")?;
        let _permit = self.l2_permits.acquire().await.map_err(|e| e.to_string())?;
        let (owner, valid) = tokio::task::spawn_blocking(move || {
            eyre::Ok((l2.agent_owner(agent)?, l2.session_valid(agent, signer, Address::ZERO)?))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("authentication: reading agent {agent}: {e:#}"))?;
        if !valid {
            return Err(format!("authentication: {signer} has no valid session for agent {agent}"));
        }
        Ok(Who { me: owner, signer, agent })
    }

    /// Follows a channel registered by `who`; replies once it is stored.
    async fn register(
        self: &Arc<Self>,
        who: &Who,
        params: ChannelParams,
        mut deposits: [U256; 2],
        out: &Outbox,
    ) -> Result<(), String> {
        if params.chain_id != self.chain_id || params.adjudicator != self.adjudicator {
            return Err(format!(
                "this hub serves chain {} adjudicator {}",
                self.chain_id, self.adjudicator
            ));
        }
        let Some(side) = params.side_of(who.me) else {
            return Err("only a participant registers a channel".into());
        };
        let id = params.id();
        if who.is_session() && self.l2.is_none() {
            return Err("session keys need a hub that watches the rollup".into());
        }
        let mut cap = U256::ZERO;
        if let Some(l2) = self.l2.clone() {
            let _permit = self.l2_permits.acquire().await.map_err(|e| e.to_string())?;
            let adjudicator = self.adjudicator;
            let reader = l2.clone();
            let onchain = tokio::task::spawn_blocking(move || reader.channel(adjudicator, id))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("reading the channel from L2: {e:#}"))?;
            if onchain.status != state::status::OPEN {
                return Err(format!("channel {id} is not open on L2 (status {})", onchain.status));
            }
            if onchain.a != params.a || onchain.b != params.b || onchain.token != params.token {
                return Err("channel parameters differ from the adjudicator's".into());
            }
            crate::l2::check_challenge_window(&onchain, self.min_challenge_window)?;
            deposits = [onchain.depositA, onchain.depositB];
            if who.is_session() {
                let agent = if side == Side::A { onchain.agentA } else { onchain.agentB };
                if agent != who.agent {
                    return Err(format!(
                        "the channel names agent {agent} for this side, not {}",
                        who.agent
                    ));
                }
                // What counts on chain is the key's admission to this channel, pinned when the
                // session was valid; a session closed later does not void it.
                let (signer, adjudicator) = (who.signer, self.adjudicator);
                let admitted =
                    tokio::task::spawn_blocking(move || l2.admitted(adjudicator, id, signer))
                        .await
                        .map_err(|e| e.to_string())?
                        .map_err(|e| format!("reading the adjudicator's signers: {e:#}"))?;
                match admitted {
                    Some(a) if a.side == side => cap = a.cap,
                    _ => {
                        return Err(format!(
                            "session key {signer} is not admitted to side {side:?} of channel                              {id}: admit it on the adjudicator first (agnt2 channel admit)"
                        ));
                    }
                }
            }
        }
        let rec = ChannelRecord { params, deposits };
        let entry = {
            let mut map = self.channels.lock();
            map.entry(id)
                .or_insert_with(|| {
                    Arc::new(Mutex::new(Entry::new(rec.clone(), SignedState::opening(&params))))
                })
                .clone()
        };
        let (rec, latest) = {
            let mut e = entry.lock();
            // Deposits only grow; without an L2 check the first registration's stand.
            if self.l2.is_some() {
                e.rec.deposits = deposits;
            }
            if who.is_session() && e.cap_of(side, who.signer).is_none() {
                e.session_signers[side as usize].push((who.signer, cap));
            }
            (e.rec.clone(), e.latest.clone())
        };
        self.persist.submit(persist::Job {
            write: crate::store::Write::Channel(rec),
            entry: None,
            then: vec![
                (out.clone(), Msg::Registered { channel_id: id }),
                (
                    out.clone(),
                    Msg::Latest { state: latest.state, sig_a: latest.sig_a, sig_b: latest.sig_b },
                ),
            ],
        });
        Ok(())
    }

    /// A proposal from `who`: checked, then countersigned (the hub's own channels) or relayed.
    fn propose(&self, who: &Who, state: State, sig: Sig, out: &Outbox) -> Result<(), String> {
        let id = state.channelId;
        let entry = self.entry(&id).ok_or("unknown channel: register it first")?;
        let digest = state::digest(&state, &self.domain);
        if recover(&digest, &sig) != Some(who.signer) {
            return Err("signature is not the proposer's".into());
        }
        let mut e = entry.lock();
        let side = e.side_of(who)?;
        e.check_signer(side, who.signer, &state)?;
        e.check_onchain(&state)?;
        check_transition(&e.head, &state, side, e.rec.deposits).map_err(|err| err.to_string())?;
        let other = e.rec.params.participant(side.other());
        if other == self.key.address() {
            let mine = self.key.sign(&digest);
            let signed = cosigned(state.clone(), side, sig, mine);
            e.head = state.clone();
            e.cosigned = state.clone();
            // Submitted under the channel's lock: the persister sees versions in order.
            self.persist.submit(persist::Job {
                write: crate::store::Write::State(signed),
                entry: Some(entry.clone()),
                then: vec![(
                    out.clone(),
                    Msg::Accepted { channel_id: id, version: state.version, sig: mine },
                )],
            });
            return Ok(());
        }
        let to = self.outbox_of(other).ok_or("counterparty is not connected to this hub")?;
        // A counterparty that never answers must not let proposals pile up at the hub.
        if e.relayed.len() >= MAX_RELAYED {
            return Err(format!(
                "{MAX_RELAYED} proposals of this channel wait for the counterparty's answer"
            ));
        }
        e.head = state.clone();
        e.relayed.insert(
            state.version,
            Relayed { state: state.clone(), sig, proposer: side, reply: out.clone() },
        );
        drop(e);
        self.metrics.relayed.increment(1);
        let _ = to.send(Msg::Propose { state, sig });
        Ok(())
    }

    /// A state both sides signed, handed in by a participant: stored if it follows the newest
    /// co-signed state. Proposals relayed and not yet countersigned are superseded (their
    /// proposers get a `Reject`; they were built on an older head): a state both signed outranks
    /// one only its
    /// proposer did, so a payer cannot race a proposal through the hub to void the payment a
    /// service already acted on.
    fn submit(&self, who: &Who, state: State, sigs: [Sig; 2], out: &Outbox) -> Result<(), String> {
        let id = state.channelId;
        let entry = self.entry(&id).ok_or("unknown channel: register it first")?;
        let digest = state::digest(&state, &self.domain);
        let mut e = entry.lock();
        let side = e.side_of(who)?;
        for (s, sig) in [Side::A, Side::B].into_iter().zip(&sigs) {
            let signer = recover(&digest, sig).ok_or("unrecoverable signature")?;
            e.check_signer(s, signer, &state)?;
        }
        e.check_onchain(&state)?;
        // Whichever side raised what it sends proposed it; a state neither side could have
        // proposed is refused.
        let base = e.cosigned.clone();
        check_transition(&base, &state, Side::A, e.rec.deposits)
            .or_else(|err| {
                check_transition(&base, &state, Side::B, e.rec.deposits).map_err(|_| err)
            })
            .map_err(|err| err.to_string())?;
        for (v, r) in std::mem::take(&mut e.relayed) {
            let _ = r.reply.send(Msg::Reject {
                channel_id: id,
                version: v,
                reason: "superseded by a state both sides signed".into(),
            });
        }
        e.head = state.clone();
        e.cosigned = state.clone();
        let other = sigs[side.other() as usize];
        let signed =
            SignedState { state: state.clone(), sig_a: Some(sigs[0]), sig_b: Some(sigs[1]) };
        self.persist.submit(persist::Job {
            write: crate::store::Write::State(signed),
            entry: Some(entry.clone()),
            then: vec![(
                out.clone(),
                Msg::Accepted { channel_id: id, version: state.version, sig: other },
            )],
        });
        Ok(())
    }

    /// The counterparty's countersignature of a relayed proposal.
    fn accept(&self, who: &Who, id: B256, version: u64, sig: Sig) -> Result<(), String> {
        let entry = self.entry(&id).ok_or("unknown channel")?;
        let mut e = entry.lock();
        let side = e.side_of(who)?;
        let Some(r) = e.relayed.get(&version) else {
            return Err(format!("no relayed proposal at version {version}"));
        };
        if r.proposer != side.other() {
            return Err("you proposed this version".into());
        }
        let digest = state::digest(&r.state, &self.domain);
        if recover(&digest, &sig) != Some(who.signer) {
            return Err("countersignature is not yours".into());
        }
        if let Err(why) = e.check_signer(side, who.signer, &r.state) {
            // A countersignature the adjudicator would not count: the proposal is refused.
            drop(e);
            self.refuse(who, id, version, why.clone())?;
            return Err(why);
        }
        let r = e.relayed.remove(&version).expect("checked above");
        let signed = cosigned(r.state.clone(), r.proposer, r.sig, sig);
        if r.state.version > e.cosigned.version {
            e.cosigned = r.state;
        }
        self.persist.submit(persist::Job {
            write: crate::store::Write::State(signed),
            entry: Some(entry.clone()),
            then: vec![(r.reply, Msg::Accepted { channel_id: id, version, sig })],
        });
        Ok(())
    }

    /// The counterparty refuses a relayed proposal: it and every later one are dropped.
    fn refuse(&self, who: &Who, id: B256, version: u64, reason: String) -> Result<(), String> {
        let entry = self.entry(&id).ok_or("unknown channel")?;
        let mut e = entry.lock();
        let side = e.side_of(who)?;
        match e.relayed.get(&version) {
            Some(r) if r.proposer == side.other() => {}
            _ => return Err(format!("no relayed proposal of the other side at version {version}")),
        }
        let dropped = e.relayed.split_off(&version);
        e.head =
            e.relayed.values().next_back().map_or_else(|| e.cosigned.clone(), |r| r.state.clone());
        drop(e);
        for (v, r) in dropped {
            let reason = if v == version {
                reason.clone()
            } else {
                format!("version {version} was refused")
            };
            let _ = r.reply.send(Msg::Reject { channel_id: id, version: v, reason });
        }
        Ok(())
    }

    fn latest_for(&self, who: &Who, id: &B256) -> Result<Msg, String> {
        let entry = self.entry(id).ok_or("unknown channel")?;
        let e = entry.lock();
        e.rec.params.side_of(who.me).ok_or("not a participant of this channel")?;
        let l = e.latest.clone();
        Ok(Msg::Latest { state: l.state, sig_a: l.sig_a, sig_b: l.sig_b })
    }
}

fn cosigned(state: State, proposer: Side, proposer_sig: Sig, other_sig: Sig) -> SignedState {
    let (sig_a, sig_b) = match proposer {
        Side::A => (proposer_sig, other_sig),
        Side::B => (other_sig, proposer_sig),
    };
    SignedState { state, sig_a: Some(sig_a), sig_b: Some(sig_b) }
}
