//! Publisher ids: random per publisher start, without a random-number crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Publishers started so far in this process.
static STARTED: AtomicU64 = AtomicU64::new(0);

/// A new publisher id: 16 lowercase hex digits.
///
/// The wall clock in nanoseconds, the process id and a per-process counter go through std's
/// `RandomState`, whose keys are random per process; the counter keeps two publishers of one
/// process apart even within one clock tick, and the random keys keep processes apart even with
/// equal clocks and pids (containers restarting as pid 1).
pub(crate) fn new_publisher_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(STARTED.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}
