//! Capabilities and sessions through a real agent contract, agent wallets with their EIP-712
//! proof, the `agent_` reads, proofs of agent objects verified against block state roots, and
//! malformed calls to every agent precompile.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::Command;

const IDENTITY: &str = "0x0000000000000000000000000000000000008004";
const REPUTATION: &str = "0x0000000000000000000000000000000000008005";
const CAPABILITIES: &str = "0x0000000000000000000000000000000000008007";
const SESSIONS: &str = "0x0000000000000000000000000000000000008008";
const KEY1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const ADDR2: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const ADDR3: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

/// `cast send` that may fail: (success, stdout + stderr).
fn try_send(url: &str, key: &str, to: &str, args: &[&str]) -> (bool, String) {
    let mut a = vec!["send", to];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--rpc-url", url, "--private-key", key, "--json"]);
    let out = Command::new(tool("cast")).args(&a).output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let ok = out.status.success()
        && serde_json::from_str::<Value>(&String::from_utf8_lossy(&out.stdout))
            .is_ok_and(|r| r["status"] == "0x1");
    (ok, text)
}

fn send(url: &str, key: &str, to: &str, args: &[&str]) {
    let (ok, out) = try_send(url, key, to, args);
    assert!(ok, "{to} {args:?}: {out}");
}

fn call(url: &str, to: &str, sig: &str, args: &[&str]) -> String {
    let mut a = vec!["call", to, sig];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--rpc-url", url]);
    cast(&a)
}

fn balance(url: &str, who: &str) -> u128 {
    cast(&["balance", who, "--rpc-url", url]).parse().unwrap()
}

fn head_timestamp(node: &Node) -> u64 {
    hex_u64(&node.rpc("eth_getBlockByNumber", json!(["latest", false]))["timestamp"])
}

#[test]
fn capabilities_and_sessions_govern_a_paying_agent_contract() {
    let node = Node::start(&[]);
    let url = node.url();
    let agent =
        forge_create(&url, DEV_KEY0, "src/AgentExample.sol:AgentExample", &["--value", "10ether"]);
    send(&url, DEV_KEY0, &agent, &["registerSelf(string)", "ipfs://payer"]);
    let pay_cap = cast(&["keccak", "pay"]);
    let now = head_timestamp(&node);

    // No capability yet: a session key cannot pay.
    let exp = (now + 1000).to_string();
    send(
        &url,
        DEV_KEY0,
        &agent,
        &[
            "openSession(address,uint64,uint256,address[])",
            DEV_ADDR1,
            &exp,
            "3ether",
            &format!("[{ADDR2}]"),
        ],
    );
    let (ok, err) = try_send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "1ether"]);
    assert!(!ok && err.contains("no pay capability"), "{err}");

    // Capability "pay" up to 1.5 ether per payment, expiring at now + 100.
    let cap_exp = (now + 100).to_string();
    send(
        &url,
        DEV_KEY0,
        &agent,
        &["grant(bytes32,uint256,uint64)", &pay_cap, "1.5ether", &cap_exp],
    );
    assert_eq!(call(&url, CAPABILITIES, "has(uint256,bytes32)(bool)", &["1", &pay_cap]), "true");
    let before = balance(&url, ADDR2);
    send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "1ether"]);
    assert_eq!(balance(&url, ADDR2) - before, 10u128.pow(18));
    let (ok, err) = try_send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "2ether"]);
    assert!(!ok && err.contains("over the per-payment limit"), "{err}");
    let (ok, err) = try_send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR3, "1ether"]);
    assert!(!ok && err.contains("counterparty not allowed"), "{err}");
    let (ok, err) = try_send(&url, KEY2, &agent, &["pay(address,uint256)", ADDR2, "1ether"]);
    assert!(!ok && err.contains("no open session"), "not a session key: {err}");
    send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "1.5ether"]);
    // 2.5 of 3 spent: one more ether is over the session's limit.
    let (ok, err) = try_send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "1ether"]);
    assert!(!ok && err.contains("spend limit exceeded"), "{err}");
    assert_eq!(balance(&url, ADDR2) - before, 25 * 10u128.pow(17));

    // Typed reads over JSON-RPC.
    let sessions = node.rpc("agent_getSessions", json!(["0x1"]));
    assert_eq!(
        sessions[0]["key"].as_str().unwrap().to_lowercase(),
        DEV_ADDR1.to_lowercase(),
        "{sessions}"
    );
    assert_eq!(sessions[0]["spent"], "0x22b1c8c1227a0000", "2.5 ether: {sessions}");
    assert_eq!(sessions[0]["valid"], true);
    let caps = node.rpc("agent_getCapabilities", json!(["0x1"]));
    assert_eq!(caps[0]["capability"], pay_cap.as_str(), "{caps}");
    assert_eq!(caps[0]["active"], true);
    assert_eq!(caps[0]["grantor"].as_str().unwrap().to_lowercase(), agent.to_lowercase());
    let agents = node.rpc("agent_getAgentsByOwner", json!([agent]));
    assert_eq!(agents.as_array().unwrap().len(), 1, "{agents}");
    assert_eq!(agents[0]["agentURI"], "ipfs://payer");

    // The capability expires (inclusive bound): has() turns false, pay is refused, the grant
    // is still readable and listed as inactive.
    node.rpc("evm_setNextBlockTimestamp", json!([now + 101]));
    node.rpc("evm_mine", json!([]));
    assert_eq!(call(&url, CAPABILITIES, "has(uint256,bytes32)(bool)", &["1", &pay_cap]), "false");
    assert_eq!(
        call(
            &url,
            CAPABILITIES,
            "list(uint256)((bytes32,bytes32,uint256,uint64,address)[])",
            &["1"]
        ),
        "[]"
    );
    let (ok, err) = try_send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "0.1ether"]);
    assert!(!ok && err.contains("no pay capability"), "{err}");
    assert_eq!(node.rpc("agent_getCapabilities", json!(["0x1"]))[0]["active"], false);

    // A fresh grant; then the session expires.
    send(&url, DEV_KEY0, &agent, &["grant(bytes32,uint256,uint64)", &pay_cap, "0", "0"]);
    send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "0.5ether"]);
    node.rpc("evm_setNextBlockTimestamp", json!([now + 1001]));
    node.rpc("evm_mine", json!([]));
    assert_eq!(
        call(&url, SESSIONS, "isValid(uint256,address,address)(bool)", &["1", DEV_ADDR1, ADDR2]),
        "false"
    );
    let (ok, err) = try_send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR2, "0.1ether"]);
    assert!(!ok && err.contains("session expired"), "{err}");
    assert_eq!(node.rpc("agent_getSessions", json!(["0x1"]))[0]["valid"], false);

    // Reopened: spent starts over; closed by the key itself: gone.
    let exp = (now + 5000).to_string();
    send(
        &url,
        DEV_KEY0,
        &agent,
        &["openSession(address,uint64,uint256,address[])", DEV_ADDR1, &exp, "1ether", "[]"],
    );
    assert_eq!(
        call(&url, SESSIONS, "isValid(uint256,address,address)(bool)", &["1", DEV_ADDR1, ADDR3]),
        "true",
        "no counterparty list: any"
    );
    send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR3, "1ether"]);
    send(&url, KEY1, SESSIONS, &["close(uint256,address)", "1", DEV_ADDR1]);
    assert_eq!(call(&url, SESSIONS, "list(uint256)(address[])", &["1"]), "[]");
    let (ok, err) = try_send(&url, KEY1, &agent, &["pay(address,uint256)", ADDR3, "0.1ether"]);
    assert!(!ok && err.contains("no open session"), "{err}");
    // Only the owner grants; only the owner or the key closes.
    let (ok, err) = try_send(
        &url,
        KEY2,
        CAPABILITIES,
        &["grant(uint256,bytes32,bytes32,uint256,uint64)", "1", &pay_cap, &pay_cap, "0", "0"],
    );
    assert!(!ok && err.contains("caller is not the owner"), "{err}");
    let (ok, err) = try_send(
        &url,
        KEY2,
        SESSIONS,
        &["open(uint256,address,uint64,uint256,address[])", "1", ADDR2, &exp, "1", "[]"],
    );
    assert!(!ok && err.contains("caller is not the owner"), "{err}");
}

#[test]
fn agent_wallet_needs_the_new_wallets_eip712_proof() {
    let node = Node::start(&[]);
    let url = node.url();
    send(&url, DEV_KEY0, IDENTITY, &["register(string)", "ipfs://w"]);
    // URIs of every length class (Solidity's short and long string layouts), each replacing a
    // longer or shorter one: read back exactly through the precompile and over RPC.
    let long = format!("https://agents.example/{}", "x".repeat(70));
    for uri in [long.as_str(), "ipfs://short", &long[..40], &long[..32], "", &long[..31], &long] {
        send(&url, DEV_KEY0, IDENTITY, &["setAgentURI(uint256,string)", "1", uri]);
        assert_eq!(call(&url, IDENTITY, "tokenURI(uint256)(string)", &["1"]), format!("{uri:?}"));
        assert_eq!(node.rpc("agent_getAgent", json!(["0x1"]))["agentURI"], uri);
    }
    let deadline = head_timestamp(&node) + 120;
    let typed = |wallet: &str, deadline: u64| {
        json!({
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}
                ],
                "AgentWalletSet": [
                    {"name": "agentId", "type": "uint256"}, {"name": "newWallet", "type": "address"},
                    {"name": "owner", "type": "address"}, {"name": "deadline", "type": "uint256"}
                ]
            },
            "primaryType": "AgentWalletSet",
            "domain": {"name": "ERC8004IdentityRegistry", "version": "1", "chainId": 80042, "verifyingContract": IDENTITY},
            "message": {"agentId": 1, "newWallet": wallet, "owner": DEV_ADDR0, "deadline": deadline}
        })
        .to_string()
    };
    let sign =
        |key: &str, data: &str| cast(&["wallet", "sign", "--data", data, "--private-key", key]);
    let set = "setAgentWallet(uint256,address,uint256,bytes)";
    let d = deadline.to_string();

    // Signed by someone else, or for another wallet: refused.
    let wrong = sign(KEY2, &typed(DEV_ADDR1, deadline));
    let (ok, err) = try_send(&url, DEV_KEY0, IDENTITY, &[set, "1", DEV_ADDR1, &d, &wrong]);
    assert!(!ok && err.contains("not signed by the new wallet"), "{err}");
    let far = deadline + 1000;
    let sig = sign(KEY1, &typed(DEV_ADDR1, far));
    let (ok, err) =
        try_send(&url, DEV_KEY0, IDENTITY, &[set, "1", DEV_ADDR1, &far.to_string(), &sig]);
    assert!(!ok && err.contains("more than 5 minutes"), "{err}");
    let (ok, err) = try_send(&url, DEV_KEY0, IDENTITY, &[set, "1", DEV_ADDR1, &d, "0x1234"]);
    assert!(!ok && err.contains("65 bytes"), "{err}");

    // The wallet's own proof: accepted, readable everywhere; a transfer clears it.
    let sig = sign(KEY1, &typed(DEV_ADDR1, deadline));
    let (ok, err) = try_send(&url, KEY2, IDENTITY, &[set, "1", DEV_ADDR1, &d, &sig]);
    assert!(!ok && err.contains("caller is not the owner"), "{err}");
    send(&url, DEV_KEY0, IDENTITY, &[set, "1", DEV_ADDR1, &d, &sig]);
    assert_eq!(call(&url, IDENTITY, "getAgentWallet(uint256)(address)", &["1"]), DEV_ADDR1);
    assert_eq!(
        call(&url, IDENTITY, "getMetadata(uint256,string)(bytes)", &["1", "agentWallet"])
            .to_lowercase(),
        DEV_ADDR1.to_lowercase()
    );
    assert_eq!(
        node.rpc("agent_getAgent", json!(["0x1"]))["agentWallet"].as_str().unwrap().to_lowercase(),
        DEV_ADDR1.to_lowercase()
    );
    let (ok, err) = try_send(
        &url,
        DEV_KEY0,
        IDENTITY,
        &["setMetadata(uint256,string,bytes)", "1", "agentWallet", "0x00"],
    );
    assert!(!ok && err.contains("reserved"), "{err}");
    send(
        &url,
        DEV_KEY0,
        IDENTITY,
        &["transferFrom(address,address,uint256)", DEV_ADDR0, ADDR2, "1"],
    );
    assert_eq!(
        call(&url, IDENTITY, "getAgentWallet(uint256)(address)", &["1"]),
        ADDR2,
        "a transfer clears the wallet"
    );
    assert_eq!(
        call(&url, IDENTITY, "tokenOfOwnerByIndex(address,uint256)(uint256)", &[ADDR2, "0"]),
        "1"
    );
    assert_eq!(call(&url, IDENTITY, "balanceOf(address)(uint256)", &[DEV_ADDR0]), "0");
}

#[test]
fn agent_objects_are_proven_against_block_state_roots() {
    let node = Node::start(&[]);
    let url = node.url();
    send(&url, DEV_KEY0, IDENTITY, &["register(string)", "ipfs://first"]);
    send(&url, DEV_KEY0, IDENTITY, &["register(string)", "ipfs://second"]);
    let give = "giveFeedback(uint256,int128,uint8,string,string,string,string,bytes32)";
    let zero = format!("0x{:064x}", 0);
    send(&url, KEY1, REPUTATION, &[give, "1", "90", "0", "starred", "", "", "", &zero]);
    send(&url, KEY2, REPUTATION, &[give, "1", "70", "0", "starred", "", "", "", &zero]);
    let cap = cast(&["keccak", "search"]);
    send(
        &url,
        DEV_KEY0,
        CAPABILITIES,
        &["grant(uint256,bytes32,bytes32,uint256,uint64)", "1", &cap, &zero, "100", "0"],
    );
    let exp = (head_timestamp(&node) + 3600).to_string();
    send(
        &url,
        DEV_KEY0,
        SESSIONS,
        &[
            "open(uint256,address,uint64,uint256,address[])",
            "1",
            ADDR3,
            &exp,
            "1000",
            &format!("[{ADDR2}]"),
        ],
    );
    let old = node.block_number();
    send(&url, DEV_KEY0, IDENTITY, &["setAgentURI(uint256,string)", "1", "ipfs://updated"]);

    let check = |block: Value, uri: &str| {
        let p = node.rpc("agent_getProof", json!(["0x1", [], block]));
        let header = node.rpc("eth_getBlockByNumber", json!([p["blockNumber"], false]));
        assert_eq!(p["stateRoot"], header["stateRoot"]);
        assert_eq!(p["interactionRoot"], header["interactionRoot"]);
        verify_eip1186(&header["stateRoot"], &p["proof"]);
        let o = &p["objects"];
        assert_eq!(o["identity"]["agentURI"], uri, "{o}");
        assert_eq!(o["reputation"]["summary"]["count"], "0x2", "{o}");
        assert_eq!(o["reputation"]["summary"]["summaryValue"], "80");
        assert_eq!(o["capabilities"][0]["limit"], "0x64");
        assert_eq!(
            o["sessions"][0]["counterparties"][0].as_str().unwrap().to_lowercase(),
            ADDR2.to_lowercase()
        );
        // The proven slots hold the objects: the owner word is among them with a non-zero value.
        let proven = p["proof"]["storageProof"].as_array().unwrap();
        assert!(proven.len() > 10, "{}", proven.len());
        assert!(proven.iter().any(|s| s["value"] != "0x0"));
        p
    };
    let head = check(json!("latest"), "ipfs://updated");
    let past = check(json!(format!("{old:#x}")), "ipfs://first");
    assert_ne!(head["stateRoot"], past["stateRoot"]);

    // Only some kinds; an unknown agent is proven absent; a bad kind is a clear error.
    let p = node.rpc("agent_getProof", json!(["0x2", ["identity"], "latest"]));
    assert_eq!(p["objects"].as_object().unwrap().len(), 1);
    assert_eq!(p["objects"]["identity"]["agentURI"], "ipfs://second");
    let absent = node.rpc("agent_getProof", json!(["0x99", ["identity"]]));
    assert!(absent["objects"]["identity"].is_null());
    verify_eip1186(
        &node.rpc("eth_getBlockByNumber", json!(["latest", false]))["stateRoot"],
        &absent["proof"],
    );
    let bad = node.rpc_raw("agent_getProof", json!(["0x1", ["karma"]]));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().contains("karma"), "{bad}");

    // eth_getProof at a past block verifies against that block's root too.
    let past_header = node.rpc("eth_getBlockByNumber", json!([format!("{old:#x}"), false]));
    let acct = node.rpc("eth_getProof", json!([DEV_ADDR0, ["0x0"], format!("{old:#x}")]));
    verify_eip1186(&past_header["stateRoot"], &acct);

    // Reputation reads: tags filter, revoked feedback flagged and left out of the summary.
    send(&url, KEY2, REPUTATION, &["revokeFeedback(uint256,uint64)", "1", "1"]);
    let rep = node.rpc("agent_getReputation", json!(["0x1", null, ["starred"]]));
    assert_eq!(rep["summary"]["count"], "0x1", "{rep}");
    assert_eq!(rep["feedback"].as_array().unwrap().len(), 2);
    assert_eq!(rep["feedback"][1]["isRevoked"], true);
    let rep = node.rpc("agent_getReputation", json!(["0x1", [DEV_ADDR1], ["uptime"]]));
    assert_eq!(rep["summary"]["count"], "0x0", "{rep}");
    let all = call(
        &url,
        REPUTATION,
        "readAllFeedback(uint256,address[],string,string,bool)(address[],uint64[],int128[],uint8[],string[],string[],bool[])",
        &["1", "[]", "", "", "true"],
    );
    assert!(all.contains("[90, 70]") && all.contains("[false, true]"), "{all}");
}

#[test]
fn malformed_calls_to_every_agent_precompile_revert_with_a_reason_and_cost_gas() {
    let node = Node::start(&[]);
    for (precompile, name) in [
        (IDENTITY, "IdentityRegistry"),
        (REPUTATION, "ReputationRegistry"),
        (CAPABILITIES, "Capabilities"),
        (SESSIONS, "Sessions"),
    ] {
        for (data, reason) in [
            ("0x12", "shorter than a selector"),
            ("0xdeadbeef", "malformed call"),
            // A known selector (ownerOf / readFeedback / has / isValid share none) with its
            // arguments cut short.
            (&*format!("{}00", &cast(&["sig", "revoke(uint256,bytes32)"])), "malformed call"),
        ] {
            let resp = node.rpc_raw("eth_call", json!([{"to": precompile, "data": data}]));
            assert_eq!(resp["error"]["code"], 3, "{precompile} {data}: {resp}");
            let msg = resp["error"]["message"].as_str().unwrap();
            assert!(msg.contains(name) && msg.contains(reason), "{precompile} {data}: {msg}");
        }
        let resp = node.rpc_raw(
            "eth_call",
            json!([{"from": DEV_ADDR0, "to": precompile, "data": "0xdeadbeef", "value": "0x1"}]),
        );
        assert!(
            resp["error"]["message"].as_str().unwrap().contains("does not accept value"),
            "{resp}"
        );
        // As a transaction: mined, reverted, and the precompile's work is paid for.
        let hash = node.rpc(
            "eth_sendTransaction",
            json!([{"from": DEV_ADDR0, "to": precompile, "data": "0xdeadbeef", "gas": "0x30000"}]),
        );
        let receipt = node.wait_receipt(hash.as_str().unwrap(), std::time::Duration::from_secs(10));
        assert_eq!(receipt["status"], "0x0", "{receipt}");
        assert!(hex_u64(&receipt["gasUsed"]) >= 21_000 + 4 * 16 + 200, "{receipt}");
    }
}

/// A session is bound to the owner who opened it: once the agent is sold, the seller's session
/// key no longer signs for it (isValid, list, the typed RPC read), and the buyer's own session
/// is valid.
#[test]
fn a_session_ends_when_its_agent_changes_hands() {
    let node = Node::start(&[]);
    let url = node.url();
    // Dev account 2 (KEY2) registers agent 1 and opens a session for dev account 3.
    send(&url, KEY2, IDENTITY, &["register(string)", "ipfs://sold"]);
    let exp = (head_timestamp(&node) + 3600).to_string();
    let open = ["open(uint256,address,uint64,uint256,address[])", "1", ADDR3, &exp, "1ether", "[]"];
    send(&url, KEY2, SESSIONS, &open);
    let valid =
        |k: &str| call(&url, SESSIONS, "isValid(uint256,address,address)(bool)", &["1", k, ADDR2]);
    assert_eq!(valid(ADDR3), "true");
    // Sold to dev account 1.
    send(&url, KEY2, IDENTITY, &["transferFrom(address,address,uint256)", ADDR2, DEV_ADDR1, "1"]);
    assert_eq!(call(&url, IDENTITY, "ownerOf(uint256)(address)", &["1"]), DEV_ADDR1);
    assert_eq!(valid(ADDR3), "false", "the seller's session outlived the sale");
    assert_eq!(call(&url, SESSIONS, "list(uint256)(address[])", &["1"]), "[]");
    assert_eq!(node.rpc("agent_getSessions", json!(["0x1"]))[0]["valid"], false);
    // The buyer opens its own session for the same key: valid again.
    send(&url, KEY1, SESSIONS, &open);
    assert_eq!(valid(ADDR3), "true");
}
