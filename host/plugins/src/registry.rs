//! [`PluginRegistry`]: the set of loaded plugins and how the host finds the right one.
//!
//! Sources, in order: the built-ins embedded in the operator (`dynamo-plugin-builtins`), then
//! every `*.wasm` file of the `--plugin-dir` directory (sorted by file name). A directory plugin
//! whose metadata name equals a built-in's replaces that built-in, which is how an operator ships
//! a fixed or newer backend without a rebuild. The registry is checked as a whole when built:
//! names are unique per source, every framework and every Python module belongs to one plugin, and
//! every `multinode-launcher` names a loaded launcher. Metadata is read once, at load.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::engine::PluginRuntime;
use crate::error::PluginError;
use crate::plugin::{LoadedPlugin, PluginOrigin};

/// The loaded plugins, looked up by name, framework, Python module or launcher name.
#[derive(Debug, Clone, Default)]
pub struct PluginRegistry {
    plugins: BTreeMap<String, Arc<LoadedPlugin>>,
    frameworks: BTreeMap<String, String>,
    modules: BTreeMap<String, String>,
}

impl PluginRegistry {
    /// Loads the built-ins and, when given, every `*.wasm` of `plugin_dir` (overriding built-ins
    /// by name). The usual way to build the operator's registry.
    pub fn load(runtime: &PluginRuntime, plugin_dir: Option<&Path>) -> Result<Self, PluginError> {
        let mut builder = Self::builder(runtime).builtins()?;
        if let Some(dir) = plugin_dir {
            builder = builder.plugin_dir(dir)?;
        }
        builder.build()
    }

    /// Starts an empty registry builder on `runtime`.
    pub fn builder(runtime: &PluginRuntime) -> RegistryBuilder<'_> {
        RegistryBuilder {
            runtime,
            builtins: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// The plugin named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.plugins.get(name)
    }

    /// The backend plugin handling `spec.backendFramework` value `framework`.
    pub fn by_framework(&self, framework: &str) -> Option<&Arc<LoadedPlugin>> {
        self.frameworks
            .get(framework)
            .and_then(|n| self.plugins.get(n))
    }

    /// The plugin that owns Python module `module` (e.g. `dynamo.vllm`).
    pub fn by_python_module(&self, module: &str) -> Option<&Arc<LoadedPlugin>> {
        self.modules.get(module).and_then(|n| self.plugins.get(n))
    }

    /// The launcher plugin named `name` (`None` when absent or not a launcher).
    pub fn launcher(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.plugins.get(name).filter(|p| p.is_launcher())
    }

    /// Every Python module some plugin owns, sorted; what backend detection looks for.
    pub fn python_modules(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// Every plugin, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.plugins.values()
    }

    /// Number of plugins.
    pub fn len(&self) -> usize {
        self.plugins.len()
    }

    /// True when no plugin is loaded.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }
}

/// Collects plugins, then checks and indexes them with [`RegistryBuilder::build`].
#[derive(Debug)]
pub struct RegistryBuilder<'a> {
    runtime: &'a PluginRuntime,
    builtins: Vec<LoadedPlugin>,
    overrides: Vec<LoadedPlugin>,
}

impl RegistryBuilder<'_> {
    /// Loads every built-in plugin embedded in this binary.
    pub fn builtins(mut self) -> Result<Self, PluginError> {
        for builtin in dynamo_plugin_builtins::all() {
            let origin = PluginOrigin::Builtin(builtin.package.to_owned());
            self.builtins.push(self.runtime.load(origin, builtin.wasm)?);
        }
        Ok(self)
    }

    /// Loads component bytes as a built-in (overridable by later directory plugins).
    pub fn builtin_bytes(mut self, package: &str, wasm: &[u8]) -> Result<Self, PluginError> {
        let origin = PluginOrigin::Builtin(package.to_owned());
        self.builtins.push(self.runtime.load(origin, wasm)?);
        Ok(self)
    }

    /// Loads every `*.wasm` file of `dir` (sorted by name); they override built-ins by name.
    pub fn plugin_dir(mut self, dir: &Path) -> Result<Self, PluginError> {
        let unreadable = |e: std::io::Error| PluginError::Load {
            plugin: dir.display().to_string(),
            message: format!("cannot read the plugin directory: {e}"),
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            self.overrides.push(self.runtime.load_file(&path)?);
        }
        Ok(self)
    }

    /// Adds an already loaded plugin with directory precedence (overrides a built-in by name).
    pub fn plugin(mut self, plugin: LoadedPlugin) -> Self {
        self.overrides.push(plugin);
        self
    }

    /// Resolves overrides, checks consistency and indexes the plugins.
    pub fn build(self) -> Result<PluginRegistry, PluginError> {
        let mut plugins: BTreeMap<String, Arc<LoadedPlugin>> = BTreeMap::new();
        for (source, list) in [
            ("built-in", self.builtins),
            ("plugin directory", self.overrides),
        ] {
            let mut seen: BTreeMap<String, String> = BTreeMap::new();
            for plugin in list {
                let name = plugin.name().to_owned();
                if let Some(first) = seen.insert(name.clone(), plugin.origin().to_string()) {
                    return Err(PluginError::Registry {
                        message: format!(
                            "two {source} plugins are named {name}: {first} and {}",
                            plugin.origin()
                        ),
                    });
                }
                if let Some(replaced) = plugins.insert(name.clone(), Arc::new(plugin)) {
                    tracing::info!(plugin = %name, replaced = %replaced.origin(), "plugin directory overrides a built-in");
                }
            }
        }

        let mut frameworks = BTreeMap::new();
        let mut modules = BTreeMap::new();
        for (name, plugin) in &plugins {
            let m = plugin.metadata();
            for (kind, keys, index) in [
                ("framework", &m.frameworks, &mut frameworks),
                ("Python module", &m.python_modules, &mut modules),
            ] {
                for key in keys {
                    if let Some(other) = index.insert(key.clone(), name.clone())
                        && &other != name
                    {
                        return Err(PluginError::Registry {
                            message: format!("{kind} {key} is claimed by both {other} and {name}"),
                        });
                    }
                }
            }
        }
        for (name, plugin) in &plugins {
            if let Some(launcher) = &plugin.metadata().multinode_launcher
                && !plugins.get(launcher).is_some_and(|l| l.is_launcher())
            {
                return Err(PluginError::Registry {
                    message: format!(
                        "{name} needs launcher {launcher}, which is not a loaded launcher plugin"
                    ),
                });
            }
        }
        Ok(PluginRegistry {
            plugins,
            frameworks,
            modules,
        })
    }
}
