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
//! Until the rest of the workspace moves to `v1beta1`, the crate root and the module paths of the
//! single-version crate ([`graph`], [`component`], [`shared`], [`scaling_adapter`], [`model`],
//! and the root [`DynamoGraphDeployment`] etc.) name the **`v1alpha1`** types, and [`VERSION`]
//! and [`API_VERSION`] are `v1alpha1`'s.
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

pub use v1alpha1::{component, graph, model, scaling_adapter, shared};

pub use common::{BackendFramework, ComponentKind, ServiceReplicaStatus};
pub use v1alpha1::component::{
    DynamoComponentDeployment, DynamoComponentDeploymentSpec, DynamoComponentDeploymentStatus,
};
pub use v1alpha1::graph::{
    DynamoGraphDeployment, DynamoGraphDeploymentSpec, DynamoGraphDeploymentStatus,
};
pub use v1alpha1::model::{DynamoModel, DynamoModelSpec, DynamoModelStatus};
pub use v1alpha1::scaling_adapter::{
    DynamoGraphDeploymentScalingAdapter, DynamoGraphDeploymentScalingAdapterSpec,
    DynamoGraphDeploymentScalingAdapterStatus,
};
pub use v1alpha1::shared::DynamoComponentDeploymentSharedSpec;

/// API group of every kind in this crate.
pub const GROUP: &str = "nvidia.com";
/// Version of the kinds the crate root names (`v1alpha1`, for now); see [`v1alpha1::VERSION`]
/// and [`v1beta1::VERSION`].
pub const VERSION: &str = v1alpha1::VERSION;
/// `apiVersion` of the kinds the crate root names (`nvidia.com/v1alpha1`, for now); see
/// [`v1alpha1::API_VERSION`] and [`v1beta1::API_VERSION`].
pub const API_VERSION: &str = v1alpha1::API_VERSION;

#[cfg(test)]
mod tests;
