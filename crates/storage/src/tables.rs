//! Table names and key layouts. Integers are big-endian so that key order is numeric order.

/// `number → RLP(header)`.
pub const HEADERS: &str = "Headers";
/// `number → hash` of the canonical chain.
pub const CANONICAL_HASHES: &str = "CanonicalHashes";
/// `hash → number`.
pub const HEADER_NUMBERS: &str = "HeaderNumbers";
/// `number ‖ index (u32) → sender ‖ EIP-2718 transaction`.
pub const TRANSACTIONS: &str = "Transactions";
/// `tx hash → number ‖ index (u32)`.
pub const TX_LOOKUP: &str = "TransactionLookup";
/// `number ‖ index (u32) → index of its first log in the block (u32) ‖ EIP-2718 receipt`.
pub const RECEIPTS: &str = "Receipts";
/// `address → nonce ‖ balance ‖ code hash` of the head state.
pub const PLAIN_ACCOUNTS: &str = "PlainAccountState";
/// `address ‖ slot → value` (non-zero values only) of the head state.
pub const PLAIN_STORAGE: &str = "PlainStorageState";
/// `code hash → bytecode`.
pub const BYTECODES: &str = "Bytecodes";
/// `number ‖ address → account before the block` (empty value: did not exist).
pub const ACCOUNT_CHANGESETS: &str = "AccountChangeSets";
/// `number ‖ address ‖ slot → value before the block`.
pub const STORAGE_CHANGESETS: &str = "StorageChangeSets";
/// `address ‖ number → ()`: the blocks that changed an account.
pub const ACCOUNT_HISTORY: &str = "AccountsHistory";
/// `address ‖ slot ‖ number → ()`: the blocks that changed a slot.
pub const STORAGE_HISTORY: &str = "StoragesHistory";
/// `keccak(address) → nonce ‖ balance ‖ code hash ‖ storage root`.
pub const HASHED_ACCOUNTS: &str = "HashedAccounts";
/// `keccak(address) ‖ keccak(slot) → value`.
pub const HASHED_STORAGE: &str = "HashedStorages";
/// `nibble path (one nibble per byte) → branch node` of the account trie, for the incremental
/// state root.
pub const ACCOUNTS_TRIE: &str = "AccountsTrie";
/// `keccak(address) ‖ nibble path → branch node` of each account's storage trie.
pub const STORAGES_TRIE: &str = "StoragesTrie";
/// `number → storage root of the agent state account` (the block's interactionRoot).
pub const INTERACTION_ROOTS: &str = "InteractionRoots";
/// Node metadata (`head` → number).
pub const METADATA: &str = "Metadata";

/// Every table, for creation at open and for `db stats`.
pub const ALL: [&str; 19] = [
    HEADERS,
    CANONICAL_HASHES,
    HEADER_NUMBERS,
    TRANSACTIONS,
    TX_LOOKUP,
    RECEIPTS,
    PLAIN_ACCOUNTS,
    PLAIN_STORAGE,
    BYTECODES,
    ACCOUNT_CHANGESETS,
    STORAGE_CHANGESETS,
    ACCOUNT_HISTORY,
    STORAGE_HISTORY,
    HASHED_ACCOUNTS,
    HASHED_STORAGE,
    ACCOUNTS_TRIE,
    STORAGES_TRIE,
    INTERACTION_ROOTS,
    METADATA,
];
