//! viem and ethers (from npm) drive the devnet the way applications do.

mod common;

use common::*;
use std::process::Command;

fn run_script(script: &str) {
    let node = Node::start(&[]);
    // The scripts import from .tools/node_modules (installed by `make tools`).
    let link = workspace().join("tests/js/node_modules");
    if !link.exists() {
        let _ = std::os::unix::fs::symlink(workspace().join(".tools/node_modules"), &link);
    }
    let artifact = workspace().join("contracts/out/Counter.sol/Counter.json");
    assert!(artifact.exists(), "run `make contracts`");
    let out = run(Command::new("node")
        .arg(workspace().join("tests/js").join(script))
        .arg(node.url())
        .arg(format!("ws://{}", node.addr))
        .arg(&artifact));
    assert!(out.contains("\"ok\":true"), "{script}: {out}");
}

#[test]
fn viem_deploys_calls_watches_signs_and_estimates() {
    run_script("viem.mjs");
}

#[test]
fn ethers_deploys_calls_watches_signs_and_estimates() {
    run_script("ethers.mjs");
}
