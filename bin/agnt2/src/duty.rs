//! `agnt2 duty …`, `agnt2 bond`, `agnt2 probe`: the duty board from the command line — deploy
//! it, post a duty with escrow, bond and accept as an operator, probe an operator's endpoint as
//! a prober agent, claim the units the probes prove.

use crate::duty_stream::ChannelFlags;
use agnt2_agent::{IDENTITY, SESSIONS};
use agnt2_client::{Client, parse_amount};
use agnt2_economy::{Board, Check, IDutyBoard, NewDuty, SignedProbe, role, role_name};
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail};
use serde_json::json;
use std::{path::PathBuf, time::Duration};

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
        /// The bond (role `prober`, on this board) a prober needs for its probes to count:
        /// wei or with a unit; 0 for none.
        #[arg(long = "min-prober-bond", default_value = "0")]
        min_prober_bond: String,
        /// The channel Adjudicator whose refuted disputes are slashing evidence (default: none).
        #[arg(long)]
        adjudicator: Option<Address>,
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
    /// As the funder: pay the operator for each finished epoch the probes decide, one
    /// co-signed update each through the hub over your channel to the operator agent's owner
    /// (`agnt2 channel open --to`), with no transaction; an epoch the probes show down is
    /// settled unpaid. Each state's app data records how far the duty is settled. Post such a
    /// duty with `--escrow 0`: the channel's deposit is its money.
    Stream {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
        /// The channel (you are its side A).
        #[arg(long)]
        channel: B256,
        /// Probe files written by `agnt2 probe` (of any epochs).
        #[arg(long, num_args = 1.., required = true)]
        probes: Vec<PathBuf>,
        /// Settle the epochs before this one unpaid (epochs nobody probed would otherwise hold
        /// every later one back).
        #[arg(long, default_value_t = 0)]
        from: u64,
        #[command(flatten)]
        channel_flags: ChannelFlags,
    },
    /// As the operator: countersign the funder's payments for a duty as the hub relays them
    /// (only payments to you that settle this duty forward), saving each co-signed state where
    /// `agnt2 channel close|dispute` finds it; prints a JSON line per payment.
    Receive {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
        /// The Adjudicator the channel is on.
        #[arg(long)]
        adjudicator: Address,
        /// The funder's channel to you.
        #[arg(long)]
        channel: B256,
        /// Stop once this epoch is settled (default: run until stopped).
        #[arg(long = "until-epoch")]
        until_epoch: Option<u64>,
        #[command(flatten)]
        channel_flags: ChannelFlags,
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
    /// Slash an operator whose owner disputed a channel with the duty's funder with a stale
    /// state and was refuted (the board's Adjudicator records who).
    SlashRefuted {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
        /// The channel.
        #[arg(long)]
        channel: B256,
    },
    /// Slash a sequencer operator whose signer signed two different blocks at one height: the
    /// signatures are read with `optimism_blockSignature` from the nodes that saw each block.
    SlashEquivocation {
        #[arg(long)]
        board: Address,
        #[arg(long)]
        duty: U256,
        /// One block's hash.
        #[arg(long = "hash-a")]
        hash_a: B256,
        /// The other's.
        #[arg(long = "hash-b")]
        hash_b: B256,
        /// Where block A's signature is read (default: --l2.rpc-url).
        #[arg(long = "from-a", value_name = "URL")]
        from_a: Option<String>,
        /// Where block B's signature is read (default: --l2.rpc-url).
        #[arg(long = "from-b", value_name = "URL")]
        from_b: Option<String>,
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
    /// The operator's endpoint under test (its RPC; its sequencer for `--check safe-head`).
    #[arg(long, required_unless_present = "check")]
    endpoint: Option<String>,
    /// What is checked: `rpc` (the endpoint answers for this chain, its head near yours),
    /// `safe-head` (a sequencer duty: your node, a follower deriving from the L1, has a recent
    /// safe head and the endpoint serves the same block there) or `batches` (a batcher duty:
    /// your follower's safe head is recent; no endpoint is asked).
    #[arg(long, default_value = "rpc", value_parser = ["rpc", "safe-head", "batches"])]
    check: String,
    /// The most blocks the endpoint's head may trail yours (--l2.rpc-url) and still be ok.
    #[arg(long = "max-lag", default_value_t = 2)]
    max_lag: u64,
    /// The oldest a safe head may be, in seconds, for `safe-head` and `batches`.
    #[arg(long = "max-safe-age", default_value_t = 600)]
    max_safe_age: u64,
    /// Your follower, deriving the chain from the L1 alone, for `safe-head` and `batches`
    /// (default: --l2.rpc-url, which must then be one).
    #[arg(long, value_name = "URL")]
    follower: Option<String>,
    /// Where the signed probe goes (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Seconds the endpoint gets to answer (one attempt, no retries: a retry would hide that it
    /// is down, and the latency measured is the answer's).
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

fn probes(files: &[PathBuf]) -> eyre::Result<Vec<SignedProbe>> {
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .wrap_err_with(|| format!("reading the probe {}", f.display()))?;
            serde_json::from_str::<SignedProbe>(&text)
                .wrap_err_with(|| format!("{} is not a probe", f.display()))
        })
        .collect()
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

pub(crate) fn deploy(
    l2: &Client,
    key: &PrivateKeySigner,
    artifacts: &std::path::Path,
    (unbond_delay, claim_grace, missed_limit, reporter_bps, quorum): (u64, u64, u64, u16, u8),
    (min_prober_bond, adjudicator): (U256, Address),
) -> eyre::Result<(Address, Address)> {
    if quorum == 0 {
        bail!("--quorum must be at least 1");
    }
    let mut code = agnt2_bench::artifact(artifacts, "DutyBoard.sol", "DutyBoard")?.to_vec();
    code.extend(
        (
            IDENTITY,
            SESSIONS,
            unbond_delay,
            claim_grace,
            missed_limit,
            U256::from(reporter_bps),
            adjudicator,
        )
            .abi_encode_params(),
    );
    let board = l2.deploy(key, code.into()).wrap_err("deploying the duty board")?;
    let mut code =
        agnt2_bench::artifact(artifacts, "ProbeQuorumVerifier.sol", "ProbeQuorumVerifier")?
            .to_vec();
    code.extend((IDENTITY, board, U256::from(quorum), min_prober_bond).abi_encode_params());
    let verifier = l2.deploy(key, code.into()).wrap_err("deploying the verifier")?;
    Ok((board, verifier))
}

pub(crate) fn run(args: DutyArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.common.l2.l2_rpc_url)?;
    let key = || args.common.key.signer();
    let tx = |tx: alloy_primitives::B256| println!("{}", json!({ "tx": tx }));
    match args.command {
        DutyCommand::Deploy {
            artifacts,
            unbond_delay,
            claim_grace,
            missed_limit,
            reporter_bps,
            quorum,
            min_prober_bond,
            adjudicator,
        } => {
            let params = (unbond_delay, claim_grace, missed_limit, reporter_bps, quorum);
            let extra = (parse_amount(&min_prober_bond)?, adjudicator.unwrap_or_default());
            let (board, verifier) = deploy(&l2, &key()?, &artifacts, params, extra)?;
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
            let duty = NewDuty {
                funder_agent,
                kind: role(&kind)?,
                spec,
                rate: parse_amount(&rate)?,
                units_cap,
                epoch,
                min_bond: parse_amount(&min_bond)?,
                verifier,
                escrow: parse_amount(&escrow)?,
            };
            let id = Board::at(l2, board).post(&key()?, &duty)?;
            println!("{}", json!({ "duty": id.to_string() }));
        }
        DutyCommand::Accept { board, duty, agent, signer } => {
            let key = key()?;
            let signer = signer.unwrap_or_else(|| key.address());
            let hash = Board::at(l2, board).accept(&key, duty, agent, signer)?;
            println!("{}", json!({ "duty": duty.to_string(), "tx": hash }));
        }
        DutyCommand::Claim { board, duty, to, probes: files } => {
            let paid = Board::at(l2, board).claim(&key()?, duty, to, probes(&files)?)?;
            println!(
                "{}",
                json!({
                    "duty": duty.to_string(),
                    "from": paid.range.0,
                    "to": paid.range.1,
                    "units": paid.units,
                    "paid": paid.amount.to_string(),
                    "tx": paid.tx,
                })
            );
        }
        DutyCommand::SlashMissed { board, duty, from, to, probes: files } => {
            let s =
                Board::at(l2, board).slash_missed(&key()?, duty, (from, to), probes(&files)?)?;
            print_slash(duty, &s, json!({}));
        }
        DutyCommand::Stream { board, duty, channel, probes: files, from, channel_flags } => {
            crate::duty_stream::stream(
                Board::at(l2, board),
                &key()?,
                duty,
                channel,
                &probes(&files)?,
                from,
                &channel_flags,
            )?;
        }
        DutyCommand::Receive { board, duty, adjudicator, channel, until_epoch, channel_flags } => {
            crate::duty_stream::receive(
                Board::at(l2, board),
                &key()?,
                duty,
                (adjudicator, channel),
                until_epoch,
                &channel_flags,
            )?;
        }
        DutyCommand::SlashRefuted { board, duty, channel } => {
            let s = Board::at(l2, board).slash_refuted(&key()?, duty, channel)?;
            print_slash(duty, &s, json!({}));
        }
        DutyCommand::SlashEquivocation { board, duty, hash_a, hash_b, from_a, from_b } => {
            let url = args.common.l2.l2_rpc_url.clone();
            let (ha, sa) = block_signature(from_a.as_deref().unwrap_or(&url), hash_a)?;
            let (hb, sb) = block_signature(from_b.as_deref().unwrap_or(&url), hash_b)?;
            if ha != hb {
                bail!("the blocks are at heights {ha} and {hb}: not one height");
            }
            let s = Board::at(l2, board).slash_equivocation(
                &key()?,
                duty,
                ha,
                (hash_a, sa),
                (hash_b, sb),
            )?;
            print_slash(duty, &s, json!({ "height": ha }));
        }
        DutyCommand::Pause { board, duty } => {
            tx(Board::at(l2, board).act(&key()?, IDutyBoard::pauseCall { dutyId: duty })?);
        }
        DutyCommand::Resume { board, duty } => {
            tx(Board::at(l2, board).act(&key()?, IDutyBoard::resumeCall { dutyId: duty })?);
        }
        DutyCommand::End { board, duty } => {
            tx(Board::at(l2, board).act(&key()?, IDutyBoard::endCall { dutyId: duty })?);
        }
        DutyCommand::Refund { board, duty } => {
            tx(Board::at(l2, board).act(&key()?, IDutyBoard::refundCall { dutyId: duty })?);
        }
        DutyCommand::Status { board, duty } => {
            let b = Board::at(l2, board);
            println!("{}", duty_json(&b.duty(duty)?, duty, b.current_unit(duty)?));
        }
        DutyCommand::List { board } => {
            let b = Board::at(l2, board);
            let n = b.count()?;
            let mut id = U256::from(1);
            while id <= n {
                println!("{}", duty_json(&b.duty(id)?, id, b.current_unit(id)?));
                id += U256::from(1);
            }
        }
    }
    Ok(())
}

/// Prints what a slash took, with `extra`'s fields, as one JSON line.
fn print_slash(duty: U256, s: &agnt2_economy::Slash, extra: serde_json::Value) {
    let mut out = json!({
        "duty": duty.to_string(),
        "operatorAgent": s.operator_agent.to_string(),
        "amount": s.amount.to_string(),
        "reporterShare": s.reporter_share.to_string(),
        "tx": s.tx,
    });
    if let (Some(o), serde_json::Value::Object(e)) = (out.as_object_mut(), extra) {
        o.extend(e);
    }
    println!("{out}");
}

/// A block's signature as `optimism_blockSignature` at `url` serves it: (height, signature).
fn block_signature(url: &str, hash: B256) -> eyre::Result<(u64, alloy_primitives::Bytes)> {
    let v = Client::new(url)?
        .call("optimism_blockSignature", json!([hash]))
        .wrap_err_with(|| format!("reading the signature of {hash} from {url}"))?;
    let height = v["number"].as_u64().ok_or_else(|| eyre::eyre!("{url}: no number in {v}"))?;
    let sig = v["signature"]
        .as_str()
        .and_then(|s| s.parse::<alloy_primitives::Bytes>().ok())
        .ok_or_else(|| eyre::eyre!("{url}: no signature in {v}"))?;
    Ok((height, sig))
}

pub(crate) fn bond(args: BondArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.common.l2.l2_rpc_url)?;
    let key = args.common.key.signer()?;
    let (bonded, locked, tx) = Board::at(l2, args.board).bond(
        &key,
        args.agent,
        role(&args.role)?,
        parse_amount(&args.amount)?,
    )?;
    println!(
        "{}",
        json!({
            "agent": args.agent.to_string(),
            "role": args.role,
            "bonded": bonded.to_string(),
            "locked": locked.to_string(),
            "tx": tx,
        })
    );
    Ok(())
}

pub(crate) fn probe(args: ProbeArgs) -> eyre::Result<()> {
    let l2 = Client::new(&args.common.l2.l2_rpc_url)?;
    let key = args.common.key.signer()?;
    let timeout = Duration::from_secs(args.timeout.max(1));
    let follower = args.follower.as_deref().map(Client::new).transpose()?;
    let max_safe_age = args.max_safe_age;
    let check = match args.check.as_str() {
        "safe-head" => Check::SafeHead { max_safe_age, follower },
        "batches" => Check::Batches { max_safe_age, follower },
        _ => Check::Rpc { max_lag: args.max_lag },
    };
    let endpoint = match (&args.endpoint, &check) {
        (Some(e), _) => e.as_str(),
        (None, Check::Batches { .. }) => "",
        (None, _) => bail!("--check {} needs --endpoint", args.check),
    };
    let p =
        Board::at(l2, args.board).probe(&key, args.duty, args.agent, endpoint, check, timeout)?;
    std::fs::write(&args.out, serde_json::to_vec_pretty(&p.probe)?)
        .wrap_err_with(|| format!("writing {}", args.out.display()))?;
    let pr = &p.probe.probe;
    println!(
        "{}",
        json!({
            "duty": args.duty.to_string(),
            "epoch": pr.epoch,
            "ok": pr.ok,
            "latencyMs": pr.latencyMs,
            "headSeen": pr.headSeen,
            "why": p.why,
            "out": args.out,
        })
    );
    Ok(())
}
