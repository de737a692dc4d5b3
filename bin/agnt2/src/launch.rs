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
    /// Key that deploys on L1 (and, by default, proposes and owns the system config).
    #[arg(long = "l1.key", env = "AGNT2_L1_KEY", hide_env_values = true)]
    pub(crate) l1_key: String,
    /// A JSON deploy config (camelCase fields of `DeployConfig`); flags fill what it leaves out.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Seconds a withdrawal waits after its output root (short on a devnet).
    #[arg(long = "finalization-period", default_value_t = 12)]
    pub(crate) finalization_period: u64,
    /// L2 blocks between output proposals.
    #[arg(long = "submission-interval", default_value_t = 10)]
    pub(crate) submission_interval: u64,
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
    let deployer: PrivateKeySigner =
        args.l1_key.trim().parse().map_err(|e| eyre::eyre!("--l1.key: {e}"))?;
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
