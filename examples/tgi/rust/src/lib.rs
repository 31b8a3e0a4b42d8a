//! `tgi`: the Rust version of the example backend plugin for Hugging Face Text Generation
//! Inference (`text-generation-launcher`), a server that is not a Dynamo engine.
//!
//! `examples/tgi/SPEC.md` is the behaviour this crate implements, identically to the Python and
//! JavaScript versions; `examples/tgi/conformance/*.json` pins it and `tests/conformance.rs` runs
//! every vector through the SDK harness.
//!
//! # Selecting it
//! A service opts in with the annotation `nvidia.com/backend-framework: tgi` ([`FRAMEWORK`]).
//! The plugin declares [`Metadata::serving`] (not a Dynamo runtime, port `http` 8080, health path
//! `/health`), so the operator builds a plain pod for it: the user's command and args, no Dynamo
//! environment or ports, probes on `http`. It declares the annotation prefix
//! [`ANNOTATION_PREFIX`], so [`QUANTIZE_ANNOTATION`] reaches it in `graph.annotations`.
//!
//! # `validate`
//! In this order: a multi-node service is an error, as is a [`QUANTIZE_ANNOTATION`] outside
//! [`QUANTIZE_METHODS`] and a main container with neither `--model-id` in its argv nor a
//! `MODEL_ID` variable; no GPUs is a warning (TGI runs on CPU).
//!
//! # `render`
//! The SDK runs `validate` first (its default): an error is returned as `invalid-input`, warnings
//! join the render output. Then, on the main container: `command` defaults to
//! `text-generation-launcher`; `--port 8080`, `--num-shard <gpus>` (more than one GPU) and
//! `--quantize <method>` are added unless the argv has them (to the script of a `sh -c` command,
//! quoted, else to `args`); a `tgi-data` `emptyDir` is mounted at `/data` unless something is
//! mounted there; `HF_HUB_ENABLE_HF_TRANSFER=1` is set unless the variable exists.

use dynamo_plugin_sdk::field::Field;
use dynamo_plugin_sdk::flags::{append_missing_flags, has_flag};
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{EmptyDirVolumeSource, Volume, VolumeMount};
use dynamo_plugin_sdk::pod::container_argv;
use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Plugin, PluginError, PluginKind, PodTemplate, RenderInput, RenderOutput,
    Serving, ServingPort,
};

/// Plugin name (metadata `name`).
pub const NAME: &str = "tgi";
/// The backend framework this plugin handles (`nvidia.com/backend-framework: tgi`).
pub const FRAMEWORK: &str = "tgi";
/// The program the main container runs when it sets no command.
pub const LAUNCHER: &str = "text-generation-launcher";
/// Name of the port TGI serves on (the Service's target and the probes' port).
pub const PORT_NAME: &str = "http";
/// The port TGI listens on (`--port`).
pub const PORT: u16 = 8080;
/// TGI's health endpoint: 200 once the model is loaded.
pub const HEALTH_PATH: &str = "/health";
/// Annotation prefix this plugin reads beyond `nvidia.com/`.
pub const ANNOTATION_PREFIX: &str = "example.com/tgi-";
/// Annotation whose value becomes `--quantize <value>`.
pub const QUANTIZE_ANNOTATION: &str = "example.com/tgi-quantize";
/// The values [`QUANTIZE_ANNOTATION`] accepts (TGI's `--quantize` methods).
pub const QUANTIZE_METHODS: [&str; 9] = [
    "awq",
    "bitsandbytes",
    "bitsandbytes-fp4",
    "bitsandbytes-nf4",
    "eetq",
    "exl2",
    "fp8",
    "gptq",
    "marlin",
];
/// The flag that names the model to serve.
pub const MODEL_ID_FLAG: &str = "--model-id";
/// The environment variable TGI reads the model from when the flag is absent.
pub const MODEL_ID_ENV: &str = "MODEL_ID";
/// Name of the model-cache volume.
pub const DATA_VOLUME: &str = "tgi-data";
/// Where TGI keeps downloaded models.
pub const DATA_PATH: &str = "/data";
/// Environment variable that turns on faster Hugging Face Hub downloads.
pub const HF_TRANSFER_ENV: &str = "HF_HUB_ENABLE_HF_TRANSFER";

/// The `tgi` backend plugin.
pub struct Tgi;

impl Plugin for Tgi {
    fn metadata() -> Metadata {
        Metadata {
            name: NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec![FRAMEWORK.into()],
            python_modules: Vec::new(),
            multinode_launcher: None,
            capabilities: Vec::new(),
            serving: Some(Serving {
                dynamo_runtime: false,
                ports: vec![ServingPort::new(PORT_NAME, PORT)],
                health_path: Some(HEALTH_PATH.into()),
            }),
            annotation_prefixes: vec![ANNOTATION_PREFIX.into()],
        }
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        // A pod template without a main container reads as a container with no command, args
        // or env (SPEC.md); so does one that does not parse, which the host never sends.
        let pod = PodTemplate::from_input(input).ok();
        let main = pod.as_ref().and_then(PodTemplate::main_container);
        let argv = main.map(container_argv).unwrap_or_default();
        let mut found = Vec::new();

        if input.placement.node_count > 1 {
            found.push(Field::multinode(input).join("nodeCount").error(
                "TGI shards a model across the GPUs of one node; multi-node is not supported",
            ));
        }
        if let Some(method) = input.graph.annotation(QUANTIZE_ANNOTATION)
            && !QUANTIZE_METHODS.contains(&method)
        {
            found.push(Field::annotation(input, QUANTIZE_ANNOTATION).error(format!(
                "must be one of {}; got `{method}`",
                QUANTIZE_METHODS.join(", ")
            )));
        }
        let model_env =
            main.is_some_and(|c| c.env.iter().flatten().any(|v| v.name == MODEL_ID_ENV));
        if !has_flag(&argv, MODEL_ID_FLAG) && !model_env {
            found.push(Field::main_container_args(input).error(
                "TGI needs the model to serve: add --model-id <repo or path> to the args, or set \
                 MODEL_ID in envs",
            ));
        }
        if input.component.gpus_per_node == 0 {
            found.push(Field::gpu_limit(input).warning("no GPUs requested: TGI will run on CPU"));
        }
        found
    }

    // `VALIDATE_BEFORE_RENDER` keeps its default: `render` only runs when `validate` found no
    // error, and `validate`'s warnings are added to its output (SPEC.md render steps 1 and 7).
    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut pod = PodTemplate::from_input(input)?;
        let main = pod.main_container_mut()?;

        if main.command.as_ref().is_none_or(Vec::is_empty) {
            main.command = Some(vec![LAUNCHER.into()]);
        }

        let port = PORT.to_string();
        let shards = input.component.gpus_per_node.to_string();
        let mut flags = vec![("--port", port.as_str())];
        if input.component.gpus_per_node > 1 {
            flags.push(("--num-shard", shards.as_str()));
        }
        if let Some(method) = input.graph.annotation(QUANTIZE_ANNOTATION) {
            flags.push(("--quantize", method));
        }
        append_missing_flags(main, &flags)?;

        pod.ensure_volume_and_mount(
            Volume {
                name: DATA_VOLUME.into(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            },
            VolumeMount {
                name: DATA_VOLUME.into(),
                mount_path: DATA_PATH.into(),
                ..VolumeMount::default()
            },
        )?;
        pod.set_env_if_absent(HF_TRANSFER_ENV, "1")?;

        Ok(RenderOutput::new(pod.to_json()?))
    }
}

dynamo_plugin_sdk::export_plugin!(Tgi);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_matches_the_spec() {
        let m = Tgi::metadata();
        assert_eq!(
            (m.name.as_str(), m.version.as_str(), m.kind),
            ("tgi", "0.1.0", PluginKind::Backend)
        );
        assert_eq!(m.frameworks, ["tgi"]);
        assert!(m.python_modules.is_empty() && m.capabilities.is_empty());
        assert_eq!(m.multinode_launcher, None);
        assert_eq!(
            m.serving,
            Some(Serving {
                dynamo_runtime: false,
                ports: vec![ServingPort::new("http", 8080)],
                health_path: Some("/health".into()),
            })
        );
        assert_eq!(m.annotation_prefixes, ["example.com/tgi-"]);
        const { assert!(Tgi::VALIDATE_BEFORE_RENDER) };
    }

    #[test]
    fn without_validation_first_render_still_needs_a_main_container() {
        let input = RenderInput {
            pod_template: r#"{"spec":{"containers":[{"name":"sidecar"}]}}"#.into(),
            ..RenderInput::default()
        };
        assert_eq!(
            Tgi::render(&input),
            Err(PluginError::invalid_input(
                "podTemplate.spec.containers",
                "no container named `main`"
            ))
        );
    }
}
