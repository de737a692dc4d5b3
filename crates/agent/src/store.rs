//! Journaled access to the interaction trie with gas accounting.

use crate::{
    AGENT_STATE,
    gas::{self, Meter, OutOfGas},
    keys,
};
use alloy_evm::EvmInternals;
use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};

/// Why a call stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    OutOfGas,
    /// The journal failed (database error): fatal for the transaction.
    Fatal(String),
}

impl From<OutOfGas> for Stop {
    fn from(_: OutOfGas) -> Self {
        Self::OutOfGas
    }
}

/// The interaction trie as seen by one precompile call.
pub(crate) struct Store<'a, 'b> {
    pub(crate) internals: &'a mut EvmInternals<'b>,
    pub(crate) meter: Meter,
}

impl Store<'_, '_> {
    pub(crate) fn load(&mut self, slot: U256) -> Result<U256, Stop> {
        // The state account is touched so that its storage is in the journal.
        let r = self.internals.sload(AGENT_STATE, slot).map_err(|e| Stop::Fatal(e.to_string()))?;
        self.meter.charge(if r.is_cold { gas::COLD_SLOAD } else { gas::WARM_SLOAD })?;
        Ok(r.data)
    }

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

    pub(crate) fn load_address(&mut self, slot: U256) -> Result<Address, Stop> {
        Ok(Address::from_word(B256::from(self.load(slot)?)))
    }

    pub(crate) fn store_address(&mut self, slot: U256, a: Address) -> Result<(), Stop> {
        self.store(slot, U256::from_be_slice(a.as_slice()))
    }

    /// Reads a byte string stored with Solidity's layout under `base`.
    pub(crate) fn load_bytes(&mut self, base: U256) -> Result<Bytes, Stop> {
        let len = self.load(base)?;
        let len = usize::try_from(len).map_err(|_| Stop::Fatal("corrupt length".into()))?;
        let first = keys::data_slot(base);
        let mut out = Vec::with_capacity(len);
        for i in 0..len.div_ceil(32) {
            let word = self.load(first.wrapping_add(U256::from(i)))?;
            out.extend_from_slice(&word.to_be_bytes::<32>());
        }
        out.truncate(len);
        Ok(out.into())
    }

    /// Writes a byte string under `base`, clearing words a longer old value used.
    pub(crate) fn store_bytes(&mut self, base: U256, data: &[u8]) -> Result<(), Stop> {
        let old_len = usize::try_from(self.load(base)?).unwrap_or(0);
        self.store(base, U256::from(data.len()))?;
        let first = keys::data_slot(base);
        let words = data.len().div_ceil(32);
        for (i, chunk) in data.chunks(32).enumerate() {
            let mut w = [0u8; 32];
            w[..chunk.len()].copy_from_slice(chunk);
            self.store(first.wrapping_add(U256::from(i)), U256::from_be_bytes(w))?;
        }
        for i in words..old_len.div_ceil(32) {
            self.store(first.wrapping_add(U256::from(i)), U256::ZERO)?;
        }
        Ok(())
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
