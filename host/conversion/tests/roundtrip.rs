//! Round trips: every example and generated objects of all four kinds, both directions, plus
//! the "mutability" property of Dynamo's conversion rules (edit the converted object without
//! touching its private annotations, convert back and forth, get the edited object again).
//!
//! A round trip returns the input in the form Dynamo's webhook prints objects ([`canonical`]):
//! for the examples that is the input itself plus the zero values Go spells out (`status: {state:
//! ""}`, `mainContainer.name: ""`), which `examples_differ_from_their_canonical_form_only_by_zero_values`
//! pins down.

#![allow(missing_docs)]

use dynamo_conversion::{V1ALPHA1, V1BETA1, canonical, convert};
use proptest::prelude::*;
use serde_json::Value;

#[path = "support/gen.rs"]
mod generate;

const PAYLOADS: [&str; 4] = [
    "nvidia.com/dgd-spec",
    "nvidia.com/dgd-status",
    "nvidia.com/dcd-spec",
    "nvidia.com/dcd-status",
];

fn other(api_version: &str) -> &'static str {
    if api_version == V1ALPHA1 {
        V1BETA1
    } else {
        V1ALPHA1
    }
}

fn version_of(object: &Value) -> String {
    object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Every convertible document of a YAML file.
fn convertible_documents(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| {
            let v: serde_yaml_ng::Value =
                serde::Deserialize::deserialize(doc).unwrap_or_else(|e| panic!("yaml: {e}"));
            serde_json::to_value(v).unwrap_or_else(|e| panic!("yaml to json: {e}"))
        })
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some(
                    "DynamoGraphDeployment"
                        | "DynamoComponentDeployment"
                        | "DynamoGraphDeploymentScalingAdapter"
                )
            )
        })
        .collect()
}

fn round_trip(object: &Value) -> (Value, Value) {
    let from = version_of(object);
    let there = convert(object.clone(), other(&from))
        .unwrap_or_else(|e| panic!("to {}: {e}", other(&from)));
    let back = convert(there.clone(), &from).unwrap_or_else(|e| panic!("back to {from}: {e}"));
    (there, back)
}

fn assert_round_trip(name: &str, object: &Value) -> Value {
    let (there, back) = round_trip(object);
    let expected = canonical(object).unwrap_or_else(|e| panic!("{name}: canonical: {e}"));
    assert_eq!(
        back,
        expected,
        "{name}: round trip through {} changed the object",
        version_of(&there)
    );
    // And from the other side: the converted object survives a trip back and forth as well.
    let (_, again) = round_trip(&there);
    assert_eq!(
        again,
        there,
        "{name}: {} form did not survive a round trip",
        version_of(&there)
    );
    there
}

/// Drops values Go prints for unset fields, so a hand-written object compares to its printed form.
fn without_zero_values(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Bool(false) => None,
        Value::String(s) if s.is_empty() || s == "0" => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::Object(m) => {
            let out: serde_json::Map<String, Value> = m
                .iter()
                .filter_map(|(k, x)| without_zero_values(x).map(|x| (k.clone(), x)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .map(|x| without_zero_values(x).unwrap_or(Value::Null))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

#[test]
fn anchor_examples_round_trip_through_v1beta1_and_back() {
    let mut count = 0;
    for example in dynamo_fixtures::anchor_examples() {
        for (i, object) in convertible_documents(&example.text).iter().enumerate() {
            assert_eq!(
                version_of(object),
                V1ALPHA1,
                "{}: anchors are v1alpha1",
                example.name
            );
            let beta = assert_round_trip(&format!("{}#{i}", example.name), object);
            assert_eq!(version_of(&beta), V1BETA1);
            count += 1;
        }
    }
    assert!(
        count >= 10,
        "expected the anchor examples, converted {count}"
    );
}

#[test]
fn v1beta1_examples_round_trip_through_v1alpha1_and_back() {
    let mut count = 0;
    for example in dynamo_fixtures::v1beta1_examples() {
        for (i, object) in convertible_documents(&example.text).iter().enumerate() {
            assert_eq!(
                version_of(object),
                V1BETA1,
                "{}: Dynamo 1.5 examples are v1beta1",
                example.name
            );
            let alpha = assert_round_trip(&format!("{}#{i}", example.name), object);
            assert_eq!(version_of(&alpha), V1ALPHA1);
            count += 1;
        }
    }
    assert!(
        count >= 40,
        "expected the Dynamo 1.5 examples, converted {count}"
    );
}

#[test]
fn examples_differ_from_their_canonical_form_only_by_zero_values() {
    let anchors = dynamo_fixtures::anchor_examples().into_iter();
    let betas = dynamo_fixtures::v1beta1_examples().into_iter();
    for example in anchors.chain(betas) {
        for object in convertible_documents(&example.text) {
            let printed = canonical(&object).unwrap_or_else(|e| panic!("{}: {e}", example.name));
            assert_eq!(
                without_zero_values(&printed),
                without_zero_values(&object),
                "{}: the printed form changed more than Go's zero values",
                example.name
            );
        }
    }
}

#[test]
fn converted_examples_carry_payloads_only_when_needed() {
    // A v1beta1 example with nothing v1alpha1 lacks converts without a payload annotation...
    let plain = dynamo_fixtures::v1beta1_examples()
        .into_iter()
        .flat_map(|e| convertible_documents(&e.text))
        .find(|o| {
            o["spec"]["components"]
                .as_array()
                .is_some_and(|c| c.iter().all(|c| c.get("podTemplate").is_none()))
        });
    if let Some(plain) = plain {
        let alpha = convert(plain, V1ALPHA1).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            alpha["metadata"]
                .get("annotations")
                .is_none_or(|a| a.get("nvidia.com/dgd-spec").is_none())
        );
    }
    // ...while a pod template that v1alpha1 splits into fields records its origin.
    let with_template = dynamo_fixtures::v1beta1_examples()
        .into_iter()
        .flat_map(|e| convertible_documents(&e.text))
        .find(|o| {
            o["spec"]["components"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c.get("podTemplate").is_some()))
        })
        .unwrap_or_else(|| panic!("no v1beta1 example with a pod template"));
    let alpha = convert(with_template, V1ALPHA1).unwrap_or_else(|e| panic!("{e}"));
    assert!(alpha["metadata"]["annotations"]["nvidia.com/dgd-spec"].is_string());
}

// === generated objects ===

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn generated_objects_round_trip(object in generate::any_object()) {
        let (_, back) = round_trip(&object);
        let expected = canonical(&object).unwrap_or_else(|e| panic!("canonical: {e}"));
        // The way back may add the other version's payload (a v1beta1 pod template that
        // v1alpha1 splits into fields records its origin), nothing else.
        prop_assert_eq!(tidy(&without_payloads(&back)), tidy(&without_payloads(&expected)));
    }

    #[test]
    fn converted_objects_round_trip(object in generate::any_object()) {
        let there = convert(object.clone(), other(&version_of(&object))).unwrap_or_else(|e| panic!("{e}"));
        let (_, again) = round_trip(&there);
        // A payload left by the first trip may be dropped once nothing needs it any more (say
        // it held `custom: {}`, which Go prints as nothing): the visible object stays.
        prop_assert_eq!(tidy(&without_payloads(&again)), tidy(&without_payloads(&there)));
    }

    #[test]
    fn edited_converted_objects_survive_further_trips(
        object in generate::any_object(),
        edits in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let there = convert(object.clone(), other(&version_of(&object))).unwrap_or_else(|e| panic!("{e}"));
        let mut edited = there.clone();
        for at in &edits {
            edit(&mut edited, at);
        }
        let back = convert(edited.clone(), &version_of(&object)).unwrap_or_else(|e| panic!("{e}"));
        let again = convert(back, &version_of(&there)).unwrap_or_else(|e| panic!("{e}"));
        let expected = canonical(&edited).unwrap_or_else(|e| panic!("{e}"));
        // An edit can empty a struct (the main container's only argument dropped); Dynamo prunes
        // what became empty, so compare without Go's zero values.
        // Dynamo also moves a v1alpha1 compilation-cache mount to the front of `volumeMounts`
        // when an edit leaves the payload's order stale: compare mount lists as sets.
        prop_assert_eq!(
            without_zero_values(&mounts_unordered(&tidy(&without_payloads(&again)))),
            without_zero_values(&mounts_unordered(&tidy(&without_payloads(&expected))))
        );
    }
}

// === generated DynamoGraphDeploymentRequests ===

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn generated_requests_round_trip(object in generate::any_request()) {
        let (_, back) = round_trip(&object);
        let expected = canonical(&object).unwrap_or_else(|e| panic!("canonical: {e}"));
        // Lossless up to the canonical form; the only other difference allowed is the private
        // annotations a conversion scrubs (per-field ones of Dynamo 1.0/1.1 included).
        prop_assert_eq!(without_payloads(&back), without_payloads(&expected));
        // Payloads are sparse: what the way back converts from holds nothing the original's
        // version lacks, so nothing is left in a payload.
        let private: Vec<&String> = back["metadata"]["annotations"]
            .as_object()
            .map(|a| a.keys().filter(|k| k.starts_with("nvidia.com/dgdr-")).collect())
            .unwrap_or_default();
        prop_assert!(private.is_empty(), "left behind: {:?}", private);
    }

    #[test]
    fn converted_requests_round_trip(object in generate::any_request()) {
        let there = convert(object.clone(), other(&version_of(&object))).unwrap_or_else(|e| panic!("{e}"));
        let (_, again) = round_trip(&there);
        prop_assert_eq!(without_payloads(&again), without_payloads(&there));
        // The converted object's payloads themselves are reproduced, byte for byte.
        prop_assert_eq!(&again["metadata"]["annotations"], &there["metadata"]["annotations"]);
    }

    #[test]
    fn edited_converted_requests_survive_further_trips(
        object in generate::any_request(),
        edits in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let there = convert(object.clone(), other(&version_of(&object))).unwrap_or_else(|e| panic!("{e}"));
        let mut edited = there.clone();
        for at in &edits {
            edit(&mut edited, at);
        }
        let back = convert(edited.clone(), &version_of(&object)).unwrap_or_else(|e| panic!("{e}"));
        let again = convert(back, &version_of(&there)).unwrap_or_else(|e| panic!("{e}"));
        let expected = canonical(&edited).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(without_payloads(&again), without_payloads(&expected));
    }
}

/// Go holds an empty list and no list alike once decoded (`containers: []` comes back as
/// `null`): compare with both gone.
fn tidy(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null() && x.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, x)| (k.clone(), tidy(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(tidy).collect()),
        other => other.clone(),
    }
}

/// Sorts every `volumeMounts` list.
fn mounts_unordered(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let mut x = mounts_unordered(x);
                    if k == "volumeMounts"
                        && let Value::Array(list) = &mut x
                    {
                        list.sort_by_key(|m| m.to_string());
                    }
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(mounts_unordered).collect()),
        other => other.clone(),
    }
}

fn without_payloads(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(anns) = v
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for k in PAYLOADS {
            anns.remove(k);
        }
        // Every `nvidia.com/dgdr-` key is private to the DGDR conversion: its two payloads and
        // the retired per-field annotations of Dynamo 1.0/1.1, which a conversion scrubs.
        anns.retain(|k, _| !k.starts_with("nvidia.com/dgdr-"));
        if anns.is_empty() {
            v["metadata"]
                .as_object_mut()
                .map(|m| m.remove("annotations"));
        }
    }
    v
}

/// Every editable place of an object: leaves and list elements under `spec` and `status`.
fn edit_points(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                edit_points(
                    x,
                    format!("{path}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                out.push(format!("{path}/{i}#drop"));
                edit_points(x, format!("{path}/{i}"), out);
            }
        }
        _ => out.push(path),
    }
}

/// Changes one existing leaf (strings grow a suffix, numbers grow, booleans flip) or drops one
/// list element, somewhere under `spec` or `status`. Quantities, times and names of list entries
/// are left alone: the edit must leave a valid object.
/// Names and references are left alone too.
fn edit(object: &mut Value, at: &prop::sample::Index) {
    let mut points = Vec::new();
    for root in ["spec", "status"] {
        if let Some(v) = object.get(root) {
            edit_points(v, format!("/{root}"), &mut points);
        }
    }
    // Names are list keys and references (frontendSidecar names a container): editing them
    // makes a different object, not an edited one.
    // Mount fields other than name and path are matched to the payload by name and path, and
    // Dynamo restores the payload's copy of them over live edits (its restore of the main
    // container's mounts is not leaf by leaf); such edits do not survive Dynamo either.
    points.retain(|p| {
        !p.ends_with("/name") && !p.ends_with("/frontendSidecar") && !p.contains("/volumeMounts/")
    });
    if points.is_empty() {
        return;
    }
    let point = at.get(&points).clone();
    if let Some(list_elem) = point.strip_suffix("#drop") {
        let (parent, index) = list_elem.rsplit_once('/').unwrap_or(("", "0"));
        if let (Some(Value::Array(list)), Ok(i)) = (object.pointer_mut(parent), index.parse::<usize>())
            && i < list.len()
            // v1beta1 admission keeps the main container and the one frontendSidecar names.
            && list[i]["name"] != "sidecar-frontend"
            && list[i]["name"] != "main"
            // Dynamo brings a service's saved singular componentName back when the live list is
            // emptied (its restore also accepts "both empty"), so emptying it is not an edit
            // that survives; see focused test `status_component_name_comes_back_when_names_empty`.
            && !parent.ends_with("/componentNames")
        {
            list.remove(i);
        }
        return;
    }
    let Some(leaf) = object.pointer_mut(&point) else {
        return;
    };
    match leaf {
        Value::String(s)
            if !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.') =>
        {
            s.push_str("-edited")
        }
        Value::Number(n) => *leaf = Value::from(n.as_i64().unwrap_or(0) + 1),
        Value::Bool(b) => *leaf = Value::Bool(!*b),
        _ => {}
    }
}
