//! Foundry against the real node: `forge create`, `forge script --broadcast` (which forks the
//! node to simulate first), and `cast` reading back what was done.

mod common;

use common::*;
use serde_json::json;
use std::process::Command;

fn forge(args: &[&str]) -> String {
    run(Command::new(tool("forge")).current_dir(workspace().join("contracts")).args(args))
}

#[test]
fn forge_create_script_and_cast_agree() {
    let node = Node::start(&[]);
    let url = node.url();

    let counter =
        forge_create(&url, DEV_KEY0, "src/Counter.sol:Counter", &["--constructor-args", "7"]);
    let code = cast(&["code", &counter, "--rpc-url", &url]);
    assert!(code.len() > 100, "contract has code");
    assert_eq!(cast(&["call", &counter, "number()(uint256)", "--rpc-url", &url]), "7");

    // cast send → receipt, logs, state.
    let tx = cast(&[
        "send",
        &counter,
        "increment()",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY0,
        "--async",
    ]);
    let receipt = node.wait_receipt(&tx, std::time::Duration::from_secs(30));
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(cast(&["receipt", &tx, "status", "--rpc-url", &url]), "true");
    assert_eq!(cast(&["call", &counter, "number()(uint256)", "--rpc-url", &url]), "8");
    let bumps = cast(&["call", &counter, "bumps(address)(uint256)", DEV_ADDR0, "--rpc-url", &url]);
    assert_eq!(bumps, "1");
    let logs = cast(&[
        "logs",
        "--address",
        &counter,
        "Bumped(address,uint256)",
        "--from-block",
        "0",
        "--rpc-url",
        &url,
    ]);
    assert!(logs.contains(&tx), "log of {tx} in:\n{logs}");
    let topic = cast(&["keccak", "Bumped(address,uint256)"]);
    let got = node
        .rpc("eth_getLogs", json!([{"address": counter, "topics": [topic], "fromBlock": "0x0"}]));
    assert_eq!(got.as_array().unwrap().len(), 1);
    assert_eq!(got[0]["transactionHash"], tx);

    // Nonce: one deployment and one call.
    assert_eq!(cast(&["nonce", DEV_ADDR0, "--rpc-url", &url]), "2");

    // Balances move by the value sent; the sender also pays L2 and L1 fees.
    let before = cast(&["balance", DEV_ADDR1, "--rpc-url", &url]);
    let tx = cast(&[
        "send",
        DEV_ADDR1,
        "--value",
        "1ether",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY0,
        "--async",
    ]);
    node.wait_receipt(&tx, std::time::Duration::from_secs(30));
    let after = cast(&["balance", DEV_ADDR1, "--rpc-url", &url]);
    let diff: u128 = after.parse::<u128>().unwrap() - before.parse::<u128>().unwrap();
    assert_eq!(diff, 10u128.pow(18));
    let r = node.rpc("eth_getTransactionReceipt", json!([tx]));
    assert!(common::hex_u64(&r["l1Fee"]) > 0, "receipt carries the OP L1 fee: {r}");

    // The latest block as cast sees it is the node's head.
    let number = cast(&["block", "latest", "--field", "number", "--rpc-url", &url]);
    assert_eq!(number.parse::<u64>().unwrap(), node.block_number());

    // Reverts come back with their reason.
    let out = Command::new(tool("cast"))
        .args(["call", &counter, "fail()", "--rpc-url", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("counter says no"));
    let resp = node.rpc_raw("eth_call", json!([{"to": counter, "data": "0xa9cc4718"}]));
    assert_eq!(resp["error"]["code"], 3, "{resp}");

    // EIP-7702: an EOA delegates to the counter through a type-4 transaction signed by cast.
    let key2 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    let eoa2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    let tx = cast(&[
        "send",
        eoa2,
        "increment()",
        "--auth",
        &counter,
        "--rpc-url",
        &url,
        "--private-key",
        key2,
        "--async",
    ]);
    let r = node.wait_receipt(&tx, std::time::Duration::from_secs(30));
    assert_eq!(r["type"], "0x4", "{r}");
    let code = cast(&["code", eoa2, "--rpc-url", &url]).to_lowercase();
    assert_eq!(code, format!("0xef0100{}", counter.to_lowercase().trim_start_matches("0x")));
    // The call ran the counter's code in the EOA's own storage.
    assert_eq!(cast(&["call", eoa2, "number()(uint256)", "--rpc-url", &url]), "1");

    // forge script --broadcast: simulated against a fork of the node, then sent.
    let key1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    let nonce_before: u64 = cast(&["nonce", DEV_ADDR1, "--rpc-url", &url]).parse().unwrap();
    forge(&[
        "script",
        "script/Counter.s.sol:CounterScript",
        "--rpc-url",
        &url,
        "--private-key",
        key1,
        "--broadcast",
    ]);
    let nonce_after: u64 = cast(&["nonce", DEV_ADDR1, "--rpc-url", &url]).parse().unwrap();
    assert_eq!(nonce_after, nonce_before + 5, "one deployment and four calls");
    let deployed = cast(&["compute-address", DEV_ADDR1, "--nonce", &nonce_before.to_string()]);
    let deployed = deployed.rsplit(' ').next().unwrap().to_string();
    assert_eq!(cast(&["call", &deployed, "number()(uint256)", "--rpc-url", &url]), "43");
}

/// `forge test --fork-url` against the devnet, and `forge script --slow`.
#[test]
fn forge_fork_tests_and_slow_scripts() {
    let node = Node::start(&[]);
    let url = node.url();
    let key3 = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
    let counter = forge_create(&url, key3, "src/Counter.sol:Counter", &["--constructor-args", "5"]);
    let identity = "0x0000000000000000000000000000000000008004";
    let send = ["send", identity, "register(string)", "ipfs://forked", "--private-key", key3];
    cast(&[&send[..], &["--rpc-url", &url]].concat());
    let out = run(Command::new(tool("forge"))
        .current_dir(workspace().join("contracts"))
        .env("COUNTER", &counter)
        .args(["test", "--fork-url", &url, "--match-contract", "ForkTest", "-vv"]));
    assert!(out.contains("[PASS] test_fork_reads_and_writes_devnet_state"), "{out}");
    assert!(
        out.contains("[PASS] test_fork_reads_and_writes_agents_through_the_genesis_twins"),
        "{out}"
    );
    let total = cast(&["call", identity, "totalAgents()(uint256)", "--rpc-url", &url]);
    assert_eq!(total, "1", "the fork's registration stayed in the fork");
    // The fork changed nothing on the devnet.
    assert_eq!(cast(&["call", &counter, "number()(uint256)", "--rpc-url", &url]), "5");

    let addr3 = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    let before: u64 = cast(&["nonce", addr3, "--rpc-url", &url]).parse().unwrap();
    forge(&[
        "script",
        "script/Counter.s.sol:CounterScript",
        "--rpc-url",
        &url,
        "--private-key",
        key3,
        "--broadcast",
        "--slow",
    ]);
    let after: u64 = cast(&["nonce", addr3, "--rpc-url", &url]).parse().unwrap();
    assert_eq!(after, before + 5, "--slow sends one transaction after the other");
}

/// The example agent project (`examples/agent-foundry`, agnt2's Foundry library as a
/// dependency): its `forge test` passes with no node (the twins installed by `Agnt2Test`), and
/// its `forge script --broadcast` — simulation on, against the twins the genesis holds at the
/// precompile addresses — deploys an agent whose constructor registered it, granted it a
/// capability and opened a session, all visible through the node's native precompiles and
/// `agent_getAgent`.
#[test]
fn the_example_agent_project_tests_and_deploys_with_forge() {
    let dir = workspace().join("examples/agent-foundry");
    let forge_in = |args: &[&str]| run(Command::new(tool("forge")).current_dir(&dir).args(args));
    let out = forge_in(&["test"]);
    assert!(out.contains("1 passed; 0 failed"), "{out}");

    let node = Node::start(&[]);
    let url = node.url();
    let out = forge_in(&[
        "script",
        "script/Deploy.s.sol",
        "--rpc-url",
        &url,
        "--broadcast",
        "--private-key",
        DEV_KEY0,
    ]);
    assert!(out.contains("ONCHAIN EXECUTION COMPLETE & SUCCESSFUL"), "{out}");
    let runs = dir.join("broadcast/Deploy.s.sol/80042/run-latest.json");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs).unwrap()).unwrap();
    let agent = run["transactions"][0]["contractAddress"].as_str().unwrap().to_lowercase();
    let tx = run["transactions"][0]["hash"].as_str().unwrap();
    assert_eq!(node.wait_receipt(tx, std::time::Duration::from_secs(30))["status"], "0x1");

    let got = node.rpc("agent_getAgent", json!(["0x1"]));
    assert_eq!(got["owner"].as_str().unwrap().to_lowercase(), agent, "{got}");
    assert_eq!(got["agentURI"], "ipfs://my-agent");
    let caps = node.rpc("agent_getCapabilities", json!(["0x1"]));
    let pay = cast(&["keccak", "pay"]);
    assert_eq!(caps[0]["capability"], pay.as_str(), "{caps}");
    assert_eq!(caps[0]["limit"], "0x16345785d8a0000", "0.1 ether per payment: {caps}");
    let sessions = node.rpc("agent_getSessions", json!(["0x1"]));
    assert_eq!(
        sessions[0]["key"].as_str().unwrap().to_lowercase(),
        "0x0000000000000000000000000000000000005e55"
    );
    assert_eq!(sessions[0]["valid"], true, "{sessions}");
    assert_eq!(cast(&["call", &agent, "agentId()(uint256)", "--rpc-url", &url]), "1");
    assert_eq!(cast(&["balance", &agent, "--rpc-url", &url]), "500000000000000000");
}
