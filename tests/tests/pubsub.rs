//! WebSocket subscriptions, `eth_sendRawTransactionSync`, and the smaller lookups (by block
//! and index, counts, uncles, txpool content).

mod common;

use agnt2_primitives::dev_signers;
use common::*;
use serde_json::{Value, json};
use std::{
    net::TcpStream,
    time::{Duration, Instant},
};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

struct Ws {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Notifications read while waiting for a response.
    backlog: Vec<Value>,
}

impl Ws {
    fn connect(node: &Node) -> Self {
        let (ws, _) = tungstenite::connect(format!("ws://{}", node.addr)).expect("ws connect");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        }
        Self { ws, next_id: 1, backlog: vec![] }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("ws read") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected ws message {other:?}"),
            }
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.ws.send(Message::text(req.to_string())).unwrap();
        loop {
            let v = self.read();
            if v["id"] == id {
                return v;
            }
            self.backlog.push(v);
        }
    }

    /// The next notification of subscription `sub`.
    fn notification(&mut self, sub: &Value) -> Value {
        if let Some(i) = self.backlog.iter().position(|v| v["params"]["subscription"] == *sub) {
            return self.backlog.remove(i)["params"]["result"].clone();
        }
        loop {
            let v = self.read();
            if v["params"]["subscription"] == *sub {
                return v["params"]["result"].clone();
            }
            self.backlog.push(v);
        }
    }
}

#[test]
fn subscriptions_deliver_heads_logs_and_pending_transactions() {
    let node = Node::start(&[]);
    let mut ws = Ws::connect(&node);

    // A contract whose every call emits LOG0 (runtime: SSTORE(0, calldata[0]); LOG0; STOP).
    let init = "0x6b60003560005560006000a000600052600c6014f3";
    let hash = node.rpc("eth_sendTransaction", json!([{"from": DEV_ADDR0, "data": init}]));
    let r = node.wait_receipt(hash.as_str().unwrap(), Duration::from_secs(30));
    let contract = r["contractAddress"].as_str().unwrap().to_string();

    let heads = ws.call("eth_subscribe", json!(["newHeads"]))["result"].clone();
    let logs = ws.call("eth_subscribe", json!(["logs", {"address": contract}]))["result"].clone();
    let pending = ws.call("eth_subscribe", json!(["newPendingTransactions"]))["result"].clone();
    assert!(heads.is_string() && logs.is_string() && pending.is_string());

    let hash = node
        .rpc("eth_sendTransaction", json!([{"from": DEV_ADDR0, "to": contract, "data": "0x01"}]));
    let r = node.wait_receipt(hash.as_str().unwrap(), Duration::from_secs(30));
    assert_eq!(ws.notification(&pending), hash);
    let head = ws.notification(&heads);
    assert_eq!(head["number"], r["blockNumber"]);
    assert_eq!(head["hash"], r["blockHash"]);
    let log = ws.notification(&logs);
    assert_eq!(log["transactionHash"], hash);
    assert_eq!(log["address"].as_str().unwrap().to_lowercase(), contract.to_lowercase());

    assert_eq!(ws.call("eth_unsubscribe", json!([heads]))["result"], true);
    assert_eq!(ws.call("eth_unsubscribe", json!([heads]))["result"], false);

    // Malformed subscriptions get clear errors.
    let e = ws.call("eth_subscribe", json!(["nonsense"]));
    assert_eq!(e["error"]["code"], -32602, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("unknown subscription"));
    let e = ws.call("eth_subscribe", json!(["logs", {"address": 5}]));
    assert_eq!(e["error"]["code"], -32602, "{e}");
}

#[test]
fn send_raw_transaction_sync_returns_the_receipt_or_times_out() {
    let node = Node::start(&[]);
    let s = &dev_signers(1)[0];
    let (raw, hash) = signed_transfer(s, 0);
    let started = Instant::now();
    let r = node.rpc("eth_sendRawTransactionSync", json!([raw]));
    assert_eq!(r["transactionHash"], hash);
    assert_eq!(r["status"], "0x1");
    assert!(started.elapsed() < Duration::from_secs(10));

    let manual = Node::start(&["--no-mining"]);
    let (raw, hash) = signed_transfer(s, 0);
    let resp = manual.rpc_raw("eth_sendRawTransactionSync", json!([raw, 200]));
    assert_eq!(resp["error"]["code"], 4, "{resp}");
    assert_eq!(resp["error"]["data"], hash);
}

#[test]
fn lookups_by_block_and_index_counts_uncles_and_txpool_content() {
    let node = Node::start(&["--no-mining"]);
    let s = &dev_signers(1)[0];
    // Nonce 0 executable, nonce 2 waits for 1.
    for n in [0u64, 2] {
        node.rpc("eth_sendRawTransaction", json!([signed_transfer(s, n).0]));
    }
    let content = node.rpc("txpool_content", json!([]));
    let me = s.address().to_checksum(None);
    assert!(content["pending"][&me]["0"].is_object(), "{content}");
    assert!(content["queued"][&me]["2"].is_object(), "{content}");
    let inspect = node.rpc("txpool_inspect", json!([]));
    assert!(
        inspect["pending"][&me]["0"].as_str().unwrap().contains("1 wei + 21000 gas"),
        "{inspect}"
    );
    assert_eq!(node.rpc("txpool_status", json!([])), json!({"pending": "0x1", "queued": "0x1"}));

    node.rpc("evm_mine", json!([]));
    let block = node.rpc("eth_getBlockByNumber", json!(["0x1", false]));
    assert_eq!(node.rpc("eth_getBlockTransactionCountByNumber", json!(["0x1"])), "0x2");
    assert_eq!(node.rpc("eth_getBlockTransactionCountByHash", json!([block["hash"]])), "0x2");
    let tx0 = node.rpc("eth_getTransactionByBlockNumberAndIndex", json!(["0x1", "0x0"]));
    assert_eq!(tx0["type"], "0x7e", "the L1-info deposit comes first");
    let tx1 = node.rpc("eth_getTransactionByBlockHashAndIndex", json!([block["hash"], "0x1"]));
    assert_eq!(tx1["hash"], block["transactions"][1]);
    assert!(node.rpc("eth_getTransactionByBlockNumberAndIndex", json!(["0x1", "0x9"])).is_null());
    assert_eq!(node.rpc("eth_getUncleCountByBlockNumber", json!(["0x1"])), "0x0");
    assert!(node.rpc("eth_getUncleByBlockNumberAndIndex", json!(["0x1", "0x0"])).is_null());
    let modules = node.rpc("rpc_modules", json!([]));
    assert_eq!(modules["eth"], "1.0");
}
