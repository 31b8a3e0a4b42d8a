//! Types whose schema is the same in `v1alpha1` and `v1beta1`, shared by both version modules.
//!
//! A type lives here only when Dynamo 1.5 gives it the identical schema in both versions (same
//! fields, JSON names, defaults and validation); the version modules re-export the ones they use,
//! so `v1alpha1::graph::Restart` and `v1beta1::graph::Restart` are the same type and converting
//! between the versions copies it as is. Names follow Dynamo's `v1beta1` Go types.
//!
//! For compatibility with code written against the single-version crate, this module also
//! re-exports the `v1alpha1` [`ServiceReplicaStatus`] and keeps the well-known `componentType`
//! strings ([`component_type`]).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::v1alpha1::graph::ServiceReplicaStatus;

/// Pattern of a topology domain name (a DNS-label-like identifier such as `zone` or `rack`).
pub const TOPOLOGY_DOMAIN_PATTERN: &str = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$";

/// Pattern of a `runtimeVersionOverride`: a canonical `MAJOR.MINOR.PATCH` version.
pub const RUNTIME_VERSION_PATTERN: &str =
    r"^(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$";

/// Pattern of a Kubernetes label key (optional DNS-subdomain prefix and `/`, then a name).
pub const LABEL_KEY_PATTERN: &str = r"^(([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$";

// === impl BackendFramework ===

/// Inference backend a graph or component runs.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
pub enum BackendFramework {
    /// SGLang workers.
    #[serde(rename = "sglang")]
    Sglang,
    /// vLLM workers.
    #[serde(rename = "vllm")]
    Vllm,
    /// TensorRT-LLM workers.
    #[serde(rename = "trtllm")]
    Trtllm,
}

impl BackendFramework {
    /// The value as written in manifests (`sglang`, `vllm` or `trtllm`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sglang => "sglang",
            Self::Vllm => "vllm",
            Self::Trtllm => "trtllm",
        }
    }
}

impl std::fmt::Display for BackendFramework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Well-known values of a `v1alpha1` service's `componentType`.
///
/// The `v1alpha1` field is a free-form string; these are the roles the operator gives special
/// treatment to. In `v1beta1` the field is `type`, restricted to
/// [`crate::v1beta1::shared::ComponentType`] (the same values except `default`).
pub mod component_type {
    /// HTTP frontend that receives client requests and routes them to workers.
    pub const FRONTEND: &str = "frontend";
    /// Inference worker (aggregated, or one side of a disaggregated pair).
    pub const WORKER: &str = "worker";
    /// Prefill-only worker.
    pub const PREFILL: &str = "prefill";
    /// Decode-only worker.
    pub const DECODE: &str = "decode";
    /// Planner that scales the other services.
    pub const PLANNER: &str = "planner";
    /// Endpoint picker (Gateway API inference extension) service.
    pub const EPP: &str = "epp";
    /// Anything else.
    pub const DEFAULT: &str = "default";
}

/// Kind of workload object that backs one service or component.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ComponentKind {
    /// A Grove `PodClique` (single-node service under Grove).
    PodClique,
    /// A Grove `PodCliqueScalingGroup` (multi-node service under Grove).
    PodCliqueScalingGroup,
    /// A plain `apps/v1` Deployment.
    Deployment,
    /// A `LeaderWorkerSet` (multi-node service without Grove).
    LeaderWorkerSet,
}

/// Well-known condition types and reasons used in the status of these kinds.
pub mod condition {
    /// `DynamoGraphDeployment`: every component is ready.
    pub const READY: &str = "Ready";
    /// `DynamoGraphDeployment`: the topology levels requested by the graph exist in the cluster.
    pub const TOPOLOGY_LEVELS_AVAILABLE: &str = "TopologyLevelsAvailable";
    /// `DynamoGraphDeployment`: another controller or user owns a resource the graph needs.
    pub const OWNERSHIP_CONFLICT: &str = "OwnershipConflict";
    /// `DynamoComponentDeployment`: the component's workload is available.
    pub const AVAILABLE: &str = "Available";
    /// `DynamoComponentDeployment`: the component is ready to serve.
    pub const DYNAMO_COMPONENT_READY: &str = "DynamoComponentReady";
    /// `DynamoModel`: Services serving the base model were found.
    pub const SERVICES_FOUND: &str = "ServicesFound";
    /// `DynamoModel`: at least one endpoint serving the model is ready.
    pub const ENDPOINTS_READY: &str = "EndpointsReady";

    /// Reasons of the `TopologyLevelsAvailable` condition.
    pub mod topology_reason {
        /// Every level the graph asks for exists.
        pub const ALL_AVAILABLE: &str = "AllTopologyLevelsAvailable";
        /// Some level the graph asks for is missing.
        pub const UNAVAILABLE: &str = "TopologyLevelsUnavailable";
        /// The named ClusterTopology does not exist.
        pub const DEFINITION_NOT_FOUND: &str = "TopologyDefinitionNotFound";
        /// Not evaluated yet.
        pub const PENDING: &str = "TopologyConditionPending";
    }

    /// Reasons of a graph's `Ready` condition.
    pub mod ready_reason {
        /// Every component is ready.
        pub const ALL_RESOURCES_READY: &str = "all_resources_are_ready";
        /// A component waits for capacity: replicas are not scheduled or are gated.
        pub const INSUFFICIENT_CAPACITY: &str = "insufficient_capacity";
        /// Pods are scheduled, but not enough of them are ready.
        pub const PODS_NOT_READY: &str = "pods_not_ready";
        /// A component has not finished rolling out updated replicas.
        pub const UPDATING: &str = "updating";
        /// Several components are not ready for different reasons.
        pub const MIXED_NOT_READY_REASONS: &str = "mixed_not_ready_reasons";
        /// A component is not ready for a reason that could not be classified.
        pub const SOME_RESOURCES_NOT_READY: &str = "some_resources_are_not_ready";
    }
}

// === impl DeploymentState ===

impl<'de> Deserialize<'de> for DeploymentState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "" | "initializing" => Ok(Self::Initializing),
            "pending" => Ok(Self::Pending),
            "successful" => Ok(Self::Successful),
            "failed" => Ok(Self::Failed),
            other => Err(serde::de::Error::unknown_variant(
                other,
                &["initializing", "pending", "successful", "failed"],
            )),
        }
    }
}

/// Lifecycle state of a graph (`status.state`).
///
/// Read leniently: an empty string (what Dynamo's conversion writes for a graph without a
/// status, whose Go field has no `omitempty`) reads as [`DeploymentState::Initializing`].
#[derive(Serialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentState {
    /// Not reconciled yet.
    #[default]
    Initializing,
    /// Reconciled, waiting for components to become ready.
    Pending,
    /// Every component is ready.
    Successful,
    /// Reconciliation failed.
    Failed,
}

/// Restart request for a graph.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Restart {
    /// Arbitrary token; every change of its value restarts the graph.
    #[schemars(length(min = 1))]
    pub id: String,
    /// How components are restarted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RestartStrategy>,
}

/// How the components of a graph are restarted.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestartStrategy {
    /// Restart components one after another (Sequential) or all at once (Parallel).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Sequential"))]
    pub type_: Option<RestartStrategyType>,
    /// Component names in restart order (Sequential only); every component, each once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<String>>,
}

/// Restart strategy of a graph.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RestartStrategyType {
    /// One component at a time.
    #[default]
    Sequential,
    /// All components together.
    Parallel,
}

/// Progress of a graph restart (`status.restart`).
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
    /// Phase of the restart: Pending, Restarting, Completed, Failed or Superseded
    /// ([`restart_phase`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Components currently restarting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<Vec<String>>,
}

/// Well-known values of `status.restart.phase`.
pub mod restart_phase {
    /// The restart was requested but has not started.
    pub const PENDING: &str = "Pending";
    /// Components are being restarted.
    pub const RESTARTING: &str = "Restarting";
    /// Every component was restarted.
    pub const COMPLETED: &str = "Completed";
    /// The restart failed.
    pub const FAILED: &str = "Failed";
    /// A newer restart id replaced this one before it finished.
    pub const SUPERSEDED: &str = "Superseded";
}

/// Phase of an operator-driven rolling update.
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

/// Scheduler placement signals of a graph (`status.placement`).
///
/// The shape is part of the API, but nothing fills it in yet.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacementStatus {
    /// Worst placement score over the graph's placement units, from 0.0 to 1.0 (best).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1))]
    pub score: Option<f64>,
    /// Whether `score` is reported, and for how much of the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PlacementScoreState>,
}

/// How complete a graph's placement score is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum PlacementScoreState {
    /// A score exists for every placement unit.
    Reported,
    /// A score exists for some placement units only.
    Partial,
    /// The scheduler reports no placement score.
    Unsupported,
    /// The scheduler reports scores, but the current value is not known (`score` is unset).
    Unknown,
}

/// Checkpoint state of one component (`status.checkpoints.<name>`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentCheckpointStatus {
    /// Name of the checkpoint object the component uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_name: Option<String>,
    /// Artifact id the snapshot protocol uses for the checkpoint.
    #[serde(
        rename = "checkpointID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checkpoint_id: Option<String>,
    /// Hash of the checkpoint identity (deprecated in favour of `checkpointID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_hash: Option<String>,
    /// Whether the checkpoint is ready for new pods to restore from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

// === impl ProviderOverride ===

/// A sparse fragment of the workload provider's own schema, merged into what the operator
/// generates for a graph, a component or a role.
///
/// Only Grove (`grove.io/v1alpha1`) is supported, and only its `topologyConstraint` subtree may
/// be set; the admission webhook rejects everything else.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderOverride {
    /// API group and version of the provider schema, such as `grove.io/v1alpha1`.
    #[schemars(length(min = 1))]
    pub api_version: String,
    /// Provider type the fragment applies to (`PodCliqueSet`, `PodCliqueTemplateSpec` or
    /// `PodCliqueScalingGroupConfig`); filled in by admission where the location allows only one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The fragment, as the provider's schema spells it.
    pub value: Map<String, Value>,
}

// === impl DynamoGraphDeploymentExperimentalSpec ===

/// Graph-level preview features (`spec.experimental`); their shape may still change.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamoGraphDeploymentExperimentalSpec {
    /// Topology-aware routing of KV-cache transfers between prefill and decode workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_transfer_policy: Option<KvTransferPolicy>,
}

/// Topology-aware routing of KV-cache transfers: decode workers are picked in (or preferably in)
/// the topology domain of the prefill worker. Immutable after creation.
///
/// The domain of each worker comes either from a Grove ClusterTopology (`clusterTopologyName`) or
/// from a node label (`labelKey`); exactly one of the two is set.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "(has(self.labelKey) && !has(self.clusterTopologyName)) || (!has(self.labelKey) && has(self.clusterTopologyName))",
        "message": "exactly one of labelKey or clusterTopologyName is required",
    },
    {
        "rule": "!has(self.enforcement) || self.enforcement != 'preferred' || has(self.preferredWeight)",
        "message": "preferredWeight is required when enforcement is preferred",
    },
    {
        "rule": "!has(self.preferredWeight) || (has(self.enforcement) && self.enforcement == 'preferred')",
        "message": "preferredWeight may only be set when enforcement is preferred",
    },
]))]
pub struct KvTransferPolicy {
    /// Grove ClusterTopology whose levels give each worker's domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub cluster_topology_name: Option<String>,
    /// Node label key (such as `topology.kubernetes.io/zone`) whose value is a worker's domain;
    /// the operator copies it onto worker pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 317),
        regex(pattern = LABEL_KEY_PATTERN),
        extend("x-kubernetes-validations" = [{
            "rule": "!self.contains('/') || self.split('/')[0].size() <= 253",
            "message": "labelKey prefix must be 253 characters or less",
        }])
    )]
    pub label_key: Option<String>,
    /// Name of the topology level the policy applies to, such as `zone` or `rack`.
    #[schemars(regex(pattern = TOPOLOGY_DOMAIN_PATTERN))]
    pub domain: String,
    /// Only same-domain decode workers (`required`), or a bias towards them (`preferred`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "required"))]
    pub enforcement: Option<KvTransferEnforcement>,
    /// Strength of the same-domain bias, 0 (none) to 1 (strongest); set exactly when
    /// `enforcement` is `preferred`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1))]
    pub preferred_weight: Option<f32>,
}

/// How strictly KV-cache transfers stay within a topology domain.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KvTransferEnforcement {
    /// Only decode workers in the prefill worker's domain are eligible.
    #[default]
    Required,
    /// Every decode worker is eligible; those in the same domain are favoured.
    Preferred,
}

/// Topology packing of one component (or service).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopologyConstraint {
    /// Topology domain (defined by the graph's ClusterTopology) to pack the pods into; at most as
    /// wide as the graph-level `packDomain`. Immutable.
    #[schemars(regex(pattern = TOPOLOGY_DOMAIN_PATTERN))]
    pub pack_domain: String,
}

// === impl ComponentRoleSpec ===

/// One named part of a compound component that produces its own pods, such as the `leader` and
/// `worker` of a multi-node component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRoleSpec {
    /// Name of the role within its component ([`role`] lists the known names).
    #[schemars(length(min = 1, max = 63), regex(pattern = crate::schema::DNS_LABEL_PATTERN))]
    pub name: String,
    /// Pods of this role in one replica of the component; for multi-node components admission
    /// fills in 1 for the leader and `nodeCount - 1` for the worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Provider override for the workload unit generated for this role (graph components only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_override: Option<ProviderOverride>,
    /// Pod template of this role; admission rejects it for every role type known today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplateSpec>,
}

/// Well-known role names of [`ComponentRoleSpec::name`].
pub mod role {
    /// The leader pod of a multi-node component.
    pub const LEADER: &str = "leader";
    /// The worker pods of a multi-node component.
    pub const WORKER: &str = "worker";
}

// === impl Checkpoint ===

/// Deprecated: who creates a component's checkpoint (set `enabled`, and `checkpointRef` to reuse
/// an existing one, instead).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum CheckpointMode {
    /// The operator creates the checkpoint.
    #[default]
    Auto,
    /// The user creates the checkpoint.
    Manual,
}

/// When a component's workers start relative to its automatic checkpoint.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum CheckpointStartupPolicy {
    /// Workers start cold right away; pods created once the checkpoint is ready restore from it.
    #[default]
    Immediate,
    /// Workers stay at zero replicas until the checkpoint is ready, then start from it.
    WaitForCheckpoint,
}

/// What happens to an automatic checkpoint when its graph is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum CheckpointDeletionPolicy {
    /// The checkpoint object and its artifact are deleted with the graph.
    #[default]
    Delete,
    /// The checkpoint object and its artifact stay.
    Retain,
}

/// Customisation of the Job that takes a component's checkpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentCheckpointJobConfig {
    /// Containers of the checkpoint Job that get GPU Memory Service client wiring (needs
    /// `gpuMemoryService` on the component).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::container_name_set)]
    pub gms_client_containers: Option<Vec<String>>,
    /// Pod template merged over the one the operator derives from the workload container, for
    /// example to add helper containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::preserved_object)]
    pub pod_template: Option<PodTemplateSpec>,
}

/// An extra GPU Memory Service client pod (inter-pod mode; reserved, rejected for now).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GmsClientPodSpec {
    /// Name of the client pod.
    #[schemars(length(min = 1, max = 63), regex(pattern = crate::schema::DNS_LABEL_PATTERN))]
    pub name: String,
    /// Pod template of the client pod.
    #[schemars(transform = crate::schema::preserved_object)]
    pub pod_template: PodTemplateSpec,
}

// === impl EndpointPickerConfig ===

/// Gateway API inference extension endpoint-picker configuration.
///
/// Unknown top-level fields are kept as they are.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPickerConfig {
    /// API version of the configuration document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the configuration document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Plugins to instantiate.
    pub plugins: Vec<EppPluginSpec>,
    /// Named scheduling profiles built from the plugins.
    pub scheduling_profiles: Vec<EppSchedulingProfile>,
    /// Experimental endpoint-picker features to switch on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_gates: Option<Vec<String>>,
    /// Thresholds for considering a pod saturated; defaults apply when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturation_detector: Option<EppSaturationDetector>,
    /// Fields this version of the schema does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One plugin instance of an endpoint picker.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EppPluginSpec {
    /// Name other entries use to refer to this plugin; defaults to `type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Plugin type to instantiate.
    #[serde(rename = "type")]
    pub type_: String,
    /// Free-form parameters handed to the plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::any_value)]
    pub parameters: Option<Value>,
}

/// A named set of plugins used for scheduling.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EppSchedulingProfile {
    /// Name of the profile.
    pub name: String,
    /// Plugins of the profile.
    pub plugins: Vec<EppSchedulingPlugin>,
}

/// Reference from a scheduling profile to a plugin instance.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EppSchedulingPlugin {
    /// Name of an entry of `plugins`.
    pub plugin_ref: String,
    /// Weight of the plugin when it is a scorer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::plain_integer)]
    pub weight: Option<i64>,
}

/// Saturation thresholds of an endpoint picker.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EppSaturationDetector {
    /// Waiting-queue length above which a pod counts as saturated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::plain_integer)]
    pub queue_depth_threshold: Option<i64>,
    /// KV-cache utilisation (0.0 to 1.0) above which a pod counts as saturated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_cache_util_threshold: Option<f64>,
    /// Maximum age of a pod's metrics before they are distrusted, as a duration (`200ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_staleness_threshold: Option<String>,
}

// === impl ProfilingBackend ===

/// Backend a `DynamoGraphDeploymentRequest` profiles and deploys.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfilingBackend {
    /// Let the profiler choose.
    #[default]
    Auto,
    /// vLLM.
    Vllm,
    /// SGLang.
    Sglang,
    /// TensorRT-LLM.
    Trtllm,
}
