//! The sequencer's signatures of its unsafe blocks (op-node's `p2p.sequencer.key`, in the
//! digest agnt2's duty board checks): `keccak256(abi.encode(keccak256("agnt2.unsafe-block"),
//! chainId, height, blockHash))`. Two different blocks signed for one height are the evidence a
//! board slashes a sequencer operator on (`DutyBoard.slashEquivocation`). The newest
//! [`KEPT`] are kept in memory, served by `optimism_blockSignature(hash)`.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use std::collections::{HashMap, VecDeque};

/// Signatures kept (about 130 bytes each: some 8.5 MB).
pub(crate) const KEPT: usize = 65_536;

/// The digest a sequencer signs for block `hash` at `height` on chain `chain_id`.
pub(crate) fn unsafe_block_digest(chain_id: u64, height: u64, hash: B256) -> B256 {
    let domain = keccak256("agnt2.unsafe-block");
    keccak256((domain, U256::from(chain_id), U256::from(height), hash).abi_encode_params())
}

/// The signer and the newest signatures, by block hash.
#[derive(Debug)]
pub(crate) struct BlockSigs {
    key: PrivateKeySigner,
    chain_id: u64,
    by_hash: HashMap<B256, (u64, Bytes)>,
    order: VecDeque<B256>,
    capacity: usize,
}

impl BlockSigs {
    pub(crate) fn new(key: PrivateKeySigner, chain_id: u64, capacity: usize) -> Self {
        Self { key, chain_id, by_hash: HashMap::new(), order: VecDeque::new(), capacity }
    }

    pub(crate) fn signer(&self) -> Address {
        self.key.address()
    }

    /// Signs block `hash` at `height` and keeps the signature.
    pub(crate) fn sign(&mut self, height: u64, hash: B256) -> eyre::Result<()> {
        let sig = self.key.sign_hash_sync(&unsafe_block_digest(self.chain_id, height, hash))?;
        if self.by_hash.insert(hash, (height, Bytes::from(sig.as_bytes().to_vec()))).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.by_hash.remove(&old);
            }
        }
        Ok(())
    }

    /// The signature of block `hash`: its height and the 65-byte signature.
    pub(crate) fn get(&self, hash: &B256) -> Option<(u64, Bytes)> {
        self.by_hash.get(hash).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_recover_to_the_key_and_the_oldest_go_first() {
        let key = PrivateKeySigner::random();
        let mut s = BlockSigs::new(key.clone(), 7, 16);
        let h = B256::repeat_byte(1);
        s.sign(5, h).unwrap();
        let (height, sig) = s.get(&h).unwrap();
        assert_eq!(height, 5);
        let sig = alloy_primitives::Signature::try_from(sig.as_ref()).unwrap();
        let digest = unsafe_block_digest(7, 5, h);
        assert_eq!(sig.recover_address_from_prehash(&digest).unwrap(), key.address());
        for i in 0..16 {
            s.sign(6 + i, B256::from(U256::from(i + 10))).unwrap();
        }
        assert!(s.get(&h).is_none(), "the oldest was dropped");
        assert_eq!(s.by_hash.len(), 16);
    }
}
