//! EIP-4844 blob transactions: building the sidecar the L1 accepts (cell proofs since Osaka,
//! EIP-7594; one proof per blob before), signing, sending.

use crate::Client;
use alloy_consensus::{
    SignableTransaction, Signed, TxEip4844, TxEip4844Variant, TxEip4844WithSidecar, TxEnvelope,
};
use alloy_eips::{
    eip2718::Encodable2718,
    eip4844::{Blob, BlobTransactionSidecar, env_settings::EnvKzgSettings},
    eip7594::{BlobTransactionSidecarEip7594, BlobTransactionSidecarVariant},
};
use alloy_network::AnyTransactionReceipt;
use alloy_primitives::{Address, B256, Bytes};
use alloy_provider::Provider;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::bail;

/// The most blobs one transaction carries (EIP-7594's per-transaction limit, and the most
/// op-batcher puts in one).
pub const MAX_BLOBS_PER_TX: usize = 6;

/// The intrinsic gas of a blob transaction without calldata.
const BLOB_TX_GAS: u64 = 21_000;

impl Client {
    /// Whether the node wants EIP-7594 sidecars (cell proofs): its `eth_config` (EIP-7910) has
    /// Osaka's P256VERIFY precompile. A node without `eth_config` predates Osaka. Asked once.
    pub fn wants_cell_proofs(&self) -> bool {
        *self.cell_proofs.get_or_init(|| {
            self.call("eth_config", serde_json::json!([])).is_ok_and(|c| {
                c.pointer("/current/precompiles")
                    .and_then(serde_json::Value::as_object)
                    .is_some_and(|p| p.contains_key("P256VERIFY"))
            })
        })
    }

    /// `eth_blobBaseFee`.
    pub fn blob_base_fee(&self) -> eyre::Result<u128> {
        self.run("eth_blobBaseFee", |p| async move { p.get_blob_base_fee().await })
    }

    /// The sidecar `blobs` (at most [`MAX_BLOBS_PER_TX`]) need on this node: cell proofs when
    /// it wants them, else one KZG proof per blob.
    pub fn blob_sidecar(&self, blobs: Vec<Blob>) -> eyre::Result<BlobTransactionSidecarVariant> {
        if blobs.is_empty() || blobs.len() > MAX_BLOBS_PER_TX {
            bail!("a blob transaction carries 1 to {MAX_BLOBS_PER_TX} blobs, not {}", blobs.len());
        }
        let kzg = EnvKzgSettings::Default.get();
        Ok(if self.wants_cell_proofs() {
            BlobTransactionSidecarVariant::Eip7594(
                BlobTransactionSidecarEip7594::try_from_blobs_with_settings(blobs, kzg)
                    .map_err(|e| eyre::eyre!("computing cell proofs: {e}"))?,
            )
        } else {
            BlobTransactionSidecarVariant::Eip4844(
                BlobTransactionSidecar::try_from_blobs_with_settings(blobs, kzg)
                    .map_err(|e| eyre::eyre!("computing KZG proofs: {e}"))?,
            )
        })
    }

    /// Signs a blob transaction from `from` to `to` carrying `blobs` (at most
    /// [`MAX_BLOBS_PER_TX`]) with the sidecar the node wants; returns its network encoding and
    /// hash.
    pub fn sign_blob_tx(
        &self,
        from: &PrivateKeySigner,
        nonce: u64,
        fees: (u128, u128),
        max_fee_per_blob_gas: u128,
        to: Address,
        blobs: Vec<Blob>,
    ) -> eyre::Result<(Bytes, B256)> {
        let sidecar = self.blob_sidecar(blobs)?;
        self.sign_blob_tx_with(from, nonce, fees, max_fee_per_blob_gas, to, sidecar)
    }

    /// [`Self::sign_blob_tx`] with a sidecar computed before ([`Self::blob_sidecar`]).
    pub fn sign_blob_tx_with(
        &self,
        from: &PrivateKeySigner,
        nonce: u64,
        (max_fee, tip): (u128, u128),
        max_fee_per_blob_gas: u128,
        to: Address,
        sidecar: BlobTransactionSidecarVariant,
    ) -> eyre::Result<(Bytes, B256)> {
        let tx = TxEip4844 {
            chain_id: self.chain_id()?,
            nonce,
            gas_limit: BLOB_TX_GAS,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip.min(max_fee),
            to,
            blob_versioned_hashes: sidecar.versioned_hashes().collect(),
            max_fee_per_blob_gas,
            ..Default::default()
        };
        let sig = from.sign_hash_sync(&tx.signature_hash())?;
        let (tx, sig, hash) = tx.into_signed(sig).into_parts();
        let with_sidecar = TxEip4844WithSidecar::from_tx_and_sidecar(tx, sidecar);
        let env = TxEnvelope::Eip4844(Signed::new_unchecked(
            TxEip4844Variant::TxEip4844WithSidecar(with_sidecar),
            sig,
            hash,
        ));
        Ok((Bytes::from(env.encoded_2718()), hash))
    }

    /// Sends `blobs` to `to` in one blob transaction from `from` (fees: twice the base fee plus
    /// the tip, twice the blob base fee; bumped while it waits, [`crate::Resubmit`]'s
    /// defaults), waits for its receipt and fails if it reverted.
    pub fn transact_blobs(
        &self,
        from: &PrivateKeySigner,
        to: Address,
        blobs: Vec<Blob>,
    ) -> eyre::Result<AnyTransactionReceipt> {
        self.transact_payload(from, crate::Payload::Blobs { to, blobs })
    }
}
