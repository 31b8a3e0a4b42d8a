//! `run`: the operator itself: watches graphs and reconciles them until SIGTERM.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use dynamo_render::{OperatorConfiguration, RenderConfig};
use kube::Client;

use crate::plugins::LoadedPlugins;
use crate::render::{DYNAMO_COMPATIBILITY_VERSION, operator_config};

/// Options of `dynamo-operator run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Operator configuration (`OperatorConfiguration` YAML, as Dynamo's); defaults when omitted.
    /// An unknown or invalid field stops start-up.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Kubeconfig to reach the cluster; default: in-cluster, else `$KUBECONFIG`, else
    /// `~/.kube/config`.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Directory of extra plugins (`*.wasm`); overrides `plugins.directory` of the configuration.
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,

    /// Operator version stamped as the origin of graphs that carry none.
    #[arg(long, default_value = DYNAMO_COMPATIBILITY_VERSION)]
    pub operator_version: String,

    /// Watch only this namespace (default: all namespaces).
    #[arg(long, value_name = "NAMESPACE")]
    pub watch_namespace: Option<String>,
}

/// Runs the operator until SIGTERM or SIGINT, then lets running reconciles finish.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let operator = operator_config(args.config.as_deref())?;
    init_logging(&operator);
    // Reconciles mostly wait on the API server; renders run on their own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("dynamo-operator")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, operator))
}

async fn serve(args: &Args, operator: OperatorConfiguration) -> anyhow::Result<()> {
    let client = client(args.kubeconfig.as_deref()).await?;
    let plugins = LoadedPlugins::load(args.plugin_dir.as_deref(), &operator)?;
    for note in plugins.notes() {
        tracing::warn!("{note}");
    }
    let threads = operator.plugins.render_threads.max(1) as usize;
    let config = RenderConfig::new(operator).with_operator_version(args.operator_version.clone());
    let nats = config.operator.infrastructure.nats_address.clone();
    let mut options = dynamo_controllers::Options::new(config);
    options.render_threads = threads;
    options.namespace = args.watch_namespace.clone();
    if let Some(address) = nats.filter(|a| !a.is_empty()) {
        // Connects in the background: NATS being down never holds up start-up or reconciling.
        let publisher =
            dynamo_events::Publisher::start(&address, dynamo_events::PublisherOptions::default())
                .with_context(|| format!("infrastructure.natsAddress: `{address}`"))?;
        tracing::info!(%address, stream = dynamo_events::STREAM, "publishing lifecycle events");
        options.lifecycle = Some(publisher);
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        render_threads = threads,
        namespace = options.namespace.as_deref().unwrap_or("<all>"),
        "starting"
    );
    dynamo_controllers::run(
        client,
        plugins.into_registry(),
        options,
        shutdown_signal(),
        None,
    )
    .await
    .context("running the controllers")?;
    tracing::info!("stopped");
    Ok(())
}

/// A client from `kubeconfig`, else the usual inference (in-cluster, `$KUBECONFIG`,
/// `~/.kube/config`).
async fn client(kubeconfig: Option<&Path>) -> anyhow::Result<Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("using kubeconfig {}", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .context("finding the cluster (in-cluster, KUBECONFIG or ~/.kube/config)")?,
    };
    let mut config = config;
    dynamo_controllers::identify(&mut config);
    Client::try_from(config).context("creating the Kubernetes client")
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = terminate => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}

/// Logs as the configuration says (`logging.level`, `logging.format`); `RUST_LOG` wins.
fn init_logging(config: &OperatorConfiguration) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{},kube=warn", config.logging.level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.logging.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
