//! Tests of reading graphs of either version as the `v1beta1` hub.

use serde_json::json;

use super::graph;

#[test]
fn a_v1alpha1_graph_without_services_keeps_an_empty_spec() {
    // The conversion prints the empty `v1beta1` spec by leaving it out; the graph is still read,
    // so validation can say what is missing.
    let dgd = graph(json!({
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": "g"},
        "spec": {"services": {}},
    }))
    .expect("an empty v1alpha1 graph is read");
    assert!(dgd.components().is_empty());
}

#[test]
fn a_v1beta1_graph_is_read_as_written() {
    let dgd = graph(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": "g"},
        "spec": {"components": [{"name": "f", "type": "frontend"}]},
    }))
    .expect("graph");
    assert_eq!(dgd.components().len(), 1);
    assert_eq!(dgd.components()[0].name, "f");
}

#[test]
fn a_field_of_the_wrong_shape_is_named() {
    let error = graph(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": "g"},
        "spec": {"components": [{"name": "f", "replicas": "two"}]},
    }))
    .expect_err("replicas are a number");
    assert!(
        error
            .to_string()
            .starts_with("spec.components[0].replicas: "),
        "{error}"
    );
}
