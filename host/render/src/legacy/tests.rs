//! Tests of reading `v1alpha1`-only facts back through the conversion, and of carrying them on
//! a generated component.

use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment};
use serde_json::json;

use super::{LegacyGraph, LegacyService, carry};
use crate::input;

/// A `v1alpha1` graph using every field `v1beta1` cannot hold, converted to the hub.
fn converted() -> DynamoGraphDeployment {
    input::graph(json!({
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": "g", "namespace": "ns"},
        "spec": {
            "pvcs": [{"name": "models", "create": true, "size": "10Gi",
                      "storageClass": "fast", "volumeAccessMode": "ReadWriteMany"}],
            "services": {
                "Frontend": {
                    "componentType": "frontend",
                    "annotations": {"team.example/owner": "ml"},
                    "labels": {"tier": "edge"},
                    "ingress": {"enabled": true, "host": "chat"},
                    "extraPodSpec": {"mainContainer": {"image": "fe:1.0.0"}},
                },
                "Worker": {
                    "componentType": "worker",
                    "subComponentType": "router",
                    "dynamoNamespace": "ignored",
                    "extraPodSpec": {"mainContainer": {"image": "w:1.0.0"}},
                },
                "Decode": {
                    "componentType": "worker",
                    "subComponentType": "decode",
                    "extraPodSpec": {"mainContainer": {"image": "w:1.0.0"}},
                },
            },
        },
    }))
    .expect("a valid v1alpha1 graph")
}

#[test]
fn alpha_only_fields_survive_the_hub() {
    let legacy = LegacyGraph::of(&converted()).expect("legacy");
    assert_eq!(legacy.pvcs.len(), 1);
    assert_eq!(legacy.pvcs[0].name, "models");
    let frontend = legacy.service("Frontend");
    assert_eq!(
        frontend
            .annotations
            .get("team.example/owner")
            .map(String::as_str),
        Some("ml")
    );
    assert_eq!(
        frontend.labels.get("tier").map(String::as_str),
        Some("edge")
    );
    assert_eq!(
        frontend.ingress.and_then(|i| i.host).as_deref(),
        Some("chat")
    );
    let worker = legacy.service("Worker");
    assert_eq!(worker.sub_component_type.as_deref(), Some("router"));
    assert!(worker.dynamo_namespace);
    assert!(!worker.autoscaling);
}

#[test]
fn a_native_v1beta1_graph_has_no_legacy_facts() {
    let dgd = input::graph(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": "g"},
        "spec": {"components": [{"name": "Frontend", "type": "frontend",
            "podTemplate": {"spec": {"containers": [{"name": "main", "image": "fe:1.0.0"}]}}}]},
    }))
    .expect("graph");
    let legacy = LegacyGraph::of(&dgd).expect("legacy");
    assert!(legacy.pvcs.is_empty());
    assert_eq!(legacy.service("Frontend"), LegacyService::default());
}

#[test]
fn carried_facts_are_read_back_from_the_component() {
    let component: DynamoComponentDeployment = input::component(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoComponentDeployment",
        "metadata": {"name": "g-worker", "namespace": "ns"},
        "spec": {"name": "Worker", "type": "worker", "replicas": 2,
            "podTemplate": {"spec": {"containers": [{"name": "main", "image": "w:1.0.0"}]}}},
    }))
    .expect("component");
    let carried = LegacyService {
        annotations: [("nvidia.com/enable-metrics".to_owned(), "false".to_owned())].into(),
        labels: [("tier".to_owned(), "gpu".to_owned())].into(),
        sub_component_type: Some("router".to_owned()),
        ..LegacyService::default()
    };
    let value = carry(&component, &carried).expect("carried");
    // The v1beta1 spec is untouched: the facts travel in the conversion's own form.
    assert_eq!(value["spec"]["replicas"], 2);
    assert_eq!(value["spec"]["name"], "Worker");
    let read: DynamoComponentDeployment = serde_json::from_value(value).expect("component");
    assert_eq!(read.spec, component.spec);
    let back = LegacyService::of_component(&read).expect("legacy");
    assert_eq!(back.annotations, carried.annotations);
    assert_eq!(back.labels, carried.labels);
    assert_eq!(back.sub_component_type.as_deref(), Some("router"));
}

#[test]
fn carrying_nothing_leaves_the_component_as_it_is() {
    let component: DynamoComponentDeployment = input::component(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoComponentDeployment",
        "metadata": {"name": "g-fe"},
        "spec": {"name": "Frontend", "type": "frontend"},
    }))
    .expect("component");
    let value = carry(&component, &LegacyService::default()).expect("carried");
    assert_eq!(value, serde_json::to_value(&component).expect("json"));
}

#[test]
fn facts_are_read_even_where_other_v1alpha1_fields_would_not_fit() {
    // A compilation cache without a claim name reads back in v1alpha1 as a volume mount without
    // a name, which v1alpha1's type refuses; the facts are still read, and the cache is left
    // to the v1beta1 rules.
    let dgd = input::graph(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": "g"},
        "spec": {"components": [{"name": "w", "type": "worker",
            "compilationCache": {"pvcName": ""},
            "podTemplate": {"spec": {"containers": [{"name": "main", "image": "w:1.0.0"}]}}}]},
    }))
    .expect("graph");
    let legacy = LegacyGraph::of(&dgd).expect("legacy facts are read");
    assert_eq!(legacy.service("w"), LegacyService::default());
}
