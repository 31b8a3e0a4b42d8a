//! The operator's metrics and health endpoints.
//!
//! ```text
//! controllers ─┐                                   ┌─▶ GET /metrics  (OpenMetrics text)
//! API client ──┤                                   │
//! webhooks ────┼─▶ Telemetry (registry, families) ─┤
//! plugins ─────┤   + scrape-time collector         │
//! NATS events ─┘   Health (named readiness checks) ┴─▶ GET /healthz, GET /readyz
//! ```
//!
//! - [`Telemetry`]: a cheap-to-clone handle on one `prometheus_client` registry and the
//!   operator's metric families, every name prefixed `dynamo_operator_`. Hot paths record
//!   directly (reconciles, API requests, webhook requests); what other crates already count
//!   (plugin calls, lifecycle events, the graphs in the cache) is read at scrape time by a
//!   collector, so those crates need no metrics dependency.
//! - [`Health`]: readiness checks by name; `/readyz` answers 200 only when every required check
//!   is ready.
//! - [`client`]: a Kubernetes client whose requests are counted by verb and status code.
//! - [`metrics_router`], [`health_router`], [`serve`]: the HTTP side. The caller binds the
//!   listener (so it can log the bound address, and port 0 works in tests) and decides which
//!   routes share a port.
//!
//! # Metrics
//!
//! | name | type | labels |
//! |---|---|---|
//! | `dynamo_operator_reconcile_duration_seconds` | histogram | `controller` |
//! | `dynamo_operator_reconciles_total` | counter | `controller` |
//! | `dynamo_operator_reconcile_errors_total` | counter | `controller` |
//! | `dynamo_operator_queue_depth` | gauge | `controller` |
//! | `dynamo_operator_api_requests_total` | counter | `verb`, `code` |
//! | `dynamo_operator_webhook_request_duration_seconds` | histogram | `webhook` |
//! | `dynamo_operator_webhook_requests_total` | counter | `webhook`, `operation` |
//! | `dynamo_operator_webhook_denials_total` | counter | `webhook` |
//! | `dynamo_operator_plugin_call_duration_seconds` | histogram | `plugin`, `call` |
//! | `dynamo_operator_plugin_calls_total` | counter | `plugin`, `call` |
//! | `dynamo_operator_plugin_errors_total` | counter | `plugin` |
//! | `dynamo_operator_plugin_timeouts_total` | counter | `plugin` |
//! | `dynamo_operator_plugin_traps_total` | counter | `plugin` |
//! | `dynamo_operator_nats_events_published_total` | counter | |
//! | `dynamo_operator_nats_events_dropped_total` | counter | |
//! | `dynamo_operator_graphs` | gauge | `state` |
//! | `dynamo_operator_leader` | gauge | |
//! | `dynamo_operator_webhook_certificate_expiry_timestamp_seconds` | gauge | |
//! | `dynamo_operator_build_info` | gauge | `version` |
#![forbid(unsafe_code)]

mod client;
mod collector;
mod health;
mod http;
mod telemetry;

#[cfg(test)]
mod tests;

pub use client::{ApiRequestsLayer, ApiRequestsService, Verb, client, verb};
pub use health::Health;
pub use http::{CONTENT_TYPE, health_router, metrics_router, serve};
pub use telemetry::{GraphStates, Reconcile, Telemetry};

/// Why the metrics or health server stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Accepting or serving connections failed.
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}
