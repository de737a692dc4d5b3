//! Span batches (Delta): a run of consecutive L2 blocks in one batch.
//!
//! ```text
//! span_batch = prefix ‖ payload
//! prefix     = rel_timestamp ‖ l1_origin_num ‖ parent_check (20) ‖ l1_origin_check (20)
//! payload    = block_count ‖ origin_bits ‖ block_tx_counts ‖ txs
//! txs        = contract_creation_bits ‖ y_parity_bits ‖ tx_sigs ‖ tx_tos ‖ tx_datas
//!              ‖ tx_nonces ‖ tx_gases ‖ protected_bits
//! ```
//! Integers are unsigned varints; bit lists are big-endian integers (bit `i` is `1 << i`)
//! padded to whole bytes. Blocks are `block_time` apart, so timestamps are implied; deposits
//! are not batched (derivation rebuilds them from L1).

use crate::{SPAN_BATCH_TYPE, varint};
use alloy_consensus::{
    SignableTransaction, Signed, Transaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy,
    transaction::RlpEcdsaEncodableTx,
};
use alloy_eips::{eip2718::Decodable2718, eip2718::Encodable2718, eip2930::AccessList};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_rlp::{Decodable, Encodable, Header};

/// The most blocks or transactions one span batch may hold (op-node's `MaxSpanBatchElementCount`).
pub const MAX_SPAN_BATCH_ELEMENTS: u64 = 10_000_000;

/// One L2 block as the batcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInput {
    /// Its timestamp.
    pub timestamp: u64,
    /// Its parent's hash.
    pub parent_hash: B256,
    /// Its L1 origin: number and hash.
    pub l1_origin: (u64, B256),
    /// Its position in its L1 epoch (0: the epoch's first block).
    pub sequence_number: u64,
    /// Its transactions other than deposits, EIP-2718 encoded.
    pub txs: Vec<Bytes>,
}

/// One block read back from a span batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanElement {
    /// Its timestamp.
    pub timestamp: u64,
    /// Its L1 origin number.
    pub epoch: u64,
    /// Its transactions, EIP-2718 encoded.
    pub txs: Vec<Bytes>,
}

/// A decoded span batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanBatch {
    /// The first 20 bytes of the first block's parent hash.
    pub parent_check: [u8; 20],
    /// The first 20 bytes of the last block's L1 origin hash.
    pub l1_origin_check: [u8; 20],
    /// Its blocks.
    pub blocks: Vec<SpanElement>,
}

/// Why blocks cannot be batched, or bytes are not a span batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanBatchError {
    /// No blocks.
    #[error("a span batch needs at least one block")]
    Empty,
    /// Block timestamps must follow each other by the block time.
    #[error("block {index} has timestamp {got}, expected {want} (blocks are block_time apart)")]
    Timestamp {
        /// Its index in the span.
        index: usize,
        /// Its timestamp.
        got: u64,
        /// What the block time implies.
        want: u64,
    },
    /// A block before genesis.
    #[error("timestamp {0} is before the L2 genesis")]
    BeforeGenesis(u64),
    /// A transaction of a type span batches do not carry (deposits, blobs) or that does not
    /// decode.
    #[error("transaction {0} cannot go in a span batch: {1}")]
    Transaction(usize, String),
    /// A transaction signed for another chain.
    #[error("transaction {0} is for chain {1}")]
    ChainId(usize, u64),
    /// Bytes that are not a span batch.
    #[error("malformed span batch: {0}")]
    Malformed(&'static str),
}

/// The versioned bytes (`0x01 ‖ span batch`) of `blocks`, which must be consecutive: each
/// `block_time` after the one before.
pub fn encode(
    blocks: &[BlockInput],
    genesis_time: u64,
    block_time: u64,
    chain_id: u64,
) -> Result<Vec<u8>, SpanBatchError> {
    let (first, last) = match (blocks.first(), blocks.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err(SpanBatchError::Empty),
    };
    for (i, b) in blocks.iter().enumerate() {
        let want = first.timestamp + block_time * i as u64;
        if b.timestamp != want {
            return Err(SpanBatchError::Timestamp { index: i, got: b.timestamp, want });
        }
    }
    let rel = first
        .timestamp
        .checked_sub(genesis_time)
        .ok_or(SpanBatchError::BeforeGenesis(first.timestamp))?;
    let mut out = vec![SPAN_BATCH_TYPE];
    varint::put(&mut out, rel);
    varint::put(&mut out, last.l1_origin.0);
    out.extend_from_slice(&first.parent_hash[..20]);
    out.extend_from_slice(&last.l1_origin.1[..20]);
    // payload
    varint::put(&mut out, blocks.len() as u64);
    put_bits(&mut out, blocks.iter().map(|b| b.sequence_number == 0));
    for b in blocks {
        varint::put(&mut out, b.txs.len() as u64);
    }
    let mut txs = Vec::new();
    for (i, raw) in blocks.iter().flat_map(|b| &b.txs).enumerate() {
        let tx = TxEnvelope::decode_2718(&mut raw.as_ref())
            .map_err(|e| SpanBatchError::Transaction(i, e.to_string()))?;
        if let Some(c) = tx.chain_id()
            && c != chain_id
        {
            return Err(SpanBatchError::ChainId(i, c));
        }
        txs.push(tx);
    }
    encode_txs(&mut out, &txs)?;
    Ok(out)
}

fn encode_txs(out: &mut Vec<u8>, txs: &[TxEnvelope]) -> Result<(), SpanBatchError> {
    put_bits(out, txs.iter().map(|t| t.kind().is_create()));
    put_bits(out, txs.iter().map(|t| t.signature().v()));
    for t in txs {
        out.extend_from_slice(&t.signature().r().to_be_bytes::<32>());
        out.extend_from_slice(&t.signature().s().to_be_bytes::<32>());
    }
    for t in txs {
        if let TxKind::Call(to) = t.kind() {
            out.extend_from_slice(to.as_slice());
        }
    }
    for (i, t) in txs.iter().enumerate() {
        tx_data(out, i, t)?;
    }
    for t in txs {
        varint::put(out, t.nonce());
    }
    for t in txs {
        varint::put(out, t.gas_limit());
    }
    let protected: Vec<bool> =
        txs.iter().filter(|t| t.is_legacy()).map(|t| t.chain_id().is_some()).collect();
    put_bits(out, protected.into_iter());
    Ok(())
}

/// `value, fees…, data, access_list` of one transaction, typed as its envelope.
fn tx_data(out: &mut Vec<u8>, i: usize, t: &TxEnvelope) -> Result<(), SpanBatchError> {
    let mut fields = Vec::new();
    let ty = match t {
        TxEnvelope::Legacy(s) => {
            let tx = s.tx();
            tx.value.encode(&mut fields);
            tx.gas_price.encode(&mut fields);
            tx.input.encode(&mut fields);
            None
        }
        TxEnvelope::Eip2930(s) => {
            let tx = s.tx();
            tx.value.encode(&mut fields);
            tx.gas_price.encode(&mut fields);
            tx.input.encode(&mut fields);
            tx.access_list.encode(&mut fields);
            Some(1u8)
        }
        TxEnvelope::Eip1559(s) => {
            let tx = s.tx();
            tx.value.encode(&mut fields);
            tx.max_priority_fee_per_gas.encode(&mut fields);
            tx.max_fee_per_gas.encode(&mut fields);
            tx.input.encode(&mut fields);
            tx.access_list.encode(&mut fields);
            Some(2u8)
        }
        other => {
            let ty = other.tx_type();
            return Err(SpanBatchError::Transaction(i, format!("type {ty} is not batched")));
        }
    };
    out.extend(ty);
    Header { list: true, payload_length: fields.len() }.encode(out);
    out.extend_from_slice(&fields);
    Ok(())
}

/// Appends `bits` as a big-endian integer (bit `i` = `1 << i`) padded to whole bytes.
fn put_bits(out: &mut Vec<u8>, bits: impl ExactSizeIterator<Item = bool>) {
    let n = bits.len();
    let mut buf = vec![0u8; n.div_ceil(8)];
    let len = buf.len();
    for (i, bit) in bits.enumerate() {
        if bit {
            buf[len - 1 - i / 8] |= 1 << (i % 8);
        }
    }
    out.extend_from_slice(&buf);
}

fn take_bits(r: &mut &[u8], n: usize) -> Result<Vec<bool>, SpanBatchError> {
    let len = n.div_ceil(8);
    if r.len() < len {
        return Err(SpanBatchError::Malformed("truncated bit list"));
    }
    let (buf, rest) = r.split_at(len);
    *r = rest;
    // Bits above `n` must be zero.
    if !n.is_multiple_of(8) && buf.first().is_some_and(|b| b >> (n % 8) != 0) {
        return Err(SpanBatchError::Malformed("bit list longer than its count"));
    }
    Ok((0..n).map(|i| buf[len - 1 - i / 8] & (1 << (i % 8)) != 0).collect())
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Result<&'a [u8], SpanBatchError> {
    if r.len() < n {
        return Err(SpanBatchError::Malformed("truncated"));
    }
    let (a, b) = r.split_at(n);
    *r = b;
    Ok(a)
}

fn count(r: &mut &[u8], what: &'static str) -> Result<u64, SpanBatchError> {
    let v = varint::take(r).ok_or(SpanBatchError::Malformed(what))?;
    if v > MAX_SPAN_BATCH_ELEMENTS {
        return Err(SpanBatchError::Malformed("too many elements"));
    }
    Ok(v)
}

/// Reads a span batch (without its version byte) of a chain whose L2 genesis is at
/// `genesis_time`, with blocks `block_time` apart, signed for `chain_id`.
pub fn decode(
    mut r: &[u8],
    genesis_time: u64,
    block_time: u64,
    chain_id: u64,
) -> Result<SpanBatch, SpanBatchError> {
    let r = &mut r;
    let rel = varint::take(r).ok_or(SpanBatchError::Malformed("rel_timestamp"))?;
    let last_origin = varint::take(r).ok_or(SpanBatchError::Malformed("l1_origin_num"))?;
    let parent_check: [u8; 20] = take(r, 20)?.try_into().unwrap_or_default();
    let l1_origin_check: [u8; 20] = take(r, 20)?.try_into().unwrap_or_default();
    let n = count(r, "block_count")? as usize;
    if n == 0 {
        return Err(SpanBatchError::Empty);
    }
    let origin_bits = take_bits(r, n)?;
    let mut tx_counts = Vec::with_capacity(n.min(1024));
    let mut total = 0u64;
    for _ in 0..n {
        let c = count(r, "block_tx_count")?;
        total = total
            .checked_add(c)
            .filter(|t| *t <= MAX_SPAN_BATCH_ELEMENTS)
            .ok_or(SpanBatchError::Malformed("too many transactions"))?;
        tx_counts.push(c as usize);
    }
    let txs = decode_txs(r, total as usize, chain_id)?;
    if !r.is_empty() {
        return Err(SpanBatchError::Malformed("trailing bytes"));
    }
    // Origins, from the last block's backwards: a set bit means the epoch began at this block.
    let mut epochs = vec![0u64; n];
    let mut e = last_origin;
    for i in (0..n).rev() {
        epochs[i] = e;
        if origin_bits[i] && i > 0 {
            e = e.checked_sub(1).ok_or(SpanBatchError::Malformed("L1 origin below zero"))?;
        }
    }
    let mut txs = txs.into_iter();
    let start =
        genesis_time.checked_add(rel).ok_or(SpanBatchError::Malformed("timestamp overflow"))?;
    let blocks = (0..n)
        .map(|i| {
            let timestamp = block_time
                .checked_mul(i as u64)
                .and_then(|d| start.checked_add(d))
                .ok_or(SpanBatchError::Malformed("timestamp overflow"))?;
            Ok(SpanElement {
                timestamp,
                epoch: epochs[i],
                txs: txs.by_ref().take(tx_counts[i]).collect(),
            })
        })
        .collect::<Result<_, SpanBatchError>>()?;
    Ok(SpanBatch { parent_check, l1_origin_check, blocks })
}

fn decode_txs(r: &mut &[u8], n: usize, chain_id: u64) -> Result<Vec<Bytes>, SpanBatchError> {
    let creations = take_bits(r, n)?;
    let parities = take_bits(r, n)?;
    let mut sigs = Vec::with_capacity(n.min(4096));
    for &y in &parities {
        let rs = take(r, 64)?;
        sigs.push(Signature::new(
            U256::from_be_slice(&rs[..32]),
            U256::from_be_slice(&rs[32..]),
            y,
        ));
    }
    let mut tos = Vec::new();
    for &c in &creations {
        tos.push(if c { TxKind::Create } else { TxKind::Call(Address::from_slice(take(r, 20)?)) });
    }
    let mut datas = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        datas.push(take_tx_data(r)?);
    }
    let nonces: Vec<u64> = (0..n)
        .map(|_| varint::take(r).ok_or(SpanBatchError::Malformed("tx_nonce")))
        .collect::<Result<_, _>>()?;
    let gases: Vec<u64> = (0..n)
        .map(|_| varint::take(r).ok_or(SpanBatchError::Malformed("tx_gas")))
        .collect::<Result<_, _>>()?;
    let legacy = datas.iter().filter(|d| d.0.is_none()).count();
    let mut protected = take_bits(r, legacy)?.into_iter();
    let mut out = Vec::with_capacity(n.min(4096));
    for (i, (ty, fields)) in datas.into_iter().enumerate() {
        let f = &mut &fields[..];
        let bad = |_| SpanBatchError::Malformed("tx_data fields");
        let (nonce, gas_limit, to, sig) = (nonces[i], gases[i], tos[i], sigs[i]);
        let tx: TxEnvelope = match ty {
            None => {
                let chain = protected.next().unwrap_or(false).then_some(chain_id);
                let tx = TxLegacy {
                    chain_id: chain,
                    nonce,
                    gas_limit,
                    to,
                    value: U256::decode(f).map_err(bad)?,
                    gas_price: u128::decode(f).map_err(bad)?,
                    input: Bytes::decode(f).map_err(bad)?,
                };
                signed(tx, sig).into()
            }
            Some(1) => {
                let tx = TxEip2930 {
                    chain_id,
                    nonce,
                    gas_limit,
                    to,
                    value: U256::decode(f).map_err(bad)?,
                    gas_price: u128::decode(f).map_err(bad)?,
                    input: Bytes::decode(f).map_err(bad)?,
                    access_list: AccessList::decode(f).map_err(bad)?,
                };
                signed(tx, sig).into()
            }
            Some(2) => {
                let tx = TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit,
                    to,
                    value: U256::decode(f).map_err(bad)?,
                    max_priority_fee_per_gas: u128::decode(f).map_err(bad)?,
                    max_fee_per_gas: u128::decode(f).map_err(bad)?,
                    input: Bytes::decode(f).map_err(bad)?,
                    access_list: AccessList::decode(f).map_err(bad)?,
                };
                signed(tx, sig).into()
            }
            Some(_) => return Err(SpanBatchError::Malformed("unsupported transaction type")),
        };
        if !f.is_empty() {
            return Err(SpanBatchError::Malformed("tx_data has extra fields"));
        }
        out.push(Bytes::from(tx.encoded_2718()));
    }
    Ok(out)
}

fn signed<T: RlpEcdsaEncodableTx + SignableTransaction<Signature>>(
    tx: T,
    sig: Signature,
) -> Signed<T> {
    tx.into_signed(sig)
}

/// One `tx_data`: its type (`None`: legacy) and the payload of its RLP list.
fn take_tx_data(r: &mut &[u8]) -> Result<(Option<u8>, Vec<u8>), SpanBatchError> {
    let ty = match r.first() {
        Some(&b) if b >= 0xc0 => None,
        Some(&b) => {
            *r = &r[1..];
            Some(b)
        }
        None => return Err(SpanBatchError::Malformed("tx_data")),
    };
    let h = Header::decode(r).map_err(|_| SpanBatchError::Malformed("tx_data header"))?;
    if !h.list {
        return Err(SpanBatchError::Malformed("tx_data is not a list"));
    }
    Ok((ty, take(r, h.payload_length)?.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lists_are_big_endian_integers() {
        let mut out = vec![];
        put_bits(
            &mut out,
            [true, false, false, false, false, false, false, false, true].into_iter(),
        );
        assert_eq!(out, [0x01, 0x01]);
        let mut r = &out[..];
        let bits = take_bits(&mut r, 9).unwrap();
        assert!(bits[0] && bits[8] && !bits[1..8].iter().any(|b| *b));
        assert!(take_bits(&mut &[0x02, 0x00][..], 9).is_err(), "bit 9 set for a 9-bit list");
        let mut empty = vec![];
        put_bits(&mut empty, std::iter::empty());
        assert!(empty.is_empty());
    }
}
