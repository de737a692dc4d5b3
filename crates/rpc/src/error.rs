use agnt2_evm::CallError;
use agnt2_storage::StorageError;
use agnt2_txpool::PoolError;
use alloy_primitives::Bytes;
use jsonrpsee::types::{ErrorObjectOwned, error::INVALID_PARAMS_CODE};

/// Errors returned to JSON-RPC clients, with codes as the execution-apis specify.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Bad parameters (-32602).
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// The call reverted (code 3, data = revert bytes).
    #[error("execution reverted{}", .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted {
        /// Decoded `Error(string)` reason if any.
        reason: Option<String>,
        /// Raw revert data.
        data: Bytes,
    },
    /// Execution halted (out of gas, invalid opcode…) or the transaction is invalid (-32000).
    #[error("{0}")]
    Execution(String),
    /// The pool refused the transaction (-32000, or -32003 for "transaction underpriced").
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// Unknown block (-32001 resource not found... geth uses -32000 "header not found").
    #[error("header not found")]
    UnknownBlock,
    /// Unknown signing account.
    #[error("unknown account {0}")]
    UnknownAccount(alloy_primitives::Address),
    /// A bound of the node was reached (-32005, "limit exceeded" in EIP-1474).
    #[error("{0}")]
    LimitExceeded(String),
    /// The node holds no keys (outside `--dev`): signing methods cannot be served.
    #[error(
        "this node holds no keys: sign the transaction yourself and send it with eth_sendRawTransaction"
    )]
    NoKeys,
    /// Something broke inside the node (-32603).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StorageError> for RpcError {
    fn from(e: StorageError) -> Self {
        match e {
            e @ StorageError::Pruned { .. } => Self::Execution(e.to_string()),
            e => Self::Internal(e.to_string()),
        }
    }
}

impl From<CallError> for RpcError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Invalid(m) => Self::Execution(m),
            CallError::Database(m) => Self::Internal(m),
            CallError::Aborted(a) => Self::Execution(a.to_string()),
        }
    }
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(e: RpcError) -> Self {
        let msg = e.to_string();
        match e {
            RpcError::InvalidParams(_) => {
                ErrorObjectOwned::owned(INVALID_PARAMS_CODE, msg, None::<()>)
            }
            RpcError::Reverted { data, .. } => ErrorObjectOwned::owned(3, msg, Some(data)),
            RpcError::LimitExceeded(_) => ErrorObjectOwned::owned(-32005, msg, None::<()>),
            RpcError::Internal(_) => {
                tracing::error!(target: "rpc", %msg, "internal error");
                ErrorObjectOwned::owned(-32603, msg, None::<()>)
            }
            _ => ErrorObjectOwned::owned(-32000, msg, None::<()>),
        }
    }
}

/// Result alias of RPC handlers.
pub(crate) type RpcResult<T> = Result<T, RpcError>;

/// Decodes `Error(string)` revert data.
pub(crate) fn revert_reason(data: &[u8]) -> Option<String> {
    use alloy_dyn_abi::{DynSolType, DynSolValue};
    if data.len() < 4 || data[..4] != [0x08, 0xc3, 0x79, 0xa0] {
        return None;
    }
    match DynSolType::String.abi_decode(&data[4..]).ok()? {
        DynSolValue::String(s) => Some(s),
        _ => None,
    }
}
