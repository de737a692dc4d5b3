//! `agnt2 bench builder`: the parallel builder against the sequential one on generated
//! workloads, on a throwaway chain, same transactions, same order, same parent state.
//!
//! Setup (committed blocks): `senders` fresh accounts funded by the dev accounts, and what the
//! workload needs — a token with balances for every sender, one pool per sender, agents with a
//! service contract each and a granted capability, a hot counter. The measured block is built
//! `rounds` times by each builder without committing; times are medians; the state roots and
//! receipts of both builds are compared.

use crate::{Accounts, Harness, artifact, calls, median};
use agnt2_agent::{CAPABILITIES, IDENTITY, REPUTATION};
use agnt2_builder::{ParallelBuilder, ParallelStats, SequentialBuilder};
use agnt2_primitives::ChainSpec;
use agnt2_rpc::ChainApi;
use agnt2_txpool::PooledTx;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue, sol};
use serde::Serialize;
use std::{path::Path, str::FromStr, sync::Arc};

sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function spread(address[] to, uint256 value) external;
    function swap(uint256 amountIn, bool zeroForOne) external returns (uint256 amountOut);
    function serve(bytes32 job) external returns (bytes32 result);
    function increment() external;
    function grant(uint256 agentId, bytes32 capability, bytes32 scope, uint256 limit, uint64 expiry) external;
}

/// The workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Plain ETH transfers to fresh addresses.
    Transfer,
    /// ERC-20 transfers between senders and fresh addresses.
    Erc20,
    /// Agents: clients calling agents' service contracts (which check a capability in the
    /// native registry) and rating the agents in the native ReputationRegistry.
    Agent,
    /// Swaps on independent constant-product pools.
    Swap,
    /// Every transaction increments one counter.
    Contended,
    /// A blend: transfers, ERC-20, agents and swaps, with a 20% hot fraction on one counter.
    Mixed,
}

impl FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "transfer" => Self::Transfer,
            "erc20" => Self::Erc20,
            "agent" => Self::Agent,
            "swap" => Self::Swap,
            "contended" => Self::Contended,
            "mixed" => Self::Mixed,
            other => {
                return Err(format!(
                    "unknown workload {other:?} (transfer, erc20, agent, swap, contended, mixed)"
                ));
            }
        })
    }
}

impl Workload {
    /// Its name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Transfer => "transfer",
            Self::Erc20 => "erc20",
            Self::Agent => "agent",
            Self::Swap => "swap",
            Self::Contended => "contended",
            Self::Mixed => "mixed",
        }
    }
}

/// The report of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Workload name.
    pub workload: &'static str,
    /// Transactions offered.
    pub txs: usize,
    /// Transactions included (the same in both builds).
    pub included: usize,
    /// Builder threads.
    pub threads: usize,
    /// Sequential build time, ms (median).
    pub seq_ms: f64,
    /// Parallel build time, ms (median).
    pub par_ms: f64,
    /// seq_ms / par_ms.
    pub speedup: f64,
    /// Included transactions per second, parallel.
    pub tps_par: f64,
    /// Included transactions per second, sequential.
    pub tps_seq: f64,
    /// Mean execution time of one transaction, sequential, µs.
    pub us_per_tx: f64,
    /// Same state root and receipts from both builds.
    pub roots_equal: bool,
    /// The parallel builder's counters (last round).
    pub stats: ParallelStats,
    /// The node's whole pipeline for the block (senders already recovered, in the pool):
    /// build with its builder, state root, MDBX commit. Milliseconds.
    pub pipeline_ms: f64,
    /// Included transactions per second through that pipeline.
    pub pipeline_tps: f64,
    /// Rounds.
    pub rounds: usize,
}

/// Fresh keys (deterministic).
fn keys(n: usize) -> eyre::Result<Vec<PrivateKeySigner>> {
    (0..n)
        .map(|i| {
            let k = keccak256(format!("agnt2 bench sender {i}"));
            PrivateKeySigner::from_bytes(&k).map_err(|e| eyre::eyre!("sender key {i}: {e}"))
        })
        .collect()
}

fn fresh(i: usize) -> Address {
    Address::from_word(keccak256(format!("agnt2 bench recipient {i}")))
}

/// A throwaway chain set up for `workload` (accounts funded, contracts deployed) and a block of
/// `txs` of its signed transactions, round-robin over senders as a pool hands them out.
pub fn workload_block(
    workload: Workload,
    txs: usize,
    threads: usize,
    out: &Path,
) -> eyre::Result<(Harness, Vec<Arc<PooledTx>>)> {
    let mut spec = ChainSpec::devnet();
    // Room for every workload's block (the devnet's 100M would cut it).
    spec.genesis.gas_limit = 4_000_000_000;
    let mut h = Harness::with_spec(spec, threads)?;
    let chain_id = h.chain.chain_spec().chain_id();
    let n_senders = txs.clamp(1, 512);
    let mut senders = Accounts::from_signers(keys(n_senders)?, chain_id);

    // Fund the senders (1 ETH each, from the 20 dev accounts).
    let mut setup = Vec::new();
    for i in 0..n_senders {
        let to = senders.address(i);
        setup.push(h.accounts.tx(
            i % 20,
            Some(to),
            Bytes::new(),
            U256::from(10u128.pow(18)),
            21_000,
        )?);
    }
    h.include(&setup)?;

    // Contracts and state the workloads need.
    let needs = |w: Workload| workload == w || workload == Workload::Mixed;
    let token = if needs(Workload::Erc20) {
        let mut code = artifact(out, "Bench.sol", "BenchToken")?.to_vec();
        code.extend_from_slice(&U256::from(10u128.pow(30)).abi_encode());
        let token = h.deploy(code.into())?;
        let all: Vec<Address> = (0..n_senders).map(|i| senders.address(i)).collect();
        let mut setup = Vec::new();
        for chunk in all.chunks(200) {
            let input =
                spreadCall { to: chunk.to_vec(), value: U256::from(10u128.pow(24)) }.abi_encode();
            setup.push(h.accounts.tx(0, Some(token), input.into(), U256::ZERO, 30_000_000)?);
        }
        h.include(&setup)?;
        Some(token)
    } else {
        None
    };
    let pools = if needs(Workload::Swap) {
        let code = artifact(out, "Bench.sol", "BenchPool")?;
        let mut setup = Vec::new();
        let mut pools = Vec::new();
        for i in 0..n_senders {
            let from = h.accounts.address(i % 20);
            pools.push(from.create(h.accounts.nonces[i % 20]));
            setup.push(h.accounts.tx(i % 20, None, code.clone(), U256::ZERO, 3_000_000)?);
        }
        h.include(&setup)?;
        pools
    } else {
        Vec::new()
    };
    let agents = if needs(Workload::Agent) {
        let n_agents = n_senders.div_ceil(4).max(1);
        let code = artifact(out, "Bench.sol", "BenchAgentService")?;
        let serve_cap = keccak256("serve");
        let mut services = Vec::new();
        let mut setup = Vec::new();
        // Agent k is registered by dev account (k % 20); its id comes from the Transfer event.
        for k in 0..n_agents {
            let input = calls::register(format!("ipfs://bench/agent/{k}"));
            setup.push(h.accounts.tx(k % 20, Some(IDENTITY), input, U256::ZERO, 500_000)?);
        }
        let ids: Vec<U256> = h
            .include(&setup)?
            .iter()
            .map(|r| {
                r.logs()
                    .first()
                    .and_then(|l| l.topics().get(3))
                    .map(|t| U256::from_be_bytes(t.0))
                    .ok_or_else(|| eyre::eyre!("register left no Transfer event"))
            })
            .collect::<eyre::Result<_>>()?;
        setup = Vec::new();
        for (k, id) in ids.iter().enumerate() {
            let mut c = code.to_vec();
            c.extend_from_slice(&id.abi_encode());
            let from = h.accounts.address(k % 20);
            services.push(from.create(h.accounts.nonces[k % 20]));
            setup.push(h.accounts.tx(k % 20, None, c.into(), U256::ZERO, 3_000_000)?);
            let g = grantCall {
                agentId: *id,
                capability: serve_cap,
                scope: B256::ZERO,
                limit: U256::ZERO,
                expiry: 0,
            };
            setup.push(h.accounts.tx(
                k % 20,
                Some(CAPABILITIES),
                g.abi_encode().into(),
                U256::ZERO,
                500_000,
            )?);
        }
        // Each sender rates its agent once, so measured feedback is the steady state.
        for i in 0..n_senders {
            let input = feedback(ids[i % n_agents], i);
            setup.push(senders.tx(i, Some(REPUTATION), input, U256::ZERO, 1_000_000)?);
        }
        h.include(&setup)?;
        services.into_iter().zip(ids).collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    let counter = if needs(Workload::Contended) {
        let mut code = artifact(out, "Counter.sol", "Counter")?.to_vec();
        code.extend_from_slice(&U256::ZERO.abi_encode());
        Some(h.deploy(code.into())?)
    } else {
        None
    };

    // The measured block: round-robin over senders, as a pool hands out equal-fee senders.
    let mut block: Vec<Arc<PooledTx>> = Vec::with_capacity(txs);
    for t in 0..txs {
        let i = t % n_senders;
        let kind = match workload {
            Workload::Mixed => match t % 10 {
                0 | 1 => Workload::Contended,
                2 | 3 => Workload::Transfer,
                4 | 5 => Workload::Erc20,
                6 | 7 => Workload::Agent,
                _ => Workload::Swap,
            },
            w => w,
        };
        let (to, input, value, gas): (Option<Address>, Bytes, U256, u64) = match kind {
            Workload::Transfer => (Some(fresh(t)), Bytes::new(), U256::from(1000 + t), 21_000),
            Workload::Erc20 => {
                // Mostly new holders; one in ten pays another sender.
                let to = if t % 10 == 9 { senders.address((i + 7) % n_senders) } else { fresh(t) };
                let input = transferCall { to, value: U256::from(1 + t) }.abi_encode();
                (token, input.into(), U256::ZERO, 100_000)
            }
            Workload::Swap => {
                let input = swapCall {
                    amountIn: U256::from(10u64.pow(15) + t as u64),
                    zeroForOne: t % 2 == 0,
                };
                (Some(pools[i]), input.abi_encode().into(), U256::ZERO, 300_000)
            }
            Workload::Agent => {
                let agent = i % agents.len();
                if t % 3 == 2 {
                    (Some(REPUTATION), feedback(agents[agent].1, t), U256::ZERO, 1_000_000)
                } else {
                    let input = serveCall { job: keccak256(t.to_be_bytes()) }.abi_encode();
                    // A client calls another agent's service now and then.
                    let service = agents[(agent + t / n_senders) % agents.len()].0;
                    (Some(service), input.into(), U256::ZERO, 300_000)
                }
            }
            Workload::Contended | Workload::Mixed => {
                (counter, incrementCall {}.abi_encode().into(), U256::ZERO, 100_000)
            }
        };
        block.push(senders.tx(i, to, input, value, gas)?);
    }
    Ok((h, block))
}

/// Runs one workload: `txs` transactions, `threads` builder threads, `rounds` rounds.
pub fn run(
    workload: Workload,
    txs: usize,
    threads: usize,
    rounds: usize,
    out: &Path,
) -> eyre::Result<Report> {
    let (h, block) = workload_block(workload, txs, threads, out)?;

    let sequential = SequentialBuilder::new(h.chain.evm().clone());
    let parallel = ParallelBuilder::new(h.chain.evm().clone(), threads, 0);
    let (mut ts, mut tp) = (Vec::new(), Vec::new());
    let mut roots_equal = true;
    let mut included = 0;
    for _ in 0..rounds {
        let s = h.chain.dry_run(&sequential, &block)?;
        let p = h.chain.dry_run(&parallel, &block)?;
        roots_equal &= s.state_root == p.state_root && s.block.receipts == p.block.receipts;
        included = s.block.txs.len() - 1;
        ts.push(s.elapsed.as_secs_f64() * 1e3);
        tp.push(p.elapsed.as_secs_f64() * 1e3);
    }
    let (seq_ms, par_ms) = (median(&mut ts), median(&mut tp));

    // The pipeline: the same block through the node's pool, builder, state root and commit.
    for tx in &block {
        h.chain.submit_recovered(tx.tx.clone(), tx.hash).map_err(|e| eyre::eyre!("pool: {e}"))?;
    }
    let started = std::time::Instant::now();
    let (_, mined) = h.chain.mine_block()?;
    let pipeline_ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(Report {
        workload: workload.name(),
        txs,
        included,
        threads,
        seq_ms,
        par_ms,
        speedup: seq_ms / par_ms.max(f64::MIN_POSITIVE),
        tps_par: included as f64 / (par_ms / 1e3).max(f64::MIN_POSITIVE),
        tps_seq: included as f64 / (seq_ms / 1e3).max(f64::MIN_POSITIVE),
        us_per_tx: seq_ms * 1e3 / included.max(1) as f64,
        roots_equal,
        stats: parallel.last_stats(),
        pipeline_ms,
        pipeline_tps: mined as f64 / (pipeline_ms / 1e3).max(f64::MIN_POSITIVE),
        rounds,
    })
}

fn feedback(agent: U256, i: usize) -> Bytes {
    calls::feedback(agent, 80 + (i % 20) as i128, "")
}
