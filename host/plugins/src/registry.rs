//! [`PluginRegistry`]: the set of loaded plugins and how the host finds the right one.
//!
//! Sources, in order: the built-ins embedded in the operator (`dynamo-plugin-builtins`), then
//! every `*.wasm` file of the `--plugin-dir` directory (sorted by file name). A directory plugin
//! whose metadata name equals a built-in's replaces that built-in (logged, and refused when
//! [`crate::RuntimeConfig::allow_builtin_override`] is off), which is how an operator ships a fixed
//! or newer backend without a rebuild.
//!
//! Each directory plugin is loaded and checked on its own: one that fails to load, shares its
//! name with another directory plugin, claims a framework or Python module another plugin claims,
//! or names a launcher that is not loaded is **rejected** and recorded
//! ([`PluginRegistry::rejected`]); the other plugins stay. Only an inconsistent set of built-ins
//! fails the registry as a whole, since that is a defect of the operator itself.

use std::collections::{BTreeMap, BTreeSet};
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
    rejected: Vec<Rejected>,
    overridden: Vec<Overridden>,
}

/// A directory plugin that is not in the registry, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Where it came from (its file).
    pub origin: String,
    /// Its metadata name, when it loaded far enough to have one.
    pub name: Option<String>,
    /// Why it was rejected.
    pub error: Arc<PluginError>,
}

/// A built-in replaced by a directory plugin of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    /// The plugin name.
    pub name: String,
    /// Where the replacement came from.
    pub by: String,
}

impl PluginRegistry {
    /// Loads the built-ins and, when given, every `*.wasm` of `plugin_dir` (overriding built-ins
    /// by name). The usual way to build the operator's registry.
    ///
    /// Fails only when the directory cannot be read or the built-ins are inconsistent; a bad
    /// directory plugin is rejected ([`Self::rejected`]) and the others are kept.
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
            rejected: Vec::new(),
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

    /// Directory plugins that were not loaded, and why.
    pub fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }

    /// Built-ins replaced by directory plugins.
    pub fn overridden(&self) -> &[Overridden] {
        &self.overridden
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
    rejected: Vec<Rejected>,
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
    ///
    /// A file that does not load is recorded as rejected; only an unreadable directory fails.
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
            match self.runtime.load_file(&path) {
                Ok(plugin) => self.overrides.push(plugin),
                Err(error) => {
                    tracing::warn!(plugin = %path.display(), "plugin rejected: {error}");
                    self.rejected.push(Rejected {
                        origin: path.display().to_string(),
                        name: None,
                        error: Arc::new(error),
                    });
                }
            }
        }
        Ok(self)
    }

    /// Adds an already loaded plugin with directory precedence (overrides a built-in by name).
    pub fn plugin(mut self, plugin: LoadedPlugin) -> Self {
        self.overrides.push(plugin);
        self
    }

    /// Resolves overrides, rejects inconsistent directory plugins and indexes the rest.
    ///
    /// Fails only when the built-ins themselves are inconsistent.
    pub fn build(self) -> Result<PluginRegistry, PluginError> {
        let allow_override = self.runtime.config().get_allow_builtin_override();
        let mut rejected = self.rejected;
        let reject = |rejected: &mut Vec<Rejected>, plugin: &LoadedPlugin, message: String| {
            tracing::warn!(plugin = %plugin.origin(), "plugin rejected: {message}");
            rejected.push(Rejected {
                origin: plugin.origin().to_string(),
                name: Some(plugin.name().to_owned()),
                error: Arc::new(PluginError::Registry { message }),
            });
        };

        let mut builtins: BTreeMap<String, Arc<LoadedPlugin>> = BTreeMap::new();
        for plugin in self.builtins {
            let name = plugin.name().to_owned();
            if let Some(first) = builtins.insert(name.clone(), Arc::new(plugin)) {
                return Err(PluginError::Registry {
                    message: format!("two built-in plugins are named {name} ({})", first.origin()),
                });
            }
        }
        check_claims(&builtins)?;

        // Directory plugins: a name used twice is ambiguous, so neither is taken.
        let mut by_name: BTreeMap<String, Vec<LoadedPlugin>> = BTreeMap::new();
        for plugin in self.overrides {
            by_name
                .entry(plugin.name().to_owned())
                .or_default()
                .push(plugin);
        }
        let mut candidates: Vec<LoadedPlugin> = Vec::new();
        for (name, mut same) in by_name {
            if same.len() > 1 {
                let origins: Vec<String> = same.iter().map(|p| p.origin().to_string()).collect();
                for plugin in &same {
                    reject(
                        &mut rejected,
                        plugin,
                        format!(
                            "two plugin directory plugins are named {name}: {}",
                            origins.join(" and ")
                        ),
                    );
                }
            } else if let Some(plugin) = same.pop() {
                if builtins.contains_key(&name) && !allow_override {
                    reject(
                        &mut rejected,
                        &plugin,
                        format!(
                            "it is named {name} like a built-in plugin, and the configuration \
                             forbids replacing built-ins (plugins.allowBuiltinOverride: false)"
                        ),
                    );
                } else {
                    candidates.push(plugin);
                }
            }
        }

        // Claims: a framework or module claimed by two directory plugins is refused to both; one
        // claimed by a built-in that stays refuses the directory plugin.
        let replaced: BTreeSet<String> = candidates.iter().map(|p| p.name().to_owned()).collect();
        let mut claims: BTreeMap<(&'static str, String), Vec<String>> = BTreeMap::new();
        for plugin in &candidates {
            for key in claim_keys(plugin) {
                claims
                    .entry(key)
                    .or_default()
                    .push(plugin.name().to_owned());
            }
        }
        let mut accepted: BTreeMap<String, Arc<LoadedPlugin>> = builtins
            .iter()
            .filter(|(name, _)| !replaced.contains(*name))
            .map(|(n, p)| (n.clone(), Arc::clone(p)))
            .collect();
        let mut refused_overrides: Vec<String> = Vec::new();
        for plugin in candidates {
            let conflict = claim_keys(&plugin).into_iter().find_map(|key| {
                let shared = &claims[&key];
                if shared.len() > 1 {
                    return Some(format!(
                        "{} {} is claimed by plugin directory plugins {}",
                        key.0,
                        key.1,
                        shared.join(" and ")
                    ));
                }
                accepted
                    .values()
                    .find(|other| other.is_builtin() && claim_keys(other).contains(&key))
                    .map(|other| {
                        format!(
                            "{} {} is claimed by built-in plugin {}",
                            key.0,
                            key.1,
                            other.name()
                        )
                    })
            });
            match conflict {
                Some(message) => {
                    refused_overrides.push(plugin.name().to_owned());
                    reject(&mut rejected, &plugin, message);
                }
                None => {
                    accepted.insert(plugin.name().to_owned(), Arc::new(plugin));
                }
            }
        }
        // A refused replacement leaves the built-in in place.
        for name in refused_overrides {
            if let Some(builtin) = builtins.get(&name)
                && !accepted.contains_key(&name)
            {
                accepted.insert(name, Arc::clone(builtin));
            }
        }

        // Launchers: a directory backend naming a launcher that is not loaded is refused.
        loop {
            let missing = accepted.values().find_map(|p| {
                let launcher = p.metadata().multinode_launcher.as_ref()?;
                (!accepted.get(launcher).is_some_and(|l| l.is_launcher()))
                    .then(|| (p.name().to_owned(), launcher.clone(), p.is_builtin()))
            });
            let Some((name, launcher, builtin)) = missing else {
                break;
            };
            let message =
                format!("{name} needs launcher {launcher}, which is not a loaded launcher plugin");
            if builtin {
                return Err(PluginError::Registry { message });
            }
            if let Some(plugin) = accepted.remove(&name) {
                reject(&mut rejected, &plugin, message);
                if let Some(builtin) = builtins.get(&name) {
                    accepted.insert(name, Arc::clone(builtin));
                }
            }
        }

        let mut overridden = Vec::new();
        for (name, plugin) in &accepted {
            if !plugin.is_builtin() && builtins.contains_key(name) {
                tracing::warn!(plugin = %name, by = %plugin.origin(), "a plugin directory plugin replaces the built-in of the same name");
                overridden.push(Overridden {
                    name: name.clone(),
                    by: plugin.origin().to_string(),
                });
            }
        }
        let mut frameworks = BTreeMap::new();
        let mut modules = BTreeMap::new();
        for (name, plugin) in &accepted {
            for (kind, key) in claim_keys(plugin) {
                let index = if kind == FRAMEWORK {
                    &mut frameworks
                } else {
                    &mut modules
                };
                index.insert(key, name.clone());
            }
        }
        Ok(PluginRegistry {
            plugins: accepted,
            frameworks,
            modules,
            rejected,
            overridden,
        })
    }
}

const FRAMEWORK: &str = "framework";
const MODULE: &str = "Python module";

/// The frameworks and Python modules a plugin claims.
fn claim_keys(plugin: &LoadedPlugin) -> Vec<(&'static str, String)> {
    let m = plugin.metadata();
    m.frameworks
        .iter()
        .map(|f| (FRAMEWORK, f.clone()))
        .chain(m.python_modules.iter().map(|p| (MODULE, p.clone())))
        .collect()
}

/// Built-ins must not share a framework or module.
fn check_claims(builtins: &BTreeMap<String, Arc<LoadedPlugin>>) -> Result<(), PluginError> {
    let mut owners: BTreeMap<(&'static str, String), String> = BTreeMap::new();
    for (name, plugin) in builtins {
        for key in claim_keys(plugin) {
            if let Some(other) = owners.insert(key.clone(), name.clone()) {
                return Err(PluginError::Registry {
                    message: format!("{} {} is claimed by both {other} and {name}", key.0, key.1),
                });
            }
        }
    }
    Ok(())
}
