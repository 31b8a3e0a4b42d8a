//! What the controllers record into [`dynamo_telemetry::Telemetry`], and the log span of each
//! reconcile.
//!
//! The three controllers' reconcile and error-policy functions are wrapped ([`reconciler`],
//! [`error_policy`]) rather than edited, so the metrics are the same for all three and a
//! reconcile cannot return without being recorded:
//!
//! - duration, count and failures of each reconcile, by controller;
//! - the queue depth: an object counts from the start of its reconcile for as long as a
//!   reconcile of it is scheduled (the reconcile or the error policy requeued it), and stops
//!   counting when its outcome awaits a change or a scheduled reconcile finds it deleted
//!   ([`forget_missing`]);
//! - a `reconcile` span with `controller`, `namespace` and `name` around each reconcile (and
//!   its error policy), so every line logged while reconciling names the object, including lines
//!   logged on the render threads ([`crate::pool`] carries the span there).
//!
//! [`install`] registers what is read at scrape time: the graphs by state (from the graph cache),
//! the plugins' call counters and the lifecycle-event publisher's counters.

use std::future::Future;
use std::sync::Arc;

use dynamo_api::DynamoGraphDeployment;
use dynamo_api::graph::DeploymentState;
use dynamo_plugin_runtime::PluginRegistry;
use dynamo_telemetry::Telemetry;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use kube::Resource;
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::Store;
use tracing::Instrument as _;

use crate::context::{Context, Error};

/// The graph controller's name in metrics and logs.
pub const GRAPH: &str = "graph";
/// The component controller's name in metrics and logs.
pub const COMPONENT: &str = "component";
/// The scaling-adapter controller's name in metrics and logs.
pub const SCALING: &str = "scaling";

/// The readiness check that the watch caches are synced ([`dynamo_telemetry::Health`]).
pub const CACHES_READY: &str = "caches";

/// Every `status.state` a graph can have, in the order the `graphs` gauge lists them.
const GRAPH_STATES: [DeploymentState; 4] = [
    DeploymentState::Initializing,
    DeploymentState::Pending,
    DeploymentState::Successful,
    DeploymentState::Failed,
];

/// The `state` label of `state` (its `status.state` value).
pub fn state_label(state: DeploymentState) -> &'static str {
    match state {
        DeploymentState::Initializing => "initializing",
        DeploymentState::Pending => "pending",
        DeploymentState::Successful => "successful",
        DeploymentState::Failed => "failed",
    }
}

/// Registers with `telemetry` what it reads at scrape time: the graphs of `graphs` by state,
/// the call counters of `plugins`, and `lifecycle`'s event counters. Shows the three
/// controllers' series at zero.
pub fn install(
    telemetry: &Telemetry,
    graphs: Store<DynamoGraphDeployment>,
    plugins: &PluginRegistry,
    lifecycle: Option<&dynamo_events::Publisher>,
) {
    for controller in [GRAPH, COMPONENT, SCALING] {
        telemetry.register_controller(controller);
    }
    telemetry.observe_graphs(move || count_states(&graphs.state()));
    telemetry.register_plugins(plugins);
    if let Some(publisher) = lifecycle {
        telemetry.register_publisher(publisher);
    }
}

/// How many of `graphs` are in each state; a graph without status is `initializing`.
pub fn count_states(graphs: &[Arc<DynamoGraphDeployment>]) -> Vec<(&'static str, u64)> {
    let mut counts = [0u64; GRAPH_STATES.len()];
    for graph in graphs {
        let state = graph.status.as_ref().map(|s| s.state).unwrap_or_default();
        if let Some(index) = GRAPH_STATES.iter().position(|s| *s == state) {
            counts[index] = counts[index].saturating_add(1);
        }
    }
    GRAPH_STATES
        .iter()
        .zip(counts)
        .map(|(state, count)| (state_label(*state), count))
        .collect()
}

/// `namespace/name` of `object` (`name` when cluster-scoped): its queue-depth key.
fn object_key<K: Resource>(object: &K) -> String {
    let meta = object.meta();
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref() {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    }
}

/// The span of a reconcile of `object` by `controller`.
///
/// At error level so that it is enabled whatever the log level: an info span would vanish
/// under `logging.level: warn`, and with it the object's name on the warnings it should carry.
fn span<K: Resource>(controller: &'static str, object: &K) -> tracing::Span {
    let meta = object.meta();
    tracing::error_span!(
        "reconcile",
        controller,
        namespace = meta.namespace.as_deref().unwrap_or_default(),
        name = meta.name.as_deref().unwrap_or_default(),
    )
}

/// `reconcile`, recorded as `controller`'s and run in its [`span`].
pub fn reconciler<K, F, Fut>(
    controller: &'static str,
    reconcile: F,
) -> impl FnMut(Arc<K>, Arc<Context>) -> BoxFuture<'static, Result<Action, Error>>
where
    K: Resource + Send + Sync + 'static,
    F: Fn(Arc<K>, Arc<Context>) -> Fut,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
{
    move |object, ctx| {
        let span = span(controller, object.as_ref());
        let running = ctx
            .telemetry
            .reconcile_started(controller, &object_key(object.as_ref()));
        let reconciling = span.in_scope(|| reconcile(object, ctx));
        async move {
            let result = reconciling.await;
            match &result {
                Ok(action) => running.succeeded(*action != Action::await_change()),
                Err(_) => running.failed(),
            }
            result
        }
        .instrument(span)
        .boxed()
    }
}

/// `policy`, with its decision recorded in `controller`'s queue depth and run in the
/// reconcile's [`span`].
pub fn error_policy<K, F>(
    controller: &'static str,
    policy: F,
) -> impl Fn(Arc<K>, &Error, Arc<Context>) -> Action
where
    K: Resource,
    F: Fn(Arc<K>, &Error, Arc<Context>) -> Action,
{
    move |object, error, ctx| {
        let key = object_key(object.as_ref());
        let telemetry = ctx.telemetry.clone();
        let action = span(controller, object.as_ref()).in_scope(|| policy(object, error, ctx));
        telemetry.reconcile_retry(controller, &key, action != Action::await_change());
        action
    }
}

/// Handles one item of a controller's output stream: a scheduled reconcile that found its
/// object deleted means nothing is queued for it any more.
pub fn forget_missing<K, E, Q>(
    controller: &'static str,
    telemetry: &Telemetry,
    item: &Result<(kube::runtime::reflector::ObjectRef<K>, Action), controller::Error<E, Q>>,
) where
    K: Resource,
{
    if let Err(controller::Error::ObjectNotFound(object)) = item {
        let key = match object.namespace.as_deref() {
            Some(namespace) => format!("{namespace}/{}", object.name),
            None => object.name.clone(),
        };
        telemetry.forget(controller, &key);
    }
}

#[cfg(test)]
mod tests;
