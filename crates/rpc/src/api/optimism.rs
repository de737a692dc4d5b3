//! `optimism_`: op-node's rollup namespace — output roots, sync status, the rollup config.

use crate::error::RpcResult;
use alloy_eips::BlockId;
use jsonrpsee::proc_macros::rpc;
use serde_json::Value;

#[rpc(server, namespace = "optimism")]
pub(crate) trait OptimismApi {
    /// The output root of a block (version 0: state root, message-passer storage root, hash).
    #[method(name = "outputAtBlock", blocking)]
    fn output_at_block(&self, block: BlockId) -> RpcResult<Value>;

    /// The unsafe, safe and finalized L2 heads and the L1 origin.
    #[method(name = "syncStatus", blocking)]
    fn sync_status(&self) -> RpcResult<Value>;

    /// op-node's rollup config of a launched chain.
    #[method(name = "rollupConfig")]
    fn rollup_config(&self) -> RpcResult<Value>;

    /// The sequencer's signature of an unsafe block it built (`--sequencer.block-signing-key`):
    /// `{number, hash, signer, signature}` over `keccak256(abi.encode(keccak256(
    /// "agnt2.unsafe-block"), chainId, number, hash))`, the digest a duty board checks.
    #[method(name = "blockSignature")]
    fn block_signature(&self, hash: alloy_primitives::B256) -> RpcResult<Value>;
}
