//! `render`: prints every object the operator would create for a graph, without a cluster.
//!
//! The same pure pipeline as the controllers (`dynamo_render::render`) runs on each
//! DynamoGraphDeployment document of the input; the output is a deterministic multi-document
//! YAML stream. All documents are rendered before anything is printed, so a bad document never
//! leaves half an output behind.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use dynamo_api::DynamoGraphDeployment;
use dynamo_render::{OperatorConfiguration, Orchestrator, RenderConfig, RenderError};
use serde::Deserialize as _;

use crate::plugins::LoadedPlugins;

/// The Dynamo release whose behaviour this operator reproduces; stamped as a new graph's
/// `nvidia.com/dynamo-operator-origin-version`, which decides version-gated defaults (for example
/// vLLM's multi-node executor: `mp` from 1.0.0, Ray before).
pub const DYNAMO_COMPATIBILITY_VERSION: &str = "1.1.0";

/// Options of `dynamo-operator render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// DynamoGraphDeployment YAML (one or many documents); `-` reads standard input. Documents of
    /// other kinds are skipped, since the operator does not create them.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: PathBuf,

    /// Orchestrator to render for; defaults to the one the operator configuration implies
    /// (Grove when enabled, else LeaderWorkerSet when enabled, else Deployments).
    #[arg(long, value_name = "deployment|lws|grove")]
    pub orchestrator: Option<Orchestrator>,

    /// Directory of extra plugins (`*.wasm`); a plugin there overrides a built-in of the same name.
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,

    /// Operator configuration (`OperatorConfiguration` YAML); built-in defaults when omitted.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Namespace for graphs whose metadata has none.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,

    /// Operator version treated as the creator of graphs that carry no origin-version annotation.
    #[arg(long, default_value = DYNAMO_COMPATIBILITY_VERSION)]
    pub operator_version: String,
}

/// Runs the subcommand: renders every graph of the input, then prints them all.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let source = display_name(&args.file);
    let text = read_input(&args.file).with_context(|| format!("reading {source}"))?;
    let graphs = parse_graphs(&text).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    if graphs.is_empty() {
        bail!("{source}: no DynamoGraphDeployment document found");
    }
    let config = render_config(args)?;
    let plugins = LoadedPlugins::load(args.plugin_dir.as_deref())?;

    let mut stream = String::new();
    let mut warnings = Vec::new();
    for graph in &graphs {
        let name = graph.metadata.name.as_deref().unwrap_or("<unnamed>");
        let rendered = dynamo_render::render(graph, &config, plugins.registry()).map_err(|e| {
            anyhow::anyhow!("{source}: DynamoGraphDeployment {name}: {}", one_line(&e))
        })?;
        if !stream.is_empty() {
            stream.push_str("---\n");
        }
        stream.push_str(&dynamo_render::to_yaml_stream(&rendered.objects));
        for secret in &rendered.ssh_key_secrets {
            // A key pair is random, so it is made at reconcile time; the stream only names it.
            let _ = writeln!(
                stream,
                "# Secret {secret}: SSH key pair (private.key, private.key.pub) the operator generates in namespace {}",
                graph
                    .metadata
                    .namespace
                    .as_deref()
                    .unwrap_or(&config.default_namespace)
            );
        }
        warnings.extend(
            rendered
                .warnings
                .iter()
                .map(|w| format!("warning: {name}: {}: {}", w.field_path, w.message)),
        );
    }
    for warning in warnings {
        eprintln!("{warning}");
    }
    std::io::stdout()
        .lock()
        .write_all(stream.as_bytes())
        .context("writing to standard output")?;
    Ok(())
}

/// Builds the render configuration from the flags and the optional config file.
fn render_config(args: &Args) -> anyhow::Result<RenderConfig> {
    let operator = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            OperatorConfiguration::from_yaml(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => OperatorConfiguration::default(),
    };
    let mut config = RenderConfig::new(operator)
        .with_operator_version(args.operator_version.clone())
        .with_default_namespace(args.namespace.clone());
    if let Some(orchestrator) = args.orchestrator {
        config = config.with_orchestrator(orchestrator);
    }
    Ok(config)
}

fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

fn read_input(path: &Path) -> std::io::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}

/// Parses every DynamoGraphDeployment document of a YAML stream.
///
/// Errors name the document and the field path. Unknown fields are errors too: the apiserver
/// would prune them (or reject them under strict validation), so a typo never renders silently.
pub fn parse_graphs(text: &str) -> Result<Vec<DynamoGraphDeployment>, String> {
    let mut graphs = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let at = format!("document {}", index + 1);
        let mut value = serde_json::Value::deserialize(document)
            .map_err(|e| format!("{at}: invalid YAML: {e}"))?;
        if value.is_null() {
            continue; // an empty document, e.g. after a trailing `---`
        }
        let api_version = value.get("apiVersion").and_then(|v| v.as_str());
        let kind = value.get("kind").and_then(|v| v.as_str());
        match (api_version, kind) {
            (Some("nvidia.com/v1alpha1"), Some("DynamoGraphDeployment")) => {}
            (Some(other), Some("DynamoGraphDeployment")) => {
                return Err(format!(
                    "{at}: apiVersion: DynamoGraphDeployment is served as nvidia.com/v1alpha1, got {other}"
                ));
            }
            (_, Some(_)) => continue,
            (_, None) => return Err(format!("{at}: kind: required")),
        }
        let name = value
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or("<unnamed>")
            .to_owned();
        let at = format!("{at} (DynamoGraphDeployment {name})");
        // Checked above; the typed graph carries its type information itself.
        if let Some(object) = value.as_object_mut() {
            object.remove("apiVersion");
            object.remove("kind");
        }
        let mut unknown = Vec::new();
        let graph: DynamoGraphDeployment = serde_path_to_error::deserialize(
            serde_ignored::Deserializer::new(value, &mut |path: serde_ignored::Path<'_>| {
                unknown.push(field_path(&path))
            }),
        )
        .map_err(|e| format!("{at}: {}: {}", e.path(), e.inner()))?;
        if let Some(field) = unknown.first() {
            return Err(format!("{at}: {field}: unknown field"));
        }
        graphs.push(graph);
    }
    Ok(graphs)
}

/// Formats an ignored-field path the way the rest of the CLI names fields
/// (`spec.services.decode.replica`), leaving out serde's `Option`/newtype layers.
fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => match field_path(parent) {
            parent if parent.is_empty() => key.clone(),
            parent => format!("{parent}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// Folds a render error onto one line (a validation error may carry several findings).
fn one_line(error: &RenderError) -> String {
    error.to_string().lines().collect::<Vec<_>>().join("; ")
}
