//! Polling a readiness check while watching the process that should become ready.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

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

/// One plain-HTTP `GET path` to `127.0.0.1:port` (HTTP/1.0, so the server closes the connection);
/// returns the status code and the body. For health endpoints served without TLS.
pub(crate) async fn http_get(port: u16, path: &str) -> std::result::Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connecting to 127.0.0.1:{port}: {e}"))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending GET {path}: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("reading GET {path}: {e}"))?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("GET {path}: no HTTP status line in {head:?}"))?;
    Ok((status, body.to_owned()))
}
