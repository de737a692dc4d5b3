//! Where the batcher reads the chain: the sequencer's own database (the batcher inside
//! `agnt2 node`/`launch`), or an L2 node's JSON-RPC (`agnt2 batcher`, standalone).

use crate::Chain;
use agnt2_batch::BlockInput;
use agnt2_client::Client;
use agnt2_primitives::L1BlockAttributes;
use agnt2_primitives::constants::L1_BLOCK;
use agnt2_rpc::ChainApi;
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes};
use eyre::{WrapErr, bail, eyre};

/// What a span batch needs besides the blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanParams {
    /// The L2 genesis timestamp.
    pub genesis_time: u64,
    /// Seconds per L2 block.
    pub block_time: u64,
    /// The L2 chain id.
    pub chain_id: u64,
}

/// The chain as the batcher reads it.
pub trait BlockSource {
    /// The newest block.
    fn head_number(&self) -> eyre::Result<u64>;
    /// The newest block derived from the L1.
    fn safe_head_number(&self) -> eyre::Result<u64>;
    /// The hash of block `n`, `None` past the head.
    fn block_hash(&self, n: u64) -> eyre::Result<Option<B256>>;
    /// Blocks `from..=to` (timestamp, parent, L1 origin, non-deposit transactions) from one
    /// consistent view of the chain, and the hash of the last.
    fn blocks(&self, from: u64, to: u64) -> eyre::Result<(Vec<BlockInput>, B256)>;
    /// The chain's span batch parameters.
    fn span_params(&self) -> eyre::Result<SpanParams>;
    /// The batcher the head's L1 origin names (SystemConfig's `batcherHash` as the L1Block
    /// predeploy holds it); `None` when it names none.
    fn batcher(&self) -> eyre::Result<Option<Address>>;
}

/// The address a version-0 batcher hash names.
fn batcher_of(hash: B256) -> Option<Address> {
    (hash != B256::ZERO).then(|| Address::from_slice(&hash[12..]))
}

impl BlockSource for Chain {
    fn head_number(&self) -> eyre::Result<u64> {
        Ok(self.head().number)
    }

    fn safe_head_number(&self) -> eyre::Result<u64> {
        Ok(self.reader()?.safe_head()?)
    }

    fn block_hash(&self, n: u64) -> eyre::Result<Option<B256>> {
        Ok(self.reader()?.block_hash(n)?)
    }

    fn blocks(&self, from: u64, to: u64) -> eyre::Result<(Vec<BlockInput>, B256)> {
        let r = self.store().reader()?;
        let head = r.head()?.unwrap_or_default();
        let last = r.block_hash(to)?.ok_or_else(|| eyre!("block {to} has no hash"))?;
        let blocks = (from..=to)
            .map(|n| {
                let header = r.header(n)?.ok_or_else(|| eyre!("block {n} has no header"))?;
                let body = r.body(n)?.ok_or_else(|| eyre!("block {n} has no body"))?;
                let (origin, seq) = crate::chain::l1_origin_at(&r, n, head)?;
                let txs = body
                    .iter()
                    .filter(|(_, tx)| !tx.is_deposit())
                    .map(|(_, tx)| {
                        Bytes::from(alloy_eips::eip2718::Encodable2718::encoded_2718(tx))
                    })
                    .collect();
                Ok(BlockInput {
                    timestamp: header.timestamp,
                    parent_hash: header.parent_hash,
                    l1_origin: (origin.number, origin.hash),
                    sequence_number: seq,
                    txs,
                })
            })
            .collect::<eyre::Result<Vec<_>>>()?;
        Ok((blocks, last))
    }

    fn span_params(&self) -> eyre::Result<SpanParams> {
        let genesis_time = self.reader()?.header(0)?.map(|h| h.timestamp).unwrap_or_default();
        Ok(SpanParams {
            genesis_time,
            block_time: self.block_time().unwrap_or(1),
            chain_id: self.chain_spec().chain_id(),
        })
    }

    fn batcher(&self) -> eyre::Result<Option<Address>> {
        let r = self.store().reader()?;
        let head = r.head()?.unwrap_or_default();
        Ok(batcher_of(crate::chain::l1_origin_at(&r, head, head)?.0.batcher_hash))
    }
}

/// An L2 node's JSON-RPC (the sequencer, or a follower of it).
#[derive(Debug, Clone)]
pub struct RpcSource {
    l2: Client,
    params: SpanParams,
}

impl RpcSource {
    /// Reads the chain at `l2` with the parameters of `rollup` (op-node's rollup.json:
    /// `genesis.l2_time`, `block_time`, `l2_chain_id`); fails when the node serves another
    /// chain.
    pub fn new(l2: Client, rollup: &serde_json::Value) -> eyre::Result<Self> {
        let num = |p: &str| {
            rollup.pointer(p).and_then(serde_json::Value::as_u64).ok_or_else(|| {
                eyre!("the rollup config has no {}", p.trim_start_matches('/').replace('/', "."))
            })
        };
        let params = SpanParams {
            genesis_time: num("/genesis/l2_time")?,
            block_time: num("/block_time")?,
            chain_id: num("/l2_chain_id")?,
        };
        let served = l2.chain_id().wrap_err("asking the L2 node its chain id")?;
        if served != params.chain_id {
            bail!(
                "the L2 node serves chain {served}, the rollup config is chain {}",
                params.chain_id
            );
        }
        Ok(Self { l2, params })
    }
}

impl BlockSource for RpcSource {
    fn head_number(&self) -> eyre::Result<u64> {
        self.l2.block_number()
    }

    fn safe_head_number(&self) -> eyre::Result<u64> {
        Ok(self.l2.tagged_block_number(BlockNumberOrTag::Safe)?.unwrap_or_default())
    }

    fn block_hash(&self, n: u64) -> eyre::Result<Option<B256>> {
        Ok(self.l2.header(n)?.map(|h| h.hash))
    }

    fn blocks(&self, from: u64, to: u64) -> eyre::Result<(Vec<BlockInput>, B256)> {
        let mut out = Vec::with_capacity((to + 1 - from) as usize);
        let mut last = None;
        for n in from..=to {
            let b = self.l2.raw_block(n)?.ok_or_else(|| eyre!("the L2 node has no block {n}"))?;
            // One chain: a reorg between two reads shows as a parent that does not match.
            if let Some(prev) = last
                && b.parent_hash != prev
            {
                bail!("block {n} does not extend the block read before it: the L2 reorganised");
            }
            let (origin, seq) = L1BlockAttributes::from_calldata(&b.first_input)
                .ok_or_else(|| eyre!("block {n} does not start with an L1-info deposit"))?;
            last = Some(b.hash);
            out.push(BlockInput {
                timestamp: b.timestamp,
                parent_hash: b.parent_hash,
                l1_origin: (origin.number, origin.hash),
                sequence_number: seq,
                txs: b.txs,
            });
        }
        Ok((out, last.ok_or_else(|| eyre!("no blocks in {from}..={to}"))?))
    }

    fn span_params(&self) -> eyre::Result<SpanParams> {
        Ok(self.params)
    }

    fn batcher(&self) -> eyre::Result<Option<Address>> {
        // `batcherHash()` of the L1Block predeploy.
        let out = self.l2.eth_call(L1_BLOCK, &alloy_primitives::keccak256("batcherHash()")[..4])?;
        if out.len() != 32 {
            bail!("L1Block.batcherHash() answered {} bytes", out.len());
        }
        Ok(batcher_of(B256::from_slice(&out)))
    }
}
