//! Validation tests of the vLLM plugin: each diagnostic, with its field path and severity.

mod common;

use common::*;
use dynamo_plugin_sdk::{Diagnostic, Plugin, Role, Severity, harness};
use dynamo_plugin_vllm::Vllm;

const ARGS: &str = "spec.services.decode.extraPodSpec.mainContainer.args";

/// The disagg fixture on Grove with engine args `args` and `gpus` GPUs per node over `nodes`.
fn input(args: &[&str], gpus: u32, nodes: u32) -> dynamo_plugin_sdk::RenderInput {
    let mut input = load_at(
        "disagg-multinode.yaml",
        grove(Role::Leader, "decode", nodes),
    );
    input.component.gpus_per_node = gpus;
    input.pod_template = serde_json::json!({"spec": {"containers": [{
        "name": "main",
        "image": "i",
        "command": ["python3", "-m", "dynamo.vllm"],
        "args": args,
    }]}})
    .to_string();
    input
}

fn only(diagnostics: Vec<Diagnostic>) -> Diagnostic {
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    diagnostics.into_iter().next().expect("one")
}

#[test]
fn the_anchor_examples_are_valid() {
    assert_eq!(
        harness::validate::<Vllm>(fixture("agg.yaml")).expect("validates"),
        vec![]
    );
    for placement in [grove(Role::Leader, "decode", 2), lws(Role::Worker, 2)] {
        assert_eq!(
            Vllm::validate(&load_at("disagg-multinode.yaml", placement)),
            vec![]
        );
    }
    assert_eq!(
        Vllm::validate(&load_at("data-parallel.yaml", lws(Role::Worker, 2))),
        vec![]
    );
}

#[test]
fn a_non_numeric_size_is_an_error_on_multinode_and_a_warning_otherwise() {
    let d = only(Vllm::validate(&input(
        &["--tensor-parallel-size", "two"],
        1,
        2,
    )));
    assert_eq!((d.field_path.as_str(), d.severity), (ARGS, Severity::Error));
    assert!(
        d.message.contains("--tensor-parallel-size") && d.message.contains("two"),
        "{}",
        d.message
    );

    let d = only(Vllm::validate(&input(
        &["--pipeline-parallel-size=0"],
        1,
        2,
    )));
    assert!(
        d.message.contains("--pipeline-parallel-size"),
        "{}",
        d.message
    );

    let mut single = input(&["-dp", "many"], 1, 2);
    single.placement = Default::default();
    let d = only(Vllm::validate(&single));
    assert_eq!(
        (d.field_path.as_str(), d.severity),
        (ARGS, Severity::Warning)
    );
}

#[test]
fn a_world_size_that_does_not_divide_over_the_nodes() {
    let d = only(Vllm::validate(&input(&["-tp", "3"], 2, 2)));
    assert_eq!((d.field_path.as_str(), d.severity), (ARGS, Severity::Error));
    assert!(
        d.message.contains("world size 3") && d.message.contains("nodeCount 2"),
        "{}",
        d.message
    );
}

#[test]
fn a_world_size_beyond_the_group() {
    let d = only(Vllm::validate(&input(&["-tp", "8", "-pp", "2"], 4, 2)));
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.message.contains("world size 16") && d.message.contains("2 nodes × 4 GPUs"),
        "{}",
        d.message
    );
}

#[test]
fn idle_gpus_are_a_warning() {
    let d = only(Vllm::validate(&input(&["-tp", "6"], 4, 2)));
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("uses 3 of the 4 GPUs"), "{}", d.message);

    let d = only(Vllm::validate(&input(&["-tp", "3", "-dp", "4"], 4, 4)));
    assert_eq!(d.severity, Severity::Warning);
    assert!(
        d.message.contains("1 GPU(s) per node stay idle"),
        "{}",
        d.message
    );
}

#[test]
fn a_data_parallel_size_that_does_not_match_the_nodes() {
    let d = only(Vllm::validate(&input(
        &["-tp", "2", "--data-parallel-size", "6"],
        8,
        2,
    )));
    assert_eq!((d.field_path.as_str(), d.severity), (ARGS, Severity::Error));
    assert!(
        d.message.contains("`--data-parallel-size` 6")
            && d.message.contains("4 data-parallel ranks per node"),
        "{}",
        d.message
    );
}

#[test]
fn no_gpu_count_is_a_warning() {
    let d = only(Vllm::validate(&input(&["-tp", "2"], 0, 2)));
    assert_eq!(d.field_path, "spec.services.decode.resources.limits.gpu");
    assert_eq!(d.severity, Severity::Warning);
}

#[test]
fn nothing_to_span_is_a_warning() {
    let d = only(Vllm::validate(&input(&["--model", "m"], 1, 2)));
    assert_eq!(d.field_path, "spec.services.decode.multinode.nodeCount");
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("independent engines"), "{}", d.message);
}

#[test]
fn render_failures_become_diagnostics() {
    let mut bad = input(&[], 1, 2);
    bad.pod_template =
        r#"{"spec":{"containers":[{"name":"main","command":["sh","-c","serve -tp 2"]}]}}"#.into();
    let d = only(Vllm::validate(&bad));
    assert_eq!(
        d.field_path,
        "spec.services.decode.extraPodSpec.mainContainer.command"
    );
    assert_eq!(d.severity, Severity::Error);

    bad.pod_template = "not json".into();
    let d = only(Vllm::validate(&bad));
    assert_eq!(d.field_path, "podTemplate");
}

#[test]
fn single_node_components_are_not_checked_for_placement() {
    let mut single = input(&["-tp", "3"], 2, 2);
    single.placement = Default::default();
    assert_eq!(Vllm::validate(&single), vec![]);
}

#[test]
fn operator_owned_launch_flags_are_rejected() {
    let diagnostics = Vllm::validate(&input(
        &["-tp", "2", "--nnodes", "2", "--node_rank=1"],
        1,
        2,
    ));
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    assert!(
        diagnostics
            .iter()
            .all(|d| d.field_path == ARGS && d.severity == Severity::Error)
    );
    assert!(
        diagnostics[0].message.contains("`--nnodes`"),
        "{diagnostics:?}"
    );
    assert!(
        diagnostics[1].message.contains("`--node_rank`"),
        "{diagnostics:?}"
    );

    let d = only(Vllm::validate(&input(
        &["-tp", "2", "-dp", "8", "-dpl", "4"],
        8,
        2,
    )));
    assert!(d.message.contains("`-dpl`"), "{}", d.message);

    // The same flags are fine when the operator does not set them (nothing spans nodes here).
    let d = only(Vllm::validate(&input(&["--nnodes", "1"], 1, 2)));
    assert_eq!(d.severity, Severity::Warning);
}
