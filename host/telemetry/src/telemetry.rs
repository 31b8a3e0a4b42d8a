//! [`Telemetry`]: the registry, the metric families and the recording methods.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use dynamo_events::Publisher;
use dynamo_plugin_runtime::PluginRegistry;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::client::Verb;
use crate::collector::{ScrapeCollector, Sources};
use crate::health::Health;

/// The prefix of every metric name (followed by `_`).
pub(crate) const PREFIX: &str = "dynamo_operator";

/// Reconcile duration buckets (seconds): 1 ms (a reconcile that finds nothing to do) to 30 s
/// (a large graph on a slow API server).
const RECONCILE_BUCKETS: [f64; 14] = [
    0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Webhook request duration buckets (seconds): 0.1 ms to 1 s (the API server's default
/// webhook timeout is 10 s, but an admission answer slower than 1 s is already a problem).
const WEBHOOK_BUCKETS: [f64; 13] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// What the states gauge reads at scrape time: `(state, graphs in that state)`.
pub type GraphStates = Box<dyn Fn() -> Vec<(&'static str, u64)> + Send + Sync>;

/// The operator's metrics: one registry and its families; see the [crate docs](crate).
///
/// Cheap to clone: every clone records into the same registry. [`Telemetry::default`] makes a
/// fresh, independent registry (what tests want); the operator makes one and hands clones out.
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

/// What the clones share.
struct Inner {
    registry: Registry,
    reconcile_duration: Family<ControllerLabels, Histogram, fn() -> Histogram>,
    reconciles: Family<ControllerLabels, Counter>,
    reconcile_errors: Family<ControllerLabels, Counter>,
    queue_depth: Family<ControllerLabels, Gauge>,
    /// Per controller, the objects whose reconcile runs or is scheduled; the gauge is their
    /// number, so it can never drift or go negative.
    queued: Mutex<HashMap<&'static str, HashSet<String>>>,
    api_requests: Family<ApiLabels, Counter>,
    webhook_duration: Family<WebhookLabels, Histogram, fn() -> Histogram>,
    webhook_requests: Family<WebhookOperationLabels, Counter>,
    webhook_denials: Family<WebhookLabels, Counter>,
    leader: Gauge,
    certificate_expiry: Gauge,
    sources: Arc<Sources>,
    health: Health,
}

// === impl Telemetry ===

impl Telemetry {
    /// A fresh registry with every family registered (and `build_info` set).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let reconcile_duration: Family<ControllerLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(reconcile_histogram);
        registry.register_with_unit(
            "reconcile_duration",
            "How long reconciles took, failed ones included",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        let reconciles = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles that finished, failed ones included",
            reconciles.clone(),
        );
        let reconcile_errors = Family::<ControllerLabels, Counter>::default();
        registry.register(
            "reconcile_errors",
            "Reconciles that failed (retried with backoff)",
            reconcile_errors.clone(),
        );
        let queue_depth = Family::<ControllerLabels, Gauge>::default();
        registry.register(
            "queue_depth",
            "Objects whose reconcile is running or scheduled and not yet run",
            queue_depth.clone(),
        );
        let api_requests = Family::<ApiLabels, Counter>::default();
        registry.register(
            "api_requests",
            "Kubernetes API requests by verb and HTTP status code (`error`: no response)",
            api_requests.clone(),
        );
        let webhook_duration: Family<WebhookLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(webhook_histogram);
        registry.register_with_unit(
            "webhook_request_duration",
            "How long admission webhook requests took to answer",
            Unit::Seconds,
            webhook_duration.clone(),
        );
        let webhook_requests = Family::<WebhookOperationLabels, Counter>::default();
        registry.register(
            "webhook_requests",
            "Admission webhook requests by operation",
            webhook_requests.clone(),
        );
        let webhook_denials = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_denials",
            "Admission webhook requests denied",
            webhook_denials.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader lease, else 0",
            leader.clone(),
        );
        let certificate_expiry = Gauge::default();
        registry.register_with_unit(
            "webhook_certificate_expiry_timestamp",
            "When the webhook serving certificate expires (Unix time; 0 while unknown)",
            Unit::Seconds,
            certificate_expiry.clone(),
        );
        let build_info = Family::<VersionLabels, Gauge>::default();
        build_info
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "build_info",
            "Always 1; the operator's version as a label",
            build_info,
        );
        let sources = Arc::new(Sources::default());
        registry.register_collector(Box::new(ScrapeCollector::new(Arc::clone(&sources))));
        Self {
            inner: Arc::new(Inner {
                registry,
                reconcile_duration,
                reconciles,
                reconcile_errors,
                queue_depth,
                queued: Mutex::new(HashMap::new()),
                api_requests,
                webhook_duration,
                webhook_requests,
                webhook_denials,
                leader,
                certificate_expiry,
                sources,
                health: Health::default(),
            }),
        }
    }

    /// The readiness checks served at `/readyz`.
    pub fn health(&self) -> &Health {
        &self.inner.health
    }

    /// Every metric as OpenMetrics text, ending with `# EOF`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(error) =
            prometheus_client::encoding::text::encode(&mut text, &self.inner.registry)
        {
            // Writing to a String cannot fail; a collector could, and then the scrape is short.
            tracing::warn!("cannot encode the metrics: {error}");
        }
        text
    }

    // --- reconciles ---

    /// Shows `controller`'s reconcile series, at zero, before its first reconcile (so rates and
    /// alerts see the series from start-up).
    pub fn register_controller(&self, controller: &'static str) {
        let labels = ControllerLabels { controller };
        let inner = &self.inner;
        drop(inner.reconcile_duration.get_or_create(&labels));
        drop(inner.reconciles.get_or_create(&labels));
        drop(inner.reconcile_errors.get_or_create(&labels));
        drop(inner.queue_depth.get_or_create(&labels));
    }

    /// A reconcile of `object` (its `namespace/name`) by `controller` starts: it counts in the
    /// queue depth until its outcome says nothing more is scheduled. Finish it with
    /// [`Reconcile::succeeded`] or [`Reconcile::failed`]; dropped unfinished (cancelled), it
    /// leaves the queue and records nothing.
    pub fn reconcile_started(&self, controller: &'static str, object: &str) -> Reconcile {
        self.enqueue(controller, object);
        Reconcile {
            telemetry: self.clone(),
            controller,
            object: object.to_owned(),
            started: Instant::now(),
            done: false,
        }
    }

    /// The error policy decided what follows a failed reconcile of `object`: another attempt
    /// (`requeue`), or nothing until it changes.
    pub fn reconcile_retry(&self, controller: &'static str, object: &str, requeue: bool) {
        if requeue {
            self.enqueue(controller, object);
        } else {
            self.dequeue(controller, object);
        }
    }

    /// `object` is gone: a scheduled reconcile found it missing, so nothing is queued for it.
    pub fn forget(&self, controller: &'static str, object: &str) {
        self.dequeue(controller, object);
    }

    /// Objects of `controller` whose reconcile is running or scheduled (the `queue_depth`
    /// gauge).
    pub fn queue_depth(&self, controller: &str) -> usize {
        self.queued().get(controller).map_or(0, HashSet::len)
    }

    fn queued(&self) -> MutexGuard<'_, HashMap<&'static str, HashSet<String>>> {
        // The sets stay consistent whatever panicked while holding the lock.
        self.inner
            .queued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn enqueue(&self, controller: &'static str, object: &str) {
        let mut queued = self.queued();
        let set = queued.entry(controller).or_default();
        if !set.contains(object) {
            set.insert(object.to_owned());
        }
        self.set_depth(controller, set.len());
    }

    fn dequeue(&self, controller: &'static str, object: &str) {
        let mut queued = self.queued();
        let set = queued.entry(controller).or_default();
        set.remove(object);
        self.set_depth(controller, set.len());
    }

    fn set_depth(&self, controller: &'static str, depth: usize) {
        self.inner
            .queue_depth
            .get_or_create(&ControllerLabels { controller })
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    fn reconciled(&self, controller: &'static str, elapsed: Duration, failed: bool) {
        let labels = ControllerLabels { controller };
        let inner = &self.inner;
        inner
            .reconcile_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        inner.reconciles.get_or_create(&labels).inc();
        if failed {
            inner.reconcile_errors.get_or_create(&labels).inc();
        }
    }

    // --- API requests, webhooks, leadership ---

    /// Counts one Kubernetes API request: its verb and its status code (`None`: no response).
    pub fn api_request(&self, verb: Verb, status: Option<u16>) {
        let code = status.map_or(Code::Error, Code::Status);
        self.inner
            .api_requests
            .get_or_create(&ApiLabels { verb, code })
            .inc();
    }

    /// Records one admission request to `webhook` (`operation`: `CREATE`, `UPDATE`, …), whether
    /// it was allowed, and how long it took to answer.
    pub fn webhook_request(
        &self,
        webhook: &str,
        operation: &str,
        allowed: bool,
        elapsed: Duration,
    ) {
        let labels = WebhookLabels {
            webhook: webhook.to_owned(),
        };
        let inner = &self.inner;
        inner
            .webhook_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        inner
            .webhook_requests
            .get_or_create(&WebhookOperationLabels {
                webhook: webhook.to_owned(),
                operation: operation.to_owned(),
            })
            .inc();
        if !allowed {
            inner.webhook_denials.get_or_create(&labels).inc();
        }
    }

    /// Whether this replica leads now (`dynamo_operator_leader` 1 or 0).
    pub fn set_leader(&self, leader: bool) {
        self.inner.leader.set(i64::from(leader));
    }

    /// When the webhook serving certificate expires, in Unix seconds.
    pub fn set_certificate_expiry(&self, unix_seconds: i64) {
        self.inner.certificate_expiry.set(unix_seconds);
    }

    // --- read at scrape time ---

    /// Exposes the call counters of `registry`'s plugins (calls, durations, errors, timeouts,
    /// traps), read at each scrape. Replaces a registry registered before.
    pub fn register_plugins(&self, registry: &PluginRegistry) {
        self.inner.sources.set_plugins(registry.clone());
    }

    /// Exposes `publisher`'s published and dropped event counters, read at each scrape.
    /// Replaces a publisher registered before; without one both counters read 0.
    pub fn register_publisher(&self, publisher: &Publisher) {
        self.inner.sources.set_publisher(publisher.clone());
    }

    /// Sets how the `graphs{state}` gauge is computed at each scrape (typically by counting the
    /// graph cache by `status.state`). Replaces what was set before.
    pub fn observe_graphs(
        &self,
        states: impl Fn() -> Vec<(&'static str, u64)> + Send + Sync + 'static,
    ) {
        self.inner.sources.set_graphs(Box::new(states));
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let depths: Vec<(&str, usize)> = self
            .queued()
            .iter()
            .map(|(controller, set)| (*controller, set.len()))
            .collect();
        f.debug_struct("Telemetry")
            .field("queue_depth", &depths)
            .field("health", &self.inner.health)
            .finish_non_exhaustive()
    }
}

fn reconcile_histogram() -> Histogram {
    Histogram::new(RECONCILE_BUCKETS)
}

fn webhook_histogram() -> Histogram {
    Histogram::new(WEBHOOK_BUCKETS)
}

/// A running reconcile ([`Telemetry::reconcile_started`]); finish it with its outcome.
#[must_use = "a reconcile is recorded when it is finished"]
pub struct Reconcile {
    telemetry: Telemetry,
    controller: &'static str,
    object: String,
    started: Instant,
    done: bool,
}

// === impl Reconcile ===

impl Reconcile {
    /// The reconcile succeeded; `requeue`: it scheduled another (the object stays queued).
    pub fn succeeded(mut self, requeue: bool) {
        self.done = true;
        self.telemetry
            .reconciled(self.controller, self.started.elapsed(), false);
        if !requeue {
            self.telemetry.dequeue(self.controller, &self.object);
        }
    }

    /// The reconcile failed. The object stays queued until the error policy decides
    /// ([`Telemetry::reconcile_retry`]).
    pub fn failed(mut self) {
        self.done = true;
        self.telemetry
            .reconciled(self.controller, self.started.elapsed(), true);
    }
}

impl Drop for Reconcile {
    fn drop(&mut self) {
        if !self.done {
            // Cancelled (the operator is stopping): nothing runs or is scheduled any more.
            self.telemetry.dequeue(self.controller, &self.object);
        }
    }
}

impl fmt::Debug for Reconcile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconcile")
            .field("controller", &self.controller)
            .field("object", &self.object)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

// === labels ===

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ControllerLabels {
    controller: &'static str,
}

impl EncodeLabelSet for ControllerLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        EncodeLabelSet::encode(&[("controller", self.controller)], encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct VersionLabels {
    version: &'static str,
}

impl EncodeLabelSet for VersionLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        EncodeLabelSet::encode(&[("version", self.version)], encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ApiLabels {
    verb: Verb,
    code: Code,
}

impl EncodeLabelSet for ApiLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        EncodeLabelSet::encode(
            &([("verb", self.verb.as_str())], [("code", self.code)]),
            encoder,
        )
    }
}

/// An HTTP status code, or `error` when no response came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Code {
    Status(u16),
    Error,
}

impl EncodeLabelValue for Code {
    fn encode(&self, encoder: &mut prometheus_client::encoding::LabelValueEncoder) -> fmt::Result {
        match self {
            Code::Status(status) => fmt::Write::write_fmt(encoder, format_args!("{status}")),
            Code::Error => fmt::Write::write_str(encoder, "error"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WebhookLabels {
    webhook: String,
}

impl EncodeLabelSet for WebhookLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        EncodeLabelSet::encode(&[("webhook", self.webhook.as_str())], encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WebhookOperationLabels {
    webhook: String,
    operation: String,
}

impl EncodeLabelSet for WebhookOperationLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        EncodeLabelSet::encode(
            &[
                ("webhook", self.webhook.as_str()),
                ("operation", self.operation.as_str()),
            ],
            encoder,
        )
    }
}
