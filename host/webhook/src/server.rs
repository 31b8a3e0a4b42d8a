//! The HTTPS server: the webhook routes over rustls, with a certificate that is swapped in place
//! when it is renewed, so rotation never drops a request.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admission::{Admission, Webhook};

/// Largest review accepted: the API server sends the old and the new object, and a graph's CRD
/// allows large objects (etcd's limit is 1.5 MiB each).
const MAX_REVIEW_BYTES: usize = 4 << 20;

/// Largest ConversionReview accepted: a list at a version other than the storage version sends
/// every object of the page in one review.
const MAX_CONVERSION_BYTES: usize = 64 << 20;

/// Path of the CRD conversion webhook (`ConversionReview` v1), as in Dynamo's operator.
pub const CONVERT_PATH: &str = "/convert";

/// Errors of the TLS setup.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate or key PEM is unusable.
    #[error("the serving {what} is unusable: {message}")]
    Pem {
        /// `certificate` or `key`.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The serving certificate, replaceable while connections are accepted.
#[derive(Debug)]
pub struct CertStore {
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

// === impl CertStore ===

impl CertStore {
    /// A store serving `cert_pem` (chain) with `key_pem`.
    pub fn new(cert_pem: &str, key_pem: &str) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = certified_key(&provider, cert_pem, key_pem)?;
        Ok(Self {
            provider,
            current: RwLock::new(Arc::new(key)),
        })
    }

    /// Serves `cert_pem` with `key_pem` from the next handshake on.
    pub fn replace(&self, cert_pem: &str, key_pem: &str) -> Result<(), TlsError> {
        let key = Arc::new(certified_key(&self.provider, cert_pem, key_pem)?);
        match self.current.write() {
            Ok(mut current) => *current = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
        Ok(())
    }

    fn current(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// A rustls acceptor resolving to this store; HTTP/2 is offered only when `http2`.
    pub fn acceptor(self: &Arc<Self>, http2: bool) -> Result<TlsAcceptor, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn certified_key(
    provider: &CryptoProvider,
    cert_pem: &str,
    key_pem: &str,
) -> Result<CertifiedKey, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem {
            what: "certificate",
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Pem {
            what: "certificate",
            message: "no certificate in the PEM".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| TlsError::Pem {
        what: "key",
        message: e.to_string(),
    })?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(TlsError::Config)?;
    Ok(CertifiedKey::new(chain, signing))
}

// === routes ===

/// The webhook routes: one POST path per admission webhook, all answered by `admission`, and
/// [`CONVERT_PATH`], answered by [`dynamo_conversion::review`].
pub fn router(admission: Admission) -> Router {
    let mut router = Router::new().route(
        CONVERT_PATH,
        post(convert).layer(DefaultBodyLimit::max(MAX_CONVERSION_BYTES)),
    );
    for (webhook, path) in Webhook::ALL {
        router = router.route(
            path,
            post(
                move |State(admission): State<Admission>, body: Bytes| async move {
                    axum::Json(admission.review(webhook, &body).await)
                },
            ),
        );
    }
    router
        .layer(DefaultBodyLimit::max(MAX_REVIEW_BYTES))
        .with_state(admission)
}

/// Answers one ConversionReview. Converting is pure CPU work on the request's objects, so it
/// runs on a blocking thread and never holds up the async workers.
async fn convert(body: Bytes) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let answered = tokio::task::spawn_blocking(move || {
        serde_json::from_slice::<serde_json::Value>(&body)
            .map(|review| dynamo_conversion::review(&review))
    })
    .await;
    match answered {
        Ok(Ok(response)) => axum::Json(response).into_response(),
        Ok(Err(error)) => (
            axum::http::StatusCode::BAD_REQUEST,
            format!("the body is not a ConversionReview: {error}"),
        )
            .into_response(),
        Err(error) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("conversion failed: {error}"),
        )
            .into_response(),
    }
}

/// Serves `router` over TLS on `listener` until `shutdown` resolves. A failed handshake or
/// connection is logged and dropped; it never stops the server.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    acceptor: TlsAcceptor,
    http2: bool,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "webhook server: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            connection(stream, peer, acceptor, router, http2).await;
        });
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    router: Router,
    http2: bool,
) {
    let _ = stream.set_nodelay(true);
    let tls = match acceptor.accept(stream).await {
        Ok(tls) => tls,
        Err(error) => {
            tracing::debug!(%peer, %error, "webhook server: TLS handshake failed");
            return;
        }
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if !http2 {
        builder = builder.http1_only();
    }
    let service = TowerToHyperService::new(router);
    if let Err(error) = builder.serve_connection(TokioIo::new(tls), service).await {
        tracing::debug!(%peer, %error, "webhook server: connection ended with an error");
    }
}
