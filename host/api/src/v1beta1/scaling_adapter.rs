//! `nvidia.com/v1beta1` `DynamoGraphDeploymentScalingAdapter` (`dgdsa`): a scale subresource for
//! one graph component. The storage version of the kind.
//!
//! Autoscalers (HPA, KEDA, the Dynamo planner) scale the adapter; the adapter controller copies
//! the replica count into the graph, so the component's `replicas` has a single writer.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Desired replica count of one graph component.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(
    CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema,
)]
#[kube(
    group = "nvidia.com",
    version = "v1beta1",
    kind = "DynamoGraphDeploymentScalingAdapter",
    plural = "dynamographdeploymentscalingadapters",
    singular = "dynamographdeploymentscalingadapter",
    shortname = "dgdsa",
    namespaced,
    status = "DynamoGraphDeploymentScalingAdapterStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "Scale handle for one component of a DynamoGraphDeployment, usable by HPA, KEDA and \
           other autoscalers through the scale subresource. Get its CRD from `dynamo_api::crds`.",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(
        name = "DGD",
        type_ = "string",
        json_path = ".spec.dgdRef.name",
        description = "Graph the adapter scales"
    ),
    printcolumn(
        name = "COMPONENT",
        type_ = "string",
        json_path = ".spec.dgdRef.componentName",
        description = "Component of the graph the adapter scales"
    ),
    printcolumn(
        name = "REPLICAS",
        type_ = "integer",
        json_path = ".status.replicas",
        description = "Current replicas of the component"
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DynamoGraphDeploymentScalingAdapterSpec {
    /// Desired replicas of the component; written by autoscalers or by hand.
    #[schemars(range(min = 0))]
    pub replicas: i32,
    /// The graph and component to scale.
    pub dgd_ref: DynamoGraphDeploymentComponentRef,
}

/// Reference to one component of a DynamoGraphDeployment in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamoGraphDeploymentComponentRef {
    /// Name of the DynamoGraphDeployment.
    #[schemars(length(min = 1))]
    pub name: String,
    /// `name` of the entry of the graph's `spec.components` to scale.
    #[schemars(length(min = 1))]
    pub component_name: String,
}

/// Observed state of a scaling adapter.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["replicas"]))]
pub struct DynamoGraphDeploymentScalingAdapterStatus {
    /// Current replicas of the component, as read from the graph.
    #[serde(default)]
    #[schemars(transform = crate::schema::no_default)]
    pub replicas: i32,
    /// Label selector (in string form) of the component's pods, for the scale subresource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// When the adapter last changed the component's replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scale_time: Option<Time>,
}
