//! Sending a transaction until it is included, as op-service's txmgr does: when it is not
//! included within the resubmission timeout, the same nonce is signed again with higher fees
//! (the newest suggestion, and at least the bump a transaction pool requires of a
//! replacement: 10 %, 100 % for blob transactions), up to a multiple of the first suggestion;
//! whichever of the versions is included is the answer. A version the node forgot is sent
//! again; a nonce another transaction took, or one the L1 can no longer reach (a reorg dropped
//! the sender's earlier transactions too), fails and the caller sends again.

use crate::{Client, sender_lock};
use alloy_eips::eip4844::Blob;
use alloy_network::{AnyTransactionReceipt, ReceiptResponse, TransactionBuilder};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::Provider;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_serde::WithOtherFields;
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail};
use std::time::{Duration, Instant};

/// How a transaction is pushed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resubmit {
    /// How long a version waits for inclusion before fees are bumped (op-batcher's
    /// `--resubmission-timeout`, 48 s).
    pub timeout: Duration,
    /// The highest fee caps, as a multiple of the first suggestion (op-batcher's
    /// `--txmgr.fee-limit-multiplier`, 5).
    pub fee_limit_multiplier: u32,
    /// When to give up waiting for any version.
    pub deadline: Duration,
}

impl Default for Resubmit {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(48), fee_limit_multiplier: 5, deadline: DEADLINE }
    }
}

/// How long [`Resubmit::default`] waits in all.
const DEADLINE: Duration = Duration::from_secs(600);

/// What is sent.
#[derive(Debug, Clone)]
pub enum Payload {
    /// An EIP-1559 call (or creation, without `to`).
    Call {
        /// The recipient.
        to: Option<Address>,
        /// The value.
        value: U256,
        /// The input.
        data: Vec<u8>,
    },
    /// An EIP-4844 transaction carrying blobs to `to`.
    Blobs {
        /// The recipient.
        to: Address,
        /// The blobs (1 to [`crate::MAX_BLOBS_PER_TX`]).
        blobs: Vec<Blob>,
    },
}

/// An included transaction.
#[derive(Debug)]
pub struct Included {
    /// Its receipt (succeeded or reverted: the caller decides).
    pub receipt: AnyTransactionReceipt,
    /// How many times the fees were bumped before it was included.
    pub bumps: u32,
}

/// The fee caps of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fees {
    max_fee: u128,
    tip: u128,
    blob_fee: u128,
}

impl Fees {
    /// The fees of the next version: the newest suggestion, and at least `old` raised by
    /// `percent` (plus one wei, so that a zero tip moves); `None` past `limit`.
    fn bump(self, suggested: Self, percent: u128, limit: Self) -> Option<Self> {
        let up = |old: u128, new: u128| new.max(old.saturating_add(old * percent / 100 + 1));
        let next = Self {
            max_fee: up(self.max_fee, suggested.max_fee),
            tip: up(self.tip, suggested.tip),
            // Zero without blobs.
            blob_fee: if self.blob_fee == 0 && suggested.blob_fee == 0 {
                0
            } else {
                up(self.blob_fee, suggested.blob_fee)
            },
        };
        let next = Self { tip: next.tip.min(next.max_fee), ..next };
        (next.max_fee <= limit.max_fee && next.blob_fee <= limit.blob_fee).then_some(next)
    }
}

/// What a pool says to a transaction it already holds.
fn already_known(e: &eyre::Report) -> bool {
    let s = format!("{e:#}").to_lowercase();
    s.contains("already known") || s.contains("already imported") || s.contains("alreadyknown")
}

/// What a pool says to fees too low: a replacement without enough of a bump, or a fee cap
/// under the base fee (anvil refuses those, and drops pending ones when the base fee rises).
fn underpriced(e: &eyre::Report) -> bool {
    let s = format!("{e:#}").to_lowercase();
    s.contains("underpriced") || s.contains("less than block base fee")
}

impl Client {
    /// Sends `payload` from `from` and pushes it through as [`Resubmit`] says; returns the
    /// receipt of the version that was included (the caller checks its status).
    pub fn send_resubmitting(
        &self,
        from: &PrivateKeySigner,
        payload: Payload,
        cfg: Resubmit,
    ) -> eyre::Result<Included> {
        let chain_id = self.chain_id()?;
        let blob = matches!(payload, Payload::Blobs { .. });
        // Computed once: KZG proofs take long, and every version carries the same blobs.
        let (sidecar, gas) = match &payload {
            Payload::Blobs { blobs, .. } => (Some(self.blob_sidecar(blobs.clone())?), 0),
            Payload::Call { to, value, data } => {
                let mut req = TransactionRequest::default()
                    .with_from(from.address())
                    .with_value(*value)
                    .with_input(data.clone());
                if let Some(to) = to {
                    req = req.with_to(*to);
                }
                let gas = self.run("eth_estimateGas", move |p| async move {
                    p.estimate_gas(WithOtherFields::new(req)).await
                })?;
                (None, gas + gas / 4)
            }
        };
        let sign = |nonce: u64, f: Fees| -> eyre::Result<(Bytes, B256)> {
            match (&payload, &sidecar) {
                (Payload::Blobs { to, .. }, Some(sidecar)) => self.sign_blob_tx_with(
                    from,
                    nonce,
                    (f.max_fee, f.tip),
                    f.blob_fee,
                    *to,
                    sidecar.clone(),
                ),
                (Payload::Call { to, value, data }, _) => Self::sign_tx(
                    from,
                    chain_id,
                    nonce,
                    (f.max_fee, f.tip),
                    gas,
                    *to,
                    *value,
                    data.clone(),
                ),
                (Payload::Blobs { .. }, None) => bail!("a blob transaction without its sidecar"),
            }
        };
        let suggest = || -> eyre::Result<Fees> {
            let (max_fee, tip) = self.fees()?;
            let blob_fee = if blob { self.blob_base_fee()?.saturating_mul(2).max(1) } else { 0 };
            Ok(Fees { max_fee, tip, blob_fee })
        };
        let mut fees = suggest()?;
        let m = u128::from(cfg.fee_limit_multiplier.max(1));
        let limit = Fees {
            max_fee: fees.max_fee.saturating_mul(m),
            tip: fees.tip.saturating_mul(m),
            blob_fee: fees.blob_fee.saturating_mul(m),
        };
        // Blob pools (geth's) want every cap doubled in a replacement; others 10 %.
        let percent = if blob { 100 } else { 10 };

        // One sender at a time per key in this process (the proposer and the batcher share
        // the operator's key): from reading the pending nonce until the node holds the
        // transaction, so two threads never sign the same nonce.
        let lock = sender_lock(from.address());
        let guard = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let nonce = self.nonce(from.address())?;
        let (mut raw, first) = sign(nonce, fees)?;
        self.send_raw(&raw).wrap_err("sending a transaction")?;
        drop(guard);

        let mut hashes = vec![first];
        let (start, mut sent_at, mut bumps) = (Instant::now(), Instant::now(), 0);
        let (mut checked, mut unknown, mut bump_now) = (Instant::now(), 0, false);
        let mut pause = Duration::from_millis(20);
        loop {
            if let Some(receipt) = self.first_receipt(&hashes)? {
                return Ok(Included { receipt, bumps });
            }
            if start.elapsed() > cfg.deadline {
                bail!(
                    "no receipt for {first} (or its {bumps} replacements) after {:?}",
                    cfg.deadline
                );
            }
            if sent_at.elapsed() >= cfg.timeout || bump_now {
                (sent_at, bump_now) = (Instant::now(), false);
                match fees.bump(suggest()?, percent, limit) {
                    Some(next) => {
                        let (next_raw, hash) = sign(nonce, next)?;
                        match self.send_raw(&next_raw) {
                            Ok(_) => {}
                            Err(e) if already_known(&e) => {}
                            // The pool wants more: the next round bumps from these fees.
                            Err(e) if underpriced(&e) => {
                                tracing::debug!(target: "client::txmgr", %hash, "replacement underpriced: {e:#}");
                                fees = next;
                                continue;
                            }
                            Err(e) => {
                                return Err(e).wrap_err_with(|| {
                                    format!("sending a replacement of {first} (nonce {nonce})")
                                });
                            }
                        }
                        tracing::info!(target: "client::txmgr", %first, %hash, nonce, max_fee = next.max_fee, tip = next.tip, blob_fee = next.blob_fee, "not included: fees bumped");
                        (fees, raw, bumps) = (next, next_raw, bumps + 1);
                        hashes.push(hash);
                    }
                    None => {
                        tracing::warn!(target: "client::txmgr", %first, nonce, "not included and the fee limit is reached: waiting");
                    }
                }
            }
            // A version the node forgot (a reorg dropped it, the pool evicted it) is sent
            // again; when the nonce went to another transaction, sending fails.
            if checked.elapsed() >= Duration::from_secs(2) {
                checked = Instant::now();
                let newest = *hashes.last().unwrap_or(&first);
                let known = self.run("eth_getTransactionByHash", move |p| async move {
                    p.get_transaction_by_hash(newest).await.map(|t| t.is_some())
                })?;
                unknown = if known { 0 } else { unknown + 1 };
                if unknown >= 2 {
                    unknown = 0;
                    // When the L1 lost earlier transactions of this sender too (a reorg), this
                    // nonce is out of reach: the caller, which knows what those carried, sends
                    // again.
                    let who = from.address();
                    let mined = self.run("eth_getTransactionCount", move |p| async move {
                        p.get_transaction_count(who).latest().await
                    })?;
                    if mined < nonce {
                        bail!(
                            "transaction {first} was dropped with earlier ones (nonce {nonce}, the L1 is at {mined}): send again"
                        );
                    }
                    match self.send_raw(&raw) {
                        Ok(_) => {}
                        Err(e) if already_known(&e) => {}
                        // Forgotten for its fees: a version with the market's fees now.
                        Err(e) if underpriced(&e) => {
                            tracing::info!(target: "client::txmgr", hash = %newest, "the node dropped the transaction for its fees: bumping");
                            bump_now = true;
                            continue;
                        }
                        Err(e) => {
                            // One last look: a version may have been included meanwhile.
                            if let Some(receipt) = self.first_receipt(&hashes)? {
                                return Ok(Included { receipt, bumps });
                            }
                            return Err(e).wrap_err_with(|| {
                                format!("transaction {first} was dropped and cannot be sent again")
                            });
                        }
                    }
                    tracing::info!(target: "client::txmgr", hash = %newest, "the node forgot the transaction: sent again");
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 3 / 2).min(Duration::from_secs(1));
        }
    }

    /// The receipt of whichever of `versions` (one nonce's signed versions) was included,
    /// newest asked first.
    fn first_receipt(&self, versions: &[B256]) -> eyre::Result<Option<AnyTransactionReceipt>> {
        for &h in versions.iter().rev() {
            let r = self.run("eth_getTransactionReceipt", move |p| async move {
                p.get_transaction_receipt(h).await
            })?;
            if r.is_some() {
                return Ok(r);
            }
        }
        Ok(None)
    }

    /// [`Self::send_resubmitting`] with the defaults, failing when the transaction reverted.
    pub fn transact_payload(
        &self,
        from: &PrivateKeySigner,
        payload: Payload,
    ) -> eyre::Result<AnyTransactionReceipt> {
        let r = self.send_resubmitting(from, payload, Resubmit::default())?.receipt;
        if !r.status() {
            bail!("transaction {} reverted", r.transaction_hash);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::Fees;

    #[test]
    fn bumps_follow_the_market_and_the_pool_rule_up_to_the_limit() {
        let old = Fees { max_fee: 100, tip: 10, blob_fee: 50 };
        let limit = Fees { max_fee: 500, tip: 50, blob_fee: 250 };
        // The market did not move: at least the pool's replacement bump.
        let quiet = Fees { max_fee: 90, tip: 5, blob_fee: 40 };
        assert_eq!(old.bump(quiet, 10, limit), Some(Fees { max_fee: 111, tip: 12, blob_fee: 56 }));
        assert_eq!(
            old.bump(quiet, 100, limit),
            Some(Fees { max_fee: 201, tip: 21, blob_fee: 101 })
        );
        // The market jumped: its suggestion.
        let spike = Fees { max_fee: 400, tip: 30, blob_fee: 60 };
        assert_eq!(old.bump(spike, 10, limit), Some(Fees { max_fee: 400, tip: 30, blob_fee: 60 }));
        // The tip never exceeds the fee cap; a zero tip moves.
        let zero = Fees { max_fee: 10, tip: 0, blob_fee: 0 };
        assert_eq!(
            zero.bump(Fees { max_fee: 0, tip: 0, blob_fee: 0 }, 10, limit),
            Some(Fees { max_fee: 12, tip: 1, blob_fee: 0 })
        );
        // Past the limit: no version.
        assert_eq!(old.bump(Fees { max_fee: 501, ..quiet }, 10, limit), None);
        assert_eq!(old.bump(quiet, 100, Fees { blob_fee: 100, ..limit }), None);
    }
}
