//! An L1 beacon node's blob API (`GET /eth/v1/beacon/blobs/{block_id}?versioned_hashes=…`),
//! which derivation reads the batcher's blobs from, as op-node does.
//!
//! A beacon node names a block by slot: `(timestamp − genesis time) / SECONDS_PER_SLOT` from
//! `/eth/v1/beacon/genesis` and `/eth/v1/config/spec`. anvil serves the same route on its RPC
//! port but names blocks by execution number and has no spec without interval mining, so when
//! the slot is unknown, or asking by slot does not return the blobs, the number is asked too.
//! Every blob returned is checked against the versioned hash it must have (its KZG commitment),
//! so a wrong or lying beacon node cannot change what is derived, only stall it.

use crate::rt;
use alloy_eips::eip4844::{AsCkzg, Blob, env_settings::EnvKzgSettings, kzg_to_versioned_hash};
use alloy_primitives::B256;
use eyre::{WrapErr, bail, eyre};
use serde_json::Value;
use std::{
    collections::HashMap,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

/// A beacon node's HTTP API.
#[derive(Debug, Clone)]
pub struct Beacon {
    url: String,
    http: reqwest::Client,
    /// (genesis time, seconds per slot), read once; `None` when the node does not say.
    clock: Arc<OnceLock<Option<(u64, u64)>>>,
    /// Set once asking by execution number found blobs asking by slot did not (anvil): the
    /// number is asked first from then on.
    by_number: Arc<AtomicBool>,
}

impl Beacon {
    /// A beacon API at `url` (`http(s)://host:port`).
    pub fn new(url: &str) -> eyre::Result<Self> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("the beacon URL must start with http:// or https:// (got {url})");
        }
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .wrap_err("building the HTTP client")?;
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            http,
            clock: Default::default(),
            by_number: Default::default(),
        })
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET path` as JSON; `None` when the node answers an error status (404: no such block).
    /// A rate limit (429) or an unavailable server (503) is retried with backoff, as JSON-RPC
    /// calls are; a transport failure is an error.
    fn get(&self, path: &str) -> eyre::Result<Option<Value>> {
        let url = format!("{}{path}", self.url);
        for attempt in 0..=crate::MAX_RETRIES {
            let (http, u) = (self.http.clone(), url.clone());
            let resp = rt::block_on(async move {
                let resp = http.get(&u).header("accept", "application/json").send().await?;
                let status = resp.status();
                resp.bytes().await.map(|b| (status, b))
            })?
            .map_err(|e| eyre!("GET {url}: {e}"))?;
            match resp {
                (s, _)
                    if s == reqwest::StatusCode::TOO_MANY_REQUESTS
                        || s == reqwest::StatusCode::SERVICE_UNAVAILABLE =>
                {
                    std::thread::sleep(Duration::from_millis(
                        crate::BACKOFF_MS * u64::from(attempt + 1),
                    ));
                }
                // Another error status: the node has no answer for this (anvil answers 500
                // for the spec without interval mining).
                (s, _) if !s.is_success() => return Ok(None),
                (_, body) => {
                    return serde_json::from_slice(&body)
                        .map(Some)
                        .wrap_err_with(|| format!("GET {url}: not JSON"));
                }
            }
        }
        bail!("GET {url}: still rate-limited after {} retries", crate::MAX_RETRIES)
    }

    /// The beacon chain's clock; remembered once the node has answered (a transport error is
    /// asked again next time rather than taken for "no clock").
    fn clock(&self) -> Option<(u64, u64)> {
        if let Some(c) = self.clock.get() {
            return *c;
        }
        let num = |v: &Value, p: &str| v.pointer(p)?.as_str()?.parse::<u64>().ok();
        let (Ok(genesis), Ok(spec)) =
            (self.get("/eth/v1/beacon/genesis"), self.get("/eth/v1/config/spec"))
        else {
            return None;
        };
        let clock = match (genesis, spec) {
            (Some(g), Some(s)) => {
                Some((num(&g, "/data/genesis_time")?, num(&s, "/data/SECONDS_PER_SLOT")?))
                    .filter(|(_, s)| *s > 0)
            }
            _ => None,
        };
        *self.clock.get_or_init(|| clock)
    }

    /// The blobs with versioned hashes `hashes` of the L1 block `number` at `timestamp`, in the
    /// order of `hashes`.
    pub fn blobs(&self, number: u64, timestamp: u64, hashes: &[B256]) -> eyre::Result<Vec<Blob>> {
        let mut ids = Vec::with_capacity(2);
        let by_number = self.by_number.load(Ordering::Relaxed);
        if by_number {
            ids.push(number);
        }
        if let Some((genesis, per_slot)) = self.clock()
            && let Some(since) = timestamp.checked_sub(genesis)
            && !ids.contains(&(since / per_slot))
        {
            ids.push(since / per_slot);
        }
        if !ids.contains(&number) {
            ids.push(number);
        }
        let query: Vec<String> = hashes.iter().map(|h| h.to_string()).collect();
        let mut found: HashMap<B256, Blob> = HashMap::new();
        for &id in &ids {
            let path = format!("/eth/v1/beacon/blobs/{id}?versioned_hashes={}", query.join(","));
            let Some(v) = self.get(&path)? else { continue };
            let data = v
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| eyre!("{}{path}: the answer has no data list", self.url))?;
            for b in data {
                let bytes = alloy_primitives::hex::decode(b.as_str().unwrap_or_default())
                    .wrap_err("a blob that is not hex")?;
                let Ok(blob) = Blob::try_from(bytes.as_slice()) else { continue };
                // A blob that is not canonical is no blob of ours.
                let Ok(hash) = versioned_hash(&blob) else { continue };
                if hashes.contains(&hash) {
                    found.insert(hash, blob);
                }
            }
            if hashes.iter().all(|h| found.contains_key(h)) {
                if id == number && ids[0] != number && !by_number {
                    self.by_number.store(true, Ordering::Relaxed);
                }
                break;
            }
        }
        hashes
            .iter()
            .map(|h| {
                found.remove(h).ok_or_else(|| {
                    eyre!("the beacon node at {} has no blob {h} of L1 block {number}", self.url)
                })
            })
            .collect()
    }
}

/// The versioned hash of a blob: `0x01 ‖ sha256(commitment)[1..]`.
pub fn versioned_hash(blob: &Blob) -> eyre::Result<B256> {
    let commitment = EnvKzgSettings::Default
        .get()
        .blob_to_kzg_commitment(blob.as_ckzg())
        .map_err(|e| eyre!("a blob that is not canonical: {e}"))?;
    Ok(kzg_to_versioned_hash(commitment.to_bytes().as_slice()))
}
