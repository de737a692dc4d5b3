//! agnt2's batches against kona-protocol, an implementation this project did not write
//! (tools/kona-check, built by `make test`), both ways: what agnt2's batcher writes decodes in
//! kona to the same blocks, and what kona writes decodes in agnt2 to the same blocks.

mod common;

use agnt2_batch::{
    ChannelAssembler, ChannelOut, FrameOutcome, batcher_tx_data, parse_batcher_tx, read_channel,
    span,
};
use common::{CHAIN, blocks};
use serde_json::{Value, json};
use std::{io::Write, path::PathBuf, process::Command};

fn kona_check() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug/kona-check");
    assert!(bin.exists(), "{} is missing: build it with `make kona-check`", bin.display());
    bin
}

fn kona(input: &Value) -> Value {
    let mut child = Command::new(kona_check())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kona refused: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn kona_encoded_batches_read_back_in_agnt2() {
    let blocks = blocks();
    let json_blocks: Vec<Value> = blocks
        .iter()
        .map(|b| {
            json!({
                "timestamp": b.timestamp,
                "parent_hash": b.parent_hash,
                "epoch_num": b.l1_origin.0,
                "epoch_hash": b.l1_origin.1,
                "seq": b.sequence_number,
                "txs": b.txs,
            })
        })
        .collect();
    let out = kona(&json!({"encode": {
        "genesis_time": 1_000, "chain_id": CHAIN, "frame_size": 300, "blocks": json_blocks,
    }}));
    let txs = out["txs"].as_array().unwrap();
    assert!(txs.len() > 1, "several frames");
    let mut assembler = ChannelAssembler::default();
    let mut channels = Vec::new();
    for (i, tx) in txs.iter().enumerate() {
        let data = alloy_primitives::hex::decode(tx.as_str().unwrap()).unwrap();
        for frame in parse_batcher_tx(&data).unwrap() {
            let (outcome, done) = assembler.add(frame, 100 + i as u64);
            assert_ne!(outcome, FrameOutcome::Dropped);
            channels.extend(done);
        }
    }
    assert_eq!(channels.len(), 1);
    let batches = read_channel(&channels[0], 1_000, 2, CHAIN).unwrap();
    assert_eq!(batches.len(), 1);
    let span = &batches[0];
    assert_eq!(&span.parent_check[..], &blocks[0].parent_hash[..20]);
    assert_eq!(&span.l1_origin_check[..], &blocks[6].l1_origin.1[..20]);
    assert_eq!(span.blocks.len(), blocks.len());
    for (got, want) in span.blocks.iter().zip(&blocks) {
        assert_eq!((got.timestamp, got.epoch), (want.timestamp, want.l1_origin.0));
        assert_eq!(got.txs, want.txs, "block at {}", want.timestamp);
    }
    // And the span batch itself is byte for byte what agnt2 encodes for the same blocks.
    let ours = span::encode(&blocks, 1_000, 2, CHAIN).unwrap();
    let rlp = agnt2_batch::decompress_channel(&channels[0], usize::MAX).unwrap();
    assert_eq!(rlp, vec![ours], "kona's span batch and agnt2's are the same bytes");
}

#[test]
fn kona_derives_the_same_blocks_from_our_batcher_transactions() {
    let blocks = blocks();
    // Two channels (blocks 0-3 and 4-6), each over several frames, one frame per transaction.
    let mut txs = Vec::new();
    for (id, part) in [(1u8, &blocks[..4]), (2, &blocks[4..])] {
        let mut ch = ChannelOut::new([id; 16]);
        ch.add_batch(&span::encode(part, 1_000, 2, CHAIN).unwrap());
        let frames = ch.frames(256).unwrap();
        assert!(frames.len() > 1);
        txs.extend(
            frames
                .iter()
                .map(|f| format!("0x{}", alloy_primitives::hex::encode(batcher_tx_data([f])))),
        );
    }
    let input = json!({"genesis_time": 1_000, "block_time": 2, "chain_id": CHAIN, "txs": txs});
    let v = kona(&input);
    let got = v["blocks"].as_array().unwrap();
    assert_eq!(got.len(), blocks.len());
    for (g, want) in got.iter().zip(&blocks) {
        assert_eq!(g["timestamp"], want.timestamp);
        assert_eq!(g["epoch"], want.l1_origin.0);
        let txs: Vec<String> = want.txs.iter().map(|t| t.to_string()).collect();
        assert_eq!(g["txs"], json!(txs), "block at {}", want.timestamp);
    }
    // The checks of each span: the first block's parent, the last block's L1 origin.
    assert_eq!(
        got[0]["parent_check"],
        format!("0x{}", alloy_primitives::hex::encode(&blocks[0].parent_hash[..20]))
    );
    assert_eq!(
        got[6]["l1_origin_check"],
        format!("0x{}", alloy_primitives::hex::encode(&blocks[6].l1_origin.1[..20]))
    );
}

/// An L1 block as kona-derive's blob source reads it: a blob transaction from the batcher to
/// the inbox, a calldata one, and a stranger's blob transaction to the inbox in between (whose
/// blob kona must skip by index).
#[test]
fn kona_reads_our_blobs_as_we_do() {
    use agnt2_batch::blob;
    use alloy_consensus::TxEip4844;
    use alloy_eips::eip4844::{BlobTransactionSidecar, env_settings::EnvKzgSettings};
    use alloy_primitives::{Address, TxKind, U256};
    use alloy_signer_local::PrivateKeySigner;

    let (inbox, batcher, stranger) =
        (Address::repeat_byte(0xff), PrivateKeySigner::random(), PrivateKeySigner::random());
    let blocks = blocks();
    let mut ch = ChannelOut::new([7; 16]);
    ch.add_batch(&span::encode(&blocks, 1_000, 2, CHAIN).unwrap());
    let frames = ch.frames(300).unwrap();
    assert!(frames.len() > 3);
    // One frame per blob, as the batcher posts them.
    let datas: Vec<Vec<u8>> = frames.iter().map(|f| batcher_tx_data([f])).collect();
    let blobs: Vec<_> = datas[..3].iter().map(|d| blob::encode(d).unwrap()).collect();
    let junk = vec![blob::encode(b"not frames").unwrap()];
    let hashes = |blobs: &[alloy_eips::eip4844::Blob]| {
        BlobTransactionSidecar::try_from_blobs_with_settings(
            blobs.to_vec(),
            EnvKzgSettings::Default.get(),
        )
        .unwrap()
        .versioned_hashes()
        .collect::<Vec<_>>()
    };
    let blob_tx = |key: &PrivateKeySigner, nonce, blobs: &[_]| {
        common::signed(
            key,
            TxEip4844 {
                chain_id: 1,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 1,
                to: inbox,
                blob_versioned_hashes: hashes(blobs),
                max_fee_per_blob_gas: 1,
                ..Default::default()
            },
        )
    };
    let calldata_tx = common::signed(
        &batcher,
        alloy_consensus::TxEip1559 {
            chain_id: 1,
            nonce: 1,
            gas_limit: 100_000,
            max_fee_per_gas: 1,
            to: TxKind::Call(inbox),
            value: U256::ZERO,
            input: datas[3].clone().into(),
            ..Default::default()
        },
    );
    let txs = [blob_tx(&stranger, 0, &junk), blob_tx(&batcher, 0, &blobs), calldata_tx];
    let all_blobs: Vec<String> = junk
        .iter()
        .chain(&blobs)
        .map(|b| format!("0x{}", alloy_primitives::hex::encode(b)))
        .collect();
    let v = kona(&json!({"blobs": {
        "inbox": inbox, "batcher": batcher.address(), "txs": txs, "blobs": all_blobs,
    }}));
    let got: Vec<Vec<u8>> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| alloy_primitives::hex::decode(d.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(got, datas[..4].to_vec(), "kona reads the batcher's blobs, then its calldata");
    // Our decoder reads the same data out of the same blobs.
    let ours: Vec<Vec<u8>> = blobs.iter().map(|b| blob::decode(b).unwrap()).collect();
    assert_eq!(ours, datas[..3].to_vec());
}
