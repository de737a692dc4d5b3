//! The parallel block builder inside the node: the same transactions mined with
//! `--builder.threads 2` and `--builder.threads 1` give the same chain, block hash for block
//! hash (state roots, receipts, everything the header commits to).

mod common;

use agnt2_primitives::dev_signers;
use alloy_primitives::{Address, U256, keccak256};
use common::*;
use serde_json::{Value, json};
use std::str::FromStr;

fn selector(sig: &str) -> Vec<u8> {
    keccak256(sig)[..4].to_vec()
}

#[test]
fn two_builder_threads_produce_the_same_chain_as_one() {
    let one = Node::start(&["--no-mining", "--builder.threads", "1"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics = format!("127.0.0.1:{port}");
    let two = Node::start(&["--no-mining", "--builder.threads", "2", "--metrics", &metrics]);
    let signers = dev_signers(12);
    let mut nonces = [0u64; 12];
    let artifact: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("contracts/out/Counter.sol/Counter.json"))
            .expect("run `make contracts`"),
    )
    .unwrap();
    let mut code =
        alloy_primitives::hex::decode(artifact["bytecode"]["object"].as_str().unwrap()).unwrap();
    code.extend_from_slice(&[0u8; 32]);
    let counter = signers[0].address().create(0);

    let mut timestamp =
        hex_u64(&one.rpc("eth_getBlockByNumber", json!(["latest", false]))["timestamp"]);
    let mut blocks: Vec<Vec<String>> = Vec::new();
    // Block 1: deploy the counter. Blocks 2–4: 150 transactions each from 11 senders — a hot
    // counter, transfers between the senders (balance conflicts), reverts, value to the counter.
    blocks.push(vec![signed_call(&signers[0], 0, None, U256::ZERO, &code, 1_000_000).0]);
    nonces[0] = 1;
    for b in 0..3u64 {
        let mut raws = Vec::new();
        for t in 0..150usize {
            let s = 1 + t % 11;
            let (to, value, input, gas): (Option<Address>, U256, Vec<u8>, u64) = match (t + b
                as usize)
                % 5
            {
                0 | 1 => (Some(counter), U256::ZERO, selector("increment()"), 100_000),
                2 => (
                    Some(signers[1 + (t * 7) % 11].address()),
                    U256::from(1000 + t),
                    vec![],
                    21_000,
                ),
                3 => {
                    let mut input = selector("setNumber(uint256)");
                    input.extend_from_slice(
                        &U256::from(if t % 2 == 0 { 5 } else { 2_000_000 }).to_be_bytes::<32>(),
                    );
                    (Some(counter), U256::ZERO, input, 100_000)
                }
                _ => (
                    Some(Address::from_str("0x4200000000000000000000000000000000000011").unwrap()),
                    U256::from(7),
                    vec![],
                    50_000,
                ),
            };
            raws.push(signed_call(&signers[s], nonces[s], to, value, &input, gas).0);
            nonces[s] += 1;
        }
        blocks.push(raws);
    }
    for raws in &blocks {
        timestamp += 2;
        for node in [&one, &two] {
            let out = send_batch(node.addr, raws);
            assert_eq!(out.len(), raws.len());
            assert!(out.iter().all(|r| r.get("result").is_some()), "{out:?}");
            node.rpc("evm_setNextBlockTimestamp", json!([timestamp]));
            node.rpc("evm_mine", json!([]));
        }
        let a = one.rpc("eth_getBlockByNumber", json!(["latest", false]));
        let b = two.rpc("eth_getBlockByNumber", json!(["latest", false]));
        assert_eq!(a["transactions"].as_array().unwrap().len(), raws.len() + 1, "all included");
        for field in
            ["hash", "stateRoot", "receiptsRoot", "transactionsRoot", "gasUsed", "logsBloom"]
        {
            assert_eq!(a[field], b[field], "{field} at block {}", a["number"]);
        }
    }
    // The three big blocks went through the parallel path (its counters), the deploy did not.
    let (_, body) = post_raw(metrics.parse().unwrap(), b"");
    let value = |name: &str| -> f64 {
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{name} missing in:\n{body}"))
    };
    assert_eq!(value("agnt2_builder_parallel_blocks_total"), 3.0);
    let handled = value("agnt2_builder_speculated_total")
        + value("agnt2_builder_reexecuted_total")
        + value("agnt2_builder_direct_total");
    assert_eq!(handled, 450.0, "{body}");
    assert_eq!(
        one.rpc("eth_getBalance", json!(["0x4200000000000000000000000000000000000011", "latest"])),
        two.rpc("eth_getBalance", json!(["0x4200000000000000000000000000000000000011", "latest"]))
    );
}
