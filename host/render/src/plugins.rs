//! The plugin boundary as the pipeline sees it: the [`PluginSet`] trait, and how a component's
//! plugin chain is chosen from plugin metadata and run.
//!
//! The wasmtime registry implements [`PluginSet`] in the operator crate; tests use the native
//! fake in `testing` (feature `testing`). Nothing here knows how a plugin is executed.
//!
//! Composition: a component whose backend framework is `F` runs the backend plugin that lists
//! `F` in `frameworks`; a multi-node component then runs the launcher named by that backend's
//! `multinode-launcher`, on the backend's output.

use std::collections::BTreeMap;

use dynamo_plugin_contract::text::one_line;
use dynamo_plugin_contract::{
    Capability, Component, Diagnostic, ExtraObject, Graph, Infrastructure, KeyValue, Metadata,
    Placement, PluginError, PluginKind, RenderInput, RenderOutput, Serving,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;

use crate::config::RenderConfig;
use crate::error::RenderError;
use crate::keys;
use crate::model::{GraphModel, ServiceModel};
use crate::pod_security;

/// A set of loaded backend and launcher plugins.
pub trait PluginSet {
    /// Metadata of every plugin in the set.
    fn metadata(&self) -> Vec<&Metadata>;

    /// Renders one pod template with plugin `plugin`.
    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError>;

    /// Validates one component with plugin `plugin`; an empty list means valid.
    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError>;

    /// Capabilities in effect for plugin `plugin` (declared by it and granted to it). They excuse
    /// the matching Pod Security findings (a granted `privileged` may make a pod privileged).
    /// Default: none.
    fn granted(&self, plugin: &str) -> Vec<Capability> {
        let _ = plugin;
        Vec::new()
    }

    /// Plugins that could not be loaded, one line each (`<file>: <why>`), named in the error of a
    /// graph that needs a backend no loaded plugin handles. Default: none.
    fn unavailable(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Why a plugin call did not return a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginCallError {
    /// The plugin reported an error on purpose (`plugin-error` in the contract).
    #[error("{0}")]
    Reported(PluginError),
    /// No plugin of that name is loaded.
    #[error("no plugin named `{0}` is loaded")]
    NotLoaded(String),
    /// The runtime failed the call: a trap, a deadline, a memory limit, or output outside the
    /// allow-list. The message comes from the runtime.
    #[error("{0}")]
    Runtime(String),
}

/// Plugin metadata indexed the ways the pipeline looks plugins up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Backend plugin name by framework (`vllm` → `vllm`).
    backends: BTreeMap<String, String>,
    /// Framework by Python module (`dynamo.vllm` → `vllm`).
    modules: BTreeMap<String, String>,
    /// Launcher named by each backend, by backend plugin name.
    launchers_of: BTreeMap<String, String>,
    /// What each backend's engine serves, by backend plugin name (absent: a Dynamo engine).
    serving: BTreeMap<String, Serving>,
    /// Annotation prefixes each plugin reads beyond `nvidia.com/`, by plugin name.
    annotation_prefixes: BTreeMap<String, Vec<String>>,
    /// Plugins of kind launcher, by name.
    launchers: BTreeMap<String, Metadata>,
    /// Plugins that could not be loaded ([`PluginSet::unavailable`]).
    unavailable: Vec<String>,
}

/// The plugins one component runs through, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Framework handled (`vllm`, `sglang`, `trtllm`, or a custom plugin's).
    pub framework: String,
    /// Backend plugin name.
    pub backend: String,
    /// Launcher plugin name, for multi-node components whose backend names one.
    pub launcher: Option<String>,
    /// What the backend's engine serves, when its plugin declares it (`None`: a Dynamo engine).
    pub serving: Option<Serving>,
    /// Annotation prefixes the chain's plugins read beyond `nvidia.com/`.
    pub annotation_prefixes: Vec<String>,
}

// === impl Catalog ===

impl Catalog {
    /// Indexes the metadata of `plugins`. When several backends claim a framework or module, the
    /// one whose name sorts first wins, so the choice never depends on load order.
    pub fn new(plugins: &dyn PluginSet) -> Self {
        let mut metadata: Vec<&Metadata> = plugins.metadata();
        metadata.sort_by(|a, b| a.name.cmp(&b.name));
        let mut catalog = Self::default();
        for meta in metadata {
            if !meta.annotation_prefixes.is_empty() {
                catalog
                    .annotation_prefixes
                    .entry(meta.name.clone())
                    .or_insert_with(|| meta.annotation_prefixes.clone());
            }
            match meta.kind {
                PluginKind::Backend => {
                    for framework in &meta.frameworks {
                        catalog
                            .backends
                            .entry(framework.clone())
                            .or_insert_with(|| meta.name.clone());
                    }
                    if let Some(framework) = meta.frameworks.first() {
                        for module in &meta.python_modules {
                            catalog
                                .modules
                                .entry(module.clone())
                                .or_insert_with(|| framework.clone());
                        }
                    }
                    if let Some(launcher) = &meta.multinode_launcher {
                        catalog
                            .launchers_of
                            .insert(meta.name.clone(), launcher.clone());
                    }
                    if let Some(serving) = &meta.serving {
                        catalog.serving.insert(meta.name.clone(), serving.clone());
                    }
                }
                PluginKind::Launcher => {
                    catalog
                        .launchers
                        .entry(meta.name.clone())
                        .or_insert_with(|| meta.clone());
                }
            }
        }
        catalog.unavailable = plugins.unavailable();
        catalog
    }

    /// Framework identified by Python module `module`, if a backend claims it exactly.
    pub fn framework_of_module(&self, module: &str) -> Option<&str> {
        self.modules.get(module).map(String::as_str)
    }

    /// Framework of the longest claimed module that is `module` or a parent package of it:
    /// `dynamo.vllm.main` belongs to a plugin claiming `dynamo.vllm` before one claiming `dynamo`.
    pub fn framework_of_module_or_parent(&self, module: &str) -> Option<&str> {
        let mut candidate = module;
        loop {
            if let Some(framework) = self.framework_of_module(candidate) {
                return Some(framework);
            }
            candidate = candidate.rsplit_once('.')?.0;
        }
    }

    /// ` (plugins that failed to load: <file>: <why>; ...)`, or nothing when every plugin loaded:
    /// appended to "no plugin handles" errors, since a plugin that failed to load is the usual
    /// reason.
    pub fn unavailable_note(&self) -> String {
        if self.unavailable.is_empty() {
            String::new()
        } else {
            format!(
                " (plugins that failed to load: {})",
                self.unavailable.join("; ")
            )
        }
    }

    /// Every Python module a backend claims, sorted.
    pub fn python_modules(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// Backend plugin handling `framework`, if any.
    pub fn backend_for(&self, framework: &str) -> Option<&str> {
        self.backends.get(framework).map(String::as_str)
    }

    /// The chain for a component running `framework`; `multinode` adds the backend's launcher.
    ///
    /// `field` names the service in errors (`spec.services.decode`).
    pub fn chain(
        &self,
        framework: &str,
        multinode: bool,
        field: &str,
    ) -> Result<Chain, RenderError> {
        let backend = self.backend_for(framework).ok_or_else(|| {
            RenderError::field(
                field,
                format!(
                    "no backend plugin handles backend framework `{framework}`{}",
                    self.unavailable_note()
                ),
            )
        })?;
        let launcher = match (multinode, self.launchers_of.get(backend)) {
            (true, Some(launcher)) => {
                if !self.launchers.contains_key(launcher) {
                    return Err(RenderError::field(
                        field,
                        format!(
                            "backend plugin `{backend}` needs launcher plugin `{launcher}` for \
                             multi-node components, but no launcher of that name is loaded"
                        ),
                    ));
                }
                Some(launcher.clone())
            }
            _ => None,
        };
        let mut annotation_prefixes: Vec<String> = std::iter::once(backend)
            .chain(launcher.as_deref())
            .filter_map(|plugin| self.annotation_prefixes.get(plugin))
            .flatten()
            .cloned()
            .collect();
        annotation_prefixes.sort();
        annotation_prefixes.dedup();
        Ok(Chain {
            framework: framework.to_owned(),
            backend: backend.to_owned(),
            launcher,
            serving: self.serving.get(backend).cloned(),
            annotation_prefixes,
        })
    }
}

// === impl Chain ===

impl Chain {
    /// Plugin names in call order.
    pub fn plugins(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.backend.as_str()).chain(self.launcher.as_deref())
    }

    /// The serving declaration of a backend whose engine is not a Dynamo runtime: the host then
    /// builds a plain pod and Service from it instead of Dynamo's worker defaults. `None` for a
    /// Dynamo engine, declared or not.
    pub fn plain_engine(&self) -> Option<&Serving> {
        self.serving.as_ref().filter(|s| !s.dynamo_runtime)
    }

    /// True when annotation `key` reaches the chain's plugins: the operator's own (`nvidia.com/`)
    /// and those under a prefix a plugin of the chain declared.
    pub fn reads_annotation(&self, key: &str) -> bool {
        key.starts_with(RECOGNISED_ANNOTATION_PREFIX)
            || self
                .annotation_prefixes
                .iter()
                .any(|prefix| key.starts_with(prefix.as_str()))
    }

    /// True when a launcher runs after the backend. A launcher starts the job from the leader,
    /// so the leader must start after the workers are up (Grove `startsAfter`).
    pub fn leader_starts_after_workers(&self) -> bool {
        self.launcher.is_some()
    }
}

/// What running a chain on one pod template produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainOutput {
    /// Final pod template.
    pub template: PodTemplateSpec,
    /// Extra objects requested by any plugin of the chain, in call order.
    pub extra_objects: Vec<(String, ExtraObject)>,
    /// Warnings from any plugin of the chain, prefixed with the plugin name.
    pub warnings: Vec<String>,
}

/// Longest plugin warning kept (the plugin runtime bounds them too; this holds for any plugin set).
const MAX_WARNING_BYTES: usize = 1024;

/// Runs `chain` on `input`, whose pod template is `base`: each plugin gets the previous plugin's
/// pod template.
///
/// After each plugin the pod must still pass every Kubernetes Pod Security Standard level it
/// passed before ([`crate::pod_security`]), except where a capability granted to that plugin
/// permits the difference. `field` names the service in errors.
pub fn run_chain(
    plugins: &dyn PluginSet,
    chain: &Chain,
    input: &RenderInput,
    base: &PodTemplateSpec,
    field: &str,
) -> Result<ChainOutput, RenderError> {
    let mut output = ChainOutput {
        template: base.clone(),
        ..ChainOutput::default()
    };
    let mut text = input.pod_template.clone();
    for plugin in chain.plugins() {
        let failed = |source: PluginCallError| RenderError::Plugin {
            field: field.to_owned(),
            plugin: plugin.to_owned(),
            source,
        };
        let step_input = RenderInput {
            pod_template: std::mem::take(&mut text),
            ..input.clone()
        };
        let rendered = plugins.render(plugin, &step_input).map_err(failed)?;
        let next: PodTemplateSpec = serde_json::from_str(&rendered.pod_template).map_err(|e| {
            failed(PluginCallError::Runtime(format!(
                "returned a pod template that is not a PodTemplateSpec: {e}"
            )))
        })?;
        let granted = plugins.granted(plugin);
        if let Some(finding) = pod_security::lowered(&output.template, &next, &granted).first() {
            return Err(failed(PluginCallError::Runtime(format!(
                "makes the pod less safe: it passed the Kubernetes {} Pod Security Standard, but \
                 now {}: {}",
                finding.level, finding.field, finding.message
            ))));
        }
        output.template = next;
        text = rendered.pod_template;
        output.extra_objects.extend(
            rendered
                .extra_objects
                .into_iter()
                .map(|object| (plugin.to_owned(), object)),
        );
        output.warnings.extend(
            rendered
                .warnings
                .into_iter()
                .map(|w| format!("{plugin}: {}", one_line(&w, MAX_WARNING_BYTES))),
        );
    }
    Ok(output)
}

/// Runs every plugin of `chain`'s `validate` on `input` and gathers their diagnostics.
pub fn validate_chain(
    plugins: &dyn PluginSet,
    chain: &Chain,
    input: &RenderInput,
    field: &str,
) -> Result<Vec<Diagnostic>, RenderError> {
    let mut diagnostics = Vec::new();
    for plugin in chain.plugins() {
        let found = plugins
            .validate(plugin, input)
            .map_err(|source| RenderError::Plugin {
                field: field.to_owned(),
                plugin: plugin.to_owned(),
                source,
            })?;
        diagnostics.extend(found);
    }
    Ok(diagnostics)
}

/// A field path a plugin reported, in the terms the user wrote the graph in.
///
/// Plugins name fields as the contract's SDKs build them, in `v1alpha1` terms
/// (`spec.services.<svc>.extraPodSpec.mainContainer.args`, `...resources.limits.gpu`,
/// `...envs[<name>]`, `...annotations[<key>]`). The host works on `v1beta1`, so those paths are
/// moved to the component's (`spec.components[<i>].podTemplate.spec.containers[main].args`, the
/// GPU resource's limit, the main container's `env`); an annotation is named where it was
/// written ([`crate::model::component_annotation`]). Other paths are left as they are.
pub fn user_field(path: &str, service: &ServiceModel) -> String {
    let prefix = format!("spec.services.{}", service.name);
    let Some(rest) = path.strip_prefix(&prefix) else {
        return path.to_owned();
    };
    if !(rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')) {
        return path.to_owned();
    }
    let field = service.field();
    let main = format!(
        "{field}.podTemplate.spec.containers[{}]",
        keys::MAIN_CONTAINER
    );
    let gpu = if service.gpu_resource.is_empty() {
        crate::pod::DEFAULT_GPU_RESOURCE
    } else {
        service.gpu_resource.as_str()
    };
    if let Some(tail) = rest.strip_prefix(".extraPodSpec.mainContainer") {
        return format!("{main}{tail}");
    }
    if let Some(tail) = rest.strip_prefix(".extraPodSpec") {
        return format!("{field}.podTemplate.spec{tail}");
    }
    for which in ["limits", "requests"] {
        if rest == format!(".resources.{which}.gpu") {
            return format!("{main}.resources.{which}[{gpu}]");
        }
    }
    if let Some(tail) = rest.strip_prefix(".resources") {
        return format!("{main}.resources{tail}");
    }
    if let Some(tail) = rest.strip_prefix(".envs") {
        return format!("{main}.env{tail}");
    }
    if let Some(key) = rest
        .strip_prefix(".annotations[")
        .and_then(|k| k.strip_suffix(']'))
    {
        return crate::model::component_annotation(&service.spec, &service.legacy, &field, key)
            .map_or_else(|| format!("metadata.annotations[{key}]"), |a| a.path);
    }
    format!("{field}{rest}")
}

/// A plugin warning (`<plugin>: <fieldPath>: <message>`, as the SDKs write them) with its field
/// path in the user's terms ([`user_field`]).
pub fn user_warning(warning: &str, service: &ServiceModel) -> String {
    let Some(at) = warning.find("spec.services.") else {
        return warning.to_owned();
    };
    let (head, rest) = warning.split_at(at);
    let end = rest.find(": ").unwrap_or(rest.len());
    let (path, tail) = rest.split_at(end);
    format!("{head}{}{tail}", user_field(path, service))
}

/// Prefix of the annotations handed to every plugin (the ones the operator recognises); a plugin
/// also gets those under the prefixes it declares ([`Chain::reads_annotation`]).
pub const RECOGNISED_ANNOTATION_PREFIX: &str = "nvidia.com/";

/// The input of every plugin call for one pod template of `service`.
pub fn render_input(
    graph: &GraphModel,
    service: &ServiceModel,
    placement: Placement,
    config: &RenderConfig,
    template: &PodTemplateSpec,
) -> Result<RenderInput, RenderError> {
    let pod_template = serde_json::to_string(template)
        .map_err(|e| RenderError::field(service.field(), format!("cannot serialize: {e}")))?;
    Ok(RenderInput {
        graph: Graph {
            name: graph.name.clone(),
            namespace: graph.namespace.clone(),
            dynamo_namespace: service.dynamo_namespace.clone(),
            annotations: service
                .annotations
                .iter()
                .filter(|(k, _)| match &service.chain {
                    Some(chain) => chain.reads_annotation(k),
                    None => k.starts_with(RECOGNISED_ANNOTATION_PREFIX),
                })
                .map(|(k, v)| KeyValue::new(k, v))
                .collect(),
        },
        component: Component {
            service_name: service.name.clone(),
            component_type: service.component_type.clone(),
            sub_component_type: service.sub_component_type.clone(),
            backend_framework: service
                .chain
                .as_ref()
                .map(|c| c.framework.clone())
                .unwrap_or_default(),
            replicas: u32::try_from(service.replicas).unwrap_or(0),
            gpus_per_node: service.gpus_per_node,
            gpu_resource: service.gpu_resource.clone(),
            compilation_cache_path: service.compilation_cache_path.clone(),
        },
        placement,
        infrastructure: Infrastructure {
            mpi_ssh_secret_name: config.operator.mpi.ssh_secret_name.clone(),
            wait_for_leader_config_map: if service.is_multinode() {
                keys::wait_leader_config_map(&graph.name)
            } else {
                String::new()
            },
        },
        pod_template,
    })
}

#[cfg(test)]
mod tests;
