//! Runs a plugin natively on a fixture file, for plugin authors' tests (not on `wasm32`).
//!
//! A fixture is a [`RenderInput`] written as YAML (`.yaml`/`.yml`) or JSON (any other extension),
//! with camelCase field names; omitted fields take their defaults and `podTemplate` is an embedded
//! object (or a string of JSON text). What `dynamo-operator render --plugin-input <dir>` dumps, one
//! JSON file per plugin call (the contract's serde form: annotations as a `{key, value}` list,
//! enums in lowercase, absent options as `null`), is such a fixture as it is: copy a dump into
//! `tests/fixtures/` instead of writing the host's defaults by hand.
//!
//! ```yaml
//! graph: {name: g, namespace: ns}
//! component: {serviceName: decode, backendFramework: vllm}
//! podTemplate:
//!   spec:
//!     containers: [{name: main, command: [python3, -m, dynamo.vllm]}]
//! ```
//!
//! The same fixture can be rendered through the WebAssembly build with the host runtime, which is
//! how the plugin tests compare native and sandboxed results.
//!
//! [`render`] calls the plugin as the host does, through [`crate::render_checked`] (its
//! `validate` first, unless it opts out). [`vectors`] runs conformance vectors: an input, the
//! call, and the expected outcome in one file, compared with a readable diff.

use std::path::{Path, PathBuf};

use crate::{Diagnostic, Plugin, PluginError, RenderInput, RenderOutput};

pub mod vectors;

pub use vectors::{Vector, check_vectors, run_conformance};

/// Why a fixture could not be run.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The fixture file could not be read.
    #[error("cannot read fixture {path}: {source}")]
    Io {
        /// The fixture path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The fixture is not a valid render input.
    #[error("fixture {path} is not a valid render input: {message}")]
    Parse {
        /// The fixture path.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The plugin returned an error.
    #[error("plugin failed on fixture {path}: {source}")]
    Plugin {
        /// The fixture path.
        path: PathBuf,
        /// The plugin's error.
        source: PluginError,
    },
    /// A conformance vector file is not valid, or could not be written back.
    #[error("conformance vector {path}: {message}")]
    Vector {
        /// The vector path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Parses a render input from fixture text; `yaml` selects YAML, else JSON.
pub fn parse_input(text: &str, yaml: bool) -> Result<RenderInput, String> {
    if yaml {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// Reads a render input from a YAML or JSON fixture file (chosen by extension).
pub fn load_input(path: impl AsRef<Path>) -> Result<RenderInput, HarnessError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| HarnessError::Io {
        path: path.to_owned(),
        source,
    })?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    parse_input(&text, yaml).map_err(|message| HarnessError::Parse {
        path: path.to_owned(),
        message,
    })
}

/// Renders fixture `path` with plugin `P` as the host would ([`crate::render_checked`]: `P`'s
/// `validate` first unless `P` opts out).
pub fn render<P: Plugin>(path: impl AsRef<Path>) -> Result<RenderOutput, HarnessError> {
    let path = path.as_ref();
    let input = load_input(path)?;
    crate::render_checked::<P>(&input).map_err(|source| HarnessError::Plugin {
        path: path.to_owned(),
        source,
    })
}

/// Validates fixture `path` with plugin `P`.
pub fn validate<P: Plugin>(path: impl AsRef<Path>) -> Result<Vec<Diagnostic>, HarnessError> {
    Ok(P::validate(&load_input(path)?))
}

/// The output's pod template as a JSON value, for assertions (`Null` when it is not JSON).
pub fn pod_template_value(output: &RenderOutput) -> serde_json::Value {
    serde_json::from_str(&output.pod_template).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Metadata, PodTemplate};

    struct Marker;

    impl Plugin for Marker {
        fn metadata() -> Metadata {
            Metadata {
                name: "marker".into(),
                ..Metadata::default()
            }
        }

        fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
            let mut pod = PodTemplate::from_input(input)?;
            pod.labels_mut()
                .insert("svc".into(), input.component.service_name.clone());
            Ok(RenderOutput::new(pod.to_json()?))
        }
    }

    /// Rejects service `bad` and warns about service `warn`.
    struct Picky;

    impl Plugin for Picky {
        fn metadata() -> Metadata {
            Metadata::default()
        }

        fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
            Marker::render(input)
        }

        fn validate(input: &RenderInput) -> Vec<Diagnostic> {
            match input.component.service_name.as_str() {
                "bad" => vec![Diagnostic::error("f", "bad service")],
                "warn" => vec![Diagnostic::warning("f", "careful")],
                _ => Vec::new(),
            }
        }
    }

    #[test]
    fn render_validates_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in.json");
        let write = |service: &str| {
            std::fs::write(
                &path,
                format!(r#"{{"component": {{"serviceName": "{service}"}}, "podTemplate": {{}}}}"#),
            )
            .expect("writes");
        };
        write("bad");
        assert!(matches!(
            render::<Picky>(&path),
            Err(HarnessError::Plugin { source: PluginError::InvalidInput(d), .. }) if d.message == "bad service"
        ));
        write("warn");
        assert_eq!(
            render::<Picky>(&path).expect("renders").warnings,
            ["f: careful"]
        );
    }

    #[test]
    fn plugin_input_dumps_are_fixtures() {
        use crate::{Deployer, KeyValue, Role};
        // What `render --plugin-input` writes: the contract's serde form of the input.
        let mut input = RenderInput::default();
        input.graph.name = "g".into();
        input.graph.annotations = vec![KeyValue::new("example.com/x-a", "1")];
        input.component.service_name = "svc".into();
        input.component.sub_component_type = None;
        input.component.gpus_per_node = 2;
        input.component.gpu_resource = "nvidia.com/gpu".into();
        input.placement.deployer = Deployer::Lws;
        input.placement.role = Role::Leader;
        input.pod_template =
            r#"{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"main","image":"i"}]}}"#
                .into();
        let dump = serde_json::to_string_pretty(&input).expect("serializes");
        assert!(dump.contains(r#""deployer": "lws""#), "{dump}");
        assert!(dump.contains(r#""subComponentType": null"#), "{dump}");
        assert!(dump.contains(r#""key": "example.com/x-a""#), "{dump}");

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("svc-leader.json");
        std::fs::write(&path, &dump).expect("writes");
        let loaded = load_input(&path).expect("a dump is a fixture");
        let pod = |i: &RenderInput| {
            serde_json::from_str::<serde_json::Value>(&i.pod_template).expect("json")
        };
        assert_eq!(pod(&loaded), pod(&input));
        assert_eq!(
            RenderInput {
                pod_template: String::new(),
                ..loaded
            },
            RenderInput {
                pod_template: String::new(),
                ..input
            }
        );
    }

    #[test]
    fn renders_yaml_and_json_fixtures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let yaml = dir.path().join("in.yaml");
        std::fs::write(
            &yaml,
            "component: {serviceName: decode}\npodTemplate: {spec: {containers: [{name: main}]}}\n",
        )
        .expect("writes");
        let out = render::<Marker>(&yaml).expect("renders");
        assert_eq!(
            pod_template_value(&out)["metadata"]["labels"]["svc"],
            "decode"
        );
        assert!(validate::<Marker>(&yaml).expect("validates").is_empty());

        let json = dir.path().join("in.json");
        std::fs::write(
            &json,
            r#"{"component": {"serviceName": "x"}, "podTemplate": "{}"}"#,
        )
        .expect("writes");
        let out = render::<Marker>(&json).expect("renders");
        assert_eq!(pod_template_value(&out)["metadata"]["labels"]["svc"], "x");

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"podTemplate": "[]"}"#).expect("writes");
        assert!(matches!(
            render::<Marker>(&bad),
            Err(HarnessError::Plugin { .. })
        ));
        std::fs::write(&bad, "{").expect("writes");
        assert!(matches!(
            render::<Marker>(&bad),
            Err(HarnessError::Parse { .. })
        ));
        assert!(matches!(
            render::<Marker>(dir.path().join("missing.json")),
            Err(HarnessError::Io { .. })
        ));
    }
}
