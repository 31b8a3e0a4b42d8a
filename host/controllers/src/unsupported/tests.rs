//! Tests of the unsupported-kind marking: when an object counts as marked, and the patch.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::DynamicObject;
use serde_json::json;

use super::{KINDS, REASON, is_marked, mark};

fn object(generation: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeploymentRequest",
        "metadata": {"name": "req", "namespace": "team", "generation": generation},
        "spec": {"model": "Qwen/Qwen3-0.6B"},
    }))
    .expect("object")
}

fn epoch() -> Time {
    Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

fn marked(generation: i64, condition_generation: i64) -> serde_json::Value {
    let mut value = serde_json::to_value(object(generation)).expect("json");
    let patch = mark(&object(condition_generation), &KINDS[0], &epoch());
    value["status"] = patch["status"].clone();
    value
}

#[test]
fn the_patch_carries_one_ready_false_condition_naming_the_kind() {
    let patch = mark(&object(3), &KINDS[0], &epoch());
    assert_eq!(patch["apiVersion"], "nvidia.com/v1beta1");
    assert_eq!(patch["metadata"]["namespace"], "team");
    let conditions = patch["status"]["conditions"]
        .as_array()
        .expect("conditions");
    assert_eq!(conditions.len(), 1);
    let condition = &conditions[0];
    assert_eq!(condition["type"], "Ready");
    assert_eq!(condition["status"], "False");
    assert_eq!(condition["reason"], REASON);
    assert_eq!(condition["observedGeneration"], 3);
    let message = condition["message"].as_str().expect("message");
    assert!(
        message.contains("DynamoGraphDeploymentRequest"),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
}

#[test]
fn an_object_is_marked_only_at_its_own_generation() {
    assert!(is_marked(&marked(2, 2), &KINDS[0]));
    // A spec change since: the condition is stale and written again.
    assert!(!is_marked(&marked(3, 2), &KINDS[0]));
    // A message for another kind does not count.
    assert!(!is_marked(&marked(2, 2), &KINDS[1]));
    let bare = serde_json::to_value(object(1)).expect("json");
    assert!(!is_marked(&bare, &KINDS[0]));
}

#[test]
fn each_kind_is_watched_at_the_version_its_crd_stores() {
    let crds = dynamo_api::crds::all();
    for kind in KINDS {
        let crd = crds
            .iter()
            .find(|c| c.spec.names.kind == kind.kind)
            .unwrap_or_else(|| panic!("dynamo_api::crds generates no CRD of {}", kind.kind));
        assert_eq!(crd.spec.names.plural, kind.plural, "{}", kind.kind);
        let stored: Vec<&str> = crd
            .spec
            .versions
            .iter()
            .filter(|v| v.storage)
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(
            stored,
            [kind.version],
            "{} is watched and written at {}, its CRD stores {stored:?}",
            kind.kind,
            kind.version
        );
    }
}
