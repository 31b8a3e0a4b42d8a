//! [`RuntimeConfig`]: limits, cache location and the output allow-list switches.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default per-call deadline.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(100);
/// Default epoch tick (deadline resolution).
pub const DEFAULT_EPOCH_TICK: Duration = Duration::from_millis(5);
/// Default cap on a plugin instance's linear memory: 64 MiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;
/// Default number of plugin instances that may be alive at once.
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 32;
/// Default bytes of a plugin's stdout and of its stderr kept for error messages.
pub const DEFAULT_OUTPUT_CAPTURE: usize = 4096;

/// Configuration of a [`crate::PluginRuntime`], built with chained setters.
///
/// ```
/// use std::time::Duration;
/// use dynamo_plugin_runtime::RuntimeConfig;
///
/// let config = RuntimeConfig::new()
///     .deadline(Duration::from_millis(250))
///     .memory_limit(128 << 20)
///     .cache_dir(Some("/var/cache/dynamo/plugins".into()))
///     .allow_capability("IPC_LOCK");
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
    allow_privileged: bool,
    allowed_capabilities: BTreeSet<String>,
    allow_host_namespaces: bool,
    allow_host_path: bool,
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
            allow_privileged: false,
            allowed_capabilities: BTreeSet::new(),
            allow_host_namespaces: false,
            allow_host_path: false,
        }
    }
}

impl RuntimeConfig {
    /// The defaults: 100 ms deadline, 64 MiB memory, cache in [`Self::default_cache_dir`],
    /// nothing privileged allowed.
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

    /// Cap on each plugin instance's linear memory, in bytes. Default 64 MiB.
    ///
    /// Growth past it fails inside the plugin (Rust plugins then abort, reported as
    /// [`crate::PluginError::OutOfMemory`]). Every concurrent call reserves a slot of this size
    /// (virtual address space, committed only as used).
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
    /// Default 4 KiB each; further output is discarded.
    pub fn output_capture(mut self, bytes: usize) -> Self {
        self.output_capture = bytes;
        self
    }

    /// Whether a plugin may make a container privileged. Default `false`.
    pub fn allow_privileged(mut self, allow: bool) -> Self {
        self.allow_privileged = allow;
        self
    }

    /// Allows plugins to add Linux capability `capability` (e.g. `IPC_LOCK`) to containers.
    /// Default: none allowed.
    pub fn allow_capability(mut self, capability: impl Into<String>) -> Self {
        self.allowed_capabilities.insert(capability.into());
        self
    }

    /// Whether a plugin may change `hostNetwork`, `hostPID` or `hostIPC`. Default `false`.
    pub fn allow_host_namespaces(mut self, allow: bool) -> Self {
        self.allow_host_namespaces = allow;
        self
    }

    /// Whether a plugin may add `hostPath` volumes. Default `false`.
    pub fn allow_host_path(mut self, allow: bool) -> Self {
        self.allow_host_path = allow;
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

    /// Whether privileged containers are allowed.
    pub fn get_allow_privileged(&self) -> bool {
        self.allow_privileged
    }

    /// The capabilities plugins may add.
    pub fn get_allowed_capabilities(&self) -> &BTreeSet<String> {
        &self.allowed_capabilities
    }

    /// Whether host namespaces may be changed.
    pub fn get_allow_host_namespaces(&self) -> bool {
        self.allow_host_namespaces
    }

    /// Whether `hostPath` volumes may be added.
    pub fn get_allow_host_path(&self) -> bool {
        self.allow_host_path
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
        assert!(!c.get_allow_privileged());
        assert!(c.get_allowed_capabilities().is_empty());
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
