//! `nvidia.com/v1beta1` `DynamoGraphDeploymentRequest` (`dgdr`): a request to profile a model
//! against service-level targets and derive, and optionally deploy, a graph for it. The storage
//! version of the kind.
//!
//! The request controller runs a profiling Job, stores the selected configuration and the
//! generated `DynamoGraphDeployment` in the status and, with `autoApply` (the default), creates
//! that graph.

use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::common::{ProfilingBackend, RUNTIME_VERSION_PATTERN};

/// Desired state of a deployment request: the model, the targets and the hardware.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1beta1",
    kind = "DynamoGraphDeploymentRequest",
    plural = "dynamographdeploymentrequests",
    singular = "dynamographdeploymentrequest",
    shortname = "dgdr",
    namespaced,
    status = "DynamoGraphDeploymentRequestStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "A request to profile a model and derive (and by default deploy) an inference graph \
           for it. Get its CRD from `dynamo_api::crds`.",
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.model"),
    printcolumn(name = "Backend", type_ = "string", json_path = ".spec.backend"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "Profiling",
        type_ = "string",
        json_path = ".status.profilingPhase"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Succeeded")].reason"#
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Succeeded")].message"#
    ),
    printcolumn(name = "DGD", type_ = "string", json_path = ".status.dgdName"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DynamoGraphDeploymentRequestSpec {
    /// Model to deploy: a Hugging Face id (such as `Qwen/Qwen3-0.6B`) or a private model name.
    #[schemars(length(min = 1))]
    pub model: String,
    /// Inference backend to profile and deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "auto"))]
    pub backend: Option<ProfilingBackend>,
    /// Image of the profiling Job (the planner image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Dynamo runtime version (`MAJOR.MINOR.PATCH`) of generated components that set none, for
    /// an `image` whose tag is not that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = RUNTIME_VERSION_PATTERN))]
    pub runtime_version_override: Option<String>,
    /// Create the generated graph once profiling is done (otherwise it is only stored in the
    /// status, for review).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub auto_apply: Option<bool>,
    /// How thoroughly the profiler searches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "rapid"))]
    pub search_strategy: Option<SearchStrategy>,
    /// Service-level targets profiling optimises for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaSpec>,
    /// Expected workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadSpec>,
    /// Hardware available for profiling and deployment; discovered from the cluster when
    /// omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<HardwareSpec>,
    /// PVC holding pre-downloaded model weights, used instead of downloading them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_cache: Option<ModelCacheSpec>,
    /// Optional platform features of the generated graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<FeaturesSpec>,
    /// Overrides of the profiling Job and of the generated graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<OverridesSpec>,
}

/// Profiler search depth.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchStrategy {
    /// A fast sweep.
    #[default]
    Rapid,
    /// A wider search over more configurations.
    Thorough,
}

/// Service-level targets of a deployment request (latencies in milliseconds).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlaSpec {
    /// Time-to-first-token target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft: Option<f64>,
    /// Inter-token latency target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub itl: Option<f64>,
    /// End-to-end request latency target (instead of `ttft` and `itl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e_latency: Option<f64>,
    /// What profiling optimises for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization_type: Option<OptimizationType>,
}

/// Optimisation target of SLA profiling.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptimizationType {
    /// Lowest latency.
    Latency,
    /// Highest throughput.
    Throughput,
}

/// Expected workload of a deployment request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    /// Input sequence length, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 4000))]
    pub isl: Option<i32>,
    /// Output sequence length, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 1000))]
    pub osl: Option<i32>,
    /// Target concurrency (not with `requestRate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<f64>,
    /// Target request rate, in requests per second (not with `concurrency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_rate: Option<f64>,
}

/// Hardware available to a deployment request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HardwareSpec {
    /// GPU type to target; the most common one in the cluster when omitted (discovery and
    /// `totalGpus` are then restricted to nodes with that GPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_sku: Option<GpuSku>,
    /// Memory per GPU, in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vram_mb: Option<f64>,
    /// GPUs per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_gpus_per_node: Option<i32>,
    /// GPU budget of profiling and deployment; counted from the discovered nodes (capped at 32)
    /// when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_gpus: Option<i32>,
    /// GPU-to-GPU interconnect within a node, such as `nvlink` or `pcie` (a description of the
    /// hardware; it configures nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interconnect: Option<String>,
    /// Whether RDMA networking is usable for Dynamo's data movement (a description of the
    /// cluster; it configures nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdma: Option<bool>,
}

/// GPU types a deployment request can target.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GpuSku {
    /// NVIDIA GB200 (SXM).
    Gb200Sxm,
    /// NVIDIA GB10.
    Gb10,
    /// NVIDIA B200 (SXM).
    B200Sxm,
    /// NVIDIA H200 (SXM).
    H200Sxm,
    /// NVIDIA H100 (SXM).
    H100Sxm,
    /// NVIDIA H100 (PCIe).
    H100Pcie,
    /// NVIDIA A100 (SXM).
    A100Sxm,
    /// NVIDIA A100 (PCIe).
    A100Pcie,
    /// NVIDIA A30.
    A30,
    /// NVIDIA L40S.
    L40s,
    /// NVIDIA L40.
    L40,
    /// NVIDIA L4.
    L4,
    /// NVIDIA V100 (SXM).
    V100Sxm,
    /// NVIDIA V100 (PCIe).
    V100Pcie,
    /// NVIDIA T4.
    T4,
    /// AMD Instinct MI200.
    Mi200,
    /// AMD Instinct MI300.
    Mi300,
}

/// PVC with pre-downloaded model weights.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelCacheSpec {
    /// The PersistentVolumeClaim (in the request's namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc_name: Option<String>,
    /// The model's directory within the claim (relative), or under `pvcMountPath` (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc_model_path: Option<String>,
    /// Where the claim is mounted in the containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "/opt/model-cache"))]
    pub pvc_mount_path: Option<String>,
}

/// Optional platform features of a generated graph.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeaturesSpec {
    /// Present: the generated graph gets a planner with this configuration, handed over as it is
    /// (the planner validates it when it starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner: Option<Map<String, Value>>,
    /// Simulated engines that need no GPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mocker: Option<MockerSpec>,
}

/// Simulated (mocker) engines.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MockerSpec {
    /// Deploy mocker workers instead of real inference workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Overrides of a deployment request's profiling Job and generated graph.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverridesSpec {
    /// Job spec fields merged into the profiling Job the controller generates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling_job: Option<JobSpec>,
    /// A partial `DynamoGraphDeployment` (`nvidia.com/v1alpha1` or `v1beta1`, with `apiVersion`
    /// and `kind`) merged into the generated graph; it may only touch components the profiler
    /// generated. The final graph is always `v1beta1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::embedded_resource)]
    pub dgd: Option<Map<String, Value>>,
}

/// Observed state of a deployment request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamoGraphDeploymentRequestStatus {
    /// Where the request is in its lifecycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RequestPhase>,
    /// Step of the profiling pipeline (while `phase` is `Profiling`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling_phase: Option<ProfilingPhase>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions of the request (`Succeeded`, `Validation`, `Profiling`, `SpecGenerated`,
    /// `DeploymentReady`), one per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::list_map_by_type)]
    pub conditions: Option<Vec<Condition>>,
    /// Name of the profiling Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling_job_name: Option<String>,
    /// Name of the generated (or created) graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dgd_name: Option<String>,
    /// What profiling selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling_results: Option<ProfilingResultsStatus>,
    /// Replica counts of the created graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_info: Option<DeploymentInfoStatus>,
}

/// Lifecycle phase of a `v1beta1` deployment request.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum RequestPhase {
    /// Validated, preparing profiling.
    Pending,
    /// The profiling Job runs.
    Profiling,
    /// Profiling is done; the generated graph is in the status.
    Ready,
    /// The generated graph is being created and rolled out.
    Deploying,
    /// The generated graph runs and is healthy.
    Deployed,
    /// The request failed.
    Failed,
}

/// Step of the profiling pipeline.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ProfilingPhase {
    /// Starting.
    Initializing,
    /// Measuring prefill configurations.
    SweepingPrefill,
    /// Measuring decode configurations.
    SweepingDecode,
    /// Choosing a configuration.
    SelectingConfig,
    /// Building performance curves.
    BuildingCurves,
    /// Generating the graph.
    #[serde(rename = "GeneratingDGD")]
    GeneratingDgd,
    /// Finished.
    Done,
}

/// What profiling selected.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfilingResultsStatus {
    /// The configuration profiling recommends for the targets (the one deployed with
    /// `autoApply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_config: Option<Map<String, Value>>,
    /// Deprecated and no longer filled in: Pareto-optimal configurations of older profilers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pareto: Option<Vec<ParetoConfig>>,
}

/// Deprecated: one Pareto-optimal configuration of an older profiler.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParetoConfig {
    /// The full deployment configuration of this point.
    pub config: Map<String, Value>,
}

/// Replica counts of the graph a request created.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInfoStatus {
    /// Desired replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Available replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
}
