//! Devnet controls with anvil's names and semantics (`anvil_*`, with the `evm_*` and
//! `hardhat_*` aliases tools use).

use crate::{
    AccountEdit, ChainApi, MiningMode,
    api::DevControlsServer,
    error::{RpcError, RpcResult},
    plumbing::{Ctx, Handler},
};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::{core::async_trait, types::ErrorObjectOwned};
use serde_json::{Value, json};
use std::time::Duration;

fn edit<C: ChainApi>(c: &Ctx<C>, e: AccountEdit) -> RpcResult<()> {
    Ok(c.api.edit_account(e)?)
}

/// The head state in anvil's dump format: `{"accounts": {address: {nonce, balance, code,
/// storage}}, "best_block_number": n}`.
pub fn dump_state<C: ChainApi>(api: &C) -> Result<Value, RpcError> {
    let r = api.reader()?;
    let mut accounts = serde_json::Map::new();
    for (address, info, slots) in r.dump()? {
        let code = r.code(info.code_hash)?.unwrap_or_default();
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

/// A state dump that is not in anvil's format.
#[derive(Debug, thiserror::Error)]
#[error("malformed state dump: {0}")]
pub struct MalformedDump(#[from] serde_json::Error);

/// Account edits from a state dump (anvil's format; `nonce` may be a number or a quantity).
pub fn edits_from_dump(v: &Value) -> Result<Vec<AccountEdit>, MalformedDump> {
    let mut v = v.clone();
    // anvil writes nonces as plain numbers.
    if let Some(accounts) = v.get_mut("accounts").and_then(Value::as_object_mut) {
        for a in accounts.values_mut() {
            if let Some(n) = a.get("nonce").and_then(Value::as_u64) {
                a["nonce"] = Value::String(format!("{n:#x}"));
            }
        }
    }
    let dump: Dump = serde_json::from_value(v)?;
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
/// A base fee, timestamp or offset given as a quantity that must fit in 64 bits.
fn u64_arg(v: U256, what: &str) -> RpcResult<u64> {
    u64::try_from(v).map_err(|_| RpcError::InvalidParams(format!("{what} out of range")))
}

#[async_trait]
impl<C: ChainApi> DevControlsServer for Handler<C> {
    async fn mine(&self, blocks: Option<U64>) -> Result<&'static str, ErrorObjectOwned> {
        let n = blocks.map_or(1, |n| n.to::<u64>()).max(1);
        self.api.mine(n).await.map_err(RpcError::from)?;
        Ok("0x0")
    }

    async fn evm_mine(&self) -> Result<&'static str, ErrorObjectOwned> {
        self.api.mine(1).await.map_err(RpcError::from)?;
        Ok("0x0")
    }

    fn set_balance(&self, address: Address, balance: U256) -> RpcResult<()> {
        edit(self, AccountEdit { address, balance: Some(balance), ..Default::default() })
    }

    fn set_nonce(&self, address: Address, nonce: U64) -> RpcResult<()> {
        edit(self, AccountEdit { address, nonce: Some(nonce.to()), ..Default::default() })
    }

    fn set_code(&self, address: Address, code: Bytes) -> RpcResult<()> {
        edit(self, AccountEdit { address, code: Some(code), ..Default::default() })
    }

    fn set_storage_at(&self, address: Address, slot: U256, value: B256) -> RpcResult<bool> {
        let storage = vec![(slot, U256::from_be_bytes(value.0))];
        edit(self, AccountEdit { address, storage, ..Default::default() })?;
        Ok(true)
    }

    fn snapshot(&self) -> RpcResult<U256> {
        Ok(U256::from(self.api.snapshot()))
    }

    fn revert(&self, id: U256) -> RpcResult<bool> {
        let Ok(id) = u64::try_from(id) else { return Ok(false) };
        Ok(self.api.revert(id)?)
    }

    fn reset(&self, options: Option<Value>) -> RpcResult<()> {
        if let Some(Value::Object(o)) = options
            && o.contains_key("forking")
        {
            return Err(RpcError::InvalidParams("forking is not supported".into()));
        }
        Ok(self.api.reset()?)
    }

    fn set_automine(&self, enabled: bool) -> RpcResult<()> {
        self.api.set_mining_mode(if enabled { MiningMode::Instant } else { MiningMode::Manual });
        Ok(())
    }

    fn automine(&self) -> RpcResult<bool> {
        Ok(self.api.mining_mode() == MiningMode::Instant)
    }

    fn set_interval_mining(&self, seconds: u64) -> RpcResult<()> {
        self.api.set_mining_mode(match seconds {
            0 => MiningMode::Manual,
            s => MiningMode::Interval(Duration::from_secs(s)),
        });
        Ok(())
    }

    fn impersonate_account(&self, address: Address) -> RpcResult<()> {
        self.api.impersonate(address, true);
        Ok(())
    }

    fn stop_impersonating_account(&self, address: Address) -> RpcResult<()> {
        self.api.impersonate(address, false);
        Ok(())
    }

    fn auto_impersonate_account(&self, enabled: bool) -> RpcResult<()> {
        self.api.set_auto_impersonate(enabled);
        Ok(())
    }

    fn increase_time(&self, seconds: U256) -> RpcResult<U64> {
        Ok(U64::from(self.api.increase_time(u64_arg(seconds, "seconds")?)))
    }

    fn set_next_block_timestamp(&self, timestamp: U256) -> RpcResult<()> {
        Ok(self.api.set_next_timestamp(u64_arg(timestamp, "timestamp")?)?)
    }

    fn set_next_block_base_fee_per_gas(&self, base_fee: U256) -> RpcResult<()> {
        self.api.set_next_base_fee(u64_arg(base_fee, "base fee")?);
        Ok(())
    }

    fn dump_state(&self) -> RpcResult<Bytes> {
        let json = dump_state(&*self.api)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, json.to_string().as_bytes())
            .map_err(|e| RpcError::Internal(e.to_string()))?;
        Ok(Bytes::from(gz.finish().map_err(|e| RpcError::Internal(e.to_string()))?))
    }

    fn load_state(&self, state: Bytes) -> RpcResult<bool> {
        let mut text = String::new();
        let mut gz = flate2::read::GzDecoder::new(&state[..]);
        let json = if std::io::Read::read_to_string(&mut gz, &mut text).is_ok() {
            text
        } else {
            String::from_utf8(state.to_vec())
                .map_err(|_| RpcError::InvalidParams("state is neither gzip nor JSON".into()))?
        };
        let v: Value = serde_json::from_str(&json)
            .map_err(|e| RpcError::InvalidParams(format!("malformed state dump: {e}")))?;
        let edits = edits_from_dump(&v).map_err(|e| RpcError::InvalidParams(e.to_string()))?;
        self.api.edit_accounts(edits)?;
        Ok(true)
    }

    fn drop_transaction(&self, hash: B256) -> RpcResult<Option<B256>> {
        Ok((self.api.pool().remove(&[hash]) > 0).then_some(hash))
    }

    fn node_info(&self) -> RpcResult<Value> {
        let head = self.api.head();
        Ok(json!({
            "currentBlockNumber": head.number,
            "currentBlockTimestamp": head.header.timestamp,
            "currentBlockHash": head.hash,
            "hardFork": "jovian",
            "transactionOrder": "fees",
            "environment": {
                "baseFee": self.api.next_base_fee().to_string(),
                "chainId": self.api.chain_spec().chain_id(),
                "gasLimit": self.api.chain_spec().gas_limit().to_string(),
            },
            "network": "agnt2",
        }))
    }
}
