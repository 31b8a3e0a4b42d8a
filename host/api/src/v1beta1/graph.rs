//! `nvidia.com/v1beta1` `DynamoGraphDeployment` (`dgd`): a whole inference graph (frontend,
//! workers, planner, ...) with its components in a list keyed by component name. The storage
//! version of the kind.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::EnvVar;
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
use crate::v1beta1::shared::{ComponentType, DynamoComponentDeploymentSharedSpec};

/// Desired state of an inference graph: its components and what they share.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1beta1",
    kind = "DynamoGraphDeployment",
    plural = "dynamographdeployments",
    singular = "dynamographdeployment",
    shortname = "dgd",
    namespaced,
    status = "DynamoGraphDeploymentStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "An inference graph: a set of components (frontend, workers, planner, ...) deployed and \
           updated together. Get its CRD from `dynamo_api::crds`.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "Whether every component of the graph is ready"
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

    /// Annotations added to every resource generated for the graph (PodCliqueSets, components,
    /// Deployments, pod templates); a component's `podTemplate` values win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,

    /// Labels added to every resource generated for the graph; a component's `podTemplate` values
    /// win.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,

    /// PriorityClass of the graph's Grove PodCliqueSet (Grove only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,

    /// Components of the graph (at most 25), keyed by `name`; at most one of `type: epp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 25),
        transform = crate::schema::list_map_by_name,
        extend("x-kubernetes-validations" = [
            {
                "rule": "self.filter(c, has(c.type) && c.type == 'epp').size() <= 1",
                "message": "at most one component may have type epp",
            },
            {
                "rule": "self.all(c1, !has(c1.name) || self.filter(c2, has(c2.name) && c2.name.lowerAscii() == c1.name.lowerAscii()).size() == 1)",
                "message": "component names must be unique case-insensitively",
            },
        ])
    )]
    pub components: Option<Vec<DynamoComponentDeploymentSharedSpec>>,

    /// Environment variables put before every component's own in its main container; a
    /// component's entry of the same name wins and may refer to these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvVar>>,

    /// Inference backend of the workers. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_framework: Option<BackendFramework>,

    /// Rolling restart of the graph's components, triggered by changing `restart.id`; must be
    /// unset when the graph is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<Restart>,

    /// Topology-aware placement of the graph; components without their own constraint inherit
    /// it. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_constraint: Option<SpecTopologyConstraint>,

    /// Graph-level preview features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<DynamoGraphDeploymentExperimentalSpec>,
}

/// Graph-wide topology placement.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpecTopologyConstraint {
    /// Name of the ClusterTopology that defines the topology levels.
    #[schemars(length(min = 1))]
    pub cluster_topology_name: String,
    /// Default topology domain to pack each component into; may be left to the components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TOPOLOGY_DOMAIN_PATTERN))]
    pub pack_domain: Option<String>,
}

impl DynamoGraphDeployment {
    /// The component named `name`, if any (names are compared exactly).
    #[must_use]
    pub fn component(&self, name: &str) -> Option<&DynamoComponentDeploymentSharedSpec> {
        self.components().iter().find(|c| c.name == name)
    }

    /// The component named `name`, mutable, if any (names are compared exactly).
    #[must_use]
    pub fn component_mut(
        &mut self,
        name: &str,
    ) -> Option<&mut DynamoComponentDeploymentSharedSpec> {
        self.spec
            .components
            .as_mut()?
            .iter_mut()
            .find(|c| c.name == name)
    }

    /// The graph's components, in the order of `spec.components` (empty when unset).
    #[must_use]
    pub fn components(&self) -> &[DynamoComponentDeploymentSharedSpec] {
        self.spec.components.as_deref().unwrap_or_default()
    }

    /// The graph's endpoint-picker component (`type: epp`; the API allows at most one).
    #[must_use]
    pub fn epp_component(&self) -> Option<&DynamoComponentDeploymentSharedSpec> {
        self.components()
            .iter()
            .find(|c| c.component_type == Some(ComponentType::Epp))
    }
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
    /// Conditions of the graph (`Ready`, `TopologyLevelsAvailable`, ...), one per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::list_map_by_type)]
    pub conditions: Option<Vec<Condition>>,
    /// Replica counts per component, keyed by component name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<BTreeMap<String, ComponentReplicaStatus>>,
    /// Progress of the restart requested in `spec.restart`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartStatus>,
    /// Checkpoint state per component, keyed by component name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<BTreeMap<String, ComponentCheckpointStatus>>,
    /// Progress of an operator-driven rolling update (single-node, non-Grove components only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdateStatus>,
    /// Scheduler placement signals of the graph (not filled in yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementStatus>,
}

/// Replica counts of the workload behind one component.
///
/// Which of the optional counts are filled in depends on `componentKind`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentReplicaStatus {
    /// Kind of the workload object backing the component.
    pub component_kind: ComponentKind,
    /// Names of the component's workload objects; two only while a rolling update runs (old and
    /// new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_names: Option<Vec<String>>,
    /// Dynamo runtime namespace the component registers in (workers: with a generation suffix,
    /// the old revision's until a rolling update cuts over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_namespace: Option<String>,
    /// GPUs of one inference engine of a replica, over all its nodes (auxiliary allocations
    /// excluded; 0: an engine without GPUs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub gpus_per_engine: Option<i64>,
    /// GPUs one more replica adds, over all its nodes and pods (shared DRA claims counted once;
    /// 0: no GPUs; unset: not known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub gpus_per_replica: Option<i64>,
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
    /// Replicas the scheduler has placed, in component replicas; unset when the backend does
    /// not report it (never read unset as zero).
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
    /// Worker components whose new replicas are all ready and whose old replicas are gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_components: Option<Vec<String>>,
}
