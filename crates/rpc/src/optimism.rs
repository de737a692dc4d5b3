//! The `optimism_` namespace as op-node serves it: `optimism_outputAtBlock`,
//! `optimism_rollupConfig`, `optimism_syncStatus`.
//!
//! Output root (OP proposals spec): `keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot
//! ‖ blockHash)`, the message passer's storage root being the header's `withdrawalsRoot` since
//! Isthmus. Block references use op-node's JSON: numbers as JSON numbers, an `l1origin` read from
//! the L1Block predeploy's state at that block.

use crate::{
    ChainApi,
    api::OptimismApiServer,
    error::{RpcError, RpcResult},
    plumbing::{Ctx, Handler, state_block},
};
use agnt2_primitives::{L1BlockAttributes, constants::L1_BLOCK};
use agnt2_storage::StoreReader;
use alloy_eips::BlockId;
use alloy_primitives::{B256, U256, keccak256};
use serde_json::{Value, json};

/// The output root of a block from its header fields.
pub(crate) fn output_root(state_root: B256, message_passer_root: B256, block_hash: B256) -> B256 {
    let mut buf = [0u8; 128];
    buf[32..64].copy_from_slice(state_root.as_slice());
    buf[64..96].copy_from_slice(message_passer_root.as_slice());
    buf[96..].copy_from_slice(block_hash.as_slice());
    keccak256(buf)
}

/// The L1 origin and sequence number the state at block `n` holds.
fn origin_at(r: &StoreReader, n: u64, at: Option<u64>) -> RpcResult<(L1BlockAttributes, u64)> {
    let mut slots = [U256::ZERO; 9];
    for (i, v) in slots.iter_mut().enumerate() {
        let slot = U256::from(i);
        *v = match at {
            Some(_) => r.storage_at(L1_BLOCK, slot, n)?,
            None => r.storage(L1_BLOCK, slot)?,
        };
    }
    Ok(L1BlockAttributes::from_l1_block_storage(|i| slots[i as usize]))
}

/// op-node's `L2BlockRef` of block `n`.
fn block_ref(r: &StoreReader, n: u64) -> RpcResult<Value> {
    let (n, at) = state_block(r, Some(BlockId::number(n)))?;
    let h = r.header(n)?.ok_or(RpcError::UnknownBlock)?;
    let hash = r.block_hash(n)?.ok_or(RpcError::UnknownBlock)?;
    let (origin, seq) = origin_at(r, n, at)?;
    Ok(json!({
        "hash": hash,
        "number": n,
        "parentHash": h.parent_hash,
        "timestamp": h.timestamp,
        "l1origin": {"hash": origin.hash, "number": origin.number},
        "sequenceNumber": seq,
    }))
}

fn output_at_block<C: ChainApi>(c: &Ctx<C>, id: BlockId) -> RpcResult<Value> {
    let r = c.api.reader()?;
    let (n, _) = state_block(&r, Some(id))?;
    let h = r.header(n)?.ok_or(RpcError::UnknownBlock)?;
    let hash = r.block_hash(n)?.ok_or(RpcError::UnknownBlock)?;
    let mp_root = h.withdrawals_root.unwrap_or_default();
    Ok(json!({
        "version": B256::ZERO,
        "outputRoot": output_root(h.state_root, mp_root, hash),
        "blockRef": block_ref(&r, n)?,
        "withdrawalStorageRoot": mp_root,
        "stateRoot": h.state_root,
        "syncStatus": sync_status(c, &r)?,
    }))
}

fn sync_status<C: ChainApi>(c: &Ctx<C>, r: &StoreReader) -> RpcResult<Value> {
    let head = c.api.head().number.min(crate::plumbing::snapshot_head(r)?);
    let unsafe_l2 = block_ref(r, head)?;
    let (origin, _) = origin_at(r, head, None)?;
    let l1 = json!({"hash": origin.hash, "number": origin.number, "timestamp": origin.timestamp});
    // Safe: derived from (or, on the sequencer, checked against) the batches on the L1;
    // finalized: made safe by a finalized L1 block. Genesis until derivation records more.
    let safe = block_ref(r, r.safe_head()?.min(head))?;
    let finalized = block_ref(r, r.finalized_head()?.min(head))?;
    Ok(json!({
        "current_l1": l1,
        "head_l1": l1,
        "unsafe_l2": unsafe_l2,
        "safe_l2": safe,
        "finalized_l2": finalized,
    }))
}

impl<C: ChainApi> OptimismApiServer for Handler<C> {
    fn output_at_block(&self, block: BlockId) -> RpcResult<Value> {
        output_at_block(self, block)
    }

    fn sync_status(&self) -> RpcResult<Value> {
        let r = self.api.reader()?;
        sync_status(self, &r)
    }

    fn rollup_config(&self) -> RpcResult<Value> {
        self.api.rollup_config().ok_or_else(|| {
            RpcError::Internal("this node runs without an L1 (start it with `agnt2 launch`)".into())
        })
    }

    fn block_signature(&self, hash: alloy_primitives::B256) -> RpcResult<Value> {
        let (number, signer, signature) = self.api.block_signature(hash).ok_or_else(|| {
            RpcError::Internal(format!(
                "no signature of block {hash} here (not built by this node, older than the \
                 newest it keeps, or it runs without --sequencer.block-signing-key)"
            ))
        })?;
        Ok(json!({"number": number, "hash": hash, "signer": signer, "signature": signature}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_root_is_the_specs_preimage() {
        let (s, m, h) = (B256::repeat_byte(1), B256::repeat_byte(2), B256::repeat_byte(3));
        let pre = [B256::ZERO, s, m, h].concat();
        assert_eq!(output_root(s, m, h), keccak256(pre));
    }
}
