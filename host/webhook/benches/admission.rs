//! Admission latency: p50/p99 of validating a 4-service graph (anchor `vllm-disagg_planner`,
//! host rules plus the vLLM plugin's `validate`), with 1, 2 and 8 requests in flight at a time.
//!
//! Two paths: `in-process` calls `Admission::review` directly; `https` goes through the real
//! server (rustls, HTTP/1.1 keep-alive, one connection per request in flight), as the API server
//! calls it. One request in flight is the cost of a review; more show the queueing on the
//! operator's two worker threads.
//! Run: `cargo bench -p dynamo-webhook --bench admission`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dynamo_plugin_runtime::{PluginRegistry, PluginRuntime, RuntimeConfig};
use dynamo_render::{OperatorConfiguration, RenderConfig};
use dynamo_webhook::{Admission, CertStore, Webhook, certs};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Requests in flight, one run each.
const CONCURRENCY: [usize; 3] = [1, 2, 8];
/// Requests per run.
const REQUESTS: usize = 4000;

fn review_body() -> Vec<u8> {
    let text = dynamo_fixtures::anchor_example("vllm-disagg_planner").text;
    // The example also holds other documents (RBAC for the planner); take the graph.
    let mut graph: serde_json::Value = serde_yaml_ng::Deserializer::from_str(&text)
        .filter_map(|d| serde::Deserialize::deserialize(d).ok())
        .find(|v: &serde_json::Value| v["kind"] == "DynamoGraphDeployment")
        .expect("the anchor holds a graph");
    graph["metadata"]["namespace"] = "bench".into();
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "5f0d3b0e-0000-4000-8000-000000000000",
            "kind": {"group": "nvidia.com", "version": "v1alpha1", "kind": "DynamoGraphDeployment"},
            "resource": {"group": "nvidia.com", "version": "v1alpha1", "resource": "dynamographdeployments"},
            "name": graph["metadata"]["name"],
            "namespace": "bench",
            "operation": "CREATE",
            "userInfo": {"username": "bench"},
            "object": graph,
            "dryRun": false,
        }
    }))
    .expect("review serializes")
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99), at(0.999))
}

fn print(label: &str, concurrency: usize, samples: Vec<Duration>, wall: Duration) {
    let n = samples.len();
    let (p50, p99, p999) = percentiles(samples);
    println!(
        "{label:<12} {n} requests, {concurrency} in flight: p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, {:.0} req/s",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        p999.as_secs_f64() * 1e3,
        n as f64 / wall.as_secs_f64()
    );
}

async fn in_process(admission: Admission, body: Arc<Vec<u8>>, concurrency: usize) {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let admission = admission.clone();
        let body = Arc::clone(&body);
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for _ in 0..REQUESTS / concurrency {
                let t = Instant::now();
                let review = admission.review(Webhook::ValidateGraph, &body).await;
                samples.push(t.elapsed());
                assert!(
                    review.response.is_some_and(|r| r.allowed),
                    "the anchor is valid"
                );
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("bench task"));
    }
    print("in-process", concurrency, all, start.elapsed());
}

/// A running webhook server on loopback and a client configuration that trusts it.
struct Server {
    port: u16,
    connector: tokio_rustls::TlsConnector,
}

async fn serve(admission: Admission) -> Server {
    let names = vec!["localhost".to_owned()];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let material =
        certs::Material::generate(&names, certs::Lifetimes::default(), now).expect("certificate");
    let store = Arc::new(CertStore::new(&material.cert, &material.key).expect("store"));
    let acceptor = store.acceptor(false).expect("acceptor");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(dynamo_webhook::server::serve(
        listener,
        dynamo_webhook::server::router(admission),
        acceptor,
        false,
        std::future::pending(),
    ));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(material.ca_cert.as_bytes()) {
        roots.add(cert.expect("CA")).expect("root");
    }
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    Server {
        port,
        connector: tokio_rustls::TlsConnector::from(config),
    }
}

async fn over_https(server: &Server, body: Arc<Vec<u8>>, concurrency: usize) {
    let port = server.port;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let connector = server.connector.clone();
        let body = Arc::clone(&body);
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
            tcp.set_nodelay(true).expect("nodelay");
            let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
            let mut tls = connector.connect(name, tcp).await.expect("handshake");
            let head = format!(
                "POST /validate-nvidia-com-v1alpha1-dynamographdeployment HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let mut samples = Vec::new();
            let mut buffer = vec![0u8; 1 << 16];
            for _ in 0..REQUESTS / concurrency {
                let t = Instant::now();
                tls.write_all(head.as_bytes()).await.expect("write");
                tls.write_all(&body).await.expect("write");
                // Read one response: headers, then Content-Length bytes.
                let mut got = Vec::new();
                let (header_end, length) = loop {
                    let n = tls.read(&mut buffer).await.expect("read");
                    assert!(n > 0, "connection closed");
                    got.extend_from_slice(&buffer[..n]);
                    if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                        let headers = String::from_utf8_lossy(&got[..end]).to_lowercase();
                        let length: usize = headers
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .expect("content-length");
                        break (end + 4, length);
                    }
                };
                while got.len() < header_end + length {
                    let n = tls.read(&mut buffer).await.expect("read");
                    got.extend_from_slice(&buffer[..n]);
                }
                samples.push(t.elapsed());
                assert!(
                    String::from_utf8_lossy(&got[header_end..]).contains("\"allowed\":true"),
                    "the anchor is valid"
                );
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("bench task"));
    }
    print("https", concurrency, all, start.elapsed());
}

fn main() {
    let runtime = PluginRuntime::new(RuntimeConfig::new().cache_dir(Some(
        std::env::temp_dir().join("dynamo-webhook-bench-cache"),
    )))
    .expect("plugin runtime");
    let registry = PluginRegistry::load(&runtime, None).expect("built-in plugins");
    let config = RenderConfig::new(OperatorConfiguration::default());
    let (_tx, rx) = tokio::sync::watch::channel(config);
    let admission = Admission::new(rx, registry);
    let body = Arc::new(review_body());
    // Two workers, like the operator's runtime.
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    tokio.block_on(async {
        // Warm-up: instantiate the plugins once.
        for _ in 0..50 {
            let _ = admission.review(Webhook::ValidateGraph, &body).await;
        }
        for concurrency in CONCURRENCY {
            in_process(admission.clone(), Arc::clone(&body), concurrency).await;
        }
        let server = serve(admission).await;
        for concurrency in CONCURRENCY {
            over_https(&server, Arc::clone(&body), concurrency).await;
        }
    });
}
