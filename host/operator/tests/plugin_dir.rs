//! `render --plugin-dir`: a backend plugin shipped apart from the operator is loaded from a
//! directory and renders its components. The plugin is the llama.cpp example
//! ([`example_plugin`]).

#[path = "support/example_plugin.rs"]
mod example_plugin;

use std::process::{Command, Output};

use example_plugin::{plugin_dir, workspace};
use serde::Deserialize as _;
use serde_json::{Value, json};

const GRAPH: &str = "examples/llamacpp-graph.yaml";
/// Where the worker's backend annotation is reported: where the graph (`v1beta1`) writes it, on
/// the second component's pod template.
const ANNOTATION_FIELD: &str =
    "spec.components[1].podTemplate.metadata.annotations[nvidia.com/backend-framework]";

fn render(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynamo-operator"))
        .current_dir(workspace())
        .arg("render")
        .args(args)
        .output()
        .expect("running dynamo-operator")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The documents of a YAML stream.
fn documents(stream: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(stream)
        .map(|d| Value::deserialize(d).expect("rendered YAML parses"))
        .filter(|v| !v.is_null())
        .collect()
}

/// The main container of the Deployment whose name starts with `prefix`.
fn main_container(objects: &[Value], prefix: &str) -> Value {
    let deployment = objects
        .iter()
        .find(|o| {
            o["kind"] == "Deployment"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no Deployment {prefix}*"));
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "main")
        .cloned()
        .expect("a main container")
}

#[test]
fn a_plugin_from_the_plugin_dir_renders_the_llama_cpp_worker() {
    let dir = plugin_dir();
    let dir_arg = dir.path().to_str().expect("UTF-8 temp path");
    let out = render(&["-f", GRAPH, "--plugin-dir", dir_arg]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let objects = documents(&text(&out.stdout));

    // A plain engine is not in the Dynamo workers' hashed generation: its names are stable.
    let worker = main_container(&objects, "llamacpp-worker");
    assert_eq!(worker["command"], json!(["/app/llama-server"]));
    assert_eq!(
        worker["args"],
        json!([
            "--hf-repo",
            "Qwen/Qwen2.5-0.5B-Instruct-GGUF:q4_k_m",
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
    // The plugin declares `serving` (not a Dynamo runtime, `http` 8080, `/health`), so the host
    // builds a plain pod: only the declared port, its probes on it, no Dynamo environment.
    assert_eq!(
        worker["ports"],
        json!([{"containerPort": 8080, "name": "http", "protocol": "TCP"}])
    );
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(
            worker[probe]["httpGet"],
            json!({"path": "/health", "port": "http"}),
            "{probe}"
        );
    }
    assert_eq!(worker["startupProbe"]["failureThreshold"], 720);
    let env: Vec<&Value> = worker["env"].as_array().into_iter().flatten().collect();
    for (name, value) in [
        ("LLAMA_ARG_CTX_SIZE", "8192"),
        ("LLAMA_ARG_ENDPOINT_METRICS", "1"),
    ] {
        assert!(
            env.iter().any(|v| v["name"] == name && v["value"] == value),
            "{name}={value} in {env:?}"
        );
    }
    let dynamo_env: Vec<&str> = env
        .iter()
        .filter_map(|v| v["name"].as_str())
        .filter(|n| n.starts_with("DYN_") || n.starts_with("NIXL_"))
        .collect();
    assert!(
        dynamo_env.is_empty(),
        "Dynamo env on a plain engine: {dynamo_env:?}"
    );

    // The component's Service, under the service's own name, exposes exactly the declared
    // port, by name.
    let service = objects
        .iter()
        .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == "llamacpp-worker")
        .expect("the worker's Service, named without a worker hash");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}])
    );

    // The frontend is the host's, untouched by the plugin.
    let frontend = main_container(&objects, "llamacpp-frontend");
    assert_eq!(frontend["command"], json!(["python3"]));
    assert_eq!(frontend["args"], json!(["-m", "dynamo.frontend"]));
}

#[test]
fn without_the_plugin_dir_the_graph_fails_on_one_line_naming_the_field() {
    let out = render(&["-f", GRAPH]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing printed on failure");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(ANNOTATION_FIELD),
        "{stderr}"
    );
    assert!(stderr.contains("`llamacpp`"), "{stderr}");
}

#[test]
fn the_plugin_validates_through_the_sandbox_with_field_paths() {
    let dir = plugin_dir();
    let dir_arg = dir.path().to_str().expect("UTF-8 temp path");
    let graph = std::fs::read_to_string(workspace().join(GRAPH)).expect("example graph");
    let case = |graph: String, extra: &[&str]| {
        let file = dir.path().join("graph.yaml");
        std::fs::write(&file, graph).expect("writing the graph");
        let file = file.to_str().expect("UTF-8 temp path").to_owned();
        let mut args = vec!["-f", file.as_str(), "--plugin-dir", dir_arg];
        args.extend(extra);
        let out = render(&args);
        assert!(!out.status.success(), "rendered: {}", text(&out.stdout));
        text(&out.stderr)
    };

    // No model.
    let no_model = graph.replace(
        "--hf-repo\n                - Qwen/Qwen2.5-0.5B-Instruct-GGUF:q4_k_m",
        "--ctx-size\n                - \"4096\"",
    );
    assert_ne!(no_model, graph, "the example's model args changed");
    let stderr = case(no_model, &[]);
    assert!(
        stderr.contains(
            "spec.components[1].podTemplate.spec.containers[main].args: llama-server needs a model"
        ),
        "{stderr}"
    );

    // Multi-node, on an orchestrator that supports it: only the plugin objects.
    let multinode = graph.replace(
        "      replicas: 2\n",
        "      replicas: 2\n      multinode:\n        nodeCount: 2\n",
    );
    assert_ne!(multinode, graph, "the example's replicas line changed");
    let stderr = case(multinode, &["--orchestrator", "grove"]);
    assert!(
        stderr.contains("spec.components[1].multinode: llama.cpp runs on a single node"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
