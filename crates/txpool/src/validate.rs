use crate::{PoolError, recover_sender};
use agnt2_primitives::TxEnvelope;
use alloy_consensus::{Transaction, transaction::Recovered};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::B256;

/// Largest accepted encoded transaction (as geth/reth: 128 KiB).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// Decodes an EIP-2718 transaction and recovers its sender; checks that need no state.
pub fn decode_and_recover(
    raw: &[u8],
    chain_id: u64,
) -> Result<(Recovered<TxEnvelope>, B256), PoolError> {
    if raw.len() > MAX_TX_SIZE {
        return Err(PoolError::Oversized { size: raw.len(), limit: MAX_TX_SIZE });
    }
    let mut buf = raw;
    let tx = TxEnvelope::decode_2718(&mut buf).map_err(|e| PoolError::Decode(e.to_string()))?;
    if !buf.is_empty() {
        return Err(PoolError::Decode(format!("{} trailing bytes", buf.len())));
    }
    let (signature, sig_hash) = match &tx {
        TxEnvelope::Legacy(t) => (*t.signature(), t.signature_hash()),
        TxEnvelope::Eip2930(t) => (*t.signature(), t.signature_hash()),
        TxEnvelope::Eip1559(t) => (*t.signature(), t.signature_hash()),
        TxEnvelope::Eip7702(t) => {
            if t.tx().authorization_list.is_empty() {
                return Err(PoolError::EmptyAuthorizationList);
            }
            (*t.signature(), t.signature_hash())
        }
        TxEnvelope::Deposit(_) => return Err(PoolError::Deposit),
        _ => return Err(PoolError::UnsupportedType),
    };
    // Unprotected legacy transactions (no chain id) are accepted, as anvil does: keyless
    // deployment transactions rely on them.
    if let Some(got) = tx.chain_id()
        && got != chain_id
    {
        return Err(PoolError::ChainId { expected: chain_id, got });
    }
    if tx.is_dynamic_fee() && tx.max_priority_fee_per_gas() > Some(tx.max_fee_per_gas()) {
        return Err(PoolError::TipAboveFeeCap);
    }
    let sender = recover_sender(&signature, sig_hash).ok_or(PoolError::BadSignature)?;
    let hash = tx.tx_hash();
    Ok((Recovered::new_unchecked(tx, sender), hash))
}
