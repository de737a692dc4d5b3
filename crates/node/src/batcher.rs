//! The batcher: posts the chain's blocks to the L1's batch inbox, from the batcher key
//! SystemConfig names, as span batches in brotli channels cut into frames (one frame per
//! calldata transaction). It resumes after the last block it saw included on the L1 (a cursor
//! in the datadir, advanced only once every frame of a channel has a successful receipt), so a
//! restart neither skips nor reposts blocks that are on the L1.

use crate::Chain;
use agnt2_batch::{BlockInput, ChannelOut, batcher_tx_data, span};
use agnt2_client::Client;
use agnt2_rpc::ChainApi;
use alloy_primitives::{Address, Bytes, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use eyre::WrapErr;
use std::path::PathBuf;

/// The largest frame (and so calldata) one transaction carries: op-batcher's default for
/// calldata (`MaxFrameSize` 120,000), under geth's 128 KiB transaction size limit.
pub const MAX_FRAME_SIZE: usize = 120_000;

/// How the batcher runs.
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// The batcher key (SystemConfig's `batcherHash`).
    pub key: PrivateKeySigner,
    /// The batch inbox on the L1.
    pub inbox: Address,
    /// The most blocks one channel carries.
    pub max_blocks: u64,
    /// Where the cursor lives.
    pub cursor: PathBuf,
}

/// What one round posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    /// The first and last L2 blocks of the channel.
    pub blocks: (u64, u64),
    /// Calldata transactions sent.
    pub txs: usize,
    /// Bytes of calldata.
    pub bytes: usize,
}

/// The batcher's state between rounds.
#[derive(Debug)]
pub struct Batcher {
    config: BatcherConfig,
    l1: Client,
    next: u64,
}

impl Batcher {
    /// A batcher resuming from its cursor (block 1 without one: genesis is not batched).
    pub fn new(config: BatcherConfig, l1: Client) -> eyre::Result<Self> {
        let next = match std::fs::read_to_string(&config.cursor) {
            Ok(s) => s
                .trim()
                .parse()
                .wrap_err_with(|| format!("{} is not a block number", config.cursor.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 1,
            Err(e) => {
                return Err(e).wrap_err_with(|| format!("reading {}", config.cursor.display()));
            }
        };
        Ok(Self { config, l1, next })
    }

    /// The next block to post.
    pub const fn next(&self) -> u64 {
        self.next
    }

    /// Posts the blocks after the cursor up to the head (at most `max_blocks`) as one channel;
    /// `None` when there is nothing new.
    pub fn step(&mut self, chain: &Chain) -> eyre::Result<Option<Posted>> {
        let head = chain.head().number;
        if self.next > head {
            return Ok(None);
        }
        let last = head.min(self.next + self.config.max_blocks - 1);
        let blocks = blocks(chain, self.next, last)?;
        let r = chain.reader()?;
        let genesis_time = r.header(0)?.map(|h| h.timestamp).unwrap_or_default();
        let block_time = chain.block_time().unwrap_or(1);
        let chain_id = chain.chain_spec().chain_id();
        let batch = span::encode(&blocks, genesis_time, block_time, chain_id)
            .wrap_err_with(|| format!("encoding blocks {}..={last}", self.next))?;
        let mut id = [0u8; 16];
        let seed = [
            self.config.key.address().as_slice(),
            &self.next.to_be_bytes(),
            &last.to_be_bytes(),
            &std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
                .to_be_bytes(),
        ]
        .concat();
        id.copy_from_slice(&keccak256(seed)[..16]);
        let mut channel = ChannelOut::new(id);
        channel.add_batch(&batch);
        let frames = channel.frames(MAX_FRAME_SIZE)?;
        let mut bytes = 0;
        for f in &frames {
            let data = batcher_tx_data([f]);
            bytes += data.len();
            // Fails on a revert as well: a frame that is not on the L1 is posted again with
            // its channel at the next round.
            self.l1
                .transact_receipt(&self.config.key, Some(self.config.inbox), U256::ZERO, data)
                .wrap_err("posting a frame to the batch inbox")?;
        }
        let posted = Posted { blocks: (self.next, last), txs: frames.len(), bytes };
        self.next = last + 1;
        write_cursor(&self.config.cursor, self.next)?;
        Ok(Some(posted))
    }
}

fn write_cursor(path: &PathBuf, next: u64) -> eyre::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, next.to_string())
        .wrap_err_with(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("writing {}", path.display()))
}

/// Blocks `from..=to` as the batcher sees them: timestamp, parent, L1 origin, non-deposit
/// transactions.
fn blocks(chain: &Chain, from: u64, to: u64) -> eyre::Result<Vec<BlockInput>> {
    let r = chain.store().reader()?;
    let head = r.head()?.unwrap_or_default();
    (from..=to)
        .map(|n| {
            let header = r.header(n)?.ok_or_else(|| eyre::eyre!("block {n} has no header"))?;
            let body = r.body(n)?.ok_or_else(|| eyre::eyre!("block {n} has no body"))?;
            let (origin, seq) = crate::chain::l1_origin_at(&r, n, head)?;
            let txs = body
                .iter()
                .filter(|(_, tx)| !tx.is_deposit())
                .map(|(_, tx)| Bytes::from(alloy_eips::eip2718::Encodable2718::encoded_2718(tx)))
                .collect();
            Ok(BlockInput {
                timestamp: header.timestamp,
                parent_hash: header.parent_hash,
                l1_origin: (origin.number, origin.hash),
                sequence_number: seq,
                txs,
            })
        })
        .collect()
}
