//! [`PluginError`]: everything that can go wrong loading or calling a plugin.
//!
//! Failures are split the way wasmtime splits them: a **trap** (the plugin crashed: panic,
//! `unreachable`, out-of-bounds access), a **timeout** and **out of memory** are the host's
//! verdicts on a misbehaving plugin; [`PluginError::Plugin`] is the plugin's own, deliberate
//! `plugin-error` answer (invalid input, unsupported feature). Output checks
//! ([`PluginError::MalformedOutput`], [`PluginError::ForbiddenChange`]) come after a call returned
//! normally. Every call error names the plugin and the component (service) being rendered. None
//! of them is ever a host panic.

use std::time::Duration;

use dynamo_plugin_contract as contract;

#[cfg(test)]
mod tests;

/// Component name used in errors from the `metadata` call made while loading.
pub const LOAD_COMPONENT: &str = "<metadata>";

/// A failure loading or calling a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The [`crate::RuntimeConfig`] cannot be turned into an engine.
    #[error("invalid plugin runtime configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },

    /// The plugin could not be read, or its metadata is unusable.
    #[error("cannot load plugin {plugin}: {message}")]
    Load {
        /// The plugin (its origin before its metadata is known).
        plugin: String,
        /// What went wrong.
        message: String,
    },

    /// The bytes are not a valid WebAssembly component.
    #[error("cannot compile plugin {plugin}: {message}")]
    Compile {
        /// The plugin's origin.
        plugin: String,
        /// The compiler's message.
        message: String,
    },

    /// The component does not export the `plugin` world of a served contract version.
    #[error("plugin {plugin} does not implement {expected}: {detail}")]
    VersionMismatch {
        /// The plugin's origin.
        plugin: String,
        /// The contracts the host serves, `dynamo:backend@0.1.0 or dynamo:backend@0.2.0 or ...`.
        expected: String,
        /// The contract version the component was built against, when it names one.
        found: Option<String>,
        /// What exactly does not match.
        detail: String,
    },

    /// The plugin trapped (panic, `unreachable`, invalid memory access, `exit`, a refused host call).
    #[error("plugin {plugin} trapped on {component}: {message}{}", stderr_suffix(.output))]
    Trap {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// The trap, e.g. ``wasm `unreachable` instruction executed``.
        message: String,
        /// The plugin's stack when it trapped (function names and offsets), possibly empty.
        backtrace: String,
        /// The first bytes the plugin wrote to stderr (typically its panic message).
        output: String,
    },

    /// The call exceeded its deadline (stopped by epoch interruption).
    #[error("plugin {plugin} exceeded its {deadline:?} deadline on {component}")]
    Timeout {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// The configured deadline.
        deadline: Duration,
    },

    /// The plugin's memory reached the configured cap and it could not continue.
    #[error("plugin {plugin} ran out of memory (limit {}) on {component}", Bytes(*limit))]
    OutOfMemory {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// The configured memory cap in bytes.
        limit: usize,
    },

    /// The call returned, but its output is not what the contract promises.
    #[error("plugin {plugin} returned malformed output for {component}: {message}")]
    MalformedOutput {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// What is malformed.
        message: String,
    },

    /// The output changes something plugins may not change (see [`crate::check`]).
    #[error("plugin {plugin} made a forbidden change to {field} for {component}: {message}")]
    ForbiddenChange {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// JSON-style path of the field, e.g. `spec.hostNetwork`.
        field: String,
        /// Why it is forbidden.
        message: String,
    },

    /// The output is larger than an [`crate::config::OutputLimits`] allows.
    #[error("plugin {plugin} returned too much for {component}: {what} over the limit of {limit}{}", actual.map(|a| format!(" ({a})")).unwrap_or_default())]
    OutputTooLarge {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// What was counted, e.g. `output bytes`, `extra objects`.
        what: String,
        /// The configured limit.
        limit: usize,
        /// The amount returned, when known (a result stopped while being copied is not).
        actual: Option<usize>,
    },

    /// The plugin returned its own `plugin-error`.
    #[error("plugin {plugin} failed on {component}: {error}")]
    Plugin {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// The plugin's error.
        #[source]
        error: contract::PluginError,
    },

    /// The host could not run the call (for example every instance slot is busy).
    #[error("plugin runtime failed calling {plugin} on {component}: {message}")]
    Runtime {
        /// The plugin name.
        plugin: String,
        /// The component (service) being rendered.
        component: String,
        /// What failed.
        message: String,
    },

    /// The plugin set is inconsistent (duplicate names, conflicting frameworks, missing launcher).
    #[error("plugin registry: {message}")]
    Registry {
        /// What conflicts.
        message: String,
    },
}

/// The captured stderr on one line, for the error's `Display`.
fn stderr_suffix(output: &str) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!(" (plugin stderr: {})", lines.join(" "))
    }
}

impl PluginError {
    /// The plugin this error is about, if any.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            Self::Config { .. } | Self::Registry { .. } => None,
            Self::Load { plugin, .. }
            | Self::Compile { plugin, .. }
            | Self::VersionMismatch { plugin, .. }
            | Self::Trap { plugin, .. }
            | Self::Timeout { plugin, .. }
            | Self::OutOfMemory { plugin, .. }
            | Self::MalformedOutput { plugin, .. }
            | Self::ForbiddenChange { plugin, .. }
            | Self::OutputTooLarge { plugin, .. }
            | Self::Plugin { plugin, .. }
            | Self::Runtime { plugin, .. } => Some(plugin),
        }
    }

    /// The component (service) the failing call was rendering, if this is a call error.
    pub fn component(&self) -> Option<&str> {
        match self {
            Self::Trap { component, .. }
            | Self::Timeout { component, .. }
            | Self::OutOfMemory { component, .. }
            | Self::MalformedOutput { component, .. }
            | Self::ForbiddenChange { component, .. }
            | Self::OutputTooLarge { component, .. }
            | Self::Plugin { component, .. }
            | Self::Runtime { component, .. } => Some(component),
            _ => None,
        }
    }

    /// True when the plugin crashed or was stopped (trap, timeout, out of memory), as opposed to
    /// returning normally with an error or a bad output.
    pub fn is_trap(&self) -> bool {
        matches!(
            self,
            Self::Trap { .. } | Self::Timeout { .. } | Self::OutOfMemory { .. }
        )
    }
}

// === impl Bytes ===

/// A byte count shown the way limits are configured: whole KiB, MiB or GiB when exact, else bytes.
struct Bytes(usize);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [(usize, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        match UNITS
            .iter()
            .find(|(size, _)| self.0 >= *size && self.0.is_multiple_of(*size))
        {
            Some((size, unit)) => write!(f, "{} {unit}", self.0 / size),
            None => write!(f, "{} bytes", self.0),
        }
    }
}
