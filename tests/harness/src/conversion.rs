//! The CRD conversion webhook of the control plane: the operator's own conversion code, served
//! over HTTPS on loopback so the API server can store `nvidia.com` objects as `v1beta1` and serve
//! them at `v1alpha1` too.
//!
//! The workspace's CRDs name the operator's in-cluster webhook Service in their conversion
//! stanza; a test control plane has no Service network, so [`Server::rewrite`] points each CRD
//! with webhook conversion at this server (`url` plus the harness CA as `caBundle`) before it is
//! installed. The server runs on a thread of its own with its own runtime, because the API server
//! calls it whichever test's runtime is alive (shared control planes outlive every test).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use k8s_openapi::ByteString;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, WebhookClientConfig,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::oneshot;

use crate::certs::Pki;
use crate::error::{Component, HarnessError, Result};
use crate::workdir::WorkDir;

/// Path the conversion endpoint is served at (the operator's, too).
pub const CONVERT_PATH: &str = "/convert";

/// Largest ConversionReview accepted (a review may carry many objects of a list call).
const MAX_REVIEW_BYTES: usize = 32 << 20;

/// The conversion webhook server of one control plane; stops when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    url: String,
    ca_bundle: String,
    stop: Option<oneshot::Sender<()>>,
}

// === impl Server ===

impl Server {
    /// Starts the server on a free loopback port with a certificate from `pki`.
    pub(crate) fn start(pki: &Pki, workdir: &WorkDir) -> Result<Self> {
        let dir =
            pki.issue_serving_cert(workdir, "conversion", "conversion-webhook", &["127.0.0.1"])?;
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read(&path).map_err(|e| HarnessError::io(Component::Crds, "reading", &path, e))
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read("tls.crt")?)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| invalid(format!("serving certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&read("tls.key")?)
            .map_err(|e| invalid(format!("serving key: {e}")))?;
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(format!("TLS configuration: {e}")))?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| invalid(format!("binding a loopback port: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| invalid(format!("listener: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| invalid(format!("listener address: {e}")))?;
        let (stop, stopped) = oneshot::channel();
        std::thread::Builder::new()
            .name("conversion-webhook".to_owned())
            .spawn(move || serve(listener, acceptor, stopped))
            .map_err(|e| invalid(format!("starting its thread: {e}")))?;
        Ok(Self {
            url: format!("https://{address}{CONVERT_PATH}"),
            ca_bundle: pki.ca_pem(),
            stop: Some(stop),
        })
    }

    /// Points `crd`'s webhook conversion, if it has one, at this server.
    pub(crate) fn rewrite(&self, crd: &mut CustomResourceDefinition) {
        let Some(webhook) = crd
            .spec
            .conversion
            .as_mut()
            .filter(|c| c.strategy == "Webhook")
            .and_then(|c| c.webhook.as_mut())
        else {
            return;
        };
        webhook.client_config = Some(WebhookClientConfig {
            url: Some(self.url.clone()),
            ca_bundle: Some(ByteString(self.ca_bundle.clone().into_bytes())),
            service: None,
        });
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn invalid(reason: String) -> HarnessError {
    HarnessError::invalid(Component::Crds, format!("conversion webhook: {reason}"))
}

/// Accepts connections until `stopped` fires (or its sender is gone).
fn serve(
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    stopped: oneshot::Receiver<()>,
) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("dynamo-test-harness: the conversion webhook could not build its runtime");
        return;
    };
    runtime.block_on(async move {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            eprintln!("dynamo-test-harness: the conversion webhook could not listen");
            return;
        };
        let app = Router::new()
            .route(CONVERT_PATH, post(convert))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_REVIEW_BYTES));
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = TowerToHyperService::new(app);
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        };
        tokio::select! {
            () = accept => {}
            _ = stopped => {}
        }
    });
}

/// One ConversionReview, answered by the operator's conversion code.
async fn convert(body: Bytes) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(review) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            dynamo_conversion::review(&review).to_string(),
        )
            .into_response(),
        Err(e) => (
            axum::http::StatusCode::BAD_REQUEST,
            format!("not a ConversionReview: {e}"),
        )
            .into_response(),
    }
}
