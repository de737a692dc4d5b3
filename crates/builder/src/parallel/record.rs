//! What speculation records: the locations a transaction read and the values it saw, through
//! a recording view of its group's overlay, and the result it leaves for the committer.

use agnt2_evm::{PendingState, TxOut};
use alloy_primitives::{Address, B256, U256};
use revm::{
    Database, DatabaseCommit, DatabaseRef,
    bytecode::Bytecode,
    primitives::AddressMap,
    state::{Account, AccountInfo},
};
use std::fmt::Debug;

/// A location a transaction read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Loc {
    Account(Address),
    Slot(Address, U256),
}

/// The value it saw there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Val {
    /// Balance, nonce, code hash (`None`: no account).
    Account(Option<(U256, u64, B256)>),
    Slot(U256),
}

pub(super) fn account_val(a: &Option<AccountInfo>) -> Val {
    Val::Account(a.as_ref().map(|a| (a.balance, a.nonce, a.code_hash)))
}

/// What speculation left for the committer.
#[derive(Debug)]
pub(super) struct Spec {
    /// `None`: the executor refused the transaction; the committer decides on the committed
    /// state.
    pub(super) out: Option<TxOut>,
    /// What it read, and whether its group's overlay (an earlier speculation) supplied it.
    pub(super) reads: Vec<(Loc, Val, bool)>,
    /// It looked at a fee vault's balance (or ran a vault's code).
    pub(super) observed: bool,
}

/// Reads through an overlay, recording what each transaction saw.
#[derive(Debug)]
pub(super) struct Recorder<O> {
    pub(super) overlay: Option<O>,
    pub(super) reads: Vec<(Loc, Val, bool)>,
    pub(super) vault_codes: Vec<B256>,
    pub(super) code_observed: bool,
}

/// Speculation overlays: a group's writes over the block's base.
pub(super) trait Overlay: Database {
    fn wrote_account(&self, address: &Address) -> bool;
    fn wrote_slot(&self, address: Address, index: U256) -> bool;
}

impl<DB: DatabaseRef> Overlay for PendingState<DB> {
    fn wrote_account(&self, address: &Address) -> bool {
        Self::wrote_account(self, address)
    }
    fn wrote_slot(&self, address: Address, index: U256) -> bool {
        Self::wrote_slot(self, address, index)
    }
}

impl<O: Overlay> Recorder<O> {
    pub(super) fn db(&mut self) -> &mut O {
        self.overlay.as_mut().expect("a group overlay is installed while executing")
    }
}

impl<O: Overlay> Database for Recorder<O> {
    type Error = O::Error;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let db = self.db();
        let own = db.wrote_account(&address);
        let a = db.basic(address)?;
        self.reads.push((Loc::Account(address), account_val(&a), own));
        Ok(a)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if self.vault_codes.contains(&code_hash) {
            self.code_observed = true;
        }
        self.db().code_by_hash(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Self::Error> {
        let db = self.db();
        let own = db.wrote_slot(address, index);
        let v = db.storage(address, index)?;
        self.reads.push((Loc::Slot(address, index), Val::Slot(v), own));
        Ok(v)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.db().block_hash(number)
    }
}

impl<O: Overlay + DatabaseCommit> DatabaseCommit for Recorder<O> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        if let Some(o) = self.overlay.as_mut() {
            o.commit(changes);
        }
    }
}
