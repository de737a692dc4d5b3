//! JSON-RPC behaviour beyond Foundry's daily path: dev-account signing, proofs, history,
//! overrides, fee history, filters, WebSocket, and the genesis matching its sources.

mod common;

use alloy_primitives::{Address, B256, Bytes, Signature, U256, keccak256};
use common::*;
use serde_json::{Value, json};
use std::{process::Command, str::FromStr, time::Duration};

fn send_and_wait(node: &Node, tx: Value) -> Value {
    let hash = node.rpc("eth_sendTransaction", json!([tx]));
    node.wait_receipt(hash.as_str().unwrap(), Duration::from_secs(30))
}

#[test]
fn dev_signing_history_proofs_overrides_and_filters() {
    let node = Node::start(&[]);
    let accounts = node.rpc("eth_accounts", json!([]));
    assert_eq!(accounts.as_array().unwrap().len(), 20);
    assert_eq!(accounts[0].as_str().unwrap().to_lowercase(), DEV_ADDR0.to_lowercase());

    let filter = node.rpc("eth_newBlockFilter", json!([]));
    let log_filter = node.rpc("eth_newFilter", json!([{"fromBlock": "latest"}]));

    // eth_sendTransaction from a dev account: value transfer.
    let before = node.rpc("eth_getBalance", json!([DEV_ADDR1, "latest"]));
    let r = send_and_wait(&node, json!({"from": DEV_ADDR0, "to": DEV_ADDR1, "value": "0x1000"}));
    assert_eq!(r["status"], "0x1");
    let block_of_transfer = hex_u64(&r["blockNumber"]);
    let after = node.rpc("eth_getBalance", json!([DEV_ADDR1, "latest"]));
    let b = |v: &Value| U256::from_str(v.as_str().unwrap()).unwrap();
    assert_eq!(b(&after) - b(&before), U256::from(0x1000));

    // History: the balance at the parent block is the old one.
    let at_parent =
        node.rpc("eth_getBalance", json!([DEV_ADDR1, format!("{:#x}", block_of_transfer - 1)]));
    assert_eq!(at_parent, before);

    // A contract that stores a value and logs (deployed with eth_sendTransaction, no `to`).
    // Runtime: SSTORE(0, CALLDATALOAD(0)); LOG0(0, 0); STOP.
    let runtime = "0x60003560005560006000a000";
    let init = format!("0x6b{}600052600c6014f3", &runtime[2..]);
    let r = send_and_wait(&node, json!({"from": DEV_ADDR0, "data": init}));
    let contract = r["contractAddress"].as_str().unwrap().to_string();
    assert_eq!(node.rpc("eth_getCode", json!([contract, "latest"])), runtime);
    let word = format!("0x{:064x}", 0xbeefu64);
    let r = send_and_wait(&node, json!({"from": DEV_ADDR0, "to": contract, "data": word}));
    assert_eq!(r["logs"].as_array().unwrap().len(), 1);
    let set_block = hex_u64(&r["blockNumber"]);
    let slot0 = node.rpc("eth_getStorageAt", json!([contract, "0x0", "latest"]));
    assert_eq!(slot0, word);
    let old =
        node.rpc("eth_getStorageAt", json!([contract, "0x0", format!("{:#x}", set_block - 1)]));
    assert_eq!(old, format!("0x{:064x}", 0));

    // Filters saw the blocks and the log.
    let blocks = node.rpc("eth_getFilterChanges", json!([filter]));
    assert!(blocks.as_array().unwrap().len() >= 3, "{blocks}");
    let logs = node.rpc("eth_getFilterChanges", json!([log_filter]));
    assert_eq!(logs.as_array().unwrap().len(), 1, "{logs}");
    assert_eq!(node.rpc("eth_getFilterChanges", json!([log_filter])), json!([]));
    assert_eq!(node.rpc("eth_uninstallFilter", json!([log_filter])), true);

    // eth_getProof: the account proof verifies against the head's state root.
    let head = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    let proof = node.rpc("eth_getProof", json!([contract, ["0x0"], "latest"]));
    let root = B256::from_str(head["stateRoot"].as_str().unwrap()).unwrap();
    let nodes: Vec<Bytes> = serde_json::from_value(proof["accountProof"].clone()).unwrap();
    let addr = Address::from_str(&contract).unwrap();
    let account = alloy_trie::TrieAccount {
        nonce: hex_u64(&proof["nonce"]),
        balance: U256::from_str(proof["balance"].as_str().unwrap()).unwrap(),
        storage_root: B256::from_str(proof["storageHash"].as_str().unwrap()).unwrap(),
        code_hash: keccak256(Bytes::from_str(runtime).unwrap()),
    };
    let mut leaf = Vec::new();
    alloy_rlp::Encodable::encode(&account, &mut leaf);
    alloy_trie::proof::verify_proof(
        root,
        alloy_trie::Nibbles::unpack(keccak256(addr)),
        Some(leaf),
        &nodes,
    )
    .expect("account proof verifies");
    let sp: Vec<Bytes> = serde_json::from_value(proof["storageProof"][0]["proof"].clone()).unwrap();
    let mut v = Vec::new();
    alloy_rlp::Encodable::encode(&U256::from(0xbeefu64), &mut v);
    alloy_trie::proof::verify_proof(
        account.storage_root,
        alloy_trie::Nibbles::unpack(keccak256(B256::ZERO)),
        Some(v),
        &sp,
    )
    .expect("storage proof verifies");

    // eth_call with a state override of the code.
    let out = node.rpc(
        "eth_call",
        json!([{"to": DEV_ADDR1, "data": "0x"}, "latest", {DEV_ADDR1: {"code": "0x602a60005260206000f3"}}]),
    );
    assert_eq!(out, format!("0x{:064x}", 42));
    // A call "from" a contract (a verifier that answers only its board, asked as the board):
    // EIP-3607 binds transactions, not calls — geth and anvil answer it.
    let out = node.rpc(
        "eth_call",
        json!([{"from": contract, "to": DEV_ADDR1, "data": "0x"}, "latest", {DEV_ADDR1: {"code": "0x3360005260206000f3"}}]),
    );
    assert_eq!(
        out.as_str().map(|s| s[26..].to_lowercase()),
        Some(contract.trim_start_matches("0x").to_lowercase())
    );
    let gas = hex_u64(
        &node.rpc("eth_estimateGas", json!([{"from": DEV_ADDR0, "to": contract, "data": word}])),
    );
    assert!((21_000..60_000).contains(&gas), "estimate {gas}");

    // Signing with dev keys: the signatures recover to the account.
    let sig = node.rpc("eth_sign", json!([DEV_ADDR0, "0x68656c6c6f"]));
    let sig = Signature::from_str(sig.as_str().unwrap()).unwrap();
    assert_eq!(
        sig.recover_address_from_msg(b"hello").unwrap(),
        Address::from_str(DEV_ADDR0).unwrap()
    );
    let typed = json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Mail": [{"name": "contents", "type": "string"}]
        },
        "primaryType": "Mail",
        "domain": {"name": "agnt2", "chainId": 80042},
        "message": {"contents": "hi"}
    });
    let sig = node.rpc("eth_signTypedData_v4", json!([DEV_ADDR0, typed]));
    assert_eq!(sig.as_str().unwrap().len(), 132);

    // Fee history over the blocks so far.
    let fh = node.rpc("eth_feeHistory", json!(["0x4", "latest", [25.0, 75.0]]));
    assert_eq!(fh["baseFeePerGas"].as_array().unwrap().len(), 5);
    assert_eq!(fh["reward"].as_array().unwrap().len(), 4);
    let bad = node.rpc_raw("eth_feeHistory", json!(["0x4", "latest", [75.0, 25.0]]));
    assert_eq!(bad["error"]["code"], -32602);

    // Unknown signer.
    let resp = node.rpc_raw(
        "eth_sendTransaction",
        json!([{"from": "0x000000000000000000000000000000000000dEaD", "to": DEV_ADDR1}]),
    );
    assert!(resp["error"]["message"].as_str().unwrap().contains("unknown account"), "{resp}");

    // WebSocket on the same port (cast speaks ws).
    let ws = format!("ws://{}", node.addr);
    assert_eq!(
        cast(&["block-number", "--rpc-url", &ws]).parse::<u64>().unwrap(),
        node.block_number()
    );
}

#[test]
fn committed_genesis_matches_the_predeploy_sources() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("devnet.json");
    // `make test` builds the contracts before the tests run.
    assert!(
        workspace().join("contracts/out/L1Block.sol/L1Block.json").exists(),
        "run `make contracts`"
    );
    run(Command::new("python3")
        .arg(workspace().join("scripts/gen-genesis.py"))
        .arg("--out")
        .arg(&out));
    let fresh: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("genesis/devnet.json")).unwrap(),
    )
    .unwrap();
    assert!(fresh == committed, "genesis/devnet.json is stale: run `make genesis`");
}
