//! Tests of the Go shape engine: decoding, printing, equality and merging as Go does them.

use serde_json::{Value, json};

use super::*;

fn container() -> Ty {
    ty("k8s.io/api/core/v1.Container")
}

fn decoded(v: Value, t: &Ty) -> Value {
    decode(&v, t, &mut Vec::new())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .unwrap_or(Value::Null)
}

#[test]
fn quantities_print_in_canonical_form() {
    for (input, printed) in [
        ("1000m", "1"),
        ("0.5", "500m"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("2000", "2k"),
        ("1e3", "1e3"),
        ("100M", "100M"),
        ("1Ki", "1Ki"),
        ("512", "512"),
        ("0.1n", "1n"),
        ("-1", "-1"),
        ("0", "0"),
    ] {
        let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(q.canonical(), printed, "{input}");
    }
    assert!(Quantity::parse("lots").is_err());
    assert!(Quantity::parse("").is_err());
    assert_eq!(
        Quantity::parse("1Gi").map(|q| q.value_key()),
        Quantity::parse("1073741824").map(|q| q.value_key())
    );
}

#[test]
fn decode_drops_unknown_fields_and_zero_values_keeps_pointers_to_zero() {
    let t = ty("api/v1alpha1.DynamoComponentDeploymentSharedSpec");
    let v = decoded(
        json!({ "replicas": 0, "serviceName": "", "unknown": 1, "envFromSecret": "", "scalingAdapter": {} }),
        &t,
    );
    assert_eq!(
        v,
        json!({ "replicas": 0, "envFromSecret": "", "scalingAdapter": {} })
    );
}

#[test]
fn decode_rejects_a_wrong_type_with_its_path() {
    let t = ty("api/v1alpha1.DynamoComponentDeploymentSharedSpec");
    let err = decode(&json!({ "envs": [{ "name": 3 }] }), &t, &mut Vec::new()).err();
    assert_eq!(err.map(|e| e.path), Some("envs.0.name".to_string()));
}

#[test]
fn printing_spells_out_zero_values_of_fields_without_omitempty() {
    let mut out = String::new();
    encode_text(Some(&json!({ "image": "i" })), &container(), &mut out);
    assert_eq!(out, r#"{"name":"","image":"i","resources":{}}"#);
}

#[test]
fn printing_escapes_like_go() {
    let mut out = String::new();
    go_string("a<b>&c\u{2028}\n\u{1}", &mut out);
    assert_eq!(out, r#""a\u003cb\u003e\u0026c\u2028\n\u0001""#);
}

#[test]
fn stripping_empty_value_structs_keeps_pointer_markers() {
    let t = ty("api/v1beta1.DynamoGraphDeployment");
    let mut v = encode_value(
        Some(
            &json!({ "spec": { "components": [{ "name": "a", "scalingAdapter": {}, "podTemplate": { "spec": { "containers": [{ "name": "main" }] } } }] } }),
        ),
        &t,
    );
    strip_empty_value_structs(&mut v, &t);
    let comp = &v["spec"]["components"][0];
    assert_eq!(comp["scalingAdapter"], json!({}));
    assert!(comp["podTemplate"].get("metadata").is_none());
    assert!(
        comp["podTemplate"]["spec"]["containers"][0]
            .get("resources")
            .is_none()
    );
    assert_eq!(v["metadata"], json!({}));
}

#[test]
fn semantic_equality_treats_nil_and_empty_lists_alike_and_quantities_by_value() {
    let t = ty("k8s.io/api/core/v1.ResourceRequirements");
    assert!(sem_eq(Some(&json!({ "claims": [] })), None, &t));
    assert!(sem_eq(
        Some(&json!({ "limits": { "cpu": "1" } })),
        Some(&json!({ "limits": { "cpu": "1000m" } })),
        &t
    ));
    assert!(!sem_eq(
        Some(&json!({ "limits": { "cpu": "1" } })),
        None,
        &t
    ));
    // A pointer to an empty struct is not nil.
    let p = Ty::Ptr(Box::new(ty("k8s.io/api/core/v1.Probe")));
    assert!(!sem_eq(Some(&json!({})), None, &p));
}

#[test]
fn merge_overrides_set_fields_merges_maps_and_pointer_targets() {
    let mut dst = json!({ "name": "main", "image": "a", "resources": { "limits": { "cpu": "1", "memory": "1Gi" } },
        "livenessProbe": { "httpGet": { "path": "/a", "port": 1 }, "periodSeconds": 3 } });
    let src = json!({ "image": "b", "args": [], "resources": { "limits": { "cpu": "2" } },
        "livenessProbe": { "httpGet": { "path": "/b" }, "initialDelaySeconds": 5 } });
    merge_override(&mut dst, &src, &container());
    assert_eq!(dst["image"], "b");
    assert!(dst.get("args").is_none(), "an empty list does not override");
    assert_eq!(
        dst["resources"]["limits"],
        json!({ "cpu": "2", "memory": "1Gi" })
    );
    assert_eq!(
        dst["livenessProbe"],
        json!({ "httpGet": { "path": "/b", "port": 1 }, "periodSeconds": 3, "initialDelaySeconds": 5 })
    );
}

#[test]
fn merging_a_port_number_into_a_port_name_keeps_both_halves() {
    let mut dst = json!({ "livenessProbe": { "httpGet": { "port": "http" } } });
    merge_override(
        &mut dst,
        &json!({ "livenessProbe": { "httpGet": { "port": 8000 } } }),
        &container(),
    );
    let merged = dst["livenessProbe"]["httpGet"]["port"].clone();
    let port = ty("k8s.io/api/core/v1.HTTPGetAction");
    // Prints as the name, but differs from a plain "http" the way Go's struct does.
    assert_eq!(
        encode_value(Some(&json!({ "port": merged })), &port)["port"],
        "http"
    );
    assert!(!sem_eq(
        Some(&json!({ "port": merged })),
        Some(&json!({ "port": "http" })),
        &port
    ));
}

#[test]
fn times_and_durations_print_as_go_does() {
    let t = Ty::Time;
    assert_eq!(
        decoded(json!("2026-01-02T03:04:05.123+01:00"), &t),
        json!("2026-01-02T02:04:05Z")
    );
    assert_eq!(decoded(json!("90s"), &Ty::Duration), json!("1m30s"));
    assert_eq!(decoded(json!("1.5ms"), &Ty::Duration), json!("1.5ms"));
}

#[test]
fn float32_values_keep_their_short_form() {
    let mut out = String::new();
    encode_text(Some(&decoded(json!(0.1), &Ty::F32)), &Ty::F32, &mut out);
    assert_eq!(out, "0.1");
}
