//! The `nvidia.com/v1beta1` API: the storage ("hub") version of Dynamo 1.5's graph kinds.
//!
//! | Kind | Short name | Module |
//! |---|---|---|
//! | [`DynamoGraphDeployment`] | `dgd` | [`graph`] |
//! | [`DynamoComponentDeployment`] | `dcd` | [`component`] |
//! | [`DynamoGraphDeploymentScalingAdapter`] | `dgdsa` | [`scaling_adapter`] |
//! | [`DynamoGraphDeploymentRequest`] | `dgdr` | [`request`] |
//!
//! What changed from `v1alpha1`: a graph lists its components in `spec.components` (each with a
//! `name` and a `type` from a fixed set) instead of a `spec.services` map; the ten pod knobs of a
//! `v1alpha1` service (`resources`, `envs`, `extraPodSpec`, ...) are one native `podTemplate`
//! whose container `main` receives the operator's defaults; `sharedMemory` became
//! `sharedMemorySize`, `scalingAdapter` a presence marker, `frontendSidecar` the name of a
//! container, and GPU memory service, failover, checkpointing and Grove options moved under
//! `experimental`. The status uses `components` for `services`. The component spec lives in
//! [`shared`]; types `v1alpha1` shares are defined in [`crate::common`] and re-exported here.
//!
//! The Rust types serialise only the fields that are set (no `{}` or `[]` for absent fields), so
//! writing back an object read from the API server does not change it.

pub mod component;
pub mod graph;
pub mod request;
pub mod scaling_adapter;
pub mod shared;

pub use component::{
    DynamoComponentDeployment, DynamoComponentDeploymentSpec, DynamoComponentDeploymentStatus,
};
pub use graph::{
    ComponentReplicaStatus, DynamoGraphDeployment, DynamoGraphDeploymentSpec,
    DynamoGraphDeploymentStatus,
};
pub use request::{
    DynamoGraphDeploymentRequest, DynamoGraphDeploymentRequestSpec,
    DynamoGraphDeploymentRequestStatus,
};
pub use scaling_adapter::{
    DynamoGraphDeploymentScalingAdapter, DynamoGraphDeploymentScalingAdapterSpec,
    DynamoGraphDeploymentScalingAdapterStatus,
};
pub use shared::{ComponentType, DynamoComponentDeploymentSharedSpec, MAIN_CONTAINER_NAME};

/// The version part of this module's `apiVersion`.
pub const VERSION: &str = "v1beta1";
/// `apiVersion` of every kind in this module (`nvidia.com/v1beta1`).
pub const API_VERSION: &str = "nvidia.com/v1beta1";

#[cfg(test)]
mod tests;
