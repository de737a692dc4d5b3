//! The ERC-8004 IdentityRegistry precompile through its real interfaces: cast, a Solidity
//! contract, JSON-RPC; reverts leave no trace; malformed calls revert with a reason; restarts
//! keep the state.

mod common;

use common::*;
use serde_json::json;
use std::{process::Command, time::Duration};

const IDENTITY: &str = "0x0000000000000000000000000000000000008004";
const KEY1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

#[test]
fn identity_registry_register_read_update_and_guards() {
    let mut node = Node::start(&[]);
    let url = node.url();
    let send = |args: &[&str]| -> serde_json::Value {
        let mut a = vec!["send", IDENTITY];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--rpc-url", &url, "--private-key", DEV_KEY0, "--json"]);
        serde_json::from_str(&cast(&a)).unwrap()
    };
    let r = send(&["register(string)", "ipfs://agent-one"]);
    assert_eq!(r["status"], "0x1", "{r}");
    let logs = r["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "Transfer and Registered: {r}");
    let registered = cast(&["keccak", "Registered(uint256,string,address)"]);
    assert_eq!(logs[1]["topics"][0], registered);
    assert_eq!(logs[1]["topics"][1], format!("0x{:064x}", 1));

    let call = |sig: &str, args: &[&str]| {
        let mut a = vec!["call", IDENTITY, sig];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--rpc-url", &url]);
        cast(&a)
    };
    assert_eq!(call("ownerOf(uint256)(address)", &["1"]), DEV_ADDR0);
    assert_eq!(call("tokenURI(uint256)(string)", &["1"]), "\"ipfs://agent-one\"");
    assert_eq!(call("balanceOf(address)(uint256)", &[DEV_ADDR0]), "1");
    assert_eq!(call("getAgentWallet(uint256)(address)", &["1"]), DEV_ADDR0);
    assert_eq!(call("name()(string)", &[]), "\"AgentIdentity\"");

    // Updates by the owner; refused for others.
    send(&["setAgentURI(uint256,string)", "1", "https://agent.example/card.json"]);
    assert_eq!(call("tokenURI(uint256)(string)", &["1"]), "\"https://agent.example/card.json\"");
    send(&["setMetadata(uint256,string,bytes)", "1", "skills", "0x0102"]);
    assert_eq!(call("getMetadata(uint256,string)(bytes)", &["1", "skills"]), "0x0102");
    let out = Command::new(tool("cast"))
        .args([
            "send",
            IDENTITY,
            "setAgentURI(uint256,string)",
            "1",
            "x",
            "--rpc-url",
            &url,
            "--private-key",
            KEY1,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("caller is not the owner"), "{out:?}");
    let resp = node.rpc_raw("eth_call", json!([{"to": IDENTITY, "data": "0x1234"}]));
    assert_eq!(resp["error"]["code"], 3, "{resp}");
    assert!(resp["error"]["message"].as_str().unwrap().contains("IdentityRegistry"), "{resp}");

    // A contract registers itself; a register-then-revert leaves nothing; static and delegate
    // calls cannot write.
    let example = forge_create(&url, DEV_KEY0, "src/AgentExample.sol:AgentExample", &[]);
    let r: serde_json::Value = serde_json::from_str(&cast(&[
        "send",
        &example,
        "registerSelf(string)",
        "ipfs://two",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY0,
        "--json",
    ]))
    .unwrap();
    assert_eq!(r["status"], "0x1");
    assert_eq!(call("ownerOf(uint256)(address)", &["2"]).to_lowercase(), example.to_lowercase());
    assert_eq!(call("getMetadata(uint256,string)(bytes)", &["2", "kind"]), "0x6578616d706c65");
    assert_eq!(call("totalAgents()(uint256)", &[]), "2");
    let before = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    let out = Command::new(tool("cast"))
        .args([
            "send",
            &example,
            "registerThenRevert(string)",
            "x",
            "--rpc-url",
            &url,
            "--private-key",
            DEV_KEY0,
            "--gas-limit",
            "300000",
        ])
        .output()
        .unwrap();
    assert!(
        !out.status.success()
            || String::from_utf8_lossy(&out.stdout).contains("status               0")
    );
    assert_eq!(call("totalAgents()(uint256)", &[]), "2", "a reverted registration leaves no trace");
    assert!(node.block_number() >= hex_u64(&before["number"]));
    assert_eq!(cast(&["call", &example, "staticRegister()(bool)", "--rpc-url", &url]), "false");
    let r: serde_json::Value = serde_json::from_str(&cast(&[
        "send",
        &example,
        "delegateRegister()",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY0,
        "--json",
    ]))
    .unwrap();
    assert_eq!(r["status"], "0x1");
    assert_eq!(call("totalAgents()(uint256)", &[]), "2", "a delegatecall cannot register");

    // Out of gas inside the precompile: nothing written.
    let out = Command::new(tool("cast"))
        .args([
            "send",
            IDENTITY,
            "register(string)",
            "ipfs://oog",
            "--rpc-url",
            &url,
            "--private-key",
            DEV_KEY0,
            "--gas-limit",
            "30000",
        ])
        .output()
        .unwrap();
    let _ = out;
    assert_eq!(call("totalAgents()(uint256)", &[]), "2");

    // Typed reads over JSON-RPC, and the block's interactionRoot is the storage root of the
    // agent state account (as eth_getProof reports it).
    let agent = node.rpc("agent_getAgent", json!(["0x1"]));
    assert_eq!(agent["owner"].as_str().unwrap().to_lowercase(), DEV_ADDR0.to_lowercase());
    assert_eq!(agent["agentURI"], "https://agent.example/card.json");
    assert!(node.rpc("agent_getAgent", json!(["0x99"])).is_null());
    let at_first = node.rpc("agent_getAgent", json!(["0x1", "0x1"]));
    assert_eq!(at_first["agentURI"], "ipfs://agent-one", "history: the URI before the update");
    let latest = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    let proof = node
        .rpc("eth_getProof", json!(["0x0000000000000000000000000000000000008000", [], "latest"]));
    assert_eq!(latest["interactionRoot"], proof["storageHash"]);
    let genesis = node.rpc("eth_getBlockByNumber", json!(["0x0", false]));
    assert_ne!(genesis["interactionRoot"], latest["interactionRoot"]);

    // A restart keeps the agents and the state root.
    let head = node.rpc("eth_getBlockByNumber", json!(["latest", false]));
    node.terminate();
    let again = Node::start_in(&node.datadir, &[]);
    let head2 = again.rpc("eth_getBlockByNumber", json!(["latest", false]));
    assert_eq!(head2["stateRoot"], head["stateRoot"]);
    assert_eq!(head2["interactionRoot"], head["interactionRoot"]);
    assert_eq!(
        again.rpc("agent_getAgent", json!(["0x1"]))["agentURI"],
        "https://agent.example/card.json"
    );
    let url = again.url();
    assert_eq!(
        cast(&["call", IDENTITY, "tokenURI(uint256)(string)", "1", "--rpc-url", &url]),
        "\"https://agent.example/card.json\""
    );
    let _ = Duration::from_secs(0);
}

const REPUTATION: &str = "0x0000000000000000000000000000000000008005";
const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const ADDR2: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

#[test]
fn reputation_registry_feedback_rules_and_summaries() {
    let node = Node::start(&[]);
    let url = node.url();
    let send = |key: &str, args: &[&str]| -> (bool, String) {
        let mut a = vec!["send".to_string(), REPUTATION.to_string()];
        a.extend(args.iter().map(|s| s.to_string()));
        a.extend(["--rpc-url", &url, "--private-key", key].map(String::from));
        let out = Command::new(tool("cast")).args(&a).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let call = |sig: &str, args: &[&str]| {
        let mut a = vec!["call", REPUTATION, sig];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--rpc-url", &url]);
        cast(&a)
    };
    cast(&[
        "send",
        IDENTITY,
        "register(string)",
        "ipfs://rated",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY0,
    ]);
    let give = "giveFeedback(uint256,int128,uint8,string,string,string,string,bytes32)";
    let zero = format!("0x{:064x}", 0);

    let (ok, err) = send(DEV_KEY0, &[give, "1", "5", "0", "starred", "", "", "", &zero]);
    assert!(!ok && err.contains("owners cannot rate their own agent"), "{err}");
    let (ok, err) = send(KEY1, &[give, "1", "5", "19", "starred", "", "", "", &zero]);
    assert!(!ok && err.contains("valueDecimals"), "{err}");
    let (ok, err) = send(KEY1, &[give, "9", "5", "0", "starred", "", "", "", &zero]);
    assert!(!ok && err.contains("unknown agent"), "{err}");

    assert!(send(KEY1, &[give, "1", "80", "0", "starred", "", "https://a", "ipfs://f1", &zero]).0);
    assert!(send(KEY2, &[give, "1", "9500", "2", "starred", "fast", "", "", &zero]).0);
    assert!(send(KEY1, &[give, "1", "3", "0", "uptime", "", "", "", &zero]).0);

    assert_eq!(call("getLastIndex(uint256,address)(uint64)", &["1", DEV_ADDR1]), "2");
    assert_eq!(call("getClients(uint256)(address[])", &["1"]), format!("[{DEV_ADDR1}, {ADDR2}]"));
    let fb = call(
        "readFeedback(uint256,address,uint64)(int128,uint8,string,string,bool)",
        &["1", ADDR2, "1"],
    );
    assert!(
        fb.contains("9500")
            && fb.contains("\"starred\"")
            && fb.contains("\"fast\"")
            && fb.contains("false"),
        "{fb}"
    );

    let clients = format!("[{DEV_ADDR1},{ADDR2}]");
    let summary = |tag: &str| {
        call(
            "getSummary(uint256,address[],string,string)(uint64,int128,uint8)",
            &["1", &clients, tag, ""],
        )
    };
    // 80 and 95.00 average to 87.5; decimals 0 and 2 tie, the smaller wins: 87 at 0 decimals.
    assert_eq!(summary("starred"), "2\n87\n0");
    assert_eq!(summary(""), "3\n59\n0", "all tags: (80 + 95 + 3) / 3");
    assert!(send(KEY1, &["revokeFeedback(uint256,uint64)", "1", "1"]).0);
    assert_eq!(summary("starred"), "1\n9500\n2", "revoked feedback is excluded");
    let (ok, err) = send(KEY1, &["revokeFeedback(uint256,uint64)", "1", "1"]);
    assert!(!ok && err.contains("already revoked"), "{err}");
    let resp = node.rpc_raw(
        "eth_call",
        json!([{"to": REPUTATION, "data": cast(&["calldata", "getSummary(uint256,address[],string,string)", "1", "[]", "", ""])}]),
    );
    assert!(
        resp["error"]["message"].as_str().unwrap().contains("needs a list of clients"),
        "{resp}"
    );
    assert!(
        send(
            DEV_KEY0,
            &[
                "appendResponse(uint256,address,uint64,string,bytes32)",
                "1",
                ADDR2,
                "1",
                "ipfs://thanks",
                &zero
            ]
        )
        .0
    );
}
