//! The `eth`, `net`, `web3`, `txpool` and `rpc` namespaces.

use crate::{
    ChainApi, RpcLimits,
    convert::{
        BlockMeta, StoredBlock, rpc_block, rpc_pending_tx, rpc_receipt_at, rpc_receipts, rpc_tx,
    },
    error::{RpcError, RpcResult, revert_reason},
    filters::{Changes, get_logs},
    plumbing::{Args, Ctx, env_of, find_block, halt_message, reg, reg_blocking, state_block},
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
    BlockOverrides, EIP1186AccountProofResponse, EIP1186StorageProof, FeeHistory, Filter,
    TransactionRequest, state::StateOverride,
};
use alloy_serde::JsonStorageKey;
use jsonrpsee::RpcModule;
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

fn call_spec(a: &Args) -> RpcResult<CallSpec> {
    Ok(CallSpec {
        req: a.req(0, "transaction")?,
        block: a.opt(1, "block")?,
        state: a.opt(2, "stateOverrides")?,
        overrides: a.opt(3, "blockOverrides")?,
        next_block: false,
    })
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

fn fee_history<C: ChainApi>(api: &C, a: &Args) -> RpcResult<FeeHistory> {
    let count: U64 = a.req(0, "blockCount")?;
    let newest: BlockNumberOrTag = a.req(1, "newestBlock")?;
    let percentiles: Option<Vec<f64>> = a.opt(2, "rewardPercentiles")?;
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

fn get_proof<C: ChainApi>(api: &C, a: &Args) -> RpcResult<EIP1186AccountProofResponse> {
    let address: Address = a.req(0, "address")?;
    let keys: Vec<JsonStorageKey> = a.req(1, "storageKeys")?;
    let id: Option<BlockId> = a.opt(2, "block")?;
    let r = api.reader()?;
    let (_, at) = state_block(&r, id)?;
    proof_response(&r, address, keys, at)
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

/// Builds the module: every method of the selected namespaces (the union of both
/// transports'), the devnet controls only with `--dev`.
/// Registers the `eth`, `net`, `web3`, `txpool` and `rpc` namespaces.
pub(crate) fn register<C: ChainApi>(m: &mut RpcModule<Ctx<C>>) {
    reg(m, "web3_clientVersion", |_, _| Ok(CLIENT_VERSION.to_string()));
    reg(m, "web3_sha3", |a, _| Ok(keccak256(a.req::<Bytes>(0, "data")?)));
    reg(m, "net_version", |_, c| Ok(c.api.chain_spec().chain_id().to_string()));
    reg(m, "net_listening", |_, _| Ok(true));
    reg(m, "net_peerCount", |_, _| Ok(U64::ZERO));
    reg(m, "eth_chainId", |_, c| Ok(U64::from(c.api.chain_spec().chain_id())));
    reg(m, "eth_syncing", |_, _| Ok(false));
    reg(m, "eth_mining", |_, _| Ok(true));
    reg(m, "eth_hashrate", |_, _| Ok(U64::ZERO));
    reg(m, "eth_coinbase", |_, c| Ok(c.api.head().header.beneficiary));
    reg(m, "eth_blockNumber", |_, c| Ok(U64::from(c.api.head().number)));
    reg(m, "eth_accounts", |_, c| {
        Ok(c.api.signers().iter().map(|s| s.address()).collect::<Vec<_>>())
    });
    reg(m, "eth_gasPrice", |_, c| {
        Ok(U256::from(c.api.next_base_fee() as u128 + DEFAULT_PRIORITY_FEE))
    });
    reg(m, "eth_maxPriorityFeePerGas", |_, _| Ok(U256::from(DEFAULT_PRIORITY_FEE)));
    reg(m, "eth_blobBaseFee", |_, _| Ok(U256::from(1)));
    reg_blocking(m, "eth_feeHistory", |a, c| fee_history(&*c.api, a));

    reg(m, "eth_getBalance", |a, c| {
        let addr: Address = a.req(0, "address")?;
        let r = c.api.reader()?;
        let (_, at) = state_block(&r, a.opt(1, "block")?)?;
        Ok(revm::DatabaseRef::basic_ref(&r.state(at), addr)?.map(|i| i.balance).unwrap_or_default())
    });
    reg(m, "eth_getTransactionCount", |a, c| {
        let addr: Address = a.req(0, "address")?;
        let id: Option<BlockId> = a.opt(1, "block")?;
        let r = c.api.reader()?;
        let (_, at) = state_block(&r, id)?;
        let nonce =
            revm::DatabaseRef::basic_ref(&r.state(at), addr)?.map(|i| i.nonce).unwrap_or_default();
        if matches!(id, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            return Ok(U64::from(c.api.pool().pending_nonce(addr, nonce)));
        }
        Ok(U64::from(nonce))
    });
    reg(m, "eth_getCode", |a, c| {
        let addr: Address = a.req(0, "address")?;
        let r = c.api.reader()?;
        let (_, at) = state_block(&r, a.opt(1, "block")?)?;
        let Some(info) = revm::DatabaseRef::basic_ref(&r.state(at), addr)? else {
            return Ok(Bytes::new());
        };
        Ok(r.code(info.code_hash)?.unwrap_or_default())
    });
    reg(m, "eth_getStorageAt", |a, c| {
        let addr: Address = a.req(0, "address")?;
        let slot: JsonStorageKey = a.req(1, "slot")?;
        let r = c.api.reader()?;
        let (_, at) = state_block(&r, a.opt(2, "block")?)?;
        let v = revm::DatabaseRef::storage_ref(
            &r.state(at),
            addr,
            U256::from_be_bytes(slot.as_b256().0),
        )?;
        Ok(B256::from(v))
    });
    reg_blocking(m, "eth_getProof", |a, c| get_proof(&*c.api, a));

    reg_blocking(m, "eth_call", |a, c| {
        let spec = call_spec(a)?;
        let r = c.api.reader()?;
        call_output(run_call(&*c.api, &r, &spec, None, &c.limits, &mut c.limits.exec())?)
    });
    reg_blocking(m, "eth_estimateGas", |a, c| {
        let mut spec = call_spec(a)?;
        spec.next_block = true;
        let r = c.api.reader()?;
        Ok(U64::from(estimate(&*c.api, &r, &spec, &c.limits)?))
    });

    reg(m, "eth_sendRawTransaction", |a, c| {
        let raw: Bytes = a.req(0, "data")?;
        let hash = c.api.submit(&raw)?;
        c.filters.on_pending(hash);
        Ok(hash)
    });
    reg_blocking(m, "eth_sendTransaction", |a, c| {
        let req: TransactionRequest = a.req(0, "transaction")?;
        let hash = send_transaction(&*c.api, req, &c.limits)?;
        c.filters.on_pending(hash);
        Ok(hash)
    });
    reg_blocking(m, "eth_signTransaction", |a, c| {
        let req: TransactionRequest = a.req(0, "transaction")?;
        fill_and_sign(&*c.api, req, &c.limits)
    });
    reg(m, "eth_sign", |a, c| {
        let addr: Address = a.req(0, "address")?;
        let data: Bytes = a.req(1, "message")?;
        sign::sign_message(sign::signer(&*c.api, addr)?, &data)
    });
    reg(m, "personal_sign", |a, c| {
        let data: Bytes = a.req(0, "message")?;
        let addr: Address = a.req(1, "address")?;
        sign::sign_message(sign::signer(&*c.api, addr)?, &data)
    });
    reg(m, "eth_signTypedData_v4", |a, c| {
        let addr: Address = a.req(0, "address")?;
        // Wallet libraries send the typed data either as an object or as a JSON string.
        let data: Value = a.req(1, "typedData")?;
        let data: TypedData = match data {
            Value::String(s) => serde_json::from_str(&s),
            v => serde_json::from_value(v),
        }
        .map_err(|e| RpcError::InvalidParams(format!("argument 1 (typedData): {e}")))?;
        sign::sign_typed(sign::signer(&*c.api, addr)?, &data)
    });

    reg(m, "eth_getBlockByNumber", |a, c| {
        let id: BlockNumberOrTag = a.req(0, "block")?;
        let full: bool = a.opt(1, "full")?.unwrap_or(false);
        block_json(&*c.api, Some(BlockId::Number(id)), full)
    });
    reg(m, "eth_getBlockByHash", |a, c| {
        let hash: B256 = a.req(0, "hash")?;
        let full: bool = a.opt(1, "full")?.unwrap_or(false);
        block_json(&*c.api, Some(BlockId::from(hash)), full)
    });
    reg(m, "eth_getBlockReceipts", |a, c| {
        let id: BlockId = a.req(0, "block")?;
        let r = c.api.reader()?;
        let Some(n) = find_block(&r, Some(id))? else { return Ok(None) };
        let Some(block) = StoredBlock::load(&r, n)? else { return Ok(None) };
        let receipts = r.receipts(n)?.unwrap_or_default();
        Ok(Some(rpc_receipts(&*c.api, &block, &receipts)))
    });
    reg(m, "eth_getTransactionByHash", |a, c| {
        let hash: B256 = a.req(0, "hash")?;
        let r = c.api.reader()?;
        if let Some(loc) = r.tx_location(hash)? {
            let meta = BlockMeta::load(&r, loc.block)?.ok_or(RpcError::UnknownBlock)?;
            let (sender, tx) =
                r.transaction(loc.block, loc.index)?.ok_or(RpcError::UnknownBlock)?;
            let receipt = r.receipt(loc.block, loc.index)?.map(|(_, r)| r);
            return Ok(Some(rpc_tx(&meta, loc.index as usize, sender, &tx, receipt.as_ref())));
        }
        Ok(c.api.pool().get(&hash).map(|p| rpc_pending_tx(&p.tx)))
    });
    reg(m, "eth_getTransactionReceipt", |a, c| {
        let hash: B256 = a.req(0, "hash")?;
        let r = c.api.reader()?;
        let Some(loc) = r.tx_location(hash)? else { return Ok(None) };
        rpc_receipt_at(&*c.api, &r, loc.block, loc.index)
    });

    for (name, by_hash) in [
        ("eth_getTransactionByBlockHashAndIndex", true),
        ("eth_getTransactionByBlockNumberAndIndex", false),
    ] {
        reg(m, name, move |a, c| {
            let id = block_arg(a, by_hash)?;
            let index: U64 = a.req(1, "index")?;
            let r = c.api.reader()?;
            let Some(n) = find_block(&r, Some(id))? else { return Ok(None) };
            let Ok(index) = u32::try_from(index.to::<u64>()) else { return Ok(None) };
            let (Some(meta), Some((sender, tx))) =
                (BlockMeta::load(&r, n)?, r.transaction(n, index)?)
            else {
                return Ok(None);
            };
            let receipt = r.receipt(n, index)?.map(|(_, r)| r);
            Ok(Some(rpc_tx(&meta, index as usize, sender, &tx, receipt.as_ref())))
        });
    }
    for (name, by_hash) in [
        ("eth_getBlockTransactionCountByHash", true),
        ("eth_getBlockTransactionCountByNumber", false),
    ] {
        reg(m, name, move |a, c| {
            let id = block_arg(a, by_hash)?;
            let r = c.api.reader()?;
            let Some(n) = find_block(&r, Some(id))? else { return Ok(None) };
            Ok(r.body(n)?.map(|b| U64::from(b.len())))
        });
    }
    for (name, by_hash) in
        [("eth_getUncleCountByBlockHash", true), ("eth_getUncleCountByBlockNumber", false)]
    {
        reg(m, name, move |a, c| {
            let id = block_arg(a, by_hash)?;
            let r = c.api.reader()?;
            Ok(find_block(&r, Some(id))?.map(|_| U64::ZERO))
        });
    }
    for name in ["eth_getUncleByBlockHashAndIndex", "eth_getUncleByBlockNumberAndIndex"] {
        reg(m, name, |a, _| {
            let _: Value = a.req(0, "block")?;
            let _: U64 = a.req(1, "index")?;
            Ok(Value::Null)
        });
    }
    // What the transport the request came over serves.
    m.register_method("rpc_modules", |_, ctx, ext| ctx.apis.of(ext).modules_json())
        .expect("method names are unique");
    reg(m, "txpool_content", |_, c| {
        Ok(txpool_view(&c.api.pool().content(), |t| {
            serde_json::to_value(rpc_pending_tx(&t.tx)).unwrap_or_default()
        }))
    });
    reg(m, "txpool_inspect", |_, c| {
        Ok(txpool_view(&c.api.pool().content(), |t| {
            let to = t.tx.to().map_or_else(|| "contract creation".into(), |a| a.to_checksum(None));
            let (value, gas, price) = (t.tx.value(), t.tx.gas_limit(), t.tx.max_fee_per_gas());
            Value::String(format!("{to}: {value} wei + {gas} gas × {price} wei"))
        }))
    });
    reg(m, "txpool_status", |_, c| {
        let s = c.api.pool().status();
        Ok(serde_json::json!({"pending": U64::from(s.pending), "queued": U64::from(s.queued)}))
    });
    reg_blocking(m, "eth_getLogs", |a, c| {
        get_logs(&*c.api, &a.req::<Filter>(0, "filter")?, &c.limits)
    });
    reg(m, "eth_newFilter", |a, c| {
        let f: Filter = a.req(0, "filter")?;
        c.filters.new_logs(f, c.api.head().number)
    });
    reg(m, "eth_newBlockFilter", |_, c| c.filters.new_blocks(c.api.head().number));
    reg(m, "eth_newPendingTransactionFilter", |_, c| c.filters.new_pending(c.api.head().number));
    reg(m, "eth_uninstallFilter", |a, c| Ok(c.filters.uninstall(a.req(0, "id")?)));
    reg(m, "eth_getFilterChanges", |a, c| {
        match c.filters.changes(&*c.api, a.req(0, "id")?)? {
            Changes::Logs(l) => serde_json::to_value(l),
            Changes::Hashes(h) => serde_json::to_value(h),
        }
        .map_err(|e| RpcError::Internal(e.to_string()))
    });
    reg_blocking(m, "eth_getFilterLogs", |a, c| {
        let f = c.filters.filter_of(a.req(0, "id")?)?;
        get_logs(&*c.api, &f, &c.limits)
    });
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

/// Argument 0 as a block hash (`by_hash`) or a block number/tag.
fn block_arg(a: &Args, by_hash: bool) -> RpcResult<BlockId> {
    Ok(if by_hash {
        BlockId::from(a.req::<B256>(0, "blockHash")?)
    } else {
        BlockId::Number(a.req::<BlockNumberOrTag>(0, "block")?)
    })
}

fn block_json<C: ChainApi>(
    api: &C,
    id: Option<BlockId>,
    full: bool,
) -> RpcResult<Option<crate::convert::RpcBlock>> {
    let r = api.reader()?;
    let Some(n) = find_block(&r, id)? else { return Ok(None) };
    let Some(block) = StoredBlock::load(&r, n)? else { return Ok(None) };
    let receipts = if full { r.receipts(n)? } else { None };
    let mut out = rpc_block(&block, receipts.as_deref(), full);
    out.interaction_root = r.interaction_root(n)?;
    Ok(Some(out))
}
