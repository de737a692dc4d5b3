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

/// An RPC block.
pub(crate) type RpcBlock = Block<RpcTx, alloy_rpc_types_eth::Header>;

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

    fn info(&self, index: usize) -> TransactionInfo {
        TransactionInfo {
            hash: Some(self.txs[index].1.tx_hash()),
            index: Some(index as u64),
            block_hash: Some(self.hash),
            block_number: Some(self.header.number),
            base_fee: self.header.base_fee_per_gas,
            block_timestamp: Some(self.header.timestamp),
        }
    }
}

/// A transaction in a block (deposit nonce from its receipt).
pub(crate) fn rpc_tx(
    block: &StoredBlock,
    index: usize,
    receipt: Option<&ReceiptEnvelope>,
) -> RpcTx {
    let (sender, tx) = &block.txs[index];
    let deposit_meta = OpDepositInfo {
        deposit_nonce: receipt.and_then(|r| r.deposit_nonce()),
        deposit_receipt_version: receipt.and_then(|r| r.deposit_receipt_version()),
    };
    RpcTx::from_transaction(
        Recovered::new_unchecked(tx.clone(), *sender),
        OpTransactionInfo::new(block.info(index), deposit_meta),
    )
}

/// A pooled (pending) transaction.
pub(crate) fn rpc_pending_tx(tx: &Recovered<TxEnvelope>) -> RpcTx {
    RpcTx::from_transaction(tx.clone(), OpTransactionInfo::default())
}

/// The block in its RPC shape.
pub(crate) fn rpc_block(
    block: &StoredBlock,
    receipts: Option<&[ReceiptEnvelope]>,
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
        BlockTransactions::Full(
            (0..block.txs.len())
                .map(|i| rpc_tx(block, i, receipts.and_then(|r| r.get(i))))
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
    Block { header, uncles: vec![], transactions, withdrawals: Some(Default::default()) }
}

/// All receipts of a block in their RPC shape.
pub(crate) fn rpc_receipts<C: ChainApi>(
    api: &C,
    block: &StoredBlock,
    receipts: &[ReceiptEnvelope],
) -> Vec<RpcReceipt> {
    let l1_info_input = block.txs.first().map(|(_, t)| t.input().clone()).unwrap_or_default();
    let mut log_index = 0u64;
    let mut prev_cumulative = 0u64;
    let mut out = Vec::with_capacity(receipts.len());
    for (i, receipt) in receipts.iter().enumerate() {
        let (sender, tx) = &block.txs[i];
        let info = block.info(i);
        let gas_used = receipt.cumulative_gas_used() - prev_cumulative;
        prev_cumulative = receipt.cumulative_gas_used();
        let base_fee = block.header.base_fee_per_gas.unwrap_or_default();
        let effective_gas_price = if tx.is_deposit() {
            0
        } else {
            tx.effective_tip_per_gas(base_fee).unwrap_or_default() + base_fee as u128
        };
        let contract_address = tx.kind().is_create().then(|| sender.create(tx.nonce()));
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
            let f = api.evm().l1_fees(&l1_info_input, &tx.encoded_2718(), gas_used);
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
        out.push(RpcReceipt {
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
                from: *sender,
                to: tx.to(),
                contract_address,
            },
            l1,
        });
    }
    out
}
