//! Tests of the host's base pod: component defaults, merge order, env, resources, volumes,
//! shared memory, security context, ServiceAccount, containers and labels.

use dynamo_plugin_contract::Role;
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec, Probe};

use super::*;
use crate::config::{DiscoveryBackend, Orchestrator};
use crate::model::GraphModel;
use crate::testing::{FakePlugins, graph};

fn dgd(services: &str) -> String {
    format!(
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {{ name: g, namespace: ns }}\nspec:\n{services}"
    )
}

/// A `v1beta1` graph `g` in `ns` whose `spec.components` are `components` (list entries).
fn beta(components: &str) -> String {
    format!(
        "apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeployment\nmetadata: {{ name: g, namespace: ns }}\nspec:\n  components:\n{components}"
    )
}

fn pod_with(yaml: &str, service: &str, role: Role, config: &RenderConfig) -> PodTemplateSpec {
    let model = GraphModel::build(&graph(yaml), config, &FakePlugins::new()).expect("model");
    let svc = model.service(service).expect("service");
    base_template(&model, svc, role, config).expect("pod")
}

fn pod(yaml: &str, service: &str) -> PodTemplateSpec {
    pod_with(yaml, service, Role::Main, &RenderConfig::default())
}

fn spec(p: &PodTemplateSpec) -> &PodSpec {
    p.spec.as_ref().expect("spec")
}

fn main(p: &PodTemplateSpec) -> &Container {
    spec(p)
        .containers
        .iter()
        .find(|c| c.name == "main")
        .expect("main container")
}

fn env<'a>(c: &'a Container, name: &str) -> Option<&'a str> {
    c.env
        .iter()
        .flatten()
        .find(|e| e.name == name)
        .and_then(|e| e.value.as_deref())
}

fn strings(v: &Option<Vec<String>>) -> Vec<&str> {
    v.iter().flatten().map(String::as_str).collect()
}

fn http(
    probe: &Option<Probe>,
) -> (
    String,
    String,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
) {
    let p = probe.as_ref().expect("probe");
    let get = p.http_get.as_ref().expect("httpGet");
    let port = match &get.port {
        IntOrString::String(s) => s.clone(),
        IntOrString::Int(i) => i.to_string(),
    };
    (
        get.path.clone().unwrap_or_default(),
        port,
        p.initial_delay_seconds,
        p.period_seconds,
        p.timeout_seconds,
        p.failure_threshold,
    )
}

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

#[test]
fn frontend_defaults() {
    let p = pod(
        &dgd("  services:\n    Frontend: { componentType: frontend }\n"),
        "Frontend",
    );
    let c = main(&p);
    assert_eq!(strings(&c.command), ["python3"]);
    assert_eq!(strings(&c.args), ["-m", "dynamo.frontend"]);
    let ports = c.ports.clone().unwrap_or_default();
    assert_eq!(ports.len(), 1);
    assert_eq!(
        (ports[0].name.as_deref(), ports[0].container_port),
        (Some("http"), 8000)
    );
    assert_eq!(env(c, "DYNAMO_PORT"), Some("8000"));
    assert_eq!(env(c, "DYN_HTTP_PORT"), Some("8000"));
    assert_eq!(env(c, "DYN_NAMESPACE_PREFIX"), Some("ns-g"));
    assert_eq!(env(c, "DYN_COMPONENT"), Some("frontend"));
    assert_eq!(
        http(&c.liveness_probe),
        (
            "/live".into(),
            "http".into(),
            Some(15),
            Some(10),
            Some(1),
            Some(3)
        )
    );
    assert_eq!(
        http(&c.readiness_probe),
        (
            "/health".into(),
            "http".into(),
            Some(10),
            Some(10),
            Some(3),
            Some(3)
        )
    );
    assert_eq!(c.startup_probe, None);
}

#[test]
fn worker_defaults() {
    for kind in ["worker", "prefill", "decode"] {
        let p = pod(
            &dgd(&format!(
                "  services:\n    w: {{ componentType: {kind} }}\n"
            )),
            "w",
        );
        let c = main(&p);
        assert_eq!(strings(&c.command), ["/bin/sh", "-c"]);
        let ports: Vec<(Option<String>, i32)> = c
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.clone(), p.container_port))
            .collect();
        assert_eq!(
            ports,
            [(Some("system".into()), 9090), (Some("nixl".into()), 19090)]
        );
        for (name, value) in [
            ("DYN_SYSTEM_ENABLED", "true"),
            ("DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS", "[\"generate\"]"),
            ("DYN_SYSTEM_PORT", "9090"),
            ("DYN_HEALTH_CHECK_ENABLED", "false"),
            ("NIXL_TELEMETRY_ENABLE", "n"),
            ("NIXL_TELEMETRY_EXPORTER", "prometheus"),
            ("NIXL_TELEMETRY_PROMETHEUS_PORT", "19090"),
            ("DYN_FORWARDPASS_METRIC_PORT", "20380"),
            ("DYN_COMPONENT", kind),
        ] {
            assert_eq!(env(c, name), Some(value), "{kind} {name}");
        }
        assert_eq!(
            http(&c.liveness_probe),
            (
                "/live".into(),
                "system".into(),
                None,
                Some(5),
                Some(4),
                Some(1)
            )
        );
        assert_eq!(
            http(&c.readiness_probe),
            (
                "/health".into(),
                "system".into(),
                None,
                Some(10),
                Some(4),
                Some(3)
            )
        );
        assert_eq!(
            http(&c.startup_probe),
            (
                "/live".into(),
                "system".into(),
                None,
                Some(10),
                Some(5),
                Some(720)
            )
        );
        let hash = env(c, "DYN_NAMESPACE_WORKER_SUFFIX").expect("hashed on the DCD pathway");
        assert_eq!(hash.len(), 8);
    }
    // A worker with a prefill or decode sub-component type announces that type (Dynamo 1.5).
    for sub in ["prefill", "decode"] {
        let p = pod(
            &dgd(&format!(
                "  services:
    w: {{ componentType: worker, subComponentType: {sub} }}
"
            )),
            "w",
        );
        assert_eq!(env(main(&p), "DYN_COMPONENT"), Some(sub));
    }
    // Grove workers register under the hash too; their names carry none.
    let config = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    let yaml = dgd("  services:
    w: { componentType: worker }
");
    let p = pod_with(&yaml, "w", Role::Main, &config);
    let labels = p
        .metadata
        .clone()
        .and_then(|m| m.labels)
        .unwrap_or_default();
    let hash = labels
        .get("nvidia.com/dynamo-worker-hash")
        .expect("worker hash label under Grove");
    assert_eq!(
        env(main(&p), "DYN_NAMESPACE_WORKER_SUFFIX"),
        Some(hash.as_str())
    );
    assert_eq!(
        labels.get("nvidia.com/selector").map(String::as_str),
        Some("g-w")
    );
}

#[test]
fn planner_defaults() {
    let p = pod(
        &dgd("  services:\n    Planner: { componentType: planner }\n"),
        "Planner",
    );
    let c = main(&p);
    let ports: Vec<i32> = c.ports.iter().flatten().map(|p| p.container_port).collect();
    assert_eq!(ports, [9085, 9090]);
    assert_eq!(env(c, "PLANNER_PROMETHEUS_PORT"), Some("9085"));
    assert_eq!(env(c, "DYN_SYSTEM_PORT"), Some("9090"));
    assert!(c.startup_probe.is_some());
    assert_eq!(
        spec(&p).service_account_name.as_deref(),
        Some("planner-serviceaccount")
    );
}

#[test]
fn epp_defaults() {
    let p = pod(
        &dgd(
            "  services:\n    epp:\n      componentType: epp\n      eppConfig: { configMapRef: { name: my-epp, key: cfg.yaml } }\n",
        ),
        "epp",
    );
    let c = main(&p);
    assert_eq!(c.command, None, "image entrypoint");
    let args = strings(&c.args);
    assert_eq!(
        &args[..6],
        [
            "--pool-name",
            "g-pool",
            "--pool-namespace",
            "ns",
            "--pool-group",
            "inference.networking.k8s.io"
        ]
    );
    assert_eq!(env(c, "RUST_LOG"), Some("info"));
    assert_eq!(args.last(), Some(&"/etc/epp/epp-config-dynamo.yaml"));
    let ports: Vec<i32> = c.ports.iter().flatten().map(|p| p.container_port).collect();
    assert_eq!(ports, [9002, 9003, 9090]);
    let grpc = c
        .liveness_probe
        .as_ref()
        .and_then(|p| p.grpc.as_ref())
        .expect("grpc probe");
    assert_eq!(
        (grpc.port, grpc.service.as_deref()),
        (9003, Some("inference-extension"))
    );
    assert_eq!(
        c.startup_probe.as_ref().and_then(|p| p.failure_threshold),
        Some(180)
    );
    assert_eq!(env(c, "USE_STREAMING"), Some("true"));
    let s = spec(&p);
    assert_eq!(s.termination_grace_period_seconds, Some(130));
    assert_eq!(
        s.service_account_name.as_deref(),
        Some("epp-serviceaccount")
    );
    let config = s
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "epp-config")
        .expect("volume");
    let source = config.config_map.as_ref().expect("configMap");
    assert_eq!(source.name, "my-epp");
    assert_eq!(
        source.items.as_ref().map(|i| i[0].key.as_str()),
        Some("cfg.yaml")
    );
    let mounts: Vec<&str> = c
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| m.mount_path.as_str())
        .collect();
    assert_eq!(mounts, ["/etc/epp", "/home/nonroot/.cache", "/dev/shm"]);
}

#[test]
fn other_types_get_the_common_env_only() {
    // A component without a type (v1beta1 leaves it optional).
    let p = pod(&beta("    - { name: x }\n"), "x");
    let c = main(&p);
    assert_eq!(strings(&c.command), ["/bin/sh", "-c"]);
    assert_eq!(c.ports, None);
    assert_eq!(c.liveness_probe, None);
    let names: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "DYN_COMPONENT",
            "DYN_DISCOVERY_BACKEND",
            "DYN_NAMESPACE",
            "DYN_PARENT_DGD_K8S_NAME",
            "DYN_PARENT_DGD_K8S_NAMESPACE",
            "POD_NAME",
            "POD_NAMESPACE",
            "POD_UID",
        ]
    );
}

#[test]
fn main_container_image_alone_keeps_default_command_and_args_issue_2753() {
    let p = pod(
        &dgd(
            "  services:\n    F:\n      componentType: frontend\n      extraPodSpec: { mainContainer: { image: fe:1 } }\n",
        ),
        "F",
    );
    let c = main(&p);
    assert_eq!(c.image.as_deref(), Some("fe:1"));
    assert_eq!(strings(&c.command), ["python3"]);
    assert_eq!(strings(&c.args), ["-m", "dynamo.frontend"]);
}

#[test]
fn main_container_lists_replace_and_objects_merge() {
    let p = pod(
        &dgd(r#"  services:
    F:
      componentType: frontend
      resources: { limits: { gpu: "1" } }
      extraPodSpec:
        mainContainer:
          name: ignored
          command: [python3, -m, dynamo.frontend, --http-port, "8000"]
          args: []
          ports: [{ name: web, containerPort: 8080 }]
          resources: { limits: { memory: 1Gi } }
          livenessProbe: { exec: { command: ["true"] } }
"#),
        "F",
    );
    let c = main(&p);
    assert_eq!(c.name, "main");
    assert_eq!(
        strings(&c.command),
        ["python3", "-m", "dynamo.frontend", "--http-port", "8000"]
    );
    assert_eq!(
        strings(&c.args),
        ["-m", "dynamo.frontend"],
        "an empty list keeps the default"
    );
    assert_eq!(c.ports.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        c.ports.as_ref().map(|p| p[0].container_port),
        Some(8080),
        "lists replace"
    );
    let probe = c.liveness_probe.as_ref().expect("probe");
    assert!(
        probe.exec.is_some() && probe.http_get.is_none(),
        "probes replace whole"
    );
    let limits = c
        .resources
        .as_ref()
        .and_then(|r| r.limits.clone())
        .unwrap_or_default();
    assert_eq!(limits.get("memory").map(|q| q.0.as_str()), Some("1Gi"));
    assert_eq!(
        limits.get("nvidia.com/gpu").map(|q| q.0.as_str()),
        Some("1")
    );
}

#[test]
fn env_precedence_and_order() {
    let p = pod(
        &dgd(
            r#"  envs: [{ name: ZED, value: graph }, { name: SHARED, value: graph }]
  services:
    w:
      componentType: worker
      envs: [{ name: SHARED, value: service }, { name: FROM_MAIN, value: envs }]
      extraPodSpec:
        mainContainer:
          env:
            - { name: FROM_MAIN, value: main }
            - { name: DYN_HEALTH_CHECK_ENABLED, value: "true" }
            - { name: ALPHA, value: main }
"#,
        ),
        "w",
    );
    let c = main(&p);
    assert_eq!(
        env(c, "DYN_HEALTH_CHECK_ENABLED"),
        Some("true"),
        "mainContainer env wins over defaults"
    );
    assert_eq!(
        env(c, "FROM_MAIN"),
        Some("main"),
        "mainContainer env wins over envs (Dynamo 1.5 converts both into one main container)"
    );
    assert_eq!(
        env(c, "SHARED"),
        Some("service"),
        "service envs win over graph envs"
    );
    assert_eq!(env(c, "ZED"), Some("graph"));
    assert_eq!(
        env(c, "DYN_SYSTEM_PORT"),
        Some("9090"),
        "other defaults kept"
    );
    let names: Vec<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "env sorted by name");
    assert_eq!(names.iter().filter(|n| **n == "SHARED").count(), 1);
}

#[test]
fn service_probes_replace_defaults() {
    let p = pod(
        &dgd(r#"  services:
    w:
      componentType: worker
      livenessProbe: { tcpSocket: { port: 1234 } }
      readinessProbe: { httpGet: { path: /ready, port: 1234 } }
"#),
        "w",
    );
    let c = main(&p);
    let live = c.liveness_probe.as_ref().expect("liveness");
    assert!(live.tcp_socket.is_some() && live.http_get.is_none() && live.period_seconds.is_none());
    assert_eq!(
        c.readiness_probe
            .as_ref()
            .and_then(|p| p.http_get.as_ref())
            .and_then(|g| g.path.as_deref()),
        Some("/ready")
    );
    assert!(
        c.startup_probe.is_some(),
        "startup probe only changes through mainContainer"
    );
}

#[test]
fn resources_gpu_type_custom_and_claims() {
    let p = pod(
        &dgd(r#"  services:
    w:
      componentType: worker
      resources:
        requests: { cpu: "4", memory: 16Gi, custom: { ephemeral-storage: 2Gi } }
        limits: { gpu: "2", gpuType: amd.com/gpu, custom: { rdma/ib: "1" } }
        claims: [{ name: gpus }]
"#),
        "w",
    );
    let r = main(&p).resources.clone().expect("resources");
    let get = |m: &Option<BTreeMap<String, Quantity>>, k: &str| {
        m.as_ref().and_then(|m| m.get(k)).map(|q| q.0.clone())
    };
    assert_eq!(get(&r.requests, "cpu").as_deref(), Some("4"));
    assert_eq!(get(&r.requests, "memory").as_deref(), Some("16Gi"));
    assert_eq!(
        get(&r.requests, "ephemeral-storage").as_deref(),
        Some("2Gi")
    );
    assert_eq!(get(&r.limits, "amd.com/gpu").as_deref(), Some("2"));
    assert_eq!(get(&r.limits, "nvidia.com/gpu"), None);
    assert_eq!(get(&r.limits, "rdma/ib").as_deref(), Some("1"));
    assert_eq!(r.claims.as_ref().map(|c| c[0].name.as_str()), Some("gpus"));
}

#[test]
fn env_from_secret_and_infrastructure_env() {
    let mut config = RenderConfig::default();
    config.operator.infrastructure.nats_address = Some("nats://nats:4222".into());
    config.operator.infrastructure.etcd_address = Some("etcd:2379".into());
    config.operator.infrastructure.prometheus_endpoint = Some("http://prom".into());
    let p = pod_with(
        &dgd(r#"  services:
    w:
      componentType: worker
      envFromSecret: hf-token
      envs: [{ name: NATS_SERVER, value: nats://mine:4222 }]
"#),
        "w",
        Role::Main,
        &config,
    );
    let c = main(&p);
    let secret = c
        .env_from
        .as_ref()
        .and_then(|e| e[0].secret_ref.as_ref())
        .expect("secretRef");
    assert_eq!(secret.name, "hf-token");
    assert_eq!(
        env(c, "NATS_SERVER"),
        Some("nats://mine:4222"),
        "user value kept"
    );
    assert_eq!(env(c, "ETCD_ENDPOINTS"), Some("etcd:2379"));
    assert_eq!(env(c, "PROMETHEUS_ENDPOINT"), Some("http://prom"));
    assert_eq!(env(c, "MODEL_EXPRESS_URL"), None, "unset in config");
}

#[test]
fn shared_memory_variants() {
    let shm = |extra: &str| {
        let p = pod(
            &dgd(&format!(
                "  services:\n    w:\n      componentType: worker\n{extra}"
            )),
            "w",
        );
        let volume = spec(&p)
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == "shared-memory")
            .cloned();
        let mounted = main(&p)
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| m.name == "shared-memory" && m.mount_path == "/dev/shm");
        (volume, mounted)
    };
    let (volume, mounted) = shm("");
    let dir = volume.and_then(|v| v.empty_dir).expect("emptyDir");
    assert_eq!(dir.medium.as_deref(), Some("Memory"));
    assert_eq!(dir.size_limit.map(|q| q.0).as_deref(), Some("8Gi"));
    assert!(mounted);
    let (volume, _) = shm("      sharedMemory: { size: 64Gi }\n");
    assert_eq!(
        volume
            .and_then(|v| v.empty_dir)
            .and_then(|d| d.size_limit)
            .map(|q| q.0)
            .as_deref(),
        Some("64Gi")
    );
    let (volume, mounted) = shm("      sharedMemory: { disabled: true }\n");
    assert!(volume.is_none() && !mounted);
}

#[test]
fn shared_memory_size_in_v1beta1() {
    let shm = |size: &str| {
        let p = pod(
            &beta(&format!(
                "    - name: w\n      type: worker\n      sharedMemorySize: \"{size}\"\n"
            )),
            "w",
        );
        let size = spec(&p)
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == "shared-memory")
            .and_then(|v| v.empty_dir.clone())
            .and_then(|d| d.size_limit)
            .map(|q| q.0);
        let mounted = main(&p)
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| m.name == "shared-memory");
        (size, mounted)
    };
    assert_eq!(shm("64Gi"), (Some("64Gi".to_owned()), true));
    assert_eq!(shm("0"), (None, false), "0: no /dev/shm at all");
    assert_eq!(shm("0Gi"), (None, false));
}

#[test]
fn pvc_mounts_and_compilation_cache() {
    let p = pod(
        &dgd(r#"  pvcs: [{ name: models }, { name: cache }]
  services:
    w:
      componentType: worker
      volumeMounts:
        - { name: models, mountPoint: /models }
        - { name: cache, useAsCompilationCache: true }
      extraPodSpec:
        volumes: [{ name: cfg, configMap: { name: cfg } }]
        mainContainer:
          command: [python3, -m, dynamo.vllm]
          volumeMounts: [{ name: cfg, mountPath: /cfg }]
"#),
        "w",
    );
    let volumes: Vec<(String, Option<String>)> = spec(&p)
        .volumes
        .iter()
        .flatten()
        .map(|v| {
            (
                v.name.clone(),
                v.persistent_volume_claim
                    .as_ref()
                    .map(|c| c.claim_name.clone()),
            )
        })
        .collect();
    assert_eq!(
        volumes,
        [
            ("cfg".into(), None),
            ("models".into(), Some("models".into())),
            ("cache".into(), Some("cache".into())),
            ("shared-memory".into(), None),
        ]
    );
    let mounts: Vec<(&str, &str)> = main(&p)
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| (m.name.as_str(), m.mount_path.as_str()))
        .collect();
    assert_eq!(
        mounts,
        [
            ("cfg", "/cfg"),
            ("models", "/models"),
            ("cache", "/root/.cache/vllm"),
            ("shared-memory", "/dev/shm"),
        ],
        "the cache at vLLM's default path, and nowhere else"
    );
}

/// The names of the volumes and `main`'s mounts (name, path) of a pod.
fn volumes_and_mounts(p: &PodTemplateSpec) -> (Vec<&str>, Vec<(&str, &str)>) {
    let volumes = spec(p)
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    let mounts = main(p)
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| (m.name.as_str(), m.mount_path.as_str()))
        .collect();
    (volumes, mounts)
}

#[test]
fn a_compilation_cache_without_a_path_is_not_mounted_for_a_backend_without_a_default() {
    let p = pod(
        &dgd(r#"  services:
    w:
      componentType: worker
      volumeMounts: [{ name: cache, useAsCompilationCache: true }]
      extraPodSpec: { mainContainer: { command: [python3, -m, dynamo.sglang] } }
"#),
        "w",
    );
    assert_eq!(
        volumes_and_mounts(&p),
        (vec!["shared-memory"], vec![("shared-memory", "/dev/shm")]),
        "no claim volume and no mount without a path"
    );
}

#[test]
fn compilation_cache_in_v1beta1() {
    let cache = |module: &str, cache: &str| {
        pod(
            &beta(&format!(
                r#"    - name: w
      type: worker
      compilationCache: {cache}
      podTemplate:
        spec:
          containers:
            - name: main
              command: [python3, -m, {module}]
              volumeMounts: [{{ name: models, mountPath: /models }}]
"#
            )),
            "w",
        )
    };
    let p = cache("dynamo.vllm", "{ pvcName: cc }");
    assert_eq!(
        volumes_and_mounts(&p),
        (
            vec!["models", "cc", "shared-memory"],
            vec![
                ("models", "/models"),
                ("cc", "/root/.cache/vllm"),
                ("shared-memory", "/dev/shm")
            ]
        )
    );
    let p = cache("dynamo.sglang", "{ pvcName: cc, mountPath: /cache }");
    assert_eq!(
        volumes_and_mounts(&p).1,
        [
            ("models", "/models"),
            ("cc", "/cache"),
            ("shared-memory", "/dev/shm")
        ],
        "mountPath wins, for any backend"
    );
}

#[test]
fn base_pod_spec_and_extra_pod_spec_merge() {
    let p = pod(
        &dgd(r#"  services:
    w:
      componentType: worker
      extraPodSpec:
        terminationGracePeriodSeconds: 300
        nodeSelector: { pool: gpu }
        tolerations: [{ key: nvidia.com/gpu, operator: Exists }]
        containers: [{ name: sidecar, image: s:1 }]
"#),
        "w",
    );
    let s = spec(&p);
    assert_eq!(s.termination_grace_period_seconds, Some(300));
    assert_eq!(s.restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        s.node_selector
            .as_ref()
            .and_then(|n| n.get("pool"))
            .map(String::as_str),
        Some("gpu")
    );
    assert_eq!(s.tolerations.as_ref().map(Vec::len), Some(1));
    let names: Vec<&str> = s.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["main", "sidecar"],
        "main first, then the user's containers (as Dynamo 1.5 converts extraPodSpec)"
    );
    assert_eq!(
        s.security_context.as_ref().and_then(|c| c.fs_group),
        Some(1000)
    );
}

#[test]
fn user_pod_security_context_suppresses_fs_group() {
    let p = pod(
        &dgd(
            "  services:\n    w:\n      componentType: worker\n      extraPodSpec: { securityContext: { runAsUser: 1001 } }\n",
        ),
        "w",
    );
    let sc = spec(&p).security_context.clone().expect("kept");
    assert_eq!((sc.run_as_user, sc.fs_group), (Some(1001), None));
}

#[test]
fn discovery_service_account() {
    let yaml = dgd(
        "  services:\n    w: { componentType: worker }\n    u: { componentType: worker, extraPodSpec: { serviceAccountName: mine } }\n",
    );
    assert_eq!(
        spec(&pod(&yaml, "w")).service_account_name.as_deref(),
        Some("g-k8s-service-discovery")
    );
    assert_eq!(
        spec(&pod(&yaml, "u")).service_account_name.as_deref(),
        Some("mine")
    );
    let mut etcd = RenderConfig::default();
    etcd.operator.discovery.backend = DiscoveryBackend::Etcd;
    let p = pod_with(&yaml, "w", Role::Main, &etcd);
    assert_eq!(spec(&p).service_account_name, None);
    assert_eq!(env(main(&p), "DYN_DISCOVERY_BACKEND"), None);
}

#[test]
fn container_discovery_mode_env() {
    let yaml = "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: { name: g, annotations: { nvidia.com/dynamo-kube-discovery-mode: container } }\nspec:\n  services:\n    w: { componentType: worker }\n";
    let p = pod(yaml, "w");
    assert_eq!(env(main(&p), "CONTAINER_NAME"), Some("main"));
    assert_eq!(env(main(&p), "DYN_KUBE_DISCOVERY_MODE"), Some("container"));
}

#[test]
fn frontend_sidecar_follows_main() {
    let p = pod(
        &dgd(r#"  services:
    w:
      componentType: worker
      frontendSidecar:
        image: fe:2
        args: [-m, dynamo.frontend, --router-mode, kv]
        envs: [{ name: EXTRA, value: "1" }]
"#),
        "w",
    );
    let containers = &spec(&p).containers;
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["main", "sidecar-frontend"]);
    let sidecar = &containers[1];
    assert_eq!(sidecar.image.as_deref(), Some("fe:2"));
    assert_eq!(
        strings(&sidecar.args),
        ["-m", "dynamo.frontend", "--router-mode", "kv"]
    );
    assert_eq!(env(sidecar, "EXTRA"), Some("1"));
    assert_eq!(env(sidecar, "DYN_COMPONENT"), Some("frontend"));
    assert_eq!(env(sidecar, "DYN_HTTP_PORT"), Some("8000"));
}

#[test]
fn a_named_frontend_sidecar_gets_the_frontend_defaults_in_v1beta1() {
    let p = pod(
        &beta(
            r#"    - name: w
      type: worker
      frontendSidecar: fe
      podTemplate:
        spec:
          containers:
            - name: log
              image: log:1
            - name: main
              command: [python3, -m, dynamo.vllm]
            - name: fe
              image: fe:2
              args: [-m, dynamo.frontend, --router-mode, kv]
              env: [{ name: EXTRA, value: "1" }]
"#,
        ),
        "w",
    );
    let containers = &spec(&p).containers;
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["log", "main", "fe"], "the pod template's order");
    let sidecar = &containers[2];
    assert_eq!(sidecar.image.as_deref(), Some("fe:2"));
    assert_eq!(
        strings(&sidecar.args),
        ["-m", "dynamo.frontend", "--router-mode", "kv"]
    );
    assert_eq!(env(sidecar, "EXTRA"), Some("1"));
    assert_eq!(env(sidecar, "DYN_COMPONENT"), Some("frontend"));
    assert_eq!(env(sidecar, "DYN_HTTP_PORT"), Some("8000"));
    let log = &containers[0];
    assert_eq!(
        (log.image.as_deref(), log.env.as_ref(), log.ports.as_ref()),
        (Some("log:1"), None, None),
        "other containers are the user's alone"
    );
}

#[test]
fn template_labels_and_annotations() {
    let yaml = dgd(r#"  labels: { team: ml }
  annotations: { owner: graph }
  services:
    Decode:
      componentType: worker
      subComponentType: decode
      labels: { tier: gold }
      annotations: { nvidia.com/enable-metrics: "false" }
      modelRef: { name: Qwen/Qwen3-0.6B }
      extraPodMetadata: { labels: { extra: "yes" }, annotations: { note: pod } }
"#);
    let p = pod(&yaml, "Decode");
    let meta = p.metadata.clone().expect("metadata");
    let labels = meta.labels.unwrap_or_default();
    let get = |k: &str| labels.get(k).map(String::as_str);
    assert_eq!(get("nvidia.com/dynamo-component"), Some("Decode"));
    assert_eq!(get("nvidia.com/dynamo-component-type"), Some("decode"));
    assert_eq!(get("nvidia.com/dynamo-sub-component-type"), Some("decode"));
    assert_eq!(
        get("nvidia.com/dynamo-component-class"),
        None,
        "no endpoint picker"
    );
    assert_eq!(get("nvidia.com/dynamo-graph-deployment-name"), Some("g"));
    assert_eq!(get("nvidia.com/dynamo-namespace"), Some("ns-g"));
    assert_eq!(
        get("nvidia.com/dynamo-discovery-backend"),
        Some("kubernetes")
    );
    assert_eq!(get("nvidia.com/dynamo-discovery-enabled"), Some("true"));
    assert_eq!(
        get("nvidia.com/metrics-enabled"),
        None,
        "switched off by annotation"
    );
    assert_eq!(
        get("nvidia.com/dynamo-base-model-hash"),
        Some(short_hash("Qwen/Qwen3-0.6B").as_str())
    );
    assert_eq!(get("team"), Some("ml"));
    assert_eq!(get("tier"), Some("gold"));
    assert_eq!(get("extra"), Some("yes"));
    let hash = get("nvidia.com/dynamo-worker-hash").expect("worker hash");
    assert_eq!(
        get("nvidia.com/selector"),
        Some(format!("g-decode-{hash}").as_str())
    );
    let annotations = meta.annotations.unwrap_or_default();
    let annotation = |k: &str| annotations.get(k).map(String::as_str);
    // The component's annotations reach its pods on the Deployment pathway too (Dynamo 1.5),
    // with the model it serves.
    assert_eq!(annotation("owner"), Some("graph"));
    assert_eq!(annotation("nvidia.com/enable-metrics"), Some("false"));
    assert_eq!(
        annotation("nvidia.com/dynamo-base-model"),
        Some("Qwen/Qwen3-0.6B")
    );
    assert_eq!(annotation("note"), Some("pod"));
}

#[test]
fn the_origin_version_stays_off_pods_and_discovery_mode_reaches_them() {
    let yaml = dgd(
        "  services:
    F: { componentType: frontend }
",
    )
    .replace(
        "metadata: { name: g, namespace: ns }",
        "metadata: { name: g, namespace: ns, annotations: { nvidia.com/dynamo-kube-discovery-mode: container } }",
    );
    let config = RenderConfig::default().with_operator_version("1.1.0".to_owned());
    for orchestrator in [Orchestrator::Deployment, Orchestrator::Lws] {
        let config = config.clone().with_orchestrator(orchestrator);
        let p = pod_with(&yaml, "F", Role::Main, &config);
        let annotations = p.metadata.and_then(|m| m.annotations).unwrap_or_default();
        assert_eq!(
            annotations
                .get("nvidia.com/dynamo-kube-discovery-mode")
                .map(String::as_str),
            Some("container")
        );
        assert!(
            !annotations.contains_key("nvidia.com/dynamo-operator-origin-version"),
            "{annotations:?}"
        );
    }
}

#[test]
fn workers_of_a_graph_with_an_endpoint_picker_are_of_the_worker_class() {
    let yaml = dgd("  services:
    Epp:
      componentType: epp
      eppConfig: { configMapRef: { name: c, key: k } }
    P: { componentType: worker, subComponentType: prefill }
    F: { componentType: frontend }
");
    let class = |service: &str| {
        pod(&yaml, service)
            .metadata
            .and_then(|m| m.labels)
            .unwrap_or_default()
            .get("nvidia.com/dynamo-component-class")
            .cloned()
    };
    assert_eq!(class("P").as_deref(), Some("worker"));
    assert_eq!(class("F"), None);
    assert_eq!(class("Epp"), None);
    let annotations = pod(&yaml, "Epp")
        .metadata
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert_eq!(
        annotations
            .get("sidecar.istio.io/inject")
            .map(String::as_str),
        Some("false")
    );
}

#[test]
fn grove_selector_names_the_service() {
    let yaml =
        dgd("  services:\n    Decode: { componentType: worker, multinode: { nodeCount: 2 } }\n");
    let config = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    for (role, selector) in [(Role::Leader, "g-decode"), (Role::Worker, "g-decode")] {
        let p = pod_with(&yaml, "Decode", role, &config);
        let labels = p.metadata.and_then(|m| m.labels).unwrap_or_default();
        assert_eq!(
            labels.get("nvidia.com/selector").map(String::as_str),
            Some(selector)
        );
        assert_eq!(
            labels.get("nvidia.com/metrics-enabled").map(String::as_str),
            Some("true")
        );
    }
}
