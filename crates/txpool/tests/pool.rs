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
    Pool::new(PoolConfig { max_txs: 1000, ..PoolConfig::dev(CHAIN, 30_000_000) })
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

fn production(max_txs: usize) -> Pool {
    Pool::new(PoolConfig { max_txs, ..PoolConfig::production(CHAIN, 30_000_000) })
}

const GWEI2: u128 = 2_000_000_000;

#[test]
fn one_sender_gets_its_slots_and_no_more() {
    let p = production(1000);
    let s = &dev_signers(1)[0];
    // 16 executable (reth's and geth's slots), then refused in geth's words.
    for n in 0..16 {
        add(&p, &tx1559(s, n, GWEI2, 1, 21_000), rich()).unwrap();
    }
    let err = add(&p, &tx1559(s, 16, GWEI2, 1, 21_000), rich()).unwrap_err();
    assert!(err.to_string().starts_with("account limit exceeded"), "{err}");
    // 64 queued (geth's accountqueue) after a gap, then refused.
    for n in 100..164 {
        add(&p, &tx1559(s, n, GWEI2, 1, 21_000), rich()).unwrap();
    }
    let err = add(&p, &tx1559(s, 164, GWEI2, 1, 21_000), rich()).unwrap_err();
    assert!(matches!(err, PoolError::AccountLimit { kind: "queued", limit: 64, .. }), "{err}");
    assert_eq!(p.len(), 80);
    // A replacement is not a new slot.
    add(&p, &tx1559(s, 3, 3 * GWEI2, 100, 21_000), rich()).unwrap();
    // Another sender is unaffected.
    add(&p, &tx1559(&dev_signers(2)[1], 0, GWEI2, 1, 21_000), rich()).unwrap();
    // Without per-sender limits (the devnet) the same flood is taken.
    let dev = pool();
    for n in 0..100 {
        add(&dev, &tx1559(s, n, GWEI2, 1, 21_000), rich()).unwrap();
    }
}

#[test]
fn the_balance_must_cover_every_pending_transaction_of_the_sender() {
    let p = production(1000);
    let s = &dev_signers(1)[0];
    // Each costs 21,000 × 2 gwei + 1 wei; the balance covers two and a half.
    let one = 21_000u128 * GWEI2 + 1;
    let state = AccountState { nonce: 0, balance: U256::from(one * 5 / 2) };
    add(&p, &tx1559(s, 0, GWEI2, 1, 21_000), state).unwrap();
    add(&p, &tx1559(s, 1, GWEI2, 1, 21_000), state).unwrap();
    let err = add(&p, &tx1559(s, 2, GWEI2, 1, 21_000), state).unwrap_err();
    assert!(
        matches!(err, PoolError::InsufficientFunds { cost, .. } if cost == U256::from(3 * one)),
        "{err}"
    );
    assert_eq!(p.len(), 2);
    // Once nonce 0 is mined (the pool not told yet), its cost no longer counts: the balance
    // (what is left of it) covers nonces 1 and 2.
    let after = AccountState { nonce: 1, balance: U256::from(one * 5 / 2 - one) };
    assert!(add(&p, &tx1559(s, 2, GWEI2, 1, 21_000), after).is_err());
    let after = AccountState { nonce: 1, balance: U256::from(2 * one) };
    add(&p, &tx1559(s, 2, GWEI2, 1, 21_000), after).unwrap();
    // A newcomer below queued ones counts only what comes before it.
    let q = production(1000);
    let state = AccountState { nonce: 0, balance: U256::from(one * 5 / 2) };
    add(&q, &tx1559(s, 3, GWEI2, 1, 21_000), state).unwrap();
    add(&q, &tx1559(s, 4, GWEI2, 1, 21_000), state).unwrap();
    add(&q, &tx1559(s, 0, GWEI2, 1, 21_000), state).unwrap();
    add(&q, &tx1559(s, 1, GWEI2, 1, 21_000), state).unwrap();
    assert!(add(&q, &tx1559(s, 2, GWEI2, 1, 21_000), state).is_err());
}

#[test]
fn a_full_pool_evicts_queued_transactions_for_better_ones() {
    let p = production(20);
    let signers = dev_signers(6);
    // Five senders fill the pool with transactions that cannot run (nonce gaps).
    for s in &signers[..5] {
        for n in 1..5 {
            add(&p, &tx1559(s, n, GWEI2, 1, 21_000), rich()).unwrap();
        }
    }
    assert_eq!(p.len(), 20);
    // A sixth sender's executable transaction is admitted: a queued one makes room.
    let fresh = &signers[5];
    add(&p, &tx1559(fresh, 0, GWEI2, 1, 21_000), rich()).unwrap();
    assert_eq!(p.len(), 20);
    assert_eq!(p.best(1_000_000_000).len(), 1);
    // Another queued transaction at the same fee is not worth an eviction; a better one is.
    assert_eq!(add(&p, &tx1559(fresh, 7, GWEI2, 1, 21_000), rich()), Err(PoolError::Full));
    add(&p, &tx1559(fresh, 7, 2 * GWEI2, 1, 21_000), rich()).unwrap();
    assert_eq!(p.len(), 20);
}

#[test]
fn the_pool_is_bounded_in_bytes() {
    let txs: Vec<Bytes> = dev_signers(3).iter().map(|s| tx1559(s, 0, GWEI2, 1, 21_000)).collect();
    let total: usize = txs.iter().map(|t| t.len()).sum();
    let p = Pool::new(PoolConfig {
        max_bytes: total + 50,
        ..PoolConfig::production(CHAIN, 30_000_000)
    });
    for tx in &txs {
        add(&p, tx, rich()).unwrap();
    }
    assert_eq!(p.bytes(), total);
    let fourth = &dev_signers(4)[3];
    assert_eq!(add(&p, &tx1559(fourth, 0, GWEI2, 1, 21_000), rich()), Err(PoolError::Full));
    // Paying more evicts the cheapest executable tail.
    add(&p, &tx1559(fourth, 0, 3 * GWEI2, 1, 21_000), rich()).unwrap();
    assert_eq!(p.len(), 3);
    p.on_new_nonces(dev_signers(4).iter().map(|s| (s.address(), 1)));
    assert_eq!((p.len(), p.bytes()), (0, 0));
}

#[test]
fn queued_transactions_expire() {
    let p = Pool::new(PoolConfig {
        queued_lifetime: std::time::Duration::from_millis(50),
        ..PoolConfig::production(CHAIN, 30_000_000)
    });
    let s = &dev_signers(1)[0];
    add(&p, &tx1559(s, 0, GWEI2, 1, 21_000), rich()).unwrap();
    add(&p, &tx1559(s, 5, GWEI2, 1, 21_000), rich()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(80));
    assert_eq!(p.evict_stale(), 1, "only the queued one expires");
    assert_eq!(p.len(), 1);
}
