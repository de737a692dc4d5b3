//! The same plain-Ethereum transactions on agnt2 and on anvil (Prague rules, which agnt2's
//! Jovian EVM runs) give the same status, gas used, logs, return data and revert data. The
//! OP differences (L1 fee, fee vaults) do not show in these fields.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;

fn calldata(sig: &str, args: &[&str]) -> String {
    let mut a = vec!["calldata", sig];
    a.extend_from_slice(args);
    cast(&a)
}

/// Something both nodes answer: `eth_sendTransaction` from dev account 0, then the receipt.
trait Chain {
    fn call(&self, method: &str, params: Value) -> Value;
    fn send(&self, tx: Value) -> Value {
        let hash = self.call("eth_sendTransaction", json!([tx]));
        for _ in 0..600 {
            let r = self.call("eth_getTransactionReceipt", json!([hash]));
            if !r.is_null() {
                return r;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no receipt for {hash}");
    }
}

impl Chain for Node {
    fn call(&self, method: &str, params: Value) -> Value {
        let v = self.rpc_raw(method, params);
        v.get("result").cloned().unwrap_or(v)
    }
}

impl Chain for Anvil {
    fn call(&self, method: &str, params: Value) -> Value {
        let req = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (_, body) = post_raw(self.addr, req.to_string().as_bytes());
        let v: Value = serde_json::from_str(&body).unwrap();
        v.get("result").cloned().unwrap_or(v)
    }
}

fn logs_of(r: &Value) -> Value {
    Value::Array(
        r["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| json!({"address": l["address"].as_str().unwrap().to_lowercase(), "topics": l["topics"], "data": l["data"]}))
            .collect(),
    )
}

#[test]
fn same_transactions_same_results_as_anvil() {
    let node = Node::start(&[]);
    let anvil = Anvil::start_with(&["--hardfork", "prague"]);
    let artifact: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("contracts/out/Diff.sol/Diff.json"))
            .expect("make contracts"),
    )
    .unwrap();
    let bytecode = artifact["bytecode"]["object"].as_str().unwrap().to_string();
    let from = DEV_ADDR0;

    let chains: [&dyn Chain; 2] = [&node, &anvil];
    let deploy: Vec<Value> = chains
        .iter()
        .map(|c| c.send(json!({"from": from, "data": bytecode, "gas": "0x1000000"})))
        .collect();
    assert_eq!(deploy[0]["contractAddress"], deploy[1]["contractAddress"]);
    assert_eq!(deploy[0]["gasUsed"], deploy[1]["gasUsed"], "deployment gas");
    let diff = deploy[0]["contractAddress"].as_str().unwrap().to_string();

    let salt = format!("0x{:064x}", 0x5a17u64);
    let sends = [
        calldata("note(uint256,bytes32)", &["7", &format!("0x{:064x}", 0xabcu64)]),
        calldata("note(uint256,bytes32)", &["7", &format!("0x{:064x}", 0u64)]),
        calldata("selfCall(uint256)", &["9"]),
        calldata("spawn(bytes32)", &[&salt]),
        calldata("spawn(bytes32)", &[&salt]), // same salt again: the CREATE2 fails, the call reverts
        calldata("failString()", &[]),
        calldata("failCustom(uint256)", &["42"]),
        calldata("hashLoop(uint256)", &["200"]),
    ];
    for data in &sends {
        let r: Vec<Value> = chains
            .iter()
            .map(|c| c.send(json!({"from": from, "to": diff, "data": data, "gas": "0x200000"})))
            .collect();
        assert_eq!(r[0]["status"], r[1]["status"], "status of {data}");
        assert_eq!(r[0]["gasUsed"], r[1]["gasUsed"], "gas used of {data}");
        assert_eq!(logs_of(&r[0]), logs_of(&r[1]), "logs of {data}");
    }

    let calls = [
        calldata("total()", &[]),
        calldata("notes(uint256)", &["9"]),
        calldata("hashLoop(uint256)", &["50"]),
        calldata("failString()", &[]),
        calldata("failCustom(uint256)", &["7"]),
        calldata("spawn(bytes32)", &[&format!("0x{:064x}", 0x77u64)]),
    ];
    for data in &calls {
        let out: Vec<Value> = chains
            .iter()
            .map(|c| {
                c.call("eth_call", json!([{"from": from, "to": diff, "data": data}, "latest"]))
            })
            .collect();
        match (&out[0], &out[1]) {
            (Value::String(a), Value::String(b)) => assert_eq!(a, b, "return data of {data}"),
            (a, b) => {
                assert_eq!(
                    a["error"]["code"], b["error"]["code"],
                    "error code of {data}: {a} / {b}"
                );
                assert_eq!(a["error"]["data"], b["error"]["data"], "revert data of {data}");
            }
        }
        let gas: Vec<Value> = chains
            .iter()
            .map(|c| c.call("eth_estimateGas", json!([{"from": from, "to": diff, "data": data}])))
            .collect();
        if gas[0].is_string() || gas[1].is_string() {
            let (a, b) = (common::hex_u64(&gas[0]), common::hex_u64(&gas[1]));
            // Both bisect to within 1.5% of the exact need.
            assert!(a.abs_diff(b) * 100 <= a.max(b) * 3, "estimate of {data}: {a} vs {b}");
        }
    }
}
