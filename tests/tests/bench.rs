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
