//! Plain Rust mirror of the `dynamo:backend@0.3.0` WIT contract.
//!
//! The WIT file (`wit/dynamo-backend@0.3.0/backend.wit`) is the source of truth. This crate repeats
//! its types as ordinary Rust structs and enums, with no WebAssembly dependency, so that:
//!
//! - the host (`dynamo-plugin-runtime`) converts the wasmtime bindings into these types and the
//!   rest of the operator never sees wasmtime;
//! - the plugin SDK converts the wit-bindgen guest bindings into these types, so plugin logic is
//!   ordinary Rust that compiles natively and is unit-tested and benchmarked without a runtime;
//! - test fixtures are written as YAML or JSON (`serde`), with camelCase field names as in
//!   Kubernetes manifests.
//!
//! Field by field the types match the WIT records one to one; the WIT doc comments are the
//! reference for their meaning. JSON payloads (`pod-template`, ConfigMaps) stay JSON text here as
//! in the WIT, but serialize as embedded JSON objects so fixtures stay readable.

use std::fmt;

use serde::{Deserialize, Serialize};

pub mod capability;
mod json_text;
mod key_values;
pub mod text;

pub use capability::Capability;

/// WIT package name of the contract, without version.
pub const WIT_PACKAGE: &str = "dynamo:backend";
/// Version of the contract this crate mirrors (the newest; plugins are built against it).
pub const WIT_VERSION: &str = "0.3.0";
/// Every contract version the host serves, oldest first. A 0.1.0 component is read as declaring
/// no capabilities; a 0.1.0 or 0.2.0 component as a Dynamo engine reading only `nvidia.com/`
/// annotations.
pub const SUPPORTED_WIT_VERSIONS: [&str; 3] = ["0.1.0", "0.2.0", "0.3.0"];
/// Fully qualified package id, `dynamo:backend@0.3.0`.
pub const WIT_PACKAGE_ID: &str = "dynamo:backend@0.3.0";
/// The world every plugin exports.
pub const WIT_WORLD: &str = "plugin";
/// The types interface as a component names it in its imports, `dynamo:backend/types@0.3.0`.
pub const WIT_TYPES_INTERFACE: &str = "dynamo:backend/types@0.3.0";
/// The functions the `plugin` world exports, in declaration order.
pub const WIT_EXPORTS: [&str; 3] = ["metadata", "render", "validate"];
/// The WIT source text of this contract version.
pub const WIT_SOURCE: &str = include_str!("../../../wit/dynamo-backend@0.3.0/backend.wit");

/// A key/value pair; used for annotations and labels (the order is not significant).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

impl KeyValue {
    /// Builds a pair from anything string-like.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Which kind of plugin this is, which decides where the host places it in the chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// Renders one inference engine (vLLM, SGLang, ...); runs first.
    #[default]
    Backend,
    /// Launches a multi-node job (for example MPI over SSH); runs after the backend that asks for it.
    Launcher,
}

/// What a plugin says about itself; the host reads it once when loading the plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Metadata {
    /// Unique plugin name, e.g. `vllm` or `mpi`.
    pub name: String,
    /// The plugin's own version (semver).
    pub version: String,
    /// Backend or launcher.
    pub kind: PluginKind,
    /// `spec.backendFramework` values this plugin handles, e.g. `["vllm"]`. Empty for launchers.
    pub frameworks: Vec<String>,
    /// Python modules that identify this backend in a container command, e.g. `["dynamo.vllm"]`.
    pub python_modules: Vec<String>,
    /// Launcher plugin to run after this one for multi-node components, if any.
    pub multinode_launcher: Option<String>,
    /// Privileges beyond the default allow-list this plugin asks for ([`Capability`] names);
    /// each takes effect only when the operator configuration grants it.
    pub capabilities: Vec<String>,
    /// What the engine serves; `None` for a Dynamo engine (the host's Dynamo worker defaults).
    pub serving: Option<Serving>,
    /// Annotation prefixes the plugin reads beyond `nvidia.com/`, e.g. `example.com/tgi-`.
    pub annotation_prefixes: Vec<String>,
}

/// One port an engine listens on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServingPort {
    /// Port name (an IANA service name, e.g. `http`); probes and Services refer to it by name.
    pub name: String,
    /// Container port number.
    pub number: u16,
}

impl ServingPort {
    /// A port named `name` on `number`.
    pub fn new(name: impl Into<String>, number: u16) -> Self {
        Self {
            name: name.into(),
            number,
        }
    }
}

/// What an engine serves, declared by its backend plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Serving {
    /// True when the engine speaks Dynamo's runtime protocol (the host keeps Dynamo's worker
    /// defaults and adds `ports` beside them); false for any other engine.
    pub dynamo_runtime: bool,
    /// Ports the engine listens on; the first is the Service's target and the probes' port.
    pub ports: Vec<ServingPort>,
    /// HTTP path that answers 200 when the engine is live and ready, probed on the first port.
    pub health_path: Option<String>,
}

/// Who places the pods of a multi-node component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Deployer {
    /// Single node: no multi-node placement.
    #[default]
    None,
    /// One LeaderWorkerSet per replica.
    Lws,
    /// A Grove PodCliqueSet with leader and worker cliques.
    Grove,
}

/// The role of the pod template being rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A single-node component's only pod.
    #[default]
    Main,
    /// The leader (rank 0) of a multi-node group.
    Leader,
    /// A non-leader member of a multi-node group.
    Worker,
}

/// Placement facts chosen by the host for the pod being rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Placement {
    /// Which orchestrator places the group.
    pub deployer: Deployer,
    /// Role of this pod template.
    pub role: Role,
    /// Nodes per replica (1 for single node).
    pub node_count: u32,
    /// Expression that resolves to the leader's host name inside the pod.
    pub leader_host: String,
    /// Expressions for every worker's host name, in rank order (ranks 1..node-count).
    pub worker_hosts: Vec<String>,
    /// Expression for this pod's node rank (a literal, a kubelet variable or shell arithmetic).
    pub node_rank: String,
    /// True when `node_rank` or `worker_hosts` only resolve inside a shell.
    pub needs_shell: bool,
    /// True when worker host names may not resolve immediately and a DNS wait is needed.
    pub needs_dns_wait: bool,
}

impl Placement {
    /// True when the leader host or the node rank only resolve inside a shell: anything but
    /// literal text and kubelet references `$(NAME)` (which Kubernetes expands in `command` and
    /// `args` itself). A launch that uses only these two then needs no shell wrapper, even when
    /// [`Placement::needs_shell`] is set for the worker host names.
    pub fn rank_needs_shell(&self) -> bool {
        !kubelet_expandable(&self.leader_host) || !kubelet_expandable(&self.node_rank)
    }
}

/// True when `text` is literal apart from kubelet references `$(NAME)`.
fn kubelet_expandable(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        let Some(inner) = after.strip_prefix('(') else {
            return false;
        };
        let Some(end) = inner.find(')') else {
            return false;
        };
        let name = &inner[..end];
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return false;
        }
        rest = &inner[end + 1..];
    }
    true
}

impl Default for Placement {
    /// A single-node placement: no deployer, role `main`, one node, rank `0`.
    fn default() -> Self {
        Self {
            deployer: Deployer::None,
            role: Role::Main,
            node_count: 1,
            leader_host: String::new(),
            worker_hosts: Vec::new(),
            node_rank: "0".to_owned(),
            needs_shell: false,
            needs_dns_wait: false,
        }
    }
}

/// The graph (DynamoGraphDeployment) the component belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Graph {
    /// Kubernetes name of the graph.
    pub name: String,
    /// Kubernetes namespace of the graph.
    pub namespace: String,
    /// Dynamo namespace the component registers in.
    pub dynamo_namespace: String,
    /// Graph and service annotations the operator recognises (service values win).
    ///
    /// Serialized as a list of `{key, value}`; a fixture may also write a plain map.
    #[serde(with = "key_values")]
    pub annotations: Vec<KeyValue>,
}

impl Graph {
    /// Returns the value of annotation `key`, if present (the last one wins on duplicates).
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .rev()
            .find(|kv| kv.key == key)
            .map(|kv| kv.value.as_str())
    }
}

/// The component (one service of the graph) being rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Component {
    /// Service name as written in `spec.services`.
    pub service_name: String,
    /// `componentType` (frontend, worker, prefill, decode, planner, ...).
    pub component_type: String,
    /// `subComponentType`, if any.
    pub sub_component_type: Option<String>,
    /// Backend framework chosen by the host (explicit or detected).
    pub backend_framework: String,
    /// Desired replicas.
    pub replicas: u32,
    /// GPUs per node: the count the GPU request and limit agree on; 0 when none.
    pub gpus_per_node: u32,
    /// Kubernetes resource name of those GPUs (`gpuType`, default `nvidia.com/gpu`); empty when
    /// `gpus_per_node` is 0.
    pub gpu_resource: String,
    /// Mount path of the volume marked `useAsCompilationCache`, if any.
    pub compilation_cache_path: Option<String>,
}

/// Operator infrastructure settings a backend may need.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Infrastructure {
    /// Name of the Secret holding the MPI SSH key pair (`private.key`, `private.key.pub`).
    pub mpi_ssh_secret_name: String,
    /// Name of the ConfigMap holding the wait-for-leader script, when the host provides one.
    pub wait_for_leader_config_map: String,
}

/// Everything a render or validate call sees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RenderInput {
    /// Graph-level facts.
    pub graph: Graph,
    /// Component-level facts.
    pub component: Component,
    /// Placement chosen by the host.
    pub placement: Placement,
    /// Operator infrastructure settings.
    pub infrastructure: Infrastructure,
    /// The pod template rendered so far, as JSON text of a Kubernetes `PodTemplateSpec`.
    ///
    /// Serialized as an embedded JSON object (a fixture may also write it as a string).
    #[serde(with = "json_text")]
    pub pod_template: String,
}

/// An extra object the backend needs beside its pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExtraObject {
    /// A ConfigMap, as JSON text of a Kubernetes `ConfigMap`; the host sets namespace and owner.
    ConfigMap(#[serde(with = "json_text")] String),
    /// Ask the host to ensure an SSH key-pair Secret with this name exists in the graph's namespace.
    SshKeySecret(String),
}

/// What a render call returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RenderOutput {
    /// The new pod template, as JSON text of a Kubernetes `PodTemplateSpec`.
    #[serde(with = "json_text")]
    pub pod_template: String,
    /// Extra objects the backend needs.
    pub extra_objects: Vec<ExtraObject>,
    /// Warnings to surface to the user (events, CLI stderr).
    pub warnings: Vec<String>,
}

impl RenderOutput {
    /// An output with this pod template and no extra objects or warnings.
    pub fn new(pod_template: impl Into<String>) -> Self {
        Self {
            pod_template: pod_template.into(),
            ..Self::default()
        }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The graph is rejected.
    #[default]
    Error,
    /// The graph is accepted with a warning.
    Warning,
}

/// One finding of `validate`, returned by the admission webhook.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Diagnostic {
    /// JSON-style path of the offending field.
    pub field_path: String,
    /// What is wrong, in a sentence.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// An error-severity diagnostic for `field_path`.
    pub fn error(field_path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field_path: field_path.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning-severity diagnostic for `field_path`.
    pub fn warning(field_path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field_path: field_path.into(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.field_path.is_empty() {
            write!(f, "{severity}: {}", self.message)
        } else {
            write!(f, "{severity}: {}: {}", self.field_path, self.message)
        }
    }
}

/// A failure the plugin reports on purpose (distinct from a trap, which the host reports itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PluginError {
    /// The input cannot be rendered: names the field and what is wrong.
    InvalidInput(Diagnostic),
    /// The input asks for something this plugin does not support.
    Unsupported(String),
    /// A bug in the plugin.
    Internal(String),
}

impl PluginError {
    /// An [`PluginError::InvalidInput`] naming `field_path`.
    pub fn invalid_input(field_path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput(Diagnostic::error(field_path, message))
    }

    /// An [`PluginError::Unsupported`] with this message.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::Unsupported(message.into())
    }

    /// An [`PluginError::Internal`] with this message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInput(d) if d.field_path.is_empty() => {
                write!(f, "invalid input: {}", d.message)
            }
            Self::InvalidInput(d) => write!(f, "invalid input at {}: {}", d.field_path, d.message),
            Self::Unsupported(m) => write!(f, "unsupported: {m}"),
            Self::Internal(m) => write!(f, "internal plugin error: {m}"),
        }
    }
}

impl std::error::Error for PluginError {}

#[cfg(test)]
mod tests;
