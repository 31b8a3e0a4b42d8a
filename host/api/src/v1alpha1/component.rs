//! `nvidia.com/v1alpha1` `DynamoComponentDeployment` (`dcd`): one service of a graph, as its own
//! object.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::BackendFramework;
use crate::v1alpha1::graph::ServiceReplicaStatus;
use crate::v1alpha1::shared::DynamoComponentDeploymentSharedSpec;

/// Desired state of one component: the shared service spec plus its backend.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1alpha1",
    kind = "DynamoComponentDeployment",
    plural = "dynamocomponentdeployments",
    singular = "dynamocomponentdeployment",
    shortname = "dcd",
    namespaced,
    status = "DynamoComponentDeploymentStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "One service of an inference graph, deployed as its own object (usually created by the \
           graph controller). Get its CRD from `dynamo_api::crds`.",
    printcolumn(
        name = "DynamoComponent",
        type_ = "string",
        json_path = ".spec.dynamoComponent",
        description = "Dynamo component (kept for compatibility; the field no longer exists)"
    ),
    printcolumn(
        name = "Available",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Available')].status",
        description = "Whether the component's workload is available"
    ),
    printcolumn(
        name = "Backend",
        type_ = "string",
        json_path = ".spec.backendFramework",
        description = "Inference backend (sglang, vllm or trtllm)"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DynamoComponentDeploymentSpec {
    /// Inference backend of the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_framework: Option<BackendFramework>,

    /// The service spec, inlined.
    #[serde(flatten)]
    pub shared: DynamoComponentDeploymentSharedSpec,
}

/// Observed state of one component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["conditions"]))]
pub struct DynamoComponentDeploymentStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions of the component (`Available`, `DynamoComponentReady`), one per type.
    #[serde(default)]
    #[schemars(transform = crate::schema::no_default)]
    pub conditions: Vec<Condition>,
    /// Labels selecting the component's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<BTreeMap<String, String>>,
    /// Replica counts of the component's workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceReplicaStatus>,
}
