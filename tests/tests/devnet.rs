//! Devnet controls with anvil's semantics: account edits, snapshot/revert, mining switches,
//! reset, dropTransaction, nodeInfo.

mod common;

use agnt2_primitives::dev_signers;
use common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ADDR: &str = "0x00000000000000000000000000000000000a6e72";

fn state_of(node: &Node, who: &[&str], contract: &str) -> Vec<Value> {
    let mut out = vec![];
    for a in who {
        out.push(node.rpc("eth_getBalance", json!([a, "latest"])));
        out.push(node.rpc("eth_getTransactionCount", json!([a, "latest"])));
        out.push(node.rpc("eth_getCode", json!([a, "latest"])));
    }
    out.push(node.rpc("eth_getStorageAt", json!([contract, "0x0", "latest"])));
    out.push(node.rpc("eth_getCode", json!([contract, "latest"])));
    out
}

#[test]
fn account_edits_snapshot_revert_and_reset() {
    let node = Node::start(&[]);

    assert_eq!(node.rpc("anvil_setBalance", json!([ADDR, "0x1234"])), Value::Null);
    assert_eq!(node.rpc("eth_getBalance", json!([ADDR, "latest"])), "0x1234");
    node.rpc("hardhat_setNonce", json!([ADDR, "0x7"]));
    assert_eq!(node.rpc("eth_getTransactionCount", json!([ADDR, "latest"])), "0x7");
    // Code that returns 42.
    node.rpc("anvil_setCode", json!([ADDR, "0x602a60005260206000f3"]));
    assert_eq!(node.rpc("eth_getCode", json!([ADDR, "latest"])), "0x602a60005260206000f3");
    assert_eq!(node.rpc("eth_call", json!([{"to": ADDR}, "latest"])), format!("0x{:064x}", 42));
    let word = format!("0x{:064x}", 0xabcdu64);
    node.rpc("anvil_setStorageAt", json!([ADDR, "0x5", word]));
    assert_eq!(node.rpc("eth_getStorageAt", json!([ADDR, "0x5", "latest"])), word);
    // The balance is still the same after a block is mined on top of the edits.
    node.rpc("evm_mine", json!([]));
    assert_eq!(node.rpc("eth_getBalance", json!([ADDR, "latest"])), "0x1234");

    // A contract whose every call stores its calldata word in slot 0.
    let init = "0x6b60003560005560006000a000600052600c6014f3";
    let h = node.rpc("eth_sendTransaction", json!([{"from": DEV_ADDR0, "data": init}]));
    let contract =
        node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30))["contractAddress"]
            .as_str()
            .unwrap()
            .to_string();
    let h = node.rpc(
        "eth_sendTransaction",
        json!([{"from": DEV_ADDR0, "to": contract, "data": format!("0x{:064x}", 1)}]),
    );
    node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30));

    let who = [DEV_ADDR0, DEV_ADDR1, ADDR];
    let before = state_of(&node, &who, &contract);
    let head_before = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    let snap = node.rpc("evm_snapshot", json!([]));

    // Transactions and edits after the snapshot.
    let h = node.rpc(
        "eth_sendTransaction",
        json!([{"from": DEV_ADDR0, "to": contract, "data": format!("0x{:064x}", 9)}]),
    );
    node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30));
    let h = node
        .rpc("eth_sendTransaction", json!([{"from": DEV_ADDR1, "to": DEV_ADDR0, "value": "0x10"}]));
    node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30));
    node.rpc("anvil_setCode", json!([DEV_ADDR1, "0x00"]));
    node.rpc("anvil_setBalance", json!([ADDR, "0x1"]));
    assert_ne!(state_of(&node, &who, &contract), before);

    assert_eq!(node.rpc("evm_revert", json!([snap])), true);
    assert_eq!(state_of(&node, &who, &contract), before, "revert restores everything");
    let head_after = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(head_after["hash"], head_before["hash"]);
    assert_eq!(head_after["stateRoot"], head_before["stateRoot"]);
    assert!(node.rpc("eth_getTransactionReceipt", json!([h])).is_null(), "reverted tx is gone");
    assert_eq!(node.rpc("evm_revert", json!([snap])), false, "a snapshot is used once");

    // The chain goes on after the revert.
    let h = node
        .rpc("eth_sendTransaction", json!([{"from": DEV_ADDR1, "to": DEV_ADDR0, "value": "0x10"}]));
    assert_eq!(node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30))["status"], "0x1");

    let info = node.rpc("anvil_nodeInfo", json!([]));
    assert_eq!(info["environment"]["chainId"], 80042);

    node.rpc("anvil_reset", json!([]));
    assert_eq!(node.block_number(), 0);
    assert_eq!(node.rpc("eth_getBalance", json!([ADDR, "latest"])), "0x0");
    assert_eq!(node.rpc("eth_getCode", json!([contract, "latest"])), "0x");
    let resp =
        node.rpc_raw("anvil_reset", json!([{"forking": {"jsonRpcUrl": "http://127.0.0.1:1"}}]));
    assert_eq!(resp["error"]["code"], -32602);
}

#[test]
fn mining_switches_and_drop_transaction() {
    let node = Node::start(&[]);
    assert_eq!(node.rpc("anvil_getAutomine", json!([])), true);
    node.rpc("evm_setAutomine", json!([false]));
    assert_eq!(node.rpc("anvil_getAutomine", json!([])), false);
    let s = &dev_signers(1)[0];
    let (raw, hash) = signed_transfer(s, 0);
    node.rpc("eth_sendRawTransaction", json!([raw]));
    std::thread::sleep(Duration::from_millis(300));
    assert!(node.rpc("eth_getTransactionReceipt", json!([hash])).is_null());
    assert_eq!(node.rpc("anvil_dropTransaction", json!([hash])), hash);
    assert_eq!(node.rpc("anvil_dropTransaction", json!([hash])), Value::Null);
    assert_eq!(node.rpc("txpool_status", json!([]))["pending"], "0x0");

    let (raw, hash) = signed_transfer(s, 0);
    node.rpc("eth_sendRawTransaction", json!([raw]));
    node.rpc("evm_setAutomine", json!([true]));
    node.wait_receipt(&hash, Duration::from_secs(30));

    node.rpc("evm_setIntervalMining", json!([1]));
    let start = node.block_number();
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.block_number() < start + 2 {
        assert!(Instant::now() < deadline, "interval mining did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    node.rpc("evm_setIntervalMining", json!([0]));
}

#[test]
fn impersonation_and_time_controls() {
    let node = Node::start(&[]);
    let whale = "0x000000000000000000000000000000000000beef";
    node.rpc("anvil_setBalance", json!([whale, "0xde0b6b3a7640000"]));
    let tx = json!([{"from": whale, "to": DEV_ADDR1, "value": "0x5"}]);
    let resp = node.rpc_raw("eth_sendTransaction", tx.clone());
    assert!(resp["error"]["message"].as_str().unwrap().contains("unknown account"), "{resp}");

    node.rpc("anvil_impersonateAccount", json!([whale]));
    let h = node.rpc("eth_sendTransaction", tx.clone());
    let r = node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30));
    assert_eq!(r["status"], "0x1");
    assert_eq!(r["from"], whale);
    let t = node.rpc("eth_getTransactionByHash", json!([h]));
    assert_eq!(t["from"], whale);
    node.rpc("anvil_stopImpersonatingAccount", json!([whale]));
    assert!(node.rpc_raw("eth_sendTransaction", tx.clone())["error"].is_object());
    node.rpc("anvil_autoImpersonateAccount", json!([true]));
    let h = node.rpc("eth_sendTransaction", tx);
    node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30));
    let resp = node.rpc_raw("anvil_impersonateAccount", json!(["0xnot-an-address"]));
    assert_eq!(resp["error"]["code"], -32602, "{resp}");

    // Time: an offset, then an exact next timestamp, then a base fee for the next block.
    let ts = |node: &Node| {
        hex_u64(&node.rpc("eth_getBlockByNumber", json!(["latest", false]))["timestamp"])
    };
    let wall =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    node.rpc("evm_increaseTime", json!([3600]));
    node.rpc("evm_mine", json!([]));
    assert!(ts(&node) >= wall + 3600, "clock moved forward");
    let target = ts(&node) + 10_000;
    node.rpc("evm_setNextBlockTimestamp", json!([target]));
    node.rpc("evm_mine", json!([]));
    assert_eq!(ts(&node), target);
    // Time continues from there (anvil, hardhat): an hour more is an hour after the target,
    // not an hour after the old offset (which the target already passed).
    node.rpc("evm_increaseTime", json!([3600]));
    node.rpc("evm_mine", json!([]));
    assert!(ts(&node) >= target + 3600, "{} < {}", ts(&node), target + 3600);
    assert!(ts(&node) < target + 3600 + 60, "{}", ts(&node));
    let resp = node.rpc_raw("evm_setNextBlockTimestamp", json!([1]));
    assert_eq!(resp["error"]["code"], -32602, "{resp}");
    node.rpc("anvil_setNextBlockBaseFeePerGas", json!(["0x12a05f200"]));
    node.rpc("evm_mine", json!([]));
    let b = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(b["baseFeePerGas"], "0x12a05f200");
}

#[test]
fn dump_and_load_state_including_anvil_dumps_and_the_flags() {
    let node = Node::start(&[]);
    node.rpc("anvil_setBalance", json!([ADDR, "0x77"]));
    node.rpc("anvil_setCode", json!([ADDR, "0x602a60005260206000f3"]));
    node.rpc("anvil_setStorageAt", json!([ADDR, "0x3", format!("0x{:064x}", 9)]));
    let dump = node.rpc("anvil_dumpState", json!([]));
    node.rpc("anvil_reset", json!([]));
    assert_eq!(node.rpc("eth_getBalance", json!([ADDR, "latest"])), "0x0");
    assert_eq!(node.rpc("anvil_loadState", json!([dump])), true);
    assert_eq!(node.rpc("eth_getBalance", json!([ADDR, "latest"])), "0x77");
    assert_eq!(node.rpc("eth_getCode", json!([ADDR, "latest"])), "0x602a60005260206000f3");
    assert_eq!(
        node.rpc("eth_getStorageAt", json!([ADDR, "0x3", "latest"])),
        format!("0x{:064x}", 9)
    );
    let bad = node.rpc_raw("anvil_loadState", json!(["0x1234"]));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");

    // A dump written by real anvil loads too.
    let anvil = Anvil::start();
    let other = "0x00000000000000000000000000000000000b0b0b";
    anvil.rpc("anvil_setBalance", json!([other, "0x4242"]));
    anvil.rpc("anvil_setCode", json!([other, "0x6001600055"]));
    anvil.rpc("anvil_setStorageAt", json!([other, "0x1", format!("0x{:064x}", 5)]));
    let anvil_dump = anvil.rpc("anvil_dumpState", json!([]));
    assert_eq!(node.rpc("anvil_loadState", json!([anvil_dump])), true);
    assert_eq!(node.rpc("eth_getBalance", json!([other, "latest"])), "0x4242");
    assert_eq!(node.rpc("eth_getCode", json!([other, "latest"])), "0x6001600055");
    assert_eq!(
        node.rpc("eth_getStorageAt", json!([other, "0x1", "latest"])),
        format!("0x{:064x}", 5)
    );

    // --dump-state on shutdown, --load-state at start of a fresh node.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let file_s = file.to_str().unwrap();
    let mut first = Node::start(&["--dump-state", file_s]);
    first.rpc("anvil_setBalance", json!([ADDR, "0x99"]));
    first.terminate();
    assert!(file.exists(), "state written on SIGTERM");
    let second = Node::start(&["--load-state", file_s]);
    assert_eq!(second.rpc("eth_getBalance", json!([ADDR, "latest"])), "0x99");
}

#[test]
fn history_window_prunes_old_state_but_keeps_blocks() {
    let node = Node::start(&["--history", "3", "--no-mining"]);
    let snap = node.rpc("evm_snapshot", json!([]));
    for i in 1..=6u64 {
        node.rpc("anvil_setBalance", json!([ADDR, format!("{:#x}", i * 100)]));
        node.rpc("evm_mine", json!([]));
    }
    assert_eq!(node.block_number(), 6);
    // Within the window: the value after block 4 (set before mining block 4).
    assert_eq!(node.rpc("eth_getBalance", json!([ADDR, "0x4"])), format!("{:#x}", 400));
    assert_eq!(node.rpc("eth_getBalance", json!([ADDR, "0x3"])), format!("{:#x}", 300));
    let old = node.rpc_raw("eth_getBalance", json!([ADDR, "0x1"]));
    assert_eq!(old["error"]["code"], -32000, "{old}");
    assert!(old["error"]["message"].as_str().unwrap().contains("pruned"), "{old}");
    // Blocks themselves stay.
    assert!(!node.rpc("eth_getBlockByNumber", json!(["0x1", false])).is_null());
    let revert = node.rpc_raw("evm_revert", json!([snap]));
    assert!(revert["error"]["message"].as_str().unwrap().contains("pruned"), "{revert}");
}
