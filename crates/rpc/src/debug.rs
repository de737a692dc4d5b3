//! `debug_traceTransaction`, `debug_traceCall`, `debug_traceBlockByNumber`/`ByHash` with the
//! default struct logger, `callTracer`, `prestateTracer` and `noopTracer` (revm-inspectors),
//! shaped as geth and reth shape them.

use crate::{
    ChainApi, RpcLimits,
    api::DebugApiServer,
    error::{RpcError, RpcResult},
    plumbing::{Ctx, Handler, env_of, find_block, snapshot_head, state_block},
};
use agnt2_evm::{EvmConfig, EvmEnv, ExecLimits, OpSpecId, OpTx, PendingState};
use agnt2_primitives::TxEnvelope;
use agnt2_storage::{StateAt, StoreReader};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_evm::{Evm, EvmFactory, FromRecoveredTx, rpc::TryIntoTxEnv};
use alloy_primitives::{Address, B256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_rpc_types_trace::geth::{
    CallConfig, GethDebugBuiltInTracerType, GethDebugTracerType, GethDebugTracingOptions,
    GethDefaultTracingOptions, GethTrace, NoopFrame, PreStateConfig, TraceResult,
};
use revm::DatabaseCommit;
use revm_inspectors::{
    access_list::AccessListInspector,
    tracing::{TracingInspector, TracingInspectorConfig},
};

enum Tracer {
    Default(GethDefaultTracingOptions),
    Call(CallConfig),
    Prestate(PreStateConfig),
    Noop,
}

fn tracer_of(opts: GethDebugTracingOptions) -> RpcResult<Tracer> {
    let bad = |e: serde_json::Error| RpcError::InvalidParams(format!("tracerConfig: {e}"));
    Ok(match opts.tracer {
        None => Tracer::Default(opts.config),
        Some(GethDebugTracerType::BuiltInTracer(t)) => match t {
            GethDebugBuiltInTracerType::CallTracer => {
                Tracer::Call(opts.tracer_config.into_call_config().map_err(bad)?)
            }
            GethDebugBuiltInTracerType::PreStateTracer => {
                Tracer::Prestate(opts.tracer_config.into_pre_state_config().map_err(bad)?)
            }
            GethDebugBuiltInTracerType::NoopTracer => Tracer::Noop,
            other => {
                return Err(RpcError::InvalidParams(format!(
                    "tracer {other:?} is not supported; use callTracer, prestateTracer, \
                     noopTracer or the default struct logger"
                )));
            }
        },
        Some(GethDebugTracerType::JsTracer(code)) => {
            // Unknown names also land here: geth treats any other string as JavaScript.
            let msg = if code.contains('{') {
                "JavaScript tracers are not supported".to_string()
            } else {
                format!(
                    "unknown tracer {code:?}: use callTracer, prestateTracer, noopTracer or                      the default struct logger"
                )
            };
            return Err(RpcError::InvalidParams(msg));
        }
    })
}

type Db<'a> = PendingState<StateAt<'a>>;

/// The bounds of one tracing request: the EVM timeout, and for the struct logger the step cap
/// (lowered by the request's own `limit`).
fn exec_limits(limits: &RpcLimits, tracer: &Tracer) -> ExecLimits {
    let steps = match tracer {
        Tracer::Default(o) => match (o.limit.filter(|l| *l > 0), limits.max_trace_steps) {
            (Some(l), 0) => l,
            (Some(l), cap) => l.min(cap),
            (None, cap) => cap,
        },
        _ => 0,
    };
    ExecLimits::new(limits.evm_timeout, steps)
}

/// Runs `tx` with a tracer over `db`, within `exec`; commits its state when `commit` (block
/// replays).
fn trace_one(
    evm_config: &EvmConfig,
    db: &mut Db<'_>,
    env: EvmEnv<OpSpecId>,
    tx: OpTx,
    tracer: &Tracer,
    commit: bool,
    exec: &mut ExecLimits,
) -> RpcResult<GethTrace> {
    exec.check().map_err(|a| RpcError::Execution(a.to_string()))?;
    let config = match tracer {
        Tracer::Default(o) => TracingInspectorConfig::from_geth_config(o),
        Tracer::Call(c) => TracingInspectorConfig::from_geth_call_config(c),
        Tracer::Prestate(p) => TracingInspectorConfig::from_geth_prestate_config(p),
        Tracer::Noop => TracingInspectorConfig::none(),
    };
    let mut inspector = TracingInspector::new(config);
    let factory = evm_config.executor_factory().evm_factory();
    let res = {
        let mut evm =
            factory.create_evm_with_inspector(&mut *db, env, (&mut inspector, &mut *exec));
        evm.transact(tx)
    };
    if let Some(a) = exec.aborted() {
        return Err(RpcError::Execution(a.to_string()));
    }
    let res = res.map_err(|e| RpcError::Execution(e.to_string()))?;
    let gas_used = res.result.tx_gas_used();
    let trace = match tracer {
        Tracer::Default(o) => {
            let output = res.result.output().cloned().unwrap_or_default();
            GethTrace::Default(inspector.geth_builder().geth_traces(gas_used, output, *o))
        }
        Tracer::Call(c) => {
            GethTrace::CallTracer(inspector.geth_builder().geth_call_traces(*c, gas_used))
        }
        Tracer::Prestate(p) => GethTrace::PreStateTracer(
            inspector
                .geth_builder()
                .geth_prestate_traces(&res, p, &*db)
                .map_err(|e| RpcError::Internal(e.to_string()))?,
        ),
        Tracer::Noop => GethTrace::NoopTracer(NoopFrame::default()),
    };
    if commit {
        db.commit(res.state);
    }
    Ok(trace)
}

fn op_tx(sender: Address, tx: &TxEnvelope) -> OpTx {
    OpTx::from_recovered_tx(tx, sender)
}

/// Replays block `n` and traces its transactions up to `last` (all when `None`).
fn trace_block<C: ChainApi>(
    api: &C,
    r: &StoreReader,
    n: u64,
    last: Option<usize>,
    tracer: &Tracer,
    exec: &mut ExecLimits,
) -> RpcResult<Vec<(B256, GethTrace)>> {
    if n == 0 {
        return Ok(vec![]);
    }
    let header = r.header(n)?.ok_or(RpcError::UnknownBlock)?;
    let body = r.body(n)?.ok_or(RpcError::UnknownBlock)?;
    let parent_is_head = n - 1 == snapshot_head(r)?;
    let mut db = PendingState::new(r.state((!parent_is_head).then_some(n - 1)));
    let env = env_of(api.evm(), &header);
    let mut out = Vec::new();
    for (i, (sender, tx)) in body.iter().enumerate() {
        let wanted = last.is_none_or(|l| i == l);
        let trace = if wanted {
            trace_one(api.evm(), &mut db, env.clone(), op_tx(*sender, tx), tracer, true, exec)?
        } else {
            let noop = &Tracer::Noop;
            trace_one(api.evm(), &mut db, env.clone(), op_tx(*sender, tx), noop, true, exec)?
        };
        if wanted {
            out.push((tx.tx_hash(), trace));
        }
        if last == Some(i) {
            break;
        }
    }
    Ok(out)
}

fn block_traces<C: ChainApi>(
    c: &Ctx<C>,
    id: BlockId,
    options: Option<GethDebugTracingOptions>,
) -> RpcResult<Vec<TraceResult>> {
    let _permit = c.tracing.try_acquire(c.limits.max_tracing_requests)?;
    let tracer = tracer_of(options.unwrap_or_default())?;
    let r = c.api.reader()?;
    let n = find_block(&r, Some(id))?.ok_or(RpcError::UnknownBlock)?;
    let exec = &mut exec_limits(&c.limits, &tracer);
    Ok(trace_block(&*c.api, &r, n, None, &tracer, exec)?
        .into_iter()
        .map(|(hash, result)| TraceResult::Success { result, tx_hash: Some(hash) })
        .collect())
}

/// The environment of a call at block `id` (nonce and base-fee checks off, as for `eth_call`)
/// and the state block to read (`None`: the head).
fn call_env<C: ChainApi>(
    api: &C,
    r: &StoreReader,
    id: Option<BlockId>,
) -> RpcResult<(EvmEnv<OpSpecId>, Option<u64>)> {
    let (n, at) = state_block(r, id)?;
    let header = r.header(n)?.ok_or(RpcError::UnknownBlock)?;
    let mut env = env_of(api.evm(), &header);
    env.cfg_env.disable_nonce_check = true;
    // As geth and anvil: a call may come "from" a contract (EIP-3607 binds transactions).
    env.cfg_env.disable_eip3607 = true;
    env.cfg_env.disable_base_fee = true;
    env.cfg_env.disable_block_gas_limit = true;
    Ok((env, at))
}

/// `eth_createAccessList`: runs the call with an access-list inspector until the list it
/// yields is stable, then reports it with the gas the call uses with it.
/// `eth_createAccessList`: runs until the access list it finds is the one it ran with.
pub(crate) fn create_access_list<C: ChainApi>(
    c: &Ctx<C>,
    mut req: TransactionRequest,
    id: Option<BlockId>,
) -> RpcResult<serde_json::Value> {
    let r = c.api.reader()?;
    let (env, at) = call_env(&*c.api, &r, id)?;
    req.gas = Some(c.limits.call_gas(req.gas, env.block_env.gas_limit));
    let mut exec = c.limits.exec();
    let factory = c.api.evm().executor_factory().evm_factory();
    let mut list = req.access_list.clone().unwrap_or_default();
    for _ in 0..10 {
        req.access_list = Some(list.clone());
        let tx = req
            .clone()
            .try_into_tx_env(&env)
            .map_err(|e| RpcError::InvalidParams(e.to_string()))?;
        let mut inspector = AccessListInspector::new(list.clone());
        exec.check().map_err(|a| RpcError::Execution(a.to_string()))?;
        let res = {
            let db = PendingState::new(r.state(at));
            let mut evm =
                factory.create_evm_with_inspector(db, env.clone(), (&mut inspector, &mut exec));
            evm.transact(EvmConfig::call_tx(tx))
        };
        if let Some(a) = exec.aborted() {
            return Err(RpcError::Execution(a.to_string()));
        }
        let res = res.map_err(|e| RpcError::Execution(e.to_string()))?;
        let next = inspector.into_access_list();
        if next == list {
            let error = (!res.result.is_success()).then(|| match &res.result {
                revm::context::result::ExecutionResult::Revert { .. } => {
                    "execution reverted".to_string()
                }
                revm::context::result::ExecutionResult::Halt { reason, .. } => {
                    crate::plumbing::halt_message(reason)
                }
                revm::context::result::ExecutionResult::Success { .. } => String::new(),
            });
            let mut out = serde_json::json!({
                "accessList": next,
                "gasUsed": alloy_primitives::U64::from(res.result.tx_gas_used()),
            });
            if let Some(e) = error {
                out["error"] = serde_json::Value::String(e);
            }
            return Ok(out);
        }
        list = next;
    }
    Err(RpcError::Execution("access list did not converge".into()))
}

/// Registers the `debug_` tracing methods and `eth_createAccessList`.
impl<C: ChainApi> DebugApiServer for Handler<C> {
    fn trace_transaction(
        &self,
        hash: B256,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<GethTrace> {
        let _permit = self.tracing.try_acquire(self.limits.max_tracing_requests)?;
        let tracer = tracer_of(options.unwrap_or_default())?;
        let r = self.api.reader()?;
        let loc = r
            .tx_location(hash)?
            .ok_or_else(|| RpcError::Execution(format!("transaction {hash} not found")))?;
        let exec = &mut exec_limits(&self.limits, &tracer);
        let index = Some(loc.index as usize);
        let mut traces = trace_block(&*self.api, &r, loc.block, index, &tracer, exec)?;
        traces.pop().map(|(_, t)| t).ok_or(RpcError::UnknownBlock)
    }

    fn trace_block_by_number(
        &self,
        block: BlockNumberOrTag,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>> {
        block_traces(self, BlockId::Number(block), options)
    }

    fn trace_block_by_hash(
        &self,
        hash: B256,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>> {
        block_traces(self, BlockId::from(hash), options)
    }

    fn trace_call(
        &self,
        mut req: TransactionRequest,
        block: Option<BlockId>,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<GethTrace> {
        let _permit = self.tracing.try_acquire(self.limits.max_tracing_requests)?;
        let tracer = tracer_of(options.unwrap_or_default())?;
        let r = self.api.reader()?;
        let (env, at) = call_env(&*self.api, &r, block)?;
        req.gas = Some(self.limits.call_gas(req.gas, env.block_env.gas_limit));
        let tx = req.try_into_tx_env(&env).map_err(|e| RpcError::InvalidParams(e.to_string()))?;
        let mut db = PendingState::new(r.state(at));
        let exec = &mut exec_limits(&self.limits, &tracer);
        trace_one(self.api.evm(), &mut db, env, EvmConfig::call_tx(tx), &tracer, false, exec)
    }
}
