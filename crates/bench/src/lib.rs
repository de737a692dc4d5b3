//! In-process benchmarks of agnt2.
//!
//! [`Harness`] is a throwaway chain (a temp datadir with the devnet genesis, manual mining) to
//! set state up with real blocks and then measure builds of generated transactions with
//! [`agnt2_node::Chain::dry_run`], which executes without committing. [`Accounts`] signs for the
//! dev accounts and tracks their nonces. Workload benchmarks live in the modules.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod agent;
pub mod builder;
mod calls;
pub mod channels;
pub mod da;
pub mod sidecar;

use agnt2_node::{Chain, ChainConfig};
use agnt2_primitives::{ChainSpec, ReceiptEnvelope, TxEnvelope, dev_signers};
use agnt2_rpc::ChainApi;
use agnt2_txpool::PooledTx;
use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail, eyre};
use std::{path::Path, sync::Arc};

/// The dev accounts, signing with tracked nonces.
#[derive(Debug)]
pub struct Accounts {
    signers: Vec<PrivateKeySigner>,
    nonces: Vec<u64>,
    chain_id: u64,
}

impl Accounts {
    /// The first `n` dev accounts (at most 20), at nonce 0.
    pub fn dev(n: u32, chain_id: u64) -> Self {
        Self::from_signers(dev_signers(n), chain_id)
    }

    /// Accounts of `signers`, at nonce 0.
    pub fn from_signers(signers: Vec<PrivateKeySigner>, chain_id: u64) -> Self {
        let nonces = vec![0; signers.len()];
        Self { signers, nonces, chain_id }
    }

    /// How many accounts there are.
    pub fn len(&self) -> usize {
        self.signers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.signers.is_empty()
    }

    /// Address of account `i`.
    pub fn address(&self, i: usize) -> Address {
        self.signers[i].address()
    }

    /// A signed EIP-1559 transaction from account `i` (`to`: `None` creates) with its next
    /// nonce.
    pub fn tx(
        &mut self,
        i: usize,
        to: Option<Address>,
        input: Bytes,
        value: U256,
        gas_limit: u64,
    ) -> eyre::Result<Arc<PooledTx>> {
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce: self.nonces[i],
            gas_limit,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 1_000_000,
            to: to.map_or(TxKind::Create, TxKind::Call),
            value,
            input,
            ..Default::default()
        };
        let sig = self.signers[i].sign_hash_sync(&tx.signature_hash())?;
        self.nonces[i] += 1;
        let env = TxEnvelope::Eip1559(tx.into_signed(sig));
        let hash = env.tx_hash();
        let tx = alloy_consensus::transaction::Recovered::new_unchecked(env, self.address(i));
        Ok(Arc::new(PooledTx { tx, hash }))
    }
}

/// A throwaway devnet chain.
#[derive(Debug)]
pub struct Harness {
    _dir: tempfile::TempDir,
    /// The chain.
    pub chain: Arc<Chain>,
    /// The dev accounts.
    pub accounts: Accounts,
}

impl Harness {
    /// A fresh devnet in a temp datadir.
    pub fn new() -> eyre::Result<Self> {
        Self::with_spec(ChainSpec::devnet(), 1)
    }

    /// A fresh chain of `spec` (a devnet genesis, perhaps with another gas limit) whose node
    /// builds blocks with `builder_threads` threads.
    pub fn with_spec(spec: ChainSpec, builder_threads: usize) -> eyre::Result<Self> {
        let dir = tempfile::tempdir().wrap_err("temp datadir")?;
        let spec = Arc::new(spec);
        let chain_id = spec.chain_id();
        let config = ChainConfig { builder_threads, ..ChainConfig::dev() };
        let chain = Chain::open(spec, dir.path(), config)?;
        Ok(Self { _dir: dir, chain, accounts: Accounts::dev(20, chain_id) })
    }

    /// Includes `txs` in committed blocks (as many as needed) and returns their receipts;
    /// fails if any was refused or reverted.
    pub fn include(&self, txs: &[Arc<PooledTx>]) -> eyre::Result<Vec<ReceiptEnvelope>> {
        for t in txs {
            self.chain
                .submit(&t.tx.inner().encoded_2718())
                .map_err(|e| eyre!("setup transaction {} refused: {e}", t.hash))?;
        }
        while self.chain.has_pending() {
            self.chain.mine_block()?;
        }
        let r = self.chain.reader()?;
        let mut out = Vec::with_capacity(txs.len());
        for t in txs {
            let loc = r.tx_location(t.hash)?.ok_or_else(|| eyre!("{} was not included", t.hash))?;
            let (_, receipt) = r
                .receipt(loc.block, loc.index)?
                .ok_or_else(|| eyre!("no receipt for {}", t.hash))?;
            if !receipt.status() {
                use alloy_consensus::Transaction;
                let input = t.tx.input();
                bail!(
                    "setup transaction {} to {:?} (selector {}) reverted",
                    t.hash,
                    t.tx.to(),
                    alloy_primitives::hex::encode(&input[..input.len().min(4)])
                );
            }
            out.push(receipt);
        }
        Ok(out)
    }

    /// Deploys `code` (creation bytecode with constructor arguments) from account 0.
    pub fn deploy(&mut self, code: Bytes) -> eyre::Result<Address> {
        let from = self.accounts.address(0);
        let nonce = self.accounts.nonces[0];
        let tx = self.accounts.tx(0, None, code, U256::ZERO, 10_000_000)?;
        self.include(&[tx])?;
        Ok(from.create(nonce))
    }
}

/// The creation bytecode of `contract` from Foundry's output under `out` (`make contracts`).
pub fn artifact(out: &Path, file: &str, contract: &str) -> eyre::Result<Bytes> {
    let path = out.join(file).join(format!("{contract}.json"));
    let raw = std::fs::read_to_string(&path)
        .wrap_err_with(|| format!("cannot read {} (run `make contracts`)", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&raw).wrap_err_with(|| format!("{} is not JSON", path.display()))?;
    let hex = v["bytecode"]["object"]
        .as_str()
        .ok_or_else(|| eyre!("{} has no bytecode.object", path.display()))?;
    hex.parse().wrap_err_with(|| format!("bad bytecode in {}", path.display()))
}

/// The Adjudicator's creation code with its constructor argument: the shortest challenge window
/// (seconds) channels may open with.
pub fn adjudicator_code(out: &Path, min_challenge_window: u64) -> eyre::Result<Bytes> {
    let mut code = artifact(out, "Adjudicator.sol", "Adjudicator")?.to_vec();
    code.extend_from_slice(&alloy_primitives::U256::from(min_challenge_window).to_be_bytes::<32>());
    Ok(code.into())
}

/// Median of `xs` (sorted in place); 0 when empty.
pub fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
