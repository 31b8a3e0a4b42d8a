//! `DynamoGraphDeployment` (`dgd`): a whole inference graph (frontend, workers, planner, ...).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::EnvVar;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{BackendFramework, ServiceReplicaStatus};
use crate::shared::{DynamoComponentDeploymentSharedSpec, TOPOLOGY_DOMAIN_PATTERN};

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
pub struct DynamoGraphDeploymentSpec {
    /// Annotations added to every resource generated for the graph; service-level values win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,

    /// Labels added to every resource generated for the graph; service-level values win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,

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

    /// Rolling restart of the graph's services, triggered by changing `restart.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<Restart>,

    /// Topology-aware placement of the graph; services without their own constraint inherit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_constraint: Option<TopologyConstraint>,
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

/// Restart request for a graph.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Restart {
    /// Arbitrary token; every change of its value restarts the graph.
    #[schemars(length(min = 1))]
    pub id: String,
    /// How services are restarted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RestartStrategy>,
}

/// How the services of a graph are restarted.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestartStrategy {
    /// Restart services one after another (Sequential) or all at once (Parallel).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Sequential"))]
    pub type_: Option<RestartStrategyType>,
    /// Service names in restart order (Sequential only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<String>>,
}

/// Restart strategy of a graph.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RestartStrategyType {
    /// One service at a time.
    #[default]
    Sequential,
    /// All services together.
    Parallel,
}

/// Graph-wide topology placement.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopologyConstraint {
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
    pub checkpoints: Option<BTreeMap<String, ServiceCheckpointStatus>>,
    /// Progress of an operator-driven rolling update (single-node Deployment services only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdateStatus>,
}

/// Lifecycle state of a graph.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentState {
    /// Not reconciled yet.
    #[default]
    Initializing,
    /// Reconciled, waiting for services to become ready.
    Pending,
    /// Every service is ready.
    Successful,
    /// Reconciliation failed.
    Failed,
}

/// Progress of a graph restart.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestartStatus {
    /// The `spec.restart.id` being (or last) processed.
    #[serde(
        rename = "observedID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub observed_id: Option<String>,
    /// Phase of the restart: Pending, Restarting, Completed, Failed or Superseded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Services currently restarting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<Vec<String>>,
}

/// Well-known values of `status.restart.phase`.
pub mod restart_phase {
    /// The restart was requested but has not started.
    pub const PENDING: &str = "Pending";
    /// Services are being restarted.
    pub const RESTARTING: &str = "Restarting";
    /// Every service was restarted.
    pub const COMPLETED: &str = "Completed";
    /// The restart failed.
    pub const FAILED: &str = "Failed";
    /// A newer restart id replaced this one before it finished.
    pub const SUPERSEDED: &str = "Superseded";
}

/// Checkpoint state of one service.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCheckpointStatus {
    /// Name of the DynamoCheckpoint used by the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_name: Option<String>,
    /// Hash of the checkpoint identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_hash: Option<String>,
    /// Whether the checkpoint was ready when the worker started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
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

/// Phase of a rolling update.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RollingUpdatePhase {
    /// Waiting to start.
    Pending,
    /// Replacing replicas.
    InProgress,
    /// Finished successfully.
    Completed,
    /// Finished unsuccessfully.
    Failed,
    /// No rolling update (the empty string).
    #[default]
    #[serde(rename = "")]
    None,
}
