//! Following the L1: each confirmed L1 block becomes an *epoch* — its attributes (for the
//! L1-info deposit) and the portal's `TransactionDeposited` events as deposit transactions
//! (type 0x7E), in log order.
//!
//! Deposit rules (OP deposits spec): `sourceHash = keccak256(bytes32(0) ‖ keccak256(l1BlockHash
//! ‖ bytes32(logIndex)))`; `opaqueData = mint(32) ‖ value(32) ‖ gasLimit(8) ‖ isCreation(1) ‖
//! data`; `from` is the event's (the portal already aliased contract senders by
//! `+0x1111…1111`); never a system transaction.

use agnt2_client::Client;
use agnt2_primitives::{L1BlockAttributes, L1Epoch as Epoch};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_sol_types::SolEvent;
use eyre::{bail, eyre};
use op_alloy_consensus::TxDeposit;

alloy_sol_types::sol! {
    /// The portal's deposit event.
    #[derive(Debug)]
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);
    /// SystemConfig's update event (version 0).
    #[derive(Debug)]
    event ConfigUpdate(uint256 indexed version, uint8 indexed updateType, bytes data);
}

/// `ConfigUpdate`'s type for a new batcher (`batcherHash`).
const UPDATE_BATCHER: u8 = 0;

/// The batcher hash a SystemConfig `ConfigUpdate` log sets: `None` for other updates; an error
/// for a batcher update that is not version 0's `abi.encode(bytes32)` (op-node and kona halt
/// derivation on one).
pub fn batcher_update(log: &alloy_primitives::Log) -> eyre::Result<Option<B256>> {
    if log.topics().first() != Some(&ConfigUpdate::SIGNATURE_HASH) {
        return Ok(None);
    }
    let ev =
        ConfigUpdate::decode_log_data(&log.data).map_err(|e| eyre!("bad ConfigUpdate log: {e}"))?;
    if ev.updateType != UPDATE_BATCHER {
        return Ok(None);
    }
    if ev.version != U256::ZERO {
        bail!("ConfigUpdate version {} is not supported", ev.version);
    }
    let data: &[u8] = &ev.data;
    if data.len() != 32 || data[..12].iter().any(|b| *b != 0) {
        bail!("a batcher update must carry one address-sized bytes32, not {} bytes", data.len());
    }
    Ok(Some(B256::from_slice(data)))
}

/// The user-deposit source hash.
pub fn deposit_source_hash(l1_block_hash: B256, log_index: u64) -> B256 {
    let mut inner = [0u8; 64];
    inner[..32].copy_from_slice(l1_block_hash.as_slice());
    inner[56..].copy_from_slice(&log_index.to_be_bytes());
    let mut outer = [0u8; 64];
    outer[32..].copy_from_slice(keccak256(inner).as_slice());
    keccak256(outer)
}

/// The deposit transaction of a `TransactionDeposited` event (version 0).
pub fn deposit_from_event(
    from: Address,
    to: Address,
    version: U256,
    opaque: &[u8],
    l1_block_hash: B256,
    log_index: u64,
) -> eyre::Result<TxDeposit> {
    if version != U256::ZERO {
        bail!("unsupported deposit version {version}");
    }
    if opaque.len() < 73 {
        bail!("deposit data of {} bytes is shorter than 73", opaque.len());
    }
    let mint = U256::from_be_slice(&opaque[0..32]);
    let value = U256::from_be_slice(&opaque[32..64]);
    let mut gas = [0u8; 8];
    gas.copy_from_slice(&opaque[64..72]);
    let gas_limit = u64::from_be_bytes(gas);
    let is_creation = opaque[72] != 0;
    Ok(TxDeposit {
        source_hash: deposit_source_hash(l1_block_hash, log_index),
        from,
        to: if is_creation { TxKind::Create } else { TxKind::Call(to) },
        mint: u128::try_from(mint).map_err(|_| eyre!("mint {mint} does not fit 128 bits"))?,
        value,
        gas_limit,
        is_system_transaction: false,
        input: Bytes::copy_from_slice(&opaque[73..]),
    })
}

/// Polls an L1 for confirmed blocks and their deposits.
#[derive(Debug)]
pub struct L1Follower {
    l1: Client,
    portal: Address,
    depth: u64,
    next: u64,
    template: L1BlockAttributes,
    /// SystemConfig, whose batcher updates apply from the L1 block that carries them.
    system_config: Option<Address>,
    /// The newest block handed out (number, hash), to notice when the L1 reorganises it away.
    last: Option<(u64, B256)>,
    /// The next block's parent was not the block handed out last: the L1 reorganised (noticed
    /// while polling, so that a poll after a reorg cannot hide it by moving `last` onto the
    /// new chain).
    broken: bool,
}

impl L1Follower {
    /// Follows `l1` from block `next`, treating blocks `depth` below the head as confirmed, with
    /// the portal at `portal`. `template` gives the non-block fields of the L1 attributes
    /// (batcher hash, fee scalars).
    pub fn new(
        l1: Client,
        portal: Address,
        depth: u64,
        next: u64,
        template: L1BlockAttributes,
    ) -> Self {
        Self { l1, portal, depth, next, template, system_config: None, last: None, broken: false }
    }

    /// Applies SystemConfig's batcher updates (`setBatcherHash`): an epoch's attributes carry
    /// the batcher in effect after its L1 block's updates, as op-node's L1 traversal and
    /// attributes builder apply them.
    #[must_use]
    pub const fn with_system_config(mut self, system_config: Address) -> Self {
        self.system_config = Some(system_config);
        self
    }

    /// Starts again at block `next`, after `last` (the L1 origin kept after a reorg), with
    /// `batcher_hash` the batcher in effect before `next`.
    pub fn reset(&mut self, next: u64, last: Option<(u64, B256)>, batcher_hash: B256) {
        self.next = next;
        self.last = last;
        self.broken = false;
        self.template.batcher_hash = batcher_hash;
    }

    /// The batcher in effect after the newest block handed out.
    pub const fn batcher_hash(&self) -> B256 {
        self.template.batcher_hash
    }

    /// Whether the newest block handed out is no longer on the L1 (a reorg).
    pub fn reorged(&self) -> eyre::Result<bool> {
        if self.broken {
            return Ok(true);
        }
        match self.last {
            None => Ok(false),
            Some((n, h)) => Ok(self.block_hash(n)? != Some(h)),
        }
    }

    /// The next L1 block to adopt.
    pub const fn next(&self) -> u64 {
        self.next
    }

    /// The hash of L1 block `n` (none if the L1 does not have it).
    pub fn block_hash(&self, n: u64) -> eyre::Result<Option<B256>> {
        Ok(self.l1.header(n)?.map(|h| h.hash))
    }

    /// The confirmed blocks from the next one on (at most `max`), each with its deposits.
    pub fn poll(&mut self, max: u64) -> eyre::Result<Vec<Epoch>> {
        let head = self.l1.block_number()?;
        let Some(confirmed) = head.checked_sub(self.depth) else { return Ok(vec![]) };
        if confirmed < self.next {
            return Ok(vec![]);
        }
        let last = confirmed.min(self.next + max.max(1) - 1);
        let logs = self.l1.logs(self.portal, self.next, last)?;
        let config_logs = match self.system_config {
            Some(sc) => self.l1.logs(sc, self.next, last)?,
            None => Vec::new(),
        };
        let mut out = Vec::new();
        if self.broken {
            return Ok(out); // until the caller resets after the reorg
        }
        let mut read = self.next;
        for n in self.next..=last {
            let b = self.l1.header(n)?.ok_or_else(|| eyre!("L1 block {n} is missing"))?;
            let hash = b.hash;
            if let Some((prev, prev_hash)) = self.last
                && prev + 1 == n
                && b.parent_hash != prev_hash
            {
                self.broken = true;
                break;
            }
            let mut batcher_hash = self.template.batcher_hash;
            for log in config_logs.iter().filter(|l| l.block_hash == Some(hash)) {
                if let Some(b) = batcher_update(&log.inner)
                    .map_err(|e| e.wrap_err(format!("in L1 block {n}")))?
                {
                    batcher_hash = b;
                }
            }
            let attrs = L1BlockAttributes {
                number: n,
                timestamp: b.timestamp,
                base_fee: U256::from(b.base_fee_per_gas.unwrap_or_default()),
                blob_base_fee: U256::from(1u64),
                hash,
                batcher_hash,
                ..self.template
            };
            let mut deposits = Vec::new();
            for log in logs.iter().filter(|l| l.block_hash == Some(hash)) {
                if log.topics().first() != Some(&TransactionDeposited::SIGNATURE_HASH) {
                    continue;
                }
                let ev = TransactionDeposited::decode_log_data(&log.inner.data)
                    .map_err(|e| eyre!("bad TransactionDeposited in L1 block {n}: {e}"))?;
                let index =
                    log.log_index.ok_or_else(|| eyre!("a log of L1 block {n} has no index"))?;
                deposits.push(deposit_from_event(
                    ev.from,
                    ev.to,
                    ev.version,
                    &ev.opaqueData,
                    hash,
                    index,
                )?);
            }
            self.last = Some((n, hash));
            self.template.batcher_hash = batcher_hash;
            out.push(Epoch { attrs, deposits });
            read = n + 1;
        }
        self.next = read;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batcher_updates_are_read_from_config_update_logs() {
        let to_log = |ty: u8, data: Vec<u8>| {
            let ev = ConfigUpdate { version: U256::ZERO, updateType: ty, data: data.into() };
            alloy_primitives::Log { address: Address::ZERO, data: ev.encode_log_data() }
        };
        let batcher = B256::left_padding_from(Address::repeat_byte(0x42).as_slice());
        // setBatcherHash emits abi.encode(bytes32): the address in the low 20 bytes.
        assert_eq!(batcher_update(&to_log(0, batcher.to_vec())).unwrap(), Some(batcher));
        // Other updates (gas config, gas limit, …) are not the batcher's.
        assert_eq!(batcher_update(&to_log(1, vec![0; 64])).unwrap(), None);
        // A batcher update that is not an address, or of the wrong length, is refused.
        assert!(batcher_update(&to_log(0, B256::repeat_byte(1).to_vec())).is_err());
        assert!(batcher_update(&to_log(0, vec![0; 31])).is_err());
        // Not a ConfigUpdate at all.
        let other = alloy_primitives::Log {
            address: Address::ZERO,
            data: alloy_primitives::LogData::new_unchecked(vec![B256::ZERO], Default::default()),
        };
        assert_eq!(batcher_update(&other).unwrap(), None);
    }

    #[test]
    fn source_hash_and_opaque_data_follow_the_spec() {
        // keccak256(bytes32(0) ‖ keccak256(l1BlockHash ‖ bytes32(logIndex))), computed from the
        // definition with other code (abi encoding) than the function under test.
        let h = B256::repeat_byte(0xab);
        let inner = keccak256(alloy_sol_types::SolValue::abi_encode(&(h, U256::from(7))));
        let expected = keccak256(alloy_sol_types::SolValue::abi_encode(&(B256::ZERO, inner)));
        assert_eq!(deposit_source_hash(h, 7), expected);

        let mut opaque = Vec::new();
        opaque.extend_from_slice(&U256::from(5).to_be_bytes::<32>());
        opaque.extend_from_slice(&U256::from(3).to_be_bytes::<32>());
        opaque.extend_from_slice(&100_000u64.to_be_bytes());
        opaque.push(0);
        opaque.extend_from_slice(b"hi");
        let to = Address::with_last_byte(9);
        let d =
            deposit_from_event(Address::with_last_byte(1), to, U256::ZERO, &opaque, h, 7).unwrap();
        assert_eq!(
            (d.mint, d.value, d.gas_limit, d.to),
            (5, U256::from(3), 100_000, TxKind::Call(to))
        );
        assert_eq!(d.input.as_ref(), b"hi");
        assert!(!d.is_system_transaction);
        opaque[72] = 1;
        assert_eq!(
            deposit_from_event(Address::ZERO, to, U256::ZERO, &opaque, h, 7).unwrap().to,
            TxKind::Create
        );
        assert!(deposit_from_event(Address::ZERO, to, U256::from(1), &opaque, h, 7).is_err());
        assert!(deposit_from_event(Address::ZERO, to, U256::ZERO, &opaque[..72], h, 7).is_err());
    }
}
