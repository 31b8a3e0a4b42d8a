//! Typed field paths for diagnostics and errors, instead of hand-built strings.
//!
//! A diagnostic names the field the user should fix, as a JSON-style path into the graph
//! (`spec.services.decode.extraPodSpec.mainContainer.args`) or, for what the host built, into the
//! pod template (`podTemplate.spec.containers`). [`Field`] builds these paths segment by segment,
//! with shortcuts for the fields every backend names:
//!
//! ```
//! use dynamo_plugin_sdk::field::Field;
//! use dynamo_plugin_sdk::RenderInput;
//!
//! let mut input = RenderInput::default();
//! input.component.service_name = "decode".into();
//! assert_eq!(
//!     Field::service(&input).join("resources").join("limits").join("gpu").as_str(),
//!     "spec.services.decode.resources.limits.gpu"
//! );
//! assert_eq!(
//!     Field::annotation(&input, "example.com/x").as_str(),
//!     "spec.services.decode.annotations[example.com/x]"
//! );
//! let d = Field::main_container_args(&input).error("needs a model");
//! assert_eq!(d.field_path, "spec.services.decode.extraPodSpec.mainContainer.args");
//! ```

use std::fmt;

use crate::{Diagnostic, PluginError, RenderInput};

/// A JSON-style path of one field, e.g. `spec.services.decode.annotations[example.com/x]`.
///
/// Built from a root with [`Field::join`] (a `.name` segment), [`Field::key`] (a `[key]` segment,
/// for map keys and list items named by key) and [`Field::index`] (a `[n]` segment). Converts into
/// a `String` wherever a field path is expected (`Diagnostic::error(field, ...)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Field(String);

impl Field {
    /// A path starting at `root` (e.g. `spec`, `podTemplate`, `component.serviceName`).
    pub fn new(root: impl Into<String>) -> Self {
        Self(root.into())
    }

    /// `spec.services.<name>`: the service `name` of the graph.
    pub fn service_named(name: &str) -> Self {
        Self::new("spec").join("services").join(name)
    }

    /// `spec.services.<svc>`, `<svc>` being the service being rendered.
    pub fn service(input: &RenderInput) -> Self {
        Self::service_named(&input.component.service_name)
    }

    /// `spec.services.<svc>.annotations[<key>]`: an annotation of the service (the host merges
    /// graph and service annotations into `graph.annotations`; the service is where to fix it).
    pub fn annotation(input: &RenderInput, key: &str) -> Self {
        Self::service(input).join("annotations").key(key)
    }

    /// `spec.services.<svc>.envs[<name>]`: an environment variable the service sets.
    pub fn env(input: &RenderInput, name: &str) -> Self {
        Self::service(input).join("envs").key(name)
    }

    /// `spec.services.<svc>.extraPodSpec.mainContainer`.
    pub fn main_container(input: &RenderInput) -> Self {
        Self::service(input)
            .join("extraPodSpec")
            .join("mainContainer")
    }

    /// `spec.services.<svc>.extraPodSpec.mainContainer.args`.
    pub fn main_container_args(input: &RenderInput) -> Self {
        Self::main_container(input).join("args")
    }

    /// `spec.services.<svc>.extraPodSpec.mainContainer.command`.
    pub fn main_container_command(input: &RenderInput) -> Self {
        Self::main_container(input).join("command")
    }

    /// `spec.services.<svc>.resources.limits.gpu`: the GPU count.
    pub fn gpu_limit(input: &RenderInput) -> Self {
        Self::service(input)
            .join("resources")
            .join("limits")
            .join("gpu")
    }

    /// `spec.services.<svc>.multinode`.
    pub fn multinode(input: &RenderInput) -> Self {
        Self::service(input).join("multinode")
    }

    /// `podTemplate`: the pod template the host built (for what the user cannot name in the
    /// graph).
    pub fn pod_template() -> Self {
        Self::new("podTemplate")
    }

    /// `podTemplate.spec.containers`.
    pub fn pod_containers() -> Self {
        Self::pod_template().join("spec").join("containers")
    }

    /// This path followed by `.<name>`.
    #[must_use]
    pub fn join(&self, name: &str) -> Self {
        Self(format!("{}.{name}", self.0))
    }

    /// This path followed by `[<key>]` (a map key or a list item named by key).
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        Self(format!("{}[{key}]", self.0))
    }

    /// This path followed by `[<index>]` (a list item by position).
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An error diagnostic at this field.
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.0.clone(), message)
    }

    /// A warning diagnostic at this field.
    pub fn warning(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(self.0.clone(), message)
    }

    /// A [`PluginError::InvalidInput`] at this field.
    pub fn invalid_input(&self, message: impl Into<String>) -> PluginError {
        PluginError::invalid_input(self.0.clone(), message)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Field {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Field> for String {
    fn from(field: Field) -> Self {
        field.0
    }
}

impl From<&Field> for String {
    fn from(field: &Field) -> Self {
        field.0.clone()
    }
}

impl PartialEq<str> for Field {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Field {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn input() -> RenderInput {
        let mut input = RenderInput::default();
        input.component.service_name = "tgi".into();
        input
    }

    #[test]
    fn shortcuts_name_the_usual_fields() {
        let input = input();
        assert_eq!(Field::service(&input), "spec.services.tgi");
        assert_eq!(
            Field::main_container_args(&input),
            "spec.services.tgi.extraPodSpec.mainContainer.args"
        );
        assert_eq!(
            Field::main_container_command(&input),
            "spec.services.tgi.extraPodSpec.mainContainer.command"
        );
        assert_eq!(
            Field::gpu_limit(&input),
            "spec.services.tgi.resources.limits.gpu"
        );
        assert_eq!(
            Field::multinode(&input).join("nodeCount"),
            "spec.services.tgi.multinode.nodeCount"
        );
        assert_eq!(
            Field::annotation(&input, "example.com/tgi-quantize"),
            "spec.services.tgi.annotations[example.com/tgi-quantize]"
        );
        assert_eq!(
            Field::env(&input, "MODEL_ID"),
            "spec.services.tgi.envs[MODEL_ID]"
        );
        assert_eq!(Field::pod_containers(), "podTemplate.spec.containers");
        assert_eq!(
            Field::pod_containers().index(1).join("ports"),
            "podTemplate.spec.containers[1].ports"
        );
        assert_eq!(Field::service_named("a"), "spec.services.a");
    }

    #[test]
    fn fields_become_diagnostics_errors_and_strings() {
        let field = Field::new("component.serviceName");
        let d = field.error("empty");
        assert_eq!(
            (d.field_path.as_str(), d.severity),
            ("component.serviceName", Severity::Error)
        );
        assert_eq!(field.warning("w").severity, Severity::Warning);
        assert!(matches!(
            field.invalid_input("bad"),
            PluginError::InvalidInput(d) if d.field_path == "component.serviceName"
        ));
        let text: String = (&field).into();
        assert_eq!(text, field.to_string());
        assert_eq!(String::from(field.clone()), field.as_ref());
        let direct = Diagnostic::warning(field, "m");
        assert_eq!(direct.field_path, "component.serviceName");
    }
}
