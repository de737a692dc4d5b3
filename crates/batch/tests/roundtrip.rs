//! Blocks of real signed transactions of every batched type through a span batch, a channel
//! and frames, and back.

use agnt2_batch::{
    BlockInput, ChannelOut, SPAN_BATCH_TYPE, batcher_tx_data, channel::MAX_RLP_BYTES_PER_CHANNEL,
    decompress_channel, parse_batcher_tx, span,
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

const CHAIN: u64 = 80042;

fn signed<T>(key: &PrivateKeySigner, tx: T) -> Bytes
where
    T: SignableTransaction<alloy_primitives::Signature>,
    TxEnvelope: From<alloy_consensus::Signed<T>>,
{
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into()
}

fn txs(key: &PrivateKeySigner, nonce: u64) -> Vec<Bytes> {
    let to = TxKind::Call(Address::repeat_byte(0x42));
    let list = AccessList(vec![AccessListItem {
        address: Address::repeat_byte(1),
        storage_keys: vec![B256::repeat_byte(2)],
    }]);
    vec![
        signed(
            key,
            TxEip1559 {
                chain_id: CHAIN,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1_000_000,
                to,
                value: U256::from(1_000_000_007u64),
                access_list: list.clone(),
                input: Bytes::from_static(b"hello"),
            },
        ),
        signed(
            key,
            TxLegacy {
                chain_id: Some(CHAIN),
                nonce: nonce + 1,
                gas_price: 3_000_000_000,
                gas_limit: 50_000,
                to,
                value: U256::ZERO,
                input: Bytes::new(),
            },
        ),
        // Pre-EIP-155 (unprotected) and a contract creation.
        signed(
            key,
            TxLegacy {
                chain_id: None,
                nonce: nonce + 2,
                gas_price: 1,
                gas_limit: 100_000,
                to: TxKind::Create,
                value: U256::ZERO,
                input: Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xf3]),
            },
        ),
        signed(
            key,
            TxEip2930 {
                chain_id: CHAIN,
                nonce: nonce + 3,
                gas_price: 7,
                gas_limit: 30_000,
                to,
                value: U256::from(5),
                input: Bytes::new(),
                access_list: list,
            },
        ),
    ]
}

fn blocks() -> Vec<BlockInput> {
    let key = PrivateKeySigner::random();
    (0..7u64)
        .map(|i| BlockInput {
            timestamp: 1_000 + 2 * (10 + i),
            parent_hash: B256::repeat_byte(i as u8 + 1),
            // Epochs 100 (blocks 0-2), 101 (3-5), 102 (6).
            l1_origin: (100 + i / 3, B256::repeat_byte(0xa0 + (i / 3) as u8)),
            sequence_number: i % 3,
            txs: if i == 4 { vec![] } else { txs(&key, i * 4) },
        })
        .collect()
}

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
