//! Gas of the agent precompiles: a base per call plus what the storage work would cost in the
//! EVM (EIP-2929 cold/warm reads, EIP-2200 writes), and log costs.

/// Charged on every call (dispatch and ABI decoding).
pub(crate) const BASE: u64 = 200;
pub(crate) const COLD_SLOAD: u64 = 2_100;
pub(crate) const WARM_SLOAD: u64 = 100;
pub(crate) const SSTORE_SET: u64 = 20_000;
pub(crate) const SSTORE_RESET: u64 = 2_900;
pub(crate) const LOG: u64 = 375;
pub(crate) const LOG_TOPIC: u64 = 375;
pub(crate) const LOG_BYTE: u64 = 8;

/// A gas budget for one call.
#[derive(Debug)]
pub(crate) struct Meter {
    pub(crate) limit: u64,
    pub(crate) used: u64,
}

/// The call ran out of gas.
#[derive(Debug)]
pub(crate) struct OutOfGas;

impl Meter {
    pub(crate) const fn new(limit: u64) -> Self {
        Self { limit, used: 0 }
    }

    pub(crate) fn charge(&mut self, gas: u64) -> Result<(), OutOfGas> {
        self.used = self.used.saturating_add(gas);
        if self.used > self.limit { Err(OutOfGas) } else { Ok(()) }
    }
}
