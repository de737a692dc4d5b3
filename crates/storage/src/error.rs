use alloy_primitives::B256;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// MDBX failed.
    #[error("mdbx: {0}")]
    Mdbx(#[from] signet_libmdbx::MdbxError),
    /// MDBX failed while reading.
    #[error("mdbx read: {0}")]
    Read(#[from] signet_libmdbx::ReadError),
    /// A stored value does not decode: the database is corrupt or from another version.
    #[error("corrupt entry in table {table}: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// Bytecode referenced by an account is missing.
    #[error("bytecode {0} not found")]
    MissingCode(B256),
    /// The requested block is not stored.
    #[error("block {0} not found")]
    MissingBlock(u64),
    /// State at this block is outside the history window (`--history`).
    #[error("state at block {block} is pruned: the node keeps state history from block {from}")]
    Pruned {
        /// The block asked for.
        block: u64,
        /// The oldest block whose state is kept.
        from: u64,
    },
    /// I/O outside MDBX (creating the datadir).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias of the storage layer.
pub type StorageResult<T> = Result<T, StorageError>;

pub(crate) fn corrupt(table: &'static str, reason: impl Into<String>) -> StorageError {
    StorageError::Corrupt { table, reason: reason.into() }
}
