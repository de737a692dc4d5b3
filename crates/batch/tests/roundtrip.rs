//! Blocks of real signed transactions of every batched type through a span batch, a channel
//! and frames, and back.

mod common;

use agnt2_batch::{
    ChannelOut, SPAN_BATCH_TYPE, batcher_tx_data, channel::MAX_RLP_BYTES_PER_CHANNEL,
    decompress_channel, parse_batcher_tx, span,
};
use alloy_primitives::Bytes;
use common::{CHAIN, blocks};

#[test]
fn blocks_come_back_from_span_batch_channel_and_frames() {
    let blocks = blocks();
    let versioned = span::encode(&blocks, 1_000, 2, CHAIN).unwrap();
    assert_eq!(versioned[0], SPAN_BATCH_TYPE);
    let mut ch = ChannelOut::new([3; 16]);
    ch.add_batch(&versioned);
    let frames = ch.frames(300).unwrap();
    let txs: Vec<Vec<u8>> = frames.iter().map(|f| batcher_tx_data([f])).collect();

    let mut data = Vec::new();
    for tx in &txs {
        for f in parse_batcher_tx(tx).unwrap() {
            data.extend(f.data);
        }
    }
    let batches = decompress_channel(&data, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    assert_eq!(batches, vec![versioned.clone()]);
    let decoded = span::decode(&batches[0][1..], 1_000, 2, CHAIN).unwrap();
    assert_eq!(&decoded.parent_check[..], &blocks[0].parent_hash[..20]);
    assert_eq!(&decoded.l1_origin_check[..], &blocks[6].l1_origin.1[..20]);
    assert_eq!(decoded.blocks.len(), blocks.len());
    for (got, want) in decoded.blocks.iter().zip(&blocks) {
        assert_eq!(got.timestamp, want.timestamp);
        assert_eq!(got.epoch, want.l1_origin.0);
        assert_eq!(got.txs, want.txs, "transactions are rebuilt byte for byte");
    }
}

#[test]
fn batches_refuse_gaps_other_chains_and_deposits() {
    let mut b = blocks();
    b[3].timestamp += 1;
    assert!(matches!(
        span::encode(&b, 1_000, 2, CHAIN),
        Err(span::SpanBatchError::Timestamp { index: 3, .. })
    ));
    assert!(matches!(
        span::encode(&blocks(), 1_000, 2, 1),
        Err(span::SpanBatchError::ChainId(0, CHAIN))
    ));
    let mut d = blocks();
    d[0].txs.insert(0, Bytes::from_static(&[0x7e, 0xc0]));
    assert!(matches!(
        span::encode(&d, 1_000, 2, CHAIN),
        Err(span::SpanBatchError::Transaction(0, _))
    ));
    assert!(matches!(span::encode(&[], 1_000, 2, CHAIN), Err(span::SpanBatchError::Empty)));
    // Truncations and garbage never panic.
    let good = span::encode(&blocks(), 1_000, 2, CHAIN).unwrap();
    for cut in 1..good.len() {
        let _ = span::decode(&good[1..cut], 1_000, 2, CHAIN);
    }
    assert!(span::decode(&[0xff; 64], 1_000, 2, CHAIN).is_err());
}
