//! The plugin run natively on `tests/fixtures/main.json` through the SDK harness, the way the
//! operator calls the component (`validate` first, then `render`).
//!
//! The fixture is a render input as `dynamo-operator render --plugin-input <dir>` writes it: to
//! test another case, record its input with the operator and copy the file here.

use std::path::PathBuf;

use dynamo_plugin_sdk::testing::{self, argv, env, strings};
use dynamo_plugin_sdk::{KeyValue, Plugin, PluginError, RenderInput, harness};

// The plugin crate, in a group of its own so the import order does not depend on its name.
use {{crate_name}}::{Backend, CACHE_PATH, MAX_BATCH_SIZE};

fn fixture(name: &str) -> PathBuf {
    testing::fixture_path(env!("CARGO_MANIFEST_DIR"), name)
}

fn main_json() -> RenderInput {
    harness::load_input(fixture("main.json")).expect("fixture loads")
}

#[test]
fn renders_flags_cache_and_env() {
    assert!(
        harness::validate::<Backend>(fixture("main.json"))
            .expect("validates")
            .is_empty()
    );
    let out = harness::render::<Backend>(fixture("main.json")).expect("renders");
    assert!(out.warnings.is_empty() && out.extra_objects.is_empty());

    let main = testing::main(&out);
    assert_eq!(
        argv(&main),
        strings(&[
            "--model",
            "Qwen/Qwen3-0.6B",
            "--port",
            "8000",
            "--max-batch-size",
            "32"
        ])
    );
    assert!(
        main.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == CACHE_PATH)
    );
    assert_eq!(
        env(&main).get("HF_HOME"),
        Some(&Some(CACHE_PATH.to_owned()))
    );
    let volumes = testing::pod(&out)
        .spec
        .and_then(|s| s.volumes)
        .unwrap_or_default();
    assert!(
        volumes
            .iter()
            .any(|v| v.name == "model-cache" && v.empty_dir.is_some())
    );
}

#[test]
fn a_bad_annotation_is_reported_and_stops_the_render() {
    let mut input = main_json();
    input
        .graph
        .annotations
        .retain(|kv| kv.key != MAX_BATCH_SIZE);
    input
        .graph
        .annotations
        .push(KeyValue::new(MAX_BATCH_SIZE, "lots"));

    let found = Backend::validate(&input);
    let field = format!("spec.services.engine.annotations[{MAX_BATCH_SIZE}]");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field_path, field);

    match dynamo_plugin_sdk::render_checked::<Backend>(&input) {
        Err(PluginError::InvalidInput(d)) => assert_eq!(d.field_path, field),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn metadata_declares_serving_and_the_annotation_prefix() {
    let m = Backend::metadata();
    assert_eq!(m.frameworks, [m.name.as_str()]);
    let serving = m.serving.expect("serving");
    assert!(!serving.dynamo_runtime);
    assert_eq!(serving.ports[0].name, "http");
    assert_eq!(m.annotation_prefixes.len(), 1);
}
