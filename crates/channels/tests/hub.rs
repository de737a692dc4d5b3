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
    Hub::start(HubConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        datadir: dir.to_path_buf(),
        key: key.clone(),
        chain_id: CHAIN,
        adjudicator: adjudicator(),
        l2: None,
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
    assert!(hub.metrics().protocol_errors.load(std::sync::atomic::Ordering::Relaxed) >= 4);
    hub.shutdown();
}
