//! Shared helpers of the SGLang plugin tests: fixtures, the host's placements, and running the
//! rendered shell scripts the way a pod would.

#![allow(dead_code)]

#[allow(unused_imports)]
pub use dynamo_plugin_sdk::testing::*;

dynamo_plugin_sdk::fixture_loaders!();
