//! `nvidia.com/v1alpha1` `DynamoGraphDeployment` (`dgd`): a whole inference graph (frontend,
//! workers, planner, ...) with its services in a map keyed by service name.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::EnvVar;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::common::{
    BackendFramework, ComponentCheckpointStatus, ComponentKind, DeploymentState,
    DynamoGraphDeploymentExperimentalSpec, KvTransferEnforcement, KvTransferPolicy,
    PlacementScoreState, PlacementStatus, ProviderOverride, Restart, RestartStatus,
    RestartStrategy, RestartStrategyType, RollingUpdatePhase, TOPOLOGY_DOMAIN_PATTERN,
    restart_phase,
};
use crate::v1alpha1::shared::DynamoComponentDeploymentSharedSpec;

/// Desired state of an inference graph: its services and what they share.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1alpha1",
    kind = "DynamoGraphDeployment",
    plural = "dynamographdeployments",
    singular = "dynamographdeployment",
    shortname = "dgd",
    namespaced,
    status = "DynamoGraphDeploymentStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "An inference graph: a set of services (frontend, workers, planner, ...) deployed and \
           updated together. Get its CRD from `dynamo_api::crds`.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "Whether every service of the graph is ready"
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
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "oldSelf.hasValue() || !has(self.restart)",
    "message": "spec.restart must be unset on create; set spec.restart.id after creation to request a restart",
    "optionalOldSelf": true,
}]))]
pub struct DynamoGraphDeploymentSpec {
    /// Provider override for the graph's root workload (Grove: the `PodCliqueSet`, whose
    /// `spec.template.topologyConstraint` alone may be set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_override: Option<ProviderOverride>,

    /// Annotations added to every resource generated for the graph; service-level values win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,

    /// Labels added to every resource generated for the graph; service-level values win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,

    /// PriorityClass of the graph's Grove PodCliqueSet (Grove only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,

    /// PersistentVolumeClaims that services can mount by name through `volumeMounts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub pvcs: Option<Vec<PvcSpec>>,

    /// Services of the graph, keyed by service name (at most 25).
    // Boxed (not in the schema text): a service spec is ~6 KiB inline and a `BTreeMap` node holds
    // eleven values inline, so unboxed every cached graph would carry ~68 KiB however few services
    // it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 25))]
    pub services: Option<BTreeMap<String, Box<DynamoComponentDeploymentSharedSpec>>>,

    /// Environment variables for every service; a service's own `envs` win by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envs: Option<Vec<EnvVar>>,

    /// Inference backend of the workers; detected from their command line when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_framework: Option<BackendFramework>,

    /// Rolling restart of the graph's services, triggered by changing `restart.id`; must be
    /// unset when the graph is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<Restart>,

    /// Topology-aware placement of the graph; services without their own constraint inherit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_constraint: Option<SpecTopologyConstraint>,

    /// Graph-level preview features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<DynamoGraphDeploymentExperimentalSpec>,
}

/// A PersistentVolumeClaim used by the graph, optionally created by the operator.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.create) || self.create == false || (has(self.size) && has(self.storageClass) && has(self.volumeAccessMode))",
    "message": "When create is true, size, storageClass, and volumeAccessMode are required",
}]))]
pub struct PvcSpec {
    /// Create the claim instead of using an existing one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<bool>,
    /// Name of the claim; services refer to it in `volumeMounts[].name`.
    pub name: String,
    /// StorageClass of a created claim (needed when `create` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// Requested size of a created claim, such as `100Gi` (needed when `create` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Quantity>,
    /// Access mode of a created claim, such as `ReadWriteMany` (needed when `create` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_access_mode: Option<String>,
}

/// Graph-wide topology placement (`v1beta1` names the profile `clusterTopologyName`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpecTopologyConstraint {
    /// Name of the ClusterTopology that defines the topology levels.
    #[schemars(length(min = 1))]
    pub topology_profile: String,
    /// Default topology domain to pack each service into; may be left to the services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TOPOLOGY_DOMAIN_PATTERN))]
    pub pack_domain: Option<String>,
}

/// Observed state of an inference graph.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["state"]))]
pub struct DynamoGraphDeploymentStatus {
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Overall lifecycle state of the graph.
    #[serde(default)]
    pub state: DeploymentState,
    /// Conditions of the graph (`Ready`, `TopologyLevelsAvailable`), one per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Replica counts per service, keyed by service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<BTreeMap<String, ServiceReplicaStatus>>,
    /// Progress of the restart requested in `spec.restart`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartStatus>,
    /// Checkpoint state per service, keyed by service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<BTreeMap<String, ComponentCheckpointStatus>>,
    /// Progress of an operator-driven rolling update (single-node Deployment services only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdateStatus>,
    /// Scheduler placement signals of the graph (not filled in yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementStatus>,
}

/// Replica counts of the workload behind one service.
///
/// Which of the optional counts are filled in depends on `componentKind`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReplicaStatus {
    /// Kind of the workload object backing the service.
    pub component_kind: ComponentKind,
    /// Name of the main workload object (during a rolling update: the new one).
    ///
    /// Deprecated in favour of `componentNames`.
    pub component_name: String,
    /// Names of all workload objects of the service; more than one only while a rolling update
    /// runs (old and new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_names: Option<Vec<String>>,
    /// Dynamo runtime namespace the service's workers register in (during a rolling update: the
    /// old revision's until the cut-over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_namespace: Option<String>,
    /// Non-terminated replicas.
    #[schemars(range(min = 0))]
    pub replicas: i32,
    /// Replicas already at the desired revision.
    #[schemars(range(min = 0))]
    pub updated_replicas: i32,
    /// Ready replicas (PodClique, Deployment and LeaderWorkerSet only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub ready_replicas: Option<i32>,
    /// Available replicas (Deployment and PodCliqueScalingGroup only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub available_replicas: Option<i32>,
    /// Replicas the scheduler has placed, in service replicas; unset when the backend does not
    /// report it (never read unset as zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub scheduled_replicas: Option<i32>,
}

/// Progress of an operator-driven rolling update.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdateStatus {
    /// Phase of the rolling update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RollingUpdatePhase>,
    /// When the rolling update started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the rolling update finished, successfully or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
    /// Worker services whose new replicas are all ready and whose old replicas are gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_services: Option<Vec<String>>,
}
