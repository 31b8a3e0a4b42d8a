//! Tests of the `v1beta1` types: what they write for absent fields, the `scalingAdapter` marker,
//! and the helpers that encode API semantics.

use serde_json::{Value, json};

use super::shared::{ComponentType, dynamo_namespace};
use super::{
    DynamoComponentDeployment, DynamoComponentDeploymentSharedSpec, DynamoGraphDeployment,
    DynamoGraphDeploymentStatus,
};

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("{e}"))
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
}

fn component(value: Value) -> DynamoComponentDeploymentSharedSpec {
    from_json(value)
}

#[test]
fn absent_fields_are_not_written() {
    // What `kubectl apply` of our output must not see: `{}` or `[]` for fields nobody set.
    let graph = DynamoGraphDeployment::new("g", super::DynamoGraphDeploymentSpec::default());
    assert_eq!(
        to_json(&graph),
        json!({
            "apiVersion": "nvidia.com/v1beta1",
            "kind": "DynamoGraphDeployment",
            "metadata": {"name": "g"},
            "spec": {},
        })
    );
    assert_eq!(
        to_json(&component(json!({"name": "w"}))),
        json!({"name": "w"})
    );
    assert_eq!(
        to_json(&DynamoGraphDeploymentStatus::default()),
        json!({"state": "initializing"})
    );
}

#[test]
fn scaling_adapter_is_a_presence_marker() {
    let on = component(json!({"name": "w", "scalingAdapter": {}}));
    assert!(on.has_scaling_adapter());
    assert_eq!(to_json(&on), json!({"name": "w", "scalingAdapter": {}}));
    // A v1alpha1-style `enabled` is not part of the v1beta1 marker: dropped, presence kept.
    let legacy = component(json!({"name": "w", "scalingAdapter": {"enabled": false}}));
    assert!(legacy.has_scaling_adapter());
    assert!(!component(json!({"name": "w"})).has_scaling_adapter());
}

#[test]
fn main_container_is_the_one_named_main() {
    let mut spec = component(json!({
        "name": "w",
        "podTemplate": {"spec": {"containers": [
            {"name": "sidecar", "image": "s"},
            {"name": "main", "image": "m"},
        ]}},
    }));
    assert_eq!(
        spec.main_container().and_then(|c| c.image.as_deref()),
        Some("m")
    );
    if let Some(main) = spec.main_container_mut() {
        main.image = Some("m2".into());
    }
    assert_eq!(
        spec.main_container().and_then(|c| c.image.as_deref()),
        Some("m2")
    );
    let without = component(json!({
        "name": "w",
        "podTemplate": {"spec": {"containers": [{"name": "engine", "image": "e"}]}},
    }));
    assert!(without.main_container().is_none());
    assert!(component(json!({"name": "w"})).main_container().is_none());
}

#[test]
fn workers_are_worker_prefill_and_decode() {
    let workers: Vec<&str> = [
        ComponentType::Frontend,
        ComponentType::Worker,
        ComponentType::Prefill,
        ComponentType::Decode,
        ComponentType::Planner,
        ComponentType::Epp,
    ]
    .into_iter()
    .filter(|t| t.is_worker())
    .map(ComponentType::as_str)
    .collect();
    assert_eq!(workers, ["worker", "prefill", "decode"]);
    assert!(component(json!({"name": "p", "type": "prefill"})).is_worker());
    assert!(!component(json!({"name": "f", "type": "frontend"})).is_worker());
    assert!(!component(json!({"name": "u"})).is_worker());
}

#[test]
fn multinode_and_scaling_group_follow_the_documented_rules() {
    let single = component(json!({"name": "w"}));
    assert_eq!(single.node_count(), 1);
    assert!(!single.uses_multinode());
    assert!(!single.uses_scaling_group());

    let multi = component(json!({"name": "w", "multinode": {"nodeCount": 4}}));
    assert_eq!(multi.node_count(), 4);
    assert!(multi.uses_multinode());
    assert!(multi.uses_scaling_group());

    let defaulted = component(json!({"name": "w", "multinode": {}}));
    assert_eq!(defaulted.node_count(), 2, "nodeCount defaults to 2");

    let inter_pod = component(json!({
        "name": "w",
        "experimental": {"gpuMemoryService": {"mode": "InterPod"}},
    }));
    assert!(!inter_pod.uses_multinode());
    assert!(inter_pod.uses_scaling_group());
    let intra_pod = component(json!({
        "name": "w",
        "experimental": {"gpuMemoryService": {}},
    }));
    assert!(!intra_pod.uses_scaling_group());

    let forced = component(json!({
        "name": "w",
        "experimental": {"grove": {"forceScalingGroup": true}},
    }));
    assert!(forced.uses_scaling_group());
    let not_forced = component(json!({
        "name": "w",
        "experimental": {"grove": {"forceScalingGroup": false}},
    }));
    assert!(!not_forced.uses_scaling_group());
}

#[test]
fn graph_finds_components_by_name_and_its_endpoint_picker() {
    let mut graph: DynamoGraphDeployment = from_json(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": "g"},
        "spec": {"components": [
            {"name": "Frontend", "type": "frontend"},
            {"name": "epp", "type": "epp", "eppConfig": {"configMapRef": {"key": "k", "name": "c"}}},
        ]},
    }));
    assert_eq!(graph.components().len(), 2);
    assert!(graph.component("Frontend").is_some());
    assert!(graph.component("frontend").is_none(), "names match exactly");
    assert_eq!(graph.epp_component().map(|c| c.name.as_str()), Some("epp"));
    if let Some(frontend) = graph.component_mut("Frontend") {
        frontend.replicas = Some(3);
    }
    assert_eq!(
        graph.component("Frontend").and_then(|c| c.replicas),
        Some(3)
    );
    assert!(
        DynamoGraphDeployment::new("e", Default::default())
            .components()
            .is_empty()
    );
}

#[test]
fn standalone_component_name_falls_back_to_metadata_name() {
    let named: DynamoComponentDeployment = from_json(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoComponentDeployment",
        "metadata": {"name": "g-decode-1a2b3c4d"},
        "spec": {"name": "decode", "type": "decode", "backendFramework": "vllm"},
    }));
    assert_eq!(named.component_name(), "decode");
    assert_eq!(
        named.spec.shared.component_type,
        Some(ComponentType::Decode)
    );
    let unnamed: DynamoComponentDeployment = from_json(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoComponentDeployment",
        "metadata": {"name": "solo"},
        "spec": {"type": "worker"},
    }));
    assert_eq!(unnamed.component_name(), "solo");
    assert!(
        to_json(&unnamed)["spec"].get("name").is_none(),
        "an unset name is not written"
    );
}

#[test]
fn dynamo_namespace_joins_namespace_and_graph_name() {
    assert_eq!(
        dynamo_namespace(false, "team-a", "llama.v2"),
        "team-a-llama-v2"
    );
    assert_eq!(dynamo_namespace(true, "team-a", "llama.v2"), "dynamo");
}

#[test]
fn status_uses_component_names_and_gpu_counts() {
    let status = json!({
        "state": "successful",
        "components": {"decode": {
            "componentKind": "PodCliqueScalingGroup",
            "componentNames": ["g-0-decode"],
            "runtimeNamespace": "ns-g-1a2b",
            "gpusPerEngine": 8,
            "gpusPerReplica": 16,
            "replicas": 1,
            "updatedReplicas": 1,
            "availableReplicas": 1,
            "scheduledReplicas": 1,
        }},
        "rollingUpdate": {"phase": "Completed", "updatedComponents": ["decode"]},
        "placement": {"state": "Unsupported"},
    });
    let typed: DynamoGraphDeploymentStatus = from_json(status.clone());
    let decode = typed
        .components
        .as_ref()
        .and_then(|c| c.get("decode"))
        .unwrap_or_else(|| panic!("decode status"));
    assert_eq!(decode.gpus_per_replica, Some(16));
    assert_eq!(to_json(&typed), status);
}
