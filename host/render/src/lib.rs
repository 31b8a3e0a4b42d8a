//! The pure render pipeline: a DynamoGraphDeployment, the operator configuration and a plugin set
//! in, a deterministic ordered list of Kubernetes objects out. No IO, no wasmtime.
//!
//! ```text
//! DGD ─▶ validate ─▶ model ─▶ pod (host) ─▶ plugin chain ─▶ orchestrate ─▶ objects
//! ```
//!
//! - [`validate`]: Dynamo's admission rules, as diagnostics with field paths;
//! - [`model`]: each service resolved (names, type, backend chain, replicas, GPUs, nodes,
//!   Dynamo namespace, worker hash);
//! - [`pod`]: the host's base pod template per component and role;
//! - [`placement`]: multi-node host and rank expressions for plugins;
//! - [`plugins`]: the [`PluginSet`] trait and chain composition (backend, then its launcher);
//! - [`orchestrate`]: Deployments / LeaderWorkerSets / a Grove PodCliqueSet, plus
//!   Services, Ingress, discovery RBAC;
//! - [`object`]: the [`Object`] type, the output order and YAML printing;
//! - [`config`]: the operator configuration subset and [`RenderConfig`].
//!
//! Both the `dynamo-operator render` CLI and the controllers call [`render`]; the admission
//! webhook calls [`check`].
#![forbid(unsafe_code)]

pub mod component;
pub mod config;
pub mod error;
pub mod input;
pub mod keys;
pub mod legacy;
pub mod model;
pub mod names;
pub mod object;
pub mod orchestrate;
pub mod placement;
pub mod plugins;
pub mod pod;
pub mod pod_security;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};

use dynamo_api::DynamoGraphDeployment;
use dynamo_plugin_contract::{Deployer, Diagnostic, ExtraObject, PluginError, RenderInput, Role};
use k8s_openapi::api::core::v1::{ConfigMap, PodTemplateSpec};

pub use component::render_component;
pub use config::{OperatorConfiguration, Orchestrator, RenderConfig};
pub use error::RenderError;
pub use model::{GraphModel, Overrides};
pub use object::{Object, to_yaml_stream};
pub use plugins::{PluginCallError, PluginSet};

use crate::error::has_errors;
use crate::legacy::LegacyGraph;
use crate::model::ServiceModel;
use crate::orchestrate::{Pods, RenderedComponent};
use crate::plugins::Catalog;

/// Everything a render produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// The objects to apply, in apply order (kind rank, kind, name), namespaced, without owner
    /// references.
    pub objects: Vec<Object>,
    /// SSH key-pair Secrets plugins asked for (names, sorted, deduplicated). Generating keys is
    /// IO and randomness, so the controller ensures these exist in the graph's namespace.
    pub ssh_key_secrets: Vec<String>,
    /// Warnings from validation and from plugins, to show the user.
    pub warnings: Vec<Diagnostic>,
}

/// Renders `dgd` into Kubernetes objects.
///
/// The result depends only on the arguments: the same graph, configuration and plugin set
/// always give the same objects in the same order.
pub fn render(
    dgd: &DynamoGraphDeployment,
    config: &RenderConfig,
    plugins: &dyn PluginSet,
) -> Result<Rendered, RenderError> {
    render_with(dgd, config, plugins, &Overrides::default())
}

/// [`render`] with the controller's [`Overrides`] (restart annotations, rolling-update replicas,
/// a component's own worker hash and name) applied to the resolved graph.
pub fn render_with(
    dgd: &DynamoGraphDeployment,
    config: &RenderConfig,
    plugins: &dyn PluginSet,
    overrides: &Overrides,
) -> Result<Rendered, RenderError> {
    let legacy = LegacyGraph::of(dgd)?;
    render_graph(dgd, &legacy, None, config, plugins, overrides)
}

/// [`render_with`] with the graph's `v1alpha1`-only facts already read, and `path` replacing
/// the components' field paths (a DynamoComponentDeployment's component is at `spec`).
pub(crate) fn render_graph(
    dgd: &DynamoGraphDeployment,
    legacy: &LegacyGraph,
    path: Option<&str>,
    config: &RenderConfig,
    plugins: &dyn PluginSet,
    overrides: &Overrides,
) -> Result<Rendered, RenderError> {
    let catalog = Catalog::new(plugins);
    let mut diagnostics = validate::validate_with(dgd, legacy, path, config, &catalog);
    if has_errors(&diagnostics) {
        return Err(RenderError::Invalid(diagnostics));
    }
    let mut graph = GraphModel::build_from(dgd, legacy, config, &catalog, path)?;
    graph.apply(overrides);
    let prepared = prepare(&graph, config)?;
    diagnostics.extend(validate_plugins(plugins, &prepared)?);
    if has_errors(&diagnostics) {
        return Err(RenderError::Invalid(diagnostics));
    }

    let mut components = Vec::with_capacity(prepared.len());
    let mut config_maps: BTreeMap<String, Object> = BTreeMap::new();
    let mut ssh_key_secrets = BTreeSet::new();
    for component in &prepared {
        let service = component.service;
        let field = service.field();
        let mut templates = Vec::with_capacity(component.roles.len());
        for (role, base, input) in &component.roles {
            let Some(chain) = &service.chain else {
                templates.push((*role, base.clone()));
                continue;
            };
            let mut output = plugins::run_chain(plugins, chain, input, base, &field).map_err(
                |error| match error {
                    RenderError::Plugin {
                        field,
                        plugin,
                        source: PluginCallError::Reported(PluginError::InvalidInput(mut d)),
                    } => {
                        d.field_path = plugins::user_field(&d.field_path, service);
                        RenderError::Plugin {
                            field,
                            plugin,
                            source: PluginCallError::Reported(PluginError::InvalidInput(d)),
                        }
                    }
                    other => other,
                },
            )?;
            pod::order_plugin_mounts(base, &mut output.template);
            templates.push((*role, output.template));
            // A plugin whose render runs its own validate first (the SDKs' default) returns the
            // warnings `validate` already reported; the user sees each once.
            let fresh: Vec<Diagnostic> = output
                .warnings
                .into_iter()
                .map(|w| plugins::user_warning(&w, service))
                .filter(|w| !repeats_a_finding(w, &diagnostics))
                .map(|w| Diagnostic::warning(&field, w))
                .collect();
            for warning in fresh {
                if !diagnostics.contains(&warning) {
                    diagnostics.push(warning);
                }
            }
            for (plugin, extra) in output.extra_objects {
                match extra {
                    ExtraObject::SshKeySecret(name) => {
                        ssh_key_secrets.insert(name);
                    }
                    ExtraObject::ConfigMap(json) => {
                        add_config_map(&graph, &field, &plugin, &json, &mut config_maps)?;
                    }
                }
            }
        }
        if pod::failover::enabled(service) {
            // One rendered pod per engine, in order: merge them into the component's pod.
            let role = templates.first().map_or(Role::Main, |(role, _)| *role);
            let engines = templates.into_iter().map(|(_, t)| t).collect();
            templates = vec![(role, pod::failover::merge(engines, &field)?)];
        }
        components.push(RenderedComponent {
            service,
            pods: pods(templates),
            leader_starts_after_workers: service
                .chain
                .as_ref()
                .is_some_and(|c| service.is_multinode() && c.leader_starts_after_workers()),
        });
    }

    let mut objects = orchestrate::objects(&graph, &components, config)?;
    let host_config_maps: BTreeSet<String> = objects
        .iter()
        .filter(|o| o.kind() == "ConfigMap")
        .map(|o| o.name().to_owned())
        .collect();
    for object in config_maps.into_values() {
        if host_config_maps.contains(object.name()) {
            return Err(RenderError::field(
                "spec.services",
                format!(
                    "a plugin asked for ConfigMap `{}`, which the operator already generates",
                    object.name()
                ),
            ));
        }
        objects.push(object);
    }
    names::check_objects(&objects)?;
    object::sort_objects(&mut objects);
    diagnostics.retain(|d| d.severity != dynamo_plugin_contract::Severity::Error);
    Ok(Rendered {
        objects,
        ssh_key_secrets: ssh_key_secrets.into_iter().collect(),
        warnings: diagnostics,
    })
}

/// True when render warning `warning` (`<plugin>: <text>`) repeats a finding already reported,
/// written by the SDKs as `<fieldPath>: <message>`.
fn repeats_a_finding(warning: &str, found: &[Diagnostic]) -> bool {
    found.iter().any(|d| {
        warning
            .strip_suffix(&format!("{}: {}", d.field_path, d.message))
            .is_some_and(|head| head.ends_with(": "))
    })
}

/// Every diagnostic about `dgd`: the host's rules, then (when those pass) each plugin's
/// `validate`. This is what the admission webhook reports; an empty list means valid.
pub fn check(
    dgd: &DynamoGraphDeployment,
    config: &RenderConfig,
    plugins: &dyn PluginSet,
) -> Vec<Diagnostic> {
    let catalog = Catalog::new(plugins);
    let legacy = match LegacyGraph::of(dgd) {
        Ok(legacy) => legacy,
        Err(error) => return error.diagnostics(),
    };
    let mut diagnostics = validate::validate_with(dgd, &legacy, None, config, &catalog);
    if has_errors(&diagnostics) {
        return diagnostics;
    }
    let found = GraphModel::build_from(dgd, &legacy, config, &catalog, None).and_then(|graph| {
        let prepared = prepare(&graph, config)?;
        validate_plugins(plugins, &prepared)
    });
    match found {
        Ok(found) => diagnostics.extend(found),
        Err(e) => diagnostics.extend(e.diagnostics()),
    }
    diagnostics
}

/// One component with its base pod template and plugin input per role (per role and engine
/// when it runs failover engines).
struct Prepared<'a> {
    service: &'a ServiceModel,
    roles: Vec<(Role, PodTemplateSpec, RenderInput)>,
}

/// Roles a service renders: `main`, or `leader` and `worker`.
fn roles(service: &ServiceModel) -> &'static [Role] {
    if service.is_multinode() {
        &[Role::Leader, Role::Worker]
    } else {
        &[Role::Main]
    }
}

/// Deployer placing the multi-node groups of `graph`.
fn deployer(graph: &GraphModel, service: &ServiceModel) -> Deployer {
    match (service.is_multinode(), graph.orchestrator) {
        (false, _) | (true, Orchestrator::Deployment) => Deployer::None,
        (true, Orchestrator::Lws) => Deployer::Lws,
        (true, Orchestrator::Grove) => Deployer::Grove,
    }
}

fn prepare<'a>(
    graph: &'a GraphModel,
    config: &RenderConfig,
) -> Result<Vec<Prepared<'a>>, RenderError> {
    graph
        .services
        .iter()
        .map(|service| {
            let roles = roles(service)
                .iter()
                .map(|&role| {
                    let mut base = pod::base_template(graph, service, role, config)?;
                    // The GPU memory service and failover engines are set up before the chain:
                    // the backend then renders each failover engine as its own `main`, and the
                    // pod keeps Dynamo's order of variables, mounts and init containers.
                    if pod::gms::enabled(service) {
                        pod::gms::apply(graph, service, &mut base)?;
                    }
                    let bases = if pod::failover::enabled(service) {
                        (0..pod::failover::ENGINES)
                            .map(|i| pod::failover::engine_base(&base, i, &service.field()))
                            .collect::<Result<Vec<_>, _>>()?
                    } else {
                        vec![base]
                    };
                    bases
                        .into_iter()
                        .map(|base| {
                            let placement = placement::placement(
                                deployer(graph, service),
                                role,
                                &service.k8s_name,
                                service.node_count,
                            );
                            let input =
                                plugins::render_input(graph, service, placement, config, &base)?;
                            Ok((role, base, input))
                        })
                        .collect::<Result<Vec<_>, RenderError>>()
                })
                .collect::<Result<Vec<_>, RenderError>>()?
                .into_iter()
                .flatten()
                .collect();
            Ok(Prepared { service, roles })
        })
        .collect()
}

fn validate_plugins(
    plugins: &dyn PluginSet,
    prepared: &[Prepared<'_>],
) -> Result<Vec<Diagnostic>, RenderError> {
    let mut diagnostics = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for component in prepared {
        let Some(chain) = &component.service.chain else {
            continue;
        };
        for (_, _, input) in &component.roles {
            for mut found in
                plugins::validate_chain(plugins, chain, input, &component.service.field())?
            {
                found.field_path = plugins::user_field(&found.field_path, component.service);
                // Leader and worker often report the same finding; keep one, in order.
                if seen.insert(found.clone()) {
                    diagnostics.push(found);
                }
            }
        }
    }
    Ok(diagnostics)
}

fn pods(templates: Vec<(Role, PodTemplateSpec)>) -> Pods {
    let mut main = None;
    let mut leader = None;
    let mut worker = None;
    for (role, template) in templates {
        match role {
            Role::Main => main = Some(template),
            Role::Leader => leader = Some(template),
            Role::Worker => worker = Some(template),
        }
    }
    match (main, leader, worker) {
        (Some(main), _, _) => Pods::Single(Box::new(main)),
        (None, Some(leader), Some(worker)) => Pods::Multi {
            leader: Box::new(leader),
            worker: Box::new(worker),
        },
        (None, leader, worker) => Pods::Single(Box::new(leader.or(worker).unwrap_or_default())),
    }
}

/// Adds a plugin-requested ConfigMap, namespaced to the graph; the same name twice must mean
/// the same ConfigMap.
fn add_config_map(
    graph: &GraphModel,
    field: &str,
    plugin: &str,
    json: &str,
    config_maps: &mut BTreeMap<String, Object>,
) -> Result<(), RenderError> {
    let failed = |message: String| RenderError::Plugin {
        field: field.to_owned(),
        plugin: plugin.to_owned(),
        source: PluginCallError::Runtime(message),
    };
    let config_map: ConfigMap = serde_json::from_str(json).map_err(|e| {
        failed(format!(
            "returned an extra object that is not a ConfigMap: {e}"
        ))
    })?;
    let name = config_map
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| failed("returned a ConfigMap without a name".to_owned()))?;
    let object = Object::from_resource(&graph.namespace, &name, &config_map)?;
    match config_maps.get(&name) {
        Some(existing) if existing.manifest() != object.manifest() => Err(failed(format!(
            "returned ConfigMap `{name}`, which differs from the one of the same name another \
             component asked for"
        ))),
        Some(_) => Ok(()),
        None => {
            config_maps.insert(name, object);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
