//! Typed conversion with the `dynamo-api` types: every Dynamo 1.5 example read as a v1beta1
//! DynamoGraphDeployment converts to the v1alpha1 type and back to an equal v1beta1 value.
//! (The status carries a state: `dynamo-api`'s `DGDState` has no empty value, while Go prints an
//! absent status as `state: ""`.)

#![allow(missing_docs)]

use dynamo_api::{v1alpha1, v1beta1};
use dynamo_conversion::{V1ALPHA1, V1BETA1, canonical, convert_typed};
use serde_json::Value;

#[test]
fn v1beta1_examples_convert_through_the_typed_api() {
    let mut count = 0;
    for example in dynamo_fixtures::v1beta1_examples() {
        for doc in serde_yaml_ng::Deserializer::from_str(&example.text) {
            let mut value: Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: {e}", example.name));
            if value["kind"] != "DynamoGraphDeployment" {
                continue;
            }
            // Go prints a missing status as `status: {state: ""}`, which the typed status (an
            // enum without the empty value) cannot hold: give the examples a state.
            value["status"] = serde_json::json!({ "state": "pending" });
            let typed: v1beta1::DynamoGraphDeployment = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{}: {e}", example.name));
            let alpha: v1alpha1::DynamoGraphDeployment =
                convert_typed(&typed, V1ALPHA1).unwrap_or_else(|e| panic!("{}: {e}", example.name));
            let back: v1beta1::DynamoGraphDeployment =
                convert_typed(&alpha, V1BETA1).unwrap_or_else(|e| panic!("{}: {e}", example.name));
            let printed = canonical(&value).unwrap_or_else(|e| panic!("{}: {e}", example.name));
            let expected: v1beta1::DynamoGraphDeployment =
                serde_json::from_value(printed).unwrap_or_else(|e| panic!("{}: {e}", example.name));
            assert_eq!(
                serde_json::to_value(&back).ok(),
                serde_json::to_value(&expected).ok(),
                "{}: typed round trip changed the graph",
                example.name
            );
            count += 1;
        }
    }
    assert!(count >= 40, "converted {count} examples");
}
