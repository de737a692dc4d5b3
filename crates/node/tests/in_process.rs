//! The chain and its RPC handlers in one process, without a server or a binary: a real MDBX
//! datadir in a temp dir, the methods called through jsonrpsee's in-process `Methods::call`.
//! Covers the `eth` reads and writes, the devnet controls (snapshot/revert, balances, manual
//! mining), the `agent_` namespace over the Identity precompile, and `optimism_`.

use agnt2_node::{Chain, ChainConfig, RpcServerConfig};
use agnt2_primitives::{ChainSpec, dev_signers};
use agnt2_rpc::ChainApi;
use alloy_sol_types::{SolCall, sol};
use jsonrpsee::MethodsError;
use serde_json::{Value, json};
use std::sync::Arc;

sol! {
    function register(string agentURI) external returns (uint256 agentId);
}

struct Fixture {
    chain: Arc<Chain>,
    methods: jsonrpsee::Methods,
    _dir: tempfile::TempDir,
}

fn fixture(dev: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ChainConfig::dev();
    config.dev = dev;
    let chain = Chain::open(Arc::new(ChainSpec::devnet()), dir.path(), config).unwrap();
    let rpc = RpcServerConfig::new("127.0.0.1:0".parse().unwrap(), dev);
    let methods = agnt2_rpc::methods(&rpc, chain.clone()).expect("method names are unique");
    Fixture { chain, methods, _dir: dir }
}

impl Fixture {
    async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, MethodsError> {
        self.methods.call::<_, Value>(method, params).await
    }

    async fn ok(&self, method: &str, params: Vec<Value>) -> Value {
        self.call(method, params).await.unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Sends from dev account 0 and mines the block (manual mining); the receipt.
    async fn send_and_mine(&self, tx: Value) -> Value {
        let hash = self.ok("eth_sendTransaction", vec![tx]).await;
        self.ok("evm_mine", vec![]).await;
        self.ok("eth_getTransactionReceipt", vec![hash]).await
    }
}

fn quantity(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eth_reads_and_writes_and_manual_mining() {
    let f = fixture(true);
    assert_eq!(quantity(&f.ok("eth_chainId", vec![]).await), f.chain.chain_spec().chain_id());
    assert_eq!(quantity(&f.ok("eth_blockNumber", vec![]).await), 0);
    let [a, b] = [0, 1].map(|i| dev_signers(2)[i].address());
    assert_eq!(f.ok("eth_accounts", vec![]).await[0], json!(a));
    let before = f.ok("eth_getBalance", vec![json!(b), json!("latest")]).await;
    let r = f.send_and_mine(json!({"from": a, "to": b, "value": "0x64"})).await;
    assert_eq!(r["status"], "0x1", "{r}");
    assert_eq!(quantity(&f.ok("eth_blockNumber", vec![]).await), 1, "one block, mined on request");
    let after = f.ok("eth_getBalance", vec![json!(b), json!("latest")]).await;
    let [before, after] = [before, after].map(|v| {
        alloy_primitives::U256::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap()
    });
    assert_eq!(after - before, alloy_primitives::U256::from(100));
    // The balance at the parent block is still the old one.
    let old = f.ok("eth_getBalance", vec![json!(b), json!("0x0")]).await;
    assert_eq!(
        alloy_primitives::U256::from_str_radix(old.as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap(),
        before
    );
    // Bad input is an invalid-params error, not a panic.
    let err = f.call("eth_getBalance", vec![json!("not an address")]).await.unwrap_err();
    let MethodsError::JsonRpc(err) = err else { panic!("not a JSON-RPC error: {err}") };
    assert_eq!(err.code(), -32602, "{err}");
    assert!(format!("{:?}", err.data()).contains("invalid"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_controls_snapshot_revert_and_edit_state() {
    let f = fixture(true);
    let who = "0x00000000000000000000000000000000000000aa";
    let id = f.ok("evm_snapshot", vec![]).await;
    f.ok("anvil_setBalance", vec![json!(who), json!("0x2a")]).await;
    f.ok("evm_mine", vec![]).await;
    assert_eq!(f.ok("eth_getBalance", vec![json!(who), json!("latest")]).await, "0x2a");
    assert_eq!(f.ok("evm_revert", vec![id.clone()]).await, true);
    assert_eq!(quantity(&f.ok("eth_blockNumber", vec![]).await), 0);
    assert_eq!(f.ok("eth_getBalance", vec![json!(who), json!("latest")]).await, "0x0");
    // A snapshot is consumed by its revert.
    assert_eq!(f.ok("evm_revert", vec![id]).await, false);
    // Time only moves forward: the head's own timestamp is refused.
    let head = f.ok("eth_getBlockByNumber", vec![json!("latest"), json!(false)]).await;
    let ts = quantity(&head["timestamp"]);
    let err = f.call("evm_setNextBlockTimestamp", vec![json!(ts)]).await.unwrap_err();
    assert!(err.to_string().contains("is not after the head block"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dev_the_controls_and_keys_are_absent() {
    let f = fixture(false);
    for method in ["evm_mine", "anvil_setBalance", "evm_snapshot", "hardhat_impersonateAccount"] {
        let err = f.call(method, vec![]).await.unwrap_err();
        assert!(
            matches!(err, MethodsError::JsonRpc(ref e) if e.code() == -32601),
            "{method}: {err}"
        );
    }
    assert_eq!(f.ok("eth_accounts", vec![]).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_reads_follow_the_identity_precompile() {
    let f = fixture(true);
    let owner = dev_signers(1)[0].address();
    let data = registerCall { agentURI: "ipfs://in-process".into() }.abi_encode();
    let identity = "0x0000000000000000000000000000000000008004";
    let r = f
        .send_and_mine(
            json!({"from": owner, "to": identity, "data": alloy_primitives::Bytes::from(data)}),
        )
        .await;
    assert_eq!(r["status"], "0x1", "{r}");
    let agent = f.ok("agent_getAgent", vec![json!("0x1")]).await;
    assert_eq!(agent["agentURI"], "ipfs://in-process", "{agent}");
    assert_eq!(agent["owner"].as_str().unwrap().to_lowercase(), owner.to_string().to_lowercase());
    // Not there at genesis.
    assert_eq!(f.ok("agent_getAgent", vec![json!("0x1"), json!("0x0")]).await, Value::Null);
    let by_owner = f.ok("agent_getAgentsByOwner", vec![json!(owner)]).await;
    assert_eq!(by_owner.as_array().map(Vec::len), Some(1), "{by_owner}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimism_output_roots_and_sync_status() {
    let f = fixture(true);
    f.ok("evm_mine", vec![]).await;
    let out = f.ok("optimism_outputAtBlock", vec![json!("0x1")]).await;
    assert!(out["outputRoot"].as_str().is_some_and(|r| r.len() == 66), "{out}");
    assert_eq!(out["blockRef"]["number"], 1, "{out}");
    let status = f.ok("optimism_syncStatus", vec![]).await;
    assert_eq!(status["unsafe_l2"]["number"], 1, "{status}");
    // A block that does not exist yet.
    assert!(f.call("optimism_outputAtBlock", vec![json!("0x9")]).await.is_err());
}
