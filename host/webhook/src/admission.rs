//! Admission reviews: decode what the API server sends, judge it, and answer.
//!
//! One [`Admission`] serves every path. Graph validation runs the same
//! [`dynamo_render::check`] as the `render` CLI (host rules, then each backend plugin's
//! `validate`) on a blocking thread, because plugin calls are synchronous WebAssembly.

use std::sync::Arc;
use std::time::Instant;

use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment, DynamoModel};
use dynamo_plugin_contract::{Diagnostic, Severity};
use dynamo_plugin_runtime::PluginRegistry;
use dynamo_render::RenderConfig;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::rules;

/// Path of the graph defaulting webhook.
pub const MUTATE_GRAPH: &str = "/mutate-nvidia-com-v1alpha1-dynamographdeployment";
/// Path of the graph validating webhook.
pub const VALIDATE_GRAPH: &str = "/validate-nvidia-com-v1alpha1-dynamographdeployment";
/// Path of the component validating webhook.
pub const VALIDATE_COMPONENT: &str = "/validate-nvidia-com-v1alpha1-dynamocomponentdeployment";
/// Path of the model validating webhook.
pub const VALIDATE_MODEL: &str = "/validate-nvidia-com-v1alpha1-dynamomodel";

/// Path of the graph defaulting webhook in Dynamo 1.5, for `nvidia.com/v1beta1` graphs (the
/// dynamo-platform chart registers it; the API server converts v1alpha1 writes first).
pub const MUTATE_GRAPH_V1BETA1: &str = "/mutate/nvidia.com/v1beta1/dynamographdeployments";
/// Path of the graph validating webhook in Dynamo 1.5, for `nvidia.com/v1beta1` graphs.
pub const VALIDATE_GRAPH_V1BETA1: &str = "/validate/nvidia.com/v1beta1/dynamographdeployments";
/// Path of the component validating webhook in Dynamo 1.5, for `nvidia.com/v1beta1`
/// components.
pub const VALIDATE_COMPONENT_V1BETA1: &str =
    "/validate/nvidia.com/v1beta1/dynamocomponentdeployments";

/// Which webhook a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// Defaults of a DynamoGraphDeployment.
    MutateGraph,
    /// Rules of a DynamoGraphDeployment.
    ValidateGraph,
    /// Rules of a DynamoComponentDeployment.
    ValidateComponent,
    /// Rules of a DynamoModel.
    ValidateModel,
}

impl Webhook {
    /// Every webhook with its path.
    pub const ALL: [(Webhook, &'static str); 4] = [
        (Webhook::MutateGraph, MUTATE_GRAPH),
        (Webhook::ValidateGraph, VALIDATE_GRAPH),
        (Webhook::ValidateComponent, VALIDATE_COMPONENT),
        (Webhook::ValidateModel, VALIDATE_MODEL),
    ];

    /// The name used in metrics and logs.
    pub fn name(self) -> &'static str {
        match self {
            Webhook::MutateGraph => "mutate-dynamographdeployment",
            Webhook::ValidateGraph => "validate-dynamographdeployment",
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
            Webhook::ValidateGraph => self.validate_graph(request).await,
            Webhook::ValidateComponent => {
                decode_pair::<DynamoComponentDeployment>(request).map(|(new, old)| {
                    let mut out = rules::component(&new);
                    if let Some(old) = old {
                        out.extend(rules::component_update(&old, &new));
                    }
                    out
                })
            }
            Webhook::ValidateModel => decode_pair::<DynamoModel>(request).map(|(new, old)| {
                let mut out = rules::model(&new);
                if let Some(old) = old {
                    out.extend(rules::model_update(&old, &new));
                }
                out
            }),
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
        let graph: DynamoGraphDeployment = match decode(request.object.as_ref()) {
            Ok(graph) => graph,
            // The validating webhook names the field; defaulting leaves the object alone.
            Err(_) => return response,
        };
        let patch = rules::graph_defaults(&graph, create, self.operator_version.as_deref());
        if patch.is_empty() {
            return response;
        }
        match response.clone().with_patch(json_patch::Patch(patch)) {
            Ok(patched) => patched,
            Err(e) => response.deny(format!("cannot encode the defaults: {e}")),
        }
    }

    async fn validate_graph(
        &self,
        request: &AdmissionRequest<DynamicObject>,
    ) -> Result<Vec<Diagnostic>, String> {
        let (new, old) = decode_pair::<DynamoGraphDeployment>(request)?;
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
            diagnostics.extend(rules::graph_update(&old, &new, may_scale));
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
                              (Ready=False) until LeaderWorkerSet with Volcano, or Grove, is \
                              installed"
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

fn decode<T: DeserializeOwned>(object: Option<&DynamicObject>) -> Result<T, String> {
    let object = object.ok_or("the request carries no object")?;
    let value = serde_json::to_value(object).map_err(|e| e.to_string())?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
}

/// The new object and, on UPDATE, the old one.
fn decode_pair<T: DeserializeOwned>(
    request: &AdmissionRequest<DynamicObject>,
) -> Result<(T, Option<T>), String> {
    let new = decode(request.object.as_ref())?;
    let old = match (&request.operation, request.old_object.as_ref()) {
        (Operation::Update, Some(old)) => Some(decode(Some(old))?),
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
