use alloy_primitives::{Address, B256, Signature, U256, keccak256};
use secp256k1::{
    Message, SECP256K1,
    ecdsa::{RecoverableSignature, RecoveryId},
};

/// secp256k1n / 2: signatures with a larger `s` are malleable and rejected (EIP-2).
const HALF_N: U256 = U256::from_be_slice(&[
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// Recovers the signer of `hash` with libsecp256k1. `None` for an invalid or malleable
/// signature.
pub fn recover_sender(signature: &Signature, hash: B256) -> Option<Address> {
    if signature.s() > HALF_N {
        return None;
    }
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s().to_be_bytes::<32>());
    let id = RecoveryId::try_from(signature.v() as i32).ok()?;
    let sig = RecoverableSignature::from_compact(&compact, id).ok()?;
    let key = SECP256K1.recover_ecdsa(Message::from_digest(hash.0), &sig).ok()?;
    let uncompressed = key.serialize_uncompressed();
    Some(Address::from_slice(&keccak256(&uncompressed[1..])[12..]))
}
