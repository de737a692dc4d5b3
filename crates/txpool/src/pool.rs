use crate::PoolError;
use agnt2_primitives::TxEnvelope;
use alloy_consensus::{Transaction, transaction::Recovered};
use alloy_eips::Typed2718;
use alloy_primitives::{Address, B256, U256};
use parking_lot::Mutex;
use revm::{context_interface::cfg::gas::calculate_initial_tx_gas, primitives::hardfork::SpecId};
use std::{
    cmp::Ordering,
    collections::{BTreeMap, BinaryHeap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

/// How often, at most, queued transactions are checked against their lifetime.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The head-state view of an account that validation needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountState {
    /// Next nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
}

/// Pool limits and rules. A limit of 0 is no limit.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Chain id transactions must carry.
    pub chain_id: u64,
    /// Block gas limit: no transaction may ask for more.
    pub block_gas_limit: u64,
    /// Maximum number of transactions held (`--txpool.max-count`).
    pub max_txs: usize,
    /// Maximum encoded bytes held (`--txpool.max-size`).
    pub max_bytes: usize,
    /// Executable transactions one sender may have (`--txpool.max-account-slots`, reth and
    /// geth: 16).
    pub max_account_slots: usize,
    /// Transactions one sender may have waiting for a lower nonce
    /// (`--txpool.max-account-queued`, geth's `accountqueue`: 64).
    pub max_account_queued: usize,
    /// How long a transaction may wait for a lower nonce (`--txpool.lifetime`, geth: 3 h).
    pub queued_lifetime: Duration,
    /// Minimum fee increase of a replacement, in percent.
    pub price_bump_percent: u128,
}

impl PoolConfig {
    /// The limits of a node that holds value: geth's and reth's defaults (16 executable and 64
    /// queued transactions per sender, 3 h for queued ones, 20,000 transactions and 40 MB in
    /// all: reth's 10,000 + 10,000 and 20 MB + 20 MB for its pending and queued sub-pools).
    pub const fn production(chain_id: u64, block_gas_limit: u64) -> Self {
        Self {
            chain_id,
            block_gas_limit,
            max_txs: 20_000,
            max_bytes: 40 * 1024 * 1024,
            max_account_slots: 16,
            max_account_queued: 64,
            queued_lifetime: Duration::from_secs(3 * 3600),
            price_bump_percent: 10,
        }
    }

    /// The devnet's: no per-sender limits (as anvil; benchmarks send thousands per account),
    /// 200,000 transactions and 512 MB in all.
    pub const fn dev(chain_id: u64, block_gas_limit: u64) -> Self {
        Self {
            max_txs: 200_000,
            max_bytes: 512 * 1024 * 1024,
            max_account_slots: 0,
            max_account_queued: 0,
            ..Self::production(chain_id, block_gas_limit)
        }
    }
}

/// A validated transaction.
#[derive(Debug)]
pub struct PooledTx {
    /// The transaction with its recovered sender.
    pub tx: Recovered<TxEnvelope>,
    /// Its hash.
    pub hash: B256,
}

impl PooledTx {
    /// Sender.
    pub fn sender(&self) -> Address {
        self.tx.signer()
    }

    /// Nonce.
    pub fn nonce(&self) -> u64 {
        self.tx.nonce()
    }

    fn tip(&self, base_fee: u64) -> u128 {
        self.tx.effective_tip_per_gas(base_fee).unwrap_or_default()
    }
}

/// The pool's transactions by sender and nonce.
#[derive(Debug, Default)]
pub struct PoolContent {
    /// Executable now.
    pub pending: BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>,
    /// Waiting for a lower nonce.
    pub queued: BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>,
}

/// Counts of executable and waiting transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Executable now (no nonce gap).
    pub pending: usize,
    /// Waiting for a lower nonce.
    pub queued: usize,
}

/// A pooled transaction with what the limits need.
#[derive(Debug, Clone)]
struct Slot {
    tx: Arc<PooledTx>,
    /// EIP-2718 length.
    size: usize,
    /// gas × max fee + value.
    cost: U256,
    /// When it was admitted.
    added: Instant,
}

#[derive(Debug, Default)]
struct SenderQueue {
    state_nonce: u64,
    txs: BTreeMap<u64, Slot>,
    /// The sum of the costs in `txs`.
    total_cost: U256,
}

impl SenderQueue {
    fn executable(&self) -> impl Iterator<Item = &Arc<PooledTx>> {
        let mut next = self.state_nonce;
        self.txs.range(self.state_nonce..).map_while(move |(n, slot)| {
            (*n == next).then(|| {
                next += 1;
                &slot.tx
            })
        })
    }

    /// What the transactions from nonce `from` up to (not including) `nonce` may spend. A
    /// newcomer usually comes after every pooled one: then the running total less what lies
    /// below `from` (already mined, not yet dropped), instead of a walk over the queue.
    fn cost_between(&self, from: u64, nonce: u64) -> U256 {
        let sum = |r: std::collections::btree_map::Range<'_, u64, Slot>| -> U256 {
            r.map(|(_, s)| s.cost).fold(U256::ZERO, U256::saturating_add)
        };
        match self.txs.last_key_value() {
            Some((last, _)) if *last < nonce => {
                self.total_cost.saturating_sub(sum(self.txs.range(..from)))
            }
            _ => sum(self.txs.range(from..nonce.max(from))),
        }
    }

    /// The first nonce that is not executable.
    fn first_gap(&self) -> u64 {
        self.gap_from(self.state_nonce)
    }

    /// The first nonce from `start` on that holds no transaction.
    fn gap_from(&self, start: u64) -> u64 {
        let mut next = start;
        while self.txs.contains_key(&next) {
            next += 1;
        }
        next
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_hash: HashMap<B256, Arc<PooledTx>>,
    senders: HashMap<Address, SenderQueue>,
    /// Encoded bytes held.
    bytes: usize,
    /// Last sweep of queued transactions past their lifetime.
    swept: Option<Instant>,
}

impl Inner {
    /// Removes the transaction of `sender` at `nonce`; returns it.
    fn take(&mut self, sender: Address, nonce: u64) -> Option<Slot> {
        let q = self.senders.get_mut(&sender)?;
        let slot = q.txs.remove(&nonce)?;
        q.total_cost -= slot.cost;
        if q.txs.is_empty() {
            self.senders.remove(&sender);
        }
        self.by_hash.remove(&slot.tx.hash);
        self.bytes -= slot.size;
        Some(slot)
    }

    /// The cheapest transaction at the end of its sender's queue (evicting it opens no nonce
    /// gap), among queued ones (`queued`) or executable ones: `(fee cap, sender, nonce)`.
    fn cheapest_tail(&self, queued: bool) -> Option<(u128, Address, u64)> {
        self.senders
            .iter()
            .filter_map(|(sender, q)| {
                let (nonce, slot) = q.txs.last_key_value()?;
                let is_queued = *nonce >= q.first_gap();
                (is_queued == queued).then(|| (slot.tx.tx.max_fee_per_gas(), *sender, *nonce))
            })
            .min()
    }

    /// Drops transactions that waited for a lower nonce longer than `lifetime`.
    fn sweep(&mut self, lifetime: Duration) -> usize {
        let mut stale = Vec::new();
        for (sender, q) in &self.senders {
            let gap = q.first_gap();
            for (nonce, slot) in q.txs.range(gap..) {
                if slot.added.elapsed() > lifetime {
                    stale.push((*sender, *nonce));
                }
            }
        }
        for (sender, nonce) in &stale {
            self.take(*sender, *nonce);
        }
        self.swept = Some(Instant::now());
        stale.len()
    }
}

/// The transaction pool.
#[derive(Debug)]
pub struct Pool {
    config: PoolConfig,
    inner: Mutex<Inner>,
}

impl Pool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Self { config, inner: Mutex::new(Inner::default()) }
    }

    /// The pool's configuration.
    pub const fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Validates a recovered transaction against the head state of its sender and admits it.
    pub fn add(
        &self,
        tx: Recovered<TxEnvelope>,
        hash: B256,
        state: AccountState,
        base_fee: u64,
    ) -> Result<(), PoolError> {
        let gas = tx.gas_limit();
        let (accounts, slots) = tx.access_list().map_or((0, 0), |al| {
            (al.len() as u64, al.iter().map(|i| i.storage_keys.len() as u64).sum())
        });
        let auths = tx.authorization_list().map_or(0, |a| a.len() as u64);
        if tx.is_create() && tx.is_type(4) {
            return Err(PoolError::Eip7702Create);
        }
        let intrinsic = calculate_initial_tx_gas(
            SpecId::PRAGUE,
            tx.input(),
            tx.is_create(),
            accounts,
            slots,
            auths,
        );
        let want = intrinsic.initial_total_gas.max(intrinsic.floor_gas);
        if gas < want {
            return Err(PoolError::IntrinsicGas { have: gas, want });
        }
        if gas > self.config.block_gas_limit {
            return Err(PoolError::GasLimit { gas, limit: self.config.block_gas_limit });
        }
        let max_fee = tx.max_fee_per_gas();
        if max_fee < base_fee as u128 {
            return Err(PoolError::FeeCapTooLow { max_fee, base_fee });
        }
        let nonce = tx.nonce();
        if nonce < state.nonce {
            return Err(PoolError::NonceTooLow { state: state.nonce, tx: nonce });
        }
        let cost = U256::from(gas) * U256::from(max_fee) + tx.value();
        if cost > state.balance {
            return Err(PoolError::InsufficientFunds { balance: state.balance, cost });
        }
        let size = tx.inner().eip2718_encoded_length();

        let sender = tx.signer();
        let cfg = &self.config;
        let mut inner = self.inner.lock();
        if inner.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown(hash));
        }
        if !cfg.queued_lifetime.is_zero()
            && inner.swept.is_none_or(|t| t.elapsed() > SWEEP_EVERY.min(cfg.queued_lifetime / 10))
        {
            inner.sweep(cfg.queued_lifetime);
        }
        // What the sender's transactions before this one may already spend: the balance must
        // cover them and this one (geth checks the sum too).
        let before = inner
            .senders
            .get(&sender)
            .map_or(U256::ZERO, |q| q.cost_between(state.nonce.max(q.state_nonce), nonce));
        if before.saturating_add(cost) > state.balance {
            return Err(PoolError::InsufficientFunds {
                balance: state.balance,
                cost: before.saturating_add(cost),
            });
        }
        let bump = self.config.price_bump_percent;
        let replaced = match inner.senders.get(&sender).and_then(|q| q.txs.get(&nonce)) {
            Some(Slot { tx: old, .. }) => {
                let bumped = |v: u128| v.saturating_mul(100 + bump) / 100;
                let old_tip =
                    old.tx.max_priority_fee_per_gas().unwrap_or_else(|| old.tx.max_fee_per_gas());
                let new_tip = tx.max_priority_fee_per_gas().unwrap_or(max_fee);
                if max_fee < bumped(old.tx.max_fee_per_gas()) || new_tip < bumped(old_tip) {
                    return Err(PoolError::ReplacementUnderpriced);
                }
                Some(old.hash)
            }
            None => None,
        };
        if replaced.is_none() {
            // Whether the newcomer is executable walks the sender's queue: only when a per-sender
            // limit or a full pool needs it (a devnet sender may hold thousands).
            let limited = cfg.max_account_slots != 0 || cfg.max_account_queued != 0;
            if limited || self.is_full(&inner, size) {
                let executable = inner.senders.get(&sender).map_or(nonce == state.nonce, |q| {
                    nonce <= q.gap_from(q.state_nonce.max(state.nonce))
                });
                self.check_account_limits(&inner, sender, state.nonce, executable)?;
                self.make_room(&mut inner, size, max_fee, executable)?;
            }
        } else {
            // The replacement takes its predecessor's slot.
            inner.take(sender, nonce);
        }
        let pooled = Arc::new(PooledTx { tx, hash });
        inner.by_hash.insert(hash, pooled.clone());
        inner.bytes += size;
        let queue = inner.senders.entry(sender).or_default();
        queue.state_nonce = queue.state_nonce.max(state.nonce);
        queue.total_cost += cost;
        queue.txs.insert(nonce, Slot { tx: pooled, size, cost, added: Instant::now() });
        Ok(())
    }

    /// Per-sender limits: executable transactions (`max_account_slots`) and transactions
    /// waiting for a lower nonce (`max_account_queued`).
    fn check_account_limits(
        &self,
        inner: &Inner,
        sender: Address,
        state_nonce: u64,
        executable: bool,
    ) -> Result<(), PoolError> {
        let cfg = &self.config;
        if cfg.max_account_slots == 0 && cfg.max_account_queued == 0 {
            return Ok(());
        }
        let Some(q) = inner.senders.get(&sender) else { return Ok(()) };
        let gap = q.gap_from(q.state_nonce.max(state_nonce));
        let pending = q.txs.range(state_nonce..gap).count();
        let queued = q.txs.range(gap..).count();
        let (count, limit, kind, flag) = if executable {
            (pending, cfg.max_account_slots, "executable", "--txpool.max-account-slots")
        } else {
            (queued, cfg.max_account_queued, "queued", "--txpool.max-account-queued")
        };
        if limit != 0 && count >= limit {
            return Err(PoolError::AccountLimit { sender, kind, limit, flag });
        }
        Ok(())
    }

    /// Makes room for `size` more bytes and one more transaction by evicting what is worth
    /// least: first a transaction waiting for a lower nonce (any of them, for an executable
    /// newcomer; a cheaper one for a queued newcomer), then an executable one paying a lower
    /// fee cap. Only the last transaction of a sender is evicted, so no nonce gap opens.
    fn make_room(
        &self,
        inner: &mut Inner,
        size: usize,
        max_fee: u128,
        executable: bool,
    ) -> Result<(), PoolError> {
        let cfg = &self.config;
        if cfg.max_bytes != 0 && size > cfg.max_bytes {
            return Err(PoolError::Full);
        }
        if self.is_full(inner, size) && !cfg.queued_lifetime.is_zero() {
            inner.sweep(cfg.queued_lifetime);
        }
        while self.is_full(inner, size) {
            let victim = match inner.cheapest_tail(true) {
                Some((fee, s, n)) if executable || fee < max_fee => (s, n),
                _ => match inner.cheapest_tail(false) {
                    Some((fee, s, n)) if fee < max_fee => (s, n),
                    _ => return Err(PoolError::Full),
                },
            };
            inner.take(victim.0, victim.1);
        }
        Ok(())
    }

    /// Executable transactions in block order: nonce order per sender, highest tip first across
    /// senders (ties: the sender's lowest-nonce transaction that arrived first in hash order).
    pub fn best(&self, base_fee: u64) -> Vec<Arc<PooledTx>> {
        struct Head {
            tip: u128,
            sender: Address,
            txs: std::vec::IntoIter<Arc<PooledTx>>,
            tx: Arc<PooledTx>,
        }
        impl PartialEq for Head {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for Head {}
        impl PartialOrd for Head {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Head {
            fn cmp(&self, other: &Self) -> Ordering {
                self.tip.cmp(&other.tip).then_with(|| other.sender.cmp(&self.sender))
            }
        }
        let inner = self.inner.lock();
        let mut heap = BinaryHeap::with_capacity(inner.senders.len());
        let mut total = 0;
        for (sender, q) in &inner.senders {
            // A transaction whose fee cap is below this block's base fee waits (with its
            // successors) for the base fee to come down.
            let txs: Vec<_> = q
                .executable()
                .take_while(|t| t.tx.max_fee_per_gas() >= base_fee as u128)
                .cloned()
                .collect();
            total += txs.len();
            let mut txs = txs.into_iter();
            if let Some(tx) = txs.next() {
                heap.push(Head { tip: tx.tip(base_fee), sender: *sender, txs, tx });
            }
        }
        drop(inner);
        let mut out = Vec::with_capacity(total);
        while let Some(mut head) = heap.pop() {
            out.push(head.tx);
            if let Some(tx) = head.txs.next() {
                head.tip = tx.tip(base_fee);
                head.tx = tx;
                heap.push(head);
            }
        }
        out
    }

    /// Records new head nonces (after a block) and drops what they made stale.
    pub fn on_new_nonces(&self, nonces: impl IntoIterator<Item = (Address, u64)>) {
        let mut inner = self.inner.lock();
        let Inner { by_hash, senders, bytes, .. } = &mut *inner;
        for (sender, nonce) in nonces {
            let Some(q) = senders.get_mut(&sender) else { continue };
            q.state_nonce = nonce;
            let keep = q.txs.split_off(&nonce);
            for slot in std::mem::replace(&mut q.txs, keep).into_values() {
                by_hash.remove(&slot.tx.hash);
                *bytes -= slot.size;
                q.total_cost -= slot.cost;
            }
            if q.txs.is_empty() {
                senders.remove(&sender);
            }
        }
    }

    /// Removes transactions (found invalid by the builder, or dropped by a user).
    pub fn remove(&self, hashes: &[B256]) -> usize {
        let mut inner = self.inner.lock();
        let mut removed = 0;
        for hash in hashes {
            let Some(tx) = inner.by_hash.get(hash).cloned() else { continue };
            if inner.take(tx.sender(), tx.nonce()).is_some() {
                removed += 1;
            }
        }
        removed
    }

    /// Every pooled transaction by sender and nonce, split into executable (`pending`) and
    /// waiting (`queued`), for `txpool_content` / `txpool_inspect`.
    pub fn content(&self) -> PoolContent {
        let inner = self.inner.lock();
        let mut out = PoolContent::default();
        for (sender, q) in &inner.senders {
            let pending: Vec<_> = q.executable().cloned().collect();
            let first_queued = pending.last().map_or(q.state_nonce, |t| t.nonce() + 1);
            for tx in pending {
                out.pending.entry(*sender).or_default().insert(tx.nonce(), tx);
            }
            for (n, slot) in q.txs.range(first_queued..) {
                out.queued.entry(*sender).or_default().insert(*n, slot.tx.clone());
            }
        }
        out
    }

    /// Drops every transaction (after the chain was unwound).
    pub fn clear(&self) {
        *self.inner.lock() = Inner::default();
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<Arc<PooledTx>> {
        self.inner.lock().by_hash.get(hash).cloned()
    }

    /// The next nonce of `sender` counting executable pooled transactions.
    pub fn pending_nonce(&self, sender: Address, state_nonce: u64) -> u64 {
        let inner = self.inner.lock();
        let Some(q) = inner.senders.get(&sender) else { return state_nonce };
        q.gap_from(state_nonce.max(q.state_nonce))
    }

    /// Whether one more transaction of `size` bytes would exceed the count or the bytes held.
    fn is_full(&self, inner: &Inner, size: usize) -> bool {
        let cfg = &self.config;
        (cfg.max_txs != 0 && inner.by_hash.len() >= cfg.max_txs)
            || (cfg.max_bytes != 0 && inner.bytes + size > cfg.max_bytes)
    }

    /// Pending and queued counts.
    pub fn status(&self) -> PoolStatus {
        let inner = self.inner.lock();
        let pending: usize = inner.senders.values().map(|q| q.executable().count()).sum();
        PoolStatus { pending, queued: inner.by_hash.len() - pending }
    }

    /// Encoded bytes held.
    pub fn bytes(&self) -> usize {
        self.inner.lock().bytes
    }

    /// Drops transactions that waited for a lower nonce longer than the configured lifetime
    /// (the pool also does this as transactions arrive); returns how many.
    pub fn evict_stale(&self) -> usize {
        let lifetime = self.config.queued_lifetime;
        if lifetime.is_zero() {
            return 0;
        }
        self.inner.lock().sweep(lifetime)
    }

    /// Number of transactions held.
    pub fn len(&self) -> usize {
        self.inner.lock().by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
