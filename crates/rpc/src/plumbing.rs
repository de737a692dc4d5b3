//! The plumbing every namespace shares — the handlers' context, block-id resolution, the EVM
//! environment of a header, halt messages. A leaf: it imports no namespace, and every namespace imports it.

use crate::{
    RpcLimits,
    error::{RpcError, RpcResult},
    filters::Filters,
    limits::TracingPermits,
    modules::Apis,
};
use agnt2_evm::{BlockEnvInput, EvmConfig, EvmEnv, OpSpecId};
use agnt2_primitives::Header;
use agnt2_storage::StoreReader;
use alloy_eips::BlockId;
use std::sync::Arc;

/// Context shared by the handlers.
pub(crate) struct Ctx<C> {
    pub(crate) api: Arc<C>,
    pub(crate) filters: Filters,
    pub(crate) limits: RpcLimits,
    pub(crate) tracing: TracingPermits,
    pub(crate) apis: Arc<Apis>,
}

/// What every namespace's implementation is: the shared context behind one `Arc`, cloned
/// into each namespace's module.
pub(crate) struct Handler<C>(Arc<Ctx<C>>);

impl<C> Handler<C> {
    pub(crate) fn new(ctx: Ctx<C>) -> Self {
        Self(Arc::new(ctx))
    }
}

impl<C> Clone for Handler<C> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<C> std::ops::Deref for Handler<C> {
    type Target = Ctx<C>;
    fn deref(&self) -> &Ctx<C> {
        &self.0
    }
}

/// The head block of a read view.
pub(crate) fn snapshot_head(r: &StoreReader) -> RpcResult<u64> {
    Ok(r.head()?.unwrap_or_default())
}

/// Resolves a block id (default: latest) to a stored block number; `None` when it does not
/// exist.
pub(crate) fn find_block(r: &StoreReader, id: Option<BlockId>) -> RpcResult<Option<u64>> {
    Ok(r.resolve(id.unwrap_or_default())?)
}

/// The block a state read at `id` answers for and where its state is read (see
/// [`StoreReader::state_block`]); an unknown block is an error.
pub(crate) fn state_block(r: &StoreReader, id: Option<BlockId>) -> RpcResult<(u64, Option<u64>)> {
    r.state_block(id.unwrap_or_default())?.ok_or(RpcError::UnknownBlock)
}

pub(crate) fn env_of(evm: &EvmConfig, h: &Header) -> EvmEnv<OpSpecId> {
    evm.evm_env(&BlockEnvInput {
        number: h.number,
        timestamp: h.timestamp,
        beneficiary: h.beneficiary,
        gas_limit: h.gas_limit,
        base_fee: h.base_fee_per_gas.unwrap_or_default(),
        prevrandao: h.mix_hash,
    })
}

/// What a halted call answers: geth's "out of gas" for every out-of-gas kind (clients match on
/// it), revm's description otherwise.
pub(crate) fn halt_message(reason: &agnt2_evm::OpHaltReason) -> String {
    use agnt2_evm::OpHaltReason;
    use revm::context::result::HaltReason;
    match reason {
        OpHaltReason::Base(HaltReason::OutOfGas(_)) => "out of gas".into(),
        OpHaltReason::Base(other) => format!("execution halted: {other}"),
        OpHaltReason::FailedDeposit => "execution halted: failed deposit".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::halt_message;
    use agnt2_evm::OpHaltReason;
    use revm::context::result::{HaltReason, OutOfGasError};

    #[test]
    fn halts_are_described_from_the_enum() {
        for oog in [OutOfGasError::Basic, OutOfGasError::Memory, OutOfGasError::Precompile] {
            assert_eq!(halt_message(&OpHaltReason::Base(HaltReason::OutOfGas(oog))), "out of gas");
        }
        assert_eq!(
            halt_message(&OpHaltReason::Base(HaltReason::InvalidJump)),
            "execution halted: invalid jump destination"
        );
        assert_eq!(halt_message(&OpHaltReason::FailedDeposit), "execution halted: failed deposit");
    }
}
