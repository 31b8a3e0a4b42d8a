//! Focused tests, one per conversion rule that could break.

use serde_json::{Value, json};

use crate::{ConversionError, V1ALPHA1, V1BETA1, canonical, convert, review};

fn alpha_dgd(services: Value) -> Value {
    json!({
        "apiVersion": V1ALPHA1, "kind": "DynamoGraphDeployment",
        "metadata": { "name": "g", "namespace": "ns" },
        "spec": { "services": services },
    })
}

fn beta_dgd(components: Value) -> Value {
    json!({
        "apiVersion": V1BETA1, "kind": "DynamoGraphDeployment",
        "metadata": { "name": "g", "namespace": "ns" },
        "spec": { "components": components },
    })
}

fn up(object: Value) -> Value {
    convert(object, V1BETA1).unwrap_or_else(|e| panic!("to v1beta1: {e}"))
}

fn down(object: Value) -> Value {
    convert(object, V1ALPHA1).unwrap_or_else(|e| panic!("to v1alpha1: {e}"))
}

fn payload(object: &Value, key: &str) -> Option<Value> {
    let text = object
        .pointer("/metadata/annotations")?
        .get(key)?
        .as_str()?;
    Some(serde_json::from_str(text).unwrap_or_else(|e| panic!("{key} is not JSON: {e}")))
}

fn assert_round_trip(object: Value) {
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
    assert_eq!(back, canonical(&object).unwrap_or_else(|e| panic!("{e}")));
}

// === graph shape ===

#[test]
fn services_map_becomes_components_list_sorted_by_name() {
    let beta = up(alpha_dgd(
        json!({ "b": { "componentType": "worker" }, "A": { "componentType": "frontend" } }),
    ));
    let names: Vec<&str> = beta["spec"]["components"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["A", "b"], "uppercase sorts first, byte order");
    assert!(
        payload(&beta, "nvidia.com/dgd-spec").is_none(),
        "nothing to preserve"
    );
}

#[test]
fn unsorted_component_order_is_kept_in_the_v1alpha1_payload() {
    let beta =
        beta_dgd(json!([{ "name": "z", "type": "worker" }, { "name": "a", "type": "frontend" }]));
    let alpha = down(beta.clone());
    let saved = payload(&alpha, "nvidia.com/dgd-spec").unwrap_or_else(|| panic!("no payload"));
    assert_eq!(
        saved["spec"]["components"],
        json!([{ "name": "z" }, { "name": "a" }])
    );
    let back = up(alpha);
    assert_eq!(back["spec"]["components"][0]["name"], "z");
    assert_round_trip(beta);
}

#[test]
fn null_service_is_kept_in_the_v1beta1_payload() {
    let alpha = alpha_dgd(json!({ "gone": null, "kept": { "componentType": "frontend" } }));
    let beta = up(alpha.clone());
    assert_eq!(beta["spec"]["components"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec").map(|p| p["spec"]["services"]["gone"].clone()),
        Some(Value::Null)
    );
    assert_round_trip(alpha);
}

#[test]
fn service_name_that_disagrees_with_its_key_is_saved_and_the_key_wins() {
    let alpha = alpha_dgd(json!({ "key": { "serviceName": "other" } }));
    let beta = up(alpha.clone());
    assert_eq!(beta["spec"]["components"][0]["name"], "key");
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["services"]["key"]["serviceName"].clone()),
        Some(json!("other"))
    );
    assert_round_trip(alpha);
}

#[test]
fn duplicate_component_names_are_refused_naming_object_and_field() {
    let beta = beta_dgd(json!([{ "name": "a" }, { "name": "a" }]));
    let err = convert(beta, V1ALPHA1)
        .err()
        .unwrap_or_else(|| panic!("duplicates accepted"));
    let text = err.to_string();
    assert!(text.contains("DynamoGraphDeployment ns/g"), "{text}");
    assert!(text.contains("spec.components[1].name"), "{text}");
    assert!(text.contains("duplicate component name \"a\""), "{text}");
}

#[test]
fn envs_and_topology_profile_are_renamed() {
    let mut alpha = alpha_dgd(json!({}));
    alpha["spec"]["envs"] = json!([{ "name": "A", "value": "1" }]);
    alpha["spec"]["topologyConstraint"] = json!({ "topologyProfile": "t", "packDomain": "rack" });
    let beta = up(alpha.clone());
    assert_eq!(beta["spec"]["env"], json!([{ "name": "A", "value": "1" }]));
    assert_eq!(
        beta["spec"]["topologyConstraint"],
        json!({ "clusterTopologyName": "t", "packDomain": "rack" })
    );
    assert_round_trip(alpha);
}

#[test]
fn pvcs_have_no_v1beta1_field_and_are_saved() {
    let mut alpha = alpha_dgd(json!({}));
    alpha["spec"]["pvcs"] = json!([{ "name": "models", "create": true, "size": "10Gi" }]);
    let beta = up(alpha.clone());
    assert!(beta["spec"].get("pvcs").is_none());
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec").map(|p| p["spec"]["pvcs"][0]["name"].clone()),
        Some(json!("models"))
    );
    assert_round_trip(alpha);
}

// === component type ===

#[test]
fn worker_with_prefill_or_decode_sub_type_becomes_that_type() {
    for sub in ["prefill", "decode"] {
        let alpha =
            alpha_dgd(json!({ "w": { "componentType": "worker", "subComponentType": sub } }));
        let beta = up(alpha.clone());
        assert_eq!(beta["spec"]["components"][0]["type"], sub);
        assert!(payload(&beta, "nvidia.com/dgd-spec").is_none());
        let back = down(beta);
        assert_eq!(back["spec"]["services"]["w"]["componentType"], "worker");
        assert_eq!(back["spec"]["services"]["w"]["subComponentType"], sub);
    }
}

#[test]
fn other_sub_component_type_is_saved() {
    let alpha =
        alpha_dgd(json!({ "w": { "componentType": "planner", "subComponentType": "prefill" } }));
    let beta = up(alpha.clone());
    assert_eq!(beta["spec"]["components"][0]["type"], "planner");
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["services"]["w"]["subComponentType"].clone()),
        Some(json!("prefill"))
    );
    assert_round_trip(alpha);
}

// === pod template composition ===

fn main_container(beta: &Value) -> Value {
    beta.pointer("/spec/components/0/podTemplate/spec/containers/0")
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn resources_map_gpu_to_nvidia_gpu_or_gpu_type_and_keep_custom_keys() {
    let alpha = alpha_dgd(json!({ "w": { "resources": {
        "limits": { "gpu": "2", "cpu": "0.5", "custom": { "rdma/ib": "1" } },
        "requests": { "gpu": "1", "gpuType": "amd.com/gpu", "memory": "1024Mi" },
    } } }));
    let beta = up(alpha.clone());
    let main = main_container(&beta);
    assert_eq!(main["name"], "main");
    assert_eq!(
        main["resources"]["limits"],
        json!({ "nvidia.com/gpu": "2", "cpu": "500m", "rdma/ib": "1" })
    );
    assert_eq!(
        main["resources"]["requests"],
        json!({ "amd.com/gpu": "1", "memory": "1Gi" })
    );
    // cpu "0.5" and gpuType do not come back from native requirements unchanged: saved whole.
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["services"]["w"]["resources"].clone()),
        Some(
            json!({ "requests": { "memory": "1024Mi", "gpu": "1", "gpuType": "amd.com/gpu" }, "limits": { "cpu": "0.5", "gpu": "2", "custom": { "rdma/ib": "1" } } })
        )
    );
    assert_round_trip(alpha);
}

#[test]
fn unparsable_quantity_is_dropped_from_the_template_and_saved() {
    let alpha = alpha_dgd(json!({ "w": { "resources": { "limits": { "cpu": "lots" } } } }));
    let beta = up(alpha.clone());
    assert!(main_container(&beta).get("resources").is_none());
    assert!(payload(&beta, "nvidia.com/dgd-spec").is_some());
    assert_round_trip(alpha);
}

#[test]
fn env_from_secret_becomes_env_from_and_is_saved() {
    let alpha = alpha_dgd(
        json!({ "w": { "envFromSecret": "hf", "envs": [{ "name": "A", "value": "1" }] } }),
    );
    let beta = up(alpha.clone());
    let main = main_container(&beta);
    assert_eq!(main["envFrom"], json!([{ "secretRef": { "name": "hf" } }]));
    assert_eq!(main["env"], json!([{ "name": "A", "value": "1" }]));
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["services"]["w"]["envFromSecret"].clone()),
        Some(json!("hf"))
    );
    assert_round_trip(alpha);
}

#[test]
fn main_container_overrides_dedicated_fields_merges_env_by_name_and_mounts_first() {
    let alpha = alpha_dgd(json!({ "w": {
        "envs": [{ "name": "A", "value": "dedicated" }, { "name": "B", "value": "b" }],
        "volumeMounts": [{ "name": "models", "mountPoint": "/models" }],
        "livenessProbe": { "httpGet": { "path": "/live", "port": 8000 } },
        "extraPodSpec": { "mainContainer": {
            "image": "img", "env": [{ "name": "A", "value": "main" }, { "name": "C", "value": "c" }],
            "volumeMounts": [{ "name": "cfg", "mountPath": "/cfg" }],
            "livenessProbe": { "initialDelaySeconds": 5 },
            "startupProbe": { "exec": { "command": ["true"] } },
        } },
    } }));
    let beta = up(alpha.clone());
    let main = main_container(&beta);
    assert_eq!(main["image"], "img");
    assert_eq!(
        main["env"],
        json!([{ "name": "A", "value": "main" }, { "name": "B", "value": "b" }, { "name": "C", "value": "c" }])
    );
    assert_eq!(
        main["volumeMounts"],
        json!([{ "name": "cfg", "mountPath": "/cfg" }, { "name": "models", "mountPath": "/models" }])
    );
    assert_eq!(
        main["livenessProbe"],
        json!({ "httpGet": { "path": "/live", "port": 8000 }, "initialDelaySeconds": 5 })
    );
    assert_eq!(
        main["startupProbe"],
        json!({ "exec": { "command": ["true"] } })
    );
    assert_round_trip(alpha);
}

#[test]
fn main_container_without_name_keeps_no_name_and_named_one_keeps_its_name() {
    for name in [None, Some("engine")] {
        let mut main = json!({ "image": "img" });
        if let Some(n) = name {
            main["name"] = json!(n);
        }
        let alpha = alpha_dgd(json!({ "w": { "extraPodSpec": { "mainContainer": main } } }));
        let beta = up(alpha.clone());
        assert_eq!(
            main_container(&beta)["name"],
            "main",
            "v1beta1 always calls it main"
        );
        let back = down(beta);
        assert_eq!(
            back["spec"]["services"]["w"]["extraPodSpec"]["mainContainer"]["name"],
            json!(name.unwrap_or(""))
        );
    }
}

#[test]
fn extra_pod_metadata_becomes_template_metadata_and_empty_one_is_saved() {
    let alpha = alpha_dgd(
        json!({ "w": { "extraPodMetadata": { "labels": { "team": "x" } } }, "e": { "extraPodMetadata": {} } }),
    );
    let beta = up(alpha.clone());
    let by_name = |n: &str| {
        beta["spec"]["components"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == n))
            .cloned()
    };
    assert_eq!(
        by_name("w").map(|c| c["podTemplate"]["metadata"].clone()),
        Some(json!({ "labels": { "team": "x" } }))
    );
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["services"]["e"]["extraPodMetadata"].clone()),
        Some(json!({}))
    );
    assert_round_trip(alpha);
}

#[test]
fn first_compilation_cache_mount_becomes_compilation_cache_and_more_are_saved() {
    let alpha = alpha_dgd(json!({ "w": { "volumeMounts": [
        { "name": "cache", "mountPoint": "/cache", "useAsCompilationCache": true },
        { "name": "cache2", "mountPoint": "/cache2", "useAsCompilationCache": true },
    ] } }));
    let beta = up(alpha.clone());
    assert_eq!(
        beta["spec"]["components"][0]["compilationCache"],
        json!({ "pvcName": "cache", "mountPath": "/cache" })
    );
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec").map(|p| p["spec"]["services"]["w"]["volumeMounts"]
            .as_array()
            .map(Vec::len)),
        Some(Some(2))
    );
    assert_round_trip(alpha);
}

#[test]
fn frontend_sidecar_becomes_a_container_and_a_reference() {
    let alpha = alpha_dgd(
        json!({ "f": { "frontendSidecar": { "image": "fe", "args": ["-m"], "envFromSecret": "s" } } }),
    );
    let beta = up(alpha.clone());
    let comp = &beta["spec"]["components"][0];
    assert_eq!(comp["frontendSidecar"], "sidecar-frontend");
    assert_eq!(
        comp["podTemplate"]["spec"]["containers"][1],
        json!({ "name": "sidecar-frontend", "image": "fe", "args": ["-m"], "envFrom": [{ "secretRef": { "name": "s" } }] })
    );
    assert_round_trip(alpha);
}

#[test]
fn frontend_sidecar_with_another_name_is_kept_in_the_v1alpha1_payload() {
    let beta = beta_dgd(
        json!([{ "name": "f", "frontendSidecar": "fe", "podTemplate": { "spec": { "containers": [
        { "name": "main", "image": "m" }, { "name": "fe", "image": "x" },
    ] } } }]),
    );
    let alpha = down(beta.clone());
    assert!(
        alpha["spec"]["services"]["f"]
            .get("frontendSidecar")
            .is_none()
    );
    assert_eq!(
        payload(&alpha, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["components"][0]["frontendSidecar"].clone()),
        Some(json!("fe"))
    );
    assert_round_trip(beta);
}

#[test]
fn pod_template_without_main_container_is_marked_and_rebuilt_without_one() {
    let beta = beta_dgd(
        json!([{ "name": "w", "podTemplate": { "spec": { "containers": [{ "name": "side", "image": "s" }] } } }]),
    );
    assert_round_trip(beta);
}

// === scalars and features ===

#[test]
fn shared_memory_disabled_becomes_zero_and_odd_shapes_are_saved() {
    let alpha = alpha_dgd(json!({
        "off": { "sharedMemory": { "disabled": true } },
        "on": { "sharedMemory": { "size": "2Gi" } },
        "odd": { "sharedMemory": { "disabled": true, "size": "1Gi" } },
        "nosize": { "sharedMemory": {} },
    }));
    let beta = up(alpha.clone());
    let size = |n: &str| {
        beta["spec"]["components"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == n))
            .map(|c| c["sharedMemorySize"].clone())
    };
    assert_eq!(size("off"), Some(json!("0")));
    assert_eq!(size("on"), Some(json!("2Gi")));
    assert_eq!(size("odd"), Some(json!("0")));
    assert_eq!(size("nosize"), Some(Value::Null));
    let saved = payload(&beta, "nvidia.com/dgd-spec").unwrap_or_else(|| panic!("no payload"));
    assert!(saved["spec"]["services"]["odd"]["sharedMemory"].is_object());
    assert!(saved["spec"]["services"]["nosize"]["sharedMemory"].is_object());
    assert!(saved["spec"]["services"].get("off").is_none());
    assert_round_trip(alpha);
}

#[test]
fn scaling_adapter_enabled_is_a_marker_and_disabled_is_saved() {
    let alpha = alpha_dgd(
        json!({ "on": { "scalingAdapter": { "enabled": true } }, "off": { "scalingAdapter": {} } }),
    );
    let beta = up(alpha.clone());
    let comps = beta["spec"]["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        comps[1]["scalingAdapter"],
        json!({}),
        "the marker survives the v1beta1 normalisation"
    );
    assert!(comps[0].get("scalingAdapter").is_none());
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["services"]["off"]["scalingAdapter"].clone()),
        Some(json!({}))
    );
    assert_round_trip(alpha);
}

#[test]
fn gpu_memory_service_and_failover_move_to_experimental_with_mode_spelling() {
    let alpha = alpha_dgd(json!({ "w": {
        "gpuMemoryService": { "enabled": true, "mode": "interPod" },
        "failover": { "enabled": false, "mode": "intraPod" },
    } }));
    let beta = up(alpha.clone());
    let exp = &beta["spec"]["components"][0]["experimental"];
    assert_eq!(exp["gpuMemoryService"], json!({ "mode": "InterPod" }));
    assert!(exp.get("failover").is_none(), "disabled means absent");
    assert_eq!(
        payload(&beta, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["services"]["w"]["failover"]["mode"].clone()),
        Some(json!("intraPod"))
    );
    assert_round_trip(alpha);
}

#[test]
fn grove_block_has_no_v1alpha1_field_and_is_saved() {
    let beta = beta_dgd(
        json!([{ "name": "w", "experimental": { "grove": { "forceScalingGroup": true }, "failover": {} } }]),
    );
    let alpha = down(beta.clone());
    assert_eq!(alpha["spec"]["services"]["w"]["failover"]["enabled"], true);
    assert_eq!(
        payload(&alpha, "nvidia.com/dgd-spec")
            .map(|p| p["spec"]["components"][0]["experimental"].clone()),
        Some(json!({ "grove": { "forceScalingGroup": true } }))
    );
    assert_round_trip(beta);
}

// === status ===

#[test]
fn status_renames_and_component_name_derivation() {
    let mut alpha = alpha_dgd(json!({}));
    alpha["status"] = json!({
        "state": "successful",
        "services": {
            "a": { "componentKind": "Deployment", "componentName": "g-a", "replicas": 1, "updatedReplicas": 1 },
            "b": { "componentKind": "Deployment", "componentName": "odd", "componentNames": ["g-b"], "replicas": 1, "updatedReplicas": 1 },
            "c": { "componentKind": "Deployment", "componentName": "g-c", "componentNames": ["g-old", "g-c"], "replicas": 1, "updatedReplicas": 1 },
        },
        "rollingUpdate": { "phase": "Completed", "updatedServices": ["a"] },
    });
    let beta = up(alpha.clone());
    assert_eq!(
        beta["status"]["components"]["a"]["componentNames"],
        json!(["g-a"])
    );
    assert_eq!(
        beta["status"]["rollingUpdate"]["updatedComponents"],
        json!(["a"])
    );
    let saved =
        payload(&beta, "nvidia.com/dgd-status").unwrap_or_else(|| panic!("no status payload"));
    assert_eq!(saved["services"]["b"]["componentName"], "odd");
    // Without a list the singular is kept too (Dynamo restores it when the list is still its
    // projection); the last of the list is derivable and not kept.
    assert_eq!(saved["services"]["a"]["componentName"], "g-a");
    assert!(
        saved["services"].get("c").is_none(),
        "derivable singular is not saved"
    );
    assert_round_trip(alpha);
}

#[test]
fn status_component_name_comes_back_when_names_empty() {
    // Dynamo's restore also fires when both the saved and the live list are empty: a saved
    // singular name comes back even if the live list was emptied. Reproduced as is.
    let mut beta = beta_dgd(json!([]));
    beta["metadata"]["annotations"] =
        json!({ "nvidia.com/dgd-status": "{\"services\":{\"a\":{\"componentName\":\"x\"}}}" });
    beta["status"] = json!({ "components": { "a": { "componentKind": "Deployment", "replicas": 0, "updatedReplicas": 0 } } });
    let alpha = down(beta);
    assert_eq!(alpha["status"]["services"]["a"]["componentName"], "x");
}

#[test]
fn unreadable_status_payload_fails_naming_the_annotation() {
    let mut beta = beta_dgd(json!([]));
    beta["metadata"]["annotations"] = json!({ "nvidia.com/dgd-status": "{not json" });
    match convert(beta, V1ALPHA1) {
        Err(ConversionError::Payload {
            annotation, object, ..
        }) => {
            assert_eq!(annotation, "nvidia.com/dgd-status");
            assert!(object.contains("ns/g"));
        }
        other => panic!("expected a payload error, got {other:?}"),
    }
}

#[test]
fn unreadable_spec_payload_is_ignored_and_removed() {
    let mut beta = beta_dgd(json!([{ "name": "a" }]));
    beta["metadata"]["annotations"] = json!({ "nvidia.com/dgd-spec": "garbage", "keep": "me" });
    let alpha = down(beta);
    assert_eq!(alpha["metadata"]["annotations"], json!({ "keep": "me" }));
}

// === DCD ===

#[test]
fn dcd_without_service_name_takes_the_object_name_and_records_it() {
    let alpha = json!({ "apiVersion": V1ALPHA1, "kind": "DynamoComponentDeployment", "metadata": { "name": "dgd-fe" }, "spec": { "componentType": "frontend" } });
    let beta = up(alpha.clone());
    assert_eq!(beta["spec"]["name"], "dgd-fe");
    let saved = payload(&beta, "nvidia.com/dcd-spec").unwrap_or_else(|| panic!("no payload"));
    assert_eq!(
        saved["rawJSON"],
        json!([{ "path": "serviceName", "nil": true }])
    );
    let back = down(beta);
    assert!(back["spec"].get("serviceName").is_none());
    assert_round_trip(alpha);
}

#[test]
fn dcd_pod_selector_is_saved_in_the_status_payload() {
    let alpha = json!({ "apiVersion": V1ALPHA1, "kind": "DynamoComponentDeployment", "metadata": { "name": "d" },
        "spec": { "serviceName": "d" }, "status": { "podSelector": { "app": "x" } } });
    let beta = up(alpha.clone());
    assert_eq!(
        payload(&beta, "nvidia.com/dcd-status"),
        Some(json!({ "conditions": null, "podSelector": { "app": "x" } }))
    );
    assert_round_trip(alpha);
}

// === DGDSA ===

#[test]
fn scaling_adapter_renames_service_name_to_component_name() {
    let alpha = json!({ "apiVersion": V1ALPHA1, "kind": "DynamoGraphDeploymentScalingAdapter", "metadata": { "name": "g-w" },
        "spec": { "replicas": 2, "dgdRef": { "name": "g", "serviceName": "w" } }, "status": { "replicas": 2, "selector": "a=b" } });
    let beta = up(alpha.clone());
    assert_eq!(
        beta["spec"]["dgdRef"],
        json!({ "name": "g", "componentName": "w" })
    );
    assert_eq!(beta["status"]["selector"], "a=b");
    assert!(
        beta["metadata"].get("annotations").is_none(),
        "no payload for DGDSA"
    );
    assert_round_trip(alpha);
}

// === printing ===

#[test]
fn v1beta1_output_has_no_empty_value_structs_but_v1alpha1_keeps_go_zero_values() {
    let alpha =
        alpha_dgd(json!({ "w": { "extraPodSpec": { "mainContainer": { "image": "i" } } } }));
    let beta = up(alpha);
    let main = main_container(&beta);
    assert!(
        main.get("resources").is_none(),
        "no resources: {{}} in v1beta1"
    );
    assert!(
        beta["spec"]["components"][0]["podTemplate"]
            .get("metadata")
            .is_none()
    );
    let back = down(beta);
    assert_eq!(
        back["spec"]["services"]["w"]["extraPodSpec"]["mainContainer"]["resources"],
        json!({})
    );
    assert_eq!(back["status"], json!({ "state": "" }));
}

#[test]
fn payload_bytes_use_go_field_order_and_escaping() {
    let alpha = alpha_dgd(json!({ "w": { "envFromSecret": "a<b", "dynamoNamespace": "ns" } }));
    let beta = up(alpha);
    let text = beta["metadata"]["annotations"]["nvidia.com/dgd-spec"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        text,
        r#"{"version":1,"spec":{"services":{"w":{"dynamoNamespace":"ns","envFromSecret":"a\u003cb"}}}}"#
    );
}

// === dispatch and review ===

#[test]
fn same_version_is_returned_unchanged() {
    let object = json!({ "apiVersion": V1BETA1, "kind": "DynamoGraphDeployment", "metadata": { "name": "x" }, "spec": { "unknown": 1 } });
    assert_eq!(convert(object.clone(), V1BETA1).ok(), Some(object));
}

#[test]
fn unknown_kinds_and_versions_are_errors() {
    let pod = json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p" } });
    assert!(matches!(
        convert(pod, V1BETA1),
        Err(ConversionError::UnknownKind { .. })
    ));
    let v2 = json!({ "apiVersion": "nvidia.com/v2", "kind": "DynamoGraphDeployment", "metadata": { "name": "p" } });
    assert!(matches!(
        convert(v2, V1BETA1),
        Err(ConversionError::UnknownVersion {
            field: "apiVersion",
            ..
        })
    ));
    let ok = alpha_dgd(json!({}));
    assert!(matches!(
        convert(ok, "nvidia.com/v9"),
        Err(ConversionError::UnknownVersion {
            field: "desiredAPIVersion",
            ..
        })
    ));
}

#[test]
fn wrongly_typed_field_is_an_error_naming_it() {
    let bad = alpha_dgd(json!({ "w": { "replicas": "two" } }));
    let text = convert(bad, V1BETA1)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(text.contains("spec.services.w.replicas"), "{text}");
    assert!(text.contains("expected an integer"), "{text}");
}

#[test]
fn review_echoes_uid_keeps_order_and_reports_failures() {
    let request = json!({ "apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "request": {
        "uid": "u-1", "desiredAPIVersion": V1BETA1,
        "objects": [alpha_dgd(json!({ "b": {} })), alpha_dgd(json!({ "a": {} }))],
    } });
    let response = review(&request);
    assert_eq!(response["response"]["uid"], "u-1");
    assert_eq!(response["response"]["result"]["status"], "Success");
    let names: Vec<Value> = response["response"]["convertedObjects"]
        .as_array()
        .map(|o| {
            o.iter()
                .map(|o| o["spec"]["components"][0]["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, [json!("b"), json!("a")]);

    let failing = json!({ "request": { "uid": "u-2", "desiredAPIVersion": V1ALPHA1,
        "objects": [beta_dgd(json!([])), beta_dgd(json!([{ "name": "x" }, { "name": "x" }]))] } });
    let response = review(&failing);
    assert_eq!(response["response"]["uid"], "u-2");
    assert_eq!(response["response"]["result"]["status"], "Failure");
    let message = response["response"]["result"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("request.objects[1]")
            && message.contains("ns/g")
            && message.contains("spec.components[1].name"),
        "{message}"
    );

    let malformed = review(&json!({ "kind": "ConversionReview" }));
    assert_eq!(malformed["response"]["result"]["status"], "Failure");
}

#[test]
fn typed_conversion_goes_through_serde() {
    #[derive(serde::Serialize)]
    struct Adapter {
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        kind: &'static str,
        metadata: Value,
        spec: Value,
    }
    let a = Adapter {
        api_version: V1ALPHA1,
        kind: "DynamoGraphDeploymentScalingAdapter",
        metadata: json!({ "name": "x" }),
        spec: json!({ "replicas": 1, "dgdRef": { "name": "g", "serviceName": "w" } }),
    };
    let out: Value = crate::convert_typed(&a, V1BETA1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out["spec"]["dgdRef"]["componentName"], "w");
}

#[test]
fn private_annotations_are_the_payload_keys_and_the_reserved_prefixes() {
    for key in [
        "nvidia.com/dgd-spec",
        "nvidia.com/dgd-status",
        "nvidia.com/dgd-legacy-worker-hash",
        "nvidia.com/dcd-spec",
        "nvidia.com/dcd-status",
        "nvidia.com/dgdr-spec",
    ] {
        assert!(crate::is_private_annotation(key), "{key}");
    }
    for key in [
        "nvidia.com/dynamo-operator-origin-version",
        "nvidia.com/enable-grove",
        "nvidia.com/dcd",
        "example.com/dgd-spec",
    ] {
        assert!(!crate::is_private_annotation(key), "{key}");
    }
}
