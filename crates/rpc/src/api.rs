use agnt2_evm::EvmConfig;
use agnt2_primitives::{ChainSpec, Header};
use agnt2_storage::{StorageResult, StoreReader};
use agnt2_txpool::{Pool, PoolError};
use alloy_primitives::B256;
use alloy_signer_local::PrivateKeySigner;
use std::{future::Future, pin::Pin, sync::Arc};
use tokio::sync::broadcast;

/// The canonical head.
#[derive(Debug, Clone)]
pub struct Head {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Header.
    pub header: Header,
}

/// A block was committed (durably) and is now the head.
#[derive(Debug, Clone)]
pub struct NewBlock {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// Hashes of its transactions.
    pub tx_hashes: Arc<Vec<B256>>,
}

/// What the RPC server needs from the node.
pub trait ChainApi: Send + Sync + 'static {
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
    /// Dev accounts whose keys the node holds.
    fn signers(&self) -> &[PrivateKeySigner];
    /// Committed blocks, in order.
    fn subscribe(&self) -> broadcast::Receiver<NewBlock>;
    /// Hashes of transactions as the pool admits them.
    fn subscribe_pending(&self) -> broadcast::Receiver<B256>;
    /// Mines `blocks` blocks now (manual mining), returning the new head number.
    fn mine(&self, blocks: u64) -> Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>;
}
