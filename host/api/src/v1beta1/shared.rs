//! The `nvidia.com/v1beta1` component spec: one entry of a graph's `spec.components`, and the
//! body of a `v1beta1` `DynamoComponentDeployment` spec.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMapKeySelector, Container, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::common::{
    BackendFramework, CheckpointDeletionPolicy, CheckpointMode, CheckpointStartupPolicy,
    ComponentCheckpointJobConfig, ComponentRoleSpec, EndpointPickerConfig, EppPluginSpec,
    EppSaturationDetector, EppSchedulingPlugin, EppSchedulingProfile, GmsClientPodSpec,
    ProviderOverride, RUNTIME_VERSION_PATTERN, TOPOLOGY_DOMAIN_PATTERN, TopologyConstraint, role,
};

/// Name of the container of `podTemplate` that runs the component's engine; the operator merges
/// its defaults (command, environment, ports, probes, resources, mounts) into it. Every other
/// container is a user-managed sidecar.
pub const MAIN_CONTAINER_NAME: &str = "main";

/// Pattern of a component name (letters, digits and `-`; upper case allowed).
pub const COMPONENT_NAME_PATTERN: &str = "^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$";

/// Name of the Dynamo namespace components with `globalDynamoNamespace` register in.
pub const GLOBAL_DYNAMO_NAMESPACE: &str = "dynamo";

/// Desired state of one component of a graph (a frontend, a worker pool, a planner, ...).
///
/// Used as the item type of `DynamoGraphDeployment.spec.components` and flattened into
/// `DynamoComponentDeployment.spec`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend(
    "required" = ["name"],
    "x-kubernetes-validations" = [
        {
            "rule": "!has(self.eppConfig) || (has(self.type) && self.type == 'epp')",
            "message": "eppConfig may only be set when type is epp",
        },
        {
            "rule": "!has(self.minAvailable) || (has(self.replicas) && self.replicas == 0) || self.minAvailable <= (has(self.replicas) ? self.replicas : 1)",
            "message": "minAvailable must be less than or equal to replicas unless replicas is 0",
        },
        {
            "rule": "!has(oldSelf.minAvailable) || (has(self.minAvailable) && self.minAvailable == oldSelf.minAvailable)",
            "message": "minAvailable is immutable after creation",
        },
    ]
))]
pub struct DynamoComponentDeploymentSharedSpec {
    /// Provider override for the component's primary workload unit (Grove: the PodClique template
    /// or the PodCliqueScalingGroup configuration; only `topologyConstraint` may be set). Graph
    /// components only: the standalone component CRD does not have this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_override: Option<ProviderOverride>,

    /// Stable name of the component within its graph, unique (ignoring case) among the graph's
    /// components; labels, status keys, scaling adapters and planner rules refer to it. A
    /// standalone component without one gets its `metadata.name` on creation. Empty means unset.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(min = 1, max = 63), regex(pattern = COMPONENT_NAME_PATTERN))]
    pub name: String,

    /// Role of the component; decides ports, probes, environment and the
    /// `nvidia.com/dynamo-component-type` pod label.
    // Read leniently: a value outside the enum (a `v1alpha1` `componentType`, a free string
    // there, converted as is) reads as unset rather than making the whole object unreadable.
    #[serde(
        rename = "type",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "ComponentType::lenient"
    )]
    pub component_type: Option<ComponentType>,

    /// Dynamo runtime version of the main image (`MAJOR.MINOR.PATCH`); required by admission when
    /// the main image's tag is not a version. It does not change the image; a value of 1.5.0 or
    /// later is part of the worker hash, so changing it may roll the workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = RUNTIME_VERSION_PATTERN))]
    pub runtime_version_override: Option<String>,

    /// Register in the cluster-wide Dynamo namespace `dynamo` instead of the graph's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_dynamo_namespace: Option<bool>,

    /// Pod template of the component. New components need a container named `main` with an
    /// image; the operator merges its defaults into that container, and every other container is
    /// a sidecar that must name its own image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_template: Option<PodTemplateSpec>,

    /// Desired number of replicas (for multi-node components: of node groups); owned by the
    /// scaling adapter when `scalingAdapter` is set. Admission fills in 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<i32>,

    /// Replicas Grove gang-schedules together and keeps alive (Grove only; defaults to 1 there,
    /// immutable, at most `replicas` unless that is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_available: Option<i32>,

    /// Spread each replica over several nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multinode: Option<MultinodeSpec>,

    /// Named parts of the component that produce their own pods; for a multi-node component
    /// exactly one `leader` and one `worker`. Omitted: the implicit multi-node layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::list_map_by_name)]
    pub roles: Option<Vec<ComponentRoleSpec>>,

    /// Size of the tmpfs mounted at /dev/shm: unset for the operator's default (8Gi), `0` for no
    /// /dev/shm at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_memory_size: Option<Quantity>,

    /// Model served by this component; creates a headless Service used for endpoint discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_ref: Option<ModelReference>,

    /// Present (even as `{}`): a DynamoGraphDeploymentScalingAdapter owns `replicas`, so HPA,
    /// KEDA or the planner scale the component through it. Absent: no adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_adapter: Option<ScalingAdapter>,

    /// Configuration of an endpoint-picker (`type: epp`) component (deprecated: selects the
    /// legacy endpoint picker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epp_config: Option<EppConfig>,

    /// Name of a container of `podTemplate.spec.containers` that the operator turns into a
    /// frontend sidecar (merging its frontend defaults into it, as into `main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_sidecar: Option<String>,

    /// PVC-backed compilation cache; the operator mounts it and sets the backend's environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compilation_cache: Option<CompilationCacheConfig>,

    /// Topology domain the component's pods are packed into; at most as wide as the graph-level
    /// `packDomain`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_constraint: Option<TopologyConstraint>,

    /// Preview features whose shape may still change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<ExperimentalSpec>,
}

impl DynamoComponentDeploymentSharedSpec {
    /// The container named [`MAIN_CONTAINER_NAME`] of `podTemplate`, if any.
    #[must_use]
    pub fn main_container(&self) -> Option<&Container> {
        self.pod_template
            .as_ref()?
            .spec
            .as_ref()?
            .containers
            .iter()
            .find(|c| c.name == MAIN_CONTAINER_NAME)
    }

    /// The container named [`MAIN_CONTAINER_NAME`] of `podTemplate`, mutable, if any.
    #[must_use]
    pub fn main_container_mut(&mut self) -> Option<&mut Container> {
        self.pod_template
            .as_mut()?
            .spec
            .as_mut()?
            .containers
            .iter_mut()
            .find(|c| c.name == MAIN_CONTAINER_NAME)
    }

    /// Whether the component runs inference engines (`type` worker, prefill or decode).
    #[must_use]
    pub fn is_worker(&self) -> bool {
        self.component_type.is_some_and(ComponentType::is_worker)
    }

    /// Nodes per replica: `multinode.nodeCount`, or 1 without `multinode`.
    #[must_use]
    pub fn node_count(&self) -> i32 {
        self.multinode.as_ref().map_or(1, |m| m.node_count)
    }

    /// Whether each replica spans several nodes (`multinode.nodeCount` above 1).
    #[must_use]
    pub fn uses_multinode(&self) -> bool {
        self.node_count() > 1
    }

    /// Whether Grove renders the component as a PodCliqueScalingGroup rather than a single
    /// PodClique: multi-node, inter-pod GPU memory service, or
    /// `experimental.grove.forceScalingGroup`.
    #[must_use]
    pub fn uses_scaling_group(&self) -> bool {
        let experimental = self.experimental.as_ref();
        let inter_pod_gms = experimental
            .and_then(|e| e.gpu_memory_service.as_ref())
            .is_some_and(|g| g.mode == Some(GpuMemoryServiceMode::InterPod));
        let forced = experimental
            .and_then(|e| e.grove.as_ref())
            .and_then(|g| g.force_scaling_group)
            .unwrap_or(false);
        self.uses_multinode() || inter_pod_gms || forced
    }

    /// Whether a scaling adapter owns `replicas` (the `scalingAdapter` marker is present).
    #[must_use]
    pub fn has_scaling_adapter(&self) -> bool {
        self.scaling_adapter.is_some()
    }
}

/// The Dynamo namespace a component registers in: [`GLOBAL_DYNAMO_NAMESPACE`] with
/// `globalDynamoNamespace`, otherwise `<namespace>-<graph name>` with every `.` of the graph name
/// replaced by `-` (the namespace is the first segment of endpoint paths).
#[must_use]
pub fn dynamo_namespace(global: bool, namespace: &str, graph_name: &str) -> String {
    if global {
        GLOBAL_DYNAMO_NAMESPACE.to_owned()
    } else {
        format!("{namespace}-{}", graph_name.replace('.', "-"))
    }
}

// === impl ComponentType ===

/// Role of a component within a graph.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ComponentType {
    /// HTTP frontend that receives client requests and routes them to workers.
    Frontend,
    /// Aggregated inference worker.
    Worker,
    /// Prefill worker of a disaggregated pair.
    Prefill,
    /// Decode worker of a disaggregated pair.
    Decode,
    /// Planner that scales the other components.
    Planner,
    /// Endpoint picker (Gateway API inference extension); at most one per graph.
    #[serde(rename = "epp")]
    Epp,
}

impl ComponentType {
    /// Reads an optional type, an unknown value as `None` (see
    /// [`DynamoComponentDeploymentSharedSpec::component_type`]).
    fn lenient<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Self>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        Ok(text.and_then(|t| {
            Self::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&t))
                .ok()
        }))
    }

    /// The value as written in manifests (`frontend`, `worker`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Frontend => "frontend",
            Self::Worker => "worker",
            Self::Prefill => "prefill",
            Self::Decode => "decode",
            Self::Planner => "planner",
            Self::Epp => "epp",
        }
    }

    /// Whether components of this type run inference engines (worker, prefill or decode); the
    /// worker hash and rolling updates cover exactly these.
    #[must_use]
    pub fn is_worker(self) -> bool {
        matches!(self, Self::Worker | Self::Prefill | Self::Decode)
    }
}

impl std::fmt::Display for ComponentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// === impl MultinodeSpec ===

/// Multi-node layout of a component.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MultinodeSpec {
    /// Nodes per replica (at least 2); GPUs per replica = nodeCount × the main container's GPUs.
    /// Immutable.
    #[serde(default = "MultinodeSpec::default_node_count")]
    #[schemars(range(min = 2))]
    pub node_count: i32,
}

impl MultinodeSpec {
    /// Node count used when `nodeCount` is omitted.
    pub const DEFAULT_NODE_COUNT: i32 = 2;

    fn default_node_count() -> i32 {
        Self::DEFAULT_NODE_COUNT
    }
}

impl Default for MultinodeSpec {
    fn default() -> Self {
        Self {
            node_count: Self::DEFAULT_NODE_COUNT,
        }
    }
}

/// Reference to the model a component serves.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelReference {
    /// Base model identifier, such as `llama-3-70b-instruct-v1`.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Model revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// Marker: its presence opts a component into a DynamoGraphDeploymentScalingAdapter.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub struct ScalingAdapter {}

/// Configuration of an endpoint-picker component: exactly one of the two fields.
///
/// Deprecated: its presence selects the legacy endpoint picker's pod contract; the native one is
/// configured through environment variables only.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "has(self.configMapRef) != has(self.config)",
    "message": "exactly one of configMapRef or config must be specified",
}]))]
pub struct EppConfig {
    /// ConfigMap key holding an EndpointPickerConfig document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ConfigMapKeySelector>,
    /// EndpointPickerConfig given inline; the operator stores it in a generated ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<EndpointPickerConfig>,
}

/// PVC-backed compilation cache of a component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompilationCacheConfig {
    /// Existing PersistentVolumeClaim (in the graph's namespace) holding the cache.
    #[schemars(length(min = 1))]
    pub pvc_name: String,
    /// Where to mount it; a backend-specific default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

// === impl ExperimentalSpec ===

/// Component-level preview features; their shape may change between `v1beta1` releases.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentalSpec {
    /// Run the GPU Memory Service and hand out GPUs to its clients through DRA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_service: Option<GpuMemoryServiceSpec>,
    /// Active/standby engine failover on shared GPUs (needs `gpuMemoryService` with the same mode
    /// and the graph annotation `nvidia.com/dynamo-kube-discovery-mode: container`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverSpec>,
    /// Grove-specific rendering options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grove: Option<GroveSpec>,
    /// Checkpoint the engine container and restore new pods from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<ComponentCheckpointConfig>,
}

/// GPU Memory Service settings of a worker component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.extraClientContainers) || size(self.extraClientContainers) == 0 || self.mode == 'IntraPod'",
        "message": "extraClientContainers is only supported with mode=IntraPod",
    },
    {
        "rule": "!has(self.extraClientPods) || size(self.extraClientPods) == 0 || self.mode == 'InterPod'",
        "message": "extraClientPods is only supported with mode=InterPod",
    },
    {
        "rule": "!has(self.extraClientPods) || size(self.extraClientPods) == 0",
        "message": "extraClientPods is reserved for inter-pod GMS and is not implemented yet",
    },
]))]
pub struct GpuMemoryServiceSpec {
    /// Where the memory service runs relative to the engines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "IntraPod"))]
    pub mode: Option<GpuMemoryServiceMode>,
    /// DRA DeviceClass GPUs are requested from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "gpu.nvidia.com"))]
    pub device_class_name: Option<String>,
    /// Further containers of `podTemplate` (by name) wired as memory-service clients (intra-pod
    /// mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::container_name_set)]
    pub extra_client_containers: Option<Vec<String>>,
    /// Further client pods (inter-pod mode; reserved, rejected for now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::list_map_by_name)]
    pub extra_client_pods: Option<Vec<GmsClientPodSpec>>,
}

/// Where the GPU Memory Service (and failover engines) run relative to the engines.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum GpuMemoryServiceMode {
    /// A sidecar in the engine's pod.
    #[default]
    IntraPod,
    /// Separate rank-local pods sharing the GPUs through DRA.
    InterPod,
}

/// Active/standby failover of a worker component's engine.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailoverSpec {
    /// Topology of the engines; must equal `gpuMemoryService.mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "IntraPod"))]
    pub mode: Option<GpuMemoryServiceMode>,
    /// Standby engines per rank; only 1 is supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1), extend("default" = 1))]
    pub num_shadows: Option<i32>,
}

/// Grove-specific rendering options of a component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroveSpec {
    /// Render a single-node component as a PodCliqueScalingGroup (one single-pod PodClique per
    /// replica, replicas beyond `minAvailable` gang-scheduled on their own). Unset or false means
    /// automatic. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_scaling_group: Option<bool>,
}

/// Checkpointing of a component: new pods restore the engine container from a snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.job) || !has(self.checkpointRef) || size(self.checkpointRef) == 0",
    "message": "checkpoint.job cannot be set when checkpointRef is specified",
}]))]
pub struct ComponentCheckpointConfig {
    /// Checkpoint and restore this component: an automatic checkpoint of the graph, or the one
    /// `checkpointRef` names.
    pub enabled: bool,
    /// Deprecated: who creates the checkpoint (use `enabled` and `checkpointRef` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<CheckpointMode>,
    /// When workers start relative to the automatic checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Immediate"))]
    pub startup_policy: Option<CheckpointStartupPolicy>,
    /// Whether an automatic checkpoint is deleted or kept with the graph (a referenced one is
    /// never deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Delete"))]
    pub deletion_policy: Option<CheckpointDeletionPolicy>,
    /// Name of an existing checkpoint to restore from; `identity` is ignored when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_ref: Option<String>,
    /// Deprecated: what the checkpoint must match (automatic checkpoints need none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<DynamoCheckpointIdentity>,
    /// Container that is snapshotted and restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = crate::schema::DNS_LABEL_PATTERN),
        extend("default" = "main")
    )]
    pub target_container_name: Option<String>,
    /// Customisation of the Job that takes the automatic checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<ComponentCheckpointJobConfig>,
}

/// Deprecated: properties that identify a checkpoint.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamoCheckpointIdentity {
    /// Model identifier, such as `meta-llama/Llama-3-70B`.
    #[schemars(length(min = 1))]
    pub model: String,
    /// Backend the checkpoint was taken with.
    pub backend_framework: BackendFramework,
    /// Dynamo version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamo_version: Option<String>,
    /// Tensor-parallel degree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), extend("default" = 1))]
    pub tensor_parallel_size: Option<i32>,
    /// Pipeline-parallel degree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), extend("default" = 1))]
    pub pipeline_parallel_size: Option<i32>,
    /// Data type, such as `fp16`, `bf16` or `fp8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// Maximum sequence length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_model_len: Option<i32>,
    /// Further parameters that change the checkpoint hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_parameters: Option<BTreeMap<String, String>>,
}
