//! `agnt2 launch`: deploy (or reuse) the OP Stack's L1 contracts on an EVM L1, record the
//! deployment next to the chain, and start the node.

use agnt2_client::Client;
use agnt2_settlement::{DeployConfig, Deployment, artifacts::Artifacts, deploy};
use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use eyre::WrapErr;
use std::path::PathBuf;

/// Options of `agnt2 launch` besides the node's own.
#[derive(Debug, Args)]
pub(crate) struct LaunchArgs {
    /// The L1's JSON-RPC.
    #[arg(long = "l1.rpc-url")]
    pub(crate) l1_rpc_url: String,
    /// Key that deploys on L1 (and, by default, proposes and owns the system config), in hex.
    /// Prefer --keystore: a key on the command line is visible to other local users.
    #[arg(
        long = "l1.key",
        env = "AGNT2_L1_KEY",
        hide_env_values = true,
        required_unless_present = "keystore",
        conflicts_with = "keystore"
    )]
    pub(crate) l1_key: Option<String>,
    /// The same key from an encrypted keystore (geth's and Foundry's format, e.g. written by
    /// `cast wallet import`), unlocked with --password-file.
    #[arg(long, value_name = "FILE", requires = "password_file")]
    pub(crate) keystore: Option<PathBuf>,
    /// The file whose first line is the keystore's password.
    #[arg(long = "password-file", value_name = "FILE", requires = "keystore")]
    pub(crate) password_file: Option<PathBuf>,
    /// A JSON deploy config (camelCase fields of `DeployConfig`); flags fill what it leaves out.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Seconds a withdrawal waits after its output root (short on a devnet).
    #[arg(long = "finalization-period", default_value_t = 12)]
    pub(crate) finalization_period: u64,
    /// L2 blocks between output proposals.
    #[arg(long = "submission-interval", default_value_t = 10)]
    pub(crate) submission_interval: u64,
    /// L1 blocks a batch may land after its L1 origin; after that many L1 blocks without
    /// batches, followers derive deposit-only blocks (OP Mainnet: 3,600).
    #[arg(long = "sequencer-window-size", default_value_t = agnt2_settlement::deploy::SEQ_WINDOW_SIZE)]
    pub(crate) seq_window_size: u64,
    /// The forge artifacts of @eth-optimism/contracts-bedrock (installed by `make tools`).
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".tools/node_modules/@eth-optimism/contracts-bedrock/forge-artifacts"
    )]
    pub(crate) artifacts: PathBuf,
    /// Deploy (or check the existing deployment) and exit without starting the node.
    #[arg(long = "deploy-only")]
    pub(crate) deploy_only: bool,
    /// L1 blocks below the L1 head before the L2 adopts a block (and its deposits).
    #[arg(long = "l1.confirmations", default_value_t = 0)]
    pub(crate) l1_confirmations: u64,
    /// How often the L1 is polled, in milliseconds.
    #[arg(long = "l1.poll-ms", default_value_t = 250)]
    pub(crate) l1_poll_ms: u64,
    /// Do not post batches to the L1 (another process holding the batcher key posts them).
    #[arg(long = "no-batcher")]
    pub(crate) no_batcher: bool,
    #[command(flatten)]
    pub(crate) batcher: BatcherFlags,
    #[command(flatten)]
    pub(crate) throttle: ThrottleFlags,
    /// The L1 beacon node's API, where blobs are read back from (default: --l1.rpc-url, where
    /// anvil serves it).
    #[arg(long = "l1.beacon-url", value_name = "URL")]
    pub(crate) l1_beacon_url: Option<String>,
    /// The proposer's key (default: the operator key); output roots are posted when it is the
    /// oracle's proposer.
    #[arg(
        long = "proposer.key",
        env = "AGNT2_PROPOSER_KEY",
        hide_env_values = true,
        conflicts_with = "proposer_keystore"
    )]
    pub(crate) proposer_key: Option<String>,
    /// The proposer's key from an encrypted keystore, unlocked with --proposer.password-file.
    #[arg(long = "proposer.keystore", value_name = "FILE", requires = "proposer_password_file")]
    pub(crate) proposer_keystore: Option<PathBuf>,
    /// The file whose first line is the proposer keystore's password.
    #[arg(long = "proposer.password-file", value_name = "FILE", requires = "proposer_keystore")]
    pub(crate) proposer_password_file: Option<PathBuf>,
    /// Fund ADDRESS with AMOUNT (wei, or with a unit: 10ether, 5gwei) in the L2 genesis;
    /// repeatable. Without it nothing is funded: value arrives through deposits. Ignored with
    /// --dev (the devnet accounts are funded).
    #[arg(long = "alloc", value_name = "ADDRESS=AMOUNT", value_parser = parse_alloc)]
    pub(crate) alloc: Vec<(Address, alloy_primitives::U256)>,
}

/// How the batcher posts (`agnt2 launch` and `agnt2 batcher`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BatcherFlags {
    /// How batches reach the L1: `blobs` (EIP-4844, one frame per blob, up to six blobs per
    /// transaction) or `calldata` (one frame per transaction).
    #[arg(long = "batcher.data-availability-type", value_name = "TYPE", default_value = "blobs")]
    pub(crate) da: agnt2_node::DataAvailability,
    /// Seconds a batcher transaction waits for inclusion before it is signed again with higher
    /// fees (op-batcher's --resubmission-timeout).
    #[arg(long = "batcher.resubmission-timeout", value_name = "SECS", default_value_t = 48)]
    resubmission_timeout: u64,
    /// The highest fees a batcher transaction is bumped to, as a multiple of the first
    /// suggestion (op-batcher's --txmgr.fee-limit-multiplier).
    #[arg(long = "batcher.fee-limit-multiplier", value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    fee_limit_multiplier: u32,
    /// The most frames one channel fills (op-batcher's --target-num-frames; default six with
    /// blobs and one with calldata: a channel is one L1 transaction).
    #[arg(long = "batcher.target-num-frames", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    target_num_frames: Option<u64>,
}

impl BatcherFlags {
    /// The most frames a channel fills.
    pub(crate) fn target_frames(&self) -> usize {
        self.target_num_frames.map_or_else(|| self.da.frames_per_tx(), |n| n as usize)
    }

    /// How a waiting batcher transaction is sent again.
    pub(crate) fn resubmit(&self) -> agnt2_client::Resubmit {
        agnt2_client::Resubmit {
            timeout: std::time::Duration::from_secs(self.resubmission_timeout.max(1)),
            fee_limit_multiplier: self.fee_limit_multiplier,
            ..Default::default()
        }
    }
}

/// DA throttling of the miner (op-batcher's `--throttle.*` flags and defaults): sizes are
/// OP's Fjord estimate of compressed bytes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ThrottleFlags {
    /// Unsafe DA bytes (blocks not yet derived from the L1) past which the miner caps what it
    /// takes per transaction and per block; 0 turns throttling off.
    #[arg(
        long = "throttle.unsafe-da-bytes-lower-threshold",
        value_name = "BYTES",
        default_value_t = 3_200_000
    )]
    lower_threshold: u64,
    /// Unsafe DA bytes at which the caps are at their tightest.
    #[arg(
        long = "throttle.unsafe-da-bytes-upper-threshold",
        value_name = "BYTES",
        default_value_t = 12_800_000
    )]
    upper_threshold: u64,
    /// The per-transaction cap at the tightest.
    #[arg(long = "throttle.tx-size-lower-limit", value_name = "BYTES", default_value_t = 150)]
    tx_size_lower_limit: u64,
    /// The per-transaction cap when throttling starts.
    #[arg(long = "throttle.tx-size-upper-limit", value_name = "BYTES", default_value_t = 20_000)]
    tx_size_upper_limit: u64,
    /// The per-block cap at the tightest.
    #[arg(long = "throttle.block-size-lower-limit", value_name = "BYTES", default_value_t = 2_000)]
    block_size_lower_limit: u64,
    /// The per-block cap when throttling starts.
    #[arg(
        long = "throttle.block-size-upper-limit",
        value_name = "BYTES",
        default_value_t = 130_000
    )]
    block_size_upper_limit: u64,
}

impl ThrottleFlags {
    /// The throttle's configuration, or why the flags contradict each other.
    pub(crate) fn config(&self) -> eyre::Result<agnt2_node::ThrottleConfig> {
        if self.lower_threshold > 0 && self.upper_threshold <= self.lower_threshold {
            eyre::bail!("--throttle.unsafe-da-bytes-upper-threshold must exceed the lower one");
        }
        if self.tx_size_lower_limit > self.tx_size_upper_limit
            || self.block_size_lower_limit > self.block_size_upper_limit
        {
            eyre::bail!("a --throttle.*-lower-limit must not exceed its upper limit");
        }
        Ok(agnt2_node::ThrottleConfig {
            lower_threshold: self.lower_threshold,
            upper_threshold: self.upper_threshold,
            tx_size_lower_limit: self.tx_size_lower_limit,
            tx_size_upper_limit: self.tx_size_upper_limit,
            block_size_lower_limit: self.block_size_lower_limit,
            block_size_upper_limit: self.block_size_upper_limit,
        })
    }
}

/// `0xabc…=10ether`.
fn parse_alloc(s: &str) -> Result<(Address, alloy_primitives::U256), String> {
    let (addr, amount) =
        s.split_once('=').ok_or_else(|| format!("{s:?}: expected ADDRESS=AMOUNT"))?;
    let addr: Address = addr.trim().parse().map_err(|e| format!("{addr:?}: {e}"))?;
    let amount = amount.trim();
    let split = amount.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(amount.len());
    let (num, unit) = amount.split_at(split);
    let unit = if unit.is_empty() { "wei" } else { unit };
    let value = alloy_primitives::utils::parse_units(num, unit)
        .map_err(|e| format!("{amount:?}: {e}"))?
        .get_absolute();
    Ok((addr, value))
}

impl LaunchArgs {
    /// The operator's L1 key: `--l1.key`, or `--keystore` unlocked with `--password-file`.
    pub(crate) fn operator_key(&self) -> eyre::Result<PrivateKeySigner> {
        match (&self.l1_key, &self.keystore, &self.password_file) {
            (Some(k), _, _) => k.trim().parse().map_err(|e| eyre::eyre!("--l1.key: {e}")),
            (None, Some(file), Some(pw)) => unlock(file, pw),
            _ => eyre::bail!("give --l1.key or --keystore with --password-file"),
        }
    }

    /// The proposer's key: `--proposer.key`, `--proposer.keystore`, or the operator key.
    pub(crate) fn proposer_key(&self) -> eyre::Result<PrivateKeySigner> {
        match (&self.proposer_key, &self.proposer_keystore, &self.proposer_password_file) {
            (Some(k), _, _) => k.trim().parse().map_err(|e| eyre::eyre!("--proposer.key: {e}")),
            (None, Some(file), Some(pw)) => unlock(file, pw),
            _ => self.operator_key(),
        }
    }
}

/// A key from an encrypted keystore (geth's and Foundry's format) and the first line of a
/// password file.
pub(crate) fn unlock(
    keystore: &std::path::Path,
    password_file: &std::path::Path,
) -> eyre::Result<PrivateKeySigner> {
    let text = std::fs::read_to_string(password_file)
        .wrap_err_with(|| format!("reading the password file {}", password_file.display()))?;
    let password = text.lines().next().unwrap_or_default();
    PrivateKeySigner::decrypt_keystore(keystore, password)
        .map_err(|e| eyre::eyre!("cannot unlock the keystore {}: {e}", keystore.display()))
}

/// What the node needs to settle on the deployment: the L1 to follow and the proposer's key.
pub(crate) fn rollup_config(
    args: &LaunchArgs,
    deployment: Deployment,
) -> eyre::Result<agnt2_node::RollupConfig> {
    Ok(agnt2_node::RollupConfig {
        l1_rpc_url: args.l1_rpc_url.clone(),
        deployment,
        confirmations: args.l1_confirmations,
        poll: std::time::Duration::from_millis(args.l1_poll_ms.max(10)),
        proposer: Some(args.proposer_key()?),
        batcher: if args.no_batcher { None } else { Some(args.proposer_key()?) },
        da: args.batcher.da,
        resubmit: args.batcher.resubmit(),
        target_frames: args.batcher.target_frames(),
        throttle: args.throttle.config()?,
        l1_beacon_url: args.l1_beacon_url.clone(),
    })
}

/// Writes `<datadir>/genesis.json` once: the devnet's genesis with its timestamp set to the
/// oracle's starting timestamp and the L1Block predeploy holding the L1 block before the
/// portal's initialization, so that the L2 genesis commits to the L1 deployment (and the first
/// L1 block the node adopts is the one the deployment ended in). Without `dev` the 20 devnet
/// accounts are not funded (only `--alloc`) and the fee vaults pay the deployment's owner.
/// Returns `None` for a datadir whose chain predates this file (it keeps the embedded genesis).
pub(crate) fn write_genesis(
    datadir: &std::path::Path,
    d: &Deployment,
    args: &LaunchArgs,
    dev: bool,
) -> eyre::Result<Option<PathBuf>> {
    let l1_url = &args.l1_rpc_url;
    let path = datadir.join("genesis.json");
    if path.exists() {
        return Ok(Some(path));
    }
    if datadir.join("db").exists() {
        return Ok(None);
    }
    let l1 = Client::new(l1_url)?;
    let origin = d.l1_start_block.saturating_sub(1);
    let b = l1.call("eth_getBlockByNumber", serde_json::json!([format!("0x{origin:x}"), false]))?;
    if b.is_null() {
        eyre::bail!("L1 block {origin} is missing");
    }
    let hash: alloy_primitives::B256 = serde_json::from_value(b["hash"].clone())?;
    let l1_time = agnt2_client::hex_u64(&b["timestamp"])?;
    let base_fee = agnt2_client::hex_u64(&b["baseFeePerGas"]).unwrap_or(0);
    let mut g: serde_json::Value =
        serde_json::from_str(include_str!("../../../genesis/devnet.json"))?;
    g["timestamp"] = serde_json::json!(format!("0x{:x}", d.config.l2_genesis_timestamp));
    let word = |v: alloy_primitives::U256| format!("{:#066x}", v);
    let u = alloy_primitives::U256::from;
    let attrs = agnt2_primitives::L1BlockAttributes::dev(0, 0);
    let slots = serde_json::json!({
        word(u(0)): word((u(l1_time) << 64) | u(origin)),
        word(u(1)): word(u(base_fee)),
        word(u(2)): hash.to_string(),
        word(u(3)): word((u(u64::from(attrs.base_fee_scalar)) << 96) | (u(u64::from(attrs.blob_base_fee_scalar)) << 64)),
        word(u(4)): alloy_primitives::B256::left_padding_from(d.config.batcher.as_slice()).to_string(),
        word(u(7)): word(u(1)),
    });
    let l1_block = g["alloc"]
        .as_object_mut()
        .and_then(|a| a.get_mut("0x4200000000000000000000000000000000000015"))
        .ok_or_else(|| eyre::eyre!("the embedded genesis has no L1Block predeploy"))?;
    l1_block["storage"] = slots;
    // The L2 messenger and bridge name their L1 counterparts (messenger slot 207, bridge slot 4).
    for (predeploy, slot, other) in [
        (agnt2_settlement::deploy::L2_CROSS_DOMAIN_MESSENGER, 207u64, d.l1_cross_domain_messenger),
        (agnt2_settlement::deploy::L2_STANDARD_BRIDGE, 4, d.l1_standard_bridge),
    ] {
        let storage = g["alloc"]
            .as_object_mut()
            .and_then(|a| a.get_mut(&predeploy.to_string().to_lowercase()))
            .and_then(|acc| acc.get_mut("storage"))
            .and_then(|s| s.as_object_mut())
            .ok_or_else(|| eyre::eyre!("the embedded genesis has no {predeploy} predeploy"))?;
        storage.insert(
            word(u(slot)),
            serde_json::json!(
                alloy_primitives::B256::left_padding_from(other.as_slice()).to_string()
            ),
        );
    }
    if !dev {
        production_alloc(&mut g, d.config.owner, &args.alloc)?;
    }
    std::fs::create_dir_all(datadir)?;
    std::fs::write(&path, serde_json::to_string_pretty(&g)?)
        .wrap_err_with(|| format!("writing {}", path.display()))?;
    Ok(Some(path))
}

/// A genesis that holds value: the devnet accounts and the devnet's token (minted by a dev key)
/// are removed, `alloc` is funded, and the fee vaults (0x…11, 0x…19, 0x…1a, 0x…1b) pay `owner`
/// instead of dev account 0.
fn production_alloc(
    g: &mut serde_json::Value,
    owner: Address,
    alloc: &[(Address, alloy_primitives::U256)],
) -> eyre::Result<()> {
    let accounts = g["alloc"]
        .as_object_mut()
        .ok_or_else(|| eyre::eyre!("the embedded genesis has no alloc"))?;
    let dev = agnt2_primitives::dev_signers(20).into_iter().map(|s| s.address());
    for a in dev.chain([agnt2_primitives::constants::DEVNET_USD]) {
        let key = accounts.keys().find(|k| k.parse::<Address>().ok() == Some(a)).cloned();
        if let Some(k) = key {
            accounts.remove(&k);
        }
    }
    let recipient = alloy_primitives::B256::left_padding_from(owner.as_slice()).to_string();
    for n in [0x11u8, 0x19, 0x1a, 0x1b] {
        let vault = format!("0x42{}{n:02x}", "00".repeat(18));
        let storage = accounts
            .get_mut(&vault)
            .and_then(|a| a.get_mut("storage"))
            .and_then(|s| s.as_object_mut())
            .ok_or_else(|| eyre::eyre!("the embedded genesis has no fee vault {vault}"))?;
        storage.insert(format!("{:#066x}", 0), serde_json::json!(recipient));
    }
    for (address, amount) in alloc {
        let entry = accounts
            .entry(address.to_checksum(None))
            .or_insert_with(|| serde_json::json!({"balance": "0x0"}));
        entry["balance"] = serde_json::json!(format!("{amount:#x}"));
    }
    Ok(())
}

/// The deployment file in a datadir.
pub(crate) fn deployment_path(datadir: &std::path::Path) -> PathBuf {
    datadir.join("l1-deployment.json")
}

/// Deploys, or reuses the deployment recorded in `datadir` after checking it on the L1.
pub(crate) fn deploy_or_reuse(
    args: &LaunchArgs,
    datadir: &std::path::Path,
) -> eyre::Result<Deployment> {
    let l1 = Client::new(&args.l1_rpc_url)?;
    let path = deployment_path(datadir);
    if path.exists() {
        let d = Deployment::load(&path)?;
        d.check(&l1).wrap_err_with(|| {
            format!(
                "{} does not match the L1 at {} (remove it to deploy anew)",
                path.display(),
                args.l1_rpc_url
            )
        })?;
        println!("reusing the L1 deployment in {} (portal {})", path.display(), d.optimism_portal);
        return Ok(d);
    }
    let deployer = args.operator_key()?;
    let me = deployer.address();
    let cfg = match &args.config {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .wrap_err_with(|| format!("reading {}", file.display()))?;
            serde_json::from_str::<DeployConfig>(&text)
                .wrap_err_with(|| format!("{} is not a deploy config", file.display()))?
        }
        None => DeployConfig {
            proposer: me,
            challenger: me,
            owner: me,
            batcher: me,
            finalization_period_seconds: args.finalization_period,
            submission_interval: args.submission_interval,
            l2_block_time: 1,
            l2_genesis_timestamp: l1.latest_timestamp()?,
            l2_gas_limit: 30_000_000,
            batch_inbox: Address::with_last_byte(0xff),
            seq_window_size: args.seq_window_size,
        },
    };
    let d = deploy::deploy(&l1, &deployer, &Artifacts::new(&args.artifacts), &cfg)?;
    d.save(&path)?;
    println!(
        "deployed on L1 chain {}: OptimismPortal {}, L2OutputOracle {}, SystemConfig {}, SuperchainConfig {} (recorded in {})",
        d.l1_chain_id,
        d.optimism_portal,
        d.l2_output_oracle,
        d.system_config,
        d.superchain_config,
        path.display()
    );
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_genesis_that_holds_value_keeps_no_dev_account_and_no_dev_minted_token() {
        let mut g: serde_json::Value =
            serde_json::from_str(include_str!("../../../genesis/devnet.json")).unwrap();
        let has = |g: &serde_json::Value, a: Address| {
            g["alloc"].as_object().unwrap().keys().any(|k| k.parse::<Address>().ok() == Some(a))
        };
        let dev0 = agnt2_primitives::dev_signers(1)[0].address();
        let usd = agnt2_primitives::constants::DEVNET_USD;
        assert!(has(&g, dev0) && has(&g, usd), "the devnet genesis has both");
        let owner = Address::repeat_byte(7);
        production_alloc(&mut g, owner, &[(owner, alloy_primitives::U256::from(5))]).unwrap();
        assert!(!has(&g, dev0), "dev account 0 removed");
        assert!(!has(&g, usd), "the devnet token removed");
        assert!(has(&g, owner));
    }
}
