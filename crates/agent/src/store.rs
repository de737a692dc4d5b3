//! Access to the interaction trie: a read trait shared by the precompiles (journaled, metered)
//! and by RPC views (any state, any block), and the journaled writer the precompiles use.

use crate::{
    AGENT_STATE,
    gas::{self, Meter, OutOfGas},
    keys::{self, Kind},
};
use alloy_evm::EvmInternals;
use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};

/// Byte strings longer than this in the trie are treated as corrupt (no precompile writes one:
/// calldata is bounded far below it).
const MAX_BYTES: usize = 1 << 24;

/// Word reads from the interaction trie.
pub trait Slots {
    /// What a read can fail with.
    type Error;

    /// The word at `slot`.
    fn word(&mut self, slot: U256) -> Result<U256, Self::Error>;

    /// An error for a value no precompile writes.
    fn corrupt(what: &str) -> Self::Error;

    /// The address in the low 20 bytes of the word at `slot`.
    fn address(&mut self, slot: U256) -> Result<Address, Self::Error> {
        Ok(Address::from_word(B256::from(self.word(slot)?)))
    }

    /// A byte string stored with Solidity's layout under `base`: up to 31 bytes in the slot
    /// itself (data left-aligned, `2 × length` in the last byte); longer ones as `2 × length +
    /// 1` in the slot and the data from `keccak256(base)` on.
    fn bytes(&mut self, base: U256) -> Result<Vec<u8>, Self::Error> {
        let head = self.word(base)?;
        let raw = head.to_be_bytes::<32>();
        if !head.bit(0) {
            let len = usize::from(raw[31] / 2);
            if len > 31 {
                return Err(Self::corrupt("short byte string"));
            }
            return Ok(raw[..len].to_vec());
        }
        let len = usize::try_from(head >> 1usize)
            .ok()
            .filter(|l| (32..=MAX_BYTES).contains(l))
            .ok_or_else(|| Self::corrupt("byte string length"))?;
        let first = keys::data_slot(base);
        let mut out = Vec::with_capacity(len);
        for i in 0..len.div_ceil(32) {
            out.extend_from_slice(
                &self.word(first.wrapping_add(U256::from(i)))?.to_be_bytes::<32>(),
            );
        }
        out.truncate(len);
        Ok(out)
    }

    /// A UTF-8 string (lossy) stored like [`Slots::bytes`].
    fn string(&mut self, base: U256) -> Result<String, Self::Error> {
        Ok(String::from_utf8_lossy(&self.bytes(base)?).into_owned())
    }

    /// The entries of the list of `kind` under `id` (length at no subkey, entry `i` at subkey
    /// `be32(i)`).
    fn list(&mut self, kind: Kind, id: U256) -> Result<Vec<U256>, Self::Error> {
        let n = self.word(keys::slot(kind, id, &[]))?;
        let n = u32::try_from(n).map_err(|_| Self::corrupt("list length"))?;
        (0..n).map(|i| self.word(keys::list_slot(kind, id, u64::from(i)))).collect()
    }
}

/// Why a call stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    OutOfGas,
    /// The journal failed (database error) or the trie holds a value no precompile writes:
    /// fatal for the transaction.
    Fatal(String),
}

impl From<OutOfGas> for Stop {
    fn from(_: OutOfGas) -> Self {
        Self::OutOfGas
    }
}

/// The interaction trie as seen by one precompile call: journaled, metered.
pub(crate) struct Store<'a, 'b> {
    pub(crate) internals: &'a mut EvmInternals<'b>,
    pub(crate) meter: Meter,
}

impl Slots for Store<'_, '_> {
    type Error = Stop;

    fn word(&mut self, slot: U256) -> Result<U256, Stop> {
        let r = self.internals.sload(AGENT_STATE, slot).map_err(|e| Stop::Fatal(e.to_string()))?;
        self.meter.charge(if r.is_cold { gas::COLD_SLOAD } else { gas::WARM_SLOAD })?;
        Ok(r.data)
    }

    fn corrupt(what: &str) -> Stop {
        Stop::Fatal(format!("corrupt {what} in the interaction trie"))
    }
}

impl Store<'_, '_> {
    pub(crate) fn store(&mut self, slot: U256, value: U256) -> Result<(), Stop> {
        let r = self
            .internals
            .sstore(AGENT_STATE, slot, value)
            .map_err(|e| Stop::Fatal(e.to_string()))?;
        let d = &r.data;
        let mut cost = if d.new_value == d.present_value {
            gas::WARM_SLOAD
        } else if d.present_value == d.original_value {
            if d.original_value.is_zero() { gas::SSTORE_SET } else { gas::SSTORE_RESET }
        } else {
            gas::WARM_SLOAD
        };
        if r.is_cold {
            cost += gas::COLD_SLOAD;
        }
        self.meter.charge(cost)?;
        Ok(())
    }

    pub(crate) fn store_address(&mut self, slot: U256, a: Address) -> Result<(), Stop> {
        self.store(slot, U256::from_be_slice(a.as_slice()))
    }

    /// Writes a byte string under `base` in Solidity's layout (see [`Slots::bytes`]), clearing
    /// the data words a longer old value used.
    pub(crate) fn store_bytes(&mut self, base: U256, data: &[u8]) -> Result<(), Stop> {
        let head = self.word(base)?;
        let old_words = if head.bit(0) {
            usize::try_from(head >> 1usize).unwrap_or(0).min(MAX_BYTES).div_ceil(32)
        } else {
            0
        };
        let first = keys::data_slot(base);
        let words = if data.len() <= 31 {
            let mut w = [0u8; 32];
            w[..data.len()].copy_from_slice(data);
            w[31] = (data.len() * 2) as u8;
            self.store(base, U256::from_be_bytes(w))?;
            0
        } else {
            self.store(base, U256::from(data.len() * 2 + 1))?;
            for (i, chunk) in data.chunks(32).enumerate() {
                let mut w = [0u8; 32];
                w[..chunk.len()].copy_from_slice(chunk);
                self.store(first.wrapping_add(U256::from(i)), U256::from_be_bytes(w))?;
            }
            data.len().div_ceil(32)
        };
        for i in words..old_words {
            self.store(first.wrapping_add(U256::from(i)), U256::ZERO)?;
        }
        Ok(())
    }

    /// Appends `value` to the list of `kind` under `id`; returns its 1-based position.
    pub(crate) fn list_push(&mut self, kind: Kind, id: U256, value: U256) -> Result<u64, Stop> {
        let len_slot = keys::slot(kind, id, &[]);
        let n: u64 = self.word(len_slot)?.saturating_to();
        self.store(keys::list_slot(kind, id, n), value)?;
        self.store(len_slot, U256::from(n + 1))?;
        Ok(n + 1)
    }

    /// Removes the entry at 1-based `pos` from the list of `kind` under `id` by moving the last
    /// entry into its place; returns the moved entry (now at `pos`), if one moved.
    pub(crate) fn list_remove(
        &mut self,
        kind: Kind,
        id: U256,
        pos: u64,
    ) -> Result<Option<U256>, Stop> {
        let len_slot = keys::slot(kind, id, &[]);
        let n: u64 = self.word(len_slot)?.saturating_to();
        if pos == 0 || pos > n {
            return Err(Self::corrupt("list position"));
        }
        let last_slot = keys::list_slot(kind, id, n - 1);
        let moved = if pos < n {
            let last = self.word(last_slot)?;
            self.store(keys::list_slot(kind, id, pos - 1), last)?;
            Some(last)
        } else {
            None
        };
        self.store(last_slot, U256::ZERO)?;
        self.store(len_slot, U256::from(n - 1))?;
        Ok(moved)
    }

    /// Emits a log from `emitter`.
    pub(crate) fn log(
        &mut self,
        emitter: Address,
        topics: Vec<B256>,
        data: Bytes,
    ) -> Result<(), Stop> {
        self.meter.charge(
            gas::LOG + gas::LOG_TOPIC * topics.len() as u64 + gas::LOG_BYTE * data.len() as u64,
        )?;
        self.internals.log(Log { address: emitter, data: LogData::new_unchecked(topics, data) });
        Ok(())
    }
}
