use crate::ExecutedBlock;
use agnt2_primitives::Header;
use alloy_consensus::{
    EMPTY_OMMER_ROOT_HASH, TxReceipt,
    proofs::{calculate_receipt_root, calculate_transaction_root},
};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_primitives::{B64, B256, Bloom};

/// The header of an executed block, given its state root and the storage root of the
/// `L2ToL1MessagePasser` (Isthmus puts it in `withdrawalsRoot`). Returns the header and its hash.
pub fn seal(block: &ExecutedBlock, state_root: B256, message_passer_root: B256) -> (Header, B256) {
    let envelopes: Vec<_> = block.txs.iter().map(|(_, tx)| tx.clone()).collect();
    let mut bloom = Bloom::ZERO;
    for r in &block.receipts {
        bloom.accrue_bloom(&r.bloom());
    }
    let env = &block.ctx.env;
    let header = Header {
        parent_hash: block.ctx.parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: env.beneficiary,
        state_root,
        transactions_root: calculate_transaction_root(&envelopes),
        receipts_root: calculate_receipt_root(&block.receipts),
        logs_bloom: bloom,
        difficulty: Default::default(),
        number: env.number,
        gas_limit: env.gas_limit,
        gas_used: block.gas_used,
        timestamp: env.timestamp,
        extra_data: block.ctx.extra_data.clone(),
        mix_hash: env.prevrandao,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(env.base_fee),
        withdrawals_root: Some(message_passer_root),
        blob_gas_used: Some(block.da_footprint),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(EMPTY_REQUESTS_HASH),
        block_access_list_hash: None,
        slot_number: None,
    };
    let hash = header.hash_slow();
    (header, hash)
}
