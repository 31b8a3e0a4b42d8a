//! `{{name}}`: a dynamo-operator backend plugin, built into a WebAssembly component.
//!
//! It renders the `main` container of every service whose backend framework is `{{name}}` (set
//! by `spec.backendFramework` or the service annotation `nvidia.com/backend-framework: {{name}}`):
//!
//! - metadata: an HTTP engine on port [`PORT`] with a health path, not a Dynamo runtime (the
//!   operator builds a plain pod and Service for it), reading the annotations that start with
//!   [`ANNOTATION_PREFIX`];
//! - validate: [`MAX_BATCH_SIZE`], when set, must be a positive integer; the service must run on
//!   one node;
//! - render (after `validate` found no error; its warnings join the output): adds `--port` and
//!   `--max-batch-size <n>` to the engine's command line unless already there (in `args`, or
//!   appended to an `sh -c` script), mounts an `emptyDir` model cache at [`CACHE_PATH`] and points
//!   `HF_HOME` at it.
//!
//! Edit it to fit your engine; `tests/` runs it natively and README.md says how to build and load
//! it. Generated for dynamo:backend@{{wit_version}} by dynamo-operator {{operator_version}} (SDK
//! {{sdk_version}}).

use dynamo_plugin_sdk::field::Field;
use dynamo_plugin_sdk::flags::append_missing_flags;
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{EmptyDirVolumeSource, Volume, VolumeMount};
use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Plugin, PluginError, PluginKind, PodTemplate, RenderInput, RenderOutput,
    Serving, ServingPort,
};

/// Plugin name, and the backend framework it handles.
pub const NAME: &str = "{{name}}";
/// The port the engine serves HTTP on.
pub const PORT: u16 = 8000;
/// The engine's health endpoint (200 when live and ready), probed on [`PORT`].
pub const HEALTH_PATH: &str = "/health";
/// Annotations this plugin reads beyond `nvidia.com/`.
pub const ANNOTATION_PREFIX: &str = "example.com/{{name}}-";
/// Service annotation whose value becomes `--max-batch-size <n>`.
pub const MAX_BATCH_SIZE: &str = "example.com/{{name}}-max-batch-size";
/// Name of the model-cache volume.
pub const CACHE_VOLUME: &str = "model-cache";
/// Where the model cache is mounted.
pub const CACHE_PATH: &str = "/cache";

/// The `{{name}}` engine: what it serves, what it accepts, and what it needs in its pod.
pub struct Backend;

impl Plugin for Backend {
    fn metadata() -> Metadata {
        Metadata {
            name: NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec![NAME.into()],
            // Not a Dynamo runtime: the operator builds a plain pod and Service on these ports
            // and probes the health path on the first one.
            serving: Some(Serving {
                dynamo_runtime: false,
                ports: vec![ServingPort::new("http", PORT)],
                health_path: Some(HEALTH_PATH.into()),
            }),
            annotation_prefixes: vec![ANNOTATION_PREFIX.into()],
            ..Metadata::default()
        }
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        if input.placement.node_count > 1 {
            found.push(
                Field::multinode(input)
                    .join("nodeCount")
                    .error(format!("{NAME} runs on a single node")),
            );
        }
        if let Some(value) = input.graph.annotation(MAX_BATCH_SIZE)
            && positive_integer(value).is_none()
        {
            found.push(
                Field::annotation(input, MAX_BATCH_SIZE)
                    .error(format!("must be a positive integer; got `{value}`")),
            );
        }
        found
    }

    // The SDK runs `validate` before `render` (the default of `Plugin::VALIDATE_BEFORE_RENDER`):
    // an error stops the render, warnings are added to its output. So `render` need not check
    // again.
    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut pod = PodTemplate::from_input(input)?;

        let port = PORT.to_string();
        let mut flags = vec![("--port", port.as_str())];
        if let Some(value) = input.graph.annotation(MAX_BATCH_SIZE) {
            flags.push(("--max-batch-size", value));
        }
        append_missing_flags(pod.main_container_mut()?, &flags)?;

        // Adds the pod volume and the main container's mount together, unless something is
        // mounted at the path already.
        pod.ensure_volume_and_mount(
            Volume {
                name: CACHE_VOLUME.into(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            },
            VolumeMount {
                name: CACHE_VOLUME.into(),
                mount_path: CACHE_PATH.into(),
                ..VolumeMount::default()
            },
        )?;
        pod.set_env_if_absent("HF_HOME", CACHE_PATH)?;

        Ok(RenderOutput::new(pod.to_json()?))
    }
}

/// `text` as a positive integer (ASCII digits only), if it is one.
fn positive_integer(text: &str) -> Option<u32> {
    let all_digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    all_digits
        .then(|| text.parse().ok())
        .flatten()
        .filter(|n| *n > 0)
}

dynamo_plugin_sdk::export_plugin!(Backend);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_integers() {
        assert_eq!(positive_integer("32"), Some(32));
        for bad in ["0", "", "-1", "+3", " 4", "1.5", "99999999999"] {
            assert_eq!(positive_integer(bad), None, "{bad:?}");
        }
    }
}
