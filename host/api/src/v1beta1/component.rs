//! `nvidia.com/v1beta1` `DynamoComponentDeployment` (`dcd`): one component of a graph, as its
//! own object. The storage version of the kind.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::BackendFramework;
use crate::v1beta1::graph::ComponentReplicaStatus;
use crate::v1beta1::shared::DynamoComponentDeploymentSharedSpec;

/// Desired state of one component: the shared component spec plus its backend.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1beta1",
    kind = "DynamoComponentDeployment",
    plural = "dynamocomponentdeployments",
    singular = "dynamocomponentdeployment",
    shortname = "dcd",
    namespaced,
    status = "DynamoComponentDeploymentStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "One component of an inference graph, deployed as its own object (usually created by \
           the graph controller). Get its CRD from `dynamo_api::crds`.",
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

    /// The component spec, inlined. Its `name` is optional here (admission fills in
    /// `metadata.name`), and it has no `providerOverride`.
    #[serde(flatten)]
    pub shared: DynamoComponentDeploymentSharedSpec,
}

impl DynamoComponentDeployment {
    /// The component's name: `spec.name`, or `metadata.name` when that is empty (as admission
    /// fills it in on creation).
    #[must_use]
    pub fn component_name(&self) -> &str {
        if self.spec.shared.name.is_empty() {
            self.metadata.name.as_deref().unwrap_or_default()
        } else {
            &self.spec.shared.name
        }
    }
}

/// Observed state of one component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamoComponentDeploymentStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions of the component (`Available`, `DynamoComponentReady`), one per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::list_map_by_type)]
    pub conditions: Option<Vec<Condition>>,
    /// Replica counts of the component's workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentReplicaStatus>,
}
