//! Host bindings of the `plugin` world (wasmtime `bindgen!`) and conversions to the contract types.
//!
//! Nothing outside this crate sees these types: calls take and return
//! [`dynamo_plugin_contract`] types.

use dynamo_plugin_contract as c;

#[allow(missing_docs, clippy::all)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../../wit/dynamo-backend@0.1.0",
        world: "plugin",
    });
}

use generated::dynamo::backend::types as wit;
pub(crate) use generated::{Plugin, PluginPre};

/// The world's types-only import needs a (method-less) host implementation.
impl wit::Host for crate::sandbox::SandboxState {}

/// Registers the world's own imports (the `types` interface) in `linker`.
pub(crate) fn add_to_linker(
    linker: &mut wasmtime::component::Linker<crate::sandbox::SandboxState>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<_, wasmtime::component::HasSelf<_>>(linker, |state| state)
}

pub(crate) fn metadata(m: wit::Metadata) -> c::Metadata {
    c::Metadata {
        name: m.name,
        version: m.version,
        kind: match m.kind {
            wit::PluginKind::Backend => c::PluginKind::Backend,
            wit::PluginKind::Launcher => c::PluginKind::Launcher,
        },
        frameworks: m.frameworks,
        python_modules: m.python_modules,
        multinode_launcher: m.multinode_launcher,
    }
}

pub(crate) fn render_input(i: &c::RenderInput) -> wit::RenderInput {
    wit::RenderInput {
        graph: wit::Graph {
            name: i.graph.name.clone(),
            namespace: i.graph.namespace.clone(),
            dynamo_namespace: i.graph.dynamo_namespace.clone(),
            annotations: i
                .graph
                .annotations
                .iter()
                .map(|kv| wit::KeyValue {
                    key: kv.key.clone(),
                    value: kv.value.clone(),
                })
                .collect(),
        },
        component: wit::Component {
            service_name: i.component.service_name.clone(),
            component_type: i.component.component_type.clone(),
            sub_component_type: i.component.sub_component_type.clone(),
            backend_framework: i.component.backend_framework.clone(),
            replicas: i.component.replicas,
            gpus_per_node: i.component.gpus_per_node,
            compilation_cache_path: i.component.compilation_cache_path.clone(),
        },
        placement: wit::Placement {
            deployer: match i.placement.deployer {
                c::Deployer::None => wit::Deployer::None,
                c::Deployer::Lws => wit::Deployer::Lws,
                c::Deployer::Grove => wit::Deployer::Grove,
            },
            role: match i.placement.role {
                c::Role::Main => wit::Role::Main,
                c::Role::Leader => wit::Role::Leader,
                c::Role::Worker => wit::Role::Worker,
            },
            node_count: i.placement.node_count,
            leader_host: i.placement.leader_host.clone(),
            worker_hosts: i.placement.worker_hosts.clone(),
            node_rank: i.placement.node_rank.clone(),
            needs_shell: i.placement.needs_shell,
            needs_dns_wait: i.placement.needs_dns_wait,
        },
        infrastructure: wit::Infrastructure {
            mpi_ssh_secret_name: i.infrastructure.mpi_ssh_secret_name.clone(),
            wait_for_leader_config_map: i.infrastructure.wait_for_leader_config_map.clone(),
        },
        pod_template: i.pod_template.clone(),
    }
}

pub(crate) fn render_output(o: wit::RenderOutput) -> c::RenderOutput {
    c::RenderOutput {
        pod_template: o.pod_template,
        extra_objects: o
            .extra_objects
            .into_iter()
            .map(|x| match x {
                wit::ExtraObject::ConfigMap(json) => c::ExtraObject::ConfigMap(json),
                wit::ExtraObject::SshKeySecret(name) => c::ExtraObject::SshKeySecret(name),
            })
            .collect(),
        warnings: o.warnings,
    }
}

pub(crate) fn diagnostic(d: wit::Diagnostic) -> c::Diagnostic {
    c::Diagnostic {
        field_path: d.field_path,
        message: d.message,
        severity: match d.severity {
            wit::Severity::Error => c::Severity::Error,
            wit::Severity::Warning => c::Severity::Warning,
        },
    }
}

pub(crate) fn plugin_error(e: wit::PluginError) -> c::PluginError {
    match e {
        wit::PluginError::InvalidInput(d) => c::PluginError::InvalidInput(diagnostic(d)),
        wit::PluginError::Unsupported(m) => c::PluginError::Unsupported(m),
        wit::PluginError::Internal(m) => c::PluginError::Internal(m),
    }
}
