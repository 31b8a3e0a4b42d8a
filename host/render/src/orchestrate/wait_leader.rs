//! The wait-for-leader ConfigMap (`{graph}-wait-leader-script`) every graph with a multi-node
//! service gets.
//!
//! Workers of some multi-node engines (vLLM's `mp` executor) connect to their leader as soon as
//! they start and fail when it is not up yet, so their plugin adds an init container that runs
//! [`SCRIPT`] from this ConfigMap (named to plugins in `infrastructure.waitForLeaderConfigMap`).
//! The host owns it, as Dynamo's operator does: its name is the host's, and one graph may mix
//! backends.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::RenderError;
use crate::keys;
use crate::model::GraphModel;
use crate::object::Object;
use crate::orchestrate::graph_labels;

/// Key of the script in the ConfigMap (its file name where a plugin mounts it).
pub const SCRIPT_KEY: &str = "wait-for-leader.py";

/// The wait-for-leader script (Python 3, standard library only).
pub const SCRIPT: &str = include_str!("wait_for_leader.py");

/// The ConfigMap of `graph`.
pub fn config_map(graph: &GraphModel) -> Result<Object, RenderError> {
    let name = keys::wait_leader_config_map(&graph.name);
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(graph_labels(graph)),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(SCRIPT_KEY.to_owned(), SCRIPT.to_owned())])),
        ..ConfigMap::default()
    };
    Object::from_resource(&graph.namespace, &name, &config_map)
}

#[cfg(test)]
mod tests;
