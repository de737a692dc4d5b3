use agnt2_evm::EvmConfig;
use agnt2_primitives::ChainSpec;
use agnt2_storage::{StorageResult, StoreReader};
use agnt2_txpool::{Pool, PoolError};
use alloy_primitives::B256;
use alloy_signer_local::PrivateKeySigner;
use std::{future::Future, pin::Pin, sync::Arc};
use tokio::sync::broadcast;

pub use agnt2_primitives::{AccountEdit, Head, MiningMode, NewBlock};

/// Why a devnet control or a manual mine failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The node is stopping.
    #[error("node is shutting down")]
    ShuttingDown,
    /// `evm_setNextBlockTimestamp` must move time forward.
    #[error("timestamp {requested} is not after the head block's timestamp {head}")]
    TimestampNotAfterHead {
        /// What was asked.
        requested: u64,
        /// The head block's timestamp.
        head: u64,
    },
    /// Storage or block building failed (with its context).
    #[error("{0}")]
    Internal(String),
}

impl From<DevError> for crate::RpcError {
    fn from(e: DevError) -> Self {
        match e {
            DevError::TimestampNotAfterHead { .. } => Self::InvalidParams(e.to_string()),
            DevError::ShuttingDown | DevError::Internal(_) => Self::Internal(e.to_string()),
        }
    }
}

/// Devnet controls (anvil semantics) the node implements.
pub trait DevApi: Send + Sync + 'static {
    /// Applies an account edit to the head state (recorded as a change of the next block).
    fn edit_account(&self, edit: AccountEdit) -> Result<(), DevError>;
    /// Records the current head; returns the snapshot id.
    fn snapshot(&self) -> u64;
    /// Returns the chain to a snapshot (which is consumed, with every later one).
    fn revert(&self, id: u64) -> Result<bool, DevError>;
    /// Returns the chain to genesis and empties the pool.
    fn reset(&self) -> Result<(), DevError>;
    /// The current mining mode.
    fn mining_mode(&self) -> MiningMode;
    /// Switches the mining mode.
    fn set_mining_mode(&self, mode: MiningMode);
    /// Starts (`on`) or stops impersonating `address`: `eth_sendTransaction` from it needs no key.
    fn impersonate(&self, address: alloy_primitives::Address, on: bool);
    /// Impersonate every address.
    fn set_auto_impersonate(&self, on: bool);
    /// Whether transactions from `address` may be sent without its key.
    fn is_impersonated(&self, address: alloy_primitives::Address) -> bool;
    /// Moves the clock of future blocks forward by `seconds`; returns the total offset.
    fn increase_time(&self, seconds: u64) -> u64;
    /// The timestamp of the next block (must be after the head's).
    fn set_next_timestamp(&self, timestamp: u64) -> Result<(), DevError>;
    /// The base fee of the next block.
    fn set_next_base_fee(&self, base_fee: u64);
    /// Applies many account edits at once (`anvil_loadState`).
    fn edit_accounts(&self, edits: Vec<AccountEdit>) -> Result<(), DevError>;
}

/// What the RPC server needs from the node.
pub trait ChainApi: DevApi + Send + Sync + 'static {
    /// Chain spec.
    fn chain_spec(&self) -> &Arc<ChainSpec>;
    /// EVM configuration.
    fn evm(&self) -> &EvmConfig;
    /// A consistent read view.
    fn reader(&self) -> StorageResult<StoreReader>;
    /// The pool.
    fn pool(&self) -> &Pool;
    /// The current head.
    fn head(&self) -> Head;
    /// Base fee of the next block.
    fn next_base_fee(&self) -> u64;
    /// Validates and pools a raw transaction, waking the miner.
    fn submit(&self, raw: &[u8]) -> Result<B256, PoolError>;
    /// Validates and pools a transaction whose sender is already known (impersonation).
    fn submit_recovered(
        &self,
        tx: alloy_consensus::transaction::Recovered<agnt2_primitives::TxEnvelope>,
        hash: B256,
    ) -> Result<B256, PoolError>;
    /// Dev accounts whose keys the node holds.
    fn signers(&self) -> &[PrivateKeySigner];
    /// Committed blocks, in order.
    fn subscribe(&self) -> broadcast::Receiver<NewBlock>;
    /// Hashes of transactions as the pool admits them.
    fn subscribe_pending(&self) -> broadcast::Receiver<B256>;
    /// Mines `blocks` blocks now (manual mining), returning the new head number.
    fn mine(&self, blocks: u64) -> Pin<Box<dyn Future<Output = Result<u64, DevError>> + Send>>;
    /// The rollup configuration (`optimism_rollupConfig`), when the node settles on an L1.
    fn rollup_config(&self) -> Option<serde_json::Value> {
        None
    }
    /// The sequencer's signature of block `hash` (`optimism_blockSignature`): height, signer,
    /// 65-byte signature; none when this node did not build and sign it.
    fn block_signature(
        &self,
        _hash: alloy_primitives::B256,
    ) -> Option<(u64, alloy_primitives::Address, alloy_primitives::Bytes)> {
        None
    }
    /// Whether raw transactions go to a sequencer instead of this node's pool (a follower with
    /// `--rollup.sequencer-http`, as op-geth forwards them).
    fn forwards_transactions(&self) -> bool {
        false
    }
    /// Sends a raw transaction to the sequencer; its hash, or the sequencer's refusal.
    fn forward_raw(
        &self,
        raw: alloy_primitives::Bytes,
    ) -> Pin<Box<dyn Future<Output = Result<B256, String>> + Send>> {
        let _ = raw;
        Box::pin(async { Err("this node forwards no transactions".to_string()) })
    }
}
