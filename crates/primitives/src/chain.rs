//! Chain types every layer above storage shares: the head, committed-block notices, how blocks
//! are produced, devnet account edits, and the state a block leaves behind. They live here, below
//! the executor, the builder, storage and RPC, so that none of those depends on another for them.

use crate::Header;
use alloy_primitives::{Address, B256, Bytes, U256};
use revm_state::AccountInfo;
use std::sync::Arc;

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

/// How blocks are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiningMode {
    /// A block as soon as anything is pending, with everything pending that fits.
    Instant,
    /// A block every interval, empty or not.
    Interval(std::time::Duration),
    /// Only on request (`evm_mine`, `anvil_mine`).
    Manual,
}

/// A devnet edit of one account (`anvil_setBalance`, `anvil_setCode`, …): the fields given
/// replace the account's.
#[derive(Debug, Clone, Default)]
pub struct AccountEdit {
    /// The account.
    pub address: Address,
    /// New balance.
    pub balance: Option<U256>,
    /// New nonce.
    pub nonce: Option<u64>,
    /// New code.
    pub code: Option<Bytes>,
    /// Storage slots to set.
    pub storage: Vec<(U256, U256)>,
}

/// The storage writes of one account in a block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageChange {
    /// All storage of the account was cleared first (self-destruct or re-creation).
    pub wiped: bool,
    /// New values per slot (zero deletes).
    pub slots: Vec<(U256, U256)>,
}

/// The state a block leaves behind, relative to its parent: what the executor produced and the
/// storage writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// New account info per changed account (`None`: the account no longer exists).
    pub accounts: Vec<(Address, Option<AccountInfo>)>,
    /// Storage writes per account.
    pub storage: Vec<(Address, StorageChange)>,
    /// New bytecode by hash.
    pub codes: Vec<(B256, Bytes)>,
}
