//! The registry as the render pipeline's plugin boundary (`dynamo_render::PluginSet`).
//!
//! Behind the `render` feature so the runtime stays usable without the pipeline.

use dynamo_render::{PluginCallError, PluginSet};

use crate::contract::{Capability, Diagnostic, Metadata, RenderInput, RenderOutput};
use crate::{PluginError, PluginRegistry};

impl PluginSet for PluginRegistry {
    fn metadata(&self) -> Vec<&Metadata> {
        self.iter().map(|p| p.metadata()).collect()
    }

    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError> {
        let loaded = self
            .get(plugin)
            .ok_or_else(|| PluginCallError::NotLoaded(plugin.to_owned()))?;
        loaded.render(input).map_err(call_error)
    }

    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError> {
        let loaded = self
            .get(plugin)
            .ok_or_else(|| PluginCallError::NotLoaded(plugin.to_owned()))?;
        loaded.validate(input).map_err(call_error)
    }

    fn granted(&self, plugin: &str) -> Vec<Capability> {
        self.get(plugin)
            .map(|p| p.granted_capabilities().iter().cloned().collect())
            .unwrap_or_default()
    }

    fn unavailable(&self) -> Vec<String> {
        self.rejected()
            .iter()
            .map(|r| format!("{}: {}", r.origin, r.error))
            .collect()
    }
}

/// A plugin's own error stays typed; every runtime failure (trap, deadline, memory, forbidden
/// output) keeps the runtime's message, which names the plugin and the component.
fn call_error(error: PluginError) -> PluginCallError {
    match error {
        PluginError::Plugin { error, .. } => PluginCallError::Reported(error),
        other => PluginCallError::Runtime(other.to_string()),
    }
}
