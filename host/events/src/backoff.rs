//! Exponential backoff between failed attempts.

use std::time::Duration;

/// The wait before attempt `failures + 1` after `failures` consecutive failures: `initial`
/// doubled per further failure, capped at `max`; zero before any failure.
pub(crate) fn delay(initial: Duration, max: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let factor = 1u32.checked_shl(failures - 1).unwrap_or(u32::MAX);
    initial.saturating_mul(factor).min(max)
}

/// Consecutive failures and the wait they call for.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// No failures yet.
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            failures: 0,
        }
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub(crate) fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        delay(self.initial, self.max, self.failures)
    }

    /// Records a success; returns how many failures preceded it.
    pub(crate) fn succeed(&mut self) -> u32 {
        std::mem::take(&mut self.failures)
    }

    /// The consecutive failures so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }
}
