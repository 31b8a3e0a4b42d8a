//! Unit tests: the families and their names, readiness, verbs, queue depth, the HTTP routes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Method, Request, Response, Uri};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower::{Layer as _, Service};

use crate::{ApiRequestsLayer, CONTENT_TYPE, Health, Telemetry, Verb, verb};

/// Every family (`# TYPE` name) and the name of one of its samples.
const FAMILIES: [(&str, &str, &str); 19] = [
    (
        "reconcile_duration_seconds",
        "histogram",
        "reconcile_duration_seconds_bucket",
    ),
    ("reconciles", "counter", "reconciles_total"),
    ("reconcile_errors", "counter", "reconcile_errors_total"),
    ("queue_depth", "gauge", "queue_depth"),
    ("api_requests", "counter", "api_requests_total"),
    (
        "webhook_request_duration_seconds",
        "histogram",
        "webhook_request_duration_seconds_count",
    ),
    ("webhook_requests", "counter", "webhook_requests_total"),
    ("webhook_denials", "counter", "webhook_denials_total"),
    (
        "plugin_call_duration_seconds",
        "histogram",
        "plugin_call_duration_seconds",
    ),
    ("plugin_calls", "counter", "plugin_calls"),
    ("plugin_errors", "counter", "plugin_errors"),
    ("plugin_timeouts", "counter", "plugin_timeouts"),
    ("plugin_traps", "counter", "plugin_traps"),
    (
        "nats_events_published",
        "counter",
        "nats_events_published_total",
    ),
    (
        "nats_events_dropped",
        "counter",
        "nats_events_dropped_total",
    ),
    ("graphs", "gauge", "graphs"),
    ("leader", "gauge", "leader"),
    (
        "webhook_certificate_expiry_timestamp_seconds",
        "gauge",
        "webhook_certificate_expiry_timestamp_seconds",
    ),
    ("build_info", "gauge", "build_info"),
];

#[test]
fn every_family_is_encoded_with_the_prefix() {
    let telemetry = Telemetry::default();
    telemetry.reconcile_started("graph", "ns/a").succeeded(true);
    telemetry.reconcile_started("graph", "ns/b").failed();
    telemetry.api_request(Verb::List, Some(200));
    telemetry.api_request(Verb::Patch, None);
    telemetry.webhook_request("dgd", "CREATE", false, Duration::from_micros(300));
    telemetry.set_leader(true);
    telemetry.set_certificate_expiry(1_900_000_000);
    telemetry.observe_graphs(|| vec![("pending", 2), ("successful", 3)]);
    telemetry.register_plugins(&dynamo_plugin_runtime::PluginRegistry::default());

    let text = telemetry.encode();
    for (family, kind, sample) in FAMILIES {
        let type_line = format!("# TYPE dynamo_operator_{family} {kind}\n");
        assert!(text.contains(&type_line), "no `{type_line}` in:\n{text}");
        let help_line = format!("# HELP dynamo_operator_{family} ");
        assert!(text.contains(&help_line), "no `{help_line}` in:\n{text}");
        // Plugin samples need a loaded plugin; the others are all recorded above.
        if !family.starts_with("plugin_") {
            let sample = format!("\ndynamo_operator_{sample}");
            assert!(text.contains(&sample), "no `{sample}` sample in:\n{text}");
        }
    }
    let families = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
    assert_eq!(families, FAMILIES.len(), "exactly these families:\n{text}");
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.starts_with("dynamo_operator_"), "unprefixed: {line}");
    }
    assert!(text.ends_with("# EOF\n"), "{text}");

    for expected in [
        "dynamo_operator_reconciles_total{controller=\"graph\"} 2\n",
        "dynamo_operator_reconcile_errors_total{controller=\"graph\"} 1\n",
        "dynamo_operator_reconcile_duration_seconds_count{controller=\"graph\"} 2\n",
        "dynamo_operator_queue_depth{controller=\"graph\"} 2\n",
        "dynamo_operator_api_requests_total{verb=\"list\",code=\"200\"} 1\n",
        "dynamo_operator_api_requests_total{verb=\"patch\",code=\"error\"} 1\n",
        "dynamo_operator_webhook_requests_total{webhook=\"dgd\",operation=\"CREATE\"} 1\n",
        "dynamo_operator_webhook_denials_total{webhook=\"dgd\"} 1\n",
        "dynamo_operator_webhook_request_duration_seconds_bucket{le=\"0.0005\",webhook=\"dgd\"} 1\n",
        "dynamo_operator_graphs{state=\"pending\"} 2\n",
        "dynamo_operator_graphs{state=\"successful\"} 3\n",
        "dynamo_operator_leader 1\n",
        "dynamo_operator_webhook_certificate_expiry_timestamp_seconds 1900000000\n",
        "dynamo_operator_nats_events_published_total 0\n",
        "dynamo_operator_nats_events_dropped_total 0\n",
        "dynamo_operator_reconcile_duration_seconds_bucket{le=\"30.0\",controller=\"graph\"} 2\n",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
    let version = format!(
        "dynamo_operator_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&version), "{text}");
}

#[test]
fn registries_are_independent_and_clones_share_one() {
    let first = Telemetry::default();
    let clone = first.clone();
    clone.set_leader(true);
    assert!(first.encode().contains("dynamo_operator_leader 1\n"));
    assert!(
        Telemetry::default()
            .encode()
            .contains("dynamo_operator_leader 0\n")
    );
}

#[test]
fn a_registered_controller_shows_zero_series() {
    let telemetry = Telemetry::default();
    telemetry.register_controller("scaling");
    let text = telemetry.encode();
    assert!(text.contains("dynamo_operator_reconciles_total{controller=\"scaling\"} 0\n"));
    assert!(text.contains("dynamo_operator_queue_depth{controller=\"scaling\"} 0\n"));
}

#[tokio::test]
async fn publisher_counters_are_read_at_scrape_time() {
    let telemetry = Telemetry::default();
    // Nothing listens there; it does not matter: a shut-down publisher drops what it is given.
    let publisher = dynamo_events::Publisher::start(
        "nats://127.0.0.1:9",
        dynamo_events::PublisherOptions::default(),
    )
    .expect("a publisher starts without a server");
    telemetry.register_publisher(&publisher);
    publisher.shutdown(Duration::from_millis(10)).await;
    for _ in 0..3 {
        let event =
            dynamo_events::LifecycleEvent::new(dynamo_events::Transition::Created, "ns", "graph");
        assert_eq!(publisher.publish(event), None);
    }
    let text = telemetry.encode();
    assert!(
        text.contains("dynamo_operator_nats_events_dropped_total 3\n"),
        "{text}"
    );
    assert!(
        text.contains("dynamo_operator_nats_events_published_total 0\n"),
        "{text}"
    );
}

// --- queue depth ---

#[test]
fn queue_depth_counts_each_object_once() {
    let telemetry = Telemetry::default();
    // Running, then requeued: still queued, once.
    telemetry.reconcile_started("graph", "ns/a").succeeded(true);
    telemetry.reconcile_started("graph", "ns/a").succeeded(true);
    assert_eq!(telemetry.queue_depth("graph"), 1);

    // While a reconcile runs its object counts; awaiting a change, it leaves the queue.
    let running = telemetry.reconcile_started("graph", "ns/b");
    assert_eq!(telemetry.queue_depth("graph"), 2);
    running.succeeded(false);
    assert_eq!(telemetry.queue_depth("graph"), 1);

    // A failure stays queued until the error policy decides.
    telemetry.reconcile_started("graph", "ns/c").failed();
    assert_eq!(telemetry.queue_depth("graph"), 2);
    telemetry.reconcile_retry("graph", "ns/c", true);
    assert_eq!(telemetry.queue_depth("graph"), 2);
    telemetry.reconcile_retry("graph", "ns/c", false);
    assert_eq!(telemetry.queue_depth("graph"), 1);

    // Controllers are apart; removing what is not there never goes below zero.
    telemetry
        .reconcile_started("component", "ns/a")
        .succeeded(true);
    assert_eq!(telemetry.queue_depth("component"), 1);
    telemetry.forget("graph", "ns/a");
    telemetry.forget("graph", "ns/a");
    telemetry.forget("graph", "ns/never-seen");
    assert_eq!(telemetry.queue_depth("graph"), 0);
    assert_eq!(telemetry.queue_depth("component"), 1);
    assert!(
        telemetry
            .encode()
            .contains("dynamo_operator_queue_depth{controller=\"graph\"} 0\n")
    );
}

#[test]
fn a_cancelled_reconcile_leaves_the_queue_and_records_nothing() {
    let telemetry = Telemetry::default();
    drop(telemetry.reconcile_started("graph", "ns/a"));
    assert_eq!(telemetry.queue_depth("graph"), 0);
    assert!(
        !telemetry
            .encode()
            .contains("dynamo_operator_reconciles_total{controller=\"graph\"} 1")
    );
}

// --- readiness ---

#[test]
fn readiness_follows_the_required_checks() {
    let health = Health::new();
    assert!(health.is_ready(), "no checks: ready");
    health.require("caches");
    health.require("webhook");
    assert!(!health.is_ready());
    assert_eq!(health.not_ready(), ["caches", "webhook"]);
    health.set("caches", true);
    assert_eq!(health.not_ready(), ["webhook"]);
    health.set("webhook", true);
    assert!(health.is_ready());
    // Requiring again does not undo a `set`; setting false does.
    health.require("caches");
    assert!(health.is_ready());
    health.set("caches", false);
    assert_eq!(health.not_ready(), ["caches"]);
    assert_eq!(health.checks(), [("caches", false), ("webhook", true)]);
}

#[tokio::test]
async fn the_routes_serve_metrics_and_health() {
    let telemetry = Telemetry::default();
    telemetry.health().require("caches");
    let router = crate::metrics_router(&telemetry).merge(crate::health_router(telemetry.health()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = listener.local_addr().expect("bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::serve(listener, router, async {
        let _ = stopped.await;
    }));

    let (status, head, body) = get(address, "/healthz").await;
    assert_eq!(status, 200, "{head}{body}");
    let (status, _, body) = get(address, "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("caches"), "{body}");
    telemetry.health().set("caches", true);
    let (status, _, _) = get(address, "/readyz").await;
    assert_eq!(status, 200);

    let (status, head, body) = get(address, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-type: {CONTENT_TYPE}")),
        "{head}"
    );
    assert!(
        body.contains("# TYPE dynamo_operator_leader gauge"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"));

    let _ = stop.send(());
    server
        .await
        .expect("the server task")
        .expect("the server stops cleanly");
}

/// A `GET` over HTTP/1.1: status, head, body.
async fn get(address: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, format!("{head}\r\n"), body.to_owned())
}

// --- verbs ---

#[test]
fn verbs_follow_the_api_servers_request_parsing() {
    let cases = [
        ("GET", "/api/v1/pods", Verb::List),
        ("GET", "/api/v1/namespaces/ns/pods", Verb::List),
        ("GET", "/api/v1/namespaces/ns/pods/p", Verb::Get),
        ("GET", "/api/v1/namespaces/ns/pods/p/log", Verb::Get),
        ("GET", "/api/v1/namespaces", Verb::List),
        ("GET", "/api/v1/namespaces/ns", Verb::Get),
        ("GET", "/api/v1/namespaces/ns/status", Verb::Get),
        ("GET", "/api/v1/nodes/node-1", Verb::Get),
        (
            "GET",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            Verb::List,
        ),
        (
            "GET",
            "/apis/nvidia.com/v1alpha1/namespaces/ns/dynamographdeployments?watch=true&resourceVersion=10&timeoutSeconds=290",
            Verb::Watch,
        ),
        ("GET", "/apis/apps/v1/deployments?watch=1", Verb::Watch),
        ("GET", "/apis/apps/v1/deployments?watch=false", Verb::List),
        (
            "GET",
            "/apis/apps/v1/deployments?labelSelector=watch%3Dtrue",
            Verb::List,
        ),
        ("GET", "/api/v1/watch/namespaces/ns/pods", Verb::Watch),
        (
            "GET",
            "/apis/apps/v1/namespaces/ns/deployments/d?resourceVersion=0",
            Verb::Get,
        ),
        ("GET", "/version", Verb::Get),
        ("GET", "/api", Verb::Get),
        ("GET", "/apis", Verb::Get),
        ("GET", "/apis/apps/v1", Verb::Get),
        ("POST", "/api/v1/namespaces/ns/events", Verb::Create),
        (
            "POST",
            "/api/v1/namespaces/ns/pods/p/eviction",
            Verb::Create,
        ),
        ("PUT", "/api/v1/namespaces/ns/configmaps/c", Verb::Update),
        (
            "PATCH",
            "/apis/nvidia.com/v1alpha1/namespaces/ns/dynamographdeployments/g/status?fieldManager=dynamo-operator&force=true",
            Verb::Patch,
        ),
        (
            "DELETE",
            "/apis/apps/v1/namespaces/ns/deployments/d",
            Verb::Delete,
        ),
        (
            "DELETE",
            "/apis/apps/v1/namespaces/ns/deployments?labelSelector=a%3Db",
            Verb::DeleteCollection,
        ),
        ("DELETE", "/api/v1/namespaces/ns", Verb::Delete),
        ("OPTIONS", "/api/v1/pods", Verb::Other),
    ];
    for (method, uri, expected) in cases {
        let method: Method = method.parse().expect("a method");
        let uri: Uri = uri.parse().expect("a URI");
        assert_eq!(verb(&method, &uri), expected, "{method} {uri}");
    }
    let names: Vec<&str> = [
        Verb::Get,
        Verb::List,
        Verb::Watch,
        Verb::Create,
        Verb::Update,
        Verb::Patch,
        Verb::Delete,
        Verb::DeleteCollection,
    ]
    .iter()
    .map(|v| v.as_str())
    .collect();
    assert_eq!(
        names,
        [
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection"
        ]
    );
}

/// A service answering with a fixed status, or failing.
#[derive(Clone)]
struct Answer(Option<u16>);

impl Service<Request<()>> for Answer {
    type Response = Response<()>;
    type Error = &'static str;
    type Future = Pin<Box<dyn Future<Output = Result<Response<()>, &'static str>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        let answer = self.0;
        Box::pin(async move {
            let status = answer.ok_or("connection refused")?;
            let mut response = Response::new(());
            *response.status_mut() =
                http::StatusCode::from_u16(status).map_err(|_| "bad status")?;
            Ok(response)
        })
    }
}

#[tokio::test]
async fn the_client_layer_counts_requests_by_verb_and_code() {
    let telemetry = Telemetry::default();
    let layer = ApiRequestsLayer::new(&telemetry);
    let request = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .expect("a request")
    };
    let mut ok = layer.layer(Answer(Some(200)));
    let mut missing = layer.layer(Answer(Some(404)));
    let mut broken = layer.layer(Answer(None));
    for _ in 0..2 {
        let _ = ok.call(request("GET", "/api/v1/namespaces/ns/pods")).await;
    }
    let _ = missing
        .call(request("GET", "/api/v1/namespaces/ns/pods/p"))
        .await;
    let failed = broken
        .call(request("PATCH", "/api/v1/namespaces/ns/pods/p"))
        .await;
    assert_eq!(failed.err(), Some("connection refused"));
    let text = telemetry.encode();
    for expected in [
        "dynamo_operator_api_requests_total{verb=\"list\",code=\"200\"} 2\n",
        "dynamo_operator_api_requests_total{verb=\"get\",code=\"404\"} 1\n",
        "dynamo_operator_api_requests_total{verb=\"patch\",code=\"error\"} 1\n",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
}

#[tokio::test]
async fn client_builds_from_a_config() {
    let telemetry = Telemetry::default();
    let config = kube::Config::new("http://127.0.0.1:9".parse().expect("a URL"));
    let client = crate::client(config, &telemetry).expect("a client");
    // Nothing listens there: the request fails and is counted as an error.
    let _ = client.apiserver_version().await;
    assert!(
        telemetry
            .encode()
            .contains("dynamo_operator_api_requests_total{verb=\"get\",code=\"error\"} 1\n")
    );
}
