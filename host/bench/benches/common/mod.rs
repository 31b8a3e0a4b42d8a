//! Shared by the bench targets: the plugin set an operator release ships, the render inputs the
//! host really builds, native and WebAssembly plugin sets for `dynamo_render::render`, and
//! `/proc` readings.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use dynamo_api::DynamoGraphDeployment;
use dynamo_plugin_runtime::contract::{Diagnostic, Metadata, RenderInput, RenderOutput, Role};
use dynamo_plugin_runtime::{
    LoadedPlugin, PluginError, PluginOrigin, PluginRegistry, PluginRuntime, RuntimeConfig,
};
use dynamo_plugin_sdk::Plugin as _;
use dynamo_plugin_vllm::Vllm;
use dynamo_render::{Orchestrator, PluginCallError, PluginSet, RenderConfig};

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// Cargo package of the vLLM plugin.
pub const VLLM: &str = "dynamo-plugin-vllm";
/// Cargo package of the echo test plugin.
pub const ECHO: &str = "dynamo-plugin-echo";
/// The anchor example with one single-node vLLM worker.
pub const AGG: &str = "vllm-agg";
/// The anchor example with two two-node vLLM workers (prefill and decode).
pub const DISAGG_MULTINODE: &str = "vllm-disagg-multinode";
/// The operator version the `render` CLI assumes for graphs without an origin-version annotation
/// (`dynamo-operator` `DYNAMO_COMPATIBILITY_VERSION`): vLLM multi-node then uses the `mp` executor.
pub const OPERATOR_VERSION: &str = "1.1.0";

/// The plugins an operator release ships besides its built-ins, should one not be built in.
pub const SHIPPED: [&str; 4] = [
    VLLM,
    "dynamo-plugin-sglang",
    "dynamo-plugin-trtllm",
    "dynamo-plugin-mpi",
];

/// Shipped plugins that this build's built-ins lack (see [`SHIPPED`]): the bench's own copies.
pub fn extra_plugins() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    PLUGINS.iter().copied().filter(|(package, _)| {
        SHIPPED.contains(package)
            && !dynamo_plugin_builtins::all().any(|builtin| builtin.package == *package)
    })
}

/// Every plugin an operator release ships: the built-ins plus [`extra_plugins`].
pub fn release_plugins() -> Vec<(&'static str, &'static [u8])> {
    dynamo_plugin_builtins::all()
        .map(|b| (b.package, b.wasm))
        .chain(extra_plugins())
        .collect()
}

/// The component bytes of `package` (the built-in when there is one).
pub fn component(package: &str) -> &'static [u8] {
    dynamo_plugin_builtins::all()
        .map(|b| (b.package, b.wasm))
        .chain(PLUGINS.iter().copied())
        .find(|(p, _)| *p == package)
        .map(|(_, wasm)| wasm)
        .unwrap_or_else(|| panic!("no component for {package}"))
}

/// Loads the `echo` test plugin (a plugin that does next to nothing) on `runtime`.
pub fn echo(runtime: &PluginRuntime) -> LoadedPlugin {
    runtime
        .load(PluginOrigin::Bytes("echo".into()), component(ECHO))
        .expect("echo loads")
}

/// A runtime with default limits and the precompiled cache in `cache` (none: no disk cache).
pub fn runtime(cache: Option<&Path>) -> PluginRuntime {
    PluginRuntime::new(RuntimeConfig::new().cache_dir(cache.map(Path::to_owned)))
        .expect("plugin runtime starts")
}

/// A precompiled-cache directory for the benches that are not about loading: under cargo's
/// `CARGO_TARGET_TMPDIR`, so it survives between runs and only the first ever compiles.
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("dynamo-bench-plugin-cache")
}

/// Names a `.wasm` file that replaces the vLLM plugin in every bench (e.g. a build with other
/// optimisation settings), loaded like a `--plugin-dir` plugin.
pub const VLLM_OVERRIDE_ENV: &str = "DYNAMO_BENCH_VLLM_WASM";

/// Loads every release plugin (see [`release_plugins`]) into a registry, with the vLLM plugin
/// from `$DYNAMO_BENCH_VLLM_WASM` when set.
pub fn release_registry(runtime: &PluginRuntime) -> Result<PluginRegistry, PluginError> {
    let mut builder = PluginRegistry::builder(runtime).builtins()?;
    for (package, wasm) in extra_plugins() {
        builder = builder.builtin_bytes(package, wasm)?;
    }
    if let Some(path) = std::env::var_os(VLLM_OVERRIDE_ENV) {
        builder = builder.plugin(runtime.load_file(Path::new(&path))?);
    }
    builder.build()
}

/// The WebAssembly plugin set, as the operator wires it (`dynamo-operator`'s `LoadedPlugins`).
pub struct WasmPlugins {
    /// The loaded plugins.
    pub registry: PluginRegistry,
    /// The runtime they run on.
    pub runtime: PluginRuntime,
}

impl WasmPlugins {
    /// Loads the release plugins with the precompiled cache in `cache`.
    pub fn load(cache: Option<&Path>) -> Self {
        let runtime = runtime(cache);
        let registry = release_registry(&runtime).expect("release plugins load");
        Self { registry, runtime }
    }
}

impl PluginSet for WasmPlugins {
    fn metadata(&self) -> Vec<&Metadata> {
        self.registry.metadata()
    }

    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError> {
        PluginSet::render(&self.registry, plugin, input)
    }

    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError> {
        PluginSet::validate(&self.registry, plugin, input)
    }
}

/// The vLLM plugin compiled natively and called directly: the same logic with no runtime.
pub struct NativePlugins {
    metadata: Vec<Metadata>,
}

impl NativePlugins {
    /// A set holding the native vLLM plugin.
    pub fn new() -> Self {
        Self {
            metadata: vec![Vllm::metadata()],
        }
    }
}

impl PluginSet for NativePlugins {
    fn metadata(&self) -> Vec<&Metadata> {
        self.metadata.iter().collect()
    }

    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError> {
        match plugin {
            "vllm" => Vllm::render(input).map_err(PluginCallError::Reported),
            other => Err(PluginCallError::NotLoaded(other.to_owned())),
        }
    }

    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError> {
        match plugin {
            "vllm" => Ok(Vllm::validate(input)),
            other => Err(PluginCallError::NotLoaded(other.to_owned())),
        }
    }
}

/// Passes calls through to another set and records every render input.
struct Recording<'a> {
    inner: &'a dyn PluginSet,
    inputs: Mutex<Vec<RenderInput>>,
}

impl PluginSet for Recording<'_> {
    fn metadata(&self) -> Vec<&Metadata> {
        self.inner.metadata()
    }

    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError> {
        self.inputs
            .lock()
            .expect("not poisoned")
            .push(input.clone());
        self.inner.render(plugin, input)
    }

    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError> {
        self.inner.validate(plugin, input)
    }
}

/// Parses anchor example `name` (e.g. `vllm-agg`) from the repository's Dynamo fixtures.
pub fn anchor(name: &str) -> DynamoGraphDeployment {
    let example = dynamo_fixtures::anchor_example(name);
    // The anchors are v1alpha1: read them as the operator does, converted to the v1beta1 model.
    let value: serde_json::Value = serde_yaml_ng::from_str(&example.text)
        .unwrap_or_else(|e| panic!("{}: {e}", example.path.display()));
    dynamo_render::input::graph(value).unwrap_or_else(|e| panic!("{}: {e}", example.path.display()))
}

/// The render configuration of `dynamo-operator render --orchestrator grove` with defaults.
pub fn render_config() -> RenderConfig {
    RenderConfig::default()
        .with_orchestrator(Orchestrator::Grove)
        .with_operator_version(OPERATOR_VERSION)
}

/// Every plugin render input the host builds for `graph`, in call order.
pub fn captured_inputs(graph: &DynamoGraphDeployment) -> Vec<RenderInput> {
    let native = NativePlugins::new();
    let recording = Recording {
        inner: &native,
        inputs: Mutex::new(Vec::new()),
    };
    dynamo_render::render(graph, &render_config(), &recording).expect("anchor renders");
    recording.inputs.into_inner().expect("not poisoned")
}

/// Real vLLM render inputs, as the host builds them.
pub struct VllmInputs {
    /// `VllmDecodeWorker` of `vllm-agg`: single node, role `main`.
    pub main: RenderInput,
    /// `decode` of `vllm-disagg-multinode` (two nodes, `mp` executor), role `leader`.
    pub leader: RenderInput,
    /// The same component, role `worker`.
    pub worker: RenderInput,
}

impl VllmInputs {
    /// Captures the inputs from the anchor examples.
    pub fn capture() -> Self {
        let find = |graph: &str, service: &str, role: Role| {
            captured_inputs(&anchor(graph))
                .into_iter()
                .find(|i| i.component.service_name == service && i.placement.role == role)
                .unwrap_or_else(|| panic!("{graph} renders no {service} {role:?}"))
        };
        Self {
            main: find(AGG, "VllmDecodeWorker", Role::Main),
            leader: find(DISAGG_MULTINODE, "decode", Role::Leader),
            worker: find(DISAGG_MULTINODE, "decode", Role::Worker),
        }
    }

    /// `(label, input)` for each case.
    pub fn cases(&self) -> [(&'static str, &RenderInput); 3] {
        [
            ("single-node", &self.main),
            ("mp-leader", &self.leader),
            ("mp-worker", &self.worker),
        ]
    }
}

/// A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`, ...).
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Resets the peak RSS (`VmHWM`) to the current RSS (Linux `clear_refs` value 5).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
