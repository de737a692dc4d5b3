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
};

/// The head-state view of an account that validation needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountState {
    /// Next nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
}

/// Pool limits and rules.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Chain id transactions must carry.
    pub chain_id: u64,
    /// Block gas limit: no transaction may ask for more.
    pub block_gas_limit: u64,
    /// Maximum number of transactions held.
    pub max_txs: usize,
    /// Minimum fee increase of a replacement, in percent.
    pub price_bump_percent: u128,
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

#[derive(Debug, Default)]
struct SenderQueue {
    state_nonce: u64,
    txs: BTreeMap<u64, Arc<PooledTx>>,
}

impl SenderQueue {
    fn executable(&self) -> impl Iterator<Item = &Arc<PooledTx>> {
        let mut next = self.state_nonce;
        self.txs.range(self.state_nonce..).map_while(move |(n, tx)| {
            (*n == next).then(|| {
                next += 1;
                tx
            })
        })
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_hash: HashMap<B256, Arc<PooledTx>>,
    senders: HashMap<Address, SenderQueue>,
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

        let sender = tx.signer();
        let mut inner = self.inner.lock();
        if inner.by_hash.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown(hash));
        }
        let bump = self.config.price_bump_percent;
        let replaced = match inner.senders.get(&sender).and_then(|q| q.txs.get(&nonce)) {
            Some(old) => {
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
        if replaced.is_none() && inner.by_hash.len() >= self.config.max_txs {
            return Err(PoolError::Full);
        }
        if let Some(old) = replaced {
            inner.by_hash.remove(&old);
        }
        let pooled = Arc::new(PooledTx { tx, hash });
        inner.by_hash.insert(hash, pooled.clone());
        let queue = inner.senders.entry(sender).or_default();
        queue.state_nonce = queue.state_nonce.max(state.nonce);
        queue.txs.insert(nonce, pooled);
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
        let Inner { by_hash, senders } = &mut *inner;
        for (sender, nonce) in nonces {
            let Some(q) = senders.get_mut(&sender) else { continue };
            q.state_nonce = nonce;
            let keep = q.txs.split_off(&nonce);
            for tx in std::mem::replace(&mut q.txs, keep).into_values() {
                by_hash.remove(&tx.hash);
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
            let Some(tx) = inner.by_hash.remove(hash) else { continue };
            removed += 1;
            let sender = tx.sender();
            if let Some(q) = inner.senders.get_mut(&sender) {
                q.txs.remove(&tx.nonce());
                if q.txs.is_empty() {
                    inner.senders.remove(&sender);
                }
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
            for (n, tx) in q.txs.range(first_queued..) {
                out.queued.entry(*sender).or_default().insert(*n, tx.clone());
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
        let mut next = state_nonce.max(q.state_nonce);
        while q.txs.contains_key(&next) {
            next += 1;
        }
        next
    }

    /// Pending and queued counts.
    pub fn status(&self) -> PoolStatus {
        let inner = self.inner.lock();
        let pending: usize = inner.senders.values().map(|q| q.executable().count()).sum();
        PoolStatus { pending, queued: inner.by_hash.len() - pending }
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
