//! Custom resource types of Dynamo 1.5's `nvidia.com` API, in both versions it serves, and the
//! CRDs generated from them.
//!
//! The kinds are wire-compatible with NVIDIA Dynamo's operator, so existing manifests keep
//! working unchanged:
//!
//! | Kind | Short name | `v1alpha1` | `v1beta1` |
//! |---|---|---|---|
//! | DynamoGraphDeployment | `dgd` | [`v1alpha1::graph`] (deprecated) | [`v1beta1::graph`] (stored) |
//! | DynamoComponentDeployment | `dcd` | [`v1alpha1::component`] (deprecated) | [`v1beta1::component`] (stored) |
//! | DynamoGraphDeploymentScalingAdapter | `dgdsa` | [`v1alpha1::scaling_adapter`] (deprecated) | [`v1beta1::scaling_adapter`] (stored) |
//! | DynamoGraphDeploymentRequest | `dgdr` | [`v1alpha1::request`] (deprecated) | [`v1beta1::request`] (stored) |
//! | DynamoModel | `dm` | [`v1alpha1::model`] (stored) | - |
//! | DynamoCheckpoint | `dckpt` | [`v1alpha1::checkpoint`] (stored) | - |
//! | DynamoWorkerMetadata | `dwm` | [`v1alpha1::worker_metadata`] (stored) | - |
//!
//! The API server converts between the two versions through the operator's conversion webhook
//! (see [`crds::conversion_webhook_service`]); this crate only defines the types. Types whose
//! schema is the same in both versions live once, in [`common`].
//!
//! The crate root names the **`v1beta1`** (hub) types the operator works with, and the module
//! paths [`graph`], [`component`], [`shared`] and [`scaling_adapter`] are `v1beta1`'s; `v1alpha1`
//! objects are converted at the edge (the conversion webhook, `render`'s input) by the
//! `dynamo-conversion` crate. [`model`] is DynamoModel's only version, `v1alpha1`.
//!
//! The CRDs themselves (with structural OpenAPI schemas) come from [`crds::all`], never from
//! `CustomResourceExt::crd()` directly: the derive is configured without a schema, which
//! [`crds`] builds through [`schema`]. [`compat`] compares two CRDs field by field.
//!
//! This crate does no IO.
#![forbid(unsafe_code)]

pub mod common;
pub mod compat;
pub mod crds;
pub mod schema;
pub mod v1alpha1;
pub mod v1beta1;

pub use v1alpha1::model;
pub use v1beta1::{component, graph, scaling_adapter, shared};

pub use common::{BackendFramework, ComponentKind};
pub use v1alpha1::model::{DynamoModel, DynamoModelSpec, DynamoModelStatus};
pub use v1beta1::component::{
    DynamoComponentDeployment, DynamoComponentDeploymentSpec, DynamoComponentDeploymentStatus,
};
pub use v1beta1::graph::{
    ComponentReplicaStatus, DynamoGraphDeployment, DynamoGraphDeploymentSpec,
    DynamoGraphDeploymentStatus,
};
pub use v1beta1::scaling_adapter::{
    DynamoGraphDeploymentScalingAdapter, DynamoGraphDeploymentScalingAdapterSpec,
    DynamoGraphDeploymentScalingAdapterStatus,
};
pub use v1beta1::shared::{ComponentType, DynamoComponentDeploymentSharedSpec};

/// API group of every kind in this crate.
pub const GROUP: &str = "nvidia.com";
/// Version of the graph kinds the crate root names (the hub, `v1beta1`).
pub const VERSION: &str = v1beta1::VERSION;
/// `apiVersion` of the graph kinds the crate root names (`nvidia.com/v1beta1`).
pub const API_VERSION: &str = v1beta1::API_VERSION;

#[cfg(test)]
mod tests;
