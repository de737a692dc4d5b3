//! The benchmark commands run end to end on small inputs and print what they promise (figures
//! themselves are for `make bench`, not for assertions).

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

#[test]
fn bench_agent_compares_native_and_solidity_registries() {
    let out = run(Command::new(agnt2_bin()).args([
        "-q",
        "bench",
        "agent",
        "--calls",
        "5",
        "--rounds",
        "1",
        "--json",
        "--artifacts",
        workspace().join("contracts/out").to_str().unwrap(),
    ]));
    let report: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    let rows = report["results"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    for row in rows {
        for side in ["native", "solidity"] {
            let gas = row[side]["gas"].as_u64().unwrap();
            let exec = row[side]["exec_gas"].as_u64().unwrap();
            assert!(gas > 21_000 && exec > 10_000 && exec < gas, "{row}");
            assert!(row[side]["us"].as_f64().unwrap() >= 0.0);
        }
        assert!(row["gas_ratio"].as_f64().unwrap() > 0.0);
    }
    // A missing artifacts directory is a clear error, not a panic.
    let out = Command::new(agnt2_bin())
        .args([
            "-q",
            "bench",
            "agent",
            "--calls",
            "1",
            "--rounds",
            "1",
            "--artifacts",
            "/nonexistent",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("make contracts"), "{out:?}");
}

#[test]
fn bench_builder_runs_every_workload_and_compares_roots() {
    for workload in ["transfer", "erc20", "agent", "swap", "contended", "mixed"] {
        let out = run(Command::new(agnt2_bin()).args([
            "-q",
            "bench",
            "builder",
            "--workload",
            workload,
            "--txs",
            "60",
            "--threads",
            "2",
            "--rounds",
            "1",
            "--json",
            "--artifacts",
            workspace().join("contracts/out").to_str().unwrap(),
        ]));
        let r: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(r["workload"], workload);
        assert_eq!(r["included"], 60, "{r}");
        assert_eq!(r["roots_equal"], true, "{r}");
        for field in ["seq_ms", "par_ms", "speedup", "tps_par", "pipeline_tps"] {
            assert!(r[field].as_f64().unwrap() > 0.0, "{field}: {r}");
        }
    }
    let out = Command::new(agnt2_bin())
        .args(["bench", "builder", "--workload", "nft", "--txs", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown workload"), "{out:?}");
}

#[test]
fn bench_da_batches_a_workload_and_compares_with_ops_estimate() {
    let anvil = Anvil::start();
    let l1 = format!("http://{}", anvil.addr);
    let out = run(Command::new(agnt2_bin()).args([
        "-q",
        "bench",
        "da",
        "--workload",
        "mixed",
        "--txs",
        "300",
        "--txs-per-block",
        "50",
        "--json",
        "--l1.rpc-url",
        &l1,
        "--artifacts",
        workspace().join("contracts/out").to_str().unwrap(),
    ]));
    let r: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!((r["txs"].as_u64(), r["blocks"].as_u64()), (Some(300), Some(6)), "{r}");
    let f = |k: &str| r[k].as_f64().unwrap();
    // Brotli and the span batch's columns beat the raw encodings; OP never estimates below
    // its 100-byte minimum.
    assert!(f("posted_bytes_per_tx") < f("raw_bytes_per_tx"), "{r}");
    assert!(f("op_estimate_bytes_per_tx") >= 100.0, "{r}");
    assert!(f("calldata_gas_per_tx") > 0.0 && r["calldata_txs"].as_u64() >= Some(1), "{r}");
    // Posted to anvil: the receipts' gas is what the report computes for calldata, and each
    // blob costs its 131,072 blob gas.
    let l1 = &r["l1"];
    let g = |k: &str| l1[k].as_f64().unwrap_or_else(|| panic!("no l1.{k}: {r}"));
    assert_eq!(l1["calldata_txs"], r["calldata_txs"], "{r}");
    assert!((g("calldata_gas_per_tx") - f("calldata_gas_per_tx")).abs() < 1.0, "{r}");
    assert_eq!(l1["blobs"], r["blobs"], "{r}");
    let blobs = l1["blobs"].as_f64().unwrap();
    assert!((g("blob_gas_per_tx") - blobs * 131_072.0 / 300.0).abs() < 1e-6, "{r}");
    assert!(
        (g("blob_tx_gas_per_tx") - l1["blob_txs"].as_f64().unwrap() * 21_000.0 / 300.0).abs()
            < 1e-6,
        "{r}"
    );
}

#[test]
fn bench_rpc_submits_over_several_connections_and_sees_every_transfer_included() {
    let node = Node::start(&[]);
    let out = run(Command::new(agnt2_bin()).args([
        "-q",
        "bench",
        "rpc",
        "--url",
        &node.url(),
        "--txs",
        "300",
        "--conns",
        "3",
        "--batch",
        "50",
    ]));
    let r: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!((r["txs"].as_u64(), r["conns"].as_u64()), (Some(300), Some(3)), "{r}");
    assert!(r["tps"].as_f64().unwrap() > 0.0 && r["blocks"].as_u64().unwrap() >= 1, "{r}");
    // Every transfer landed: the senders' nonces moved by 300 in total.
    let total: u64 = agnt2_primitives::dev_signers(20)
        .iter()
        .map(|s| {
            hex_u64(
                &node.rpc("eth_getTransactionCount", serde_json::json!([s.address(), "latest"])),
            )
        })
        .sum();
    assert_eq!(total, 300);
}
