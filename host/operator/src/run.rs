//! `run`: the operator itself: serves its webhooks, health and metrics, and, while it leads,
//! reconciles graphs until SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use dynamo_controllers::scope;
use dynamo_plugin_runtime::PluginRegistry;
use dynamo_render::config::parse_duration;
use dynamo_render::{OperatorConfiguration, RenderConfig};
use dynamo_telemetry::Telemetry;
use dynamo_webhook::{Admission, AutoProvision, ConversionTarget, Provision};
use kube::Client;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use crate::leader::{self, Election};
use crate::plugins::LoadedPlugins;
use crate::render::{DYNAMO_COMPATIBILITY_VERSION, operator_config};

/// Readiness check of the webhook server (required when webhooks are enabled).
const WEBHOOK_READY: &str = "webhook";

/// How often the webhook certificate is checked for renewal and the caBundle for drift.
const CERTIFICATE_CHECK: Duration = Duration::from_secs(15);

/// The CRDs served at several versions and converted by this operator's webhook: their
/// conversion `caBundle` is written (auto certificates) and their stored objects migrated.
const CONVERTED_CRDS: [&str; 4] = [
    "dynamographdeployments.nvidia.com",
    "dynamocomponentdeployments.nvidia.com",
    "dynamographdeploymentscalingadapters.nvidia.com",
    "dynamographdeploymentrequests.nvidia.com",
];

/// How long a failed storage migration waits before it is tried again.
const STORAGE_MIGRATION_RETRY: Duration = Duration::from_secs(30);

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

    /// Watch only this namespace (namespace-restricted mode); overrides `namespace.restricted`.
    #[arg(long, value_name = "NAMESPACE")]
    pub watch_namespace: Option<String>,

    /// The operator's own namespace: where its webhook certificate Secret and (by default) its
    /// leader Lease live. Unknown out of cluster; the certificate then stays in memory.
    #[arg(long, env = "POD_NAMESPACE", value_name = "NAMESPACE")]
    pub operator_namespace: Option<String>,

    /// The operator's service account name; with `--operator-namespace` it names the user that
    /// may change replicas owned by scaling adapters.
    #[arg(long, env = "POD_SERVICE_ACCOUNT", value_name = "NAME")]
    pub service_account: Option<String>,
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
    let telemetry = Telemetry::new();
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });

    let client = client(args.kubeconfig.as_deref(), &telemetry).await?;
    let plugins = LoadedPlugins::load(args.plugin_dir.as_deref(), &operator)?;
    for note in plugins.notes() {
        tracing::warn!("{note}");
    }
    let registry = plugins.into_registry();
    let threads = operator.plugins.render_threads.max(1) as usize;
    let namespace = args
        .watch_namespace
        .clone()
        .or_else(|| Some(operator.namespace.restricted.clone()).filter(|n| !n.is_empty()));
    let config =
        RenderConfig::new(operator.clone()).with_operator_version(args.operator_version.clone());
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        render_threads = threads,
        namespace = namespace.as_deref().unwrap_or("<all>"),
        "starting"
    );

    serve_endpoints(&operator, &telemetry, stop.clone()).await?;

    // Namespace scope: a restricted operator claims its namespace; a cluster-wide one learns
    // which namespaces are claimed and leaves them alone.
    let mut holding = None;
    let claims = match &namespace {
        Some(ns) => {
            let claim = namespace_claim(&operator, ns)?;
            holding = Some(tokio::spawn(claim.hold(client.clone(), stop.clone())));
            None
        }
        None => Some(scope::Claims::watch(client.clone())),
    };

    // A cluster-wide operator always serves the HTTPS server: besides the admission webhooks
    // (registered only when enabled), it answers the CRDs' conversion webhook, without which
    // nothing stored as v1beta1 could be read at v1alpha1.
    if operator.server.webhook.enabled || namespace.is_none() {
        start_webhooks(
            args,
            &operator,
            client.clone(),
            registry.clone(),
            &config,
            &telemetry,
            claims.clone(),
            namespace.is_none(),
            stop.clone(),
        )
        .await?;
    }

    let leadership = if operator.leader_election.enabled {
        let election = election(args, &operator)?;
        match election.acquire(client.clone(), stop.clone()).await? {
            Some(leadership) => Some(leadership),
            None => {
                tracing::info!("stopped before becoming the leader");
                return Ok(());
            }
        }
    } else {
        None
    };
    telemetry.set_leader(true);

    // Cluster-wide duties of the leader: objects stored at an older version are rewritten at the
    // storage version (then `storedVersions` narrowed), and objects of the kinds whose CRDs are
    // shipped but not acted on are marked so. Both run beside the controllers; neither holds
    // up reconciling.
    if namespace.is_none() {
        tokio::spawn(dynamo_controllers::storage::migrate_all(
            client.clone(),
            &CONVERTED_CRDS,
            STORAGE_MIGRATION_RETRY,
        ));
    }
    tokio::spawn(dynamo_controllers::unsupported::run(
        client.clone(),
        namespace.clone(),
        stop.clone(),
    ));

    let nats = config.operator.infrastructure.nats_address.clone();
    let mut options = dynamo_controllers::Options::new(config);
    options.render_threads = threads;
    options.namespace = namespace;
    options.telemetry = telemetry.clone();
    options.claims = claims;
    if let Some(address) = nats.filter(|a| !a.is_empty()) {
        // Connects in the background: NATS being down never holds up start-up or reconciling.
        let publisher =
            dynamo_events::Publisher::start(&address, dynamo_events::PublisherOptions::default())
                .with_context(|| format!("infrastructure.natsAddress: `{address}`"))?;
        tracing::info!(%address, stream = dynamo_events::STREAM, "publishing lifecycle events");
        options.lifecycle = Some(publisher);
    }

    // The controllers stop on SIGTERM, or when the lease is lost (then the process exits so a
    // restart rejoins the election as a standby).
    let (lost_tx, mut lost) = watch::channel(false);
    let (finished_tx, mut finished) = watch::channel(false);
    let guard = tokio::spawn(async move {
        let mut leadership = leadership?;
        tokio::select! {
            () = leadership.lost() => {
                let _ = lost_tx.send(true);
                None
            }
            _ = finished.wait_for(|f| *f) => Some(leadership),
        }
    });
    let (halt_tx, halt) = oneshot::channel::<()>();
    let mut stop_for_halt = stop.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = stop_for_halt.wait_for(|s| *s) => {}
            () = async {
                // Without leader election the guard ends at once and drops its sender: never lost.
                if lost.wait_for(|l| *l).await.is_err() {
                    std::future::pending::<()>().await;
                }
            } => {}
        }
        let _ = halt_tx.send(());
    });
    dynamo_controllers::run(
        client,
        registry,
        options,
        async move {
            let _ = halt.await;
        },
        None,
    )
    .await
    .context("running the controllers")?;
    let _ = finished_tx.send(true);
    telemetry.set_leader(false);
    match guard.await {
        Ok(Some(leadership)) => leadership.release().await,
        Ok(None) if operator.leader_election.enabled => {
            anyhow::bail!("lost the leader lease; exiting so a restart rejoins as a standby")
        }
        _ => {}
    }
    if let Some(holding) = holding {
        // Let the claim be released so a cluster-wide operator takes the namespace back at once.
        let _ = tokio::time::timeout(Duration::from_secs(5), holding).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The claim a namespace-restricted operator holds on its namespace.
fn namespace_claim(
    operator: &OperatorConfiguration,
    namespace: &str,
) -> anyhow::Result<scope::Claim> {
    let scope = &operator.namespace.scope;
    let duration = parse_duration(&scope.lease_duration)
        .filter(|d| *d >= Duration::from_secs(1))
        .with_context(|| format!("namespace.scope.leaseDuration: `{}`", scope.lease_duration))?;
    let renew = parse_duration(&scope.lease_renew_interval)
        .filter(|r| *r < duration)
        .with_context(|| {
            format!(
                "namespace.scope.leaseRenewInterval: must be shorter than the lease duration, got `{}`",
                scope.lease_renew_interval
            )
        })?;
    Ok(scope::Claim::new(
        namespace,
        leader::identity(),
        duration,
        renew,
    ))
}

fn election(args: &Args, operator: &OperatorConfiguration) -> anyhow::Result<Election> {
    let le = &operator.leader_election;
    let namespace = Some(le.namespace.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| args.operator_namespace.clone())
        .context(
            "leaderElection.namespace: required when the operator's own namespace is unknown \
             (set it, or POD_NAMESPACE / --operator-namespace)",
        )?;
    let duration = parse_duration(&le.lease_duration)
        .filter(|d| *d >= Duration::from_secs(2))
        .with_context(|| {
            format!(
                "leaderElection.leaseDuration: must be at least 2s, got `{}`",
                le.lease_duration
            )
        })?;
    Ok(Election {
        namespace,
        name: le.id.clone(),
        identity: leader::identity(),
        duration,
    })
}

/// Binds `/metrics` and `/healthz` + `/readyz` (one listener when they share a port).
async fn serve_endpoints(
    operator: &OperatorConfiguration,
    telemetry: &Telemetry,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let metrics = &operator.server.metrics;
    let health = &operator.server.health_probe;
    if metrics.secure {
        // Accepted so Dynamo's configurations start unchanged (its default is true).
        tracing::warn!(
            "server.metrics.secure: HTTPS with authentication is not implemented yet; metrics \
             are served over plain HTTP, so restrict who reaches the port with a NetworkPolicy"
        );
    }
    let metrics_router = dynamo_telemetry::metrics_router(telemetry);
    let health_router = dynamo_telemetry::health_router(telemetry.health());
    let same = metrics.port != 0
        && metrics.port == health.port
        && metrics.bind_address == health.bind_address;
    if same {
        let listener = bind("server.metrics", &metrics.bind_address, metrics.port).await?;
        tracing::info!(address = %local(&listener), "serving /metrics, /healthz and /readyz");
        tokio::spawn(dynamo_telemetry::serve(
            listener,
            metrics_router.merge(health_router),
            stopped(stop),
        ));
        return Ok(());
    }
    let listener = bind("server.metrics", &metrics.bind_address, metrics.port).await?;
    tracing::info!(address = %local(&listener), "serving /metrics");
    tokio::spawn(dynamo_telemetry::serve(
        listener,
        metrics_router,
        stopped(stop.clone()),
    ));
    let listener = bind("server.healthProbe", &health.bind_address, health.port).await?;
    tracing::info!(address = %local(&listener), "serving /healthz and /readyz");
    tokio::spawn(dynamo_telemetry::serve(
        listener,
        health_router,
        stopped(stop),
    ));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn start_webhooks(
    args: &Args,
    operator: &OperatorConfiguration,
    client: Client,
    registry: PluginRegistry,
    base: &RenderConfig,
    telemetry: &Telemetry,
    claims: Option<scope::Claims>,
    converts: bool,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let settings = &operator.server.webhook;
    telemetry.health().require(WEBHOOK_READY);

    // Judge graphs with the orchestrator the cluster implies, as the controllers render them.
    let (config_tx, config_rx) = watch::channel(base.clone());
    let (crd_tx, mut crd_rx) = watch::channel(None);
    tokio::spawn(dynamo_controllers::discovery::watch_crds(
        client.clone(),
        crd_tx,
    ));
    let base_config = base.clone();
    tokio::spawn(async move {
        while crd_rx.changed().await.is_ok() {
            let capabilities = *crd_rx.borrow_and_update();
            if let Some(capabilities) = capabilities {
                config_tx.send_replace(capabilities.render_config(&base_config));
            }
        }
    });

    let operator_user = match (&args.operator_namespace, &args.service_account) {
        (Some(ns), Some(sa)) => Some(format!("system:serviceaccount:{ns}:{sa}")),
        _ => None,
    };
    let admission = Admission::new(config_rx, registry)
        .operator_user(operator_user)
        .operator_version(Some(args.operator_version.clone()))
        .telemetry(telemetry.clone())
        .claimed_elsewhere(claims.map(|c| c.predicate()));

    let provision = if settings.cert_provision_mode == "manual" {
        Provision::Manual {
            dir: PathBuf::from(&settings.cert_dir),
        }
    } else {
        let mut names = Vec::new();
        if let (false, Some(ns)) = (settings.service_name.is_empty(), &args.operator_namespace) {
            names = dynamo_webhook::certs::service_names(&settings.service_name, ns);
        }
        // Loopback too: an out-of-cluster operator is registered by URL on 127.0.0.1.
        names.extend(["localhost".to_owned(), "127.0.0.1".to_owned()]);
        let mut auto = AutoProvision::new(
            client,
            args.operator_namespace.clone(),
            settings.secret_name.clone(),
            settings.configuration_name.clone(),
            names,
        );
        if converts {
            auto = auto.conversion(ConversionTarget {
                crds: CONVERTED_CRDS.iter().map(|c| (*c).to_owned()).collect(),
                service: args
                    .operator_namespace
                    .clone()
                    .filter(|_| !settings.service_name.is_empty())
                    .map(|ns| (ns, settings.service_name.clone())),
                loopback_port: Some(settings.port),
            });
        }
        Provision::Auto(Box::new(auto))
    };
    let store = provision
        .start()
        .await
        .context("server.webhook: preparing the serving certificate")?;
    let http2 = operator.security.enable_http2;
    let acceptor = store
        .acceptor(http2)
        .context("server.webhook: TLS configuration")?;
    let listener = bind("server.webhook", &settings.host, settings.port).await?;
    tracing::info!(
        address = %local(&listener),
        mode = %settings.cert_provision_mode,
        "serving the admission and conversion webhooks"
    );
    tokio::spawn(dynamo_webhook::server::serve(
        listener,
        dynamo_webhook::server::router(admission),
        acceptor,
        http2,
        stopped(stop),
    ));
    tokio::spawn(provision.keep_current(Arc::clone(&store), CERTIFICATE_CHECK, telemetry.clone()));
    telemetry.health().set(WEBHOOK_READY, true);
    Ok(())
}

async fn bind(field: &str, address: &str, port: u16) -> anyhow::Result<TcpListener> {
    let host = if address.is_empty() {
        "0.0.0.0"
    } else {
        address
    };
    TcpListener::bind((host, port))
        .await
        .with_context(|| format!("{field}: cannot listen on {host}:{port}"))
}

fn local(listener: &TcpListener) -> String {
    listener
        .local_addr()
        .map(|a: SocketAddr| a.to_string())
        .unwrap_or_else(|_| "?".into())
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A client from `kubeconfig`, else the usual inference (in-cluster, `$KUBECONFIG`,
/// `~/.kube/config`), whose requests are counted in `telemetry`.
async fn client(kubeconfig: Option<&Path>, telemetry: &Telemetry) -> anyhow::Result<Client> {
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
    dynamo_telemetry::client(config, telemetry).context("creating the Kubernetes client")
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
