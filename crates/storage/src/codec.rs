//! Fixed-width encodings of keys and values.

use crate::error::{StorageResult, corrupt};
use alloy_primitives::{Address, B256, U256};
use revm::state::AccountInfo;

pub(crate) const ACCOUNT_LEN: usize = 72;
pub(crate) const HASHED_ACCOUNT_LEN: usize = 104;

pub(crate) fn num(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub(crate) fn decode_num(table: &'static str, b: &[u8]) -> StorageResult<u64> {
    let arr: [u8; 8] = b.try_into().map_err(|_| corrupt(table, "number is not 8 bytes"))?;
    Ok(u64::from_be_bytes(arr))
}

pub(crate) fn decode_b256(table: &'static str, b: &[u8]) -> StorageResult<B256> {
    B256::try_from(b).map_err(|_| corrupt(table, "hash is not 32 bytes"))
}

pub(crate) fn cat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    for p in parts {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    debug_assert_eq!(at, N);
    out
}

pub(crate) fn slot_key(addr: &Address, slot: &U256) -> [u8; 52] {
    cat(&[addr.as_slice(), &slot.to_be_bytes::<32>()])
}

pub(crate) fn encode_account(a: &AccountInfo) -> [u8; ACCOUNT_LEN] {
    cat(&[&a.nonce.to_be_bytes(), &a.balance.to_be_bytes::<32>(), a.code_hash.as_slice()])
}

pub(crate) fn decode_account(table: &'static str, b: &[u8]) -> StorageResult<AccountInfo> {
    if b.len() < ACCOUNT_LEN {
        return Err(corrupt(table, format!("account is {} bytes", b.len())));
    }
    let nonce = u64::from_be_bytes(b[..8].try_into().expect("8 bytes"));
    let balance = U256::from_be_slice(&b[8..40]);
    let code_hash = B256::from_slice(&b[40..72]);
    // `code: None` makes revm load the code by hash (the default carries empty code).
    Ok(AccountInfo { nonce, balance, code_hash, code: None, account_id: None })
}

pub(crate) fn encode_hashed_account(a: &AccountInfo, storage_root: &B256) -> [u8; 104] {
    cat(&[&encode_account(a), storage_root.as_slice()])
}

pub(crate) fn decode_hashed_account(b: &[u8]) -> StorageResult<(AccountInfo, B256)> {
    if b.len() != HASHED_ACCOUNT_LEN {
        return Err(corrupt(crate::tables::HASHED_ACCOUNTS, "wrong length"));
    }
    let info = decode_account(crate::tables::HASHED_ACCOUNTS, b)?;
    Ok((info, B256::from_slice(&b[72..104])))
}
