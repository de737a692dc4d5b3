//! Blocks, transactions and receipts in their JSON-RPC shape (OP flavour).

use crate::{ChainApi, error::RpcResult};
use agnt2_primitives::{Header, ReceiptEnvelope, TxEnvelope};
use agnt2_storage::StoreReader;
use alloy_consensus::{
    BlockBody, Sealed, Transaction as _,
    transaction::{Recovered, TransactionInfo},
};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Encodable;
use alloy_rpc_types_eth::{Block, BlockTransactions, Log, TransactionReceipt};
use op_alloy_consensus::transaction::{OpDepositInfo, OpTransactionInfo};
use op_alloy_rpc_types::{L1BlockInfo, Transaction as RpcTx};
use serde::Serialize;

/// A receipt with the OP L1-fee fields.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RpcReceipt {
    #[serde(flatten)]
    pub(crate) inner: TransactionReceipt<op_alloy_consensus::OpReceiptEnvelope<Log>>,
    #[serde(flatten)]
    pub(crate) l1: L1BlockInfo,
}

/// An RPC block, with agnt2's `interactionRoot` (the storage root of the agent state account
/// after the block).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RpcBlock {
    #[serde(flatten)]
    pub(crate) block: Block<RpcTx, alloy_rpc_types_eth::Header>,
    #[serde(rename = "interactionRoot", skip_serializing_if = "Option::is_none")]
    pub(crate) interaction_root: Option<B256>,
}

/// A stored block with everything needed to render it.
#[derive(Debug)]
pub(crate) struct StoredBlock {
    pub(crate) header: Header,
    pub(crate) hash: B256,
    pub(crate) txs: Vec<(Address, TxEnvelope)>,
}

impl StoredBlock {
    pub(crate) fn load(r: &StoreReader, number: u64) -> RpcResult<Option<Self>> {
        let (Some(header), Some(hash), Some(txs)) =
            (r.header(number)?, r.block_hash(number)?, r.body(number)?)
        else {
            return Ok(None);
        };
        Ok(Some(Self { header, hash, txs }))
    }

    pub(crate) fn meta(&self) -> BlockMeta {
        BlockMeta {
            number: self.header.number,
            hash: self.hash,
            timestamp: self.header.timestamp,
            base_fee: self.header.base_fee_per_gas.unwrap_or_default(),
            l1_info_input: self.txs.first().map(|(_, t)| t.input().clone()).unwrap_or_default(),
        }
    }
}

/// What a transaction or receipt needs to know about its block.
#[derive(Debug, Clone)]
pub(crate) struct BlockMeta {
    number: u64,
    hash: B256,
    timestamp: u64,
    base_fee: u64,
    /// Calldata of the block's L1-info deposit (fee parameters).
    l1_info_input: alloy_primitives::Bytes,
}

impl BlockMeta {
    /// Loads the header and the L1-info deposit of block `n`.
    pub(crate) fn load(r: &StoreReader, n: u64) -> RpcResult<Option<Self>> {
        let (Some(header), Some(hash)) = (r.header(n)?, r.block_hash(n)?) else { return Ok(None) };
        let l1_info_input =
            r.transaction(n, 0)?.map(|(_, t)| t.input().clone()).unwrap_or_default();
        Ok(Some(Self {
            number: n,
            hash,
            timestamp: header.timestamp,
            base_fee: header.base_fee_per_gas.unwrap_or_default(),
            l1_info_input,
        }))
    }

    fn info(&self, tx: &TxEnvelope, index: usize) -> TransactionInfo {
        TransactionInfo {
            hash: Some(tx.tx_hash()),
            index: Some(index as u64),
            block_hash: Some(self.hash),
            block_number: Some(self.number),
            base_fee: Some(self.base_fee),
            block_timestamp: Some(self.timestamp),
        }
    }
}

/// A transaction in a block (deposit nonce from its receipt).
pub(crate) fn rpc_tx(
    meta: &BlockMeta,
    index: usize,
    sender: Address,
    tx: &TxEnvelope,
    receipt: Option<&ReceiptEnvelope>,
) -> RpcTx {
    let deposit_meta = OpDepositInfo {
        deposit_nonce: receipt.and_then(|r| r.deposit_nonce()),
        deposit_receipt_version: receipt.and_then(|r| r.deposit_receipt_version()),
    };
    RpcTx::from_transaction(
        Recovered::new_unchecked(tx.clone(), sender),
        OpTransactionInfo::new(meta.info(tx, index), deposit_meta),
    )
}

/// A pooled (pending) transaction.
pub(crate) fn rpc_pending_tx(tx: &Recovered<TxEnvelope>) -> RpcTx {
    RpcTx::from_transaction(tx.clone(), OpTransactionInfo::default())
}

/// The block in its RPC shape.
pub(crate) fn rpc_block(
    block: &StoredBlock,
    receipts: Option<&[(u32, ReceiptEnvelope)]>,
    full: bool,
) -> RpcBlock {
    let envelopes: Vec<TxEnvelope> = block.txs.iter().map(|(_, t)| t.clone()).collect();
    let body: BlockBody<TxEnvelope, Header> = BlockBody {
        transactions: envelopes,
        ommers: vec![],
        withdrawals: Some(Default::default()),
    };
    let size = block.header.length() + body.length();
    let transactions = if full {
        let meta = block.meta();
        BlockTransactions::Full(
            block
                .txs
                .iter()
                .enumerate()
                .map(|(i, (s, t))| {
                    rpc_tx(&meta, i, *s, t, receipts.and_then(|r| r.get(i)).map(|r| &r.1))
                })
                .collect(),
        )
    } else {
        BlockTransactions::Hashes(block.txs.iter().map(|(_, t)| t.tx_hash()).collect())
    };
    let header = alloy_rpc_types_eth::Header::from_consensus(
        Sealed::new_unchecked(block.header.clone(), block.hash),
        Some(U256::ZERO),
        Some(U256::from(size)),
    );
    let block =
        Block { header, uncles: vec![], transactions, withdrawals: Some(Default::default()) };
    RpcBlock { block, interaction_root: None }
}

/// All receipts of a block in their RPC shape.
pub(crate) fn rpc_receipts<C: ChainApi>(
    api: &C,
    block: &StoredBlock,
    receipts: &[(u32, ReceiptEnvelope)],
) -> Vec<RpcReceipt> {
    let meta = block.meta();
    let mut prev = 0;
    block
        .txs
        .iter()
        .zip(receipts)
        .enumerate()
        .map(|(i, ((sender, tx), (first_log, receipt)))| {
            let out = build_receipt(api, &meta, i, *sender, tx, receipt, prev, *first_log);
            prev = receipt.cumulative_gas_used();
            out
        })
        .collect()
}

/// The receipt of transaction `index` of block `n`, reading only what it needs.
pub(crate) fn rpc_receipt_at<C: ChainApi>(
    api: &C,
    r: &StoreReader,
    n: u64,
    index: u32,
) -> RpcResult<Option<RpcReceipt>> {
    let (Some(meta), Some((sender, tx)), Some((first_log, receipt))) =
        (BlockMeta::load(r, n)?, r.transaction(n, index)?, r.receipt(n, index)?)
    else {
        return Ok(None);
    };
    let prev = match index {
        0 => 0,
        i => r.receipt(n, i - 1)?.map(|(_, p)| p.cumulative_gas_used()).unwrap_or_default(),
    };
    Ok(Some(build_receipt(api, &meta, index as usize, sender, &tx, &receipt, prev, first_log)))
}

#[allow(clippy::too_many_arguments)]
fn build_receipt<C: ChainApi>(
    api: &C,
    meta: &BlockMeta,
    index: usize,
    sender: Address,
    tx: &TxEnvelope,
    receipt: &ReceiptEnvelope,
    prev_cumulative: u64,
    first_log: u32,
) -> RpcReceipt {
    let info = meta.info(tx, index);
    let gas_used = receipt.cumulative_gas_used() - prev_cumulative;
    let effective_gas_price = if tx.is_deposit() {
        0
    } else {
        tx.effective_tip_per_gas(meta.base_fee).unwrap_or_default() + meta.base_fee as u128
    };
    let contract_address = tx.kind().is_create().then(|| sender.create(tx.nonce()));
    let mut log_index = first_log as u64;
    let logs_receipt = receipt.clone().map_logs(|inner| {
        let log = Log {
            inner,
            block_hash: info.block_hash,
            block_number: info.block_number,
            block_timestamp: info.block_timestamp,
            transaction_hash: info.hash,
            transaction_index: info.index,
            log_index: Some(log_index),
            removed: false,
        };
        log_index += 1;
        log
    });
    let l1 = if tx.is_deposit() {
        L1BlockInfo::default()
    } else {
        let f = api.evm().l1_fees(&meta.l1_info_input, &tx.encoded_2718());
        L1BlockInfo {
            l1_gas_price: Some(f.l1_base_fee.saturating_to()),
            l1_gas_used: Some(f.l1_gas_used.saturating_to()),
            l1_fee: Some(f.l1_fee.saturating_to()),
            l1_fee_scalar: None,
            l1_base_fee_scalar: Some(f.l1_base_fee_scalar.saturating_to()),
            l1_blob_base_fee: Some(f.l1_blob_base_fee.saturating_to()),
            l1_blob_base_fee_scalar: Some(f.l1_blob_base_fee_scalar.saturating_to()),
            operator_fee_scalar: Some(f.operator_fee_scalar.saturating_to()),
            operator_fee_constant: Some(f.operator_fee_constant.saturating_to()),
            da_footprint_gas_scalar: None,
        }
    };
    RpcReceipt {
        inner: TransactionReceipt {
            inner: logs_receipt,
            transaction_hash: tx.tx_hash(),
            transaction_index: info.index,
            block_hash: info.block_hash,
            block_number: info.block_number,
            gas_used,
            effective_gas_price,
            blob_gas_used: None,
            blob_gas_price: None,
            from: sender,
            to: tx.to(),
            contract_address,
        },
        l1,
    }
}
