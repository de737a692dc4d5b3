//! Settlement: `agnt2 launch` deploys the OP Stack's own L1 contracts (contracts-bedrock forge
//! artifacts from npm) on a real anvil, reuses them on a second launch, and starts the node.

mod common;

use common::{Anvil, DEV_ADDR0, DEV_KEY0, agnt2_bin, cast, workspace};
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::Duration,
};

fn launch(l1: &str, datadir: &Path, extra: &[&str]) -> std::process::Output {
    launch_env(l1, datadir, extra, &[])
}

/// [`launch`] with `env` set for the child (`SSL_CERT_FILE` of a TLS test).
fn launch_env(l1: &str, datadir: &Path, extra: &[&str], env: &[(&str, PathBuf)]) -> Output {
    Command::new(agnt2_bin())
        .current_dir(workspace())
        .args(["launch", "--dev", "--l1.rpc-url", l1, "--l1.key", DEV_KEY0, "--datadir"])
        .arg(datadir)
        .args(extra)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run agnt2 launch")
}

/// The deployment `launch` recorded in `dir`.
fn deployment(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("l1-deployment.json")).unwrap()).unwrap()
}

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "launch failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn launch_deploys_the_op_contracts_once_and_they_take_deposits() {
    let anvil = Anvil::start();
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&launch(&l1, dir.path(), &["--deploy-only", "--finalization-period", "30"]));
    assert!(out.contains("deployed on L1 chain 31337"), "{out}");
    let d = deployment(dir.path());
    let (portal, oracle, system) = (
        d["optimismPortal"].as_str().unwrap(),
        d["l2OutputOracle"].as_str().unwrap(),
        d["systemConfig"].as_str().unwrap(),
    );
    // The real contracts, wired and configured (read with cast, not with agnt2's own code).
    assert_eq!(
        cast(&["call", portal, "l2Oracle()(address)", "--rpc-url", &l1]).to_lowercase(),
        oracle.to_lowercase()
    );
    assert_eq!(cast(&["call", portal, "version()(string)", "--rpc-url", &l1]), "\"2.8.1-beta.1\"");
    assert_eq!(cast(&["call", oracle, "PROPOSER()(address)", "--rpc-url", &l1]), DEV_ADDR0);
    assert_eq!(
        cast(&["call", oracle, "FINALIZATION_PERIOD_SECONDS()(uint256)", "--rpc-url", &l1]),
        "30"
    );
    assert!(
        cast(&["call", system, "gasLimit()(uint64)", "--rpc-url", &l1]).starts_with("30000000")
    );

    // A second launch reuses the deployment: nothing is sent to the L1.
    let nonce = cast(&["nonce", DEV_ADDR0, "--rpc-url", &l1]);
    let out = ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    assert!(out.contains("reusing"), "{out}");
    assert_eq!(cast(&["nonce", DEV_ADDR0, "--rpc-url", &l1]), nonce);

    // The portal takes a deposit and emits the OP TransactionDeposited event.
    let receipt = cast(&[
        "send",
        portal,
        "depositTransaction(address,uint256,uint64,bool,bytes)",
        "0x00000000000000000000000000000000000000aa",
        "1000",
        "100000",
        "false",
        "0x",
        "--value",
        "1000",
        "--private-key",
        DEV_KEY0,
        "--rpc-url",
        &l1,
        "--json",
    ]);
    let r: Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(r["status"], "0x1");
    let topic = cast(&["keccak", "TransactionDeposited(address,address,uint256,bytes)"]);
    let log = r["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["topics"][0] == topic.as_str())
        .expect("TransactionDeposited");
    assert_eq!(log["address"].as_str().unwrap().to_lowercase(), portal.to_lowercase());

    // Another L1 (a fresh anvil has none of these contracts): a clear refusal, nothing deployed.
    let other = Anvil::start();
    let out = launch(&format!("http://{}", other.addr), dir.path(), &["--deploy-only"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not match the L1"), "{err}");
    assert_eq!(cast(&["nonce", DEV_ADDR0, "--rpc-url", &format!("http://{}", other.addr)]), "0");
}

#[test]
fn launch_starts_the_node_after_deploying() {
    let anvil = Anvil::start();
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(agnt2_bin())
        .current_dir(workspace())
        .args([
            "launch",
            "--dev",
            "--l1.rpc-url",
            &l1,
            "--l1.key",
            DEV_KEY0,
            "--http.port",
            "0",
            "--datadir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut addr = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        if let Some(a) = line.strip_prefix("Listening on ") {
            addr = Some(a.trim().to_string());
            break;
        }
    }
    let addr = addr.expect("the node did not start");
    let id = common::post_raw(
        addr.parse().unwrap(),
        br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#,
    );
    assert!(id.1.contains("result"), "{}", id.1);
    // The L2 genesis commits to the L1 deployment: its L1Block holds the L1 block before the
    // portal's initialization, and its timestamp is the oracle's starting timestamp.
    let l2 = format!("http://{addr}");
    let d = deployment(dir.path());
    let origin = d["l1StartBlock"].as_u64().unwrap() - 1;
    let at0 = ["--block", "0", "--rpc-url", l2.as_str()];
    let number = cast(
        &[&["call", "0x4200000000000000000000000000000000000015", "number()(uint64)"][..], &at0]
            .concat(),
    );
    assert_eq!(number, origin.to_string());
    let hash = cast(
        &[&["call", "0x4200000000000000000000000000000000000015", "hash()(bytes32)"][..], &at0]
            .concat(),
    );
    let l1_hash = cast(&["block", &origin.to_string(), "--field", "hash", "--rpc-url", &l1]);
    assert_eq!(hash, l1_hash);
    let genesis_time = cast(&["block", "0", "--field", "timestamp", "--rpc-url", &l2]);
    let oracle = d["l2OutputOracle"].as_str().unwrap();
    let start = cast(&["call", oracle, "startingTimestamp()(uint256)", "--rpc-url", &l1]);
    assert_eq!(start.split_whitespace().next().unwrap(), genesis_time);
    let _ = child.kill();
    let _ = child.wait();
    assert!(dir.path().join("genesis.json").exists());
}

/// `agnt2 launch` running as a node against an L1; killed on drop.
struct Launched {
    child: std::process::Child,
    url: String,
    /// Its log (stderr).
    log: PathBuf,
}

impl Launched {
    fn start(l1: &str, datadir: &Path) -> Self {
        Self::start_env(l1, datadir, &[])
    }

    fn start_args(l1: &str, datadir: &Path, args: &[&str]) -> Self {
        Self::spawn(l1, datadir, &[], args)
    }

    fn start_env(l1: &str, datadir: &Path, env: &[(&str, PathBuf)]) -> Self {
        Self::spawn(l1, datadir, env, &[])
    }

    fn spawn(l1: &str, datadir: &Path, env: &[(&str, PathBuf)], args: &[&str]) -> Self {
        let mut launch = vec!["launch", "--dev", "--l1.rpc-url", l1, "--l1.key", DEV_KEY0];
        launch.extend(["--http.port", "0", "--block-time", "200"]);
        if !args.contains(&"--l1.poll-ms") {
            launch.extend(["--l1.poll-ms", "50"]);
        }
        launch.extend(args);
        Self::run(&launch, datadir, env)
    }

    /// A follower of the rollup launched in `seq_dir`: its genesis.json and rollup.json and the
    /// L1, nothing else.
    fn follower(l1: &str, seq_dir: &Path, datadir: &Path, sequencer: &str) -> Self {
        let genesis = seq_dir.join("genesis.json");
        let rollup = seq_dir.join("rollup.json");
        let args = [
            "node",
            "--chain",
            genesis.to_str().unwrap(),
            "--rollup.config",
            rollup.to_str().unwrap(),
            "--l1.rpc-url",
            l1,
            "--http.port",
            "0",
            "--rollup.sequencer-http",
            sequencer,
        ];
        Self::run(&args, datadir, &[])
    }

    fn run(args: &[&str], datadir: &Path, env: &[(&str, PathBuf)]) -> Self {
        let mut child = Command::new(agnt2_bin())
            .current_dir(workspace())
            .args(args)
            .arg("--datadir")
            .arg(datadir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            // Its log, for the failure messages of the tests that wait on it.
            .stderr(std::fs::File::create(datadir.join("node.log")).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(a) = line.strip_prefix("Listening on ") {
                        let log = datadir.join("node.log");
                        return Self { child, url: format!("http://{}", a.trim()), log };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("agnt2 launch did not start");
                }
            }
        }
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        let client = agnt2_client::Client::new(&self.url).unwrap();
        client.call(method, params).unwrap_or_else(|e| panic!("{method}: {e:#}"))
    }

    /// Every user deposit (type 0x7e, not the L1-info one) in the chain, oldest first.
    ///
    /// An L1 reorg unwinds L2 blocks while the scan runs, so a block below the head read at the
    /// start can be gone (`null`): the scan starts again from the new head.
    fn deposits(&self) -> Vec<Value> {
        'scan: loop {
            let head = common::hex_u64(&self.rpc("eth_blockNumber", serde_json::json!([])));
            let mut out = Vec::new();
            for n in 1..=head {
                let b =
                    self.rpc("eth_getBlockByNumber", serde_json::json!([format!("0x{n:x}"), true]));
                let Some(txs) = b["transactions"].as_array() else {
                    assert!(b.is_null(), "block {n} is neither a block nor null: {b}");
                    continue 'scan;
                };
                for t in txs {
                    if t["type"] == "0x7e"
                        && t["from"].as_str().unwrap().to_lowercase()
                            != "0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001"
                    {
                        out.push(t.clone());
                    }
                }
            }
            return out;
        }
    }

    /// Waits until the chain holds `n` user deposits (two minutes: a loaded CI machine).
    fn wait_deposits(&self, n: usize) -> Vec<Value> {
        wait_for(
            &format!("fewer than {n} deposits arrived"),
            &[&self.log],
            Duration::from_secs(120),
            || self.deposits().len() >= n,
        );
        self.deposits()
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn deposit(
    l1: &str,
    portal: &str,
    key: &str,
    to: &str,
    value: &str,
    gas: &str,
    data: &str,
) -> Value {
    let r = cast(&[
        "send",
        portal,
        "depositTransaction(address,uint256,uint64,bool,bytes)",
        to,
        value,
        gas,
        "false",
        data,
        "--value",
        value,
        "--private-key",
        key,
        "--rpc-url",
        l1,
        "--json",
    ]);
    let receipt: Value = serde_json::from_str(&r).unwrap();
    assert_eq!(receipt["status"], "0x1", "the deposit failed on the L1: {receipt}");
    receipt
}

const DEV_KEY1: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

#[test]
fn deposits_execute_on_l2_exactly_once_with_the_right_sender_across_a_kill9() {
    let anvil = Anvil::start();
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    let mut node = Launched::start(&l1, dir.path());
    let d = deployment(dir.path());
    let portal = d["optimismPortal"].as_str().unwrap().to_string();
    let target = "0x00000000000000000000000000000000000000aa";

    // ETH from an EOA: the L2 sender is the EOA, the target gets the value.
    deposit(&l1, &portal, DEV_KEY1, target, "5000", "100000", "0x");
    let deps = node.wait_deposits(1);
    assert_eq!(deps[0]["from"].as_str().unwrap().to_lowercase(), common::DEV_ADDR1.to_lowercase());
    assert_eq!(node.rpc("eth_getBalance", serde_json::json!([target, "latest"])), "0x1388");
    let r = node.rpc("eth_getTransactionReceipt", serde_json::json!([deps[0]["hash"]]));
    assert_eq!(r["status"], "0x1");

    // A deposit whose L2 call reverts (value to the Identity precompile, which refuses it): the
    // mint still lands with the sender, the receipt records the failure.
    let before = node.rpc("eth_getBalance", serde_json::json!([common::DEV_ADDR1, "latest"]));
    deposit(
        &l1,
        &portal,
        DEV_KEY1,
        "0x0000000000000000000000000000000000008004",
        "777",
        "200000",
        "0xdeadbeef",
    );
    let deps = node.wait_deposits(2);
    let r = node.rpc("eth_getTransactionReceipt", serde_json::json!([deps[1]["hash"]]));
    assert_eq!(r["status"], "0x0", "{r}");
    let after = node.rpc("eth_getBalance", serde_json::json!([common::DEV_ADDR1, "latest"]));
    let num =
        |v: &Value| u128::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert_eq!(num(&after), num(&before) + 777, "the mint stays with the depositor");

    // From an L1 contract: the L2 sender is its alias.
    let caller =
        common::forge_create(&l1, DEV_KEY0, "src/settlement/DepositCaller.sol:DepositCaller", &[]);
    cast(&[
        "send",
        &caller,
        "deposit(address,address,uint64,bytes)",
        &portal,
        target,
        "100000",
        "0x",
        "--value",
        "42",
        "--private-key",
        DEV_KEY0,
        "--rpc-url",
        &l1,
    ]);
    let deps = node.wait_deposits(3);
    let alias = alloy_primitives::Address::from(
        (alloy_primitives::U160::from_be_slice(
            caller.parse::<alloy_primitives::Address>().unwrap().as_slice(),
        )
        .wrapping_add(alloy_primitives::U160::from_be_slice(
            "0x1111000000000000000000000000000000001111"
                .parse::<alloy_primitives::Address>()
                .unwrap()
                .as_slice(),
        )))
        .to_be_bytes::<20>(),
    );
    assert_eq!(deps[2]["from"].as_str().unwrap().to_lowercase(), alias.to_string().to_lowercase());

    // A call: the deposit runs a contract on L2 as the depositor.
    let counter = common::forge_create(
        &node.url,
        DEV_KEY0,
        "src/Counter.sol:Counter",
        &["--constructor-args", "5"],
    );
    let increment = cast(&["calldata", "increment()"]);
    deposit(&l1, &portal, DEV_KEY1, &counter, "0", "200000", &increment);
    let deps = node.wait_deposits(4);
    let r = node.rpc("eth_getTransactionReceipt", serde_json::json!([deps[3]["hash"]]));
    assert_eq!(r["status"], "0x1", "{r}");
    assert_eq!(cast(&["call", &counter, "number()(uint256)", "--rpc-url", &node.url]), "6");
    assert_eq!(
        cast(&[
            "call",
            &counter,
            "bumps(address)(uint256)",
            common::DEV_ADDR1,
            "--rpc-url",
            &node.url
        ]),
        "1"
    );

    // kill -9, a deposit while the node is down, restart: it arrives once, nothing repeats.
    node.kill9();
    deposit(&l1, &portal, DEV_KEY1, target, "1", "100000", "0x");
    let node = Launched::start(&l1, dir.path());
    let deps = node.wait_deposits(5);
    std::thread::sleep(Duration::from_millis(1500));
    let deps_later = node.deposits();
    assert_eq!(deps_later.len(), 5, "no deposit repeated: {deps_later:#?}");
    let hashes: std::collections::HashSet<_> = deps.iter().map(|t| t["hash"].clone()).collect();
    assert_eq!(hashes.len(), 5);
    assert_eq!(
        node.rpc("eth_getBalance", serde_json::json!([target, "latest"])),
        "0x13b3",
        "5000 + 42 + 1 = 5043"
    );
}

#[test]
fn the_proposer_posts_output_roots_the_node_serves_and_anyone_can_recompute() {
    // An L1 that makes blocks every second, as the oracle's clock needs time to pass.
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&launch(&l1, dir.path(), &["--deploy-only", "--submission-interval", "3"]));
    assert!(out.contains("deployed"), "{out}");
    let node = Launched::start(&l1, dir.path());
    let d = deployment(dir.path());
    let oracle = d["l2OutputOracle"].as_str().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let latest = || -> u64 {
        cast(&["call", oracle, "latestBlockNumber()(uint256)", "--rpc-url", &l1]).parse().unwrap()
    };
    while latest() < 6 {
        assert!(std::time::Instant::now() < deadline, "no second proposal within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The first proposal is for L2 block 3: the oracle holds the root the node serves, which is
    // keccak256(0 ‖ stateRoot ‖ withdrawalsRoot ‖ blockHash) of that block.
    let proposal = cast(&[
        "call",
        oracle,
        "getL2Output(uint256)((bytes32,uint128,uint128))",
        "0",
        "--rpc-url",
        &l1,
    ]);
    let served = node.rpc("optimism_outputAtBlock", serde_json::json!(["0x3"]));
    let root = served["outputRoot"].as_str().unwrap();
    assert!(proposal.contains(root), "oracle {proposal} vs node {root}");
    assert!(proposal.ends_with(" 3)"), "{proposal}");
    let b = node.rpc("eth_getBlockByNumber", serde_json::json!(["0x3", false]));
    let word = |k: &str| b[k].as_str().unwrap().trim_start_matches("0x").to_string();
    let pre = format!(
        "0x{}{}{}{}",
        "00".repeat(32),
        word("stateRoot"),
        word("withdrawalsRoot"),
        word("hash")
    );
    assert_eq!(cast(&["keccak", &pre]), root);
    assert_eq!(served["blockRef"]["number"], 3);
    assert!(served["blockRef"]["l1origin"]["number"].as_u64().is_some());

    let cfg = node.rpc("optimism_rollupConfig", serde_json::json!([]));
    assert_eq!(
        cfg["deposit_contract_address"].as_str().unwrap().to_lowercase(),
        d["optimismPortal"].as_str().unwrap().to_lowercase()
    );
    assert_eq!(cfg["l1_chain_id"], 31337);
    let status = node.rpc("optimism_syncStatus", serde_json::json!([]));
    assert!(status["unsafe_l2"]["number"].as_u64().unwrap() >= 6);
    assert!(status["head_l1"]["number"].as_u64().unwrap() > 0, "{status}");

    // The settlement benchmark runs against this setup and reports what it measured.
    let out = common::run(Command::new(agnt2_bin()).args([
        "bench",
        "settlement",
        "--l1.rpc-url",
        &l1,
        "--l2.rpc-url",
        &node.url,
        "--deposits",
        "2",
        "--json",
    ]));
    let r: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(r["deposits"], 2);
    assert!(r["deposit_latency_p50_ms"].as_f64().unwrap() > 0.0);
    assert!(r["deposit_l1_gas"].as_u64().unwrap() > 21_000);
    assert!(r["propose_l1_gas"].as_u64().unwrap() > 21_000, "{r}");
}

/// Runs `agnt2 bridge …` as dev account 1; (success, stdout, stderr).
fn bridge(l1: &str, l2: &str, args: &[&str]) -> (bool, String, String) {
    bridge_env(l1, l2, args, &[])
}

fn bridge_env(
    l1: &str,
    l2: &str,
    args: &[&str],
    env: &[(&str, PathBuf)],
) -> (bool, String, String) {
    let out = Command::new(agnt2_bin())
        .arg("bridge")
        .args(args)
        .args(["--l1.rpc-url", l1, "--l2.rpc-url", l2, "--private-key", DEV_KEY1])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn bridge_ok(l1: &str, l2: &str, args: &[&str]) -> String {
    let (ok, out, err) = bridge(l1, l2, args);
    assert!(ok, "agnt2 bridge {args:?} failed:\n{out}\n{err}");
    out
}

/// anvil (1 s blocks), the L1 deployed with a 2-block submission interval and a 4 s window,
/// and the node following it.
fn launched_for_withdrawals() -> (Anvil, String, tempfile::TempDir, Launched) {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(
        &l1,
        dir.path(),
        &["--deploy-only", "--submission-interval", "2", "--finalization-period", "4"],
    ));
    let node = Launched::start(&l1, dir.path());
    (anvil, l1, dir, node)
}

fn wei(v: &str) -> u128 {
    v.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn deposit_then_withdraw_prove_finalize_through_the_bridge_cli() {
    let (_anvil, l1, _dir, node) = launched_for_withdrawals();
    let l2 = node.url.clone();
    let me = common::DEV_ADDR1;

    // Deposit: the CLI prints the L1 transaction and waits for the L2 one.
    let before_l2 = wei(&cast(&["balance", me, "--rpc-url", &l2]));
    let out = bridge_ok(&l1, &l2, &["deposit", "--value", "1ether"]);
    assert!(out.contains("L1 transaction") && out.contains("included in L2 block"), "{out}");
    let after_l2 = wei(&cast(&["balance", me, "--rpc-url", &l2]));
    assert_eq!(after_l2, before_l2 + 10u128.pow(18));
    let l1_tx =
        out.split("L1 transaction ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let status: Value = serde_json::from_str(&bridge_ok(&l1, &l2, &["status", &l1_tx])).unwrap();
    assert_eq!(status["l2"][0]["included"], true);

    // Withdraw 0.5 ether to a fresh L1 address.
    let to = "0x00000000000000000000000000000000000000bb";
    let out = bridge_ok(&l1, &l2, &["withdraw", "--value", "0.5ether", "--to", to]);
    let l2_tx =
        out.split("L2 transaction ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    // Wait for an output root that covers it, then prove.
    wait_provable(&l1, &l2, &l2_tx);
    // Finalizing before proving fails with a clear reason.
    let (done, _, err) = bridge(&l1, &l2, &["finalize", &l2_tx]);
    assert!(!done && err.contains("not proven"), "{err}");
    let out = bridge_ok(&l1, &l2, &["prove", &l2_tx]);
    assert!(out.contains("proved withdrawal"), "{out}");
    // Proving again against the same root is refused by the portal.
    let (again, _, err) = bridge(&l1, &l2, &["prove", &l2_tx]);
    assert!(!again, "{err}");
    // Before the window: the portal refuses to finalize.
    let (early, _, err) = bridge(&l1, &l2, &["finalize", &l2_tx]);
    assert!(!early, "finalizing inside the window must fail: {err}");
    assert_eq!(cast(&["balance", to, "--rpc-url", &l1]), "0");
    // After the window: the L1 balance rises by exactly the withdrawn value.
    std::thread::sleep(Duration::from_secs(5));
    let out = bridge_ok(&l1, &l2, &["finalize", &l2_tx]);
    assert!(out.contains("finalized withdrawal"), "{out}");
    assert_eq!(cast(&["balance", to, "--rpc-url", &l1]), "500000000000000000");
    let s: Value = serde_json::from_str(&bridge_ok(&l1, &l2, &["status", &l2_tx])).unwrap();
    assert_eq!(s["stage"], "finalized");
    // Twice: refused.
    let (twice, _, err) = bridge(&l1, &l2, &["finalize", &l2_tx]);
    assert!(!twice && err.contains("already finalized"), "{err}");

    // A proof against a wrong output root is refused by the portal itself (sent with cast).
    let w = s;
    let tuple = format!(
        "({},{},{},{},{},{})",
        w["nonce"].as_str().unwrap(),
        w["sender"].as_str().unwrap(),
        w["to"].as_str().unwrap(),
        w["value"].as_str().unwrap(),
        w["gasLimit"].as_str().unwrap(),
        w["data"].as_str().unwrap()
    );
    let cfg = node.rpc("optimism_rollupConfig", serde_json::json!([]));
    let portal = cfg["deposit_contract_address"].as_str().unwrap();
    let zero = format!("0x{}", "00".repeat(32));
    let bad = Command::new(common::tool("cast"))
        .args(["send", portal, "proveWithdrawalTransaction((uint256,address,address,uint256,uint256,bytes),uint256,(bytes32,bytes32,bytes32,bytes32),bytes[])"])
        .args([&tuple, "0", &format!("({zero},{zero},{zero},{zero})"), "[]"])
        .args(["--private-key", DEV_KEY1, "--rpc-url", &l1])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("invalid output root proof"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// Waits until `agnt2 bridge status` says the withdrawal of `l2_tx` can be proven.
fn wait_provable(l1: &str, l2: &str, l2_tx: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s: Value = serde_json::from_str(&bridge_ok(l1, l2, &["status", l2_tx])).unwrap();
        if s["stage"] == "ready to prove" {
            return;
        }
        assert_eq!(s["stage"], "waiting for an output root", "{s}");
        assert!(std::time::Instant::now() < deadline, "no output root covered the withdrawal");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// L2 logs of `address` with `event` as topic 0.
fn l2_logs(node: &Launched, address: &str, event: &str) -> Vec<Value> {
    let topic = cast(&["keccak", event]);
    let logs = node.rpc(
        "eth_getLogs",
        serde_json::json!([{"address": address, "fromBlock": "0x0", "topics": [topic]}]),
    );
    logs.as_array().unwrap().clone()
}

#[test]
fn the_op_standard_bridge_moves_eth_through_agnt2_messenger_and_bridge_predeploys() {
    const L2_MESSENGER: &str = "0x4200000000000000000000000000000000000007";
    const L2_BRIDGE: &str = "0x4200000000000000000000000000000000000010";
    const LEGACY_ETH: &str = "0xDeadDeAddeAddEAddeadDEaDDEAdDeaDDeAD0000";
    let (_anvil, l1, dir, node) = launched_for_withdrawals();
    let l2 = node.url.clone();
    let cfg = node.rpc("optimism_rollupConfig", serde_json::json!([]));
    let l1_messenger = cfg["addresses"]["L1CrossDomainMessengerProxy"].as_str().unwrap();
    let l1_bridge = cfg["addresses"]["L1StandardBridgeProxy"].as_str().unwrap();
    let d = deployment(dir.path());
    assert_eq!(l1_messenger, d["l1CrossDomainMessenger"].as_str().unwrap());

    // Both sides name each other: the L2 genesis holds the L1 addresses, OP's L1 contracts the
    // predeploys.
    let same = |a: &str, b: &str| assert_eq!(a.to_lowercase(), b.to_lowercase());
    same(
        &cast(&["call", L2_MESSENGER, "otherMessenger()(address)", "--rpc-url", &l2]),
        l1_messenger,
    );
    same(&cast(&["call", L2_BRIDGE, "otherBridge()(address)", "--rpc-url", &l2]), l1_bridge);
    same(&cast(&["call", L2_BRIDGE, "messenger()(address)", "--rpc-url", &l2]), L2_MESSENGER);
    same(
        &cast(&["call", l1_messenger, "OTHER_MESSENGER()(address)", "--rpc-url", &l1]),
        L2_MESSENGER,
    );
    same(&cast(&["call", l1_bridge, "OTHER_BRIDGE()(address)", "--rpc-url", &l1]), L2_BRIDGE);

    // L1 → L2: OP's L1StandardBridge → L1CrossDomainMessenger → portal → deposit relayed by the
    // L2 messenger to the L2 bridge, which pays the recipient.
    let l2_to = "0x00000000000000000000000000000000000000c1";
    cast(&[
        "send",
        l1_bridge,
        "bridgeETHTo(address,uint32,bytes)",
        l2_to,
        "200000",
        "0x",
        "--value",
        "1ether",
        "--private-key",
        DEV_KEY1,
        "--rpc-url",
        &l1,
    ]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while cast(&["balance", l2_to, "--rpc-url", &l2]) != "1000000000000000000" {
        assert!(std::time::Instant::now() < deadline, "the bridged ETH did not arrive on L2");
        std::thread::sleep(Duration::from_millis(200));
    }
    let relayed = l2_logs(&node, L2_MESSENGER, "RelayedMessage(bytes32)");
    assert_eq!(relayed.len(), 1, "relayed once: {relayed:?}");
    assert!(l2_logs(&node, L2_MESSENGER, "FailedRelayedMessage(bytes32)").is_empty());
    let finalized = l2_logs(
        &node,
        L2_BRIDGE,
        "DepositFinalized(address,address,address,address,uint256,bytes)",
    );
    assert_eq!(finalized.len(), 1, "{finalized:?}");
    // The messenger holds nothing back: all of it reached the recipient.
    assert_eq!(cast(&["balance", L2_MESSENGER, "--rpc-url", &l2]), "0");

    // L2 → L1: withdrawTo on the L2 bridge, proven and finalized on OP's portal with the CLI;
    // OP's L1 messenger relays it to OP's L1 bridge, which pays the L1 recipient.
    let l1_to = "0x00000000000000000000000000000000000000c2";
    let sent: Value = serde_json::from_str(&cast(&[
        "send",
        L2_BRIDGE,
        "withdrawTo(address,address,uint256,uint32,bytes)",
        LEGACY_ETH,
        l1_to,
        "250000000000000000",
        "200000",
        "0x",
        "--value",
        "0.25ether",
        "--private-key",
        DEV_KEY1,
        "--rpc-url",
        &l2,
        "--json",
    ]))
    .unwrap();
    assert_eq!(sent["status"], "0x1", "{sent}");
    let l2_tx = sent["transactionHash"].as_str().unwrap().to_string();
    let w: Value = serde_json::from_str(&bridge_ok(&l1, &l2, &["status", &l2_tx])).unwrap();
    same(w["sender"].as_str().unwrap(), L2_MESSENGER);
    same(w["to"].as_str().unwrap(), l1_messenger);
    wait_provable(&l1, &l2, &l2_tx);
    bridge_ok(&l1, &l2, &["prove", &l2_tx]);
    std::thread::sleep(Duration::from_secs(5));
    let out = bridge_ok(&l1, &l2, &["finalize", &l2_tx]);
    assert!(out.contains("finalized withdrawal"), "{out}");
    assert_eq!(cast(&["balance", l1_to, "--rpc-url", &l1]), "250000000000000000");
    // OP's L1 messenger recorded the relay as successful (not failed, not replayable).
    let inner = w["data"].as_str().unwrap();
    let hash = cast(&["keccak", inner]);
    assert_eq!(
        cast(&["call", l1_messenger, "successfulMessages(bytes32)(bool)", &hash, "--rpc-url", &l1]),
        "true"
    );
}

#[test]
fn viem_op_stack_actions_deposit_and_withdraw_round_trip() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(
        &l1,
        dir.path(),
        &["--deploy-only", "--submission-interval", "2", "--finalization-period", "3"],
    ));
    let node = Launched::start(&l1, dir.path());
    let d = deployment(dir.path());
    // viem's waitToProve reads `latestOutputIndex()`, which reverts while the oracle is empty:
    // the script starts once the first output (block 2, proposed when safe) is there.
    let oracle = d["l2OutputOracle"].as_str().unwrap().to_string();
    wait_for(
        "no first output root",
        &[&dir.path().join("node.log")],
        Duration::from_secs(60),
        || {
            cast(&["call", &oracle, "latestBlockNumber()(uint256)", "--rpc-url", &l1])
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n >= 2)
        },
    );
    common::js_modules();
    let out = common::run(
        Command::new("node")
            .arg(workspace().join("tests/js/opstack.mjs"))
            .args([&l1, &node.url])
            .args([d["optimismPortal"].as_str().unwrap(), d["l2OutputOracle"].as_str().unwrap()]),
    );
    assert!(out.contains("\"ok\":true"), "{out}");
}

#[test]
fn an_l1_reorg_of_a_deposit_is_re_derived_without_double_minting() {
    let anvil = Anvil::start();
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    // No batcher: the reorgs below replace the L1's newest block, which must be the deposit's
    // (on an automining L1 every batch would be a newer block).
    let node = Launched::start_args(&l1, dir.path(), &["--no-batcher"]);
    let d = deployment(dir.path());
    let portal = d["optimismPortal"].as_str().unwrap().to_string();
    let target = "0x00000000000000000000000000000000000000dd";
    let calldata = cast(&[
        "calldata",
        "depositTransaction(address,uint256,uint64,bool,bytes)",
        target,
        "300",
        "100000",
        "false",
        "0x",
    ]);

    // A deposit in L1 block X, executed on L2.
    let r = deposit(&l1, &portal, DEV_KEY1, target, "300", "100000", "0x");
    let first_block = r["blockNumber"].clone();
    let deps = node.wait_deposits(1);
    let old_hash = deps[0]["hash"].clone();
    assert_eq!(node.rpc("eth_getBalance", serde_json::json!([target, "latest"])), "0x12c");

    // The L1 replaces block X with one holding the same deposit call (a different block hash,
    // so a different source hash): the L2 unwinds the old deposit and executes the new one.
    let tx = serde_json::json!({"from": common::DEV_ADDR1, "to": portal, "value": "0x12c", "data": calldata, "gas": "0x100000"});
    let reorg = agnt2_client::Client::new(&l1)
        .unwrap()
        .call("anvil_reorg", serde_json::json!([1, [[tx, 0]]]));
    reorg.expect("anvil_reorg");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let deps = node.deposits();
        if deps.len() == 1 && deps[0]["hash"] != old_hash {
            break;
        }
        assert!(deps.len() <= 1, "the deposit was minted twice: {deps:#?}");
        assert!(
            std::time::Instant::now() < deadline,
            "the L2 did not re-derive the deposit: {deps:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        node.rpc("eth_getBalance", serde_json::json!([target, "latest"])),
        "0x12c",
        "minted once"
    );
    let _ = first_block;

    // A reorg that drops the deposit altogether: the L2 forgets it.
    agnt2_client::Client::new(&l1)
        .unwrap()
        .call("anvil_reorg", serde_json::json!([1, []]))
        .expect("anvil_reorg");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !node.deposits().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the dropped deposit stayed on L2");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(node.rpc("eth_getBalance", serde_json::json!([target, "latest"])), "0x0");
    // And the chain goes on: a new deposit arrives once.
    deposit(&l1, &portal, DEV_KEY1, target, "7", "100000", "0x");
    node.wait_deposits(1);
    assert_eq!(node.rpc("eth_getBalance", serde_json::json!([target, "latest"])), "0x7");
}

/// Hosted endpoints speak TLS and rate-limit: with the L1 behind nginx over `https://` (a CA the
/// children trust through `SSL_CERT_FILE`) answering 429 above 20 requests a second, and the L2
/// behind another TLS proxy, `agnt2 launch` deploys, the node follows the L1 and proposes, and
/// `agnt2 bridge deposit` goes in over `https://` and is watched on L2 over `wss://`.
#[test]
fn launch_follow_and_bridge_over_tls_through_a_rate_limited_endpoint() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1_tls = common::TlsProxy::start(anvil.addr, Some(20));
    let env = l1_tls.env();
    let l1 = l1_tls.https();
    let dir = tempfile::tempdir().unwrap();
    // Plain http is not an option the test leaves open: the proxy is the only way in.
    let out = launch_env(&l1, dir.path(), &["--deploy-only", "--submission-interval", "2"], &env);
    ok(&out);
    assert!(
        l1_tls.answered(429) > 0,
        "the L1 endpoint never rate-limited; the retry path went untested"
    );
    // Without the CA the same endpoint is refused: the trust came from SSL_CERT_FILE.
    let untrusted = launch_env(&l1, dir.path(), &["--deploy-only"], &[]);
    assert!(!untrusted.status.success(), "a certificate of an unknown CA was accepted");

    // Polling the L1 once a second: the node's follower, batcher, proposer and safe-head check
    // share the endpoint's 20 requests a second with the bridge CLI.
    let node = Launched::spawn(&l1, dir.path(), &env, &["--l1.poll-ms", "1000"]);
    let l2_addr = node.url.trim_start_matches("http://").parse().unwrap();
    let l2_tls = common::TlsProxy::start(l2_addr, None);
    // One bundle trusted for both proxies (each made its own CA).
    let bundle = dir.path().join("cas.pem");
    let pems = [&l1_tls.ca, &l2_tls.ca].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(&bundle, pems.concat()).unwrap();
    let both = [("SSL_CERT_FILE", bundle)];
    let (ok_, out, err) = bridge_env(&l1, &l2_tls.wss(), &["deposit", "--value", "1ether"], &both);
    assert!(ok_, "agnt2 bridge deposit over TLS failed:\n{out}\n{err}");
    assert!(out.contains("included in L2 block") && out.contains("succeeded"), "{out}");
    // The proposer posts output roots to the L1 over https (read here from anvil directly).
    let oracle = deployment(dir.path())["l2OutputOracle"].as_str().unwrap().to_string();
    let plain = format!("http://{}", anvil.addr);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let latest: u64 =
            cast(&["call", &oracle, "latestBlockNumber()(uint256)", "--rpc-url", &plain])
                .parse()
                .unwrap_or(0);
        if latest >= 2 {
            break;
        }
        if std::time::Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.path().join("node.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            panic!("no output root proposed over TLS; the node's log ends:\n{}", tail.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The L1 transactions `from` sent to `to`, oldest first: their calldata.
/// The batcher data the L1 holds from `from` to `to`, in order: the calldata of plain
/// transactions, and for a block with blob transactions what kona-derive's blob source reads
/// from the block's transactions and blobs (the blobs come from anvil's beacon route, each
/// checked against its versioned hash).
fn l1_batcher_data(l1: &str, from: &str, to: &str) -> Vec<String> {
    // Blobs are 128-KiB values: a debug build's copies need more than a test thread's stack.
    let (l1, from, to) = (l1.to_string(), from.to_string(), to.to_string());
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || read_batcher_data(&l1, &from, &to))
        .unwrap()
        .join()
        .unwrap()
}

fn read_batcher_data(l1: &str, from: &str, to: &str) -> Vec<String> {
    let c = agnt2_client::Client::new(l1).unwrap();
    let beacon = agnt2_client::Beacon::new(l1).unwrap();
    let head = c.block_number().unwrap();
    let mut out = Vec::new();
    for n in 0..=head {
        let b =
            c.call("eth_getBlockByNumber", serde_json::json!([format!("0x{n:x}"), true])).unwrap();
        let txs = b["transactions"].as_array().unwrap();
        let is =
            |t: &Value, k: &str, v: &str| t[k].as_str().is_some_and(|x| x.eq_ignore_ascii_case(v));
        let ours: Vec<&Value> =
            txs.iter().filter(|t| is(t, "from", from) && is(t, "to", to)).collect();
        let blob_hashes = |t: &Value| -> Vec<alloy_primitives::B256> {
            t["blobVersionedHashes"]
                .as_array()
                .map(|h| h.iter().map(|h| h.as_str().unwrap().parse().unwrap()).collect())
                .unwrap_or_default()
        };
        if ours.iter().all(|t| blob_hashes(t).is_empty()) {
            out.extend(ours.iter().map(|t| t["input"].as_str().unwrap().to_string()));
            continue;
        }
        // Every transaction of the block (kona counts the blobs of strangers' transactions
        // too), as signed, without sidecars.
        let raws: Vec<String> = txs
            .iter()
            .map(|t| {
                let raw =
                    c.call("eth_getRawTransactionByHash", serde_json::json!([t["hash"]])).unwrap();
                let bytes = alloy_primitives::hex::decode(raw.as_str().unwrap()).unwrap();
                use alloy_eips::eip2718::{Decodable2718, Encodable2718};
                let env = alloy_consensus::TxEnvelope::decode_2718(&mut bytes.as_slice()).unwrap();
                let plain = match env {
                    alloy_consensus::TxEnvelope::Eip4844(s) => {
                        let (tx, sig, _) = s.into_parts();
                        let tx = tx.tx().clone();
                        alloy_consensus::TxEnvelope::Eip4844(
                            alloy_consensus::SignableTransaction::into_signed(tx, sig).into(),
                        )
                        .encoded_2718()
                    }
                    _ => bytes,
                };
                format!("0x{}", alloy_primitives::hex::encode(plain))
            })
            .collect();
        let hashes: Vec<alloy_primitives::B256> = txs.iter().flat_map(blob_hashes).collect();
        let ts = common::hex_u64(&b["timestamp"]);
        let blobs: Vec<String> = beacon
            .blobs(n, ts, &hashes)
            .unwrap()
            .iter()
            .map(|b| format!("0x{}", alloy_primitives::hex::encode(b)))
            .collect();
        let read = kona(&serde_json::json!({"blobs": {
            "inbox": to, "batcher": from, "txs": raws, "blobs": blobs,
        }}));
        out.extend(
            read["data"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()),
        );
    }
    out
}

/// Runs tools/kona-check on `input` and returns what it prints.
fn kona(input: &Value) -> Value {
    let kona = workspace().join("target/debug/kona-check");
    assert!(kona.exists(), "build {} with `make kona-check`", kona.display());
    let mut child = Command::new(kona)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kona refused: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_batcher_posts_every_block_and_kona_derives_the_same_chain_from_the_l1_and_rollup_json() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics = format!("127.0.0.1:{port}");
    let node = Launched::start_args(&l1, dir.path(), &["--metrics", &metrics]);
    let d = deployment(dir.path());
    // A few L2 transactions of different shapes: transfers and a contract creation.
    let mut hashes = Vec::new();
    for i in 0..3u64 {
        let (raw, hash) = common::signed_transfer(&agnt2_primitives::dev_signers(2)[1], i);
        node.rpc("eth_sendRawTransaction", serde_json::json!([raw]));
        hashes.push(hash);
    }
    let out = cast(&[
        "send",
        "--private-key",
        DEV_KEY0,
        "--rpc-url",
        &node.url,
        "--json",
        "--create",
        "0x600a600c600039600a6000f3602a60005260206000f3",
    ]);
    let created: Value = serde_json::from_str(&out).unwrap();
    hashes.push(created["transactionHash"].as_str().unwrap().to_string());
    let mut last_tx_block = 0;
    for h in &hashes {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let r = node.rpc("eth_getTransactionReceipt", serde_json::json!([h]));
            if !r.is_null() {
                last_tx_block = last_tx_block.max(common::hex_u64(&r["blockNumber"]));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{h} was not included");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // Wait until the batcher is past those blocks (every frame has a receipt then).
    let next = wait_batched(dir.path(), last_tx_block + 1);

    let blocks = derive_with_kona(&node, &l1, &dir, &d);
    check_derived(&node, &blocks, next - 1);

    // Its metrics count what the L1 holds (no reorg here: every posted frame stayed).
    let (batcher, inbox) =
        (d["config"]["batcher"].as_str().unwrap(), d["config"]["batchInbox"].as_str().unwrap());
    // Metrics first: a transaction is counted after its receipt, so the L1 read after holds it.
    let (_, text) = common::post_raw(metrics.parse().unwrap(), b"");
    let calls = l1_batcher_data(&l1, batcher, inbox);
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{name} missing in:\n{text}"))
    };
    let (txs, blobs) = (value("agnt2_batcher_txs_total"), value("agnt2_batcher_blobs_total"));
    // Blobs by default: one frame per blob, each blob one item of batcher data.
    assert!(txs >= 1 && blobs >= txs, "{txs} transactions, {blobs} blobs");
    assert!(blobs as usize <= calls.len(), "{blobs} counted, {} on the L1", calls.len());
    let bytes: usize = calls.iter().take(blobs as usize).map(|c| (c.len() - 2) / 2).sum();
    assert_eq!(value("agnt2_batcher_bytes_total") as usize, bytes);
    assert!(value("agnt2_batcher_blocks_total") >= next - 1);
    assert!(value("agnt2_batcher_l1_gas_used_total") >= 21_000 * txs);
    assert_eq!(value("agnt2_batcher_reposts_total"), 0);
    // The safe head, which the sequencer checks against its batches, is exported too.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, text) = common::post_raw(metrics.parse().unwrap(), b"");
        let safe = text.lines().find_map(|l| {
            l.strip_prefix("agnt2_safe_block_number ").and_then(|v| v.trim().parse::<f64>().ok())
        });
        if safe.is_some_and(|s| s >= 1.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no safe head in the metrics: {safe:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    for h in &hashes {
        assert!(
            blocks.iter().any(|b| b["txs"].as_array().unwrap().iter().any(|t| {
                alloy_primitives::keccak256(
                    alloy_primitives::hex::decode(t.as_str().unwrap()).unwrap(),
                )
                .to_string()
                    == *h
            })),
            "{h} is not in any batch"
        );
    }
}

/// The batcher's next block (its state file), once it is at least `at_least`.
fn wait_batched(dir: &Path, at_least: u64) -> u64 {
    let state = dir.join("batcher.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let next = std::fs::read_to_string(&state)
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .and_then(|v| v["next"].as_u64())
            .unwrap_or(0);
        if next >= at_least {
            return next;
        }
        if std::time::Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("node.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "batched up to {next}, need {at_least}; the node's log ends:\n{}",
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What kona-protocol derives from every transaction the batcher key sent to the inbox, with
/// the rollup.json launch wrote (op-node's format: kona reads it with its own serde, refusing
/// unknown fields).
fn derive_with_kona(node: &Launched, l1: &str, dir: &tempfile::TempDir, d: &Value) -> Vec<Value> {
    let (batcher, inbox) = (
        d["config"]["batcher"].as_str().unwrap().to_string(),
        d["config"]["batchInbox"].as_str().unwrap().to_string(),
    );
    let calls = l1_batcher_data(l1, &batcher, &inbox);
    assert!(!calls.is_empty());
    let genesis = node.rpc("eth_getBlockByNumber", serde_json::json!(["0x0", false]));
    let rollup: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("rollup.json")).unwrap())
            .unwrap();
    assert_eq!(rollup["genesis"]["l2"]["hash"], genesis["hash"]);
    assert_eq!(
        rollup["genesis"]["l2_time"].as_u64().unwrap(),
        common::hex_u64(&genesis["timestamp"])
    );
    let same = |a: &Value, b: &str| a.as_str().unwrap().eq_ignore_ascii_case(b);
    assert!(same(&rollup["batch_inbox_address"], &inbox));
    assert!(same(&rollup["genesis"]["system_config"]["batcherAddr"], &batcher));
    assert!(same(&rollup["deposit_contract_address"], d["optimismPortal"].as_str().unwrap()));
    let derived = kona(&serde_json::json!({"rollup_config": rollup, "txs": calls}));
    // A block posted again (after the L1 lost its first batch) counts once, as derivation
    // drops batches for blocks it already has.
    let mut seen = std::collections::BTreeSet::new();
    derived["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| seen.insert(b["timestamp"].as_u64().unwrap()))
        .cloned()
        .collect()
}

/// Derived blocks 1..=`upto` (at least) are the sequencer's, in order, each with its
/// transactions (deposits aside) and L1 origin.
fn check_derived(node: &Launched, blocks: &[Value], upto: u64) {
    assert!(blocks.len() as u64 >= upto, "{} blocks derived, {upto} batched", blocks.len());
    for (i, b) in blocks.iter().enumerate() {
        let n = i as u64 + 1;
        let block = node.rpc("eth_getBlockByNumber", serde_json::json!([format!("0x{n:x}"), true]));
        assert_eq!(
            b["timestamp"].as_u64().unwrap(),
            common::hex_u64(&block["timestamp"]),
            "block {n}"
        );
        let want: Vec<String> = block["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["type"] != "0x7e")
            .map(|t| t["hash"].as_str().unwrap().to_string())
            .collect();
        let got: Vec<String> = b["txs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let raw = alloy_primitives::hex::decode(t.as_str().unwrap()).unwrap();
                alloy_primitives::keccak256(raw).to_string()
            })
            .collect();
        assert_eq!(got, want, "transactions of block {n}");
        let l1_info = &block["transactions"][0];
        let input = alloy_primitives::hex::decode(l1_info["input"].as_str().unwrap()).unwrap();
        let epoch = u64::from_be_bytes(input[28..36].try_into().unwrap());
        assert_eq!(b["epoch"].as_u64().unwrap(), epoch, "L1 origin of block {n}");
    }
}

#[test]
fn a_batch_the_l1_reorganises_away_is_posted_again() {
    // An automining L1: each frame is its own L1 block, so a reorg of the newest blocks drops
    // the newest batches.
    let anvil = Anvil::start();
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    // Calldata here (blobs elsewhere), so kona reads both kinds of batcher transaction.
    let node =
        Launched::start_args(&l1, dir.path(), &["--batcher.data-availability-type", "calldata"]);
    let d = deployment(dir.path());
    let before = wait_batched(dir.path(), 4);
    let l1c = agnt2_client::Client::new(&l1).unwrap();
    let inbox = d["config"]["batchInbox"].as_str().unwrap().to_string();
    let batcher = d["config"]["batcher"].as_str().unwrap().to_string();
    let posted = l1_batcher_data(&l1, &batcher, &inbox).len();
    // Replace the newest three L1 blocks with empty ones: the batches in them are gone.
    l1c.call("anvil_reorg", serde_json::json!([3, []])).expect("anvil_reorg");
    let after = l1_batcher_data(&l1, &batcher, &inbox).len();
    assert!(after < posted, "the reorg dropped no batch ({posted} → {after})");
    // The batcher notices and posts those blocks again; derivation then finds every block.
    let next = wait_batched(dir.path(), before + 3);
    let blocks = derive_with_kona(&node, &l1, &dir, &d);
    check_derived(&node, &blocks, next - 1);
}

#[test]
fn a_follower_derives_the_sequencers_chain_from_the_l1_alone() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let node = Launched::start(&l1, dir.path());
    let d = deployment(dir.path());
    // Transactions and a deposit, so the derived blocks carry both.
    for i in 0..3u64 {
        let (raw, _) = common::signed_transfer(&agnt2_primitives::dev_signers(2)[1], i);
        node.rpc("eth_sendRawTransaction", serde_json::json!([raw]));
    }
    let portal = d["optimismPortal"].as_str().unwrap();
    deposit(
        &l1,
        portal,
        DEV_KEY1,
        "0x00000000000000000000000000000000000000ee",
        "5",
        "100000",
        "0x",
    );
    // Batched at least up to the deposit's block (it may come after the transfers' blocks).
    let deposit_block = common::hex_u64(&node.wait_deposits(1)[0]["blockNumber"]);
    let batched = wait_batched(dir.path(), deposit_block.max(7) + 1) - 1;

    // A follower from an empty datadir with only genesis.json, rollup.json and the L1.
    let fdir = tempfile::tempdir().unwrap();
    let follower = Launched::follower(&l1, dir.path(), fdir.path(), &node.url);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let head = common::hex_u64(&follower.rpc("eth_blockNumber", serde_json::json!([])));
        if head >= batched {
            break;
        }
        if std::time::Instant::now() > deadline {
            let log = std::fs::read_to_string(fdir.path().join("node.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "the follower derived {head} of {batched} blocks; its log ends:\n{}",
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // The same blocks: hashes (so headers, transactions, receipts) and state roots.
    let mut deposits = 0;
    for n in 0..=batched {
        let id = serde_json::json!([format!("0x{n:x}"), true]);
        let (a, b) = (
            node.rpc("eth_getBlockByNumber", id.clone()),
            follower.rpc("eth_getBlockByNumber", id),
        );
        assert_eq!(a["hash"], b["hash"], "block {n}");
        assert_eq!(a["stateRoot"], b["stateRoot"], "block {n}");
        deposits += b["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| {
                t["type"] == "0x7e" && t["from"] != "0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001"
            })
            .count();
    }
    assert_eq!(deposits, 1, "the deposit was derived once");
    // Heads: the follower's safe head is what it derived; the sequencer's is what it checked
    // against its batches on the L1; finalized never passes safe.
    let number = |n: &Launched, tag: &str| {
        common::hex_u64(&n.rpc("eth_getBlockByNumber", serde_json::json!([tag, false]))["number"])
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while number(&node, "safe") < batched {
        assert!(
            std::time::Instant::now() < deadline,
            "the sequencer's safe head stays below {batched}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(number(&follower, "safe") >= batched);
    for n in [&node, &follower] {
        let status = n.rpc("optimism_syncStatus", serde_json::json!([]));
        let (safe, fin) = (&status["safe_l2"]["number"], &status["finalized_l2"]["number"]);
        assert!(safe.as_u64().unwrap() >= batched && fin.as_u64() <= safe.as_u64(), "{status}");
        assert!(number(n, "finalized") <= number(n, "safe"));
    }
    // The follower holds no keys and mines nothing by itself: a transaction sent to it goes to
    // the sequencer, which mines it, and comes back to the follower through the L1.
    assert_eq!(follower.rpc("eth_accounts", serde_json::json!([])), serde_json::json!([]));
    // (The L1 deposit above came from the same account: it took a nonce on L2 too.)
    let signer = &agnt2_primitives::dev_signers(2)[1];
    let nonce = common::hex_u64(
        &node.rpc("eth_getTransactionCount", serde_json::json!([signer.address(), "pending"])),
    );
    let (raw, hash) = common::signed_transfer(signer, nonce);
    assert_eq!(follower.rpc("eth_sendRawTransaction", serde_json::json!([raw])), hash);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let receipt = |n: &Launched| n.rpc("eth_getTransactionReceipt", serde_json::json!([hash]));
    while receipt(&node).is_null() || receipt(&follower).is_null() {
        assert!(
            std::time::Instant::now() < deadline,
            "the forwarded transaction did not come back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(receipt(&node)["blockHash"], receipt(&follower)["blockHash"]);

    // Killed and restarted on its datadir, the follower resumes near its safe head (not from
    // the L1's genesis) and derives what was batched meanwhile, identically.
    let mut follower = follower;
    let safe_before = common::hex_u64(
        &follower.rpc("eth_getBlockByNumber", serde_json::json!(["safe", false]))["number"],
    );
    follower.kill9();
    let derived = common::hex_u64(&node.rpc("eth_blockNumber", serde_json::json!([])));
    let batched = wait_batched(dir.path(), derived + 5) - 1;
    let follower = Launched::follower(&l1, dir.path(), fdir.path(), &node.url);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while common::hex_u64(&follower.rpc("eth_blockNumber", serde_json::json!([]))) < batched {
        assert!(std::time::Instant::now() < deadline, "the restarted follower did not catch up");
        std::thread::sleep(Duration::from_millis(200));
    }
    for n in [batched - 1, batched] {
        let id = serde_json::json!([format!("0x{n:x}"), false]);
        let (a, b) = (
            node.rpc("eth_getBlockByNumber", id.clone()),
            follower.rpc("eth_getBlockByNumber", id),
        );
        assert_eq!(a["hash"], b["hash"], "block {n} after the restart");
    }
    // The log line, without its terminal colours: "deriving from the L1 safe=N l1=M".
    let raw = std::fs::read_to_string(fdir.path().join("node.log")).unwrap();
    let mut log = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            log.push(c);
        }
    }
    let safe_at_start = log
        .lines()
        .filter(|l| l.contains("deriving from the L1"))
        .filter_map(|l| l.split("safe=").nth(1)?.split_whitespace().next()?.parse::<u64>().ok())
        .next_back();
    assert!(
        safe_at_start.is_some_and(|s| s >= safe_before && s > 0),
        "resumed from {safe_at_start:?}, its safe head was {safe_before}:\n{log}"
    );
}

/// The inbox is open to anyone: a stranger's batch (well formed, for the very next block) and
/// garbage are not derived; only the batcher rollup.json names counts.
#[test]
fn a_follower_ignores_batches_from_strangers_and_garbage() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    // A sequencer that posts nothing: whatever the follower derives comes from the strangers.
    let node = Launched::start_args(&l1, dir.path(), &["--no-batcher"]);
    let d = deployment(dir.path());
    let inbox = d["config"]["batchInbox"].as_str().unwrap();
    let genesis = node.rpc("eth_getBlockByNumber", serde_json::json!(["0x0", false]));
    let one = node.rpc("eth_getBlockByNumber", serde_json::json!(["0x1", true]));
    // Block 1 as the sequencer built it (same time, same L1 origin), but without transactions:
    // a valid batch for the follower's next block, from the wrong key.
    let l1_info =
        alloy_primitives::hex::decode(one["transactions"][0]["input"].as_str().unwrap()).unwrap();
    let seq = u64::from_be_bytes(l1_info[12..20].try_into().unwrap());
    let epoch = u64::from_be_bytes(l1_info[28..36].try_into().unwrap());
    let epoch_hash = alloy_primitives::B256::from_slice(&l1_info[100..132]);
    let block = agnt2_batch::BlockInput {
        timestamp: common::hex_u64(&one["timestamp"]),
        parent_hash: genesis["hash"].as_str().unwrap().parse().unwrap(),
        l1_origin: (epoch, epoch_hash),
        sequence_number: seq,
        txs: vec![],
    };
    let chain_id = common::hex_u64(&node.rpc("eth_chainId", serde_json::json!([])));
    let batch =
        agnt2_batch::span::encode(&[block], common::hex_u64(&genesis["timestamp"]), 1, chain_id)
            .unwrap();
    let mut channel = agnt2_batch::ChannelOut::new([0x5e; 16]);
    channel.add_batch(&batch);
    let frames = channel.frames(120_000).unwrap();
    let forged = alloy_primitives::hex::encode_prefixed(agnt2_batch::batcher_tx_data(&frames));
    for data in [forged.as_str(), "0x00deadbeef", "0x01"] {
        cast(&["send", inbox, data, "--private-key", common::DEV_KEY1, "--rpc-url", &l1]);
    }
    // The same batch in a blob, next to a blob of garbage (cell proofs and all: anvil checks).
    let (url, to) = (l1.clone(), inbox.parse().unwrap());
    let forged_data = agnt2_batch::batcher_tx_data(&frames);
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let key: alloy_signer_local::PrivateKeySigner = common::DEV_KEY1.parse().unwrap();
            let blobs = vec![
                agnt2_batch::blob::encode(&forged_data).unwrap(),
                agnt2_batch::blob::encode(b"\x00garbage").unwrap(),
            ];
            agnt2_client::Client::new(&url).unwrap().transact_blobs(&key, to, blobs).unwrap();
        })
        .unwrap()
        .join()
        .unwrap();
    let fdir = tempfile::tempdir().unwrap();
    let follower = Launched::follower(&l1, dir.path(), fdir.path(), &node.url);
    // The follower reads the L1 past those transactions and derives nothing from them.
    let l1c = agnt2_client::Client::new(&l1).unwrap();
    let target = l1c.block_number().unwrap() + 3;
    while l1c.block_number().unwrap() < target {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let head = common::hex_u64(&follower.rpc("eth_blockNumber", serde_json::json!([])));
    let log = std::fs::read_to_string(fdir.path().join("node.log")).unwrap_or_default();
    assert_eq!(head, 0, "the follower derived a stranger's batch; its log:\n{log}");
    assert_eq!(
        common::hex_u64(
            &follower.rpc("eth_getBlockByNumber", serde_json::json!(["safe", false]))["number"]
        ),
        0
    );
}

/// Waits until `cond` holds (polling), or panics with `what` and the tails of `logs`.
fn wait_for(what: &str, logs: &[&Path], timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !cond() {
        if std::time::Instant::now() > deadline {
            let tails: Vec<String> = logs
                .iter()
                .map(|log| {
                    let text = std::fs::read_to_string(log).unwrap_or_default();
                    let warnings: Vec<&str> =
                        text.lines().filter(|l| l.contains("WARN")).take(20).collect();
                    let mut posting: Vec<&str> = text
                        .lines()
                        .rev()
                        .filter(|l| l.contains("batcher") || l.contains("txmgr"))
                        .take(15)
                        .collect();
                    posting.reverse();
                    let tail: Vec<&str> = text.lines().rev().take(40).collect();
                    format!(
                        "{} warns:\n{}\nposts:\n{}\nand ends:\n{}",
                        log.display(),
                        warnings.join("\n"),
                        posting.join("\n"),
                        tail.join("\n")
                    )
                })
                .collect();
            panic!("{what}; {}", tails.join("\n\n"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Forced inclusion: the sequencer dies, a deposit waits on the L1, and once a sequencing
/// window (20 L1 blocks here) passes without batches the follower derives deposit-only blocks
/// that include it. The sequencer, restarted on its datadir, replaces the blocks it had not
/// batched with the ones the L1 forced (the same hashes as the follower's), offers their
/// transactions to its pool again, and sequences on: a new transaction reaches the follower
/// through its batches.
#[test]
fn after_a_window_without_batches_the_l1_forces_deposits_in_and_the_sequencer_converges() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only", "--sequencer-window-size", "20"]));
    let node = Launched::start(&l1, dir.path());
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("rollup.json")).unwrap())
            .unwrap();
    assert_eq!(written["seq_window_size"], 20);
    let d = deployment(dir.path());
    let sender = &agnt2_primitives::dev_signers(3)[2];
    let (raw, _) = common::signed_transfer(sender, 0);
    let first = node.rpc("eth_sendRawTransaction", serde_json::json!([raw]));
    let first = first.as_str().unwrap().to_string();
    let fdir = tempfile::tempdir().unwrap();
    let follower = Launched::follower(&l1, dir.path(), fdir.path(), &node.url);
    let flog = fdir.path().join("node.log");
    let receipt =
        |n: &Launched, h: &str| n.rpc("eth_getTransactionReceipt", serde_json::json!([h]));
    wait_for(
        "the follower never derived the first transfer",
        &[&flog, &dir.path().join("node.log")],
        Duration::from_secs(60),
        || !receipt(&follower, &first).is_null(),
    );
    // A second transfer, and the sequencer dies right after it is mined: its block may or may
    // not have been batched.
    let (raw, second) = common::signed_transfer(sender, 1);
    node.rpc("eth_sendRawTransaction", serde_json::json!([raw]));
    wait_for(
        "the sequencer never mined the second transfer",
        &[&dir.path().join("node.log")],
        Duration::from_secs(30),
        || !receipt(&node, &second).is_null(),
    );
    drop(node);

    // A deposit nobody sequences.
    let target = "0x00000000000000000000000000000000000000d5";
    let portal = d["optimismPortal"].as_str().unwrap();
    deposit(&l1, portal, DEV_KEY1, target, "5", "100000", "0x");
    let balance = |n: &Launched| n.rpc("eth_getBalance", serde_json::json!([target, "latest"]));
    wait_for(
        "the follower never forced the deposit in",
        &[&flog, &dir.path().join("node.log")],
        Duration::from_secs(90),
        || balance(&follower) == "0x5",
    );
    // It came in a deposit-only block.
    let forced = follower
        .deposits()
        .into_iter()
        .find(|t| t["to"].as_str().is_some_and(|a| a.eq_ignore_ascii_case(target)))
        .unwrap();
    let at = forced["blockNumber"].clone();
    let block = follower.rpc("eth_getBlockByNumber", serde_json::json!([at, true]));
    assert!(
        block["transactions"].as_array().unwrap().iter().all(|t| t["type"] == "0x7e"),
        "a forced block with user transactions: {block}"
    );

    // The sequencer comes back and converges on the chain the L1 decided.
    let node = Launched::start(&l1, dir.path());
    let slog = dir.path().join("node.log");
    let n = common::hex_u64(&at);
    wait_for(
        "the restarted sequencer did not converge",
        &[&slog, &flog],
        Duration::from_secs(90),
        || {
            let id = serde_json::json!([format!("0x{n:x}"), false]);
            node.rpc("eth_getBlockByNumber", id.clone())["hash"]
                == follower.rpc("eth_getBlockByNumber", id)["hash"]
        },
    );
    assert_eq!(balance(&node), "0x5");
    // Nothing is lost: the second transfer is in both chains, in the same block (batched
    // before the kill, or offered to the pool again when its block was replaced).
    wait_for(
        "the second transfer did not reach the follower",
        &[&flog, &dir.path().join("node.log")],
        Duration::from_secs(90),
        || !receipt(&follower, &second).is_null(),
    );
    let (a, b) = (receipt(&node, &second), receipt(&follower, &second));
    assert_eq!(a["blockHash"], b["blockHash"]);
    // And the sequencer sequences on: a new transfer is derived by the follower identically.
    let (raw, third) = common::signed_transfer(sender, 2);
    node.rpc("eth_sendRawTransaction", serde_json::json!([raw]));
    wait_for(
        "the follower never derived the third transfer",
        &[&flog, &dir.path().join("node.log")],
        Duration::from_secs(60),
        || !receipt(&follower, &third).is_null(),
    );
    let (a, b) = (receipt(&node, &third), receipt(&follower, &third));
    assert_eq!(a["blockHash"], b["blockHash"]);
    assert_eq!(a["blockNumber"], b["blockNumber"]);
}

/// An L1 reorg takes away L1 blocks the L2 adopted as origins and the batches in them: the
/// sequencer rebuilds its blocks on the new L1 blocks and posts them again, and a follower that
/// had derived the old ones unwinds them and derives the new ones — the same hashes as the
/// sequencer's, no block twice. (Without reorg handling the follower keeps the old blocks and
/// skips the new batches as "derived already".)
#[test]
fn a_follower_derives_again_after_an_l1_reorg_of_its_batches_and_origins() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let node = Launched::start(&l1, dir.path());
    let fdir = tempfile::tempdir().unwrap();
    let follower = Launched::follower(&l1, dir.path(), fdir.path(), &node.url);
    let (slog, flog) = (dir.path().join("node.log"), fdir.path().join("node.log"));
    let head = |n: &Launched| common::hex_u64(&n.rpc("eth_blockNumber", serde_json::json!([])));
    wait_for("the follower did not catch up", &[&flog], Duration::from_secs(60), || {
        head(&follower) >= 8
    });
    // Blocks the follower derived whose L1 origins the reorg replaces.
    let l1c = agnt2_client::Client::new(&l1).unwrap();
    let hash_at = |n: &Launched, b: u64| {
        n.rpc("eth_getBlockByNumber", serde_json::json!([format!("0x{b:x}"), false]))["hash"]
            .clone()
    };
    let before = head(&follower);
    let old = hash_at(&follower, before);
    // Deep enough to replace the L1 origin of the follower's head.
    let block =
        follower.rpc("eth_getBlockByNumber", serde_json::json!([format!("0x{before:x}"), true]));
    let info =
        alloy_primitives::hex::decode(block["transactions"][0]["input"].as_str().unwrap()).unwrap();
    let origin = u64::from_be_bytes(info[28..36].try_into().unwrap());
    // Two more, as the L1 may mine a block before the reorg lands.
    let depth = l1c.block_number().unwrap() - origin + 3;
    // A transfer in every new block, so that each hash differs even where the old block was
    // empty (from an account the rollup does not use).
    let transfers: Vec<Value> = (0..depth)
        .map(|i| {
            let tx = serde_json::json!({
                "from": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
                "to": "0x0000000000000000000000000000000000000001",
                "value": "0x1",
            });
            serde_json::json!([tx, i])
        })
        .collect();
    l1c.call("anvil_reorg", serde_json::json!([depth, transfers])).expect("anvil_reorg");
    // The sequencer replaces its blocks on the lost origins; the follower follows.
    wait_for(
        "the sequencer kept a block on a lost L1 origin",
        &[&slog],
        Duration::from_secs(60),
        || hash_at(&node, before) != old,
    );
    wait_for(
        "the follower did not derive the sequencer's new blocks",
        &[&flog, &slog],
        Duration::from_secs(90),
        || {
            let f = head(&follower);
            f > before + 4 && hash_at(&follower, before) == hash_at(&node, before)
        },
    );
    let upto = head(&follower);
    for b in 0..=upto {
        assert_eq!(hash_at(&follower, b), hash_at(&node, b), "block {b}");
    }
    // Each L1 origin appears in order, none twice across a gap (no block derived twice).
    let log = std::fs::read_to_string(&flog).unwrap();
    assert!(log.contains("deriving again"), "the follower never noticed the reorg:\n{log}");
}

/// `agnt2 batcher` as its own process.
struct BatcherProc {
    child: std::process::Child,
    log: PathBuf,
    metrics: String,
}

impl BatcherProc {
    fn args<'a>(seq_dir: &'a Path, l2: &'a str, l1: &'a str, key: &'a str) -> Vec<String> {
        [
            "batcher",
            "--rollup.config",
            seq_dir.join("rollup.json").to_str().unwrap(),
            "--l2.rpc-url",
            l2,
            "--l1.rpc-url",
            l1,
            "--batcher.key",
            key,
            "--poll-interval",
            "200",
        ]
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    fn start(dir: &Path, args: &[String]) -> Self {
        let log = dir.join(format!("batcher-{}.log", std::process::id()));
        let mut child = Command::new(agnt2_bin())
            .args(args)
            .arg("--datadir")
            .arg(dir)
            .args(["--metrics", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut metrics = String::new();
        for line in lines.map_while(Result::ok) {
            if let Some(m) = line.strip_prefix("Metrics on ") {
                metrics = m.trim().to_string();
            }
            if line.starts_with("agnt2 batcher posting") {
                return Self { child, log, metrics };
            }
        }
        let _ = child.wait();
        panic!("agnt2 batcher did not start: {}", std::fs::read_to_string(&log).unwrap());
    }

    fn metric(&self, series: &str) -> f64 {
        let (_, body) = common::post_raw(self.metrics.parse().unwrap(), b"");
        agnt2_metrics_value(&body, series)
    }
}

fn agnt2_metrics_value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

impl Drop for BatcherProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The batcher as its own process, reading the sequencer over JSON-RPC: a key that is not
/// SystemConfig's batcher is refused; the right one posts the blocks, the sequencer's own
/// derivation makes them safe; stopped (SIGTERM) and restarted on its datadir it goes on from
/// where it was, without posting a block twice.
#[test]
fn a_standalone_batcher_posts_the_sequencers_blocks_and_they_become_safe() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let node = Launched::start_args(&l1, dir.path(), &["--no-batcher"]);
    let bdir = tempfile::tempdir().unwrap();

    // Not the batcher: refused before anything is sent.
    let wrong = Command::new(agnt2_bin())
        .args(BatcherProc::args(dir.path(), &node.url, &l1, common::DEV_KEY1))
        .arg("--datadir")
        .arg(bdir.path())
        .output()
        .unwrap();
    assert!(!wrong.status.success(), "a stranger's key was accepted");
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("SystemConfig's batcher"), "{err}");

    let args = BatcherProc::args(dir.path(), &node.url, &l1, DEV_KEY0);
    let mut batcher = BatcherProc::start(bdir.path(), &args);
    let sent = cast(&[
        "send",
        common::DEV_ADDR1,
        "--value",
        "1",
        "--private-key",
        DEV_KEY0,
        "--rpc-url",
        &node.url,
        "--json",
    ]);
    let receipt: Value = serde_json::from_str(&sent).unwrap();
    let block = common::hex_u64(&receipt["blockNumber"]);
    let safe = || {
        node.rpc("eth_getBlockByNumber", serde_json::json!(["safe", false]))["number"]
            .as_str()
            .map_or(0, |n| u64::from_str_radix(n.trim_start_matches("0x"), 16).unwrap())
    };
    let logs = [batcher.log.as_path(), &dir.path().join("node.log")];
    wait_for("the transfer's block is safe", &logs, Duration::from_secs(90), || safe() >= block);
    assert!(batcher.metric("agnt2_batcher_channels_total") >= 1.0);
    assert!(batcher.metric("agnt2_batcher_blobs_total") >= 1.0, "blobs are the default");

    // A clean stop, then a restart on the same state.
    let _ = Command::new("kill").args(["-TERM", &batcher.child.id().to_string()]).status();
    let status = batcher.child.wait().unwrap();
    assert!(status.success(), "the batcher did not stop cleanly: {status}");
    let state = |d: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("batcher.json")).unwrap()).unwrap()
    };
    let next = state(bdir.path())["next"].as_u64().unwrap();
    let posted_before = common::hex_u64(&node.rpc("eth_blockNumber", serde_json::json!([])));
    let batcher2 = BatcherProc::start(bdir.path(), &args);
    // Blocks made while it was down are posted too; the first channel starts where the last
    // one ended.
    let target = posted_before + 3;
    let logs = [batcher2.log.as_path(), &dir.path().join("node.log")];
    wait_for("blocks after the restart are safe", &logs, Duration::from_secs(90), || {
        safe() >= target
    });
    let log = std::fs::read_to_string(&batcher2.log).unwrap();
    let first = plain(log.lines().find(|l| l.contains("posted a channel")).expect("a channel"));
    assert!(
        first.contains(&format!("blocks=({next}, ")),
        "restarted elsewhere than {next}: {first}"
    );
}

/// DA throttling: with no batcher running, the sequencer's unsafe backlog passes the
/// thresholds; a transaction bigger than the tightest per-transaction cap waits in the pool
/// while small ones are included; once a batcher posts and the blocks become safe, throttling
/// ends and it is included.
#[test]
fn a_da_backlog_holds_big_transactions_back_until_the_l1_catches_up() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let throttle = [
        "--no-batcher",
        "--throttle.unsafe-da-bytes-lower-threshold",
        "50",
        "--throttle.unsafe-da-bytes-upper-threshold",
        "100",
    ];
    let node = Launched::start_args(&l1, dir.path(), &throttle);
    let slog = dir.path().join("node.log");
    let send = |key: &str, data: &str, wait: bool| -> String {
        let mut args = vec!["send", common::DEV_ADDR1, data, "--private-key", key];
        args.extend(["--rpc-url", &node.url]);
        if wait {
            args.push("--json");
        } else {
            args.push("--async");
        }
        cast(&args)
    };
    // A transfer makes the backlog (OP's estimate: at least 100 bytes a transaction).
    send(DEV_KEY0, "0x", true);
    wait_for("throttling never started", &[&slog], Duration::from_secs(30), || {
        std::fs::read_to_string(&slog).unwrap_or_default().contains("DA throttling on")
    });
    // 1,000 bytes of calldata FastLZ cannot shrink: estimated far above the 150-byte cap.
    let mut noise = Vec::new();
    let mut seed = alloy_primitives::B256::repeat_byte(7);
    while noise.len() < 1_000 {
        seed = alloy_primitives::keccak256(seed);
        noise.extend_from_slice(seed.as_slice());
    }
    let big = send(common::DEV_KEY1, &alloy_primitives::hex::encode_prefixed(&noise), false);
    let big = big.trim().to_string();
    // A small one from another account goes in meanwhile.
    let small: Value = serde_json::from_str(&send(DEV_KEY0, "0x", true)).unwrap();
    let after = common::hex_u64(&small["blockNumber"]) + 3;
    let head = || common::hex_u64(&node.rpc("eth_blockNumber", serde_json::json!([])));
    while head() < after {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(node.rpc("eth_getTransactionReceipt", serde_json::json!([big])).is_null());
    assert!(!node.rpc("eth_getTransactionByHash", serde_json::json!([big])).is_null());

    // The L1 catches up: a batcher posts, the blocks become safe, the big one goes in.
    let bdir = tempfile::tempdir().unwrap();
    let batcher =
        BatcherProc::start(bdir.path(), &BatcherProc::args(dir.path(), &node.url, &l1, DEV_KEY0));
    let logs = [slog.as_path(), batcher.log.as_path()];
    wait_for("the held transaction was never included", &logs, Duration::from_secs(90), || {
        !node.rpc("eth_getTransactionReceipt", serde_json::json!([big])).is_null()
    });
    assert!(std::fs::read_to_string(&slog).unwrap().contains("DA throttling off"));
}

/// A backlog bigger than one L1 transaction is cut into channels of at most
/// `--batcher.target-num-frames` frames (one per calldata transaction by default), so each
/// channel lands whole in one L1 transaction; they all derive.
#[test]
fn a_backlog_is_posted_in_channels_of_one_l1_transaction_each() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let node = Launched::start_args(&l1, dir.path(), &["--no-batcher"]);
    // Four blocks of 60,000 incompressible bytes: 240 kB, two frames' worth at least.
    let mut last = 0;
    for i in 0..4u8 {
        let mut noise = Vec::new();
        let mut seed = alloy_primitives::B256::repeat_byte(i);
        while noise.len() < 60_000 {
            seed = alloy_primitives::keccak256(seed);
            noise.extend_from_slice(seed.as_slice());
        }
        let data = alloy_primitives::hex::encode_prefixed(&noise);
        let sent = cast(&[
            "send",
            common::DEV_ADDR1,
            &data,
            "--private-key",
            DEV_KEY0,
            "--rpc-url",
            &node.url,
            "--json",
        ]);
        let r: Value = serde_json::from_str(&sent).unwrap();
        last = common::hex_u64(&r["blockNumber"]);
    }
    let bdir = tempfile::tempdir().unwrap();
    let mut args = BatcherProc::args(dir.path(), &node.url, &l1, DEV_KEY0);
    args.extend(["--batcher.data-availability-type", "calldata"].map(String::from));
    let batcher = BatcherProc::start(bdir.path(), &args);
    let safe = || {
        node.rpc("eth_getBlockByNumber", serde_json::json!(["safe", false]))["number"]
            .as_str()
            .map_or(0, |n| u64::from_str_radix(n.trim_start_matches("0x"), 16).unwrap())
    };
    let logs = [batcher.log.as_path(), &dir.path().join("node.log")];
    wait_for("the big blocks are safe", &logs, Duration::from_secs(120), || safe() >= last);
    let log = std::fs::read_to_string(&batcher.log).unwrap();
    let channels: Vec<&str> = log.lines().filter(|l| l.contains("posted a channel")).collect();
    assert!(channels.len() >= 4, "the backlog went in {} channels:\n{log}", channels.len());
    for c in channels.iter().map(|c| plain(c)) {
        let txs = c.split(" txs=").nth(1).and_then(|t| t.split_whitespace().next());
        assert_eq!(txs, Some("1"), "a channel of several transactions: {c}");
    }
}

/// A log line without its ANSI colour codes.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Rotating the batcher through SystemConfig (`setBatcherHash`), as a funder hiring a new
/// batcher does: from the L1 block of the update on, derivation reads only the new key's
/// batches (on the sequencer and on a follower) and the L2's L1-info carries the new batcher;
/// the sequencer's own batcher stands down, and `agnt2 batcher` with the new key (refused with
/// the old one) carries the chain on to safe blocks the follower derives identically.
#[test]
fn systemconfig_rotates_the_batcher_and_derivation_follows() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let d = deployment(dir.path());
    let node = Launched::start(&l1, dir.path());
    let fdir = tempfile::tempdir().unwrap();
    let follower = Launched::follower(&l1, dir.path(), fdir.path(), &node.url);
    let (slog, flog) = (dir.path().join("node.log"), fdir.path().join("node.log"));
    let safe = |n: &Launched| {
        n.rpc("eth_getBlockByNumber", serde_json::json!(["safe", false]))["number"]
            .as_str()
            .map_or(0, |x| u64::from_str_radix(x.trim_start_matches("0x"), 16).unwrap())
    };
    wait_for("the follower made nothing safe", &[&flog], Duration::from_secs(60), || {
        safe(&follower) >= 3
    });
    // The owner (the operator key) names a new batcher. The node sends from the same key
    // (proposals, batches): a nonce it took meanwhile is tried again.
    let new_hash = format!("0x{:0>64}", common::DEV_ADDR1.trim_start_matches("0x").to_lowercase());
    let system_config = d["systemConfig"].as_str().unwrap();
    let set = [
        "send",
        system_config,
        "setBatcherHash(bytes32)",
        &new_hash,
        "--private-key",
        DEV_KEY0,
        "--rpc-url",
        &l1,
    ];
    for attempt in 0.. {
        let out = Command::new(common::tool("cast")).args(set).output().unwrap();
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(attempt < 10 && (err.contains("underpriced") || err.contains("nonce")), "{err}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let l2_batcher = |url: &str| {
        cast(&[
            "call",
            "0x4200000000000000000000000000000000000015",
            "batcherHash()(bytes32)",
            "--rpc-url",
            url,
        ])
        .trim()
        .to_lowercase()
    };
    wait_for("the L2 never adopted the new batcher", &[&slog], Duration::from_secs(60), || {
        l2_batcher(&node.url) == new_hash
    });
    wait_for("the sequencer's batcher kept posting", &[&slog], Duration::from_secs(30), || {
        std::fs::read_to_string(&slog).unwrap_or_default().contains("names another batcher")
    });

    // The old key is refused; the new one posts.
    let bdir = tempfile::tempdir().unwrap();
    let old = Command::new(agnt2_bin())
        .args(BatcherProc::args(dir.path(), &node.url, &l1, DEV_KEY0))
        .arg("--datadir")
        .arg(bdir.path())
        .output()
        .unwrap();
    assert!(!old.status.success(), "the replaced batcher key was accepted");
    let batcher = BatcherProc::start(
        bdir.path(),
        &BatcherProc::args(dir.path(), &node.url, &l1, common::DEV_KEY1),
    );
    let sent = cast(&[
        "send",
        common::DEV_ADDR1,
        "--value",
        "1",
        "--private-key",
        DEV_KEY0,
        "--rpc-url",
        &node.url,
        "--json",
    ]);
    let block = common::hex_u64(&serde_json::from_str::<Value>(&sent).unwrap()["blockNumber"]);
    let logs = [flog.as_path(), slog.as_path(), batcher.log.as_path()];
    wait_for("the new batcher's blocks are not safe", &logs, Duration::from_secs(90), || {
        safe(&follower) >= block && safe(&node) >= block
    });
    let hash_at = |n: &Launched, b: u64| {
        n.rpc("eth_getBlockByNumber", serde_json::json!([format!("0x{b:x}"), false]))["hash"]
            .clone()
    };
    for b in 0..=block {
        assert_eq!(hash_at(&follower, b), hash_at(&node, b), "block {b}");
    }
    assert_eq!(l2_batcher(&follower.url), new_hash);
}

/// `agnt2 monitor --act`: the L1's base fee rises past the agent's threshold, the monitor
/// decides to move to the launched L2 and bridges the agent's funds there through the portal;
/// they arrive on the L2.
#[test]
fn the_monitor_moves_an_agents_funds_to_the_l2_when_the_l1_gets_expensive() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let node = Launched::start(&l1, dir.path());
    let cfg = dir.path().join("thresholds.json");
    std::fs::write(&cfg, r#"{"maxL1BaseFeeGwei": 5}"#).unwrap();
    let l2_balance = || {
        cast(&["balance", common::DEV_ADDR1, "--rpc-url", &node.url])
            .trim()
            .parse::<u128>()
            .unwrap()
    };
    let before = l2_balance();
    // 100 gwei: above the threshold for a while even as empty blocks bring it down.
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", serde_json::json!(["0x174876e800"]));
    std::thread::sleep(Duration::from_millis(1500));
    let out = Command::new(agnt2_bin())
        .args(["monitor", "--l1.rpc-url", &l1, "--l2"])
        .arg(format!("mine={}", node.url))
        .args(["--config", cfg.to_str().unwrap(), "--blocks", "1", "--json", "--act"])
        .args(["--bridge-amount", "1ether", "--private-key", common::DEV_KEY1])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["decision"]["action"], "move", "{v}");
    assert_eq!(v["acted"]["bridged"], "1000000000000000000", "{v}");
    assert_eq!(v["acted"]["l2Txs"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(l2_balance() - before, 1_000_000_000_000_000_000, "the funds arrived on the L2");
}

/// The sequencer and batcher duties' probes read derivation, not the operator's word: a
/// prober's own follower (the L1 alone) decides. With no batcher running, `--check batches`
/// says down (the safe head stays at genesis); once the operator runs `agnt2 batcher`, up.
/// `--check safe-head` against the sequencer says up (its block at the safe height is the one
/// derivation made); against a node of other blocks (a devnet), down.
#[test]
fn batcher_and_sequencer_duty_probes_read_what_derivation_accepted() {
    let anvil = Anvil::start_with(&["--block-time", "1"]);
    let l1 = format!("http://{}", anvil.addr);
    let dir = tempfile::tempdir().unwrap();
    ok(&launch(&l1, dir.path(), &["--deploy-only"]));
    let node = Launched::start_args(&l1, dir.path(), &["--no-batcher"]);
    let fdir = tempfile::tempdir().unwrap();
    let follower = Launched::follower(&l1, dir.path(), fdir.path(), &node.url);
    let run = |args: &[&str]| -> Value {
        let out = Command::new(agnt2_bin()).current_dir(workspace()).args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
    };
    let keys: Vec<String> = agnt2_primitives::dev_signers(5)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let d = run(&["duty", "deploy", "--l2.rpc-url", &node.url, "--private-key", &keys[1]]);
    let board = d["board"].as_str().unwrap().to_string();
    let verifier = d["verifier"].as_str().unwrap().to_string();
    let register = |key: &str| {
        let id = "0x0000000000000000000000000000000000008004";
        cast(&["send", id, "register(string)", "a", "--private-key", key, "--rpc-url", &node.url]);
        let who = cast(&["wallet", "address", "--private-key", key]);
        let sig = "tokenOfOwnerByIndex(address,uint256)(uint256)";
        let n = cast(&["call", id, sig, who.trim(), "0", "--rpc-url", &node.url]);
        n.split_whitespace().next().unwrap().to_string()
    };
    let funder = register(&keys[1]);
    let prober = register(&keys[2]);
    let mut post = vec!["duty", "post", "--board", &board, "--funder-agent", &funder];
    post.extend(["--kind", "batcher", "--rate", "1gwei", "--units-cap", "9", "--epoch", "4"]);
    post.extend(["--min-bond", "0", "--verifier", &verifier, "--escrow", "1gwei"]);
    post.extend(["--l2.rpc-url", &node.url, "--private-key", &keys[1]]);
    let duty = run(&post)["duty"].as_str().unwrap().to_string();
    let probe = |check: &str, endpoint: Option<&str>| -> Value {
        let out = dir.path().join("probe.json");
        let mut args = vec!["probe", "--board", &board, "--duty", &duty, "--agent", &prober];
        args.extend(["--check", check, "--max-safe-age", "8", "--out", out.to_str().unwrap()]);
        if let Some(e) = endpoint {
            args.extend(["--endpoint", e]);
        }
        // The prober reads the board on the sequencer and derivation on its own follower.
        args.extend(["--follower", &follower.url]);
        args.extend(["--l2.rpc-url", &node.url, "--private-key", &keys[2]]);
        run(&args)
    };

    // No batcher: the follower's safe head stays at genesis and ages past the bound.
    std::thread::sleep(Duration::from_secs(10));
    let down = probe("batches", None);
    assert_eq!(down["ok"], false, "{down}");
    assert!(down["why"].as_str().unwrap().contains("old"), "{down}");

    let bdir = tempfile::tempdir().unwrap();
    let _batcher =
        BatcherProc::start(bdir.path(), &BatcherProc::args(dir.path(), &node.url, &l1, DEV_KEY0));
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let up = loop {
        let p = probe("batches", None);
        if p["ok"] == true {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the batcher's blocks never became safe: {p}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(up["headSeen"].as_u64().unwrap() > 0, "{up}");

    // The sequencer's block at the safe height is derivation's; a devnet's is not.
    let seq = probe("safe-head", Some(&node.url));
    assert_eq!(seq["ok"], true, "{seq}");
    let other = common::Node::start(&[]);
    // As many blocks as the rollup has, so the height exists there with another hash.
    other.rpc("anvil_mine", serde_json::json!(["0x3e8"]));
    let wrong = probe("safe-head", Some(&other.url()));
    assert_eq!(wrong["ok"], false, "{wrong}");
    assert!(wrong["why"].as_str().unwrap().contains("derivation made"), "{wrong}");
}
