//! The `nvidia.com/v1alpha1` per-service spec: one entry of a graph's `spec.services`, and the
//! body of a `v1alpha1` `DynamoComponentDeployment` spec.

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscalerBehavior, MetricSpec};
use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, Container, EnvVar, PodSpec, Probe, ResourceClaim,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::common::BackendFramework;
pub use crate::common::{
    CheckpointDeletionPolicy, CheckpointMode, CheckpointStartupPolicy,
    ComponentCheckpointJobConfig, ComponentRoleSpec, EndpointPickerConfig, EppPluginSpec,
    EppSaturationDetector, EppSchedulingPlugin, EppSchedulingProfile, GmsClientPodSpec,
    ProviderOverride, RUNTIME_VERSION_PATTERN, TOPOLOGY_DOMAIN_PATTERN, TopologyConstraint,
};

/// Desired state of one service of a graph (a frontend, a worker pool, a planner, ...).
///
/// Used as the value type of `DynamoGraphDeployment.spec.services` and flattened into
/// `DynamoComponentDeployment.spec`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.minAvailable) || (has(self.replicas) && self.replicas == 0) || self.minAvailable <= (has(self.replicas) ? self.replicas : 1)",
        "message": "minAvailable must be less than or equal to replicas unless replicas is 0",
    },
    {
        "rule": "!has(oldSelf.minAvailable) || (has(self.minAvailable) && self.minAvailable == oldSelf.minAvailable)",
        "message": "minAvailable is immutable after creation",
    },
]))]
pub struct DynamoComponentDeploymentSharedSpec {
    /// Provider override for the service's primary workload unit (Grove: the PodClique template or
    /// the PodCliqueScalingGroup configuration; only `topologyConstraint` may be set). Graph
    /// services only: the standalone component CRD does not have this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_override: Option<ProviderOverride>,

    /// Annotations added to the resources generated for this service (pods, Services, ingress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,

    /// Labels added to the resources generated for this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,

    /// Name of the service; defaults to its key in `spec.services`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,

    /// Role of the service: frontend, worker, prefill, decode, planner, epp or default.
    ///
    /// The role decides which ports, probes and environment the operator adds to the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_type: Option<String>,

    /// Sub-role of a worker, such as prefill or decode; only used as a label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_component_type: Option<String>,

    /// Dynamo runtime version of the main image (`MAJOR.MINOR.PATCH`), for images whose tag is not
    /// that version; it does not change the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = RUNTIME_VERSION_PATTERN))]
    pub runtime_version_override: Option<String>,

    /// Deprecated and ignored: the Dynamo namespace is derived from the Kubernetes namespace and
    /// the graph name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamo_namespace: Option<String>,

    /// Place the service in the cluster-wide Dynamo namespace `dynamo` instead of the graph's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_dynamo_namespace: Option<bool>,

    /// CPU, memory and GPU requests and limits of the main container, plus DRA claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,

    /// Deprecated and ignored: scale services with a DynamoGraphDeploymentScalingAdapter instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,

    /// Environment variables of the main container; they override graph-level `envs` by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envs: Option<Vec<EnvVar>>,

    /// Name of a Secret whose keys become environment variables of the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_from_secret: Option<String>,

    /// Graph-level PVCs (from `spec.pvcs`) to mount into the main container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Vec<VolumeMount>>,

    /// Expose the service outside the cluster through an Ingress or a VirtualService.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,

    /// Model served by this service; creates a headless Service used for endpoint discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_ref: Option<ModelReference>,

    /// Size of the tmpfs mounted at /dev/shm, or whether to mount it at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_memory: Option<SharedMemorySpec>,

    /// Extra labels and annotations for the service's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_pod_metadata: Option<ExtraPodMetadata>,

    /// Pod spec fields merged into the generated pods, plus `mainContainer` overrides.
    ///
    /// `containers` may be omitted; they are added next to the main container when given.
    // Boxed (not in the schema text): a pod spec with its main container is ~4 KiB inline, and
    // every cached component carries this struct whether the field is set or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_pod_spec: Option<Box<ExtraPodSpec>>,

    /// Liveness probe of the main container; replaces the operator's default probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,

    /// Readiness probe of the main container; replaces the operator's default probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,

    /// Desired number of replicas (for multinode services: of node groups).
    ///
    /// Owned by the scaling adapter while `scalingAdapter.enabled` is true.
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

    /// Named parts of the service that produce their own pods; for a multi-node service exactly
    /// one `leader` and one `worker`. Omitted: the implicit multi-node layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::list_map_by_name)]
    pub roles: Option<Vec<ComponentRoleSpec>>,

    /// Let a DynamoGraphDeploymentScalingAdapter own `replicas` (for HPA, KEDA or the planner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_adapter: Option<ScalingAdapter>,

    /// Configuration of an endpoint-picker (`componentType: epp`) service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epp_config: Option<EppConfig>,

    /// Add a generated frontend sidecar container to each pod of this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_sidecar: Option<FrontendSidecarSpec>,

    /// Restore the engine from a checkpoint for a faster cold start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<ServiceCheckpointConfig>,

    /// Topology domain the service's pods are packed into.
    ///
    /// Must be at most as wide as the graph-level `packDomain` when both are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_constraint: Option<TopologyConstraint>,

    /// Run the GPU Memory Service sidecar and hand out GPUs through DRA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_service: Option<GpuMemoryServiceSpec>,

    /// Active/standby engine failover on shared GPUs (needs `gpuMemoryService.enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverSpec>,
}

/// Requests, limits and DRA claims of a service's main container.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Minimum resources the main container needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceItem>,
    /// Maximum resources the main container may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceItem>,
    /// Dynamic resource allocation claims the main container uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ResourceClaim>>,
}

/// One set of resource amounts; all amounts are plain strings in Kubernetes quantity syntax.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceItem {
    /// CPU amount, such as `500m` or `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Memory amount, such as `4Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// Number of GPUs per pod; for multinode services this is per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    /// Extended resource name used for `gpu`; `nvidia.com/gpu` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_type: Option<String>,
    /// Other resources by name, such as `rdma/ib: "1"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<BTreeMap<String, String>>,
}

/// Deprecated horizontal autoscaling settings; accepted but ignored.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    /// Whether autoscaling was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Lower replica bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::plain_integer)]
    pub min_replicas: Option<i64>,
    /// Upper replica bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::plain_integer)]
    pub max_replicas: Option<i64>,
    /// Scale-up and scale-down behaviour, as in a HorizontalPodAutoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<HorizontalPodAutoscalerBehavior>,
    /// Metrics to scale on, as in a HorizontalPodAutoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<MetricSpec>>,
}

/// Mount of a graph-level PVC into the main container.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// Name of a PVC declared in the graph's `spec.pvcs`.
    pub name: String,
    /// Path to mount the volume at; may be omitted for a compilation cache (a backend-specific
    /// default is used then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_point: Option<String>,
    /// Use the volume as the backend's compilation cache (sets the matching environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub use_as_compilation_cache: Option<bool>,
}

/// How a service is exposed outside the cluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// Create the Ingress or VirtualService.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Base host name routed to the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Create an Istio VirtualService instead of an Ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_virtual_service: Option<bool>,
    /// Gateway the VirtualService binds to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_service_gateway: Option<String>,
    /// Text put in front of `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_prefix: Option<String>,
    /// Text appended to `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_suffix: Option<String>,
    /// Annotations of the generated Ingress or VirtualService.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels of the generated Ingress or VirtualService.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// TLS settings of the generated Ingress or VirtualService.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<IngressTls>,
    /// Ingress class to use, such as `nginx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_controller_class_name: Option<String>,
}

/// TLS settings of an ingress.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressTls {
    /// Secret holding the certificate and key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

/// Reference to the model a service serves.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelReference {
    /// Base model identifier, such as `llama-3-70b-instruct-v1`.
    pub name: String,
    /// Model revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// The tmpfs mounted at /dev/shm.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "(has(self.disabled) && self.disabled) || (has(self.size) && quantity(self.size).isGreaterThan(quantity('0')))",
    "message": "size is required when disabled is false",
}]))]
pub struct SharedMemorySpec {
    /// Do not mount /dev/shm at all (`size` is then ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Size limit of the tmpfs, such as `8Gi`; required and positive unless `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Quantity>,
}

/// Extra metadata for a service's pods.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtraPodMetadata {
    /// Annotations added to the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels added to the pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Pod spec overrides: any `PodSpec` field, plus `mainContainer`.
///
/// On the wire the pod spec fields sit next to `mainContainer` in one object. Unlike a real
/// `PodSpec`, `containers` is optional (an empty list is omitted when serialising), and
/// `mainContainer.name` may be left empty (an empty name is omitted) because the operator names
/// the main container itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExtraPodSpec {
    /// Pod-level fields; `containers` holds additional (sidecar) containers, if any.
    pub pod_spec: PodSpec,
    /// Fields merged into the main container the operator generates (image, command, args, ...).
    pub main_container: Option<Container>,
}

impl ExtraPodSpec {
    const MAIN_CONTAINER: &'static str = "mainContainer";
}

impl Serialize for ExtraPodSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut fields = match serde_json::to_value(&self.pod_spec).map_err(S::Error::custom)? {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        if self.pod_spec.containers.is_empty() {
            fields.remove("containers");
        }
        if let Some(main) = &self.main_container {
            let mut main = serde_json::to_value(main).map_err(S::Error::custom)?;
            if let Value::Object(main) = &mut main
                && main.get("name").is_some_and(|n| n == "")
            {
                main.remove("name");
            }
            fields.insert(Self::MAIN_CONTAINER.into(), main);
        }
        fields.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ExtraPodSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let main_container = match fields.remove(Self::MAIN_CONTAINER) {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                serde_json::from_value(value)
                    .map_err(|e| D::Error::custom(format!("mainContainer: {e}")))?,
            ),
        };
        let pod_spec = serde_json::from_value(Value::Object(fields)).map_err(D::Error::custom)?;
        Ok(Self {
            pod_spec,
            main_container,
        })
    }
}

impl JsonSchema for ExtraPodSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExtraPodSpec".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut pod = <PodSpec as JsonSchema>::json_schema(generator).to_value();
        crate::schema::definition_fixup(&PodSpec::schema_name(), &mut pod);
        let mut main = <Container as JsonSchema>::json_schema(generator).to_value();
        crate::schema::definition_fixup(&Container::schema_name(), &mut main);
        let mut schema = Schema::try_from(pod).unwrap_or_default();
        let mut main = Schema::try_from(main).unwrap_or_default();
        let main_obj = main.ensure_object();
        main_obj.remove("required");
        main_obj.insert(
            "description".into(),
            "Fields merged into the main container the operator generates; `name` may be omitted."
                .into(),
        );
        let obj = schema.ensure_object();
        obj.remove("required");
        obj.insert(
            "description".into(),
            "Pod spec fields merged into the generated pods, plus `mainContainer` overrides."
                .into(),
        );
        if let Some(Value::Object(properties)) = obj.get_mut("properties") {
            properties.insert(Self::MAIN_CONTAINER.into(), main.to_value());
        }
        schema
    }
}

/// Multi-node layout of a service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["nodeCount"]))]
pub struct MultinodeSpec {
    /// Nodes per replica (at least 2); GPUs per replica = nodeCount × the GPU limit.
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

/// Scaling-adapter switch of a service.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScalingAdapter {
    /// Create a DynamoGraphDeploymentScalingAdapter that owns this service's `replicas`.
    ///
    /// While false, `replicas` is edited directly in the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub enabled: Option<bool>,
}

/// Configuration of an endpoint-picker service; set exactly one of the two fields.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EppConfig {
    /// ConfigMap key holding an EndpointPickerConfig document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ConfigMapKeySelector>,
    /// EndpointPickerConfig given inline; the operator stores it in a generated ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<EndpointPickerConfig>,
}

/// A frontend container the operator adds to each pod of a service.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrontendSidecarSpec {
    /// Image of the frontend container.
    pub image: String,
    /// Arguments replacing the default `-m dynamo.frontend`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Name of a Secret whose keys become environment variables of the sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_from_secret: Option<String>,
    /// Extra environment variables of the sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envs: Option<Vec<EnvVar>>,
}

/// Checkpoint/restore settings of a service.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "!has(self.job) || !has(self.checkpointRef) || size(self.checkpointRef) == 0",
    "message": "checkpoint.job cannot be set when checkpointRef is specified",
}]))]
pub struct ServiceCheckpointConfig {
    /// Restore pods of this service from a checkpoint: an automatic one the graph creates, or the
    /// one `checkpointRef` names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub enabled: Option<bool>,
    /// Deprecated: who creates the checkpoint (use `enabled` and `checkpointRef` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<CheckpointMode>,
    /// When workers start relative to the automatic checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Immediate"))]
    pub startup_policy: Option<CheckpointStartupPolicy>,
    /// Whether an automatic checkpoint is deleted or kept with the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Delete"))]
    pub deletion_policy: Option<CheckpointDeletionPolicy>,
    /// Name of an existing checkpoint to restore from; `identity` is ignored when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_ref: Option<String>,
    /// Deprecated: what the checkpoint must match (automatic checkpoints need none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<CheckpointIdentity>,
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

/// Properties that identify a checkpoint; their hash names it (deprecated, kept for checkpoints
/// created by hand).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointIdentity {
    /// Model identifier, such as `meta-llama/Llama-3-70B`.
    pub model: String,
    /// Backend the checkpoint was taken with.
    pub backend_framework: BackendFramework,
    /// Dynamo version; when set it is part of the hash, tying the checkpoint to that release.
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
    /// Further parameters that change the checkpoint (framework-specific).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_parameters: Option<BTreeMap<String, String>>,
}

/// GPU Memory Service sidecar settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "!has(self.extraClientContainers) || size(self.extraClientContainers) == 0 || self.mode == 'intraPod'",
        "message": "extraClientContainers is only supported with mode=intraPod",
    },
    {
        "rule": "!has(self.extraClientPods) || size(self.extraClientPods) == 0 || self.mode == 'interPod'",
        "message": "extraClientPods is only supported with mode=interPod",
    },
    {
        "rule": "!has(self.extraClientPods) || size(self.extraClientPods) == 0",
        "message": "extraClientPods is reserved for inter-pod GMS and is not implemented yet",
    },
]))]
pub struct GpuMemoryServiceSpec {
    /// Inject the sidecar and replace GPU limits by a shared DRA claim.
    pub enabled: bool,
    /// Where the memory service runs relative to the engines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "intraPod"))]
    pub mode: Option<GpuSharingMode>,
    /// DRA DeviceClass GPUs are requested from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "gpu.nvidia.com"))]
    pub device_class_name: Option<String>,
    /// Further containers of the pod (by name) wired as memory-service clients (intra-pod mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::container_name_set)]
    pub extra_client_containers: Option<Vec<String>>,
    /// Further client pods (inter-pod mode; reserved, rejected for now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::list_map_by_name)]
    pub extra_client_pods: Option<Vec<GmsClientPodSpec>>,
}

/// Where GPU-sharing helpers run relative to the engines.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum GpuSharingMode {
    /// In the same pod as the engine.
    #[default]
    #[serde(rename = "intraPod")]
    IntraPod,
    /// In a separate pod.
    #[serde(rename = "interPod")]
    InterPod,
}

/// Active/standby failover of a service's engine.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailoverSpec {
    /// Run a standby engine next to the active one; it takes over when the active engine fails.
    pub enabled: bool,
    /// Deployment topology; must equal `gpuMemoryService.mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "intraPod"))]
    pub mode: Option<GpuSharingMode>,
    /// Standby engines per rank; the operator creates exactly one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), extend("default" = 1))]
    pub num_shadows: Option<i32>,
}
