//! Protocol addresses and constants.

use alloy_primitives::{Address, address};

/// The account that sends the L1-info deposit (`0xdead…0001`).
pub const L1_INFO_DEPOSITOR: Address = address!("0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001");
/// `GasPriceOracle` predeploy.
pub const GAS_PRICE_ORACLE: Address = address!("0x420000000000000000000000000000000000000F");
/// `SequencerFeeVault` predeploy: the coinbase of every block (priority fees).
pub const SEQUENCER_FEE_VAULT: Address = address!("0x4200000000000000000000000000000000000011");
/// `L1Block` predeploy: L1 attributes written by the first transaction of each block.
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");
/// `L2ToL1MessagePasser` predeploy: its storage root is committed by output roots.
pub const L2_TO_L1_MESSAGE_PASSER: Address = address!("0x4200000000000000000000000000000000000016");
/// `BaseFeeVault` predeploy: base fees are credited here, not burned.
pub const BASE_FEE_VAULT: Address = address!("0x4200000000000000000000000000000000000019");
/// `L1FeeVault` predeploy.
pub const L1_FEE_VAULT: Address = address!("0x420000000000000000000000000000000000001A");
/// `OperatorFeeVault` predeploy.
pub const OPERATOR_FEE_VAULT: Address = address!("0x420000000000000000000000000000000000001B");
/// agnt2 USD (`aUSD`, 6 decimals), the devnet's EIP-3009 token for x402's `exact` scheme
/// (`contracts/src/x402/AuthorizedToken.sol`): in the devnet genesis only, with 1,000,000 aUSD
/// for each dev account and dev account 0 as its minter. Launched chains do not have it.
pub const DEVNET_USD: Address = address!("0x4200000000000000000000000000000000000402");

/// Gas limit of the L1-info deposit (post-Regolith).
pub const L1_INFO_GAS_LIMIT: u64 = 1_000_000;
/// Selector of `setL1BlockValuesJovian()`.
pub const SET_L1_BLOCK_VALUES_JOVIAN: [u8; 4] = [0x3d, 0xb6, 0xbe, 0x2b];

/// Client version reported by `web3_clientVersion`.
pub const CLIENT_VERSION: &str = concat!("agnt2/v", env!("CARGO_PKG_VERSION"));
