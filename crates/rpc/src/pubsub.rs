//! `eth_subscribe` over WebSocket (newHeads, logs, newPendingTransactions) and
//! `eth_sendRawTransactionSync` (EIP-7966), both fed by the node's block and pool events.

use crate::{
    ChainApi,
    convert::{RpcReceipt, rpc_receipt_at},
    error::RpcError,
    filters::logs_in_range,
    plumbing::Ctx,
};
use alloy_consensus::Sealed;
use alloy_primitives::{B256, Bytes, U256};
use alloy_rpc_types_eth::Filter;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionSink, types::ErrorObjectOwned};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Default and largest wait of `eth_sendRawTransactionSync`.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
const SYNC_TIMEOUT_MAX: Duration = Duration::from_secs(120);

async fn send(sink: &SubscriptionSink, v: &impl Serialize) -> bool {
    match serde_json::value::to_raw_value(v) {
        Ok(raw) => sink.send(raw).await.is_ok(),
        Err(_) => false,
    }
}

async fn heads<C: ChainApi>(
    ctx: &Ctx<C>,
    sink: SubscriptionSink,
    mut rx: tokio::sync::broadcast::Receiver<crate::NewBlock>,
    filter: Option<Filter>,
) {
    loop {
        let block = tokio::select! {
            _ = sink.closed() => return,
            ev = rx.recv() => match ev {
                Ok(b) => b,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        let Ok(r) = ctx.api.reader() else { return };
        match &filter {
            None => {
                let Ok(Some(header)) = r.header(block.number) else { continue };
                let header = alloy_rpc_types_eth::Header::from_consensus(
                    Sealed::new_unchecked(header, block.hash),
                    Some(U256::ZERO),
                    None,
                );
                if !send(&sink, &header).await {
                    return;
                }
            }
            Some(f) => {
                let Ok(logs) = logs_in_range(&*ctx.api, &r, f, block.number, block.number, 0)
                else {
                    continue;
                };
                for log in logs {
                    if !send(&sink, &log).await {
                        return;
                    }
                }
            }
        }
    }
}

async fn pending(sink: SubscriptionSink, mut rx: tokio::sync::broadcast::Receiver<B256>) {
    loop {
        let hash = tokio::select! {
            _ = sink.closed() => return,
            ev = rx.recv() => match ev {
                Ok(h) => h,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        if !send(&sink, &hash).await {
            return;
        }
    }
}

fn bad(msg: impl Into<String>) -> ErrorObjectOwned {
    RpcError::InvalidParams(msg.into()).into()
}

/// Registers the subscription methods and `eth_sendRawTransactionSync`.
/// `eth_subscribe`: `newHeads`, `logs` (with an optional filter) or `newPendingTransactions`;
/// runs until the subscriber goes away.
pub(crate) async fn subscribe<C: ChainApi>(
    ctx: &Ctx<C>,
    pending_sink: PendingSubscriptionSink,
    kind: String,
    filter: Option<Value>,
) {
    match kind.as_str() {
        "newHeads" => {
            let rx = ctx.api.subscribe();
            let Ok(sink) = pending_sink.accept().await else { return };
            heads(ctx, sink, rx, None).await;
        }
        "logs" => {
            let filter = match filter {
                None | Some(Value::Null) => Filter::default(),
                Some(v) => match serde_json::from_value::<Filter>(v) {
                    Ok(f) => f,
                    Err(e) => {
                        return pending_sink.reject(bad(format!("argument 1 (filter): {e}"))).await;
                    }
                },
            };
            let rx = ctx.api.subscribe();
            let Ok(sink) = pending_sink.accept().await else { return };
            heads(ctx, sink, rx, Some(filter)).await;
        }
        "newPendingTransactions" => {
            let rx = ctx.api.subscribe_pending();
            let Ok(sink) = pending_sink.accept().await else { return };
            pending(sink, rx).await;
        }
        other => {
            pending_sink
                .reject(bad(format!(
                    "unknown subscription {other:?}: expected newHeads, logs or \
                     newPendingTransactions"
                )))
                .await
        }
    }
}

/// `eth_sendRawTransactionSync` (EIP-7966): submits, then waits at most `timeout` ms (default
/// 30 s, at most 120 s) for the receipt; error code 4 with the hash when it is not included.
pub(crate) async fn send_raw_transaction_sync<C: ChainApi>(
    ctx: &Ctx<C>,
    raw: Bytes,
    timeout: Option<u64>,
) -> Result<Option<RpcReceipt>, ErrorObjectOwned> {
    let timeout = timeout.map_or(SYNC_TIMEOUT, Duration::from_millis).min(SYNC_TIMEOUT_MAX);
    let mut blocks = ctx.api.subscribe();
    let hash: B256 = ctx.api.submit(&raw).map_err(RpcError::from)?;
    ctx.filters.on_pending(hash);
    let wait = async {
        loop {
            match blocks.recv().await {
                Ok(b) if b.tx_hashes.contains(&hash) => return Some(b.number),
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    if let Ok(r) = ctx.api.reader()
                        && let Ok(Some(loc)) = r.tx_location(hash)
                    {
                        return Some(loc.block);
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(Some(_)) => {
            let r = ctx.api.reader().map_err(RpcError::from)?;
            let loc = r
                .tx_location(hash)
                .map_err(RpcError::from)?
                .ok_or_else(|| RpcError::Internal("included transaction not found".into()))?;
            Ok(rpc_receipt_at(&*ctx.api, &r, loc.block, loc.index)?)
        }
        _ => Err(ErrorObjectOwned::owned(
            4,
            format!("transaction not included within {} ms", timeout.as_millis()),
            Some(hash),
        )),
    }
}
