//! Derivation: the chain rebuilt from the L1 alone — every L1 block's deposits (the portal's
//! events, as the sequencer adopts them) and the batches the batcher posted to the inbox
//! (frames → channels → span batches) — into blocks executed by the same builder, so they come
//! out with the sequencer's hashes and state roots.
//!
//! Rules applied (specs/protocol/derivation.md, Holocene): only transactions to the inbox from
//! the batcher SystemConfig names count, their calldata or, for blob transactions, each blob
//! (read from the L1's beacon API, checked against its versioned hash); frames go through the
//! Holocene channel assembler; a span batch's parent and L1-origin checks must hold; a block
//! must be exactly `block_time` after the safe head, keep
//! its L1 origin or move to the next L1 block, and land within the sequencing window of its
//! origin; when the window of the safe head's origin passes without a batch, deposit-only
//! blocks take the place of the missing ones (forced inclusion).
//!
//! The same pipeline runs on a follower and on the sequencer. A block the chain already holds
//! and the L1 describes exactly becomes safe as it is (on the sequencer: its own blocks, once
//! batched); a different one is built in its place, unwinding unsafe blocks above the safe head
//! (a restarted sequencer whose blocks the L1 decided against converges on the L1's chain).
//! An L1 reorg of blocks it read moves the safe head back to what the canonical L1 still
//! supports and reads again from there. Not yet: SystemConfig updates.

use crate::Chain;
use agnt2_batch::{ChannelAssembler, SpanBatch, SpanElement, parse_batcher_tx, read_channel};
use agnt2_client::{Beacon, Client};
use agnt2_primitives::{L1BlockAttributes, L1Epoch, TxEnvelope};
use agnt2_rpc::ChainApi;
use agnt2_settlement::follow::L1Follower;
use agnt2_txpool::PooledTx;
use alloy_consensus::transaction::SignerRecoverable;
use alloy_eips::{BlockNumberOrTag, eip2718::Decodable2718};
use alloy_primitives::{Address, B256};
use eyre::WrapErr;
use std::{
    collections::BTreeMap,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// The stack of the threads that handle blobs (the batcher's, derivation's).
pub const BLOB_STACK: usize = 32 << 20;

/// What a follower reads from `rollup.json` (op-node's format).
#[derive(Debug, Clone)]
pub struct DeriveConfig {
    /// The L1's JSON-RPC.
    pub l1_rpc_url: String,
    /// The L1 block the L2 genesis commits to.
    pub genesis_l1: u64,
    /// Seconds between L2 blocks.
    pub block_time: u64,
    /// The batch inbox.
    pub inbox: Address,
    /// The batcher SystemConfig names at genesis (its `setBatcherHash` updates apply from the
    /// L1 block that carries them).
    pub batcher: Address,
    /// SystemConfig on the L1.
    pub system_config: Address,
    /// The portal (deposits).
    pub portal: Address,
    /// How often the L1 is polled.
    pub poll: Duration,
    /// Where raw transactions sent to this follower go (`--rollup.sequencer-http`).
    pub sequencer_http: Option<String>,
    /// The L1 beacon API blobs are read from (`--l1.beacon-url`; default: the L1 RPC URL,
    /// where anvil serves it).
    pub l1_beacon_url: Option<String>,
    /// L1 blocks a batch may land after its L1 origin (`seq_window_size`).
    pub seq_window_size: u64,
}

impl DeriveConfig {
    /// Reads `rollup.json`.
    pub fn from_rollup_json(path: &Path, l1_rpc_url: String) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .wrap_err_with(|| format!("{} is not JSON", path.display()))?;
        let num = |p: &str| -> eyre::Result<u64> {
            v.pointer(p)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| eyre::eyre!("{}: missing {p}", path.display()))
        };
        let addr = |p: &str| -> eyre::Result<Address> {
            v.pointer(p)
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| eyre::eyre!("{}: missing {p}", path.display()))?
                .parse()
                .wrap_err_with(|| format!("{}: {p}", path.display()))
        };
        Ok(Self {
            l1_rpc_url,
            genesis_l1: num("/genesis/l1/number")?,
            block_time: num("/block_time")?,
            inbox: addr("/batch_inbox_address")?,
            batcher: addr("/genesis/system_config/batcherAddr")?,
            system_config: addr("/l1_system_config_address")?,
            portal: addr("/deposit_contract_address")?,
            poll: Duration::from_millis(250),
            sequencer_http: None,
            l1_beacon_url: None,
            seq_window_size: num("/seq_window_size")?,
        })
    }
}

/// The derivation thread; it stops when this is dropped.
#[derive(Debug)]
pub(crate) struct Derivation {
    stop: Arc<AtomicBool>,
}

impl Drop for Derivation {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// L1 blocks whose hashes derivation remembers to find a reorg's fork point (more than
/// anvil's or a beacon chain's reorgs reach; deeper ones re-derive from the oldest).
const READ_MEMORY: usize = 256;

/// Where reading the L1 starts for a safe head `safe`: a channel timeout before its L1 origin
/// (a channel carrying the next block opened no earlier), or the L1 block after the genesis's.
/// Blocks already derived are skipped as their batches come by again.
fn start_l1(chain: &Chain, safe: u64, genesis_l1: u64) -> eyre::Result<u64> {
    if safe == 0 {
        return Ok(genesis_l1 + 1);
    }
    let r = chain.store().reader()?;
    let head = r.head()?.unwrap_or_default();
    Ok(crate::chain::l1_origin_at(&r, safe.min(head), head)?
        .0
        .number
        .saturating_sub(agnt2_batch::assembler::GRANITE_CHANNEL_TIMEOUT)
        .max(genesis_l1 + 1))
}

/// The batcher in effect at the safe head `safe` (its L1 origin's, as the L1Block predeploy
/// holds it), or the genesis one.
fn batcher_at(chain: &Chain, safe: u64, genesis: Address) -> eyre::Result<B256> {
    let genesis = B256::left_padding_from(genesis.as_slice());
    if safe == 0 {
        return Ok(genesis);
    }
    let r = chain.store().reader()?;
    let head = r.head()?.unwrap_or_default();
    let b = crate::chain::l1_origin_at(&r, safe.min(head), head)?.0.batcher_hash;
    Ok(if b == B256::ZERO { genesis } else { b })
}

/// The safe head, as derivation builds on it.
struct Parent {
    number: u64,
    timestamp: u64,
    origin: L1BlockAttributes,
    seq: u64,
}

/// Where derivation stands.
struct Pipeline {
    config: DeriveConfig,
    l1: Client,
    /// Where blobs come from (`None`: no http(s) beacon URL, and blob batches cannot be read).
    beacon: Option<Beacon>,
    /// The newest L1 block read completely (to read a block again after a failure).
    last_read: Option<(u64, B256)>,
    /// The batcher in effect after it.
    batcher: B256,
    /// The L1 blocks read recently (number → hash), to find where an L1 reorg forked.
    read: BTreeMap<u64, B256>,
    /// When the L1 was last checked for a reorg of what was read.
    reorg_checked: Instant,
    follower: L1Follower,
    epochs: BTreeMap<u64, L1Epoch>,
    assembler: ChannelAssembler,
    genesis_time: u64,
    chain_id: u64,
    /// The L1 block whose batch made each recent safe block safe (for the finalized head).
    safe_from: BTreeMap<u64, u64>,
    /// The L1 block being read.
    l1_block: u64,
    /// The safe head as this round moves it (written once at the end of the round).
    safe: u64,
}

pub(crate) fn start(config: DeriveConfig, chain: &Arc<Chain>) -> eyre::Result<Derivation> {
    let l1 = Client::new(&config.l1_rpc_url)?;
    let template = L1BlockAttributes {
        batcher_hash: B256::left_padding_from(config.batcher.as_slice()),
        ..L1BlockAttributes::dev(0, 0)
    };
    let r = chain.reader()?;
    let safe = r.safe_head()?;
    let start = start_l1(chain, safe, config.genesis_l1)?;
    tracing::info!(target: "node::derive", safe, l1 = start, "deriving from the L1");
    let batcher = batcher_at(chain, safe, config.batcher)?;
    let mut follower = L1Follower::new(l1.clone(), config.portal, 0, start, template)
        .with_system_config(config.system_config);
    follower.reset(start, None, batcher);
    let genesis_time = r.header(0)?.map(|h| h.timestamp).unwrap_or_default();
    let chain_id = chain.chain_spec().chain_id();
    let beacon_url = config.l1_beacon_url.clone().unwrap_or_else(|| config.l1_rpc_url.clone());
    let beacon = Beacon::new(&beacon_url).ok();
    let mut p = Pipeline {
        config,
        l1,
        beacon,
        last_read: None,
        batcher,
        read: BTreeMap::new(),
        reorg_checked: Instant::now(),
        follower,
        epochs: BTreeMap::new(),
        assembler: ChannelAssembler::default(),
        genesis_time,
        chain_id,
        safe_from: BTreeMap::new(),
        l1_block: 0,
        safe,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (halt, chain) = (stop.clone(), Arc::downgrade(chain));
    // Blobs are 128 KiB values and KZG's routines keep large arrays on the stack: more than
    // the default 2 MiB in a debug build.
    let builder = std::thread::Builder::new().name("derivation".into()).stack_size(BLOB_STACK);
    builder.spawn(move || {
        while !halt.load(Ordering::Relaxed)
            && let Some(chain) = chain.upgrade()
        {
            if let Err(err) = p.step(&chain) {
                tracing::warn!(target: "node::derive", err = %format!("{err:#}"), "derivation failed");
            }
            drop(chain);
            std::thread::sleep(p.config.poll);
        }
    })?;
    Ok(Derivation { stop })
}

impl Pipeline {
    /// Reads the next L1 blocks and derives what their batches hold.
    fn step(&mut self, chain: &Chain) -> eyre::Result<()> {
        // A request, so about once a second whatever the poll interval.
        if self.reorg_checked.elapsed() >= Duration::from_secs(1) {
            self.reorg_checked = Instant::now();
            if self.follower.reorged()? {
                self.reorg(chain)?;
            }
        }
        let epochs = self.follower.poll(32)?;
        if epochs.is_empty() {
            return Ok(()); // nothing new on the L1: no more requests this round
        }
        // An unwind may have moved the stored safe head back.
        self.safe = self.safe.min(chain.store().reader()?.safe_head()?);
        let before = self.safe;
        for epoch in epochs {
            let (n, hash) = (epoch.attrs.number, epoch.attrs.hash);
            // Everything the block carries is read before any of it is used: when a request
            // fails, the follower reads the block again next round and nothing is half-done.
            // The batcher after this block's SystemConfig updates (op-node's L1 traversal).
            let batcher = Address::from_slice(&epoch.attrs.batcher_hash[12..]);
            let units = match self.batcher_data(n, epoch.attrs.timestamp, batcher) {
                Ok(units) => units,
                Err(e) => {
                    self.follower.reset(n, self.last_read, self.batcher);
                    return Err(e.wrap_err(format!("reading L1 block {n}")));
                }
            };
            self.l1_block = n;
            self.batcher = epoch.attrs.batcher_hash;
            self.last_read = Some((n, hash));
            self.read.insert(n, hash);
            while self.read.len() > READ_MEMORY {
                self.read.pop_first();
            }
            self.epochs.insert(n, epoch);
            for data in units {
                let Ok(frames) = parse_batcher_tx(&data) else {
                    tracing::debug!(target: "node::derive", l1 = n, "dropping malformed batcher data");
                    continue;
                };
                for frame in frames {
                    let (_, done) = self.assembler.add(frame, n);
                    if let Some(channel) = done {
                        self.derive_channel(chain, &channel)?;
                    }
                }
            }
            self.force_empty_batches(chain)?;
        }
        self.update_heads(chain, before)
    }

    /// The L1 reorganised blocks derivation read: finds the newest one still canonical, moves
    /// the safe head back to the newest block made safe at or before it (a follower unwinds
    /// the rest), and reads the L1 again from a channel timeout before that block's origin.
    fn reorg(&mut self, chain: &Chain) -> eyre::Result<()> {
        let mut fork = None;
        for (&n, &hash) in self.read.iter().rev() {
            if self.l1.header(n)?.map(|h| h.hash) == Some(hash) {
                fork = Some(n);
                break;
            }
        }
        // Deeper than what is remembered: everything made safe since is in doubt.
        let fork = fork.unwrap_or_else(|| {
            self.read.keys().next().map_or(self.config.genesis_l1, |n| n.saturating_sub(1))
        });
        let keep =
            match self.safe_from.iter().filter(|(_, l1)| **l1 <= fork).map(|(l2, _)| *l2).max() {
                Some(l2) => l2,
                None => self.safe_from.keys().next().map_or(self.safe, |l2| l2.saturating_sub(1)),
            };
        let keep = keep.min(self.safe);
        tracing::warn!(target: "node::derive", fork, safe = keep, was = self.safe, "the L1 reorganised blocks derivation read: deriving again");
        chain.l1_lost_batches(keep)?;
        self.safe = keep;
        self.safe_from.retain(|l2, _| *l2 <= keep);
        let start = start_l1(chain, keep, self.config.genesis_l1)?;
        self.batcher = batcher_at(chain, keep, self.config.batcher)?;
        self.follower.reset(start, None, self.batcher);
        self.read.retain(|n, _| *n < start);
        self.last_read = None;
        self.epochs.clear();
        self.assembler = ChannelAssembler::default();
        Ok(())
    }

    /// The batcher data L1 block `n` carries, in order: the calldata of the batcher's
    /// transactions to the inbox, and the data of each blob of its blob transactions (whose
    /// calldata is ignored). A blob that does not decode is dropped, as op-node does.
    fn batcher_data(&self, n: u64, timestamp: u64, batcher: Address) -> eyre::Result<Vec<Vec<u8>>> {
        let calls =
            self.l1.block_calls(n)?.ok_or_else(|| eyre::eyre!("L1 block {n} is missing"))?;
        let mut out = Vec::new();
        for call in calls {
            if call.to != Some(self.config.inbox) || call.from != batcher {
                continue;
            }
            if call.blob_hashes.is_empty() {
                out.push(call.input.to_vec());
                continue;
            }
            let beacon = self.beacon.as_ref().ok_or_else(|| {
                eyre::eyre!("L1 block {n} has blob batches: give --l1.beacon-url (http(s))")
            })?;
            for blob in beacon.blobs(n, timestamp, &call.blob_hashes)? {
                match agnt2_batch::blob::decode(&blob) {
                    Ok(data) => out.push(data),
                    Err(e) => {
                        tracing::debug!(target: "node::derive", l1 = n, %e, "dropping a blob");
                    }
                }
            }
        }
        Ok(out)
    }

    /// Writes the round's heads once: the safe head it reached and the finalized head (the
    /// newest safe block made safe by a finalized L1 block).
    fn update_heads(&mut self, chain: &Chain, safe_before: u64) -> eyre::Result<()> {
        if self.safe_from.is_empty() {
            return Ok(());
        }
        let l1_final = self.l1.tagged_block_number(BlockNumberOrTag::Finalized)?;
        let finalized = l1_final.and_then(|l1_final| {
            self.safe_from.iter().filter(|(_, l1)| **l1 <= l1_final).map(|(l2, _)| *l2).max()
        });
        // Kept for the L1 blocks a reorg's fork point is looked for in, finalized or not (a
        // devnet L1 reorganises blocks it called finalized).
        if let Some(f) = finalized {
            let oldest = self.l1_block.saturating_sub(READ_MEMORY as u64);
            let newest_final = self.safe_from.range(..=f).next_back().map(|(l2, _)| *l2);
            self.safe_from.retain(|l2, l1| *l1 >= oldest || Some(*l2) == newest_final);
        }
        if self.safe > safe_before || finalized.is_some() {
            chain.set_l1_heads(self.safe, finalized.unwrap_or(0))?;
        }
        Ok(())
    }

    fn derive_channel(&mut self, chain: &Chain, channel: &[u8]) -> eyre::Result<()> {
        let batches =
            match read_channel(channel, self.genesis_time, self.config.block_time, self.chain_id) {
                Ok(b) => b,
                Err(e) => {
                    tracing::debug!(target: "node::derive", %e, "dropping an unreadable channel");
                    return Ok(());
                }
            };
        for batch in batches {
            if !self.connects(chain, &batch)? {
                tracing::debug!(target: "node::derive", "dropping a span batch whose parent or L1 origin check fails");
                continue;
            }
            for el in batch.blocks {
                self.derive_element(chain, el)?;
            }
        }
        Ok(())
    }

    /// A span batch's checks (span-batches.md): `parent_check` is the hash of the chain's
    /// block before its first block (which must be at or below the safe head), and
    /// `l1_origin_check` the hash of its last block's L1 origin on this L1.
    fn connects(&self, chain: &Chain, batch: &SpanBatch) -> eyre::Result<bool> {
        let (Some(first), Some(last)) = (batch.blocks.first(), batch.blocks.last()) else {
            return Ok(false);
        };
        let Some(since) = first.timestamp.checked_sub(self.genesis_time) else { return Ok(false) };
        let Some(parent) = (since / self.config.block_time.max(1)).checked_sub(1) else {
            return Ok(false);
        };
        if parent > self.safe {
            return Ok(false); // it does not follow the safe head
        }
        let hash = chain.store().reader()?.block_hash(parent)?;
        if hash.map(|h| h[..20] == batch.parent_check) != Some(true) {
            return Ok(false);
        }
        Ok(match self.read.get(&last.epoch) {
            Some(h) => h[..20] == batch.l1_origin_check,
            // An origin after the block being read is invalid; one older than what is
            // remembered was checked when its blocks were first derived.
            None => last.epoch < self.read.keys().next().copied().unwrap_or(0),
        })
    }

    /// The block derivation builds on next: the safe head.
    fn parent(&self, chain: &Chain) -> eyre::Result<Parent> {
        let r = chain.store().reader()?;
        let head = r.head()?.unwrap_or_default();
        let n = self.safe.min(head);
        let header = r.header(n)?.ok_or_else(|| eyre::eyre!("safe block {n} has no header"))?;
        let (origin, seq) = crate::chain::l1_origin_at(&r, n, head)?;
        Ok(Parent { number: n, timestamp: header.timestamp, origin, seq })
    }

    fn derive_element(&mut self, chain: &Chain, el: SpanElement) -> eyre::Result<()> {
        let p = self.parent(chain)?;
        if el.timestamp <= p.timestamp {
            return Ok(()); // derived already
        }
        if el.timestamp != p.timestamp + self.config.block_time {
            tracing::debug!(target: "node::derive", ts = el.timestamp, safe = p.timestamp, "dropping a batch that does not follow the safe head");
            return Ok(());
        }
        if el.epoch + self.config.seq_window_size < self.l1_block {
            tracing::debug!(target: "node::derive", epoch = el.epoch, l1 = self.l1_block, "dropping a batch past its sequencing window");
            return Ok(());
        }
        let (attrs, seq, deposits) = if el.epoch == p.origin.number {
            (p.origin, p.seq + 1, Vec::new())
        } else if el.epoch == p.origin.number + 1 {
            let Some(epoch) = self.epochs.get(&el.epoch) else {
                tracing::debug!(target: "node::derive", epoch = el.epoch, "a batch for an L1 block not read yet");
                return Ok(());
            };
            (epoch.attrs, 0, epoch.deposits.clone())
        } else {
            tracing::debug!(target: "node::derive", epoch = el.epoch, origin = p.origin.number, "dropping a batch with an L1 origin out of order");
            return Ok(());
        };
        let mut txs = Vec::with_capacity(el.txs.len());
        for raw in &el.txs {
            let recovered = TxEnvelope::decode_2718(&mut raw.as_ref())
                .map_err(|e| e.to_string())
                .and_then(|tx| {
                    let hash = tx.tx_hash();
                    tx.try_into_recovered().map(|tx| (tx, hash)).map_err(|e| e.to_string())
                });
            match recovered {
                Ok((tx, hash)) => txs.push(Arc::new(PooledTx { tx, hash })),
                Err(e) => {
                    tracing::debug!(target: "node::derive", %e, "dropping a batch with a transaction that does not decode");
                    return Ok(());
                }
            }
        }
        self.apply(chain, &p, el.timestamp, attrs, seq, deposits, txs)
    }

    /// When the L1 has gone a whole sequencing window past the safe head's L1 origin without a
    /// batch for the next block, the spec's empty batches take its place: deposit-only blocks
    /// on the same origin until the L2 time reaches the next L1 block's, then on that one (its
    /// deposits included) — forced inclusion.
    fn force_empty_batches(&mut self, chain: &Chain) -> eyre::Result<()> {
        loop {
            let p = self.parent(chain)?;
            if p.origin.number + self.config.seq_window_size >= self.l1_block {
                return Ok(());
            }
            let Some(next) = self.epochs.get(&(p.origin.number + 1)) else { return Ok(()) };
            let ts = p.timestamp + self.config.block_time;
            let (attrs, seq, deposits) = if ts < next.attrs.timestamp {
                (p.origin, p.seq + 1, Vec::new())
            } else {
                (next.attrs, 0, next.deposits.clone())
            };
            tracing::debug!(target: "node::derive", ts, epoch = attrs.number, l1 = self.l1_block, "sequencing window expired: a deposit-only block");
            self.apply(chain, &p, ts, attrs, seq, deposits, Vec::new())?;
        }
    }

    /// Makes the block after `p` the one the L1 describes: the chain's own block when it is
    /// that block (the sequencer's, or one a follower derived before a restart), otherwise a
    /// new one built in its place (replacing any unsafe blocks above `p`).
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        chain: &Chain,
        p: &Parent,
        timestamp: u64,
        attrs: L1BlockAttributes,
        seq: u64,
        deposits: Vec<op_alloy_consensus::TxDeposit>,
        txs: Vec<Arc<PooledTx>>,
    ) -> eyre::Result<()> {
        let n = p.number + 1;
        if self.holds(chain, n, timestamp, &attrs, seq, &txs)? {
            self.made_safe(n);
            return Ok(());
        }
        if chain.head().number >= n {
            tracing::warn!(target: "node::derive", block = n, "the L1 describes another block than this chain's: replacing it");
        }
        let (number, hash) = chain.derive_block(p.number, timestamp, attrs, seq, deposits, txs)?;
        tracing::info!(target: "node::derive", number, %hash, epoch = attrs.number, "derived block");
        self.made_safe(number);
        // Epochs below the origin are not needed again.
        let keep = attrs.number;
        self.epochs.retain(|n, _| *n >= keep);
        Ok(())
    }

    /// Whether the chain's block `n` is the one described: time, L1 origin, sequence number and
    /// exactly these transactions after the deposits.
    fn holds(
        &self,
        chain: &Chain,
        n: u64,
        timestamp: u64,
        attrs: &L1BlockAttributes,
        seq: u64,
        txs: &[Arc<PooledTx>],
    ) -> eyre::Result<bool> {
        let r = chain.store().reader()?;
        let (Some(header), Some(body)) = (r.header(n)?, r.body(n)?) else { return Ok(false) };
        let head = r.head()?.unwrap_or_default();
        let (origin, own_seq) = crate::chain::l1_origin_at(&r, n, head)?;
        let ours = body.iter().filter(|(_, t)| !t.is_deposit()).map(|(_, t)| t.tx_hash());
        Ok(header.timestamp == timestamp
            && origin.number == attrs.number
            && origin.hash == attrs.hash
            && own_seq == seq
            && ours.eq(txs.iter().map(|t| t.hash)))
    }

    fn made_safe(&mut self, n: u64) {
        self.safe_from.insert(n, self.l1_block);
        self.safe = n;
    }
}
