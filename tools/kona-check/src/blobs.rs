//! `{"blobs": {"inbox", "batcher", "txs": ["0x…" signed L1 transactions, EIP-2718], "blobs":
//! ["0x…" the block's blobs, in order]}}`: kona-derive's `BlobSource` reads the block as op-node
//! would — transactions to the inbox signed by the batcher, blob or calldata — and the data it
//! yields (decoded blobs, calldata) is printed as `{"data": ["0x…"]}`.

use alloy_consensus::{Header, Receipt, TxEnvelope};
use alloy_eips::{
    eip2718::Decodable2718,
    eip4844::{Blob, IndexedBlobHash},
};
use alloy_primitives::{Address, B256};
use async_trait::async_trait;
use kona_derive::{
    BlobProvider, BlobProviderError, BlobSource, ChainProvider, DataAvailabilityProvider,
    PipelineError, PipelineErrorKind,
};
use kona_protocol::BlockInfo;
use serde_json::{Value, json};

/// One L1 block: its transactions and its blobs.
#[derive(Debug, Clone)]
struct Block {
    txs: Vec<TxEnvelope>,
    blobs: Vec<Blob>,
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Refused> for PipelineErrorKind {
    fn from(e: Refused) -> Self {
        PipelineError::Provider(e.0).crit()
    }
}

#[async_trait]
impl ChainProvider for Block {
    type Error = Refused;

    async fn header_by_hash(&mut self, _: B256) -> Result<Header, Refused> {
        Err(Refused("no headers".into()))
    }

    async fn block_info_by_number(&mut self, _: u64) -> Result<BlockInfo, Refused> {
        Err(Refused("no block infos".into()))
    }

    async fn receipts_by_hash(&mut self, _: B256) -> Result<Vec<Receipt>, Refused> {
        Err(Refused("no receipts".into()))
    }

    async fn block_info_and_transactions_by_hash(
        &mut self,
        _: B256,
    ) -> Result<(BlockInfo, Vec<TxEnvelope>), Refused> {
        Ok((BlockInfo::default(), self.txs.clone()))
    }
}

#[async_trait]
impl BlobProvider for Block {
    type Error = BlobProviderError;

    async fn get_blobs(
        &mut self,
        _: &BlockInfo,
        hashes: &[IndexedBlobHash],
    ) -> Result<Vec<Box<Blob>>, BlobProviderError> {
        hashes
            .iter()
            .map(|h| {
                self.blobs
                    .get(h.index as usize)
                    .map(|b| Box::new(*b))
                    .ok_or_else(|| BlobProviderError::Backend(format!("no blob {}", h.index)))
            })
            .collect()
    }
}

fn hex_bytes(v: &Value) -> Result<Vec<u8>, String> {
    hex::decode(v.as_str().ok_or("not a string")?.trim_start_matches("0x"))
        .map_err(|e| e.to_string())
}

/// Runs kona's blob source over one block.
pub fn read(b: &Value) -> Result<(), String> {
    let addr = |k: &str| -> Result<Address, String> {
        b[k].as_str().ok_or(format!("missing {k}"))?.parse().map_err(|e| format!("{k}: {e}"))
    };
    let txs = b["txs"]
        .as_array()
        .ok_or("missing txs")?
        .iter()
        .map(|t| {
            let raw = hex_bytes(t)?;
            TxEnvelope::decode_2718(&mut raw.as_slice()).map_err(|e| format!("tx: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let blobs = b["blobs"]
        .as_array()
        .ok_or("missing blobs")?
        .iter()
        .map(|x| Blob::try_from(hex_bytes(x)?.as_slice()).map_err(|e| format!("blob: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let block = Block { txs, blobs };
    let mut source = BlobSource::new(block.clone(), block, addr("inbox")?);
    let batcher = addr("batcher")?;
    let mut data = Vec::new();
    futures::executor::block_on(async {
        loop {
            match source.next(&BlockInfo::default(), batcher).await {
                Ok(d) => data.push(format!("0x{}", hex::encode(d))),
                Err(PipelineErrorKind::Temporary(PipelineError::Eof)) => break,
                Err(e) => return Err(format!("kona's blob source: {e}")),
            }
        }
        Ok(())
    })?;
    println!("{}", json!({ "data": data }));
    Ok(())
}
