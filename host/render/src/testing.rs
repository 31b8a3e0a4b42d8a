//! Test doubles and fixtures for the render pipeline (feature `testing`, or this crate's tests).
//!
//! [`FakePlugins`] is a **native fake plugin set, not a backend**: its plugins claim the real
//! frameworks and Python modules (so detection and chain composition are exercised) but only
//! leave visible marks — an annotation naming the chain, placement flags on multi-node pods, and
//! the extra objects real plugins request — so tests can assert what the pipeline handed them.
//! Goldens of real backend output come from the real plugins.

use std::collections::BTreeMap;
use std::sync::Mutex;

use dynamo_api::DynamoGraphDeployment;
use dynamo_plugin_contract::{
    Capability, Diagnostic, ExtraObject, Metadata, PluginError, PluginKind, RenderInput,
    RenderOutput, Role,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Value, json};

use crate::keys;
use crate::plugins::{PluginCallError, PluginSet};

/// Annotation each fake plugin appends its name to (comma-separated, in call order).
pub const RENDERED_BY: &str = "fake.dynamo.test/rendered-by";

/// One call a [`FakePlugins`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `render` or `validate`.
    pub function: &'static str,
    /// Plugin called.
    pub plugin: String,
    /// Service the call was for.
    pub service: String,
    /// Role of the pod template.
    pub role: Role,
}

/// A native fake of the plugin set (see the module docs).
#[derive(Debug, Default)]
pub struct FakePlugins {
    metadata: Vec<Metadata>,
    failures: BTreeMap<String, PluginError>,
    findings: BTreeMap<String, Vec<Diagnostic>>,
    warnings: BTreeMap<String, Vec<String>>,
    edits: BTreeMap<String, Vec<(String, Value)>>,
    granted: BTreeMap<String, Vec<Capability>>,
    calls: Mutex<Vec<Call>>,
}

// === impl FakePlugins ===

impl FakePlugins {
    /// Fakes of the built-in set: backends `vllm`, `sglang`, `trtllm` (whose multi-node
    /// launcher is `mpi`) and the launcher `mpi`.
    pub fn new() -> Self {
        Self::empty()
            .with_plugin(backend("vllm", None))
            .with_plugin(backend("sglang", None))
            .with_plugin(backend("trtllm", Some("mpi")))
            .with_plugin(Metadata {
                name: "mpi".into(),
                version: "0.0.0-fake".into(),
                kind: PluginKind::Launcher,
                ..Metadata::default()
            })
    }

    /// A set with no plugins.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The same set with one more plugin.
    #[must_use]
    pub fn with_plugin(mut self, metadata: Metadata) -> Self {
        self.metadata.push(metadata);
        self
    }

    /// The same set where every `render` of `plugin` fails with `error`.
    #[must_use]
    pub fn failing(mut self, plugin: &str, error: PluginError) -> Self {
        self.failures.insert(plugin.to_owned(), error);
        self
    }

    /// The same set where `validate` of `plugin` reports `findings`.
    #[must_use]
    pub fn with_findings(mut self, plugin: &str, findings: Vec<Diagnostic>) -> Self {
        self.findings.insert(plugin.to_owned(), findings);
        self
    }

    /// The same set where `render` of `plugin` returns `warnings`.
    #[must_use]
    pub fn with_warnings(mut self, plugin: &str, warnings: Vec<String>) -> Self {
        self.warnings.insert(plugin.to_owned(), warnings);
        self
    }

    /// The same set where `render` of `plugin` also writes `value` at JSON pointer `pointer` of
    /// the pod template (existing parents only; the last segment is set or replaced).
    #[must_use]
    pub fn with_edit(mut self, plugin: &str, pointer: &str, value: Value) -> Self {
        self.edits
            .entry(plugin.to_owned())
            .or_default()
            .push((pointer.to_owned(), value));
        self
    }

    /// The same set where `plugin` holds `capabilities` ([`PluginSet::granted`]).
    #[must_use]
    pub fn with_granted(mut self, plugin: &str, capabilities: Vec<Capability>) -> Self {
        self.granted.insert(plugin.to_owned(), capabilities);
        self
    }

    /// Every call received so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, function: &'static str, plugin: &str, input: &RenderInput) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Call {
                function,
                plugin: plugin.to_owned(),
                service: input.component.service_name.clone(),
                role: input.placement.role,
            });
    }

    fn find(&self, plugin: &str) -> Result<&Metadata, PluginCallError> {
        self.metadata
            .iter()
            .find(|m| m.name == plugin)
            .ok_or_else(|| PluginCallError::NotLoaded(plugin.to_owned()))
    }
}

fn backend(name: &str, launcher: Option<&str>) -> Metadata {
    Metadata {
        name: name.into(),
        version: "0.0.0-fake".into(),
        kind: PluginKind::Backend,
        frameworks: vec![name.into()],
        python_modules: vec![format!("dynamo.{name}")],
        multinode_launcher: launcher.map(str::to_owned),
        capabilities: Vec::new(),
        ..Metadata::default()
    }
}

impl PluginSet for FakePlugins {
    fn metadata(&self) -> Vec<&Metadata> {
        self.metadata.iter().collect()
    }

    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError> {
        let meta = self.find(plugin)?;
        self.record("render", plugin, input);
        if let Some(error) = self.failures.get(plugin) {
            return Err(PluginCallError::Reported(error.clone()));
        }
        let mut pod: PodTemplateSpec = serde_json::from_str(&input.pod_template).map_err(|e| {
            PluginCallError::Reported(PluginError::invalid_input("podTemplate", e.to_string()))
        })?;
        let annotations = pod
            .metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(BTreeMap::new);
        let chain = match annotations.get(RENDERED_BY) {
            Some(previous) => format!("{previous},{plugin}"),
            None => plugin.to_owned(),
        };
        annotations.insert(RENDERED_BY.to_owned(), chain);

        let placement = &input.placement;
        let mut extra_objects = Vec::new();
        if placement.role != Role::Main && meta.kind == PluginKind::Backend {
            let main = pod.spec.as_mut().and_then(|s| {
                s.containers
                    .iter_mut()
                    .find(|c| c.name == keys::MAIN_CONTAINER)
            });
            if let Some(main) = main {
                main.args.get_or_insert_with(Vec::new).extend([
                    "--fake-leader".to_owned(),
                    placement.leader_host.clone(),
                    "--fake-rank".to_owned(),
                    placement.node_rank.clone(),
                    "--fake-nodes".to_owned(),
                    placement.node_count.to_string(),
                ]);
            }
            if meta.name == "vllm" {
                let config_map = json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": { "name": format!("{}-vllm-settings", input.graph.name) },
                    "data": { "settings": "fake" },
                });
                extra_objects.push(ExtraObject::ConfigMap(config_map.to_string()));
            }
        }
        if meta.kind == PluginKind::Launcher {
            extra_objects.push(ExtraObject::SshKeySecret(
                input.infrastructure.mpi_ssh_secret_name.clone(),
            ));
        }
        let internal =
            |e: serde_json::Error| PluginCallError::Reported(PluginError::internal(e.to_string()));
        let mut value = serde_json::to_value(&pod).map_err(internal)?;
        for (pointer, new) in self.edits.get(plugin).into_iter().flatten() {
            if let Some((parent, key)) = pointer.rsplit_once('/')
                && let Some(slot) = value.pointer_mut(parent)
            {
                match slot {
                    Value::Array(items) => match key.parse::<usize>() {
                        Ok(i) if i < items.len() => items[i] = new.clone(),
                        _ => items.push(new.clone()),
                    },
                    Value::Object(map) => {
                        map.insert(key.replace("~1", "/"), new.clone());
                    }
                    _ => {}
                }
            }
        }
        let pod_template = value.to_string();
        Ok(RenderOutput {
            pod_template,
            extra_objects,
            warnings: self.warnings.get(plugin).cloned().unwrap_or_default(),
        })
    }

    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError> {
        self.find(plugin)?;
        self.record("validate", plugin, input);
        Ok(self.findings.get(plugin).cloned().unwrap_or_default())
    }

    fn granted(&self, plugin: &str) -> Vec<Capability> {
        self.granted.get(plugin).cloned().unwrap_or_default()
    }
}

/// The DynamoGraphDeployment documents of a (possibly multi-document) YAML stream, of either
/// version, as hub (`v1beta1`) graphs; other kinds (ConfigMaps, PVCs) are skipped.
pub fn graphs_from_yaml(text: &str) -> Result<Vec<DynamoGraphDeployment>, String> {
    let mut graphs = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value: serde_json::Value = serde::Deserialize::deserialize(document)
            .map_err(|e| format!("document {index}: {e}"))?;
        if value.get("kind").and_then(|k| k.as_str()) == Some("DynamoGraphDeployment") {
            graphs.push(crate::input::graph(value).map_err(|e| format!("document {index}: {e}"))?);
        }
    }
    Ok(graphs)
}

/// The single DynamoGraphDeployment of a YAML stream.
pub fn graph_from_yaml(text: &str) -> Result<DynamoGraphDeployment, String> {
    let mut graphs = graphs_from_yaml(text)?;
    match graphs.len() {
        1 => Ok(graphs.remove(0)),
        n => Err(format!("expected one DynamoGraphDeployment, found {n}")),
    }
}

/// Parses a YAML stream holding exactly one DynamoGraphDeployment.
///
/// # Panics
/// When the text does not hold exactly one well-formed graph; meant for test fixtures.
pub fn graph(yaml: &str) -> DynamoGraphDeployment {
    match graph_from_yaml(yaml) {
        Ok(graph) => graph,
        Err(e) => panic!("bad test fixture: {e}\n{yaml}"),
    }
}
