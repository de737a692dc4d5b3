//! The Solidity twins of the agent precompiles (`contracts/src/agnt2`) against the native
//! precompiles: one scenario of calls — every function of the five, their reverts, list
//! removals that move entries, long and short strings, a session's epochs, a signed agent
//! wallet — is sent as transactions to a running node; what the node answered (success, return
//! data from `debug_traceTransaction`, logs) and the interaction-trie slots the scenario changed
//! (`prestateTracer` in diff mode, final values by `eth_getStorageAt`) go to
//! `contracts/script/TwinsDifferential.s.sol`, which repeats each call against the twins in
//! forge, from the same sender at the same block and time, and fails at the first difference.

mod common;

use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use alloy_signer::SignerSync;
use alloy_sol_types::{SolCall, SolStruct, SolValue, eip712_domain, sol};
use common::*;
use serde_json::json;
use std::{collections::BTreeMap, process::Command, time::Duration};

#[allow(clippy::too_many_arguments, missing_docs)]
mod abi {
    alloy_sol_types::sol!("../contracts/src/interfaces/IIdentityRegistry.sol");
    alloy_sol_types::sol!("../contracts/src/interfaces/IReputationRegistry.sol");
    alloy_sol_types::sol!("../contracts/src/interfaces/ICapabilities.sol");
    alloy_sol_types::sol!("../contracts/src/interfaces/ISessions.sol");
    alloy_sol_types::sol!("../contracts/src/interfaces/IInteractions.sol");
}
use abi::*;

sol! {
    struct AgentWalletSet { uint256 agentId; address newWallet; address owner; uint256 deadline; }

    struct DiffLog { address emitter; bytes32[] topics; bytes data; }
    struct DiffCase { address from; address to; bytes data; uint64 number; uint64 timestamp; bool ok; bytes ret; DiffLog[] logs; }
    struct DiffSlot { bytes32 slot; bytes32 value; }
}

const IDENTITY: Address = address!("0x0000000000000000000000000000000000008004");
const REPUTATION: Address = address!("0x0000000000000000000000000000000000008005");
const CAPABILITIES: Address = address!("0x0000000000000000000000000000000000008007");
const SESSIONS: Address = address!("0x0000000000000000000000000000000000008008");
const INTERACTIONS: Address = address!("0x0000000000000000000000000000000000008009");
const AGENT_STATE: &str = "0x0000000000000000000000000000000000008000";

/// Sends scenario calls and records what the node answered.
struct Scenario<'a> {
    node: &'a Node,
    keys: Vec<alloy_signer_local::PrivateKeySigner>,
    nonces: Vec<u64>,
    cases: Vec<DiffCase>,
    changed: BTreeMap<String, ()>,
}

impl Scenario<'_> {
    fn addr(&self, who: usize) -> Address {
        self.keys[who].address()
    }

    /// `who` calls `to` with `call`; returns whether it succeeded.
    fn call(&mut self, who: usize, to: Address, call: impl SolCall) -> bool {
        let data = call.abi_encode();
        let (raw, hash) =
            signed_call(&self.keys[who], self.nonces[who], Some(to), U256::ZERO, &data, 3_000_000);
        self.nonces[who] += 1;
        let sent = self.node.rpc("eth_sendRawTransaction", json!([raw]));
        assert_eq!(sent, hash.as_str());
        let r = self.node.wait_receipt(&hash, Duration::from_secs(30));
        let block = self.node.rpc("eth_getBlockByNumber", json!([r["blockNumber"], false]));
        let trace =
            self.node.rpc("debug_traceTransaction", json!([hash, {"tracer": "callTracer"}]));
        let ret: Bytes = serde_json::from_value(trace["output"].clone()).unwrap_or_default();
        let diff = self.node.rpc(
            "debug_traceTransaction",
            json!([hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]),
        );
        for side in ["pre", "post"] {
            if let Some(s) = diff[side][AGENT_STATE]["storage"].as_object() {
                self.changed.extend(s.keys().map(|k| (k.clone(), ())));
            }
        }
        let logs = r["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| DiffLog {
                emitter: serde_json::from_value(l["address"].clone()).unwrap(),
                topics: serde_json::from_value(l["topics"].clone()).unwrap(),
                data: serde_json::from_value(l["data"].clone()).unwrap(),
            })
            .collect();
        let ok = r["status"] == "0x1";
        self.cases.push(DiffCase {
            from: self.addr(who),
            to,
            data: data.into(),
            number: hex_u64(&r["blockNumber"]),
            timestamp: hex_u64(&block["timestamp"]),
            ok,
            ret,
            logs,
        });
        ok
    }
}

#[test]
fn the_twins_answer_log_and_write_what_the_native_precompiles_do() {
    let node = Node::start(&[]);
    let keys = agnt2_primitives::dev_signers(5);
    let mut s = Scenario {
        node: &node,
        nonces: vec![0; keys.len()],
        keys,
        cases: Vec::new(),
        changed: BTreeMap::new(),
    };
    let (a, b, c, d) = (s.addr(0), s.addr(1), s.addr(2), s.addr(3));
    // Blocks follow the wall clock (the genesis block is at time 0).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let long = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/agent.json";
    let id = U256::from;
    let meta = |k: &str, v: &[u8]| IIdentityRegistry::MetadataEntry {
        metadataKey: k.into(),
        metadataValue: v.to_vec().into(),
    };

    // Identity: three agents (short and long URIs, metadata), reads, reverts, a transfer that
    // moves the owner's list, the reserved key, a signed agent wallet.
    assert!(s.call(0, IDENTITY, IIdentityRegistry::register_1Call { agentURI: "ipfs://a".into() }));
    let entries = vec![meta("k", b"v"), meta("role", &[7u8; 40])];
    s.call(
        0,
        IDENTITY,
        IIdentityRegistry::register_2Call { agentURI: long.into(), metadata: entries },
    );
    s.call(1, IDENTITY, IIdentityRegistry::register_0Call {});
    let reserved = vec![meta("agentWallet", b"x")];
    s.call(
        0,
        IDENTITY,
        IIdentityRegistry::register_2Call { agentURI: "".into(), metadata: reserved },
    );
    s.call(
        0,
        IDENTITY,
        IIdentityRegistry::setMetadataCall {
            agentId: id(1),
            metadataKey: "agentWallet".into(),
            metadataValue: b"x".to_vec().into(),
        },
    );
    s.call(
        1,
        IDENTITY,
        IIdentityRegistry::setAgentURICall { agentId: id(1), newURI: "mine".into() },
    );
    s.call(
        0,
        IDENTITY,
        IIdentityRegistry::setAgentURICall { agentId: id(2), newURI: "short".into() },
    );
    s.call(0, IDENTITY, IIdentityRegistry::setAgentURICall { agentId: id(1), newURI: long.into() });
    s.call(
        0,
        IDENTITY,
        IIdentityRegistry::setMetadataCall {
            agentId: id(2),
            metadataKey: "role".into(),
            metadataValue: b"seller".to_vec().into(),
        },
    );
    s.call(
        2,
        IDENTITY,
        IIdentityRegistry::getMetadataCall { agentId: id(2), metadataKey: "role".into() },
    );
    s.call(
        2,
        IDENTITY,
        IIdentityRegistry::getMetadataCall { agentId: id(2), metadataKey: "agentWallet".into() },
    );
    s.call(
        2,
        IDENTITY,
        IIdentityRegistry::getMetadataCall { agentId: id(9), metadataKey: "k".into() },
    );
    s.call(2, IDENTITY, IIdentityRegistry::tokenURICall { tokenId: id(1) });
    s.call(2, IDENTITY, IIdentityRegistry::ownerOfCall { tokenId: id(99) });
    s.call(2, IDENTITY, IIdentityRegistry::balanceOfCall { owner: Address::ZERO });
    s.call(2, IDENTITY, IIdentityRegistry::nameCall {});
    s.call(2, IDENTITY, IIdentityRegistry::symbolCall {});
    s.call(0, IDENTITY, IIdentityRegistry::transferFromCall { from: a, to: b, tokenId: id(1) });
    s.call(1, IDENTITY, IIdentityRegistry::transferFromCall { from: a, to: c, tokenId: id(2) });
    s.call(
        0,
        IDENTITY,
        IIdentityRegistry::safeTransferFromCall { from: a, to: Address::ZERO, tokenId: id(2) },
    );
    s.call(2, IDENTITY, IIdentityRegistry::tokenOfOwnerByIndexCall { owner: a, index: U256::ZERO });
    s.call(
        2,
        IDENTITY,
        IIdentityRegistry::tokenOfOwnerByIndexCall { owner: b, index: U256::from(1) },
    );
    s.call(
        2,
        IDENTITY,
        IIdentityRegistry::tokenOfOwnerByIndexCall { owner: a, index: U256::from(1) },
    );
    s.call(2, IDENTITY, IIdentityRegistry::balanceOfCall { owner: b });
    s.call(2, IDENTITY, IIdentityRegistry::totalAgentsCall {});
    let latest = hex_u64(&node.rpc("eth_getBlockByNumber", json!(["latest", false]))["timestamp"]);
    let deadline = U256::from(latest + 200);
    let proof = AgentWalletSet { agentId: id(3), newWallet: d, owner: b, deadline };
    let domain = eip712_domain! {
        name: "ERC8004IdentityRegistry",
        version: "1",
        chain_id: 80042,
        verifying_contract: IDENTITY,
    };
    let sig = s.keys[3].sign_hash_sync(&proof.eip712_signing_hash(&domain)).unwrap();
    let signature: Bytes = sig.as_bytes().to_vec().into();
    assert!(s.call(
        1,
        IDENTITY,
        IIdentityRegistry::setAgentWalletCall {
            agentId: id(3),
            newWallet: d,
            deadline,
            signature: signature.clone()
        }
    ));
    s.call(
        1,
        IDENTITY,
        IIdentityRegistry::setAgentWalletCall { agentId: id(3), newWallet: c, deadline, signature },
    );
    s.call(
        1,
        IDENTITY,
        IIdentityRegistry::setAgentWalletCall {
            agentId: id(3),
            newWallet: d,
            deadline,
            signature: vec![1u8; 64].into(),
        },
    );
    s.call(2, IDENTITY, IIdentityRegistry::getAgentWalletCall { agentId: id(3) });
    s.call(
        2,
        IDENTITY,
        IIdentityRegistry::getMetadataCall { agentId: id(3), metadataKey: "agentWallet".into() },
    );

    // Reputation: feedback with tags and decimals, the owner refused, a revoke, responses,
    // summaries, the reads.
    let fb = |agent: u64, value: i128, decimals: u8, tag1: &str, tag2: &str| {
        IReputationRegistry::giveFeedbackCall {
            agentId: id(agent),
            value,
            valueDecimals: decimals,
            tag1: tag1.into(),
            tag2: tag2.into(),
            endpoint: "https://agent.example/api".into(),
            feedbackURI: "ipfs://feedback".into(),
            feedbackHash: B256::repeat_byte(9),
        }
    };
    assert!(s.call(2, REPUTATION, fb(2, 85, 0, "quality", "fast")));
    s.call(2, REPUTATION, fb(2, -35, 1, "quality", ""));
    s.call(3, REPUTATION, fb(2, 9_500, 2, "uptime", "a tag longer than thirty-one bytes"));
    s.call(4, REPUTATION, fb(2, 7, 0, "quality", "fast"));
    s.call(0, REPUTATION, fb(2, 100, 0, "self", ""));
    s.call(2, REPUTATION, fb(2, 1, 19, "", ""));
    s.call(2, REPUTATION, fb(99, 1, 0, "", ""));
    s.call(
        2,
        REPUTATION,
        IReputationRegistry::revokeFeedbackCall { agentId: id(2), feedbackIndex: 1 },
    );
    s.call(
        2,
        REPUTATION,
        IReputationRegistry::revokeFeedbackCall { agentId: id(2), feedbackIndex: 1 },
    );
    s.call(
        3,
        REPUTATION,
        IReputationRegistry::revokeFeedbackCall { agentId: id(2), feedbackIndex: 5 },
    );
    let respond = |client: Address, index: u64| IReputationRegistry::appendResponseCall {
        agentId: id(2),
        clientAddress: client,
        feedbackIndex: index,
        responseURI: "ipfs://response".into(),
        responseHash: B256::repeat_byte(3),
    };
    s.call(0, REPUTATION, respond(c, 2));
    s.call(1, REPUTATION, respond(c, 2));
    s.call(1, REPUTATION, respond(c, 7));
    let summary = |clients: Vec<Address>, tag1: &str| IReputationRegistry::getSummaryCall {
        agentId: id(2),
        clientAddresses: clients,
        tag1: tag1.into(),
        tag2: String::new(),
    };
    s.call(4, REPUTATION, summary(vec![c, d, s.addr(4)], ""));
    s.call(4, REPUTATION, summary(vec![c, s.addr(4)], "quality"));
    s.call(4, REPUTATION, summary(vec![], ""));
    s.call(
        4,
        REPUTATION,
        IReputationRegistry::readFeedbackCall {
            agentId: id(2),
            clientAddress: c,
            feedbackIndex: 1,
        },
    );
    s.call(
        4,
        REPUTATION,
        IReputationRegistry::readFeedbackCall {
            agentId: id(2),
            clientAddress: c,
            feedbackIndex: 3,
        },
    );
    s.call(
        4,
        REPUTATION,
        IReputationRegistry::readAllFeedbackCall {
            agentId: id(2),
            clientAddresses: vec![],
            tag1: String::new(),
            tag2: String::new(),
            includeRevoked: true,
        },
    );
    s.call(
        4,
        REPUTATION,
        IReputationRegistry::readAllFeedbackCall {
            agentId: id(2),
            clientAddresses: vec![d, c],
            tag1: "quality".into(),
            tag2: String::new(),
            includeRevoked: false,
        },
    );
    s.call(
        4,
        REPUTATION,
        IReputationRegistry::getResponseCountCall {
            agentId: id(2),
            clientAddress: c,
            feedbackIndex: 2,
            responders: vec![],
        },
    );
    s.call(
        4,
        REPUTATION,
        IReputationRegistry::getResponseCountCall {
            agentId: id(2),
            clientAddress: c,
            feedbackIndex: 2,
            responders: vec![b, d],
        },
    );
    s.call(4, REPUTATION, IReputationRegistry::getClientsCall { agentId: id(2) });
    s.call(
        4,
        REPUTATION,
        IReputationRegistry::getLastIndexCall { agentId: id(2), clientAddress: c },
    );
    s.call(4, REPUTATION, IReputationRegistry::getIdentityRegistryCall {});

    // Capabilities: grants (one expiring), a revoke that moves the list, the reads, reverts.
    let cap = |n: &str| keccak256(n.as_bytes());
    let grant = |c: &str, limit: u64, expiry: u64| ICapabilities::grantCall {
        agentId: id(2),
        capability: cap(c),
        scope: B256::repeat_byte(5),
        limit: U256::from(limit),
        expiry,
    };
    assert!(s.call(0, CAPABILITIES, grant("pay", 100, 0)));
    s.call(0, CAPABILITIES, grant("sign", 5, now + 100_000));
    s.call(0, CAPABILITIES, grant("post", 1, 0));
    s.call(0, CAPABILITIES, grant("pay", 200, now + 50_000));
    s.call(0, CAPABILITIES, grant("late", 1, 1));
    s.call(1, CAPABILITIES, grant("theirs", 1, 0));
    s.call(
        0,
        CAPABILITIES,
        ICapabilities::grantCall {
            agentId: id(2),
            capability: B256::ZERO,
            scope: B256::ZERO,
            limit: U256::ZERO,
            expiry: 0,
        },
    );
    s.call(0, CAPABILITIES, ICapabilities::revokeCall { agentId: id(2), capability: cap("pay") });
    s.call(0, CAPABILITIES, ICapabilities::revokeCall { agentId: id(2), capability: cap("pay") });
    s.call(4, CAPABILITIES, ICapabilities::hasCall { agentId: id(2), capability: cap("sign") });
    s.call(4, CAPABILITIES, ICapabilities::hasCall { agentId: id(2), capability: cap("pay") });
    s.call(4, CAPABILITIES, ICapabilities::getCall { agentId: id(2), capability: cap("post") });
    s.call(4, CAPABILITIES, ICapabilities::getCall { agentId: id(2), capability: cap("pay") });
    s.call(4, CAPABILITIES, ICapabilities::listCall { agentId: id(2) });

    // Sessions: two keys (one with counterparties), spends, the limit, a close that moves the
    // list, a reopen that starts a new epoch, the reads.
    let (k1, k2) = (Address::repeat_byte(0x51), Address::repeat_byte(0x52));
    let (x, y, z) =
        (Address::repeat_byte(0x0a), Address::repeat_byte(0x0b), Address::repeat_byte(0x0c));
    let open = |key: Address, limit: u64, parties: Vec<Address>| ISessions::openCall {
        agentId: id(2),
        key,
        expiry: now + 100_000,
        spendLimit: U256::from(limit),
        counterparties: parties,
    };
    assert!(s.call(0, SESSIONS, open(k1, 1_000, vec![])));
    s.call(0, SESSIONS, open(k2, 500, vec![x, y]));
    s.call(1, SESSIONS, open(k1, 1, vec![]));
    s.call(
        0,
        SESSIONS,
        ISessions::openCall {
            agentId: id(2),
            key: k1,
            expiry: 1,
            spendLimit: U256::ZERO,
            counterparties: vec![],
        },
    );
    let valid = |key: Address, party: Address| ISessions::isValidCall {
        agentId: id(2),
        key,
        counterparty: party,
    };
    s.call(4, SESSIONS, valid(k2, x));
    s.call(4, SESSIONS, valid(k2, z));
    let spend = |key: Address, party: Address, amount: u64| ISessions::recordSpendCall {
        agentId: id(2),
        key,
        counterparty: party,
        amount: U256::from(amount),
    };
    s.call(0, SESSIONS, spend(k2, x, 200));
    s.call(0, SESSIONS, spend(k2, x, 400));
    s.call(0, SESSIONS, spend(k2, z, 1));
    s.call(4, SESSIONS, spend(k2, x, 1));
    s.call(4, SESSIONS, ISessions::getCall { agentId: id(2), key: k2 });
    s.call(4, SESSIONS, ISessions::listCall { agentId: id(2) });
    s.call(0, SESSIONS, ISessions::closeCall { agentId: id(2), key: k1 });
    s.call(0, SESSIONS, ISessions::closeCall { agentId: id(2), key: k1 });
    s.call(0, SESSIONS, open(k2, 300, vec![y]));
    s.call(4, SESSIONS, valid(k2, x));
    s.call(4, SESSIONS, valid(k2, y));
    s.call(4, SESSIONS, ISessions::getCall { agentId: id(2), key: k2 });
    s.call(4, SESSIONS, ISessions::getCall { agentId: id(2), key: k1 });
    s.call(4, SESSIONS, ISessions::listCall { agentId: id(2) });

    // Interactions: pairs, one-sided, the same agent twice, nothing named; the reads.
    let record = |a: u64, b: u64, volume: u64| IInteractions::recordCall {
        agentA: id(a),
        agentB: id(b),
        volume: U256::from(volume),
    };
    assert!(s.call(2, INTERACTIONS, record(2, 3, 100)));
    s.call(2, INTERACTIONS, record(2, 3, 50));
    s.call(2, INTERACTIONS, record(0, 3, 5));
    s.call(2, INTERACTIONS, record(3, 3, 1));
    s.call(2, INTERACTIONS, record(0, 0, 1));
    s.call(4, INTERACTIONS, IInteractions::getCall { attester: c, agentA: id(2), agentB: id(3) });
    s.call(4, INTERACTIONS, IInteractions::totalsCall { attester: c, agentId: id(3) });
    s.call(4, INTERACTIONS, IInteractions::totalsCall { attester: c, agentId: id(2) });

    // The scenario did something: agents, reverts with reasons, logs, slots.
    let reverted = s.cases.iter().filter(|c| !c.ok).count();
    assert!(reverted >= 20 && s.cases.len() - reverted >= 40, "{reverted} of {}", s.cases.len());
    assert!(s.cases.iter().any(|c| !c.ok && c.ret.len() > 4), "revert reasons recorded");
    assert!(s.changed.len() > 50, "{} slots changed", s.changed.len());
    eprintln!(
        "scenario: {} calls, {reverted} reverted, {} slots changed",
        s.cases.len(),
        s.changed.len()
    );
    let slots: Vec<DiffSlot> = s
        .changed
        .keys()
        .map(|k| {
            let v = node.rpc("eth_getStorageAt", json!([AGENT_STATE, k, "latest"]));
            DiffSlot { slot: k.parse().unwrap(), value: serde_json::from_value::<B256>(v).unwrap() }
        })
        .collect();
    let encoded = (s.cases, slots).abi_encode_params();
    // Too large for an environment variable: a file under contracts/cache (the script may read
    // there), removed when the test ends.
    let cache = workspace().join("contracts/cache");
    std::fs::create_dir_all(&cache).unwrap();
    let file = tempfile::Builder::new().prefix("twins-diff-").tempfile_in(&cache).unwrap();
    std::fs::write(file.path(), &encoded).unwrap();
    let out = Command::new(tool("forge"))
        .current_dir(workspace().join("contracts"))
        .args(["script", "script/TwinsDifferential.s.sol"])
        .env("AGNT2_DIFF", file.path())
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the twins differ from the node:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Script ran successfully"), "{stdout}");
}
