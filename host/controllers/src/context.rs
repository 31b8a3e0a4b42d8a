//! What every reconcile shares: caches, the applier, the render pool, the configuration, events,
//! metrics, and per-object retry backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dynamo_render::RenderConfig;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource};

use tokio::sync::watch;

use crate::apply::{Applier, WriteCounters};
use crate::discovery::Capabilities;
use crate::pool::RenderPool;
use crate::stores::Caches;

/// First retry delay after a failed reconcile; doubles per failure up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(2);
/// Longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// A reconciled object is looked at again after this long even if nothing triggers it.
pub const RESYNC: Duration = Duration::from_secs(600);

/// Shared state of the controllers.
pub struct Context {
    /// The watch caches.
    pub caches: Caches,
    /// Writes.
    pub applier: Applier,
    /// Where renders run.
    pub pool: Arc<RenderPool>,
    /// The render configuration as configured (orchestrator switches possibly unset); see
    /// [`Context::render_config`] for the one in effect.
    pub config: RenderConfig,
    /// What the cluster serves, kept current by [`crate::discovery`].
    pub capabilities: watch::Receiver<Capabilities>,
    /// Where graph lifecycle events go (`infrastructure.natsAddress`), when set.
    pub lifecycle: Option<dynamo_events::Publisher>,
    /// Where reconciles are recorded ([`crate::observe`]); a fresh registry unless
    /// [`Context::with_telemetry`] says otherwise.
    pub telemetry: dynamo_telemetry::Telemetry,
    /// Namespaces claimed by namespace-restricted operators, which a cluster-wide operator
    /// leaves alone; none unless [`Context::with_claims`] sets them.
    pub claims: Option<crate::scope::Claims>,
    recorder: Recorder,
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context for controllers on `client`.
    pub fn new(
        client: Client,
        caches: Caches,
        pool: Arc<RenderPool>,
        config: RenderConfig,
        counters: Arc<WriteCounters>,
        capabilities: watch::Receiver<Capabilities>,
        lifecycle: Option<dynamo_events::Publisher>,
    ) -> Self {
        let reporter = Reporter {
            controller: "dynamo-operator".into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Self {
            caches,
            applier: Applier::new(client.clone(), counters),
            pool,
            config,
            capabilities,
            lifecycle,
            telemetry: dynamo_telemetry::Telemetry::default(),
            claims: None,
            recorder: Recorder::new(client, reporter),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The same context, recording into `telemetry`.
    pub fn with_telemetry(mut self, telemetry: dynamo_telemetry::Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// The same context, leaving namespaces in `claims` alone.
    pub fn with_claims(mut self, claims: Option<crate::scope::Claims>) -> Self {
        self.claims = claims;
        self
    }

    /// Whether `namespace` belongs to a namespace-restricted operator (so not to this one).
    pub fn claimed_elsewhere(&self, namespace: Option<&str>) -> bool {
        match (&self.claims, namespace) {
            (Some(claims), Some(namespace)) => claims.is_claimed(namespace),
            _ => false,
        }
    }

    /// What the cluster serves now.
    pub fn capabilities(&self) -> Capabilities {
        *self.capabilities.borrow()
    }

    /// The render configuration in effect now: unset orchestrator switches decided by what the
    /// cluster serves ([`Capabilities::render_config`]).
    pub fn render_config(&self) -> RenderConfig {
        self.capabilities().render_config(&self.config)
    }

    /// Publishes a graph lifecycle event on NATS when a publisher is configured; never waits.
    pub fn publish_lifecycle(&self, event: dynamo_events::LifecycleEvent) {
        if let Some(publisher) = &self.lifecycle {
            publisher.publish(event);
        }
    }

    /// Publishes an event about `object`; a failure to publish is logged, never fatal.
    pub async fn event<K: Resource<DynamicType = ()>>(
        &self,
        object: &K,
        warning: bool,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.to_owned(),
            note: Some(dynamo_plugin_runtime::contract::text::one_line(&note, 1000)),
            action: "Reconcile".into(),
            secondary: None,
        };
        match self.recorder.publish(&event, &object.object_ref(&())).await {
            Ok(()) => {
                self.applier
                    .counters()
                    .events
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(error) => tracing::warn!(reason, "cannot publish event: {error}"),
        }
    }

    /// The retry of a failed reconcile of `key`: exponential per object, so one failing graph
    /// backs off alone.
    pub fn backoff(&self, key: String) -> Action {
        let Ok(mut failures) = self.failures.lock() else {
            return Action::requeue(MAX_BACKOFF);
        };
        let count = failures.entry(key).or_insert(0);
        *count = count.saturating_add(1);
        let delay = FIRST_BACKOFF
            .saturating_mul(2u32.saturating_pow(count.saturating_sub(1).min(16)))
            .min(MAX_BACKOFF);
        Action::requeue(delay)
    }

    /// Forgets the failures of `key` after a successful reconcile.
    pub fn succeeded(&self, key: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(key);
        }
    }
}

/// Why a reconcile failed (it is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API request failed.
    #[error("API request failed: {0}")]
    Kube(#[from] kube::Error),
    /// The render pool stopped (shutting down).
    #[error(transparent)]
    Pool(#[from] crate::pool::PoolClosed),
    /// A generated value could not be built (an SSH key).
    #[error("{0}")]
    Internal(String),
}

/// The cache key of an object, for backoff bookkeeping.
pub fn key<K: Resource>(object: &K) -> String {
    format!(
        "{}/{}/{}",
        std::any::type_name::<K>(),
        object.meta().namespace.as_deref().unwrap_or_default(),
        object.meta().name.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        let delays: Vec<_> = (0..12)
            .map(|n| {
                super::FIRST_BACKOFF
                    .saturating_mul(2u32.saturating_pow(n))
                    .min(super::MAX_BACKOFF)
            })
            .collect();
        assert_eq!(delays[0].as_secs(), 2);
        assert_eq!(delays[3].as_secs(), 16);
        assert_eq!(delays[11], super::MAX_BACKOFF);
    }
}
