//! 5,000 transfers from 10 senders, submitted with their nonces shuffled: every one is included.

mod common;

use agnt2_primitives::dev_signers;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn out_of_order_nonces_from_ten_senders_all_included() {
    let node = Node::start(&[]);
    let t0 = Instant::now();
    let signers = dev_signers(10);
    let mut txs = Vec::new();
    for s in &signers {
        for nonce in 0..500u64 {
            txs.push(signed_transfer(s, nonce));
        }
    }
    // A deterministic shuffle (xorshift) so that nonces arrive in no particular order.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for i in (1..txs.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        txs.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let raws: Vec<String> = txs.iter().map(|t| t.0.clone()).collect();
    eprintln!("signed in {:?}", t0.elapsed());
    for chunk in raws.chunks(250) {
        for resp in send_batch(node.addr, chunk) {
            assert!(resp.get("error").is_none(), "rejected: {resp}");
        }
    }
    eprintln!("submitted at {:?}", t0.elapsed());
    let deadline = Instant::now() + Duration::from_secs(180);
    for s in &signers {
        loop {
            let n = hex_u64(&node.rpc("eth_getTransactionCount", json!([s.address(), "latest"])));
            if n == 500 {
                break;
            }
            assert!(Instant::now() < deadline, "sender {} stuck at nonce {n}", s.address());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    eprintln!("included at {:?}", t0.elapsed());
    let hashes: Vec<String> = txs.iter().map(|t| t.1.clone()).collect();
    let mut blocks = std::collections::BTreeSet::new();
    for chunk in hashes.chunks(500) {
        for r in receipts_batch(node.addr, chunk) {
            assert_eq!(r["status"], "0x1", "receipt {r}");
            blocks.insert(hex_u64(&r["blockNumber"]));
        }
    }
    // Batched into blocks, not one transaction per block.
    assert!(blocks.len() < 1000, "5000 transactions in {} blocks", blocks.len());
    assert_eq!(node.rpc("txpool_status", json!([]))["pending"], "0x0");
}
