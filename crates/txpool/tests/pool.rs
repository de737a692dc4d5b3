//! Pool rules on real signed transactions (pure logic: no state but what the test passes in).

use agnt2_primitives::{TxEnvelope, dev_signers};
use agnt2_txpool::{AccountState, Pool, PoolConfig, PoolError, decode_and_recover};
use alloy_consensus::{SignableTransaction, Transaction, TxEip1559, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

const CHAIN: u64 = 80042;

fn pool() -> Pool {
    Pool::new(PoolConfig {
        chain_id: CHAIN,
        block_gas_limit: 30_000_000,
        max_txs: 1000,
        price_bump_percent: 10,
    })
}

fn tx1559(signer: &PrivateKeySigner, nonce: u64, max_fee: u128, tip: u128, gas: u64) -> Bytes {
    let tx = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(Address::with_last_byte(1)),
        value: U256::from(1),
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    TxEnvelope::Eip1559(tx.into_signed(sig)).encoded_2718().into()
}

fn rich() -> AccountState {
    AccountState { nonce: 0, balance: U256::from(10u128.pow(24)) }
}

fn add(p: &Pool, raw: &[u8], state: AccountState) -> Result<(), PoolError> {
    let (tx, hash) = decode_and_recover(raw, CHAIN)?;
    p.add(tx, hash, state, 1_000_000_000)
}

#[test]
fn out_of_order_nonces_are_promoted_when_the_gap_fills() {
    let p = pool();
    let s = &dev_signers(1)[0];
    for n in [3u64, 1, 2] {
        add(&p, &tx1559(s, n, 2_000_000_000, 1, 21_000), rich()).unwrap();
    }
    assert_eq!(p.best(1_000_000_000).len(), 0, "nonce 0 missing: nothing executable");
    assert_eq!(p.status().queued, 3);
    add(&p, &tx1559(s, 0, 2_000_000_000, 1, 21_000), rich()).unwrap();
    let nonces: Vec<u64> = p.best(1_000_000_000).iter().map(|t| t.nonce()).collect();
    assert_eq!(nonces, vec![0, 1, 2, 3]);
    assert_eq!(p.pending_nonce(s.address(), 0), 4);
    p.on_new_nonces([(s.address(), 2)]);
    assert_eq!(p.len(), 2);
    assert_eq!(p.best(1_000_000_000).first().unwrap().nonce(), 2);
}

#[test]
fn replacement_needs_a_fee_bump() {
    let p = pool();
    let s = &dev_signers(1)[0];
    add(&p, &tx1559(s, 0, 2_000_000_000, 100, 21_000), rich()).unwrap();
    let low = add(&p, &tx1559(s, 0, 2_100_000_000, 105, 21_000), rich());
    assert_eq!(low, Err(PoolError::ReplacementUnderpriced));
    add(&p, &tx1559(s, 0, 2_200_000_000, 110, 21_000), rich()).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p.best(1_000_000_000)[0].tx.max_fee_per_gas(), 2_200_000_000);
}

#[test]
fn clear_errors_for_bad_transactions() {
    let p = pool();
    let s = &dev_signers(1)[0];
    let raw = tx1559(s, 0, 2_000_000_000, 1, 21_000);
    let stale = AccountState { nonce: 5, ..rich() };
    assert_eq!(add(&p, &raw, stale), Err(PoolError::NonceTooLow { state: 5, tx: 0 }));
    let poor = AccountState { nonce: 0, balance: U256::from(1) };
    assert!(matches!(add(&p, &raw, poor), Err(PoolError::InsufficientFunds { .. })));
    let low_gas = tx1559(s, 0, 2_000_000_000, 1, 20_000);
    assert!(matches!(add(&p, &low_gas, rich()), Err(PoolError::IntrinsicGas { want: 21_000, .. })));
    let cheap = tx1559(s, 0, 10, 1, 21_000);
    assert!(matches!(add(&p, &cheap, rich()), Err(PoolError::FeeCapTooLow { .. })));
    let huge = tx1559(s, 0, 2_000_000_000, 1, 40_000_000);
    assert!(matches!(add(&p, &huge, rich()), Err(PoolError::GasLimit { .. })));
    add(&p, &raw, rich()).unwrap();
    assert!(matches!(add(&p, &raw, rich()), Err(PoolError::AlreadyKnown(_))));

    assert!(matches!(
        decode_and_recover(&raw, 1),
        Err(PoolError::ChainId { expected: 1, got: CHAIN })
    ));
    assert!(matches!(decode_and_recover(&[0x02, 0xc0], CHAIN), Err(PoolError::Decode(_))));
    assert!(matches!(
        decode_and_recover(&vec![0u8; 200_000], CHAIN),
        Err(PoolError::Oversized { .. })
    ));
    let mut bad_sig = raw.to_vec();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0xff;
    let r = decode_and_recover(&bad_sig, CHAIN);
    assert!(matches!(r, Err(PoolError::BadSignature)) || r.unwrap().0.signer() != s.address());
}

#[test]
fn unprotected_legacy_is_accepted_and_sender_recovered() {
    let s = &dev_signers(2)[1];
    let tx = TxLegacy {
        chain_id: None,
        nonce: 0,
        gas_price: 2_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(Address::ZERO),
        ..Default::default()
    };
    let sig = s.sign_hash_sync(&tx.signature_hash()).unwrap();
    let raw = TxEnvelope::Legacy(tx.into_signed(sig)).encoded_2718();
    let (rec, _) = decode_and_recover(&raw, CHAIN).unwrap();
    assert_eq!(rec.signer(), s.address());
}

#[test]
fn fee_order_across_senders() {
    let p = pool();
    let signers = dev_signers(3);
    for (i, s) in signers.iter().enumerate() {
        add(&p, &tx1559(s, 0, 3_000_000_000, (i as u128 + 1) * 100, 21_000), rich()).unwrap();
    }
    let order: Vec<Address> = p.best(1_000_000_000).iter().map(|t| t.sender()).collect();
    assert_eq!(order, vec![signers[2].address(), signers[1].address(), signers[0].address()]);
}

#[test]
fn fee_cap_below_the_base_fee_waits_with_its_successors() {
    let p = pool();
    let s = &dev_signers(1)[0];
    add(&p, &tx1559(s, 0, 2_000_000_000, 1, 21_000), rich()).unwrap();
    add(&p, &tx1559(s, 1, 9_000_000_000, 1, 21_000), rich()).unwrap();
    assert!(p.best(3_000_000_000).is_empty(), "nonce 0 cannot pay 3 gwei; nonce 1 waits for it");
    assert_eq!(p.best(1_500_000_000).len(), 2);
}
