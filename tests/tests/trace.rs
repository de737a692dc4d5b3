//! `debug_trace*` with the call, prestate and default tracers over replayed blocks.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn traces_transactions_blocks_and_calls() {
    let node = Node::start(&[]);
    // A contract whose every call stores its calldata word in slot 0 and emits LOG0.
    let init = "0x6b60003560005560006000a000600052600c6014f3";
    let h = node.rpc("eth_sendTransaction", json!([{"from": DEV_ADDR0, "data": init}]));
    let r = node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30));
    let contract = r["contractAddress"].as_str().unwrap().to_string();
    let word = format!("0x{:064x}", 7);
    let h =
        node.rpc("eth_sendTransaction", json!([{"from": DEV_ADDR0, "to": contract, "data": word}]));
    let r = node.wait_receipt(h.as_str().unwrap(), Duration::from_secs(30));

    let call = node.rpc("debug_traceTransaction", json!([h, {"tracer": "callTracer"}]));
    assert_eq!(call["type"], "CALL");
    assert_eq!(call["to"].as_str().unwrap().to_lowercase(), contract.to_lowercase());
    assert_eq!(call["input"], word);
    assert_eq!(call["gasUsed"], r["gasUsed"], "trace and receipt agree on gas");

    let logs = node.rpc("debug_traceTransaction", json!([h, {}]));
    assert_eq!(logs["failed"], false);
    let ops: Vec<&str> =
        logs["structLogs"].as_array().unwrap().iter().map(|l| l["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["PUSH1", "CALLDATALOAD", "PUSH1", "SSTORE", "PUSH1", "PUSH1", "LOG0", "STOP"]);

    let pre = node.rpc("debug_traceTransaction", json!([h, {"tracer": "prestateTracer"}]));
    let c = pre
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&contract))
        .expect("contract in prestate")
        .1;
    assert!(
        c["storage"].is_null()
            || c["storage"].as_object().unwrap().values().all(|v| v
                .as_str()
                .unwrap()
                .trim_start_matches("0x")
                .trim_start_matches('0')
                .is_empty())
    );
    let diff = node.rpc(
        "debug_traceTransaction",
        json!([h, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]),
    );
    assert!(diff["post"].is_object(), "{diff}");

    let block =
        node.rpc("debug_traceBlockByNumber", json!([r["blockNumber"], {"tracer": "callTracer"}]));
    let traces = block.as_array().unwrap();
    assert_eq!(traces.len(), 2, "the L1-info deposit and the call");
    assert_eq!(traces[1]["txHash"], h);
    assert_eq!(traces[0]["result"]["to"], "0x4200000000000000000000000000000000000015");

    let tc = node.rpc("debug_traceCall", json!([{"from": DEV_ADDR1, "to": contract, "data": word}, "latest", {"tracer": "callTracer"}]));
    assert_eq!(tc["type"], "CALL");
    assert_eq!(tc["from"].as_str().unwrap().to_lowercase(), DEV_ADDR1.to_lowercase());

    let al = node
        .rpc("eth_createAccessList", json!([{"from": DEV_ADDR1, "to": contract, "data": word}]));
    assert!(al["accessList"].is_array(), "{al}");
    assert!(hex_u64(&al["gasUsed"]) > 21_000, "{al}");
    assert_eq!(al["accessList"][0]["storageKeys"][0], format!("0x{:064x}", 0), "{al}");

    let bad = node.rpc_raw("debug_traceTransaction", json!([h, {"tracer": "noSuchTracer"}]));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().contains("unknown tracer"), "{bad}");
    let js =
        node.rpc_raw("debug_traceTransaction", json!([h, {"tracer": "{ result: function() {} }"}]));
    assert_eq!(js["error"]["code"], -32602, "{js}");
    let missing = node.rpc_raw(
        "debug_traceTransaction",
        json!(["0x00000000000000000000000000000000000000000000000000000000000000aa"]),
    );
    assert!(missing["error"]["message"].as_str().unwrap().contains("not found"), "{missing}");
}
