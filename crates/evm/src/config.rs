use crate::{AgentEvmFactory, ExecLimits};
use agnt2_primitives::ChainSpec;
use alloy_evm::{Evm, EvmEnv, EvmFactory};
use alloy_op_evm::{OpBlockExecutorFactory, OpTx, block::OpAlloyReceiptBuilder};
use alloy_op_hardforks::OpChainHardforks;
use alloy_primitives::{Address, B256, Bytes, U256};
use op_revm::{L1BlockInfo, OpHaltReason, OpSpecId, OpTransaction};
use revm::{
    context::{BlockEnv, CfgEnv, TxEnv, result::ExecutionResult},
    context_interface::block::BlobExcessGasAndPrice,
};
use std::sync::Arc;

/// The executor factory agnt2 uses: OP receipts, the chain's hardforks, op-revm.
pub type ExecutorFactory =
    OpBlockExecutorFactory<OpAlloyReceiptBuilder, OpChainHardforks, AgentEvmFactory>;

/// The OP block executor agnt2 runs over `DB` (named, so that builders can hold several and
/// move results between them).
pub type Executor<'a, DB> = alloy_op_evm::block::OpBlockExecutor<
    <AgentEvmFactory as EvmFactory>::Evm<DB, revm::inspector::NoOpInspector>,
    &'a OpAlloyReceiptBuilder,
    &'a OpChainHardforks,
>;

/// A transaction's result as [`Executor`] produces it, before it is committed.
pub type TxOut = alloy_op_evm::block::OpTxResult<OpHaltReason, op_alloy_consensus::OpTxType>;

/// What a block environment is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEnvInput {
    /// Block number.
    pub number: u64,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// Coinbase (the sequencer fee vault).
    pub beneficiary: Address,
    /// Gas limit.
    pub gas_limit: u64,
    /// Base fee.
    pub base_fee: u64,
    /// `PREVRANDAO`.
    pub prevrandao: B256,
}

/// Errors of `eth_call`-style execution: the transaction is invalid, or state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The transaction cannot run (nonce, funds, gas, fees…).
    #[error("{0}")]
    Invalid(String),
    /// The state could not be read.
    #[error("database error: {0}")]
    Database(String),
    /// A bound of [`ExecLimits`] stopped the execution.
    #[error("{0}")]
    Aborted(crate::Abort),
}

/// The L1 fee fields of an L2 transaction receipt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Fees {
    /// L1 fee charged.
    pub l1_fee: U256,
    /// L1 gas the transaction was charged for.
    pub l1_gas_used: U256,
    /// L1 base fee.
    pub l1_base_fee: U256,
    /// L1 blob base fee.
    pub l1_blob_base_fee: U256,
    /// Base fee scalar.
    pub l1_base_fee_scalar: U256,
    /// Blob base fee scalar.
    pub l1_blob_base_fee_scalar: U256,
    /// Operator fee scalar.
    pub operator_fee_scalar: U256,
    /// Operator fee constant.
    pub operator_fee_constant: U256,
}

/// EVM configuration of a chain.
#[derive(Debug, Clone)]
pub struct EvmConfig {
    spec: Arc<ChainSpec>,
    factory: ExecutorFactory,
}

impl EvmConfig {
    /// Configuration for `spec`.
    pub fn new(spec: Arc<ChainSpec>) -> Self {
        let factory = OpBlockExecutorFactory::new(
            OpAlloyReceiptBuilder::default(),
            spec.hardforks.clone(),
            AgentEvmFactory::default(),
        );
        Self { spec, factory }
    }

    /// The chain spec.
    pub fn chain_spec(&self) -> &Arc<ChainSpec> {
        &self.spec
    }

    /// A block executor over `db` for the block of `env` (no pre-execution changes applied).
    pub fn executor<DB: alloy_evm::block::StateDB>(
        &self,
        db: DB,
        env: EvmEnv<OpSpecId>,
        ctx: alloy_op_evm::OpBlockExecutionCtx,
    ) -> Executor<'_, DB> {
        let evm = self.factory.evm_factory().create_evm(db, env);
        alloy_op_evm::block::OpBlockExecutor::new(
            evm,
            ctx,
            self.factory.spec(),
            self.factory.receipt_builder(),
        )
    }

    /// The block executor factory.
    pub const fn executor_factory(&self) -> &ExecutorFactory {
        &self.factory
    }

    /// The op-revm spec agnt2 runs (every OP hardfork through Jovian from genesis).
    pub const fn spec_id(&self) -> OpSpecId {
        OpSpecId::JOVIAN
    }

    /// EVM environment of a block.
    pub fn evm_env(&self, b: &BlockEnvInput) -> EvmEnv<OpSpecId> {
        let cfg = CfgEnv::new()
            .with_chain_id(self.spec.chain_id())
            .with_spec_and_mainnet_gas_params(self.spec_id());
        let block = BlockEnv {
            number: U256::from(b.number),
            beneficiary: b.beneficiary,
            timestamp: U256::from(b.timestamp),
            gas_limit: b.gas_limit,
            basefee: b.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(b.prevrandao),
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice {
                excess_blob_gas: 0,
                blob_gasprice: 1,
            }),
            slot_num: 0,
        };
        EvmEnv::new(cfg, block)
    }

    /// Wraps a call's transaction environment for op-revm. Calls carry an empty envelope, so
    /// they are charged no L1 fee.
    pub fn call_tx(tx: TxEnv) -> OpTx {
        OpTx(OpTransaction {
            base: tx,
            enveloped_tx: Some(Bytes::new()),
            deposit: Default::default(),
        })
    }

    /// Executes `tx` over `db` without committing (`eth_call`, `eth_estimateGas`), within
    /// `limits` (a deadline, the shutdown switch).
    pub fn call<DB: alloy_evm::Database>(
        &self,
        db: DB,
        mut env: EvmEnv<OpSpecId>,
        tx: OpTx,
        limits: &mut ExecLimits,
    ) -> Result<ExecutionResult<OpHaltReason>, CallError> {
        limits.check().map_err(CallError::Aborted)?;
        env.cfg_env.disable_nonce_check = true;
        // As geth and anvil: a call may come "from" a contract (EIP-3607 binds transactions).
        env.cfg_env.disable_eip3607 = true;
        env.cfg_env.disable_base_fee = true;
        env.cfg_env.disable_block_gas_limit = true;
        let mut evm = self.factory.evm_factory().create_evm_with_inspector(db, env, &mut *limits);
        let res = evm.transact(tx);
        drop(evm);
        if let Some(a) = limits.aborted() {
            return Err(CallError::Aborted(a));
        }
        match res {
            Ok(r) => Ok(r.result),
            Err(revm::context::result::EVMError::Database(e)) => {
                Err(CallError::Database(e.to_string()))
            }
            Err(e) => Err(CallError::Invalid(e.to_string())),
        }
    }

    /// The L1 fee fields of a transaction (`enveloped` = its EIP-2718 bytes) in a block whose
    /// L1-info deposit carried `l1_info_input`.
    pub fn l1_fees(&self, l1_info_input: &[u8], enveloped: &[u8]) -> L1Fees {
        let Some(mut info) = decode_l1_info(l1_info_input) else { return L1Fees::default() };
        let spec = self.spec_id();
        let l1_fee = info.calculate_tx_l1_cost(enveloped, spec);
        let l1_gas_used = info.data_gas(enveloped, spec);
        L1Fees {
            l1_fee,
            l1_gas_used,
            l1_base_fee: info.l1_base_fee,
            l1_blob_base_fee: info.l1_blob_base_fee.unwrap_or_default(),
            l1_base_fee_scalar: info.l1_base_fee_scalar,
            l1_blob_base_fee_scalar: info.l1_blob_base_fee_scalar.unwrap_or_default(),
            operator_fee_scalar: info.operator_fee_scalar.unwrap_or_default(),
            operator_fee_constant: info.operator_fee_constant.unwrap_or_default(),
        }
    }
}

/// Reads the fee parameters out of `setL1BlockValuesJovian()` (or Isthmus/Ecotone) calldata.
fn decode_l1_info(input: &[u8]) -> Option<L1BlockInfo> {
    if input.len() < 164 {
        return None;
    }
    let u32_at =
        |o: usize| input[o..o + 4].try_into().ok().map(|b| U256::from(u32::from_be_bytes(b)));
    let word = |o: usize| U256::from_be_slice(&input[o..o + 32]);
    let mut info = L1BlockInfo {
        l1_base_fee_scalar: u32_at(4)?,
        l1_blob_base_fee_scalar: Some(u32_at(8)?),
        l1_base_fee: word(36),
        l1_blob_base_fee: Some(word(68)),
        ..Default::default()
    };
    if input.len() >= 176 {
        info.operator_fee_scalar = Some(u32_at(164)?);
        info.operator_fee_constant =
            Some(U256::from(u64::from_be_bytes(input[168..176].try_into().ok()?)));
    }
    Some(info)
}
