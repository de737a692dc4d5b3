//! Chain types, chain spec, genesis, hardforks and protocol constants of agnt2.
//!
//! Everything here is plain data and pure functions: no storage, no EVM, no I/O beyond reading
//! a genesis file.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod chain;
mod chainspec;
pub mod constants;
mod dev;
mod l1info;

pub use chain::{AccountEdit, Head, MiningMode, NewBlock, StateChanges, StorageChange};
pub use chainspec::{ChainSpec, ChainSpecError};
pub use dev::{DEV_MNEMONIC, dev_signers};
pub use l1info::{L1BlockAttributes, L1Epoch, l1_info_deposit};

/// The transaction type of agnt2 blocks: the OP Stack envelope (legacy, 2930, 1559, 7702, 0x7E).
pub type TxEnvelope = op_alloy_consensus::OpTxEnvelope;
/// The receipt type of agnt2 blocks.
pub type ReceiptEnvelope = op_alloy_consensus::OpReceiptEnvelope;
/// Block header.
pub type Header = alloy_consensus::Header;
