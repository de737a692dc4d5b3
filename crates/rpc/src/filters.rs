//! `eth_getLogs` and the polling filters (`eth_newFilter`, `eth_getFilterChanges`, …).

use crate::{
    ChainApi, RpcLimits,
    convert::{StoredBlock, rpc_receipts},
    error::{RpcError, RpcResult},
};
use agnt2_storage::StoreReader;
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{B256, U256};
use alloy_rpc_types_eth::{Filter, FilterBlockOption, Log};
use parking_lot::Mutex;
use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Filters not polled for this long are removed (as geth does).
const FILTER_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug)]
enum Kind {
    Logs(Box<Filter>),
    Blocks,
    PendingTxs(Vec<B256>),
}

#[derive(Debug)]
struct Entry {
    kind: Kind,
    last_block: u64,
    polled: Instant,
}

/// Installed filters.
#[derive(Debug)]
pub(crate) struct Filters {
    next: AtomicU64,
    map: Mutex<HashMap<U256, Entry>>,
    limits: RpcLimits,
}

/// What a poll returns.
#[derive(Debug)]
pub(crate) enum Changes {
    Logs(Vec<Log>),
    Hashes(Vec<B256>),
}

impl Filters {
    /// No filters yet; at most `limits.max_filters` at once, log queries bounded by `limits`.
    pub(crate) fn new(limits: RpcLimits) -> Self {
        Self { next: AtomicU64::new(0), map: Mutex::new(HashMap::new()), limits }
    }

    fn install(&self, kind: Kind, head: u64) -> RpcResult<U256> {
        let mut map = self.map.lock();
        map.retain(|_, e| e.polled.elapsed() < FILTER_TIMEOUT);
        if self.limits.max_filters != 0 && map.len() >= self.limits.max_filters {
            return Err(RpcError::LimitExceeded(format!(
                "too many installed filters (at most {}; --rpc.max-filters): uninstall some or \
                 let them expire (5 minutes without a poll)",
                self.limits.max_filters
            )));
        }
        let id = U256::from(self.next.fetch_add(1, Ordering::Relaxed) + 1);
        map.insert(id, Entry { kind, last_block: head, polled: Instant::now() });
        Ok(id)
    }

    pub(crate) fn new_logs(&self, filter: Filter, head: u64) -> RpcResult<U256> {
        self.install(Kind::Logs(Box::new(filter)), head)
    }

    pub(crate) fn new_blocks(&self, head: u64) -> RpcResult<U256> {
        self.install(Kind::Blocks, head)
    }

    pub(crate) fn new_pending(&self, head: u64) -> RpcResult<U256> {
        self.install(Kind::PendingTxs(Vec::new()), head)
    }

    pub(crate) fn uninstall(&self, id: U256) -> bool {
        self.map.lock().remove(&id).is_some()
    }

    /// Records a transaction submitted through this server for pending-transaction filters.
    pub(crate) fn on_pending(&self, hash: B256) {
        for e in self.map.lock().values_mut() {
            if let Kind::PendingTxs(v) = &mut e.kind {
                v.push(hash);
            }
        }
    }

    pub(crate) fn filter_of(&self, id: U256) -> RpcResult<Filter> {
        match self.map.lock().get(&id).map(|e| &e.kind) {
            Some(Kind::Logs(f)) => Ok((**f).clone()),
            Some(_) => Err(RpcError::InvalidParams("filter is not a log filter".into())),
            None => Err(RpcError::Execution("filter not found".into())),
        }
    }

    pub(crate) fn changes<C: ChainApi>(&self, api: &C, id: U256) -> RpcResult<Changes> {
        let r = api.reader()?;
        let head = crate::plumbing::snapshot_head(&r)?;
        let (kind_logs, from) = {
            let mut map = self.map.lock();
            let e =
                map.get_mut(&id).ok_or_else(|| RpcError::Execution("filter not found".into()))?;
            e.polled = Instant::now();
            let from = e.last_block + 1;
            e.last_block = head;
            match &mut e.kind {
                Kind::PendingTxs(v) => return Ok(Changes::Hashes(std::mem::take(v))),
                Kind::Blocks => (None, from),
                Kind::Logs(f) => (Some((**f).clone()), from),
            }
        };
        match kind_logs {
            None => {
                let mut out = Vec::new();
                for n in from..=head {
                    if let Some(h) = r.block_hash(n)? {
                        out.push(h);
                    }
                }
                Ok(Changes::Hashes(out))
            }
            Some(f) => {
                let (lo, hi) = range(&f, head)?;
                let lo = lo.max(from);
                if lo > hi {
                    return Ok(Changes::Logs(vec![]));
                }
                logs_in_range(api, &r, &f, lo, hi, self.limits.max_logs_per_response)
                    .map(Changes::Logs)
            }
        }
    }
}

fn resolve(tag: Option<&BlockNumberOrTag>, head: u64, default: u64) -> RpcResult<u64> {
    Ok(match tag {
        None => default,
        Some(BlockNumberOrTag::Number(n)) => *n,
        Some(BlockNumberOrTag::Earliest) => 0,
        Some(_) => head,
    })
}

fn range(f: &Filter, head: u64) -> RpcResult<(u64, u64)> {
    let (from, to) = f.block_option.as_range();
    let lo = resolve(from, head, head)?;
    let hi = resolve(to, head, head)?.min(head);
    Ok((lo, hi))
}

/// `eth_getLogs`.
pub(crate) fn get_logs<C: ChainApi>(
    api: &C,
    filter: &Filter,
    limits: &RpcLimits,
) -> RpcResult<Vec<Log>> {
    let max_logs = limits.max_logs_per_response;
    let r = api.reader()?;
    let head = crate::plumbing::snapshot_head(&r)?;
    if let FilterBlockOption::AtBlockHash(hash) = filter.block_option {
        let n = r.block_number(hash)?.ok_or(RpcError::UnknownBlock)?;
        return logs_in_range(api, &r, filter, n, n, max_logs);
    }
    let (lo, hi) = range(filter, head)?;
    if lo > hi {
        if let (Some(BlockNumberOrTag::Number(a)), Some(BlockNumberOrTag::Number(b))) =
            filter.block_option.as_range()
            && a > b
        {
            return Err(RpcError::InvalidParams(format!("fromBlock {a} is after toBlock {b}")));
        }
        return Ok(vec![]);
    }
    let max_range = limits.max_blocks_per_filter;
    if max_range != 0 && hi - lo >= max_range {
        return Err(RpcError::LimitExceeded(format!(
            "query exceeds max block range {max_range} (it spans {} blocks; \
             --rpc.max-blocks-per-filter)",
            hi - lo + 1
        )));
    }
    logs_in_range(api, &r, filter, lo, hi, max_logs)
}

pub(crate) fn logs_in_range<C: ChainApi>(
    api: &C,
    r: &StoreReader,
    filter: &Filter,
    lo: u64,
    hi: u64,
    max_logs: usize,
) -> RpcResult<Vec<Log>> {
    let mut out = Vec::new();
    for n in lo..=hi {
        let Some(header) = r.header(n)? else { continue };
        if !filter.matches_bloom(header.logs_bloom) {
            continue;
        }
        let Some(block) = StoredBlock::load(r, n)? else { continue };
        let receipts = r.receipts(n)?.unwrap_or_default();
        for receipt in rpc_receipts(api, &block, &receipts) {
            for log in receipt.inner.inner.logs() {
                if filter.matches(&log.inner) {
                    if max_logs != 0 && out.len() >= max_logs {
                        // reth's wording, with the range that still fits.
                        let last = n.saturating_sub(1).max(lo);
                        return Err(RpcError::LimitExceeded(format!(
                            "query exceeds max results {max_logs}, retry with the range \
                             {lo}-{last} (--rpc.max-logs-per-response)"
                        )));
                    }
                    out.push(log.clone());
                }
            }
        }
    }
    Ok(out)
}
