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

/// x402's `exact` scheme as the unmodified @x402/evm client signs it (EIP-3009
/// `TransferWithAuthorization` under the domain the payment requirements name), settled on
/// agnt2's AuthorizedToken by a third party: the payee gets exactly the price, and the same
/// authorization submitted again is refused.
#[test]
fn an_x402_exact_payment_signed_by_the_sdk_settles_on_the_authorized_token() {
    let node = Node::start(&[]);
    let url = node.url();
    let link = workspace().join("tests/js/node_modules");
    if !link.exists() {
        let _ = std::os::unix::fs::symlink(workspace().join(".tools/node_modules"), &link);
    }
    let keys: Vec<String> = agnt2_primitives::dev_signers(3)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let (minter, payer, facilitator) = (&keys[0], &keys[1], &keys[2]);
    let addr = |k: &str| cast(&["wallet", "address", "--private-key", k]).trim().to_string();
    let token = forge_create(
        &url,
        minter,
        "src/x402/AuthorizedToken.sol:AuthorizedToken",
        &["--constructor-args", "agnt2 USD", "aUSD", "6", &addr(minter)],
    );
    let mint = ["send", &token, "mint(address,uint256)", &addr(payer), "100000000"];
    cast(&mint.into_iter().chain(["--private-key", minter, "--rpc-url", &url]).collect::<Vec<_>>());
    let payee = "0x000000000000000000000000000000000000b0b0";
    let chain_id = cast(&["chain-id", "--rpc-url", &url]).trim().to_string();
    let out = run(Command::new("node")
        .arg(workspace().join("tests/js/x402-exact.mjs"))
        .args([&chain_id, &token, payer, payee, "1500000"]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let a = &v["payload"]["authorization"];
    let s = |k: &str| a[k].as_str().unwrap().to_string();
    let settle = || {
        Command::new(tool("cast"))
            .args(["send", &token])
            .arg("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)")
            .args([s("from"), s("to"), s("value"), s("validAfter"), s("validBefore"), s("nonce")])
            .arg(v["payload"]["signature"].as_str().unwrap())
            .args(["--private-key", facilitator, "--rpc-url", &url])
            .output()
            .unwrap()
    };
    let first = settle();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let balance = |who: &str| {
        let b = cast(&["call", &token, "balanceOf(address)(uint256)", who, "--rpc-url", &url]);
        b.split_whitespace().next().unwrap().to_string()
    };
    assert_eq!(balance(payee), "1500000");
    assert_eq!(balance(&addr(payer)), "98500000");
    assert!(!settle().status.success(), "a replayed authorization was accepted");
    assert_eq!(balance(payee), "1500000");
}
