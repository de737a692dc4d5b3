//! Mining modes: interval blocks come without transactions; manual mode waits for `evm_mine`.

mod common;

use agnt2_primitives::dev_signers;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn interval_mining_produces_blocks_on_its_own() {
    let node = Node::start(&["--block-time", "100"]);
    let start = node.block_number();
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.block_number() < start + 3 {
        assert!(Instant::now() < deadline, "no interval blocks");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Every block still starts with the L1-info deposit.
    let b = node.rpc("eth_getBlockByNumber", json!(["latest", true]));
    assert_eq!(b["transactions"][0]["type"], "0x7e");
    assert_eq!(b["transactions"][0]["from"], "0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001");
    assert_eq!(b["transactions"][0]["to"], "0x4200000000000000000000000000000000000015");
}

#[test]
fn manual_mining_waits_for_evm_mine() {
    let node = Node::start(&["--no-mining"]);
    let s = &dev_signers(1)[0];
    let (raw, hash) = signed_transfer(s, 0);
    node.rpc("eth_sendRawTransaction", json!([raw]));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(node.block_number(), 0);
    assert!(node.rpc("eth_getTransactionReceipt", json!([hash])).is_null());
    let pending = node.rpc("eth_getTransactionByHash", json!([hash]));
    assert!(pending["blockNumber"].is_null(), "pending tx has no block: {pending}");
    assert_eq!(hex_u64(&node.rpc("eth_getTransactionCount", json!([s.address(), "pending"]))), 1);

    node.rpc("evm_mine", json!([]));
    assert_eq!(node.block_number(), 1);
    let r = node.rpc("eth_getTransactionReceipt", json!([hash]));
    assert_eq!(r["blockNumber"], "0x1");
    node.rpc("anvil_mine", json!(["0x3"]));
    assert_eq!(node.block_number(), 4);
}
