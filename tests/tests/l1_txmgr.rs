//! Sending L1 transactions through a fee spike (what the batcher and the proposer do): a
//! transaction priced before the spike sits in the pool; the sender signs the same nonce
//! again with the new market's fees and it is included while the base fee is still high.

mod common;

use agnt2_client::{Client, Payload, Resubmit};
use common::{Anvil, DEV_ADDR0, DEV_KEY1, hex_u64};
use serde_json::json;
use std::time::{Duration, Instant};

/// Sends `payload` on an anvil that mines only when told to, spikes the base fee a hundredfold
/// right after the transaction reaches the pool, then mines a block every 300 ms. Returns how
/// many times the fees were bumped and the base fee of the block that included it.
fn through_a_spike(payload: Payload) -> (u32, u64) {
    let anvil = Anvil::start_with(&["--no-mining"]);
    let url = format!("http://{}", anvil.addr);
    let client = Client::new(&url).unwrap();
    let key: alloy_signer_local::PrivateKeySigner = DEV_KEY1.parse().unwrap();
    let cfg = Resubmit {
        timeout: Duration::from_secs(1),
        fee_limit_multiplier: 1_000,
        deadline: Duration::from_secs(60),
    };
    // Blob proofs need a deep stack.
    let sender = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || client.send_resubmitting(&key, payload, cfg))
        .unwrap();
    let pending = |a: &Anvil| hex_u64(&a.rpc("txpool_status", json!([]))["pending"]);
    let start = Instant::now();
    while pending(&anvil) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the transaction never reached the pool"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let base =
        hex_u64(&anvil.rpc("eth_getBlockByNumber", json!(["latest", false]))["baseFeePerGas"]);
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", json!([format!("{:#x}", base * 100)]));
    while !sender.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(60), "never included");
        anvil.rpc("evm_mine", json!([]));
        std::thread::sleep(Duration::from_millis(300));
    }
    let included = sender.join().unwrap().expect("included");
    assert!(agnt2_client::ReceiptResponse::status(&included.receipt), "the transaction reverted");
    let block = anvil.rpc(
        "eth_getBlockByNumber",
        json!([format!("{:#x}", included.receipt.block_number.unwrap()), false]),
    );
    // The version the L1 holds is the one the receipt names.
    let tx = anvil.rpc("eth_getTransactionByHash", json!([included.receipt.transaction_hash]));
    assert_eq!(tx["blockNumber"], block["number"]);
    (included.bumps, hex_u64(&block["baseFeePerGas"]) / base)
}

#[test]
fn a_call_stuck_behind_a_fee_spike_is_replaced_with_higher_fees() {
    let to = DEV_ADDR0.parse().unwrap();
    let payload =
        Payload::Call { to: Some(to), value: alloy_primitives::U256::from(1), data: vec![] };
    let (bumps, spike) = through_a_spike(payload);
    // Without a replacement it would wait for the base fee to fall back near its old level
    // (some 30 blocks of -12.5 %); replaced, it is in while the base fee is still far up.
    assert!(bumps >= 1, "no replacement was sent");
    assert!(spike >= 10, "included only once the base fee had fallen ({spike}× the old one)");
}

#[test]
fn a_blob_transaction_stuck_behind_a_fee_spike_is_replaced_with_higher_fees() {
    let blobs = vec![agnt2_batch::blob::encode(b"\x00stuck").unwrap()];
    let to = DEV_ADDR0.parse().unwrap();
    let (bumps, spike) = through_a_spike(Payload::Blobs { to, blobs });
    assert!(bumps >= 1, "no replacement was sent");
    assert!(spike >= 10, "included only once the base fee had fallen ({spike}× the old one)");
}
