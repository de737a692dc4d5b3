//! Settlement: `agnt2 launch` deploys the OP Stack's own L1 contracts (contracts-bedrock forge
//! artifacts from npm) on a real anvil, reuses them on a second launch, and starts the node.

mod common;

use common::{Anvil, DEV_ADDR0, DEV_KEY0, agnt2_bin, cast, workspace};
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

fn launch(l1: &str, datadir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(agnt2_bin())
        .current_dir(workspace())
        .args(["launch", "--l1.rpc-url", l1, "--l1.key", DEV_KEY0, "--datadir"])
        .arg(datadir)
        .args(extra)
        .output()
        .expect("run agnt2 launch")
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
    let d: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("l1-deployment.json")).unwrap(),
    )
    .unwrap();
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
    let _ = child.kill();
    let _ = child.wait();
    assert!(id.1.contains("result"), "{}", id.1);
    assert!(dir.path().join("l1-deployment.json").exists());
}
