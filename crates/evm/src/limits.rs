//! Bounds on RPC-driven execution: a wall-clock deadline per call (geth's `--rpc.evmtimeout`),
//! a process-wide cancel switch that shutdown trips, and a cap on interpreter steps (what the
//! struct logger records one entry per).
//!
//! revm has no external interrupt, so the bound is an inspector: it counts steps and, every
//! [`CHECK_EVERY`] steps, reads the clock and the cancel switch; past either it halts the
//! running frame and remembers why, so the caller reports the abort instead of the halt.

use revm::{
    inspector::Inspector,
    interpreter::{InstructionResult, Interpreter, InterpreterTypes},
};
use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

/// Steps between two reads of the clock (a read costs ~20 ns; a step ~5–50 ns).
const CHECK_EVERY: u64 = 1024;

/// Set once at shutdown: every bounded execution halts at its next check.
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Halts every running bounded execution (RPC calls, estimates, traces) at its next check, and
/// every later one at its first. Called once when the node shuts down.
pub fn cancel_all() {
    CANCELLED.store(true, Ordering::Relaxed);
}

/// Whether [`cancel_all`] was called.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::Relaxed)
}

/// Why a bounded execution was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abort {
    /// The deadline passed.
    Timeout(Duration),
    /// The node is shutting down.
    Shutdown,
    /// More interpreter steps than allowed.
    Steps(u64),
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // geth's wording.
            Self::Timeout(t) => write!(f, "execution aborted (timeout = {}s)", t.as_secs_f64()),
            Self::Shutdown => f.write_str("execution aborted (the node is shutting down)"),
            Self::Steps(n) => write!(f, "execution aborted (more than {n} steps)"),
        }
    }
}

/// The inspector that enforces the bounds. Use it alone, or paired with a tracer as
/// `(&mut tracer, &mut limits)`.
#[derive(Debug, Clone)]
pub struct ExecLimits {
    started: Instant,
    timeout: Duration,
    max_steps: u64,
    steps: u64,
    aborted: Option<Abort>,
}

impl ExecLimits {
    /// Bounds from now: `timeout` of wall time (zero: none) and `max_steps` (zero: none).
    pub fn new(timeout: Duration, max_steps: u64) -> Self {
        Self { started: Instant::now(), timeout, max_steps, steps: 0, aborted: None }
    }

    /// Why the execution was stopped, if it was.
    pub const fn aborted(&self) -> Option<Abort> {
        self.aborted
    }

    /// Checks the bounds before an execution starts (a call that waited for a permit may
    /// already be late) and between executions of one request (bisection, block replays).
    pub fn check(&mut self) -> Result<(), Abort> {
        if let Some(a) = self.aborted {
            return Err(a);
        }
        let abort = if cancelled() {
            Some(Abort::Shutdown)
        } else if !self.timeout.is_zero() && self.started.elapsed() >= self.timeout {
            Some(Abort::Timeout(self.timeout))
        } else {
            None
        };
        match abort {
            Some(a) => {
                self.aborted = Some(a);
                Err(a)
            }
            None => Ok(()),
        }
    }
}

impl<CTX, INTR: InterpreterTypes> Inspector<CTX, INTR> for ExecLimits {
    #[inline]
    fn step(&mut self, interp: &mut Interpreter<INTR>, _context: &mut CTX) {
        self.steps += 1;
        if self.max_steps != 0 && self.steps > self.max_steps {
            self.aborted = Some(Abort::Steps(self.max_steps));
        } else if self.steps.is_multiple_of(CHECK_EVERY) {
            let _ = self.check();
        }
        if self.aborted.is_some() {
            // Out of gas ends the frame the way revm's handler expects (a fatal external error
            // would panic in it); every frame up the stack halts at its next step too, and the
            // caller reports the abort, not the halt.
            interp.halt(InstructionResult::OutOfGas);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_in_the_past_aborts_and_stays_aborted() {
        let mut l = ExecLimits::new(Duration::from_nanos(1), 0);
        std::thread::sleep(Duration::from_millis(1));
        assert_eq!(l.check(), Err(Abort::Timeout(Duration::from_nanos(1))));
        assert!(l.aborted().is_some());
        let mut none = ExecLimits::new(Duration::ZERO, 0);
        assert_eq!(none.check(), Ok(()));
    }

    #[test]
    fn messages_follow_geth() {
        assert_eq!(
            Abort::Timeout(Duration::from_secs(5)).to_string(),
            "execution aborted (timeout = 5s)"
        );
    }
}
