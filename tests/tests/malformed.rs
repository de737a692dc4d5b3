//! Bad input at the JSON-RPC boundary gets a clear error and the node keeps serving.

mod common;

use common::*;
use serde_json::{Value, json};

fn error_of(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    v["error"].clone()
}

#[test]
fn malformed_requests_get_clear_errors() {
    let node = Node::start(&[]);

    let (_, body) = node.post_raw(b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ");
    assert_eq!(error_of(&body)["code"], -32700, "parse error: {body}");

    let resp = node.rpc_raw("eth_noSuchMethod", json!([]));
    assert_eq!(resp["error"]["code"], -32601, "{resp}");

    let resp = node.rpc_raw("eth_getBalance", json!([12345, "latest"]));
    assert_eq!(resp["error"]["code"], -32602, "{resp}");
    // jsonrpsee's (and reth's) shape: "Invalid params", what was wrong in `data`.
    assert!(resp["error"]["data"].as_str().unwrap().contains("invalid type"), "{resp}");

    let resp = node.rpc_raw("eth_getBalance", json!([]));
    assert_eq!(resp["error"]["code"], -32602, "{resp}");
    assert_eq!(resp["error"]["message"], "Invalid params", "{resp}");

    let resp = node.rpc_raw("eth_sendRawTransaction", json!(["0x02f8ffdeadbeef"]));
    assert_eq!(resp["error"]["code"], -32000, "{resp}");
    assert!(resp["error"]["message"].as_str().unwrap().contains("decode"), "{resp}");

    let resp = node.rpc_raw("eth_sendRawTransaction", json!(["not hex"]));
    assert_eq!(resp["error"]["code"], -32602, "{resp}");

    let resp = node.rpc_raw("eth_getBlockByNumber", json!(["0x99999999", false]));
    assert!(resp["result"].is_null(), "unknown block is null: {resp}");
    let resp = node.rpc_raw("eth_getBalance", json!([DEV_ADDR0, "0x99999999"]));
    assert_eq!(resp["error"]["message"], "header not found", "{resp}");

    // A body over 15 MB (reth's --rpc.max-request-size) is refused as too big.
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0x{}\"]}}",
        "ab".repeat(8 * 1024 * 1024 + 16)
    );
    let (status, body) = node.post_raw(big.as_bytes());
    assert!(status == 413 || error_of(&body)["code"] == -32007, "status {status}: {body}");

    // An oversized but acceptable body is refused by the pool with its limit.
    let resp =
        node.rpc_raw("eth_sendRawTransaction", json!([format!("0x02{}", "00".repeat(200_000))]));
    assert!(resp["error"]["message"].as_str().unwrap().contains("oversized"), "{resp}");

    // Still serving.
    assert_eq!(node.rpc("eth_chainId", json!([])), "0x138aa");
}
