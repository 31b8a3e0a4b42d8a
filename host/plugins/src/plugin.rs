//! [`LoadedPlugin`]: one compiled plugin, its metadata, and the per-call instance lifecycle.
//!
//! Loading checks the component's size, compiles it (or takes it from the cache) within the compile
//! timeout, checks that it implements the `plugin` world of a served contract version (0.1.0,
//! 0.2.0 or 0.3.0), resolves its imports once into an `InstancePre`, calls `metadata` once, checks
//! it (names, serving ports, annotation prefixes), and works out
//! its effective capabilities (declared, and granted by the configuration or built in). Every later call creates a fresh `Store` and instance from the
//! pre-instantiated template (microseconds with the pooling allocator), so no state survives
//! between calls and a crashed call leaves nothing behind.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use dynamo_plugin_contract::text::one_line;
use dynamo_plugin_contract::{
    Capability, Diagnostic, Metadata, PluginKind, RenderInput, RenderOutput,
    SUPPORTED_WIT_VERSIONS, WIT_EXPORTS, WIT_PACKAGE,
};
use wasmtime::Store;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::bindings::{Instance, Pre};
use crate::cache::{CacheOutcome, sha256_hex};
use crate::check::{self, Policy, Violation};
use crate::engine::{PluginRuntime, RuntimeInner};
use crate::error::{LOAD_COMPONENT, PluginError};
use crate::sandbox::{SLEEP_REFUSED, SandboxState};
use crate::stats::{CallKind, PluginStats};

/// Extra hostcall fuel beyond the output limit, for the record framing of a result.
const HOSTCALL_FUEL_SLACK: usize = 64 << 10;
/// What wasmtime says when the hostcall fuel runs out while lifting a result.
const FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

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
    pre: Pre,
    metadata: Metadata,
    origin: PluginOrigin,
    digest: String,
    cache: CacheOutcome,
    declared: BTreeSet<Capability>,
    granted: BTreeSet<Capability>,
    stats: PluginStats,
}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("metadata", &self.metadata)
            .field("origin", &self.origin)
            .field("digest", &self.digest)
            .field("cache", &self.cache)
            .field("contract", &self.pre.version())
            .field("granted", &self.granted)
            .field("stats", &self.stats)
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
        let limit = inner.config.get_max_component_bytes();
        if wasm.len() > limit {
            return Err(PluginError::Load {
                plugin: label,
                message: format!(
                    "the component is {} bytes, more than the {limit} allowed \
                     (RuntimeConfig::max_component_bytes)",
                    wasm.len()
                ),
            });
        }
        let digest = sha256_hex(wasm);
        if !wasm.starts_with(b"\0asm") {
            return Err(PluginError::Compile {
                plugin: label,
                message: "not a WebAssembly binary".into(),
            });
        }
        let (component, cache) = inner
            .cache
            .load_or_compile(
                &inner.engine,
                wasm,
                &digest,
                &label,
                inner.config.get_compile_timeout(),
            )
            .map_err(|message| PluginError::Compile {
                plugin: label.clone(),
                message,
            })?;
        let versions = contract_versions(&inner.engine, &component, &label)?;
        let instance_pre =
            inner
                .linker
                .instantiate_pre(&component)
                .map_err(|e| PluginError::Load {
                    plugin: label.clone(),
                    message: format!("it needs imports the sandbox does not provide: {e:#}"),
                })?;
        // A component that names its version is checked against that version; one that does not
        // (no import of the types interface) is tried against each, newest first.
        let mut last_error = String::new();
        let mut pre = None;
        for version in versions {
            match Pre::new(version, instance_pre.clone()) {
                Ok(found) => {
                    pre = Some(found);
                    break;
                }
                Err(e) => last_error = format!("{e:#}"),
            }
        }
        let pre = pre.ok_or_else(|| PluginError::VersionMismatch {
            plugin: label.clone(),
            expected: expected_versions(),
            found: None,
            detail: last_error,
        })?;
        let mut plugin = LoadedPlugin {
            runtime: Arc::clone(inner),
            pre,
            metadata: Metadata::default(),
            origin,
            digest,
            cache,
            declared: BTreeSet::new(),
            granted: BTreeSet::new(),
            stats: PluginStats::default(),
        };
        let started = Instant::now();
        let metadata = plugin.call(LOAD_COMPONENT, |store, p| p.metadata(store));
        plugin.stats.record(
            CallKind::Metadata,
            started.elapsed(),
            metadata.as_ref().err(),
        );
        plugin.metadata = metadata?;
        check_metadata(&plugin.metadata, &label)?;
        plugin.declared = declared_capabilities(&plugin.metadata, &label)?;
        plugin.granted = match &plugin.origin {
            // The operator ships the built-ins: they get exactly what they declare.
            PluginOrigin::Builtin(_) => plugin.declared.clone(),
            _ => match inner.config.get_grants(&plugin.metadata.name) {
                Some(grants) => plugin.declared.intersection(grants).cloned().collect(),
                None => BTreeSet::new(),
            },
        };
        for missing in plugin.declared.difference(&plugin.granted) {
            tracing::warn!(
                plugin = %plugin.metadata.name,
                capability = %missing,
                "plugin declares a capability the configuration does not grant; outputs that need it will be refused"
            );
        }
        Ok(plugin)
    }
}

/// Every served contract version, for messages: `dynamo:backend@0.1.0 or dynamo:backend@0.2.0 or ...`.
fn expected_versions() -> String {
    let versions: Vec<String> = SUPPORTED_WIT_VERSIONS
        .iter()
        .map(|v| format!("{WIT_PACKAGE}@{v}"))
        .collect();
    versions.join(" or ")
}

/// The declared capabilities, parsed; an unknown one fails the load.
fn declared_capabilities(m: &Metadata, label: &str) -> Result<BTreeSet<Capability>, PluginError> {
    m.capabilities
        .iter()
        .map(|name| {
            name.parse::<Capability>().map_err(|e| PluginError::Load {
                plugin: label.to_owned(),
                message: format!("{} declares an {e}", m.name),
            })
        })
        .collect()
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

    /// True for a plugin embedded in the operator.
    pub fn is_builtin(&self) -> bool {
        matches!(self.origin, PluginOrigin::Builtin(_))
    }

    /// The contract version the component was built against (`0.1.0`, `0.2.0` or `0.3.0`).
    pub fn contract_version(&self) -> &'static str {
        self.pre.version()
    }

    /// Capabilities the plugin declares in its metadata.
    pub fn declared_capabilities(&self) -> &BTreeSet<Capability> {
        &self.declared
    }

    /// Capabilities in effect: declared and granted (built-ins: declared).
    pub fn granted_capabilities(&self) -> &BTreeSet<Capability> {
        &self.granted
    }

    /// The counters of this plugin's calls (lock-free; read them with
    /// [`PluginStats::snapshot`]).
    pub fn stats(&self) -> &PluginStats {
        &self.stats
    }

    /// Renders one pod template, then checks the output (see [`crate::check`]) and tidies its
    /// warnings (one line each, at most [`crate::config::OutputLimits::max_warnings`]).
    ///
    /// Blocking and CPU-bound, bounded by the configured deadline: call it from a plain thread or
    /// `spawn_blocking`. Called from inside a Tokio runtime it runs on a scoped helper thread
    /// (the WASI bindings must not block a runtime thread), which adds a thread spawn per call.
    pub fn render(&self, input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let started = Instant::now();
        let result = self.render_checked(input);
        self.stats
            .record(CallKind::Render, started.elapsed(), result.as_ref().err());
        result
    }

    /// [`LoadedPlugin::render`] without the bookkeeping.
    fn render_checked(&self, input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let component = input.component.service_name.as_str();
        let limits = self.runtime.config.get_output_limits();
        let mut output = match self.call(component, |store, p| p.render(store, input))? {
            Ok(output) => output,
            Err(error) => {
                return Err(PluginError::Plugin {
                    plugin: self.name().to_owned(),
                    component: component.to_owned(),
                    error: tidy_plugin_error(error, limits.max_message_bytes),
                });
            }
        };
        let policy = Policy {
            plugin: self.name(),
            launcher: self.metadata.multinode_launcher.as_deref(),
            granted: &self.granted,
            declared: &self.declared,
            limits,
        };
        check::check_output(input, &output, &policy).map_err(|v| self.violation(component, v))?;
        output.warnings = tidy_list(
            std::mem::take(&mut output.warnings),
            limits.max_warnings,
            limits.max_message_bytes,
            |dropped| format!("{dropped} more warnings were dropped"),
        );
        Ok(output)
    }

    /// Runs the plugin's admission checks on a component; an empty list means valid.
    ///
    /// Messages are made one line each and at most
    /// [`crate::config::OutputLimits::max_diagnostics`] are kept; a field path outside the
    /// component's service (`spec.services.<name>`) is replaced by the service's own path, since a
    /// plugin speaks only for the component it was given. Same threading rules as
    /// [`LoadedPlugin::render`].
    pub fn validate(&self, input: &RenderInput) -> Result<Vec<Diagnostic>, PluginError> {
        let started = Instant::now();
        let result = self.validate_tidied(input);
        self.stats
            .record(CallKind::Validate, started.elapsed(), result.as_ref().err());
        result
    }

    /// [`LoadedPlugin::validate`] without the bookkeeping.
    fn validate_tidied(&self, input: &RenderInput) -> Result<Vec<Diagnostic>, PluginError> {
        let component = input.component.service_name.as_str();
        let limits = self.runtime.config.get_output_limits();
        let found = self.call(component, |store, p| p.validate(store, input))?;
        let service = format!("spec.services.{component}");
        let max = limits.max_message_bytes;
        let kept = found.len().min(limits.max_diagnostics);
        let mut diagnostics: Vec<Diagnostic> = found
            .iter()
            .take(kept)
            .map(|d| Diagnostic {
                field_path: within_service(&d.field_path, &service),
                message: one_line(&d.message, max),
                severity: d.severity,
            })
            .collect();
        if found.len() > kept {
            diagnostics.push(Diagnostic::warning(
                service,
                format!("{} more diagnostics were dropped", found.len() - kept),
            ));
        }
        Ok(diagnostics)
    }

    fn violation(&self, component: &str, violation: Violation) -> PluginError {
        let plugin = self.name().to_owned();
        let component = component.to_owned();
        match violation {
            Violation::Malformed(message) => PluginError::MalformedOutput {
                plugin,
                component,
                message,
            },
            Violation::Forbidden { field, message } => PluginError::ForbiddenChange {
                plugin,
                component,
                field,
                message,
            },
            Violation::OverLimit {
                what,
                limit,
                actual,
            } => PluginError::OutputTooLarge {
                plugin,
                component,
                what,
                limit,
                actual: Some(actual),
            },
        }
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
        F: FnOnce(&mut Store<SandboxState>, &Instance) -> wasmtime::Result<R> + Send,
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
        f: impl FnOnce(&mut Store<SandboxState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let inner = &self.runtime;
        let mut store = Store::new(&inner.engine, SandboxState::new(&inner.config));
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(inner.config.deadline_ticks());
        store.epoch_deadline_trap();
        // Bounds what wasmtime copies out of the plugin for one result (and for each WASI call),
        // before the host allocates it.
        store.set_hostcall_fuel(
            inner
                .config
                .get_output_limits()
                .max_output_bytes
                .saturating_add(HOSTCALL_FUEL_SLACK),
        );
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
        if message.contains(FUEL_EXHAUSTED) {
            return PluginError::OutputTooLarge {
                plugin,
                component,
                what: "output bytes".into(),
                limit: config.get_output_limits().max_output_bytes,
                actual: None,
            };
        }
        let message = if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            format!("the plugin called exit({})", exit.0)
        } else if message.contains(SLEEP_REFUSED) {
            SLEEP_REFUSED.to_owned()
        } else {
            message
        };
        let max = config.get_output_limits().max_message_bytes;
        PluginError::Trap {
            plugin,
            component,
            message: one_line(&message, max),
            backtrace,
            output: one_line(&store.data().stderr(), config.get_output_capture()),
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

/// The contract versions the component may speak: the one its imports name (checked to be
/// served), or every served version, newest first, when it names none. Also checks that the
/// world's functions are exported.
fn contract_versions(
    engine: &wasmtime::Engine,
    component: &Component,
    label: &str,
) -> Result<Vec<&'static str>, PluginError> {
    let mismatch = |found: Option<String>, detail: String| PluginError::VersionMismatch {
        plugin: label.to_owned(),
        expected: expected_versions(),
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
    let mut named: Option<&'static str> = None;
    for name in &names {
        if let Some(rest) = name.strip_prefix(&prefix) {
            let version = rest.split_once('@').map(|(_, v)| v);
            match SUPPORTED_WIT_VERSIONS.iter().find(|v| Some(**v) == version) {
                Some(v) if named.is_none_or(|n| n == *v) => named = Some(v),
                Some(v) => {
                    return Err(mismatch(
                        Some((*v).to_owned()),
                        format!(
                            "it mixes contract versions ({name} and {})",
                            named.unwrap_or_default()
                        ),
                    ));
                }
                None => {
                    return Err(mismatch(
                        version.map(str::to_owned),
                        format!("it was built against `{name}`"),
                    ));
                }
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
    Ok(match named {
        Some(version) => vec![version],
        None => SUPPORTED_WIT_VERSIONS.iter().rev().copied().collect(),
    })
}

/// A plugin's own error with its messages made one line and bounded.
fn tidy_plugin_error(
    error: dynamo_plugin_contract::PluginError,
    max: usize,
) -> dynamo_plugin_contract::PluginError {
    use dynamo_plugin_contract::PluginError as E;
    match error {
        E::InvalidInput(d) => E::InvalidInput(Diagnostic {
            field_path: one_line(&d.field_path, max),
            message: one_line(&d.message, max),
            severity: d.severity,
        }),
        E::Unsupported(m) => E::Unsupported(one_line(&m, max)),
        E::Internal(m) => E::Internal(one_line(&m, max)),
    }
}

/// At most `max` items, each made one line of at most `max_bytes`; a note replaces the rest.
fn tidy_list(
    items: Vec<String>,
    max: usize,
    max_bytes: usize,
    note: impl FnOnce(usize) -> String,
) -> Vec<String> {
    let total = items.len();
    let mut kept: Vec<String> = items
        .into_iter()
        .take(max)
        .map(|w| one_line(&w, max_bytes))
        .collect();
    if total > max {
        kept.push(note(total - max));
    }
    kept
}

/// `path` when it lies inside `service` (`spec.services.<name>`), else `service` itself.
fn within_service(path: &str, service: &str) -> String {
    let inside = path == service
        || path
            .strip_prefix(service)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['));
    if inside {
        one_line(path, 512)
    } else {
        service.to_owned()
    }
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
    if let Some(serving) = &m.serving {
        if m.kind == PluginKind::Launcher {
            return Err(fail(format!(
                "launcher {} declares serving; only backends declare what their engine serves",
                m.name
            )));
        }
        check_serving(serving)
            .map_err(|message| fail(format!("{}: serving: {message}", m.name)))?;
    }
    if m.annotation_prefixes.len() > MAX_ANNOTATION_PREFIXES {
        return Err(fail(format!(
            "{} declares {} annotation prefixes; at most {MAX_ANNOTATION_PREFIXES} are accepted",
            m.name,
            m.annotation_prefixes.len()
        )));
    }
    for prefix in &m.annotation_prefixes {
        check_annotation_prefix(prefix).map_err(|message| {
            fail(format!(
                "{}: annotation prefix {prefix:?} {message}",
                m.name
            ))
        })?;
    }
    Ok(())
}

/// Most ports an engine may declare.
const MAX_SERVING_PORTS: usize = 8;
/// Most annotation prefixes a plugin may declare.
const MAX_ANNOTATION_PREFIXES: usize = 8;
/// Longest health path accepted.
const MAX_HEALTH_PATH_BYTES: usize = 256;
/// Port names the host gives Dynamo's worker defaults, which a Dynamo-runtime engine keeps.
const DYNAMO_PORT_NAMES: [&str; 2] = ["system", "nixl"];

/// Checks a backend's serving declaration: ports Kubernetes accepts and a plain HTTP path.
fn check_serving(serving: &dynamo_plugin_contract::Serving) -> Result<(), String> {
    if serving.ports.len() > MAX_SERVING_PORTS {
        return Err(format!(
            "declares {} ports; at most {MAX_SERVING_PORTS} are accepted",
            serving.ports.len()
        ));
    }
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for port in &serving.ports {
        if !is_port_name(&port.name) {
            return Err(format!(
                "port name {:?} is not a Kubernetes port name (1-15 lowercase letters, digits \
                 and '-', with a letter, no leading, trailing or double '-')",
                port.name
            ));
        }
        if port.number == 0 {
            return Err(format!("port {:?} has number 0", port.name));
        }
        if serving.dynamo_runtime && DYNAMO_PORT_NAMES.contains(&port.name.as_str()) {
            return Err(format!(
                "port name {:?} is taken by the Dynamo runtime's own ports",
                port.name
            ));
        }
        if !names.insert(port.name.as_str()) {
            return Err(format!("port name {:?} is declared twice", port.name));
        }
        if !numbers.insert(port.number) {
            return Err(format!("port number {} is declared twice", port.number));
        }
    }
    if let Some(path) = &serving.health_path {
        if !path.starts_with('/')
            || path.len() > MAX_HEALTH_PATH_BYTES
            || path.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "health path {path:?} must start with '/', hold no spaces and be at most \
                 {MAX_HEALTH_PATH_BYTES} bytes"
            ));
        }
        if serving.ports.is_empty() {
            return Err(format!(
                "health path {path:?} needs a port to probe; declare at least one port"
            ));
        }
        if serving.dynamo_runtime {
            return Err(format!(
                "health path {path:?} is for engines that are not a Dynamo runtime; a Dynamo \
                 runtime keeps its probes on the `system` port (declare none, or set \
                 dynamo-runtime to false)"
            ));
        }
    }
    Ok(())
}

/// True for an IANA service name as Kubernetes requires of a named port.
fn is_port_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Checks an annotation prefix: a DNS subdomain, `/`, then optionally the start of a name.
fn check_annotation_prefix(prefix: &str) -> Result<(), String> {
    let Some((domain, name)) = prefix.split_once('/') else {
        return Err("must be a DNS subdomain followed by '/', e.g. `example.com/`".to_owned());
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.len() > 253 || !domain.split('.').all(label_ok) {
        return Err(format!(
            "must start with a lowercase DNS subdomain, got `{domain}`"
        ));
    }
    if name.len() > 62
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(
            "may continue after '/' only with the start of an annotation name (letters, \
             digits, '-', '_', '.')"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
