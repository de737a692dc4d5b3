//! Devnet controls with anvil's names and semantics (`anvil_*`, with the `evm_*` and
//! `hardhat_*` aliases tools use).

use crate::{
    AccountEdit, ChainApi, MiningMode,
    error::{RpcError, RpcResult},
    eth::{Ctx, reg_blocking},
};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::RpcModule;
use serde_json::{Value, json};
use std::time::Duration;

fn edit<C: ChainApi>(c: &Ctx<C>, e: AccountEdit) -> RpcResult<Value> {
    c.api.edit_account(e).map_err(RpcError::Internal)?;
    Ok(Value::Null)
}

fn names(base: &str, prefixes: &[&str]) -> Vec<&'static str> {
    prefixes.iter().map(|p| &*Box::leak(format!("{p}_{base}").into_boxed_str())).collect()
}

/// Registers the devnet controls.
pub(crate) fn register<C: ChainApi>(m: &mut RpcModule<Ctx<C>>) {
    for name in names("setBalance", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |a, c| {
            let address: Address = a.req(0, "address")?;
            let balance: U256 = a.req(1, "balance")?;
            edit(c, AccountEdit { address, balance: Some(balance), ..Default::default() })
        });
    }
    for name in names("setNonce", &["anvil", "hardhat", "evm"]) {
        reg_blocking(m, name, |a, c| {
            let address: Address = a.req(0, "address")?;
            let nonce: U64 = a.req(1, "nonce")?;
            edit(c, AccountEdit { address, nonce: Some(nonce.to()), ..Default::default() })
        });
    }
    for name in names("setCode", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |a, c| {
            let address: Address = a.req(0, "address")?;
            let code: Bytes = a.req(1, "code")?;
            edit(c, AccountEdit { address, code: Some(code), ..Default::default() })
        });
    }
    for name in names("setStorageAt", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |a, c| {
            let address: Address = a.req(0, "address")?;
            let slot: U256 = a.req(1, "slot")?;
            let value: B256 = a.req(2, "value")?;
            let storage = vec![(slot, U256::from_be_bytes(value.0))];
            edit(c, AccountEdit { address, storage, ..Default::default() })?;
            Ok(Value::Bool(true))
        });
    }
    for name in names("snapshot", &["evm", "anvil"]) {
        reg_blocking(m, name, |_, c| Ok(U256::from(c.api.snapshot())));
    }
    for name in names("revert", &["evm", "anvil"]) {
        reg_blocking(m, name, |a, c| {
            let id: U256 = a.req(0, "id")?;
            let Ok(id) = u64::try_from(id) else { return Ok(false) };
            c.api.revert(id).map_err(RpcError::Internal)
        });
    }
    for name in names("reset", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |a, c| {
            if let Some(Value::Object(o)) = a.opt::<Value>(0, "options")?
                && o.contains_key("forking")
            {
                return Err(RpcError::InvalidParams("forking is not supported".into()));
            }
            c.api.reset().map_err(RpcError::Internal)?;
            Ok(Value::Null)
        });
    }
    for name in names("setAutomine", &["evm", "anvil"]) {
        reg_blocking(m, name, |a, c| {
            let on: bool = a.req(0, "enabled")?;
            c.api.set_mining_mode(if on { MiningMode::Instant } else { MiningMode::Manual });
            Ok(Value::Null)
        });
    }
    for name in names("getAutomine", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |_, c| Ok(c.api.mining_mode() == MiningMode::Instant));
    }
    for name in names("setIntervalMining", &["evm", "anvil"]) {
        reg_blocking(m, name, |a, c| {
            let secs: u64 = a.req(0, "seconds")?;
            let mode = match secs {
                0 => MiningMode::Manual,
                s => MiningMode::Interval(Duration::from_secs(s)),
            };
            c.api.set_mining_mode(mode);
            Ok(Value::Null)
        });
    }
    for (name, on) in [
        ("anvil_impersonateAccount", true),
        ("hardhat_impersonateAccount", true),
        ("anvil_stopImpersonatingAccount", false),
        ("hardhat_stopImpersonatingAccount", false),
    ] {
        reg_blocking(m, name, move |a, c| {
            let address: Address = a.req(0, "address")?;
            c.api.impersonate(address, on);
            Ok(Value::Null)
        });
    }
    reg_blocking(m, "anvil_autoImpersonateAccount", |a, c| {
        c.api.set_auto_impersonate(a.req(0, "enabled")?);
        Ok(Value::Null)
    });
    for name in names("increaseTime", &["evm", "anvil"]) {
        reg_blocking(m, name, |a, c| {
            let secs: U256 = a.req(0, "seconds")?;
            let secs = u64::try_from(secs)
                .map_err(|_| RpcError::InvalidParams("seconds out of range".into()))?;
            Ok(U64::from(c.api.increase_time(secs)))
        });
    }
    for name in names("setNextBlockTimestamp", &["evm", "anvil"]) {
        reg_blocking(m, name, |a, c| {
            let ts: U256 = a.req(0, "timestamp")?;
            let ts = u64::try_from(ts)
                .map_err(|_| RpcError::InvalidParams("timestamp out of range".into()))?;
            c.api.set_next_timestamp(ts).map_err(RpcError::InvalidParams)?;
            Ok(Value::Null)
        });
    }
    for name in names("setNextBlockBaseFeePerGas", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |a, c| {
            let fee: U256 = a.req(0, "baseFee")?;
            let fee = u64::try_from(fee)
                .map_err(|_| RpcError::InvalidParams("base fee too large".into()))?;
            c.api.set_next_base_fee(fee);
            Ok(Value::Null)
        });
    }
    reg_blocking(m, "anvil_dropTransaction", |a, c| {
        let hash: B256 = a.req(0, "hash")?;
        Ok((c.api.pool().remove(&[hash]) > 0).then_some(hash))
    });
    reg_blocking(m, "anvil_nodeInfo", |_, c| {
        let head = c.api.head();
        Ok(json!({
            "currentBlockNumber": head.number,
            "currentBlockTimestamp": head.header.timestamp,
            "currentBlockHash": head.hash,
            "hardFork": "jovian",
            "transactionOrder": "fees",
            "environment": {
                "baseFee": c.api.next_base_fee().to_string(),
                "chainId": c.api.chain_spec().chain_id(),
                "gasLimit": c.api.chain_spec().gas_limit().to_string(),
            },
            "network": "agnt2",
        }))
    });
}
