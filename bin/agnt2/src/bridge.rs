//! `agnt2 bridge`: deposits (L1 → L2 through the OptimismPortal) and withdrawals (L2 → L1:
//! initiate, prove, finalize), with the portal and oracle addresses read from the L2 node's
//! `optimism_rollupConfig`.

use crate::channel::parse_amount;
use agnt2_client::Client;
use agnt2_settlement::{follow, withdraw};
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer_local::PrivateKeySigner;
pub(crate) use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use serde_json::json;
use std::time::Duration;

/// `agnt2 bridge …`
#[derive(Debug, Args)]
pub(crate) struct BridgeArgs {
    /// The L1's JSON-RPC.
    #[arg(long = "l1.rpc-url", global = true, default_value = "http://127.0.0.1:8546")]
    l1_rpc_url: String,
    #[command(flatten)]
    l2: agnt2_cli::L2RpcArgs,
    #[command(flatten)]
    key: agnt2_cli::PrivateKeyArgs,
    #[command(subcommand)]
    command: BridgeCommand,
}

#[derive(Debug, Subcommand)]
enum BridgeCommand {
    /// Deposit ETH (and a call) from L1 to L2 through the portal; waits for the L2 transaction.
    Deposit {
        /// L2 recipient (default: your address).
        #[arg(long)]
        to: Option<Address>,
        /// Wei, or with a unit (`1ether`, `5gwei`).
        #[arg(long, default_value = "0")]
        value: String,
        /// Call data for the recipient.
        #[arg(long, default_value = "0x")]
        data: Bytes,
        /// L2 gas for the deposit.
        #[arg(long, default_value_t = 100_000)]
        gas: u64,
        /// Do not wait for the L2 transaction.
        #[arg(long = "no-wait")]
        no_wait: bool,
    },
    /// Start a withdrawal on L2 (the L2ToL1MessagePasser).
    Withdraw {
        /// L1 recipient (default: your address).
        #[arg(long)]
        to: Option<Address>,
        /// Wei, or with a unit.
        #[arg(long, default_value = "0")]
        value: String,
        /// Call data for the L1 recipient.
        #[arg(long, default_value = "0x")]
        data: Bytes,
        /// L1 gas for relaying the message.
        #[arg(long, default_value_t = 100_000)]
        gas: u64,
    },
    /// Prove a withdrawal on L1 against a proposed output root.
    Prove {
        /// The L2 transaction that started the withdrawal.
        tx: B256,
    },
    /// Finalize a proven withdrawal on L1 after the finalization period.
    Finalize {
        /// The L2 transaction that started the withdrawal.
        tx: B256,
    },
    /// Where a deposit (L1 transaction) or a withdrawal (L2 transaction) stands.
    Status {
        /// An L1 deposit transaction or an L2 withdrawal transaction.
        tx: B256,
    },
}

pub(crate) struct Ctx {
    pub(crate) l1: Client,
    pub(crate) l2: Client,
    pub(crate) portal: Address,
    pub(crate) oracle: Address,
}

impl Ctx {
    fn new(args: &BridgeArgs) -> eyre::Result<Self> {
        Self::connect(&args.l1_rpc_url, &args.l2.l2_rpc_url)
    }

    /// Clients of both chains, with the addresses from the L2's rollup config.
    pub(crate) fn connect(l1_url: &str, l2_url: &str) -> eyre::Result<Self> {
        let l1 = Client::new(l1_url)?;
        let l2 = Client::new(l2_url)?;
        let cfg = l2.call("optimism_rollupConfig", json!([])).wrap_err(
            "reading the rollup config from --l2.rpc-url (is it a node started by `agnt2 launch`?)",
        )?;
        let addr = |k: &str| -> eyre::Result<Address> {
            serde_json::from_value(cfg[k].clone()).wrap_err_with(|| format!("rollup config {k}"))
        };
        let l1_chain = l1.chain_id()?;
        if cfg["l1_chain_id"] != json!(l1_chain) {
            bail!("--l1.rpc-url is chain {l1_chain}, the rollup settles on {}", cfg["l1_chain_id"]);
        }
        Ok(Self {
            portal: addr("deposit_contract_address")?,
            oracle: addr("l2_output_oracle_address")?,
            l1,
            l2,
        })
    }
}

fn signer(args: &BridgeArgs) -> eyre::Result<PrivateKeySigner> {
    args.key.signer()
}

alloy_sol_types::sol! {
    /// The portal's deposit entry point.
    interface IPortal {
        function depositTransaction(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes data) external payable;
    }
}

/// The L2 deposit transactions an L1 receipt created (their hashes), in log order.
pub(crate) fn l2_hashes_of_deposit(ctx: &Ctx, l1_tx: B256) -> eyre::Result<Vec<B256>> {
    let r = ctx.l1.call("eth_getTransactionReceipt", json!([l1_tx]))?;
    if r.is_null() {
        bail!("no L1 receipt for {l1_tx}");
    }
    let mut out = Vec::new();
    for log in r["logs"].as_array().into_iter().flatten() {
        let addr: Address = serde_json::from_value(log["address"].clone())?;
        let topics: Vec<B256> = serde_json::from_value(log["topics"].clone())?;
        if addr != ctx.portal
            || topics.first() != Some(&follow::TransactionDeposited::SIGNATURE_HASH)
        {
            continue;
        }
        let data: Bytes = serde_json::from_value(log["data"].clone())?;
        let ev = follow::TransactionDeposited::decode_raw_log(topics, &data)
            .map_err(|e| eyre!("{e}"))?;
        let block: B256 = serde_json::from_value(log["blockHash"].clone())?;
        let index = agnt2_client::hex_u64(&log["logIndex"])?;
        let d =
            follow::deposit_from_event(ev.from, ev.to, ev.version, &ev.opaqueData, block, index)?;
        out.push(d.tx_hash());
    }
    Ok(out)
}

/// Runs a bridge command.
pub(crate) fn run(args: BridgeArgs) -> eyre::Result<()> {
    let ctx = Ctx::new(&args)?;
    match &args.command {
        BridgeCommand::Deposit { to, value, data, gas, no_wait } => {
            let key = signer(&args)?;
            let value = parse_amount(value)?;
            let to = to.unwrap_or(key.address());
            let call = IPortal::depositTransactionCall {
                to,
                value,
                gasLimit: *gas,
                isCreation: false,
                data: data.clone(),
            };
            let tx = ctx.l1.transact(&key, Some(ctx.portal), value, call.abi_encode())?;
            println!("deposited {value} wei to {to} on L2: L1 transaction {tx}");
            for h in l2_hashes_of_deposit(&ctx, tx)? {
                println!("L2 transaction {h}");
                if !no_wait {
                    let r = ctx.l2.wait_receipt(h, Duration::from_secs(120))?;
                    println!(
                        "included in L2 block {} ({})",
                        r.block_number.unwrap_or_default(),
                        if agnt2_client::ReceiptResponse::status(&r) {
                            "succeeded"
                        } else {
                            "reverted"
                        }
                    );
                }
            }
        }
        BridgeCommand::Withdraw { to, value, data, gas } => {
            let key = signer(&args)?;
            let value = parse_amount(value)?;
            let to = to.unwrap_or(key.address());
            let tx = withdraw::initiate(&ctx.l2, &key, to, value, *gas, data.clone())?;
            let w = withdraw::from_l2_tx(&ctx.l2, tx)?;
            println!(
                "withdrawal of {value} wei to {to} started: L2 transaction {tx} (block {}), withdrawal hash {}",
                w.l2_block, w.hash
            );
            println!(
                "next: `agnt2 bridge prove {tx}` once an output root covers block {}",
                w.l2_block
            );
        }
        BridgeCommand::Prove { tx } => {
            let key = signer(&args)?;
            let w = withdraw::from_l2_tx(&ctx.l2, *tx)?;
            let l1_tx = withdraw::prove(&ctx.l1, &ctx.l2, ctx.portal, ctx.oracle, &key, &w)?;
            let s = withdraw::status(&ctx.l1, ctx.portal, ctx.oracle, &w)?;
            println!(
                "proved withdrawal {} (L1 transaction {l1_tx}); finalizable from {} (unix)",
                w.hash,
                s.finalizable_at.unwrap_or_default()
            );
        }
        BridgeCommand::Finalize { tx } => {
            let key = signer(&args)?;
            let w = withdraw::from_l2_tx(&ctx.l2, *tx)?;
            let s = withdraw::status(&ctx.l1, ctx.portal, ctx.oracle, &w)?;
            if s.finalized {
                bail!("withdrawal {} is already finalized", w.hash);
            }
            if s.proven_at == 0 {
                bail!("withdrawal {} is not proven yet (`agnt2 bridge prove {tx}`)", w.hash);
            }
            let l1_tx = withdraw::finalize(&ctx.l1, ctx.portal, &key, &w)?;
            println!(
                "finalized withdrawal {}: {} wei to {} (L1 transaction {l1_tx})",
                w.hash, w.tx.value, w.tx.target
            );
        }
        BridgeCommand::Status { tx } => {
            let l2_receipt = ctx.l2.call("eth_getTransactionReceipt", json!([tx]))?;
            if !l2_receipt.is_null() {
                let w = withdraw::from_l2_tx(&ctx.l2, *tx)?;
                let s = withdraw::status(&ctx.l1, ctx.portal, ctx.oracle, &w)?;
                let now = ctx.l1.latest_timestamp()?;
                let stage = if s.finalized {
                    "finalized"
                } else if s.finalizable_at.is_some_and(|t| t <= now) {
                    "ready to finalize"
                } else if s.proven_at > 0 {
                    "proven, in the finalization period"
                } else if s.latest_output_block.is_some_and(|b| b >= w.l2_block) {
                    "ready to prove"
                } else {
                    "waiting for an output root"
                };
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "withdrawal": w.hash, "l2Block": w.l2_block, "stage": stage,
                        "to": w.tx.target, "value": w.tx.value, "nonce": w.tx.nonce, "sender": w.tx.sender,
                        "gasLimit": w.tx.gasLimit, "data": w.tx.data,
                        "latestOutputBlock": s.latest_output_block, "provenAt": s.proven_at,
                        "finalizableAt": s.finalizable_at,
                    }))?
                );
                return Ok(());
            }
            let hashes = l2_hashes_of_deposit(&ctx, *tx)
                .wrap_err_with(|| format!("{tx} is neither an L2 transaction nor an L1 deposit"))?;
            if hashes.is_empty() {
                bail!("L1 transaction {tx} made no deposit");
            }
            let mut out = Vec::new();
            for h in hashes {
                let r = ctx.l2.call("eth_getTransactionReceipt", json!([h]))?;
                out.push(json!({
                    "l2Transaction": h,
                    "included": !r.is_null(),
                    "l2Block": r.get("blockNumber"),
                    "status": r.get("status"),
                }));
            }
            println!("{}", serde_json::to_string_pretty(&json!({"deposit": tx, "l2": out}))?);
        }
    }
    Ok(())
}
