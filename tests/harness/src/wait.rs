//! Polling a readiness check while watching the process that should become ready.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::process::Process;

/// How often readiness checks run.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Runs `check` until it returns `Ok`, failing early if `process` exits and after `timeout`.
///
/// `check` returns `Err(reason)` while not ready; the last reason ends up in the timeout error
/// together with the tail of the process's log.
pub(crate) async fn until_ready<T, F, Fut>(
    process: &Process,
    timeout: Duration,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    let mut last_check = "not checked yet".to_owned();
    loop {
        if let Some(status) = process.exit_status() {
            return Err(process.exited_error(status));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(process.not_ready_error(timeout, last_check));
        }
        // A single check may hang (e.g. a TCP connect); bound it by the remaining time.
        match tokio::time::timeout(remaining, check()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(reason)) => last_check = reason,
            Err(_) => last_check = "the check itself timed out".to_owned(),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
