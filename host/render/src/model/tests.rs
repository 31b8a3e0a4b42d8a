//! Tests of service resolution: names, backend detection, counts, namespaces and the worker hash.

use k8s_openapi::api::core::v1::Container;

use super::*;
use crate::testing::{FakePlugins, graph};

fn build(yaml: &str, config: &RenderConfig) -> Result<GraphModel, RenderError> {
    GraphModel::build(&graph(yaml), config, &FakePlugins::new())
}

fn model(yaml: &str) -> GraphModel {
    build(yaml, &RenderConfig::default()).expect("model")
}

const AGG: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: my.graph, namespace: team }
spec:
  envs: [{ name: A, value: graph }, { name: B, value: graph }]
  labels: { team: ml, tier: graph }
  annotations: { note: graph }
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: fe:1, command: [python3, -m, dynamo.vllm] } }
    Vllm.Worker:
      componentType: worker
      replicas: 3
      envs: [{ name: B, value: service }]
      labels: { tier: service }
      resources: { requests: { gpu: "2" }, limits: { gpu: "2" } }
      extraPodSpec:
        mainContainer: { image: w:1, command: [python3, -m, dynamo.vllm], args: [--model, m] }
"#;

#[test]
fn names_and_counts() {
    let m = model(AGG);
    assert_eq!(m.name, "my.graph");
    assert_eq!(m.namespace, "team");
    let names: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Frontend", "Vllm.Worker"], "sorted by name");
    let w = m.service("Vllm.Worker").expect("worker");
    assert_eq!(w.k8s_name, "vllm-worker");
    assert!(
        w.service_name.starts_with("my.graph-vllm-worker-"),
        "{}",
        w.service_name
    );
    assert_eq!(
        w.service_name, w.dcd_name,
        "a worker's Service is named after its component"
    );
    assert_eq!(w.replicas, 3);
    assert_eq!(w.gpus_per_node, 2);
    assert_eq!(w.gpu_resource, "nvidia.com/gpu");
    assert_eq!(w.node_count, 1);
    assert_eq!(w.role, ComponentRole::Worker);
    let fe = m.service("Frontend").expect("frontend");
    assert_eq!(fe.replicas, 1, "default replicas");
    assert_eq!(fe.gpus_per_node, 0);
    assert_eq!(fe.dcd_name, "my.graph-frontend");
}

#[test]
fn dynamo_namespace_rule() {
    let m = model(AGG);
    assert_eq!(m.services[0].dynamo_namespace, "team-my-graph");
    let global = model(
        r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g }
spec:
  services:
    F: { componentType: frontend, globalDynamoNamespace: true }
"#,
    );
    assert_eq!(global.services[0].dynamo_namespace, "dynamo");
    assert_eq!(global.namespace, "default", "config fallback namespace");
}

#[test]
fn backend_detection_only_for_workers() {
    let m = model(AGG);
    assert_eq!(
        m.service("Frontend").expect("fe").chain,
        None,
        "non-workers run no plugin"
    );
    let chain = m
        .service("Vllm.Worker")
        .and_then(|s| s.chain.clone())
        .expect("chain");
    assert_eq!(chain.framework, "vllm");
    assert_eq!(chain.backend, "vllm");
}

fn container(command: &[&str], args: &[&str]) -> Container {
    Container {
        command: Some(command.iter().map(|s| (*s).to_owned()).collect()),
        args: Some(args.iter().map(|s| (*s).to_owned()).collect()),
        ..Container::default()
    }
}

#[test]
fn detect_framework_forms() {
    let catalog = Catalog::new(&FakePlugins::new());
    let detect = |c: Container| detect_framework(Some(&c), &catalog).map(|d| d.framework);
    assert_eq!(
        detect(container(&["python3", "-m", "dynamo.vllm"], &[])).as_deref(),
        Some("vllm")
    );
    assert_eq!(
        detect(container(
            &["python3"],
            &["-m", "dynamo.sglang", "--tp", "1"]
        ))
        .as_deref(),
        Some("sglang"),
        "module split between command and args"
    );
    assert_eq!(
        detect(container(
            &["/bin/sh", "-c"],
            &["cd /w && exec python3.12 -u -m dynamo.trtllm --x"]
        ))
        .as_deref(),
        Some("trtllm"),
        "inside a shell script"
    );
    assert_eq!(
        detect(container(&["/usr/bin/python3"], &["-mdynamo.vllm"])).as_deref(),
        Some("vllm")
    );
    assert_eq!(
        detect(container(&["python3", "-m", "dynamo.frontend"], &[])),
        None
    );
    assert_eq!(
        detect(container(&["dynamo.vllm"], &[])),
        None,
        "no interpreter"
    );
    assert_eq!(
        detect(container(&["bash"], &["-c", "echo dynamo.vllm"])),
        None
    );
}

#[test]
fn explicit_backend_framework_is_used_without_detection_and_checked_against_it() {
    let yaml = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g }
spec:
  backendFramework: sglang
  services:
    w: { componentType: prefill, extraPodSpec: { mainContainer: { image: x } } }
"#;
    let m = model(yaml);
    assert_eq!(
        m.services[0].chain.as_ref().map(|c| c.framework.as_str()),
        Some("sglang")
    );

    let mismatch = yaml.replace(
        "mainContainer: { image: x }",
        "mainContainer: { image: x, command: [python3, -m, dynamo.vllm] }",
    );
    let err = build(&mismatch, &RenderConfig::default()).expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "spec.components[0].podTemplate.spec.containers[main].command: runs Python module \
         `dynamo.vllm` (backend `vllm`), but spec.backendFramework is `sglang`"
    );
}

#[test]
fn graph_envs_labels_and_annotations_fold_into_services() {
    let m = model(AGG);
    let w = m.service("Vllm.Worker").expect("worker");
    let envs: Vec<(String, Option<String>)> = w
        .main_container()
        .and_then(|m| m.env.as_ref())
        .into_iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone()))
        .collect();
    assert_eq!(
        envs,
        [
            ("A".into(), Some("graph".into())),
            ("B".into(), Some("service".into()))
        ]
    );
    let labels = w.labels.clone();
    assert_eq!(labels.get("team").map(String::as_str), Some("ml"));
    assert_eq!(labels.get("tier").map(String::as_str), Some("service"));
    assert_eq!(w.annotation("note"), Some("graph"));
}

#[test]
fn worker_hash_covers_pod_fields_of_workers_only() {
    let base = model(AGG);
    let hash = base.worker_hash.clone().expect("hash");
    assert_eq!(hash.len(), 8);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(model(AGG).worker_hash, base.worker_hash, "deterministic");
    assert_eq!(
        model(&AGG.replace("replicas: 3", "replicas: 5")).worker_hash,
        base.worker_hash,
        "replicas do not reach pods"
    );
    assert_eq!(
        model(&AGG.replace("image: fe:1", "image: fe:2")).worker_hash,
        base.worker_hash,
        "frontend changes do not roll workers"
    );
    assert_ne!(
        model(&AGG.replace("image: w:1", "image: w:2")).worker_hash,
        base.worker_hash
    );
    assert_ne!(
        model(&AGG.replace("value: graph }, { name: B", "value: new }, { name: B")).worker_hash,
        base.worker_hash,
        "graph envs reach worker pods"
    );
}

#[test]
fn worker_dcd_names_carry_the_hash_except_on_grove() {
    let m = model(AGG);
    let hash = m.worker_hash.clone().expect("hash");
    let w = m.service("Vllm.Worker").expect("worker");
    assert_eq!(w.dcd_name, format!("my.graph-vllm-worker-{hash}"));
    assert!(w.hashed);
    assert_eq!(w.worker_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(m.service("Frontend").expect("fe").worker_hash, None);

    let grove = build(
        AGG,
        &RenderConfig::default().with_orchestrator(Orchestrator::Grove),
    )
    .expect("model");
    let w = grove.service("Vllm.Worker").expect("worker");
    assert_eq!(w.dcd_name, "my.graph-vllm-worker");
    assert_eq!(w.service_name, "my.graph-vllm-worker");
    assert!(
        !w.hashed,
        "Grove updates cliques in place: names carry no hash"
    );
    assert_eq!(
        w.worker_hash.as_deref(),
        Some(hash.as_str()),
        "Grove workers are labelled with the hash, as in Dynamo 1.5"
    );
    assert_eq!(grove.service("Frontend").expect("fe").worker_hash, None);
}

#[test]
fn prefill_and_decode_workers_are_of_their_sub_component_type() {
    let graph = model(
        r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g }
spec:
  services:
    p: { componentType: worker, subComponentType: prefill }
    d: { componentType: decode }
    w: { componentType: worker, subComponentType: other }
    f: { componentType: frontend }
"#,
    );
    let of = |name: &str| {
        let s = graph.service(name).expect("service");
        (s.dynamo_component_type(), s.sub_component_label())
    };
    assert_eq!(of("p"), ("prefill", Some("prefill")));
    assert_eq!(of("d"), ("decode", Some("decode")));
    assert_eq!(of("w"), ("worker", Some("other")));
    assert_eq!(of("f"), ("frontend", None));
}

#[test]
fn compilation_cache_path() {
    let yaml = |mount: &str| {
        format!(
            r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: {{ name: g }}
spec:
  services:
    w:
      componentType: worker
      volumeMounts: [{mount}]
      extraPodSpec: {{ mainContainer: {{ command: [python3, -m, dynamo.vllm] }} }}
"#
        )
    };
    let m = model(&yaml("{ name: cache, useAsCompilationCache: true }"));
    assert_eq!(
        m.services[0].compilation_cache_path.as_deref(),
        Some("/root/.cache/vllm")
    );
    let m = model(&yaml(
        "{ name: cache, useAsCompilationCache: true, mountPoint: /cc }",
    ));
    assert_eq!(m.services[0].compilation_cache_path.as_deref(), Some("/cc"));
    let m = model(&yaml("{ name: data, mountPoint: /data }"));
    assert_eq!(m.services[0].compilation_cache_path, None);
    let sglang = yaml("{ name: cache, useAsCompilationCache: true }").replace("vllm", "sglang");
    assert_eq!(
        model(&sglang).services[0].compilation_cache_path,
        None,
        "no sglang default"
    );
}

#[test]
fn grove_opt_out_annotation() {
    let yaml = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g, annotations: { nvidia.com/enable-grove: "false" } }
spec: { services: { f: { componentType: frontend } } }
"#;
    let grove = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    assert_eq!(
        build(yaml, &grove).expect("m").orchestrator,
        Orchestrator::Deployment
    );
    let mut lws = grove.clone();
    lws.operator.orchestrators.lws.enabled = Some(true);
    assert_eq!(
        build(yaml, &lws).expect("m").orchestrator,
        Orchestrator::Lws
    );
}

#[test]
fn operator_version_stamps_a_missing_origin_version_only() {
    let config = RenderConfig::default().with_operator_version("1.2.3");
    let m = build(AGG, &config).expect("m");
    assert_eq!(
        m.annotations
            .get(annotation::ORIGIN_VERSION)
            .map(String::as_str),
        Some("1.2.3")
    );
    let older = AGG.replace(
        "metadata: { name: my.graph, namespace: team }",
        "metadata: { name: my.graph, namespace: team, annotations: { nvidia.com/dynamo-operator-origin-version: 0.9.0 } }",
    );
    let m = build(&older, &config).expect("m");
    assert_eq!(
        m.annotations
            .get(annotation::ORIGIN_VERSION)
            .map(String::as_str),
        Some("0.9.0")
    );
    assert!(model(AGG).annotations.is_empty(), "no version, no stamp");
}

#[test]
fn discovery_backend_annotation_overrides_config() {
    let etcd = AGG.replace(
        "metadata: { name: my.graph, namespace: team }",
        "metadata: { name: my.graph, namespace: team, annotations: { nvidia.com/dynamo-discovery-backend: etcd } }",
    );
    assert_eq!(model(&etcd).discovery, DiscoveryBackend::Etcd);
    assert!(!model(&etcd).kube_discovery());
    assert!(model(AGG).kube_discovery());
}

#[test]
fn bad_gpu_count_names_the_field() {
    // A quantity, but no whole number of GPUs.
    let bad = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  components:
    - name: Frontend
      type: frontend
      podTemplate: { spec: { containers: [{ name: main, image: fe:1 }] } }
    - name: w
      type: worker
      podTemplate:
        spec:
          containers:
            - name: main
              image: w:1
              resources: { requests: { nvidia.com/gpu: "1.5" }, limits: { nvidia.com/gpu: "2" } }
"#;
    let err = build(bad, &RenderConfig::default()).expect_err("bad gpu");
    assert_eq!(
        err.to_string(),
        "spec.components[1].podTemplate.spec.containers[main].resources.requests[nvidia.com/gpu]: \
         must be a whole number of GPUs, got `1.5`"
    );
}

#[test]
fn the_longest_claimed_module_wins() {
    // A plugin claiming the parent package `dynamo` sorts before `vllm` by name, yet
    // `dynamo.vllm.main` belongs to the plugin claiming `dynamo.vllm`.
    let plugins = FakePlugins::new().with_plugin(dynamo_plugin_contract::Metadata {
        name: "aaa".into(),
        version: "0.0.0-fake".into(),
        frameworks: vec!["generic".into()],
        python_modules: vec!["dynamo".into()],
        ..dynamo_plugin_contract::Metadata::default()
    });
    let catalog = Catalog::new(&plugins);
    let detect = |c: Container| detect_framework(Some(&c), &catalog).map(|d| d.framework);
    assert_eq!(
        detect(container(&["python3", "-m", "dynamo.vllm.main"], &[])).as_deref(),
        Some("vllm")
    );
    assert_eq!(
        detect(container(&["python3", "-m", "dynamo.other"], &[])).as_deref(),
        Some("generic")
    );
    assert_eq!(
        detect(container(&["python3", "-m", "dynamo_vllm"], &[])),
        None,
        "a package boundary is a dot"
    );
}

#[test]
fn short_hash_is_sha256_prefix() {
    // sha256("") = e3b0c442...
    assert_eq!(short_hash(""), "e3b0c442");
}

/// The fake built-ins plus a custom backend `llamacpp` that no Python module identifies.
fn with_llamacpp() -> FakePlugins {
    FakePlugins::new().with_plugin(dynamo_plugin_contract::Metadata {
        name: "llamacpp".into(),
        version: "0.0.0-fake".into(),
        frameworks: vec!["llamacpp".into()],
        ..dynamo_plugin_contract::Metadata::default()
    })
}

const ANNOTATED: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g }
spec:
  backendFramework: vllm
  services:
    llama:
      componentType: worker
      annotations: { nvidia.com/backend-framework: " llamacpp " }
      extraPodSpec: { mainContainer: { image: x, command: [/app/llama-server] } }
    vllm: { componentType: worker, extraPodSpec: { mainContainer: { image: x } } }
"#;

#[test]
fn the_backend_framework_annotation_picks_a_custom_backend_for_its_service() {
    let m = GraphModel::build(
        &graph(ANNOTATED),
        &RenderConfig::default(),
        &with_llamacpp(),
    )
    .expect("model");
    let framework = |name: &str| {
        m.service(name)
            .and_then(|s| s.chain.as_ref())
            .map(|c| (c.framework.clone(), c.backend.clone()))
    };
    assert_eq!(
        framework("llama"),
        Some(("llamacpp".into(), "llamacpp".into())),
        "the annotation wins over spec.backendFramework, trimmed"
    );
    assert_eq!(
        framework("vllm"),
        Some(("vllm".into(), "vllm".into())),
        "other services keep spec.backendFramework"
    );

    // A blank annotation is no choice: spec.backendFramework applies.
    let blank = ANNOTATED.replace("\" llamacpp \"", "\"\"");
    let m = GraphModel::build(&graph(&blank), &RenderConfig::default(), &with_llamacpp())
        .expect("model");
    assert_eq!(
        m.service("llama")
            .and_then(|s| s.chain.as_ref())
            .map(|c| c.framework.as_str()),
        Some("vllm")
    );
}

#[test]
fn a_detected_module_must_agree_with_the_annotation() {
    let mismatch = ANNOTATED.replace("[/app/llama-server]", "[python3, -m, dynamo.sglang]");
    let err = GraphModel::build(
        &graph(&mismatch),
        &RenderConfig::default(),
        &with_llamacpp(),
    )
    .expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "spec.components[0].podTemplate.spec.containers[main].command: runs Python module \
         `dynamo.sglang` (backend `sglang`), but \
         spec.services.llama.annotations[nvidia.com/backend-framework] is `llamacpp`"
    );
}

/// A worker whose `resources` are `resources` (inline YAML).
fn worker_with(resources: &str) -> String {
    format!(
        r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: {{ name: g, namespace: ns }}
spec:
  services:
    w:
      componentType: worker
      resources: {resources}
      extraPodSpec: {{ mainContainer: {{ image: w:1, command: [python3, -m, dynamo.vllm] }} }}
"#
    )
}

#[test]
fn a_gpu_request_must_equal_its_limit() {
    let error = build(
        &worker_with(r#"{ requests: { gpu: "1" }, limits: { gpu: "2" } }"#),
        &RenderConfig::default(),
    )
    .expect_err("request below limit");
    let text = error.to_string();
    assert!(
        text.starts_with(
            "spec.components[0].podTemplate.spec.containers[main].resources.requests[nvidia.com/gpu]: "
        ) && text.contains("must equal the limit (2), got 1"),
        "{text}"
    );

    let error = build(
        &worker_with(r#"{ requests: { gpu: "1", gpuType: amd.com/gpu }, limits: { gpu: "1" } }"#),
        &RenderConfig::default(),
    )
    .expect_err("two resource names");
    let text = error.to_string();
    assert!(
        text.starts_with(
            "spec.components[0].podTemplate.spec.containers[main].resources.requests[amd.com/gpu]: "
        ) && text.contains("`nvidia.com/gpu`"),
        "{text}"
    );
}

#[test]
fn gpu_count_and_resource_come_from_the_limit_or_the_request_alone() {
    let cases = [
        (
            r#"{ limits: { gpu: "4", gpuType: amd.com/gpu } }"#,
            4,
            "amd.com/gpu",
        ),
        (r#"{ requests: { gpu: "2" } }"#, 2, "nvidia.com/gpu"),
        (
            r#"{ requests: { gpu: "1" }, limits: { gpu: "1" } }"#,
            1,
            "nvidia.com/gpu",
        ),
        (r#"{ limits: { gpu: "0" } }"#, 0, ""),
        (r#"{ limits: { cpu: "2" } }"#, 0, ""),
    ];
    for (resources, count, resource) in cases {
        let m = model(&worker_with(resources));
        let w = m.service("w").expect("worker");
        assert_eq!(
            (w.gpus_per_node, w.gpu_resource.as_str()),
            (count, resource),
            "{resources}"
        );
    }
}

const BETA: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  env: [{ name: A, value: graph }, { name: B, value: graph }]
  components:
    - name: p
      type: prefill
      compilationCache: { pvcName: cache }
      podTemplate:
        spec:
          containers:
            - name: main
              image: w:1.0.0
              command: [python3, -m, dynamo.vllm]
              env: [{ name: B, value: component }]
    - name: d
      type: decode
      compilationCache: { pvcName: cache, mountPath: /cc }
      podTemplate: { spec: { containers: [{ name: main, image: w:1.0.0, command: [python3, -m, dynamo.sglang] }] } }
    - name: planner
      type: planner
"#;

#[test]
fn v1beta1_components_resolve_in_list_order() {
    let m = model(BETA);
    let names: Vec<(&str, &str)> = m
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("p", "spec.components[0]"),
            ("d", "spec.components[1]"),
            ("planner", "spec.components[2]"),
        ],
        "the order and index of spec.components"
    );
    let of = |name: &str| {
        let s = m.service(name).expect("component");
        (s.role, s.dynamo_component_type(), s.sub_component_label())
    };
    assert_eq!(of("p"), (ComponentRole::Worker, "prefill", Some("prefill")));
    assert_eq!(of("d"), (ComponentRole::Worker, "decode", Some("decode")));
    assert_eq!(of("planner"), (ComponentRole::Planner, "planner", None));
    assert!(m.service("p").expect("p").hashed);
    assert_eq!(m.service("planner").expect("planner").worker_hash, None);
}

#[test]
fn v1beta1_graph_env_folds_into_every_main_container() {
    let m = model(BETA);
    let env = |name: &str| -> Vec<(String, Option<String>)> {
        m.service(name)
            .and_then(ServiceModel::main_container)
            .and_then(|c| c.env.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.name, e.value))
            .collect()
    };
    assert_eq!(
        env("p"),
        [
            ("A".into(), Some("graph".into())),
            ("B".into(), Some("component".into()))
        ],
        "the component's own variable wins"
    );
    assert_eq!(
        env("planner"),
        [
            ("A".into(), Some("graph".into())),
            ("B".into(), Some("graph".into()))
        ],
        "a component without a pod template gets a main container for the graph's env"
    );
}

#[test]
fn v1beta1_compilation_cache_path() {
    let m = model(BETA);
    let path = |name: &str| {
        m.service(name)
            .and_then(|s| s.compilation_cache_path.clone())
    };
    assert_eq!(path("p").as_deref(), Some(VLLM_COMPILATION_CACHE_PATH));
    assert_eq!(path("d").as_deref(), Some("/cc"), "mountPath wins");
    assert_eq!(path("planner"), None);
    let sglang = BETA.replace(", mountPath: /cc", "");
    assert_eq!(
        model(&sglang)
            .service("d")
            .and_then(|s| s.compilation_cache_path.clone()),
        None,
        "no sglang default"
    );
}
