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
    BlockBuilder, BuildContext, BuilderError, ExecutedBlock,
    sequential::{SequentialBuilder, deposit_txs, exec_ctx, fatal, finish_block, l1_info_tx},
};
use agnt2_evm::{
    BlockExecutor, EvmConfig, EvmEnv, FEE_VAULTS, OpSpecId, PendingState, ReadCache,
    fee_vault_observed, reset_fee_vault_observed,
};
use agnt2_txpool::PooledTx;
use alloy_evm::Evm as _;
use alloy_primitives::{
    Address, B256,
    map::{HashMap, HashSet},
};
use parking_lot::{Mutex, RwLock};
use revm::{DatabaseCommit, DatabaseRef};
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

mod commit;
mod group;
mod record;
mod shared;

use commit::Committer;
use group::{Key, group, key};
use record::{Overlay, Recorder, Spec};
use shared::{GroupState, PENDING, Shared};

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
