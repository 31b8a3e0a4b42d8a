//! Focused tests of the DynamoGraphDeploymentRequest conversion, one per policy.

use serde_json::{Value, json};

use crate::{ConversionError, V1ALPHA1, V1BETA1, canonical, convert, review};

const SPEC: &str = "nvidia.com/dgdr-spec";
const STATUS: &str = "nvidia.com/dgdr-status";

fn alpha(spec: Value) -> Value {
    json!({
        "apiVersion": V1ALPHA1, "kind": "DynamoGraphDeploymentRequest",
        "metadata": { "name": "req", "namespace": "ns" },
        "spec": spec,
    })
}

fn beta(spec: Value) -> Value {
    json!({
        "apiVersion": V1BETA1, "kind": "DynamoGraphDeploymentRequest",
        "metadata": { "name": "req", "namespace": "ns" },
        "spec": spec,
    })
}

fn up(object: Value) -> Value {
    convert(object, V1BETA1).unwrap_or_else(|e| panic!("to v1beta1: {e}"))
}

fn down(object: Value) -> Value {
    convert(object, V1ALPHA1).unwrap_or_else(|e| panic!("to v1alpha1: {e}"))
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/annotations")?.get(key)?.as_str()
}

fn payload(object: &Value, key: &str) -> Option<Value> {
    annotation(object, key)
        .map(|text| serde_json::from_str(text).unwrap_or_else(|e| panic!("{key}: not JSON: {e}")))
}

fn with_annotation(mut object: Value, key: &str, value: &str) -> Value {
    object["metadata"]["annotations"][key] = Value::from(value);
    object
}

fn assert_round_trip(object: &Value) {
    let there = convert(
        object.clone(),
        if object["apiVersion"] == V1ALPHA1 {
            V1BETA1
        } else {
            V1ALPHA1
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let back = convert(there, object["apiVersion"].as_str().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, canonical(object).unwrap_or_else(|e| panic!("{e}")));
}

// === native fields ===

#[test]
fn shared_fields_convert_natively_without_a_payload() {
    let beta = up(alpha(json!({
        "model": "Qwen/Qwen3-0.6B", "backend": "vllm", "runtimeVersionOverride": "1.5.0",
        "useMocker": true, "autoApply": true,
        "profilingConfig": { "profilerImage": "planner:1.5.0" },
    })));
    assert_eq!(
        beta["spec"],
        json!({
            "model": "Qwen/Qwen3-0.6B", "backend": "vllm", "runtimeVersionOverride": "1.5.0",
            "image": "planner:1.5.0", "autoApply": true,
            "features": { "mocker": { "enabled": true } },
        })
    );
    assert_eq!(beta["metadata"].get("annotations"), None, "nothing to save");

    let alpha = down(beta);
    assert_eq!(
        alpha["spec"],
        json!({
            "model": "Qwen/Qwen3-0.6B", "backend": "vllm", "runtimeVersionOverride": "1.5.0",
            "useMocker": true, "autoApply": true,
            "profilingConfig": { "profilerImage": "planner:1.5.0" },
        })
    );
    assert_eq!(alpha["metadata"].get("annotations"), None);
}

#[test]
fn status_conditions_and_observed_generation_convert_natively() {
    let condition = json!({
        "type": "Ready", "status": "False", "reason": "NotSupported", "message": "m",
        "lastTransitionTime": "2026-01-02T03:04:05Z",
    });
    let mut object = beta(json!({ "model": "m" }));
    object["status"] = json!({ "observedGeneration": 3, "conditions": [condition.clone()] });
    let alpha = down(object);
    assert_eq!(
        alpha["status"],
        json!({ "state": "", "observedGeneration": 3, "conditions": [condition] }),
        "v1alpha1 prints its required state even when unknown"
    );
    assert_eq!(annotation(&alpha, STATUS), None);
}

#[test]
fn an_unset_v1alpha1_auto_apply_means_false_at_v1beta1() {
    // v1alpha1 defaults autoApply to false, v1beta1 to true: leaving it out would flip it.
    let beta = up(alpha(json!({ "model": "m" })));
    assert_eq!(beta["spec"]["autoApply"], json!(false));
    assert_eq!(annotation(&beta, SPEC), None);
}

#[test]
fn an_unset_v1beta1_auto_apply_comes_down_as_true_and_goes_back_unset() {
    let object = beta(json!({ "model": "m" }));
    let alpha = down(object.clone());
    assert_eq!(alpha["spec"]["autoApply"], json!(true));
    assert_eq!(
        annotation(&alpha, SPEC),
        Some(r#"{"version":1,"spec":{"model":""},"rawJSON":[{"path":"autoApply","nil":true}]}"#)
    );
    let back = up(alpha.clone());
    assert_eq!(back["spec"].get("autoApply"), None);
    assert_round_trip(&object);

    // Once the v1alpha1 value is edited, the live value wins over the marker.
    let mut edited = alpha;
    edited["spec"]["autoApply"] = json!(false);
    assert_eq!(up(edited)["spec"]["autoApply"], json!(false));

    // An explicit v1beta1 value needs no marker.
    let explicit = down(beta(json!({ "model": "m", "autoApply": true })));
    assert_eq!(explicit["spec"]["autoApply"], json!(true));
    assert_eq!(annotation(&explicit, SPEC), None);
}

#[test]
fn mocker_follows_use_mocker_and_keeps_its_v1beta1_shape() {
    for features in [
        json!({}),
        json!({ "mocker": {} }),
        json!({ "mocker": { "enabled": false } }),
        json!({ "mocker": { "enabled": true } }),
        json!({ "planner": { "mode": "sla" }, "mocker": { "enabled": true } }),
        json!({ "planner": null }),
    ] {
        let object = beta(json!({ "model": "m", "autoApply": true, "features": features }));
        let alpha = down(object.clone());
        let enabled = features["mocker"]["enabled"] == json!(true);
        assert_eq!(
            alpha["spec"].get("useMocker").is_some(),
            enabled,
            "{features}"
        );
        assert_round_trip(&object);
    }
    // What useMocker says is not saved again.
    let alpha = down(beta(
        json!({ "model": "m", "autoApply": true, "features": { "mocker": { "enabled": true } } }),
    ));
    assert_eq!(annotation(&alpha, SPEC), None);
}

#[test]
fn use_mocker_edited_at_v1alpha1_wins_over_the_saved_mocker() {
    let alpha = down(beta(json!({
        "model": "m", "autoApply": true,
        "features": { "mocker": {}, "planner": { "a": 1 } },
    })));
    let mut on = alpha.clone();
    on["spec"]["useMocker"] = json!(true);
    assert_eq!(
        up(on)["spec"]["features"],
        json!({ "mocker": { "enabled": true }, "planner": { "a": 1 } })
    );
    assert_eq!(
        up(alpha)["spec"]["features"],
        json!({ "mocker": {}, "planner": { "a": 1 } })
    );
}

// === preserved fields ===

#[test]
fn v1alpha1_only_fields_are_saved_sparsely_and_restored() {
    let mut object = alpha(json!({
        "model": "m", "backend": "sglang", "enableGpuDiscovery": false,
        "profilingConfig": {
            "profilerImage": "planner:1",
            "config": { "sla": { "ttft": 200 }, "x": null },
            "configMapRef": { "name": "base", "key": "disagg.yaml" },
            "outputPVC": "out",
            "resources": { "requests": { "cpu": "1000m" } },
            "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists" }],
            "nodeSelector": { "kubernetes.io/arch": "arm64" },
        },
        "deploymentOverrides": { "name": "g", "workersImage": "vllm:1", "labels": { "a": "b" } },
    }));
    object["status"] = json!({
        "state": "Ready", "backend": "sglang", "profilingResults": "configmap/r",
        "generatedDeployment": { "kind": "DynamoGraphDeployment", "spec": {} },
        "deployment": { "name": "g", "state": "pending", "created": true },
    });
    let beta = up(object.clone());
    assert_eq!(
        beta["spec"],
        json!({ "model": "m", "backend": "sglang", "image": "planner:1", "autoApply": false })
    );
    assert_eq!(
        beta.get("status"),
        None,
        "an empty v1beta1 status is not printed"
    );
    // Only what v1beta1 lacks, printed as the v1alpha1 type (required fields spelled out).
    assert_eq!(
        annotation(&beta, SPEC),
        Some(concat!(
            r#"{"version":1,"spec":{"model":"","backend":"","enableGpuDiscovery":false,"#,
            r#""profilingConfig":{"profilerImage":"","config":{"sla":{"ttft":200},"x":null},"#,
            r#""configMapRef":{"name":"base","key":"disagg.yaml"},"outputPVC":"out","#,
            r#""resources":{"requests":{"cpu":"1"}},"#,
            r#""tolerations":[{"key":"nvidia.com/gpu","operator":"Exists"}],"#,
            r#""nodeSelector":{"kubernetes.io/arch":"arm64"}},"#,
            r#""deploymentOverrides":{"name":"g","labels":{"a":"b"},"workersImage":"vllm:1"}}}"#,
        ))
    );
    assert_eq!(
        payload(&beta, STATUS),
        Some(json!({
            "state": "Ready", "backend": "sglang", "profilingResults": "configmap/r",
            "generatedDeployment": { "kind": "DynamoGraphDeployment", "spec": {} },
            "deployment": { "name": "g", "state": "pending", "created": true },
        }))
    );
    assert_round_trip(&object);
}

#[test]
fn v1beta1_only_fields_are_saved_sparsely_and_restored() {
    let mut object = beta(json!({
        "model": "m", "image": "planner:1", "autoApply": false, "searchStrategy": "thorough",
        "sla": { "ttft": 200, "itl": 20.5 }, "workload": { "isl": 0, "concurrency": 8 },
        "hardware": { "gpuSku": "h100_sxm", "totalGpus": 0, "rdma": false },
        "modelCache": { "pvcName": "cache" },
        "overrides": {
            "profilingJob": { "backoffLimit": 0, "template": { "spec": { "containers": [
                { "name": "profiler", "resources": { "limits": { "cpu": "1000m" } } },
            ] } } },
            "dgd": { "apiVersion": "nvidia.com/v1beta1", "kind": "DynamoGraphDeployment" },
        },
    }));
    object["status"] = json!({
        "phase": "Profiling", "profilingPhase": "SweepingDecode", "profilingJobName": "job",
        "dgdName": "g", "profilingResults": { "selectedConfig": { "tp": 2 } },
        "deploymentInfo": { "replicas": 0 }, "observedGeneration": 1,
    });
    let alpha = down(object.clone());
    assert_eq!(
        alpha["spec"],
        json!({ "model": "m", "backend": "", "profilingConfig": { "profilerImage": "planner:1" } })
    );
    assert_eq!(
        alpha["status"],
        json!({ "state": "", "observedGeneration": 1 })
    );
    let saved = payload(&alpha, SPEC).unwrap_or_else(|| panic!("no spec payload"));
    assert_eq!(saved["version"], json!(1));
    assert_eq!(saved.get("rawJSON"), None, "autoApply was set");
    assert_eq!(
        saved["spec"],
        json!({
            "model": "", "searchStrategy": "thorough",
            "sla": { "ttft": 200, "itl": 20.5 }, "workload": { "isl": 0, "concurrency": 8 },
            "hardware": { "gpuSku": "h100_sxm", "totalGpus": 0, "rdma": false },
            "modelCache": { "pvcName": "cache" },
            "overrides": object["spec"]["overrides"],
        }),
        "the profiling job is carried verbatim"
    );
    assert_eq!(
        payload(&alpha, STATUS),
        Some(json!({
            "phase": "Profiling", "profilingPhase": "SweepingDecode", "profilingJobName": "job",
            "dgdName": "g", "profilingResults": { "selectedConfig": { "tp": 2 } },
            "deploymentInfo": { "replicas": 0 },
        }))
    );
    assert_round_trip(&object);
}

#[test]
fn empty_but_present_v1beta1_structs_survive() {
    let object = beta(json!({
        "model": "m", "sla": {}, "workload": {}, "hardware": {}, "modelCache": {},
        "features": {}, "overrides": {},
    }));
    assert_round_trip(&object);
    let object = alpha(json!({
        "model": "m", "deploymentOverrides": {},
        "profilingConfig": { "resources": {}, "config": {} },
    }));
    assert_round_trip(&object);
}

// === restored data only fills what the source cannot represent ===

#[test]
fn live_v1beta1_fields_win_over_a_stale_v1alpha1_payload() {
    // A payload holding represented fields (hand-edited, or from another writer) is context at
    // most: the live object decides them.
    let stale = r#"{"version":1,"spec":{"model":"old","backend":"trtllm","autoApply":true,"useMocker":true,"profilingConfig":{"profilerImage":"old","outputPVC":"out"}}}"#;
    let object = with_annotation(
        beta(json!({ "model": "m", "backend": "vllm", "image": "new", "autoApply": false })),
        SPEC,
        stale,
    );
    let alpha = down(object);
    assert_eq!(
        alpha["spec"],
        json!({
            "model": "m", "backend": "vllm",
            "profilingConfig": { "profilerImage": "new", "outputPVC": "out" },
        })
    );
    assert_eq!(annotation(&alpha, SPEC), None, "read, then scrubbed");
}

#[test]
fn live_v1alpha1_fields_win_over_a_stale_v1beta1_payload() {
    let stale = r#"{"version":1,"spec":{"model":"old","image":"old","autoApply":false,"features":{"mocker":{"enabled":true}},"sla":{"ttft":1}}}"#;
    let object = with_annotation(
        alpha(
            json!({ "model": "m", "autoApply": true, "profilingConfig": { "profilerImage": "new" } }),
        ),
        SPEC,
        stale,
    );
    let beta = up(object);
    assert_eq!(
        beta["spec"],
        json!({
            "model": "m", "image": "new", "autoApply": true,
            "features": { "mocker": {} }, "sla": { "ttft": 1 },
        })
    );
}

#[test]
fn restored_status_fills_only_the_other_versions_fields() {
    let saved = r#"{"phase":"Failed","observedGeneration":9,"conditions":[{"type":"Old","status":"True","reason":"r","message":"","lastTransitionTime":null}]}"#;
    let mut object = with_annotation(alpha(json!({ "model": "m" })), STATUS, saved);
    object["status"] = json!({ "state": "Failed", "observedGeneration": 2 });
    let beta = up(object);
    assert_eq!(
        beta["status"],
        json!({ "phase": "Failed", "observedGeneration": 2 })
    );
    assert_eq!(payload(&beta, STATUS), Some(json!({ "state": "Failed" })));
}

// === payload annotations ===

#[test]
fn legacy_per_field_annotations_are_ignored_and_scrubbed() {
    let object = json!({
        "apiVersion": V1ALPHA1, "kind": "DynamoGraphDeploymentRequest",
        "metadata": { "name": "req", "annotations": {
            "nvidia.com/dgdr-sla": r#"{"ttft":200}"#,
            "nvidia.com/dgdr-search-strategy": "thorough",
            "nvidia.com/dgd-spec": "belongs to graphs",
            "team": "a",
        } },
        "spec": { "model": "m" },
    });
    let beta = up(object);
    assert_eq!(
        beta["metadata"]["annotations"],
        json!({ "nvidia.com/dgd-spec": "belongs to graphs", "team": "a" })
    );
    assert_eq!(beta["spec"].get("sla"), None);
    assert_eq!(beta["spec"].get("searchStrategy"), None);

    let only_legacy = json!({
        "apiVersion": V1BETA1, "kind": "DynamoGraphDeploymentRequest",
        "metadata": { "name": "req", "annotations": { "nvidia.com/dgdr-x": "1" } },
        "spec": { "model": "m", "autoApply": true },
    });
    assert_eq!(
        down(only_legacy)["metadata"].get("annotations"),
        None,
        "an emptied annotation map goes away"
    );
}

#[test]
fn a_bare_spec_payload_without_the_envelope_is_read() {
    let object = with_annotation(
        beta(json!({ "model": "m", "autoApply": true })),
        SPEC,
        r#"{"enableGpuDiscovery":false}"#,
    );
    assert_eq!(down(object)["spec"]["enableGpuDiscovery"], json!(false));
}

#[test]
fn an_unreadable_spec_payload_is_ignored_and_a_status_payload_is_an_error() {
    let object = with_annotation(beta(json!({ "model": "m" })), SPEC, "{not json");
    let alpha = down(object);
    assert_eq!(alpha["spec"]["model"], json!("m"));

    let object = with_annotation(beta(json!({ "model": "m" })), STATUS, r#"{"state":3}"#);
    match convert(object, V1ALPHA1) {
        Err(ConversionError::Payload {
            annotation,
            message,
            ..
        }) => {
            assert_eq!(annotation, STATUS);
            assert!(message.contains("state"), "{message}");
        }
        other => panic!("expected a payload error, got {other:?}"),
    }
}

// === canonical form and errors ===

#[test]
fn canonical_form_spells_out_v1alpha1_required_fields_and_drops_v1beta1_zero_values() {
    let printed = canonical(&alpha(json!({ "autoApply": false, "extra": 1 })))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        printed["spec"],
        json!({ "model": "", "backend": "", "profilingConfig": { "profilerImage": "" } })
    );
    assert_eq!(printed["status"], json!({ "state": "" }));
    let printed = canonical(&beta(json!({
        "model": "m", "backend": "", "autoApply": false, "sla": { "ttft": 1e21, "itl": null },
    })))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        printed["spec"],
        json!({ "model": "m", "autoApply": false, "sla": { "ttft": 1e21 } }),
        "a pointer keeps an explicit false, an empty string goes"
    );
    assert_eq!(printed.get("status"), None);
}

#[test]
fn a_value_of_the_wrong_type_names_the_field() {
    let err = convert(alpha(json!({ "model": "m", "useMocker": "yes" })), V1BETA1)
        .err()
        .unwrap_or_else(|| panic!("converted"));
    match err {
        ConversionError::InvalidField { field, object, .. } => {
            assert_eq!(field, "spec.useMocker");
            assert!(
                object.contains("DynamoGraphDeploymentRequest ns/req"),
                "{object}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_review_of_mixed_kinds_converts_the_v1alpha1_request_too() {
    let request = alpha(json!({
        "model": "m", "backend": "vllm", "profilingConfig": { "profilerImage": "p" },
    }));
    let graph = json!({
        "apiVersion": V1ALPHA1, "kind": "DynamoGraphDeployment",
        "metadata": { "name": "g" }, "spec": { "services": { "Frontend": {} } },
    });
    let adapter = json!({
        "apiVersion": V1ALPHA1, "kind": "DynamoGraphDeploymentScalingAdapter",
        "metadata": { "name": "g-frontend" },
        "spec": { "replicas": 1, "dgdRef": { "name": "g", "serviceName": "Frontend" } },
    });
    let stored = beta(json!({ "model": "already", "autoApply": true }));
    let answer = review(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
        "request": {
            "uid": "u1", "desiredAPIVersion": V1BETA1,
            "objects": [graph, request, adapter, stored.clone()],
        },
    }));
    let response = &answer["response"];
    assert_eq!(response["result"]["status"], json!("Success"), "{answer}");
    assert_eq!(response["uid"], json!("u1"));
    let objects = response["convertedObjects"]
        .as_array()
        .unwrap_or_else(|| panic!("no objects: {answer}"));
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "DynamoGraphDeployment",
            "DynamoGraphDeploymentRequest",
            "DynamoGraphDeploymentScalingAdapter",
            "DynamoGraphDeploymentRequest",
        ]
    );
    assert!(objects.iter().all(|o| o["apiVersion"] == V1BETA1));
    assert_eq!(
        objects[1]["spec"],
        json!({ "model": "m", "backend": "vllm", "image": "p", "autoApply": false })
    );
    assert_eq!(
        objects[3], stored,
        "already at the desired version: unchanged"
    );

    // Back down in one review, the request comes back as it was printed.
    let back = review(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
        "request": { "uid": "u2", "desiredAPIVersion": V1ALPHA1, "objects": [objects[1].clone()] },
    }));
    assert_eq!(
        back["response"]["convertedObjects"][0],
        canonical(&alpha(json!({
            "model": "m", "backend": "vllm", "profilingConfig": { "profilerImage": "p" },
        })))
        .unwrap_or_else(|e| panic!("{e}"))
    );
}
