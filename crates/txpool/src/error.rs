use alloy_primitives::{B256, U256};

/// Why a transaction was not admitted. Messages follow geth/reth wording where one exists, so
/// that clients which match on them keep working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// A follower without a sequencer to forward to: it mines nothing.
    #[error(
        "this node derives the chain from its L1 and mines nothing: send transactions to the sequencer (or start it with --rollup.sequencer-http)"
    )]
    NotSequencing,
    /// The bytes are not a transaction.
    #[error("failed to decode signed transaction: {0}")]
    Decode(String),
    /// Deposits come from L1 only.
    #[error("deposit transactions cannot be submitted to the pool")]
    Deposit,
    /// Unsupported type (blobs).
    #[error("transaction type not supported")]
    UnsupportedType,
    /// The signature does not recover.
    #[error("invalid sender: invalid signature")]
    BadSignature,
    /// Wrong chain id.
    #[error("invalid chain id: expected {expected}, got {got}")]
    ChainId {
        /// Ours.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// Too large.
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized {
        /// Encoded size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// Gas limit below the intrinsic cost.
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGas {
        /// Gas limit of the transaction.
        have: u64,
        /// Intrinsic gas (or the EIP-7623 floor).
        want: u64,
    },
    /// Gas limit above the block gas limit.
    #[error("exceeds block gas limit: gas {gas}, block limit {limit}")]
    GasLimit {
        /// Gas limit of the transaction.
        gas: u64,
        /// Block gas limit.
        limit: u64,
    },
    /// Max fee below the base fee.
    #[error(
        "max fee per gas less than block base fee: maxFeePerGas: {max_fee}, baseFee: {base_fee}"
    )]
    FeeCapTooLow {
        /// The transaction's max fee per gas.
        max_fee: u128,
        /// The pending block's base fee.
        base_fee: u64,
    },
    /// Priority fee above max fee.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// Nonce already used.
    #[error("nonce too low: next nonce {state}, tx nonce {tx}")]
    NonceTooLow {
        /// The account's next nonce.
        state: u64,
        /// The transaction's nonce.
        tx: u64,
    },
    /// Not enough balance.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds {
        /// Balance of the sender.
        balance: U256,
        /// Maximum cost of the transaction.
        cost: U256,
    },
    /// Same hash already pooled.
    #[error("already known")]
    AlreadyKnown(B256),
    /// A replacement must raise both fees by the bump.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// Pool full, and the transaction is not worth more than what it would evict.
    #[error("txpool is full")]
    Full,
    /// The sender holds as many transactions of this kind as one account may.
    #[error("account limit exceeded: {sender} holds {limit} {kind} transactions ({flag})")]
    AccountLimit {
        /// The sender.
        sender: alloy_primitives::Address,
        /// `executable` or `queued`.
        kind: &'static str,
        /// The limit.
        limit: usize,
        /// The flag that sets it.
        flag: &'static str,
    },
    /// EIP-7702 transaction without authorizations.
    #[error("EIP-7702 transaction with empty authorization list")]
    EmptyAuthorizationList,
    /// Create transaction where not allowed.
    #[error("EIP-7702 transaction cannot create contracts")]
    Eip7702Create,
    /// State could not be read.
    #[error("internal error reading state: {0}")]
    State(String),
}
