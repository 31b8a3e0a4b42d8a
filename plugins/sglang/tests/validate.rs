//! Validation tests of the SGLang plugin.

mod common;

use common::*;
use dynamo_plugin_sdk::{Diagnostic, Plugin, RenderInput, Role, Severity, harness};
use dynamo_plugin_sglang::Sglang;

const ARGS: &str = "spec.services.decode.extraPodSpec.mainContainer.args";

fn input(args: &[&str], gpus: u32, nodes: u32) -> RenderInput {
    let mut input = load_at(
        "disagg-multinode.yaml",
        grove(Role::Worker, "decode", nodes),
    );
    input.component.gpus_per_node = gpus;
    input.pod_template = serde_json::json!({"spec": {"containers": [{
        "name": "main",
        "command": ["python3", "-m", "dynamo.sglang"],
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
        harness::validate::<Sglang>(fixture("agg.yaml")).expect("validates"),
        vec![]
    );
    for placement in [
        grove(Role::Leader, "decode", 2),
        grove(Role::Worker, "decode", 2),
        lws(Role::Worker, 2),
    ] {
        assert_eq!(
            Sglang::validate(&load_at("disagg-multinode.yaml", placement)),
            vec![]
        );
    }
}

#[test]
fn sizes_must_be_numbers() {
    let d = only(Sglang::validate(&input(&["--tp-size", "eight"], 4, 2)));
    assert_eq!((d.field_path.as_str(), d.severity), (ARGS, Severity::Error));
    assert!(
        d.message.contains("`--tp-size`") && d.message.contains("eight"),
        "{}",
        d.message
    );
    let d = only(Sglang::validate(&input(
        &["--tp", "8", "--pp-size=0"],
        4,
        2,
    )));
    assert!(d.message.contains("`--pp-size`"), "{}", d.message);
}

#[test]
fn sizes_must_divide_over_the_nodes_and_fit_them() {
    let d = only(Sglang::validate(&input(&["--tp-size", "6"], 4, 4)));
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.message
            .contains("6 is not divisible by multinode.nodeCount 4"),
        "{}",
        d.message
    );

    let d = only(Sglang::validate(&input(
        &["--tp", "8", "--pp-size", "2"],
        4,
        2,
    )));
    assert!(
        d.message
            .contains("needs 8 GPUs per node, but the component has 4"),
        "{}",
        d.message
    );

    // Without a GPU count only divisibility is checked.
    assert_eq!(
        Sglang::validate(&input(&["--tensor-parallel-size=16"], 0, 2)),
        vec![]
    );
}

#[test]
fn operator_owned_flags_are_rejected() {
    let diagnostics = Sglang::validate(&input(
        &["--tp-size", "8", "--nnodes", "2", "--node-rank=1"],
        4,
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
        diagnostics[1].message.contains("`--node-rank`"),
        "{diagnostics:?}"
    );
}

#[test]
fn render_failures_become_diagnostics() {
    let mut bad = input(&[], 4, 2);
    bad.pod_template =
        r#"{"spec":{"containers":[{"name":"main","args":["--tp-size","8"]}]}}"#.into();
    let d = only(Sglang::validate(&bad));
    assert_eq!(
        d.field_path,
        "spec.services.decode.extraPodSpec.mainContainer.command"
    );
    bad.pod_template = "{".into();
    assert_eq!(only(Sglang::validate(&bad)).field_path, "podTemplate");
}

#[test]
fn single_node_is_not_checked() {
    let mut single = input(&["--tp-size", "x", "--nnodes", "2"], 4, 2);
    single.placement = Default::default();
    assert_eq!(Sglang::validate(&single), vec![]);
}
