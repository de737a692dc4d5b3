//! The rollup components the node runs next to its chain when it settles on an L1: the L1
//! follower (confirmed L1 blocks and their deposits into the [`L1Inbox`], unwinding the L2 when
//! the L1 reorganises an adopted block away), the batcher (the chain's blocks to the batch inbox)
//! and the output-root proposer. The derivation pipeline joins them here.
//!
//! Each runs on its own thread (their L1 calls block) until the node shuts down.

use crate::{
    Chain, L1Inbox,
    batcher::{Batcher, BatcherConfig, DataAvailability},
};
use agnt2_client::Client;
use agnt2_primitives::L1BlockAttributes;
use agnt2_settlement::{Deployment, follow::L1Follower, propose::Proposer};
use alloy_primitives::{B256, U256};
use alloy_signer_local::PrivateKeySigner;
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

/// What the node needs to settle on an L1.
#[derive(Debug, Clone)]
pub struct RollupConfig {
    /// The L1's JSON-RPC (`http(s)://` or `ws(s)://`).
    pub l1_rpc_url: String,
    /// The L1 contracts the chain settles on.
    pub deployment: Deployment,
    /// L1 blocks below the head before one is adopted.
    pub confirmations: u64,
    /// How often the L1 is polled.
    pub poll: Duration,
    /// The key output roots are proposed with; proposals are made only when it is the
    /// oracle's proposer.
    pub proposer: Option<PrivateKeySigner>,
    /// The key batches are posted with; batches are posted only when it is SystemConfig's
    /// batcher.
    pub batcher: Option<PrivateKeySigner>,
    /// How batches reach the L1.
    pub da: DataAvailability,
    /// How batcher transactions that wait are sent again with higher fees.
    pub resubmit: agnt2_client::Resubmit,
    /// The most frames a channel fills (`--batcher.target-num-frames`).
    pub target_frames: usize,
    /// DA throttling of the miner when the L1 falls behind.
    pub throttle: crate::ThrottleConfig,
    /// The L1 beacon node's API the sequencer's own derivation reads blobs from (default: the
    /// L1 RPC URL, where anvil serves it).
    pub l1_beacon_url: Option<String>,
}

impl RollupConfig {
    /// Whether this node posts batches (its key is SystemConfig's batcher).
    pub fn batches(&self) -> bool {
        self.batcher.as_ref().is_some_and(|k| k.address() == self.deployment.config.batcher)
    }

    /// Whether this node posts output roots (its key is the oracle's proposer).
    pub fn proposes(&self) -> bool {
        self.proposer.as_ref().is_some_and(|k| k.address() == self.deployment.config.proposer)
    }

    /// The rollup configuration in op-node's `rollup.json` format, exactly (op-node and kona
    /// refuse unknown fields): what a follower needs next to the genesis and an L1 URL.
    fn op_node_json(&self, chain: &Chain) -> eyre::Result<serde_json::Value> {
        use agnt2_rpc::ChainApi;
        use agnt2_settlement::deploy::{BASE_FEE_SCALAR, BLOB_BASE_FEE_SCALAR};
        let d = &self.deployment;
        let r = chain.reader()?;
        let genesis_hash = r.block_hash(0)?.unwrap_or_default();
        let genesis_time = r.header(0)?.map(|h| h.timestamp).unwrap_or_default();
        let head = r.head()?.unwrap_or_default();
        // The L1 block the L2 genesis commits to (its L1Block predeploy).
        let (l1, _) = crate::chain::l1_origin_at(&r, 0, head)?;
        let scalar = (U256::from(1u8) << 248)
            | (U256::from(BLOB_BASE_FEE_SCALAR) << 32)
            | U256::from(BASE_FEE_SCALAR);
        // Every hardfork through Jovian is active from genesis.
        let mut cfg = serde_json::json!({
            "genesis": {
                "l1": {"hash": l1.hash, "number": l1.number},
                "l2": {"hash": genesis_hash, "number": 0},
                "l2_time": genesis_time,
                "system_config": {
                    "batcherAddr": d.config.batcher,
                    "overhead": B256::ZERO,
                    "scalar": B256::from(scalar),
                    "gasLimit": d.config.l2_gas_limit,
                    "baseFeeScalar": BASE_FEE_SCALAR,
                    "blobBaseFeeScalar": BLOB_BASE_FEE_SCALAR,
                },
            },
            "block_time": d.config.l2_block_time,
            "max_sequencer_drift": MAX_SEQUENCER_DRIFT,
            "seq_window_size": d.config.seq_window_size,
            "channel_timeout": CHANNEL_TIMEOUT,
            "l1_chain_id": d.l1_chain_id,
            "l2_chain_id": chain.chain_spec().chain_id(),
            "batch_inbox_address": d.config.batch_inbox,
            "deposit_contract_address": d.optimism_portal,
            "l1_system_config_address": d.system_config,
            "protocol_versions_address": alloy_primitives::Address::ZERO,
            "superchain_config_address": d.superchain_config,
        });
        for fork in [
            "regolith", "canyon", "delta", "ecotone", "fjord", "granite", "holocene", "isthmus",
            "jovian",
        ] {
            cfg[format!("{fork}_time")] = serde_json::json!(0);
        }
        Ok(cfg)
    }

    /// What `optimism_rollupConfig` serves: `rollup.json` plus what op-node's format has no
    /// field for (the oracle, the withdrawal period, the L1 contracts by their superchain-registry
    /// names, which wallets and bridges look up).
    fn json(&self, chain: &Chain) -> eyre::Result<serde_json::Value> {
        let d = &self.deployment;
        let mut cfg = self.op_node_json(chain)?;
        cfg["l2_output_oracle_address"] = serde_json::json!(d.l2_output_oracle);
        cfg["finalization_period_seconds"] =
            serde_json::json!(d.config.finalization_period_seconds);
        cfg["submission_interval"] = serde_json::json!(d.config.submission_interval);
        cfg["addresses"] = serde_json::json!({
            "SuperchainConfig": d.superchain_config,
            "L2OutputOracleProxy": d.l2_output_oracle,
            "SystemConfigProxy": d.system_config,
            "OptimismPortalProxy": d.optimism_portal,
            "L1CrossDomainMessengerProxy": d.l1_cross_domain_messenger,
            "L1StandardBridgeProxy": d.l1_standard_bridge,
        });
        Ok(cfg)
    }
}

pub use agnt2_settlement::deploy::SEQ_WINDOW_SIZE;
/// L1 blocks a channel may stay open (op-node's `channel_timeout` before Granite).
pub const CHANNEL_TIMEOUT: u64 = 300;
/// Seconds an L2 block may be ahead of its L1 origin (Fjord's constant, kept in the file).
pub const MAX_SEQUENCER_DRIFT: u64 = 1800;

/// The running components; they stop when this is dropped (at the next poll).
#[derive(Debug)]
pub(crate) struct Rollup {
    stop: Arc<AtomicBool>,
    /// Derivation checking the sequencer's own blocks against its batches (the safe head).
    _safe: crate::derive::Derivation,
}

impl Drop for Rollup {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts the follower (after the L1 origin the chain's head holds, unwinding first if the L1
/// lost it while the node was down) and, when the key is the oracle's, the proposer reading
/// output roots from the node at `l2_url`.
pub(crate) fn start(
    config: RollupConfig,
    chain: &Arc<Chain>,
    inbox: Arc<L1Inbox>,
    l2_url: &str,
    datadir: &std::path::Path,
) -> eyre::Result<Rollup> {
    let rollup_json = datadir.join("rollup.json");
    let text = serde_json::to_string_pretty(&config.op_node_json(chain)?)?;
    let tmp = rollup_json.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &rollup_json))
        .map_err(|e| eyre::eyre!("writing {}: {e}", rollup_json.display()))?;
    chain.set_rollup_config(config.json(chain)?);
    chain.set_seq_window(config.deployment.config.seq_window_size);
    let stop = Arc::new(AtomicBool::new(false));
    let l1 = Client::new(&config.l1_rpc_url)?;
    let d = &config.deployment;
    if let Some(key) = config.proposer.clone().filter(|_| config.proposes()) {
        let proposer = Proposer::new(l1.clone(), Client::new(l2_url)?, d.l2_output_oracle, key);
        spawn_proposer(proposer, config.poll, stop.clone())?;
    } else {
        tracing::info!(proposer = %d.config.proposer, "not the oracle's proposer: no output proposals");
    }
    if let Some(key) = config.batcher.clone().filter(|_| config.batches()) {
        let batcher = Batcher::new(
            BatcherConfig {
                da: config.da,
                key,
                inbox: d.config.batch_inbox,
                max_blocks: 600,
                target_frames: config.target_frames,
                cursor: datadir.join("batcher.json"),
                resubmit: config.resubmit,
            },
            l1.clone(),
            &chain.metrics().registry,
        )?;
        tracing::info!(next = batcher.next(), inbox = %d.config.batch_inbox, "batching to the L1");
        spawn_batcher(batcher, Arc::downgrade(chain), config.poll, stop.clone())?;
    } else {
        tracing::info!(batcher = %d.config.batcher, "not SystemConfig's batcher: no batches");
    }
    crate::throttle::spawn(config.throttle, Arc::downgrade(chain), stop.clone())?;
    let genesis_l1 = {
        let r = chain.store().reader()?;
        let head = r.head()?.unwrap_or_default();
        crate::chain::l1_origin_at(&r, 0, head)?.0.number
    };
    let safe = crate::derive::start(
        crate::derive::DeriveConfig {
            l1_rpc_url: config.l1_rpc_url.clone(),
            genesis_l1,
            block_time: d.config.l2_block_time,
            inbox: d.config.batch_inbox,
            batcher: d.config.batcher,
            system_config: d.system_config,
            portal: d.optimism_portal,
            // Checking its own blocks is not urgent: at most a round a second.
            poll: config.poll.max(Duration::from_secs(1)),
            sequencer_http: None,
            l1_beacon_url: config.l1_beacon_url.clone(),
            seq_window_size: d.config.seq_window_size,
        },
        chain,
    )?;
    let first = d.l1_start_block;
    let template = L1BlockAttributes {
        batcher_hash: B256::left_padding_from(d.config.batcher.as_slice()),
        ..L1BlockAttributes::dev(0, 0)
    };
    let mut follower =
        L1Follower::new(l1, d.optimism_portal, config.confirmations, first, template)
            .with_system_config(d.system_config);
    let genesis_batcher = template.batcher_hash;
    resume(chain, &mut follower, first, genesis_batcher)?;
    tracing::info!(next = follower.next(), portal = %d.optimism_portal, "following the L1");
    let chain = Arc::downgrade(chain);
    let (poll, halt) = (config.poll, stop.clone());
    // The reorg check costs a request: about once a second, whatever the poll interval.
    let check_every = (Duration::from_secs(1).as_millis() / poll.as_millis().max(1)).max(1);
    std::thread::Builder::new().name("l1-follower".into()).spawn(move || {
        let mut round: u128 = 0;
        while !halt.load(Ordering::Relaxed)
            && let Some(chain) = chain.upgrade()
        {
            round += 1;
            let mut step = || -> eyre::Result<()> {
                if round.is_multiple_of(check_every) && follower.reorged()? {
                    tracing::warn!("the L1 reorganised blocks the L2 follows: re-deriving");
                    resume(&chain, &mut follower, first, genesis_batcher)?;
                }
                if inbox.take_resync() {
                    // Derivation replaced blocks: adopt the L1 after the new head's origin.
                    resume(&chain, &mut follower, first, genesis_batcher)?;
                }
                // Keep the queue short: the miner adopts one L1 block per L2 block.
                if inbox.len() < 64 {
                    for e in follower.poll(16)? {
                        if !e.deposits.is_empty() {
                            tracing::info!(
                                l1 = e.attrs.number,
                                deposits = e.deposits.len(),
                                "L1 deposits"
                            );
                        }
                        inbox.push(e);
                    }
                }
                Ok(())
            };
            if let Err(err) = step() {
                tracing::warn!(err = %format!("{err:#}"), "following the L1 failed");
            }
            drop(chain);
            std::thread::sleep(poll);
        }
    })?;
    Ok(Rollup { stop, _safe: safe })
}

fn spawn_batcher(
    mut batcher: Batcher,
    chain: std::sync::Weak<Chain>,
    poll: Duration,
    stop: Arc<AtomicBool>,
) -> eyre::Result<()> {
    // A channel per round: at least a second of blocks, so frames are not tiny.
    let every = poll.max(Duration::from_secs(1));
    let builder =
        std::thread::Builder::new().name("batcher".into()).stack_size(crate::derive::BLOB_STACK);
    builder.spawn(move || {
        while !stop.load(Ordering::Relaxed)
            && let Some(chain) = chain.upgrade()
        {
            let behind = crate::batcher::round(&mut batcher, &*chain);
            drop(chain);
            if !behind {
                std::thread::sleep(every);
            }
        }
    })?;
    Ok(())
}

fn spawn_proposer(proposer: Proposer, poll: Duration, stop: Arc<AtomicBool>) -> eyre::Result<()> {
    std::thread::Builder::new().name("proposer".into()).spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match proposer.step() {
                Ok(Some(p)) => {
                    tracing::info!(l2 = p.l2_block, root = %p.output_root, tx = %p.tx, "proposed an output root")
                }
                Ok(None) => std::thread::sleep(poll),
                Err(err) => {
                    tracing::warn!(err = %format!("{err:#}"), "proposing failed");
                    std::thread::sleep(poll * 4);
                }
            }
        }
    })?;
    Ok(())
}

/// Unwinds the chain to its newest block whose L1 origin is on the L1 and points the follower
/// after that origin.
fn resume(
    chain: &Chain,
    follower: &mut L1Follower,
    first: u64,
    genesis_batcher: B256,
) -> eyre::Result<()> {
    let origin =
        chain.rewind_to_canonical_l1(first, |n, h| Ok(follower.block_hash(n)? == Some(h)))?;
    if origin.number >= first && origin.hash != B256::ZERO {
        // The batcher the head's origin left in effect (SystemConfig may have changed it).
        let batcher =
            if origin.batcher_hash == B256::ZERO { genesis_batcher } else { origin.batcher_hash };
        follower.reset(origin.number + 1, Some((origin.number, origin.hash)), batcher);
    } else {
        follower.reset(first, None, genesis_batcher);
    }
    Ok(())
}
