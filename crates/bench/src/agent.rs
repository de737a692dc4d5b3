//! `agnt2 bench agent`: gas and execution time of the native ERC-8004 precompiles against the
//! same functions written in Solidity (`contracts/src/reference/`), on one chain in one run.
//!
//! Both sides start from the same kind of state: an agent registered, and every client has
//! already given it one feedback and registered one agent, so the measured calls are the
//! steady state (no first-time list or balance slot). Each round builds one block of `calls`
//! transactions per side without committing it and subtracts the time of an empty block.

use crate::{Harness, artifact, calls, median};
use agnt2_agent::{IDENTITY, REPUTATION};
use agnt2_builder::SequentialBuilder;
use agnt2_rpc::ChainApi;
use agnt2_txpool::PooledTx;
use alloy_primitives::{Address, Bytes, U256, address};
use alloy_sol_types::SolValue;
use serde::Serialize;
use std::{path::Path, sync::Arc};

/// One side's figures for one function.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Side {
    /// Gas of the transaction (what the sender pays for).
    pub gas: u64,
    /// Gas beyond the intrinsic 21,000 and calldata: the registry's own work.
    pub exec_gas: u64,
    /// Execution time per call in microseconds (median over rounds).
    pub us: f64,
}

/// Native against Solidity for one function.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The function.
    pub function: &'static str,
    /// The precompile.
    pub native: Side,
    /// The Solidity implementation.
    pub solidity: Side,
    /// Solidity gas / native gas (whole transaction).
    pub gas_ratio: f64,
    /// Solidity / native gas of the registry's own work.
    pub exec_gas_ratio: f64,
    /// Solidity time / native time.
    pub time_ratio: f64,
    /// The same above the transfer floor: the registry's own work.
    pub work_time_ratio: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Calls per block.
    pub calls: usize,
    /// Rounds (the time is their median).
    pub rounds: usize,
    /// Time per plain ETH transfer in microseconds: the per-transaction floor (signature
    /// checks aside, which happen at pool admission) that both sides pay on top of their work.
    pub transfer_us: f64,
    /// One row per function.
    pub results: Vec<Row>,
}

fn intrinsic(input: &[u8]) -> u64 {
    21_000 + input.iter().map(|b| if *b == 0 { 4 } else { 16 }).sum::<u64>()
}

fn feedback(agent: U256, i: usize) -> Bytes {
    calls::feedback(agent, 87 + (i % 10) as i128, "https://agent.example/api")
}

fn register_call(i: usize) -> Bytes {
    calls::register(format!("ipfs://agent/{i}"))
}

/// A workload: per call, its sender (account index) and calldata, sent to `to`.
struct Workload {
    to: Address,
    calls: Vec<(usize, Bytes)>,
}

/// Runs the benchmark: `calls` per block, `rounds` rounds, artifacts from `out`.
pub fn run(calls: usize, rounds: usize, out: &Path) -> eyre::Result<Report> {
    let mut h = Harness::new()?;
    let id_sol = h.deploy(artifact(out, "IdentityRegistrySol.sol", "IdentityRegistrySol")?)?;
    let mut code = artifact(out, "ReputationRegistrySol.sol", "ReputationRegistrySol")?.to_vec();
    code.extend_from_slice(&id_sol.abi_encode());
    let rep_sol = h.deploy(code.into())?;

    // The rated agent on both sides (native ids start at 1, Solidity's at 0), and the steady
    // state: every client has one agent and one feedback on each side.
    let mut setup = Vec::new();
    for to in [IDENTITY, id_sol] {
        setup.push(h.accounts.tx(0, Some(to), register_call(0), U256::ZERO, 1_000_000)?);
    }
    h.include(&setup)?;
    setup.clear();
    let clients: Vec<usize> = (1..h.accounts.len()).collect();
    for &c in &clients {
        for (to, agent) in [(REPUTATION, U256::from(1)), (rep_sol, U256::ZERO)] {
            setup.push(h.accounts.tx(c, Some(to), feedback(agent, c), U256::ZERO, 1_000_000)?);
        }
        for to in [IDENTITY, id_sol] {
            setup.push(h.accounts.tx(c, Some(to), register_call(c), U256::ZERO, 1_000_000)?);
        }
    }
    h.include(&setup)?;

    let sender = |i: usize| clients[i % clients.len()];
    let work = |to: Address, f: &dyn Fn(usize) -> Bytes| Workload {
        to,
        calls: (0..calls).map(|i| (sender(i), f(i))).collect(),
    };
    let pairs = [
        ("register(string)", work(IDENTITY, &register_call), work(id_sol, &register_call)),
        (
            "giveFeedback(uint256,int128,uint8,string,string,string,string,bytes32)",
            work(REPUTATION, &|i| feedback(U256::from(1), i)),
            work(rep_sol, &|i| feedback(U256::ZERO, i)),
        ),
    ];
    let builder = SequentialBuilder::new(h.chain.evm().clone());
    let transfers = Workload {
        to: address!("0x00000000000000000000000000000000000000be"),
        calls: (0..calls).map(|i| (sender(i), Bytes::new())).collect(),
    };
    let transfer_txs = sign(&mut h, &transfers)?;
    let mut floor = Vec::new();
    for _ in 0..rounds {
        let empty = h.chain.dry_run(&builder, &[])?.elapsed.as_secs_f64();
        let t = h.chain.dry_run(&builder, &transfer_txs)?.elapsed.as_secs_f64();
        floor.push((t - empty).max(0.0) * 1e6 / calls as f64);
    }
    let transfer_us = median(&mut floor);
    let mut results = Vec::new();
    for (function, native, solidity) in pairs {
        let native_txs = sign(&mut h, &native)?;
        let sol_txs = sign(&mut h, &solidity)?;
        let (mut tn, mut ts) = (Vec::new(), Vec::new());
        let mut gas = None;
        for _ in 0..rounds {
            let empty = h.chain.dry_run(&builder, &[])?.elapsed.as_secs_f64();
            let n = h.chain.dry_run(&builder, &native_txs)?;
            let s = h.chain.dry_run(&builder, &sol_txs)?;
            for (name, run, want) in
                [("native", &n, native_txs.len()), ("solidity", &s, sol_txs.len())]
            {
                let got = run.block.txs.len() - 1;
                if got != want || run.block.receipts.iter().any(|r| !r.status()) {
                    eyre::bail!(
                        "{function} ({name}): {got} of {want} calls included or one failed"
                    );
                }
            }
            tn.push((n.elapsed.as_secs_f64() - empty).max(0.0) * 1e6 / calls as f64);
            ts.push((s.elapsed.as_secs_f64() - empty).max(0.0) * 1e6 / calls as f64);
            gas.get_or_insert_with(|| (side_gas(&n.block, &native), side_gas(&s.block, &solidity)));
        }
        let ((ng, ne), (sg, se)) = gas.unwrap_or_default();
        let native = Side { gas: ng, exec_gas: ne, us: median(&mut tn) };
        let solidity = Side { gas: sg, exec_gas: se, us: median(&mut ts) };
        results.push(Row {
            function,
            gas_ratio: sg as f64 / ng.max(1) as f64,
            exec_gas_ratio: se as f64 / ne.max(1) as f64,
            time_ratio: solidity.us / native.us.max(f64::MIN_POSITIVE),
            work_time_ratio: (solidity.us - transfer_us).max(0.0)
                / (native.us - transfer_us).max(f64::MIN_POSITIVE),
            native,
            solidity,
        });
    }
    Ok(Report { calls, rounds, transfer_us, results })
}

/// Signs `w` from the committed nonces without advancing them: the dry runs commit nothing,
/// so every workload starts from the same nonces.
fn sign(h: &mut Harness, w: &Workload) -> eyre::Result<Vec<Arc<PooledTx>>> {
    let saved = h.accounts.nonces.clone();
    let txs = w
        .calls
        .iter()
        .map(|(from, input)| {
            let gas = if input.is_empty() { 21_000 } else { 1_000_000 };
            let value = if input.is_empty() { U256::from(1) } else { U256::ZERO };
            h.accounts.tx(*from, Some(w.to), input.clone(), value, gas)
        })
        .collect();
    h.accounts.nonces = saved;
    txs
}

/// Mean gas and execution gas per call of a block of `w`'s calls (after the L1-info deposit).
fn side_gas(block: &agnt2_builder::ExecutedBlock, w: &Workload) -> (u64, u64) {
    let r = &block.receipts;
    let (mut gas, mut exec) = (0u64, 0u64);
    for (i, (_, input)) in w.calls.iter().enumerate() {
        let g = r[i + 1].cumulative_gas_used() - r[i].cumulative_gas_used();
        gas += g;
        exec += g.saturating_sub(intrinsic(input));
    }
    let n = w.calls.len().max(1) as u64;
    (gas / n, exec / n)
}
