//! Tests of the validation rules and their field paths.

use dynamo_plugin_contract::{Metadata, Severity};

use super::*;
use crate::testing::{FakePlugins, graph};

fn dgd(metadata_extra: &str, spec: &str) -> String {
    format!(
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {{ name: g, namespace: ns{metadata_extra} }}\nspec:\n{spec}"
    )
}

fn check_with(yaml: &str, config: &RenderConfig) -> Vec<Diagnostic> {
    validate(&graph(yaml), config, &FakePlugins::new())
}

fn check(yaml: &str) -> Vec<Diagnostic> {
    check_with(yaml, &RenderConfig::default())
}

fn errors(found: &[Diagnostic]) -> Vec<(String, String)> {
    found
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.field_path.clone(), d.message.clone()))
        .collect()
}

fn error_paths(found: &[Diagnostic]) -> Vec<String> {
    errors(found).into_iter().map(|(p, _)| p).collect()
}

const OK: &str = "  services:\n    f: { componentType: frontend }\n";

#[test]
fn a_plain_graph_is_valid() {
    assert!(check(&dgd("", OK)).is_empty());
}

#[test]
fn at_least_one_service() {
    assert_eq!(
        errors(&check(&dgd("", "  services: {}\n"))),
        [(
            "spec.services".to_owned(),
            "at least one service is required".to_owned()
        )]
    );
    assert_eq!(
        error_paths(&check(&dgd("", "  envs: []\n"))),
        ["spec.services"]
    );
}

#[test]
fn graph_annotation_values() {
    let annotated =
        |key: &str, value: &str| dgd(&format!(", annotations: {{ {key}: \"{value}\" }}"), OK);
    assert!(
        check(&annotated(
            "nvidia.com/dynamo-operator-origin-version",
            "1.0.0"
        ))
        .is_empty()
    );
    assert!(
        check(&annotated(
            "nvidia.com/dynamo-operator-origin-version",
            "v1.2.3-rc.1+b5"
        ))
        .is_empty()
    );
    assert_eq!(
        errors(&check(&annotated(
            "nvidia.com/dynamo-operator-origin-version",
            "latest"
        ))),
        [(
            "metadata.annotations[nvidia.com/dynamo-operator-origin-version]".to_owned(),
            "must be a semantic version such as 1.0.0, got `latest`".to_owned()
        )]
    );
    assert_eq!(
        error_paths(&check(&annotated(
            "nvidia.com/vllm-distributed-executor-backend",
            "mpi"
        ))),
        ["metadata.annotations[nvidia.com/vllm-distributed-executor-backend]"]
    );
    assert_eq!(
        error_paths(&check(&annotated(
            "nvidia.com/dynamo-kube-discovery-mode",
            "node"
        ))),
        ["metadata.annotations[nvidia.com/dynamo-kube-discovery-mode]"]
    );
    let found = check(&annotated("nvidia.com/dynamo-discovery-backend", "consul"));
    assert!(errors(&found).is_empty());
    assert_eq!(found[0].severity, Severity::Warning);
}

#[test]
fn pvc_rules() {
    let found = check(&dgd(
        "",
        &format!("  pvcs: [{{ name: a }}, {{ name: b, create: true }}, {{ name: '' }}]\n{OK}"),
    ));
    assert_eq!(
        error_paths(&found),
        [
            "spec.pvcs[1].storageClass",
            "spec.pvcs[1].size",
            "spec.pvcs[1].volumeAccessMode",
            "spec.pvcs[2].name",
        ]
    );
}

#[test]
fn restart_rules() {
    let two =
        "  services:\n    a: { componentType: frontend }\n    b: { componentType: frontend }\n";
    assert_eq!(
        error_paths(&check(&dgd("", &format!("  restart: {{ id: '' }}\n{two}")))),
        ["spec.restart.id"]
    );
    assert!(
        check(&dgd(
            "",
            &format!("  restart: {{ id: r1, strategy: {{ order: [b, a] }} }}\n{two}")
        ))
        .is_empty()
    );
    let found = check(&dgd(
        "",
        &format!("  restart: {{ id: r1, strategy: {{ order: [a, a, c] }} }}\n{two}"),
    ));
    assert_eq!(
        errors(&found),
        [
            (
                "spec.restart.strategy.order[1]".to_owned(),
                "service `a` is listed more than once".to_owned()
            ),
            (
                "spec.restart.strategy.order[2]".to_owned(),
                "`c` is not a service of this graph".to_owned()
            ),
            (
                "spec.restart.strategy.order".to_owned(),
                "must list every service exactly once: 3 listed, 2 services".to_owned()
            ),
        ]
    );
}

#[test]
fn topology_rules() {
    let svc = |constraint: &str| {
        format!(
            "  services:\n    f: {{ componentType: frontend{constraint} }}\n    g: {{ componentType: frontend }}\n"
        )
    };
    assert_eq!(
        error_paths(&check(&dgd(
            "",
            &svc(", topologyConstraint: { packDomain: rack }")
        ))),
        ["spec.topologyConstraint.topologyProfile"]
    );
    assert_eq!(
        error_paths(&check(&dgd(
            "",
            &format!(
                "  topologyConstraint: {{ topologyProfile: p, packDomain: Rack_1 }}\n{}",
                svc("")
            )
        ))),
        ["spec.topologyConstraint.packDomain"]
    );
    assert_eq!(
        error_paths(&check(&dgd(
            "",
            &format!(
                "  topologyConstraint: {{ topologyProfile: p }}\n{}",
                svc(", topologyConstraint: { packDomain: rack }")
            )
        ))),
        ["spec.services.g.topologyConstraint.packDomain"],
        "without a graph packDomain every service needs its own"
    );
    assert!(
        check(&dgd(
            "",
            &format!(
                "  topologyConstraint: {{ topologyProfile: p, packDomain: zone }}\n{}",
                svc(", topologyConstraint: { packDomain: rack }")
            )
        ))
        .is_empty()
    );
}

#[test]
fn failover_needs_container_discovery_and_gms() {
    let spec = "  services:\n    w:\n      componentType: worker\n      resources: { limits: { gpu: \"1\" } }\n      failover: { enabled: true }\n";
    assert_eq!(
        error_paths(&check(&dgd("", spec))),
        [
            "spec.services.w.failover.enabled",
            "spec.services.w.failover.enabled"
        ]
    );
    let container = ", annotations: { nvidia.com/dynamo-kube-discovery-mode: container }";
    let with_gms = spec.replace(
        "failover:",
        "gpuMemoryService: { enabled: true }\n      failover:",
    );
    assert!(errors(&check(&dgd(container, &with_gms))).is_empty());
    let inter = with_gms.replace(
        "failover: { enabled: true }",
        "failover: { enabled: true, mode: interPod }",
    );
    assert_eq!(
        error_paths(&check(&dgd(container, &inter))),
        [
            "spec.services.w.failover.mode",
            "spec.services.w.failover.mode"
        ]
    );
}

#[test]
fn gpu_memory_service_rules() {
    let spec = "  services:\n    f:\n      componentType: frontend\n      gpuMemoryService: { enabled: true, mode: interPod }\n";
    assert_eq!(
        error_paths(&check(&dgd("", spec))),
        [
            "spec.services.f.gpuMemoryService.mode",
            "spec.services.f.gpuMemoryService.enabled",
            "spec.services.f.resources.limits.gpu",
        ]
    );
}

#[test]
fn grove_name_budget() {
    let long = "a".repeat(30);
    let spec = format!("  services:\n    {long}: {{ componentType: frontend }}\n");
    let grove = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    let yaml = format!(
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {{ name: graph-with-a-long-name }}\nspec:\n{spec}"
    );
    assert!(check(&yaml).is_empty(), "only Grove limits names");
    assert_eq!(
        errors(&check_with(&yaml, &grove)),
        [(
            format!("spec.services.{long}"),
            "graph name + service name is 52 characters; Grove allows at most 45".to_owned()
        )]
    );
    let multi = "  services:\n    decode: { componentType: worker, multinode: { nodeCount: 2 } }\n";
    let yaml = |name: &str| {
        format!(
            "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {{ name: {name} }}\nspec:\n{multi}"
        )
    };
    // `decode` + `decode-ldr` take 16 characters; the graph name may take 29.
    assert!(check_with(&yaml(&"g".repeat(29)), &grove).is_empty());
    assert_eq!(
        error_paths(&check_with(&yaml(&"g".repeat(30)), &grove)),
        ["spec.services.decode"]
    );
}

#[test]
fn service_shape_rules() {
    let found = check(&dgd(
        "",
        r#"  services:
    Bad_Name: { componentType: frontend }
    w:
      componentType: worker
      replicas: -1
      multinode: { nodeCount: 1 }
      ingress: { enabled: true }
      resources: { limits: { gpu: lots } }
      volumeMounts: [{ name: data }, { name: cache, useAsCompilationCache: true }]
      sharedMemory: { disabled: true, size: 1Gi }
      annotations: { nvidia.com/vllm-distributed-executor-backend: threads }
    x:
      componentType: frontend
      sharedMemory: {}
      frontendSidecar: { image: fe }
      extraPodSpec: { containers: [{ name: sidecar-frontend }] }
"#,
    ));
    assert_eq!(
        error_paths(&found),
        [
            "spec.services.Bad_Name",
            "spec.services.w.replicas",
            "spec.services.w.multinode.nodeCount",
            "spec.services.w.ingress.host",
            "spec.services.w.resources.limits.gpu",
            "spec.services.w.volumeMounts[0].mountPoint",
            "spec.services.w.sharedMemory.size",
            "spec.services.w.annotations[nvidia.com/vllm-distributed-executor-backend]",
            "spec.services.x.sharedMemory.size",
            "spec.services.x.frontendSidecar",
        ]
    );
}

#[test]
fn deprecated_fields_only_warn() {
    let found = check(&dgd(
        "",
        "  services:\n    f: { componentType: frontend, dynamoNamespace: old, autoscaling: { enabled: true } }\n",
    ));
    assert!(errors(&found).is_empty());
    let warned: Vec<&str> = found.iter().map(|d| d.field_path.as_str()).collect();
    assert_eq!(
        warned,
        [
            "spec.services.f.dynamoNamespace",
            "spec.services.f.autoscaling"
        ]
    );
}

#[test]
fn epp_rules() {
    let epp = |extra: &str| {
        dgd(
            "",
            &format!("  services:\n    p:\n      componentType: epp\n{extra}"),
        )
    };
    assert_eq!(error_paths(&check(&epp(""))), ["spec.services.p.eppConfig"]);
    assert!(
        check(&epp(
            "      eppConfig: { configMapRef: { name: cm, key: k } }\n"
        ))
        .is_empty()
    );
    assert_eq!(
        error_paths(&check(&epp(
            "      replicas: 2\n      multinode: { nodeCount: 2 }\n      eppConfig: { configMapRef: { name: '', key: k } }\n"
        ))),
        [
            "spec.services.p.multinode",
            "spec.services.p.replicas",
            "spec.services.p.eppConfig.configMapRef.name",
            "spec.services.p.multinode",
        ],
        "the last one: no multinode orchestrator under Deployment"
    );
}

#[test]
fn backend_rules() {
    let mismatch = dgd(
        "",
        "  backendFramework: trtllm\n  services:\n    w:\n      componentType: worker\n      extraPodSpec: { mainContainer: { command: [python3, -m, dynamo.sglang] } }\n",
    );
    assert_eq!(
        errors(&check(&mismatch)),
        [(
            "spec.services.w.extraPodSpec.mainContainer.command".to_owned(),
            "runs Python module `dynamo.sglang` (backend `sglang`), but spec.backendFramework is `trtllm`".to_owned()
        )]
    );
    let missing = dgd(
        "",
        "  backendFramework: vllm\n  services:\n    w: { componentType: worker }\n",
    );
    let no_plugins = validate(
        &graph(&missing),
        &RenderConfig::default(),
        &FakePlugins::empty(),
    );
    assert_eq!(error_paths(&no_plugins), ["spec.backendFramework"]);
    let cache = dgd(
        "",
        "  services:\n    w:\n      componentType: worker\n      volumeMounts: [{ name: c, useAsCompilationCache: true }]\n      extraPodSpec: { mainContainer: { command: [python3, -m, dynamo.sglang] } }\n",
    );
    let found = check(&cache);
    assert!(errors(&found).is_empty());
    assert_eq!(
        found[0].field_path,
        "spec.services.w.volumeMounts[0].mountPoint"
    );
    assert_eq!(found[0].severity, Severity::Warning);
}

#[test]
fn multinode_needs_an_orchestrator_and_lws_needs_command_args_and_gpus() {
    let spec = dgd(
        "",
        "  services:\n    w: { componentType: worker, multinode: { nodeCount: 2 } }\n",
    );
    assert_eq!(
        errors(&check(&spec)),
        [(
            "spec.services.w.multinode".to_owned(),
            "no multinode orchestrator available: enable Grove or LeaderWorkerSet".to_owned()
        )]
    );
    let lws = RenderConfig::default().with_orchestrator(Orchestrator::Lws);
    assert_eq!(
        error_paths(&check_with(&spec, &lws)),
        [
            "spec.services.w.extraPodSpec.mainContainer.command",
            "spec.services.w.extraPodSpec.mainContainer.args",
            "spec.services.w.resources.limits.gpu",
        ]
    );
    let grove = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    assert!(check_with(&spec, &grove).is_empty());
}

#[test]
fn semver() {
    for ok in [
        "0.0.0",
        "1.2.3",
        "v1.0.0",
        "1.0.0-rc.1",
        "1.0.0+build.5",
        "10.20.30-alpha-1",
    ] {
        assert!(is_semver(ok), "{ok}");
    }
    for bad in [
        "1.0",
        "01.0.0",
        "1.0.0-",
        "1.0.0+",
        "a.b.c",
        "",
        "1.0.0-rc..1",
    ] {
        assert!(!is_semver(bad), "{bad}");
    }
}

#[test]
fn backend_framework_annotation_rules() {
    let annotated = |component: &str, value: &str| {
        dgd(
            "",
            &format!(
                "  services:\n    w:\n      componentType: {component}\n      annotations: {{ nvidia.com/backend-framework: \"{value}\" }}\n      extraPodSpec: {{ mainContainer: {{ command: [/app/llama-server] }} }}\n"
            ),
        )
    };
    let path = "spec.services.w.annotations[nvidia.com/backend-framework]";

    // No loaded plugin claims the framework: one error naming the annotation.
    assert_eq!(
        errors(&check(&annotated("worker", "llamacpp"))),
        [(
            path.to_owned(),
            "no loaded backend plugin handles `llamacpp` (a custom backend plugin is loaded \
             from the operator's plugin directory)"
                .to_owned()
        )]
    );

    // With the plugin loaded, the graph is valid.
    let plugins = FakePlugins::new().with_plugin(Metadata {
        name: "llamacpp".into(),
        frameworks: vec!["llamacpp".into()],
        ..Metadata::default()
    });
    let found = validate(
        &graph(&annotated("worker", "llamacpp")),
        &RenderConfig::default(),
        &plugins,
    );
    assert!(found.is_empty(), "{found:?}");

    // A blank value is an error; on a non-worker the annotation only warns.
    assert_eq!(error_paths(&check(&annotated("decode", " "))), [path]);
    let frontend = check(&annotated("frontend", "llamacpp"));
    assert!(errors(&frontend).is_empty());
    assert_eq!(frontend.len(), 1);
    assert_eq!(frontend[0].field_path, path);
    assert_eq!(frontend[0].severity, Severity::Warning);
}

#[test]
fn checkpoint_restore_is_refused_by_name() {
    let found = check(&dgd(
        "",
        "  services:\n    Worker:\n      componentType: worker\n      checkpoint:\n        enabled: true\n        checkpointRef: ckpt\n      extraPodSpec:\n        mainContainer:\n          image: i\n          command: [python3, -m, dynamo.vllm]\n",
    ));
    assert!(
        found.iter().any(|d| d.severity == Severity::Error
            && d.field_path == "spec.services.Worker.checkpoint.enabled"
            && d.message.contains("not supported")),
        "{found:?}"
    );
}

#[test]
fn a_gpu_request_differing_from_its_limit_is_refused_by_name() {
    let found = check(&dgd(
        "",
        r#"  services:
    w:
      componentType: worker
      resources: { requests: { gpu: "1" }, limits: { gpu: "2" } }
    x:
      componentType: worker
      resources: { requests: { gpu: "2" }, limits: { gpu: "2" } }
"#,
    ));
    let errors = errors(&found);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "spec.services.w.resources.requests.gpu");
    assert!(
        errors[0]
            .1
            .contains("must equal resources.limits.gpu (2), got 1"),
        "{errors:?}"
    );
    // The same rule guards a standalone component.
    let svc: DynamoComponentDeploymentSharedSpec = serde_json::from_value(serde_json::json!({
        "name": "w",
        "type": "worker",
        "podTemplate": {"spec": {"containers": [{
            "name": "main", "image": "w:1.0.0",
            "resources": { "requests": { "nvidia.com/gpu": "4" }, "limits": { "nvidia.com/gpu": "8" } }
        }]}}
    }))
    .expect("spec");
    let found = validate_service(
        &svc,
        &crate::legacy::LegacyService::default(),
        "spec",
        crate::config::Orchestrator::Deployment,
    );
    assert_eq!(
        error_paths(&found),
        ["spec.podTemplate.spec.containers[main].resources.requests[nvidia.com/gpu]"]
    );
}
