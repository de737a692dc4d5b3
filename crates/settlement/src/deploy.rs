//! Deploying the OP Stack's L1 contracts (the stage without fault proofs): OptimismPortal and
//! L2OutputOracle behind proxies, with SystemConfig, SuperchainConfig, and the messaging layer
//! above the portal (L1CrossDomainMessenger, L1StandardBridge).
//!
//! Order: six `Proxy`s (admin: the deployer), each with its implementation, then each proxy is
//! pointed at its implementation and initialized in one `upgradeToAndCall`: SuperchainConfig
//! (guardian, unpaused), L2OutputOracle (interval, block time, start, proposer, challenger,
//! finalization period), SystemConfig (owner, fee scalars, batcher, gas limit, resource config,
//! the portal's, messenger's and bridge's addresses), OptimismPortal (oracle, system config,
//! superchain config), L1CrossDomainMessenger (superchain config, portal, system config; its
//! other side is the L2 messenger predeploy), L1StandardBridge (messenger, superchain config,
//! system config; its other side is the L2 bridge predeploy).

use crate::artifacts::Artifacts;
use agnt2_client::Client;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use eyre::{WrapErr, bail, ensure};
use serde::{Deserialize, Serialize};

alloy_sol_types::sol! {
    /// The calls the deployer makes (ABI of contracts-bedrock 0.17.3).
    interface IBedrock {
        struct ResourceConfig {
            uint32 maxResourceLimit;
            uint8 elasticityMultiplier;
            uint8 baseFeeMaxChangeDenominator;
            uint32 minimumBaseFee;
            uint32 systemTxMaxGas;
            uint128 maximumBaseFee;
        }
        struct Addresses {
            address l1CrossDomainMessenger;
            address l1ERC721Bridge;
            address l1StandardBridge;
            address disputeGameFactory;
            address optimismPortal;
            address optimismMintableERC20Factory;
            address gasPayingToken;
        }
        function upgradeToAndCall(address implementation, bytes data) external payable returns (bytes memory);
        function initialize(address guardian, bool paused) external;
        function initialize(uint256 submissionInterval, uint256 l2BlockTime, uint256 startingBlockNumber, uint256 startingTimestamp, address proposer, address challenger, uint256 finalizationPeriodSeconds) external;
        function initialize(address owner, uint32 basefeeScalar, uint32 blobbasefeeScalar, bytes32 batcherHash, uint64 gasLimit, address unsafeBlockSigner, ResourceConfig config, address batchInbox, Addresses addresses) external;
        function initialize(address l2Oracle, address systemConfig, address superchainConfig) external;
        function l2Oracle() external view returns (address);
        function optimismPortal() external view returns (address);
        function PROPOSER() external view returns (address);
        function CHALLENGER() external view returns (address);
        function FINALIZATION_PERIOD_SECONDS() external view returns (uint256);
        function SUBMISSION_INTERVAL() external view returns (uint256);
        function version() external view returns (string memory);
        function portal() external view returns (address);
        function messenger() external view returns (address);
        function otherMessenger() external view returns (address);
        function otherBridge() external view returns (address);
    }

    /// `L1CrossDomainMessenger.initialize` (same types as the portal's, hence its own interface).
    interface IL1Messenger {
        function initialize(address superchainConfig, address portal, address systemConfig) external;
    }

    /// `L1StandardBridge.initialize`.
    interface IL1Bridge {
        function initialize(address messenger, address superchainConfig, address systemConfig) external;
    }
}

/// The L2 messenger predeploy (the L1 messenger's other side).
pub const L2_CROSS_DOMAIN_MESSENGER: Address =
    alloy_primitives::address!("0x4200000000000000000000000000000000000007");
/// The L2 standard bridge predeploy (the L1 bridge's other side).
pub const L2_STANDARD_BRIDGE: Address =
    alloy_primitives::address!("0x4200000000000000000000000000000000000010");

/// What the L1 side is initialized with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployConfig {
    /// Posts output roots to the L2OutputOracle.
    pub proposer: Address,
    /// May delete output roots (the permissioned dispute path until fault proofs).
    pub challenger: Address,
    /// Owner of SystemConfig and guardian of SuperchainConfig (may pause withdrawals).
    pub owner: Address,
    /// The batcher's address (SystemConfig `batcherHash`).
    pub batcher: Address,
    /// Seconds a withdrawal waits after its output root is proposed.
    pub finalization_period_seconds: u64,
    /// L2 blocks between output proposals.
    pub submission_interval: u64,
    /// Seconds per L2 block (the oracle's clock for output timestamps).
    pub l2_block_time: u64,
    /// Timestamp of the L2 genesis block (at most the L1 time at deployment).
    pub l2_genesis_timestamp: u64,
    /// L2 block gas limit (SystemConfig; at least 21,000,000 with the default resource config).
    pub l2_gas_limit: u64,
    /// Where batches go (the batch inbox).
    pub batch_inbox: Address,
    /// L1 blocks a batch may land after its L1 origin; when the batcher posts nothing for that
    /// long, derivation fills the epoch with deposit-only blocks (op-deployer's
    /// `sequencerWindowSize`; rollup.json's `seq_window_size`).
    #[serde(rename = "sequencerWindowSize", default = "default_seq_window_size")]
    pub seq_window_size: u64,
}

/// The sequencing window of OP Mainnet: 3,600 L1 blocks (12 hours of 12-s blocks).
pub const SEQ_WINDOW_SIZE: u64 = 3600;

const fn default_seq_window_size() -> u64 {
    SEQ_WINDOW_SIZE
}

/// SystemConfig's base-fee scalar (Ecotone's L1 fee formula), as OP Mainnet sets it.
pub const BASE_FEE_SCALAR: u32 = 1368;
/// SystemConfig's blob-base-fee scalar, as OP Mainnet sets it.
pub const BLOB_BASE_FEE_SCALAR: u32 = 810_949;

/// Addresses of a deployment (proxies: what everything talks to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// L1 block of the portal's initialization (where following the L1 starts).
    pub l1_start_block: u64,
    /// The deployer (admin of every proxy).
    pub deployer: Address,
    /// SuperchainConfig proxy.
    pub superchain_config: Address,
    /// L2OutputOracle proxy.
    pub l2_output_oracle: Address,
    /// SystemConfig proxy.
    pub system_config: Address,
    /// OptimismPortal proxy.
    pub optimism_portal: Address,
    /// L1CrossDomainMessenger proxy (paired with the L2 messenger predeploy).
    pub l1_cross_domain_messenger: Address,
    /// L1StandardBridge proxy (paired with the L2 standard bridge predeploy).
    pub l1_standard_bridge: Address,
    /// The configuration it was initialized with.
    pub config: DeployConfig,
}

fn proxy_code(artifacts: &Artifacts, admin: Address) -> eyre::Result<Bytes> {
    let mut code = artifacts.bytecode("Proxy")?.to_vec();
    code.extend_from_slice(&admin.abi_encode());
    Ok(code.into())
}

/// The resource config OP chains use (`Constants.DEFAULT_RESOURCE_CONFIG`).
fn default_resource_config() -> IBedrock::ResourceConfig {
    IBedrock::ResourceConfig {
        maxResourceLimit: 20_000_000,
        elasticityMultiplier: 10,
        baseFeeMaxChangeDenominator: 8,
        minimumBaseFee: 1_000_000_000,
        systemTxMaxGas: 1_000_000,
        maximumBaseFee: u128::MAX,
    }
}

/// Deploys and initializes the L1 contracts from `deployer`.
pub fn deploy(
    l1: &Client,
    deployer: &PrivateKeySigner,
    artifacts: &Artifacts,
    cfg: &DeployConfig,
) -> eyre::Result<Deployment> {
    ensure!(cfg.submission_interval > 0, "submission interval must be positive");
    ensure!(cfg.l2_block_time > 0, "L2 block time must be positive");
    ensure!(
        (21_000_000..=200_000_000).contains(&cfg.l2_gas_limit),
        "L2 gas limit must be within SystemConfig's bounds (21,000,000..=200,000,000)"
    );
    let l1_chain_id = l1.chain_id()?;
    let me = deployer.address();
    let mut proxies = Vec::new();
    for name in [
        "SuperchainConfig",
        "L2OutputOracle",
        "SystemConfig",
        "OptimismPortal",
        "L1CrossDomainMessenger",
        "L1StandardBridge",
    ] {
        let proxy = l1
            .deploy(deployer, proxy_code(artifacts, me)?)
            .wrap_err_with(|| format!("deploying the {name} proxy"))?;
        let implementation = l1
            .deploy(deployer, artifacts.bytecode(name)?)
            .wrap_err_with(|| format!("deploying {name}"))?;
        proxies.push((name, proxy, implementation));
    }
    let [superchain, oracle, system, portal, messenger, bridge] =
        [proxies[0].1, proxies[1].1, proxies[2].1, proxies[3].1, proxies[4].1, proxies[5].1];
    let inits: [Vec<u8>; 6] = [
        IBedrock::initialize_0Call { guardian: cfg.owner, paused: false }.abi_encode(),
        IBedrock::initialize_1Call {
            submissionInterval: U256::from(cfg.submission_interval),
            l2BlockTime: U256::from(cfg.l2_block_time),
            startingBlockNumber: U256::ZERO,
            startingTimestamp: U256::from(cfg.l2_genesis_timestamp),
            proposer: cfg.proposer,
            challenger: cfg.challenger,
            finalizationPeriodSeconds: U256::from(cfg.finalization_period_seconds),
        }
        .abi_encode(),
        IBedrock::initialize_2Call {
            owner: cfg.owner,
            basefeeScalar: BASE_FEE_SCALAR,
            blobbasefeeScalar: BLOB_BASE_FEE_SCALAR,
            batcherHash: B256::left_padding_from(cfg.batcher.as_slice()),
            gasLimit: cfg.l2_gas_limit,
            unsafeBlockSigner: Address::ZERO,
            config: default_resource_config(),
            batchInbox: cfg.batch_inbox,
            addresses: IBedrock::Addresses {
                l1CrossDomainMessenger: messenger,
                l1ERC721Bridge: Address::ZERO,
                l1StandardBridge: bridge,
                disputeGameFactory: Address::ZERO,
                optimismPortal: portal,
                optimismMintableERC20Factory: Address::ZERO,
                gasPayingToken: Address::ZERO,
            },
        }
        .abi_encode(),
        IBedrock::initialize_3Call {
            l2Oracle: oracle,
            systemConfig: system,
            superchainConfig: superchain,
        }
        .abi_encode(),
        IL1Messenger::initializeCall { superchainConfig: superchain, portal, systemConfig: system }
            .abi_encode(),
        IL1Bridge::initializeCall { messenger, superchainConfig: superchain, systemConfig: system }
            .abi_encode(),
    ];
    for ((name, proxy, implementation), init) in proxies.iter().zip(inits) {
        let call =
            IBedrock::upgradeToAndCallCall { implementation: *implementation, data: init.into() };
        l1.transact(deployer, Some(*proxy), U256::ZERO, call.abi_encode())
            .wrap_err_with(|| format!("initializing {name}"))?;
    }
    // No deposit can precede the portal's initialization: following starts at its block.
    let l1_start_block = l1.block_number()?;
    let d = Deployment {
        l1_chain_id,
        l1_start_block,
        deployer: me,
        superchain_config: superchain,
        l2_output_oracle: oracle,
        system_config: system,
        optimism_portal: portal,
        l1_cross_domain_messenger: messenger,
        l1_standard_bridge: bridge,
        config: cfg.clone(),
    };
    d.check(l1)?;
    Ok(d)
}

impl Deployment {
    /// Checks that this deployment is live on `l1`: same chain, code at every address, the
    /// portal wired to the oracle, the oracle's roles and period as configured.
    pub fn check(&self, l1: &Client) -> eyre::Result<()> {
        let chain = l1.chain_id()?;
        ensure!(
            chain == self.l1_chain_id,
            "the L1 is chain {chain}, the deployment is on {}",
            self.l1_chain_id
        );
        for (name, a) in [
            ("SuperchainConfig", self.superchain_config),
            ("L2OutputOracle", self.l2_output_oracle),
            ("SystemConfig", self.system_config),
            ("OptimismPortal", self.optimism_portal),
            ("L1CrossDomainMessenger", self.l1_cross_domain_messenger),
            ("L1StandardBridge", self.l1_standard_bridge),
        ] {
            let code = l1.call("eth_getCode", serde_json::json!([a, "latest"]))?;
            if code.as_str().is_none_or(|c| c.len() <= 2) {
                bail!("no {name} at {a} on the L1");
            }
        }
        ensure!(
            l1.view(self.optimism_portal, &IBedrock::l2OracleCall {})? == self.l2_output_oracle,
            "the portal does not point at the oracle"
        );
        ensure!(
            l1.view(self.system_config, &IBedrock::optimismPortalCall {})? == self.optimism_portal,
            "SystemConfig does not point at the portal"
        );
        ensure!(
            l1.view(self.l2_output_oracle, &IBedrock::PROPOSERCall {})? == self.config.proposer,
            "the oracle's proposer differs"
        );
        ensure!(
            l1.view(self.l2_output_oracle, &IBedrock::FINALIZATION_PERIOD_SECONDSCall {})?
                == U256::from(self.config.finalization_period_seconds),
            "the oracle's finalization period differs"
        );
        ensure!(
            l1.view(self.l1_cross_domain_messenger, &IBedrock::portalCall {})?
                == self.optimism_portal
                && l1.view(self.l1_cross_domain_messenger, &IBedrock::otherMessengerCall {})?
                    == L2_CROSS_DOMAIN_MESSENGER,
            "the L1 messenger is not wired to the portal and the L2 messenger"
        );
        ensure!(
            l1.view(self.l1_standard_bridge, &IBedrock::messengerCall {})?
                == self.l1_cross_domain_messenger
                && l1.view(self.l1_standard_bridge, &IBedrock::otherBridgeCall {})?
                    == L2_STANDARD_BRIDGE,
            "the L1 bridge is not wired to the L1 messenger and the L2 bridge"
        );
        Ok(())
    }

    /// Reads a deployment written by [`Deployment::save`].
    pub fn load(path: &std::path::Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).wrap_err_with(|| {
            format!(
                "{} is not a deployment record of this agnt2 (records without the L1 messenger \
                 and bridge predate them: start from a new datadir)",
                path.display()
            )
        })
    }

    /// Writes the deployment as JSON.
    pub fn save(&self, path: &std::path::Path) -> eyre::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?)
            .wrap_err_with(|| format!("writing {}", path.display()))
    }
}
