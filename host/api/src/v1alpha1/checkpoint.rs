//! `DynamoCheckpoint` (`dckpt`, `nvidia.com/v1alpha1` only): a snapshot of a warmed-up engine
//! container that new worker pods restore from instead of starting cold.
//!
//! Graphs create these objects for components with checkpointing enabled (or name an existing
//! one in `checkpointRef`); a checkpoint can also be created by hand. The operator does not take
//! checkpoints yet: the kind is served so that existing objects stay readable and writable.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::v1alpha1::shared::{CheckpointIdentity, GpuMemoryServiceSpec, SharedMemorySpec};

/// Desired state of a checkpoint: what it is of, and the Job that takes it.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1alpha1",
    kind = "DynamoCheckpoint",
    plural = "dynamocheckpoints",
    singular = "dynamocheckpoint",
    shortname = "dckpt",
    namespaced,
    status = "DynamoCheckpointStatus",
    schema = "disabled",
    derive = "PartialEq",
    doc = "A snapshot of a warmed-up engine container that worker pods restore from. Get its CRD \
           from `dynamo_api::crds`.",
    printcolumn(
        name = "Model",
        type_ = "string",
        json_path = ".spec.identity.model",
        description = "Model the checkpoint holds"
    ),
    printcolumn(
        name = "Backend",
        type_ = "string",
        json_path = ".spec.identity.backendFramework",
        description = "Inference backend"
    ),
    printcolumn(
        name = "Phase",
        type_ = "string",
        json_path = ".status.phase",
        description = "Where the checkpoint is in its lifecycle"
    ),
    printcolumn(
        name = "CheckpointID",
        type_ = "string",
        json_path = ".status.checkpointID",
        description = "Artifact id of the checkpoint"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DynamoCheckpointSpec {
    /// What the checkpoint is of (deprecated for automatic checkpoints, still required here).
    /// Immutable after creation.
    pub identity: CheckpointIdentity,
    /// The Job that takes the checkpoint.
    pub job: DynamoCheckpointJobConfig,
    /// GPU Memory Service wiring the Job's pod template already carries. Not part of the
    /// identity, so it changes neither the hash nor deduplication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_service: Option<GpuMemoryServiceSpec>,
}

/// The Job that takes a checkpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamoCheckpointJobConfig {
    /// Pod template of the Job; its `targetContainerName` container is snapshotted.
    pub pod_template_spec: PodTemplateSpec,
    /// Seconds the Job may run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), extend("default" = 3600))]
    pub active_deadline_seconds: Option<i64>,
    /// Deprecated and ignored: checkpoint Jobs never retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub backoff_limit: Option<i32>,
    /// The tmpfs mounted at /dev/shm in the Job's pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_memory: Option<SharedMemorySpec>,
    /// Container of the pod template to snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = crate::schema::DNS_LABEL_PATTERN),
        extend("default" = "main")
    )]
    pub target_container_name: Option<String>,
    /// Deprecated and ignored: finished Jobs are deleted once their outcome is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub ttl_seconds_after_finished: Option<i32>,
}

/// Observed state of a checkpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamoCheckpointStatus {
    /// Where the checkpoint is in its lifecycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<CheckpointPhase>,
    /// Artifact id the snapshot protocol uses.
    #[serde(
        rename = "checkpointID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checkpoint_id: Option<String>,
    /// Hash of the identity (deprecated in favour of `checkpointID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_hash: Option<String>,
    /// Name of the Job that takes the checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    /// Name of the PodSnapshot this checkpoint created to drive the capture (empty until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_snapshot_name: Option<String>,
    /// When the checkpoint became ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Time>,
    /// More detail on the current phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Deprecated and no longer filled in; kept so older objects stay valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Deprecated and no longer filled in; kept so older objects stay valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_type: Option<CheckpointStorageType>,
    /// Deprecated in favour of `phase`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// Lifecycle phase of a checkpoint.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum CheckpointPhase {
    /// Waiting for its Job.
    Pending,
    /// The Job is taking the checkpoint.
    Creating,
    /// Pods can restore from the checkpoint.
    Ready,
    /// The checkpoint could not be taken.
    Failed,
}

/// Where a checkpoint's artifact was stored (deprecated).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointStorageType {
    /// A PersistentVolumeClaim.
    Pvc,
    /// An S3 bucket.
    S3,
    /// An OCI registry.
    Oci,
}
