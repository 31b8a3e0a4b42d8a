//! Admission reviews: decode what the API server sends, judge it, and answer.
//!
//! One [`Admission`] serves every path. Objects are judged as `v1beta1`, on Dynamo 1.5's paths
//! and rules: the API server converts a `v1alpha1` write before calling a webhook registered
//! for `v1beta1` (`matchPolicy: Equivalent`), and a `v1alpha1` object reaching one of the
//! `v1alpha1`-era paths (a webhook configuration from before the upgrade) is converted here and
//! judged by the same rules, its defaults patched in its own version. Graph validation runs the
//! same [`dynamo_render::check`] as the `render` CLI (host rules, then each backend plugin's
//! `validate`) on a blocking thread, because plugin calls are synchronous WebAssembly.

use std::sync::Arc;
use std::time::Instant;

use dynamo_api::DynamoModel;
use dynamo_plugin_contract::{Diagnostic, Severity};
use dynamo_plugin_runtime::PluginRegistry;
use dynamo_render::{RenderConfig, RenderError};
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use crate::rules;

/// Path of the graph defaulting webhook (Dynamo 1.5's).
pub const MUTATE_GRAPH: &str = "/mutate/nvidia.com/v1beta1/dynamographdeployments";
/// Path of the graph validating webhook (Dynamo 1.5's).
pub const VALIDATE_GRAPH: &str = "/validate/nvidia.com/v1beta1/dynamographdeployments";
/// Path of the component defaulting webhook (Dynamo 1.5's).
pub const MUTATE_COMPONENT: &str = "/mutate-nvidia-com-v1beta1-dynamocomponentdeployment";
/// Path of the component validating webhook (Dynamo 1.5's).
pub const VALIDATE_COMPONENT: &str = "/validate/nvidia.com/v1beta1/dynamocomponentdeployments";
/// Path of the model validating webhook.
pub const VALIDATE_MODEL: &str = "/validate-nvidia-com-v1alpha1-dynamomodel";

/// Paths of the `v1alpha1` era, still answered so a webhook configuration written before the
/// upgrade keeps working until it is replaced.
pub mod legacy_paths {
    /// The graph defaulting webhook.
    pub const MUTATE_GRAPH: &str = "/mutate-nvidia-com-v1alpha1-dynamographdeployment";
    /// The graph validating webhook.
    pub const VALIDATE_GRAPH: &str = "/validate-nvidia-com-v1alpha1-dynamographdeployment";
    /// The component validating webhook.
    pub const VALIDATE_COMPONENT: &str = "/validate-nvidia-com-v1alpha1-dynamocomponentdeployment";
}

/// Which webhook a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// Defaults of a DynamoGraphDeployment.
    MutateGraph,
    /// Rules of a DynamoGraphDeployment.
    ValidateGraph,
    /// Defaults of a DynamoComponentDeployment.
    MutateComponent,
    /// Rules of a DynamoComponentDeployment.
    ValidateComponent,
    /// Rules of a DynamoModel.
    ValidateModel,
}

impl Webhook {
    /// Every webhook with each path it is served at.
    pub const ALL: [(Webhook, &'static str); 8] = [
        (Webhook::MutateGraph, MUTATE_GRAPH),
        (Webhook::ValidateGraph, VALIDATE_GRAPH),
        (Webhook::MutateComponent, MUTATE_COMPONENT),
        (Webhook::ValidateComponent, VALIDATE_COMPONENT),
        (Webhook::ValidateModel, VALIDATE_MODEL),
        (Webhook::MutateGraph, legacy_paths::MUTATE_GRAPH),
        (Webhook::ValidateGraph, legacy_paths::VALIDATE_GRAPH),
        (Webhook::ValidateComponent, legacy_paths::VALIDATE_COMPONENT),
    ];

    /// The name used in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Webhook::MutateGraph => "mutate-dynamographdeployment",
            Webhook::ValidateGraph => "validate-dynamographdeployment",
            Webhook::MutateComponent => "mutate-dynamocomponentdeployment",
            Webhook::ValidateComponent => "validate-dynamocomponentdeployment",
            Webhook::ValidateModel => "validate-dynamomodel",
        }
    }
}

/// Decides which namespaces this operator leaves to another one (a namespace-restricted operator
/// that claimed it); requests there are allowed unjudged, as that operator's webhook judges them.
pub type ClaimedElsewhere = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Everything a review needs; cheap to clone.
#[derive(Clone)]
pub struct Admission {
    config: watch::Receiver<RenderConfig>,
    plugins: PluginRegistry,
    operator_user: Option<String>,
    operator_version: Option<String>,
    telemetry: dynamo_telemetry::Telemetry,
    claimed_elsewhere: Option<ClaimedElsewhere>,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("operator_user", &self.operator_user)
            .field("operator_version", &self.operator_version)
            .finish_non_exhaustive()
    }
}

// === impl Admission ===

impl Admission {
    /// Reviews with the render configuration `config` (kept current by the caller, e.g. as the
    /// cluster's optional APIs come and go) and the loaded `plugins`.
    pub fn new(config: watch::Receiver<RenderConfig>, plugins: PluginRegistry) -> Self {
        Self {
            config,
            plugins,
            operator_user: None,
            operator_version: None,
            telemetry: dynamo_telemetry::Telemetry::default(),
            claimed_elsewhere: None,
        }
    }

    /// The operator's own user (`system:serviceaccount:<ns>:<name>`), which may change the
    /// replicas a scaling adapter owns. Default: none (only planner accounts may).
    pub fn operator_user(mut self, user: Option<String>) -> Self {
        self.operator_user = user;
        self
    }

    /// The version stamped as a new graph's origin. Default: none (nothing stamped).
    pub fn operator_version(mut self, version: Option<String>) -> Self {
        self.operator_version = version;
        self
    }

    /// Where request counts, durations and denials are recorded. Default: a private registry.
    pub fn telemetry(mut self, telemetry: dynamo_telemetry::Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Namespaces left to another operator. Default: none.
    pub fn claimed_elsewhere(mut self, claimed: Option<ClaimedElsewhere>) -> Self {
        self.claimed_elsewhere = claimed;
        self
    }

    /// Answers one AdmissionReview body; a body that is not a review gets an `invalid` answer.
    pub async fn review(&self, webhook: Webhook, body: &[u8]) -> AdmissionReview<DynamicObject> {
        let started = Instant::now();
        let review: AdmissionReview<DynamicObject> = match serde_json::from_slice(body) {
            Ok(review) => review,
            Err(e) => {
                return AdmissionResponse::invalid(format!("not an AdmissionReview: {e}"))
                    .into_review();
            }
        };
        let request: AdmissionRequest<DynamicObject> = match review.try_into() {
            Ok(request) => request,
            Err(e) => {
                return AdmissionResponse::invalid(format!("not an AdmissionReview: {e}"))
                    .into_review();
            }
        };
        let operation = operation_name(&request.operation);
        let response = self.judge(webhook, &request).await;
        self.telemetry.webhook_request(
            webhook.name(),
            operation,
            response.allowed,
            started.elapsed(),
        );
        if !response.allowed {
            tracing::info!(
                webhook = webhook.name(),
                namespace = request.namespace.as_deref().unwrap_or_default(),
                name = %request.name,
                operation,
                user = request.user_info.username.as_deref().unwrap_or_default(),
                reason = %response.result.message,
                "admission denied"
            );
        }
        response.into_review()
    }

    async fn judge(
        &self,
        webhook: Webhook,
        request: &AdmissionRequest<DynamicObject>,
    ) -> AdmissionResponse {
        let response = AdmissionResponse::from(request);
        if !matches!(request.operation, Operation::Create | Operation::Update) {
            return response;
        }
        if let (Some(claimed), Some(namespace)) = (&self.claimed_elsewhere, &request.namespace)
            && claimed(namespace)
        {
            return response;
        }
        let create = request.operation == Operation::Create;
        let found = match webhook {
            Webhook::MutateGraph => return self.default_graph(request, create, response),
            Webhook::MutateComponent => return default_component(request, create, response),
            Webhook::ValidateGraph => self.validate_graph(request).await,
            Webhook::ValidateComponent => decode_pair(request, dynamo_render::input::component)
                .map(|(new, old)| {
                    let mut out = rules::component(&new);
                    if let Some(old) = old {
                        out.extend(rules::component_update(&old, &new));
                    }
                    out
                }),
            Webhook::ValidateModel => {
                decode_pair(request, typed::<DynamoModel>).map(|(new, old)| {
                    let mut out = rules::model(&new);
                    if let Some(old) = old {
                        out.extend(rules::model_update(&old, &new));
                    }
                    out
                })
            }
        };
        match found {
            Ok(diagnostics) => answer(response, &diagnostics),
            Err(message) => response.deny(message),
        }
    }

    fn default_graph(
        &self,
        request: &AdmissionRequest<DynamicObject>,
        create: bool,
        response: AdmissionResponse,
    ) -> AdmissionResponse {
        let Some(original) = object_value(request.object.as_ref()) else {
            return response;
        };
        let graph = match dynamo_render::input::graph(original.clone()) {
            Ok(graph) => graph,
            // The validating webhook names the field; defaulting leaves the object alone.
            Err(_) => return response,
        };
        let config = self.config.borrow().clone();
        let patch =
            rules::graph_defaults(&graph, create, self.operator_version.as_deref(), &config);
        patched(response, &original, &graph, patch)
    }

    async fn validate_graph(
        &self,
        request: &AdmissionRequest<DynamicObject>,
    ) -> Result<Vec<Diagnostic>, String> {
        let (new, old) = decode_pair(request, dynamo_render::input::graph)?;
        let config = self.config.borrow().clone();
        let plugins = self.plugins.clone();
        let graph = new.clone();
        // Plugin validation is synchronous WebAssembly with its own deadline: keep it off the
        // async workers.
        let mut diagnostics =
            tokio::task::spawn_blocking(move || dynamo_render::check(&graph, &config, &plugins))
                .await
                .map_err(|e| format!("validation did not finish: {e}"))?;
        for diagnostic in &mut diagnostics {
            wait_for_orchestrator(diagnostic);
        }
        if let Some(old) = old {
            let username = request.user_info.username.as_deref().unwrap_or_default();
            let may_scale = rules::may_scale(username, self.operator_user.as_deref());
            let is_operator = self.operator_user.as_deref() == Some(username);
            diagnostics.extend(rules::graph_update(&old, &new, may_scale, is_operator));
        }
        Ok(diagnostics)
    }
}

/// A multi-node service with no multi-node orchestrator installed is not refused: the graph
/// controller keeps it pending with that reason until LeaderWorkerSet or Grove appears.
fn wait_for_orchestrator(diagnostic: &mut Diagnostic) {
    if diagnostic.severity == Severity::Error
        && diagnostic.field_path.ends_with(".multinode")
        && diagnostic
            .message
            .starts_with("no multinode orchestrator available")
    {
        diagnostic.severity = Severity::Warning;
        diagnostic.message = "no multi-node orchestrator is installed yet: the graph waits \
                              (Ready=False) until LeaderWorkerSet or Grove is installed"
            .into();
    }
}

/// Allowed with warnings, or denied with every error, each naming its field.
fn answer(mut response: AdmissionResponse, diagnostics: &[Diagnostic]) -> AdmissionResponse {
    let warnings: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(field_message)
        .collect();
    if !warnings.is_empty() {
        response.warnings = Some(warnings);
    }
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(field_message)
        .collect();
    if errors.is_empty() {
        response
    } else {
        response.deny(errors.join("; "))
    }
}

fn field_message(diagnostic: &Diagnostic) -> String {
    if diagnostic.field_path.is_empty() {
        diagnostic.message.clone()
    } else {
        format!("{}: {}", diagnostic.field_path, diagnostic.message)
    }
}

/// The defaulting of a DynamoComponentDeployment (`spec.name` on CREATE).
fn default_component(
    request: &AdmissionRequest<DynamicObject>,
    create: bool,
    response: AdmissionResponse,
) -> AdmissionResponse {
    let Some(original) = object_value(request.object.as_ref()) else {
        return response;
    };
    let Ok(component) = dynamo_render::input::component(original.clone()) else {
        return response;
    };
    let patch = rules::component_defaults(&component, create);
    patched(response, &original, &component, patch)
}

/// `response` with `patch` (computed on `hub`, the `v1beta1` form of `original`) applied to the
/// object as the API server sent it: as is for a `v1beta1` object; for a `v1alpha1` one, as the
/// difference its defaults make once converted back to `v1alpha1`.
fn patched<T: serde::Serialize>(
    response: AdmissionResponse,
    original: &Value,
    hub: &T,
    patch: Vec<json_patch::PatchOperation>,
) -> AdmissionResponse {
    if patch.is_empty() {
        return response;
    }
    let version = original.get("apiVersion").and_then(Value::as_str);
    let patch = if version == Some(dynamo_api::v1beta1::API_VERSION) {
        json_patch::Patch(patch)
    } else {
        match alpha_patch(hub, json_patch::Patch(patch)) {
            Ok(patch) => patch,
            Err(message) => return response.deny(message),
        }
    };
    match response.clone().with_patch(patch) {
        Ok(patched) => patched,
        Err(e) => response.deny(format!("cannot encode the defaults: {e}")),
    }
}

/// The `v1alpha1` patch doing what `patch` does to `hub`: both the defaulted and the
/// undefaulted hub are converted back, and their difference is the patch.
fn alpha_patch<T: serde::Serialize>(
    hub: &T,
    patch: json_patch::Patch,
) -> Result<json_patch::Patch, String> {
    let before = serde_json::to_value(hub).map_err(|e| e.to_string())?;
    let mut after = before.clone();
    json_patch::patch(&mut after, &patch).map_err(|e| format!("cannot apply the defaults: {e}"))?;
    let alpha = |value: Value| {
        dynamo_conversion::convert(value, dynamo_api::v1alpha1::API_VERSION)
            .map_err(|e| format!("cannot convert the defaults to v1alpha1: {e}"))
    };
    Ok(json_patch::diff(&alpha(before)?, &alpha(after)?))
}

fn object_value(object: Option<&DynamicObject>) -> Option<Value> {
    serde_json::to_value(object?).ok()
}

/// Reads an object of a kind served at one version.
fn typed<T: DeserializeOwned>(value: Value) -> Result<T, RenderError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        RenderError::field(
            if path == "." { String::new() } else { path },
            e.into_inner().to_string(),
        )
    })
}

fn decode<T>(
    object: Option<&DynamicObject>,
    read: fn(Value) -> Result<T, RenderError>,
) -> Result<T, String> {
    let value = object_value(object).ok_or("the request carries no object")?;
    read(value).map_err(|e| e.to_string())
}

/// The new object and, on UPDATE, the old one, both read by `read`.
fn decode_pair<T>(
    request: &AdmissionRequest<DynamicObject>,
    read: fn(Value) -> Result<T, RenderError>,
) -> Result<(T, Option<T>), String> {
    let new = decode(request.object.as_ref(), read)?;
    let old = match (&request.operation, request.old_object.as_ref()) {
        (Operation::Update, Some(old)) => Some(decode(Some(old), read)?),
        _ => None,
    };
    Ok((new, old))
}

fn operation_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

#[cfg(test)]
#[path = "admission/tests.rs"]
mod tests;
