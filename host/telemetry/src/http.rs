//! The HTTP side: `/metrics`, `/healthz`, `/readyz` and the server that serves them.

use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::Error;
use crate::health::Health;
use crate::telemetry::Telemetry;

/// The content type of `/metrics`: OpenMetrics text 1.0.0.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`: every metric of `telemetry`, as OpenMetrics text.
pub fn metrics_router(telemetry: &Telemetry) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(telemetry.clone())
}

/// `GET /healthz` (200 while the process serves) and `GET /readyz` (200 when every required
/// check of `health` is ready, else 503 naming those that are not).
pub fn health_router(health: &Health) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health.clone())
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the requests in
/// flight.
///
/// The caller binds the listener, so it can log the address (port 0 picks a free one) and
/// merge routers that share a port (`metrics_router(&t).merge(health_router(t.health()))`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(Error::Serve)
}

async fn metrics(State(telemetry): State<Telemetry>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], telemetry.encode())
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(health): State<Health>) -> impl IntoResponse {
    let not_ready = health.not_ready();
    if not_ready.is_empty() {
        (StatusCode::OK, "ok\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", not_ready.join(", ")),
        )
    }
}
