//! The deny-all WASI sandbox every plugin call runs in.
//!
//! Components that Rust builds for `wasm32-wasip2` import WASI 0.2 interfaces even when the plugin
//! never uses them (the standard library needs stdio, clocks, random, environment). They are
//! provided by `wasmtime-wasi` (synchronous bindings) with a context that grants nothing:
//!
//! | interface                   | what the plugin gets                                             |
//! |-----------------------------|------------------------------------------------------------------|
//! | filesystem                  | no preopened directories: every path fails                        |
//! | environment, arguments, cwd | empty                                                            |
//! | sockets, name lookup        | TCP, UDP and DNS disabled; every address denied                  |
//! | stdin                       | closed                                                           |
//! | stdout, stderr              | captured in a bounded buffer (first bytes kept, the rest silently dropped, never an error); stderr appears in trap errors |
//! | wall clock                  | fixed at the Unix epoch                                          |
//! | monotonic clock             | fixed at 0; sleeping or waiting on a clock traps at once         |
//! | random, insecure random     | a fixed byte sequence; insecure seed fixed                       |
//! | exit                        | ends the call as a trap                                          |
//!
//! So a render depends only on its input: the same input gives the same output on every call,
//! every host and every run, and a plugin can neither read nor leak anything. Waiting on a clock
//! is refused rather than served because the host thread would block for the whole wait, beyond
//! the reach of the epoch deadline.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Result};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamError};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::config::RuntimeConfig;

/// The WASI clocks interface as `wasmtime-wasi` registers it in the linker.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";
/// Message of the trap raised when a plugin tries to wait on a clock.
pub(crate) const SLEEP_REFUSED: &str =
    "plugins may not sleep or wait on a clock (the sandbox clock is fixed)";

/// Bytes cycled by the sandbox's random generators: a fixed sequence, so renders are reproducible.
const RANDOM_BYTES: [u8; 32] = [
    0x64, 0x79, 0x6e, 0x61, 0x6d, 0x6f, 0x2d, 0x70, 0x6c, 0x75, 0x67, 0x69, 0x6e, 0x2d, 0x73, 0x61,
    0x6e, 0x64, 0x62, 0x6f, 0x78, 0x2d, 0x73, 0x65, 0x65, 0x64, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34,
];
/// The value of `wasi:random/insecure-seed`.
const INSECURE_SEED: u128 = 0x6479_6e61_6d6f_2d73_616e_6462_6f78_0001;

/// Per-call state of a plugin instance's store.
pub(crate) struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    stderr: CappedPipe,
}

impl SandboxState {
    /// A fresh deny-all context for one call.
    pub(crate) fn new(config: &RuntimeConfig) -> Self {
        let stderr = CappedPipe::new(config.get_output_capture());
        let stdout = CappedPipe::new(config.get_output_capture());
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout)
            .stderr(stderr.clone())
            .wall_clock(FixedWallClock)
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(wasmtime_wasi::Deterministic::new(RANDOM_BYTES.to_vec()))
            .insecure_random(wasmtime_wasi::Deterministic::new(RANDOM_BYTES.to_vec()))
            .insecure_random_seed(INSECURE_SEED)
            .max_random_size(64 << 10)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        Self {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(config.get_memory_limit()),
            stderr,
        }
    }

    /// What the plugin wrote to stderr so far (bounded, lossily decoded), without the Rust
    /// standard library's hint to set `RUST_BACKTRACE`, which a plugin cannot act on.
    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .lines()
            .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE=1`"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Adds the sandboxed WASI interfaces to `linker`, with clock waits replaced by a trap.
pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |_, (_,): (u64,)| -> Result<(Resource<DynPollable>,)> {
            Err(wasmtime::format_err!("{SLEEP_REFUSED}"))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |_, (_,): (u64,)| -> Result<(Resource<DynPollable>,)> {
            Err(wasmtime::format_err!("{SLEEP_REFUSED}"))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// A wall clock stopped at the Unix epoch.
struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// A monotonic clock that never advances.
struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// Caps the total linear memory of one instance (all its memories together) and remembers whether
/// the cap was hit, so an abort that follows a failed allocation is reported as out-of-memory
/// rather than as a generic trap.
///
/// wasmtime calls the limiter per memory (`current` is that memory's size, `0` when it is
/// created), so the limiter keeps the running total itself: a component with two memories gets
/// the same budget as one with a single memory.
pub(crate) struct MemoryLimiter {
    limit: usize,
    /// Bytes of all linear memories granted so far.
    total: usize,
    /// Elements of all tables granted so far.
    table_elements: usize,
    /// Set when a memory or table growth was refused.
    pub(crate) exhausted: bool,
}

impl MemoryLimiter {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            total: 0,
            table_elements: 0,
            exhausted: false,
        }
    }
}

/// Table elements a plugin instance may have across all its tables.
const TABLE_ELEMENT_LIMIT: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let total = self.total.saturating_sub(current).saturating_add(desired);
        let allowed = total <= self.limit && maximum.is_none_or(|max| desired <= max);
        if allowed {
            self.total = total;
        } else {
            self.exhausted = true;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> Result<()> {
        self.exhausted = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let total = self
            .table_elements
            .saturating_sub(current)
            .saturating_add(desired);
        let allowed = total <= TABLE_ELEMENT_LIMIT && maximum.is_none_or(|max| desired <= max);
        if allowed {
            self.table_elements = total;
        } else {
            self.exhausted = true;
        }
        Ok(allowed)
    }
}

/// A stdout or stderr that keeps the first `capacity` bytes and silently drops the rest.
///
/// `wasmtime-wasi`'s memory pipe fails the write once full, which traps a plugin that merely logs
/// a lot; here a chatty plugin keeps running and only its excess output is lost.
#[derive(Clone)]
pub(crate) struct CappedPipe {
    capacity: usize,
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl CappedPipe {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            buffer: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The bytes kept so far.
    pub(crate) fn contents(&self) -> Vec<u8> {
        self.buffer.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Keeps what fits of `bytes`; always "writes" all of them.
    fn keep(&self, bytes: &[u8]) {
        if let Ok(mut buffer) = self.buffer.lock() {
            let room = self.capacity.saturating_sub(buffer.len());
            buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }
}

/// Largest write a plugin may make at once: it only sizes the guest's chunks.
const PIPE_PERMIT: usize = 64 << 10;

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: bytes::Bytes) -> std::result::Result<(), StreamError> {
        self.keep(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> std::result::Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> std::result::Result<usize, StreamError> {
        Ok(PIPE_PERMIT)
    }
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.keep(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter as _;

    use super::*;

    #[test]
    fn the_memory_cap_holds_for_all_memories_together() {
        let mut limiter = MemoryLimiter::new(64 << 20);
        // Two memories of 40 MiB each: the second one does not fit.
        assert!(limiter.memory_growing(0, 40 << 20, None).expect("no trap"));
        assert!(!limiter.memory_growing(0, 40 << 20, None).expect("no trap"));
        assert!(limiter.exhausted);
        // Growing the first within the budget still works.
        let mut limiter = MemoryLimiter::new(64 << 20);
        assert!(limiter.memory_growing(0, 16 << 20, None).expect("no trap"));
        assert!(
            limiter
                .memory_growing(16 << 20, 48 << 20, None)
                .expect("no trap")
        );
        assert!(
            !limiter
                .memory_growing(48 << 20, 65 << 20, None)
                .expect("no trap")
        );
    }

    #[test]
    fn stdout_and_stderr_keep_the_first_bytes_and_never_fail() {
        let pipe = CappedPipe::new(8);
        let mut stream = pipe.clone();
        for _ in 0..100 {
            assert_eq!(stream.check_write().ok(), Some(PIPE_PERMIT));
            assert!(
                stream
                    .write(bytes::Bytes::from_static(b"0123456789"))
                    .is_ok()
            );
        }
        assert_eq!(pipe.contents(), b"01234567");
    }
}
