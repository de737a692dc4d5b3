//! The hub on a real socket with a real MDBX store (no rollup: registrations are trusted), driven
//! by the client library and by raw frames.

use agnt2_channels::{
    ChannelParams, Key, Side, SignedState, State,
    client::{ChannelSide, HubClient},
    hub::{Hub, HubConfig},
    state,
    wire::{self, Msg},
};
use alloy_primitives::{Address, B256, U256};
use std::{path::Path, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const CHAIN: u64 = 80042;

fn adjudicator() -> Address {
    Address::with_last_byte(0xad)
}

async fn start(dir: &Path, key: &Key) -> Hub {
    start_with(dir, key, Duration::from_secs(120)).await
}

async fn start_with(dir: &Path, key: &Key, idle_timeout: Duration) -> Hub {
    Hub::start(HubConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ws: Some("127.0.0.1:0".parse().unwrap()),
        datadir: dir.to_path_buf(),
        key: key.clone(),
        chain_id: CHAIN,
        adjudicator: adjudicator(),
        l2: None,
        min_challenge_window: 0,
        max_connections: 1_000,
        max_connections_per_address: 8,
        handshake_timeout: Duration::from_secs(10),
        idle_timeout,
        max_queued_messages: 4_096,
        watch_interval: Duration::from_secs(1),
    })
    .await
    .expect("hub starts")
}

fn params(a: Address, b: Address, nonce: u64) -> ChannelParams {
    ChannelParams { chain_id: CHAIN, adjudicator: adjudicator(), a, b, token: Address::ZERO, nonce }
}

/// Sends `n` payments of 1 wei with at most `window` in flight; returns the channel side.
async fn pay_pipelined(
    client: &mut HubClient,
    side: &mut ChannelSide,
    key: &Key,
    n: u64,
    window: usize,
) {
    let mut sent = 0;
    let mut acked = 0;
    while acked < n {
        while sent < n && side.in_flight() < window {
            client.send(side.propose(key, U256::from(1), None, false).unwrap()).unwrap();
            sent += 1;
        }
        match client.recv().await.unwrap() {
            Msg::Accepted { version, sig, .. } => {
                side.accepted(version, sig).unwrap();
                acked += 1;
                if acked % 100 == 0 {
                    side.verify().unwrap();
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    side.verify().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_as_counterparty_stores_every_update_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hub_key = Key::random();
    let hub = start(dir.path(), &hub_key).await;
    let alice = Key::random();
    let p = params(alice.address(), hub_key.address(), 1);
    let deposits = [U256::from(1_000_000), U256::ZERO];
    let mut c = HubClient::connect(hub.local_addr(), &alice).await.unwrap();
    let latest = c.register(p, deposits).await.unwrap();
    assert_eq!(latest, SignedState::opening(&p));
    let mut side = ChannelSide::new(p, deposits, alice.address(), latest).unwrap();
    pay_pipelined(&mut c, &mut side, &alice, 10_000, 64).await;
    assert_eq!(side.latest().state.version, 10_000);
    assert_eq!(side.latest().state.sentA, U256::from(10_000));
    assert_eq!(hub.latest(&p.id()).unwrap(), *side.latest());

    // Overspending, taking from the hub, skipping a version and a foreign signature are refused.
    let domain = p.domain();
    let mut bad = side.head().clone();
    bad.version += 1;
    bad.sentA = U256::from(2_000_000);
    let refusals = [
        (bad.clone(), alice.sign(&state::digest(&bad, &domain)), "more than it holds"),
        (
            State { sentA: side.head().sentA, sentB: U256::from(1), ..bad.clone() },
            alice.sign(&state::digest(
                &State { sentA: side.head().sentA, sentB: U256::from(1), ..bad.clone() },
                &domain,
            )),
            "only raise what its proposer sends",
        ),
        (
            State { version: bad.version + 1, sentA: side.head().sentA, ..bad.clone() },
            alice.sign(&state::digest(
                &State { version: bad.version + 1, sentA: side.head().sentA, ..bad.clone() },
                &domain,
            )),
            "does not follow",
        ),
        (
            State { sentA: side.head().sentA, ..bad.clone() },
            Key::random()
                .sign(&state::digest(&State { sentA: side.head().sentA, ..bad.clone() }, &domain)),
            "not the proposer's",
        ),
        // Signed for another chain id: the hub's domain does not match.
        (
            State { sentA: side.head().sentA, ..bad.clone() },
            alice.sign(&state::digest(
                &State { sentA: side.head().sentA, ..bad.clone() },
                &state::domain(CHAIN + 1, adjudicator()),
            )),
            "not the proposer's",
        ),
        // Signed for another adjudicator.
        (
            State { sentA: side.head().sentA, ..bad.clone() },
            alice.sign(&state::digest(
                &State { sentA: side.head().sentA, ..bad.clone() },
                &state::domain(CHAIN, Address::with_last_byte(0xee)),
            )),
            "not the proposer's",
        ),
        // A state of another channel.
        (
            State { channelId: params(alice.address(), hub_key.address(), 2).id(), ..bad.clone() },
            alice.sign(&state::digest(
                &State {
                    channelId: params(alice.address(), hub_key.address(), 2).id(),
                    ..bad.clone()
                },
                &domain,
            )),
            "unknown channel",
        ),
        // A lower version than the stored one.
        (
            State { version: 5, sentA: U256::from(5), ..bad.clone() },
            alice.sign(&state::digest(
                &State { version: 5, sentA: U256::from(5), ..bad.clone() },
                &domain,
            )),
            "does not follow",
        ),
    ];
    for (state, sig, why) in refusals {
        c.send(Msg::Propose { state, sig }).unwrap();
        match c.recv().await.unwrap() {
            Msg::Reject { reason, .. } => {
                assert!(reason.contains(why), "{reason} should say {why}")
            }
            other => panic!("expected a reject ({why}), got {other:?}"),
        }
    }
    assert_eq!(hub.latest(&p.id()).unwrap().state.version, 10_000, "refusals change nothing");

    // Restart on the same store: the channel continues from the latest version.
    drop(c);
    hub.shutdown();
    let hub = start(dir.path(), &hub_key).await;
    let mut c = HubClient::connect(hub.local_addr(), &alice).await.unwrap();
    let latest = c.register(p, deposits).await.unwrap();
    assert_eq!(latest.state.version, 10_000);
    assert!(latest.is_cosigned());
    let mut side = ChannelSide::new(p, deposits, alice.address(), latest).unwrap();
    pay_pipelined(&mut c, &mut side, &alice, 10, 4).await;
    assert_eq!(c.latest(p.id()).await.unwrap().state.version, 10_010);
    hub.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_between_two_agents_and_only_participants_read() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path(), &Key::random()).await;
    let (alice, bob) = (Key::random(), Key::random());
    let p = params(alice.address(), bob.address(), 7);
    let deposits = [U256::from(100), U256::from(50)];
    let mut ca = HubClient::connect(hub.local_addr(), &alice).await.unwrap();
    let mut cb = HubClient::connect(hub.local_addr(), &bob).await.unwrap();
    let la = ca.register(p, deposits).await.unwrap();
    let lb = cb.register(p, deposits).await.unwrap();
    let mut sa = ChannelSide::new(p, deposits, alice.address(), la).unwrap();
    let mut sb = ChannelSide::new(p, deposits, bob.address(), lb).unwrap();
    assert_eq!(sb.side(), Side::B);

    // Bob countersigns in a task; Alice pipelines 50 payments.
    let bob_task = tokio::spawn(async move {
        let mut n = 0;
        while n < 50 {
            match cb.recv().await.unwrap() {
                Msg::Propose { state, sig } => {
                    cb.send(sb.countersign(&bob, state, sig).unwrap()).unwrap();
                    n += 1;
                }
                other => panic!("bob got {other:?}"),
            }
        }
        (cb, sb, bob)
    });
    pay_pipelined(&mut ca, &mut sa, &alice, 50, 8).await;
    let (mut cb, mut sb, bob) = bob_task.await.unwrap();
    assert_eq!(sa.latest(), sb.latest());
    assert_eq!(sa.balance(), U256::from(50));

    // Bob pays back 20; Alice countersigns.
    cb.send(sb.propose(&bob, U256::from(20), Some(B256::repeat_byte(1)), false).unwrap()).unwrap();
    match ca.recv().await.unwrap() {
        Msg::Propose { state, sig } => {
            ca.send(sa.countersign(&alice, state, sig).unwrap()).unwrap()
        }
        other => panic!("{other:?}"),
    }
    match cb.recv().await.unwrap() {
        Msg::Accepted { version, sig, .. } => {
            sb.accepted(version, sig).unwrap();
            sb.verify().unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sb.latest().state.sentB, U256::from(20));
    assert_eq!(hub.latest(&p.id()).unwrap(), *sb.latest());

    // Alice refuses Bob's next proposal: Bob hears why, the version is free again.
    cb.send(sb.propose(&bob, U256::from(1), None, false).unwrap()).unwrap();
    let Msg::Propose { state, .. } = ca.recv().await.unwrap() else { panic!() };
    ca.send(Msg::Reject { channel_id: p.id(), version: state.version, reason: "not now".into() })
        .unwrap();
    match cb.recv().await.unwrap() {
        Msg::Reject { reason, version, .. } => {
            assert_eq!(reason, "not now");
            sb.rejected(version);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sb.head().version, 51);

    // A stranger can neither register, read nor propose on the channel.
    let eve = Key::random();
    let mut ce = HubClient::connect(hub.local_addr(), &eve).await.unwrap();
    assert!(ce.register(p, deposits).await.unwrap_err().to_string().contains("participant"));
    assert!(ce.latest(p.id()).await.unwrap_err().to_string().contains("participant"));
    let mut forged = sb.head().clone();
    forged.version += 1;
    forged.sentA += U256::from(1);
    ce.send(Msg::Propose { sig: eve.sign(&state::digest(&forged, &p.domain())), state: forged })
        .unwrap();
    assert!(matches!(ce.recv().await.unwrap(), Msg::Reject { .. }));
    hub.shutdown();
}

async fn raw_connect(hub: &Hub, key: &Key) -> TcpStream {
    let mut s = TcpStream::connect(hub.local_addr()).await.unwrap();
    let mut buf = Vec::new();
    let Some(Msg::Challenge { nonce, hub }) = wire::read_msg(&mut s, &mut buf).await.unwrap()
    else {
        panic!("no challenge")
    };
    wire::write_msg(&mut s, &Msg::Auth { sig: key.sign(&wire::auth_digest(&nonce, &hub)) })
        .await
        .unwrap();
    assert!(matches!(wire::read_msg(&mut s, &mut buf).await.unwrap(), Some(Msg::Welcome { .. })));
    s
}

/// Reads frames until the hub closes the connection; returns the last error message.
async fn error_then_close(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut last = String::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), wire::read_msg(s, &mut buf)).await {
            Ok(Ok(Some(Msg::Error { message }))) => last = message,
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) | Ok(Err(_)) => return last,
            Err(_) => panic!("hub did not close the connection (last error: {last:?})"),
        }
    }
}

/// A connection that authenticated and then went silent is pinged half-way through the idle
/// timeout and closed at its end; one that answers pings (the client library does), or trickles
/// a frame without finishing it, is treated accordingly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_pinged_then_closed_and_live_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_with(dir.path(), &Key::random(), Duration::from_millis(600)).await;
    let k = Key::random();
    // Silent: a ping, then the close.
    let mut silent = raw_connect(&hub, &k).await;
    let t0 = std::time::Instant::now();
    let mut buf = Vec::new();
    let first = tokio::time::timeout(Duration::from_secs(5), wire::read_msg(&mut silent, &mut buf))
        .await
        .expect("no ping within 5 s")
        .unwrap();
    assert!(matches!(first, Some(Msg::Ping { .. })), "{first:?}");
    assert!(error_then_close(&mut silent).await.contains("silent"));
    assert!(t0.elapsed() >= Duration::from_millis(550), "closed early: {:?}", t0.elapsed());
    assert_eq!(hub.metrics().value("agnt2_hub_idle_closed_total"), 1.0);
    // Trickling one byte of a frame is not a message: closed all the same.
    let mut slow = raw_connect(&hub, &k).await;
    slow.write_all(&[0]).await.unwrap();
    assert!(error_then_close(&mut slow).await.contains("silent"));
    // The client library answers pings: after several timeouts it still gets answers.
    let mut live = HubClient::connect(hub.local_addr(), &k).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let p = params(k.address(), Address::with_last_byte(9), 1);
    live.register(p, [U256::from(1), U256::ZERO]).await.unwrap();
    assert_eq!(hub.metrics().value("agnt2_hub_idle_closed_total"), 2.0);
    hub.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_are_cut_off_and_others_keep_being_served() {
    let dir = tempfile::tempdir().unwrap();
    let hub_key = Key::random();
    let hub = start(dir.path(), &hub_key).await;

    // Wrong authentication signature.
    let mut s = TcpStream::connect(hub.local_addr()).await.unwrap();
    let mut buf = Vec::new();
    let Some(Msg::Challenge { .. }) = wire::read_msg(&mut s, &mut buf).await.unwrap() else {
        panic!()
    };
    wire::write_msg(&mut s, &Msg::Auth { sig: agnt2_channels::Sig([0; 65]) }).await.unwrap();
    assert!(error_then_close(&mut s).await.contains("invalid signature"));

    let k = Key::random();
    // Oversized frame.
    let mut s = raw_connect(&hub, &k).await;
    s.write_all(&(1u32 << 20).to_be_bytes()).await.unwrap();
    assert!(error_then_close(&mut s).await.contains("over the"));
    // Unknown tag, and a truncated Propose.
    for body in [vec![0xee, 1, 2], vec![6, 0, 0]] {
        let mut s = raw_connect(&hub, &k).await;
        s.write_all(&(body.len() as u32).to_be_bytes()).await.unwrap();
        s.write_all(&body).await.unwrap();
        assert!(error_then_close(&mut s).await.contains("malformed"));
    }
    // A flood of refused proposals is cut off.
    let mut s = raw_connect(&hub, &k).await;
    let junk = Msg::Propose { state: State::default(), sig: agnt2_channels::Sig([0; 65]) };
    let mut frames = Vec::new();
    for _ in 0..1000 {
        wire::frame_into(&junk, &mut frames);
    }
    let _ = s.write_all(&frames).await;
    assert!(error_then_close(&mut s).await.contains("in a row"));
    // A client that sends nothing after the handshake starts is not waited on forever by others:
    // a well-behaved agent is still served at once.
    let mut idle = TcpStream::connect(hub.local_addr()).await.unwrap();
    let mut scratch = [0u8; 64];
    let _ = idle.read(&mut scratch).await;
    let alice = Key::random();
    let p = params(alice.address(), hub_key.address(), 1);
    let mut c = HubClient::connect(hub.local_addr(), &alice).await.unwrap();
    let latest = c.register(p, [U256::from(10), U256::ZERO]).await.unwrap();
    let mut side =
        ChannelSide::new(p, [U256::from(10), U256::ZERO], alice.address(), latest).unwrap();
    pay_pipelined(&mut c, &mut side, &alice, 10, 10).await;
    assert_eq!(side.latest().state.version, 10);
    assert!(hub.metrics().value("agnt2_hub_protocol_errors_total") >= 4.0);
    hub.shutdown();
}

/// A blocking WebSocket JSON-RPC client of the hub.
struct Ws {
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    next: u64,
    notes: std::collections::VecDeque<serde_json::Value>,
}

impl Ws {
    fn connect(addr: std::net::SocketAddr) -> Self {
        let (ws, _) = tungstenite::connect(format!("ws://{addr}")).expect("ws connect");
        if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        }
        Self { ws, next: 1, notes: Default::default() }
    }

    fn read(&mut self) -> serde_json::Value {
        loop {
            match self.ws.read().expect("ws read") {
                tungstenite::Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next;
        self.next += 1;
        let req =
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.ws.send(tungstenite::Message::text(req.to_string())).unwrap();
        loop {
            let v = self.read();
            if v["id"] == id {
                return v;
            }
            self.notes.push_back(v["params"]["result"].clone());
        }
    }

    /// The next hub message (a `hub_message` notification).
    fn message(&mut self) -> Msg {
        let v = match self.notes.pop_front() {
            Some(v) => v,
            None => self.read()["params"]["result"].clone(),
        };
        agnt2_channels::json::msg_from_json(&v).unwrap_or_else(|e| panic!("{e}: {v}"))
    }

    fn send(&mut self, sid: &serde_json::Value, m: &Msg) -> serde_json::Value {
        self.call("hub_send", serde_json::json!([sid, agnt2_channels::json::msg_to_json(m)]))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_json_rpc_clients_pay_and_countersign_alongside_tcp_ones() {
    let dir = tempfile::tempdir().unwrap();
    let hub_key = Key::random();
    let hub = start(dir.path(), &hub_key).await;
    let ws_addr = hub.ws_addr().expect("ws server");
    let tcp_addr = hub.local_addr();
    let (alice, bob) = (Key::random(), Key::random());
    let p_hub = params(bob.address(), hub_key.address(), 1);
    let p_ab = params(alice.address(), bob.address(), 2);
    let deposits = [U256::from(1_000), U256::from(1_000)];

    // Bob speaks WebSocket JSON-RPC only.
    let bob2 = bob.clone();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let bob_side = tokio::task::spawn_blocking(move || {
        let bob = bob2;
        let mut ws = Ws::connect(ws_addr);
        let sub = ws.call("hub_subscribe", serde_json::json!([]));
        let sid = sub["result"].clone();
        let Msg::Challenge { nonce, hub } = ws.message() else { panic!("no challenge") };
        // Wrong signature, unknown session, messages before authentication: clear errors.
        let bad = ws.call("hub_auth", serde_json::json!([sid, format!("0x{}", "00".repeat(65))]));
        assert!(bad["error"]["message"].as_str().unwrap().contains("invalid signature"), "{bad}");
        let bad = ws.send(&serde_json::json!("0xdead"), &Msg::GetLatest { channel_id: B256::ZERO });
        assert!(bad["error"]["message"].as_str().unwrap().contains("unknown session"), "{bad}");
        let bad = ws.send(&sid, &Msg::GetLatest { channel_id: B256::ZERO });
        assert!(bad["error"]["message"].as_str().unwrap().contains("authenticate first"), "{bad}");
        let sig = bob.sign(&wire::auth_digest(&nonce, &hub));
        let ok = ws.call("hub_auth", serde_json::json!([sid, sig.to_bytes()]));
        assert_eq!(ok["result"], serde_json::json!(bob.address()), "{ok}");
        assert!(matches!(ws.message(), Msg::Welcome { .. }));
        // Another connection cannot use this session.
        let mut other = Ws::connect(ws_addr);
        let stolen = other.send(&sid, &Msg::GetLatest { channel_id: p_hub.id() });
        assert!(stolen["error"]["message"].as_str().unwrap().contains("unknown session"));
        let bad = ws.call("hub_send", serde_json::json!([sid, {"type": "propose"}]));
        assert!(bad["error"]["message"].as_str().unwrap().contains("malformed"), "{bad}");

        // Pay the hub 20 times, pipelined.
        ws.send(&sid, &Msg::Register { params: p_hub, deposits });
        assert!(matches!(ws.message(), Msg::Registered { .. }));
        let Msg::Latest { state, sig_a, sig_b } = ws.message() else { panic!() };
        let mut side =
            ChannelSide::new(p_hub, deposits, bob.address(), SignedState { state, sig_a, sig_b })
                .unwrap();
        for _ in 0..20 {
            let m = side.propose(&bob, U256::from(3), None, false).unwrap();
            assert_eq!(ws.send(&sid, &m)["result"], true);
        }
        for _ in 0..20 {
            let Msg::Accepted { version, sig, .. } = ws.message() else { panic!() };
            side.accepted(version, sig).unwrap();
        }
        side.verify().unwrap();
        assert_eq!(side.latest().state.sentA, U256::from(60));

        // Countersign a proposal relayed from Alice's TCP connection.
        ws.send(&sid, &Msg::Register { params: p_ab, deposits });
        assert!(matches!(ws.message(), Msg::Registered { .. }));
        let Msg::Latest { state, sig_a, sig_b } = ws.message() else { panic!() };
        let mut ab =
            ChannelSide::new(p_ab, deposits, bob.address(), SignedState { state, sig_a, sig_b })
                .unwrap();
        ready_tx.send(()).unwrap();
        let Msg::Propose { state, sig } = ws.message() else { panic!("no relayed proposal") };
        let accept = ab.countersign(&bob, state, sig).unwrap();
        assert_eq!(ws.send(&sid, &accept)["result"], true);
        ab.latest().clone()
    });

    // Alice (TCP) proposes to Bob once he follows the channel.
    let mut ca = HubClient::connect(tcp_addr, &alice).await.unwrap();
    let latest = ca.register(p_ab, deposits).await.unwrap();
    let mut sa = ChannelSide::new(p_ab, deposits, alice.address(), latest).unwrap();
    let bob_ready = tokio::time::timeout(Duration::from_secs(30), ready_rx).await;
    if !matches!(bob_ready, Ok(Ok(()))) {
        panic!("bob's side failed: {:?}", bob_side.await);
    }
    ca.send(sa.propose(&alice, U256::from(7), None, false).unwrap()).unwrap();
    match tokio::time::timeout(Duration::from_secs(30), ca.recv()).await {
        Ok(Ok(Msg::Accepted { version, sig, .. })) => sa.accepted(version, sig).unwrap(),
        other => panic!("{other:?}"),
    }
    sa.verify().unwrap();
    let bob_latest = bob_side.await.unwrap();
    assert_eq!(*sa.latest(), bob_latest);
    assert_eq!(hub.latest(&p_ab.id()).unwrap(), bob_latest);
    hub.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_submits_states_both_sides_signed_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path(), &Key::random()).await;
    let (payer, service) = (Key::random(), Key::random());
    let p = params(payer.address(), service.address(), 3);
    let deposits = [U256::from(100), U256::ZERO];
    // Only the service talks to the hub: the payer's signatures came over HTTP.
    let mut cs = HubClient::connect(hub.local_addr(), &service).await.unwrap();
    let latest = cs.register(p, deposits).await.unwrap();
    assert_eq!(latest.state.version, 0);
    let d = p.domain();
    let next = |prev: &State, sent_a: u64| State {
        version: prev.version + 1,
        sentA: U256::from(sent_a),
        ..prev.clone()
    };
    let both = |s: &State| {
        let h = state::digest(s, &d);
        (payer.sign(&h), service.sign(&h))
    };
    let mut head = latest.state;
    for paid in [10u64, 25, 26] {
        let s = next(&head, paid);
        let (sa, sb) = both(&s);
        cs.send(Msg::Submit { state: s.clone(), sig_a: sa, sig_b: sb }).unwrap();
        match cs.recv().await.unwrap() {
            Msg::Accepted { version, sig, .. } => assert_eq!((version, sig), (s.version, sa)),
            other => panic!("{other:?}"),
        }
        head = s;
    }
    assert_eq!(hub.latest(&p.id()).unwrap().state, head);

    // Refused, each with its reason, and nothing stored: a skipped version, a forged payer
    // signature, a state that takes from both, more than the payer holds.
    let refuse = |s: State, sa, sb| Msg::Submit { state: s, sig_a: sa, sig_b: sb };
    let mut cases = Vec::new();
    let skip = State { version: head.version + 2, ..next(&head, 30) };
    let (sa, sb) = both(&skip);
    cases.push((refuse(skip, sa, sb), "version"));
    let forged = next(&head, 30);
    let h = state::digest(&forged, &d);
    cases.push((refuse(forged, Key::random().sign(&h), service.sign(&h)), "side A"));
    let mut both_ways = next(&head, 30);
    both_ways.sentB = U256::from(1);
    let (sa, sb) = both(&both_ways);
    cases.push((refuse(both_ways, sa, sb), "raise"));
    let over = next(&head, 101);
    let (sa, sb) = both(&over);
    cases.push((refuse(over, sa, sb), "holds"));
    for (msg, why) in cases {
        cs.send(msg).unwrap();
        match cs.recv().await.unwrap() {
            Msg::Reject { reason, .. } => assert!(reason.contains(why), "{why}: {reason}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(hub.latest(&p.id()).unwrap().state, head);
    // A stranger cannot submit on the channel.
    let mut ce = HubClient::connect(hub.local_addr(), &Key::random()).await.unwrap();
    let s = next(&head, 40);
    let (sa, sb) = both(&s);
    ce.send(Msg::Submit { state: s, sig_a: sa, sig_b: sb }).unwrap();
    match ce.recv().await.unwrap() {
        Msg::Reject { reason, .. } => assert!(reason.contains("participant"), "{reason}"),
        other => panic!("{other:?}"),
    }
    hub.shutdown();
}

/// A counterparty that never answers cannot make the hub hold unbounded relayed proposals:
/// past `MAX_RELAYED` in flight on a channel, further proposals are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_to_a_silent_counterparty_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path(), &Key::random()).await;
    let (alice, bob) = (Key::random(), Key::random());
    let p = params(alice.address(), bob.address(), 9);
    let deposits = [U256::from(1_000_000), U256::ZERO];
    let mut ca = HubClient::connect(hub.local_addr(), &alice).await.unwrap();
    let mut cb = HubClient::connect(hub.local_addr(), &bob).await.unwrap();
    let la = ca.register(p, deposits).await.unwrap();
    cb.register(p, deposits).await.unwrap();
    let mut sa = ChannelSide::new(p, deposits, alice.address(), la).unwrap();
    // Bob stays connected and silent.
    let limit = agnt2_channels::hub::MAX_RELAYED;
    for _ in 0..=limit {
        ca.send(sa.propose(&alice, U256::from(1), None, false).unwrap()).unwrap();
    }
    match tokio::time::timeout(Duration::from_secs(20), ca.recv()).await.unwrap().unwrap() {
        Msg::Reject { version, reason, .. } => {
            assert_eq!(version, limit as u64 + 1);
            assert!(reason.contains("wait for the counterparty"), "{reason}");
        }
        other => panic!("the hub took more than {limit} unanswered proposals: {other:?}"),
    }
    drop(cb);
}

/// One key cannot take every connection slot: past `max_connections_per_address` (8 here) its
/// authenticated connections are refused; others still get in, and a closed one frees its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_a_bounded_number_of_connections() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(dir.path(), &Key::random()).await;
    let greedy = Key::random();
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(HubClient::connect(hub.local_addr(), &greedy).await.unwrap());
    }
    let Err(err) = HubClient::connect(hub.local_addr(), &greedy).await else {
        panic!("a ninth connection of one address was taken")
    };
    assert!(format!("{err:#}").contains("already holds 8 connections"), "{err:#}");
    // Someone else is served.
    let other = HubClient::connect(hub.local_addr(), &Key::random()).await.unwrap();
    drop(other);
    // A closed connection frees its slot (the hub notices the close asynchronously).
    drop(held.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match HubClient::connect(hub.local_addr(), &greedy).await {
            Ok(c) => {
                held.push(c);
                break;
            }
            Err(e) => {
                assert!(std::time::Instant::now() < deadline, "the slot was not freed: {e:#}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    hub.shutdown();
}
