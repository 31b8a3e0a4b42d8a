//! The `nvidia.com/v1alpha1` API: every kind Dynamo 1.5 serves at `v1alpha1`.
//!
//! | Kind | Short name | Module | Also served at `v1beta1` |
//! |---|---|---|---|
//! | [`DynamoGraphDeployment`] | `dgd` | [`graph`] | yes (stored there; `v1alpha1` is deprecated) |
//! | [`DynamoComponentDeployment`] | `dcd` | [`component`] | yes (stored there; deprecated here) |
//! | [`DynamoGraphDeploymentScalingAdapter`] | `dgdsa` | [`scaling_adapter`] | yes (stored there; deprecated here) |
//! | [`DynamoGraphDeploymentRequest`] | `dgdr` | [`request`] | yes (stored there; deprecated here) |
//! | [`DynamoModel`] | `dm` | [`model`] | no |
//! | [`DynamoCheckpoint`] | `dckpt` | [`checkpoint`] | no |
//! | [`DynamoWorkerMetadata`] | `dwm` | [`worker_metadata`] | no |
//!
//! The per-service spec shared by graph services and component deployments lives in [`shared`].
//! Types whose schema `v1beta1` shares are defined in [`crate::common`] and re-exported by the
//! modules here, so each module names every type of its kind's schema.

pub mod checkpoint;
pub mod component;
pub mod graph;
pub mod model;
pub mod request;
pub mod scaling_adapter;
pub mod shared;
pub mod worker_metadata;

pub use checkpoint::{DynamoCheckpoint, DynamoCheckpointSpec, DynamoCheckpointStatus};
pub use component::{
    DynamoComponentDeployment, DynamoComponentDeploymentSpec, DynamoComponentDeploymentStatus,
};
pub use graph::{
    DynamoGraphDeployment, DynamoGraphDeploymentSpec, DynamoGraphDeploymentStatus,
    ServiceReplicaStatus,
};
pub use model::{DynamoModel, DynamoModelSpec, DynamoModelStatus};
pub use request::{
    DynamoGraphDeploymentRequest, DynamoGraphDeploymentRequestSpec,
    DynamoGraphDeploymentRequestStatus,
};
pub use scaling_adapter::{
    DynamoGraphDeploymentScalingAdapter, DynamoGraphDeploymentScalingAdapterSpec,
    DynamoGraphDeploymentScalingAdapterStatus,
};
pub use shared::DynamoComponentDeploymentSharedSpec;
pub use worker_metadata::{DynamoWorkerMetadata, DynamoWorkerMetadataSpec};

/// The version part of this module's `apiVersion`.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` of every kind in this module (`nvidia.com/v1alpha1`).
pub const API_VERSION: &str = "nvidia.com/v1alpha1";
