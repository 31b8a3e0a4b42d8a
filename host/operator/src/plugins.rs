//! Loads the plugin registry the render pipeline runs on (built-ins plus a plugin directory), with
//! the sandbox limits and capability grants of the operator configuration.

use std::path::Path;

use anyhow::Context as _;
use dynamo_plugin_runtime::{OutputLimits, PluginRegistry, PluginRuntime, RuntimeConfig};
use dynamo_render::OperatorConfiguration;
use dynamo_render::config::{parse_bytes, parse_duration};

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
    /// Loads the built-ins and every `*.wasm` of `plugin_dir` (else of the configuration's
    /// `plugins.directory`), overriding built-ins of the same name. A directory plugin that cannot
    /// be used is left out and reported by [`Self::notes`].
    pub fn load(plugin_dir: Option<&Path>, config: &OperatorConfiguration) -> anyhow::Result<Self> {
        let runtime =
            PluginRuntime::new(runtime_config(config)?).context("starting the plugin runtime")?;
        let dir = plugin_dir.or(config.plugins.directory.as_deref().map(Path::new));
        let registry = PluginRegistry::load(&runtime, dir).context("loading plugins")?;
        Ok(Self {
            registry,
            _runtime: runtime,
        })
    }

    /// The loaded plugins, ready to hand to `dynamo_render::render`.
    pub fn registry(&self) -> &PluginRegistry {
        &self.registry
    }

    /// The registry alone (each plugin keeps the engine it was compiled on alive).
    pub fn into_registry(self) -> PluginRegistry {
        self.registry
    }

    /// One `warning:` line per rejected directory plugin and per replaced built-in.
    pub fn notes(&self) -> Vec<String> {
        let rejected = self.registry.rejected().iter().map(|r| {
            format!(
                "warning: plugin {} was not loaded: {}",
                r.origin,
                dynamo_plugin_runtime::contract::text::one_line(&r.error.to_string(), 2048)
            )
        });
        let overridden = self.registry.overridden().iter().map(|o| {
            format!(
                "warning: plugin {} replaces the built-in plugin {} (set plugins.allowBuiltinOverride: false to forbid)",
                o.by, o.name
            )
        });
        rejected.chain(overridden).collect()
    }
}

/// The runtime configuration the operator configuration asks for (validated already by
/// `OperatorConfiguration::validate`, so parse failures cannot happen here; they are still
/// reported rather than unwrapped).
pub fn runtime_config(config: &OperatorConfiguration) -> anyhow::Result<RuntimeConfig> {
    let plugins = &config.plugins;
    let l = &plugins.limits;
    let duration = |field: &str, text: &str| {
        parse_duration(text).with_context(|| format!("plugins.limits.{field}: `{text}`"))
    };
    let bytes = |field: &str, text: &str| {
        parse_bytes(text).with_context(|| format!("plugins.limits.{field}: `{text}`"))
    };
    let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
    let mut runtime = RuntimeConfig::new()
        .deadline(duration("deadline", &l.deadline)?)
        .memory_limit(bytes("memory", &l.memory)?)
        .max_component_bytes(bytes("maxComponentBytes", &l.max_component_bytes)?)
        .compile_timeout(duration("compileTimeout", &l.compile_timeout)?)
        .allow_builtin_override(plugins.allow_builtin_override)
        .output_limits(OutputLimits {
            max_output_bytes: bytes("maxOutputBytes", &l.max_output_bytes)?,
            max_warnings: count(l.max_warnings),
            max_diagnostics: count(l.max_diagnostics),
            max_message_bytes: count(l.max_message_bytes),
            max_extra_objects: count(l.max_extra_objects),
        });
    if let Some(dir) = plugins.cache_dir.as_deref().filter(|d| !d.is_empty()) {
        runtime = runtime.cache_dir(Some(dir.into()));
    }
    for (plugin, capabilities) in plugins.parsed_grants()? {
        for capability in capabilities {
            runtime = runtime.grant(plugin.clone(), capability);
        }
    }
    Ok(runtime)
}
