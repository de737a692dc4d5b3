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
    let out = run(Command::new(tool("forge")).current_dir(workspace().join("contracts")).args([
        "create",
        "src/AgentExample.sol:AgentExample",
        "--rpc-url",
        &url,
        "--private-key",
        DEV_KEY0,
        "--broadcast",
    ]));
    let example =
        out.lines().find_map(|l| l.strip_prefix("Deployed to: ")).unwrap().trim().to_string();
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
    let url = again.url();
    assert_eq!(
        cast(&["call", IDENTITY, "tokenURI(uint256)(string)", "1", "--rpc-url", &url]),
        "\"https://agent.example/card.json\""
    );
    let _ = Duration::from_secs(0);
}
