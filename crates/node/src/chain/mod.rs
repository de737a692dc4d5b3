pub(crate) mod block_sigs;
use crate::{
    MiningMode,
    genesis::{genesis_changes, genesis_state_root},
};
use agnt2_builder::{
    BlockBuilder, BuildContext, ExecutedBlock, ParallelBuilder, ParallelStats, Skipped, seal,
};
use agnt2_evm::{BlockEnvInput, EvmConfig};
use agnt2_primitives::{
    ChainSpec, L1BlockAttributes,
    constants::{L1_BLOCK, L2_TO_L1_MESSAGE_PASSER, SEQUENCER_FEE_VAULT},
    dev_signers,
};
use agnt2_rpc::{ChainApi, Head, NewBlock};
use agnt2_storage::{StateChanges, Store, StoreReader};
use agnt2_txpool::{Pool, PoolConfig, PooledTx};
use alloy_primitives::{Address, B256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail};
use parking_lot::{Mutex, RwLock};
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering},
    },
    time::{Instant, SystemTime, UNIX_EPOCH},
};
use tokio::sync::{Notify, broadcast};
use tracing::{debug, info};

mod api;
mod dev;

/// Blocks with fewer candidates are built sequentially: below this, thread start-up and
/// validation cost more than they save (see BENCHMARKS.md).
pub const PARALLEL_MIN_TXS: usize = 64;

/// A block built and not committed ([`Chain::dry_run`]).
#[derive(Debug)]
pub struct DryRun {
    /// The executed block.
    pub block: ExecutedBlock,
    /// Time the builder took (execution only: no state root, no commit).
    pub elapsed: std::time::Duration,
    /// The state root the block would have.
    pub state_root: B256,
}

/// The node's chain: storage, pool, builder and head, shared by the miner and the RPC server.
#[derive(Debug)]
pub struct Chain {
    me: std::sync::Weak<Self>,
    spec: Arc<ChainSpec>,
    evm: EvmConfig,
    builder: ParallelBuilder,
    store: Arc<Store>,
    pool: Pool,
    head: RwLock<Head>,
    events: broadcast::Sender<NewBlock>,
    pending: broadcast::Sender<B256>,
    signers: Vec<PrivateKeySigner>,
    /// Wakes the miner (instant mode) when a transaction arrives.
    pub(crate) wake: Notify,
    build_lock: Mutex<()>,
    mining: RwLock<MiningMode>,
    /// Wakes the miner when the mining mode changes.
    pub(crate) mode_changed: Notify,
    snapshots: Mutex<BTreeMap<u64, u64>>,
    next_snapshot: AtomicU64,
    impersonated: RwLock<HashSet<Address>>,
    auto_impersonate: AtomicBool,
    /// Seconds the devnet's clock runs ahead of (or behind) the wall clock: `evm_increaseTime`
    /// adds to it; a block mined at an exact `evm_setNextBlockTimestamp` resets it, so time
    /// continues from there (as in anvil and hardhat).
    time_offset: AtomicI64,
    /// Overrides for the next block only.
    next_timestamp: Mutex<Option<u64>>,
    /// The sequencer's signatures of the blocks it builds (none: it does not sign).
    block_sigs: std::sync::OnceLock<Mutex<block_sigs::BlockSigs>>,
    next_base_fee_override: Mutex<Option<u64>>,
    metrics: crate::metrics::ChainMetrics,
    /// State history window in blocks (`--history`).
    history: Option<u64>,
    /// L1 origins to adopt, when following an L1.
    l1: std::sync::OnceLock<Arc<crate::L1Inbox>>,
    /// The rollup configuration (`optimism_rollupConfig`), when settling on an L1.
    rollup_config: std::sync::OnceLock<serde_json::Value>,
    /// A rollup's block time: block `n + 1` is exactly this many seconds after block `n`, and
    /// the miner produces one per slot, empty or not (what derivation from L1 requires).
    block_time: std::sync::OnceLock<u64>,
    /// The sequencing window in L1 blocks (settling only).
    seq_window: std::sync::OnceLock<u64>,
    /// A follower's sequencer, which raw transactions are forwarded to.
    sequencer: std::sync::OnceLock<agnt2_client::Client>,
    /// It derives its blocks from the L1 and mines none.
    follower: AtomicBool,
    /// DA throttling's caps on what a block takes from the pool.
    da_limits: crate::throttle::DaLimits,
}

/// How a [`Chain`] runs.
#[derive(Debug, Clone, Copy)]
pub struct ChainConfig {
    /// How blocks are produced.
    pub mining: MiningMode,
    /// Keep state history for this many blocks (none: all).
    pub history: Option<u64>,
    /// Threads of the block builder (1: sequential).
    pub builder_threads: usize,
    /// Devnet mode: the node holds the 20 dev keys (signing, impersonation).
    pub dev: bool,
    /// Pool limits (`None`: the mode's defaults, [`PoolConfig::dev`] or
    /// [`PoolConfig::production`]).
    pub pool: Option<PoolConfig>,
}

impl ChainConfig {
    /// A devnet with the defaults: manual mining, all history, one builder thread.
    pub const fn dev() -> Self {
        Self {
            mining: MiningMode::Manual,
            history: None,
            builder_threads: 1,
            dev: true,
            pool: None,
        }
    }
}

impl Chain {
    /// Opens `<datadir>/db`, writing genesis on first start and checking on later starts that
    /// the datadir holds this chain.
    pub fn open(
        spec: Arc<ChainSpec>,
        datadir: &Path,
        config: ChainConfig,
    ) -> eyre::Result<Arc<Self>> {
        let ChainConfig { mining, history, builder_threads, dev, pool } = config;
        let store = Store::open(&datadir.join("db"))
            .wrap_err_with(|| format!("cannot open database in {}", datadir.display()))?;
        let head = match store.reader()?.head()? {
            Some(n) => load_head(&store.reader()?, n)?,
            None => write_genesis(&store, &spec)?,
        };
        let genesis_root = store
            .reader()?
            .header(0)?
            .ok_or_else(|| eyre::eyre!("datadir has no genesis block"))?
            .state_root;
        let expected = genesis_state_root(&spec);
        if genesis_root != expected {
            bail!(
                "the datadir holds another chain (genesis state root {genesis_root}, this chain's is \
                 {expected}); use another --datadir"
            );
        }
        info!(target: "node", number = head.number, hash = %head.hash, "opened chain");
        let evm = EvmConfig::new(spec.clone());
        let pool = Pool::new(pool.unwrap_or_else(|| {
            if dev {
                PoolConfig::dev(spec.chain_id(), spec.gas_limit())
            } else {
                PoolConfig::production(spec.chain_id(), spec.gas_limit())
            }
        }));
        Ok(Arc::new_cyclic(|me| Self {
            me: me.clone(),
            builder: ParallelBuilder::new(evm.clone(), builder_threads, PARALLEL_MIN_TXS),
            evm,
            spec,
            store,
            pool,
            head: RwLock::new(head),
            events: broadcast::channel(4096).0,
            pending: broadcast::channel(65536).0,
            signers: if dev { dev_signers(20) } else { Vec::new() },
            wake: Notify::new(),
            build_lock: Mutex::new(()),
            mining: RwLock::new(mining),
            mode_changed: Notify::new(),
            snapshots: Mutex::new(BTreeMap::new()),
            next_snapshot: AtomicU64::new(1),
            impersonated: RwLock::new(HashSet::new()),
            auto_impersonate: AtomicBool::new(false),
            time_offset: AtomicI64::new(0),
            next_timestamp: Mutex::new(None),
            block_sigs: std::sync::OnceLock::new(),
            next_base_fee_override: Mutex::new(None),
            metrics: Default::default(),
            history,
            l1: std::sync::OnceLock::new(),
            rollup_config: std::sync::OnceLock::new(),
            block_time: std::sync::OnceLock::new(),
            seq_window: std::sync::OnceLock::new(),
            sequencer: std::sync::OnceLock::new(),
            follower: AtomicBool::new(false),
            da_limits: Default::default(),
        }))
    }

    /// Builds, commits and announces one block from what the pool holds. Returns the new head
    /// number and how many pool transactions it included.
    pub fn mine_block(&self) -> eyre::Result<(u64, usize)> {
        let _guard = self.build_lock.lock();
        let head = self.head();
        let timestamp = self.next_timestamp.lock().take();
        if let Some(t) = timestamp {
            let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            self.time_offset.store(t as i64 - wall as i64, Ordering::Relaxed);
        }
        let base_fee = self.next_base_fee_override.lock().take();
        let ctx = self.build_context(&head, timestamp, base_fee)?;
        let adopts = self.l1.get().is_some() && ctx.sequence_number == 0;
        let candidates = if self.past_safe_margin(&ctx) {
            // Its batch could not land within the window: the L1 will force this block empty,
            // so it is built empty (and stays the block derivation finds).
            Vec::new()
        } else {
            let (kept, held) = self.da_limits.apply(self.pool.best(ctx.env.base_fee));
            self.metrics.throttle.held.increment(held as u64);
            kept
        };
        let (number, included, hash) = self.build_and_commit(ctx, &candidates, adopts)?;
        if let Some(sigs) = self.block_sigs.get() {
            sigs.lock().sign(number, hash)?;
        }
        Ok((number, included))
    }

    /// Whether a block on `ctx`'s L1 origin is too close to the end of its sequencing window
    /// for a batch to land in time: its origin is within the sub-safety margin (op-batcher's
    /// `--sub-safety-margin`, 10 L1 blocks, at most half the window) of the window's end,
    /// measured from the newest L1 block seen. After an outage this is what the L1 will force;
    /// otherwise never (the origin follows the L1 head).
    fn past_safe_margin(&self, ctx: &BuildContext) -> bool {
        let (Some(inbox), Some(&window)) = (self.l1.get(), self.seq_window.get()) else {
            return false;
        };
        let margin = SUB_SAFETY_MARGIN.min(window / 2);
        ctx.l1.number + window < inbox.newest() + margin
    }

    /// Signs every block this node builds from now on with `key` (the unsafe-block signer a
    /// sequencer duty names); the newest 65,536 signatures are served.
    pub fn set_block_signer(&self, key: PrivateKeySigner) {
        let sigs = block_sigs::BlockSigs::new(key, self.spec.chain_id(), block_sigs::KEPT);
        let _ = self.block_sigs.set(Mutex::new(sigs));
    }

    /// The signature of block `hash`, if this node built and signed it: height, signer, the
    /// 65-byte signature.
    pub fn block_signature(&self, hash: &B256) -> Option<(u64, Address, alloy_primitives::Bytes)> {
        let sigs = self.block_sigs.get()?.lock();
        sigs.get(hash).map(|(h, s)| (h, sigs.signer(), s))
    }

    /// Sets the sequencing window (L1 blocks) the miner keeps its batches within.
    pub fn set_seq_window(&self, blocks: u64) {
        let _ = self.seq_window.set(blocks);
    }

    /// Builds, commits and announces the block a derived batch describes on top of block
    /// `parent`: at `timestamp`, on L1 origin `l1` (`sequence_number` 0 starts its epoch, with
    /// its `deposits`), with exactly `txs` in this order. Returns the block's number and hash.
    ///
    /// Blocks above `parent` are unsafe blocks the L1 decided against (the sequencer's own,
    /// replaced): they are unwound first and their transactions offered to the pool again. On
    /// a sequencer the queued L1 epochs are dropped and the L1 follower resynchronises from the
    /// new head's origin, so the miner neither adopts an epoch twice nor skips one.
    pub fn derive_block(
        &self,
        parent: u64,
        timestamp: u64,
        l1: L1BlockAttributes,
        sequence_number: u64,
        deposits: Vec<op_alloy_consensus::TxDeposit>,
        txs: Vec<Arc<agnt2_txpool::PooledTx>>,
    ) -> eyre::Result<(u64, B256)> {
        let _guard = self.build_lock.lock();
        let offered = if self.head().number > parent {
            info!(target: "node", from = self.head().number, to = parent, "the L1 decided against unsafe blocks: unwinding");
            self.unwind_offering_txs(parent)?
        } else {
            Unwound::default()
        };
        eyre::ensure!(self.head().number == parent, "a derived block on {parent} above the head");
        let head = self.head();
        let mut ctx = self.build_context(&head, Some(timestamp), None)?;
        eyre::ensure!(
            ctx.env.timestamp == timestamp,
            "a derived block at {timestamp} after a parent at {}",
            head.header.timestamp
        );
        ctx.l1 = l1;
        ctx.sequence_number = sequence_number;
        ctx.deposits = deposits;
        let (number, _, hash) = self.build_and_commit(ctx, &txs, false)?;
        if let Some(inbox) = self.l1.get() {
            inbox.resync();
        }
        self.offer_again(offered);
        Ok((number, hash))
    }

    fn build_and_commit(
        &self,
        ctx: BuildContext,
        candidates: &[Arc<agnt2_txpool::PooledTx>],
        adopts: bool,
    ) -> eyre::Result<(u64, usize, B256)> {
        let started = Instant::now();
        let number = ctx.env.number;
        let executed = {
            let reader = self.store.reader()?;
            self.builder.build(reader.state(None), ctx, candidates)?
        };
        let mut w = self.store.writer()?;
        w.apply_state(number, &executed.changes)?;
        let state_root = w.state_root()?;
        let mp_root = w.storage_root(&L2_TO_L1_MESSAGE_PASSER)?;
        let interaction_root = w.storage_root(&agnt2_agent::AGENT_STATE)?;
        w.put_interaction_root(number, interaction_root)?;
        let (header, hash) = seal(&executed, state_root, mp_root);
        w.insert_block(&header, hash, &executed.txs, &executed.receipts)?;
        if let Some(window) = self.history
            && number > window
        {
            w.prune_history(number - window)?;
        }
        w.commit()?;
        if adopts && let Some(inbox) = self.l1.get() {
            inbox.adopted();
        }

        // The block is durable: move the head, then tell the pool and the clients.
        let tx_hashes: Vec<B256> = executed.txs.iter().map(|(_, t)| t.tx_hash()).collect();
        *self.head.write() = Head { number, hash, header };
        let invalid: Vec<B256> = executed
            .skipped
            .iter()
            .filter_map(|s| match s {
                Skipped::Invalid { hash, reason } => {
                    debug!(target: "node::miner", %hash, %reason, "dropping invalid transaction");
                    Some(*hash)
                }
                Skipped::Deferred(_) => None,
            })
            .collect();
        self.pool.remove(&invalid);
        let new_nonces: HashMap<_, _> = executed
            .changes
            .accounts
            .iter()
            .map(|(a, i)| (*a, i.as_ref().map(|i| i.nonce).unwrap_or_default()))
            .collect();
        self.pool.on_new_nonces(
            executed.txs.iter().skip(1).filter_map(|(s, _)| new_nonces.get(s).map(|n| (*s, *n))),
        );
        let included = executed.txs.len() - 1;
        let m = &self.metrics;
        m.blocks.increment(1);
        m.transactions.increment(included as u64);
        m.gas.increment(executed.gas_used);
        m.build_seconds.increment(started.elapsed().as_secs_f64());
        let st = self.builder.last_stats();
        if !st.sequential {
            m.parallel_blocks.increment(1);
            m.speculated.increment(st.committed_speculative as u64);
            m.reexecuted.increment(st.reexecuted as u64);
            m.direct.increment(st.direct as u64);
        }
        info!(
            target: "node::miner",
            number, txs = included, gas = executed.gas_used, %hash,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "mined block"
        );
        let _ = self.events.send(NewBlock { number, hash, tx_hashes: Arc::new(tx_hashes) });
        Ok((number, included, hash))
    }

    /// The context of the block after `head`: at `timestamp` (default: now, with the devnet's
    /// time offset, after the parent) and with `base_fee` (default: the parent's successor).
    fn build_context(
        &self,
        head: &Head,
        timestamp: Option<u64>,
        base_fee: Option<u64>,
    ) -> eyre::Result<BuildContext> {
        let number = head.number + 1;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let now = now.saturating_add_signed(self.time_offset.load(Ordering::Relaxed));
        let timestamp = match self.block_time() {
            Some(slot) => head.header.timestamp + slot,
            None => timestamp.unwrap_or(now).max(head.header.timestamp + 1),
        };
        let base_fee = base_fee.unwrap_or_else(|| self.spec.next_base_fee(&head.header));
        let (l1, sequence_number, deposits) = match self.l1.get() {
            None => (L1BlockAttributes::dev(number, timestamp), 0, Vec::new()),
            Some(inbox) => match inbox.peek(timestamp) {
                Some(epoch) => (epoch.attrs, 0, epoch.deposits),
                None => {
                    let (origin, seq) = self.l1_origin()?;
                    (origin, seq + 1, Vec::new())
                }
            },
        };
        Ok(BuildContext {
            parent: head.header.clone(),
            parent_hash: head.hash,
            env: BlockEnvInput {
                number,
                timestamp,
                beneficiary: SEQUENCER_FEE_VAULT,
                gas_limit: self.spec.gas_limit(),
                base_fee,
                prevrandao: keccak256(number.to_be_bytes()),
            },
            extra_data: self.spec.extra_data(),
            l1,
            sequence_number,
            deposits,
        })
    }

    /// Sets the rollup configuration served by `optimism_rollupConfig`.
    pub fn set_rollup_config(&self, config: serde_json::Value) {
        let _ = self.rollup_config.set(config);
    }

    /// Marks the chain a follower: it derives its blocks and its pool takes no transactions.
    pub fn set_follower(&self) {
        self.follower.store(true, Ordering::Relaxed);
    }

    /// Whether it derives its blocks from the L1.
    pub fn is_follower(&self) -> bool {
        self.follower.load(Ordering::Relaxed)
    }

    /// Forwards raw transactions to `sequencer` instead of the pool (a follower).
    pub fn set_sequencer(&self, sequencer: agnt2_client::Client) {
        let _ = self.sequencer.set(sequencer);
    }

    /// Records the safe and finalized heads derivation found (never moving them back).
    pub fn set_l1_heads(&self, safe: u64, finalized: u64) -> eyre::Result<()> {
        let _guard = self.build_lock.lock();
        let mut w = self.store.writer()?;
        w.set_l1_heads(safe, finalized)?;
        w.commit()?;
        Ok(())
    }

    /// After an L1 reorg took away the batches of the blocks after `safe`: the safe head
    /// moves back to it, and on a follower (whose blocks all come from those batches) the
    /// blocks after it are unwound to be derived again. A sequencer keeps its blocks (unsafe
    /// now; its batcher posts them again).
    pub(crate) fn l1_lost_batches(&self, safe: u64) -> eyre::Result<()> {
        let _guard = self.build_lock.lock();
        if self.is_follower() && self.head().number > safe {
            info!(target: "node", from = self.head().number, to = safe, "the L1 lost the batches of derived blocks: unwinding");
            self.unwind_locked(safe)?;
        }
        let mut w = self.store.writer()?;
        w.lower_safe_head(safe)?;
        w.commit()?;
        Ok(())
    }

    /// Produces blocks on a rollup's slots: every `seconds`, each exactly that long after its
    /// parent. Set once, before the miner starts.
    pub fn set_block_time(&self, seconds: u64) {
        let _ = self.block_time.set(seconds.max(1));
    }

    /// The rollup block time, when blocks are produced on slots.
    pub fn block_time(&self) -> Option<u64> {
        self.block_time.get().copied()
    }

    /// Follows an L1: blocks adopt the inbox's epochs as their L1 origins.
    pub fn set_l1_inbox(&self, inbox: Arc<crate::L1Inbox>) {
        let _ = self.l1.set(inbox);
    }

    /// The L1 origin the head's state holds (the L1Block predeploy) and its sequence number.
    pub fn l1_origin(&self) -> eyre::Result<(L1BlockAttributes, u64)> {
        let r = self.store.reader()?;
        let head = self.head().number;
        l1_origin_at(&r, head, head)
    }

    /// After an L1 reorg: unwinds to the newest block whose L1 origin is still on the L1
    /// (`on_l1(number, hash)`), drops the queued epochs, and returns that origin. Blocks
    /// whose origin predates following the L1 (`number < first_l1`) always stay.
    pub fn rewind_to_canonical_l1(
        &self,
        first_l1: u64,
        on_l1: impl Fn(u64, B256) -> eyre::Result<bool>,
    ) -> eyre::Result<L1BlockAttributes> {
        let _guard = self.build_lock.lock();
        let head = self.head().number;
        let r = self.store.reader()?;
        let mut keep = 0;
        let mut origin = l1_origin_at(&r, 0, head)?.0;
        for n in (0..=head).rev() {
            let (o, _) = l1_origin_at(&r, n, head)?;
            if o.number < first_l1 || on_l1(o.number, o.hash)? {
                keep = n;
                origin = o;
                break;
            }
        }
        drop(r);
        if let Some(inbox) = self.l1.get() {
            inbox.clear();
        }
        if keep < head {
            info!(target: "node", from = head, to = keep, l1_origin = origin.number, "L1 reorg: unwinding to the last block on the canonical L1");
            let offered = self.unwind_offering_txs(keep)?;
            self.offer_again(offered);
        }
        Ok(origin)
    }

    /// Builds the next block from `candidates` with `builder` on top of the head without
    /// committing anything (benchmarks and builder comparisons): the executed block, how long
    /// the builder took, and the state root the block would have.
    pub fn dry_run<B: BlockBuilder>(
        &self,
        builder: &B,
        candidates: &[Arc<PooledTx>],
    ) -> eyre::Result<DryRun> {
        let _guard = self.build_lock.lock();
        let head = self.head();
        let ctx = self.build_context(&head, None, None)?;
        let number = ctx.env.number;
        let reader = self.store.reader()?;
        let started = Instant::now();
        let block = builder.build(reader.state(None), ctx, candidates)?;
        let elapsed = started.elapsed();
        drop(reader);
        // Computed in a write transaction that is dropped, never committed.
        let mut w = self.store.writer()?;
        w.apply_state(number, &block.changes)?;
        let state_root = w.state_root()?;
        Ok(DryRun { block, elapsed, state_root })
    }

    /// The block builder's counters for the last block it built.
    pub fn builder_stats(&self) -> ParallelStats {
        self.builder.last_stats()
    }

    /// DA throttling's caps.
    pub(crate) const fn da_limits(&self) -> &crate::throttle::DaLimits {
        &self.da_limits
    }

    /// DA throttling's series.
    pub(crate) const fn throttle_metrics(&self) -> &crate::throttle::ThrottleMetrics {
        &self.metrics.throttle
    }

    /// The miner's counters.
    pub(crate) const fn metrics(&self) -> &crate::metrics::ChainMetrics {
        &self.metrics
    }

    /// The mining mode in force.
    pub fn current_mining_mode(&self) -> MiningMode {
        *self.mining.read()
    }

    /// Applies devnet state changes under the build lock (recorded as changes of the block
    /// after the head, so that history at the head still shows the old values), keeping the
    /// stored trie nodes in step.
    fn apply_dev_changes(&self, changes: &StateChanges) -> eyre::Result<()> {
        let _guard = self.build_lock.lock();
        let next = self.head.read().number + 1;
        let mut w = self.store.writer()?;
        w.apply_state(next, changes)?;
        w.state_root()?;
        w.commit()?;
        let nonces: Vec<_> = changes
            .accounts
            .iter()
            .map(|(a, i)| (*a, i.as_ref().map(|i| i.nonce).unwrap_or_default()))
            .collect();
        self.pool.on_new_nonces(nonces);
        Ok(())
    }

    /// Unwinds to block `target` (which must be at or below the head), checking that the
    /// restored state has the target header's state root. Empties the pool.
    fn unwind(&self, target: u64) -> eyre::Result<()> {
        let _guard = self.build_lock.lock();
        self.unwind_locked(target)
    }

    /// Unwinds to `target` (build lock held) and returns what should be offered to the pool
    /// again: the unwound blocks' transactions and what the pool held (unwinding empties it).
    fn unwind_offering_txs(&self, target: u64) -> eyre::Result<Unwound> {
        let mut out = Unwound::default();
        let r = self.store.reader()?;
        for n in target + 1..=self.head().number {
            for (_, tx) in r.body(n)?.unwrap_or_default() {
                if !tx.is_deposit() {
                    out.blocks.push(alloy_eips::eip2718::Encodable2718::encoded_2718(&tx));
                }
            }
        }
        drop(r);
        let content = self.pool.content();
        out.pooled.extend(
            content
                .pending
                .into_values()
                .chain(content.queued.into_values())
                .flat_map(std::collections::BTreeMap::into_values),
        );
        self.unwind_locked(target)?;
        Ok(out)
    }

    /// Offers unwound transactions to the pool again, lower nonces first (the blocks' before
    /// the pool's); those the chain now holds or that no longer fit are refused, as they should.
    fn offer_again(&self, offered: Unwound) {
        for raw in offered.blocks {
            let _ = agnt2_rpc::ChainApi::submit(self, &raw);
        }
        for tx in offered.pooled {
            let _ = agnt2_rpc::ChainApi::submit_recovered(self, tx.tx.clone(), tx.hash);
        }
    }

    /// [`Self::unwind`] with the build lock already held.
    fn unwind_locked(&self, target: u64) -> eyre::Result<()> {
        let mut w = self.store.writer()?;
        let header = w.header(target)?.ok_or_else(|| eyre::eyre!("block {target} not found"))?;
        w.unwind_to(target)?;
        let root = w.state_root()?;
        if root != header.state_root {
            bail!("unwind to {target} gave state root {root}, expected {}", header.state_root);
        }
        w.commit()?;
        *self.head.write() = load_head(&self.store.reader()?, target)?;
        self.pool.clear();
        info!(target: "node", block = target, "unwound chain");
        Ok(())
    }

    /// Whether the pool holds transactions that could go into the next block.
    pub fn has_pending(&self) -> bool {
        self.pool.status().pending > 0
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

/// Transactions an unwind took out of the chain and the pool.
#[derive(Default)]
struct Unwound {
    /// The unwound blocks' non-deposit transactions, encoded, in block order.
    blocks: Vec<Vec<u8>>,
    /// What the pool held.
    pooled: Vec<Arc<PooledTx>>,
}

/// L1 blocks a batch is given to land before its window ends (op-batcher's default
/// `--sub-safety-margin`).
pub(crate) const SUB_SAFETY_MARGIN: u64 = 10;

/// The L1 origin held by the L1Block predeploy's state after block `n` (`head`: the newest).
pub(crate) fn l1_origin_at(
    r: &StoreReader,
    n: u64,
    head: u64,
) -> eyre::Result<(L1BlockAttributes, u64)> {
    let mut slots = [alloy_primitives::U256::ZERO; 9];
    for (i, v) in slots.iter_mut().enumerate() {
        let slot = alloy_primitives::U256::from(i);
        *v = if n == head { r.storage(L1_BLOCK, slot) } else { r.storage_at(L1_BLOCK, slot, n) }
            .wrap_err("reading the L1Block predeploy")?;
    }
    Ok(L1BlockAttributes::from_l1_block_storage(|i| slots[i as usize]))
}

fn load_head(r: &StoreReader, n: u64) -> eyre::Result<Head> {
    let header = r.header(n)?.ok_or_else(|| eyre::eyre!("head block {n} has no header"))?;
    let hash = r.block_hash(n)?.ok_or_else(|| eyre::eyre!("head block {n} has no hash"))?;
    Ok(Head { number: n, hash, header })
}

fn write_genesis(store: &Store, spec: &ChainSpec) -> eyre::Result<Head> {
    let mut w = store.writer()?;
    w.apply_state(0, &genesis_changes(spec))?;
    let state_root = w.state_root()?;
    let mp_root = w.storage_root(&L2_TO_L1_MESSAGE_PASSER)?;
    let header = spec.genesis_header(state_root, mp_root);
    let hash = header.hash_slow();
    let interaction_root = w.storage_root(&agnt2_agent::AGENT_STATE)?;
    w.put_interaction_root(0, interaction_root)?;
    w.insert_block(&header, hash, &[], &[])?;
    w.commit()?;
    info!(target: "node", %hash, %state_root, "wrote genesis");
    Ok(Head { number: 0, hash, header })
}
