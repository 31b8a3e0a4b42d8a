//! [`RuntimeConfig`]: limits, cache location, per-plugin capability grants.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dynamo_plugin_contract::Capability;

/// Default per-call deadline.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(100);
/// Default epoch tick (deadline resolution).
pub const DEFAULT_EPOCH_TICK: Duration = Duration::from_millis(5);
/// Default cap on all of a plugin instance's linear memories together: 64 MiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;
/// Default number of plugin instances that may be alive at once.
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 32;
/// Default bytes of a plugin's stdout and of its stderr kept for error messages.
pub const DEFAULT_OUTPUT_CAPTURE: usize = 4096;
/// Default cap on the bytes a call may return (pod template, extra objects and warnings).
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 1 << 20;
/// Default cap on warnings per render call (more are dropped, with a note).
pub const DEFAULT_MAX_WARNINGS: usize = 32;
/// Default cap on diagnostics per validate call (more are dropped, with a note).
pub const DEFAULT_MAX_DIAGNOSTICS: usize = 64;
/// Default cap on the bytes of one warning, diagnostic or error message (longer ones are cut).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024;
/// Default cap on extra objects per render call.
pub const DEFAULT_MAX_EXTRA_OBJECTS: usize = 16;
/// Default cap on the size of a plugin component.
pub const DEFAULT_MAX_COMPONENT_BYTES: usize = 64 << 20;
/// Default cap on the time compiling one plugin may take.
pub const DEFAULT_COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

/// Caps on what one plugin call may hand back to the host.
///
/// The defaults fit the built-in plugins many times over: a vLLM render returns about 6 KiB, the
/// MPI leader about 10 KiB, with at most one extra object and one warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLimits {
    /// Bytes a call may return in all (pod template, extra objects, warnings). Default 1 MiB.
    /// Enforced while wasmtime copies the result out of the plugin (hostcall fuel), so a larger
    /// output fails before the host has allocated it.
    pub max_output_bytes: usize,
    /// Warnings per render call; more are dropped with a note. Default 32.
    pub max_warnings: usize,
    /// Diagnostics per validate call; more are dropped with a note. Default 64.
    pub max_diagnostics: usize,
    /// Bytes of one warning, diagnostic or error message; longer text is cut. Default 1 KiB.
    pub max_message_bytes: usize,
    /// Extra objects per render call; more fail the call. Default 16.
    pub max_extra_objects: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            max_warnings: DEFAULT_MAX_WARNINGS,
            max_diagnostics: DEFAULT_MAX_DIAGNOSTICS,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_extra_objects: DEFAULT_MAX_EXTRA_OBJECTS,
        }
    }
}

/// Configuration of a [`crate::PluginRuntime`], built with chained setters.
///
/// ```
/// use std::time::Duration;
/// use dynamo_plugin_runtime::RuntimeConfig;
/// use dynamo_plugin_runtime::contract::Capability;
///
/// let config = RuntimeConfig::new()
///     .deadline(Duration::from_millis(250))
///     .memory_limit(128 << 20)
///     .cache_dir(Some("/var/cache/dynamo/plugins".into()))
///     .grant("my-backend", Capability::AddCapability("IPC_LOCK".into()));
/// assert_eq!(config.get_deadline(), Duration::from_millis(250));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    deadline: Duration,
    epoch_tick: Duration,
    memory_limit: usize,
    max_concurrent_calls: u32,
    cache_dir: Option<PathBuf>,
    output_capture: usize,
    output_limits: OutputLimits,
    max_component_bytes: usize,
    compile_timeout: Duration,
    grants: BTreeMap<String, BTreeSet<Capability>>,
    allow_builtin_override: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            deadline: DEFAULT_DEADLINE,
            epoch_tick: DEFAULT_EPOCH_TICK,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            max_concurrent_calls: DEFAULT_MAX_CONCURRENT_CALLS,
            cache_dir: Self::default_cache_dir(),
            output_capture: DEFAULT_OUTPUT_CAPTURE,
            output_limits: OutputLimits::default(),
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
            compile_timeout: DEFAULT_COMPILE_TIMEOUT,
            grants: BTreeMap::new(),
            allow_builtin_override: true,
        }
    }
}

impl RuntimeConfig {
    /// The defaults: 100 ms deadline, 64 MiB memory, cache in [`Self::default_cache_dir`],
    /// [`OutputLimits::default`], no capability granted to any directory plugin.
    pub fn new() -> Self {
        Self::default()
    }

    /// The default precompiled-cache directory: `$XDG_CACHE_HOME/dynamo-operator/plugins`, else
    /// `$HOME/.cache/dynamo-operator/plugins`, else none (no disk cache).
    ///
    /// It must be private to the operator's user: the cache verifies a digest before loading an
    /// artifact, which detects corruption but not a deliberate swap by someone who can write there.
    pub fn default_cache_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|home| Path::new(&home).join(".cache"))
            })?;
        Some(base.join("dynamo-operator").join("plugins"))
    }

    /// Wall-clock budget of one plugin call, instantiation included. Default 100 ms.
    ///
    /// A call is stopped between `deadline` and `deadline + epoch_tick` after it starts. Raising
    /// it tolerates slower plugins but lets a looping plugin hold a render thread longer.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// How often the background thread advances the engine epoch. Default 5 ms.
    ///
    /// The deadline's resolution: a shorter tick stops runaway plugins more precisely but wakes
    /// the ticker thread more often.
    pub fn epoch_tick(mut self, tick: Duration) -> Self {
        self.epoch_tick = tick;
        self
    }

    /// Cap on all linear memories of one plugin instance together, in bytes. Default 64 MiB.
    ///
    /// Growth past it fails inside the plugin (Rust plugins then abort, reported as
    /// [`crate::PluginError::OutOfMemory`]). Every concurrent call reserves a slot of this size
    /// per memory (virtual address space, committed only as used).
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// Number of plugin instances that may be alive at once across all plugins. Default 32.
    ///
    /// Sizes the pooling allocator: more slots allow more parallel renders but reserve more
    /// virtual address space up front. A call beyond it fails with [`crate::PluginError::Runtime`].
    pub fn max_concurrent_calls(mut self, calls: u32) -> Self {
        self.max_concurrent_calls = calls;
        self
    }

    /// Where precompiled plugins are cached; `None` disables the disk cache. Default
    /// [`Self::default_cache_dir`].
    ///
    /// With a warm cache a plugin loads in milliseconds instead of being compiled (about a
    /// second); the cost is disk space (a few MiB per plugin version).
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }

    /// Bytes of the plugin's stdout and of its stderr kept (first bytes win) for error messages.
    /// Default 4 KiB each; further output is dropped, never an error.
    pub fn output_capture(mut self, bytes: usize) -> Self {
        self.output_capture = bytes;
        self
    }

    /// Caps on what one call may return. Default [`OutputLimits::default`].
    pub fn output_limits(mut self, limits: OutputLimits) -> Self {
        self.output_limits = limits;
        self
    }

    /// Largest plugin component accepted, in bytes. Default 64 MiB: the built-ins are about
    /// 1.2 MiB, while components that carry an interpreter are larger (componentize-py about
    /// 18 MiB, componentize-js about 12 MiB).
    ///
    /// Compile time and memory grow with the component: a 31 MB component took 16 s and 665 MB
    /// to compile. Lower it when only small Rust plugins are expected.
    pub fn max_component_bytes(mut self, bytes: usize) -> Self {
        self.max_component_bytes = bytes;
        self
    }

    /// Longest time compiling one plugin may take before its load fails. Default 120 s: a
    /// Python component (componentize-py, about 18 MiB) takes 10 to 40 s on two busy cores.
    ///
    /// Cranelift cannot be interrupted: the compilation finishes on its own thread and its result
    /// is dropped, so this bounds how long a load waits, not the CPU it costs; the size cap
    /// ([`Self::max_component_bytes`]) bounds that.
    pub fn compile_timeout(mut self, timeout: Duration) -> Self {
        self.compile_timeout = timeout;
        self
    }

    /// Grants `capability` to the plugin named `plugin`. It takes effect only if the plugin also
    /// declares it. Built-in plugins get exactly what they declare without a grant.
    pub fn grant(mut self, plugin: impl Into<String>, capability: Capability) -> Self {
        self.grants
            .entry(plugin.into())
            .or_default()
            .insert(capability);
        self
    }

    /// Whether a plugin-directory plugin may replace a built-in of the same name. Default `true`
    /// (a replacement is logged); `false` refuses the directory plugin.
    pub fn allow_builtin_override(mut self, allow: bool) -> Self {
        self.allow_builtin_override = allow;
        self
    }

    /// The per-call deadline.
    pub fn get_deadline(&self) -> Duration {
        self.deadline
    }

    /// The epoch tick.
    pub fn get_epoch_tick(&self) -> Duration {
        self.epoch_tick
    }

    /// The memory cap per instance, in bytes.
    pub fn get_memory_limit(&self) -> usize {
        self.memory_limit
    }

    /// The maximum number of live instances.
    pub fn get_max_concurrent_calls(&self) -> u32 {
        self.max_concurrent_calls
    }

    /// The precompiled-cache directory, if any.
    pub fn get_cache_dir(&self) -> Option<&Path> {
        self.cache_dir.as_deref()
    }

    /// Bytes of stdout/stderr captured per call.
    pub fn get_output_capture(&self) -> usize {
        self.output_capture
    }

    /// The output limits.
    pub fn get_output_limits(&self) -> &OutputLimits {
        &self.output_limits
    }

    /// The largest accepted component, in bytes.
    pub fn get_max_component_bytes(&self) -> usize {
        self.max_component_bytes
    }

    /// The compile timeout.
    pub fn get_compile_timeout(&self) -> Duration {
        self.compile_timeout
    }

    /// Capabilities granted to `plugin` by this configuration (built-ins aside).
    pub fn get_grants(&self, plugin: &str) -> Option<&BTreeSet<Capability>> {
        self.grants.get(plugin)
    }

    /// Whether directory plugins may replace built-ins.
    pub fn get_allow_builtin_override(&self) -> bool {
        self.allow_builtin_override
    }

    /// Number of epoch ticks that make up the deadline (at least 1, plus one for the partial tick
    /// in progress when the call starts).
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_nanos().max(1);
        let ticks = self.deadline.as_nanos().div_ceil(tick).max(1);
        u64::try_from(ticks)
            .unwrap_or(u64::MAX / 2)
            .saturating_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let c = RuntimeConfig::new().cache_dir(None);
        assert_eq!(c.get_deadline(), Duration::from_millis(100));
        assert_eq!(c.get_memory_limit(), 64 << 20);
        assert_eq!(c.deadline_ticks(), 21);
        assert_eq!(c.get_grants("mpi"), None);
        assert!(c.get_allow_builtin_override());
        assert_eq!(c.get_output_limits().max_output_bytes, 1 << 20);
        assert_eq!(c.get_cache_dir(), None);
    }

    #[test]
    fn ticks_round_up() {
        let c = RuntimeConfig::new()
            .deadline(Duration::from_millis(7))
            .epoch_tick(Duration::from_millis(5));
        assert_eq!(c.deadline_ticks(), 3);
        let zero = RuntimeConfig::new().deadline(Duration::ZERO);
        assert_eq!(zero.deadline_ticks(), 2);
    }
}
