//! [`PluginRuntime`]: the one shared wasmtime engine, its linker, epoch ticker and cache.
//!
//! Engine settings and why:
//! - **Component model, Cranelift, synchronous calls.** `concurrency_support` is off: the async
//!   machinery made empty calls about 3x slower and plugins are pure functions that never wait.
//! - **Epoch interruption** for deadlines: a background thread increments the epoch every
//!   [`RuntimeConfig::epoch_tick`]; each call's store gets a deadline of enough ticks to cover
//!   [`RuntimeConfig::deadline`] and traps once it passes. Cheaper than fuel (a load and compare
//!   at loop headers and function entries) and measured in wall time, which is what a render
//!   budget is about.
//! - **Pooling allocator** sized by [`RuntimeConfig::max_concurrent_calls`]: instantiation reuses
//!   pre-reserved slots (memories are copy-on-write images), so a fresh instance per call costs
//!   microseconds. Linear memories are capped at [`RuntimeConfig::memory_limit`] both by the pool
//!   slot size and by a per-store limiter that records the hit for error reporting.
//! - **Warm slots reset in place** where the kernel has the `PAGEMAP_SCAN` ioctl (Linux 6.7+):
//!   after a call, the pages the plugin dirtied (up to [`MEMORY_KEEP_RESIDENT`] per memory) are
//!   copied back to their initial contents instead of being unmapped with `madvise`. The next
//!   call then takes no page faults and the host no TLB-shootdown interrupts: an empty call went
//!   from ~26 µs to ~9 µs and a single-node vLLM render from ~92 µs to ~60 µs on 2 vCPUs
//!   (`BENCHMARKS.md`). The cost is RSS: each warm slot keeps the pages it dirtied (tens of KiB
//!   for a vLLM render; see [`PluginRuntime::pool_stats`]), at most
//!   `max_concurrent_calls × MEMORY_KEEP_RESIDENT` in all.
//!   On older kernels (or where `/proc/self/pagemap` is unreadable) slots are unmapped as before;
//!   keeping memory resident without the scan would `memset` the whole region on every call,
//!   which measured slower than `madvise`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{
    Config, Enabled, Engine, EngineWeak, InstanceAllocationStrategy, PoolingAllocationConfig,
};

use crate::cache::{PrecompiledCache, sha256_hex};
use crate::config::RuntimeConfig;
use crate::error::PluginError;
use crate::sandbox::SandboxState;

/// Core instances, memories and tables one plugin component may have. Rust `wasm32-wasip2`
/// components have one memory and a handful of core instances (main module plus shims).
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 8;
const TABLE_ELEMENTS: usize = 100_000;
/// Dirty bytes of each linear memory reset in place (rather than unmapped) after a call, when the
/// kernel supports `PAGEMAP_SCAN`. A vLLM render dirties well under this.
pub const MEMORY_KEEP_RESIDENT: usize = 1 << 20;
/// Dirty bytes of each table reset in place after a call, under the same condition.
pub const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// The wasmtime engine and everything shared by all plugins of one runtime. Cheap to clone.
#[derive(Clone)]
pub struct PluginRuntime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<SandboxState>,
    pub(crate) config: RuntimeConfig,
    pub(crate) cache: PrecompiledCache,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// Creates the engine, the sandbox linker and the epoch ticker thread.
    ///
    /// The ticker holds only a weak reference to the engine and stops once the runtime and every
    /// plugin loaded from it are dropped.
    pub fn new(config: RuntimeConfig) -> Result<Self, PluginError> {
        let engine = Engine::new(&engine_config(&config)).map_err(|e| PluginError::Config {
            message: format!("{e:#}"),
        })?;
        let mut linker = Linker::new(&engine);
        crate::sandbox::add_to_linker(&mut linker)
            .and_then(|()| crate::bindings::add_to_linker(&mut linker))
            .map_err(|e| PluginError::Config {
                message: format!("cannot set up the plugin sandbox: {e:#}"),
            })?;
        spawn_ticker(engine.weak(), config.get_epoch_tick()).map_err(|e| PluginError::Config {
            message: format!("cannot start the epoch ticker thread: {e}"),
        })?;
        let cache = PrecompiledCache::new(config.get_cache_dir(), &engine);
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                cache,
            }),
        })
    }

    /// The configuration this runtime was created with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Where the precompiled artifact of component `wasm` is (or would be) cached, if caching is
    /// on. Its integrity digest sits beside it with a `.sha256` suffix.
    pub fn cache_artifact_path(&self, wasm: &[u8]) -> Option<PathBuf> {
        self.inner.cache.artifact_path(&sha256_hex(wasm))
    }

    /// A snapshot of the instance pool: live instances and the memory warm slots keep resident.
    pub fn pool_stats(&self) -> PoolStats {
        let Some(metrics) = self.inner.engine.pooling_allocator_metrics() else {
            return PoolStats::default();
        };
        PoolStats {
            live_instances: metrics.component_instances(),
            warm_memory_slots: metrics.unused_warm_memories(),
            resident_bytes: metrics.unused_memory_bytes_resident()
                + metrics.unused_table_bytes_resident(),
        }
    }

    /// Reads and loads the plugin component at `path` (see [`PluginRuntime::load`]).
    pub fn load_file(&self, path: &Path) -> Result<crate::LoadedPlugin, PluginError> {
        let wasm = std::fs::read(path).map_err(|e| PluginError::Load {
            plugin: path.display().to_string(),
            message: e.to_string(),
        })?;
        self.load(crate::PluginOrigin::File(path.to_owned()), &wasm)
    }
}

/// A snapshot of a runtime's instance pool ([`PluginRuntime::pool_stats`]), for metrics and
/// benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Plugin instances alive now, i.e. calls in progress.
    pub live_instances: u64,
    /// Memory slots that served a call and wait, warm, for the next one.
    pub warm_memory_slots: u32,
    /// Bytes of linear memory and tables that warm slots keep resident: the pages earlier calls
    /// dirtied, reset in place (at most [`MEMORY_KEEP_RESIDENT`] per memory; always 0 where the
    /// kernel lacks `PAGEMAP_SCAN`). Right after one call on an idle runtime, that call's
    /// footprint.
    pub resident_bytes: usize,
}

fn engine_config(config: &RuntimeConfig) -> Config {
    let calls = config.get_max_concurrent_calls().max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(calls)
        .total_core_instances(calls.saturating_mul(CORE_INSTANCES_PER_COMPONENT / 2))
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .total_memories(calls.saturating_mul(MEMORIES_PER_COMPONENT))
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .total_tables(calls.saturating_mul(TABLES_PER_COMPONENT))
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .table_elements(TABLE_ELEMENTS)
        .max_memory_size(config.get_memory_limit())
        // Plugins never run on fibers (no async), so reserve no async stacks.
        .total_stacks(0);
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
            .table_keep_resident(TABLE_KEEP_RESIDENT);
    }

    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .concurrency_support(false)
        .epoch_interruption(true)
        .parallel_compilation(true)
        .cranelift_opt_level(wasmtime::OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    cfg
}

fn spawn_ticker(engine: EngineWeak, tick: Duration) -> std::io::Result<()> {
    let tick = tick.max(Duration::from_micros(100));
    std::thread::Builder::new()
        .name("dynamo-plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(drop)
}
