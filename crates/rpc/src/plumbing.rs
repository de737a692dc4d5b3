//! The plumbing every namespace shares — positional arguments, the handlers' context, method
//! registration (inline or on the blocking pool), block-id resolution, the EVM environment of
//! a header, halt messages. A leaf: it imports no namespace, and every namespace imports it.

use crate::{
    ChainApi, RpcLimits,
    error::{RpcError, RpcResult},
    filters::Filters,
    limits::TracingPermits,
    modules::Apis,
};
use agnt2_evm::{BlockEnvInput, EvmConfig, EvmEnv, OpSpecId};
use agnt2_primitives::Header;
use agnt2_storage::StoreReader;
use alloy_eips::{BlockId, BlockNumberOrTag};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::sync::Arc;

/// Positional parameters with clear errors for missing or mistyped arguments.
pub(crate) struct Args(Vec<Value>);

impl Args {
    pub(crate) fn new(p: &Params<'_>) -> RpcResult<Self> {
        match p.as_str() {
            None => Ok(Self(vec![])),
            Some(raw) => match serde_json::from_str::<Value>(raw) {
                Ok(Value::Array(v)) => Ok(Self(v)),
                Ok(Value::Null) => Ok(Self(vec![])),
                Ok(_) => Err(RpcError::InvalidParams("params must be an array".into())),
                Err(e) => Err(RpcError::InvalidParams(e.to_string())),
            },
        }
    }

    pub(crate) fn opt<T: DeserializeOwned>(&self, i: usize, name: &str) -> RpcResult<Option<T>> {
        match self.0.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| RpcError::InvalidParams(format!("argument {i} ({name}): {e}"))),
        }
    }

    pub(crate) fn req<T: DeserializeOwned>(&self, i: usize, name: &str) -> RpcResult<T> {
        self.opt(i, name)?
            .ok_or_else(|| RpcError::InvalidParams(format!("missing argument {i} ({name})")))
    }
}

/// Context shared by the handlers.
pub(crate) struct Ctx<C> {
    pub(crate) api: Arc<C>,
    pub(crate) filters: Filters,
    pub(crate) limits: RpcLimits,
    pub(crate) tracing: TracingPermits,
    pub(crate) apis: Arc<Apis>,
}

/// Registers a method on the blocking pool: what may run long (EVM execution, scans over many
/// blocks or the whole state, signing with a key lookup) and the state-changing devnet
/// controls. Everything else is registered with [`reg`].
pub(crate) fn reg_blocking<C: ChainApi, R: Serialize + Clone + 'static>(
    m: &mut RpcModule<Ctx<C>>,
    name: &'static str,
    f: impl Fn(&Args, &Ctx<C>) -> RpcResult<R> + Clone + Send + Sync + 'static,
) {
    m.register_blocking_method(name, move |p, ctx, _| {
        let args = Args::new(&p)?;
        f(&args, &ctx).map_err(ErrorObjectOwned::from)
    })
    .expect("method names are unique");
}

/// Registers a method answered inline from a consistent MDBX view: microseconds, and no thread
/// hand-off per call (it matters for large batches).
pub(crate) fn reg<C: ChainApi, R: Serialize + Clone + 'static>(
    m: &mut RpcModule<Ctx<C>>,
    name: &'static str,
    f: impl Fn(&Args, &Ctx<C>) -> RpcResult<R> + Clone + Send + Sync + 'static,
) {
    m.register_method(name, move |p, ctx, _| {
        let args = Args::new(&p)?;
        f(&args, ctx).map_err(ErrorObjectOwned::from)
    })
    .expect("method names are unique");
}

/// The head block of a read view.
pub(crate) fn snapshot_head(r: &StoreReader) -> RpcResult<u64> {
    Ok(r.head()?.unwrap_or_default())
}

/// Resolves a block id to a stored block number; `None` when it does not exist.
pub(crate) fn find_block(r: &StoreReader, id: Option<BlockId>) -> RpcResult<Option<u64>> {
    let head = snapshot_head(r)?;
    Ok(match id.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
        BlockId::Hash(h) => r.block_number(h.block_hash)?,
        BlockId::Number(BlockNumberOrTag::Number(n)) => (n <= head).then_some(n),
        BlockId::Number(BlockNumberOrTag::Earliest) => Some(0),
        BlockId::Number(_) => Some(head),
    })
}

pub(crate) fn state_block(r: &StoreReader, id: Option<BlockId>) -> RpcResult<(u64, Option<u64>)> {
    let n = find_block(r, id)?.ok_or(RpcError::UnknownBlock)?;
    // The head of the same MDBX snapshot: the in-memory head moves just after a commit, so it
    // can briefly lag the plain state this view reads.
    let at = (n != snapshot_head(r)?).then_some(n);
    Ok((n, at))
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
