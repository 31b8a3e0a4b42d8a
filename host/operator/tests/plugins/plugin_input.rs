//! `render --plugin-input`: the exact backend inputs, as fixtures the harnesses read.

use std::path::Path;
use std::process::Output;

use dynamo_plugin_runtime::contract::{RenderInput, Role};
use dynamo_plugin_runtime::{PluginRegistry, PluginRuntime, RuntimeConfig};

use crate::build::{operator, text, workspace};

fn fixtures(dir: &Path) -> Vec<(String, RenderInput)> {
    let mut found: Vec<(String, RenderInput)> = std::fs::read_dir(dir)
        .expect("the output directory")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let input: RenderInput =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("readable"))
                    .unwrap_or_else(|e| panic!("{name} is not a RenderInput: {e}"));
            (name, input)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// `dynamo-operator render -f <graph> <extra...> --plugin-input <target>`, from the workspace.
fn dump(graph: &str, extra: &[&str], target: impl AsRef<std::ffi::OsStr>) -> Output {
    operator(&workspace())
        .args(["render", "-f", graph])
        .args(extra)
        .arg("--plugin-input")
        .arg(target)
        .output()
        .expect("running dynamo-operator")
}

#[test]
fn every_backend_input_is_written_once_per_service_and_role() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dump("examples/graphs/vllm-agg.yaml", &[], dir.path());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the objects are not printed");
    let found = fixtures(dir.path());
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    // The Frontend runs no backend plugin, so it has no input.
    assert_eq!(
        names,
        ["qwen-agg.worker.main.json"],
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("the input of plugin vllm"));

    // The input is what the plugin is handed: the built-in renders it as it is.
    let (_, input) = &found[0];
    assert_eq!(input.component.backend_framework, "vllm");
    assert_eq!(input.placement.role, Role::Main);
    assert!(
        input.pod_template.contains("\"name\":\"main\""),
        "{}",
        input.pod_template
    );
    let runtime = PluginRuntime::new(RuntimeConfig::new()).expect("runtime");
    let registry = PluginRegistry::load(&runtime, None).expect("built-ins");
    let vllm = registry.by_framework("vllm").expect("vllm");
    let rendered = vllm.render(input).expect("the dumped input renders");
    assert!(
        rendered.pod_template.contains("dynamo.vllm"),
        "{}",
        rendered.pod_template
    );
}

#[test]
fn multi_node_services_get_a_leader_and_a_worker_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dump(
        "examples/graphs/vllm-disagg-multinode.yaml",
        &["--orchestrator", "lws"],
        dir.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let found = fixtures(dir.path());
    let roles: Vec<Role> = found.iter().map(|(_, i)| i.placement.role).collect();
    assert!(
        roles.contains(&Role::Leader) && roles.contains(&Role::Worker),
        "{roles:?}"
    );
    for (name, input) in &found {
        if input.placement.role != Role::Main {
            assert!(input.placement.node_count > 1, "{name}");
            assert!(!input.placement.leader_host.is_empty(), "{name}");
        }
    }
}

#[test]
fn a_dash_prints_a_yaml_stream_naming_each_input() {
    let out = dump("examples/graphs/vllm-agg.yaml", &[], "-");
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stream = text(&out.stdout);
    assert!(
        stream.starts_with(
            "# graph qwen-agg, spec.services.worker, role main: the input of plugin vllm\n"
        ),
        "{stream}"
    );
    let input: RenderInput = serde_yaml_ng::from_str(&stream).expect("one RenderInput document");
    assert_eq!(input.component.service_name, "worker");
}

#[test]
fn a_graph_without_backends_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = dir.path().join("frontend.yaml");
    std::fs::write(
        &graph,
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: { name: f }\n\
         spec: { services: { Frontend: { componentType: frontend, \
         extraPodSpec: { mainContainer: { image: fe:1.0.0 } } } } }\n",
    )
    .expect("written");
    let out = dump(graph.to_str().expect("a UTF-8 path"), &[], "-");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no service of the graph runs a backend plugin"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_graph_the_plugin_refuses_still_leaves_the_refused_input() {
    // World size 5 over 2 nodes of 4 GPUs is the vLLM plugin's own error, found by its
    // `validate`; the host's checks pass, so the input reached the plugin and is the fixture for
    // that error.
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = dir.path().join("refused.yaml");
    std::fs::write(
        &graph,
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: { name: odd }\n\
         spec:\n  services:\n    worker:\n      componentType: worker\n      \
         multinode: { nodeCount: 2 }\n      resources: { limits: { gpu: \"4\" } }\n      \
         extraPodSpec:\n        mainContainer:\n          image: vllm:1\n          \
         command: [python3, -m, dynamo.vllm]\n          \
         args: [--model, m, --tensor-parallel-size, \"5\"]\n",
    )
    .expect("written");
    let inputs = dir.path().join("inputs");
    let out = dump(
        graph.to_str().expect("a UTF-8 path"),
        &["--orchestrator", "lws"],
        &inputs,
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "the render must fail: {stderr}");
    assert!(
        stderr.contains("not divisible by multinode.nodeCount 2"),
        "the plugin's finding is the error: {stderr}"
    );
    let found = fixtures(&inputs);
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["odd.worker.leader.json", "odd.worker.worker.json"],
        "{stderr}"
    );
    assert!(stderr.contains("wrote "), "{stderr}");

    // Fed back to the plugin, the dump reproduces the refusal.
    let runtime = PluginRuntime::new(RuntimeConfig::new()).expect("runtime");
    let registry = PluginRegistry::load(&runtime, None).expect("built-ins");
    let vllm = registry.by_framework("vllm").expect("vllm");
    let findings = vllm.validate(&found[0].1).expect("validate runs");
    assert!(
        findings
            .iter()
            .any(|d| d.message.contains("not divisible by multinode.nodeCount 2")),
        "{findings:?}"
    );
}

#[test]
fn a_graph_the_host_refuses_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = dir.path().join("invalid.yaml");
    std::fs::write(
        &graph,
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: { name: bad }\n\
         spec:\n  services:\n    worker:\n      componentType: worker\n      \
         resources: { requests: { gpu: \"1\" }, limits: { gpu: \"2\" } }\n      \
         extraPodSpec:\n        mainContainer:\n          image: vllm:1\n          \
         command: [python3, -m, dynamo.vllm]\n",
    )
    .expect("written");
    let inputs = dir.path().join("inputs");
    let out = dump(graph.to_str().expect("a UTF-8 path"), &[], &inputs);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "spec.components[0].podTemplate.spec.containers[main].resources.requests[nvidia.com/gpu]"
        ),
        "{stderr}"
    );
    assert!(
        !inputs.exists(),
        "no plugin was called, so nothing is written"
    );
}
