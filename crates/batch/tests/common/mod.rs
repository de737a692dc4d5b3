//! Blocks of real signed transactions of every type span batches carry.
#![allow(dead_code)]

use agnt2_batch::BlockInput;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

pub(crate) const CHAIN: u64 = 80042;

pub(crate) fn signed<T>(key: &PrivateKeySigner, tx: T) -> Bytes
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

pub(crate) fn blocks() -> Vec<BlockInput> {
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
