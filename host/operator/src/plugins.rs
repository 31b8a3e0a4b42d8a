//! Glue between the wasmtime plugin registry and the render pipeline's [`PluginSet`] boundary.

use std::path::Path;

use anyhow::Context as _;
use dynamo_plugin_runtime::contract::{Diagnostic, Metadata, RenderInput, RenderOutput};
use dynamo_plugin_runtime::{PluginError, PluginRegistry, PluginRuntime, RuntimeConfig};
use dynamo_render::{PluginCallError, PluginSet};

/// The built-in plugins plus those of an optional plugin directory, behind [`PluginSet`].
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
}

impl PluginSet for LoadedPlugins {
    fn metadata(&self) -> Vec<&Metadata> {
        self.registry.iter().map(|p| p.metadata()).collect()
    }

    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError> {
        let loaded = self
            .registry
            .get(plugin)
            .ok_or_else(|| PluginCallError::NotLoaded(plugin.to_owned()))?;
        loaded.render(input).map_err(call_error)
    }

    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError> {
        let loaded = self
            .registry
            .get(plugin)
            .ok_or_else(|| PluginCallError::NotLoaded(plugin.to_owned()))?;
        loaded.validate(input).map_err(call_error)
    }
}

/// A plugin's own error stays typed; every runtime failure (trap, deadline, memory, forbidden
/// output) keeps the runtime's message, which names the plugin and the component.
fn call_error(error: PluginError) -> PluginCallError {
    match error {
        PluginError::Plugin { error, .. } => PluginCallError::Reported(error),
        other => PluginCallError::Runtime(other.to_string()),
    }
}
