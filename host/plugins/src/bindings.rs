//! Host bindings of every contract version the runtime serves (wasmtime `bindgen!`), and their
//! conversions to the contract types.
//!
//! Nothing outside this crate sees these types: [`Pre`] and [`Instance`] take and return
//! [`dynamo_plugin_contract`] types whatever the version of the component. A 0.1.0 component's
//! metadata is read as declaring no capabilities, a 0.1.0 or 0.2.0 component's as a Dynamo engine
//! reading no annotation prefix of its own; such components do not see `component.gpu-resource`.

use dynamo_plugin_contract as c;
use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use crate::sandbox::SandboxState;

/// Conversions between one version's generated types (`wit`) and the contract types; every
/// version shares them except for `Metadata` and `Component`, which each version converts itself.
macro_rules! conversions {
    () => {
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
                component: component(&i.component),
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

        fn kind(kind: wit::PluginKind) -> c::PluginKind {
            match kind {
                wit::PluginKind::Backend => c::PluginKind::Backend,
                wit::PluginKind::Launcher => c::PluginKind::Launcher,
            }
        }

        /// The world's types-only import needs a (method-less) host implementation.
        impl wit::Host for SandboxState {}
    };
}

/// The component record of contracts before 0.3.0, which have no `gpu-resource`.
macro_rules! component_without_gpu_resource {
    () => {
        fn component(c: &c::Component) -> wit::Component {
            wit::Component {
                service_name: c.service_name.clone(),
                component_type: c.component_type.clone(),
                sub_component_type: c.sub_component_type.clone(),
                backend_framework: c.backend_framework.clone(),
                replicas: c.replicas,
                gpus_per_node: c.gpus_per_node,
                compilation_cache_path: c.compilation_cache_path.clone(),
            }
        }
    };
}

/// `dynamo:backend@0.1.0`.
pub(crate) mod v0_1 {
    use super::*;

    #[allow(missing_docs, clippy::all)]
    mod generated {
        wasmtime::component::bindgen!({
            path: "../../wit/dynamo-backend@0.1.0",
            world: "plugin",
        });
    }

    use generated::dynamo::backend::types as wit;
    pub(crate) use generated::{Plugin, PluginPre};

    conversions!();
    component_without_gpu_resource!();

    pub(crate) fn metadata(m: wit::Metadata) -> c::Metadata {
        c::Metadata {
            name: m.name,
            version: m.version,
            kind: kind(m.kind),
            frameworks: m.frameworks,
            python_modules: m.python_modules,
            multinode_launcher: m.multinode_launcher,
            capabilities: Vec::new(),
            serving: None,
            annotation_prefixes: Vec::new(),
        }
    }

    pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
        wit::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
    }
}

/// `dynamo:backend@0.2.0`.
pub(crate) mod v0_2 {
    use super::*;

    #[allow(missing_docs, clippy::all)]
    mod generated {
        wasmtime::component::bindgen!({
            path: "../../wit/dynamo-backend@0.2.0",
            world: "plugin",
        });
    }

    use generated::dynamo::backend::types as wit;
    pub(crate) use generated::{Plugin, PluginPre};

    conversions!();
    component_without_gpu_resource!();

    pub(crate) fn metadata(m: wit::Metadata) -> c::Metadata {
        c::Metadata {
            name: m.name,
            version: m.version,
            kind: kind(m.kind),
            frameworks: m.frameworks,
            python_modules: m.python_modules,
            multinode_launcher: m.multinode_launcher,
            capabilities: m.capabilities,
            serving: None,
            annotation_prefixes: Vec::new(),
        }
    }

    pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
        wit::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
    }
}

/// `dynamo:backend@0.3.0`.
pub(crate) mod v0_3 {
    use super::*;

    #[allow(missing_docs, clippy::all)]
    mod generated {
        wasmtime::component::bindgen!({
            path: "../../wit/dynamo-backend@0.3.0",
            world: "plugin",
        });
    }

    use generated::dynamo::backend::types as wit;
    pub(crate) use generated::{Plugin, PluginPre};

    conversions!();

    fn component(c: &c::Component) -> wit::Component {
        wit::Component {
            service_name: c.service_name.clone(),
            component_type: c.component_type.clone(),
            sub_component_type: c.sub_component_type.clone(),
            backend_framework: c.backend_framework.clone(),
            replicas: c.replicas,
            gpus_per_node: c.gpus_per_node,
            gpu_resource: c.gpu_resource.clone(),
            compilation_cache_path: c.compilation_cache_path.clone(),
        }
    }

    pub(crate) fn metadata(m: wit::Metadata) -> c::Metadata {
        c::Metadata {
            name: m.name,
            version: m.version,
            kind: kind(m.kind),
            frameworks: m.frameworks,
            python_modules: m.python_modules,
            multinode_launcher: m.multinode_launcher,
            capabilities: m.capabilities,
            serving: m.serving.map(|s| c::Serving {
                dynamo_runtime: s.dynamo_runtime,
                ports: s
                    .ports
                    .into_iter()
                    .map(|p| c::ServingPort {
                        name: p.name,
                        number: p.number,
                    })
                    .collect(),
                health_path: s.health_path,
            }),
            annotation_prefixes: m.annotation_prefixes,
        }
    }

    pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
        wit::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
    }
}

/// Registers every version's own imports (the `types` interfaces) in `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    v0_1::add_to_linker(linker)?;
    v0_2::add_to_linker(linker)?;
    v0_3::add_to_linker(linker)
}

/// A pre-linked plugin of one contract version.
pub(crate) enum Pre {
    V0_1(v0_1::PluginPre<SandboxState>),
    V0_2(v0_2::PluginPre<SandboxState>),
    V0_3(v0_3::PluginPre<SandboxState>),
}

/// A live instance of a plugin, for one call.
pub(crate) enum Instance {
    V0_1(v0_1::Plugin),
    V0_2(v0_2::Plugin),
    V0_3(v0_3::Plugin),
}

// === impl Pre ===

impl Pre {
    /// Type-checks `pre` against the world of contract `version` (one of
    /// [`c::SUPPORTED_WIT_VERSIONS`]).
    pub(crate) fn new(version: &str, pre: InstancePre<SandboxState>) -> wasmtime::Result<Self> {
        match version {
            "0.1.0" => v0_1::PluginPre::new(pre).map(Self::V0_1),
            "0.2.0" => v0_2::PluginPre::new(pre).map(Self::V0_2),
            "0.3.0" => v0_3::PluginPre::new(pre).map(Self::V0_3),
            other => Err(wasmtime::format_err!(
                "contract version {other} is not served"
            )),
        }
    }

    /// The contract version this plugin speaks.
    pub(crate) fn version(&self) -> &'static str {
        match self {
            Self::V0_1(_) => "0.1.0",
            Self::V0_2(_) => "0.2.0",
            Self::V0_3(_) => "0.3.0",
        }
    }

    /// A fresh instance in `store`.
    pub(crate) fn instantiate(
        &self,
        store: &mut Store<SandboxState>,
    ) -> wasmtime::Result<Instance> {
        match self {
            Self::V0_1(pre) => pre.instantiate(store).map(Instance::V0_1),
            Self::V0_2(pre) => pre.instantiate(store).map(Instance::V0_2),
            Self::V0_3(pre) => pre.instantiate(store).map(Instance::V0_3),
        }
    }
}

// === impl Instance ===

impl Instance {
    /// Calls `metadata`.
    pub(crate) fn metadata(
        &self,
        store: &mut Store<SandboxState>,
    ) -> wasmtime::Result<c::Metadata> {
        match self {
            Self::V0_1(p) => p.call_metadata(store).map(v0_1::metadata),
            Self::V0_2(p) => p.call_metadata(store).map(v0_2::metadata),
            Self::V0_3(p) => p.call_metadata(store).map(v0_3::metadata),
        }
    }

    /// Calls `render`; the inner result is the plugin's own answer.
    pub(crate) fn render(
        &self,
        store: &mut Store<SandboxState>,
        input: &c::RenderInput,
    ) -> wasmtime::Result<Result<c::RenderOutput, c::PluginError>> {
        match self {
            Self::V0_1(p) => p
                .call_render(store, &v0_1::render_input(input))
                .map(|r| r.map(v0_1::render_output).map_err(v0_1::plugin_error)),
            Self::V0_2(p) => p
                .call_render(store, &v0_2::render_input(input))
                .map(|r| r.map(v0_2::render_output).map_err(v0_2::plugin_error)),
            Self::V0_3(p) => p
                .call_render(store, &v0_3::render_input(input))
                .map(|r| r.map(v0_3::render_output).map_err(v0_3::plugin_error)),
        }
    }

    /// Calls `validate`.
    pub(crate) fn validate(
        &self,
        store: &mut Store<SandboxState>,
        input: &c::RenderInput,
    ) -> wasmtime::Result<Vec<c::Diagnostic>> {
        match self {
            Self::V0_1(p) => p
                .call_validate(store, &v0_1::render_input(input))
                .map(|d| d.into_iter().map(v0_1::diagnostic).collect()),
            Self::V0_2(p) => p
                .call_validate(store, &v0_2::render_input(input))
                .map(|d| d.into_iter().map(v0_2::diagnostic).collect()),
            Self::V0_3(p) => p
                .call_validate(store, &v0_3::render_input(input))
                .map(|d| d.into_iter().map(v0_3::diagnostic).collect()),
        }
    }
}
