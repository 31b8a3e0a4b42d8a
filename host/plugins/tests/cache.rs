//! The precompiled cache: a second load hits it, a corrupted artifact is detected and recompiled.

mod common;

use common::{input, load_echo as load};
use dynamo_plugin_runtime::{CacheOutcome, PluginRuntime, RuntimeConfig};

#[test]
fn second_load_hits_and_corruption_is_recompiled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("nested/cache");
    let runtime =
        PluginRuntime::new(RuntimeConfig::new().cache_dir(Some(cache.clone()))).expect("runtime");

    let first = load(&runtime);
    assert_eq!(first.cache_outcome(), CacheOutcome::Miss);
    let artifact = runtime
        .cache_artifact_path(dynamo_plugin_test_fixtures::echo())
        .expect("caching is on");
    assert!(artifact.starts_with(&cache));
    assert!(artifact.is_file());
    let digest = artifact.with_extension("cwasm.sha256");
    assert!(digest.is_file(), "digest stored beside the artifact");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&cache)
            .expect("cache dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "cache dir is private: {mode:o}");
    }

    let second = load(&runtime);
    assert_eq!(second.cache_outcome(), CacheOutcome::Hit);
    assert!(second.render(&input("cached")).is_ok());

    // A fresh runtime with the same settings reuses the artifact too.
    let again =
        PluginRuntime::new(RuntimeConfig::new().cache_dir(Some(cache.clone()))).expect("runtime");
    assert_eq!(load(&again).cache_outcome(), CacheOutcome::Hit);

    // Flip one byte in the middle of the artifact: detected, never deserialized, recompiled.
    let mut bytes = std::fs::read(&artifact).expect("artifact");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&artifact, &bytes).expect("corrupt");
    let recovered = load(&runtime);
    assert_eq!(recovered.cache_outcome(), CacheOutcome::Corrupt);
    assert!(recovered.render(&input("recovered")).is_ok());
    assert_eq!(
        load(&runtime).cache_outcome(),
        CacheOutcome::Hit,
        "rewritten"
    );

    // Truncation and a missing digest are corruption as well.
    std::fs::write(&artifact, &bytes[..16]).expect("truncate");
    assert_eq!(load(&runtime).cache_outcome(), CacheOutcome::Corrupt);
    std::fs::remove_file(&digest).expect("remove digest");
    assert_eq!(load(&runtime).cache_outcome(), CacheOutcome::Corrupt);
    assert_eq!(load(&runtime).cache_outcome(), CacheOutcome::Hit);
}

#[test]
fn runtime_limits_do_not_change_the_artifact_key() {
    // Limits size the instance pool but not the generated code, so artifacts stay shared; the
    // key changes only with the plugin bytes, the wasmtime version or code-generation settings.
    let dir = tempfile::tempdir().expect("tempdir");
    let a = PluginRuntime::new(RuntimeConfig::new().cache_dir(Some(dir.path().into())))
        .expect("runtime");
    let b = PluginRuntime::new(
        RuntimeConfig::new()
            .cache_dir(Some(dir.path().into()))
            .memory_limit(32 << 20)
            .max_concurrent_calls(4),
    )
    .expect("runtime");
    assert_eq!(a.cache_artifact_path(b"x"), b.cache_artifact_path(b"x"));
    assert_ne!(a.cache_artifact_path(b"x"), a.cache_artifact_path(b"y"));
}

#[test]
fn no_cache_dir_compiles_in_memory() {
    let runtime = PluginRuntime::new(RuntimeConfig::new().cache_dir(None)).expect("runtime");
    assert_eq!(runtime.cache_artifact_path(b"x"), None);
    assert_eq!(load(&runtime).cache_outcome(), CacheOutcome::Disabled);
}

#[test]
fn unwritable_cache_dir_does_not_fail_loading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    let runtime = PluginRuntime::new(RuntimeConfig::new().cache_dir(Some(file.join("cache"))))
        .expect("runtime");
    let plugin = load(&runtime);
    assert_eq!(plugin.cache_outcome(), CacheOutcome::Miss);
    assert!(plugin.render(&input("x")).is_ok());
}
