//! A read cache over a state that many threads share (the parallel builder's speculation
//! reads the block's base state from every worker).

use agnt2_primitives::StateChanges;
use alloy_primitives::{Address, B256, U256, map::HashMap};
use parking_lot::RwLock;
use revm::{DatabaseRef, bytecode::Bytecode, state::AccountInfo};

const SHARDS: usize = 16;

/// Caches accounts, slots and code read from `base`, in shards behind read-write locks so that
/// concurrent readers rarely wait. The base must not change while the cache lives.
#[derive(Debug)]
pub struct ReadCache<DB> {
    base: DB,
    accounts: [RwLock<HashMap<Address, Option<AccountInfo>>>; SHARDS],
    slots: [RwLock<HashMap<(Address, U256), U256>>; SHARDS],
    codes: RwLock<HashMap<B256, Bytecode>>,
}

fn shard(a: &Address) -> usize {
    (a.0[19] as usize) % SHARDS
}

impl<DB> ReadCache<DB> {
    /// An empty cache over `base`.
    pub fn new(base: DB) -> Self {
        Self {
            base,
            accounts: Default::default(),
            slots: Default::default(),
            codes: RwLock::default(),
        }
    }
}

impl<DB> ReadCache<DB> {
    /// Records `changes` as the base's values (the pre-execution changes and the L1-info
    /// deposit of a block, which every speculation starts from).
    pub fn seed(&self, changes: &StateChanges) {
        for (address, info) in &changes.accounts {
            self.accounts[shard(address)].write().insert(*address, info.clone());
        }
        for (address, change) in &changes.storage {
            for (k, v) in &change.slots {
                self.slots[slot_shard(address, k)].write().insert((*address, *k), *v);
            }
        }
        for (hash, code) in &changes.codes {
            self.codes.write().insert(*hash, Bytecode::new_raw(code.clone()));
        }
    }
}

fn slot_shard(a: &Address, k: &U256) -> usize {
    shard(a) ^ (k.as_limbs()[0] as usize % SHARDS)
}

impl<DB: DatabaseRef> DatabaseRef for ReadCache<DB> {
    type Error = DB::Error;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let s = &self.accounts[shard(&address)];
        if let Some(a) = s.read().get(&address) {
            return Ok(a.clone());
        }
        let a = self.base.basic_ref(address)?;
        s.write().insert(address, a.clone());
        Ok(a)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if let Some(c) = self.codes.read().get(&code_hash) {
            return Ok(c.clone());
        }
        let c = self.base.code_by_hash_ref(code_hash)?;
        self.codes.write().insert(code_hash, c.clone());
        Ok(c)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        let s = &self.slots[slot_shard(&address, &index)];
        if let Some(v) = s.read().get(&(address, index)) {
            return Ok(*v);
        }
        let v = self.base.storage_ref(address, index)?;
        s.write().insert((address, index), v);
        Ok(v)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.base.block_hash_ref(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agnt2_primitives::StorageChange;
    use std::{
        convert::Infallible,
        sync::atomic::{AtomicUsize, Ordering},
    };

    /// A base that answers `slot + 1` and counts its reads.
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    impl DatabaseRef for Counting {
        type Error = Infallible;
        fn basic_ref(&self, _: Address) -> Result<Option<AccountInfo>, Infallible> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(Some(AccountInfo { nonce: 7, ..Default::default() }))
        }
        fn code_by_hash_ref(&self, _: B256) -> Result<Bytecode, Infallible> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(Bytecode::default())
        }
        fn storage_ref(&self, _: Address, index: U256) -> Result<U256, Infallible> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(index + U256::from(1))
        }
        fn block_hash_ref(&self, _: u64) -> Result<B256, Infallible> {
            Ok(B256::ZERO)
        }
    }

    #[test]
    fn reads_once_per_location_across_threads_and_seeds_win() {
        let cache = ReadCache::new(Counting::default());
        let a = Address::with_last_byte(1);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..100u64 {
                        assert_eq!(cache.storage_ref(a, U256::from(i)).unwrap(), U256::from(i + 1));
                        assert_eq!(cache.basic_ref(a).unwrap().unwrap().nonce, 7);
                    }
                });
            }
        });
        // Racing threads may both miss once; never more than once per thread per location.
        let reads = cache.base.0.load(Ordering::Relaxed);
        assert!((101..=404).contains(&reads), "{reads}");
        let changes = StateChanges {
            accounts: vec![(a, Some(AccountInfo { nonce: 9, ..Default::default() }))],
            storage: vec![(
                a,
                StorageChange { wiped: false, slots: vec![(U256::from(3), U256::from(42))] },
            )],
            codes: vec![],
        };
        cache.seed(&changes);
        assert_eq!(cache.basic_ref(a).unwrap().unwrap().nonce, 9);
        assert_eq!(cache.storage_ref(a, U256::from(3)).unwrap(), U256::from(42));
        assert_eq!(cache.storage_ref(a, U256::from(4)).unwrap(), U256::from(5));
    }
}
