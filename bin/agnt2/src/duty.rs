//! `agnt2 duty …`, `agnt2 bond`, `agnt2 probe`: the duty board from the command line — deploy
//! it, post a duty with escrow, bond and accept as an operator, probe an operator's endpoint as
//! a prober agent, claim the units the probes prove.

use agnt2_client::{Client, parse_amount};
use agnt2_economy::{IDutyBoard, IProbeVerifier, Probe, SignedProbe, evidence, role, role_name};
use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use serde_json::json;
use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

/// agnt2's native ERC-8004 IdentityRegistry.
const IDENTITY: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x04]);
/// agnt2's native Sessions precompile.
const SESSIONS: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x08]);

/// Flags every board command takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    #[command(flatten)]
    l2: agnt2_cli::L2RpcArgs,
    #[command(flatten)]
    key: agnt2_cli::PrivateKeyArgs,
}

/// `agnt2 duty …`
#[derive(Debug, Args)]
pub(crate) struct DutyArgs {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: DutyCommand,
}

#[derive(Debug, Subcommand)]
enum DutyCommand {
    /// Deploy a duty board and its probe-quorum verifier (from `make contracts`' output) over
    /// the native identity registry; prints `{"board", "verifier"}`.
    Deploy {
        /// Foundry's output with DutyBoard.sol and ProbeQuorumVerifier.sol.
        #[arg(long, default_value = "contracts/out", value_name = "DIR")]
        artifacts: PathBuf,
        /// Seconds an unbonding waits, and evidence is taken after a duty ends.
        #[arg(long = "unbond-delay", default_value_t = 7 * 24 * 3600)]
        unbond_delay: u64,
        /// Seconds an operator may still claim after a duty ends.
        #[arg(long = "claim-grace", default_value_t = 24 * 3600)]
        claim_grace: u64,
        /// Missed units in one range that slash an operator.
        #[arg(long = "missed-limit", default_value_t = 3)]
        missed_limit: u64,
        /// The reporter's share of a slash, in basis points.
        #[arg(long = "reporter-bps", default_value_t = 1_000)]
        reporter_bps: u16,
        /// Distinct probers an epoch's verdict needs.
        #[arg(long, default_value_t = 3)]
        quorum: u8,
    },
    /// Post a duty paid in ETH from escrow; prints its id.
    Post {
        #[arg(long)]
        board: Address,
        /// Your agent (you must own it).
        #[arg(long = "funder-agent")]
        funder_agent: U256,
        /// The duty's kind, which is also the bond role operators need: sequencer, rpc,
        /// batcher, …
        #[arg(long)]
        kind: String,
        /// Where the duty is described (endpoint, SLA, …).
        #[arg(long, default_value = "")]
        spec: String,
        /// Pay per unit (epoch): wei or with a unit (`1gwei`, `0.01ether`).
        #[arg(long)]
        rate: String,
        /// The most units paid in all.
        #[arg(long = "units-cap")]
        units_cap: u64,
        /// Seconds per epoch.
        #[arg(long)]
        epoch: u64,
        /// The bond an operator must lock.
        #[arg(long = "min-bond")]
        min_bond: String,
        /// The verifier that counts units.
        #[arg(long)]
        verifier: Address,
        /// Escrow sent with the post.
        #[arg(long)]
        escrow: String,
    },
    /// Take an open duty as your agent (bonded for its kind).
    Accept {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
        /// Your operator agent.
        #[arg(long)]
        agent: U256,
        /// The key that signs your work (a sequencer's unsafe blocks); default: yours.
        #[arg(long)]
        signer: Option<Address>,
    },
    /// Claim the units `[next, to)` the probes prove; prints what was paid.
    Claim {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
        /// The first unit not claimed (default: every finished unit).
        #[arg(long)]
        to: Option<u64>,
        /// Probe files written by `agnt2 probe`.
        #[arg(long, num_args = 1.., required = true)]
        probes: Vec<PathBuf>,
    },
    /// Slash an operator the probes show down for the board's missed limit.
    SlashMissed {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: u64,
        #[arg(long, num_args = 1.., required = true)]
        probes: Vec<PathBuf>,
    },
    /// Pause, resume or end a duty you funded, or refund an ended one's escrow.
    Pause {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
    },
    /// Resume a paused duty.
    Resume {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
    },
    /// End a duty (units stay claimable for the claim grace).
    End {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
    },
    /// Return an ended duty's remaining escrow to its funder.
    Refund {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
    },
    /// One duty as JSON.
    Status {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
    },
    /// Every duty, one JSON line each.
    List {
        #[arg(long)]
        board: Address,
    },
}

/// `agnt2 bond`: bond ETH for a role as your agent.
#[derive(Debug, Args)]
pub(crate) struct BondArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    board: Address,
    #[arg(long)]
    agent: U256,
    /// The role (a duty kind).
    #[arg(long)]
    role: String,
    /// How much: wei or with a unit.
    #[arg(long)]
    amount: String,
}

/// `agnt2 probe`: probe an operator's endpoint for a duty as a prober agent and write the
/// signed probe.
#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    board: Address,
    #[arg(long)]
    duty: U256,
    /// Your prober agent (its owner or agentWallet is your key).
    #[arg(long)]
    agent: U256,
    /// The operator's endpoint under test.
    #[arg(long)]
    endpoint: String,
    /// The most blocks the endpoint's head may trail yours (--l2.rpc-url) and still be ok.
    #[arg(long = "max-lag", default_value_t = 2)]
    max_lag: u64,
    /// Where the signed probe goes (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Seconds the endpoint gets to answer (one attempt, no retries: a retry would hide that it
    /// is down, and the latency measured is the answer's).
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

fn send(
    l2: &Client,
    key: &PrivateKeySigner,
    to: Address,
    value: U256,
    call: impl SolCall,
) -> eyre::Result<agnt2_client::AnyTransactionReceipt> {
    l2.transact_receipt(key, Some(to), value, call.abi_encode())
}

fn probes(files: &[PathBuf]) -> eyre::Result<alloy_primitives::Bytes> {
    let list = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .wrap_err_with(|| format!("reading the probe {}", f.display()))?;
            serde_json::from_str::<SignedProbe>(&text)
                .wrap_err_with(|| format!("{} is not a probe", f.display()))
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    evidence(list)
}

fn duty_json(d: &IDutyBoard::Duty, id: U256, current: u64) -> serde_json::Value {
    json!({
        "duty": id.to_string(),
        "funderAgent": d.funderAgentId.to_string(),
        "funder": d.funder,
        "kind": role_name(d.kind),
        "spec": d.specURI,
        "rate": d.ratePerUnit.to_string(),
        "unitsCap": d.unitsCap,
        "epoch": d.epochLength,
        "minBond": d.minBond.to_string(),
        "verifier": d.verifier,
        "escrow": d.escrow.to_string(),
        "unitsPaid": d.unitsPaid,
        "nextUnit": d.nextUnit,
        "currentUnit": current,
        "status": format!("{:?}", d.status),
        "operatorAgent": d.operatorAgentId.to_string(),
        "operatorSigner": d.operatorSigner,
        "activeSince": d.activeSince,
    })
}

pub(crate) fn run(args: DutyArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.common.l2.l2_rpc_url)?;
    let key = || args.common.key.signer();
    match args.command {
        DutyCommand::Deploy {
            artifacts,
            unbond_delay,
            claim_grace,
            missed_limit,
            reporter_bps,
            quorum,
        } => {
            if quorum == 0 {
                bail!("--quorum must be at least 1");
            }
            let key = key()?;
            let mut code =
                agnt2_bench::artifact(&artifacts, "DutyBoard.sol", "DutyBoard")?.to_vec();
            code.extend(
                (
                    IDENTITY,
                    SESSIONS,
                    unbond_delay,
                    claim_grace,
                    missed_limit,
                    U256::from(reporter_bps),
                )
                    .abi_encode_params(),
            );
            let board = l2.deploy(&key, code.into()).wrap_err("deploying the duty board")?;
            let mut code = agnt2_bench::artifact(
                &artifacts,
                "ProbeQuorumVerifier.sol",
                "ProbeQuorumVerifier",
            )?
            .to_vec();
            code.extend((IDENTITY, board, U256::from(quorum)).abi_encode_params());
            let verifier = l2.deploy(&key, code.into()).wrap_err("deploying the verifier")?;
            println!("{}", json!({ "board": board, "verifier": verifier }));
        }
        DutyCommand::Post {
            board,
            funder_agent,
            kind,
            spec,
            rate,
            units_cap,
            epoch,
            min_bond,
            verifier,
            escrow,
        } => {
            let escrow = parse_amount(&escrow)?;
            let call = IDutyBoard::postDutyCall {
                funderAgentId: funder_agent,
                kind: role(&kind)?,
                specURI: spec,
                token: Address::ZERO,
                ratePerUnit: parse_amount(&rate)?,
                unitsCap: units_cap,
                epochLength: epoch,
                minBond: parse_amount(&min_bond)?,
                verifier,
                escrow,
            };
            let r = send(&l2, &key()?, board, escrow, call).wrap_err("posting the duty")?;
            let id = r
                .logs()
                .iter()
                .find_map(|l| IDutyBoard::DutyPosted::decode_log(&l.inner).ok())
                .map(|e| e.dutyId)
                .ok_or_else(|| eyre!("the post {} emitted no DutyPosted", r.transaction_hash))?;
            println!("{}", json!({ "duty": id.to_string(), "tx": r.transaction_hash }));
        }
        DutyCommand::Accept { board, duty, agent, signer } => {
            let key = key()?;
            let signer = signer.unwrap_or_else(|| key.address());
            let call = IDutyBoard::acceptDutyCall { dutyId: duty, operatorAgentId: agent, signer };
            let r = send(&l2, &key, board, U256::ZERO, call).wrap_err("accepting the duty")?;
            println!("{}", json!({ "duty": duty.to_string(), "tx": r.transaction_hash }));
        }
        DutyCommand::Claim { board, duty, to, probes: files } => {
            let to = match to {
                Some(t) => t,
                None => l2.view(board, &IDutyBoard::currentUnitCall { dutyId: duty })?,
            };
            let call = IDutyBoard::claimCall { dutyId: duty, to, evidence: probes(&files)? };
            let r = send(&l2, &key()?, board, U256::ZERO, call).wrap_err("claiming")?;
            let paid = r
                .logs()
                .iter()
                .find_map(|l| IDutyBoard::UnitsPaid::decode_log(&l.inner).ok())
                .ok_or_else(|| eyre!("the claim {} emitted no UnitsPaid", r.transaction_hash))?;
            println!(
                "{}",
                json!({
                    "duty": duty.to_string(),
                    "from": paid.from,
                    "to": paid.to,
                    "units": paid.units,
                    "paid": paid.amount.to_string(),
                    "tx": r.transaction_hash,
                })
            );
        }
        DutyCommand::SlashMissed { board, duty, from, to, probes: files } => {
            let call =
                IDutyBoard::slashMissedCall { dutyId: duty, from, to, evidence: probes(&files)? };
            let r = send(&l2, &key()?, board, U256::ZERO, call).wrap_err("slashing")?;
            let s = r
                .logs()
                .iter()
                .find_map(|l| IDutyBoard::Slashed::decode_log(&l.inner).ok())
                .ok_or_else(|| eyre!("the slash {} emitted no Slashed", r.transaction_hash))?;
            println!(
                "{}",
                json!({
                    "duty": duty.to_string(),
                    "operatorAgent": s.operatorAgentId.to_string(),
                    "amount": s.amount.to_string(),
                    "reporterShare": s.reporterShare.to_string(),
                    "tx": r.transaction_hash,
                })
            );
        }
        DutyCommand::Pause { board, duty } => {
            let r = send(&l2, &key()?, board, U256::ZERO, IDutyBoard::pauseCall { dutyId: duty })?;
            println!("{}", json!({ "tx": r.transaction_hash }));
        }
        DutyCommand::Resume { board, duty } => {
            let r = send(&l2, &key()?, board, U256::ZERO, IDutyBoard::resumeCall { dutyId: duty })?;
            println!("{}", json!({ "tx": r.transaction_hash }));
        }
        DutyCommand::End { board, duty } => {
            let r = send(&l2, &key()?, board, U256::ZERO, IDutyBoard::endCall { dutyId: duty })?;
            println!("{}", json!({ "tx": r.transaction_hash }));
        }
        DutyCommand::Refund { board, duty } => {
            let r = send(&l2, &key()?, board, U256::ZERO, IDutyBoard::refundCall { dutyId: duty })?;
            println!("{}", json!({ "tx": r.transaction_hash }));
        }
        DutyCommand::Status { board, duty } => {
            let d = l2.view(board, &IDutyBoard::getDutyCall { dutyId: duty })?;
            if matches!(d.status, IDutyBoard::Status::None) {
                bail!("duty {duty} does not exist on {board}");
            }
            let current = l2.view(board, &IDutyBoard::currentUnitCall { dutyId: duty })?;
            println!("{}", duty_json(&d, duty, current));
        }
        DutyCommand::List { board } => {
            let n = l2.view(board, &IDutyBoard::dutyCountCall {})?;
            let mut id = U256::from(1);
            while id <= n {
                let d = l2.view(board, &IDutyBoard::getDutyCall { dutyId: id })?;
                let current = l2.view(board, &IDutyBoard::currentUnitCall { dutyId: id })?;
                println!("{}", duty_json(&d, id, current));
                id += U256::from(1);
            }
        }
    }
    Ok(())
}

pub(crate) fn bond(args: BondArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.common.l2.l2_rpc_url)?;
    let key = args.common.key.signer()?;
    let amount = parse_amount(&args.amount)?;
    let role = role(&args.role)?;
    let call = IDutyBoard::bondCall { agentId: args.agent, role };
    let r = send(&l2, &key, args.board, amount, call).wrap_err("bonding")?;
    let b = l2.view(args.board, &IDutyBoard::bondsCall { agentId: args.agent, role })?;
    println!(
        "{}",
        json!({
            "agent": args.agent.to_string(),
            "role": args.role,
            "bonded": b.amount.to_string(),
            "locked": b.locked.to_string(),
            "tx": r.transaction_hash,
        })
    );
    Ok(())
}

pub(crate) fn probe(args: ProbeArgs) -> eyre::Result<()> {
    let own = Client::new(&args.common.l2.l2_rpc_url)?;
    let key = args.common.key.signer()?;
    let d = own.view(args.board, &IDutyBoard::getDutyCall { dutyId: args.duty })?;
    if matches!(d.status, IDutyBoard::Status::None) {
        bail!("duty {} does not exist on {}", args.duty, args.board);
    }
    // The epoch running now is the one this probe speaks for.
    let epoch = own.view(args.board, &IDutyBoard::currentUnitCall { dutyId: args.duty })?;
    let chain_id = own.chain_id()?;
    let mine = own.block_number()?;
    // A real request against the endpoint: its chain and head, timed.
    let started = Instant::now();
    let seen = Client::single_attempt(&args.endpoint, Duration::from_secs(args.timeout.max(1)))
        .and_then(|c| Ok((c.chain_id()?, c.block_number()?)));
    let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    let (ok, head_seen, why) = match seen {
        Ok((id, _)) if id != chain_id => (false, 0, format!("serves chain {id}, not {chain_id}")),
        Ok((_, head)) if head + args.max_lag < mine => {
            (false, head, format!("head {head} trails {mine} by more than {}", args.max_lag))
        }
        Ok((_, head)) => (true, head, String::new()),
        Err(e) => (false, 0, format!("{e:#}")),
    };
    let probe = Probe {
        dutyId: args.duty,
        agentId: args.agent,
        epoch,
        ok,
        latencyMs: latency_ms,
        headSeen: head_seen,
    };
    let signed = SignedProbe::sign(probe, &key, chain_id, d.verifier)?;
    // The verifier's own digest must be the one signed (a check of both sides' EIP-712).
    let onchain =
        own.view(d.verifier, &IProbeVerifier::probeDigestCall { p: signed.probe.clone() })?;
    let local = alloy_sol_types::SolStruct::eip712_signing_hash(
        &signed.probe,
        &agnt2_economy::probe_domain(chain_id, d.verifier),
    );
    if onchain != local {
        bail!("the verifier's probe digest {onchain} is not the EIP-712 one {local}");
    }
    std::fs::write(&args.out, serde_json::to_vec_pretty(&signed)?)
        .wrap_err_with(|| format!("writing {}", args.out.display()))?;
    println!(
        "{}",
        json!({
            "duty": args.duty.to_string(),
            "epoch": epoch,
            "ok": ok,
            "latencyMs": latency_ms,
            "headSeen": head_seen,
            "why": why,
            "out": args.out,
        })
    );
    Ok(())
}
