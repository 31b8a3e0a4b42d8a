//! Validation tests of the MPI launcher.

mod common;

use common::*;
use dynamo_plugin_mpi::{ENTRYPOINT_WRAPPER_ANNOTATION, Mpi};
use dynamo_plugin_sdk::{Plugin, Role, Severity};

const FIXTURE: &str = "trtllm-disagg-multinode.yaml";

#[test]
fn the_anchor_example_is_valid() {
    for placement in [grove(Role::Leader, "prefill", 2), lws(Role::Worker, 2)] {
        assert_eq!(Mpi::validate(&load_at(FIXTURE, placement)), vec![]);
    }
}

#[test]
fn an_explicit_command_is_required() {
    let mut input = load_at(FIXTURE, lws(Role::Leader, 2));
    input.pod_template = r#"{"spec":{"containers":[{"name":"main","image":"i"}]}}"#.into();
    let d = Mpi::validate(&input);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].field_path,
        "spec.services.prefill.extraPodSpec.mainContainer.command"
    );
    assert_eq!(d[0].severity, Severity::Error);

    // Single node: not the launcher's concern.
    input.placement = Default::default();
    assert_eq!(Mpi::validate(&input), vec![]);
}

#[test]
fn malformed_handoff_annotations_and_pods() {
    let mut input = load_at(FIXTURE, lws(Role::Leader, 2));
    input.pod_template = format!(
        r#"{{"metadata":{{"annotations":{{"{ENTRYPOINT_WRAPPER_ANNOTATION}":"'"}}}},"spec":{{"containers":[{{"name":"main","command":["x"]}}]}}}}"#
    );
    let d = Mpi::validate(&input);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].field_path.contains(ENTRYPOINT_WRAPPER_ANNOTATION),
        "{d:?}"
    );

    input.pod_template = "nope".into();
    assert_eq!(Mpi::validate(&input)[0].field_path, "podTemplate");
}
