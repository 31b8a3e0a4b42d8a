//! The llama.cpp plugin run natively on fixtures with the SDK harness (no WebAssembly runtime).

use std::path::PathBuf;

use dynamo_plugin_sdk::harness::{self, HarnessError, pod_template_value};
use dynamo_plugin_sdk::{PluginError, Severity};
use llamacpp_backend_plugin::LlamaCpp;
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn main_container(pod: &Value) -> &Value {
    &pod["spec"]["containers"][0]
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
fn worker_runs_llama_server_with_injected_flags_port_probes_and_env() {
    assert!(
        harness::validate::<LlamaCpp>(fixture("worker.yaml"))
            .expect("validates")
            .is_empty()
    );
    let out = harness::render::<LlamaCpp>(fixture("worker.yaml")).expect("renders");
    assert!(out.warnings.is_empty() && out.extra_objects.is_empty());
    let pod = pod_template_value(&out);
    let main = main_container(&pod);
    assert_eq!(main["command"], json!(["/app/llama-server"]));
    assert_eq!(
        main["args"],
        json!([
            "--model",
            "/models/qwen2.5-0.5b-instruct-q4_k_m.gguf",
            "--ctx-size",
            "8192",
            "--host",
            "0.0.0.0",
            "--port",
            "8080",
            "--n-gpu-layers",
            "999",
            "--parallel",
            "4"
        ])
    );
    assert_eq!(
        main["ports"],
        json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}]),
        "the Dynamo system and nixl ports are gone"
    );
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(
            main[probe]["httpGet"],
            json!({"path": "/health", "port": "http"}),
            "{probe}"
        );
    }
    assert_eq!(main["readinessProbe"]["failureThreshold"], 3);
    assert_eq!(main["startupProbe"]["failureThreshold"], 720);
    assert_eq!(
        env(main, "LLAMA_ARG_ENDPOINT_METRICS"),
        "1",
        "default added"
    );
    assert_eq!(env(main, "LLAMA_ARG_CTX_SIZE"), "4096", "user env kept");
    assert_eq!(env(main, "DYN_SYSTEM_PORT"), "9090", "other env untouched");
    assert_eq!(main["image"], "ghcr.io/ggml-org/llama.cpp:server-cuda");
}

#[test]
fn settings_the_container_makes_itself_win() {
    let out = harness::render::<LlamaCpp>(fixture("entrypoint.yaml")).expect("renders");
    let pod = pod_template_value(&out);
    let main = main_container(&pod);
    assert_eq!(main["command"], Value::Null, "the image entrypoint runs");
    assert_eq!(
        main["args"],
        json!(["--hf-repo", "ggml-org/gemma-3-1b-it-GGUF", "--port", "9000"]),
        "host from LLAMA_ARG_HOST, port from --port, no GPU: nothing to add"
    );
    assert_eq!(main["ports"][0]["containerPort"], 9000);
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
    let found = harness::validate::<LlamaCpp>(fixture("invalid.yaml")).expect("validates");
    let paths: Vec<(&str, Severity)> = found
        .iter()
        .map(|d| (d.field_path.as_str(), d.severity))
        .collect();
    assert_eq!(
        paths,
        [
            ("spec.services.big.multinode", Severity::Error),
            (
                "spec.services.big.extraPodSpec.mainContainer.args",
                Severity::Error
            ),
            (
                "spec.services.big.annotations[nvidia.com/llamacpp-parallel]",
                Severity::Error
            ),
        ]
    );
    assert!(found[0].message.contains("single node"), "{}", found[0]);
    assert!(found[1].message.contains("--model"), "{}", found[1]);

    // Render refuses with the first error, naming its field.
    match harness::render::<LlamaCpp>(fixture("invalid.yaml")) {
        Err(HarnessError::Plugin {
            source: PluginError::InvalidInput(d),
            ..
        }) => assert_eq!(d.field_path, "spec.services.big.multinode"),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn bad_commands_ports_and_ignored_annotations_are_reported() {
    let input = |command: &str, args: &str, annotations: &str| {
        harness::parse_input(
            &format!(
                "graph: {{annotations: {{{annotations}}}}}\ncomponent: {{serviceName: w}}\n\
                 podTemplate: {{spec: {{containers: [{{name: main, command: {command}, args: {args}}}]}}}}\n"
            ),
            true,
        )
        .expect("fixture parses")
    };
    let findings = |command: &str, args: &str, annotations: &str| {
        <LlamaCpp as dynamo_plugin_sdk::Plugin>::validate(&input(command, args, annotations))
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
