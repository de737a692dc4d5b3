//! Devnet controls with anvil's names and semantics (`anvil_*`, with the `evm_*` and
//! `hardhat_*` aliases tools use).

use crate::{
    AccountEdit, ChainApi, MiningMode,
    error::{RpcError, RpcResult},
    plumbing::{Args, Ctx, reg_blocking},
};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Value, json};
use std::time::Duration;

fn edit<C: ChainApi>(c: &Ctx<C>, e: AccountEdit) -> RpcResult<Value> {
    c.api.edit_account(e)?;
    Ok(Value::Null)
}

fn names(base: &str, prefixes: &[&str]) -> Vec<&'static str> {
    prefixes.iter().map(|p| &*Box::leak(format!("{p}_{base}").into_boxed_str())).collect()
}

/// The head state in anvil's dump format: `{"accounts": {address: {nonce, balance, code,
/// storage}}, "best_block_number": n}`.
pub fn dump_state<C: ChainApi>(api: &C) -> Result<Value, String> {
    let r = api.reader().map_err(|e| e.to_string())?;
    let mut accounts = serde_json::Map::new();
    for (address, info, slots) in r.dump().map_err(|e| e.to_string())? {
        let code = r.code(info.code_hash).map_err(|e| e.to_string())?.unwrap_or_default();
        let storage: serde_json::Map<String, Value> = slots
            .into_iter()
            .map(|(k, v)| (format!("{k:#x}"), Value::String(format!("{v:#x}"))))
            .collect();
        accounts.insert(
            address.to_checksum(None),
            json!({"nonce": info.nonce, "balance": format!("{:#x}", info.balance), "code": code, "storage": storage}),
        );
    }
    Ok(json!({"accounts": accounts, "best_block_number": api.head().number}))
}

#[derive(serde::Deserialize)]
struct DumpedAccount {
    #[serde(default)]
    nonce: Option<U64>,
    #[serde(default)]
    balance: Option<U256>,
    #[serde(default)]
    code: Option<Bytes>,
    #[serde(default)]
    storage: std::collections::BTreeMap<U256, U256>,
}

#[derive(serde::Deserialize)]
struct Dump {
    accounts: std::collections::BTreeMap<Address, DumpedAccount>,
}

/// Account edits from a state dump (anvil's format; `nonce` may be a number or a quantity).
pub fn edits_from_dump(v: &Value) -> Result<Vec<AccountEdit>, String> {
    let mut v = v.clone();
    // anvil writes nonces as plain numbers.
    if let Some(accounts) = v.get_mut("accounts").and_then(Value::as_object_mut) {
        for a in accounts.values_mut() {
            if let Some(n) = a.get("nonce").and_then(Value::as_u64) {
                a["nonce"] = Value::String(format!("{n:#x}"));
            }
        }
    }
    let dump: Dump = serde_json::from_value(v).map_err(|e| format!("malformed state dump: {e}"))?;
    Ok(dump
        .accounts
        .into_iter()
        .map(|(address, a)| AccountEdit {
            address,
            balance: Some(a.balance.unwrap_or_default()),
            nonce: Some(a.nonce.map(|n| n.to()).unwrap_or_default()),
            code: Some(a.code.unwrap_or_default()),
            storage: a.storage.into_iter().collect(),
        })
        .collect())
}

/// Registers the devnet controls.
pub(crate) fn register<C: ChainApi>(m: &mut RpcModule<Ctx<C>>) {
    register_mining(m);
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
            c.api.revert(id).map_err(RpcError::from)
        });
    }
    for name in names("reset", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |a, c| {
            if let Some(Value::Object(o)) = a.opt::<Value>(0, "options")?
                && o.contains_key("forking")
            {
                return Err(RpcError::InvalidParams("forking is not supported".into()));
            }
            c.api.reset()?;
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
            c.api.set_next_timestamp(ts)?;
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
    for name in names("dumpState", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |_, c| {
            let json = dump_state(&*c.api).map_err(RpcError::Internal)?;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, json.to_string().as_bytes())
                .map_err(|e| RpcError::Internal(e.to_string()))?;
            Ok(Bytes::from(gz.finish().map_err(|e| RpcError::Internal(e.to_string()))?))
        });
    }
    for name in names("loadState", &["anvil", "hardhat"]) {
        reg_blocking(m, name, |a, c| {
            let data: Bytes = a.req(0, "state")?;
            let mut text = String::new();
            let mut gz = flate2::read::GzDecoder::new(&data[..]);
            let json = if std::io::Read::read_to_string(&mut gz, &mut text).is_ok() {
                text
            } else {
                String::from_utf8(data.to_vec())
                    .map_err(|_| RpcError::InvalidParams("state is neither gzip nor JSON".into()))?
            };
            let v: Value = serde_json::from_str(&json)
                .map_err(|e| RpcError::InvalidParams(format!("malformed state dump: {e}")))?;
            let edits = edits_from_dump(&v).map_err(RpcError::InvalidParams)?;
            c.api.edit_accounts(edits)?;
            Ok(true)
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

/// Manual mining (`evm_mine`, `anvil_mine`).
fn register_mining<C: ChainApi>(m: &mut RpcModule<Ctx<C>>) {
    for (name, counted) in [("evm_mine", false), ("anvil_mine", true)] {
        m.register_async_method(name, move |p, ctx, _| async move {
            let args = Args::new(&p)?;
            // anvil_mine takes a block count; evm_mine an optional timestamp (not yet honoured).
            let n = if counted {
                args.opt::<U64>(0, "blocks")?.map_or(1, |n| n.to::<u64>())
            } else {
                1
            };
            ctx.api.mine(n.max(1)).await.map_err(RpcError::from)?;
            Ok::<_, ErrorObjectOwned>("0x0")
        })
        .expect("unique");
    }
}
