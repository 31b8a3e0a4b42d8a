//! Helpers shared by the runtime's integration tests.
#![allow(dead_code, missing_docs)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use dynamo_plugin_runtime::contract::{Component, Graph, RenderInput};
use dynamo_plugin_runtime::{LoadedPlugin, PluginOrigin, PluginRuntime, RuntimeConfig};

/// A precompiled cache shared by all test binaries and runs (under cargo's target tmp dir).
pub fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// The default configuration with the shared test cache.
pub fn config() -> RuntimeConfig {
    RuntimeConfig::new().cache_dir(Some(shared_cache_dir()))
}

/// One runtime per test binary, shared by its tests.
pub fn runtime() -> &'static PluginRuntime {
    static RUNTIME: OnceLock<PluginRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| PluginRuntime::new(config()).expect("runtime"))
}

/// The echo test plugin loaded on the shared runtime.
pub fn echo() -> &'static Arc<LoadedPlugin> {
    static ECHO: OnceLock<Arc<LoadedPlugin>> = OnceLock::new();
    ECHO.get_or_init(|| Arc::new(load_echo(runtime())))
}

/// Loads the echo test plugin on `runtime`.
pub fn load_echo(runtime: &PluginRuntime) -> LoadedPlugin {
    runtime
        .load(
            PluginOrigin::Bytes("echo fixture".into()),
            dynamo_plugin_test_fixtures::echo(),
        )
        .expect("echo loads")
}

/// The hostile test plugin loaded on the shared runtime.
pub fn hostile() -> &'static Arc<LoadedPlugin> {
    static HOSTILE: OnceLock<Arc<LoadedPlugin>> = OnceLock::new();
    HOSTILE.get_or_init(|| Arc::new(load_hostile(runtime())))
}

/// Loads the hostile test plugin on `runtime`.
pub fn load_hostile(runtime: &PluginRuntime) -> LoadedPlugin {
    runtime
        .load(
            PluginOrigin::Bytes("hostile fixture".into()),
            dynamo_plugin_test_fixtures::hostile(),
        )
        .expect("hostile loads")
}

/// Bytes of a built-in by package name.
pub fn builtin_wasm(package: &str) -> &'static [u8] {
    dynamo_plugin_builtins::all()
        .find(|b| b.package == package)
        .map(|b| b.wasm)
        .expect("builtin exists")
}

pub fn load_builtin(runtime: &PluginRuntime, package: &str) -> LoadedPlugin {
    runtime
        .load(PluginOrigin::Builtin(package.into()), builtin_wasm(package))
        .expect("builtin loads")
}

/// A render input for service `service` in namespace `ns` with a one-container pod.
pub fn input(service: &str) -> RenderInput {
    RenderInput {
        graph: Graph {
            name: "graph".into(),
            namespace: "ns".into(),
            dynamo_namespace: "dyn".into(),
            annotations: Vec::new(),
        },
        component: Component {
            service_name: service.into(),
            component_type: "worker".into(),
            backend_framework: "echo".into(),
            replicas: 1,
            ..Component::default()
        },
        pod_template: serde_json::json!({
            "metadata": {"namespace": "ns", "labels": {"app": service}},
            "spec": {"containers": [{"name": "main", "image": "img", "command": ["python3", "-m", "dynamo.echo"]}]}
        })
        .to_string(),
        ..RenderInput::default()
    }
}
