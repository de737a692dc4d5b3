//! agnt2 settlement (the Root tier): the rollup's anchor on an EVM L1.
//!
//! This crate owns
//! - [`artifacts`]: reading the OP Stack's audited L1 contracts from the forge artifacts of the
//!   npm package `@eth-optimism/contracts-bedrock` that `make tools` installs (never copied into
//!   the repository);
//! - [`deploy`]: deploying and initializing them behind proxies in the right order
//!   (SuperchainConfig, L2OutputOracle, SystemConfig, OptimismPortal), and recognising an
//!   existing deployment so that a second launch reuses it;
//! - [`follow`]: following the L1's confirmed blocks and turning the portal's
//!   `TransactionDeposited` events into deposit transactions;
//! - [`propose`]: posting output roots to the L2OutputOracle at its submission interval;
//! - [`withdraw`]: withdrawals — initiated on L2, proven on L1 against an output root with an
//!   `eth_getProof` of the message, finalized after the period.

pub mod artifacts;
pub mod deploy;
pub mod follow;
pub mod propose;
pub mod withdraw;

pub use deploy::{DeployConfig, Deployment};
