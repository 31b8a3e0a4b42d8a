//! Runs every conformance vector of `examples/tgi/conformance/` natively through the SDK harness.
//!
//! To rewrite every vector's `expect` from this implementation (after changing an input, adding a
//! vector without `expect`, or replacing inputs with `render --plugin-input` dumps):
//!
//! ```sh
//! UPDATE_CONFORMANCE=1 cargo test -p tgi-backend-plugin --test conformance
//! ```
//!
//! then review every changed expectation by hand against `examples/tgi/SPEC.md`.

use std::path::{Path, PathBuf};

use dynamo_plugin_sdk::harness;
use dynamo_plugin_sdk::harness::vectors::{self, Call, Outcome, Vector, vector_files};
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;
use tgi_backend_plugin::Tgi;

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance")
}

/// True while `UPDATE_CONFORMANCE=1` rewrites the vectors: the checks on the files wait for the
/// next run, since they would race with the rewrite.
fn updating() -> bool {
    std::env::var_os(vectors::UPDATE_ENV).is_some_and(|v| v == "1")
}

fn vectors() -> Vec<(String, Vector)> {
    vector_files(conformance_dir())
        .expect("conformance folder")
        .into_iter()
        .map(|path| {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (file, Vector::load(&path).expect("vector loads"))
        })
        .collect()
}

#[test]
fn every_vector_conforms() {
    let count = harness::run_conformance::<Tgi>(conformance_dir());
    assert!(count >= 12, "only {count} vectors");
}

/// The Python and JavaScript versions edit the pod template as plain JSON while this one goes
/// through the Kubernetes types; they agree only on inputs the host could have sent, i.e. pod
/// templates that the Kubernetes types read and write back unchanged.
#[test]
fn inputs_are_pod_templates_as_the_host_serializes_them() {
    if updating() {
        return;
    }
    for (file, vector) in vectors() {
        let sent: Value = serde_json::from_str(&vector.input.pod_template).expect("JSON");
        let typed: PodTemplateSpec =
            serde_json::from_value(sent.clone()).expect("a PodTemplateSpec");
        assert_eq!(
            serde_json::to_value(&typed).expect("serializes"),
            sent,
            "{file}: the pod template does not round-trip through k8s-openapi"
        );
    }
}

/// Vector files are named `NN-<slug>.json`, numbered without gaps, and hold `expect` of the kind
/// their call returns.
#[test]
fn vectors_are_numbered_and_well_formed() {
    if updating() {
        return;
    }
    let vectors = vectors();
    for (i, (file, vector)) in vectors.iter().enumerate() {
        assert!(
            file.starts_with(&format!("{:02}-", i + 1)),
            "{file} should be number {}",
            i + 1
        );
        match (&vector.call, &vector.expect) {
            (Call::Render, Some(Outcome::Output(_) | Outcome::Error(_)))
            | (Call::Validate, Some(Outcome::Diagnostics(_))) => {}
            (call, expect) => panic!("{file}: {call:?} with expect {expect:?}"),
        }
    }
}
