//! The llama.cpp plugin run natively on fixtures with the SDK harness (no WebAssembly runtime).
//!
//! The fixtures are inputs the operator really sends (`dynamo-operator render --plugin-input`),
//! not hand-written ones; see `tests/fixtures/README.md` for where each comes from.

use std::path::PathBuf;

use dynamo_plugin_sdk::harness::{self, HarnessError, pod_template_value};
use dynamo_plugin_sdk::{PluginError, RenderInput, Severity, render_checked};
use llamacpp_backend_plugin::LlamaCpp;
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The pod template the operator sent in fixture `name`.
fn input_pod(name: &str) -> Value {
    let input = harness::load_input(fixture(name)).expect("fixture loads");
    serde_json::from_str(&input.pod_template).expect("pod template JSON")
}

fn main_container(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]
}

fn env(main: &Value, name: &str) -> Value {
    main["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == name)
        .map_or(Value::Null, |v| v["value"].clone())
}

#[test]
fn the_example_worker_gets_llama_server_flags_and_the_metrics_env_and_nothing_else() {
    assert!(
        harness::validate::<LlamaCpp>(fixture("worker.json"))
            .expect("validates")
            .is_empty()
    );
    let out = harness::render::<LlamaCpp>(fixture("worker.json")).expect("renders");
    assert!(out.warnings.is_empty() && out.extra_objects.is_empty());

    // The whole pod as the operator built it (port `http` 8080, probes on `http`, the
    // service's env), with the flags appended and the metrics variable added.
    let mut expected = input_pod("worker.json");
    let main = main_container(&mut expected);
    for flag in [
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--n-gpu-layers",
        "999",
        "--parallel",
        "4",
    ] {
        main["args"].as_array_mut().expect("args").push(flag.into());
    }
    main["env"]
        .as_array_mut()
        .expect("env")
        .push(json!({"name": "LLAMA_ARG_ENDPOINT_METRICS", "value": "1"}));
    assert_eq!(pod_template_value(&out), expected);
}

#[test]
fn settings_the_container_makes_itself_win() {
    let out = harness::render::<LlamaCpp>(fixture("entrypoint.json")).expect("renders");
    let mut pod = pod_template_value(&out);
    let main = main_container(&mut pod);
    assert_eq!(main["command"], Value::Null, "the image entrypoint runs");
    assert_eq!(
        main["args"],
        json!(["--hf-repo", "ggml-org/gemma-3-1b-it-GGUF", "--port", "9000"]),
        "host from LLAMA_ARG_HOST, port from --port, no GPU, no annotation: nothing to add"
    );
    assert_eq!(
        main["ports"],
        json!([{"name": "http", "containerPort": 9000, "protocol": "TCP"}]),
        "`http`, which the probes and the Service target, moves to the server's port"
    );
    assert_eq!(
        main["readinessProbe"],
        json!({"exec": {"command": ["/bin/true"]}}),
        "the service's own probe is kept"
    );
    assert_eq!(main["livenessProbe"]["httpGet"]["port"], "http");
    assert_eq!(
        env(main, "LLAMA_ARG_ENDPOINT_METRICS"),
        "0",
        "user env wins"
    );
}

#[test]
fn invalid_input_names_every_field() {
    let found = harness::validate::<LlamaCpp>(fixture("invalid.json")).expect("validates");
    let paths: Vec<(&str, Severity)> = found
        .iter()
        .map(|d| (d.field_path.as_str(), d.severity))
        .collect();
    assert_eq!(
        paths,
        [
            ("spec.services.worker.multinode", Severity::Error),
            (
                "spec.services.worker.extraPodSpec.mainContainer.args",
                Severity::Error
            ),
            (
                "spec.services.worker.annotations[nvidia.com/llamacpp-parallel]",
                Severity::Error
            ),
        ]
    );
    assert!(found[0].message.contains("single node"), "{}", found[0]);
    assert!(found[1].message.contains("--model"), "{}", found[1]);

    // Render refuses with the first error, naming its field.
    match harness::render::<LlamaCpp>(fixture("invalid.json")) {
        Err(HarnessError::Plugin {
            source: PluginError::InvalidInput(d),
            ..
        }) => assert_eq!(d.field_path, "spec.services.worker.multinode"),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

/// A small input with the main container `{command, args, env}` written as YAML flow values.
fn input(command: &str, args: &str, env: &str, annotations: &str) -> RenderInput {
    harness::parse_input(
        &format!(
            "graph: {{annotations: {{{annotations}}}}}\ncomponent: {{serviceName: w}}\n\
             podTemplate: {{spec: {{containers: [{{name: main, command: {command}, args: {args}, \
             env: {env}, ports: [{{name: http, containerPort: 8080}}]}}]}}}}\n"
        ),
        true,
    )
    .expect("fixture parses")
}

#[test]
fn bad_commands_ports_and_ignored_annotations_are_reported() {
    let findings = |command: &str, args: &str, annotations: &str| {
        <LlamaCpp as dynamo_plugin_sdk::Plugin>::validate(&input(command, args, "[]", annotations))
            .into_iter()
            .map(|d| (d.field_path, d.severity))
            .collect::<Vec<_>>()
    };
    let field = |suffix: &str| format!("spec.services.w.{suffix}");

    assert_eq!(
        findings("[python3, -m, dynamo.vllm]", "[-m, x]", ""),
        [(field("extraPodSpec.mainContainer.command"), Severity::Error)]
    );
    assert_eq!(
        findings("[sh, -c]", "['llama-server -m x']", ""),
        [
            (field("extraPodSpec.mainContainer.command"), Severity::Error),
            (field("extraPodSpec.mainContainer.args"), Severity::Error),
        ],
        "a shell script's flags can be neither read (so no model is seen) nor added"
    );
    assert_eq!(
        findings("[llama-server]", "[-m, x, --port, http]", ""),
        [(field("extraPodSpec.mainContainer.args"), Severity::Error)]
    );
    assert_eq!(
        findings(
            "[llama-server]",
            "[-m, x, -np, '2']",
            "nvidia.com/llamacpp-parallel: '8'"
        ),
        [(
            field("annotations[nvidia.com/llamacpp-parallel]"),
            Severity::Warning
        )]
    );
    assert!(findings("[llama-server]", "[-hf, org/repo]", "").is_empty());
}

#[test]
fn a_port_from_the_environment_moves_http_and_adds_no_flag() {
    let out = render_checked::<LlamaCpp>(&input(
        "[]",
        "[llama-server, -m, x]",
        "[{name: LLAMA_ARG_PORT, value: '9001'}]",
        "",
    ))
    .expect("renders");
    let mut pod = pod_template_value(&out);
    let main = main_container(&mut pod);
    assert_eq!(
        main["command"],
        json!(["llama-server"]),
        "the program named first in args becomes the command"
    );
    assert_eq!(main["args"], json!(["-m", "x", "--host", "0.0.0.0"]));
    assert_eq!(
        main["ports"],
        json!([{"name": "http", "containerPort": 9001, "protocol": "TCP"}])
    );
}
