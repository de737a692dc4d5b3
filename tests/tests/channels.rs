//! Channels end to end: the real agnt2 node, the Adjudicator deployed with forge, the real
//! agnt2-hub binary, agents using the client library over real sockets.

mod common;

use agnt2_channels::{
    ChannelParams, Key, SignedState,
    client::{ChannelSide, HubClient},
    l2::{ChannelCalls, L2},
    state::Adjudicator,
    wire::Msg,
};
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use common::{DEV_KEY0, HubProc, Node, forge_create};
use serde_json::json;
use std::{
    net::SocketAddr,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

struct Setup {
    node: Node,
    l2: L2,
    adjudicator: Address,
    hub_key: Key,
    funder: PrivateKeySigner,
}

impl Setup {
    /// The real agnt2-hub for this setup's adjudicator, with the hub key (port 0: any).
    fn hub(&self, dir: &Path, port: u16, extra: &[&str]) -> HubProc {
        let (url, adj, key) = (
            self.node.url(),
            self.adjudicator.to_string(),
            self.hub_key.secret_bytes().to_string(),
        );
        HubProc::start_with(dir, &url, &adj, &key, port, extra)
    }
}

fn setup() -> Setup {
    let node = Node::start(&[]);
    let l2 = L2::new(&node.url()).unwrap();
    let adjudicator: Address = forge_create(
        &node.url(),
        DEV_KEY0,
        "src/channels/Adjudicator.sol:Adjudicator",
        &["--constructor-args", "60"],
    )
    .parse()
    .unwrap();
    let funder: PrivateKeySigner = DEV_KEY0.parse().unwrap();
    let hub_key = Key::random();
    // The hub pays gas for the refutes it sends as a watchtower.
    l2.transact(&funder, Some(hub_key.address()), U256::from(10u64).pow(U256::from(18u64)), vec![])
        .unwrap();
    Setup { node, l2, adjudicator, hub_key, funder }
}

fn gwei(n: u64) -> U256 {
    U256::from(n) * U256::from(1_000_000_000u64)
}

/// Opens a channel agent ↔ hub on the rollup with `deposit` from the agent.
fn open(s: &Setup, agent: &Key, nonce: u64, window: u64, deposit: U256) -> ChannelParams {
    s.l2.open_channels(
        &s.funder,
        s.adjudicator,
        s.hub_key.address(),
        std::slice::from_ref(agent),
        deposit + gwei(100_000_000),
        deposit,
        nonce,
        window,
    )
    .unwrap()
    .remove(0)
}

/// Pays `n` updates of `amount` with a window of 32; returns the last acknowledged version.
/// Opens a channel from `agent` with `deposit` on the rollup, connects to the hub at `hub` and
/// registers it: the client, the agent's side and the channel.
async fn open_at_hub(
    s: &Setup,
    hub: SocketAddr,
    agent: &Key,
    window: u64,
    deposit: U256,
) -> (HubClient, ChannelSide, ChannelParams) {
    let p = open(s, agent, 1, window, deposit);
    let mut c = HubClient::connect(hub, agent).await.unwrap();
    let latest = c.register(p, [U256::ZERO; 2]).await.unwrap();
    let side = ChannelSide::new(p, [deposit, U256::ZERO], agent.address(), latest).unwrap();
    (c, side, p)
}

async fn pay(c: &mut HubClient, side: &mut ChannelSide, key: &Key, n: u64, amount: U256) {
    let (mut sent, mut acked) = (0, 0);
    while acked < n {
        while sent < n && side.in_flight() < 32 {
            c.send(side.propose(key, amount, None, false).unwrap()).unwrap();
            sent += 1;
        }
        match c.recv().await.unwrap() {
            Msg::Accepted { version, sig, .. } => {
                side.accepted(version, sig).unwrap();
                acked += 1;
            }
            other => panic!("hub answered {other:?}"),
        }
    }
    side.verify().unwrap();
}

fn call(s: &Setup, from: &Key, data: Vec<u8>) -> eyre::Result<B256> {
    let signer = PrivateKeySigner::from_bytes(&from.secret_bytes()).unwrap();
    s.l2.transact(&signer, Some(s.adjudicator), U256::ZERO, data)
}

fn args(
    st: &SignedState,
) -> (Adjudicator::State, alloy_primitives::Bytes, alloy_primitives::Bytes) {
    (st.state.clone(), st.sig_a.unwrap().to_bytes(), st.sig_b.unwrap().to_bytes())
}

fn channel(s: &Setup, id: B256) -> Adjudicator::Channel {
    s.l2.channel(s.adjudicator, id).unwrap()
}

/// Mines a block at `ts` (if the chain is not already past it), so calls see that time.
fn advance_to(s: &Setup, ts: u64) {
    if s.l2.latest_timestamp().unwrap() < ts {
        s.node.rpc("evm_setNextBlockTimestamp", json!([ts]));
        s.node.rpc("evm_mine", json!([]));
    }
}

/// What a mined transaction paid for gas.
fn gas_paid(s: &Setup, hash: B256) -> U256 {
    let r = s.node.rpc("eth_getTransactionReceipt", json!([hash]));
    let q = |k: &str| {
        U256::from_str_radix(r[k].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
    };
    // OP receipts carry the L1 data fee separately.
    let l1 = r
        .get("l1Fee")
        .and_then(|v| v.as_str())
        .map_or(U256::ZERO, |v| U256::from_str_radix(v.trim_start_matches("0x"), 16).unwrap());
    q("gasUsed") * q("effectiveGasPrice") + l1
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_ten_thousand_updates_cooperative_close() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let _hub = s.hub(dir.path(), 0, &[]);
    let hub_addr = _hub.addr;
    let agent = Key::random();
    let deposit = gwei(1_000_000);
    let p = open(&s, &agent, 1, 3600, deposit);

    let mut c = HubClient::connect(hub_addr, &agent).await.unwrap();
    assert_eq!(c.hub(), s.hub_key.address());
    let latest = c.register(p, [U256::ZERO; 2]).await.unwrap();
    // The hub took the deposits from the adjudicator, not from the registration.
    let mut side = ChannelSide::new(p, [deposit, U256::ZERO], agent.address(), latest).unwrap();
    pay(&mut c, &mut side, &agent, 10_000, gwei(7)).await;
    assert_eq!(side.latest().state.version, 10_000);
    c.send(side.propose(&agent, U256::ZERO, None, true).unwrap()).unwrap();
    let Msg::Accepted { version, sig, .. } = c.recv().await.unwrap() else { panic!() };
    side.accepted(version, sig).unwrap();
    side.verify().unwrap();
    let fin = side.latest().clone();
    assert!(fin.state.isFinal);

    let (st, sa, sb) = args(&fin);
    call(&s, &agent, Adjudicator::closeCall { s: st, sigA: sa, sigB: sb }.abi_encode()).unwrap();
    let ch = channel(&s, p.id());
    assert_eq!(ch.status, 3, "settled");
    assert_eq!(ch.owedB, gwei(70_000), "the hub is owed exactly what was paid");
    assert_eq!(ch.owedA, deposit - gwei(70_000));
    let before = s.l2.balance(s.hub_key.address()).unwrap();
    let hub_signer = PrivateKeySigner::from_bytes(&s.hub_key.secret_bytes()).unwrap();
    let tx =
        s.l2.transact(
            &hub_signer,
            Some(s.adjudicator),
            U256::ZERO,
            Adjudicator::withdrawCall { id: p.id(), to: s.hub_key.address() }.abi_encode(),
        )
        .unwrap();
    let after = s.l2.balance(s.hub_key.address()).unwrap();
    assert_eq!(
        after + gas_paid(&s, tx),
        before + gwei(70_000),
        "the hub withdrew what it was paid"
    );
    // Closed: the hub still serves the final state, and refuses anything after it.
    c.send(Msg::Propose { state: fin.state.clone(), sig: fin.sig_a.unwrap() }).unwrap();
    assert!(matches!(c.recv().await.unwrap(), Msg::Reject { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_dispute_is_refuted_by_the_hub_and_a_lone_party_settles() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let mut hub = s.hub(dir.path(), 0, &[]);
    let alice = Key::random();
    let deposit = gwei(1_000_000);
    let (mut c, mut side, p) = open_at_hub(&s, hub.addr, &alice, 60, deposit).await;
    pay(&mut c, &mut side, &alice, 3, gwei(10)).await;
    let stale = side.latest().clone();
    pay(&mut c, &mut side, &alice, 7, gwei(10)).await;
    assert_eq!(side.latest().state.version, 10);

    // Alice cheats: disputes with version 3 (she paid less there).
    let t0 = Instant::now();
    let (st, sa, sb) = args(&stale);
    call(&s, &alice, Adjudicator::disputeCall { s: st, sigA: sa, sigB: sb }.abi_encode()).unwrap();
    let disputed = channel(&s, p.id());
    assert_eq!((disputed.status, disputed.version), (2, 3));
    let mut timeline = vec![format!("dispute at v3 mined, window ends at {}", disputed.disputeEnd)];
    // The hub's watchtower refutes with version 10 inside the window.
    let refuted = loop {
        let ch = channel(&s, p.id());
        if ch.version == 10 {
            break ch;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "the hub did not refute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    timeline.push(format!(
        "refuted with v10 after {} ms (block time {})",
        t0.elapsed().as_millis(),
        s.l2.latest_timestamp().unwrap()
    ));
    assert_eq!(refuted.status, 2, "still in the window");
    let settle = Adjudicator::settleCall { id: p.id() }.abi_encode();
    assert!(call(&s, &alice, settle.clone()).is_err(), "settle before the window ends fails");
    advance_to(&s, refuted.disputeEnd);
    call(&s, &alice, settle.clone()).unwrap();
    let ch = channel(&s, p.id());
    assert_eq!(ch.status, 3);
    assert_eq!(ch.owedB, gwei(100), "the outcome is the latest state");
    timeline.push(format!("settled after the window: hub owed {} wei", ch.owedB));
    eprintln!("dispute timeline: {timeline:#?}");

    // The hub vanishes: Alice disputes alone on a second channel and settles after the window.
    let p2 = open(&s, &alice, 2, 60, deposit);
    let latest = c.register(p2, [U256::ZERO; 2]).await.unwrap();
    let mut side2 = ChannelSide::new(p2, [deposit, U256::ZERO], alice.address(), latest).unwrap();
    pay(&mut c, &mut side2, &alice, 5, gwei(1)).await;
    hub.kill9();
    let (st, sa, sb) = args(side2.latest());
    call(&s, &alice, Adjudicator::disputeCall { s: st, sigA: sa, sigB: sb }.abi_encode()).unwrap();
    advance_to(&s, channel(&s, p2.id()).disputeEnd);
    call(&s, &alice, Adjudicator::settleCall { id: p2.id() }.abi_encode()).unwrap();
    assert_eq!(channel(&s, p2.id()).owedB, gwei(5), "the hub keeps what it was paid");
    let before = s.l2.balance(alice.address()).unwrap();
    let tx = call(
        &s,
        &alice,
        Adjudicator::withdrawCall { id: p2.id(), to: alice.address() }.abi_encode(),
    )
    .unwrap();
    let after = s.l2.balance(alice.address()).unwrap();
    assert_eq!(after + gas_paid(&s, tx), before + deposit - gwei(5), "alice withdrew her side");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_a_stream_loses_no_cosigned_state() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut hub = s.hub(dir.path(), port, &[]);
    let alice = Key::random();
    let deposit = gwei(1_000_000);
    let (mut c, mut side, p) = open_at_hub(&s, hub.addr, &alice, 3600, deposit).await;

    // Stream without end; kill the hub once 2,000 are acknowledged.
    let mut acked = 0u64;
    let killed = loop {
        while side.in_flight() < 32 {
            if c.send(side.propose(&alice, U256::from(1), None, false).unwrap()).is_err() {
                break;
            }
        }
        match c.recv().await {
            Ok(Msg::Accepted { version, sig, .. }) => {
                side.accepted(version, sig).unwrap();
                acked = version;
                if acked == 2_000 {
                    hub.kill9();
                }
            }
            Ok(other) => panic!("{other:?}"),
            Err(_) => break acked,
        }
    };
    side.verify().unwrap();
    assert!(killed >= 2_000);
    assert_eq!(side.latest().state.version, killed);

    let hub = s.hub(dir.path(), port, &[]);
    let mut c = HubClient::connect(hub.addr, &alice).await.unwrap();
    let stored = c.register(p, [U256::ZERO; 2]).await.unwrap();
    assert!(
        stored.state.version >= killed,
        "acknowledged v{killed} but the hub kept v{}",
        stored.state.version
    );
    assert!(stored.is_cosigned());
    // The channel continues from the stored version.
    let mut side =
        ChannelSide::new(p, [deposit, U256::ZERO], alice.address(), stored.clone()).unwrap();
    pay(&mut c, &mut side, &alice, 100, U256::from(1)).await;
    assert_eq!(side.latest().state.version, stored.state.version + 100);
}

/// Runs `agnt2 channel …` with the common flags; returns stdout, panicking on failure.
fn cli(s: &Setup, hub: SocketAddr, key: &Key, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(common::agnt2_bin())
        .arg("channel")
        .args(args)
        .args(["--hub", &hub.to_string(), "--l2.rpc-url", &s.node.url()])
        .arg("--state-dir")
        .arg(dir)
        .env("AGNT2_PRIVATE_KEY", key.secret_bytes().to_string())
        .output()
        .expect("run agnt2 channel");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "agnt2 channel {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn channel_id(out: &str) -> String {
    out.split_whitespace().nth(2).expect("channel id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_opens_pays_updates_closes_disputes_and_settles() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let hub = s.hub(dir.path(), 0, &[]);
    let agent = Key::random();
    s.l2.transact(
        &s.funder,
        Some(agent.address()),
        U256::from(10u64).pow(U256::from(18u64)),
        vec![],
    )
    .unwrap();
    let states = tempfile::tempdir().unwrap();
    let adj = s.adjudicator.to_string();
    let run = |args: &[&str]| cli(&s, hub.addr, &agent, states.path(), args);

    let out = run(&["open", "--adjudicator", &adj, "--deposit", "0.01ether", "--window", "60"]);
    let id = channel_id(&out);
    let out = run(&["pay", "--channel", &id, "--amount", "1gwei", "--count", "50"]);
    assert!(out.contains("version 50"), "{out}");
    let data = format!("0x{}", "ab".repeat(32));
    assert!(run(&["update", "--channel", &id, "--data", &data]).contains("version 51"));
    let status: serde_json::Value =
        serde_json::from_str(&run(&["status", "--channel", &id])).unwrap();
    assert_eq!(status["onchain"]["status"], "open");
    assert_eq!(status["hub"], status["local"], "the hub and the CLI hold the same state");
    assert_eq!(status["local"]["state"]["version"], 51);
    assert_eq!(status["local"]["state"]["appData"], data);
    // Bad input and overspending: a clear error, nothing changes.
    let fails = |args: &[&str]| {
        let out = Command::new(common::agnt2_bin())
            .arg("channel")
            .args(args)
            .args(["--hub", &hub.addr.to_string(), "--l2.rpc-url", &s.node.url()])
            .arg("--state-dir")
            .arg(states.path())
            .env("AGNT2_PRIVATE_KEY", agent.secret_bytes().to_string())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(fails(&["pay", "--channel", &id, "--amount", "1.5"]).contains("bad amount"));
    assert!(fails(&["pay", "--channel", &id, "--amount", "1ether"]).contains("more than it holds"));
    let unknown = format!("0x{}", "11".repeat(32));
    assert!(fails(&["pay", "--channel", &unknown, "--amount", "1"]).contains("no local state"));
    let status: serde_json::Value =
        serde_json::from_str(&run(&["status", "--channel", &id])).unwrap();
    assert_eq!(status["hub"]["state"]["version"], 51, "refused payments changed nothing");

    let out = run(&["close", "--channel", &id]);
    assert!(out.contains("closed") && out.contains("withdrew"), "{out}");
    let ch = channel(&s, id.parse().unwrap());
    assert_eq!((ch.status, ch.owedA, ch.owedB), (3, U256::ZERO, gwei(50)));

    // A second channel: dispute alone, settle after the window.
    let id2 = channel_id(&run(&[
        "open",
        "--adjudicator",
        &adj,
        "--deposit",
        "0.01ether",
        "--window",
        "60",
    ]));
    run(&["pay", "--channel", &id2, "--amount", "3gwei", "--count", "4"]);
    let out = run(&["dispute", "--channel", &id2]);
    assert!(out.contains("with version 4"), "{out}");
    let ch = channel(&s, id2.parse().unwrap());
    assert_eq!((ch.status, ch.version), (2, 4));
    advance_to(&s, ch.disputeEnd);
    let out = run(&["settle", "--channel", &id2]);
    assert!(out.contains("withdrew"), "{out}");
    assert_eq!(channel(&s, id2.parse().unwrap()).owedB, gwei(12));
}

alloy_sol_types::sol! {
    interface IAgents {
        function register(string agentURI) external returns (uint256 agentId);
        function tokenOfOwnerByIndex(address owner, uint256 index) external view returns (uint256);
        function open(uint256 agentId, address key, uint64 expiry, uint256 spendLimit, address[] counterparties) external;
        function close(uint256 agentId, address key) external;
        function transferFrom(address from, address to, uint256 tokenId) external;
    }
}

/// A session key of an agent signs for its owner once admitted to the channel, within its cap;
/// what it signed survives the owner closing the session and selling the agent (issue 15, item
/// 9: before admission, the owner could then dispute with the opening state and take back what
/// the key had paid); and a sold agent's key is refused by the hub and on chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_key_admitted_to_a_channel_signs_for_its_owner_and_its_states_survive_the_session()
 {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let hub = s.hub(dir.path(), 0, &[]);
    let owner = Key::random();
    let owner_signer = PrivateKeySigner::from_bytes(&owner.secret_bytes()).unwrap();
    s.l2.transact(
        &s.funder,
        Some(owner.address()),
        U256::from(10u64).pow(U256::from(18u64)),
        vec![],
    )
    .unwrap();
    let identity = agnt2_channels::l2::IDENTITY;
    let sessions = agnt2_channels::l2::SESSIONS;
    let send =
        |to: Address, data: Vec<u8>| s.l2.transact(&owner_signer, Some(to), U256::ZERO, data);
    send(identity, IAgents::registerCall { agentURI: "ipfs://payer".into() }.abi_encode()).unwrap();
    let out =
        s.l2.eth_call(
            identity,
            &IAgents::tokenOfOwnerByIndexCall { owner: owner.address(), index: U256::ZERO }
                .abi_encode(),
        )
        .unwrap();
    let agent = IAgents::tokenOfOwnerByIndexCall::abi_decode_returns(&out).unwrap();
    let expiry = s.l2.latest_timestamp().unwrap() + 3600;
    let session = Key::random();
    let open_session = |key: Address, counterparty: Address| {
        send(
            sessions,
            IAgents::openCall {
                agentId: agent,
                key,
                expiry,
                spendLimit: gwei(100),
                counterparties: vec![counterparty],
            }
            .abi_encode(),
        )
        .unwrap()
    };
    open_session(session.address(), s.hub_key.address());

    // The owner opens a channel naming its agent for side A.
    let deposit = gwei(1_000_000);
    let p = ChannelParams {
        chain_id: s.l2.chain_id().unwrap(),
        adjudicator: s.adjudicator,
        a: owner.address(),
        b: s.hub_key.address(),
        token: Address::ZERO,
        nonce: 1,
    };
    let open = Adjudicator::openCall {
        b: p.b,
        token: Address::ZERO,
        nonce: 1,
        challengeDuration: alloy_primitives::aliases::U48::from(60),
        agentA: agent,
        agentB: U256::ZERO,
        amount: deposit,
    };
    s.l2.transact(&owner_signer, Some(s.adjudicator), deposit, open.abi_encode()).unwrap();

    // A valid session key is not enough: it signs on a channel once admitted to it.
    let mut c = HubClient::connect_session(hub.addr, &session, agent).await.unwrap();
    assert_eq!(c.address(), owner.address(), "the connection acts for the agent's owner");
    let err = c.register(p, [U256::ZERO; 2]).await.unwrap_err();
    assert!(format!("{err:#}").contains("not admitted"), "{err:#}");
    let admit = |id: B256, key: Address, cap: U256| {
        send(s.adjudicator, Adjudicator::admitCall { id, key, cap }.abi_encode())
    };
    // Its cap draws on the session's spend limit (100 gwei).
    assert!(admit(p.id(), session.address(), gwei(101)).is_err(), "a cap above the limit");
    admit(p.id(), session.address(), gwei(50)).unwrap();
    let mut c = HubClient::connect_session(hub.addr, &session, agent).await.unwrap();
    let latest = c.register(p, [U256::ZERO; 2]).await.unwrap();
    let mut side = ChannelSide::new(p, [deposit, U256::ZERO], owner.address(), latest).unwrap();
    pay(&mut c, &mut side, &session, 10, gwei(2)).await;
    let paid = side.latest().clone();
    let digest = agnt2_channels::state::digest(&paid.state, &p.domain());
    assert_eq!(
        agnt2_channels::keys::recover(&digest, &paid.sig_a.unwrap()),
        Some(session.address()),
        "the session key signed, not the owner"
    );
    // Beyond its cap (20 + 31 > 50 gwei) the hub refuses what the Adjudicator would not count.
    let mut over = paid.state.clone();
    over.version += 1;
    over.sentA += gwei(31);
    c.send(Msg::Propose {
        sig: session.sign(&agnt2_channels::state::digest(&over, &p.domain())),
        state: over,
    })
    .unwrap();
    match c.recv().await.unwrap() {
        Msg::Reject { reason, .. } => assert!(reason.contains("cap"), "{reason}"),
        other => panic!("an over-cap state was taken: {other:?}"),
    }

    // A session for another counterparty authenticates but cannot be admitted to this channel.
    let other = Key::random();
    open_session(other.address(), Address::with_last_byte(0x77));
    assert!(admit(p.id(), other.address(), U256::ZERO).is_err(), "admitted for another party");
    let mut c2 = HubClient::connect_session(hub.addr, &other, agent).await.unwrap();
    let err = c2.register(p, [U256::ZERO; 2]).await.unwrap_err();
    assert!(format!("{err:#}").contains("not admitted"), "{err:#}");

    // The attack: the owner ends the session, sells the agent, and disputes with the opening
    // state to take back the 20 gwei its key paid.
    send(sessions, IAgents::closeCall { agentId: agent, key: session.address() }.abi_encode())
        .unwrap();
    let buyer = Address::with_last_byte(0xb7);
    send(
        identity,
        IAgents::transferFromCall { from: owner.address(), to: buyer, tokenId: agent }.abi_encode(),
    )
    .unwrap();
    let opening = SignedState::opening(&p).state;
    let dispute = Adjudicator::disputeCall { s: opening, sigA: vec![].into(), sigB: vec![].into() };
    send(s.adjudicator, dispute.abi_encode()).unwrap();
    // The hub's watchtower refutes with what the key signed: it still counts.
    let t0 = Instant::now();
    let refuted = loop {
        let ch = channel(&s, p.id());
        if ch.version == paid.state.version {
            break ch;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "the hub did not refute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    advance_to(&s, refuted.disputeEnd);
    send(s.adjudicator, Adjudicator::settleCall { id: p.id() }.abi_encode()).unwrap();
    let settled = channel(&s, p.id());
    assert_eq!(
        (settled.status, settled.owedB),
        (agnt2_channels::state::status::SETTLED, gwei(20)),
        "the hub is paid"
    );

    // The sold agent's key: the hub no longer authenticates it, and no channel admits it.
    let err = HubClient::connect_session(hub.addr, &session, agent).await.unwrap_err();
    assert!(format!("{err:#}").contains("no valid session"), "{err:#}");
    let p2 = ChannelParams { nonce: 2, ..p };
    s.l2.transact(
        &owner_signer,
        Some(s.adjudicator),
        deposit,
        Adjudicator::openCall { nonce: 2, agentA: agent, ..open }.abi_encode(),
    )
    .unwrap();
    assert!(admit(p2.id(), session.address(), U256::ZERO).is_err(), "admitted after the sale");
}

#[test]
fn bench_channels_starts_its_hub_and_reports_verified_updates() {
    let node = Node::start(&[]);
    let out =
        common::run(Command::new(common::agnt2_bin()).current_dir(common::workspace()).args([
            "bench",
            "channels",
            "--l2.rpc-url",
            &node.url(),
            "--pairs",
            "3",
            "--updates",
            "200",
            "--json",
        ]));
    let r: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!((r["pairs"].as_u64(), r["updates"].as_u64()), (Some(3), Some(200)));
    assert_eq!(r["verified"], true, "{r}");
    assert!(r["updates_per_s"].as_f64().unwrap() > 0.0);
    assert!(
        r["p50_us"].as_f64().unwrap() > 0.0
            && r["p99_us"].as_f64().unwrap() >= r["p50_us"].as_f64().unwrap()
    );
}

/// A counter of the hub's Prometheus text.
fn hub_metric(addr: &str, name: &str) -> u64 {
    let text = common::scrape(addr);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} missing: {text}"))
        .trim()
        .parse()
        .unwrap()
}

/// Lets the watchtower scan (and store its cursor past) the blocks so far, then kills the hub.
async fn scanned_then_killed(s: &Setup, metrics: &str, hub: &mut HubProc) {
    let head = s.node.block_number();
    let t0 = Instant::now();
    while hub_metric(metrics, "agnt2_hub_watched_blocks_total") < head + 1 {
        assert!(t0.elapsed() < Duration::from_secs(10), "the watchtower did not scan");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    hub.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_sent_while_the_hub_was_down_is_refuted_when_it_comes_back() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics) = (free_port(), format!("127.0.0.1:{}", free_port()));
    let start = || s.hub(dir.path(), port, &["--metrics", &metrics]);
    let mut hub = start();
    let alice = Key::random();
    let deposit = gwei(1_000_000);
    let (mut c, mut side, p) = open_at_hub(&s, hub.addr, &alice, 60, deposit).await;
    pay(&mut c, &mut side, &alice, 2, gwei(10)).await;
    let stale = side.latest().clone();
    pay(&mut c, &mut side, &alice, 3, gwei(10)).await;
    scanned_then_killed(&s, &metrics, &mut hub).await;
    // While the hub is down, Alice disputes with version 2.
    let (st, sa, sb) = args(&stale);
    call(&s, &alice, Adjudicator::disputeCall { s: st, sigA: sa, sigB: sb }.abi_encode()).unwrap();
    assert_eq!(channel(&s, p.id()).version, 2);
    let head_at_restart = s.node.block_number();
    let _hub = start();
    let t0 = Instant::now();
    while channel(&s, p.id()).version != 5 {
        assert!(t0.elapsed() < Duration::from_secs(30), "the restarted hub did not refute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // It resumed from its stored cursor instead of rescanning the chain from block 0.
    let scanned = hub_metric(&metrics, "agnt2_hub_watched_blocks_total");
    assert!(scanned < head_at_restart, "rescanned {scanned} blocks of {head_at_restart}");
}

/// The short-window attack: a payer opens with a window a refute cannot be sure to land in,
/// is served, disputes with the opening state and settles first. The Adjudicator refuses windows
/// below its minimum (60 s here, set at deployment), and a hub with a stricter policy
/// (`--min-challenge-window`) refuses the channels it would not be able to defend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_with_a_short_challenge_window_are_refused() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let hub = s.hub(dir.path(), 0, &["--min-challenge-window", "600"]);

    // On chain: a 1-second window does not open.
    let mallory = Key::random();
    let p = s.l2.open_channels(
        &s.funder,
        s.adjudicator,
        s.hub_key.address(),
        std::slice::from_ref(&mallory),
        gwei(100_000_000),
        gwei(1),
        1,
        1,
    );
    if let Ok(p) = p {
        assert_eq!(channel(&s, p[0].id()).status, 0, "a 1 s channel exists on chain");
    }

    // 60 s passes the Adjudicator's minimum but not this hub's policy: refused at registration.
    let p = open(&s, &mallory, 2, 60, gwei(1));
    assert_eq!(channel(&s, p.id()).status, 1);
    let mut c = HubClient::connect(hub.addr, &mallory).await.unwrap();
    let err = c.register(p, [U256::ZERO; 2]).await.unwrap_err();
    assert!(format!("{err:#}").contains("challenge window is 60 s"), "{err:#}");

    // A channel with the hub's window is taken and paid over.
    let honest = Key::random();
    let (mut c, mut side, _) = open_at_hub(&s, hub.addr, &honest, 600, gwei(10)).await;
    pay(&mut c, &mut side, &honest, 3, gwei(1)).await;
}

/// One dispute the watchtower can no longer refute (its window passed while the hub was down)
/// must not blind it to the others: a stale dispute on a second channel is still refuted, and
/// the scan goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_that_cannot_be_refuted_does_not_blind_the_watchtower() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics) = (free_port(), format!("127.0.0.1:{}", free_port()));
    let start = || s.hub(dir.path(), port, &["--metrics", &metrics]);
    let mut hub = start();
    let (alice, bob) = (Key::random(), Key::random());
    let deposit = gwei(1_000_000);
    let (mut ca, mut sa, pa) = open_at_hub(&s, hub.addr, &alice, 60, deposit).await;
    let (mut cb, mut sb, pb) = open_at_hub(&s, hub.addr, &bob, 60, deposit).await;
    pay(&mut ca, &mut sa, &alice, 1, gwei(10)).await;
    pay(&mut cb, &mut sb, &bob, 1, gwei(10)).await;
    let (stale_a, stale_b) = (sa.latest().clone(), sb.latest().clone());
    pay(&mut ca, &mut sa, &alice, 2, gwei(10)).await;
    pay(&mut cb, &mut sb, &bob, 2, gwei(10)).await;
    scanned_then_killed(&s, &metrics, &mut hub).await;

    // While the hub is down: Alice disputes with version 1 and her window runs out...
    let (st, sig_a, sig_b) = args(&stale_a);
    call(&s, &alice, Adjudicator::disputeCall { s: st, sigA: sig_a, sigB: sig_b }.abi_encode())
        .unwrap();
    let end = channel(&s, pa.id()).disputeEnd;
    advance_to(&s, end + 1);
    // ...then Bob disputes his channel with version 1.
    let (st, sig_a, sig_b) = args(&stale_b);
    call(&s, &bob, Adjudicator::disputeCall { s: st, sigA: sig_a, sigB: sig_b }.abi_encode())
        .unwrap();

    let _hub = start();
    let t0 = Instant::now();
    while channel(&s, pb.id()).version != 3 {
        assert!(t0.elapsed() < Duration::from_secs(30), "Bob's stale dispute was not refuted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Alice's dispute stands (nothing can change it now) and the scan moved past it.
    assert_eq!(channel(&s, pa.id()).version, 1);
    let head = s.node.block_number();
    let t0 = Instant::now();
    while hub_metric(&metrics, "agnt2_hub_watched_blocks_total") == 0
        || hub_metric(&metrics, "agnt2_hub_disputes_open") != 1
    {
        assert!(t0.elapsed() < Duration::from_secs(10), "the watchtower is stuck below {head}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Once the watchtower sees a channel disputed, the hub takes no new payment on it (a final
/// state, which closes it cooperatively, is still taken).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_takes_no_payment_on_a_disputed_channel() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let hub = s.hub(dir.path(), 0, &[]);
    let alice = Key::random();
    let (mut c, mut side, p) = open_at_hub(&s, hub.addr, &alice, 60, gwei(1_000)).await;
    pay(&mut c, &mut side, &alice, 2, gwei(1)).await;
    let (st, sa, sb) = args(side.latest());
    call(&s, &alice, Adjudicator::disputeCall { s: st, sigA: sa, sigB: sb }.abi_encode()).unwrap();
    assert_eq!(channel(&s, p.id()).status, 2);
    // Give the watchtower (100 ms polls here) time to see the event.
    tokio::time::sleep(Duration::from_millis(800)).await;
    c.send(side.propose(&alice, gwei(1), None, false).unwrap()).unwrap();
    match c.recv().await.unwrap() {
        Msg::Reject { reason, .. } => assert!(reason.contains("disputed"), "{reason}"),
        other => panic!("the hub took a payment on a disputed channel: {other:?}"),
    }
}

/// The hub's resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// A child process killed on drop (also when the test panics).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A hub (offline: no rollup) on a free port with `extra` flags; its process and address.
fn offline_hub(dir: &Path, extra: &[&str]) -> (Killed, SocketAddr) {
    use std::io::BufRead;
    let port = free_port();
    let mut child = Command::new(common::hub_bin())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--no-ws", "--chain-id", "80042"])
        .args(["--adjudicator", "0x5FbDB2315678afecb367f032d93F642f64180aa3"])
        .args(extra)
        .arg("--datadir")
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    if !line.contains("listening") {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
        let _ = child.kill();
        let _ = child.wait();
        panic!("agnt2-hub did not start: {line}{err}");
    }
    (Killed(child), format!("127.0.0.1:{port}").parse().unwrap())
}

/// 2,000 idle connections cost the hub little memory (no read buffer before authentication),
/// and connections over `--max-connections` are closed at once.
#[test]
fn idle_connections_are_cheap_and_bounded() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    // A long handshake timeout: connecting 2,000 sockets takes seconds on this machine.
    let flags = ["--max-connections", "2000", "--handshake-timeout", "120"];
    let (hub, addr) = offline_hub(dir.path(), &flags);
    std::thread::sleep(Duration::from_millis(300));
    let before = rss_kib(hub.0.id());
    let mut conns: Vec<std::net::TcpStream> =
        (0..2000).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(1500));
    let grown = rss_kib(hub.0.id()).saturating_sub(before);
    // 80 KiB each (buffers allocated at accept) before; about 15 KiB now.
    assert!(grown < 64 * 1024, "2,000 idle connections took {grown} KiB");
    // 50 more than the limit: closed without a challenge.
    conns.extend((0..50).map(|_| std::net::TcpStream::connect(addr).unwrap()));
    std::thread::sleep(Duration::from_millis(1000));
    let (mut served, mut closed) = (0, 0);
    for c in &mut conns {
        c.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        match c.read(&mut b) {
            Ok(0) => closed += 1,
            Ok(_) => served += 1,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => closed += 1,
        }
    }
    assert!(served <= 2000 && closed >= 1, "served {served}, closed {closed}");
    assert!(served >= 1900, "served {served}: the hub should take its 2,000");
    drop(conns);
}

/// A client that floods proposals and never reads the hub's acknowledgements cannot make the
/// hub queue without bound: past `--max-queued-messages` the connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_disconnected() {
    use agnt2_channels::wire;
    let dir = tempfile::tempdir().unwrap();
    let metrics = format!("127.0.0.1:{}", free_port());
    let flags = ["--max-queued-messages", "16", "--metrics", &metrics];
    let (_hub, addr) = offline_hub(dir.path(), &flags);
    // A small receive window: little of what the hub sends fits in the socket buffers.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let mut buf = Vec::new();
    let agent = Key::random();
    let Some(Msg::Challenge { nonce, hub }) = wire::read_msg(&mut r, &mut buf).await.unwrap()
    else {
        panic!("no challenge")
    };
    let sig = agent.sign(&wire::auth_digest(&nonce, &hub));
    wire::write_msg(&mut w, &Msg::Auth { sig }).await.unwrap();
    assert!(matches!(wire::read_msg(&mut r, &mut buf).await.unwrap(), Some(Msg::Welcome { .. })));
    let params = ChannelParams {
        chain_id: 80042,
        adjudicator: "0x5FbDB2315678afecb367f032d93F642f64180aa3".parse().unwrap(),
        a: agent.address(),
        b: hub,
        token: Address::ZERO,
        nonce: 1,
    };
    let deposits = [gwei(1_000_000), U256::ZERO];
    wire::write_msg(&mut w, &Msg::Register { params, deposits }).await.unwrap();
    let opening = SignedState::opening(&params);
    let mut side = ChannelSide::new(params, deposits, agent.address(), opening).unwrap();
    // Flood without reading; the hub closes the connection at some point (a write fails).
    let mut sent = 0;
    for _ in 0..20_000 {
        let m = side.propose(&agent, U256::from(1), None, false).unwrap();
        if wire::write_msg(&mut w, &m).await.is_err() {
            break;
        }
        sent += 1;
        if sent % 500 == 0 && hub_metric(&metrics, "agnt2_hub_outbox_overflows_total") > 0 {
            break;
        }
    }
    let t0 = Instant::now();
    while hub_metric(&metrics, "agnt2_hub_outbox_overflows_total") == 0 {
        assert!(t0.elapsed() < Duration::from_secs(20), "the hub kept queueing ({sent} sent)");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
