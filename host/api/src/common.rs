//! Small types shared by several kinds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// Well-known values of a service's `componentType`.
///
/// The field itself is a free-form string; these are the roles the operator gives special
/// treatment to.
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

/// Kind of workload object that backs one service.
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
}

/// Well-known condition types and reasons used in the status of these kinds.
pub mod condition {
    /// `DynamoGraphDeployment`: every service is ready.
    pub const READY: &str = "Ready";
    /// `DynamoGraphDeployment`: the topology levels requested by the graph exist in the cluster.
    pub const TOPOLOGY_LEVELS_AVAILABLE: &str = "TopologyLevelsAvailable";
    /// `DynamoComponentDeployment`: the component's workload is available.
    pub const AVAILABLE: &str = "Available";
    /// `DynamoComponentDeployment`: the component is ready to serve.
    pub const DYNAMO_COMPONENT_READY: &str = "DynamoComponentReady";
    /// `DynamoModel`: Services serving the base model were found.
    pub const SERVICES_FOUND: &str = "ServicesFound";
    /// `DynamoModel`: at least one endpoint serving the model is ready.
    pub const ENDPOINTS_READY: &str = "EndpointsReady";
}
