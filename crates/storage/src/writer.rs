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
use std::collections::{BTreeMap, BTreeSet};

/// Writes one block (state, header, body, receipts) in a single MDBX transaction.
#[derive(Debug)]
pub struct BlockWriter {
    pub(crate) tx: Tx<RwSync>,
    pub(crate) t: Tables,
    /// Hashed keys of accounts changed since the last root.
    pub(crate) changed: BTreeSet<B256>,
    /// The first read error met while walking the trie (the walk's callbacks cannot return it).
    walk_error: std::cell::RefCell<Option<StorageError>>,
}

impl BlockWriter {
    pub(crate) const fn new(tx: Tx<RwSync>, t: Tables) -> Self {
        Self { tx, t, changed: BTreeSet::new(), walk_error: std::cell::RefCell::new(None) }
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
        // Per account whose storage changed: the hashed slots that changed.
        let mut storage_touched: BTreeMap<Address, BTreeSet<B256>> = BTreeMap::new();
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
            let touched = storage_touched.entry(*address).or_default();
            for (slot, value) in &change.slots {
                let key = slot_key(address, slot);
                let old = reader::storage(&self.tx, &self.t, address, slot)?;
                self.record_slot(number, &key, old)?;
                touched.insert(self.write_slot(&hashed, &key, value)?);
            }
        }
        for (address, slots) in storage_touched {
            let slots: Vec<B256> = slots.into_iter().collect();
            self.refresh_storage_root(&address, &slots)?;
            self.changed.insert(keccak256(address));
        }
        Ok(())
    }

    /// Writes a slot (zero deletes) to the plain and hashed storage; returns the hashed slot.
    pub(crate) fn write_slot(
        &self,
        hashed_address: &B256,
        key: &[u8; 52],
        value: &U256,
    ) -> StorageResult<B256> {
        let hashed_slot = keccak256(&key[20..]);
        let hk: [u8; 64] = codec::cat(&[hashed_address.as_slice(), hashed_slot.as_slice()]);
        if value.is_zero() {
            self.tx.del(self.t.storage, key, None)?;
            self.tx.del(self.t.hashed_storage, hk, None)?;
        } else {
            let v = value.to_be_bytes::<32>();
            self.tx.put(self.t.storage, key, v, WriteFlags::empty())?;
            self.tx.put(self.t.hashed_storage, hk, v, WriteFlags::empty())?;
        }
        Ok(hashed_slot)
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
        self.clear_storage_trie(&hashed)?;
        Ok(())
    }

    /// Deletes the stored storage-trie nodes of an account.
    fn clear_storage_trie(&self, hashed: &B256) -> StorageResult<()> {
        let mut keys = Vec::new();
        {
            let mut c = self.tx.cursor(self.t.storages_trie)?;
            for item in c.iter_from::<Vec<u8>, ()>(hashed.as_slice())? {
                let (k, ()) = item?;
                if k.len() < 32 || k[..32] != hashed[..] {
                    break;
                }
                keys.push(k);
            }
        }
        for k in keys {
            self.tx.del(self.t.storages_trie, k, None)?;
        }
        Ok(())
    }

    pub(crate) fn cached_storage_root(&self, hashed: &B256) -> StorageResult<Option<B256>> {
        self.tx
            .get::<Vec<u8>>(self.t.hashed_accounts.dbi(), hashed.as_slice())?
            .map(|v| codec::decode_hashed_account(&v).map(|(_, root)| root))
            .transpose()
    }

    /// Recomputes the storage root of `address` after `slots` (hashed) changed: incrementally
    /// from its stored storage-trie nodes, or from all its slots when none are stored.
    pub(crate) fn refresh_storage_root(
        &mut self,
        address: &Address,
        slots: &[B256],
    ) -> StorageResult<()> {
        let hashed = keccak256(address);
        let Some(raw) = self.tx.get::<Vec<u8>>(self.t.hashed_accounts.dbi(), hashed.as_slice())?
        else {
            return Ok(());
        };
        let (info, _) = codec::decode_hashed_account(&raw)?;
        let view = StorageView { w: self, hashed };
        let (root, updates, removed, replace) = match incremental_root(&view, &view, slots) {
            Some(r) => (r.root, r.updates, r.removed, false),
            None => {
                let (root, updates) = full_root(&view);
                (root, updates, vec![], true)
            }
        };
        if let Some(e) = self.walk_error.take() {
            return Err(e);
        }
        if replace {
            self.clear_storage_trie(&hashed)?;
        }
        let key = |path: &Nibbles| [hashed.as_slice(), &path.to_vec()].concat();
        for path in &removed {
            self.tx.del(self.t.storages_trie, key(path), None)?;
        }
        for (path, node) in &updates {
            self.tx.put(self.t.storages_trie, key(path), encode_node(node), WriteFlags::empty())?;
        }
        let v = encode_hashed_account(&info, &root);
        self.tx.put(self.t.hashed_accounts, hashed, v, WriteFlags::empty())?;
        Ok(())
    }

    /// Storage root of an account in the state written so far.
    pub fn storage_root(&self, address: &Address) -> StorageResult<B256> {
        Ok(self.cached_storage_root(&keccak256(address))?.unwrap_or(EMPTY_ROOT_HASH))
    }

    /// State root of the state written so far. Incremental (only paths to the accounts
    /// changed since the last call are rehashed) once trie nodes are stored; the first call on
    /// an empty database builds and stores the whole trie.
    pub fn state_root(&mut self) -> StorageResult<B256> {
        let changed: Vec<B256> = std::mem::take(&mut self.changed).into_iter().collect();
        let (root, updates, removed, replace) = match incremental_root(&*self, &*self, &changed) {
            Some(r) => (r.root, r.updates, r.removed, false),
            None => {
                let (root, updates) = full_root(&*self);
                (root, updates, vec![], true)
            }
        };
        if let Some(e) = self.walk_error.take() {
            return Err(e);
        }
        if replace {
            self.tx.clear_db(self.t.accounts_trie)?;
        }
        for path in removed {
            self.tx.del(self.t.accounts_trie, path.to_vec(), None)?;
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

    /// Records the newest block derived from the L1 (`safe`) and the newest derived from
    /// finalized L1 blocks (`finalized`); neither moves back.
    pub fn set_l1_heads(&mut self, safe: u64, finalized: u64) -> StorageResult<()> {
        for (key, n) in [(&b"safe"[..], safe), (b"finalized", finalized)] {
            let old = match self.tx.get::<Vec<u8>>(self.t.metadata.dbi(), key)? {
                Some(v) => codec::decode_num(tables::METADATA, &v)?,
                None => 0,
            };
            if n > old {
                self.tx.put(self.t.metadata, key, num(n), WriteFlags::empty())?;
            }
        }
        Ok(())
    }

    /// Moves the safe head back to `n` if it is above (the L1 lost the batch that made the
    /// blocks after `n` safe), and the finalized head with it (finalized L1 blocks do not
    /// reorganise, but a devnet L1 may).
    pub fn lower_safe_head(&mut self, n: u64) -> StorageResult<()> {
        for key in [&b"safe"[..], b"finalized"] {
            let old = match self.tx.get::<Vec<u8>>(self.t.metadata.dbi(), key)? {
                Some(v) => codec::decode_num(tables::METADATA, &v)?,
                None => 0,
            };
            if n < old {
                self.tx.put(self.t.metadata, key, num(n), WriteFlags::empty())?;
            }
        }
        Ok(())
    }

    /// Records the interaction root (agent state storage root) of block `n`.
    pub fn put_interaction_root(&mut self, n: u64, root: B256) -> StorageResult<()> {
        self.tx.put(self.t.interaction_roots, num(n), root, WriteFlags::empty())?;
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

    fn any_in(&self, from: B256, to: B256) -> bool {
        let Some(mut c) = self.note(self.tx.cursor(self.t.hashed_accounts)) else { return false };
        match self.note(c.set_range::<Vec<u8>, ()>(from.as_slice())) {
            Some(Some((k, ()))) => k.as_slice() <= to.as_slice(),
            _ => false,
        }
    }
}

/// One account's storage trie as the incremental walk sees it.
struct StorageView<'a> {
    w: &'a BlockWriter,
    hashed: B256,
}

impl TrieNodes for StorageView<'_> {
    fn node(&self, path: &Nibbles) -> Option<BranchNodeCompact> {
        let key = [self.hashed.as_slice(), &path.to_vec()].concat();
        let v = self.w.note(self.w.tx.get::<Vec<u8>>(self.w.t.storages_trie.dbi(), &key))??;
        decode_node(&v)
    }

    fn first_under(&self, prefix: &Nibbles) -> Option<(Nibbles, BranchNodeCompact)> {
        let p = [self.hashed.as_slice(), &prefix.to_vec()].concat();
        let mut c = self.w.note(self.w.tx.cursor(self.w.t.storages_trie))?;
        let (k, v) = self.w.note(c.set_range::<Vec<u8>, Vec<u8>>(&p))??;
        if !k.starts_with(&p) || k[32..].iter().any(|n| *n > 0x0f) {
            return None;
        }
        Some((Nibbles::from_nibbles(&k[32..]), decode_node(&v)?))
    }
}

impl TrieLeaves for StorageView<'_> {
    fn for_each(&self, from: B256, to: B256, f: &mut dyn FnMut(B256, &[u8])) {
        let start = [self.hashed.as_slice(), from.as_slice()].concat();
        let Some(mut c) = self.w.note(self.w.tx.cursor(self.w.t.hashed_storage)) else { return };
        let Some(iter) = self.w.note(c.iter_from::<Vec<u8>, Vec<u8>>(&start)) else { return };
        for item in iter {
            let Some((k, v)) = self.w.note(item) else { return };
            if k.len() != 64 || k[..32] != self.hashed[..] {
                return;
            }
            let key = B256::from_slice(&k[32..]);
            if key > to {
                return;
            }
            f(key, &agnt2_trie::encode_storage_value(U256::from_be_slice(&v)));
        }
    }

    fn any_in(&self, from: B256, to: B256) -> bool {
        let start = [self.hashed.as_slice(), from.as_slice()].concat();
        let Some(mut c) = self.w.note(self.w.tx.cursor(self.w.t.hashed_storage)) else {
            return false;
        };
        match self.w.note(c.set_range::<Vec<u8>, ()>(&start)) {
            Some(Some((k, ()))) => k.len() == 64 && k[..32] == self.hashed[..] && k[32..] <= to[..],
            _ => false,
        }
    }
}
