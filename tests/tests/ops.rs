//! Operations: Prometheus metrics, clean shutdown on SIGTERM, `agnt2 db stats`.

mod common;

use agnt2_primitives::dev_signers;
use common::*;
use serde_json::json;
use std::{process::Command, time::Duration};

#[test]
fn metrics_shutdown_and_db_stats() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics = format!("127.0.0.1:{port}");
    let mut node = Node::start(&["--metrics", &metrics]);
    let (raw, hash) = signed_transfer(&dev_signers(1)[0], 0);
    node.rpc("eth_sendRawTransaction", json!([raw]));
    node.wait_receipt(&hash, Duration::from_secs(30));
    // Invented method names all count as one series: a client cannot grow the exposition.
    for i in 0..3 {
        assert_eq!(node.rpc_raw(&format!("eth_invented{i}"), json!([]))["error"]["code"], -32601);
    }

    let (status, body) = post_raw(metrics.parse().unwrap(), b"");
    assert_eq!(status, 200);
    let value = |name: &str| -> f64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{name} missing in:\n{body}"))
    };
    assert!(value("agnt2_blocks_total") >= 1.0);
    assert!(value("agnt2_transactions_total") >= 1.0);
    assert!(value("agnt2_gas_used_total") >= 21_000.0);
    assert!(value("agnt2_db_size_bytes") > 0.0);
    assert_eq!(value("agnt2_txpool_pending"), 0.0);
    assert_eq!(value("agnt2_rpc_requests_total{method=\"eth_sendRawTransaction\"}"), 1.0);
    assert_eq!(value("agnt2_rpc_requests_total{method=\"unknown\"}"), 3.0);
    assert!(!body.contains("eth_invented"), "{body}");
    assert!(value("agnt2_rpc_request_seconds_count{method=\"eth_sendRawTransaction\"}") == 1.0);

    // SIGTERM: a clean exit, after which the datadir opens read-only for inspection.
    node.terminate();
    let status = node.child.try_wait().unwrap().expect("exited");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let out = run(Command::new(agnt2_bin()).args(["db", "stats", "--datadir"]).arg(&node.datadir));
    assert!(out.contains("head block: 1"), "{out}");
    assert!(out.contains("Receipts") && out.contains("AccountsTrie"), "{out}");
    let missing = Command::new(agnt2_bin())
        .args(["db", "stats", "--datadir", "/nonexistent/agnt2"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no database"));
}
