//! Tests of the validation rules and their field paths.

use dynamo_plugin_contract::{Metadata, Severity};

use super::*;
use crate::testing::{FakePlugins, graph};

/// A `v1alpha1` graph `g` in `ns`; `spec` holds the lines under `spec:`.
fn dgd(metadata_extra: &str, spec: &str) -> String {
    format!(
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {{ name: g, namespace: ns{metadata_extra} }}\nspec:\n{spec}"
    )
}

/// A `v1beta1` graph `g` in `ns`; `spec` holds the lines under `spec:`.
fn beta(metadata_extra: &str, spec: &str) -> String {
    format!(
        "apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeployment\nmetadata: {{ name: g, namespace: ns{metadata_extra} }}\nspec:\n{spec}"
    )
}

/// One `v1beta1` component entry: its main container has a versioned image and the flow-map
/// fields `main` (e.g. `command: [...]`); `extra` holds further lines of the component.
fn component(name: &str, kind: &str, main: &str, extra: &str) -> String {
    let main = if main.is_empty() {
        String::new()
    } else {
        format!(", {main}")
    };
    format!(
        "    - name: {name}\n      type: {kind}\n      podTemplate: {{ spec: {{ containers: [{{ name: main, image: \"img:1.0.0\"{main} }}] }} }}\n{extra}"
    )
}

/// `spec.components` holding `entries`.
fn components(entries: &[String]) -> String {
    format!("  components:\n{}", entries.concat())
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

fn pair(path: &str, message: &str) -> (String, String) {
    (path.to_owned(), message.to_owned())
}

/// A valid graph with one frontend, in `v1beta1`.
fn ok() -> String {
    components(&[component("f", "frontend", "", "")])
}

/// The same graph in `v1alpha1`.
const OK_ALPHA: &str = "  services:\n    f: { componentType: frontend, extraPodSpec: { mainContainer: { image: \"fe:1.0.0\" } } }\n";

/// A worker with one GPU whose `experimental` block is `experimental`.
fn gpu_worker(experimental: &str) -> String {
    components(&[component(
        "w",
        "worker",
        "resources: { limits: { nvidia.com/gpu: \"1\" } }",
        &format!("      experimental: {experimental}\n"),
    )])
}

const CONTAINER_DISCOVERY: &str =
    ", annotations: { nvidia.com/dynamo-kube-discovery-mode: container }";

#[test]
fn a_plain_graph_is_valid() {
    assert!(check(&beta("", &ok())).is_empty());
    assert!(
        check(&dgd("", OK_ALPHA)).is_empty(),
        "the same graph written in v1alpha1"
    );
}

#[test]
fn at_least_one_component() {
    let expected = [pair(
        "spec.components",
        "at least one component is required",
    )];
    assert_eq!(errors(&check(&beta("", "  components: []\n"))), expected);
    assert_eq!(errors(&check(&beta("", "  env: []\n"))), expected);
    assert_eq!(
        errors(&check(&dgd("", "  services: {}\n"))),
        expected,
        "a v1alpha1 graph without services"
    );
    assert_eq!(
        error_paths(&check(&dgd("", "  envs: []\n"))),
        ["spec.components"]
    );
}

#[test]
fn a_component_needs_a_main_container_with_an_image() {
    let expected = [pair(
        "spec.components[0].podTemplate.spec.containers",
        "a container named `main` with a non-empty image is required",
    )];
    for entry in [
        "    - { name: f, type: frontend }\n",
        "    - name: f\n      type: frontend\n      podTemplate: { spec: { containers: [{ name: main }] } }\n",
        "    - name: f\n      type: frontend\n      podTemplate: { spec: { containers: [{ name: main, image: '' }] } }\n",
        "    - name: f\n      type: frontend\n      podTemplate: { spec: { containers: [{ name: app, image: \"app:1.0.0\" }] } }\n",
    ] {
        assert_eq!(
            errors(&check(&beta("", &format!("  components:\n{entry}")))),
            expected,
            "{entry}"
        );
    }
    assert_eq!(
        errors(&check(&dgd(
            "",
            "  services:\n    f: { componentType: frontend }\n"
        ))),
        expected,
        "a v1alpha1 service without an image"
    );

    // An image tag that is no version only warns: the runtime version must then be given.
    let untagged = |extra: &str| {
        check(&beta(
            "",
            &format!(
                "  components:\n    - name: f\n      type: frontend\n{extra}      podTemplate: {{ spec: {{ containers: [{{ name: main, image: fe:latest }}] }} }}\n"
            ),
        ))
    };
    let found = untagged("");
    assert!(errors(&found).is_empty(), "{found:?}");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].field_path,
        "spec.components[0].runtimeVersionOverride"
    );
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(untagged("      runtimeVersionOverride: 1.5.0\n").is_empty());
}

#[test]
fn component_names_are_unique_ignoring_case() {
    let found = check(&beta(
        "",
        &components(&[
            component("Worker", "frontend", "", ""),
            component("other", "frontend", "", ""),
            component("worker", "frontend", "", ""),
        ]),
    ));
    assert_eq!(
        errors(&found),
        [pair(
            "spec.components[2].name",
            "component names must be unique case-insensitively: `worker` repeats spec.components[0]"
        )]
    );
}

#[test]
fn graph_annotation_values() {
    let annotated =
        |key: &str, value: &str| beta(&format!(", annotations: {{ {key}: \"{value}\" }}"), &ok());
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
        [pair(
            "metadata.annotations[nvidia.com/dynamo-operator-origin-version]",
            "must be a semantic version such as 1.0.0, got `latest`"
        )]
    );
    assert_eq!(
        error_paths(&check(&annotated(
            "nvidia.com/vllm-distributed-executor-backend",
            "mpi"
        ))),
        ["metadata.annotations[nvidia.com/vllm-distributed-executor-backend]"]
    );
    for accepted in ["mp", "MP", "ray", "Ray"] {
        assert!(
            check(&annotated(
                "nvidia.com/vllm-distributed-executor-backend",
                accepted
            ))
            .is_empty(),
            "`{accepted}`: mp or ray, in any case"
        );
    }
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
        &format!(
            "  pvcs: [{{ name: a }}, {{ name: b, create: true }}, {{ name: '' }}]\n{OK_ALPHA}"
        ),
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
    let pvc = |size: &str| {
        check(&dgd(
            "",
            &format!(
                "  pvcs: [{{ name: m, create: true, size: \"{size}\", storageClass: fast, volumeAccessMode: ReadWriteOnce }}]\n{OK_ALPHA}"
            ),
        ))
    };
    assert!(pvc("10Gi").is_empty());
    assert_eq!(
        errors(&pvc("0")),
        [pair("spec.pvcs[0].size", "is required when create is true")],
        "a claim of no bytes cannot be created"
    );
}

#[test]
fn restart_rules() {
    let two = components(&[
        component("a", "frontend", "", ""),
        component("b", "frontend", "", ""),
    ]);
    let restart = |restart: &str| check(&beta("", &format!("  restart: {restart}\n{two}")));
    assert_eq!(error_paths(&restart("{ id: '' }")), ["spec.restart.id"]);
    assert!(restart("{ id: r1, strategy: { order: [b, a] } }").is_empty());
    assert!(restart("{ id: r1, strategy: { type: Sequential, order: [a, b] } }").is_empty());
    assert!(restart("{ id: r1, strategy: { type: Parallel } }").is_empty());
    assert_eq!(
        errors(&restart(
            "{ id: r1, strategy: { type: Parallel, order: [a, b] } }"
        )),
        [pair(
            "spec.restart.strategy.order",
            "cannot be specified when strategy is parallel"
        )]
    );
    assert_eq!(
        errors(&restart("{ id: r1, strategy: { order: [a, a, c] } }")),
        [
            pair(
                "spec.restart.strategy.order[1]",
                "component `a` is listed more than once"
            ),
            pair(
                "spec.restart.strategy.order[2]",
                "`c` is not a component of this graph"
            ),
            pair(
                "spec.restart.strategy.order",
                "must list every component exactly once: 3 listed, 2 components"
            ),
        ]
    );
}

#[test]
fn topology_rules() {
    let graph_with = |graph: &str, constraint: &str| {
        let first = if constraint.is_empty() {
            String::new()
        } else {
            format!("      topologyConstraint: {{ packDomain: {constraint} }}\n")
        };
        let graph = if graph.is_empty() {
            String::new()
        } else {
            format!("  topologyConstraint: {graph}\n")
        };
        check(&beta(
            "",
            &format!(
                "{graph}{}",
                components(&[
                    component("f", "frontend", "", &first),
                    component("g", "frontend", "", ""),
                ])
            ),
        ))
    };
    assert_eq!(
        error_paths(&graph_with("", "rack")),
        ["spec.topologyConstraint.clusterTopologyName"]
    );
    assert_eq!(
        error_paths(&graph_with(
            "{ clusterTopologyName: p, packDomain: Rack_1 }",
            ""
        )),
        ["spec.topologyConstraint.packDomain"]
    );
    assert_eq!(
        error_paths(&graph_with(
            "{ clusterTopologyName: p, packDomain: zone }",
            "Rack"
        )),
        ["spec.components[0].topologyConstraint.packDomain"]
    );
    assert_eq!(
        error_paths(&graph_with("{ clusterTopologyName: p }", "rack")),
        ["spec.components[1].topologyConstraint.packDomain"],
        "without a graph packDomain every component needs its own"
    );
    assert!(graph_with("{ clusterTopologyName: p, packDomain: zone }", "rack").is_empty());
}

#[test]
fn failover_needs_container_discovery_and_gms() {
    let expected = [
        pair(
            "spec.components[0].experimental.failover",
            "failover needs the graph annotation nvidia.com/dynamo-kube-discovery-mode: container",
        ),
        pair(
            "spec.components[0].experimental.failover",
            "needs experimental.gpuMemoryService",
        ),
    ];
    assert_eq!(
        errors(&check(&beta("", &gpu_worker("{ failover: {} }")))),
        expected
    );
    // The v1alpha1 switch is judged at its v1beta1 place.
    let alpha = "  services:\n    w:\n      componentType: worker\n      resources: { limits: { gpu: \"1\" } }\n      failover: { enabled: true }\n      extraPodSpec: { mainContainer: { image: \"w:1.0.0\" } }\n";
    assert_eq!(errors(&check(&dgd("", alpha))), expected);

    let with_gms = gpu_worker("{ gpuMemoryService: {}, failover: {} }");
    assert!(check(&beta(CONTAINER_DISCOVERY, &with_gms)).is_empty());
    let inter = gpu_worker("{ gpuMemoryService: {}, failover: { mode: InterPod } }");
    assert_eq!(
        errors(&check(&beta(CONTAINER_DISCOVERY, &inter))),
        [
            pair(
                "spec.components[0].experimental.failover.mode",
                "InterPod is not supported by this operator (IntraPod is)"
            ),
            pair(
                "spec.components[0].experimental.failover.mode",
                "must equal experimental.gpuMemoryService.mode"
            ),
        ]
    );
}

#[test]
fn gpu_memory_service_rules() {
    let frontend = components(&[component(
        "f",
        "frontend",
        "",
        "      experimental: { gpuMemoryService: { mode: InterPod } }\n",
    )]);
    let expected = [
        "spec.components[0].experimental.gpuMemoryService.mode",
        "spec.components[0].experimental.gpuMemoryService",
        "spec.components[0].podTemplate.spec.containers[main].resources.limits",
    ];
    assert_eq!(error_paths(&check(&beta("", &frontend))), expected);
    let alpha = "  services:\n    f:\n      componentType: frontend\n      gpuMemoryService: { enabled: true, mode: interPod }\n      extraPodSpec: { mainContainer: { image: \"fe:1.0.0\" } }\n";
    assert_eq!(
        error_paths(&check(&dgd("", alpha))),
        expected,
        "the v1alpha1 switch is judged at its v1beta1 place"
    );

    assert!(check(&beta("", &gpu_worker("{ gpuMemoryService: {} }"))).is_empty());
    assert!(
        check(&beta(
            "",
            &gpu_worker(
                "{ gpuMemoryService: { mode: IntraPod, deviceClassName: gpu.nvidia.com } }"
            )
        ))
        .is_empty()
    );
    assert_eq!(
        errors(&check(&beta(
            "",
            &gpu_worker("{ gpuMemoryService: { mode: InterPod } }")
        ))),
        [pair(
            "spec.components[0].experimental.gpuMemoryService.mode",
            "InterPod is not supported by this operator (IntraPod is)"
        )]
    );
    assert_eq!(
        error_paths(&check(&beta(
            "",
            &gpu_worker("{ gpuMemoryService: { extraClientContainers: [helper] } }")
        ))),
        ["spec.components[0].experimental.gpuMemoryService.extraClientContainers"]
    );
}

#[test]
fn grove_name_budget() {
    let named = |name: &str, spec: &str| {
        format!(
            "apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeployment\nmetadata: {{ name: {name} }}\nspec:\n{spec}"
        )
    };
    let long = "a".repeat(30);
    let yaml = named(
        "graph-with-a-long-name",
        &components(&[component(&long, "frontend", "", "")]),
    );
    let grove = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    assert!(check(&yaml).is_empty(), "only Grove limits names");
    assert_eq!(
        errors(&check_with(&yaml, &grove)),
        [pair(
            "spec.components[0].name",
            "graph name + component name is 52 characters; Grove allows at most 45"
        )]
    );
    let multi = components(&[component(
        "decode",
        "decode",
        "",
        "      multinode: { nodeCount: 2 }\n",
    )]);
    // `decode` + `decode-ldr` take 16 characters; the graph name may take 29.
    assert!(check_with(&named(&"g".repeat(29), &multi), &grove).is_empty());
    assert_eq!(
        error_paths(&check_with(&named(&"g".repeat(30), &multi), &grove)),
        ["spec.components[0].name"]
    );
}

#[test]
fn component_shape_rules() {
    let found = check(&beta(
        "",
        r#"  components:
    - name: Bad_Name
      type: frontend
      podTemplate: { spec: { containers: [{ name: main, image: "fe:1.0.0" }] } }
    - name: w
      type: worker
      replicas: -1
      multinode: { nodeCount: 1 }
      sharedMemorySize: "-1Gi"
      compilationCache: { pvcName: "" }
      podTemplate:
        metadata: { annotations: { nvidia.com/vllm-distributed-executor-backend: threads } }
        spec: { containers: [{ name: main, image: "w:1.0.0", resources: { limits: { nvidia.com/gpu: 500m } } }] }
    - name: x
      type: frontend
      frontendSidecar: missing
      podTemplate:
        spec:
          initContainers: [{ name: init }]
          containers: [{ name: main, image: "fe:1.0.0" }, { name: sidecar }]
"#,
    ));
    assert_eq!(
        error_paths(&found),
        [
            // The name breaks the component-name pattern, and gives no DNS label.
            "spec.components[0].name",
            "spec.components[0].name",
            "spec.components[1].replicas",
            "spec.components[1].multinode.nodeCount",
            "spec.components[1].podTemplate.spec.containers[main].resources.limits[nvidia.com/gpu]",
            "spec.components[1].sharedMemorySize",
            "spec.components[1].compilationCache.pvcName",
            "spec.components[1].podTemplate.metadata.annotations[nvidia.com/vllm-distributed-executor-backend]",
            "spec.components[2].podTemplate.spec.containers[1].image",
            "spec.components[2].podTemplate.spec.initContainers[0].image",
            "spec.components[2].frontendSidecar",
        ]
    );
    let message = |path: &str| {
        found
            .iter()
            .find(|d| d.field_path == path)
            .map(|d| d.message.clone())
            .unwrap_or_else(|| panic!("no finding at {path}"))
    };
    assert_eq!(
        message(
            "spec.components[1].podTemplate.spec.containers[main].resources.limits[nvidia.com/gpu]"
        ),
        "must be a whole number of GPUs, got `500m`"
    );
    assert_eq!(
        message("spec.components[1].sharedMemorySize"),
        "must not be negative, got `-1Gi`"
    );
    assert_eq!(
        message("spec.components[2].frontendSidecar"),
        "must name a container of podTemplate.spec.containers other than `main`, got `missing`"
    );
}

#[test]
fn v1alpha1_only_fields_keep_their_v1alpha1_paths() {
    let found = check(&dgd(
        "",
        r#"  services:
    Bad_Name:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: "fe:1.0.0" } }
    w:
      componentType: worker
      replicas: -1
      ingress: { enabled: true }
      annotations: { nvidia.com/vllm-distributed-executor-backend: threads }
      extraPodSpec: { mainContainer: { image: "w:1.0.0" } }
"#,
    ));
    assert_eq!(
        error_paths(&found),
        [
            "spec.components[0].name",
            "spec.components[0].name",
            "spec.components[1].replicas",
            "spec.services.w.ingress.host",
            "spec.services.w.annotations[nvidia.com/vllm-distributed-executor-backend]",
        ]
    );
}

#[test]
fn a_named_frontend_sidecar_and_shared_memory_settings_are_accepted() {
    let yaml = |sidecar: &str, shm: &str| {
        beta(
            "",
            &format!(
                r#"  components:
    - name: w
      type: worker
      frontendSidecar: {sidecar}
      sharedMemorySize: "{shm}"
      compilationCache: {{ pvcName: cache, mountPath: /cache }}
      podTemplate:
        spec:
          containers:
            - {{ name: main, image: "w:1.0.0" }}
            - {{ name: fe, image: "fe:1.0.0" }}
"#
            ),
        )
    };
    assert!(check(&yaml("fe", "0")).is_empty(), "no /dev/shm at all");
    assert!(check(&yaml("fe", "16Gi")).is_empty());
    assert_eq!(
        errors(&check(&yaml("main", "1Gi"))),
        [pair(
            "spec.components[0].frontendSidecar",
            "must name a container of podTemplate.spec.containers other than `main`, got `main`"
        )],
        "the main container cannot be its own sidecar"
    );
}

#[test]
fn deprecated_fields_only_warn() {
    let found = check(&dgd(
        "",
        "  services:\n    f: { componentType: frontend, dynamoNamespace: old, autoscaling: { enabled: true }, extraPodSpec: { mainContainer: { image: \"fe:1.0.0\" } } }\n",
    ));
    assert!(errors(&found).is_empty(), "{found:?}");
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
    let epp = |extra: &str| beta("", &components(&[component("p", "epp", "", extra)]));
    assert_eq!(
        errors(&check(&epp(""))),
        [pair(
            "spec.components[0].eppConfig",
            "is required for type epp"
        )]
    );
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
            "spec.components[0].multinode",
            "spec.components[0].replicas",
            "spec.components[0].eppConfig.configMapRef.name",
            "spec.components[0].multinode",
        ],
        "the last one: no multinode orchestrator under Deployment"
    );
    let on_worker = components(&[component(
        "w",
        "worker",
        "",
        "      eppConfig: { configMapRef: { name: cm, key: k } }\n",
    )]);
    assert_eq!(
        errors(&check(&beta("", &on_worker))),
        [pair(
            "spec.components[0].eppConfig",
            "eppConfig may only be set when type is epp"
        )]
    );
    let config = "      eppConfig: { configMapRef: { name: cm, key: k } }\n";
    let two = components(&[
        component("p", "epp", "", config),
        component("q", "epp", "", config),
    ]);
    assert_eq!(
        errors(&check(&beta("", &two))),
        [pair(
            "spec.components",
            "at most one component may have type epp, found 2 (spec.components[0, 1])"
        )]
    );
}

#[test]
fn backend_rules() {
    let mismatch = beta(
        "",
        &format!(
            "  backendFramework: trtllm\n{}",
            components(&[component(
                "w",
                "worker",
                "command: [python3, -m, dynamo.sglang]",
                ""
            )])
        ),
    );
    assert_eq!(
        errors(&check(&mismatch)),
        [pair(
            "spec.components[0].podTemplate.spec.containers[main].command",
            "runs Python module `dynamo.sglang` (backend `sglang`), but spec.backendFramework is `trtllm`"
        )]
    );
    let missing = beta(
        "",
        &format!(
            "  backendFramework: vllm\n{}",
            components(&[component("w", "worker", "", "")])
        ),
    );
    let no_plugins = validate(
        &graph(&missing),
        &RenderConfig::default(),
        &FakePlugins::empty(),
    );
    assert_eq!(error_paths(&no_plugins), ["spec.backendFramework"]);

    // A compilation cache needs a mount path when the backend has no default one.
    let cache = |module: &str| {
        beta(
            "",
            &components(&[component(
                "w",
                "worker",
                &format!("command: [python3, -m, {module}]"),
                "      compilationCache: { pvcName: c }\n",
            )]),
        )
    };
    let found = check(&cache("dynamo.sglang"));
    assert!(errors(&found).is_empty());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].field_path,
        "spec.components[0].compilationCache.mountPath"
    );
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(
        check(&cache("dynamo.vllm")).is_empty(),
        "vLLM has a default path"
    );
    let alpha = dgd(
        "",
        "  services:\n    w:\n      componentType: worker\n      volumeMounts: [{ name: c, useAsCompilationCache: true }]\n      extraPodSpec: { mainContainer: { image: \"w:1.0.0\", command: [python3, -m, dynamo.sglang] } }\n",
    );
    let found = check(&alpha);
    assert!(errors(&found).is_empty());
    assert_eq!(
        found[0].field_path, "spec.components[0].compilationCache.mountPath",
        "the v1alpha1 cache flag is judged as compilationCache"
    );
}

#[test]
fn multinode_needs_an_orchestrator_and_lws_needs_command_args_and_gpus() {
    let spec = beta(
        "",
        &components(&[component(
            "w",
            "worker",
            "",
            "      multinode: { nodeCount: 2 }\n",
        )]),
    );
    assert_eq!(
        errors(&check(&spec)),
        [pair(
            "spec.components[0].multinode",
            "no multinode orchestrator available: enable Grove or LeaderWorkerSet"
        )]
    );
    let lws = RenderConfig::default().with_orchestrator(Orchestrator::Lws);
    assert_eq!(
        error_paths(&check_with(&spec, &lws)),
        [
            "spec.components[0].podTemplate.spec.containers[main].command",
            "spec.components[0].podTemplate.spec.containers[main].args",
            "spec.components[0].podTemplate.spec.containers[main].resources.limits",
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
    // The annotation on the component's pod template (v1beta1).
    let annotated = |component: &str, value: &str| {
        beta(
            "",
            &format!(
                "  components:\n    - name: w\n      type: {component}\n      podTemplate:\n        metadata: {{ annotations: {{ nvidia.com/backend-framework: \"{value}\" }} }}\n        spec: {{ containers: [{{ name: main, image: \"w:1.0.0\", command: [/app/llama-server] }}] }}\n"
            ),
        )
    };
    // Each error names the annotation where it was written.
    let unhandled = |path: &str| {
        [pair(
            path,
            "no loaded backend plugin handles `llamacpp` (a custom backend plugin is loaded from \
             the operator's plugin directory)",
        )]
    };
    let path = "spec.components[0].podTemplate.metadata.annotations[nvidia.com/backend-framework]";

    // No loaded plugin claims the framework: one error naming the annotation.
    assert_eq!(
        errors(&check(&annotated("worker", "llamacpp"))),
        unhandled(path)
    );
    // The same annotation on a v1alpha1 service: named by its v1alpha1 path.
    let alpha = dgd(
        "",
        "  services:\n    w:\n      componentType: worker\n      annotations: { nvidia.com/backend-framework: llamacpp }\n      extraPodSpec: { mainContainer: { image: \"w:1.0.0\", command: [/app/llama-server] } }\n",
    );
    assert_eq!(
        errors(&check(&alpha)),
        unhandled("spec.services.w.annotations[nvidia.com/backend-framework]")
    );

    // With the plugin loaded, the graph is valid.
    let plugins = FakePlugins::new().with_plugin(Metadata {
        name: "llamacpp".into(),
        frameworks: vec!["llamacpp".into()],
        ..Metadata::default()
    });
    for yaml in [annotated("worker", "llamacpp"), alpha] {
        let found = validate(&graph(&yaml), &RenderConfig::default(), &plugins);
        assert!(found.is_empty(), "{found:?}");
    }

    // A blank value is an error; on a non-worker the annotation only warns.
    assert_eq!(error_paths(&check(&annotated("decode", " "))), [path]);
    let frontend = check(&annotated("frontend", "llamacpp"));
    assert!(errors(&frontend).is_empty());
    assert_eq!(frontend.len(), 1);
    assert_eq!(frontend[0].field_path, path);
    assert_eq!(frontend[0].severity, Severity::Warning);
}

#[test]
fn features_this_operator_does_not_render_are_refused_by_name() {
    let checkpoint = "  services:\n    Worker:\n      componentType: worker\n      checkpoint:\n        enabled: true\n        checkpointRef: ckpt\n      extraPodSpec:\n        mainContainer:\n          image: \"w:1.0.0\"\n          command: [python3, -m, dynamo.vllm]\n";
    let found = check(&dgd("", checkpoint));
    assert!(
        found.iter().any(|d| d.severity == Severity::Error
            && d.field_path == "spec.components[0].experimental.checkpoint.enabled"
            && d.message.contains("not supported")),
        "{found:?}"
    );
    let experimental = |experimental: &str| {
        check(&beta(
            "",
            &components(&[component(
                "w",
                "worker",
                "",
                &format!("      experimental: {experimental}\n"),
            )]),
        ))
    };
    assert_eq!(
        error_paths(&experimental(
            "{ checkpoint: { enabled: true, checkpointRef: ckpt } }"
        )),
        ["spec.components[0].experimental.checkpoint.enabled"]
    );
    assert!(
        experimental("{ checkpoint: { enabled: false } }").is_empty(),
        "a disabled checkpoint asks for nothing"
    );
    assert_eq!(
        error_paths(&experimental("{ grove: { forceScalingGroup: true } }")),
        ["spec.components[0].experimental.grove.forceScalingGroup"]
    );
    let graph_level = check(&beta(
        "",
        &format!(
            "  providerOverride: {{ apiVersion: grove.io/v1alpha1, value: {{}} }}\n  experimental: {{ kvTransferPolicy: {{ labelKey: topology.kubernetes.io/zone, domain: zone }} }}\n{}",
            components(&[component(
                "w",
                "worker",
                "",
                "      providerOverride: { apiVersion: grove.io/v1alpha1, value: {} }\n",
            )])
        ),
    ));
    assert_eq!(
        error_paths(&graph_level),
        [
            "spec.providerOverride",
            "spec.experimental.kvTransferPolicy",
            "spec.components[0].providerOverride",
        ]
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
      extraPodSpec: { mainContainer: { image: "w:1.0.0" } }
    x:
      componentType: worker
      resources: { requests: { gpu: "2" }, limits: { gpu: "2" } }
      extraPodSpec: { mainContainer: { image: "w:1.0.0" } }
"#,
    ));
    let errors = errors(&found);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].0,
        "spec.components[0].podTemplate.spec.containers[main].resources.requests[nvidia.com/gpu]"
    );
    assert!(
        errors[0].1.contains("must equal the limit (2), got 1"),
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
