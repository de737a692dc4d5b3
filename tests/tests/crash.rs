//! `kill -9` during a load, restart: every receipt a client saw is still served, in the same
//! block, and the chain continues from there.

mod common;

use agnt2_primitives::dev_signers;
use common::*;
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

#[test]
fn kill_nine_loses_nothing_a_client_saw() {
    let mut node = Node::start(&[]);
    let addr = node.addr;
    let datadir = node.datadir.clone();

    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let submitter = {
        let sent = sent.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let signers = dev_signers(10);
            let mut nonce = 0u64;
            while !stop.load(Ordering::Relaxed) && nonce < 2_000 {
                let batch: Vec<(String, String)> =
                    signers.iter().map(|s| signed_transfer(s, nonce)).collect();
                let raws: Vec<String> = batch.iter().map(|b| b.0.clone()).collect();
                let resp = send_batch(addr, &raws);
                if resp.is_empty() {
                    break; // the node is gone
                }
                sent.lock().unwrap().extend(batch.into_iter().map(|b| b.1));
                nonce += 1;
            }
        })
    };

    // Observe receipts until a good number were seen, then kill the node mid-load.
    let mut seen: HashMap<String, Value> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.len() < 1_000 {
        assert!(Instant::now() < deadline, "only {} receipts seen", seen.len());
        let pending: Vec<String> =
            sent.lock().unwrap().iter().filter(|h| !seen.contains_key(*h)).cloned().collect();
        for chunk in pending.chunks(500) {
            for (h, r) in chunk.iter().zip(receipts_batch(addr, chunk)) {
                if !r.is_null() {
                    seen.insert(h.clone(), r);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let max_seen = seen.values().map(|r| hex_u64(&r["blockNumber"])).max().unwrap();
    let blocks_before: Vec<Value> = (0..=max_seen)
        .map(|n| node.rpc("eth_getBlockByNumber", json!([format!("{n:#x}"), false])))
        .collect();
    node.kill9();
    stop.store(true, Ordering::Relaxed);
    submitter.join().unwrap();

    // `node` (still in scope) owns the temp datadir; the restarted process reuses it.
    let restarted = Node::start_in(&datadir, &[]);
    let node = &restarted;
    assert!(node.block_number() >= max_seen, "head went back");
    for (n, before) in blocks_before.iter().enumerate() {
        let after = node.rpc("eth_getBlockByNumber", json!([format!("{n:#x}"), false]));
        assert_eq!(after["hash"], before["hash"], "block {n}");
        assert_eq!(after["stateRoot"], before["stateRoot"], "block {n}");
    }
    let hashes: Vec<String> = seen.keys().cloned().collect();
    for chunk in hashes.chunks(500) {
        for (h, r) in chunk.iter().zip(receipts_batch(node.addr, chunk)) {
            let was = &seen[h];
            assert_eq!(r["blockHash"], was["blockHash"], "receipt of {h}");
            assert_eq!(r["status"], was["status"]);
            assert_eq!(r["cumulativeGasUsed"], was["cumulativeGasUsed"]);
        }
    }

    // The chain goes on: the next transaction of a sender is mined on top.
    let s = &dev_signers(1)[0];
    let nonce = hex_u64(&node.rpc("eth_getTransactionCount", json!([s.address(), "latest"])));
    let (raw, hash) = signed_transfer(s, nonce);
    node.rpc("eth_sendRawTransaction", json!([raw]));
    let r = node.wait_receipt(&hash, Duration::from_secs(30));
    assert_eq!(r["status"], "0x1");
}
