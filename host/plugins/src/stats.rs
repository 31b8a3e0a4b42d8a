//! [`PluginStats`]: lock-free counters of one loaded plugin's calls, for metrics.
//!
//! Every [`crate::LoadedPlugin`] counts its calls by kind ([`CallKind`]), their outcomes and
//! their durations in a small fixed-bucket histogram. Recording is a handful of relaxed atomic
//! additions (no lock, no allocation), so it costs a call nothing measurable; a metrics
//! exporter reads a consistent-enough [`StatsSnapshot`] at scrape time. The runtime itself knows
//! nothing of Prometheus.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::PluginError;

/// Upper bounds (seconds) of the call-duration buckets; a last, unbounded bucket follows.
///
/// From 50 µs (an empty call on a warm instance) to 2.5 s (far past the default 100 ms
/// deadline, which a slow compile-on-first-use or a generous deadline can reach).
pub const DURATION_BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
    2.5,
];

/// Number of buckets, the unbounded one included.
const BUCKETS: usize = DURATION_BUCKETS.len() + 1;

/// What a plugin call was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallKind {
    /// `metadata`, called once when the plugin is loaded.
    Metadata,
    /// `render`: one pod template.
    Render,
    /// `validate`: admission checks of one component.
    Validate,
}

impl CallKind {
    /// Every kind, in a fixed order.
    pub const ALL: [CallKind; 3] = [CallKind::Metadata, CallKind::Render, CallKind::Validate];

    /// The kind as a metric label value: `metadata`, `render` or `validate`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Metadata => "metadata",
            CallKind::Render => "render",
            CallKind::Validate => "validate",
        }
    }

    fn index(self) -> usize {
        match self {
            CallKind::Metadata => 0,
            CallKind::Render => 1,
            CallKind::Validate => 2,
        }
    }
}

impl fmt::Display for CallKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The counters of one plugin; see the [module docs](self).
#[derive(Default)]
pub struct PluginStats {
    calls: [CallCounters; 3],
    errors: AtomicU64,
    timeouts: AtomicU64,
    traps: AtomicU64,
    out_of_memory: AtomicU64,
}

/// Counters of one kind of call.
#[derive(Default)]
struct CallCounters {
    count: AtomicU64,
    nanos: AtomicU64,
    /// Per-bucket (not cumulative) counts; the last is the unbounded bucket.
    buckets: [AtomicU64; BUCKETS],
}

// === impl PluginStats ===

impl PluginStats {
    /// Records one finished call of `kind` that took `elapsed`, failed with `error` if any.
    ///
    /// Every failure counts as an error; a timeout, a trap and running out of memory are also
    /// counted on their own (see [`StatsSnapshot`]).
    pub fn record(&self, kind: CallKind, elapsed: Duration, error: Option<&PluginError>) {
        let counters = &self.calls[kind.index()];
        counters.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        counters.nanos.fetch_add(nanos, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS - 1);
        counters.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let Some(error) = error else {
            return;
        };
        self.errors.fetch_add(1, Ordering::Relaxed);
        match error {
            PluginError::Timeout { .. } => {
                self.timeouts.fetch_add(1, Ordering::Relaxed);
            }
            PluginError::Trap { .. } => {
                self.traps.fetch_add(1, Ordering::Relaxed);
            }
            PluginError::OutOfMemory { .. } => {
                self.out_of_memory.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// The counters now. Each value is read atomically, the set of them is not: a call
    /// finishing during the read may be seen in one counter and not yet in another.
    pub fn snapshot(&self) -> StatsSnapshot {
        let calls = CallKind::ALL
            .iter()
            .map(|&kind| {
                let counters = &self.calls[kind.index()];
                let buckets = counters
                    .buckets
                    .iter()
                    .map(|b| b.load(Ordering::Relaxed))
                    .collect();
                CallSnapshot {
                    kind,
                    count: counters.count.load(Ordering::Relaxed),
                    duration: Duration::from_nanos(counters.nanos.load(Ordering::Relaxed)),
                    buckets,
                }
            })
            .collect();
        StatsSnapshot {
            calls,
            errors: self.errors.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            traps: self.traps.load(Ordering::Relaxed),
            out_of_memory: self.out_of_memory.load(Ordering::Relaxed),
        }
    }
}

impl fmt::Debug for PluginStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.snapshot(), f)
    }
}

/// A plugin's counters at one moment ([`PluginStats::snapshot`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StatsSnapshot {
    /// One entry per [`CallKind`], in [`CallKind::ALL`] order.
    pub calls: Vec<CallSnapshot>,
    /// Calls that failed, for any reason: the plugin's own error, a refused output, a trap, a
    /// timeout, running out of memory, or the runtime failing to run the call.
    pub errors: u64,
    /// Calls stopped at their deadline ([`PluginError::Timeout`]).
    pub timeouts: u64,
    /// Calls that crashed ([`PluginError::Trap`]: panic, `unreachable`, bad memory access,
    /// `exit`, a refused host call).
    pub traps: u64,
    /// Calls stopped at the memory cap ([`PluginError::OutOfMemory`]).
    pub out_of_memory: u64,
}

impl StatsSnapshot {
    /// The counters of calls of `kind`.
    pub fn call(&self, kind: CallKind) -> Option<&CallSnapshot> {
        self.calls.iter().find(|c| c.kind == kind)
    }

    /// Calls of every kind.
    pub fn total_calls(&self) -> u64 {
        self.calls.iter().map(|c| c.count).sum()
    }
}

/// The counters of one kind of call at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSnapshot {
    /// Which calls.
    pub kind: CallKind,
    /// How many finished (successful or not).
    pub count: u64,
    /// Their total duration.
    pub duration: Duration,
    /// How many fell in each bucket of [`DURATION_BUCKETS`] (not cumulative), then in the
    /// unbounded bucket: `DURATION_BUCKETS.len() + 1` entries.
    pub buckets: Vec<u64>,
}

impl CallSnapshot {
    /// `(upper bound in seconds, count)` per bucket, not cumulative, the last bound being
    /// `f64::INFINITY`: the shape metric encoders take.
    pub fn bucket_bounds(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        DURATION_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.buckets.iter().copied())
    }
}

#[cfg(test)]
mod tests;
