use crate::{
    codec::{self, decode_account, decode_b256, decode_num, num, slot_key},
    error::{StorageError, StorageResult, corrupt},
    store::Tables,
    tables,
};
use agnt2_primitives::{Header, ReceiptEnvelope, TxEnvelope};
use alloy_eips::{BlockId, BlockNumberOrTag, eip2718::Decodable2718};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::Decodable;
use revm::{
    DatabaseRef, bytecode::Bytecode, database_interface::DBErrorMarker, primitives::KECCAK_EMPTY,
    state::AccountInfo,
};
use signet_libmdbx::{RoSync, TransactionKind, tx::Tx};

/// Where a transaction is: block number and index in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Block number.
    pub block: u64,
    /// Index in the block.
    pub index: u32,
}

/// An account with all its non-zero storage slots.
pub type AccountDump = (Address, AccountInfo, Vec<(U256, U256)>);

/// A consistent read-only view of the database (one MDBX read transaction).
#[derive(Debug)]
pub struct StoreReader {
    pub(crate) tx: Tx<RoSync>,
    pub(crate) t: Tables,
}

impl DBErrorMarker for StorageError {}

impl StoreReader {
    pub(crate) const fn new(tx: Tx<RoSync>, t: Tables) -> Self {
        Self { tx, t }
    }

    /// The head block number (`None` before genesis is written).
    pub fn head(&self) -> StorageResult<Option<u64>> {
        head(&self.tx, &self.t)
    }

    /// Resolves a block id to a stored block number (`None`: no such block): `safe` and
    /// `finalized` to the heads derivation recorded (genesis until it records one), `latest`
    /// and `pending` to the head of this view.
    pub fn resolve(&self, id: BlockId) -> StorageResult<Option<u64>> {
        let head = self.head()?.unwrap_or_default();
        Ok(match id {
            BlockId::Hash(h) => self.block_number(h.block_hash)?,
            BlockId::Number(BlockNumberOrTag::Number(n)) => (n <= head).then_some(n),
            BlockId::Number(BlockNumberOrTag::Earliest) => Some(0),
            BlockId::Number(BlockNumberOrTag::Safe) => Some(self.l1_head(b"safe")?.min(head)),
            BlockId::Number(BlockNumberOrTag::Finalized) => {
                Some(self.l1_head(b"finalized")?.min(head))
            }
            BlockId::Number(_) => Some(head),
        })
    }

    /// The safe head: the newest block derived from (or checked against) the L1's batches.
    pub fn safe_head(&self) -> StorageResult<u64> {
        Ok(self.l1_head(b"safe")?.min(self.head()?.unwrap_or_default()))
    }

    /// The finalized head: the newest safe block whose batch is in a finalized L1 block.
    pub fn finalized_head(&self) -> StorageResult<u64> {
        Ok(self.l1_head(b"finalized")?.min(self.head()?.unwrap_or_default()))
    }

    fn l1_head(&self, key: &[u8]) -> StorageResult<u64> {
        Ok(match self.tx.get::<Vec<u8>>(self.t.metadata.dbi(), key)? {
            Some(v) => decode_num(tables::METADATA, &v)?,
            None => 0,
        })
    }

    /// The block a state read at `id` answers for, and where its state is read: `None` for
    /// the head's plain state (the head of this same view: the in-memory head of a running
    /// node moves just after a commit, so it can briefly lag what this view reads), the block
    /// number for the history. `None` when the block does not exist.
    pub fn state_block(&self, id: BlockId) -> StorageResult<Option<(u64, Option<u64>)>> {
        let Some(n) = self.resolve(id)? else { return Ok(None) };
        let at = (n != self.head()?.unwrap_or_default()).then_some(n);
        Ok(Some((n, at)))
    }

    /// The oldest block whose state can be read (0 unless a history window pruned older state).
    pub fn state_history_from(&self) -> StorageResult<u64> {
        state_from(&self.tx, &self.t)
    }

    pub(crate) fn check_history(&self, n: u64) -> StorageResult<()> {
        let from = self.state_history_from()?;
        if n < from {
            return Err(StorageError::Pruned { block: n, from });
        }
        Ok(())
    }

    /// Canonical hash of block `n`.
    pub fn block_hash(&self, n: u64) -> StorageResult<Option<B256>> {
        self.tx
            .get::<Vec<u8>>(self.t.canonical.dbi(), &num(n))?
            .map(|v| decode_b256(tables::CANONICAL_HASHES, &v))
            .transpose()
    }

    /// Number of the block with `hash`.
    pub fn block_number(&self, hash: B256) -> StorageResult<Option<u64>> {
        self.tx
            .get::<Vec<u8>>(self.t.header_numbers.dbi(), hash.as_slice())?
            .map(|v| decode_num(tables::HEADER_NUMBERS, &v))
            .transpose()
    }

    /// The interaction root (agent state storage root) recorded for block `n`.
    pub fn interaction_root(&self, n: u64) -> StorageResult<Option<B256>> {
        self.tx
            .get::<Vec<u8>>(self.t.interaction_roots.dbi(), &num(n))?
            .map(|v| decode_b256(tables::INTERACTION_ROOTS, &v))
            .transpose()
    }

    /// Header of block `n`.
    pub fn header(&self, n: u64) -> StorageResult<Option<Header>> {
        header(&self.tx, &self.t, n)
    }

    /// Transactions of block `n` with their senders (`None` if the block is unknown).
    pub fn body(&self, n: u64) -> StorageResult<Option<Vec<(Address, TxEnvelope)>>> {
        self.block_entries(self.t.transactions, n, decode_tx)
    }

    /// Transaction `index` of block `n` with its sender.
    pub fn transaction(&self, n: u64, index: u32) -> StorageResult<Option<(Address, TxEnvelope)>> {
        let key: [u8; 12] = codec::cat(&[&num(n), &index.to_be_bytes()]);
        self.tx.get::<Vec<u8>>(self.t.transactions.dbi(), &key)?.map(|v| decode_tx(&v)).transpose()
    }

    /// Receipts of block `n`, each with the block-wide index of its first log.
    pub fn receipts(&self, n: u64) -> StorageResult<Option<Vec<(u32, ReceiptEnvelope)>>> {
        self.block_entries(self.t.receipts, n, decode_receipt)
    }

    /// The `number ‖ index` entries of block `n` in `db`, decoded in index order (`None` if the
    /// block is unknown).
    fn block_entries<T>(
        &self,
        db: signet_libmdbx::tx::Database,
        n: u64,
        decode: fn(&[u8]) -> StorageResult<T>,
    ) -> StorageResult<Option<Vec<T>>> {
        if self.block_hash(n)?.is_none() {
            return Ok(None);
        }
        let mut out = Vec::new();
        let mut c = self.tx.cursor(db)?;
        for item in c.iter_from::<Vec<u8>, Vec<u8>>(&num(n))? {
            let (k, v) = item?;
            if k.len() != 12 || k[..8] != num(n) {
                break;
            }
            out.push(decode(&v)?);
        }
        Ok(Some(out))
    }

    /// Receipt `index` of block `n` with the block-wide index of its first log.
    pub fn receipt(&self, n: u64, index: u32) -> StorageResult<Option<(u32, ReceiptEnvelope)>> {
        let key: [u8; 12] = codec::cat(&[&num(n), &index.to_be_bytes()]);
        self.tx.get::<Vec<u8>>(self.t.receipts.dbi(), &key)?.map(|v| decode_receipt(&v)).transpose()
    }

    /// Location of the transaction with `hash`.
    pub fn tx_location(&self, hash: B256) -> StorageResult<Option<TxLocation>> {
        let Some(v) = self.tx.get::<Vec<u8>>(self.t.tx_lookup.dbi(), hash.as_slice())? else {
            return Ok(None);
        };
        if v.len() != 12 {
            return Err(corrupt(tables::TX_LOOKUP, "entry is not 12 bytes"));
        }
        let block = decode_num(tables::TX_LOOKUP, &v[..8])?;
        let index = u32::from_be_bytes(v[8..12].try_into().expect("4 bytes"));
        Ok(Some(TxLocation { block, index }))
    }

    /// Account in the head state.
    pub fn account(&self, address: Address) -> StorageResult<Option<AccountInfo>> {
        account(&self.tx, &self.t, &address)
    }

    /// Storage slot in the head state.
    pub fn storage(&self, address: Address, slot: U256) -> StorageResult<U256> {
        storage(&self.tx, &self.t, &address, &slot)
    }

    /// Bytecode by hash.
    pub fn code(&self, hash: B256) -> StorageResult<Option<Bytes>> {
        if hash == KECCAK_EMPTY {
            return Ok(Some(Bytes::new()));
        }
        Ok(self.tx.get::<Vec<u8>>(self.t.bytecodes.dbi(), hash.as_slice())?.map(Bytes::from))
    }

    /// Every account of the head state with its storage (for `anvil_dumpState`).
    pub fn dump(&self) -> StorageResult<Vec<AccountDump>> {
        let mut out: Vec<AccountDump> = Vec::new();
        let mut c = self.tx.cursor(self.t.accounts)?;
        for item in c.iter_start::<Vec<u8>, Vec<u8>>()? {
            let (k, v) = item?;
            if k.len() != 20 {
                return Err(corrupt(tables::PLAIN_ACCOUNTS, "key is not an address"));
            }
            out.push((
                Address::from_slice(&k),
                decode_account(tables::PLAIN_ACCOUNTS, &v)?,
                vec![],
            ));
        }
        let mut c = self.tx.cursor(self.t.storage)?;
        let mut i = 0;
        for item in c.iter_start::<Vec<u8>, Vec<u8>>()? {
            let (k, v) = item?;
            if k.len() != 52 {
                return Err(corrupt(tables::PLAIN_STORAGE, "key is not address ‖ slot"));
            }
            let address = Address::from_slice(&k[..20]);
            while i < out.len() && out[i].0 < address {
                i += 1;
            }
            if i < out.len() && out[i].0 == address {
                out[i].2.push((U256::from_be_slice(&k[20..]), U256::from_be_slice(&v)));
            }
        }
        Ok(out)
    }

    /// Account as it was after block `n` (from the changeset of the next block that changed
    /// it, or the head state if none did).
    pub fn account_at(&self, address: Address, n: u64) -> StorageResult<Option<AccountInfo>> {
        self.check_history(n)?;
        let key: [u8; 28] = codec::cat(&[address.as_slice(), &num(n + 1)]);
        let mut c = self.tx.cursor(self.t.account_history)?;
        match c.set_range::<Vec<u8>, ()>(&key)? {
            Some((k, ())) if k.len() == 28 && k[..20] == address[..] => {
                let block = decode_num(tables::ACCOUNT_HISTORY, &k[20..])?;
                let cs: [u8; 28] = codec::cat(&[&num(block), address.as_slice()]);
                let v = self
                    .tx
                    .get::<Vec<u8>>(self.t.account_changesets.dbi(), &cs)?
                    .ok_or_else(|| corrupt(tables::ACCOUNT_CHANGESETS, "missing entry"))?;
                if v.is_empty() {
                    Ok(None)
                } else {
                    decode_account(tables::ACCOUNT_CHANGESETS, &v).map(Some)
                }
            }
            _ => self.account(address),
        }
    }

    /// Storage slot as it was after block `n`.
    pub fn storage_at(&self, address: Address, slot: U256, n: u64) -> StorageResult<U256> {
        self.check_history(n)?;
        let sk = slot_key(&address, &slot);
        let key: [u8; 60] = codec::cat(&[&sk, &num(n + 1)]);
        let mut c = self.tx.cursor(self.t.storage_history)?;
        match c.set_range::<Vec<u8>, ()>(&key)? {
            Some((k, ())) if k.len() == 60 && k[..52] == sk[..] => {
                let block = decode_num(tables::STORAGE_HISTORY, &k[52..])?;
                let cs: [u8; 60] = codec::cat(&[&num(block), &sk]);
                let v = self
                    .tx
                    .get::<Vec<u8>>(self.t.storage_changesets.dbi(), &cs)?
                    .ok_or_else(|| corrupt(tables::STORAGE_CHANGESETS, "missing entry"))?;
                Ok(U256::from_be_slice(&v))
            }
            _ => self.storage(address, slot),
        }
    }

    /// A revm database over this view: the head state, or the state after block `at`.
    pub const fn state(&self, at: Option<u64>) -> StateAt<'_> {
        StateAt { reader: self, at }
    }
}

/// State at a block (or the head) as a revm [`DatabaseRef`].
#[derive(Debug, Clone, Copy)]
pub struct StateAt<'a> {
    reader: &'a StoreReader,
    at: Option<u64>,
}

impl DatabaseRef for StateAt<'_> {
    type Error = StorageError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        match self.at {
            None => self.reader.account(address),
            Some(n) => self.reader.account_at(address, n),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        let code = self.reader.code(code_hash)?.ok_or(StorageError::MissingCode(code_hash))?;
        Ok(Bytecode::new_raw(code))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        match self.at {
            None => self.reader.storage(address, index),
            Some(n) => self.reader.storage_at(address, index, n),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Ok(self.reader.block_hash(number)?.unwrap_or_default())
    }
}

fn decode_tx(v: &[u8]) -> StorageResult<(Address, TxEnvelope)> {
    if v.len() < 20 {
        return Err(corrupt(tables::TRANSACTIONS, "entry shorter than a sender"));
    }
    let mut buf = &v[20..];
    let tx = TxEnvelope::decode_2718(&mut buf)
        .map_err(|e| corrupt(tables::TRANSACTIONS, e.to_string()))?;
    Ok((Address::from_slice(&v[..20]), tx))
}

fn decode_receipt(v: &[u8]) -> StorageResult<(u32, ReceiptEnvelope)> {
    if v.len() < 4 {
        return Err(corrupt(tables::RECEIPTS, "entry shorter than its log index"));
    }
    let first_log = u32::from_be_bytes(v[..4].try_into().expect("4 bytes"));
    let mut buf = &v[4..];
    let r = ReceiptEnvelope::decode_2718(&mut buf)
        .map_err(|e| corrupt(tables::RECEIPTS, e.to_string()))?;
    Ok((first_log, r))
}

pub(crate) fn head<K: TransactionKind>(tx: &Tx<K>, t: &Tables) -> StorageResult<Option<u64>> {
    tx.get::<Vec<u8>>(t.metadata.dbi(), b"head")?
        .map(|v| decode_num(tables::METADATA, &v))
        .transpose()
}

pub(crate) fn state_from<K: TransactionKind>(tx: &Tx<K>, t: &Tables) -> StorageResult<u64> {
    Ok(tx
        .get::<Vec<u8>>(t.metadata.dbi(), b"state_from")?
        .map(|v| decode_num(tables::METADATA, &v))
        .transpose()?
        .unwrap_or_default())
}

pub(crate) fn header<K: TransactionKind>(
    tx: &Tx<K>,
    t: &Tables,
    n: u64,
) -> StorageResult<Option<Header>> {
    let Some(raw) = tx.get::<Vec<u8>>(t.headers.dbi(), &num(n))? else { return Ok(None) };
    Header::decode(&mut raw.as_slice())
        .map(Some)
        .map_err(|e| corrupt(tables::HEADERS, e.to_string()))
}

pub(crate) fn account<K: TransactionKind>(
    tx: &Tx<K>,
    t: &Tables,
    address: &Address,
) -> StorageResult<Option<AccountInfo>> {
    tx.get::<Vec<u8>>(t.accounts.dbi(), address.as_slice())?
        .map(|v| decode_account(tables::PLAIN_ACCOUNTS, &v))
        .transpose()
}

pub(crate) fn storage<K: TransactionKind>(
    tx: &Tx<K>,
    t: &Tables,
    address: &Address,
    slot: &U256,
) -> StorageResult<U256> {
    Ok(tx
        .get::<Vec<u8>>(t.storage.dbi(), &slot_key(address, slot))?
        .map(|v| U256::from_be_slice(&v))
        .unwrap_or_default())
}
