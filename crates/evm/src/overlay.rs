use agnt2_primitives::{StateChanges, StorageChange};
use alloy_primitives::{Address, B256, U256, map::HashMap};
use revm::{
    Database, DatabaseCommit, DatabaseRef,
    bytecode::Bytecode,
    primitives::{AddressMap, KECCAK_EMPTY},
    state::{Account, AccountInfo},
};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
struct StorageOverlay {
    wiped: bool,
    slots: HashMap<U256, U256>,
}

/// Buffers the writes of executed transactions over a read-only base state, and hands them to
/// storage as [`StateChanges`]. Reads of the base are cached so each account and slot is read
/// from MDBX at most once per block.
#[derive(Debug, Clone)]
pub struct PendingState<DB> {
    base: DB,
    accounts: HashMap<Address, Option<AccountInfo>>,
    storage: HashMap<Address, StorageOverlay>,
    codes: HashMap<B256, Bytecode>,
    read_accounts: HashMap<Address, Option<AccountInfo>>,
    read_slots: HashMap<(Address, U256), U256>,
    read_codes: HashMap<B256, Bytecode>,
    block_hashes: HashMap<u64, B256>,
}

impl<DB: DatabaseRef> PendingState<DB> {
    /// An empty overlay over `base`.
    pub fn new(base: DB) -> Self {
        Self {
            base,
            accounts: HashMap::default(),
            storage: HashMap::default(),
            codes: HashMap::default(),
            read_accounts: HashMap::default(),
            read_slots: HashMap::default(),
            read_codes: HashMap::default(),
            block_hashes: HashMap::default(),
        }
    }

    /// Sets an account directly (genesis allocation, devnet controls).
    pub fn set_account(&mut self, address: Address, info: AccountInfo) {
        if let Some(code) = &info.code
            && info.code_hash != KECCAK_EMPTY
        {
            self.codes.insert(info.code_hash, code.clone());
        }
        self.accounts.insert(address, Some(info));
    }

    /// Sets a storage slot directly.
    pub fn set_storage(&mut self, address: Address, slot: U256, value: U256) {
        self.storage.entry(address).or_default().slots.insert(slot, value);
    }

    /// A slot's value if the overlay decides it (written, wiped, or its account removed).
    fn written_slot(&self, address: Address, index: U256) -> Option<U256> {
        if let Some(s) = self.storage.get(&address) {
            if let Some(v) = s.slots.get(&index) {
                return Some(*v);
            }
            if s.wiped {
                return Some(U256::ZERO);
            }
        }
        matches!(self.accounts.get(&address), Some(None)).then_some(U256::ZERO)
    }

    /// Whether `address` was written here (its reads do not come from the base).
    pub fn wrote_account(&self, address: &Address) -> bool {
        self.accounts.contains_key(address)
    }

    /// Whether slot `index` of `address` was decided here (written, wiped, or its account
    /// removed), not read from the base.
    pub fn wrote_slot(&self, address: Address, index: U256) -> bool {
        self.written_slot(address, index).is_some()
    }

    /// The writes so far, sorted by address and slot so that storage writes are deterministic.
    pub fn changes(&self) -> StateChanges {
        let accounts: BTreeMap<_, _> = self.accounts.iter().map(|(a, i)| (*a, i.clone())).collect();
        let storage: BTreeMap<_, _> = self
            .storage
            .iter()
            .map(|(a, s)| {
                let slots: BTreeMap<_, _> = s.slots.iter().map(|(k, v)| (*k, *v)).collect();
                (*a, StorageChange { wiped: s.wiped, slots: slots.into_iter().collect() })
            })
            .collect();
        let codes: BTreeMap<_, _> =
            self.codes.iter().map(|(h, c)| (*h, c.original_bytes())).collect();
        StateChanges {
            accounts: accounts.into_iter().map(|(a, i)| (a, i.map(strip_code))).collect(),
            storage: storage.into_iter().collect(),
            codes: codes.into_iter().collect(),
        }
    }
}

fn strip_code(mut info: AccountInfo) -> AccountInfo {
    info.code = None;
    info
}

impl<DB: DatabaseRef> Database for PendingState<DB> {
    type Error = DB::Error;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        if let Some(a) = self.accounts.get(&address) {
            return Ok(a.clone());
        }
        if let Some(a) = self.read_accounts.get(&address) {
            return Ok(a.clone());
        }
        let a = self.base.basic_ref(address)?;
        self.read_accounts.insert(address, a.clone());
        Ok(a)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if let Some(c) = self.codes.get(&code_hash).or_else(|| self.read_codes.get(&code_hash)) {
            return Ok(c.clone());
        }
        // Cached: loading code from the store decodes and analyses it (jump destinations).
        let c = self.base.code_by_hash_ref(code_hash)?;
        self.read_codes.insert(code_hash, c.clone());
        Ok(c)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Self::Error> {
        if let Some(v) = self.written_slot(address, index) {
            return Ok(v);
        }
        if let Some(v) = self.read_slots.get(&(address, index)) {
            return Ok(*v);
        }
        let v = self.base.storage_ref(address, index)?;
        self.read_slots.insert((address, index), v);
        Ok(v)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        if let Some(h) = self.block_hashes.get(&number) {
            return Ok(*h);
        }
        self.base.block_hash_ref(number)
    }
}

impl<DB: DatabaseRef> DatabaseCommit for PendingState<DB> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        for (address, account) in changes {
            if !account.is_touched() {
                continue;
            }
            // Self-destructed, or touched and empty (EIP-161): the account is gone with its
            // storage.
            if account.is_selfdestructed() || account.is_empty() {
                self.accounts.insert(address, None);
                self.storage.insert(address, StorageOverlay { wiped: true, ..Default::default() });
                continue;
            }
            if account.is_created() {
                self.storage.insert(address, StorageOverlay { wiped: true, ..Default::default() });
            }
            let mut info = account.info;
            if let Some(code) = info.code.take()
                && info.code_hash != KECCAK_EMPTY
            {
                self.codes.entry(info.code_hash).or_insert(code);
            }
            self.accounts.insert(address, Some(info));
            let changed: Vec<_> = account
                .storage
                .into_iter()
                .filter(|(_, s)| s.is_changed())
                .map(|(k, s)| (k, s.present_value))
                .collect();
            if !changed.is_empty() {
                self.storage.entry(address).or_default().slots.extend(changed);
            }
        }
    }
}

impl<DB> alloy_evm::overrides::OverrideBlockHashes for PendingState<DB> {
    fn override_block_hashes(&mut self, block_hashes: std::collections::BTreeMap<u64, B256>) {
        self.block_hashes.extend(block_hashes);
    }
}

/// Read-only view of the buffered state (what tracers read as the pre-state).
impl<DB: DatabaseRef> DatabaseRef for PendingState<DB> {
    type Error = DB::Error;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        match self.accounts.get(&address) {
            Some(a) => Ok(a.clone()),
            None => self.base.basic_ref(address),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        match self.codes.get(&code_hash).or_else(|| self.read_codes.get(&code_hash)) {
            Some(c) => Ok(c.clone()),
            None => self.base.code_by_hash_ref(code_hash),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        match self.written_slot(address, index) {
            Some(v) => Ok(v),
            None => self.base.storage_ref(address, index),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        match self.block_hashes.get(&number) {
            Some(h) => Ok(*h),
            None => self.base.block_hash_ref(number),
        }
    }
}
