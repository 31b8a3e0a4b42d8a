//! Proptest generators of DGDs, DCDs, DGDSAs and DGDRs at both versions.
//!
//! Values come from small pools so that the interactions the conversion has to get right happen
//! often: the same env name in `envs` and `mainContainer.env`, the same mount in `volumeMounts`
//! and the main container, a sidecar already called `sidecar-frontend` or `main`, quantities in
//! non-canonical spellings, disabled features, empty-but-present structs, `null` services,
//! uppercase and unsorted component names.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

// === building blocks ===

type Field = (&'static str, BoxedStrategy<Option<Value>>);

/// An object whose fields are each present or not.
fn object(fields: Vec<Field>) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<(&'static str, Option<Value>)>> = fields
        .into_iter()
        .map(|(k, s)| s.prop_map(move |v| (k, v)).boxed())
        .collect();
    parts
        .prop_map(|entries| {
            let mut m = Map::new();
            for (k, v) in entries {
                if let Some(v) = v {
                    m.insert(k.to_string(), v);
                }
            }
            Value::Object(m)
        })
        .boxed()
}

fn maybe(p: f64, s: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Option<Value>> {
    if p >= 1.0 {
        return s.prop_map(Some).boxed();
    }
    prop::option::weighted(p, s).boxed()
}

fn pick(values: &[&'static str]) -> BoxedStrategy<Value> {
    prop::sample::select(values.to_vec())
        .prop_map(Value::from)
        .boxed()
}

fn list(s: impl Strategy<Value = Value> + 'static, max: usize) -> BoxedStrategy<Value> {
    prop::collection::vec(s, 0..=max)
        .prop_map(Value::Array)
        .boxed()
}

fn non_empty_list(s: impl Strategy<Value = Value> + 'static, max: usize) -> BoxedStrategy<Value> {
    prop::collection::vec(s, 1..=max)
        .prop_map(Value::Array)
        .boxed()
}

/// Keeps the first element of each `key` value (container names and mount paths are unique
/// in a valid pod).
fn unique_by(list: Value, key: &'static str) -> Value {
    let mut seen = Vec::new();
    let items = list.as_array().cloned().unwrap_or_default();
    Value::Array(
        items
            .into_iter()
            .filter(|item| {
                let k = item.get(key).cloned().unwrap_or(Value::Null);
                let fresh = !seen.contains(&k);
                seen.push(k);
                fresh
            })
            .collect(),
    )
}

fn string_map(keys: &[&'static str], values: &[&'static str]) -> BoxedStrategy<Value> {
    prop::collection::btree_map(
        prop::sample::select(keys.to_vec()),
        prop::sample::select(values.to_vec()),
        0..3,
    )
    .prop_map(|m| json!(m))
    .boxed()
}

fn int(range: std::ops::RangeInclusive<i64>) -> BoxedStrategy<Value> {
    range.prop_map(Value::from).boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

// === core/v1 ===

const QUANTITIES: &[&str] = &[
    "1", "2", "500m", "0.5", "1000m", "1Gi", "1024Mi", "40Gi", "2G", "100M", "0",
];
const ENV_NAMES: &[&str] = &["HF_TOKEN", "LOG_LEVEL", "DYN_X", "A"];
const MOUNT_NAMES: &[&str] = &["models", "cache", "shm", "data"];
const PATHS: &[&str] = &["/models", "/cache", "/data", "/root/.cache"];
const SECRETS: &[&str] = &["hf-token-secret", "other-secret", ""];
const IMAGES: &[&str] = &[
    "nvcr.io/nvidia/ai-dynamo/vllm-runtime:my-tag",
    "busybox:1",
    "ghcr.io/x/y:2",
];

fn env_var() -> BoxedStrategy<Value> {
    (
        pick(ENV_NAMES),
        prop_oneof![
            pick(&["1", "debug", ""]).prop_map(|v| json!({ "value": v })),
            pick(SECRETS).prop_map(
                |s| json!({ "valueFrom": { "secretKeyRef": { "name": s, "key": "token" } } })
            ),
        ],
    )
        .prop_map(|(name, mut rest)| {
            rest["name"] = name;
            if rest.get("value") == Some(&json!("")) {
                rest.as_object_mut().map(|o| o.remove("value"));
            }
            rest
        })
        .boxed()
}

fn env_from() -> BoxedStrategy<Value> {
    prop_oneof![
        pick(SECRETS).prop_map(|s| json!({ "secretRef": { "name": s } })),
        pick(&["cm", "other"])
            .prop_map(|s| json!({ "configMapRef": { "name": s }, "prefix": "P_" })),
    ]
    .boxed()
}

fn resource_list() -> BoxedStrategy<Value> {
    prop::collection::btree_map(
        prop::sample::select(vec![
            "cpu",
            "memory",
            "nvidia.com/gpu",
            "ephemeral-storage",
            "amd.com/gpu",
        ]),
        prop::sample::select(QUANTITIES.to_vec()),
        0..3,
    )
    .prop_map(|m| json!(m))
    .boxed()
}

fn requirements() -> BoxedStrategy<Value> {
    object(vec![
        ("limits", maybe(0.6, resource_list())),
        ("requests", maybe(0.6, resource_list())),
    ])
}

fn volume_mount() -> BoxedStrategy<Value> {
    object(vec![
        ("name", maybe(1.0, pick(MOUNT_NAMES))),
        ("mountPath", maybe(1.0, pick(PATHS))),
        ("readOnly", maybe(0.2, boolean())),
        ("subPath", maybe(0.1, pick(&["sub"]))),
    ])
}

fn probe() -> BoxedStrategy<Value> {
    (
        prop_oneof![
            (
                pick(&["/health", "/live"]),
                prop_oneof![int(8000..=8001), pick(&["system", "http"])]
            )
                .prop_map(|(p, port)| json!({ "httpGet": { "path": p, "port": port } })),
            Just(json!({ "exec": { "command": ["true"] } })),
            int(9000..=9001).prop_map(|port| json!({ "tcpSocket": { "port": port } })),
        ],
        maybe(0.5, int(0..=60)),
        maybe(0.3, int(1..=5)),
    )
        .prop_map(|(mut p, delay, threshold)| {
            if let Some(d) = delay {
                p["initialDelaySeconds"] = d;
            }
            if let Some(t) = threshold {
                p["failureThreshold"] = t;
            }
            p
        })
        .boxed()
}

/// A container; `names` are the names it may have (`None` = no name).
fn container(names: &'static [&'static str], name_p: f64) -> BoxedStrategy<Value> {
    object(vec![
        ("name", maybe(name_p, pick(names))),
        ("image", maybe(0.7, pick(IMAGES))),
        (
            "command",
            maybe(0.3, Just(json!(["python3", "-m", "dynamo.vllm"]))),
        ),
        (
            "args",
            maybe(0.4, list(pick(&["--model", "Qwen/Qwen3-0.6B", "--x"]), 3)),
        ),
        ("workingDir", maybe(0.2, pick(&["/workspace"]))),
        (
            "ports",
            maybe(
                0.15,
                Just(json!([{ "containerPort": 8000, "name": "http", "protocol": "TCP" }])),
            ),
        ),
        ("env", maybe(0.4, list(env_var(), 3))),
        ("envFrom", maybe(0.3, list(env_from(), 2))),
        ("resources", maybe(0.3, requirements())),
        (
            "volumeMounts",
            maybe(
                0.3,
                list(volume_mount(), 2).prop_map(|l| unique_by(unique_by(l, "mountPath"), "name")),
            ),
        ),
        ("livenessProbe", maybe(0.2, probe())),
        ("readinessProbe", maybe(0.2, probe())),
        ("startupProbe", maybe(0.15, probe())),
        (
            "securityContext",
            maybe(0.1, Just(json!({ "privileged": true }))),
        ),
        (
            "imagePullPolicy",
            maybe(0.1, pick(&["Always", "IfNotPresent"])),
        ),
    ])
}

fn volume() -> BoxedStrategy<Value> {
    prop_oneof![
        pick(MOUNT_NAMES)
            .prop_map(|n| json!({ "name": n, "persistentVolumeClaim": { "claimName": n } })),
        pick(MOUNT_NAMES).prop_map(
            |n| json!({ "name": n, "emptyDir": { "medium": "Memory", "sizeLimit": "1Gi" } })
        ),
    ]
    .boxed()
}

fn pod_spec_fields(containers: BoxedStrategy<Option<Value>>) -> Vec<Field> {
    vec![
        ("containers", containers),
        ("volumes", maybe(0.25, list(volume(), 2))),
        (
            "nodeSelector",
            maybe(0.15, string_map(&["gpu", "zone"], &["a100", "h100"])),
        ),
        ("serviceAccountName", maybe(0.1, pick(&["sa"]))),
        ("terminationGracePeriodSeconds", maybe(0.15, int(0..=60))),
        (
            "tolerations",
            maybe(
                0.1,
                Just(
                    json!([{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }]),
                ),
            ),
        ),
        (
            "initContainers",
            maybe(0.05, list(container(&["init"], 1.0), 1)),
        ),
    ]
}

// === v1alpha1 ===

const COMPONENT_TYPES: &[&str] = &["frontend", "worker", "planner", "epp", "main"];
const SIDECAR_NAMES: &[&str] = &["sidecar", "sidecar-frontend", "log"];

fn alpha_resource_item() -> BoxedStrategy<Value> {
    object(vec![
        ("cpu", maybe(0.5, pick(&["1", "500m", "0.5", "2"]))),
        ("memory", maybe(0.5, pick(&["1Gi", "1024Mi", "40Gi"]))),
        ("gpu", maybe(0.5, pick(&["1", "2", "8"]))),
        (
            "gpuType",
            maybe(0.15, pick(&["amd.com/gpu", "nvidia.com/gpu"])),
        ),
        (
            "custom",
            maybe(
                0.25,
                string_map(
                    &["ephemeral-storage", "cpu", "rdma/ib"],
                    &["2Gi", "1", "bad!"],
                ),
            ),
        ),
    ])
}

fn alpha_volume_mount() -> BoxedStrategy<Value> {
    object(vec![
        ("name", maybe(1.0, pick(MOUNT_NAMES))),
        ("mountPoint", maybe(1.0, pick(PATHS))),
        ("useAsCompilationCache", maybe(0.35, boolean())),
    ])
}

/// Valid v1alpha1 mounts: unique paths.
fn alpha_volume_mounts() -> BoxedStrategy<Value> {
    list(alpha_volume_mount(), 3)
        .prop_map(|l| {
            let Value::Array(mut items) = unique_by(l, "mountPoint") else {
                return Value::Array(Vec::new());
            };
            // Dynamo lists cache mounts first when nothing else says where they were, and last
            // when the main container's origin is restored: a list mixing the two kinds does not
            // keep its order through it. Keep one kind per list.
            let cache_first = items
                .first()
                .is_some_and(|m| m["useAsCompilationCache"] == true);
            items.retain(|m| (m["useAsCompilationCache"] == true) == cache_first);
            Value::Array(items)
        })
        .boxed()
}

fn frontend_sidecar() -> BoxedStrategy<Value> {
    object(vec![
        ("image", maybe(0.9, pick(IMAGES))),
        (
            "args",
            maybe(0.4, list(pick(&["-m", "dynamo.frontend"]), 2)),
        ),
        ("envs", maybe(0.3, list(env_var(), 2))),
        ("envFromSecret", maybe(0.3, pick(SECRETS))),
    ])
}

fn extra_pod_spec() -> BoxedStrategy<Value> {
    let sidecars = list(container(SIDECAR_NAMES, 1.0), 2).prop_map(|l| unique_by(l, "name"));
    let mut fields = pod_spec_fields(maybe(0.35, sidecars));
    // A main container that sets nothing at all is the same as none, in either version.
    let main =
        (container(&["main", "engine", ""], 0.25), pick(IMAGES)).prop_map(|(mut c, image)| {
            c["image"] = image;
            c
        });
    fields.push(("mainContainer", maybe(0.75, main)));
    object(fields)
}

fn feature(enabled_p: f64, extra: Vec<Field>) -> BoxedStrategy<Value> {
    let mut fields: Vec<Field> = vec![("enabled", maybe(enabled_p, boolean()))];
    fields.extend(extra);
    object(fields)
}

/// A v1alpha1 `DynamoComponentDeploymentSharedSpec`.
pub fn alpha_component() -> BoxedStrategy<Value> {
    let pod = object(vec![
        (
            "resources",
            maybe(
                0.45,
                object(vec![
                    ("requests", maybe(0.6, alpha_resource_item())),
                    ("limits", maybe(0.6, alpha_resource_item())),
                    (
                        "claims",
                        maybe(0.05, Just(json!([{ "name": "gpu-claim" }]))),
                    ),
                ]),
            ),
        ),
        ("envs", maybe(0.4, list(env_var(), 3))),
        ("envFromSecret", maybe(0.35, pick(SECRETS))),
        ("livenessProbe", maybe(0.2, probe())),
        ("readinessProbe", maybe(0.2, probe())),
        ("volumeMounts", maybe(0.35, alpha_volume_mounts())),
        (
            "extraPodMetadata",
            maybe(
                0.2,
                object(vec![
                    (
                        "annotations",
                        maybe(
                            0.5,
                            string_map(&["a", "prometheus.io/scrape"], &["1", "true"]),
                        ),
                    ),
                    (
                        "labels",
                        maybe(0.5, string_map(&["team", "tier"], &["x", "y"])),
                    ),
                ]),
            ),
        ),
        ("extraPodSpec", maybe(0.6, extra_pod_spec())),
        ("frontendSidecar", maybe(0.15, frontend_sidecar())),
        (
            "sharedMemory",
            maybe(
                0.25,
                object(vec![
                    ("disabled", maybe(0.5, boolean())),
                    ("size", maybe(0.6, pick(&["1Gi", "8Gi", "0", "512Mi"]))),
                ]),
            ),
        ),
    ]);
    let rest = object(vec![
        ("componentType", maybe(0.85, pick(COMPONENT_TYPES))),
        (
            "subComponentType",
            maybe(0.35, pick(&["prefill", "decode", "other"])),
        ),
        (
            "serviceName",
            maybe(0.15, pick(&["Frontend", "other-name", ""])),
        ),
        ("replicas", maybe(0.7, int(0..=3))),
        ("minAvailable", maybe(0.1, int(1..=2))),
        ("runtimeVersionOverride", maybe(0.1, pick(&["1.5.0"]))),
        ("globalDynamoNamespace", maybe(0.1, boolean())),
        ("dynamoNamespace", maybe(0.1, pick(&["ns", ""]))),
        ("annotations", maybe(0.1, string_map(&["a"], &["b"]))),
        ("labels", maybe(0.1, string_map(&["l"], &["v"]))),
        (
            "autoscaling",
            maybe(
                0.05,
                Just(json!({ "enabled": true, "minReplicas": 1, "maxReplicas": 3 })),
            ),
        ),
        (
            "ingress",
            maybe(
                0.05,
                Just(json!({ "enabled": true, "host": "example.com" })),
            ),
        ),
        (
            "modelRef",
            maybe(0.1, Just(json!({ "name": "llama", "revision": "main" }))),
        ),
        (
            "multinode",
            maybe(0.1, int(2..=4).prop_map(|n| json!({ "nodeCount": n }))),
        ),
        ("scalingAdapter", maybe(0.2, feature(0.7, vec![]))),
        (
            "gpuMemoryService",
            maybe(
                0.12,
                feature(
                    0.8,
                    vec![
                        ("mode", maybe(0.7, pick(&["intraPod", "interPod"]))),
                        ("deviceClassName", maybe(0.3, pick(&["gpu.nvidia.com"]))),
                    ],
                ),
            ),
        ),
        (
            "failover",
            maybe(
                0.1,
                feature(
                    0.8,
                    vec![
                        ("mode", maybe(0.7, pick(&["intraPod", "interPod"]))),
                        ("numShadows", maybe(0.5, int(1..=1))),
                    ],
                ),
            ),
        ),
        (
            "checkpoint",
            maybe(
                0.08,
                feature(
                    0.6,
                    vec![
                        ("mode", maybe(0.5, pick(&["Auto", "Manual"]))),
                        ("checkpointRef", maybe(0.3, pick(&["ckpt"]))),
                        (
                            "identity",
                            maybe(
                                0.3,
                                Just(json!({ "model": "m", "backendFramework": "vllm" })),
                            ),
                        ),
                    ],
                ),
            ),
        ),
        (
            "topologyConstraint",
            maybe(0.08, Just(json!({ "packDomain": "rack" }))),
        ),
        (
            "eppConfig",
            maybe(
                0.05,
                Just(json!({ "configMapRef": { "name": "epp", "key": "config.yaml" } })),
            ),
        ),
    ]);
    (pod, rest)
        .prop_map(|(mut a, b)| {
            if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
                a.extend(b);
            }
            // v1alpha1 admission refuses a frontendSidecar next to a container already called
            // sidecar-frontend.
            if a.get("frontendSidecar").is_some()
                && let Some(Value::Array(sidecars)) = a.pointer_mut("/extraPodSpec/containers")
            {
                sidecars.retain(|c| c["name"] != "sidecar-frontend");
            }
            // A probe set both as a field and on the main container is merged field by field;
            // with a port number on one side and a port name on the other, Go keeps both halves
            // of the merged port and no longer recognises it on the way back. Same port kind.
            for probe in ["livenessProbe", "readinessProbe"] {
                for handler in ["httpGet", "tcpSocket"] {
                    let port = a.pointer(&format!("/{probe}/{handler}/port")).cloned();
                    if let (Some(port), Some(main_port)) = (
                        port,
                        a.pointer_mut(&format!(
                            "/extraPodSpec/mainContainer/{probe}/{handler}/port"
                        )),
                    ) {
                        *main_port = port;
                    }
                }
            }
            // envFromSecret repeated as the main container's only envFrom is the same thing said
            // twice; Dynamo keeps it once.
            if let Some(secret) = a
                .get("envFromSecret")
                .and_then(Value::as_str)
                .map(String::from)
                && let Some(Value::Array(env_from)) =
                    a.pointer_mut("/extraPodSpec/mainContainer/envFrom")
            {
                env_from.retain(|e| {
                    e.pointer("/secretRef/name").and_then(Value::as_str) != Some(&secret)
                });
            }
            // The main container gets both mount lists; a pod needs unique mount paths.
            let flat_paths: Vec<Value> = a["volumeMounts"]
                .as_array()
                .map(|m| m.iter().map(|m| m["mountPoint"].clone()).collect())
                .unwrap_or_default();
            if let Some(Value::Array(mounts)) =
                a.pointer_mut("/extraPodSpec/mainContainer/volumeMounts")
            {
                mounts.retain(|m| !flat_paths.contains(&m["mountPath"]));
            }
            a
        })
        .boxed()
}

const SERVICE_NAMES: &[&str] = &[
    "Frontend",
    "VllmDecodeWorker",
    "decode",
    "prefill",
    "a",
    "Z9",
    "planner",
];

fn metadata(name: &'static [&'static str]) -> BoxedStrategy<Value> {
    object(vec![
        ("name", maybe(0.95, pick(name))),
        ("namespace", maybe(0.5, pick(&["default", "dynamo"]))),
        ("labels", maybe(0.2, string_map(&["app"], &["x"]))),
        (
            "annotations",
            maybe(
                0.2,
                string_map(&["note", "nvidia.com/enable-grove"], &["x", "false"]),
            ),
        ),
        ("generation", maybe(0.2, int(1..=9))),
        (
            "uid",
            maybe(0.2, Just(json!("0b6f9d0c-7d3e-4c6b-9a55-1f1e2d3c4b5a"))),
        ),
        ("resourceVersion", maybe(0.2, Just(json!("123")))),
    ])
}

fn replica_status(alpha: bool) -> BoxedStrategy<Value> {
    let mut fields: Vec<Field> = vec![
        (
            "componentKind",
            maybe(0.9, pick(&["Deployment", "PodClique", "LeaderWorkerSet"])),
        ),
        (
            "componentNames",
            maybe(0.7, list(pick(&["dgd-a", "dgd-b", ""]), 2)),
        ),
        ("replicas", maybe(0.8, int(0..=3))),
        ("updatedReplicas", maybe(0.8, int(0..=3))),
        ("readyReplicas", maybe(0.5, int(0..=3))),
        ("availableReplicas", maybe(0.3, int(0..=3))),
        ("scheduledReplicas", maybe(0.2, int(0..=3))),
    ];
    if alpha {
        fields.push((
            "componentName",
            maybe(0.7, pick(&["dgd-a", "dgd-b", "dgd-c"])),
        ));
    }
    object(fields)
}

fn conditions() -> BoxedStrategy<Value> {
    list(
        (pick(&["Ready", "Available"]), pick(&["True", "False"])).prop_map(|(t, s)| {
            json!({ "type": t, "status": s, "reason": "r", "message": "m", "lastTransitionTime": "2026-01-02T03:04:05Z" })
        }),
        2,
    )
}

fn graph_status(alpha: bool) -> BoxedStrategy<Value> {
    let services_key = if alpha { "services" } else { "components" };
    let updated_key = if alpha {
        "updatedServices"
    } else {
        "updatedComponents"
    };
    object(vec![
        ("state", maybe(0.7, pick(&["pending", "successful", "failed"]))),
        ("observedGeneration", maybe(0.5, int(1..=5))),
        ("conditions", maybe(0.5, conditions())),
        (services_key, maybe(0.5, prop::collection::btree_map(
            prop::sample::select(SERVICE_NAMES.to_vec()), replica_status(alpha), 0..3,
        ).prop_map(|m| json!(m)))),
        ("rollingUpdate", maybe(0.15, pick(&["Pending", "Completed"]).prop_map(move |p| {
            json!({ "phase": p, "startTime": "2026-01-02T03:04:05Z", updated_key: ["a"] })
        }))),
        ("restart", maybe(0.1, Just(json!({ "observedID": "r1", "phase": "Completed" })))),
        ("checkpoints", maybe(0.05, Just(json!({ "a": { "checkpointName": "c", "ready": true } })))),
        ("placement", maybe(0.05, Just(json!({ "state": "Reported", "score": 0.5 })))),
    ])
}

fn graph_spec_common(alpha: bool) -> Vec<Field> {
    let env_key = if alpha { "envs" } else { "env" };
    let profile_key = if alpha {
        "topologyProfile"
    } else {
        "clusterTopologyName"
    };
    vec![
        (
            "backendFramework",
            maybe(0.6, pick(&["vllm", "sglang", "trtllm"])),
        ),
        (env_key, maybe(0.2, list(env_var(), 2))),
        ("annotations", maybe(0.1, string_map(&["a"], &["b"]))),
        ("labels", maybe(0.1, string_map(&["l"], &["v"]))),
        ("priorityClassName", maybe(0.05, pick(&["high"]))),
        (
            "topologyConstraint",
            maybe(
                0.08,
                pick(&["rack", "zone"])
                    .prop_map(move |d| json!({ profile_key: "topo", "packDomain": d })),
            ),
        ),
        (
            "restart",
            maybe(
                0.08,
                Just(json!({ "id": "r1", "strategy": { "type": "Sequential", "order": ["a"] } })),
            ),
        ),
        (
            "experimental",
            maybe(
                0.05,
                Just(
                    json!({ "kvTransferPolicy": { "clusterTopologyName": "t", "domain": "rack", "enforcement": "preferred", "preferredWeight": 0.25 } }),
                ),
            ),
        ),
    ]
}

/// A v1alpha1 DynamoGraphDeployment.
pub fn alpha_dgd() -> BoxedStrategy<Value> {
    let services = prop::collection::btree_map(
        prop::sample::select(SERVICE_NAMES.to_vec()),
        prop_oneof![9 => alpha_component(), 1 => Just(Value::Null)],
        1..4,
    )
    .prop_map(|m| json!(m));
    let mut spec = graph_spec_common(true);
    spec.push(("services", maybe(0.97, services)));
    spec.push((
        "pvcs",
        maybe(
            0.1,
            Just(json!([{ "name": "models", "create": true, "size": "10Gi" }])),
        ),
    ));
    (
        metadata(&["vllm-agg", "g"]),
        object(spec),
        maybe(0.4, graph_status(true)),
    )
        .prop_map(|(meta, mut spec, status)| {
            // A service's own serviceName equal to its key says nothing the key does not; v1beta1
            // keeps only the key.
            if let Some(Value::Object(services)) = spec.get_mut("services") {
                for (key, svc) in services.iter_mut() {
                    if svc.get("serviceName").and_then(Value::as_str) == Some(key.as_str()) {
                        svc.as_object_mut().map(|o| o.remove("serviceName"));
                    }
                }
            }
            root(
                "nvidia.com/v1alpha1",
                "DynamoGraphDeployment",
                meta,
                spec,
                status,
            )
        })
        .boxed()
}

fn root(api_version: &str, kind: &str, meta: Value, spec: Value, status: Option<Value>) -> Value {
    let mut out =
        json!({ "apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec });
    if let Some(s) = status {
        out["status"] = s;
    }
    out
}

fn dcd_status(alpha: bool) -> BoxedStrategy<Value> {
    let mut fields: Vec<Field> = vec![
        ("observedGeneration", maybe(0.5, int(1..=5))),
        ("conditions", maybe(0.5, conditions())),
        (
            if alpha { "service" } else { "component" },
            maybe(0.5, replica_status(alpha)),
        ),
    ];
    if alpha {
        fields.push(("podSelector", maybe(0.2, string_map(&["app"], &["x"]))));
    }
    object(fields)
}

/// A v1alpha1 DynamoComponentDeployment.
pub fn alpha_dcd() -> BoxedStrategy<Value> {
    (
        metadata(&["dgd-frontend", "dgd-worker-abc123"]),
        alpha_component(),
        maybe(0.5, pick(&["vllm", "sglang"])),
        maybe(0.4, dcd_status(true)),
    )
        .prop_map(|(meta, mut spec, bf, status)| {
            if let Some(bf) = bf {
                spec["backendFramework"] = bf;
            }
            root(
                "nvidia.com/v1alpha1",
                "DynamoComponentDeployment",
                meta,
                spec,
                status,
            )
        })
        .boxed()
}

// === v1beta1 ===

fn beta_template() -> BoxedStrategy<Value> {
    let containers = prop_oneof![
        // The common shape: main first, maybe sidecars.
        (
            container(&["main"], 1.0),
            list(container(SIDECAR_NAMES, 1.0), 2)
        )
            .prop_map(|(m, rest)| {
                let mut all = vec![m];
                all.extend(rest.as_array().cloned().unwrap_or_default());
                unique_by(Value::Array(all), "name")
            }),
        // Anything else: no main, main not first.
        non_empty_list(
            container(&["main", "sidecar", "sidecar-frontend", "engine"], 1.0),
            3
        )
        .prop_map(|l| unique_by(l, "name")),
        Just(json!([])),
    ];
    let spec = object(pod_spec_fields(maybe(0.9, containers)));
    object(vec![
        (
            "metadata",
            maybe(
                0.35,
                object(vec![
                    (
                        "annotations",
                        maybe(
                            0.5,
                            string_map(&["a", "prometheus.io/scrape"], &["1", "true"]),
                        ),
                    ),
                    ("labels", maybe(0.5, string_map(&["team"], &["x"]))),
                    ("name", maybe(0.1, pick(&["tpl"]))),
                    ("generateName", maybe(0.05, pick(&["tpl-"]))),
                ]),
            ),
        ),
        ("spec", maybe(0.95, spec)),
    ])
}

/// A v1beta1 `DynamoComponentDeploymentSharedSpec` (without `name`).
pub fn beta_component() -> BoxedStrategy<Value> {
    beta_component_fields()
        .prop_map(|mut c| {
            // The compilation cache's mount is the operator's to place: where a template lists
            // it by hand, Dynamo moves it to the front on the way back. Leave it to the operator.
            let cache = (
                c.pointer("/compilationCache/pvcName").cloned(),
                c.pointer("/compilationCache/mountPath").cloned(),
            );
            if let (Some(name), path) = cache
                && let Some(Value::Array(containers)) =
                    c.pointer_mut("/podTemplate/spec/containers")
            {
                for container in containers.iter_mut() {
                    if let Some(Value::Array(mounts)) = container.get_mut("volumeMounts") {
                        mounts.retain(|m| {
                            m["name"] != name && Some(&m["mountPath"]) != path.as_ref()
                        });
                    }
                }
            }
            c
        })
        .boxed()
}

fn beta_component_fields() -> BoxedStrategy<Value> {
    object(vec![
        (
            "type",
            maybe(
                0.85,
                pick(&["frontend", "worker", "prefill", "decode", "planner", "epp"]),
            ),
        ),
        ("podTemplate", maybe(0.8, beta_template())),
        (
            "frontendSidecar",
            maybe(0.15, pick(&["sidecar-frontend", "sidecar", "missing"])),
        ),
        ("replicas", maybe(0.7, int(0..=3))),
        ("minAvailable", maybe(0.1, int(1..=2))),
        (
            "sharedMemorySize",
            maybe(0.2, pick(&["0", "1Gi", "8Gi", "1024Mi"])),
        ),
        (
            "compilationCache",
            maybe(
                0.15,
                (pick(MOUNT_NAMES), maybe(0.8, pick(PATHS))).prop_map(|(n, p)| {
                    let mut c = json!({ "pvcName": n });
                    if let Some(p) = p {
                        c["mountPath"] = p;
                    }
                    c
                }),
            ),
        ),
        ("scalingAdapter", maybe(0.15, Just(json!({})))),
        (
            "experimental",
            maybe(
                0.2,
                object(vec![
                    (
                        "gpuMemoryService",
                        maybe(
                            0.4,
                            object(vec![("mode", maybe(0.7, pick(&["IntraPod", "InterPod"])))]),
                        ),
                    ),
                    (
                        "failover",
                        maybe(
                            0.3,
                            object(vec![
                                ("mode", maybe(0.7, pick(&["IntraPod", "InterPod"]))),
                                ("numShadows", maybe(0.5, int(1..=1))),
                            ]),
                        ),
                    ),
                    (
                        "checkpoint",
                        maybe(
                            0.2,
                            Just(json!({ "enabled": true, "startupPolicy": "Immediate" })),
                        ),
                    ),
                    (
                        "grove",
                        maybe(0.3, Just(json!({ "forceScalingGroup": true }))),
                    ),
                ]),
            ),
        ),
        (
            "multinode",
            maybe(0.1, int(2..=4).prop_map(|n| json!({ "nodeCount": n }))),
        ),
        ("modelRef", maybe(0.1, Just(json!({ "name": "llama" })))),
        ("runtimeVersionOverride", maybe(0.1, pick(&["1.5.0"]))),
        ("globalDynamoNamespace", maybe(0.1, boolean())),
        (
            "topologyConstraint",
            maybe(0.08, Just(json!({ "packDomain": "rack" }))),
        ),
    ])
}

/// A v1beta1 DynamoGraphDeployment (component names unique, order arbitrary).
pub fn beta_dgd() -> BoxedStrategy<Value> {
    let components = prop::sample::subsequence(SERVICE_NAMES.to_vec(), 1..4)
        .prop_shuffle()
        .prop_flat_map(|names| {
            let n = names.len();
            (Just(names), prop::collection::vec(beta_component(), n))
        })
        .prop_map(|(names, comps)| {
            Value::Array(
                names
                    .into_iter()
                    .zip(comps)
                    .map(|(name, mut c)| {
                        c["name"] = json!(name);
                        c
                    })
                    .collect(),
            )
        });
    let mut spec = graph_spec_common(false);
    spec.push(("components", maybe(0.97, components)));
    (
        metadata(&["vllm-agg", "g"]),
        object(spec),
        maybe(0.4, graph_status(false)),
    )
        .prop_map(|(meta, spec, status)| {
            root(
                "nvidia.com/v1beta1",
                "DynamoGraphDeployment",
                meta,
                spec,
                status,
            )
        })
        .boxed()
}

/// A v1beta1 DynamoComponentDeployment.
pub fn beta_dcd() -> BoxedStrategy<Value> {
    (
        metadata(&["dgd-frontend", "dgd-worker-abc123"]),
        beta_component(),
        maybe(0.7, pick(&["Frontend", "dgd-frontend", "worker"])),
        maybe(0.5, pick(&["vllm", "sglang"])),
        maybe(0.4, dcd_status(false)),
    )
        .prop_map(|(meta, mut spec, name, bf, status)| {
            if let Some(n) = name {
                spec["name"] = n;
            }
            if let Some(bf) = bf {
                spec["backendFramework"] = bf;
            }
            root(
                "nvidia.com/v1beta1",
                "DynamoComponentDeployment",
                meta,
                spec,
                status,
            )
        })
        .boxed()
}

/// A DynamoGraphDeploymentScalingAdapter at either version.
pub fn dgdsa(alpha: bool) -> BoxedStrategy<Value> {
    let ref_key = if alpha {
        "serviceName"
    } else {
        "componentName"
    };
    (
        metadata(&["g-decode", "g-frontend"]),
        int(0..=5),
        pick(&["Frontend", "decode"]),
        maybe(
            0.5,
            object(vec![
                ("replicas", maybe(0.8, int(0..=5))),
                ("selector", maybe(0.5, pick(&["app=x"]))),
                (
                    "lastScaleTime",
                    maybe(
                        0.4,
                        pick(&["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456Z"]),
                    ),
                ),
            ]),
        ),
    )
        .prop_map(move |(meta, replicas, comp, status)| {
            let version = if alpha {
                "nvidia.com/v1alpha1"
            } else {
                "nvidia.com/v1beta1"
            };
            let spec = json!({ "replicas": replicas, "dgdRef": { "name": "g", ref_key: comp } });
            root(
                version,
                "DynamoGraphDeploymentScalingAdapter",
                meta,
                spec,
                status,
            )
        })
        .boxed()
}

// === DynamoGraphDeploymentRequest ===

const JSON_KEYS: &[&str] = &["engine", "backend", "sla", "ttft", "x", "Y", "a.b"];

/// Free-form JSON (profiler and planner configurations, embedded objects): nested, with nulls,
/// empty strings, fractions and large numbers, all of which must travel verbatim.
fn free_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        boolean(),
        pick(&["", "vllm", "Qwen/Qwen3-0.6B", "a<b&c", "\u{e9}t\u{e9}"]),
        prop::sample::select(vec![
            json!(0),
            json!(1),
            json!(-3),
            json!(0.5),
            json!(2.25),
            json!(1e21),
            json!(4000),
        ]),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            list(inner.clone(), 3),
            prop::collection::btree_map(prop::sample::select(JSON_KEYS.to_vec()), inner, 0..3)
                .prop_map(|m| json!(m)),
        ]
    })
    .boxed()
}

/// A free-form JSON object (possibly empty).
fn free_object() -> BoxedStrategy<Value> {
    prop::collection::btree_map(prop::sample::select(JSON_KEYS.to_vec()), free_json(), 0..4)
        .prop_map(|m| json!(m))
        .boxed()
}

/// Numbers the v1beta1 targets hold: zero, whole, fractional, tiny and huge (Go prints the last
/// two in exponent form).
fn float() -> BoxedStrategy<Value> {
    prop::sample::select(vec![
        json!(0),
        json!(50),
        json!(50.5),
        json!(0.1),
        json!(1e-7),
        json!(1e21),
        json!(12.000001),
    ])
    .boxed()
}

fn toleration() -> BoxedStrategy<Value> {
    object(vec![
        (
            "key",
            maybe(0.8, pick(&["nvidia.com/gpu", "dedicated", ""])),
        ),
        ("operator", maybe(0.6, pick(&["Exists", "Equal"]))),
        ("value", maybe(0.3, pick(&["profiling", ""]))),
        (
            "effect",
            maybe(0.5, pick(&["NoSchedule", "NoExecute", "PreferNoSchedule"])),
        ),
        ("tolerationSeconds", maybe(0.2, int(0..=300))),
    ])
}

fn odd<S: Strategy<Value = Value> + 'static>(s: S) -> BoxedStrategy<Value> {
    prop_oneof![
        8 => s,
        1 => Just(json!({})),
        1 => Just(Value::Null),
    ]
    .boxed()
}

const MODELS: &[&str] = &["Qwen/Qwen3-0.6B", "meta-llama/Llama-3-70b", ""];
const BACKENDS: &[&str] = &["auto", "vllm", "sglang", "trtllm"];
const PROFILER_IMAGES: &[&str] = &["nvcr.io/nvidia/ai-dynamo/dynamo-planner:1.5.0", "p:dev", ""];

fn alpha_dgdr_spec() -> BoxedStrategy<Value> {
    let profiling = object(vec![
        ("profilerImage", maybe(0.9, pick(PROFILER_IMAGES))),
        (
            "config",
            maybe(0.5, prop_oneof![4 => free_object(), 1 => Just(Value::Null)]),
        ),
        (
            "configMapRef",
            maybe(
                0.3,
                object(vec![
                    ("name", maybe(0.9, pick(&["base-config", ""]))),
                    ("key", maybe(0.5, pick(&["disagg.yaml", "agg.yaml", ""]))),
                ]),
            ),
        ),
        ("outputPVC", maybe(0.2, pick(&["profiling-pvc", ""]))),
        ("resources", maybe(0.3, odd(requirements()))),
        ("tolerations", maybe(0.3, list(toleration(), 2))),
        (
            "nodeSelector",
            maybe(
                0.2,
                string_map(&["kubernetes.io/arch", "gpu"], &["arm64", "h100", ""]),
            ),
        ),
    ]);
    let overrides = object(vec![
        ("name", maybe(0.4, pick(&["my-graph", ""]))),
        ("namespace", maybe(0.3, pick(&["serving"]))),
        (
            "labels",
            maybe(0.3, string_map(&["team", "app"], &["a", ""])),
        ),
        ("annotations", maybe(0.3, string_map(&["note"], &["x"]))),
        ("workersImage", maybe(0.4, pick(IMAGES))),
    ]);
    object(vec![
        ("model", maybe(0.95, pick(MODELS))),
        ("backend", maybe(0.9, pick(BACKENDS))),
        (
            "runtimeVersionOverride",
            maybe(0.2, pick(&["1.5.0", "0.9.12"])),
        ),
        ("useMocker", maybe(0.4, boolean())),
        ("enableGpuDiscovery", maybe(0.3, boolean())),
        ("profilingConfig", maybe(0.95, profiling)),
        ("autoApply", maybe(0.6, boolean())),
        ("deploymentOverrides", maybe(0.4, odd(overrides))),
    ])
}

fn alpha_dgdr_status() -> BoxedStrategy<Value> {
    object(vec![
        (
            "state",
            maybe(
                0.8,
                pick(&[
                    "Initializing",
                    "Pending",
                    "Profiling",
                    "Deploying",
                    "Ready",
                    "DeploymentDeleted",
                    "Failed",
                ]),
            ),
        ),
        ("backend", maybe(0.4, pick(BACKENDS))),
        ("observedGeneration", maybe(0.5, int(0..=5))),
        ("conditions", maybe(0.5, conditions())),
        (
            "profilingResults",
            maybe(0.3, pick(&["configmap/profiling-r", ""])),
        ),
        (
            "generatedDeployment",
            maybe(
                0.3,
                prop_oneof![
                    Just(json!({
                        "apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment",
                        "metadata": { "name": "r" },
                        "spec": { "services": { "decode": { "replicas": 2, "resources": { "limits": { "gpu": "1" } } } } },
                    })),
                    free_object(),
                ],
            ),
        ),
        (
            "deployment",
            maybe(
                0.3,
                odd(object(vec![
                    ("name", maybe(0.8, pick(&["r", "my-graph"]))),
                    ("namespace", maybe(0.5, pick(&["default"]))),
                    (
                        "state",
                        maybe(
                            0.8,
                            pick(&["initializing", "pending", "successful", "failed"]),
                        ),
                    ),
                    ("created", maybe(0.6, boolean())),
                ])),
            ),
        ),
    ])
}

/// DGDR metadata, sometimes with a per-field conversion annotation of Dynamo 1.0/1.1 (ignored
/// and scrubbed by the conversion).
fn dgdr_metadata() -> BoxedStrategy<Value> {
    (
        metadata(&["req", "qwen-sla"]),
        prop::option::weighted(
            0.15,
            (
                prop::sample::select(vec![
                    "nvidia.com/dgdr-sla",
                    "nvidia.com/dgdr-profiling-config",
                ]),
                pick(&["{\"ttft\":200}", "not json"]),
            ),
        ),
    )
        .prop_map(|(mut meta, legacy)| {
            if let Some((k, v)) = legacy {
                if !meta["annotations"].is_object() {
                    meta["annotations"] = json!({});
                }
                meta["annotations"][k] = v;
            }
            meta
        })
        .boxed()
}

/// A v1alpha1 DynamoGraphDeploymentRequest.
pub fn alpha_dgdr() -> BoxedStrategy<Value> {
    (
        dgdr_metadata(),
        alpha_dgdr_spec(),
        maybe(0.5, alpha_dgdr_status()),
    )
        .prop_map(|(meta, spec, status)| {
            root(
                "nvidia.com/v1alpha1",
                "DynamoGraphDeploymentRequest",
                meta,
                spec,
                status,
            )
        })
        .boxed()
}

/// A `batch/v1` JobSpec override: a pod template with containers, policies, limits.
fn profiling_job() -> BoxedStrategy<Value> {
    let template = object(vec![
        (
            "metadata",
            maybe(
                0.3,
                object(vec![
                    ("labels", maybe(0.6, string_map(&["app"], &["profiler"]))),
                    ("annotations", maybe(0.3, string_map(&["note"], &["x"]))),
                ]),
            ),
        ),
        (
            "spec",
            maybe(
                0.9,
                object(pod_spec_fields(maybe(
                    0.8,
                    list(container(&["profiler", "sidecar"], 0.9), 2)
                        .prop_map(|l| unique_by(l, "name")),
                ))),
            ),
        ),
    ]);
    object(vec![
        ("template", maybe(0.9, template)),
        ("backoffLimit", maybe(0.4, int(0..=6))),
        ("activeDeadlineSeconds", maybe(0.3, int(60..=3600))),
        ("ttlSecondsAfterFinished", maybe(0.3, int(0..=600))),
        ("suspend", maybe(0.1, boolean())),
        (
            "podFailurePolicy",
            maybe(
                0.1,
                Just(
                    json!({ "rules": [{ "action": "FailJob", "onExitCodes": { "operator": "In", "values": [42] } }] }),
                ),
            ),
        ),
    ])
}

fn beta_dgdr_spec() -> BoxedStrategy<Value> {
    let dgd_override = prop_oneof![
        Just(json!({
            "apiVersion": "nvidia.com/v1beta1", "kind": "DynamoGraphDeployment",
            "spec": { "components": [{ "name": "decode", "replicas": 2 }] },
        })),
        Just(json!({
            "apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoGraphDeployment",
            "metadata": { "labels": { "team": "a" } },
            "spec": { "services": { "Frontend": { "envs": [{ "name": "A", "value": "" }] } } },
        })),
        free_object(),
    ];
    object(vec![
        ("model", maybe(0.95, pick(MODELS))),
        ("backend", maybe(0.7, pick(BACKENDS))),
        ("image", maybe(0.7, pick(PROFILER_IMAGES))),
        ("runtimeVersionOverride", maybe(0.2, pick(&["1.5.0"]))),
        ("autoApply", maybe(0.6, boolean())),
        ("searchStrategy", maybe(0.4, pick(&["rapid", "thorough"]))),
        (
            "sla",
            maybe(
                0.5,
                odd(object(vec![
                    ("ttft", maybe(0.6, float())),
                    ("itl", maybe(0.6, float())),
                    ("e2eLatency", maybe(0.2, float())),
                    (
                        "optimizationType",
                        maybe(0.3, pick(&["latency", "throughput"])),
                    ),
                ])),
            ),
        ),
        (
            "workload",
            maybe(
                0.5,
                odd(object(vec![
                    ("isl", maybe(0.6, int(0..=8000))),
                    ("osl", maybe(0.6, int(0..=2000))),
                    ("concurrency", maybe(0.3, float())),
                    ("requestRate", maybe(0.3, float())),
                ])),
            ),
        ),
        (
            "hardware",
            maybe(
                0.4,
                odd(object(vec![
                    ("gpuSku", maybe(0.6, pick(&["h100_sxm", "l40s", "mi300"]))),
                    ("vramMb", maybe(0.4, float())),
                    ("numGpusPerNode", maybe(0.5, int(0..=8))),
                    ("totalGpus", maybe(0.5, int(0..=32))),
                    ("interconnect", maybe(0.3, pick(&["nvlink", "pcie", ""]))),
                    ("rdma", maybe(0.3, boolean())),
                ])),
            ),
        ),
        (
            "modelCache",
            maybe(
                0.3,
                odd(object(vec![
                    ("pvcName", maybe(0.8, pick(&["model-cache"]))),
                    (
                        "pvcModelPath",
                        maybe(0.5, pick(&["qwen", "/opt/model-cache/qwen"])),
                    ),
                    (
                        "pvcMountPath",
                        maybe(0.4, pick(&["/opt/model-cache", "/models"])),
                    ),
                ])),
            ),
        ),
        (
            "features",
            maybe(
                0.5,
                odd(object(vec![
                    (
                        "planner",
                        maybe(0.5, prop_oneof![4 => free_object(), 1 => Just(Value::Null)]),
                    ),
                    (
                        "mocker",
                        maybe(
                            0.6,
                            prop_oneof![
                                Just(json!({})),
                                boolean().prop_map(|b| json!({ "enabled": b })),
                            ],
                        ),
                    ),
                ])),
            ),
        ),
        (
            "overrides",
            maybe(
                0.5,
                odd(object(vec![
                    ("profilingJob", maybe(0.7, profiling_job())),
                    ("dgd", maybe(0.5, dgd_override)),
                ])),
            ),
        ),
    ])
}

fn beta_dgdr_status() -> BoxedStrategy<Value> {
    object(vec![
        (
            "phase",
            maybe(
                0.7,
                pick(&[
                    "Pending",
                    "Profiling",
                    "Ready",
                    "Deploying",
                    "Deployed",
                    "Failed",
                ]),
            ),
        ),
        (
            "profilingPhase",
            maybe(0.3, pick(&["SweepingPrefill", "GeneratingDGD", "Done"])),
        ),
        ("observedGeneration", maybe(0.5, int(0..=5))),
        ("conditions", maybe(0.5, conditions())),
        ("profilingJobName", maybe(0.3, pick(&["profile-req"]))),
        ("dgdName", maybe(0.3, pick(&["req", ""]))),
        (
            "profilingResults",
            maybe(
                0.3,
                odd(object(vec![
                    ("selectedConfig", maybe(0.7, free_object())),
                    (
                        "pareto",
                        maybe(
                            0.3,
                            list(free_object().prop_map(|c| json!({ "config": c })), 2),
                        ),
                    ),
                ])),
            ),
        ),
        (
            "deploymentInfo",
            maybe(
                0.3,
                odd(object(vec![
                    ("replicas", maybe(0.7, int(0..=4))),
                    ("availableReplicas", maybe(0.5, int(0..=4))),
                ])),
            ),
        ),
    ])
}

/// A v1beta1 DynamoGraphDeploymentRequest.
pub fn beta_dgdr() -> BoxedStrategy<Value> {
    (
        dgdr_metadata(),
        beta_dgdr_spec(),
        maybe(0.5, beta_dgdr_status()),
    )
        .prop_map(|(meta, spec, status)| {
            root(
                "nvidia.com/v1beta1",
                "DynamoGraphDeploymentRequest",
                meta,
                spec,
                status,
            )
        })
        .boxed()
}

/// A DynamoGraphDeploymentRequest at either version.
pub fn any_request() -> BoxedStrategy<Value> {
    prop_oneof![alpha_dgdr(), beta_dgdr()].boxed()
}

/// Any DGD, DCD or DGDSA at either version: the inputs of the interop vectors (DGDRs, which
/// have no vectors, come from [`any_request`]).
pub fn any_object() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => alpha_dgd(),
        3 => beta_dgd(),
        2 => alpha_dcd(),
        2 => beta_dcd(),
        1 => dgdsa(true),
        1 => dgdsa(false),
    ]
    .boxed()
}
