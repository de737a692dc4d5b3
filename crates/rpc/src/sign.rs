//! Signing with the dev accounts: `eth_sendTransaction`, `eth_sign`, `eth_signTypedData_v4`.

use crate::{
    ChainApi,
    error::{RpcError, RpcResult},
};
use agnt2_primitives::TxEnvelope;
use alloy_consensus::SignableTransaction;
use alloy_dyn_abi::TypedData;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, Signature};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

pub(crate) fn signer<C: ChainApi>(api: &C, address: Address) -> RpcResult<&PrivateKeySigner> {
    if api.signers().is_empty() {
        return Err(RpcError::NoKeys);
    }
    api.signers().iter().find(|s| s.address() == address).ok_or(RpcError::UnknownAccount(address))
}

/// Signs a fully filled request with the dev key of its `from` and returns the EIP-2718 bytes.
pub(crate) fn sign_request(signer: &PrivateKeySigner, req: TransactionRequest) -> RpcResult<Bytes> {
    let typed = req
        .build_typed_tx()
        .map_err(|_| RpcError::InvalidParams("transaction request is missing fields".into()))?;
    let sig = signer
        .sign_hash_sync(&typed.signature_hash())
        .map_err(|e| RpcError::Internal(e.to_string()))?;
    Ok(with_signature(typed, sig)?.encoded_2718().into())
}

fn with_signature(
    typed: alloy_consensus::TypedTransaction,
    sig: Signature,
) -> RpcResult<TxEnvelope> {
    use alloy_consensus::TypedTransaction as T;
    Ok(match typed {
        T::Legacy(t) => TxEnvelope::Legacy(t.into_signed(sig)),
        T::Eip2930(t) => TxEnvelope::Eip2930(t.into_signed(sig)),
        T::Eip1559(t) => TxEnvelope::Eip1559(t.into_signed(sig)),
        T::Eip7702(t) => TxEnvelope::Eip7702(t.into_signed(sig)),
        T::Eip4844(_) => {
            return Err(RpcError::InvalidParams("blob transactions are not supported".into()));
        }
    })
}

/// An unsigned request sent as its `from` (impersonation): the envelope carries a placeholder
/// signature whose `r` is the sender, so that equal requests from different senders get
/// different hashes; the sender is attached, not recovered.
pub(crate) fn impersonated(
    req: TransactionRequest,
) -> RpcResult<(alloy_consensus::transaction::Recovered<TxEnvelope>, B256)> {
    let from = req.from.ok_or_else(|| RpcError::InvalidParams("missing from".into()))?;
    let typed = req
        .build_typed_tx()
        .map_err(|_| RpcError::InvalidParams("transaction request is missing fields".into()))?;
    let sig = Signature::new(
        alloy_primitives::U256::from_be_slice(from.as_slice()),
        alloy_primitives::U256::from(1),
        false,
    );
    let envelope = with_signature(typed, sig)?;
    let hash = envelope.tx_hash();
    Ok((alloy_consensus::transaction::Recovered::new_unchecked(envelope, from), hash))
}

/// `eth_sign` / `personal_sign`: EIP-191 signature of `data`.
pub(crate) fn sign_message(signer: &PrivateKeySigner, data: &[u8]) -> RpcResult<Bytes> {
    let sig = signer.sign_message_sync(data).map_err(|e| RpcError::Internal(e.to_string()))?;
    Ok(sig_bytes(&sig))
}

/// `eth_signTypedData_v4`.
pub(crate) fn sign_typed(signer: &PrivateKeySigner, data: &TypedData) -> RpcResult<Bytes> {
    let hash: B256 =
        data.eip712_signing_hash().map_err(|e| RpcError::InvalidParams(e.to_string()))?;
    let sig = signer.sign_hash_sync(&hash).map_err(|e| RpcError::Internal(e.to_string()))?;
    Ok(sig_bytes(&sig))
}

fn sig_bytes(sig: &Signature) -> Bytes {
    Bytes::from(sig.as_bytes().to_vec())
}
