//! Tests of plugin lookup, chain composition and chain execution.

use dynamo_plugin_contract::{Deployer, PluginError, Role};

use super::*;
use crate::model::GraphModel;
use crate::placement::placement;
use crate::pod::base_template;
use crate::testing::{FakePlugins, RENDERED_BY, graph};

fn meta(name: &str, framework: &str, module: &str) -> Metadata {
    Metadata {
        name: name.into(),
        version: "1.0.0".into(),
        kind: PluginKind::Backend,
        frameworks: vec![framework.into()],
        python_modules: vec![module.into()],
        multinode_launcher: None,
        ..Metadata::default()
    }
}

#[test]
fn catalog_indexes_frameworks_and_modules() {
    let catalog = Catalog::new(&FakePlugins::new());
    assert_eq!(catalog.framework_of_module("dynamo.sglang"), Some("sglang"));
    assert_eq!(catalog.framework_of_module("dynamo.frontend"), None);
    assert_eq!(catalog.backend_for("trtllm"), Some("trtllm"));
    assert_eq!(
        catalog.backend_for("mpi"),
        None,
        "launchers are not backends"
    );
    assert_eq!(
        catalog.python_modules().collect::<Vec<_>>(),
        ["dynamo.sglang", "dynamo.trtllm", "dynamo.vllm"]
    );
}

#[test]
fn duplicate_claims_resolve_by_plugin_name_not_load_order() {
    let a = FakePlugins::empty()
        .with_plugin(meta("zeta", "vllm", "dynamo.vllm"))
        .with_plugin(meta("alpha", "vllm", "dynamo.vllm"));
    let b = FakePlugins::empty()
        .with_plugin(meta("alpha", "vllm", "dynamo.vllm"))
        .with_plugin(meta("zeta", "vllm", "dynamo.vllm"));
    assert_eq!(Catalog::new(&a), Catalog::new(&b));
    assert_eq!(Catalog::new(&a).backend_for("vllm"), Some("alpha"));
}

#[test]
fn chain_adds_the_launcher_only_for_multinode() {
    let catalog = Catalog::new(&FakePlugins::new());
    let single = catalog
        .chain("trtllm", false, "spec.services.w")
        .expect("chain");
    assert_eq!(single.plugins().collect::<Vec<_>>(), ["trtllm"]);
    assert!(!single.leader_starts_after_workers());
    let multi = catalog
        .chain("trtllm", true, "spec.services.w")
        .expect("chain");
    assert_eq!(multi.plugins().collect::<Vec<_>>(), ["trtllm", "mpi"]);
    assert!(multi.leader_starts_after_workers());
    let vllm = catalog
        .chain("vllm", true, "spec.services.w")
        .expect("chain");
    assert_eq!(vllm.launcher, None);
}

#[test]
fn chain_errors_name_the_service() {
    let catalog = Catalog::new(&FakePlugins::new());
    let err = catalog
        .chain("echo", false, "spec.services.w")
        .expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "spec.services.w: no backend plugin handles backend framework `echo`"
    );
    let no_mpi = FakePlugins::empty().with_plugin(Metadata {
        multinode_launcher: Some("mpi".into()),
        capabilities: Vec::new(),
        ..meta("trtllm", "trtllm", "dynamo.trtllm")
    });
    let err = Catalog::new(&no_mpi)
        .chain("trtllm", true, "spec.services.w")
        .expect_err("missing launcher");
    assert!(err.to_string().contains("launcher plugin `mpi`"), "{err}");
}

const MULTINODE: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: g
  namespace: ns
  annotations:
    nvidia.com/vllm-distributed-executor-backend: mp
    example.com/other: x
spec:
  services:
    decode:
      componentType: worker
      multinode: { nodeCount: 2 }
      resources: { requests: { gpu: "4" } }
      annotations: { nvidia.com/enable-metrics: "false" }
      extraPodSpec:
        mainContainer:
          command: [python3, -m, dynamo.trtllm]
          args: [--tp, "8"]
"#;

fn input_for(role: Role) -> (FakePlugins, Chain, RenderInput) {
    let plugins = FakePlugins::new();
    let config = RenderConfig::default().with_orchestrator(crate::Orchestrator::Grove);
    let model = GraphModel::build(&graph(MULTINODE), &config, &plugins).expect("model");
    let service = model.service("decode").expect("service");
    let base = base_template(&model, service, role, &config).expect("pod");
    let placement = placement(Deployer::Grove, role, &service.k8s_name, service.node_count);
    let input = render_input(&model, service, placement, &config, &base).expect("input");
    let chain = service.chain.clone().expect("chain");
    (plugins, chain, input)
}

#[test]
fn render_input_carries_component_graph_and_infrastructure() {
    let (_, _, input) = input_for(Role::Leader);
    assert_eq!(input.graph.name, "g");
    assert_eq!(input.graph.namespace, "ns");
    assert_eq!(input.graph.dynamo_namespace, "ns-g");
    assert_eq!(
        input.graph.annotations,
        vec![
            KeyValue::new("nvidia.com/enable-metrics", "false"),
            KeyValue::new("nvidia.com/vllm-distributed-executor-backend", "mp"),
        ],
        "only nvidia.com/ annotations, service values merged in"
    );
    assert_eq!(input.component.service_name, "decode");
    assert_eq!(input.component.backend_framework, "trtllm");
    assert_eq!(input.component.gpus_per_node, 4);
    assert_eq!(input.component.replicas, 1);
    assert_eq!(
        input.infrastructure.mpi_ssh_secret_name,
        "mpi-run-ssh-secret"
    );
    assert_eq!(
        input.infrastructure.wait_for_leader_config_map,
        "g-wait-leader-script"
    );
    assert_eq!(input.placement.role, Role::Leader);
    let template: k8s_openapi::api::core::v1::PodTemplateSpec =
        serde_json::from_str(&input.pod_template).expect("pod template JSON");
    assert!(template.spec.is_some());
}

#[test]
fn run_chain_threads_the_template_through_backend_then_launcher() {
    let (plugins, chain, input) = input_for(Role::Worker);
    let base = serde_json::from_str(&input.pod_template).expect("JSON");
    let output =
        run_chain(&plugins, &chain, &input, &base, "spec.services.decode").expect("render");
    let annotations = output
        .template
        .metadata
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert_eq!(
        annotations.get(RENDERED_BY).map(String::as_str),
        Some("trtllm,mpi")
    );
    assert_eq!(
        output.extra_objects,
        vec![(
            "mpi".to_owned(),
            ExtraObject::SshKeySecret("mpi-run-ssh-secret".into())
        )]
    );
    let calls: Vec<String> = plugins.calls().iter().map(|c| c.plugin.clone()).collect();
    assert_eq!(calls, ["trtllm", "mpi"]);
}

#[test]
fn run_chain_prefixes_warnings_and_names_failures() {
    let (_, chain, input) = input_for(Role::Leader);
    let plugins = FakePlugins::new().with_warnings("trtllm", vec!["slow\n\u{1b}[2Jforged".into()]);
    let base = serde_json::from_str(&input.pod_template).expect("JSON");
    let output =
        run_chain(&plugins, &chain, &input, &base, "spec.services.decode").expect("render");
    assert_eq!(
        output.warnings,
        ["trtllm: slow [2Jforged"],
        "one line, no control characters"
    );

    let plugins = FakePlugins::new().failing(
        "mpi",
        PluginError::invalid_input("spec.services.decode.args", "no hosts"),
    );
    let err =
        run_chain(&plugins, &chain, &input, &base, "spec.services.decode").expect_err("fails");
    assert_eq!(
        err.to_string(),
        "spec.services.decode: plugin `mpi` failed: invalid input at \
         spec.services.decode.args: no hosts"
    );
}

#[test]
fn validate_chain_gathers_every_plugin() {
    let (_, chain, input) = input_for(Role::Leader);
    let plugins = FakePlugins::new()
        .with_findings(
            "trtllm",
            vec![Diagnostic::warning("spec.services.decode", "a")],
        )
        .with_findings("mpi", vec![Diagnostic::error("spec.services.decode", "b")]);
    let found = validate_chain(&plugins, &chain, &input, "spec.services.decode").expect("ok");
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].message, "b");
}

/// A graph whose worker wrote its backend annotation in v1alpha1 and a v1beta1 pod annotation.
fn paths_graph() -> GraphModel {
    let dgd = graph(
        r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g }
spec:
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: "fe:1.0.0" } }
    decode:
      componentType: worker
      annotations: { example.com/quantize: awq }
      extraPodSpec:
        metadata: {}
        mainContainer:
          image: "w:1.0.0"
          command: [python3, -m, dynamo.vllm]
      resources: { limits: { gpu: "2", gpuType: amd.com/gpu } }
"#,
    );
    GraphModel::build(&dgd, &RenderConfig::default(), &FakePlugins::new()).expect("model")
}

#[test]
fn plugin_paths_are_moved_to_the_component_the_user_wrote() {
    let graph = paths_graph();
    let decode = graph.service("decode").expect("decode");
    let main = "spec.components[1].podTemplate.spec.containers[main]";
    let cases = [
        (
            "spec.services.decode.extraPodSpec.mainContainer.args",
            format!("{main}.args"),
        ),
        (
            "spec.services.decode.extraPodSpec.tolerations",
            "spec.components[1].podTemplate.spec.tolerations".to_owned(),
        ),
        (
            "spec.services.decode.resources.limits.gpu",
            format!("{main}.resources.limits[amd.com/gpu]"),
        ),
        (
            "spec.services.decode.envs[HF_HOME]",
            format!("{main}.env[HF_HOME]"),
        ),
        (
            "spec.services.decode.multinode.nodeCount",
            "spec.components[1].multinode.nodeCount".to_owned(),
        ),
        ("spec.services.decode", "spec.components[1]".to_owned()),
        // Written in v1alpha1: named there.
        (
            "spec.services.decode.annotations[example.com/quantize]",
            "spec.services.decode.annotations[example.com/quantize]".to_owned(),
        ),
        // Not the component's own: the graph's.
        (
            "spec.services.decode.annotations[nvidia.com/enable-metrics]",
            "metadata.annotations[nvidia.com/enable-metrics]".to_owned(),
        ),
        // Another component's path, or no component path at all, is left alone.
        (
            "spec.services.decodeX.extraPodSpec",
            "spec.services.decodeX.extraPodSpec".to_owned(),
        ),
        ("metadata.name", "metadata.name".to_owned()),
    ];
    for (plugin, user) in cases {
        assert_eq!(user_field(plugin, decode), user, "{plugin}");
    }
    assert_eq!(
        user_warning(
            "vllm: spec.services.decode.extraPodSpec.mainContainer.args: slow",
            decode
        ),
        format!("vllm: {main}.args: slow")
    );
    assert_eq!(user_warning("mpi: ssh on 2222", decode), "mpi: ssh on 2222");
}
