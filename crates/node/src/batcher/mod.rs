//! The batcher: posts the chain's blocks to the L1's batch inbox, from the batcher key
//! SystemConfig names, as span batches in brotli channels cut into frames: one frame per blob
//! and up to six blobs per EIP-4844 transaction (the default), or one frame per calldata
//! transaction.
//!
//! Its state (a JSON file in the datadir) is the next block to post and, for the channels not
//! yet [`REORG_DEPTH`] blocks deep on the L1, the L1 blocks their frames were included in. It
//! is written only once every frame of a channel has a successful receipt, so a restart
//! neither skips nor reposts blocks that are on the L1; and before each round the batcher
//! checks those L1 blocks are still canonical: when the L1 reorganises a frame away, the
//! channel and every later one are posted again.

mod source;

pub use source::{BlockSource, RpcSource, SpanParams};

use agnt2_batch::{ChannelOut, Frame, batcher_tx_data, blob, span};
use agnt2_client::{AnyTransactionReceipt, Client, MAX_BLOBS_PER_TX, Payload, Resubmit};
use agnt2_metrics::{Counter, Gauge, Registry};
use alloy_primitives::{Address, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use eyre::WrapErr;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// L1 blocks after which a channel's inclusion is taken as final and no longer checked.
pub const REORG_DEPTH: u64 = 64;

/// The largest frame (and so calldata) one transaction carries: op-batcher's default for
/// calldata (`MaxFrameSize` 120,000), under geth's 128 KiB transaction size limit.
pub const MAX_FRAME_SIZE: usize = 120_000;

/// How batches reach the L1 (op-batcher's `--data-availability-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DataAvailability {
    /// EIP-4844 blobs: one frame per blob, up to six blobs per transaction.
    #[default]
    Blobs,
    /// Calldata: one frame per transaction.
    Calldata,
}

impl std::str::FromStr for DataAvailability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "blobs" => Ok(Self::Blobs),
            "calldata" => Ok(Self::Calldata),
            _ => Err(format!("{s:?}: expected blobs or calldata")),
        }
    }
}

impl DataAvailability {
    /// The frames one L1 transaction carries: the default `--batcher.target-num-frames`.
    pub const fn frames_per_tx(self) -> usize {
        match self {
            Self::Blobs => MAX_BLOBS_PER_TX,
            Self::Calldata => 1,
        }
    }

    /// The largest frame one unit (a blob, a calldata transaction) carries.
    const fn max_frame_size(self) -> usize {
        match self {
            // The derivation version byte comes first.
            Self::Blobs => blob::MAX_BLOB_DATA_SIZE - 1,
            Self::Calldata => MAX_FRAME_SIZE,
        }
    }
}

/// How the batcher runs.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// Blobs or calldata.
    pub da: DataAvailability,
    /// The batcher key (SystemConfig's `batcherHash`).
    pub key: PrivateKeySigner,
    /// The batch inbox on the L1.
    pub inbox: Address,
    /// The most blocks one channel carries.
    pub max_blocks: u64,
    /// The most frames a channel fills when it can (op-batcher's `--target-num-frames`): six
    /// for blobs, one for calldata, so a channel is one L1 transaction.
    pub target_frames: usize,
    /// Where its state lives (`<datadir>/batcher.json`).
    pub cursor: PathBuf,
    /// How a batcher transaction that waits is sent again with higher fees.
    pub resubmit: Resubmit,
}

/// What one round posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    /// The first and last L2 blocks of the channel.
    pub blocks: (u64, u64),
    /// L1 transactions sent.
    pub txs: usize,
    /// Blobs sent.
    pub blobs: usize,
    /// Bytes of batcher data (the frames and their version bytes, before blob encoding).
    pub bytes: usize,
    /// Blocks still to post after this channel (the next round starts at once when there are).
    pub behind: u64,
}

/// A posted channel not yet final on the L1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Posting {
    /// The first L2 block it carries.
    first: u64,
    /// The L1 blocks (number, hash) its frames were included in.
    l1: Vec<(u64, alloy_primitives::B256)>,
}

/// What the state file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    next: u64,
    pending: Vec<Posting>,
    /// The newest block posted and its hash: when the chain no longer has it (derivation
    /// replaced unsafe blocks), the blocks after the safe head are posted again.
    #[serde(default)]
    posted: Option<(u64, alloy_primitives::B256)>,
}

/// The batcher's series (`agnt2_batcher_*`).
#[derive(Debug, Clone)]
struct Metrics {
    channels: Counter,
    txs: Counter,
    bytes: Counter,
    blobs: Counter,
    blocks: Counter,
    l1_gas: Counter,
    l1_fee_gwei: Counter,
    reposts: Counter,
    fee_bumps: Counter,
    pending_blocks: Gauge,
    safe_lag: Gauge,
}

impl Metrics {
    fn new(r: &Registry) -> Self {
        Self {
            channels: r.counter("agnt2_batcher_channels_total", "Channels posted to the L1"),
            txs: r.counter("agnt2_batcher_txs_total", "Batcher transactions included on the L1"),
            bytes: r.counter(
                "agnt2_batcher_bytes_total",
                "Batcher data posted to the L1 (frames, in calldata or blobs), in bytes",
            ),
            blobs: r.counter("agnt2_batcher_blobs_total", "Blobs posted to the L1"),
            blocks: r
                .counter("agnt2_batcher_blocks_total", "L2 blocks posted (again after a reorg)"),
            l1_gas: r.counter(
                "agnt2_batcher_l1_gas_used_total",
                "L1 gas the batcher's transactions used",
            ),
            l1_fee_gwei: r.counter(
                "agnt2_batcher_l1_fee_gwei_total",
                "What the batcher's transactions paid on the L1 (gas and blob gas), in gwei",
            ),
            reposts: r.counter(
                "agnt2_batcher_reposts_total",
                "Times the L1 lost a posted channel and the blocks were posted again",
            ),
            fee_bumps: r.counter(
                "agnt2_batcher_fee_bumps_total",
                "Batcher transactions signed again with higher fees because they waited",
            ),
            pending_blocks: r
                .gauge("agnt2_batcher_pending_blocks", "L2 blocks produced and not yet posted"),
            safe_lag: r.gauge(
                "agnt2_batcher_safe_lag_blocks",
                "L2 blocks between the head and the safe head (derived from the L1)",
            ),
        }
    }
}

/// The batcher's state between rounds.
#[derive(Debug)]
pub struct Batcher {
    config: BatcherConfig,
    l1: Client,
    state: State,
    metrics: Metrics,
    /// SystemConfig names another batcher.
    standing_down: bool,
}

impl Batcher {
    /// A batcher resuming from its state file (block 1 without one: genesis is not batched).
    pub fn new(config: BatcherConfig, l1: Client, registry: &Registry) -> eyre::Result<Self> {
        let state = match std::fs::read_to_string(&config.cursor) {
            Ok(s) => serde_json::from_str(&s).wrap_err_with(|| {
                format!("{} is not a batcher state file", config.cursor.display())
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                State { next: 1, pending: vec![], posted: None }
            }
            Err(e) => {
                return Err(e).wrap_err_with(|| format!("reading {}", config.cursor.display()));
            }
        };
        Ok(Self { config, l1, state, metrics: Metrics::new(registry), standing_down: false })
    }

    /// The next block to post.
    pub const fn next(&self) -> u64 {
        self.state.next
    }

    /// Drops the channels the L1 lost and those now final; returns the first L2 block to post
    /// again when a channel was lost.
    fn check_l1(&mut self) -> eyre::Result<Option<u64>> {
        // One request in the common case: when the newest inclusion block is still the one
        // recorded, so are all its ancestors (every older inclusion block). Hosted endpoints
        // count requests.
        let Some(&(n, hash)) = self.state.pending.iter().flat_map(|p| &p.l1).max_by_key(|b| b.0)
        else {
            return Ok(None);
        };
        let mut lost = None;
        if self.l1.header(n)?.map(|h| h.hash) != Some(hash) {
            'channels: for (i, p) in self.state.pending.iter().enumerate() {
                for (n, hash) in &p.l1 {
                    if self.l1.header(*n)?.map(|h| h.hash) != Some(*hash) {
                        lost = Some(i);
                        break 'channels;
                    }
                }
            }
        }
        let rewound = lost.map(|i| {
            let first = self.state.pending[i].first;
            self.state.pending.truncate(i);
            self.state.next = first;
            first
        });
        // Channels deep enough are final; n is at most the L1's head.
        self.state.pending.retain(|p| p.l1.iter().any(|(b, _)| b + REORG_DEPTH > n));
        if rewound.is_some() {
            write_state(&self.config.cursor, &self.state)?;
        }
        Ok(rewound)
    }

    /// Posts the blocks after the cursor up to the head (at most `max_blocks`) as one channel;
    /// `None` when there is nothing new.
    pub fn step(&mut self, chain: &impl BlockSource) -> eyre::Result<Option<Posted>> {
        if let Some(from) = self.check_l1()? {
            tracing::warn!(target: "node::batcher", from, "the L1 lost a batch: posting again");
            self.metrics.reposts.increment(1);
        }
        self.check_replaced(chain)?;
        // SystemConfig named another batcher: derivation would ignore these batches.
        let me = self.config.key.address();
        match chain.batcher()? {
            Some(b) if b != me => {
                if !self.standing_down {
                    tracing::warn!(target: "node::batcher", batcher = %b, key = %me, "SystemConfig names another batcher: not posting");
                    self.standing_down = true;
                }
                return Ok(None);
            }
            _ if self.standing_down => {
                tracing::info!(target: "node::batcher", key = %me, "SystemConfig names this batcher again: posting");
                self.standing_down = false;
            }
            _ => {}
        }
        let head = chain.head_number()?;
        let next = self.state.next;
        self.metrics.safe_lag.set(head.saturating_sub(chain.safe_head_number()?) as f64);
        self.metrics.pending_blocks.set((head + 1).saturating_sub(next) as f64);
        if next > head {
            return Ok(None);
        }
        let mut last = head.min(next + self.config.max_blocks - 1);
        let (mut blocks, mut last_hash) = chain.blocks(next, last)?;
        let p = chain.span_params()?;
        // A channel fills at most the target number of frames (one L1 transaction by
        // default, so a channel lands whole or not at all): fewer blocks while it is over,
        // down to a single block, which goes whatever its size.
        let target = self.config.target_frames.max(1);
        let (channel, frames) = loop {
            let batch = span::encode(&blocks, p.genesis_time, p.block_time, p.chain_id)
                .wrap_err_with(|| format!("encoding blocks {next}..={last}"))?;
            let mut channel = ChannelOut::new(self.channel_id(next, last));
            channel.add_batch(&batch);
            let frames = channel.frames(self.config.da.max_frame_size())?;
            let n = blocks.len();
            if frames.len() <= target || n == 1 {
                break (channel, frames);
            }
            let keep = (n * target / frames.len()).clamp(1, n - 1);
            // The block after the last kept one names its hash.
            last_hash = blocks[keep].parent_hash;
            blocks.truncate(keep);
            last = next + keep as u64 - 1;
        };
        drop(channel);
        let (mut bytes, mut blobs) = (0, 0);
        let mut included = Vec::new();
        // Fails on a revert as well: a frame that is not on the L1 is posted again with its
        // channel at the next round.
        let units: Vec<&[Frame]> = match self.config.da {
            DataAvailability::Blobs => frames.chunks(MAX_BLOBS_PER_TX).collect(),
            DataAvailability::Calldata => frames.chunks(1).collect(),
        };
        for unit in &units {
            let r = match self.config.da {
                DataAvailability::Blobs => {
                    let datas: Vec<Vec<u8>> = unit.iter().map(|f| batcher_tx_data([f])).collect();
                    bytes += datas.iter().map(Vec::len).sum::<usize>();
                    blobs += datas.len();
                    let encoded = datas
                        .iter()
                        .map(|d| blob::encode(d))
                        .collect::<Result<Vec<_>, _>>()
                        .wrap_err("encoding a frame into a blob")?;
                    let blobs = Payload::Blobs { to: self.config.inbox, blobs: encoded };
                    self.send(blobs).wrap_err("posting frames to the batch inbox in blobs")?
                }
                DataAvailability::Calldata => {
                    let data = batcher_tx_data(unit.iter());
                    bytes += data.len();
                    let call =
                        Payload::Call { to: Some(self.config.inbox), value: U256::ZERO, data };
                    self.send(call).wrap_err("posting a frame to the batch inbox")?
                }
            };
            if let (Some(n), Some(h)) = (r.block_number, r.block_hash) {
                included.push((n, h));
            }
        }
        // A channel whose frames landed further apart than the channel timeout is dropped by
        // derivation: post its blocks again (only a block too big for one transaction spans
        // several).
        let (first_l1, last_l1) = (
            included.iter().map(|b| b.0).min().unwrap_or_default(),
            included.iter().map(|b| b.0).max().unwrap_or_default(),
        );
        if last_l1 - first_l1 >= agnt2_batch::assembler::GRANITE_CHANNEL_TIMEOUT {
            self.metrics.reposts.increment(1);
            eyre::bail!(
                "the frames of blocks {next}..={last} landed in L1 blocks {first_l1}..={last_l1}, past the channel timeout: posting again"
            );
        }
        self.metrics.blobs.increment(blobs as u64);
        self.metrics.channels.increment(1);
        self.metrics.bytes.increment(bytes as u64);
        self.metrics.blocks.increment(last + 1 - next);
        self.metrics.pending_blocks.set((head - last) as f64);
        let posted =
            Posted { blocks: (next, last), txs: units.len(), blobs, bytes, behind: head - last };
        self.state.pending.push(Posting { first: next, l1: included });
        self.state.next = last + 1;
        // The hash of the block as it was read (the chain may have replaced it meanwhile: then
        // the next round notices and posts again).
        self.state.posted = Some((last, last_hash));
        write_state(&self.config.cursor, &self.state)?;
        Ok(Some(posted))
    }
}

impl Batcher {
    /// A fresh channel id: the key, the blocks and the time, hashed.
    fn channel_id(&self, next: u64, last: u64) -> [u8; 16] {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = [
            self.config.key.address().as_slice(),
            &next.to_be_bytes(),
            &last.to_be_bytes(),
            &nanos.to_be_bytes(),
        ]
        .concat();
        let mut id = [0u8; 16];
        id.copy_from_slice(&keccak256(seed)[..16]);
        id
    }

    /// When the chain no longer holds the newest block posted (derivation replaced unsafe
    /// blocks the L1 decided against), posts again from the block after the safe head.
    fn check_replaced(&mut self, chain: &impl BlockSource) -> eyre::Result<()> {
        let Some((n, hash)) = self.state.posted else { return Ok(()) };
        if chain.block_hash(n)? == Some(hash) {
            return Ok(());
        }
        // Never forward: the L1 check may have gone further back (its batches were lost).
        let from = (chain.safe_head_number()? + 1).min(self.state.next);
        tracing::warn!(target: "node::batcher", posted = n, from, "the chain replaced posted blocks: posting again after the safe head");
        self.metrics.reposts.increment(1);
        self.state.next = from;
        self.state.pending.retain(|p| p.first < from);
        self.state.posted = None;
        write_state(&self.config.cursor, &self.state)
    }

    /// Sends a batcher transaction (bumping its fees while it waits) and counts it; fails
    /// when it reverted.
    fn send(&self, payload: Payload) -> eyre::Result<AnyTransactionReceipt> {
        let included =
            self.l1.send_resubmitting(&self.config.key, payload, self.config.resubmit)?;
        self.metrics.fee_bumps.increment(u64::from(included.bumps));
        let r = included.receipt;
        self.count(&r);
        if !agnt2_client::ReceiptResponse::status(&r) {
            eyre::bail!("batcher transaction {} reverted", r.transaction_hash);
        }
        Ok(r)
    }

    /// Counts an included batcher transaction: gas and blob gas paid.
    fn count(&self, r: &AnyTransactionReceipt) {
        self.metrics.txs.increment(1);
        self.metrics.l1_gas.increment(r.gas_used);
        let fee = u128::from(r.gas_used).saturating_mul(r.effective_gas_price).saturating_add(
            u128::from(r.blob_gas_used.unwrap_or_default())
                .saturating_mul(r.blob_gas_price.unwrap_or_default()),
        );
        self.metrics.l1_fee_gwei.increment((fee / 1_000_000_000) as u64);
    }
}

/// One batcher round, logged; whether blocks are left to post at once (a backlog).
pub fn round(batcher: &mut Batcher, chain: &impl BlockSource) -> bool {
    match batcher.step(chain) {
        Ok(Some(p)) => {
            tracing::info!(
                blocks = ?p.blocks, txs = p.txs, blobs = p.blobs, bytes = p.bytes, behind = p.behind, "posted a channel"
            );
            p.behind > 0
        }
        Ok(None) => false,
        Err(err) => {
            tracing::warn!(err = %format!("{err:#}"), "batching failed");
            false
        }
    }
}

fn write_state(path: &PathBuf, state: &State) -> eyre::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(state)?)
        .wrap_err_with(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("writing {}", path.display()))
}
