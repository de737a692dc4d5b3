//! `agnt2`: the node and its operator commands.

mod batcher_cmd;
mod bench;
mod bench_settlement;
mod benches;
mod bridge;
mod channel;
mod duty;
mod duty_stream;
mod facilitator_cmd;
mod launch;
mod monitor;
mod monitor_launch;
mod node_cmd;
mod pay;
mod token;

/// mimalloc: the builder's threads allocate and free each other's memory (speculated states
/// move to the committing thread), which the system allocator serialises on arena locks.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use benches::BenchCommand;
use clap::{ArgAction, Parser, Subcommand};
use node_cmd::{NodeArgs, db_stats, in_runtime, run_node};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "agnt2", version, about = "agnt2: an OP-Stack-style rollup for agent economies")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Verbosity: -v info (default), -vv debug, -vvv trace. `RUST_LOG` overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    /// Only print warnings and errors.
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node: a devnet (`--dev`), a chain from a genesis file (`--chain`), or a follower
    /// deriving a rollup from its L1 (`--rollup.config rollup.json --l1.rpc-url URL`).
    Node {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        follow: node_cmd::FollowArgs,
    },
    /// Deploy (or reuse) the OP Stack's L1 contracts on an L1, then run the node.
    Launch {
        #[command(flatten)]
        launch: launch::LaunchArgs,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Post a rollup's blocks to its L1 as a separate process (the sequencer runs with
    /// `--no-batcher`): span batches in blobs or calldata, from SystemConfig's batcher key.
    Batcher(batcher_cmd::BatcherArgs),
    /// The duty board: deploy, post, accept, claim, slash, pause/resume/end/refund, status,
    /// list.
    Duty(duty::DutyArgs),
    /// Bond ETH for a role (a duty kind) as your agent.
    Bond(duty::BondArgs),
    /// Probe an operator's endpoint for a duty as a prober agent; writes the signed probe.
    Probe(duty::ProbeArgs),
    /// Watch the L1 and L2s against thresholds: stay, move to an L2, or launch one.
    Monitor(monitor::MonitorArgs),
    /// Deposits and withdrawals between the L1 and the rollup.
    Bridge(bridge::BridgeArgs),
    /// Channels through an agnt2-hub: open, pay, update, close, dispute, settle, status.
    Channel(channel::ChannelArgs),
    /// A curl-like request to a service behind agnt2-sidecar, paying its 402 over your channel.
    Pay(pay::PayArgs),
    /// An x402 facilitator for agnt2: /supported, /verify, /settle for the `exact` scheme (and
    /// `agnt2-channel` with `--channel.hub`, `--channel.adjudicator`).
    Facilitator(facilitator_cmd::FacilitatorArgs),
    /// The EIP-3009 token x402's `exact` scheme settles with: deploy, mint, balance.
    Token(token::TokenArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Inspect a datadir.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Entries and size of every table.
    Stats {
        /// The node's data directory.
        #[arg(long, value_name = "DIR")]
        datadir: PathBuf,
    },
}

fn main() -> eyre::Result<()> {
    let cli = Cli::parse();
    agnt2_cli::init_tracing(cli.verbose, cli.quiet);
    match cli.command {
        Command::Node { node, follow } => {
            let derive = follow.derive_config()?;
            in_runtime(run_node(node, None, derive))
        }
        Command::Db { command: DbCommand::Stats { datadir } } => db_stats(datadir),
        Command::Bench { command } => benches::run(command),
        Command::Channel(args) => channel::run(args),
        Command::Pay(args) => pay::run(args),
        Command::Bridge(args) => bridge::run(args),
        Command::Duty(args) => duty::run(args),
        Command::Monitor(args) => monitor::run(args),
        Command::Bond(args) => duty::bond(args),
        Command::Probe(args) => duty::probe(args),
        Command::Batcher(args) => in_runtime(batcher_cmd::run(args)),
        Command::Facilitator(args) => in_runtime(facilitator_cmd::run(args)),
        Command::Token(args) => token::run(args),
        Command::Launch { launch, mut node } => {
            let datadir = node.datadir.clone().unwrap_or_else(|| PathBuf::from(".agnt2-launch"));
            let deployment = launch::deploy_or_reuse(&launch, &datadir)?;
            if launch.deploy_only {
                return Ok(());
            }
            // A genesis that commits to the L1 deployment (with the devnet's accounts only with
            // --dev; otherwise funding only --alloc), L1 origins and deposits from the L1.
            if node.chain.is_none() {
                node.chain = launch::write_genesis(&datadir, &deployment, &launch, node.dev)?;
            } else if !launch.alloc.is_empty() {
                eyre::bail!("--alloc shapes the genesis agnt2 writes; it cannot change --chain");
            }
            node.datadir = Some(datadir);
            if node.block_time.is_none() && !node.no_mining {
                node.block_time = Some(1000);
            }
            let rollup = launch::rollup_config(&launch, deployment)?;
            in_runtime(run_node(node, Some(rollup), None))
        }
    }
}
