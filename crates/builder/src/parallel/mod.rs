//! The dependency-aware parallel builder.
//!
//! Optimistic concurrency with in-order commit, in the spirit of Block-STM:
//!
//! 1. **Groups.** Candidates predicted to depend on each other — same sender, a storage key
//!    two of them declare in their access lists, the same agent named in a call that writes its
//!    objects (Identity, Capabilities, Sessions) — are joined into a group (union-find). A
//!    group's transactions are speculated one after the other, each on top of the ones before
//!    it (a per-group overlay); different groups are speculated side by side.
//! 2. **Speculation.** Worker threads (and the committing thread when it waits) take the
//!    lowest-indexed transaction whose group predecessor is done and execute it against the
//!    state after the L1-info deposit (one read cache that all threads share) plus its group's
//!    overlay, recording every account and slot read with the value seen and whether the
//!    group's overlay supplied it.
//! 3. **Commit in block order** on the calling thread (revm's EVM is not `Send`). A speculated
//!    transaction is committed as it is when its reads still hold: a read of the block's base
//!    that no committed transaction has written since holds by construction (a set lookup);
//!    anything else is compared with the committed state. Otherwise it runs again on the
//!    committed state. A transaction not yet speculated when the commit reaches it runs there
//!    directly. The block is therefore exactly what sequential execution of the same order
//!    produces; a wrong prediction costs a re-execution, never correctness. Refused
//!    transactions are classified by the same code as the sequential builder's.
//!
//! Fee credits to the fee vaults (the sequencer fee vault is the beneficiary) are commutative:
//! a speculated transaction that did not look at a vault's balance (BALANCE, watched by the
//! EVM factory, or a vault's code running) is committed with its vault credits re-applied to
//! the committed balances, so fees are not a conflict. A key (target, selector; a plain payment
//! is keyed by its recipient) whose speculations fail often (at least 8 conflicts and half of
//! its validations) turns hot: its remaining transactions run directly at commit, and it stays
//! hot for 16 blocks. A block whose candidates are mostly under hot keys, or too small, is built
//! sequentially.

use crate::{
    BlockBuilder, BuildContext, BuilderError, ExecutedBlock, Skipped,
    sequential::{
        SequentialBuilder, deposit_txs, exec_ctx, fatal, finish_block, l1_info_tx, refused,
    },
};
use agnt2_evm::{
    BlockExecutor, EvmConfig, EvmEnv, Executor, FEE_VAULTS, OpSpecId, PendingState, ReadCache,
    TxOut, fee_vault_observed, reset_fee_vault_observed,
};
use agnt2_primitives::TxEnvelope;
use agnt2_txpool::PooledTx;
use alloy_consensus::Transaction;
use alloy_evm::Evm as _;
use alloy_primitives::{
    Address, B256, U256,
    map::{HashMap, HashSet},
};
use parking_lot::{Mutex, RwLock};
use revm::{
    Database, DatabaseCommit, DatabaseRef,
    bytecode::Bytecode,
    primitives::AddressMap,
    state::{Account, AccountInfo},
};
use std::{
    fmt::Debug,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
    },
};

/// What the executors run over.
trait StateDb: alloy_evm::Database + DatabaseCommit {}
impl<T: alloy_evm::Database + DatabaseCommit> StateDb for T {}

mod group;

use group::{Key, group, key};

/// A location a transaction read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Loc {
    Account(Address),
    Slot(Address, U256),
}

/// The value it saw there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    /// Balance, nonce, code hash (`None`: no account).
    Account(Option<(U256, u64, B256)>),
    Slot(U256),
}

fn account_val(a: &Option<AccountInfo>) -> Val {
    Val::Account(a.as_ref().map(|a| (a.balance, a.nonce, a.code_hash)))
}

/// What speculation left for the committer.
#[derive(Debug)]
struct Spec {
    /// `None`: the executor refused the transaction; the committer decides on the committed
    /// state.
    out: Option<TxOut>,
    /// What it read, and whether its group's overlay (an earlier speculation) supplied it.
    reads: Vec<(Loc, Val, bool)>,
    /// It looked at a fee vault's balance (or ran a vault's code).
    observed: bool,
}

const PENDING: u8 = 0;
const CLAIMED: u8 = 1;
const DONE: u8 = 2;
/// Executed by the committer directly (hot key), not speculated.
const DIRECT: u8 = 3;

/// How many blocks a hot key stays hot without new conflicts.
const HOT_BLOCKS: u64 = 16;
/// Conflicts of one key in a block before it can turn hot (then: at least half of its
/// speculations failed).
const HOT_MIN_CONFLICTS: u32 = 8;

/// Counters of the last build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParallelStats {
    /// Candidates in the block's input.
    pub candidates: usize,
    /// Groups they formed.
    pub groups: usize,
    /// Speculated results committed as they were.
    pub committed_speculative: usize,
    /// Speculated results that failed validation and were executed again.
    pub reexecuted: usize,
    /// Transactions executed directly at commit (hot keys, or reached before speculation).
    pub direct: usize,
    /// Whether the block was built sequentially (too few candidates, one thread).
    pub sequential: bool,
}

/// Builds blocks with `threads` threads; identical blocks to [`SequentialBuilder`].
#[derive(Debug)]
pub struct ParallelBuilder {
    sequential: SequentialBuilder,
    config: EvmConfig,
    threads: usize,
    min_txs: usize,
    /// Hot keys and the block number until which they stay hot.
    hot: Mutex<HashMap<Key, u64>>,
    stats: Mutex<ParallelStats>,
}

impl ParallelBuilder {
    /// A builder using `threads` threads, building blocks of fewer than `min_txs` candidates
    /// sequentially.
    pub fn new(config: EvmConfig, threads: usize, min_txs: usize) -> Self {
        Self {
            sequential: SequentialBuilder::new(config.clone()),
            config,
            threads: threads.max(1),
            min_txs,
            hot: Mutex::new(HashMap::default()),
            stats: Mutex::new(ParallelStats::default()),
        }
    }

    /// Counters of the last block built.
    pub fn last_stats(&self) -> ParallelStats {
        *self.stats.lock()
    }

    /// The thread count.
    pub const fn threads(&self) -> usize {
        self.threads
    }
}

/// A group's speculation state: the next position to speculate and its overlay (taken out
/// while a worker executes on it).
struct GroupState<O> {
    next: usize,
    overlay: Option<O>,
}

/// Reads through an overlay, recording what each transaction saw.
#[derive(Debug)]
struct Recorder<O> {
    overlay: Option<O>,
    reads: Vec<(Loc, Val, bool)>,
    vault_codes: Vec<B256>,
    code_observed: bool,
}

/// Speculation overlays: a group's writes over the block's base.
trait Overlay: Database {
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
    fn db(&mut self) -> &mut O {
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

impl BlockBuilder for ParallelBuilder {
    fn build<DB: DatabaseRef + Debug + Sync>(
        &self,
        db: DB,
        ctx: BuildContext,
        candidates: &[Arc<PooledTx>],
    ) -> Result<ExecutedBlock, BuilderError>
    where
        DB::Error: Send + Sync + 'static,
    {
        let hot = {
            let hot = self.hot.lock();
            let number = ctx.env.number;
            candidates
                .iter()
                .filter(|c| key(c).is_some_and(|k| hot.get(&k).is_some_and(|u| *u >= number)))
                .count()
        };
        // Mostly hot: speculation would be wasted; the sequential loop has no overhead.
        let mostly_hot = hot * 10 >= candidates.len() * 9;
        if self.threads < 2 || candidates.len() < self.min_txs.max(2) || mostly_hot {
            *self.stats.lock() = ParallelStats {
                candidates: candidates.len(),
                sequential: true,
                ..Default::default()
            };
            return self.sequential.build(db, ctx, candidates);
        }
        self.build_parallel(&db, ctx, candidates)
    }
}

impl ParallelBuilder {
    fn build_parallel<DB: DatabaseRef + Debug + Sync>(
        &self,
        db: &DB,
        ctx: BuildContext,
        cands: &[Arc<PooledTx>],
    ) -> Result<ExecutedBlock, BuilderError>
    where
        DB::Error: Send + Sync + 'static,
    {
        let env = self.config.evm_env(&ctx.env);
        let number = ctx.env.number;

        // The committed state: pre-execution changes and the L1-info deposit first. Reads of
        // the parent state go through one cache that every worker shares.
        let cache = ReadCache::new(db);
        let mut state = PendingState::new(&cache);
        let mut ex = self.config.executor(&mut state, env.clone(), exec_ctx(&ctx));
        ex.apply_pre_execution_changes().map_err(fatal)?;
        let deposit = l1_info_tx(&ctx);
        ex.execute_transaction(&deposit).map_err(fatal)?;
        let mut first = vec![(deposit.signer(), deposit.into_inner())];
        for d in deposit_txs(&ctx) {
            ex.execute_transaction(&d).map_err(fatal)?;
            first.push((d.signer(), d.into_inner()));
        }
        // Every speculation starts from the state after the deposit: seed it into the cache
        // (the committer's own overlay holds these writes, so it never reads them from below).
        let changes = ex.evm.db_mut().changes();
        // A wipe there can only be an empty account touched by the deposit (EIP-161), which
        // has no storage to hide; anything else the cache could not represent.
        let code_less = |a: &Address| {
            changes.accounts.iter().any(|(b, i)| {
                b == a && i.as_ref().is_none_or(|i| i.code_hash == revm::primitives::KECCAK_EMPTY)
            })
        };
        if changes.storage.iter().any(|(a, s)| s.wiped && !code_less(a)) {
            return Err(BuilderError::Execution("pre-execution changes wiped storage".into()));
        }
        cache.seed(&changes);
        let base = &cache;
        let vault_codes: Vec<B256> = FEE_VAULTS
            .iter()
            .filter_map(|v| cache.basic_ref(*v).ok().flatten().map(|a| a.code_hash))
            .collect();
        let vaults_watched = FEE_VAULTS.contains(&ctx.env.beneficiary);

        let (group_of, groups) = group(cands);
        let mut pos = vec![0usize; cands.len()];
        for g in &groups {
            for (p, &i) in g.iter().enumerate() {
                pos[i] = p;
            }
        }
        let hot_before: HashSet<Key> = {
            let mut hot = self.hot.lock();
            hot.retain(|_, until| *until >= number);
            hot.keys().copied().collect()
        };
        let shared = Shared {
            cands,
            group_of: &group_of,
            pos: &pos,
            members: &groups,
            groups: groups
                .iter()
                .map(|_| {
                    Mutex::new(GroupState { next: 0, overlay: Some(PendingState::new(&base)) })
                })
                .collect(),
            status: (0..cands.len()).map(|_| AtomicU8::new(PENDING)).collect(),
            specs: (0..cands.len()).map(|_| Mutex::new(None)).collect(),
            any_hot: AtomicBool::new(!hot_before.is_empty()),
            hot: RwLock::new(hot_before),
            scan_from: AtomicUsize::new(0),
            done: AtomicBool::new(false),
            vaults_watched,
        };
        let mut committer = Committer {
            ex,
            next: 0,
            gas_limit: ctx.env.gas_limit,
            txs: first,
            skipped: Vec::new(),
            error: None,
            new_hot: Vec::new(),
            tally: HashMap::default(),
            written: HashSet::default(),
            wiped: HashSet::default(),
            stats: ParallelStats {
                candidates: cands.len(),
                groups: groups.len(),
                ..Default::default()
            },
        };

        // The EVM is not `Send`: this thread owns the committed side and speculates when the
        // commit frontier waits; the others only speculate.
        std::thread::scope(|s| {
            for _ in 1..self.threads {
                s.spawn(|| {
                    self.work::<_, &mut PendingState<&ReadCache<&DB>>>(
                        &shared,
                        None,
                        &env,
                        &ctx,
                        &vault_codes,
                    )
                });
            }
            self.work(&shared, Some(&mut committer), &env, &ctx, &vault_codes);
        });

        let Committer { ex, txs, skipped, error, new_hot, stats, .. } = committer;
        if let Some(e) = error {
            return Err(e);
        }
        {
            let mut hot = self.hot.lock();
            for k in new_hot {
                hot.insert(k, number + HOT_BLOCKS);
            }
        }
        *self.stats.lock() = stats;
        finish_block(ex, ctx, txs, skipped)
    }

    /// One worker: commit what is ready (the committing thread), otherwise speculate the
    /// lowest claimable transaction.
    fn work<O: StateDb + Overlay, D: StateDb>(
        &self,
        shared: &Shared<'_, O>,
        mut committer: Option<&mut Committer<'_, D>>,
        env: &EvmEnv<OpSpecId>,
        ctx: &BuildContext,
        vault_codes: &[B256],
    ) {
        let recorder = Recorder {
            overlay: None,
            reads: Vec::new(),
            vault_codes: vault_codes.to_vec(),
            code_observed: false,
        };
        let mut ex = self.config.executor(recorder, env.clone(), exec_ctx(ctx));
        let mut idle = 0u64;
        while !shared.done.load(Ordering::Acquire) {
            if let Some(c) = committer.as_deref_mut() {
                c.advance(shared);
                if c.finished(shared.cands.len()) {
                    shared.done.store(true, Ordering::Release);
                    break;
                }
            }
            match shared.claim() {
                Some((i, overlay)) => {
                    let rec = ex.evm.db_mut();
                    rec.overlay = Some(overlay);
                    rec.reads.clear();
                    rec.code_observed = false;
                    reset_fee_vault_observed();
                    let out = ex.execute_transaction_without_commit(&shared.cands[i].tx).ok();
                    let rec = ex.evm.db_mut();
                    let mut overlay = rec.overlay.take().expect("installed above");
                    if let Some(out) = &out
                        && shared.next_in_group(i).is_some()
                    {
                        overlay.commit(out.inner.result.state.clone());
                    }
                    let spec = Spec {
                        out,
                        reads: std::mem::take(&mut rec.reads),
                        observed: rec.code_observed || fee_vault_observed(),
                    };
                    shared.finish(i, overlay, spec);
                }
                None => {
                    // Nothing to take: yield; a waiting worker (not the committing thread,
                    // whose next transaction may be ready any moment) then backs off so as not
                    // to take a core from the node's other threads (RPC) for a whole block.
                    idle += 1;
                    if idle < 64 || committer.is_some() {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(std::time::Duration::from_micros(idle.min(200)));
                    }
                    continue;
                }
            }
            idle = 0;
        }
    }
}

/// What the workers share.
struct Shared<'a, O> {
    cands: &'a [Arc<PooledTx>],
    group_of: &'a [usize],
    pos: &'a [usize],
    members: &'a [Vec<usize>],
    groups: Vec<Mutex<GroupState<O>>>,
    status: Vec<AtomicU8>,
    specs: Vec<Mutex<Option<Spec>>>,
    /// Keys whose transactions are executed at commit, not speculated.
    hot: RwLock<HashSet<Key>>,
    /// Whether `hot` has any key: lets the claim path skip the lock (shared by every thread
    /// on every scan) in the common case.
    any_hot: AtomicBool,
    /// Every transaction below this index has left PENDING.
    scan_from: AtomicUsize,
    done: AtomicBool,
    /// Whether fee credits may be treated as deltas (the beneficiary is a known vault).
    vaults_watched: bool,
}

impl<O> Shared<'_, O> {
    fn is_hot(&self, k: &Key) -> bool {
        self.any_hot.load(Ordering::Acquire) && self.hot.read().contains(k)
    }

    /// The transaction after `i` in its group, if any.
    fn next_in_group(&self, i: usize) -> Option<usize> {
        self.members[self.group_of[i]].get(self.pos[i] + 1).copied()
    }

    /// Whether a later transaction of `i`'s group may be speculated on `i`'s writes: it
    /// exists and is not under the same hot key (which the committer executes directly).
    fn overlay_needed(&self, i: usize) -> bool {
        self.next_in_group(i).is_some_and(|j| {
            let k = key(&self.cands[j]);
            k.is_none() || k != key(&self.cands[i]) || !k.is_some_and(|k| self.is_hot(&k))
        })
    }

    /// Claims the lowest-indexed pending transaction whose group predecessor is done, taking
    /// its group's overlay; transactions under hot keys are left for the committer.
    fn claim(&self) -> Option<(usize, O)> {
        let n = self.cands.len();
        let mut i = self.scan_from.load(Ordering::Acquire);
        let mut all_below_taken = true;
        while i < n {
            if self.status[i].load(Ordering::Acquire) == PENDING {
                let is_hot = key(&self.cands[i]).is_some_and(|k| self.is_hot(&k));
                if is_hot {
                    let _ = self.status[i].compare_exchange(
                        PENDING,
                        DIRECT,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                } else if let Some(mut g) = self.groups[self.group_of[i]].try_lock() {
                    if g.next == self.pos[i]
                        && g.overlay.is_some()
                        && self.status[i]
                            .compare_exchange(PENDING, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok()
                    {
                        return g.overlay.take().map(|o| (i, o));
                    }
                    all_below_taken = false;
                } else {
                    all_below_taken = false;
                }
            }
            if all_below_taken {
                self.scan_from.store(i + 1, Ordering::Release);
            }
            i += 1;
        }
        None
    }

    /// Publishes a speculated transaction and hands its group on.
    fn finish(&self, i: usize, overlay: O, spec: Spec) {
        *self.specs[i].lock() = Some(spec);
        let mut g = self.groups[self.group_of[i]].lock();
        g.overlay = Some(overlay);
        g.next = self.pos[i] + 1;
        self.status[i].store(DONE, Ordering::Release);
    }
}

/// The committed side: the block executor and the block so far.
struct Committer<'a, D: StateDb> {
    ex: Executor<'a, D>,
    next: usize,
    gas_limit: u64,
    txs: Vec<(Address, TxEnvelope)>,
    skipped: Vec<Skipped>,
    error: Option<BuilderError>,
    new_hot: Vec<Key>,
    /// Per key: speculated results validated, and how many failed.
    tally: HashMap<Key, (u32, u32)>,
    /// Locations committed transactions of this block wrote: a speculated read elsewhere saw
    /// the block's base state, which is still current, so only reads of these are compared.
    written: HashSet<Loc>,
    /// Accounts whose storage a committed transaction wiped or created.
    wiped: HashSet<Address>,
    stats: ParallelStats,
}

impl<D: StateDb> Committer<'_, D> {
    fn finished(&self, n: usize) -> bool {
        self.next >= n || self.error.is_some()
    }

    fn gas_used(&self) -> u64 {
        self.ex.receipts().last().map(alloy_consensus::TxReceipt::cumulative_gas_used).unwrap_or(0)
    }

    /// Commits transactions in order while their outcome is known.
    fn advance<O: DatabaseCommit>(&mut self, shared: &Shared<'_, O>) {
        let n = shared.cands.len();
        while self.next < n && self.error.is_none() {
            let i = self.next;
            let cand = &shared.cands[i];
            let gas_used = self.gas_used();
            if self.gas_limit.saturating_sub(gas_used) < 21_000 {
                self.next = n;
                return;
            }
            match shared.status[i].load(Ordering::Acquire) {
                CLAIMED => return,
                PENDING => {
                    // Not speculated yet and its group's turn: execute it here.
                    let g = shared.groups[shared.group_of[i]].lock();
                    if g.next != shared.pos[i]
                        || g.overlay.is_none()
                        || shared.status[i]
                            .compare_exchange(PENDING, DIRECT, Ordering::AcqRel, Ordering::Acquire)
                            .is_err()
                    {
                        return;
                    }
                    drop(g);
                }
                _ => {}
            }
            self.next += 1;
            if cand.tx.gas_limit() > self.gas_limit - gas_used {
                self.skipped.push(Skipped::Deferred(cand.hash));
                self.release_group(shared, i, None);
                continue;
            }
            let spec = shared.specs[i].lock().take();
            let accepted = match spec {
                Some(spec) => self.accept(spec, shared.vaults_watched),
                None => None,
            };
            if let (Some(result), Some(k)) = (&accepted, key(cand)) {
                let t = self.tally.entry(k).or_default();
                t.0 += 1;
                if result.is_err() {
                    t.1 += 1;
                    // Hot once conflicts are frequent, not on the first one: a token's
                    // transfers conflict now and then and still gain from speculation.
                    if t.1 >= HOT_MIN_CONFLICTS && t.1 * 2 >= t.0 && shared.hot.write().insert(k) {
                        shared.any_hot.store(true, Ordering::Release);
                        self.new_hot.push(k);
                    }
                }
            }
            match accepted {
                Some(Ok(out)) => {
                    self.stats.committed_speculative += 1;
                    self.note_writes(&out.inner.result.state);
                    if let Err(e) = self.ex.commit_transaction(out) {
                        self.error = Some(fatal(e));
                        return;
                    }
                    self.txs.push((cand.sender(), cand.tx.inner().clone()));
                    self.release_group(shared, i, None);
                }
                other => {
                    if other.is_some() {
                        self.stats.reexecuted += 1;
                    } else {
                        self.stats.direct += 1;
                    }
                    match self.ex.execute_transaction_without_commit(&cand.tx) {
                        Ok(out) => {
                            let state =
                                shared.overlay_needed(i).then(|| out.inner.result.state.clone());
                            self.note_writes(&out.inner.result.state);
                            if let Err(e) = self.ex.commit_transaction(out) {
                                self.error = Some(fatal(e));
                                return;
                            }
                            self.txs.push((cand.sender(), cand.tx.inner().clone()));
                            self.release_group(shared, i, state);
                        }
                        Err(e) => match refused(cand, e) {
                            Ok(s) => {
                                self.skipped.push(s);
                                self.release_group(shared, i, None);
                            }
                            Err(e) => {
                                self.error = Some(e);
                                return;
                            }
                        },
                    }
                }
            }
        }
    }

    /// Records what a transaction about to be committed writes.
    fn note_writes(&mut self, state: &AddressMap<Account>) {
        for (address, account) in state {
            if !account.is_touched() {
                continue;
            }
            self.written.insert(Loc::Account(*address));
            if account.is_created() || account.is_selfdestructed() || account.is_empty() {
                self.wiped.insert(*address);
            }
            for (k, slot) in &account.storage {
                if slot.is_changed() {
                    self.written.insert(Loc::Slot(*address, *k));
                }
            }
        }
    }

    /// After the committer executed (or skipped) transaction `i` itself, its group moves on;
    /// the committed writes go into the group's overlay when it is free, so that the group's
    /// next speculations read them.
    fn release_group<O: DatabaseCommit>(
        &self,
        shared: &Shared<'_, O>,
        i: usize,
        state: Option<AddressMap<Account>>,
    ) {
        let status = shared.status[i].load(Ordering::Acquire);
        let mut g = shared.groups[shared.group_of[i]].lock();
        if let (Some(state), Some(o)) = (state, g.overlay.as_mut()) {
            o.commit(state);
        }
        if status == DIRECT && g.next == shared.pos[i] {
            g.next += 1;
        }
    }

    /// The speculated result if its reads still hold in the committed state (fee credits
    /// re-applied to the committed vault balances); `Some(Err)` if it must run again; `None`
    /// if speculation left nothing (the executor refused it).
    fn accept(&mut self, spec: Spec, vaults_watched: bool) -> Option<Result<TxOut, ()>> {
        let mut out = spec.out?;
        // The DA footprint limit is checked against the block so far (the speculating executor
        // had an empty block): past it, the committing executor refuses it properly.
        if out.inner.blob_gas_used > self.gas_limit.saturating_sub(self.ex.da_footprint_used) {
            return Some(Err(()));
        }
        let deltas = vaults_watched && !spec.observed;
        let mut vault_seen: Vec<(Address, U256)> = Vec::new();
        let db = alloy_evm::Evm::db_mut(&mut self.ex.evm);
        for (loc, seen, own) in &spec.reads {
            match (loc, seen) {
                (Loc::Account(a), Val::Account(v)) if deltas && FEE_VAULTS.contains(a) => {
                    vault_seen.push((*a, v.map(|v| v.0).unwrap_or_default()));
                }
                // Read from the block's base and nothing committed wrote it since: current.
                (Loc::Account(a) | Loc::Slot(a, _), _)
                    if !own && !self.written.contains(loc) && !self.wiped.contains(a) => {}
                (Loc::Account(a), _) => match db.basic(*a) {
                    Ok(now) if account_val(&now) == *seen => {}
                    _ => return Some(Err(())),
                },
                (Loc::Slot(a, k), Val::Slot(v)) => match db.storage(*a, *k) {
                    Ok(now) if now == *v => {}
                    _ => return Some(Err(())),
                },
                _ => return Some(Err(())),
            }
        }
        for (vault, seen) in vault_seen {
            let Ok(now) = db.basic(vault) else { return Some(Err(())) };
            let now = now.map(|a| a.balance).unwrap_or_default();
            if let Some(acc) = out.inner.result.state.get_mut(&vault) {
                let Some(delta) = acc.info.balance.checked_sub(seen) else {
                    return Some(Err(()));
                };
                acc.info.balance = now + delta;
            }
        }
        Some(Ok(out))
    }
}
