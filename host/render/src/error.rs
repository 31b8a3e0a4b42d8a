//! [`RenderError`]: why a graph could not be rendered, naming the field path at fault.

use dynamo_plugin_contract::{Diagnostic, Severity};

use crate::plugins::PluginCallError;

/// Why a graph could not be rendered.
///
/// Every message names the field path at fault (`spec.services.decode.replicas: ...`) so the CLI
/// and the controller's events can show it verbatim.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Validation found errors (warnings are listed too, but only errors make a graph invalid).
    #[error("{}", describe_invalid(.0))]
    Invalid(Vec<Diagnostic>),
    /// A field holds a value the pipeline cannot use.
    #[error("{field}: {message}")]
    Field {
        /// Path of the offending field, such as `spec.services.decode.resources.limits.gpu`.
        field: String,
        /// What is wrong, in a sentence.
        message: String,
    },
    /// A plugin failed while rendering or validating one component.
    #[error("{field}: plugin `{plugin}` failed: {source}")]
    Plugin {
        /// Path of the service being rendered (`spec.services.decode`).
        field: String,
        /// Name of the plugin.
        plugin: String,
        /// What the plugin (or its runtime) reported.
        #[source]
        source: PluginCallError,
    },
}

// === impl RenderError ===

impl RenderError {
    /// A [`RenderError::Field`] for `field`.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Field {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The diagnostics of a [`RenderError::Invalid`]; a single error diagnostic otherwise.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Self::Invalid(diagnostics) => diagnostics.clone(),
            Self::Field { field, message } => vec![Diagnostic::error(field, message)],
            Self::Plugin { field, .. } => vec![Diagnostic::error(field, self.to_string())],
        }
    }
}

fn describe_invalid(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            if d.field_path.is_empty() {
                d.message.clone()
            } else {
                format!("{}: {}", d.field_path, d.message)
            }
        })
        .collect();
    match errors.len() {
        0 => "the graph is invalid".to_owned(),
        1 => errors.concat(),
        n => format!("{n} errors: {}", errors.join("; ")),
    }
}

/// True when any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}
