//! The operator's side of a duty paid over a channel (`stream::receive`) against a funder that
//! cheats, through a real hub on a socket (no rollup: registrations are trusted). The hub
//! already refuses transitions that take from the operator; what only the operator can refuse
//! is a payment recorded against another duty or a record moved backwards — both are attacks
//! on the state that later proves what was paid.

use agnt2_channels::{
    ChannelParams, Key, SignedState,
    client::{ChannelSide, HubClient},
    hub::{Hub, HubConfig},
    wire::Msg,
};
use agnt2_economy::stream::{self, Received, settled};
use alloy_primitives::{Address, U256};
use std::time::Duration;

const CHAIN: u64 = 80042;

async fn hub(dir: &std::path::Path) -> Hub {
    Hub::start(HubConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ws: None,
        datadir: dir.to_path_buf(),
        key: Key::random(),
        chain_id: CHAIN,
        adjudicator: Address::repeat_byte(0xad),
        l2: None,
        min_challenge_window: 0,
        max_connections: 100,
        max_connections_per_address: 8,
        handshake_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(120),
        max_queued_messages: 1_024,
        watch_interval: Duration::from_secs(1),
    })
    .await
    .unwrap()
}

/// Sends one proposal of the funder and waits for the hub's answer: Ok(version) if the
/// operator countersigned, Err(reason) if refused.
async fn propose(
    side: &mut ChannelSide,
    hub: &mut HubClient,
    key: &Key,
    amount: u64,
    duty: u64,
    through: u64,
) -> Result<u64, String> {
    let msg = side
        .propose(key, U256::from(amount), Some(settled(U256::from(duty), through).unwrap()), false)
        .unwrap();
    hub.send(msg).unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), hub.recv()).await.unwrap().unwrap() {
            Msg::Accepted { version, sig, .. } => {
                side.accepted(version, sig).unwrap();
                side.verify().unwrap();
                return Ok(version);
            }
            Msg::Reject { version, reason, .. } => {
                side.rejected(version);
                return Err(reason);
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_operator_refuses_payments_recorded_against_another_duty_or_backwards() {
    let dir = tempfile::tempdir().unwrap();
    let hub_ = hub(dir.path()).await;
    let (funder, operator) = (Key::random(), Key::random());
    let params = ChannelParams {
        chain_id: CHAIN,
        adjudicator: Address::repeat_byte(0xad),
        a: funder.address(),
        b: operator.address(),
        token: Address::ZERO,
        nonce: 1,
    };
    let deposits = [U256::from(1_000u64), U256::ZERO];
    let addr = hub_.local_addr();
    let mut b_hub = HubClient::connect(addr, &operator).await.unwrap();
    let latest = b_hub.register(params, deposits).await.unwrap();
    let mut b_side = ChannelSide::new(params, deposits, operator.address(), latest).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Received>();
    let op_key = operator.clone();
    let receiver = tokio::spawn(async move {
        stream::receive(&mut b_side, &mut b_hub, &op_key, U256::from(1), Some(2), |_, r| {
            tx.send(r.clone()).map_err(|e| eyre::eyre!("{e}"))
        })
        .await
        .map(|()| b_side.latest().clone())
    });

    let mut a_hub = HubClient::connect(addr, &funder).await.unwrap();
    let latest = a_hub.register(params, deposits).await.unwrap();
    let mut a_side = ChannelSide::new(params, deposits, funder.address(), latest).unwrap();

    // Epoch 0 done: 10 paid, the record says duty 1 settled through epoch 1.
    assert_eq!(propose(&mut a_side, &mut a_hub, &funder, 10, 1, 1).await, Ok(1));
    let r = rx.recv().await.unwrap();
    assert_eq!((r.amount, r.through, r.total), (U256::from(10), 1, U256::from(10)));
    // A payment recorded against duty 2: the state would prove duty 2 paid.
    let other = propose(&mut a_side, &mut a_hub, &funder, 10, 2, 2).await;
    assert!(other.unwrap_err().contains("duty 2"));
    // The record moved back to epoch 0: epochs already settled would be paid for again.
    let back = propose(&mut a_side, &mut a_hub, &funder, 10, 1, 0).await;
    assert!(back.unwrap_err().contains("back"));
    // Epoch 1 missed (nothing paid), epoch 2 done: both countersigned; the receiver stops.
    assert_eq!(propose(&mut a_side, &mut a_hub, &funder, 0, 1, 2).await, Ok(2));
    assert_eq!(propose(&mut a_side, &mut a_hub, &funder, 10, 1, 3).await, Ok(3));
    let last: SignedState = receiver.await.unwrap().unwrap();
    assert_eq!(last.state.version, 3);
    assert_eq!(last.state.sentA, U256::from(20));
    assert!(last.is_cosigned());
    assert_eq!(stream::parse_settled(last.state.appData), (U256::from(1), 3));
    hub_.shutdown();
}
