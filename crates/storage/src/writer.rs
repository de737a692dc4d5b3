use crate::{
    StateChanges,
    codec::{self, encode_account, encode_hashed_account, num, slot_key},
    error::{StorageError, StorageResult},
    reader,
    store::Tables,
    tables,
};
use agnt2_primitives::{Header, ReceiptEnvelope, TxEnvelope};
use agnt2_trie::{
    Account as TrieAccount, BranchNodeCompact, EMPTY_ROOT_HASH, Nibbles, TrieLeaves, TrieNodes,
    decode_node, encode_node, full_root, incremental_root,
};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::Encodable;
use signet_libmdbx::{RwSync, WriteFlags, tx::Tx};
use std::collections::BTreeSet;

/// Writes one block (state, header, body, receipts) in a single MDBX transaction.
#[derive(Debug)]
pub struct BlockWriter {
    tx: Tx<RwSync>,
    t: Tables,
    /// Hashed keys of accounts changed since the last root.
    changed: BTreeSet<B256>,
    /// Whether an account was removed (the incremental walk then falls back to a rebuild).
    removed: bool,
    /// The first read error met while walking the trie (the walk's callbacks cannot return it).
    walk_error: std::cell::RefCell<Option<StorageError>>,
}

impl BlockWriter {
    pub(crate) const fn new(tx: Tx<RwSync>, t: Tables) -> Self {
        Self {
            tx,
            t,
            changed: BTreeSet::new(),
            removed: false,
            walk_error: std::cell::RefCell::new(None),
        }
    }

    /// The head block number.
    pub fn head(&self) -> StorageResult<Option<u64>> {
        reader::head(&self.tx, &self.t)
    }

    /// Header of block `n`.
    pub fn header(&self, n: u64) -> StorageResult<Option<Header>> {
        reader::header(&self.tx, &self.t, n)
    }

    /// Applies the state changes of block `number` to the plain and hashed state, recording
    /// what each change overwrote in the changesets and history indices, and recomputing the
    /// storage roots of the accounts whose storage changed.
    pub fn apply_state(&mut self, number: u64, changes: &StateChanges) -> StorageResult<()> {
        for (hash, code) in &changes.codes {
            self.tx.put(self.t.bytecodes, hash, code, WriteFlags::empty())?;
        }
        let mut storage_touched: BTreeSet<Address> = BTreeSet::new();
        for (address, info) in &changes.accounts {
            let old = reader::account(&self.tx, &self.t, address)?;
            let cs: [u8; 28] = codec::cat(&[&num(number), address.as_slice()]);
            if self.tx.get::<()>(self.t.account_changesets.dbi(), &cs)?.is_none() {
                let prev = old.as_ref().map(|a| encode_account(a).to_vec()).unwrap_or_default();
                self.tx.put(self.t.account_changesets, cs, prev, WriteFlags::empty())?;
                let hk: [u8; 28] = codec::cat(&[address.as_slice(), &num(number)]);
                self.tx.put(self.t.account_history, hk, [], WriteFlags::empty())?;
            }
            let hashed = keccak256(address);
            self.changed.insert(hashed);
            match info {
                Some(info) => {
                    self.tx.put(
                        self.t.accounts,
                        address,
                        encode_account(info),
                        WriteFlags::empty(),
                    )?;
                    let root = self.cached_storage_root(&hashed)?.unwrap_or(EMPTY_ROOT_HASH);
                    let v = encode_hashed_account(info, &root);
                    self.tx.put(self.t.hashed_accounts, hashed, v, WriteFlags::empty())?;
                }
                None => {
                    if old.is_some() {
                        self.removed = true;
                        self.tx.del(self.t.accounts, address, None)?;
                        self.tx.del(self.t.hashed_accounts, hashed, None)?;
                        self.wipe_storage(number, address)?;
                    }
                }
            }
        }
        for (address, change) in &changes.storage {
            if change.wiped {
                self.wipe_storage(number, address)?;
            }
            let hashed = keccak256(address);
            for (slot, value) in &change.slots {
                let key = slot_key(address, slot);
                let old = reader::storage(&self.tx, &self.t, address, slot)?;
                self.record_slot(number, &key, old)?;
                let hk: [u8; 64] =
                    codec::cat(&[hashed.as_slice(), keccak256(key[20..].as_ref()).as_slice()]);
                if value.is_zero() {
                    self.tx.del(self.t.storage, key, None)?;
                    self.tx.del(self.t.hashed_storage, hk, None)?;
                } else {
                    let v = value.to_be_bytes::<32>();
                    self.tx.put(self.t.storage, key, v, WriteFlags::empty())?;
                    self.tx.put(self.t.hashed_storage, hk, v, WriteFlags::empty())?;
                }
            }
            storage_touched.insert(*address);
        }
        for address in storage_touched {
            self.refresh_storage_root(&address)?;
            self.changed.insert(keccak256(address));
        }
        Ok(())
    }

    fn record_slot(&self, number: u64, key: &[u8; 52], old: U256) -> StorageResult<()> {
        let cs: [u8; 60] = codec::cat(&[&num(number), key]);
        if self.tx.get::<()>(self.t.storage_changesets.dbi(), &cs)?.is_none() {
            self.tx.put(
                self.t.storage_changesets,
                cs,
                old.to_be_bytes::<32>(),
                WriteFlags::empty(),
            )?;
            let hk: [u8; 60] = codec::cat(&[key, &num(number)]);
            self.tx.put(self.t.storage_history, hk, [], WriteFlags::empty())?;
        }
        Ok(())
    }

    /// Deletes all storage of `address`, recording the old values.
    fn wipe_storage(&mut self, number: u64, address: &Address) -> StorageResult<()> {
        let mut slots = Vec::new();
        {
            let mut c = self.tx.cursor(self.t.storage)?;
            for item in c.iter_from::<Vec<u8>, Vec<u8>>(address.as_slice())? {
                let (k, v) = item?;
                if k.len() != 52 || k[..20] != address[..] {
                    break;
                }
                slots.push((k, U256::from_be_slice(&v)));
            }
        }
        let hashed = keccak256(address);
        for (k, old) in slots {
            let key: [u8; 52] = k.as_slice().try_into().expect("checked length");
            self.record_slot(number, &key, old)?;
            self.tx.del(self.t.storage, key, None)?;
            let hk: [u8; 64] = codec::cat(&[hashed.as_slice(), keccak256(&key[20..]).as_slice()]);
            self.tx.del(self.t.hashed_storage, hk, None)?;
        }
        Ok(())
    }

    fn cached_storage_root(&self, hashed: &B256) -> StorageResult<Option<B256>> {
        self.tx
            .get::<Vec<u8>>(self.t.hashed_accounts.dbi(), hashed.as_slice())?
            .map(|v| codec::decode_hashed_account(&v).map(|(_, root)| root))
            .transpose()
    }

    /// Recomputes the storage root of `address` from its hashed storage.
    fn refresh_storage_root(&mut self, address: &Address) -> StorageResult<()> {
        let hashed = keccak256(address);
        let Some(raw) = self.tx.get::<Vec<u8>>(self.t.hashed_accounts.dbi(), hashed.as_slice())?
        else {
            return Ok(());
        };
        let (info, _) = codec::decode_hashed_account(&raw)?;
        let root = self.storage_root_of_hashed(&hashed)?;
        let v = encode_hashed_account(&info, &root);
        self.tx.put(self.t.hashed_accounts, hashed, v, WriteFlags::empty())?;
        Ok(())
    }

    fn storage_root_of_hashed(&self, hashed: &B256) -> StorageResult<B256> {
        let mut c = self.tx.cursor(self.t.hashed_storage)?;
        let mut slots = Vec::new();
        for item in c.iter_from::<Vec<u8>, Vec<u8>>(hashed.as_slice())? {
            let (k, v) = item?;
            if k.len() != 64 || k[..32] != hashed[..] {
                break;
            }
            slots.push((B256::from_slice(&k[32..]), U256::from_be_slice(&v)));
        }
        Ok(agnt2_trie::storage_root(slots))
    }

    /// Storage root of an account in the state written so far.
    pub fn storage_root(&self, address: &Address) -> StorageResult<B256> {
        Ok(self.cached_storage_root(&keccak256(address))?.unwrap_or(EMPTY_ROOT_HASH))
    }

    /// State root of the state written so far. Incremental (only paths to the accounts
    /// changed since the last call are rehashed) unless an account was removed or no trie
    /// nodes are stored yet, in which case the account trie is rebuilt and stored anew.
    pub fn state_root(&mut self) -> StorageResult<B256> {
        let changed: Vec<B256> = std::mem::take(&mut self.changed).into_iter().collect();
        let removed = std::mem::take(&mut self.removed);
        let incremental = if removed {
            None
        } else {
            incremental_root(&*self, &*self, &changed).map(|r| (r, false))
        };
        let ((root, updates), replace) = match incremental {
            Some(r) => r,
            None => (full_root(&*self), true),
        };
        if let Some(e) = self.walk_error.take() {
            return Err(e);
        }
        if replace {
            self.tx.clear_db(self.t.accounts_trie)?;
        }
        for (path, node) in updates {
            let key = path.to_vec();
            self.tx.put(self.t.accounts_trie, key, encode_node(&node), WriteFlags::empty())?;
        }
        Ok(root)
    }

    /// Inserts a sealed block and makes it the head.
    pub fn insert_block(
        &mut self,
        header: &Header,
        hash: B256,
        txs: &[(Address, TxEnvelope)],
        receipts: &[ReceiptEnvelope],
    ) -> StorageResult<()> {
        let n = header.number;
        let mut buf = Vec::new();
        header.encode(&mut buf);
        self.tx.put(self.t.headers, num(n), &buf, WriteFlags::empty())?;
        self.tx.put(self.t.canonical, num(n), hash, WriteFlags::empty())?;
        self.tx.put(self.t.header_numbers, hash, num(n), WriteFlags::empty())?;
        let mut item = Vec::new();
        for (i, (sender, tx)) in txs.iter().enumerate() {
            let key: [u8; 12] = codec::cat(&[&num(n), &(i as u32).to_be_bytes()]);
            item.clear();
            item.extend_from_slice(sender.as_slice());
            tx.encode_2718(&mut item);
            self.tx.put(self.t.transactions, key, &item, WriteFlags::APPEND)?;
            self.tx.put(self.t.tx_lookup, tx.tx_hash(), key, WriteFlags::empty())?;
        }
        let mut first_log = 0u32;
        for (i, receipt) in receipts.iter().enumerate() {
            let key: [u8; 12] = codec::cat(&[&num(n), &(i as u32).to_be_bytes()]);
            item.clear();
            item.extend_from_slice(&first_log.to_be_bytes());
            receipt.encode_2718(&mut item);
            self.tx.put(self.t.receipts, key, &item, WriteFlags::APPEND)?;
            first_log += receipt.logs().len() as u32;
        }
        self.tx.put(self.t.metadata, b"head", num(n), WriteFlags::empty())?;
        Ok(())
    }

    /// Commits durably (fsync) and returns once the block is on disk.
    pub fn commit(self) -> StorageResult<()> {
        self.tx.commit()?;
        Ok(())
    }
}

impl BlockWriter {
    fn note<T, E: Into<StorageError>>(&self, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| {
            self.walk_error.borrow_mut().get_or_insert(e.into());
        })
        .ok()
    }
}

// A node that does not decode is treated as absent: the walk then reads the leaves below it,
// which costs time but gives the right root.
impl TrieNodes for BlockWriter {
    fn node(&self, path: &Nibbles) -> Option<BranchNodeCompact> {
        let v = self.note(self.tx.get::<Vec<u8>>(self.t.accounts_trie.dbi(), &path.to_vec()))??;
        decode_node(&v)
    }

    fn first_under(&self, prefix: &Nibbles) -> Option<(Nibbles, BranchNodeCompact)> {
        let p = prefix.to_vec();
        let mut c = self.note(self.tx.cursor(self.t.accounts_trie))?;
        let (k, v) = self.note(c.set_range::<Vec<u8>, Vec<u8>>(&p))??;
        if !k.starts_with(&p) || k.iter().any(|n| *n > 0x0f) {
            return None;
        }
        Some((Nibbles::from_nibbles(&k), decode_node(&v)?))
    }
}

impl TrieLeaves for BlockWriter {
    fn for_each(&self, from: B256, to: B256, f: &mut dyn FnMut(B256, &[u8])) {
        let Some(mut c) = self.note(self.tx.cursor(self.t.hashed_accounts)) else { return };
        let Some(iter) = self.note(c.iter_from::<Vec<u8>, Vec<u8>>(from.as_slice())) else {
            return;
        };
        for item in iter {
            let Some((k, v)) = self.note(item) else { return };
            let Some(key) = self.note(codec::decode_b256(tables::HASHED_ACCOUNTS, &k)) else {
                return;
            };
            if key > to {
                return;
            }
            let Some((info, storage_root)) = self.note(codec::decode_hashed_account(&v)) else {
                return;
            };
            let acc = TrieAccount {
                nonce: info.nonce,
                balance: info.balance,
                storage_root,
                code_hash: info.code_hash,
            };
            f(key, &agnt2_trie::encode_account(&acc));
        }
    }
}
