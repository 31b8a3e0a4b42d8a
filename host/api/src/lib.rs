//! Custom resource types of the `nvidia.com/v1alpha1` API and the CRDs generated from them.
//!
//! The four kinds are wire-compatible with NVIDIA Dynamo's operator, so existing manifests keep
//! working unchanged:
//!
//! | Kind | Short name | Module |
//! |---|---|---|
//! | [`DynamoGraphDeployment`] | `dgd` | [`graph`] |
//! | [`DynamoComponentDeployment`] | `dcd` | [`component`] |
//! | [`DynamoGraphDeploymentScalingAdapter`] | `dgdsa` | [`scaling_adapter`] |
//! | [`DynamoModel`] | `dm` | [`model`] |
//!
//! The per-service spec shared by graph services and component deployments lives in [`shared`];
//! small types used by several kinds live in [`common`].
//!
//! The CRDs themselves (with structural OpenAPI schemas) come from [`crds::all`], never from
//! `CustomResourceExt::crd()` directly: the derive is configured without a schema, which
//! [`crds`] builds through [`schema`]. [`compat`] compares two CRD schemas field by field.
//!
//! This crate does no IO.
#![forbid(unsafe_code)]

pub mod common;
pub mod compat;
pub mod component;
pub mod crds;
pub mod graph;
pub mod model;
pub mod scaling_adapter;
pub mod schema;
pub mod shared;

pub use common::{BackendFramework, ComponentKind, ServiceReplicaStatus};
pub use component::{
    DynamoComponentDeployment, DynamoComponentDeploymentSpec, DynamoComponentDeploymentStatus,
};
pub use graph::{DynamoGraphDeployment, DynamoGraphDeploymentSpec, DynamoGraphDeploymentStatus};
pub use model::{DynamoModel, DynamoModelSpec, DynamoModelStatus};
pub use scaling_adapter::{
    DynamoGraphDeploymentScalingAdapter, DynamoGraphDeploymentScalingAdapterSpec,
    DynamoGraphDeploymentScalingAdapterStatus,
};
pub use shared::DynamoComponentDeploymentSharedSpec;

/// API group of every kind in this crate.
pub const GROUP: &str = "nvidia.com";
/// API version of every kind in this crate.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` value of every kind in this crate (`nvidia.com/v1alpha1`).
pub const API_VERSION: &str = "nvidia.com/v1alpha1";

#[cfg(test)]
mod tests;
