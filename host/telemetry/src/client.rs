//! API request counting: a tower layer on the Kubernetes client, and how a request's verb is
//! told from its method and path.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Method, Request, Response, Uri};
use tower::{Layer, Service};

use crate::telemetry::Telemetry;

/// A Kubernetes client for `config` whose requests are counted in
/// `dynamo_operator_api_requests_total{verb,code}`.
pub fn client(config: kube::Config, telemetry: &Telemetry) -> Result<kube::Client, kube::Error> {
    let builder = kube::client::ClientBuilder::try_from(config)?;
    Ok(builder
        .with_layer(&ApiRequestsLayer::new(telemetry))
        .build())
}

/// The Kubernetes API verb of a request, as the API server's audit log and metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `GET` of one object (or of a non-resource path such as `/version` or discovery).
    Get,
    /// `GET` of a collection.
    List,
    /// `GET` with `watch=true` (or under the legacy `/watch/` prefix).
    Watch,
    /// `POST`.
    Create,
    /// `PUT`.
    Update,
    /// `PATCH`.
    Patch,
    /// `DELETE` of one object.
    Delete,
    /// `DELETE` of a collection.
    DeleteCollection,
    /// Any other method (the client never sends one).
    Other,
}

impl Verb {
    /// The verb as a label value: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
            Verb::Other => "other",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verb of a request to the Kubernetes API with `method` and `uri`.
///
/// Follows the API server's own request parsing: `/api/v1/...` and `/apis/<group>/<version>/...`
/// are resource paths (with an optional `namespaces/<ns>/` and a legacy `watch/` prefix); a
/// path naming one object (`<resource>/<name>[/<subresource>]`) is a get or delete, a collection
/// a list, watch or deletecollection. Everything else (`/version`, discovery) is a get.
pub fn verb(method: &Method, uri: &Uri) -> Verb {
    let path = resource_path(uri.path());
    let watch = path.is_some_and(|p| p.legacy_watch) || watch_query(uri.query());
    let named = path.is_none_or(|p| p.named);
    match *method {
        Method::GET | Method::HEAD if watch => Verb::Watch,
        Method::GET | Method::HEAD if named => Verb::Get,
        Method::GET | Method::HEAD => Verb::List,
        Method::POST => Verb::Create,
        Method::PUT => Verb::Update,
        Method::PATCH => Verb::Patch,
        Method::DELETE if named => Verb::Delete,
        Method::DELETE => Verb::DeleteCollection,
        _ => Verb::Other,
    }
}

/// What the path of a resource request says.
#[derive(Debug, Clone, Copy)]
struct ResourcePath {
    /// It names one object (possibly a subresource of it).
    named: bool,
    /// It starts with the legacy `watch/` segment.
    legacy_watch: bool,
}

/// Namespace subresources: `namespaces/<ns>/status` is the namespace's, not a resource named
/// `status` in it.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// The resource part of `path`, `None` for a non-resource path.
fn resource_path(path: &str) -> Option<ResourcePath> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segments.first().copied() {
        // /api/<version>/...
        Some("api") => segments.get(2..)?,
        // /apis/<group>/<version>/...
        Some("apis") => segments.get(3..)?,
        _ => return None,
    };
    let (rest, legacy_watch) = match rest.split_first() {
        None => return None,
        Some((&"watch", after)) => (after, true),
        Some(_) => (rest, false),
    };
    let rest = match rest {
        ["namespaces", _, after @ ..]
            if after
                .first()
                .is_some_and(|r| !NAMESPACE_SUBRESOURCES.contains(r)) =>
        {
            after
        }
        _ => rest,
    };
    Some(ResourcePath {
        named: rest.len() >= 2,
        legacy_watch,
    })
}

/// True when the query has `watch` set to a true value (as Go's `strconv.ParseBool` reads it).
fn watch_query(query: Option<&str>) -> bool {
    query.is_some_and(|query| {
        query.split('&').any(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            key == "watch" && matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
        })
    })
}

/// A tower layer counting requests in `dynamo_operator_api_requests_total`.
#[derive(Debug, Clone)]
pub struct ApiRequestsLayer {
    telemetry: Telemetry,
}

impl ApiRequestsLayer {
    /// Counts into `telemetry`.
    pub fn new(telemetry: &Telemetry) -> Self {
        Self {
            telemetry: telemetry.clone(),
        }
    }
}

impl<S> Layer<S> for ApiRequestsLayer {
    type Service = ApiRequestsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiRequestsService {
            inner,
            telemetry: self.telemetry.clone(),
        }
    }
}

/// The service of [`ApiRequestsLayer`]: counts each request when its response (or error)
/// arrives.
#[derive(Debug, Clone)]
pub struct ApiRequestsService<S> {
    inner: S,
    telemetry: Telemetry,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ApiRequestsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let verb = verb(request.method(), request.uri());
        let telemetry = self.telemetry.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            let status = response.as_ref().ok().map(|r| r.status().as_u16());
            telemetry.api_request(verb, status);
            response
        })
    }
}
