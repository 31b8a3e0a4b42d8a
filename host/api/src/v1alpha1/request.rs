//! `nvidia.com/v1alpha1` `DynamoGraphDeploymentRequest` (`dgdr`, deprecated in favour of
//! `v1beta1`): a request to profile a model and derive, and optionally deploy, a graph for it.
//!
//! The request controller runs a profiling Job with the given configuration, stores the generated
//! `DynamoGraphDeployment` in the status and, with `autoApply`, creates it. The spec becomes
//! immutable once profiling starts.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ResourceRequirements, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::common::{DeploymentState, ProfilingBackend, RUNTIME_VERSION_PATTERN};

/// Desired state of a deployment request: the model, its backend and the profiling setup.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1alpha1",
    kind = "DynamoGraphDeploymentRequest",
    plural = "dynamographdeploymentrequests",
    singular = "dynamographdeploymentrequest",
    shortname = "dgdr",
    namespaced,
    status = "DynamoGraphDeploymentRequestStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "A request to profile a model and derive (and optionally deploy) an inference graph \
           for it. Get its CRD from `dynamo_api::crds`.",
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.model"),
    printcolumn(name = "Backend", type_ = "string", json_path = ".status.backend"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state"),
    printcolumn(
        name = "DGD-State",
        type_ = "string",
        json_path = ".status.deployment.state"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DynamoGraphDeploymentRequestSpec {
    /// Model to deploy, such as `Qwen/Qwen3-0.6B`; handed to the profiler as the deployment's
    /// model.
    pub model: String,
    /// Inference backend to profile (and deploy); handed to the profiler as the engine's backend.
    pub backend: ProfilingBackend,
    /// Dynamo runtime version of every generated component (`MAJOR.MINOR.PATCH`), for a profiler
    /// image whose tag is not that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = RUNTIME_VERSION_PATTERN))]
    pub runtime_version_override: Option<String>,
    /// Deploy simulated engines that need no GPUs (profiling still runs on the real backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub use_mocker: Option<bool>,
    /// Deprecated and ignored: GPU discovery is always attempted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = true))]
    pub enable_gpu_discovery: Option<bool>,
    /// The profiling Job's configuration.
    pub profiling_config: ProfilingConfigSpec,
    /// Create the generated graph once profiling is done (otherwise it is only stored in the
    /// status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub auto_apply: Option<bool>,
    /// Metadata of the graph created by `autoApply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_overrides: Option<DeploymentOverridesSpec>,
}

/// The profiling Job's configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfilingConfigSpec {
    /// Image of the profiling Job.
    pub profiler_image: String,
    /// Profiler configuration, handed to the profiler as it is (the profiler validates it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Map<String, Value>>,
    /// ConfigMap holding the base graph configuration the profiler starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ConfigMapKeyReference>,
    /// PersistentVolumeClaim (same namespace) the profiler writes all its output to; without it
    /// only the essential results are kept, in ConfigMaps.
    #[serde(rename = "outputPVC", default, skip_serializing_if = "Option::is_none")]
    pub output_pvc: Option<String>,
    /// Requests and limits of the profiling container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Tolerations of the profiling pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    /// Node labels the profiling pod must be scheduled on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
}

/// A key of a ConfigMap in the request's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapKeyReference {
    /// Name of the ConfigMap.
    pub name: String,
    /// Key in the ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "disagg.yaml"))]
    pub key: Option<String>,
}

/// Metadata of the graph a request creates.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOverridesSpec {
    /// Name of the graph; the request's name when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the graph; the request's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels added to the graph's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations added to the graph's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Image of the graph's workers (also during online profiling); the base configuration's
    /// image when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers_image: Option<String>,
}

/// Observed state of a deployment request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["state"]))]
pub struct DynamoGraphDeploymentRequestStatus {
    /// Where the request is in its lifecycle.
    #[serde(default)]
    pub state: RequestState,
    /// Backend the profiler used (for display).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions of the request (`Validation`, `Profiling`, `SpecGenerated`,
    /// `DeploymentReady`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Where the profiling results are, as `configmap/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiling_results: Option<String>,
    /// The generated `DynamoGraphDeployment`, whole (with its metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::embedded_resource)]
    pub generated_deployment: Option<Map<String, Value>>,
    /// The graph created by `autoApply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentStatus>,
}

/// Lifecycle state of a `v1alpha1` deployment request.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RequestState {
    /// The spec is being validated.
    #[default]
    Initializing,
    /// Preparing the profiling Job.
    Pending,
    /// The profiling Job runs.
    Profiling,
    /// The generated graph is being deployed.
    Deploying,
    /// The generated graph is ready (or, without `autoApply`, its spec is).
    Ready,
    /// The graph created by `autoApply` was deleted.
    DeploymentDeleted,
    /// The request failed.
    Failed,
}

/// The graph a request created.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["state"]))]
pub struct DeploymentStatus {
    /// Name of the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The graph's `status.state`, mirrored.
    #[serde(default)]
    pub state: DeploymentState,
    /// Whether the graph was created (so that a graph deleted by hand is not created again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
}
