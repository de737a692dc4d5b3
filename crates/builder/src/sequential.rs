use crate::{BlockBuilder, BuildContext, BuilderError, ExecutedBlock, Skipped};
use agnt2_evm::{
    BlockExecutionError, BlockExecutor, BlockValidationError, EvmConfig, Executor,
    OpBlockExecutionCtx, PendingState,
};
use agnt2_primitives::{TxEnvelope, constants::L1_INFO_DEPOSITOR, l1_info_deposit};
use agnt2_txpool::PooledTx;
use alloy_consensus::{Sealed, Transaction, transaction::Recovered};
use alloy_primitives::{Address, B256};
use revm::{DatabaseRef, context::result::InvalidTransaction};
use std::{fmt::Debug, sync::Arc};

/// Executes candidates one after the other.
#[derive(Debug, Clone)]
pub struct SequentialBuilder {
    config: EvmConfig,
}

impl SequentialBuilder {
    /// A builder for the chain of `config`.
    pub const fn new(config: EvmConfig) -> Self {
        Self { config }
    }
}

/// The executor context of the block `ctx` describes.
pub(crate) fn exec_ctx(ctx: &BuildContext) -> OpBlockExecutionCtx {
    OpBlockExecutionCtx {
        parent_hash: ctx.parent_hash,
        parent_beacon_block_root: Some(B256::ZERO),
        extra_data: ctx.extra_data.clone(),
    }
}

/// The block's L1-info deposit, first in every block.
pub(crate) fn l1_info_tx(ctx: &BuildContext) -> Recovered<TxEnvelope> {
    let deposit = TxEnvelope::Deposit(Sealed::new(l1_info_deposit(&ctx.l1, ctx.sequence_number)));
    Recovered::new_unchecked(deposit, L1_INFO_DEPOSITOR)
}

/// The block's user deposits as executable transactions (signer: the deposit's `from`).
pub(crate) fn deposit_txs(ctx: &BuildContext) -> Vec<Recovered<TxEnvelope>> {
    ctx.deposits
        .iter()
        .map(|d| Recovered::new_unchecked(TxEnvelope::Deposit(Sealed::new(d.clone())), d.from))
        .collect()
}

/// Ends a block: post-execution changes, then the block's transactions, receipts and state
/// changes (the executor's overlay holds them).
pub(crate) fn finish_block<DB: DatabaseRef + Debug>(
    ex: Executor<'_, &mut PendingState<DB>>,
    ctx: BuildContext,
    txs: Vec<(Address, TxEnvelope)>,
    skipped: Vec<Skipped>,
) -> Result<ExecutedBlock, BuilderError>
where
    DB::Error: Send + Sync + 'static,
{
    let (evm, result) = ex.finish().map_err(fatal)?;
    let (state, _env) = alloy_evm::Evm::finish(evm);
    Ok(ExecutedBlock {
        ctx,
        txs,
        receipts: result.receipts,
        gas_used: result.gas_used,
        da_footprint: result.blob_gas_used,
        changes: state.changes(),
        skipped,
    })
}

pub(crate) fn fatal(e: impl std::fmt::Display) -> BuilderError {
    BuilderError::Execution(e.to_string())
}

/// What a builder does with a candidate the executor refused: defer it (no room, a nonce gap,
/// a fee cap below the base fee), drop it (invalid), or abort the block (not the
/// transaction's fault). Every builder classifies the same way, so their blocks agree.
pub(crate) fn refused(cand: &PooledTx, e: BlockExecutionError) -> Result<Skipped, BuilderError> {
    match e {
        BlockExecutionError::Validation(
            BlockValidationError::TransactionGasLimitMoreThanAvailableBlockGas { .. },
        ) => Ok(Skipped::Deferred(cand.hash)),
        BlockExecutionError::Validation(BlockValidationError::InvalidTx { error, .. })
            if matches!(
                error.as_invalid_tx_err(),
                Some(
                    InvalidTransaction::NonceTooHigh { .. }
                        | InvalidTransaction::GasPriceLessThanBasefee
                )
            ) =>
        {
            Ok(Skipped::Deferred(cand.hash))
        }
        BlockExecutionError::Validation(e) => {
            Ok(Skipped::Invalid { hash: cand.hash, reason: e.to_string() })
        }
        e => Err(fatal(e)),
    }
}

impl BlockBuilder for SequentialBuilder {
    fn build<DB: DatabaseRef + Debug + Sync>(
        &self,
        db: DB,
        ctx: BuildContext,
        candidates: &[Arc<PooledTx>],
    ) -> Result<ExecutedBlock, BuilderError>
    where
        DB::Error: Send + Sync + 'static,
    {
        let mut state = PendingState::new(db);
        let mut ex =
            self.config.executor(&mut state, self.config.evm_env(&ctx.env), exec_ctx(&ctx));
        ex.apply_pre_execution_changes().map_err(fatal)?;
        let deposit = l1_info_tx(&ctx);
        ex.execute_transaction(&deposit).map_err(fatal)?;
        let mut txs = vec![(L1_INFO_DEPOSITOR, deposit.into_inner())];
        // Deposits always go in (a failing one still mints and gets a receipt).
        for d in deposit_txs(&ctx) {
            ex.execute_transaction(&d).map_err(fatal)?;
            txs.push((d.signer(), d.into_inner()));
        }

        let gas_limit = ctx.env.gas_limit;
        let mut skipped = Vec::new();
        let mut gas_used = ex
            .receipts()
            .last()
            .map(alloy_consensus::TxReceipt::cumulative_gas_used)
            .unwrap_or_default();
        for cand in candidates {
            if gas_limit.saturating_sub(gas_used) < 21_000 {
                break;
            }
            if cand.tx.gas_limit() > gas_limit - gas_used {
                skipped.push(Skipped::Deferred(cand.hash));
                continue;
            }
            match ex.execute_transaction(&cand.tx) {
                Ok(out) => {
                    gas_used += out.tx_gas_used();
                    txs.push((cand.sender(), cand.tx.inner().clone()));
                }
                Err(e) => skipped.push(refused(cand, e)?),
            }
        }
        finish_block(ex, ctx, txs, skipped)
    }
}
