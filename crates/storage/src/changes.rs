use alloy_primitives::{Address, B256, Bytes, U256};
use revm::state::AccountInfo;

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
