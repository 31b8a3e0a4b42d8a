//! `render`: prints every object the operator would create for a graph, without a cluster.
//!
//! The same pure pipeline as the controllers (`dynamo_render::render`) runs on each
//! DynamoGraphDeployment document of the input; the output is a deterministic multi-document
//! YAML stream. All documents are rendered before anything is printed, so a bad document never
//! leaves half an output behind.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use dynamo_api::DynamoGraphDeployment;
use dynamo_plugin_runtime::contract::text;
use dynamo_render::{OperatorConfiguration, Orchestrator, RenderConfig, RenderError, names};

use crate::plugins::LoadedPlugins;
use crate::yaml_input;

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

    /// Instead of the objects, write the exact input the host sends a backend plugin for each
    /// service and role (the contract's `RenderInput`, as plugin test fixtures are written): one
    /// JSON file per input into directory DIR (`<graph>.<service>.<role>.json`), or a YAML stream
    /// on standard output when DIR is `-`.
    #[arg(long, value_name = "DIR")]
    pub plugin_input: Option<PathBuf>,
}

/// Runs the subcommand: renders every graph of the input, then prints them all.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let source = display_name(&args.file);
    let text = read_input(&args.file).with_context(|| format!("reading {source}"))?;
    let graphs = parse_graphs(&text).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    if graphs.is_empty() {
        bail!("{source}: no DynamoGraphDeployment document found");
    }
    let operator = operator_config(args.config.as_deref())?;
    let config = render_config(args, operator.clone());
    let plugins = LoadedPlugins::load(args.plugin_dir.as_deref(), &operator)?;

    let recording = crate::plugin_input::Recording::new(plugins.registry());
    let plugin_set: &dyn dynamo_render::PluginSet = if args.plugin_input.is_some() {
        &recording
    } else {
        plugins.registry()
    };
    // Plugins that failed to load are reported first, so the reason shows even when a graph
    // that needed them then fails to render.
    for note in plugins.notes() {
        eprintln!("{note}");
    }
    let mut stream = String::new();
    let mut notes = Vec::new();
    for graph in &graphs {
        let name = graph.metadata.name.as_deref().unwrap_or("<unnamed>");
        let shown = names::printable(name);
        let rendered = match dynamo_render::render(graph, &config, plugin_set) {
            Ok(rendered) => rendered,
            Err(e) => {
                let error =
                    anyhow::anyhow!("{source}: DynamoGraphDeployment {shown}: {}", one_line(&e));
                // The inputs a plugin refused are the fixtures for its error cases, so they are
                // written before the failure is reported. A graph the host itself refuses never
                // reaches a plugin and leaves nothing to write.
                if let Some(target) = &args.plugin_input {
                    let recorded = recording.into_recorded();
                    if !recorded.is_empty() {
                        for note in crate::plugin_input::write(&recorded, target)? {
                            eprintln!("{note}");
                        }
                    }
                }
                return Err(error);
            }
        };
        if !stream.is_empty() {
            stream.push_str("---\n");
        }
        stream.push_str(
            &dynamo_render::to_yaml_stream(&rendered.objects)
                .map_err(|e| anyhow::anyhow!("{source}: DynamoGraphDeployment {shown}: {e}"))?,
        );
        let namespace = graph
            .metadata
            .namespace
            .as_deref()
            .unwrap_or(&config.default_namespace);
        for secret in &rendered.ssh_key_secrets {
            // A key pair is random, so the operator makes it at reconcile time; only the YAML
            // serializer writes into the stream, so the note goes to standard error.
            notes.push(format!(
                "note: {shown}: the operator generates SSH key-pair Secret {} (private.key, \
                 private.key.pub) in namespace {} at reconcile time",
                names::printable(secret),
                names::printable(namespace)
            ));
        }
        notes.extend(rendered.warnings.iter().map(|w| {
            format!(
                "warning: {shown}: {}: {}",
                text::one_line(&w.field_path, 512),
                text::one_line(&w.message, 1024)
            )
        }));
    }
    if let Some(target) = &args.plugin_input {
        let recorded = recording.into_recorded();
        if recorded.is_empty() {
            bail!(
                "{source}: no service of the graph runs a backend plugin (only workers with a \
                 backend framework do), so there is no plugin input to write"
            );
        }
        notes.extend(crate::plugin_input::write(&recorded, target)?);
        for note in notes {
            eprintln!("{note}");
        }
        return Ok(());
    }
    for note in notes {
        eprintln!("{note}");
    }
    std::io::stdout()
        .lock()
        .write_all(stream.as_bytes())
        .context("writing to standard output")?;
    Ok(())
}

/// Reads the operator configuration file, or the defaults.
pub fn operator_config(path: Option<&Path>) -> anyhow::Result<OperatorConfiguration> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            OperatorConfiguration::from_yaml(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        None => Ok(OperatorConfiguration::default()),
    }
}

/// Builds the render configuration from the flags and the operator configuration.
fn render_config(args: &Args, operator: OperatorConfiguration) -> RenderConfig {
    let mut config = RenderConfig::new(operator)
        .with_operator_version(args.operator_version.clone())
        .with_default_namespace(args.namespace.clone());
    if let Some(orchestrator) = args.orchestrator {
        config = config.with_orchestrator(orchestrator);
    }
    config
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

/// Parses every DynamoGraphDeployment document of a YAML stream, of either served version
/// (`nvidia.com/v1alpha1` documents are converted to `v1beta1`, as the API server would).
///
/// Errors name the document and the field path, in the document's own version. Unknown fields
/// are errors too: the apiserver would prune them (or reject them under strict validation), so
/// a typo never renders silently.
pub fn parse_graphs(text: &str) -> Result<Vec<DynamoGraphDeployment>, String> {
    let mut graphs = Vec::new();
    for (number, value) in yaml_input::documents(text)? {
        let at = format!("document {number}");
        let api_version = value.get("apiVersion").and_then(|v| v.as_str());
        let kind = value.get("kind").and_then(|v| v.as_str());
        let alpha = match (api_version, kind) {
            (Some(dynamo_api::v1alpha1::API_VERSION), Some("DynamoGraphDeployment")) => true,
            (Some(dynamo_api::v1beta1::API_VERSION), Some("DynamoGraphDeployment")) => false,
            (Some(other), Some("DynamoGraphDeployment")) => {
                return Err(format!(
                    "{at}: apiVersion: DynamoGraphDeployment is served as {} and {}, got {}",
                    dynamo_api::v1beta1::API_VERSION,
                    dynamo_api::v1alpha1::API_VERSION,
                    names::printable(other)
                ));
            }
            (_, Some(_)) => continue,
            (_, None) => return Err(format!("{at}: kind: required")),
        };
        let name = value
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .map_or_else(|| "<unnamed>".to_owned(), names::printable);
        let at = format!("{at} (DynamoGraphDeployment {name})");
        if alpha {
            strict::<dynamo_api::v1alpha1::DynamoGraphDeployment>(&value, &at)?;
        } else {
            strict::<DynamoGraphDeployment>(&value, &at)?;
        }
        let graph = dynamo_render::input::graph(value).map_err(|e| format!("{at}: {e}"))?;
        graphs.push(graph);
    }
    Ok(graphs)
}

/// Reads `value` as `T`, failing on a field `T` does not know or a value it cannot hold, with
/// the field's path.
fn strict<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    at: &str,
) -> Result<T, String> {
    let mut value = value.clone();
    // Checked by the caller; the typed graph carries its type information itself.
    if let Some(object) = value.as_object_mut() {
        object.remove("apiVersion");
        object.remove("kind");
    }
    let mut unknown = Vec::new();
    let typed: T = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        value,
        &mut |path: serde_ignored::Path<'_>| unknown.push(field_path(&path)),
    ))
    .map_err(|e| {
        format!(
            "{at}: {}: {}",
            e.path(),
            text::one_line(&e.inner().to_string(), 1024)
        )
    })?;
    if let Some(field) = unknown.first() {
        return Err(format!("{at}: {}: unknown field", names::printable(field)));
    }
    Ok(typed)
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
    let joined = error.to_string().lines().collect::<Vec<_>>().join("; ");
    text::one_line(&joined, 8192)
}
