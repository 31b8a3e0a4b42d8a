//! The registry: built-ins, directory overrides, lookups and consistency checks.

mod common;

use common::{builtin_wasm, input, runtime};
use dynamo_plugin_runtime::{PluginError, PluginOrigin, PluginRegistry, PluginRuntime};

#[test]
fn builtins_are_found_by_name_framework_and_module() {
    let registry = PluginRegistry::load(runtime(), None).expect("registry");
    assert_eq!(
        registry.iter().map(|p| p.name()).collect::<Vec<_>>(),
        ["mpi", "sglang", "trtllm", "vllm"],
        "the built-ins, sorted by name"
    );
    let vllm = registry.get("vllm").expect("vllm");
    assert_eq!(
        vllm.origin(),
        &PluginOrigin::Builtin("dynamo-plugin-vllm".into())
    );
    assert_eq!(vllm.metadata().frameworks, ["vllm"]);
    assert!(std::ptr::eq(
        registry
            .by_framework("vllm")
            .expect("by framework")
            .as_ref(),
        vllm.as_ref()
    ));
    for module in ["dynamo.vllm", "dynamo.sglang", "dynamo.trtllm"] {
        assert!(registry.by_python_module(module).is_some(), "{module}");
        assert!(registry.python_modules().any(|m| m == module), "{module}");
    }
    assert!(registry.by_framework("nope").is_none());
    assert!(registry.launcher("vllm").is_none(), "vllm is a backend");
    let trtllm = registry.get("trtllm").expect("trtllm");
    let launcher = trtllm
        .metadata()
        .multinode_launcher
        .as_deref()
        .expect("trtllm names a launcher");
    assert!(
        registry.launcher(launcher).is_some(),
        "{launcher} is loaded"
    );
}

#[test]
fn echo_renders_and_validates() {
    let echo = common::echo();
    let out = echo.render(&input("decode")).expect("renders");
    assert!(out.pod_template.contains("ECHO_SERVICE"));
    assert!(
        echo.validate(&input("decode"))
            .expect("validates")
            .is_empty()
    );
    assert_eq!(echo.validate(&input("")).expect("validates").len(), 1);
}

#[test]
fn plugin_dir_overrides_builtins_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("my-vllm.wasm"),
        builtin_wasm("dynamo-plugin-vllm"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("hostile.wasm"),
        dynamo_plugin_test_fixtures::hostile(),
    )
    .expect("write");
    std::fs::write(dir.path().join("README.md"), "ignored").expect("write");
    let registry = PluginRegistry::load(runtime(), Some(dir.path())).expect("registry");
    let vllm = registry.get("vllm").expect("vllm");
    assert_eq!(
        vllm.origin(),
        &PluginOrigin::File(dir.path().join("my-vllm.wasm"))
    );
    assert!(registry.by_framework("hostile").is_some());
    assert_eq!(
        registry.iter().map(|p| p.name()).collect::<Vec<_>>(),
        ["hostile", "mpi", "sglang", "trtllm", "vllm"],
        "sorted by name"
    );
}

/// A registry over a fresh directory holding `files`, on `runtime`.
fn registry_with(
    runtime: &PluginRuntime,
    files: &[(&str, &[u8])],
) -> (tempfile::TempDir, PluginRegistry) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    let registry = PluginRegistry::load(runtime, Some(dir.path())).expect("the registry loads");
    (dir, registry)
}

fn rejected(registry: &PluginRegistry) -> Vec<(String, String)> {
    registry
        .rejected()
        .iter()
        .map(|r| {
            let file = std::path::Path::new(&r.origin)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (file, r.error.to_string())
        })
        .collect()
}

#[test]
fn duplicate_names_in_the_directory_are_both_rejected() {
    let hostile = dynamo_plugin_test_fixtures::hostile();
    let echo = dynamo_plugin_test_fixtures::echo();
    let (_dir, registry) = registry_with(
        runtime(),
        &[
            ("a.wasm", hostile),
            ("b.wasm", hostile),
            ("echo.wasm", echo),
        ],
    );
    let found = rejected(&registry);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .all(|(_, e)| e.contains("two plugin directory plugins are named hostile")),
        "{found:?}"
    );
    assert!(registry.get("hostile").is_none());
    assert!(registry.get("echo").is_some(), "the other plugin is kept");
}

#[test]
fn one_bad_file_is_rejected_and_the_rest_load() {
    let (_dir, registry) = registry_with(
        runtime(),
        &[
            ("v9.wasm", dynamo_plugin_test_fixtures::wrong_version()),
            ("garbage.wasm", b"\0asm\x01\0\0\0garbage"),
            ("echo.wasm", dynamo_plugin_test_fixtures::echo()),
        ],
    );
    let found = rejected(&registry);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .any(|(f, e)| f == "v9.wasm" && e.contains("9.0.0")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(f, e)| f == "garbage.wasm" && e.contains("cannot compile")),
        "{found:?}"
    );
    assert!(registry.get("echo").is_some());
    assert!(registry.get("vllm").is_some(), "built-ins are unaffected");

    let missing = tempfile::tempdir().expect("tempdir").path().join("missing");
    let error = PluginRegistry::load(runtime(), Some(&missing)).expect_err("no dir");
    assert!(matches!(error, PluginError::Load { .. }), "{error}");
}

#[test]
fn a_plugin_claiming_a_builtin_framework_is_rejected() {
    let (_dir, registry) = registry_with(
        runtime(),
        &[("impostor.wasm", dynamo_plugin_test_fixtures::impostor())],
    );
    let found = rejected(&registry);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .1
            .contains("framework vllm is claimed by built-in plugin vllm"),
        "{found:?}"
    );
    assert_eq!(
        registry.by_framework("vllm").map(|p| p.name()),
        Some("vllm"),
        "the built-in keeps its framework"
    );
}

#[test]
fn replacing_a_builtin_is_reported_and_can_be_forbidden() {
    let vllm = builtin_wasm("dynamo-plugin-vllm");
    let (_dir, registry) = registry_with(runtime(), &[("my-vllm.wasm", vllm)]);
    assert_eq!(registry.overridden().len(), 1);
    assert_eq!(registry.overridden()[0].name, "vllm");

    let strict =
        PluginRuntime::new(common::config().allow_builtin_override(false)).expect("runtime");
    let (_dir, registry) = registry_with(&strict, &[("my-vllm.wasm", vllm)]);
    assert!(registry.overridden().is_empty());
    let found = rejected(&registry);
    assert!(found[0].1.contains("allowBuiltinOverride"), "{found:?}");
    assert_eq!(
        registry.get("vllm").map(|p| p.origin().clone()),
        Some(PluginOrigin::Builtin("dynamo-plugin-vllm".into())),
        "the built-in stays"
    );
}

#[test]
fn a_plugin_of_the_previous_contract_still_loads_and_renders() {
    let plugin = runtime()
        .load(
            PluginOrigin::Bytes("legacy".into()),
            dynamo_plugin_test_fixtures::legacy(),
        )
        .expect("a 0.1.0 component loads");
    assert_eq!(plugin.contract_version(), "0.1.0");
    assert!(plugin.declared_capabilities().is_empty());
    let mut i = input("decode");
    i.pod_template = r#"{"metadata":{"annotations":{"a":"b"}},"spec":{"containers":[{"name":"main","image":"img"}]}}"#.into();
    let out = plugin.render(&i).expect("renders");
    assert!(
        out.pod_template
            .contains("legacy.plugins.dynamo.nvidia.com/rendered"),
        "{}",
        out.pod_template
    );
    assert_eq!(out.warnings, ["rendered by a 0.1.0 plugin"]);
}

#[test]
fn a_plugin_of_contract_0_2_still_loads_as_a_dynamo_engine() {
    let plugin = runtime()
        .load(
            PluginOrigin::Bytes("legacy-v2".into()),
            dynamo_plugin_test_fixtures::legacy_v2(),
        )
        .expect("a 0.2.0 component loads");
    assert_eq!(plugin.contract_version(), "0.2.0");
    assert_eq!(
        plugin.metadata().capabilities,
        ["privileged"],
        "0.2.0 capabilities are read"
    );
    assert_eq!(plugin.metadata().serving, None, "read as a Dynamo engine");
    assert!(plugin.metadata().annotation_prefixes.is_empty());
    let mut i = input("decode");
    i.component.gpu_resource = "amd.com/gpu".into();
    i.pod_template = r#"{"metadata":{"annotations":{"a":"b"}},"spec":{"containers":[{"name":"main","image":"img"}]}}"#.into();
    let out = plugin.render(&i).expect("renders");
    assert!(
        out.pod_template
            .contains("legacy-v2.plugins.dynamo.nvidia.com/rendered"),
        "{}",
        out.pod_template
    );
    assert_eq!(out.warnings, ["rendered by a 0.2.0 plugin"]);
}

#[test]
fn loaded_plugins_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<dynamo_plugin_runtime::LoadedPlugin>();
    assert_send_sync::<PluginRegistry>();
    assert_send_sync::<dynamo_plugin_runtime::PluginRuntime>();
}

#[test]
fn cold_start_with_a_warm_cache_loads_every_builtin_from_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config =
        || dynamo_plugin_runtime::RuntimeConfig::new().cache_dir(Some(dir.path().to_owned()));
    let warmup = dynamo_plugin_runtime::PluginRuntime::new(config()).expect("runtime");
    PluginRegistry::load(&warmup, None).expect("fills the cache");

    let start = std::time::Instant::now();
    let runtime = dynamo_plugin_runtime::PluginRuntime::new(config()).expect("runtime");
    let registry = PluginRegistry::load(&runtime, None).expect("registry");
    let elapsed = start.elapsed();
    assert!(
        registry
            .iter()
            .all(|p| p.cache_outcome() == dynamo_plugin_runtime::CacheOutcome::Hit)
    );
    // The time itself is measured by the benchmarks (BENCHMARKS.md), not asserted here.
    eprintln!("cold start with a warm cache took {elapsed:?}");
}
