use crate::{
    BlockWriter, StoreReader,
    error::StorageResult,
    tables::{self, ALL},
};
use signet_libmdbx::{DatabaseFlags, Environment, Geometry, SyncMode, tx::Database};
use std::{path::Path, sync::Arc};

/// Handles of every table, opened once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tables {
    pub(crate) headers: Database,
    pub(crate) canonical: Database,
    pub(crate) header_numbers: Database,
    pub(crate) transactions: Database,
    pub(crate) tx_lookup: Database,
    pub(crate) receipts: Database,
    pub(crate) accounts: Database,
    pub(crate) storage: Database,
    pub(crate) bytecodes: Database,
    pub(crate) account_changesets: Database,
    pub(crate) storage_changesets: Database,
    pub(crate) account_history: Database,
    pub(crate) storage_history: Database,
    pub(crate) hashed_accounts: Database,
    pub(crate) hashed_storage: Database,
    pub(crate) accounts_trie: Database,
    pub(crate) storages_trie: Database,
    pub(crate) interaction_roots: Database,
    pub(crate) metadata: Database,
}

/// Size of one table, for `agnt2 db stats`.
#[derive(Debug, Clone)]
pub struct StoreStats {
    /// Table name.
    pub table: &'static str,
    /// Number of entries.
    pub entries: usize,
    /// Bytes in pages (branch + leaf + overflow).
    pub bytes: usize,
}

/// The MDBX database of a node.
#[derive(Debug, Clone)]
pub struct Store {
    env: Environment,
    tables: Tables,
}

impl Store {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> StorageResult<Arc<Self>> {
        std::fs::create_dir_all(dir)?;
        let mut builder = Environment::builder();
        builder
            .set_max_dbs(ALL.len() + 4)
            .set_geometry(Geometry {
                size: Some(0..(1usize << 40)),
                growth_step: Some(1 << 26),
                shrink_threshold: None,
                page_size: None,
            })
            .set_max_readers(256);
        // Every commit is durable: a block is on disk before its receipt is served.
        let flags = signet_libmdbx::EnvironmentFlags {
            mode: signet_libmdbx::Mode::ReadWrite { sync_mode: SyncMode::Durable },
            ..Default::default()
        };
        builder.set_flags(flags);
        let env = builder.open(dir)?;
        let tx = env.begin_rw_sync()?;
        let mut dbs = Vec::with_capacity(ALL.len());
        for name in ALL {
            dbs.push(tx.create_db(Some(name), DatabaseFlags::empty())?);
        }
        tx.commit()?;
        let t = |name: &str| dbs[ALL.iter().position(|n| *n == name).expect("known table")];
        let tables = Tables {
            headers: t(tables::HEADERS),
            canonical: t(tables::CANONICAL_HASHES),
            header_numbers: t(tables::HEADER_NUMBERS),
            transactions: t(tables::TRANSACTIONS),
            tx_lookup: t(tables::TX_LOOKUP),
            receipts: t(tables::RECEIPTS),
            accounts: t(tables::PLAIN_ACCOUNTS),
            storage: t(tables::PLAIN_STORAGE),
            bytecodes: t(tables::BYTECODES),
            account_changesets: t(tables::ACCOUNT_CHANGESETS),
            storage_changesets: t(tables::STORAGE_CHANGESETS),
            account_history: t(tables::ACCOUNT_HISTORY),
            storage_history: t(tables::STORAGE_HISTORY),
            hashed_accounts: t(tables::HASHED_ACCOUNTS),
            hashed_storage: t(tables::HASHED_STORAGE),
            accounts_trie: t(tables::ACCOUNTS_TRIE),
            storages_trie: t(tables::STORAGES_TRIE),
            interaction_roots: t(tables::INTERACTION_ROOTS),
            metadata: t(tables::METADATA),
        };
        Ok(Arc::new(Self { env, tables }))
    }

    /// A consistent read-only view of the database.
    pub fn reader(&self) -> StorageResult<StoreReader> {
        Ok(StoreReader::new(self.env.begin_ro_sync()?, self.tables))
    }

    /// Starts writing a block; nothing is visible until [`BlockWriter::commit`].
    pub fn writer(&self) -> StorageResult<BlockWriter> {
        Ok(BlockWriter::new(self.env.begin_rw_sync()?, self.tables))
    }

    /// Entries and bytes per table.
    pub fn stats(&self) -> StorageResult<Vec<StoreStats>> {
        let tx = self.env.begin_ro_sync()?;
        let mut out = Vec::new();
        for name in ALL {
            let db = tx.open_db(Some(name))?;
            let s = tx.db_stat(&db)?;
            let pages = s.branch_pages() + s.leaf_pages() + s.overflow_pages();
            out.push(StoreStats {
                table: name,
                entries: s.entries(),
                bytes: pages * s.page_size() as usize,
            });
        }
        Ok(out)
    }
}
