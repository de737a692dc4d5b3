//! `eth_subscribe` over WebSocket (newHeads, logs, newPendingTransactions) and
//! `eth_sendRawTransactionSync` (EIP-7966), both fed by the node's block and pool events.

use crate::{
    ChainApi, convert::rpc_receipt_at, error::RpcError, filters::logs_in_range, plumbing::Ctx,
};
use alloy_consensus::Sealed;
use alloy_primitives::{B256, Bytes, U256};
use alloy_rpc_types_eth::Filter;
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionSink, types::ErrorObjectOwned};
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
pub(crate) fn register<C: ChainApi>(m: &mut RpcModule<Ctx<C>>) {
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |params, pending_sink: PendingSubscriptionSink, ctx, _| async move {
            let args: Vec<Value> = match params.as_str() {
                Some(raw) => match serde_json::from_str(raw) {
                    Ok(Value::Array(v)) => v,
                    _ => return pending_sink.reject(bad("params must be an array")).await,
                },
                None => vec![],
            };
            let kind = args.first().and_then(Value::as_str).unwrap_or_default().to_string();
            match kind.as_str() {
                // Each receiver is created before the subscription is accepted, so that nothing
                // sent after the client learns its id can be missed.
                "newHeads" => {
                    let rx = ctx.api.subscribe();
                    let Ok(sink) = pending_sink.accept().await else { return };
                    heads(&ctx, sink, rx, None).await;
                }
                "logs" => {
                    let filter = match args.get(1) {
                        None | Some(Value::Null) => Filter::default(),
                        Some(v) => match serde_json::from_value::<Filter>(v.clone()) {
                            Ok(f) => f,
                            Err(e) => {
                                return pending_sink
                                    .reject(bad(format!("argument 1 (filter): {e}")))
                                    .await;
                            }
                        },
                    };
                    let rx = ctx.api.subscribe();
                    let Ok(sink) = pending_sink.accept().await else { return };
                    heads(&ctx, sink, rx, Some(filter)).await;
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
        },
    )
    .expect("unique");

    m.register_async_method("eth_sendRawTransactionSync", |params, ctx, _| async move {
        let args: Vec<Value> = params
            .as_str()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| bad(e.to_string()))?
            .unwrap_or_default();
        let raw: Bytes =
            args.first().ok_or_else(|| bad("missing argument 0 (data)")).and_then(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|e| bad(format!("argument 0 (data): {e}")))
            })?;
        let timeout = match args.get(1) {
            None | Some(Value::Null) => SYNC_TIMEOUT,
            Some(v) => Duration::from_millis(
                v.as_u64().ok_or_else(|| bad("argument 1 (timeout): milliseconds expected"))?,
            )
            .min(SYNC_TIMEOUT_MAX),
        };
        // Subscribe before submitting so that the block cannot slip past.
        let mut blocks = ctx.api.subscribe();
        let hash: B256 = ctx.api.submit(&raw).map_err(RpcError::from)?;
        ctx.filters.on_pending(hash);
        let wait = async {
            loop {
                match blocks.recv().await {
                    Ok(b) if b.tx_hashes.contains(&hash) => return Some(b.number),
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        // A lagged receiver may have missed the block: ask the store.
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
                let receipt = rpc_receipt_at(&*ctx.api, &r, loc.block, loc.index)?;
                Ok::<_, ErrorObjectOwned>(receipt)
            }
            _ => Err(ErrorObjectOwned::owned(
                4,
                format!("transaction not included within {} ms", timeout.as_millis()),
                Some(hash),
            )),
        }
    })
    .expect("unique");
}
