//! The block builder (the sequencer's execution side).
//!
//! [`BlockBuilder`] is the seam: given the parent, the block's attributes and the pool's
//! candidates in order, it returns the executed block (transactions, receipts, state changes)
//! and the candidates it had to skip. [`SequentialBuilder`] executes one transaction after the
//! other through alloy-op-evm's block executor; the dependency-aware parallel builder will
//! implement the same trait and must produce identical blocks. [`seal`] turns an executed block
//! and its state root into a header.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod parallel;
mod seal;
mod sequential;

pub use parallel::{ParallelBuilder, ParallelStats};
pub use seal::seal;
pub use sequential::SequentialBuilder;

use agnt2_evm::BlockEnvInput;
use agnt2_primitives::StateChanges;
use agnt2_primitives::{Header, L1BlockAttributes, ReceiptEnvelope, TxEnvelope};
use agnt2_txpool::PooledTx;
use alloy_primitives::{Address, B256, Bytes};
use revm::DatabaseRef;
use std::{fmt::Debug, sync::Arc};

/// What the next block is built on and with.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// The parent header.
    pub parent: Header,
    /// The parent hash.
    pub parent_hash: B256,
    /// Block environment (number, timestamp, coinbase, gas limit, base fee, prevrandao).
    pub env: BlockEnvInput,
    /// Header extra data (Jovian EIP-1559 parameters).
    pub extra_data: Bytes,
    /// L1 attributes for the L1-info deposit.
    pub l1: L1BlockAttributes,
    /// Position of this block in its L1 epoch.
    pub sequence_number: u64,
    /// User deposits (type 0x7E) of the L1 origin this block adopts, executed right after the
    /// L1-info deposit, in order; empty for the other blocks of an epoch.
    pub deposits: Vec<op_alloy_consensus::TxDeposit>,
}

/// A candidate the builder skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// Invalid against the state it met (nonce, funds…): drop it from the pool.
    Invalid {
        /// Transaction hash.
        hash: B256,
        /// Why.
        reason: String,
    },
    /// Cannot go into this block but may later (no room left, a nonce gap after a skipped
    /// transaction, a fee cap below this block's base fee): keep it in the pool.
    Deferred(B256),
}

/// An executed block, before its state root is known.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    /// The context it was built in.
    pub ctx: BuildContext,
    /// Transactions with senders, the L1-info deposit first.
    pub txs: Vec<(Address, TxEnvelope)>,
    /// One receipt per transaction.
    pub receipts: Vec<ReceiptEnvelope>,
    /// Gas used by the block.
    pub gas_used: u64,
    /// Jovian DA footprint (the header's `blobGasUsed`).
    pub da_footprint: u64,
    /// State changes against the parent.
    pub changes: StateChanges,
    /// Candidates that were not included.
    pub skipped: Vec<Skipped>,
}

/// Errors that abort a block (nothing is committed).
#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    /// The executor failed for a reason that is not the fault of one transaction.
    #[error("block execution failed: {0}")]
    Execution(String),
}

/// Builds blocks from pool candidates.
pub trait BlockBuilder: Send + Sync + Debug {
    /// Executes the L1-info deposit and then as many `candidates` as fit, in their order,
    /// skipping the ones that are invalid against the state they meet.
    fn build<DB: DatabaseRef + Debug + Sync>(
        &self,
        db: DB,
        ctx: BuildContext,
        candidates: &[Arc<PooledTx>],
    ) -> Result<ExecutedBlock, BuilderError>
    where
        DB::Error: Send + Sync + 'static;
}
