//! `eth_` and the namespaces that travel with it in every Ethereum client: `net_`, `web3_`,
//! `txpool_`, `rpc_`, `personal_` and geth's `debug_` tracers.

use crate::{
    convert::{RpcBlock, RpcReceipt},
    error::RpcResult,
};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use alloy_rpc_types_eth::{
    BlockOverrides, EIP1186AccountProofResponse, FeeHistory, Filter, Log, TransactionRequest,
    state::StateOverride,
};
use alloy_rpc_types_trace::geth::{GethDebugTracingOptions, GethTrace, TraceResult};
use alloy_serde::JsonStorageKey;
use jsonrpsee::{core::SubscriptionResult, proc_macros::rpc, types::ErrorObjectOwned};
use op_alloy_rpc_types::Transaction as RpcTx;
use serde_json::Value;

#[rpc(server, namespace = "eth")]
pub(crate) trait EthApi {
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<U64>;
    #[method(name = "syncing")]
    fn syncing(&self) -> RpcResult<bool>;
    #[method(name = "mining")]
    fn mining(&self) -> RpcResult<bool>;
    #[method(name = "hashrate")]
    fn hashrate(&self) -> RpcResult<U64>;
    #[method(name = "coinbase")]
    fn coinbase(&self) -> RpcResult<Address>;
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<U64>;
    #[method(name = "accounts")]
    fn accounts(&self) -> RpcResult<Vec<Address>>;
    #[method(name = "gasPrice")]
    fn gas_price(&self) -> RpcResult<U256>;
    #[method(name = "maxPriorityFeePerGas")]
    fn max_priority_fee_per_gas(&self) -> RpcResult<U256>;
    #[method(name = "blobBaseFee")]
    fn blob_base_fee(&self) -> RpcResult<U256>;
    #[method(name = "feeHistory", blocking)]
    fn fee_history(
        &self,
        block_count: U64,
        newest_block: BlockNumberOrTag,
        reward_percentiles: Option<Vec<f64>>,
    ) -> RpcResult<FeeHistory>;

    #[method(name = "getBalance")]
    fn balance(&self, address: Address, block: Option<BlockId>) -> RpcResult<U256>;
    #[method(name = "getTransactionCount")]
    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> RpcResult<U64>;
    #[method(name = "getCode")]
    fn code(&self, address: Address, block: Option<BlockId>) -> RpcResult<Bytes>;
    #[method(name = "getStorageAt")]
    fn storage_at(
        &self,
        address: Address,
        slot: JsonStorageKey,
        block: Option<BlockId>,
    ) -> RpcResult<B256>;
    #[method(name = "getProof", blocking)]
    fn proof(
        &self,
        address: Address,
        storage_keys: Vec<JsonStorageKey>,
        block: Option<BlockId>,
    ) -> RpcResult<EIP1186AccountProofResponse>;

    #[method(name = "call", blocking)]
    fn call(
        &self,
        transaction: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
    ) -> RpcResult<Bytes>;
    #[method(name = "estimateGas", blocking)]
    fn estimate_gas(
        &self,
        transaction: TransactionRequest,
        block: Option<BlockId>,
        state_overrides: Option<StateOverride>,
        block_overrides: Option<BlockOverrides>,
    ) -> RpcResult<U64>;
    #[method(name = "createAccessList", blocking)]
    fn create_access_list(
        &self,
        transaction: TransactionRequest,
        block: Option<BlockId>,
    ) -> RpcResult<Value>;

    #[method(name = "sendRawTransaction")]
    fn send_raw_transaction(&self, data: Bytes) -> RpcResult<B256>;
    /// EIP-7966: submits and waits (at most `timeout` ms, default 30 s, at most 120 s) for the
    /// receipt.
    #[method(name = "sendRawTransactionSync")]
    async fn send_raw_transaction_sync(
        &self,
        data: Bytes,
        timeout: Option<u64>,
    ) -> Result<Option<RpcReceipt>, ErrorObjectOwned>;
    #[method(name = "sendTransaction", blocking)]
    fn send_transaction(&self, transaction: TransactionRequest) -> RpcResult<B256>;
    #[method(name = "signTransaction", blocking)]
    fn sign_transaction(&self, transaction: TransactionRequest) -> RpcResult<Bytes>;
    #[method(name = "sign")]
    fn sign(&self, address: Address, message: Bytes) -> RpcResult<Bytes>;
    /// The typed data as an object or as a JSON string (wallet libraries send either).
    #[method(name = "signTypedData_v4")]
    fn sign_typed_data_v4(&self, address: Address, typed_data: Value) -> RpcResult<Bytes>;

    #[method(name = "getBlockByNumber")]
    fn block_by_number(
        &self,
        block: BlockNumberOrTag,
        full: Option<bool>,
    ) -> RpcResult<Option<RpcBlock>>;
    #[method(name = "getBlockByHash")]
    fn block_by_hash(&self, hash: B256, full: Option<bool>) -> RpcResult<Option<RpcBlock>>;
    #[method(name = "getBlockReceipts")]
    fn block_receipts(&self, block: BlockId) -> RpcResult<Option<Vec<RpcReceipt>>>;
    #[method(name = "getTransactionByHash")]
    fn transaction_by_hash(&self, hash: B256) -> RpcResult<Option<RpcTx>>;
    #[method(name = "getTransactionReceipt")]
    fn transaction_receipt(&self, hash: B256) -> RpcResult<Option<RpcReceipt>>;
    #[method(name = "getTransactionByBlockHashAndIndex")]
    fn transaction_by_block_hash_and_index(
        &self,
        block_hash: B256,
        index: U64,
    ) -> RpcResult<Option<RpcTx>>;
    #[method(name = "getTransactionByBlockNumberAndIndex")]
    fn transaction_by_block_number_and_index(
        &self,
        block: BlockNumberOrTag,
        index: U64,
    ) -> RpcResult<Option<RpcTx>>;
    #[method(name = "getBlockTransactionCountByHash")]
    fn block_transaction_count_by_hash(&self, block_hash: B256) -> RpcResult<Option<U64>>;
    #[method(name = "getBlockTransactionCountByNumber")]
    fn block_transaction_count_by_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>>;
    #[method(name = "getUncleCountByBlockHash")]
    fn uncle_count_by_block_hash(&self, block_hash: B256) -> RpcResult<Option<U64>>;
    #[method(name = "getUncleCountByBlockNumber")]
    fn uncle_count_by_block_number(&self, block: BlockNumberOrTag) -> RpcResult<Option<U64>>;
    /// Always null: an L2 has no uncles.
    #[method(name = "getUncleByBlockHashAndIndex")]
    fn uncle_by_block_hash_and_index(
        &self,
        block_hash: B256,
        index: U64,
    ) -> RpcResult<Option<RpcBlock>>;
    /// Always null: an L2 has no uncles.
    #[method(name = "getUncleByBlockNumberAndIndex")]
    fn uncle_by_block_number_and_index(
        &self,
        block: BlockNumberOrTag,
        index: U64,
    ) -> RpcResult<Option<RpcBlock>>;

    #[method(name = "getLogs", blocking)]
    fn logs(&self, filter: Filter) -> RpcResult<Vec<Log>>;
    #[method(name = "newFilter")]
    fn new_filter(&self, filter: Filter) -> RpcResult<U256>;
    #[method(name = "newBlockFilter")]
    fn new_block_filter(&self) -> RpcResult<U256>;
    #[method(name = "newPendingTransactionFilter")]
    fn new_pending_transaction_filter(&self) -> RpcResult<U256>;
    #[method(name = "uninstallFilter")]
    fn uninstall_filter(&self, id: U256) -> RpcResult<bool>;
    /// Logs or hashes since the last poll, by the filter's kind.
    #[method(name = "getFilterChanges")]
    fn filter_changes(&self, id: U256) -> RpcResult<Value>;
    #[method(name = "getFilterLogs", blocking)]
    fn filter_logs(&self, id: U256) -> RpcResult<Vec<Log>>;

    /// `newHeads`, `logs` (with an optional filter) or `newPendingTransactions`.
    #[subscription(name = "subscribe" => "subscription", unsubscribe = "unsubscribe", item = Value)]
    async fn subscribe(&self, kind: String, filter: Option<Value>) -> SubscriptionResult;
}

#[rpc(server, namespace = "net")]
pub(crate) trait NetApi {
    #[method(name = "version")]
    fn version(&self) -> RpcResult<String>;
    #[method(name = "listening")]
    fn listening(&self) -> RpcResult<bool>;
    #[method(name = "peerCount")]
    fn peer_count(&self) -> RpcResult<U64>;
}

#[rpc(server, namespace = "web3")]
pub(crate) trait Web3Api {
    #[method(name = "clientVersion")]
    fn client_version(&self) -> RpcResult<String>;
    #[method(name = "sha3")]
    fn sha3(&self, data: Bytes) -> RpcResult<B256>;
}

/// geth's `txpool_` shapes: `{pending: {sender: {nonce: …}}, queued: {…}}`.
#[rpc(server, namespace = "txpool")]
pub(crate) trait TxpoolApi {
    #[method(name = "content")]
    fn content(&self) -> RpcResult<Value>;
    #[method(name = "inspect")]
    fn inspect(&self) -> RpcResult<Value>;
    #[method(name = "status")]
    fn status(&self) -> RpcResult<Value>;
}

#[rpc(server, namespace = "rpc")]
pub(crate) trait RpcApi {
    /// The namespaces the transport the request came over serves, `{name: "1.0"}`.
    #[method(name = "modules", with_extensions)]
    fn modules(&self) -> RpcResult<Value>;
}

#[rpc(server, namespace = "personal")]
pub(crate) trait PersonalApi {
    #[method(name = "sign")]
    fn sign(&self, message: Bytes, address: Address) -> RpcResult<Bytes>;
}

/// geth's tracers: the struct logger, `callTracer`, `prestateTracer`, `noopTracer`.
#[rpc(server, namespace = "debug")]
pub(crate) trait DebugApi {
    #[method(name = "traceTransaction", blocking)]
    fn trace_transaction(
        &self,
        hash: B256,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<GethTrace>;
    #[method(name = "traceBlockByNumber", blocking)]
    fn trace_block_by_number(
        &self,
        block: BlockNumberOrTag,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>>;
    #[method(name = "traceBlockByHash", blocking)]
    fn trace_block_by_hash(
        &self,
        hash: B256,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<Vec<TraceResult>>;
    #[method(name = "traceCall", blocking)]
    fn trace_call(
        &self,
        transaction: TransactionRequest,
        block: Option<BlockId>,
        options: Option<GethDebugTracingOptions>,
    ) -> RpcResult<GethTrace>;
}
