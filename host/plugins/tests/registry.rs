//! The registry: built-ins, directory overrides, lookups and consistency checks.

mod common;

use common::{builtin_wasm, input, runtime};
use dynamo_plugin_runtime::{PluginError, PluginOrigin, PluginRegistry};

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

#[test]
fn duplicate_names_in_the_directory_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["a.wasm", "b.wasm"] {
        std::fs::write(
            dir.path().join(name),
            dynamo_plugin_test_fixtures::hostile(),
        )
        .expect("write");
    }
    let error = PluginRegistry::load(runtime(), Some(dir.path())).expect_err("duplicate");
    assert!(
        matches!(&error, PluginError::Registry { message } if message.contains("hostile")),
        "{error}"
    );
}

#[test]
fn bad_files_in_the_directory_fail_loading() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("v9.wasm"),
        dynamo_plugin_test_fixtures::wrong_version(),
    )
    .expect("write");
    let error = PluginRegistry::load(runtime(), Some(dir.path())).expect_err("wrong version");
    assert!(
        matches!(error, PluginError::VersionMismatch { .. }),
        "{error}"
    );

    let missing = dir.path().join("missing");
    let error = PluginRegistry::load(runtime(), Some(&missing)).expect_err("no dir");
    assert!(matches!(error, PluginError::Load { .. }), "{error}");
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
