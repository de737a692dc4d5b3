//! `agnt2 channel`: open, pay, update, close, dispute, settle and inspect channels against a hub
//! and the rollup, for people and for tests.
//!
//! The CLI keeps each channel's parameters and latest co-signed state in `--state-dir`
//! (`<channel id>.json`), written after every acknowledged update, so a dispute works even when
//! the hub is gone.

use agnt2_channels::{
    ChannelParams, Key, SignedState, State,
    client::{ChannelSide, HubClient},
    json::{params_from_json, params_to_json, signed_from_json, signed_to_json},
    l2::{ChannelCalls, L2},
    state::{Adjudicator, status},
    wire::Msg,
};
use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

alloy_sol_types::sol! {
    interface IErc20 {
        function approve(address spender, uint256 value) external returns (bool);
    }
}

/// Flags every channel command takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The hub's binary protocol address.
    #[arg(long, default_value = "127.0.0.1:9545", global = true)]
    hub: SocketAddr,
    #[command(flatten)]
    l2: agnt2_cli::L2RpcArgs,
    #[command(flatten)]
    key: agnt2_cli::PrivateKeyArgs,
    /// Where channel states are kept.
    #[arg(long = "state-dir", default_value = ".agnt2/channels", global = true)]
    state_dir: PathBuf,
}

/// `agnt2 channel …`
#[derive(Debug, Args)]
pub(crate) struct ChannelArgs {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: ChannelCommand,
}

#[derive(Debug, Subcommand)]
enum ChannelCommand {
    /// Deploy an Adjudicator on the rollup (from `make contracts`' output) and print its address.
    Deploy {
        /// Foundry's output with Adjudicator.sol.
        #[arg(long, default_value = "contracts/out", value_name = "DIR")]
        artifacts: PathBuf,
        /// The shortest challenge window channels may open with, in seconds. The default (36 h)
        /// exceeds the OP Stack's 24 h sequencing window, the longest a sequencer can keep a
        /// refute out; a devnet may use seconds.
        #[arg(long = "min-challenge-window", value_name = "SECONDS", default_value_t = 129_600)]
        min_challenge_window: u64,
    },
    /// Open a channel on the rollup (you are side A) and register it with the hub.
    Open {
        /// The Adjudicator contract.
        #[arg(long)]
        adjudicator: Address,
        /// The counterparty (default: the hub itself, for hub-and-spoke payments).
        #[arg(long)]
        to: Option<Address>,
        /// Your deposit: wei, or with a unit (`1ether`, `5gwei`).
        #[arg(long)]
        deposit: String,
        /// Channel nonce (default: random).
        #[arg(long)]
        nonce: Option<u64>,
        /// Challenge window in seconds (default: the Adjudicator's minimum).
        #[arg(long)]
        window: Option<u64>,
        /// Your agent (its session keys may sign for you; settlement records the interaction).
        #[arg(long)]
        agent: Option<U256>,
        /// The counterparty's agent (a sidecar names it in its 402 as `extra.agentId`).
        #[arg(long = "to-agent")]
        to_agent: Option<U256>,
        /// An ERC-20 channel in this token (the deposit is then in its smallest units, or with a
        /// unit such as `1ether` for 18 decimals); the Adjudicator is approved for the deposit
        /// first. Default: ETH.
        #[arg(long)]
        token: Option<Address>,
    },
    /// Admit a session key of a participant's agent to sign for that side of a channel. It pins
    /// the session as it is now: closing it, letting it expire or selling the agent later does
    /// not void what the key signed on this channel. Anyone may admit with cap 0 (a receiving
    /// side); a positive cap draws on the session's spend limit and needs the participant's
    /// (or the key's) own transaction.
    Admit {
        /// The Adjudicator contract.
        #[arg(long)]
        adjudicator: Address,
        /// Channel id.
        #[arg(long)]
        channel: B256,
        /// The session key.
        #[arg(long)]
        key: Address,
        /// The most a state the key signs may leave its side short of its deposit: wei or with
        /// a unit.
        #[arg(long, default_value = "0")]
        cap: String,
    },
    /// Pay the other side through the hub (one co-signed update per payment).
    Pay {
        /// Channel id.
        #[arg(long)]
        channel: B256,
        /// Amount per payment: wei or with a unit.
        #[arg(long)]
        amount: String,
        /// Number of payments (pipelined).
        #[arg(long, default_value_t = 1)]
        count: u64,
    },
    /// Set the channel's 32-byte app data (a co-signed update without payment).
    Update {
        /// Channel id.
        #[arg(long)]
        channel: B256,
        /// The new app data (32 bytes hex).
        #[arg(long)]
        data: B256,
    },
    /// Co-sign a final state with the hub, close on the rollup and withdraw your share.
    Close {
        /// Channel id.
        #[arg(long)]
        channel: B256,
    },
    /// Dispute on the rollup with your latest co-signed state (starts the challenge window).
    Dispute {
        /// Channel id.
        #[arg(long)]
        channel: B256,
    },
    /// After the window: settle a disputed channel and withdraw your share.
    Settle {
        /// Channel id.
        #[arg(long)]
        channel: B256,
    },
    /// The channel on the rollup, at the hub and in the local state file.
    Status {
        /// Channel id.
        #[arg(long)]
        channel: B256,
    },
}

/// What the CLI keeps per channel.
pub(crate) struct Saved {
    pub(crate) params: ChannelParams,
    pub(crate) deposits: [U256; 2],
    pub(crate) latest: SignedState,
}

impl Saved {
    pub(crate) fn path(dir: &Path, id: &B256) -> PathBuf {
        dir.join(format!("{id}.json"))
    }

    pub(crate) fn save(&self, dir: &Path) -> eyre::Result<()> {
        std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
        let v = json!({
            "params": params_to_json(&self.params),
            "deposits": self.deposits,
            "latest": signed_to_json(&self.latest),
        });
        let path = Self::path(dir, &self.params.id());
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&v)?)?;
        std::fs::rename(&tmp, &path).wrap_err_with(|| format!("writing {}", path.display()))
    }

    pub(crate) fn load(dir: &Path, id: &B256) -> eyre::Result<Self> {
        let path = Self::path(dir, id);
        let text = std::fs::read_to_string(&path).wrap_err_with(|| {
            format!(
                "no local state for channel {id} in {} (open it with this --state-dir)",
                dir.display()
            )
        })?;
        let v: Value = serde_json::from_str(&text)
            .wrap_err_with(|| format!("{} is not JSON", path.display()))?;
        let bad = |e: &dyn std::fmt::Display| eyre!("{} is malformed: {e}", path.display());
        let params = params_from_json(&v["params"]).map_err(|e| bad(&e))?;
        if params.id() != *id {
            bail!("{} holds another channel", path.display());
        }
        let deposits: [U256; 2] =
            serde_json::from_value(v["deposits"].clone()).map_err(|e| bad(&e))?;
        let latest = signed_from_json(&v["latest"]).map_err(|e| bad(&e))?;
        Ok(Self { params, deposits, latest })
    }
}

pub(crate) use agnt2_client::parse_amount;

fn key(common: &Common) -> eyre::Result<(Key, PrivateKeySigner)> {
    let key = Key::from_hex(common.key.hex()?).wrap_err("--private-key")?;
    let signer = PrivateKeySigner::from_bytes(&key.secret_bytes())?;
    Ok((key, signer))
}

/// Runs a channel command.
pub(crate) fn run(args: ChannelArgs) -> eyre::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(run_async(args))
}

async fn connect(common: &Common, key: &Key) -> eyre::Result<HubClient> {
    HubClient::connect(common.hub, key).await
}

async fn run_async(args: ChannelArgs) -> eyre::Result<()> {
    let c = &args.common;
    let l2 = L2::new(&c.l2.l2_rpc_url)?;
    match args.command {
        ChannelCommand::Deploy { artifacts, min_challenge_window } => {
            if min_challenge_window == 0 || min_challenge_window > 365 * 86_400 {
                eyre::bail!("--min-challenge-window must be 1 s ..= 365 days");
            }
            let (_, signer) = key(c)?;
            let code = agnt2_bench::adjudicator_code(&artifacts, min_challenge_window)?;
            let address = l2.deploy(&signer, code).wrap_err("deploying the Adjudicator")?;
            println!("{address}");
        }
        ChannelCommand::Open {
            adjudicator,
            to,
            deposit,
            nonce,
            window,
            agent,
            to_agent,
            token,
        } => {
            let (key, signer) = key(c)?;
            let deposit = parse_amount(&deposit)?;
            let mut hub = connect(c, &key).await?;
            let to = to.unwrap_or_else(|| hub.hub());
            let nonce = nonce.unwrap_or_else(rand::random);
            let chain_id = l2.chain_id()?;
            let params = ChannelParams {
                chain_id,
                adjudicator,
                a: key.address(),
                b: to,
                token: token.unwrap_or_default(),
                nonce,
            };
            let window = match window {
                Some(w) => w,
                None => agnt2_channels::l2::challenge_window_policy(&l2, adjudicator, None)?,
            };
            let mut call = agnt2_channels::l2::open_eth_call(to, nonce, window, deposit);
            call.agentA = agent.unwrap_or_default();
            call.agentB = to_agent.unwrap_or_default();
            let value = match token {
                Some(token) => {
                    let approve = IErc20::approveCall { spender: adjudicator, value: deposit };
                    l2.transact(&signer, Some(token), U256::ZERO, approve.abi_encode())
                        .wrap_err_with(|| format!("approving the Adjudicator for {token}"))?;
                    call.token = token;
                    U256::ZERO
                }
                None => deposit,
            };
            let tx = l2.transact(&signer, Some(adjudicator), value, call.abi_encode())?;
            let latest = hub.register(params, [deposit, U256::ZERO]).await?;
            let onchain = l2.channel(adjudicator, params.id())?;
            Saved { params, deposits: [onchain.depositA, onchain.depositB], latest }
                .save(&c.state_dir)?;
            let unit = token.map_or_else(|| "wei".to_string(), |t| format!("of token {t}"));
            println!(
                "opened channel {} with {to} (tx {tx}), deposit {deposit} {unit}",
                params.id()
            );
        }
        ChannelCommand::Admit { adjudicator, channel, key: session, cap } => {
            let (_, signer) = key(c)?;
            let cap = parse_amount(&cap)?;
            let call = Adjudicator::admitCall { id: channel, key: session, cap };
            let tx = l2
                .transact(&signer, Some(adjudicator), U256::ZERO, call.abi_encode())
                .wrap_err_with(|| format!("admitting {session} to {channel}"))?;
            let side = l2
                .admitted(adjudicator, channel, session)?
                .ok_or_else(|| eyre!("{session} is not admitted after tx {tx}"))?;
            println!(
                "admitted {session} to side {:?} of {channel} with cap {} wei (tx {tx})",
                side.side, side.cap
            );
        }
        ChannelCommand::Pay { channel, amount, count } => {
            let amount = parse_amount(&amount)?;
            let v =
                update(c, &l2, channel, count, |side, key| side.propose(key, amount, None, false))
                    .await?;
            println!("paid {count} × {amount} wei on {channel}: version {v}");
        }
        ChannelCommand::Update { channel, data } => {
            let v = update(c, &l2, channel, 1, |side, key| {
                side.propose(key, U256::ZERO, Some(data), false)
            })
            .await?;
            println!("app data of {channel} set to {data}: version {v}");
        }
        ChannelCommand::Close { channel } => {
            let (_, signer) = key(c)?;
            update(c, &l2, channel, 1, |side, key| side.propose(key, U256::ZERO, None, true))
                .await?;
            let saved = Saved::load(&c.state_dir, &channel)?;
            let (s, a, b) = onchain_args(&saved.latest)?;
            let tx = l2.transact(
                &signer,
                Some(saved.params.adjudicator),
                U256::ZERO,
                Adjudicator::closeCall { s, sigA: a, sigB: b }.abi_encode(),
            )?;
            println!("closed {channel} at version {} (tx {tx})", saved.latest.state.version);
            withdraw(&l2, &signer, &saved.params, channel)?;
        }
        ChannelCommand::Dispute { channel } => {
            let (key, signer) = key(c)?;
            let mut saved = Saved::load(&c.state_dir, &channel)?;
            // The hub may hold a newer co-signed state than this directory (another client).
            if let Ok(mut hub) = connect(c, &key).await
                && let Ok(h) = hub.latest(channel).await
                && h.is_cosigned()
                && h.state.version > saved.latest.state.version
            {
                saved.latest = h;
            }
            let call = if saved.latest.is_cosigned() {
                let (s, a, b) = onchain_args(&saved.latest)?;
                Adjudicator::disputeCall { s, sigA: a, sigB: b }
            } else {
                Adjudicator::disputeCall {
                    s: saved.latest.state.clone(),
                    sigA: Default::default(),
                    sigB: Default::default(),
                }
            };
            let tx = l2.transact(
                &signer,
                Some(saved.params.adjudicator),
                U256::ZERO,
                call.abi_encode(),
            )?;
            let ch = l2.channel(saved.params.adjudicator, channel)?;
            println!(
                "disputed {channel} with version {} (tx {tx}); window ends at {} (unix)",
                saved.latest.state.version, ch.disputeEnd
            );
        }
        ChannelCommand::Settle { channel } => {
            let (_, signer) = key(c)?;
            let saved = Saved::load(&c.state_dir, &channel)?;
            let tx = l2.transact(
                &signer,
                Some(saved.params.adjudicator),
                U256::ZERO,
                Adjudicator::settleCall { id: channel }.abi_encode(),
            )?;
            println!("settled {channel} (tx {tx})");
            withdraw(&l2, &signer, &saved.params, channel)?;
        }
        ChannelCommand::Status { channel } => {
            let mut out = json!({"channel": channel});
            let saved = Saved::load(&c.state_dir, &channel).ok();
            if let Some(s) = &saved {
                out["local"] = signed_to_json(&s.latest);
                let ch = l2.channel(s.params.adjudicator, channel)?;
                out["onchain"] = json!({
                    "status": match ch.status { status::OPEN => "open", status::DISPUTED => "disputed", status::SETTLED => "settled", _ => "none" },
                    "a": ch.a, "b": ch.b, "depositA": ch.depositA, "depositB": ch.depositB,
                    "version": ch.version, "disputeEnd": ch.disputeEnd, "owedA": ch.owedA, "owedB": ch.owedB,
                });
            }
            if let Ok((key, _)) = key(c)
                && let Ok(mut hub) = connect(c, &key).await
            {
                match hub.latest(channel).await {
                    Ok(h) => out["hub"] = signed_to_json(&h),
                    Err(e) => out["hub"] = json!(format!("{e:#}")),
                }
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(())
}

fn onchain_args(
    s: &SignedState,
) -> eyre::Result<(State, alloy_primitives::Bytes, alloy_primitives::Bytes)> {
    match (s.sig_a, s.sig_b) {
        (Some(a), Some(b)) => Ok((s.state.clone(), a.to_bytes(), b.to_bytes())),
        _ => bail!("version {} is not co-signed", s.state.version),
    }
}

fn withdraw(
    l2: &L2,
    signer: &PrivateKeySigner,
    params: &ChannelParams,
    id: B256,
) -> eyre::Result<()> {
    let ch = l2.channel(params.adjudicator, id)?;
    let owed = if signer.address() == ch.a { ch.owedA } else { ch.owedB };
    if owed.is_zero() {
        println!("nothing to withdraw");
        return Ok(());
    }
    let tx = l2.transact(
        signer,
        Some(params.adjudicator),
        U256::ZERO,
        Adjudicator::withdrawCall { id, to: signer.address() }.abi_encode(),
    )?;
    println!("withdrew {owed} wei to {} (tx {tx})", signer.address());
    Ok(())
}

/// Connects to the hub at `hub` as `key` for the channel `saved` describes (open on the rollup):
/// the deposits as the rollup holds them, the newest co-signed state of the local file and the
/// hub's (another client of this key may have moved on), and this side of it.
pub(crate) async fn attach(
    hub: SocketAddr,
    l2: &L2,
    mut saved: Saved,
    key: &Key,
) -> eyre::Result<(Saved, HubClient, ChannelSide)> {
    let channel = saved.params.id();
    let onchain = l2.channel(saved.params.adjudicator, channel)?;
    if onchain.status != status::OPEN {
        bail!("channel {channel} is not open on the rollup (status {})", onchain.status);
    }
    saved.deposits = [onchain.depositA, onchain.depositB];
    let mut hub = HubClient::connect(hub, key).await?;
    let latest = hub.register(saved.params, saved.deposits).await?;
    if latest.state.version >= saved.latest.state.version {
        saved.latest = latest;
    }
    let side = ChannelSide::new(saved.params, saved.deposits, key.address(), saved.latest.clone())?;
    Ok((saved, hub, side))
}

/// Sends `count` proposals made by `make` (pipelined, at most 32 in flight), saving the latest
/// co-signed state; returns its version.
async fn update(
    c: &Common,
    l2: &L2,
    channel: B256,
    count: u64,
    mut make: impl FnMut(&mut ChannelSide, &Key) -> Result<Msg, agnt2_channels::state::TransitionError>,
) -> eyre::Result<u64> {
    let (key, _) = key(c)?;
    let (mut saved, mut hub, mut side) =
        attach(c.hub, l2, Saved::load(&c.state_dir, &channel)?, &key).await?;
    let (mut sent, mut acked) = (0, 0);
    while acked < count {
        while sent < count && side.in_flight() < 32 {
            hub.send(make(&mut side, &key).map_err(|e| eyre!("cannot propose: {e}"))?)?;
            sent += 1;
        }
        match hub.recv().await? {
            Msg::Accepted { version, sig, .. } => {
                side.accepted(version, sig)?;
                acked += 1;
            }
            Msg::Reject { version, reason, .. } => {
                bail!("the hub refused version {version}: {reason}")
            }
            Msg::Propose { .. } => {
                bail!("the counterparty proposed an update; this CLI only proposes")
            }
            other => bail!("unexpected answer from the hub: {other:?}"),
        }
    }
    // A counterparty's agent may countersign with a session key admitted to its side of the
    // channel, within its cap (the Adjudicator counts the same).
    let other = side.side().other();
    if let Some(signer) = side.unverified_signer()
        && signer != saved.params.participant(other)
        && let Some(admitted) = l2.admitted(saved.params.adjudicator, channel, signer)?
        && admitted.side == other
        && side.unverified_state().is_some_and(|s| admitted.check(s).is_ok())
    {
        side.allow_signer(signer);
    }
    side.verify()?;
    saved.latest = side.latest().clone();
    saved.save(&c.state_dir)?;
    Ok(saved.latest.state.version)
}
