//! agnt2-client: a small blocking JSON-RPC client for any Ethereum node (the rollup or its L1).
//!
//! HTTP/1.1 over one short connection per call: for the infrequent calls of the channel hub,
//! the CLIs, the benchmarks and settlement (deployments, disputes, watching logs), not for load.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr, bail, eyre};
use serde_json::{Value, json};
use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    time::{Duration, Instant},
};

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    addr: SocketAddr,
    url: String,
    timeout: Duration,
}

impl Client {
    /// From an `http://host:port` URL.
    pub fn new(url: &str) -> eyre::Result<Self> {
        let hostport = url
            .strip_prefix("http://")
            .ok_or_else(|| eyre!("RPC URL must start with http:// (got {url})"))?
            .trim_end_matches('/');
        let addr = hostport
            .to_socket_addrs()
            .wrap_err_with(|| format!("resolving {hostport}"))?
            .next()
            .ok_or_else(|| eyre!("cannot resolve {hostport}"))?;
        Ok(Self { addr, url: url.to_string(), timeout: Duration::from_secs(30) })
    }

    /// For a socket address (`http://addr`).
    pub fn from_addr(addr: SocketAddr) -> Self {
        Self { addr, url: format!("http://{addr}"), timeout: Duration::from_secs(30) }
    }

    /// How long a call may wait for its answer (30 s by default).
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One JSON-RPC call; an error response becomes an error carrying its message.
    pub fn call(&self, method: &str, params: Value) -> eyre::Result<Value> {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let v = self.post(&body).wrap_err_with(|| method.to_string())?;
        if let Some(e) = v.get("error") {
            bail!("{method}: {}", e.get("message").and_then(Value::as_str).unwrap_or("error"));
        }
        v.get("result").cloned().ok_or_else(|| eyre!("{method}: no result in {v}"))
    }

    /// POSTs a raw JSON-RPC body (a request or a batch) and returns the parsed answer.
    pub fn post(&self, body: &str) -> eyre::Result<Value> {
        let mut s = TcpStream::connect(self.addr)
            .wrap_err_with(|| format!("connecting to JSON-RPC {}", self.url))?;
        s.set_read_timeout(Some(self.timeout))?;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes())?;
        s.write_all(body.as_bytes())?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        let text = String::from_utf8_lossy(&out);
        let (_, body) = text.split_once("\r\n\r\n").ok_or_else(|| eyre!("bad HTTP response"))?;
        serde_json::from_str(body).wrap_err_with(|| format!("bad JSON {body:.200}"))
    }

    /// `eth_chainId`.
    pub fn chain_id(&self) -> eyre::Result<u64> {
        hex_u64(&self.call("eth_chainId", json!([]))?)
    }

    /// `eth_blockNumber`.
    pub fn block_number(&self) -> eyre::Result<u64> {
        hex_u64(&self.call("eth_blockNumber", json!([]))?)
    }

    /// The timestamp of the latest block.
    pub fn latest_timestamp(&self) -> eyre::Result<u64> {
        let b = self.call("eth_getBlockByNumber", json!(["latest", false]))?;
        hex_u64(&b["timestamp"])
    }

    /// `eth_getBalance` at the latest block.
    pub fn balance(&self, who: Address) -> eyre::Result<U256> {
        let v = self.call("eth_getBalance", json!([who, "latest"]))?;
        v.as_str()
            .and_then(|s| U256::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .ok_or_else(|| eyre!("bad balance {v}"))
    }

    /// `eth_call` of `data` on `to` at the latest block.
    pub fn eth_call(&self, to: Address, data: &[u8]) -> eyre::Result<Bytes> {
        let v = self.call(
            "eth_call",
            json!([{"to": to, "data": Bytes::copy_from_slice(data)}, "latest"]),
        )?;
        v.as_str()
            .and_then(|s| hex::decode(s).ok())
            .map(Bytes::from)
            .ok_or_else(|| eyre!("bad eth_call result {v}"))
    }

    /// Signs a transaction without sending it: the raw bytes and the hash.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_tx(
        from: &PrivateKeySigner,
        chain_id: u64,
        nonce: u64,
        gas_price: u128,
        gas: u64,
        to: Option<Address>,
        value: U256,
        data: Vec<u8>,
    ) -> eyre::Result<(Bytes, B256)> {
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: gas_price * 2 + 1_000_000,
            max_priority_fee_per_gas: 1_000_000,
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
        Ok(hex_u64(&self.call("eth_gasPrice", json!([]))?)? as u128)
    }

    /// The pending nonce of `who`.
    pub fn nonce(&self, who: Address) -> eyre::Result<u64> {
        hex_u64(&self.call("eth_getTransactionCount", json!([who, "pending"]))?)
    }

    /// Sends signed transactions in batches without waiting, then waits for every receipt and
    /// fails if any reverted.
    pub fn send_all(&self, raws: &[(Bytes, B256)]) -> eyre::Result<()> {
        for chunk in raws.chunks(200) {
            let reqs: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (raw, _))| json!({"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}))
                .collect();
            let v = self.post(&Value::Array(reqs).to_string())?;
            for r in v.as_array().ok_or_else(|| eyre!("batch answer is not an array"))? {
                if let Some(e) = r.get("error") {
                    bail!("eth_sendRawTransaction: {e}");
                }
            }
        }
        for (_, hash) in raws {
            let r = self.wait_receipt(*hash, Duration::from_secs(120))?;
            if r["status"] != json!("0x1") {
                bail!("transaction {hash} reverted");
            }
        }
        Ok(())
    }

    /// Signs and sends a call from `from`, waits for its receipt and fails if it reverted.
    pub fn transact(
        &self,
        from: &PrivateKeySigner,
        to: Option<Address>,
        value: U256,
        data: Vec<u8>,
    ) -> eyre::Result<B256> {
        let chain_id = self.chain_id()?;
        let nonce =
            hex_u64(&self.call("eth_getTransactionCount", json!([from.address(), "pending"]))?)?;
        let gas_price = hex_u64(&self.call("eth_gasPrice", json!([]))?)? as u128;
        let mut req =
            json!({"from": from.address(), "value": value, "data": Bytes::from(data.clone())});
        if let Some(to) = to {
            req["to"] = json!(to);
        }
        let gas = hex_u64(&self.call("eth_estimateGas", json!([req]))?)?;
        let (raw, hash) =
            Self::sign_tx(from, chain_id, nonce, gas_price, gas + gas / 4, to, value, data)?;
        self.call("eth_sendRawTransaction", json!([raw]))?;
        let receipt = self.wait_receipt(hash, Duration::from_secs(60))?;
        if receipt["status"] != json!("0x1") {
            bail!("transaction {hash} reverted");
        }
        Ok(hash)
    }

    /// Polls for the receipt of `hash`.
    pub fn wait_receipt(&self, hash: B256, timeout: Duration) -> eyre::Result<Value> {
        let start = Instant::now();
        loop {
            let r = self.call("eth_getTransactionReceipt", json!([hash]))?;
            if !r.is_null() {
                return Ok(r);
            }
            if start.elapsed() > timeout {
                bail!("no receipt for {hash} after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Logs of `address` in blocks `from..=to`.
    pub fn logs(&self, address: Address, from: u64, to: u64) -> eyre::Result<Vec<Value>> {
        let v = self.call(
            "eth_getLogs",
            json!([{"address": address, "fromBlock": format!("0x{from:x}"), "toBlock": format!("0x{to:x}")}]),
        )?;
        v.as_array().cloned().ok_or_else(|| eyre!("bad eth_getLogs result"))
    }

    /// Deploys `code` from `from`; the contract's address.
    pub fn deploy(&self, from: &PrivateKeySigner, code: Bytes) -> eyre::Result<Address> {
        let hash = self.transact(from, None, U256::ZERO, code.to_vec())?;
        let r = self.wait_receipt(hash, Duration::from_secs(60))?;
        r["contractAddress"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| eyre!("deployment {hash} has no contract address"))
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

#[cfg(test)]
mod tests {
    use super::*;

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
