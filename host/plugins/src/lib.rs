//! The plugin runtime: runs backend and launcher plugins as sandboxed WebAssembly components.
//!
//! This is the only crate that knows about wasmtime. Everything it takes and returns is a
//! [`dynamo_plugin_contract`] type, so the render pipeline, the controllers and the tests see
//! plain Rust values.
//!
//! ```no_run
//! use dynamo_plugin_runtime::{PluginRegistry, PluginRuntime, RuntimeConfig};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = PluginRuntime::new(RuntimeConfig::new())?;
//! let registry = PluginRegistry::load(&runtime, Some("/etc/dynamo/plugins".as_ref()))?;
//! let vllm = registry.by_framework("vllm").ok_or("no vllm plugin")?;
//! # let input = Default::default();
//! let output = vllm.render(&input)?; // a checked RenderOutput, or a typed PluginError
//! # Ok(()) }
//! ```
//!
//! # How a call runs
//! - One [`wasmtime::Engine`] per [`PluginRuntime`] ([`engine`]): component model, Cranelift,
//!   epoch interruption, pooling allocator, no async.
//! - Each plugin is compiled once ([`cache`]: precompiled artifacts on disk, keyed by plugin
//!   digest and engine compatibility hash, integrity-checked before loading), checked against
//!   the contract, and pre-linked into an `InstancePre` ([`plugin`]).
//! - Each call gets a fresh `Store` and instance in a deny-all WASI sandbox ([`sandbox`]) with a
//!   deadline (default 100 ms) and a memory cap (default 64 MiB) from [`RuntimeConfig`].
//! - A render's output is checked against an allow-list of what plugins may change, with
//!   capabilities granted per plugin, and against size and count limits ([`check`]).
//! - Every failure is a typed [`PluginError`] naming the plugin and component ([`error`]); the
//!   host never panics because a plugin misbehaved.
//! - Each plugin counts its calls, failures and durations in lock-free [`PluginStats`]
//!   ([`stats`]), which a metrics exporter reads at scrape time.
//!
//! # Supported contract versions
//! `dynamo:backend@0.3.0`, `@0.2.0` and `@0.1.0` (the `plugin` world). A 0.1.0 component declares
//! no capabilities; a 0.1.0 or 0.2.0 component is a Dynamo engine that reads only `nvidia.com/`
//! annotations and is not told the GPU resource name. A component built against any other
//! version is rejected with [`PluginError::VersionMismatch`].

mod bindings;
pub mod cache;
pub mod check;
pub mod config;
pub mod engine;
pub mod error;
pub mod plugin;
pub mod registry;
#[cfg(feature = "render")]
mod render_set;
pub mod sandbox;
pub mod stats;

pub use cache::CacheOutcome;
pub use config::{OutputLimits, RuntimeConfig};
pub use engine::{PluginRuntime, PoolStats};
pub use error::PluginError;
pub use plugin::{LoadedPlugin, PluginOrigin};
pub use registry::{Overridden, PluginRegistry, RegistryBuilder, Rejected};
pub use stats::{CallKind, CallSnapshot, PluginStats, StatsSnapshot};

pub use dynamo_plugin_contract as contract;
