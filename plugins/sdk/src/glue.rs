//! Conversions between the wit-bindgen guest types and the contract types (wasm32 only).
//!
//! The functions here are what [`crate::export_plugin!`] calls from the generated component
//! exports; each converts its WIT argument to the contract type, calls the [`Plugin`], and converts
//! the result back.

use crate::__private::wit;
use crate::Plugin;
use dynamo_plugin_contract as c;

/// Calls `P::metadata` and converts the result to the WIT type.
pub fn metadata<P: Plugin>() -> wit::Metadata {
    let m = P::metadata();
    wit::Metadata {
        name: m.name,
        version: m.version,
        kind: match m.kind {
            c::PluginKind::Backend => wit::PluginKind::Backend,
            c::PluginKind::Launcher => wit::PluginKind::Launcher,
        },
        frameworks: m.frameworks,
        python_modules: m.python_modules,
        multinode_launcher: m.multinode_launcher,
        capabilities: m.capabilities,
        serving: m.serving.map(|s| wit::Serving {
            dynamo_runtime: s.dynamo_runtime,
            ports: s
                .ports
                .into_iter()
                .map(|p| wit::ServingPort {
                    name: p.name,
                    number: p.number,
                })
                .collect(),
            health_path: s.health_path,
        }),
        annotation_prefixes: m.annotation_prefixes,
    }
}

/// Converts the input, calls `P::render` through [`crate::render_checked`] (so `P::validate` runs
/// first unless `P` opts out), and converts the result to the WIT types.
pub fn render<P: Plugin>(input: wit::RenderInput) -> Result<wit::RenderOutput, wit::PluginError> {
    let input = render_input(input);
    match crate::render_checked::<P>(&input) {
        Ok(out) => Ok(wit::RenderOutput {
            pod_template: out.pod_template,
            extra_objects: out
                .extra_objects
                .into_iter()
                .map(|o| match o {
                    c::ExtraObject::ConfigMap(json) => wit::ExtraObject::ConfigMap(json),
                    c::ExtraObject::SshKeySecret(name) => wit::ExtraObject::SshKeySecret(name),
                })
                .collect(),
            warnings: out.warnings,
        }),
        Err(e) => Err(match e {
            c::PluginError::InvalidInput(d) => wit::PluginError::InvalidInput(diagnostic(d)),
            c::PluginError::Unsupported(m) => wit::PluginError::Unsupported(m),
            c::PluginError::Internal(m) => wit::PluginError::Internal(m),
        }),
    }
}

/// Converts the input, calls `P::validate`, and converts the diagnostics to the WIT type.
pub fn validate<P: Plugin>(input: wit::RenderInput) -> Vec<wit::Diagnostic> {
    let input = render_input(input);
    P::validate(&input).into_iter().map(diagnostic).collect()
}

fn diagnostic(d: c::Diagnostic) -> wit::Diagnostic {
    wit::Diagnostic {
        field_path: d.field_path,
        message: d.message,
        severity: match d.severity {
            c::Severity::Error => wit::Severity::Error,
            c::Severity::Warning => wit::Severity::Warning,
        },
    }
}

fn render_input(i: wit::RenderInput) -> c::RenderInput {
    c::RenderInput {
        graph: c::Graph {
            name: i.graph.name,
            namespace: i.graph.namespace,
            dynamo_namespace: i.graph.dynamo_namespace,
            annotations: i
                .graph
                .annotations
                .into_iter()
                .map(|kv| c::KeyValue {
                    key: kv.key,
                    value: kv.value,
                })
                .collect(),
        },
        component: c::Component {
            service_name: i.component.service_name,
            component_type: i.component.component_type,
            sub_component_type: i.component.sub_component_type,
            backend_framework: i.component.backend_framework,
            replicas: i.component.replicas,
            gpus_per_node: i.component.gpus_per_node,
            gpu_resource: i.component.gpu_resource,
            compilation_cache_path: i.component.compilation_cache_path,
        },
        placement: c::Placement {
            deployer: match i.placement.deployer {
                wit::Deployer::None => c::Deployer::None,
                wit::Deployer::Lws => c::Deployer::Lws,
                wit::Deployer::Grove => c::Deployer::Grove,
            },
            role: match i.placement.role {
                wit::Role::Main => c::Role::Main,
                wit::Role::Leader => c::Role::Leader,
                wit::Role::Worker => c::Role::Worker,
            },
            node_count: i.placement.node_count,
            leader_host: i.placement.leader_host,
            worker_hosts: i.placement.worker_hosts,
            node_rank: i.placement.node_rank,
            needs_shell: i.placement.needs_shell,
            needs_dns_wait: i.placement.needs_dns_wait,
        },
        infrastructure: c::Infrastructure {
            mpi_ssh_secret_name: i.infrastructure.mpi_ssh_secret_name,
            wait_for_leader_config_map: i.infrastructure.wait_for_leader_config_map,
        },
        pod_template: i.pod_template,
    }
}
