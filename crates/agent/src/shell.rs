//! The shell every agent precompile shares: base gas, ABI decoding with a clear revert, value
//! and write protection, and the mapping of an outcome to a precompile result.

use crate::{
    gas::{self, Meter},
    store::{Stop, Store},
};
use alloy_evm::precompiles::PrecompileInput;
use alloy_primitives::{Address, Bytes};
use alloy_sol_types::{SolEvent, SolInterface, SolValue};
use revm::precompile::{PrecompileError, PrecompileHalt, PrecompileOutput, PrecompileResult};

/// What a call answers.
pub(crate) enum Outcome {
    Return(Vec<u8>),
    Revert(String),
}

/// A revert with `msg` (prefixed with the precompile's name by [`run`]).
pub(crate) fn revert(msg: impl Into<String>) -> Result<Outcome, Stop> {
    Ok(Outcome::Revert(msg.into()))
}

/// The context of one call.
pub(crate) struct Ctx {
    /// `msg.sender`.
    pub(crate) caller: Address,
    /// Whether the call may write: a direct (not DELEGATECALL/CALLCODE, under which the
    /// precompile would act in the caller's context), non-static call.
    pub(crate) writable: bool,
}

impl Ctx {
    /// Fails unless the call may write.
    pub(crate) fn require_writable(&self) -> Result<(), String> {
        if self.writable {
            Ok(())
        } else {
            Err("state changes need a direct, non-static call".into())
        }
    }
}

/// Runs a precompile: `dispatch` gets the decoded call.
pub(crate) fn run<T: SolInterface>(
    mut input: PrecompileInput<'_>,
    name: &str,
    dispatch: fn(&mut Store<'_, '_>, T, &Ctx) -> Result<Outcome, Stop>,
) -> PrecompileResult {
    let reservoir = input.reservoir;
    let mut meter = Meter::new(input.gas);
    if meter.charge(gas::BASE).is_err() {
        return Ok(PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir));
    }
    let fail = |meter: &Meter, msg: &str| {
        Ok(PrecompileOutput::revert(meter.used, error_string(&format!("{name}: {msg}")), reservoir))
    };
    if !input.value.is_zero() {
        return fail(&meter, "does not accept value");
    }
    if input.data.len() < 4 {
        return fail(&meter, "calldata shorter than a selector");
    }
    let call = match T::abi_decode(input.data) {
        Ok(c) => c,
        Err(e) => return fail(&meter, &format!("malformed call: {e}")),
    };
    let ctx = Ctx { caller: input.caller, writable: !input.is_static && input.is_direct_call() };
    let mut store = Store { internals: &mut input.internals, meter };
    let result = dispatch(&mut store, call, &ctx);
    let used = store.meter.used;
    match result {
        Ok(Outcome::Return(bytes)) => Ok(PrecompileOutput::new(used, bytes.into(), reservoir)),
        Ok(Outcome::Revert(msg)) => {
            Ok(PrecompileOutput::revert(used, error_string(&format!("{name}: {msg}")), reservoir))
        }
        Err(Stop::OutOfGas) => Ok(PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir)),
        Err(Stop::Fatal(e)) => Err(PrecompileError::Fatal(e)),
    }
}

/// ABI of `Error(string)`.
pub(crate) fn error_string(msg: &str) -> Bytes {
    let mut out = vec![0x08, 0xc3, 0x79, 0xa0];
    out.extend_from_slice(&msg.to_string().abi_encode());
    out.into()
}

/// Emits `event` from `emitter`, metered.
pub(crate) fn emit(
    store: &mut Store<'_, '_>,
    emitter: Address,
    event: &impl SolEvent,
) -> Result<(), Stop> {
    let data = event.encode_log_data();
    store.log(emitter, data.topics().to_vec(), data.data.clone())
}

/// Early return of a revert from a `Result<_, String>` check.
macro_rules! check {
    ($e:expr) => {
        if let Err(msg) = $e {
            return $crate::shell::revert(msg);
        }
    };
}
pub(crate) use check;
