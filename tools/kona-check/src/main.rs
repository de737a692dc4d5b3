//! Reads `{"genesis_time", "block_time", "chain_id", "txs": ["0x…" batcher tx data]}` on stdin
//! and prints what kona-protocol derives from them: frames → channels → batches → span batch
//! elements `{"timestamp", "epoch", "txs": ["0x…"]}`, in channel order. Any error is fatal
//! (non-zero exit with the reason): agnt2's tests expect kona to accept everything.
//!
//! Two more modes: `{"encode": …}` (kona writes batcher transactions, see [`encode`]) and
//! `{"blobs": …}` (kona-derive's blob source reads an L1 block's transactions and blobs, see
//! [`blobs::read`]).

use kona_genesis::{ChainGenesis, HardForkConfig, RollupConfig};
use kona_protocol::{Batch, BatchReader, BlockInfo, Channel, Frame, SingleBatch, SpanBatch};
use serde_json::{Value, json};
use std::io::Read;

mod blobs;

fn main() {
    if let Err(e) = run() {
        eprintln!("kona-check: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&input).map_err(|e| e.to_string())?;
    if let Some(e) = v.get("encode") {
        return encode(e);
    }
    if let Some(b) = v.get("blobs") {
        return blobs::read(b);
    }
    // A rollup.json, when given, is read with kona's own serde (op-node's format, unknown
    // fields refused) and is the configuration; otherwise one is made from the numbers.
    let cfg = if let Some(file) = v.get("rollup_config") {
        let cfg: RollupConfig = serde_json::from_value(file.clone())
            .map_err(|e| format!("kona refuses the rollup config: {e}"))?;
        if !cfg.is_fjord_active(cfg.genesis.l2_time) {
            return Err("the rollup config does not activate Fjord at genesis".into());
        }
        cfg
    } else {
        synthetic(&v)?
    };
    run_with(&v, &cfg)
}

fn synthetic(v: &Value) -> Result<RollupConfig, String> {
    let num = |k: &str| v[k].as_u64().ok_or(format!("missing {k}"));
    Ok(RollupConfig {
        genesis: ChainGenesis { l2_time: num("genesis_time")?, ..Default::default() },
        block_time: num("block_time")?,
        l2_chain_id: alloy_chains::Chain::from_id(num("chain_id")?),
        hardforks: HardForkConfig {
            regolith_time: Some(0),
            canyon_time: Some(0),
            delta_time: Some(0),
            ecotone_time: Some(0),
            fjord_time: Some(0),
            granite_time: Some(0),
            holocene_time: Some(0),
            ..Default::default()
        },
        ..Default::default()
    })
}

fn run_with(v: &Value, cfg: &RollupConfig) -> Result<(), String> {
    let mut channels: Vec<Channel> = Vec::new();
    let mut out = Vec::new();
    for (i, tx) in v["txs"].as_array().ok_or("missing txs")?.iter().enumerate() {
        let data = hex::decode(tx.as_str().unwrap_or_default().trim_start_matches("0x"))
            .map_err(|e| format!("tx {i}: {e}"))?;
        let frames = Frame::parse_frames(&data).map_err(|e| format!("tx {i}: {e:?}"))?;
        for frame in frames {
            let pos = match channels.iter().position(|c| c.id() == frame.id) {
                Some(p) => p,
                None => {
                    channels.push(Channel::new(frame.id, BlockInfo::default()));
                    channels.len() - 1
                }
            };
            channels[pos]
                .add_frame(frame, BlockInfo::default())
                .map_err(|e| format!("tx {i}: {e:?}"))?;
            if channels[pos].is_ready() {
                let ch = channels.remove(pos);
                let data = ch.frame_data().ok_or("channel without data")?;
                let mut reader = BatchReader::new(data.to_vec(), 100_000_000);
                let mut batches = 0;
                while let Some(batch) = reader.next_batch(cfg) {
                    batches += 1;
                    let Batch::Span(span) = batch else { return Err("a single batch".into()) };
                    for el in &span.batches {
                        out.push(json!({
                            "timestamp": el.timestamp,
                            "epoch": el.epoch_num,
                            "txs": el.transactions.iter().map(|t| format!("0x{}", hex::encode(t))).collect::<Vec<_>>(),
                            "parent_check": format!("0x{}", hex::encode(span.parent_check)),
                            "l1_origin_check": format!("0x{}", hex::encode(span.l1_origin_check)),
                        }));
                    }
                }
                if batches == 0 {
                    return Err("kona read no batch from a complete channel".into());
                }
            }
        }
    }
    if !channels.is_empty() {
        return Err(format!("{} channel(s) left incomplete", channels.len()));
    }
    println!("{}", json!({ "blocks": out }));
    Ok(())
}

/// `{"encode": {"genesis_time", "chain_id", "frame_size", "blocks": [{"timestamp",
/// "parent_hash", "epoch_num", "epoch_hash", "seq", "txs": ["0x…"]}]}}`: kona builds the span
/// batch and the frames (brotli, which kona only decompresses, from the brotli crate), and the
/// batcher transactions are printed as `{"txs": ["0x…"]}`.
fn encode(e: &Value) -> Result<(), String> {
    use std::io::Write;
    let num = |v: &Value, k: &str| v[k].as_u64().ok_or(format!("missing {k}"));
    let b256 = |v: &Value, k: &str| -> Result<alloy_primitives::B256, String> {
        v[k].as_str().ok_or(format!("missing {k}"))?.parse().map_err(|e| format!("{k}: {e}"))
    };
    let mut span = SpanBatch {
        genesis_timestamp: num(e, "genesis_time")?,
        chain_id: num(e, "chain_id")?,
        ..Default::default()
    };
    for b in e["blocks"].as_array().ok_or("missing blocks")? {
        let txs = b["txs"]
            .as_array()
            .ok_or("missing txs")?
            .iter()
            .map(|t| {
                hex::decode(t.as_str().unwrap_or_default().trim_start_matches("0x"))
                    .map(Into::into)
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<alloy_primitives::Bytes>, String>>()?;
        let single = SingleBatch {
            parent_hash: b256(b, "parent_hash")?,
            epoch_num: num(b, "epoch_num")?,
            epoch_hash: b256(b, "epoch_hash")?,
            timestamp: num(b, "timestamp")?,
            transactions: txs,
        };
        span.append_singular_batch(single, num(b, "seq")?).map_err(|e| format!("{e:?}"))?;
    }
    let mut batch = Vec::new();
    Batch::Span(span).encode(&mut batch).map_err(|e| format!("{e:?}"))?;
    let mut rlp = Vec::new();
    alloy_rlp::Encodable::encode(&alloy_primitives::Bytes::from(batch), &mut rlp);
    let mut channel = vec![1u8];
    {
        let mut w = brotli::CompressorWriter::new(&mut channel, 4096, 10, 22);
        w.write_all(&rlp).map_err(|e| e.to_string())?;
    }
    let size = num(e, "frame_size")? as usize;
    let id = [0x6b; 16];
    let chunks: Vec<&[u8]> = channel.chunks(size).collect();
    let txs: Vec<String> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let frame = Frame::new(id, i as u16, c.to_vec(), i + 1 == chunks.len());
            format!("0x00{}", hex::encode(frame.encode()))
        })
        .collect();
    println!("{}", json!({ "txs": txs }));
    Ok(())
}
