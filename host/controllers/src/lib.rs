//! The operator's controllers: DynamoGraphDeployment, DynamoComponentDeployment and
//! DynamoGraphDeploymentScalingAdapter.
//!
//! ```text
//! watch ─▶ dereference (caches) ─▶ render (pure, render pool) ─▶ apply what differs ─▶ status if changed
//! ```
//!
//! - [`stores`]: one shared watch cache per kind, filtered by the operator's labels and trimmed;
//! - [`pool`]: the dedicated render threads (plugin calls never run on Tokio workers);
//! - [`apply`]: server-side apply under one field manager, skipped when nothing would change;
//!   deletion of children a graph no longer wants;
//! - [`compare`]: the semantic subset check behind "nothing would change";
//! - [`status`]: component readiness from Deployments and pods; conditions;
//! - [`graph`], [`component`], [`scaling`]: the three controllers;
//! - [`ssh`]: the SSH key Secrets of MPI launches;
//! - [`storage`]: rewriting objects stored at an older version, then narrowing the CRD's
//!   `storedVersions`;
//! - [`unsupported`]: a `Ready=False` condition on objects of kinds whose CRDs are shipped but
//!   not acted on (DynamoGraphDeploymentRequest, DynamoCheckpoint);
//! - [`discovery`]: which optional APIs (LeaderWorkerSet, Volcano, Grove, KAI) the cluster serves,
//!   and the orchestrator that makes; [`kinds`]: typed handles for those APIs' objects.
//!
//! [`observe`] records reconciles, queue depth and graph states into
//! [`dynamo_telemetry::Telemetry`] and gives each reconcile a log span naming its object.
//!
//! [`run`] wires them together; `dynamo-operator run` and the tests call it.
#![forbid(unsafe_code)]

pub mod apply;
pub mod compare;
pub mod component;
pub mod context;
pub mod discovery;
pub mod events;
pub mod graph;
pub mod index;
pub mod kinds;
pub mod observe;
pub mod pool;
pub mod scaling;
pub mod scope;
pub mod ssh;
pub mod status;
pub mod storage;
pub mod stores;
pub mod unsupported;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment};
use dynamo_plugin_runtime::PluginRegistry;
use dynamo_render::RenderConfig;
use futures::StreamExt as _;
use kube::Client;
use kube::runtime::Controller;
use kube::runtime::controller::Config as ControllerConfig;

pub use apply::WriteCounters;
pub use context::{Context, Error};
pub use pool::RenderPool;

/// The `User-Agent` of the operator's requests (what audit logs and API metrics show).
pub const USER_AGENT: &str = concat!("dynamo-operator/", env!("CARGO_PKG_VERSION"));

/// Makes requests of `config` identify as the operator ([`USER_AGENT`]).
pub fn identify(config: &mut kube::Config) {
    if let Ok(value) = http::HeaderValue::from_str(USER_AGENT) {
        config.headers.push((http::header::USER_AGENT, value));
    }
}

/// How the operator runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Render configuration (operator configuration, orchestrator, operator version).
    pub config: RenderConfig,
    /// Render threads (plugin calls run there). Default 2.
    pub render_threads: usize,
    /// Reconciles running at once per controller. Default 16.
    pub concurrency: u16,
    /// How long a burst of changes to one object is gathered into one reconcile. Default 250 ms.
    pub debounce: Duration,
    /// Watch only this namespace (default: all).
    pub namespace: Option<String>,
    /// Publisher of graph lifecycle events (NATS JetStream); default none.
    pub lifecycle: Option<dynamo_events::Publisher>,
    /// Where reconciles, graph states, plugin calls and lifecycle events are counted, and the
    /// `caches` readiness check ([`observe::CACHES_READY`]) is set; default a fresh registry.
    pub telemetry: dynamo_telemetry::Telemetry,
    /// Namespaces left to namespace-restricted operators (cluster-wide mode); default none.
    pub claims: Option<scope::Claims>,
}

impl Options {
    /// Options with the defaults for `config`.
    pub fn new(config: RenderConfig) -> Self {
        Self {
            config,
            render_threads: 2,
            concurrency: 16,
            debounce: Duration::from_millis(250),
            namespace: None,
            lifecycle: None,
            telemetry: dynamo_telemetry::Telemetry::default(),
            claims: None,
        }
    }
}

/// Runs the operator until `shutdown` resolves, then lets running reconciles finish.
///
/// The caches are filled before any reconcile starts, so a restarted operator makes no write for
/// graphs that did not change.
pub async fn run(
    client: Client,
    registry: PluginRegistry,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    counters: Option<Arc<WriteCounters>>,
) -> Result<(), Error> {
    let telemetry = options.telemetry.clone();
    telemetry.health().require(observe::CACHES_READY);
    let plugins = registry.clone();
    let pool = Arc::new(
        RenderPool::new(registry, options.render_threads)
            .map_err(|e| Error::Internal(format!("cannot start the render threads: {e}")))?,
    );
    let started = stores::start(&client, options.namespace.as_deref());
    observe::install(
        &telemetry,
        started.caches.graphs.store(),
        &plugins,
        options.lifecycle.as_ref(),
    );
    let counters = counters.unwrap_or_default();

    // What the cluster serves decides the orchestrator; learn it before the first reconcile.
    let tasks = Arc::new(std::sync::Mutex::new(started.tasks));
    let (crd_tx, mut crd_rx) = tokio::sync::watch::channel(None);
    spawn_into(&tasks, discovery::watch_crds(client.clone(), crd_tx));
    let first = match tokio::time::timeout(CRD_LIST_WAIT, crd_rx.wait_for(Option::is_some)).await {
        Ok(Ok(capabilities)) => capabilities.unwrap_or_default(),
        Ok(Err(_)) => {
            return Err(Error::Internal(
                "the CustomResourceDefinition watch stopped".into(),
            ));
        }
        Err(_) => {
            // Without the right to list CRDs, go on as if no optional API were served (the
            // watch keeps trying): explicit `orchestrators.*.enabled: true` still works.
            tracing::warn!(
                "cannot list CustomResourceDefinitions yet; treating LeaderWorkerSet, Volcano, \
                 Grove and KAI as absent until it can"
            );
            discovery::Capabilities::default()
        }
    };
    let mut optional = started.optional;
    start_optional_caches(&client, &mut optional, &first, &tasks).await;
    let (capabilities_tx, capabilities) = tokio::sync::watch::channel(first);
    let follow = {
        let client = client.clone();
        let tasks = Arc::clone(&tasks);
        async move {
            while crd_rx.changed().await.is_ok() {
                let Some(now) = *crd_rx.borrow_and_update() else {
                    continue;
                };
                start_optional_caches(&client, &mut optional, &now, &tasks).await;
                capabilities_tx.send_replace(now);
            }
        }
    };
    spawn_into(&tasks, follow);

    let ctx = Arc::new(
        Context::new(
            client,
            started.caches.clone(),
            Arc::clone(&pool),
            options.config.clone(),
            counters,
            capabilities.clone(),
            options.lifecycle.clone(),
        )
        .with_telemetry(telemetry.clone())
        .with_claims(options.claims.clone()),
    );
    if let Some(publisher) = options.lifecycle.clone() {
        spawn_into(
            &tasks,
            events::watch_deletions(
                ctx.applier.client().clone(),
                options.namespace.clone(),
                publisher,
            ),
        );
    }
    started
        .caches
        .wait_ready()
        .await
        .map_err(|e| Error::Internal(format!("a watch cache stopped: {e}")))?;
    telemetry.health().set(observe::CACHES_READY, true);
    tracing::info!(capabilities = %first, "caches synced; reconciling");

    let triggers = started.triggers;
    let caches = started.caches;
    let config = ControllerConfig::default()
        .debounce(options.debounce)
        .concurrency(options.concurrency);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };

    let queue_ctx = Arc::clone(&ctx);
    let graphs = Controller::for_shared_stream(triggers.graphs, caches.graphs.store())
        .watches_shared_stream(
            triggers.components_for_graphs,
            owners::<DynamoGraphDeployment, _>,
        )
        .watches_shared_stream(
            triggers.adapters_for_graphs,
            owners::<DynamoGraphDeployment, _>,
        )
        .watches_shared_stream(
            triggers.service_accounts,
            owners::<DynamoGraphDeployment, _>,
        )
        .watches_shared_stream(triggers.roles, owners::<DynamoGraphDeployment, _>)
        .watches_shared_stream(triggers.role_bindings, owners::<DynamoGraphDeployment, _>)
        .watches_shared_stream(triggers.config_maps, owners::<DynamoGraphDeployment, _>)
        .watches_shared_stream(triggers.pvcs, owners::<DynamoGraphDeployment, _>)
        .watches_shared_stream(triggers.deployments_for_graphs, |d| {
            graph::graph_of(d.as_ref())
        })
        .watches_shared_stream(triggers.pods_for_graphs, |p| graph::graph_of(p.as_ref()))
        .watches_shared_stream(
            triggers.discovery_services,
            owners::<DynamoGraphDeployment, _>,
        )
        .watches_shared_stream(triggers.clique_sets, owners::<DynamoGraphDeployment, _>)
        .watches_shared_stream(triggers.leader_worker_sets_for_graphs, |l| {
            graph::graph_of(l.as_ref())
        })
        .watches_shared_stream(triggers.cliques, |c| graph::graph_of(c.as_ref()))
        .watches_shared_stream(triggers.scaling_groups, |g| {
            graph::graph_of_scaling_group(g.as_ref())
        })
        .watches_shared_stream(triggers.queues, move |q| {
            graph::graphs_in_queue(q.as_ref(), &queue_ctx)
        })
        .reconcile_all_on(futures::stream::select(
            changes(capabilities.clone()),
            claim_changes(options.claims.as_ref()),
        ))
        .with_config(config.clone())
        .graceful_shutdown_on(stopped())
        .run(
            observe::reconciler(observe::GRAPH, graph::reconcile),
            observe::error_policy(observe::GRAPH, graph::error_policy),
            Arc::clone(&ctx),
        )
        .for_each(|item| {
            observe::forget_missing(observe::GRAPH, &telemetry, &item);
            std::future::ready(())
        });

    let components = Controller::for_shared_stream(triggers.components, caches.components.store())
        .watches_shared_stream(triggers.deployments, owners::<DynamoComponentDeployment, _>)
        .watches_shared_stream(triggers.services, owners::<DynamoComponentDeployment, _>)
        .watches_shared_stream(triggers.ingresses, owners::<DynamoComponentDeployment, _>)
        .watches_shared_stream(triggers.model_services, |s| {
            component::components_of_shared(s.as_ref())
        })
        .watches_shared_stream(triggers.pods, |p| component::component_of_pod(p.as_ref()))
        .watches_shared_stream(
            triggers.leader_worker_sets,
            owners::<DynamoComponentDeployment, _>,
        )
        .watches_shared_stream(triggers.pod_groups, owners::<DynamoComponentDeployment, _>)
        .reconcile_all_on(futures::stream::select(
            changes(capabilities),
            claim_changes(options.claims.as_ref()),
        ))
        .with_config(config.clone())
        .graceful_shutdown_on(stopped())
        .run(
            observe::reconciler(observe::COMPONENT, component::reconcile),
            observe::error_policy(observe::COMPONENT, component::error_policy),
            Arc::clone(&ctx),
        )
        .for_each(|item| {
            observe::forget_missing(observe::COMPONENT, &telemetry, &item);
            std::future::ready(())
        });

    let adapter_ctx = Arc::clone(&ctx);
    let adapters = Controller::for_shared_stream(triggers.adapters, caches.adapters.store())
        .watches_shared_stream(triggers.graphs_for_adapters, move |g| {
            scaling::adapters_of(g.as_ref(), &adapter_ctx)
        })
        .with_config(config)
        .graceful_shutdown_on(stopped())
        .run(
            observe::reconciler(observe::SCALING, scaling::reconcile),
            observe::error_policy(observe::SCALING, scaling::error_policy),
            Arc::clone(&ctx),
        )
        .for_each(|item| {
            observe::forget_missing(observe::SCALING, &telemetry, &item);
            std::future::ready(())
        });

    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing running reconciles");
        let _ = stop_tx.send(true);
    };
    tokio::join!(graphs, components, adapters, signal);
    if let Ok(mut tasks) = tasks.lock() {
        for task in tasks.drain(..) {
            task.abort();
        }
    }
    pool.shutdown();
    if let Some(publisher) = &options.lifecycle {
        // Hand what is queued to NATS if it is there; never hold up a shutdown for long.
        let stats = publisher.shutdown(Duration::from_secs(5)).await;
        tracing::info!(
            published = stats.published,
            dropped = stats.dropped,
            unsent = stats.queued,
            "lifecycle events"
        );
    }
    Ok(())
}

/// The owners of kind `K` of `child`, at any version of `K`'s group. Objects a release that
/// served another version made name their owner by that `apiVersion` (`nvidia.com/v1alpha1`),
/// which kube-runtime's `owns` would not match: their changes must reach the owner all the same.
fn owners<K, C>(child: std::sync::Arc<C>) -> Vec<kube::runtime::reflector::ObjectRef<K>>
where
    K: kube::Resource<DynamicType = ()>,
    C: kube::Resource,
{
    let meta = child.meta();
    let group = K::group(&());
    let kind = K::kind(&());
    meta.owner_references
        .iter()
        .flatten()
        .filter(|owner| {
            owner.kind == kind
                && owner
                    .api_version
                    .split_once('/')
                    .is_some_and(|(g, _)| g == group)
        })
        .map(|owner| {
            let reference = kube::runtime::reflector::ObjectRef::new(&owner.name);
            match meta.namespace.as_deref() {
                Some(namespace) => reference.within(namespace),
                None => reference,
            }
        })
        .collect()
}

/// Spawns `task` and keeps its handle in `tasks` (aborted when the operator stops).
fn spawn_into(
    tasks: &Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    task: impl Future<Output = ()> + Send + 'static,
) {
    let handle = tokio::spawn(task);
    if let Ok(mut tasks) = tasks.lock() {
        tasks.push(handle);
    }
}

/// How long start-up waits for the first list of CustomResourceDefinitions.
const CRD_LIST_WAIT: Duration = Duration::from_secs(30);

/// How long a newly served kind's cache may take to list before the operator goes on without
/// it (a reconcile then sees it empty, and the next change or resync catches up).
const OPTIONAL_CACHE_SYNC: Duration = Duration::from_secs(60);

/// Starts the caches of the optional kinds `capabilities` serves and waits until they listed.
async fn start_optional_caches(
    client: &Client,
    optional: &mut stores::Optional,
    capabilities: &discovery::Capabilities,
    tasks: &Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
) {
    let mut spawned = Vec::new();
    let started = optional.start_served(client, capabilities, &mut spawned);
    if let Ok(mut tasks) = tasks.lock() {
        tasks.extend(spawned);
    }
    for listed in started {
        if tokio::time::timeout(OPTIONAL_CACHE_SYNC, listed)
            .await
            .is_err()
        {
            tracing::warn!("a cache of a newly served kind has not listed yet; going on");
        }
    }
}

/// A stream that yields once per change of `receiver` (not for its current value).
/// Changes of the claimed namespaces (none without claims): a namespace handed back to this
/// operator gets its graphs reconciled.
fn claim_changes(claims: Option<&scope::Claims>) -> futures::stream::BoxStream<'static, ()> {
    match claims {
        Some(claims) => changes(claims.receiver()).boxed(),
        None => futures::stream::pending().boxed(),
    }
}

fn changes<T: Send + Sync + 'static>(
    receiver: tokio::sync::watch::Receiver<T>,
) -> impl futures::Stream<Item = ()> + Send {
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.changed().await.ok()?;
        Some(((), receiver))
    })
}
