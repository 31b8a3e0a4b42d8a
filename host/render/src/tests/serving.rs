//! Plugin-declared serving and annotation prefixes: a non-Dynamo engine gets a plain pod and a
//! Service on its own ports, and a plugin sees the annotations under the prefixes it declares.

use dynamo_plugin_contract::{
    Deployer, KeyValue, Metadata, PluginKind, Role, Serving, ServingPort,
};
use serde_json::Value;

use super::{grove, pod_templates};
use crate::placement::placement;
use crate::plugins::render_input;
use crate::pod::base_template;
use crate::testing::{FakePlugins, graph};
use crate::*;

const TGI: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: g
  namespace: ns
  annotations: { example.com/tgi-revision: "7", other.org/secret: hidden }
spec:
  services:
    tgi:
      componentType: worker
      annotations:
        nvidia.com/backend-framework: tgi
        example.com/tgi-quantize: awq
        example.com/unrelated: x
      resources: { limits: { gpu: "2", gpuType: amd.com/gpu } }
      extraPodSpec:
        mainContainer: { image: tgi:3, args: [--model-id, m] }
"#;

fn engine(dynamo_runtime: bool) -> Metadata {
    Metadata {
        name: "tgi".into(),
        version: "0.1.0".into(),
        kind: PluginKind::Backend,
        frameworks: vec!["tgi".into()],
        serving: Some(Serving {
            dynamo_runtime,
            ports: vec![
                ServingPort::new("http", 8080),
                ServingPort::new("grpc", 8081),
            ],
            health_path: (!dynamo_runtime).then(|| "/health".into()),
        }),
        annotation_prefixes: vec!["example.com/tgi-".into()],
        ..Metadata::default()
    }
}

/// The pod template of the tgi clique of `objects`.
fn tgi_pod(objects: &[Object]) -> Value {
    let pods = pod_templates(objects);
    pods.iter()
        .find(|(id, _)| id.ends_with("/tgi"))
        .map(|(_, pod)| pod.clone())
        .unwrap_or_else(|| {
            panic!(
                "no tgi clique in {:?}",
                pods.iter().map(|p| &p.0).collect::<Vec<_>>()
            )
        })
}

/// The main container of the tgi clique of `objects`.
fn main_container(objects: &[Object]) -> Value {
    tgi_pod(objects)["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "main")
        .cloned()
        .expect("main container")
}

fn service_ports(objects: &[Object], name: &str) -> Option<Vec<(String, i64)>> {
    let service = objects
        .iter()
        .find(|o| o.kind() == "Service" && o.name() == name)?;
    Some(
        service.manifest()["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_owned(),
                    p["port"].as_i64().unwrap_or_default(),
                )
            })
            .collect(),
    )
}

#[test]
fn a_plain_engine_gets_no_dynamo_defaults() {
    let plugins = FakePlugins::new().with_plugin(engine(false));
    let out = render(&graph(TGI), &grove(), &plugins).expect("render");
    let main = main_container(&out.objects);

    assert!(main.get("command").is_none(), "no /bin/sh -c: {main}");
    assert_eq!(main["args"], serde_json::json!(["--model-id", "m"]));
    let ports: Vec<(&str, i64)> = main["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default(),
                p["containerPort"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [("http", 8080), ("grpc", 8081)],
        "only the declared ports"
    );
    let env: Vec<&str> = main["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        env.iter()
            .all(|name| !name.starts_with("DYN_") && !name.starts_with("NIXL_")),
        "no Dynamo environment: {env:?}"
    );
    assert!(env.contains(&"POD_NAME"), "{env:?}");
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        assert_eq!(main[probe]["httpGet"]["path"], "/health", "{probe}");
        assert_eq!(main[probe]["httpGet"]["port"], "http", "{probe}");
    }
    assert_eq!(main["resources"]["limits"]["amd.com/gpu"], "2");
}

/// The labels of the tgi clique's pod template.
fn pod_labels(objects: &[Object]) -> serde_json::Map<String, Value> {
    tgi_pod(objects)["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn only_a_dynamo_engine_is_labelled_for_discovery_and_metrics() {
    const DYNAMO_ONLY: [&str; 3] = [
        "nvidia.com/dynamo-discovery-backend",
        "nvidia.com/dynamo-discovery-enabled",
        "nvidia.com/metrics-enabled",
    ];
    let dynamo = FakePlugins::new().with_plugin(engine(true));
    let labels = pod_labels(
        &render(&graph(TGI), &grove(), &dynamo)
            .expect("render")
            .objects,
    );
    for key in DYNAMO_ONLY {
        assert!(
            labels.contains_key(key),
            "a Dynamo engine has {key}: {labels:?}"
        );
    }
    let plain = FakePlugins::new().with_plugin(engine(false));
    let labels = pod_labels(
        &render(&graph(TGI), &grove(), &plain)
            .expect("render")
            .objects,
    );
    for key in DYNAMO_ONLY {
        assert!(
            !labels.contains_key(key),
            "a plain engine lacks {key}: {labels:?}"
        );
    }
    assert_eq!(
        labels["nvidia.com/dynamo-component"], "tgi",
        "identity stays"
    );
}

#[test]
fn a_plain_engine_is_reached_through_a_service_on_its_ports() {
    let plugins = FakePlugins::new().with_plugin(engine(false));
    // Etcd discovery: Dynamo components get no Service, a plain engine still does.
    let mut config = grove();
    config.operator.discovery.backend = crate::config::DiscoveryBackend::Etcd;
    let out = render(&graph(TGI), &config, &plugins).expect("render");
    assert_eq!(
        service_ports(&out.objects, "g-tgi"),
        Some(vec![("http".to_owned(), 8080), ("grpc".to_owned(), 8081)])
    );
}

#[test]
fn a_dynamo_engine_keeps_the_runtime_and_adds_its_ports() {
    let plugins = FakePlugins::new().with_plugin(engine(true));
    let out = render(&graph(TGI), &grove(), &plugins).expect("render");
    let main = main_container(&out.objects);
    let ports: Vec<&str> = main["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(ports, ["system", "nixl", "http", "grpc"]);
    assert_eq!(main["readinessProbe"]["httpGet"]["port"], "system");
    let ports = service_ports(&out.objects, "g-tgi").expect("a Service");
    let names: Vec<&str> = ports.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["system", "http", "grpc"]);
}

#[test]
fn a_plugin_reads_the_annotations_under_its_prefixes_and_its_gpus() {
    let plugins = FakePlugins::new().with_plugin(engine(false));
    let config = grove();
    let model = GraphModel::build(&graph(TGI), &config, &plugins).expect("model");
    let service = model.service("tgi").expect("service");
    let base = base_template(&model, service, Role::Main, &config).expect("pod");
    let at = placement(Deployer::Grove, Role::Main, &service.k8s_name, 1);
    let input = render_input(&model, service, at, &config, &base).expect("input");
    let keys: Vec<&str> = input
        .graph
        .annotations
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert!(
        input
            .graph
            .annotations
            .contains(&KeyValue::new("example.com/tgi-quantize", "awq"))
            && keys.contains(&"example.com/tgi-revision")
            && keys.contains(&"nvidia.com/backend-framework"),
        "{keys:?}"
    );
    assert!(
        !keys.contains(&"example.com/unrelated") && !keys.contains(&"other.org/secret"),
        "annotations under no declared prefix stay with the host: {keys:?}"
    );
    assert_eq!(input.component.gpus_per_node, 2);
    assert_eq!(input.component.gpu_resource, "amd.com/gpu");

    // The built-in backends declare no prefix: the same annotations do not reach them.
    let vllm = FakePlugins::new();
    let model = GraphModel::build(
        &graph(&TGI.replace(
            "nvidia.com/backend-framework: tgi",
            "nvidia.com/backend-framework: vllm",
        )),
        &config,
        &vllm,
    )
    .expect("model");
    let service = model.service("tgi").expect("service");
    let base = base_template(&model, service, Role::Main, &config).expect("pod");
    let at = placement(Deployer::Grove, Role::Main, &service.k8s_name, 1);
    let input = render_input(&model, service, at, &config, &base).expect("input");
    assert!(
        input
            .graph
            .annotations
            .iter()
            .all(|kv| kv.key.starts_with("nvidia.com/")),
        "{:?}",
        input.graph.annotations
    );
}

const MIXED: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  services:
    tgi:
      componentType: worker
      annotations: { nvidia.com/backend-framework: tgi }
      resources: { limits: { gpu: "1" } }
      extraPodSpec:
        mainContainer: { image: tgi:3, args: [--model-id, m] }
    decode:
      componentType: worker
      resources: { limits: { gpu: "1" } }
      extraPodSpec:
        mainContainer: { image: vllm:1, command: [python3, -m, dynamo.vllm], args: [--model, m] }
"#;

/// `(kind, name)` of every object rendered for `yaml` on the Deployment pathway.
fn names_on_the_deployment_pathway(yaml: &str, plugins: &FakePlugins) -> Vec<(String, String)> {
    render(&graph(yaml), &RenderConfig::default(), plugins)
        .expect("render")
        .objects
        .iter()
        .map(|o| (o.kind().to_owned(), o.name().to_owned()))
        .collect()
}

#[test]
fn a_plain_engine_keeps_its_names_across_updates_and_stays_out_of_the_worker_generation() {
    let plugins = FakePlugins::new().with_plugin(engine(false));
    let before = names_on_the_deployment_pathway(MIXED, &plugins);
    let named = |names: &[(String, String)], kind: &str, prefix: &str| -> Vec<String> {
        names
            .iter()
            .filter(|(k, n)| k == kind && n.starts_with(prefix))
            .map(|(_, n)| n.clone())
            .collect()
    };
    // The plain engine's component, workload and Service are named after the service alone.
    assert_eq!(
        named(&before, "DynamoComponentDeployment", "g-tgi"),
        ["g-tgi"],
        "{before:?}"
    );
    assert_eq!(named(&before, "Service", "g-tgi"), ["g-tgi"], "{before:?}");
    let decode = named(&before, "DynamoComponentDeployment", "g-decode-");
    assert_eq!(decode.len(), 1, "the Dynamo worker is hashed: {before:?}");

    // A new engine version rolls the plain engine in place and leaves the Dynamo workers alone.
    let after = names_on_the_deployment_pathway(&MIXED.replace("tgi:3", "tgi:4"), &plugins);
    assert_eq!(after, before, "no name changes");

    // A new Dynamo worker generation leaves the plain engine's names alone.
    let after = names_on_the_deployment_pathway(&MIXED.replace("vllm:1", "vllm:2"), &plugins);
    assert_ne!(
        named(&after, "DynamoComponentDeployment", "g-decode-"),
        decode
    );
    assert_eq!(
        named(&after, "DynamoComponentDeployment", "g-tgi"),
        ["g-tgi"]
    );
    assert_eq!(named(&after, "Service", "g-tgi"), ["g-tgi"]);
}
