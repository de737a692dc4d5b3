//! A node that holds value (no `--dev`): a chain `agnt2 launch` settles on a real anvil L1, and
//! `agnt2 node --chain FILE`. No devnet surface, no keys, a genesis that funds only what the
//! operator asked for, and bounds on what one client can make the node spend.

mod common;

use alloy_primitives::{Address, U256};
use common::{Anvil, DEV_ADDR0, DEV_KEY0, DEV_KEY1, Node, cast, hex_u64, signed_call, workspace};
use serde_json::{Value, json};
use std::{
    path::Path,
    time::{Duration, Instant},
};

/// The JSON-RPC error code of a response (panics on a result).
fn code(resp: &Value) -> i64 {
    resp["error"]["code"].as_i64().unwrap_or_else(|| panic!("expected an error, got {resp}"))
}

fn message(resp: &Value) -> String {
    resp["error"]["message"].as_str().unwrap_or_default().to_string()
}

/// `agnt2 launch` without `--dev` on `l1`, with `extra` flags (the operator key among them);
/// returns the node and its output.
fn launch_production(l1: &str, dir: &Path, extra: &[&str]) -> (Node, Vec<String>) {
    let d = dir.to_str().unwrap();
    let mut args = vec!["launch", "--l1.rpc-url", l1, "--http.port", "0"];
    args.extend_from_slice(&["--block-time", "200", "--l1.poll-ms", "50", "--datadir", d]);
    args.extend_from_slice(extra);
    Node::spawn(&args, dir)
}

/// `agnt2 node --chain genesis/devnet.json` without `--dev`: the devnet's funded accounts as
/// a genesis file an operator chose, but none of the devnet's controls or keys.
fn node_production(dir: &Path, extra: &[&str]) -> (Node, Vec<String>) {
    let genesis = workspace().join("genesis/devnet.json");
    let mut args = vec!["node", "--chain", genesis.to_str().unwrap(), "--http.port", "0"];
    args.extend_from_slice(&["--datadir", dir.to_str().unwrap()]);
    args.extend_from_slice(extra);
    Node::spawn(&args, dir)
}

/// DEV_KEY0 in a keystore `cast wallet import` writes in `dir` under `password`, and a
/// password file holding `typed`: (keystore, password file).
fn keystore(dir: &Path, password: &str, typed: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let ks = dir.to_str().unwrap();
    cast(&[
        "wallet",
        "import",
        "op",
        "--private-key",
        DEV_KEY0,
        "--keystore-dir",
        ks,
        "--unsafe-password",
        password,
    ]);
    let file = dir.join("password");
    std::fs::write(&file, format!("{typed}\n")).unwrap();
    (dir.join("op"), file)
}

/// Code that loops forever (JUMPDEST, PUSH1 0, JUMP).
const LOOP: &str = "0x5b600056";
/// Code that returns the gas it was given (GAS, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN).
const GAS_LEFT: &str = "0x5a60005260206000f3";
const TARGET: &str = "0x00000000000000000000000000000000000c0de1";

fn call_with_code(code: &str) -> Value {
    json!([
        {"to": TARGET, "gas": "0xffffffffffffffff"},
        "latest",
        {TARGET: {"code": code}}
    ])
}

#[test]
fn a_launched_chain_has_no_devnet_surface_and_only_deposits_bring_eth() {
    // 1 s L1 blocks: the oracle takes an output once the L1 clock passes its L2 timestamp.
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    let funded = "0x00000000000000000000000000000000000000bb";
    // The operator key from an encrypted keystore that Foundry wrote.
    let keys = tempfile::tempdir().unwrap();
    let (keystore, password) = keystore(keys.path(), "correct horse", "correct horse");
    let (node, printed) = launch_production(
        &l1,
        dir.path(),
        &[
            "--keystore",
            keystore.to_str().unwrap(),
            "--password-file",
            password.to_str().unwrap(),
            "--alloc",
            &format!("{funded}=2ether"),
        ],
    );

    // No private key is printed (the devnet's accounts, or the operator's own).
    let all = printed.join("\n");
    assert!(!all.contains("Available accounts"), "{all}");
    assert!(!all.contains(&DEV_KEY0[2..]), "{all}");

    // Every devnet control and impersonation is "method not found", as in reth and geth.
    for (method, params) in [
        ("anvil_setBalance", json!([DEV_ADDR0, "0x1"])),
        ("hardhat_setBalance", json!([DEV_ADDR0, "0x1"])),
        ("anvil_setStorageAt", json!([TARGET, "0x0", format!("0x{}", "11".repeat(32))])),
        ("anvil_setCode", json!([TARGET, "0x00"])),
        ("evm_increaseTime", json!([3600])),
        ("evm_setNextBlockTimestamp", json!([4_000_000_000u64])),
        ("anvil_impersonateAccount", json!([DEV_ADDR0])),
        ("anvil_autoImpersonateAccount", json!([true])),
        ("evm_snapshot", json!([])),
        ("evm_mine", json!([])),
        ("anvil_mine", json!([1])),
        ("anvil_reset", json!([])),
        ("anvil_loadState", json!(["0x"])),
        ("personal_sign", json!(["0x00", DEV_ADDR0])),
        ("debug_traceCall", json!([{"to": TARGET}, "latest"])),
        ("txpool_content", json!([])),
    ] {
        let resp = node.rpc_raw(method, params);
        assert_eq!(code(&resp), -32601, "{method}: {resp}");
    }
    // The node holds no keys.
    assert_eq!(node.rpc("eth_accounts", json!([])), json!([]));
    for (method, params) in [
        ("eth_sendTransaction", json!([{"from": DEV_ADDR0, "to": TARGET, "value": "0x1"}])),
        ("eth_signTransaction", json!([{"from": DEV_ADDR0, "to": TARGET, "value": "0x1"}])),
        ("eth_sign", json!([DEV_ADDR0, "0x00"])),
    ] {
        let resp = node.rpc_raw(method, params);
        assert!(message(&resp).contains("holds no keys"), "{method}: {resp}");
    }
    // rpc_modules lists exactly what is served.
    let modules = node.rpc("rpc_modules", json!([]));
    let names: Vec<&str> = modules.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, ["agent", "eth", "net", "optimism", "rpc", "web3"]);

    // The genesis funds what the operator asked for and nothing of the test mnemonic.
    assert_eq!(node.rpc("eth_getBalance", json!([funded, "latest"])), "0x1bc16d674ec80000");
    let dev: Vec<Address> = agnt2_primitives::dev_signers(20).iter().map(|s| s.address()).collect();
    for a in &dev {
        assert_eq!(node.rpc("eth_getBalance", json!([a, "latest"])), "0x0", "{a}");
    }
    // Nor the devnet's aUSD, whose minter is a dev key; the agent precompiles' twins stay.
    let usd = agnt2_primitives::constants::DEVNET_USD;
    assert_eq!(node.rpc("eth_getCode", json!([usd, "latest"])), "0x");
    let twin =
        node.rpc("eth_getCode", json!(["0x0000000000000000000000000000000000008004", "latest"]));
    assert!(twin.as_str().unwrap().len() > 1000, "{twin}");
    // The fee vaults pay the deployment's owner (the operator), not dev account 0's key.
    let vault = node.rpc(
        "eth_getStorageAt",
        json!(["0x4200000000000000000000000000000000000011", "0x0", "latest"]),
    );
    let owner = serde_json::from_str::<Value>(
        &std::fs::read_to_string(dir.path().join("l1-deployment.json")).unwrap(),
    )
    .unwrap()["config"]["owner"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(vault.as_str().unwrap().ends_with(&owner[2..]), "{vault} vs {owner}");

    // A deposit through OP's portal on the L1 is how ETH arrives.
    let d: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("l1-deployment.json")).unwrap(),
    )
    .unwrap();
    let portal = d["optimismPortal"].as_str().unwrap();
    let to = "0x00000000000000000000000000000000000000cc";
    cast(&[
        "send",
        portal,
        "depositTransaction(address,uint256,uint64,bool,bytes)",
        to,
        "777",
        "100000",
        "false",
        "0x",
        "--value",
        "777",
        // Not the operator's key: its proposer and batcher send from it on their own.
        "--private-key",
        DEV_KEY1,
        "--rpc-url",
        &l1,
    ]);
    let end = Instant::now() + Duration::from_secs(60);
    while node.rpc("eth_getBalance", json!([to, "latest"])) != "0x309" {
        assert!(Instant::now() < end, "the deposit did not arrive");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The proposer (the operator key from the keystore) posts output roots, reading them
    // from the node's default namespaces.
    let oracle = d["l2OutputOracle"].as_str().unwrap();
    let end = Instant::now() + Duration::from_secs(90);
    while cast(&["call", oracle, "latestBlockNumber()(uint256)", "--rpc-url", &l1]) == "0" {
        assert!(Instant::now() < end, "no output root was proposed");
        std::thread::sleep(Duration::from_millis(200));
    }

    // eth_call's gas is capped (50,000,000 by default): the code sees at most that.
    let gas = node.rpc("eth_call", call_with_code(GAS_LEFT));
    let left = U256::from_str_radix(gas.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!(left > U256::ZERO && left <= U256::from(50_000_000u64), "{left}");
    // A loop with gas 2^64-1 ends (out of gas at the cap), and the node keeps answering.
    let resp = node.rpc_raw("eth_call", call_with_code(LOOP));
    assert!(resp.get("error").is_some(), "{resp}");
    assert!(hex_u64(&node.rpc("eth_blockNumber", json!([]))) > 0);
}

#[test]
fn namespaces_limits_and_a_greedy_account() {
    let dir = tempfile::tempdir().unwrap();
    let (node, _) = node_production(
        dir.path(),
        &[
            "--http.api",
            "eth,net",
            "--ws.api",
            "eth,net,web3",
            "--rpc.gascap",
            "0",
            "--rpc.evmtimeout",
            "1s",
            "--rpc.batch-request-limit",
            "10",
            "--txpool.max-count",
            "50",
        ],
    );
    // HTTP serves eth and net only; the WebSocket on the same port also web3.
    let modules = node.rpc("rpc_modules", json!([]));
    let names: Vec<&str> = modules.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, ["eth", "net", "rpc"]);
    assert_eq!(code(&node.rpc_raw("web3_clientVersion", json!([]))), -32601);
    assert_eq!(code(&node.rpc_raw("optimism_rollupConfig", json!([]))), -32601);
    assert_eq!(code(&node.rpc_raw("evm_mine", json!([]))), -32601);
    let ws = format!("ws://{}", node.addr);
    assert!(cast(&["rpc", "web3_clientVersion", "--rpc-url", &ws]).contains("agnt2"));
    let over_ws = cast(&["rpc", "rpc_modules", "--rpc-url", &ws]);
    assert!(over_ws.contains("web3") && !over_ws.contains("txpool"), "{over_ws}");

    // No gas cap here: a loop runs until the EVM time limit, which ends it with geth's error.
    let started = Instant::now();
    let resp = node.rpc_raw("eth_call", call_with_code(LOOP));
    assert!(message(&resp).contains("execution aborted (timeout = 1s)"), "{resp}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let resp = node.rpc_raw("eth_estimateGas", call_with_code(LOOP));
    assert!(message(&resp).contains("execution aborted"), "{resp}");
    assert_eq!(node.rpc("eth_chainId", json!([])), "0x138aa");

    // A batch over the limit is refused as a whole, with a clear error.
    let batch: Vec<Value> = (0..11)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []}))
        .collect();
    let (_, body) = node.post_raw(Value::Array(batch).to_string().as_bytes());
    assert!(body.contains("exceeded") || body.contains("too large"), "{body}");
    let ok: Vec<Value> = (0..10)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []}))
        .collect();
    let (_, body) = node.post_raw(Value::Array(ok).to_string().as_bytes());
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap().as_array().unwrap().len(), 10);

    // One funded account fills the pool with transactions that cannot run (a nonce gap).
    let signers = agnt2_primitives::dev_signers(3);
    let (greedy, other) = (&signers[1], &signers[2]);
    let to = Some(Address::with_last_byte(0xee));
    let mut full = None;
    for nonce in 1..=60u64 {
        let (raw, _) = signed_call(greedy, nonce, to, U256::from(1), &[], 21_000);
        let resp = node.rpc_raw("eth_sendRawTransaction", json!([raw]));
        if resp.get("error").is_some() {
            full = Some((nonce, message(&resp)));
            break;
        }
    }
    let (at, why) = full.expect("the pool took 60 queued transactions with --txpool.max-count 50");
    assert_eq!((at, why.as_str()), (51, "txpool is full"));
    // A second funded account's transaction is still admitted (a queued one makes room) and
    // mined.
    let (raw, hash) = signed_call(other, 0, to, U256::from(1), &[], 21_000);
    assert_eq!(node.rpc("eth_sendRawTransaction", json!([raw])), hash.as_str());
    assert_eq!(node.wait_receipt(&hash, Duration::from_secs(20))["status"], "0x1");
}

#[test]
fn the_pool_keeps_per_account_limits_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let (node, _) = node_production(dir.path(), &["--no-mining"]);
    let s = &agnt2_primitives::dev_signers(2)[1];
    let to = Some(Address::with_last_byte(0xee));
    let send = |nonce: u64| {
        let (raw, _) = signed_call(s, nonce, to, U256::from(1), &[], 21_000);
        node.rpc_raw("eth_sendRawTransaction", json!([raw]))
    };
    for nonce in 0..16 {
        assert!(send(nonce).get("result").is_some());
    }
    assert!(message(&send(16)).contains("account limit exceeded"), "16 executable per account");
    for nonce in 100..164 {
        assert!(send(nonce).get("result").is_some());
    }
    assert!(message(&send(164)).contains("account limit exceeded"), "64 queued per account");
}

#[test]
fn sigterm_stops_a_node_in_an_endless_call_and_keeps_its_blocks() {
    let dir = tempfile::tempdir().unwrap();
    // No gas cap and no time limit: only shutdown can end the call.
    let flags = ["--rpc.gascap", "0", "--rpc.evmtimeout", "0"];
    let (mut node, _) = node_production(dir.path(), &flags);
    let s = &agnt2_primitives::dev_signers(2)[1];
    let (raw, hash) =
        signed_call(s, 0, Some(Address::with_last_byte(0xee)), U256::from(1), &[], 21_000);
    node.rpc("eth_sendRawTransaction", json!([raw]));
    node.wait_receipt(&hash, Duration::from_secs(20));
    let head = node.block_number();

    let addr = node.addr;
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": call_with_code(LOOP)});
    let call = std::thread::spawn(move || common::try_post_raw(addr, body.to_string().as_bytes()));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(node.rpc("eth_chainId", json!([])), "0x138aa", "the node answers during the call");
    let started = Instant::now();
    let _ =
        std::process::Command::new("kill").args(["-TERM", &node.child.id().to_string()]).status();
    let status = loop {
        if let Some(st) = node.child.try_wait().unwrap() {
            break st;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "SIGTERM did not stop the node");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let _ = call.join();

    // Nothing committed was lost.
    let (again, _) = node_production(dir.path(), &[]);
    assert!(again.block_number() >= head);
    assert_eq!(again.rpc("eth_getTransactionReceipt", json!([hash]))["status"], "0x1");
}

#[test]
fn a_wrong_keystore_password_is_a_clear_error() {
    let keys = tempfile::tempdir().unwrap();
    let (keystore, password) = keystore(keys.path(), "right", "wrong");
    let out = std::process::Command::new(common::agnt2_bin())
        .args(["launch", "--l1.rpc-url", "http://127.0.0.1:1", "--deploy-only", "--keystore"])
        .arg(&keystore)
        .arg("--password-file")
        .arg(&password)
        .arg("--datadir")
        .arg(keys.path().join("data"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cannot unlock the keystore"), "{err}");
}

/// Deploys `runtime` (at most 255 bytes) from dev account 0 of a `--dev` node; returns its address.
fn deploy(node: &Node, runtime: &str) -> String {
    let code = runtime.trim_start_matches("0x");
    let len = code.len() / 2;
    // PUSH1 len, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 len, PUSH1 0, RETURN; then the runtime.
    let init = format!("0x60{len:02x}600c60003960{len:02x}6000f3{code}");
    let hash = node.rpc("eth_sendTransaction", json!([{"from": DEV_ADDR0, "data": init}]));
    let r = node.wait_receipt(hash.as_str().unwrap(), Duration::from_secs(20));
    r["contractAddress"].as_str().unwrap().to_string()
}

#[test]
fn traces_logs_and_filters_are_bounded() {
    let node = Node::start(&[
        "--rpc.max-trace-steps",
        "1000",
        "--rpc.max-tracing-requests",
        "1",
        "--rpc.evmtimeout",
        "4s",
        "--rpc.gascap",
        "0",
        "--rpc.max-logs-per-response",
        "2",
        "--rpc.max-filters",
        "2",
    ]);
    let looping = deploy(&node, LOOP);
    // The struct logger stops at the step cap.
    let resp =
        node.rpc_raw("debug_traceCall", json!([{"to": looping, "gas": "0x5f5e100"}, "latest"]));
    assert!(message(&resp).contains("more than 1000 steps"), "{resp}");
    // While one trace runs (the call tracer records no steps: it runs to the time limit), a
    // second is refused at once.
    let addr = node.addr;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "debug_traceCall",
        "params": [{"to": looping, "gas": "0xffffffffffff"}, "latest", {"tracer": "callTracer"}]});
    let first = std::thread::spawn(move || common::post_raw(addr, body.to_string().as_bytes()).1);
    // Well inside the first trace's 4 s, even on a loaded machine.
    std::thread::sleep(Duration::from_millis(1_000));
    let second = node.rpc_raw("debug_traceCall", json!([{"to": looping}, "latest"]));
    assert_eq!(code(&second), -32005, "{second}");
    assert!(message(&second).contains("--rpc.max-tracing-requests"), "{second}");
    let first: Value = serde_json::from_str(&first.join().unwrap()).unwrap();
    assert!(message(&first).contains("execution aborted (timeout = 4s)"), "{first}");
    // With the permit back, tracing works again.
    let ok = node.rpc_raw("debug_traceCall", json!([{"to": looping, "gas": "0x5400"}, "latest"]));
    assert!(ok.get("result").is_some(), "{ok}");

    // Three logs (LOG0 with no data) but two per answer: refused with the range that fits.
    let logger = deploy(&node, "0x60006000a000");
    for _ in 0..3 {
        let h = node.rpc("eth_sendTransaction", json!([{"from": DEV_ADDR0, "to": logger}]));
        node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(20));
    }
    let resp = node.rpc_raw("eth_getLogs", json!([{"fromBlock": "0x0", "address": logger}]));
    assert_eq!(code(&resp), -32005, "{resp}");
    assert!(message(&resp).contains("query exceeds max results 2"), "{resp}");
    let head = node.block_number();
    let two = node
        .rpc("eth_getLogs", json!([{"fromBlock": format!("{:#x}", head - 1), "address": logger}]));
    assert_eq!(two.as_array().unwrap().len(), 2);

    // Two polling filters at most.
    node.rpc("eth_newBlockFilter", json!([]));
    let f = node.rpc("eth_newBlockFilter", json!([]));
    assert_eq!(code(&node.rpc_raw("eth_newBlockFilter", json!([]))), -32005);
    assert_eq!(node.rpc("eth_uninstallFilter", json!([f])), true);
    node.rpc("eth_newBlockFilter", json!([]));
}
