//! agnt2-client: blocking helpers over an alloy provider, for the rollup or its L1.
//!
//! Any endpoint alloy connects to: `http://`, `https://` (rustls; the platform's roots, so
//! `SSL_CERT_FILE` is honored), `ws://`, `wss://`. Rate limits (429, 503) and connection errors
//! are retried with backoff. The helpers block: they serve the infrequent calls of the channel
//! hub, the CLIs, the benchmarks and settlement (deployments, disputes, watching logs) from
//! synchronous code; async code uses [`Client::provider`] directly.

mod beacon;
mod blobs;
mod rt;
mod txmgr;

pub use beacon::{Beacon, versioned_hash};
pub use blobs::MAX_BLOBS_PER_TX;
pub use txmgr::{Included, Payload, Resubmit};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::{BlockNumberOrTag, eip2718::Encodable2718};
use alloy_network::{AnyNetwork, TransactionBuilder};
pub use alloy_network::{AnyTransactionReceipt, ReceiptResponse};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_provider::{Provider, RootProvider};
use alloy_rpc_client::{ClientBuilder, RpcClient};
use alloy_rpc_types_eth::{Filter, Log, TransactionRequest};
use alloy_serde::WithOtherFields;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use alloy_transport::{
    TransportError, TransportErrorKind,
    layers::{RateLimitRetryPolicy, RetryBackoffLayer, RetryPolicy},
};
use eyre::{WrapErr, bail, eyre};
use serde_json::Value;
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

/// Retries of a call answered 429/503 or that could not connect: with [`BACKOFF_MS`], a call
/// rides out about 7.5 s of rate limiting (a shared hosted endpoint can refuse for seconds: 10
/// retries, 2.5 s, failed a deposit's receipt poll behind a 20-requests-a-second endpoint the
/// node's own follower, batcher and proposer were also polling).
const MAX_RETRIES: u32 = 30;
/// Backoff before a retry, in milliseconds (or the server's `Retry-After`).
const BACKOFF_MS: u64 = 250;

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    url: String,
    /// The HTTP connection pool (http(s) endpoints), shared by alloy's transport and `post`.
    http: Option<reqwest::Client>,
    rpc: RpcClient,
    provider: RootProvider<AnyNetwork>,
    timeout: Duration,
    /// The endpoint's chain id, read once (a chain does not change it).
    chain_id: std::sync::Arc<std::sync::OnceLock<u64>>,
    /// Whether the node wants EIP-7594 blob sidecars, read once.
    cell_proofs: std::sync::Arc<std::sync::OnceLock<bool>>,
}

/// Retries what a rate limit or an unreachable server answers: the request was not served.
fn retry_policy() -> impl RetryPolicy + Clone {
    RateLimitRetryPolicy::default().or(|e: &TransportError| is_connection_error(e))
}

fn is_connection_error(e: &TransportError) -> bool {
    let TransportError::Transport(kind) = e else { return false };
    match kind {
        TransportErrorKind::BackendGone => true,
        TransportErrorKind::Custom(inner) => {
            let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
            while let Some(err) = cur {
                if let Some(r) = err.downcast_ref::<reqwest::Error>()
                    && (r.is_connect() || r.is_timeout())
                {
                    return true;
                }
                cur = err.source();
            }
            false
        }
        _ => false,
    }
}

/// Installs ring as rustls' process-wide crypto provider (once; a provider another part of the
/// process installed first stays).
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    /// Connects to `url`: `http(s)://` or `ws(s)://`.
    pub fn new(url: &str) -> eyre::Result<Self> {
        Self::with_timeout_at(url, Duration::from_secs(30))
    }

    /// For a socket address (`http://addr`).
    pub fn from_addr(addr: SocketAddr) -> eyre::Result<Self> {
        Self::new(&format!("http://{addr}"))
    }

    /// [`Self::new`] with calls that may wait `timeout` for their answer.
    pub fn with_timeout_at(url: &str, timeout: Duration) -> eyre::Result<Self> {
        Self::build(url, timeout, MAX_RETRIES)
    }

    /// A client that asks once: no retry after a rate limit or a refused connection (a
    /// prober measuring an endpoint, where a retry would hide that it is down).
    pub fn single_attempt(url: &str, timeout: Duration) -> eyre::Result<Self> {
        Self::build(url, timeout, 0)
    }

    fn build(url: &str, timeout: Duration, retries: u32) -> eyre::Result<Self> {
        install_crypto_provider();
        let layer =
            RetryBackoffLayer::new_with_policy(retries, BACKOFF_MS, u64::MAX, retry_policy());
        let builder = ClientBuilder::default().layer(layer);
        let (client, http) = if url.starts_with("http://") || url.starts_with("https://") {
            let parsed = url.parse().wrap_err_with(|| format!("RPC URL {url}"))?;
            let http = reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .wrap_err("building the HTTP client")?;
            (builder.http_with_client(http.clone(), parsed), Some(http))
        } else if url.starts_with("ws://") || url.starts_with("wss://") {
            let owned = url.to_string();
            let client = rt::block_on(async move { builder.connect(&owned).await })?
                .wrap_err_with(|| format!("connecting to {url}"))?;
            (client, None)
        } else {
            bail!("RPC URL must start with http://, https://, ws:// or wss:// (got {url})");
        };
        let provider = RootProvider::new(client.clone());
        Ok(Self {
            url: url.to_string(),
            http,
            provider,
            rpc: client,
            timeout,
            chain_id: Default::default(),
            cell_proofs: Default::default(),
        })
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The alloy provider, for async callers.
    pub const fn provider(&self) -> &RootProvider<AnyNetwork> {
        &self.provider
    }

    /// Runs `f` with the provider on the client runtime, bounded by the call timeout.
    fn run<T, F, Fut>(&self, what: &str, f: F) -> eyre::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(RootProvider<AnyNetwork>) -> Fut,
        Fut: std::future::Future<Output = Result<T, TransportError>> + Send + 'static,
    {
        let fut = f(self.provider.clone());
        let timeout = self.timeout;
        let out = rt::block_on(async move { tokio::time::timeout(timeout, fut).await })?;
        match out {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(eyre!("{what}: {}", describe(&e))),
            Err(_) => Err(eyre!("{what}: no answer from {} within {timeout:?}", self.url)),
        }
    }

    /// One JSON-RPC call with untyped parameters and result (methods alloy has no binding
    /// for); an error response becomes an error carrying its message.
    pub fn call(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let m = method.to_string();
        self.run(method, move |p| async move { p.raw_request::<_, Value>(m.into(), params).await })
    }

    /// POSTs a raw JSON-RPC body (a request or a batch) and returns the parsed answer (HTTP
    /// endpoints; load generators that build their own batches).
    pub fn post(&self, body: &str) -> eyre::Result<Value> {
        let Some(http) = self.http.clone() else {
            bail!("raw POST needs an http(s) endpoint, not {}", self.url);
        };
        let (url, body) = (self.url.clone(), body.to_string());
        rt::block_on(async move {
            let resp = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?
                .error_for_status()?;
            resp.bytes().await
        })?
        .map_err(|e| eyre!("POST {}: {e}", self.url))
        .and_then(|b| serde_json::from_slice(&b).wrap_err("the answer is not JSON"))
    }

    /// `eth_chainId` (asked once per client).
    pub fn chain_id(&self) -> eyre::Result<u64> {
        if let Some(id) = self.chain_id.get() {
            return Ok(*id);
        }
        let id = self.run("eth_chainId", |p| async move { p.get_chain_id().await })?;
        Ok(*self.chain_id.get_or_init(|| id))
    }

    /// `eth_blockNumber`.
    pub fn block_number(&self) -> eyre::Result<u64> {
        self.run("eth_blockNumber", |p| async move { p.get_block_number().await })
    }

    /// `eth_sendRawTransaction`: the hash the node answers.
    pub fn send_raw(&self, raw: &[u8]) -> eyre::Result<B256> {
        let raw = raw.to_vec();
        self.run("eth_sendRawTransaction", move |p| async move {
            p.send_raw_transaction(&raw).await.map(|pending| *pending.tx_hash())
        })
    }

    /// The safe head (`eth_getBlockByNumber("safe")`): the newest block derived from the L1.
    pub fn safe_block_number(&self) -> eyre::Result<u64> {
        self.tagged_block_number(BlockNumberOrTag::Safe)?
            .ok_or_else(|| eyre!("{} has no safe block", self.url))
    }

    /// The number of the block `tag` names (`finalized`, `safe`, …); `None` when the node has
    /// none yet.
    pub fn tagged_block_number(&self, tag: BlockNumberOrTag) -> eyre::Result<Option<u64>> {
        let block =
            self.run(
                "eth_getBlockByNumber",
                move |p| async move { p.get_block_by_number(tag).await },
            )?;
        Ok(block.map(|b| b.header.number))
    }

    /// The header of the block `tag` names; `None` when the node has none yet.
    pub fn tagged_header(
        &self,
        tag: BlockNumberOrTag,
    ) -> eyre::Result<Option<alloy_network::AnyRpcHeader>> {
        let block =
            self.run(
                "eth_getBlockByNumber",
                move |p| async move { p.get_block_by_number(tag).await },
            )?;
        Ok(block.map(|b| b.0.inner.header))
    }

    /// The transactions of block `n` (sender, recipient, input, blob hashes); `None` when the
    /// node does not have the block.
    pub fn block_calls(&self, n: u64) -> eyre::Result<Option<Vec<Call>>> {
        let block = self.run("eth_getBlockByNumber", move |p| async move {
            p.get_block_by_number(BlockNumberOrTag::Number(n)).full().await
        })?;
        Ok(block.map(|b| {
            b.transactions
                .txns()
                .map(|t| {
                    use alloy_consensus::Transaction as _;
                    Call {
                        from: t.inner.inner.signer(),
                        to: t.to(),
                        input: t.input().clone(),
                        blob_hashes: t
                            .blob_versioned_hashes()
                            .map(<[B256]>::to_vec)
                            .unwrap_or_default(),
                    }
                })
                .collect()
        }))
    }

    /// Block `n` as a batcher reads it from an OP-style node: its hash, parent and time, the
    /// input of its first transaction (the L1-info deposit) and the EIP-2718 encodings of its
    /// other non-deposit transactions. `None` when the node does not have the block; an error
    /// for a transaction type this client cannot encode.
    pub fn raw_block(&self, n: u64) -> eyre::Result<Option<RawBlock>> {
        use alloy_consensus::Transaction as _;
        use alloy_eips::Typed2718 as _;
        let block = self.run("eth_getBlockByNumber", move |p| async move {
            p.get_block_by_number(BlockNumberOrTag::Number(n)).full().await
        })?;
        let Some(block) = block else { return Ok(None) };
        let mut first_input = Bytes::new();
        let mut txs = Vec::new();
        for (i, t) in block.transactions.txns().enumerate() {
            if i == 0 {
                first_input = t.input().clone();
            }
            match t.inner.inner.inner() {
                alloy_network::AnyTxEnvelope::Ethereum(env) => {
                    txs.push(Bytes::from(env.encoded_2718()));
                }
                alloy_network::AnyTxEnvelope::Unknown(u) if u.ty() == DEPOSIT_TX_TYPE => {}
                alloy_network::AnyTxEnvelope::Unknown(u) => {
                    bail!(
                        "block {n} holds a transaction of type {:#x} that cannot be encoded",
                        u.ty()
                    )
                }
            }
        }
        let h = &block.header;
        Ok(Some(RawBlock {
            hash: h.hash,
            parent_hash: h.parent_hash,
            timestamp: h.timestamp,
            first_input,
            txs,
        }))
    }

    /// The timestamp of the latest block.
    pub fn latest_timestamp(&self) -> eyre::Result<u64> {
        let block = self.run("eth_getBlockByNumber", |p| async move {
            p.get_block_by_number(BlockNumberOrTag::Latest).await
        })?;
        Ok(block.ok_or_else(|| eyre!("{} has no latest block", self.url))?.header.timestamp)
    }

    /// The header of block `n` (`None` when the node does not have it).
    pub fn header(&self, n: u64) -> eyre::Result<Option<alloy_network::AnyRpcHeader>> {
        let block = self.run("eth_getBlockByNumber", move |p| async move {
            p.get_block_by_number(BlockNumberOrTag::Number(n)).await
        })?;
        Ok(block.map(|b| b.0.inner.header))
    }

    /// `eth_getBalance` at the latest block.
    pub fn balance(&self, who: Address) -> eyre::Result<U256> {
        self.run("eth_getBalance", move |p| async move { p.get_balance(who).await })
    }

    /// A typed view call (a `sol!` binding): `call` on `to` at the latest block, its return
    /// values decoded; a revert or an undecodable answer names the function.
    pub fn view<C: SolCall>(&self, to: Address, call: &C) -> eyre::Result<C::Return> {
        let out = self.eth_call(to, &call.abi_encode()).wrap_err(C::SIGNATURE)?;
        C::abi_decode_returns(&out).map_err(|e| eyre!("decoding {} from {to}: {e}", C::SIGNATURE))
    }

    /// `eth_call` of `data` on `to` at the latest block.
    pub fn eth_call(&self, to: Address, data: &[u8]) -> eyre::Result<Bytes> {
        let tx = TransactionRequest::default().with_to(to).with_input(data.to_vec());
        self.run("eth_call", move |p| async move { p.call(WithOtherFields::new(tx)).await })
    }

    /// [`Self::view`] as if `from` called (a contract that answers only its owner or its board,
    /// asked what it would say; nothing is written).
    pub fn view_as<C: SolCall>(
        &self,
        from: Address,
        to: Address,
        call: &C,
    ) -> eyre::Result<C::Return> {
        let tx =
            TransactionRequest::default().with_from(from).with_to(to).with_input(call.abi_encode());
        let out = self
            .run("eth_call", move |p| async move { p.call(WithOtherFields::new(tx)).await })
            .wrap_err(C::SIGNATURE)?;
        C::abi_decode_returns(&out).map_err(|e| eyre!("decoding {} from {to}: {e}", C::SIGNATURE))
    }

    /// Signs a transaction without sending it: the raw bytes and the hash. `max_fee` and `tip`
    /// are the EIP-1559 fee caps per gas.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_tx(
        from: &PrivateKeySigner,
        chain_id: u64,
        nonce: u64,
        (max_fee, tip): (u128, u128),
        gas: u64,
        to: Option<Address>,
        value: U256,
        data: Vec<u8>,
    ) -> eyre::Result<(Bytes, B256)> {
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip.min(max_fee),
            to: to.map_or(TxKind::Create, TxKind::Call),
            value,
            input: data.into(),
            ..Default::default()
        };
        let sig = from.sign_hash_sync(&tx.signature_hash())?;
        let env = TxEnvelope::Eip1559(tx.into_signed(sig));
        Ok((Bytes::from(env.encoded_2718()), *env.tx_hash()))
    }

    /// `eth_gasPrice`.
    pub fn gas_price(&self) -> eyre::Result<u128> {
        self.run("eth_gasPrice", |p| async move { p.get_gas_price().await })
    }

    /// EIP-1559 fee caps `(maxFeePerGas, maxPriorityFeePerGas)` from `eth_feeHistory` (alloy's
    /// estimator: twice the next base fee plus the tip).
    pub fn fees(&self) -> eyre::Result<(u128, u128)> {
        let e = self.run("eth_feeHistory", |p| async move { p.estimate_eip1559_fees().await })?;
        Ok((e.max_fee_per_gas, e.max_priority_fee_per_gas))
    }

    /// The pending nonce of `who`.
    pub fn nonce(&self, who: Address) -> eyre::Result<u64> {
        self.run("eth_getTransactionCount", move |p| async move {
            p.get_transaction_count(who).pending().await
        })
    }

    /// Sends signed transactions in JSON-RPC batches without waiting, then waits for every
    /// receipt and fails if any reverted.
    pub fn send_all(&self, raws: &[(Bytes, B256)]) -> eyre::Result<()> {
        for chunk in raws.chunks(200) {
            let (chunk, rpc) = (chunk.to_vec(), self.rpc.clone());
            self.run("eth_sendRawTransaction (batch)", move |_| async move {
                let mut batch = rpc.new_batch();
                let mut waiters = Vec::with_capacity(chunk.len());
                for (raw, _) in &chunk {
                    waiters.push(batch.add_call::<_, B256>("eth_sendRawTransaction", &(raw,))?);
                }
                batch.send().await?;
                for w in waiters {
                    w.await?;
                }
                Ok(())
            })?;
        }
        for (_, hash) in raws {
            let r = self.wait_sent_receipt(*hash, Duration::from_secs(120))?;
            if !r.status() {
                bail!("transaction {hash} reverted");
            }
        }
        Ok(())
    }

    /// Signs and sends a call from `from` (nonce, gas estimate + 25 %, EIP-1559 fees from the
    /// node), waits for its receipt and fails if it reverted.
    pub fn transact(
        &self,
        from: &PrivateKeySigner,
        to: Option<Address>,
        value: U256,
        data: Vec<u8>,
    ) -> eyre::Result<B256> {
        Ok(self.transact_receipt(from, to, value, data)?.transaction_hash)
    }

    /// [`Self::transact`], returning the receipt. A transaction not included within 48 s is
    /// sent again with higher fees ([`Resubmit`]'s defaults).
    pub fn transact_receipt(
        &self,
        from: &PrivateKeySigner,
        to: Option<Address>,
        value: U256,
        data: Vec<u8>,
    ) -> eyre::Result<AnyTransactionReceipt> {
        self.transact_payload(from, Payload::Call { to, value, data })
    }

    /// Polls for the receipt of `hash`: every 20 ms at first (an instant-mining devnet answers
    /// at once), then less and less often, up to every second (a 12-s L1 behind a hosted,
    /// rate-limited endpoint should not be asked fifty times a second).
    pub fn wait_receipt(
        &self,
        hash: B256,
        timeout: Duration,
    ) -> eyre::Result<AnyTransactionReceipt> {
        self.poll_receipt(hash, timeout, false)
    }

    /// [`Self::wait_receipt`] for a transaction this client sent: one the node no longer
    /// knows (an L1 reorg dropped it, or it was replaced) never gets a receipt, so after two
    /// checks two seconds apart that find it unknown this fails instead of waiting out the
    /// timeout (the caller sends again).
    pub fn wait_sent_receipt(
        &self,
        hash: B256,
        timeout: Duration,
    ) -> eyre::Result<AnyTransactionReceipt> {
        self.poll_receipt(hash, timeout, true)
    }

    fn poll_receipt(
        &self,
        hash: B256,
        timeout: Duration,
        sent: bool,
    ) -> eyre::Result<AnyTransactionReceipt> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        let (mut checked, mut unknown) = (Instant::now(), 0);
        loop {
            let r = self.run("eth_getTransactionReceipt", move |p| async move {
                p.get_transaction_receipt(hash).await
            })?;
            if let Some(r) = r {
                return Ok(r);
            }
            if start.elapsed() > timeout {
                bail!("no receipt for {hash} after {timeout:?}");
            }
            if sent && checked.elapsed() >= Duration::from_secs(2) {
                checked = Instant::now();
                let known = self.run("eth_getTransactionByHash", move |p| async move {
                    p.get_transaction_by_hash(hash).await.map(|t| t.is_some())
                })?;
                unknown = if known { 0 } else { unknown + 1 };
                if unknown >= 2 {
                    bail!("transaction {hash} was dropped: the node no longer knows it");
                }
            }
            std::thread::sleep(pause);
            pause = (pause * 3 / 2).min(Duration::from_secs(1));
        }
    }

    /// Logs of `address` in blocks `from..=to`.
    pub fn logs(&self, address: Address, from: u64, to: u64) -> eyre::Result<Vec<Log>> {
        let filter = Filter::new().address(address).from_block(from).to_block(to);
        self.run("eth_getLogs", move |p| async move { p.get_logs(&filter).await })
    }

    /// Logs of `address` whose first two topics are `event` and `topic1`, in every block.
    pub fn logs_topic(
        &self,
        address: Address,
        event: B256,
        topic1: B256,
    ) -> eyre::Result<Vec<Log>> {
        let filter =
            Filter::new().address(address).event_signature(event).topic1(topic1).from_block(0);
        self.run("eth_getLogs", move |p| async move { p.get_logs(&filter).await })
    }

    /// Deploys `code` from `from`; the contract's address.
    pub fn deploy(&self, from: &PrivateKeySigner, code: Bytes) -> eyre::Result<Address> {
        let r = self.transact_receipt(from, None, U256::ZERO, code.to_vec())?;
        r.contract_address
            .ok_or_else(|| eyre!("deployment {} has no contract address", r.transaction_hash))
    }
}

/// An alloy error as one line: the JSON-RPC error's message, or the transport's.
fn describe(e: &TransportError) -> String {
    match e {
        TransportError::ErrorResp(p) => p.message.to_string(),
        other => other.to_string(),
    }
}

/// A `0x…` quantity.
pub fn hex_u64(v: &Value) -> eyre::Result<u64> {
    let s = v.as_str().ok_or_else(|| eyre!("not a hex quantity: {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16)
        .wrap_err_with(|| format!("bad quantity {s}"))
}

/// Wei from `123`, `1.5ether`, `5gwei`, `10wei`.
pub fn parse_amount(s: &str) -> eyre::Result<U256> {
    let s = s.trim();
    let (num, decimals) = if let Some(n) = s.strip_suffix("ether") {
        (n, 18)
    } else if let Some(n) = s.strip_suffix("gwei") {
        (n, 9)
    } else if let Some(n) = s.strip_suffix("wei") {
        (n, 0)
    } else {
        (s, 0)
    };
    let num = num.trim();
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || frac.len() > decimals {
        bail!("bad amount {s:?}: wei, or a number with ether/gwei/wei");
    }
    let digits = format!("{int}{frac:0<decimals$}");
    U256::from_str_radix(&digits, 10)
        .map_err(|_| eyre!("bad amount {s:?}: wei, or a number with ether/gwei/wei"))
}

/// A transaction of a block, as derivation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The sender.
    pub from: Address,
    /// The recipient (`None` for a creation).
    pub to: Option<Address>,
    /// The input.
    pub input: Bytes,
    /// The versioned hashes of its blobs (empty unless EIP-4844).
    pub blob_hashes: Vec<B256>,
}

/// The EIP-2718 type of an OP deposit transaction.
const DEPOSIT_TX_TYPE: u8 = 0x7e;

/// A block as [`Client::raw_block`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    /// Its hash.
    pub hash: B256,
    /// Its parent's hash.
    pub parent_hash: B256,
    /// Its timestamp.
    pub timestamp: u64,
    /// The input of its first transaction (on an OP-style chain, the L1-info deposit).
    pub first_input: Bytes,
    /// The EIP-2718 encodings of its transactions other than deposits, in order.
    pub txs: Vec<Bytes>,
}

/// The lock that serialises sending from `who` within this process.
fn sender_lock(who: Address) -> std::sync::Arc<std::sync::Mutex<()>> {
    static LOCKS: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<Address, std::sync::Arc<std::sync::Mutex<()>>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut locks = LOCKS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.entry(who).or_default().clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        io::{BufRead, BufReader, Read, Write},
        net::TcpListener,
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        },
    };

    /// A JSON-RPC server on 127.0.0.1 that answers the first `limited` requests 429 and then
    /// `eth_chainId` = 42; counts what it was asked.
    fn rate_limited_server(limited: usize) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        let count = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                let n = count.fetch_add(1, Ordering::SeqCst);
                let answer = if n < limited {
                    "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_string()
                } else {
                    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
                    let text =
                        serde_json::json!({"jsonrpc": "2.0", "id": req["id"], "result": "0x2a"})
                            .to_string();
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    )
                };
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (url, seen)
    }

    #[test]
    fn rate_limited_calls_are_retried_until_answered() {
        let (url, seen) = rate_limited_server(3);
        let client = Client::new(&url).unwrap();
        assert_eq!(client.chain_id().unwrap(), 42);
        assert_eq!(seen.load(Ordering::SeqCst), 4, "three 429s, then the answer");
    }

    #[test]
    fn a_single_attempt_client_asks_once() {
        let (url, seen) = rate_limited_server(1);
        let client = Client::single_attempt(&url, Duration::from_secs(5)).unwrap();
        assert!(client.chain_id().is_err(), "the 429 is the answer");
        assert_eq!(seen.load(Ordering::SeqCst), 1, "no retry");
    }

    #[test]
    fn an_endpoint_that_stays_rate_limited_fails_with_the_reason() {
        let (url, seen) = rate_limited_server(usize::MAX);
        let err = Client::new(&url).unwrap().chain_id().unwrap_err().to_string();
        assert!(err.contains("429"), "{err}");
        assert_eq!(seen.load(Ordering::SeqCst), 1 + MAX_RETRIES as usize);
    }

    #[test]
    fn urls_of_other_schemes_are_refused() {
        let err = Client::new("ftp://127.0.0.1:1").unwrap_err().to_string();
        assert!(err.contains("http://, https://, ws:// or wss://"), "{err}");
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("123").unwrap(), U256::from(123));
        assert_eq!(parse_amount("1ether").unwrap(), U256::from(10u64.pow(18)));
        assert_eq!(parse_amount("1.5gwei").unwrap(), U256::from(1_500_000_000u64));
        assert_eq!(parse_amount("7wei").unwrap(), U256::from(7));
        for bad in ["", "ether", "1.5", "abc", "1.0000000001gwei", "-1"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
    }
}
