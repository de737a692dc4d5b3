//! What one JSON-RPC request may make the node spend, with reth's and geth's names and
//! defaults (each is a flag of `agnt2 node`; docs/operations.md lists them).

use crate::error::{RpcError, RpcResult};
use agnt2_evm::ExecLimits;
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

/// Per-request bounds of the handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcLimits {
    /// Most gas an `eth_call`, `eth_estimateGas`, `eth_createAccessList` or `debug_traceCall`
    /// may use; a larger `gas` is lowered to it (`--rpc.gascap`, reth/geth: 50,000,000; 0: no
    /// cap).
    pub gas_cap: u64,
    /// Wall time of one call, estimate or trace (`--rpc.evmtimeout`, geth: 5 s; 0: none).
    pub evm_timeout: Duration,
    /// Tracing requests running at once (`--rpc.max-tracing-requests`, reth: cores − 2, at
    /// least 1); more are refused with -32005.
    pub max_tracing_requests: usize,
    /// Steps the struct logger records per transaction (`--rpc.max-trace-steps`; a request's
    /// own `limit` may lower it). 0: none.
    pub max_trace_steps: u64,
    /// Logs in one `eth_getLogs` / `eth_getFilterLogs` answer (`--rpc.max-logs-per-response`,
    /// reth: 20,000; 0: none).
    pub max_logs_per_response: usize,
    /// Blocks one log query may scan (`--rpc.max-blocks-per-filter`, reth: 100,000; 0: none).
    pub max_blocks_per_filter: u64,
    /// Polling filters installed at once, across clients (`--rpc.max-filters`; filters idle
    /// for 5 minutes are removed, as in geth).
    pub max_filters: usize,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self {
            gas_cap: 50_000_000,
            evm_timeout: Duration::from_secs(5),
            max_tracing_requests: std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(2).max(1)),
            max_trace_steps: 1_000_000,
            max_logs_per_response: 20_000,
            max_blocks_per_filter: 100_000,
            max_filters: 10_000,
        }
    }
}

impl RpcLimits {
    /// The gas a call may use: what it asks for (default: `block_gas_limit`), at most the cap.
    pub(crate) fn call_gas(&self, requested: Option<u64>, block_gas_limit: u64) -> u64 {
        let gas = requested.unwrap_or(block_gas_limit);
        if self.gas_cap == 0 { gas } else { gas.min(self.gas_cap) }
    }

    /// Fresh execution bounds for one request.
    pub(crate) fn exec(&self) -> ExecLimits {
        ExecLimits::new(self.evm_timeout, 0)
    }
}

/// A counting gate for tracing requests.
#[derive(Debug, Default)]
pub(crate) struct TracingPermits(Arc<AtomicUsize>);

/// Held while a tracing request runs.
#[derive(Debug)]
pub(crate) struct TracingPermit(Arc<AtomicUsize>);

impl Drop for TracingPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl TracingPermits {
    pub(crate) fn try_acquire(&self, max: usize) -> RpcResult<TracingPermit> {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            if cur >= max {
                return Err(RpcError::LimitExceeded(format!(
                    "too many tracing requests at once (at most {max}; --rpc.max-tracing-requests)"
                )));
            }
            match self.0.compare_exchange(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(TracingPermit(self.0.clone())),
                Err(now) => cur = now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_is_capped_and_permits_are_counted() {
        let l = RpcLimits { gas_cap: 50, ..Default::default() };
        assert_eq!(l.call_gas(Some(u64::MAX), 1_000), 50);
        assert_eq!(l.call_gas(None, 30), 30);
        assert_eq!(RpcLimits { gas_cap: 0, ..l }.call_gas(None, 1_000), 1_000);
        let p = TracingPermits::default();
        let a = p.try_acquire(1).unwrap();
        assert!(p.try_acquire(1).is_err());
        drop(a);
        assert!(p.try_acquire(1).is_ok());
    }
}
