//! The devnet controls of anvil and hardhat (`anvil_`, `hardhat_`, `evm_`), served only with
//! `--dev`. Each method has anvil's name and its aliases in the other namespaces.

use crate::error::RpcResult;
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::{proc_macros::rpc, types::ErrorObjectOwned};
use serde_json::Value;

#[rpc(server)]
pub(crate) trait DevControls {
    /// Mines `blocks` blocks (default 1) now.
    #[method(name = "anvil_mine")]
    async fn mine(&self, blocks: Option<U64>) -> Result<&'static str, ErrorObjectOwned>;
    /// Mines one block now.
    #[method(name = "evm_mine")]
    async fn evm_mine(&self) -> Result<&'static str, ErrorObjectOwned>;

    #[method(name = "anvil_setBalance", aliases = ["hardhat_setBalance"], blocking)]
    fn set_balance(&self, address: Address, balance: U256) -> RpcResult<()>;
    #[method(name = "anvil_setNonce", aliases = ["hardhat_setNonce", "evm_setNonce"], blocking)]
    fn set_nonce(&self, address: Address, nonce: U64) -> RpcResult<()>;
    #[method(name = "anvil_setCode", aliases = ["hardhat_setCode"], blocking)]
    fn set_code(&self, address: Address, code: Bytes) -> RpcResult<()>;
    #[method(name = "anvil_setStorageAt", aliases = ["hardhat_setStorageAt"], blocking)]
    fn set_storage_at(&self, address: Address, slot: U256, value: B256) -> RpcResult<bool>;

    #[method(name = "evm_snapshot", aliases = ["anvil_snapshot"], blocking)]
    fn snapshot(&self) -> RpcResult<U256>;
    /// False when the snapshot does not exist (or was used).
    #[method(name = "evm_revert", aliases = ["anvil_revert"], blocking)]
    fn revert(&self, id: U256) -> RpcResult<bool>;
    /// Back to genesis; forking is not supported.
    #[method(name = "anvil_reset", aliases = ["hardhat_reset"], blocking)]
    fn reset(&self, options: Option<Value>) -> RpcResult<()>;

    #[method(name = "evm_setAutomine", aliases = ["anvil_setAutomine"], blocking)]
    fn set_automine(&self, enabled: bool) -> RpcResult<()>;
    #[method(name = "anvil_getAutomine", aliases = ["hardhat_getAutomine"], blocking)]
    fn automine(&self) -> RpcResult<bool>;
    /// 0 turns interval mining off (manual mining).
    #[method(name = "evm_setIntervalMining", aliases = ["anvil_setIntervalMining"], blocking)]
    fn set_interval_mining(&self, seconds: u64) -> RpcResult<()>;

    #[method(
        name = "anvil_impersonateAccount",
        aliases = ["hardhat_impersonateAccount"],
        blocking
    )]
    fn impersonate_account(&self, address: Address) -> RpcResult<()>;
    #[method(
        name = "anvil_stopImpersonatingAccount",
        aliases = ["hardhat_stopImpersonatingAccount"],
        blocking
    )]
    fn stop_impersonating_account(&self, address: Address) -> RpcResult<()>;
    #[method(name = "anvil_autoImpersonateAccount", blocking)]
    fn auto_impersonate_account(&self, enabled: bool) -> RpcResult<()>;

    /// Returns the total offset in seconds.
    #[method(name = "evm_increaseTime", aliases = ["anvil_increaseTime"], blocking)]
    fn increase_time(&self, seconds: U256) -> RpcResult<U64>;
    #[method(
        name = "evm_setNextBlockTimestamp",
        aliases = ["anvil_setNextBlockTimestamp"],
        blocking
    )]
    fn set_next_block_timestamp(&self, timestamp: U256) -> RpcResult<()>;
    #[method(
        name = "anvil_setNextBlockBaseFeePerGas",
        aliases = ["hardhat_setNextBlockBaseFeePerGas"],
        blocking
    )]
    fn set_next_block_base_fee_per_gas(&self, base_fee: U256) -> RpcResult<()>;

    /// The whole state as gzip'd JSON (anvil's format).
    #[method(name = "anvil_dumpState", aliases = ["hardhat_dumpState"], blocking)]
    fn dump_state(&self) -> RpcResult<Bytes>;
    /// Loads a dump (gzip'd or plain JSON) over the current state.
    #[method(name = "anvil_loadState", aliases = ["hardhat_loadState"], blocking)]
    fn load_state(&self, state: Bytes) -> RpcResult<bool>;
    #[method(name = "anvil_dropTransaction", blocking)]
    fn drop_transaction(&self, hash: B256) -> RpcResult<Option<B256>>;
    #[method(name = "anvil_nodeInfo", blocking)]
    fn node_info(&self) -> RpcResult<Value>;
}
