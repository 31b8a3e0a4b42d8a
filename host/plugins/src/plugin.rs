//! [`LoadedPlugin`]: one compiled plugin, its metadata, and the per-call instance lifecycle.
//!
//! Loading compiles the component (or takes it from the cache), checks that it implements the
//! `dynamo:backend@0.1.0` `plugin` world, resolves its imports once into an `InstancePre`, and
//! calls `metadata` once. Every later call creates a fresh `Store` and instance from the
//! pre-instantiated template (microseconds with the pooling allocator), so no state survives
//! between calls and a crashed call leaves nothing behind.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use dynamo_plugin_contract::{
    Diagnostic, Metadata, PluginKind, RenderInput, RenderOutput, WIT_EXPORTS, WIT_PACKAGE,
    WIT_PACKAGE_ID, WIT_VERSION,
};
use wasmtime::Store;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::bindings::{self, PluginPre};
use crate::cache::{CacheOutcome, sha256_hex};
use crate::engine::{PluginRuntime, RuntimeInner};
use crate::error::{LOAD_COMPONENT, PluginError};
use crate::sandbox::{SLEEP_REFUSED, SandboxState};
use crate::validate::{self, Violation};

/// Where a plugin's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PluginOrigin {
    /// Embedded in the operator; the cargo package that produced it.
    Builtin(String),
    /// A `.wasm` file, e.g. from `--plugin-dir`.
    File(PathBuf),
    /// Bytes handed over directly; a label for messages.
    Bytes(String),
}

impl fmt::Display for PluginOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(package) => write!(f, "builtin {package}"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Bytes(label) => f.write_str(label),
        }
    }
}

/// A compiled, checked plugin, ready to be called from any thread.
pub struct LoadedPlugin {
    runtime: Arc<RuntimeInner>,
    pre: PluginPre<SandboxState>,
    metadata: Metadata,
    origin: PluginOrigin,
    digest: String,
    cache: CacheOutcome,
}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("metadata", &self.metadata)
            .field("origin", &self.origin)
            .field("digest", &self.digest)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// Compiles (or loads from the cache) a plugin component, checks its contract and reads its
    /// metadata.
    ///
    /// Fails with [`PluginError::Compile`] for bytes that are not a component,
    /// [`PluginError::VersionMismatch`] for a component of another contract version,
    /// [`PluginError::Load`] for unusable metadata or imports the sandbox does not provide, and
    /// with a call error if `metadata` itself misbehaves.
    pub fn load(&self, origin: PluginOrigin, wasm: &[u8]) -> Result<LoadedPlugin, PluginError> {
        let inner = &self.inner;
        let label = origin.to_string();
        let digest = sha256_hex(wasm);
        if !wasm.starts_with(b"\0asm") {
            return Err(PluginError::Compile {
                plugin: label,
                message: "not a WebAssembly binary".into(),
            });
        }
        let (component, cache) = inner
            .cache
            .load_or_compile(&inner.engine, wasm, &digest, &label)
            .map_err(|message| PluginError::Compile {
                plugin: label.clone(),
                message,
            })?;
        check_contract(&inner.engine, &component, &label)?;
        let instance_pre =
            inner
                .linker
                .instantiate_pre(&component)
                .map_err(|e| PluginError::Load {
                    plugin: label.clone(),
                    message: format!("it needs imports the sandbox does not provide: {e:#}"),
                })?;
        let pre = PluginPre::new(instance_pre).map_err(|e| PluginError::VersionMismatch {
            plugin: label.clone(),
            expected: WIT_PACKAGE_ID.into(),
            found: None,
            detail: format!("{e:#}"),
        })?;
        let mut plugin = LoadedPlugin {
            runtime: Arc::clone(inner),
            pre,
            metadata: Metadata::default(),
            origin,
            digest,
            cache,
        };
        let metadata = plugin.call(LOAD_COMPONENT, |store, p| p.call_metadata(store))?;
        plugin.metadata = bindings::metadata(metadata);
        check_metadata(&plugin.metadata, &label)?;
        Ok(plugin)
    }
}

impl LoadedPlugin {
    /// The plugin's self-description, read once at load.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The plugin's unique name (from its metadata).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Where the plugin was loaded from.
    pub fn origin(&self) -> &PluginOrigin {
        &self.origin
    }

    /// Hex SHA-256 of the component bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// What the precompiled cache did when this plugin was loaded.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }

    /// True for a launcher plugin (runs after the backend that asks for it).
    pub fn is_launcher(&self) -> bool {
        self.metadata.kind == PluginKind::Launcher
    }

    /// Renders one pod template, then checks the output (see [`crate::validate`]).
    ///
    /// Blocking and CPU-bound, bounded by the configured deadline: call it from a plain thread or
    /// `spawn_blocking`. Called from inside a Tokio runtime it runs on a scoped helper thread
    /// (the WASI bindings must not block a runtime thread), which adds a thread spawn per call.
    pub fn render(&self, input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let component = input.component.service_name.as_str();
        let wit_input = bindings::render_input(input);
        let output = match self.call(component, |store, p| p.call_render(store, &wit_input))? {
            Ok(output) => bindings::render_output(output),
            Err(error) => {
                return Err(PluginError::Plugin {
                    plugin: self.name().to_owned(),
                    component: component.to_owned(),
                    error: bindings::plugin_error(error),
                });
            }
        };
        validate::check_output(input, &output, &self.runtime.config).map_err(|v| match v {
            Violation::Malformed(message) => PluginError::MalformedOutput {
                plugin: self.name().to_owned(),
                component: component.to_owned(),
                message,
            },
            Violation::Forbidden { field, message } => PluginError::ForbiddenChange {
                plugin: self.name().to_owned(),
                component: component.to_owned(),
                field,
                message,
            },
        })?;
        Ok(output)
    }

    /// Runs the plugin's admission checks on a component; an empty list means valid.
    ///
    /// Same threading rules as [`LoadedPlugin::render`].
    pub fn validate(&self, input: &RenderInput) -> Result<Vec<Diagnostic>, PluginError> {
        let component = input.component.service_name.as_str();
        let wit_input = bindings::render_input(input);
        let diagnostics = self.call(component, |store, p| p.call_validate(store, &wit_input))?;
        Ok(diagnostics.into_iter().map(bindings::diagnostic).collect())
    }

    /// The name used in errors: the metadata name once known, else the origin.
    fn display_name(&self) -> String {
        if self.metadata.name.is_empty() {
            self.origin.to_string()
        } else {
            self.metadata.name.clone()
        }
    }

    /// Runs `f` on a fresh instance, off any Tokio runtime thread.
    fn call<R, F>(&self, component: &str, f: F) -> Result<R, PluginError>
    where
        R: Send,
        F: FnOnce(&mut Store<SandboxState>, &bindings::Plugin) -> wasmtime::Result<R> + Send,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.call_here(component, f);
        }
        // wasmtime-wasi's synchronous bindings block on the current Tokio handle, which panics
        // on a runtime thread; a scoped thread has no runtime context.
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("dynamo-plugin-call".into())
                .spawn_scoped(scope, || self.call_here(component, f))
                .map_err(|e| {
                    self.runtime_error(component, format!("cannot spawn a call thread: {e}"))
                })?
                .join()
                .unwrap_or_else(|_| {
                    Err(self.runtime_error(component, "plugin call thread panicked".into()))
                })
        })
    }

    fn call_here<R>(
        &self,
        component: &str,
        f: impl FnOnce(&mut Store<SandboxState>, &bindings::Plugin) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let inner = &self.runtime;
        let mut store = Store::new(&inner.engine, SandboxState::new(&inner.config));
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(inner.config.deadline_ticks());
        store.epoch_deadline_trap();
        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(&mut store, &instance));
        result.map_err(|e| self.classify(e, &store, component))
    }

    fn runtime_error(&self, component: &str, message: String) -> PluginError {
        PluginError::Runtime {
            plugin: self.display_name(),
            component: component.to_owned(),
            message,
        }
    }

    /// Turns a wasmtime error into the matching [`PluginError`].
    fn classify(
        &self,
        error: wasmtime::Error,
        store: &Store<SandboxState>,
        component: &str,
    ) -> PluginError {
        let plugin = self.display_name();
        let component = component.to_owned();
        let config = &self.runtime.config;
        if error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
            return PluginError::Timeout {
                plugin,
                component,
                deadline: config.get_deadline(),
            };
        }
        if store.data().limiter.exhausted {
            return PluginError::OutOfMemory {
                plugin,
                component,
                limit: config.get_memory_limit(),
            };
        }
        if error
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return PluginError::Runtime {
                plugin,
                component,
                message: format!(
                    "all {} instance slots are busy (RuntimeConfig::max_concurrent_calls): {error:#}",
                    config.get_max_concurrent_calls()
                ),
            };
        }
        let (message, backtrace) = describe_trap(&error);
        let message = if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            format!("the plugin called exit({})", exit.0)
        } else if message.contains(SLEEP_REFUSED) {
            SLEEP_REFUSED.to_owned()
        } else {
            message
        };
        PluginError::Trap {
            plugin,
            component,
            message,
            backtrace,
            output: store.data().stderr(),
        }
    }
}

/// The trap (or host error) that ended a call, and the guest backtrace when available. The
/// host-side Rust backtrace is left out: it says nothing about the plugin.
fn describe_trap(error: &wasmtime::Error) -> (String, String) {
    let message = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{error:#}"),
    };
    let backtrace = error
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(ToString::to_string)
        .unwrap_or_default();
    (message, backtrace)
}

/// Checks, before linking, that the component speaks this contract version.
fn check_contract(
    engine: &wasmtime::Engine,
    component: &Component,
    label: &str,
) -> Result<(), PluginError> {
    let mismatch = |found: Option<String>, detail: String| PluginError::VersionMismatch {
        plugin: label.to_owned(),
        expected: WIT_PACKAGE_ID.to_owned(),
        found,
        detail,
    };
    let ty = component.component_type();
    let prefix = format!("{WIT_PACKAGE}/");
    let names: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .chain(ty.exports(engine).map(|(name, _)| name.to_owned()))
        .collect();
    for name in &names {
        if let Some(rest) = name.strip_prefix(&prefix) {
            let version = rest.split_once('@').map(|(_, v)| v);
            if version != Some(WIT_VERSION) {
                return Err(mismatch(
                    version.map(str::to_owned),
                    format!("it was built against `{name}`"),
                ));
            }
        }
    }
    for export in WIT_EXPORTS {
        match ty.get_export(engine, export).map(|e| e.ty) {
            Some(ComponentItem::ComponentFunc(_)) => {}
            Some(_) => {
                return Err(mismatch(
                    None,
                    format!("export `{export}` is not a function"),
                ));
            }
            None => {
                return Err(mismatch(
                    None,
                    format!(
                        "it does not export `{export}` (exports: {})",
                        names_list(&ty, engine)
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn names_list(ty: &wasmtime::component::types::Component, engine: &wasmtime::Engine) -> String {
    let names: Vec<&str> = ty.exports(engine).map(|(n, _)| n).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Checks the metadata a plugin reports about itself.
fn check_metadata(m: &Metadata, label: &str) -> Result<(), PluginError> {
    let fail = |message: String| PluginError::Load {
        plugin: label.to_owned(),
        message,
    };
    let is_label = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    if !is_label(&m.name) {
        return Err(fail(format!(
            "metadata name {:?} is not a lowercase DNS label",
            m.name
        )));
    }
    if m.kind == PluginKind::Launcher && !m.frameworks.is_empty() {
        return Err(fail(format!(
            "launcher {} declares frameworks {:?}; launchers handle none",
            m.name, m.frameworks
        )));
    }
    if m.multinode_launcher.as_deref() == Some(m.name.as_str()) {
        return Err(fail(format!(
            "{} names itself as its multinode launcher",
            m.name
        )));
    }
    if let Some(empty) = m
        .frameworks
        .iter()
        .chain(&m.python_modules)
        .find(|s| s.trim().is_empty())
    {
        return Err(fail(format!(
            "{} declares an empty framework or module {empty:?}",
            m.name
        )));
    }
    Ok(())
}
