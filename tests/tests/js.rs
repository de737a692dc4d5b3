//! viem and ethers (from npm) drive the devnet the way applications do.

mod common;

use common::*;
use std::process::Command;

fn run_script(script: &str) {
    let node = Node::start(&[]);
    js_modules();
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

/// One HTTP/1.0 request to `addr`: status and JSON body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let body = if method == "GET" { String::new() } else { body.to_string() };
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

/// x402's `exact` scheme as the unmodified @x402/evm client signs it (EIP-3009
/// `TransferWithAuthorization` under the domain the payment requirements name), verified and
/// settled by `agnt2 facilitator` on agnt2's AuthorizedToken: the payee gets exactly the price;
/// the payment against another price, and the same authorization again (through the
/// facilitator or straight to the token) are refused.
#[test]
fn an_x402_exact_payment_signed_by_the_sdk_settles_on_the_authorized_token() {
    let node = Node::start(&[]);
    let url = node.url();
    js_modules();
    let keys: Vec<String> = agnt2_primitives::dev_signers(3)
        .iter()
        .map(|s| alloy_primitives::hex::encode_prefixed(s.to_bytes()))
        .collect();
    let (minter, payer, facilitator) = (&keys[0], &keys[1], &keys[2]);
    let addr = |k: &str| cast(&["wallet", "address", "--private-key", k]).trim().to_string();
    // The token, deployed and minted by `agnt2 token` (a chain without the devnet's aUSD).
    let token_cmd = |args: &[&str], key: &str| {
        run(Command::new(agnt2_bin()).arg("token").args(args).args([
            "--l2.rpc-url",
            &url,
            "--private-key",
            key,
        ]))
    };
    let artifacts = workspace().join("contracts/out");
    let deploy = ["deploy", "--artifacts", artifacts.to_str().unwrap()];
    let deployed: serde_json::Value =
        serde_json::from_str(token_cmd(&deploy, minter).trim()).unwrap();
    let token = deployed["token"].as_str().unwrap().to_string();
    assert_eq!(deployed["minter"].as_str().unwrap().to_lowercase(), addr(minter).to_lowercase());
    let mint = ["mint", "--token", &token, "--to", &addr(payer), "--amount", "100000000"];
    let refused = Command::new(agnt2_bin())
        .args(["token"])
        .args(mint)
        .args(["--l2.rpc-url", &url, "--private-key", payer])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "only the minter mints");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("minter"));
    token_cmd(&mint, minter);
    let held = token_cmd(&["balance", "--token", &token, "--of", &addr(payer)], minter);
    assert_eq!(held.trim(), "100000000");
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
    let balance = |who: &str| {
        let b = cast(&["call", &token, "balanceOf(address)(uint256)", who, "--rpc-url", &url]);
        b.split_whitespace().next().unwrap().to_string()
    };

    // agnt2's facilitator, as a resource server built with the x402 SDK calls it.
    let f = FacilitatorProc::start(&url, facilitator);
    let network = format!("eip155:{chain_id}");
    let (status, supported) = http(&f.addr, "GET", "/supported", &serde_json::Value::Null);
    assert_eq!(status, 200);
    assert_eq!(supported["kinds"][0]["scheme"], "exact", "{supported}");
    assert_eq!(supported["kinds"][0]["network"], network.as_str(), "{supported}");
    let requirements = serde_json::json!({
        "scheme": "exact", "network": network, "amount": "1500000", "asset": token,
        "payTo": payee, "maxTimeoutSeconds": 300,
        "extra": {"name": "agnt2 USD", "version": "1"},
    });
    let body = |req: &serde_json::Value| serde_json::json!({"x402Version": 2, "paymentPayload": v, "paymentRequirements": req});
    let (_, ok) = http(&f.addr, "POST", "/verify", &body(&requirements));
    assert_eq!(ok["isValid"], true, "{ok}");
    assert_eq!(ok["payer"].as_str().unwrap().to_lowercase(), addr(payer).to_lowercase());
    // The same payment against a higher price: refused, nothing sent.
    let mut dearer = requirements.clone();
    dearer["amount"] = "2000000".into();
    let (_, no) = http(&f.addr, "POST", "/verify", &body(&dearer));
    assert_eq!(no["isValid"], false, "{no}");
    let (_, no) = http(&f.addr, "POST", "/settle", &body(&dearer));
    assert_eq!(no["success"], false, "{no}");
    assert_eq!(balance(payee), "0");
    let (_, settled) = http(&f.addr, "POST", "/settle", &body(&requirements));
    assert_eq!(settled["success"], true, "{settled}");
    assert_eq!(settled["network"], network.as_str());
    assert_eq!(balance(payee), "1500000");
    assert_eq!(balance(&addr(payer)), "98500000");
    // Replays: through the facilitator and straight to the token, refused.
    let (_, again) = http(&f.addr, "POST", "/settle", &body(&requirements));
    assert_eq!(again["success"], false, "{again}");
    assert!(again["errorReason"].as_str().unwrap().contains("nonce"), "{again}");
    assert!(!settle().status.success(), "a replayed authorization was accepted");
    assert_eq!(balance(payee), "1500000");
    // Malformed requests get a clear answer.
    let (status, bad) = http(&f.addr, "POST", "/verify", &serde_json::json!("nonsense"));
    assert_eq!((status, bad["isValid"].clone()), (200, false.into()), "{bad}");

    // A resource server written with the unmodified @x402/express, pointed at this facilitator
    // and at agnt2's network, is paid by the unmodified @x402/fetch client: 402 first, then the
    // answer, and the payee's balance moves by exactly the price.
    let shop = "0x000000000000000000000000000000000000c0c0";
    let out = run(Command::new("node")
        .arg(workspace().join("tests/js/x402-express.mjs"))
        .arg(format!("http://{}", f.addr))
        .args([&chain_id, &token, shop, payer, "250000"]));
    let r: serde_json::Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    assert_eq!(r["unpaid"], 402, "{r}");
    assert_eq!(r["paid"], 200, "{r}");
    assert_eq!(r["body"]["answer"], 42, "{r}");
    assert_eq!(r["settlement"]["success"], true, "{r}");
    assert_eq!(balance(shop), "250000");
    assert_eq!(balance(&addr(payer)), "98250000");

    // The Python `x402` client (PyPI, unmodified) supports agnt2's chain: it reads the chain id
    // from any `eip155:<id>` network; its payment settles through the facilitator too.
    let py = run(Command::new(workspace().join(".tools/py/bin/python"))
        .arg(workspace().join("tests/py/x402_exact.py"))
        .args([&chain_id, &token, payer, payee, "1500000"]));
    let pv: serde_json::Value = serde_json::from_str(py.trim()).unwrap();
    let pbody = serde_json::json!({"x402Version": 2, "paymentPayload": pv, "paymentRequirements": requirements});
    let (_, by_python) = http(&f.addr, "POST", "/settle", &pbody);
    assert_eq!(by_python["success"], true, "{by_python}");
    assert_eq!(balance(payee), "3000000");
    assert_eq!(balance(&addr(payer)), "96750000");
}
