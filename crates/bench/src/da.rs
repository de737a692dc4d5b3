//! Data availability: what a workload costs on the L1 once batched — the span batches, brotli
//! channels and frames the batcher posts — next to OP's Fjord estimate of the same transactions
//! (what the GasPriceOracle charges: `max(100, -42.59 + 0.8365 × FastLZ size)` per transaction).

use crate::builder::{Workload, workload_block};
use agnt2_batch::{BlockInput, ChannelOut, batcher_tx_data, blob, span};
use agnt2_client::{Client, MAX_BLOBS_PER_TX, Payload, ReceiptResponse};
use agnt2_rpc::ChainApi;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use serde::Serialize;
use std::path::Path;

/// The usable bytes of one blob in OP's blob encoding (`MaxBlobDataSize`).
pub const BLOB_DATA_SIZE: usize = (4 * 31 + 3) * 1024 - 4;
/// Blobs an L1 block targets since Pectra.
pub const BLOB_TARGET: usize = 6;
/// Seconds per L1 block.
pub const L1_BLOCK_TIME: f64 = 12.0;
/// Calldata per frame: op-batcher's default `MaxFrameSize`.
pub const CALLDATA_FRAME: usize = 120_000;

/// One workload's figures.
#[derive(Debug, Clone, Serialize)]
pub struct DaReport {
    /// The workload.
    pub workload: &'static str,
    /// Transactions batched.
    pub txs: usize,
    /// L2 blocks they were spread over.
    pub blocks: usize,
    /// Their EIP-2718 encodings, bytes per transaction.
    pub raw_bytes_per_tx: f64,
    /// The span batch (uncompressed), bytes per transaction.
    pub batch_bytes_per_tx: f64,
    /// The compressed channel — what is posted — bytes per transaction.
    pub posted_bytes_per_tx: f64,
    /// Raw transaction bytes over posted bytes.
    pub compression_ratio: f64,
    /// OP's Fjord estimate of the same transactions, bytes per transaction.
    pub op_estimate_bytes_per_tx: f64,
    /// Posted bytes over OP's estimate (below 1: agnt2 posts less than users are charged for).
    pub posted_vs_op_estimate: f64,
    /// Calldata transactions of at most [`CALLDATA_FRAME`] bytes.
    pub calldata_txs: usize,
    /// L1 gas per L2 transaction when posted as calldata (21,000 per L1 transaction, EIP-7623's
    /// floor of 10 gas per token since Pectra).
    pub calldata_gas_per_tx: f64,
    /// Blobs the channel fills.
    pub blobs: usize,
    /// L2 transactions per second the blob target carries at this size.
    pub tps_at_blob_target: f64,
    /// The same channel posted to a real L1, both ways, measured from the receipts.
    pub l1: Option<L1Posting>,
}

/// What posting a channel to an L1 cost, from the receipts: as calldata (one frame per
/// transaction, as the batcher with `--batcher.data-availability-type calldata`) and as blobs
/// (one frame per blob, up to six per transaction, the default).
#[derive(Debug, Clone, Serialize)]
pub struct L1Posting {
    /// Calldata transactions sent.
    pub calldata_txs: usize,
    /// Their L1 gas per L2 transaction.
    pub calldata_gas_per_tx: f64,
    /// Blob transactions sent.
    pub blob_txs: usize,
    /// Blobs they carried.
    pub blobs: usize,
    /// Their execution gas per L2 transaction.
    pub blob_tx_gas_per_tx: f64,
    /// Their blob gas per L2 transaction (131,072 per blob).
    pub blob_gas_per_tx: f64,
}

/// Posts `channel` to `inbox` on `l1` from `key`, as calldata and then as blobs, and sums the
/// receipts per L2 transaction (`txs` of them). Blob proofs need a deep stack: call it on a
/// thread with [`agnt2_node::BLOB_STACK`].
pub fn post(
    l1: &Client,
    key: &PrivateKeySigner,
    inbox: Address,
    channel: &ChannelOut,
    txs: usize,
) -> eyre::Result<L1Posting> {
    let n = txs.max(1) as f64;
    let mut calldata_gas = 0;
    let calldata = channel.frames(CALLDATA_FRAME)?;
    for f in &calldata {
        let call = Payload::Call { to: Some(inbox), value: U256::ZERO, data: batcher_tx_data([f]) };
        let r = l1.transact_payload(key, call)?;
        calldata_gas += r.gas_used;
    }
    let frames = channel.frames(blob::MAX_BLOB_DATA_SIZE - 1)?;
    let (mut gas, mut blob_gas, mut blob_txs) = (0, 0, 0);
    for unit in frames.chunks(MAX_BLOBS_PER_TX) {
        let blobs = unit
            .iter()
            .map(|f| blob::encode(&batcher_tx_data([f])))
            .collect::<Result<Vec<_>, _>>()?;
        let r = l1.transact_payload(key, Payload::Blobs { to: inbox, blobs })?;
        eyre::ensure!(r.status(), "blob transaction {} reverted", r.transaction_hash);
        gas += r.gas_used;
        blob_gas += r.blob_gas_used.unwrap_or_default();
        blob_txs += 1;
    }
    Ok(L1Posting {
        calldata_txs: calldata.len(),
        calldata_gas_per_tx: calldata_gas as f64 / n,
        blob_txs,
        blobs: frames.len(),
        blob_tx_gas_per_tx: gas as f64 / n,
        blob_gas_per_tx: blob_gas as f64 / n,
    })
}

/// Batches `txs` transactions of `workload`, `per_block` to an L2 block, one L1 origin per 12
/// blocks, into one channel; with `l1` (an L1, a funded key and the inbox) also posts it there.
pub fn run(
    workload: Workload,
    txs: usize,
    per_block: usize,
    out: &Path,
    l1: Option<(&Client, &PrivateKeySigner, Address)>,
) -> eyre::Result<DaReport> {
    let (h, block) = workload_block(workload, txs, 1, out)?;
    let chain_id = h.chain.chain_spec().chain_id();
    let raw: Vec<Bytes> = block.iter().map(|t| Bytes::from(t.tx.inner().encoded_2718())).collect();
    let per_block = per_block.max(1);
    let blocks: Vec<BlockInput> = raw
        .chunks(per_block)
        .enumerate()
        .map(|(i, txs)| {
            let epoch = i as u64 / 12;
            BlockInput {
                timestamp: 1_000 + i as u64,
                parent_hash: keccak256((i as u64).to_be_bytes()),
                l1_origin: (100 + epoch, B256::from(keccak256(epoch.to_be_bytes()))),
                sequence_number: i as u64 % 12,
                txs: txs.to_vec(),
            }
        })
        .collect();
    let batch = span::encode(&blocks, 1_000 - 1, 1, chain_id)?;
    let mut channel = ChannelOut::new([0x42; 16]);
    channel.add_batch(&batch);
    let posted = channel.compress()?;
    let frames = channel.frames(CALLDATA_FRAME)?;
    let calldata_gas: u64 = frames
        .iter()
        .map(|f| {
            let data = agnt2_batch::batcher_tx_data([f]);
            let zeros = data.iter().filter(|b| **b == 0).count() as u64;
            let tokens = zeros + 4 * (data.len() as u64 - zeros);
            21_000 + (10 * tokens).max(4 * tokens)
        })
        .sum();
    let op_estimate: u64 =
        raw.iter().map(|t| op_revm::transaction::estimate_tx_compressed_size(t)).sum();
    let l1 = match l1 {
        Some((client, key, inbox)) => Some(post(client, key, inbox, &channel, raw.len())?),
        None => None,
    };
    let n = raw.len().max(1) as f64;
    let raw_bytes: usize = raw.iter().map(|t| t.len()).sum();
    let posted_per_tx = posted.len() as f64 / n;
    let op_per_tx = op_estimate as f64 / 1e6 / n;
    Ok(DaReport {
        workload: workload.name(),
        txs: raw.len(),
        blocks: blocks.len(),
        raw_bytes_per_tx: raw_bytes as f64 / n,
        batch_bytes_per_tx: batch.len() as f64 / n,
        posted_bytes_per_tx: posted_per_tx,
        compression_ratio: raw_bytes as f64 / posted.len().max(1) as f64,
        op_estimate_bytes_per_tx: op_per_tx,
        posted_vs_op_estimate: posted_per_tx / op_per_tx.max(f64::MIN_POSITIVE),
        calldata_txs: frames.len(),
        calldata_gas_per_tx: calldata_gas as f64 / n,
        blobs: posted.len().div_ceil(BLOB_DATA_SIZE),
        tps_at_blob_target: (BLOB_TARGET * BLOB_DATA_SIZE) as f64
            / L1_BLOCK_TIME
            / posted_per_tx.max(f64::MIN_POSITIVE),
        l1,
    })
}
