//! Typed access to the pod template a plugin receives and returns.
//!
//! The contract carries the pod template as JSON text of a Kubernetes `PodTemplateSpec`;
//! [`PodTemplate`] parses it into the `k8s-openapi` types, gives typed access to the parts plugins
//! edit (the `main` container, annotations, labels, volumes) and serializes it back.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::{PluginError, RenderInput};

/// Name of the main container, the one that runs the engine.
pub const MAIN_CONTAINER: &str = "main";

/// A parsed `PodTemplateSpec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodTemplate(PodTemplateSpec);

impl PodTemplate {
    /// Parses JSON text of a `PodTemplateSpec`; a parse failure is [`PluginError::InvalidInput`].
    pub fn from_json(text: &str) -> Result<Self, PluginError> {
        serde_json::from_str(text).map(Self).map_err(|e| {
            PluginError::invalid_input("podTemplate", format!("not a PodTemplateSpec: {e}"))
        })
    }

    /// Parses the pod template of a render input.
    pub fn from_input(input: &RenderInput) -> Result<Self, PluginError> {
        Self::from_json(&input.pod_template)
    }

    /// Serializes back to JSON text; failure (never expected) is [`PluginError::Internal`].
    pub fn to_json(&self) -> Result<String, PluginError> {
        serde_json::to_string(&self.0)
            .map_err(|e| PluginError::internal(format!("cannot serialize the pod template: {e}")))
    }

    /// The underlying `PodTemplateSpec`.
    pub fn inner(&self) -> &PodTemplateSpec {
        &self.0
    }

    /// The underlying `PodTemplateSpec`, mutably.
    pub fn inner_mut(&mut self) -> &mut PodTemplateSpec {
        &mut self.0
    }

    /// Consumes the wrapper.
    pub fn into_inner(self) -> PodTemplateSpec {
        self.0
    }

    /// The pod metadata, created empty when absent.
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        self.0.metadata.get_or_insert_with(ObjectMeta::default)
    }

    /// The pod annotations, created empty when absent.
    pub fn annotations_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.metadata_mut()
            .annotations
            .get_or_insert_with(BTreeMap::new)
    }

    /// The pod labels, created empty when absent.
    pub fn labels_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.metadata_mut().labels.get_or_insert_with(BTreeMap::new)
    }

    /// The pod spec, if any.
    pub fn spec(&self) -> Option<&PodSpec> {
        self.0.spec.as_ref()
    }

    /// The pod spec, created empty when absent.
    pub fn spec_mut(&mut self) -> &mut PodSpec {
        self.0.spec.get_or_insert_with(PodSpec::default)
    }

    /// The container named `name`, if any.
    pub fn container(&self, name: &str) -> Option<&Container> {
        self.spec()?.containers.iter().find(|c| c.name == name)
    }

    /// The container named `name`, mutably, if any.
    pub fn container_mut(&mut self, name: &str) -> Option<&mut Container> {
        self.0
            .spec
            .as_mut()?
            .containers
            .iter_mut()
            .find(|c| c.name == name)
    }

    /// The main container (named [`MAIN_CONTAINER`]), if any.
    pub fn main_container(&self) -> Option<&Container> {
        self.container(MAIN_CONTAINER)
    }

    /// The main container, mutably; its absence is [`PluginError::InvalidInput`].
    pub fn main_container_mut(&mut self) -> Result<&mut Container, PluginError> {
        self.container_mut(MAIN_CONTAINER).ok_or_else(|| {
            PluginError::invalid_input(
                "podTemplate.spec.containers",
                format!("no container named `{MAIN_CONTAINER}`"),
            )
        })
    }

    /// The argv of the main container (`command` followed by `args`), empty when absent.
    pub fn main_argv(&self) -> Vec<String> {
        self.main_container()
            .map(container_argv)
            .unwrap_or_default()
    }
}

impl From<PodTemplateSpec> for PodTemplate {
    fn from(spec: PodTemplateSpec) -> Self {
        Self(spec)
    }
}

/// A container's argv: its `command` followed by its `args` (either may be absent).
pub fn container_argv(c: &Container) -> Vec<String> {
    c.command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[
        {"name":"sidecar","image":"s"},
        {"name":"main","image":"m","command":["python3","-m","dynamo.vllm"],"args":["--model","q"]}]}}"#;

    #[test]
    fn main_container_is_found_by_name() {
        let mut pod = PodTemplate::from_json(POD).expect("parses");
        assert_eq!(
            pod.main_argv(),
            ["python3", "-m", "dynamo.vllm", "--model", "q"]
        );
        pod.main_container_mut().expect("main").image = Some("new".into());
        pod.annotations_mut().insert("a".into(), "b".into());
        let back = PodTemplate::from_json(&pod.to_json().expect("serializes")).expect("parses");
        assert_eq!(
            back.main_container().and_then(|c| c.image.as_deref()),
            Some("new")
        );
        assert_eq!(
            back.container("sidecar").and_then(|c| c.image.as_deref()),
            Some("s")
        );
        assert_eq!(back, pod);
    }

    #[test]
    fn errors_name_the_field() {
        let err = PodTemplate::from_json("[1]").expect_err("not an object");
        assert!(matches!(&err, PluginError::InvalidInput(d) if d.field_path == "podTemplate"));
        let mut empty = PodTemplate::from_json("{}").expect("parses");
        assert!(empty.main_argv().is_empty());
        let err = empty.main_container_mut().expect_err("no main");
        assert!(err.to_string().contains("main"), "{err}");
        empty.spec_mut().containers.push(Container {
            name: MAIN_CONTAINER.into(),
            ..Container::default()
        });
        assert!(empty.main_container_mut().is_ok());
    }
}
