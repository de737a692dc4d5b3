//! Merkle Patricia roots and proofs over sorted, hashed leaves.
//!
//! The storage crate keeps the hashed state (accounts by `keccak(address)`, slots by
//! `keccak(slot)`) in key order and feeds it here. Storage roots are cached per account and
//! recomputed only for accounts whose storage changed in a block; the account trie is rebuilt
//! from the hashed accounts with [`HashBuilder`].
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod incremental;

pub use incremental::{
    IncrementalRoot, RootWithUpdates, TrieLeaves, TrieNodes, decode_node, encode_node, full_root,
    incremental_root,
};

use alloy_primitives::{B256, Bytes, U256};
use alloy_rlp::Encodable;
use alloy_trie::{HashBuilder, TrieAccount, proof::ProofRetainer};

pub use alloy_trie::{BranchNodeCompact, EMPTY_ROOT_HASH, Nibbles, TrieAccount as Account};

/// Root of a storage trie from `(keccak(slot), value)` pairs in ascending key order. Zero
/// values must not be passed (they are absent from the trie).
pub fn storage_root(slots: impl IntoIterator<Item = (B256, U256)>) -> B256 {
    let mut hb = HashBuilder::default();
    let mut buf = Vec::with_capacity(33);
    for (key, value) in slots {
        buf.clear();
        value.encode(&mut buf);
        hb.add_leaf(Nibbles::unpack(key), &buf);
    }
    hb.root()
}

/// State root from `(keccak(address), account)` pairs in ascending key order.
pub fn state_root(accounts: impl IntoIterator<Item = (B256, TrieAccount)>) -> B256 {
    let mut hb = HashBuilder::default();
    let mut buf = Vec::with_capacity(110);
    for (key, account) in accounts {
        buf.clear();
        account.encode(&mut buf);
        hb.add_leaf(Nibbles::unpack(key), &buf);
    }
    hb.root()
}

/// A root together with the proof nodes (root first) of each requested key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootWithProofs {
    /// The trie root.
    pub root: B256,
    /// Proof nodes per target, in the order the targets were given.
    pub proofs: Vec<Vec<Bytes>>,
}

/// Root and proofs for `targets` over already RLP-encoded leaves in ascending key order.
pub fn root_with_proofs(
    leaves: impl IntoIterator<Item = (B256, Vec<u8>)>,
    targets: &[B256],
) -> RootWithProofs {
    let paths: Vec<Nibbles> = targets.iter().map(|t| Nibbles::unpack(*t)).collect();
    let mut hb = HashBuilder::default().with_proof_retainer(ProofRetainer::new(paths.clone()));
    for (key, value) in leaves {
        hb.add_leaf(Nibbles::unpack(key), &value);
    }
    let root = hb.root();
    let nodes = hb.take_proof_nodes();
    let proofs = paths
        .iter()
        .map(|p| nodes.matching_nodes_sorted(p).into_iter().map(|(_, node)| node).collect())
        .collect();
    RootWithProofs { root, proofs }
}

/// RLP of a storage value as stored in a leaf.
pub fn encode_storage_value(value: U256) -> Vec<u8> {
    let mut buf = Vec::with_capacity(33);
    value.encode(&mut buf);
    buf
}

/// RLP of an account as stored in a leaf.
pub fn encode_account(account: &TrieAccount) -> Vec<u8> {
    let mut buf = Vec::with_capacity(110);
    account.encode(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, keccak256};
    use alloy_trie::{proof::verify_proof, root::state_root_unhashed};
    use rand::Rng;

    fn random_accounts(n: usize) -> Vec<(Address, TrieAccount)> {
        let mut rng = rand::rng();
        (0..n)
            .map(|_| {
                let addr = Address::from(rng.random::<[u8; 20]>());
                let acc = TrieAccount {
                    nonce: rng.random_range(0..1000),
                    balance: U256::from(rng.random::<u64>()),
                    storage_root: EMPTY_ROOT_HASH,
                    code_hash: alloy_trie::KECCAK_EMPTY,
                };
                (addr, acc)
            })
            .collect()
    }

    #[test]
    fn state_root_matches_reference_and_proofs_verify() {
        let accounts = random_accounts(200);
        let mut hashed: Vec<_> = accounts.iter().map(|(a, acc)| (keccak256(a), *acc)).collect();
        hashed.sort_by_key(|(k, _)| *k);
        let expected = state_root_unhashed(accounts);
        assert_eq!(state_root(hashed.clone()), expected);

        let target = hashed[17].0;
        let missing = keccak256(b"absent");
        let leaves = hashed.iter().map(|(k, a)| (*k, encode_account(a)));
        let out = root_with_proofs(leaves, &[target, missing]);
        assert_eq!(out.root, expected);
        let value = encode_account(&hashed[17].1);
        verify_proof(out.root, Nibbles::unpack(target), Some(value), &out.proofs[0]).unwrap();
        verify_proof(out.root, Nibbles::unpack(missing), None, &out.proofs[1]).unwrap();
    }

    #[test]
    fn empty_tries_have_the_empty_root() {
        assert_eq!(storage_root([]), EMPTY_ROOT_HASH);
        assert_eq!(state_root([]), EMPTY_ROOT_HASH);
    }
}
