//! What the RPC server reads and asks of the chain ([`ChainApi`]).

use super::{Chain, dev::internal};
use crate::MiningMode;
use agnt2_evm::EvmConfig;
use agnt2_primitives::ChainSpec;
use agnt2_rpc::{ChainApi, DevError, Head, NewBlock};
use agnt2_storage::{StorageResult, StoreReader};
use agnt2_txpool::{AccountState, Pool, PoolError, decode_and_recover};
use alloy_primitives::B256;
use alloy_signer_local::PrivateKeySigner;
use std::{future::Future, pin::Pin, sync::Arc};
use tokio::sync::broadcast;

impl ChainApi for Chain {
    fn chain_spec(&self) -> &Arc<ChainSpec> {
        &self.spec
    }

    fn evm(&self) -> &EvmConfig {
        &self.evm
    }

    fn reader(&self) -> StorageResult<StoreReader> {
        self.store.reader()
    }

    fn pool(&self) -> &Pool {
        &self.pool
    }

    fn head(&self) -> Head {
        self.head.read().clone()
    }

    fn next_base_fee(&self) -> u64 {
        self.next_base_fee_override
            .lock()
            .unwrap_or_else(|| self.spec.next_base_fee(&self.head.read().header))
    }

    fn submit(&self, raw: &[u8]) -> Result<B256, PoolError> {
        if self.is_follower() {
            return Err(PoolError::NotSequencing);
        }
        let (tx, hash) = decode_and_recover(raw, self.spec.chain_id())?;
        self.submit_recovered(tx, hash)
    }

    fn submit_recovered(
        &self,
        tx: alloy_consensus::transaction::Recovered<agnt2_primitives::TxEnvelope>,
        hash: B256,
    ) -> Result<B256, PoolError> {
        let state = {
            let r = self.store.reader().map_err(|e| PoolError::State(e.to_string()))?;
            r.account(tx.signer())
                .map_err(|e| PoolError::State(e.to_string()))?
                .map(|a| AccountState { nonce: a.nonce, balance: a.balance })
                .unwrap_or_default()
        };
        self.pool.add(tx, hash, state, self.next_base_fee())?;
        let _ = self.pending.send(hash);
        if self.current_mining_mode() == MiningMode::Instant {
            self.wake.notify_one();
        }
        Ok(hash)
    }

    fn signers(&self) -> &[PrivateKeySigner] {
        &self.signers
    }

    fn subscribe(&self) -> broadcast::Receiver<NewBlock> {
        self.events.subscribe()
    }

    fn subscribe_pending(&self) -> broadcast::Receiver<B256> {
        self.pending.subscribe()
    }

    fn forwards_transactions(&self) -> bool {
        self.sequencer.get().is_some()
    }

    fn forward_raw(
        &self,
        raw: alloy_primitives::Bytes,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<B256, String>> + Send>> {
        let sequencer = self.sequencer.get().cloned();
        Box::pin(async move {
            let Some(client) = sequencer else { return Err("no sequencer to forward to".into()) };
            tokio::task::spawn_blocking(move || client.send_raw(&raw))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{e:#}"))
        })
    }

    fn rollup_config(&self) -> Option<serde_json::Value> {
        self.rollup_config.get().cloned()
    }

    fn block_signature(
        &self,
        hash: alloy_primitives::B256,
    ) -> Option<(u64, alloy_primitives::Address, alloy_primitives::Bytes)> {
        Self::block_signature(self, &hash)
    }

    fn mine(&self, blocks: u64) -> Pin<Box<dyn Future<Output = Result<u64, DevError>> + Send>> {
        let this = self.me.upgrade();
        Box::pin(async move {
            let this = this.ok_or(DevError::ShuttingDown)?;
            let mut last = 0;
            for _ in 0..blocks {
                let c = this.clone();
                last = tokio::task::spawn_blocking(move || c.mine_block())
                    .await
                    .map_err(|_| DevError::ShuttingDown)?
                    .map_err(internal)?
                    .0;
            }
            Ok(last)
        })
    }
}
