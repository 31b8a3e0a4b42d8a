//! Loads the plugin registry the render pipeline runs on (built-ins plus a plugin directory).

use std::path::Path;

use anyhow::Context as _;
use dynamo_plugin_runtime::{PluginRegistry, PluginRuntime, RuntimeConfig};

/// The built-in plugins plus those of an optional plugin directory.
///
/// The registry implements `dynamo_render::PluginSet` (runtime feature `render`).
pub struct LoadedPlugins {
    registry: PluginRegistry,
    // Keeps the engine (and its epoch ticker) alive for as long as the plugins are used.
    _runtime: PluginRuntime,
}

// === impl LoadedPlugins ===

impl LoadedPlugins {
    /// Loads the built-ins and, when given, every `*.wasm` of `plugin_dir` (overriding built-ins
    /// of the same name), with the default sandbox limits.
    pub fn load(plugin_dir: Option<&Path>) -> anyhow::Result<Self> {
        let runtime =
            PluginRuntime::new(RuntimeConfig::default()).context("starting the plugin runtime")?;
        let registry = PluginRegistry::load(&runtime, plugin_dir).context("loading plugins")?;
        Ok(Self {
            registry,
            _runtime: runtime,
        })
    }

    /// The loaded plugins, ready to hand to `dynamo_render::render`.
    pub fn registry(&self) -> &PluginRegistry {
        &self.registry
    }
}
