//! Differential property test: random blocks built by the parallel builder and by the
//! sequential builder in the same candidate order are identical — transactions, skips,
//! receipts, gas and every state change.
//!
//! The state is the devnet genesis in memory plus a few hand-assembled contracts that make
//! conflicts on purpose: a counter keyed by calldata (hot spots), a value forwarder (balances of
//! other senders), a reverter, an infinite loop (out of gas), a reader of the sequencer fee
//! vault's balance (fee-credit observation), and calls to the agent registry (one hot id
//! counter). Senders repeat, nonces skip and repeat, fee caps fall below the base fee, some
//! senders cannot pay. `PARALLEL_CASES` sets the number of cases (default 1500).

use agnt2_builder::{
    BlockBuilder, BuildContext, ExecutedBlock, ParallelBuilder, SequentialBuilder,
};
use agnt2_evm::{BlockEnvInput, EvmConfig, PendingState};
use agnt2_primitives::{
    ChainSpec, L1BlockAttributes, TxEnvelope, constants::SEQUENCER_FEE_VAULT, dev_signers,
};
use agnt2_txpool::PooledTx;
use alloy_consensus::{SignableTransaction, TxEip1559, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use revm::{DatabaseRef, bytecode::Bytecode, primitives::KECCAK_EMPTY, state::AccountInfo};
use std::{convert::Infallible, sync::Arc};

/// Nothing before genesis.
#[derive(Debug, Clone, Copy)]
struct Empty;

impl DatabaseRef for Empty {
    type Error = Infallible;
    fn basic_ref(&self, _: Address) -> Result<Option<AccountInfo>, Infallible> {
        Ok(None)
    }
    fn code_by_hash_ref(&self, _: B256) -> Result<Bytecode, Infallible> {
        Ok(Bytecode::default())
    }
    fn storage_ref(&self, _: Address, _: U256) -> Result<U256, Infallible> {
        Ok(U256::ZERO)
    }
    fn block_hash_ref(&self, n: u64) -> Result<B256, Infallible> {
        Ok(keccak256(n.to_be_bytes()))
    }
}

const COUNTER: Address = address!("0x00000000000000000000000000000000000c0001");
const FORWARDER: Address = address!("0x00000000000000000000000000000000000c0002");
const REVERTER: Address = address!("0x00000000000000000000000000000000000c0003");
const LOOPER: Address = address!("0x00000000000000000000000000000000000c0004");
const VAULT_READER: Address = address!("0x00000000000000000000000000000000000c0005");
const IDENTITY: Address = address!("0x0000000000000000000000000000000000008004");

fn contracts() -> Vec<(Address, Vec<u8>)> {
    // storage[calldata[0..32]] += 1
    let counter = vec![0x60, 0x00, 0x35, 0x80, 0x54, 0x60, 0x01, 0x01, 0x90, 0x55, 0x00];
    // CALL(gas, calldata[0..32], callvalue, 0, 0, 0, 0)
    let forwarder = vec![
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x34, 0x60, 0x00, 0x35, 0x5a, 0xf1, 0x50,
        0x00,
    ];
    let reverter = vec![0x60, 0x00, 0x60, 0x00, 0xfd];
    let looper = vec![0x5b, 0x60, 0x00, 0x56];
    // storage[0] = BALANCE(sequencer fee vault)
    let mut vault_reader = vec![0x73];
    vault_reader.extend_from_slice(SEQUENCER_FEE_VAULT.as_slice());
    vault_reader.extend_from_slice(&[0x31, 0x60, 0x00, 0x55, 0x00]);
    vec![
        (COUNTER, counter),
        (FORWARDER, forwarder),
        (REVERTER, reverter),
        (LOOPER, looper),
        (VAULT_READER, vault_reader),
    ]
}

fn genesis(spec: &ChainSpec) -> PendingState<Empty> {
    let mut state = PendingState::new(Empty);
    for (address, acc) in &spec.genesis.alloc {
        let (code_hash, code) = match &acc.code {
            Some(c) if !c.is_empty() => (keccak256(c), Some(Bytecode::new_raw(c.clone()))),
            _ => (KECCAK_EMPTY, None),
        };
        state.set_account(
            *address,
            AccountInfo {
                balance: acc.balance,
                nonce: acc.nonce.unwrap_or_default(),
                code_hash,
                code,
                ..Default::default()
            },
        );
        for (k, v) in acc.storage.iter().flatten() {
            state.set_storage(*address, (*k).into(), (*v).into());
        }
    }
    for (address, code) in contracts() {
        let code = Bytes::from(code);
        state.set_account(
            address,
            AccountInfo {
                code_hash: keccak256(&code),
                code: Some(Bytecode::new_raw(code)),
                nonce: 1,
                ..Default::default()
            },
        );
    }
    state
}

/// xorshift64*: deterministic randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn word(v: u64) -> Vec<u8> {
    U256::from(v).to_be_bytes::<32>().to_vec()
}

fn sign(signer: &PrivateKeySigner, tx: TxEip1559) -> Arc<PooledTx> {
    let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env = TxEnvelope::Eip1559(tx.into_signed(sig));
    let hash = env.tx_hash();
    Arc::new(PooledTx { tx: Recovered::new_unchecked(env, signer.address()), hash })
}

/// A random block's candidates.
fn workload(
    rng: &mut Rng,
    signers: &[PrivateKeySigner],
    poor: &[PrivateKeySigner],
    base_fee: u64,
) -> Vec<Arc<PooledTx>> {
    let n = 1 + rng.below(90) as usize;
    let active = 1 + rng.below(signers.len() as u64) as usize;
    let hot_keys = 1 + rng.below(4);
    let mut nonces = vec![0u64; signers.len()];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let poor_sender = rng.chance(3);
        let s = rng.below(active as u64) as usize;
        let signer = if poor_sender { &poor[s % poor.len()] } else { &signers[s] };
        let mut nonce = if poor_sender { 0 } else { nonces[s] };
        if rng.chance(4) {
            nonce += 1; // a gap
        } else if rng.chance(3) && nonce > 0 {
            nonce -= 1; // already used
        }
        if !poor_sender {
            nonces[s] = nonces[s].max(nonce + 1);
        }
        let (to, input, value, gas): (Address, Vec<u8>, u64, u64) = match rng.below(9) {
            0 | 1 => {
                let key =
                    if rng.chance(60) { rng.below(hot_keys) } else { 1000 + rng.below(1 << 20) };
                (COUNTER, word(key), 0, 60_000)
            }
            2 => {
                let to = signers[rng.below(signers.len() as u64) as usize].address();
                let mut w = vec![0u8; 12];
                w.extend_from_slice(to.as_slice());
                (FORWARDER, w, rng.below(1_000_000_000), 80_000)
            }
            3 => (REVERTER, vec![], 0, 30_000),
            4 => (LOOPER, vec![], 0, 25_000 + rng.below(30_000)),
            5 => (VAULT_READER, vec![], 0, 60_000),
            6 => (IDENTITY, vec![0x1a, 0xa3, 0xa0, 0x08], 0, 200_000), // register()
            _ => (
                signers[rng.below(signers.len() as u64) as usize].address(),
                vec![],
                1 + rng.below(1 << 40),
                21_000,
            ),
        };
        let max_fee = if rng.chance(4) { base_fee as u128 / 2 } else { base_fee as u128 * 3 };
        out.push(sign(
            signer,
            TxEip1559 {
                chain_id: 80042,
                nonce,
                gas_limit: gas,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: rng.below(3) as u128 * 1_000_000,
                to: TxKind::Call(to),
                value: U256::from(value),
                input: input.into(),
                ..Default::default()
            },
        ));
    }
    out
}

/// The context of block 1 on the devnet genesis.
fn block_one(spec: &ChainSpec, prevrandao: B256) -> BuildContext {
    let parent = spec.genesis_header(B256::ZERO, B256::ZERO);
    BuildContext {
        parent: parent.clone(),
        parent_hash: parent.hash_slow(),
        env: BlockEnvInput {
            number: 1,
            timestamp: parent.timestamp + 2,
            beneficiary: SEQUENCER_FEE_VAULT,
            gas_limit: spec.gas_limit(),
            base_fee: spec.next_base_fee(&parent),
            prevrandao,
        },
        extra_data: spec.extra_data(),
        l1: L1BlockAttributes::dev(1, parent.timestamp + 2),
        sequence_number: 0,
        deposits: Vec::new(),
    }
}

fn assert_same(seq: &ExecutedBlock, par: &ExecutedBlock, case: u64) {
    let hashes = |b: &ExecutedBlock| b.txs.iter().map(|(_, t)| t.tx_hash()).collect::<Vec<_>>();
    assert_eq!(hashes(seq), hashes(par), "case {case}: included transactions");
    assert_eq!(seq.skipped, par.skipped, "case {case}: skipped");
    assert_eq!(seq.receipts.len(), par.receipts.len(), "case {case}: receipt count");
    for (i, (a, b)) in seq.receipts.iter().zip(&par.receipts).enumerate() {
        assert!(a == b, "case {case}: receipt {i} differs:\nsequential {a:?}\nparallel   {b:?}");
    }
    assert_eq!(seq.gas_used, par.gas_used, "case {case}: gas");
    assert_eq!(seq.da_footprint, par.da_footprint, "case {case}: DA footprint");
    if seq.changes != par.changes {
        let diff: Vec<_> = seq
            .changes
            .accounts
            .iter()
            .filter(|a| !par.changes.accounts.contains(a))
            .map(|(a, i)| (a, i.as_ref().map(|i| (i.balance, i.nonce))))
            .collect();
        panic!("case {case}: state changes differ; sequential accounts not in parallel: {diff:?}");
    }
}

#[test]
fn parallel_blocks_equal_sequential_blocks() {
    let spec = Arc::new(ChainSpec::devnet());
    let config = EvmConfig::new(spec.clone());
    let state = genesis(&spec);
    let signers = dev_signers(20);
    let poor: Vec<PrivateKeySigner> = (1..=4u8)
        .map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).expect("key"))
        .collect();
    let sequential = SequentialBuilder::new(config.clone());
    // One builder that keeps what it learned (hot keys) across cases, and fresh ones with 2–4
    // threads that speculate everything.
    let learned = ParallelBuilder::new(config.clone(), 2, 0);
    let cases: u64 =
        std::env::var("PARALLEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let parent = spec.genesis_header(B256::ZERO, B256::ZERO);
    let base_fee = spec.next_base_fee(&parent);
    let (mut reexecuted, mut speculative, mut direct, mut included) = (0, 0, 0, 0);
    for case in 0..cases {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (case + 1).wrapping_mul(0xff51_afd7_ed55_8ccd));
        let cands = workload(&mut rng, &signers, &poor, base_fee);
        let ctx = block_one(&spec, B256::repeat_byte(7));
        let seq = sequential.build(&state, ctx.clone(), &cands).expect("sequential build");
        let fresh;
        let parallel = if case % 2 == 0 {
            &learned
        } else {
            fresh = ParallelBuilder::new(config.clone(), 2 + (case as usize / 2) % 3, 0);
            &fresh
        };
        let par = parallel.build(&state, ctx, &cands).expect("parallel build");
        assert_same(&seq, &par, case);
        let stats = parallel.last_stats();
        reexecuted += stats.reexecuted;
        speculative += stats.committed_speculative;
        direct += stats.direct;
        included += seq.txs.len() - 1;
    }
    eprintln!(
        "{cases} cases: {included} included, {speculative} speculative, {reexecuted} re-executed, {direct} direct"
    );
    // The cases exercise both paths: speculation that holds and speculation that does not.
    assert!(
        speculative > 0 && reexecuted > 0,
        "speculative {speculative}, re-executed {reexecuted}"
    );
}

/// One block, both builders, asserted identical; the parallel builder's counters.
fn both(cands: &[Arc<PooledTx>]) -> agnt2_builder::ParallelStats {
    both_with(&ParallelBuilder::new(EvmConfig::new(Arc::new(ChainSpec::devnet())), 2, 0), cands)
}

/// [`both`] with a given parallel builder (which keeps what it learned).
fn both_with(parallel: &ParallelBuilder, cands: &[Arc<PooledTx>]) -> agnt2_builder::ParallelStats {
    let spec = Arc::new(ChainSpec::devnet());
    let config = EvmConfig::new(spec.clone());
    let state = genesis(&spec);
    let ctx = block_one(&spec, B256::ZERO);
    let seq = SequentialBuilder::new(config).build(&state, ctx.clone(), cands).unwrap();
    let par = parallel.build(&state, ctx, cands).unwrap();
    assert_same(&seq, &par, 0);
    assert_eq!(seq.txs.len(), cands.len() + 1, "every candidate included");
    parallel.last_stats()
}

fn call(signer: &PrivateKeySigner, nonce: u64, to: Address, input: Vec<u8>) -> Arc<PooledTx> {
    sign(
        signer,
        TxEip1559 {
            chain_id: 80042,
            nonce,
            gas_limit: 100_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000,
            to: TxKind::Call(to),
            input: input.into(),
            ..Default::default()
        },
    )
}

#[test]
fn a_fully_contended_block_is_correct() {
    // Twenty senders, 300 increments of one counter slot: every speculation but the first
    // conflicts until the key turns hot.
    let signers = dev_signers(20);
    let cands: Vec<_> =
        (0..300).map(|i| call(&signers[i % 20], (i / 20) as u64, COUNTER, word(7))).collect();
    let stats = both(&cands);
    assert!(stats.reexecuted + stats.direct > 250, "{stats:?}");
}

#[test]
fn one_long_dependency_chain_is_correct() {
    // One sender, 300 transactions in nonce order: one group, speculated in order.
    let signers = dev_signers(1);
    let cands: Vec<_> = (0..300)
        .map(|i| call(&signers[0], i as u64, COUNTER, word(1000 + (i % 3) as u64)))
        .collect();
    let stats = both(&cands);
    assert_eq!(stats.groups, 1, "{stats:?}");
}

#[test]
fn a_block_where_every_prediction_is_wrong_is_correct() {
    // Every transaction pays the next sender through the forwarder: nothing predicts it (no
    // shared sender, no access list), and each reads a balance its predecessor wrote.
    let signers = dev_signers(20);
    let cands: Vec<_> = (0..20)
        .map(|i| {
            let to = signers[(i + 1) % 20].address();
            let mut input = vec![0u8; 12];
            input.extend_from_slice(to.as_slice());
            sign(
                &signers[i],
                TxEip1559 {
                    chain_id: 80042,
                    nonce: 0,
                    gas_limit: 100_000,
                    max_fee_per_gas: 10_000_000_000,
                    max_priority_fee_per_gas: 1_000_000,
                    to: TxKind::Call(FORWARDER),
                    value: U256::from(10u128.pow(21)),
                    input: input.into(),
                    ..Default::default()
                },
            )
        })
        .collect();
    let stats = both(&cands);
    assert_eq!(stats.groups, 20, "{stats:?}");
}

#[test]
fn payments_to_one_account_turn_hot_like_calls_to_one_contract() {
    // Every transaction pays the same account: each speculation reads the balance the one
    // before wrote, so the recipient's key turns hot and the rest run directly at commit.
    let signers = dev_signers(20);
    let shop = Address::with_last_byte(0xbe);
    let cands: Vec<_> = (0..300)
        .map(|i| {
            sign(
                &signers[i % 20],
                TxEip1559 {
                    chain_id: 80042,
                    nonce: (i / 20) as u64,
                    gas_limit: 21_000,
                    max_fee_per_gas: 10_000_000_000,
                    max_priority_fee_per_gas: 1_000_000,
                    to: TxKind::Call(shop),
                    value: U256::from(1),
                    ..Default::default()
                },
            )
        })
        .collect();
    let parallel = ParallelBuilder::new(EvmConfig::new(Arc::new(ChainSpec::devnet())), 2, 0);
    let first = both_with(&parallel, &cands);
    let second = both_with(&parallel, &cands);
    // Once the speculations that got ahead have failed (how many is up to timing), the
    // recipient's key is hot and the next such block is built sequentially.
    if first.reexecuted >= 8 {
        assert!(second.sequential, "{first:?} then {second:?}");
    }
}
