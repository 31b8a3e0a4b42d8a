//! Rendering one DynamoComponentDeployment on its own, as its controller does.
//!
//! A DCD carries its component's effective spec (the graph's env folded in), the `v1alpha1`-only
//! facts of the component (its annotations with the graph switches it inherits, labels, ingress;
//! kept through the conversion), in labels its graph's name and worker hash, and on its pod
//! template what Dynamo 1.5 records there (the component's annotations, the origin version among
//! them, which is the component's and never its pods').
//! [`render_component`] rebuilds a one-component graph from it and runs the same pipeline, then
//! keeps what the component owns: its Deployment (or LeaderWorkerSets), its Services and its
//! Ingress. So a DCD made by a graph renders exactly what the graph render printed for it, and a
//! DCD applied by hand works too.

use std::collections::BTreeMap;

use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment, DynamoGraphDeploymentSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config::{Orchestrator, RenderConfig};
use crate::error::RenderError;
use crate::keys::{annotation, label};
use crate::legacy::{LegacyGraph, LegacyService};
use crate::model::Overrides;
use crate::plugins::PluginSet;
use crate::{Rendered, render_graph};

/// Kinds a component owns (the rest of a graph render belongs to the graph).
pub const COMPONENT_KINDS: [&str; 5] = [
    "Deployment",
    "LeaderWorkerSet",
    "Service",
    "Ingress",
    "VirtualService",
];

/// Kinds a component applied by hand (no graph owns it) owns besides [`COMPONENT_KINDS`]: what
/// its graph would have made for it (discovery identity, wait-for-leader ConfigMap). Rendered for
/// every component; the controller applies them only for components without a graph.
pub const STANDALONE_KINDS: [&str; 4] = ["ServiceAccount", "Role", "RoleBinding", "ConfigMap"];

/// The graph name and component name a DCD belongs to: its labels, else its spec's `name`,
/// else its own name.
pub fn identity(dcd: &DynamoComponentDeployment) -> (String, String) {
    let name = dcd.metadata.name.clone().unwrap_or_default();
    let labels = dcd.metadata.labels.clone().unwrap_or_default();
    let graph = labels
        .get(label::GRAPH_NAME)
        .cloned()
        .unwrap_or_else(|| name.clone());
    let service = labels
        .get(label::COMPONENT)
        .cloned()
        .or_else(|| Some(dcd.spec.shared.name.clone()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| name.clone());
    (graph, service)
}

/// Renders the objects DCD `dcd` owns (see the module docs).
pub fn render_component(
    dcd: &DynamoComponentDeployment,
    config: &RenderConfig,
    plugins: &dyn PluginSet,
) -> Result<Rendered, RenderError> {
    let name = dcd
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| RenderError::field("metadata.name", "must not be empty"))?;
    let (graph_name, service) = identity(dcd);
    let legacy_service = LegacyService::of_component(dcd)?;
    let mut component = dcd.spec.shared.clone();
    component.name = service.clone();
    let mut annotations = legacy_service.annotations.clone();
    if let Some(version) = take_origin_version(&mut component) {
        annotations
            .entry(annotation::ORIGIN_VERSION.to_owned())
            .or_insert(version);
    }
    let dgd = DynamoGraphDeployment {
        metadata: ObjectMeta {
            name: Some(graph_name),
            namespace: dcd.metadata.namespace.clone(),
            annotations: Some(annotations).filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        },
        spec: DynamoGraphDeploymentSpec {
            components: Some(vec![component]),
            backend_framework: dcd.spec.backend_framework,
            ..DynamoGraphDeploymentSpec::default()
        },
        status: None,
    };
    let legacy = LegacyGraph {
        pvcs: Vec::new(),
        services: BTreeMap::from([(service.clone(), legacy_service)]),
    };
    // A DCD is the component pathway: Grove renders whole graphs, never components.
    let mut config = config.clone();
    if config.orchestrator == Orchestrator::Grove {
        config.orchestrator = if config.operator.orchestrators.lws.enabled == Some(true) {
            Orchestrator::Lws
        } else {
            Orchestrator::Deployment
        };
    }
    // A DCD was defaulted when its graph was created; do not stamp the CLI's version on it.
    config.operator_version = None;
    let overrides = Overrides {
        worker_hash: dcd
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(label::WORKER_HASH))
            .cloned(),
        dcd_names: BTreeMap::from([(service, name)]),
        worker_class: dcd
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(label::COMPONENT_CLASS))
            .is_some_and(|class| class == label::WORKER_CLASS),
        ..Overrides::default()
    };
    let mut rendered = render_graph(&dgd, &legacy, Some("spec"), &config, plugins, &overrides)?;
    rendered
        .objects
        .retain(|o| COMPONENT_KINDS.contains(&o.kind()) || STANDALONE_KINDS.contains(&o.kind()));
    Ok(rendered)
}

/// Takes the origin version out of a component's pod template, where Dynamo 1.5 (and
/// [`crate::orchestrate::dcd::dcd`]) records it on a DCD: it says which operator version created
/// the component, never reaches its pods, and an empty template left behind is dropped.
fn take_origin_version(
    component: &mut dynamo_api::shared::DynamoComponentDeploymentSharedSpec,
) -> Option<String> {
    let template = component.pod_template.as_mut()?;
    let metadata = template.metadata.as_mut()?;
    let annotations = metadata.annotations.as_mut()?;
    let version = annotations.remove(annotation::ORIGIN_VERSION)?;
    if annotations.is_empty() {
        metadata.annotations = None;
    }
    if metadata == &ObjectMeta::default() {
        template.metadata = None;
    }
    Some(version)
}
