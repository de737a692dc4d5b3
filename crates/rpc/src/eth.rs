//! The `eth`, `net`, `web3`, `txpool`, `rpc` and `personal` namespaces.

use crate::{
    ChainApi, RpcLimits,
    api::{
        EthApiServer, NetApiServer, PersonalApiServer, RpcApiServer, TxpoolApiServer, Web3ApiServer,
    },
    convert::{
        BlockMeta, RpcBlock, RpcReceipt, StoredBlock, rpc_block, rpc_pending_tx, rpc_receipt_at,
        rpc_receipts, rpc_tx,
    },
    error::{RpcError, RpcResult, revert_reason},
    filters::{Changes, get_logs},
    plumbing::{Handler, env_of, find_block, halt_message, state_block},
    sign,
};
use agnt2_evm::{EvmConfig, ExecLimits, ExecutionResult, PendingState};
use agnt2_primitives::constants::CLIENT_VERSION;
use agnt2_storage::StoreReader;
use agnt2_txpool::{PoolContent, PooledTx};
use alloy_consensus::Transaction as _;
use alloy_dyn_abi::TypedData;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_evm::{
    overrides::{apply_block_overrides, apply_state_overrides},
    rpc::TryIntoTxEnv,
};
use alloy_primitives::{Address, B256, Bytes, U64, U256, keccak256};
use alloy_rpc_types_eth::{
    BlockOverrides, EIP1186AccountProofResponse, EIP1186StorageProof, FeeHistory, Filter, Log,
    TransactionRequest, state::StateOverride,
};
use alloy_serde::JsonStorageKey;
use jsonrpsee::{
    Extensions, PendingSubscriptionSink, core::SubscriptionResult, core::async_trait,
    types::ErrorObjectOwned,
};
use op_alloy_rpc_types::Transaction as RpcTx;
use revm::DatabaseRef;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Priority fee suggested to wallets (0.001 gwei): blocks are not full on a devnet.
const DEFAULT_PRIORITY_FEE: u128 = 1_000_000;

/// One execution of a call request at a block, with optional overrides.
struct CallSpec {
    req: TransactionRequest,
    block: Option<BlockId>,
    state: Option<StateOverride>,
    overrides: Option<BlockOverrides>,
    /// Run in the next block's context (estimates).
    next_block: bool,
}

/// Runs `spec` with `gas` (default: what it asks for), never more than the gas cap, within
/// `exec`'s bounds.
fn run_call<C: ChainApi>(
    api: &C,
    r: &StoreReader,
    spec: &CallSpec,
    gas: Option<u64>,
    limits: &RpcLimits,
    exec: &mut ExecLimits,
) -> RpcResult<ExecutionResult<agnt2_evm::OpHaltReason>> {
    let (n, at) = state_block(r, spec.block)?;
    let header = r.header(n)?.ok_or(RpcError::UnknownBlock)?;
    let mut env = env_of(api.evm(), &header);
    if spec.next_block && at.is_none() {
        // Estimates on the head run in the context of the block the transaction will land in
        // (number, timestamp and base fee of the next block), as reth does for `pending`.
        env.block_env.number = revm::primitives::U256::from(header.number + 1);
        env.block_env.timestamp = revm::primitives::U256::from(header.timestamp + 1);
        env.block_env.basefee = api.next_base_fee();
    }
    let mut db = PendingState::new(r.state(at));
    if let Some(o) = &spec.overrides {
        apply_block_overrides(o.clone(), &mut db, &mut env.block_env);
    }
    if let Some(s) = &spec.state {
        apply_state_overrides(s.clone(), &mut db)
            .map_err(|e| RpcError::InvalidParams(e.to_string()))?;
    }
    let mut req = spec.req.clone();
    req.gas = Some(limits.call_gas(gas.or(req.gas), env.block_env.gas_limit));
    let tx = req.try_into_tx_env(&env).map_err(|e| RpcError::InvalidParams(e.to_string()))?;
    Ok(api.evm().call(db, env, EvmConfig::call_tx(tx), exec)?)
}

fn call_output(res: ExecutionResult<agnt2_evm::OpHaltReason>) -> RpcResult<Bytes> {
    match res {
        ExecutionResult::Success { output, .. } => Ok(output.into_data()),
        ExecutionResult::Revert { output, .. } => {
            Err(RpcError::Reverted { reason: revert_reason(&output), data: output })
        }
        ExecutionResult::Halt { reason, .. } => Err(RpcError::Execution(halt_message(&reason))),
    }
}

fn estimate<C: ChainApi>(
    api: &C,
    r: &StoreReader,
    spec: &CallSpec,
    limits: &RpcLimits,
) -> RpcResult<u64> {
    let (n, _) = state_block(r, spec.block)?;
    let header = r.header(n)?.ok_or(RpcError::UnknownBlock)?;
    let mut hi = limits.call_gas(spec.req.gas, header.gas_limit);
    // One deadline for the whole search, as geth's.
    let exec = &mut limits.exec();
    // Cap by what the sender can pay for when a fee is given.
    if let (Some(from), Some(price)) =
        (spec.req.from, spec.req.max_fee_per_gas.or(spec.req.gas_price))
        && price > 0
    {
        let bal = r.state(None);
        let acc = revm::DatabaseRef::basic_ref(&bal, from)?.unwrap_or_default();
        let avail = acc.balance.saturating_sub(spec.req.value.unwrap_or_default());
        let cap = avail / U256::from(price);
        hi = hi.min(cap.saturating_to());
    }
    let first = run_call(api, r, spec, Some(hi), limits, exec)?;
    let used = match first {
        ExecutionResult::Success { gas, .. } => gas.tx_gas_used(),
        // A revert or halt at the gas cap is the answer: report it as eth_call would.
        failed => {
            return Err(call_output(failed).err().unwrap_or_else(|| {
                RpcError::Internal("estimate: failed call produced output".into())
            }));
        }
    };
    let mut lo = used.saturating_sub(1);
    // Most calls succeed at used * 64/63 (the EIP-150 reserve); try it before bisecting.
    let optimistic = (used + 2_300) * 64 / 63;
    if optimistic < hi {
        if matches!(
            run_call(api, r, spec, Some(optimistic), limits, exec)?,
            ExecutionResult::Success { .. }
        ) {
            hi = optimistic;
        } else {
            lo = optimistic;
        }
    }
    while lo + 1 < hi {
        // Stop once within 1.5% (as geth does): more precision costs executions, not safety.
        if (hi - lo) * 1000 / hi < 15 {
            break;
        }
        let mid = lo + (hi - lo) / 2;
        if matches!(
            run_call(api, r, spec, Some(mid), limits, exec)?,
            ExecutionResult::Success { .. }
        ) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

fn call_spec(
    req: TransactionRequest,
    block: Option<BlockId>,
    state: Option<StateOverride>,
    overrides: Option<BlockOverrides>,
    next_block: bool,
) -> CallSpec {
    CallSpec { req, block, state, overrides, next_block }
}

/// Fills nonce, chain id, fees and gas of a request from a dev or impersonated account.
fn fill<C: ChainApi>(
    api: &C,
    mut req: TransactionRequest,
    limits: &RpcLimits,
) -> RpcResult<TransactionRequest> {
    let from = req.from.ok_or_else(|| RpcError::InvalidParams("missing from".into()))?;
    let r = api.reader()?;
    if req.nonce.is_none() {
        let state_nonce = r.account(from)?.map(|a| a.nonce).unwrap_or_default();
        req.nonce = Some(api.pool().pending_nonce(from, state_nonce));
    }
    req.chain_id.get_or_insert_with(|| api.chain_spec().chain_id());
    if req.gas_price.is_none() && req.max_fee_per_gas.is_none() {
        let tip = req.max_priority_fee_per_gas.unwrap_or(DEFAULT_PRIORITY_FEE);
        req.max_priority_fee_per_gas = Some(tip);
        req.max_fee_per_gas = Some(2 * api.next_base_fee() as u128 + tip);
    } else if req.max_fee_per_gas.is_some() && req.max_priority_fee_per_gas.is_none() {
        req.max_priority_fee_per_gas =
            Some(DEFAULT_PRIORITY_FEE.min(req.max_fee_per_gas.unwrap_or_default()));
    }
    if req.gas.is_none() {
        let spec = CallSpec {
            req: req.clone(),
            block: None,
            state: None,
            overrides: None,
            next_block: true,
        };
        req.gas = Some(estimate(api, &r, &spec, limits)?);
    }
    if req.to.is_none() {
        req.to = Some(alloy_primitives::TxKind::Create);
    }
    Ok(req)
}

fn fill_and_sign<C: ChainApi>(
    api: &C,
    req: TransactionRequest,
    limits: &RpcLimits,
) -> RpcResult<Bytes> {
    let from = req.from.ok_or_else(|| RpcError::InvalidParams("missing from".into()))?;
    let signer = sign::signer(api, from)?;
    sign::sign_request(signer, fill(api, req, limits)?)
}

/// `eth_sendTransaction`: signed with the dev key of `from`, or sent as `from` when it is
/// impersonated.
fn send_transaction<C: ChainApi>(
    api: &C,
    req: TransactionRequest,
    limits: &RpcLimits,
) -> RpcResult<B256> {
    let from = req.from.ok_or_else(|| RpcError::InvalidParams("missing from".into()))?;
    match sign::signer(api, from) {
        Ok(_) => {
            let raw = fill_and_sign(api, req, limits)?;
            return Ok(api.submit(&raw)?);
        }
        Err(RpcError::NoKeys) => return Err(RpcError::NoKeys),
        Err(_) => {}
    }
    if !api.is_impersonated(from) {
        return Err(RpcError::UnknownAccount(from));
    }
    let (tx, hash) = sign::impersonated(fill(api, req, limits)?)?;
    Ok(api.submit_recovered(tx, hash)?)
}

fn fee_history<C: ChainApi>(
    api: &C,
    count: U64,
    newest: BlockNumberOrTag,
    percentiles: Option<Vec<f64>>,
) -> RpcResult<FeeHistory> {
    if let Some(p) = &percentiles
        && (p.windows(2).any(|w| w[0] > w[1]) || p.iter().any(|x| !(0.0..=100.0).contains(x)))
    {
        return Err(RpcError::InvalidParams(
            "reward percentiles must be ascending in [0, 100]".into(),
        ));
    }
    let r = api.reader()?;
    let newest = find_block(&r, Some(BlockId::Number(newest)))?.ok_or(RpcError::UnknownBlock)?;
    let count = count.to::<u64>().clamp(1, 1024).min(newest + 1);
    let oldest = newest + 1 - count;
    let mut out = FeeHistory { oldest_block: oldest, ..Default::default() };
    let mut rewards = Vec::new();
    let mut last = None;
    for n in oldest..=newest {
        let h = r.header(n)?.ok_or(RpcError::UnknownBlock)?;
        let base = h.base_fee_per_gas.unwrap_or_default();
        out.base_fee_per_gas.push(base as u128);
        out.gas_used_ratio.push(h.gas_used as f64 / h.gas_limit.max(1) as f64);
        out.base_fee_per_blob_gas.push(1);
        out.blob_gas_used_ratio.push(0.0);
        if let Some(p) = &percentiles {
            let body = r.body(n)?.unwrap_or_default();
            let receipts = r.receipts(n)?.unwrap_or_default();
            let mut tips: Vec<(u128, u64)> = Vec::new();
            let mut prev = 0;
            for ((_, tx), (_, rc)) in body.iter().zip(&receipts) {
                let used = rc.cumulative_gas_used() - prev;
                prev = rc.cumulative_gas_used();
                if !tx.is_deposit() {
                    tips.push((tx.effective_tip_per_gas(base).unwrap_or_default(), used));
                }
            }
            tips.sort_unstable();
            let total: u64 = tips.iter().map(|t| t.1).sum();
            rewards.push(
                p.iter()
                    .map(|pct| {
                        let threshold = (total as f64 * pct / 100.0) as u64;
                        let mut acc = 0;
                        tips.iter()
                            .find(|(_, g)| {
                                acc += g;
                                acc >= threshold
                            })
                            .or_else(|| tips.last())
                            .map(|t| t.0)
                            .unwrap_or_default()
                    })
                    .collect(),
            );
        }
        last = Some(h);
    }
    if let Some(h) = last {
        out.base_fee_per_gas.push(api.chain_spec().next_base_fee(&h) as u128);
        out.base_fee_per_blob_gas.push(1);
    }
    out.reward = percentiles.map(|_| rewards);
    Ok(out)
}

/// The EIP-1186 proof of `address` and `keys` after block `at` (`None`: the head).
pub(crate) fn proof_response(
    r: &StoreReader,
    address: Address,
    keys: Vec<JsonStorageKey>,
    at: Option<u64>,
) -> RpcResult<EIP1186AccountProofResponse> {
    let slots: Vec<B256> = keys.iter().map(|k| k.as_b256()).collect();
    let p = r.proof_at(address, &slots, at)?;
    let account = p.account.unwrap_or_default();
    let storage_proof = keys
        .into_iter()
        .zip(p.storage)
        .map(|(key, (value, proof))| EIP1186StorageProof { key, value, proof })
        .collect();
    Ok(EIP1186AccountProofResponse {
        address,
        balance: account.balance,
        code_hash: if account.code_hash.is_zero() {
            revm::primitives::KECCAK_EMPTY
        } else {
            account.code_hash
        },
        nonce: account.nonce,
        storage_hash: if account.storage_root.is_zero() {
            alloy_consensus::constants::EMPTY_ROOT_HASH
        } else {
            account.storage_root
        },
        account_proof: p.account_proof,
        storage_proof,
    })
}

#[async_trait]
impl<C: ChainApi> EthApiServer for Handler<C> {
    fn chain_id(&self) -> RpcResult<U64> {
        Ok(U64::from(self.api.chain_spec().chain_id()))
    }
    fn syncing(&self) -> RpcResult<bool> {
        Ok(false)
    }
    fn mining(&self) -> RpcResult<bool> {
        Ok(true)
    }
    fn hashrate(&self) -> RpcResult<U64> {
        Ok(U64::ZERO)
    }
    fn coinbase(&self) -> RpcResult<Address> {
        Ok(self.api.head().header.beneficiary)
    }
    fn block_number(&self) -> RpcResult<U64> {
        Ok(U64::from(self.api.head().number))
    }
    fn accounts(&self) -> RpcResult<Vec<Address>> {
        Ok(self.api.signers().iter().map(|s| s.address()).collect())
    }
    fn gas_price(&self) -> RpcResult<U256> {
        Ok(U256::from(self.api.next_base_fee() as u128 + DEFAULT_PRIORITY_FEE))
    }
    fn max_priority_fee_per_gas(&self) -> RpcResult<U256> {
        Ok(U256::from(DEFAULT_PRIORITY_FEE))
    }
    fn blob_base_fee(&self) -> RpcResult<U256> {
        Ok(U256::from(1))
    }
    fn fee_history(
        &self,
        block_count: U64,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory> {
        fee_history(&*self.api, block_count, newest_block, reward_percentiles)
    }

    fn balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256> {
        let r = self.api.reader()?;
        let (_, at) = state_block(&r, block)?;
        Ok(DatabaseRef::basic_ref(&r.state(at), address)?.map(|i| i.balance).unwrap_or_default())
    }
    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64> {
        let r = self.api.reader()?;
        let (_, at) = state_block(&r, block)?;
        let nonce =
            DatabaseRef::basic_ref(&r.state(at), address)?.map(|i| i.nonce).unwrap_or_default();
        if matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            return Ok(U64::from(self.api.pool().pending_nonce(address, nonce)));
        }
        Ok(U64::from(nonce))
    }
    fn code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes> {
        let r = self.api.reader()?;
        let (_, at) = state_block(&r, block)?;
        let Some(info) = DatabaseRef::basic_ref(&r.state(at), address)? else {
            return Ok(Bytes::new());
        };
        Ok(r.code(info.code_hash)?.unwrap_or_default())
    }
    fn storage_at(
        &self,
        address: Address,
        slot: JsonStorageKey,
        block: Option<BlockId>,
    ) -> RpcResult<B256> {
        let r = self.api.reader()?;
        let (_, at) = state_block(&r, block)?;
        let slot = U256::from_be_bytes(slot.as_b256().0);
        Ok(B256::from(DatabaseRef::storage_ref(&r.state(at), address, slot)?))
    }
    fn proof(
        &self,
        address: Address,
        storage_keys: Vec<JsonStorageKey>,
        block: Option<BlockId>,
    ) -> RpcResult<EIP1186AccountProofResponse> {
        let r = self.api.reader()?;
        let (_, at) = state_block(&r, block)?;
        proof_response(&r, address, storage_keys, at)
    }

    fn call(
        &self,
        transaction: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
    ) -> RpcResult<Bytes> {
        let spec = call_spec(transaction, block, state_overrides, block_overrides, false);
        let r = self.api.reader()?;
        let exec = &mut self.limits.exec();
        call_output(run_call(&*self.api, &r, &spec, None, &self.limits, exec)?)
    }
    fn estimate_gas(
        &self,
        transaction: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
    ) -> RpcResult<U64> {
        let spec = call_spec(transaction, block, state_overrides, block_overrides, true);
        let r = self.api.reader()?;
        Ok(U64::from(estimate(&*self.api, &r, &spec, &self.limits)?))
    }
    fn create_access_list(
        &self,
        transaction: TransactionRequest,
        block: Option<BlockId>,
    ) -> RpcResult<Value> {
        crate::debug::create_access_list(self, transaction, block)
    }

    fn send_raw_transaction(&self, data: Bytes) -> RpcResult<B256> {
        let hash = self.api.submit(&data)?;
        self.filters.on_pending(hash);
        Ok(hash)
    }
    async fn send_raw_transaction_sync(
        &self,
        data: Bytes,
        timeout: Option<u64>,
    ) -> Result<Option<RpcReceipt>, ErrorObjectOwned> {
        crate::pubsub::send_raw_transaction_sync(self, data, timeout).await
    }
    fn send_transaction(&self, transaction: TransactionRequest) -> RpcResult<B256> {
        let hash = send_transaction(&*self.api, transaction, &self.limits)?;
        self.filters.on_pending(hash);
        Ok(hash)
    }
    fn sign_transaction(&self, transaction: TransactionRequest) -> RpcResult<Bytes> {
        fill_and_sign(&*self.api, transaction, &self.limits)
    }
    fn sign(&self, address: Address, message: Bytes) -> RpcResult<Bytes> {
        sign::sign_message(sign::signer(&*self.api, address)?, &message)
    }
    fn sign_typed_data_v4(&self, address: Address, typed_data: Value) -> RpcResult<Bytes> {
        let data: TypedData = match typed_data {
            Value::String(s) => serde_json::from_str(&s),
            v => serde_json::from_value(v),
        }
        .map_err(|e| RpcError::InvalidParams(format!("argument 1 (typedData): {e}")))?;
        sign::sign_typed(sign::signer(&*self.api, address)?, &data)
    }

    fn block_by_number(
        &self,
        block: BlockNumberOrTag,
        full: Option<bool>,
    ) -> RpcResult<Option<RpcBlock>> {
        block_json(&*self.api, BlockId::Number(block), full.unwrap_or(false))
    }
    fn block_by_hash(&self, hash: B256, full: Option<bool>) -> RpcResult<Option<RpcBlock>> {
        block_json(&*self.api, BlockId::from(hash), full.unwrap_or(false))
    }
    fn block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<RpcReceipt>>> {
        let r = self.api.reader()?;
        let Some(n) = find_block(&r, Some(block))? else { return Ok(None) };
        let Some(block) = StoredBlock::load(&r, n)? else { return Ok(None) };
        let receipts = r.receipts(n)?.unwrap_or_default();
        Ok(Some(rpc_receipts(&*self.api, &block, &receipts)))
    }
    fn transaction_by_hash(&self, hash: B256) -> RpcResult<Option<RpcTx>> {
        let r = self.api.reader()?;
        if let Some(loc) = r.tx_location(hash)? {
            return tx_at(&r, loc.block, loc.index);
        }
        Ok(self.api.pool().get(&hash).map(|p| rpc_pending_tx(&p.tx)))
    }
    fn transaction_receipt(&self, hash: B256) -> RpcResult<Option<RpcReceipt>> {
        let r = self.api.reader()?;
        let Some(loc) = r.tx_location(hash)? else { return Ok(None) };
        rpc_receipt_at(&*self.api, &r, loc.block, loc.index)
    }
    fn transaction_by_block_hash_and_index(
        &self,
        block_hash: B256,
        index: U64,
    ) -> RpcResult<Option<RpcTx>> {
        tx_by_block_and_index(&*self.api, BlockId::from(block_hash), index)
    }
    fn transaction_by_block_number_and_index(
        &self,
        block: BlockNumberOrTag,
        index: U64,
    ) -> RpcResult<Option<RpcTx>> {
        tx_by_block_and_index(&*self.api, BlockId::Number(block), index)
    }
    fn block_transaction_count_by_hash(&self, block_hash: B256) -> RpcResult<Option<U64>> {
        tx_count(&*self.api, BlockId::from(block_hash))
    }
    fn block_transaction_count_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>> {
        tx_count(&*self.api, BlockId::Number(block))
    }
    fn uncle_count_by_block_hash(&self, block_hash: B256) -> RpcResult<Option<U64>> {
        uncle_count(&*self.api, BlockId::from(block_hash))
    }
    fn uncle_count_by_block_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>> {
        uncle_count(&*self.api, BlockId::Number(block))
    }
    fn uncle_by_block_hash_and_index(&self, _: B256, _: U64) -> RpcResult<Option<RpcBlock>> {
        Ok(None)
    }
    fn uncle_by_block_number_and_index(
        &self,
        _: BlockNumberOrTag,
        _: U64,
    ) -> RpcResult<Option<RpcBlock>> {
        Ok(None)
    }

    fn logs(&self, filter: Filter) -> RpcResult<Vec<Log>> {
        get_logs(&*self.api, &filter, &self.limits)
    }
    fn new_filter(&self, filter: Filter) -> RpcResult<U256> {
        self.filters.new_logs(filter, self.api.head().number)
    }
    fn new_block_filter(&self) -> RpcResult<U256> {
        self.filters.new_blocks(self.api.head().number)
    }
    fn new_pending_transaction_filter(&self) -> RpcResult<U256> {
        self.filters.new_pending(self.api.head().number)
    }
    fn uninstall_filter(&self, id: U256) -> RpcResult<bool> {
        Ok(self.filters.uninstall(id))
    }
    fn filter_changes(&self, id: U256) -> RpcResult<Value> {
        match self.filters.changes(&*self.api, id)? {
            Changes::Logs(l) => serde_json::to_value(l),
            Changes::Hashes(h) => serde_json::to_value(h),
        }
        .map_err(|e| RpcError::Internal(e.to_string()))
    }
    fn filter_logs(&self, id: U256) -> RpcResult<Vec<Log>> {
        let f = self.filters.filter_of(id)?;
        get_logs(&*self.api, &f, &self.limits)
    }

    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: String,
        filter: Option<Value>,
    ) -> SubscriptionResult {
        crate::pubsub::subscribe(self, pending, kind, filter).await;
        Ok(())
    }
}

impl<C: ChainApi> NetApiServer for Handler<C> {
    fn version(&self) -> RpcResult<String> {
        Ok(self.api.chain_spec().chain_id().to_string())
    }
    fn listening(&self) -> RpcResult<bool> {
        Ok(true)
    }
    fn peer_count(&self) -> RpcResult<U64> {
        Ok(U64::ZERO)
    }
}

impl<C: ChainApi> Web3ApiServer for Handler<C> {
    fn client_version(&self) -> RpcResult<String> {
        Ok(CLIENT_VERSION.to_string())
    }
    fn sha3(&self, data: Bytes) -> RpcResult<B256> {
        Ok(keccak256(data))
    }
}

impl<C: ChainApi> RpcApiServer for Handler<C> {
    fn modules(&self, ext: &Extensions) -> RpcResult<Value> {
        Ok(self.apis.of(ext).modules_json())
    }
}

impl<C: ChainApi> PersonalApiServer for Handler<C> {
    fn sign(&self, message: Bytes, address: Address) -> RpcResult<Bytes> {
        sign::sign_message(sign::signer(&*self.api, address)?, &message)
    }
}

impl<C: ChainApi> TxpoolApiServer for Handler<C> {
    fn content(&self) -> RpcResult<Value> {
        Ok(txpool_view(&self.api.pool().content(), |t| {
            serde_json::to_value(rpc_pending_tx(&t.tx)).unwrap_or_default()
        }))
    }
    fn inspect(&self) -> RpcResult<Value> {
        Ok(txpool_view(&self.api.pool().content(), |t| {
            let to = t.tx.to().map_or_else(|| "contract creation".into(), |a| a.to_checksum(None));
            let (value, gas, price) = (t.tx.value(), t.tx.gas_limit(), t.tx.max_fee_per_gas());
            Value::String(format!("{to}: {value} wei + {gas} gas × {price} wei"))
        }))
    }
    fn status(&self) -> RpcResult<Value> {
        let s = self.api.pool().status();
        Ok(serde_json::json!({"pending": U64::from(s.pending), "queued": U64::from(s.queued)}))
    }
}

/// Transaction `index` of block `n`, with its deposit nonce from the receipt.
fn tx_at(r: &StoreReader, n: u64, index: u32) -> RpcResult<Option<RpcTx>> {
    let (Some(meta), Some((sender, tx))) = (BlockMeta::load(r, n)?, r.transaction(n, index)?)
    else {
        return Ok(None);
    };
    let receipt = r.receipt(n, index)?.map(|(_, r)| r);
    Ok(Some(rpc_tx(&meta, index as usize, sender, &tx, receipt.as_ref())))
}

fn tx_by_block_and_index<C: ChainApi>(
    api: &C,
    id: BlockId,
    index: U64,
) -> RpcResult<Option<RpcTx>> {
    let r = api.reader()?;
    let Some(n) = find_block(&r, Some(id))? else { return Ok(None) };
    let Ok(index) = u32::try_from(index.to::<u64>()) else { return Ok(None) };
    tx_at(&r, n, index)
}

fn tx_count<C: ChainApi>(api: &C, id: BlockId) -> RpcResult<Option<U64>> {
    let r = api.reader()?;
    let Some(n) = find_block(&r, Some(id))? else { return Ok(None) };
    Ok(r.body(n)?.map(|b| U64::from(b.len())))
}

fn uncle_count<C: ChainApi>(api: &C, id: BlockId) -> RpcResult<Option<U64>> {
    let r = api.reader()?;
    Ok(find_block(&r, Some(id))?.map(|_| U64::ZERO))
}

/// `{pending: {sender: {nonce: f(tx)}}, queued: {…}}`, the shape of geth's txpool namespace.
fn txpool_view(content: &PoolContent, f: impl Fn(&PooledTx) -> Value) -> Value {
    let side = |txs: &BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>| {
        txs.iter()
            .map(|(addr, by_nonce)| {
                let entries = by_nonce.iter().map(|(n, t)| (n.to_string(), f(t))).collect();
                (addr.to_checksum(None), Value::Object(entries))
            })
            .collect::<serde_json::Map<_, _>>()
    };
    serde_json::json!({"pending": side(&content.pending), "queued": side(&content.queued)})
}

fn block_json<C: ChainApi>(api: &C, id: BlockId, full: bool) -> RpcResult<Option<RpcBlock>> {
    let r = api.reader()?;
    let Some(n) = find_block(&r, Some(id))? else { return Ok(None) };
    let Some(block) = StoredBlock::load(&r, n)? else { return Ok(None) };
    let receipts = if full { r.receipts(n)? } else { None };
    let mut out = rpc_block(&block, receipts.as_deref(), full);
    out.interaction_root = r.interaction_root(n)?;
    Ok(Some(out))
}
