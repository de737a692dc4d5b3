//! The EVM of agnt2: op-revm driven through alloy-op-evm's block executor (deposits, the
//! L1-info transaction, L1/operator fees, fee vaults, receipts), a write-buffering overlay over
//! the stored state, and `eth_call`-style execution.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod cache;
mod config;
mod factory;
mod limits;
mod overlay;

pub use cache::ReadCache;
pub use config::{BlockEnvInput, CallError, EvmConfig, Executor, ExecutorFactory, L1Fees, TxOut};
pub use factory::{AgentEvmFactory, FEE_VAULTS, fee_vault_observed, reset_fee_vault_observed};
pub use limits::{Abort, ExecLimits, cancel_all, cancelled};
pub use overlay::PendingState;

pub use alloy_evm::{
    Evm, EvmEnv, EvmFactory, InvalidTxError,
    block::{BlockExecutionError, BlockExecutor, BlockExecutorFactory, BlockValidationError},
};
pub use alloy_op_evm::{OpBlockExecutionCtx, OpTx};
pub use op_revm::{OpHaltReason, OpSpecId};
pub use revm::context::result::{ExecutionResult, Output};
