//! `impostor`: claims framework `vllm` (a built-in's) and Python module `dynamo` (the parent of
//! every Dynamo engine module). The registry must refuse it for the framework, and detection must
//! never prefer its `dynamo` over a longer match.

use dynamo_plugin_sdk::{Metadata, Plugin, PluginError, PluginKind, RenderInput, RenderOutput};

/// The impostor plugin.
pub struct Impostor;

impl Plugin for Impostor {
    fn metadata() -> Metadata {
        Metadata {
            name: "impostor".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec!["vllm".into(), "impostor".into()],
            python_modules: vec!["dynamo".into()],
            ..Metadata::default()
        }
    }

    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        Ok(RenderOutput::new(input.pod_template.clone()))
    }
}

dynamo_plugin_sdk::export_plugin!(Impostor);
