//! The admission rules: defaults stamped on a new graph, and what an update may not change.
//!
//! Pure functions of the objects and the requester; the CREATE-time rules of a graph live in
//! [`dynamo_render::check`] (shared with the `render` CLI) and are not repeated here.

use std::collections::BTreeSet;

use dynamo_api::graph::RollingUpdatePhase;
use dynamo_api::shared::DynamoComponentDeploymentSharedSpec;
use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment, DynamoModel};
use dynamo_plugin_contract::Diagnostic;
use dynamo_render::keys::annotation;
use dynamo_render::model::service_path;
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation};
use serde_json::Value;

/// The replicas a service gets when it names none.
pub const DEFAULT_REPLICAS: i32 = 1;

/// Name of the service account Dynamo's planner runs as; it may scale adapter-owned services.
pub const PLANNER_SERVICE_ACCOUNT: &str = "planner-serviceaccount";

// === defaulting ===

/// The JSON patch that defaults `dgd`: every service without `replicas` gets
/// [`DEFAULT_REPLICAS`]; on CREATE the origin-version annotation is stamped when absent.
pub fn graph_defaults(
    dgd: &DynamoGraphDeployment,
    create: bool,
    operator_version: Option<&str>,
) -> Vec<PatchOperation> {
    let mut patch = Vec::new();
    for (name, service) in dgd.spec.services.iter().flatten() {
        if service.replicas.is_none() {
            patch.push(add(
                PointerBuf::from_tokens(["spec", "services", name.as_str(), "replicas"]),
                Value::from(DEFAULT_REPLICAS),
            ));
        }
    }
    if let Some(version) = operator_version.filter(|v| create && !v.is_empty()) {
        match &dgd.metadata.annotations {
            None => patch.push(add(
                PointerBuf::from_tokens(["metadata", "annotations"]),
                serde_json::json!({ annotation::ORIGIN_VERSION: version }),
            )),
            Some(annotations) if !annotations.contains_key(annotation::ORIGIN_VERSION) => {
                patch.push(add(
                    PointerBuf::from_tokens([
                        "metadata",
                        "annotations",
                        annotation::ORIGIN_VERSION,
                    ]),
                    Value::from(version),
                ));
            }
            Some(_) => {}
        }
    }
    patch
}

fn add(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation { path, value })
}

// === graph updates ===

/// What an UPDATE of a graph may not do. `may_scale` is whether the requester may change the
/// replicas of services whose scaling adapter owns them (the operator or the planner).
pub fn graph_update(
    old: &DynamoGraphDeployment,
    new: &DynamoGraphDeployment,
    may_scale: bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(backend_immutable(
        old.spec.backend_framework.as_ref(),
        new.spec.backend_framework.as_ref(),
    ));
    if old.spec.topology_constraint != new.spec.topology_constraint {
        out.push(Diagnostic::error(
            "spec.topologyConstraint",
            "is immutable: placement cannot change under running pods",
        ));
    }
    let empty = Default::default();
    let old_services = old.spec.services.as_ref().unwrap_or(&empty);
    let new_services = new.spec.services.as_ref().unwrap_or(&empty);
    let old_names: BTreeSet<&String> = old_services.keys().collect();
    let new_names: BTreeSet<&String> = new_services.keys().collect();
    if old_names != new_names {
        let added: Vec<&str> = new_names
            .difference(&old_names)
            .map(|s| s.as_str())
            .collect();
        let removed: Vec<&str> = old_names
            .difference(&new_names)
            .map(|s| s.as_str())
            .collect();
        let mut change = Vec::new();
        if !added.is_empty() {
            change.push(format!("added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            change.push(format!("removed {}", removed.join(", ")));
        }
        out.push(Diagnostic::error(
            "spec.services",
            format!(
                "the set of services is immutable ({}); create a new graph instead",
                change.join("; ")
            ),
        ));
    }
    for (name, new_svc) in new_services {
        let Some(old_svc) = old_services.get(name) else {
            continue;
        };
        let field = service_path(name);
        if is_multinode(old_svc) != is_multinode(new_svc) {
            out.push(Diagnostic::error(
                format!("{field}.multinode"),
                format!(
                    "a service cannot switch between single-node and multi-node (it was {}); \
                     create a new service instead",
                    if is_multinode(old_svc) {
                        "multi-node"
                    } else {
                        "single-node"
                    }
                ),
            ));
        }
        if old_svc.topology_constraint != new_svc.topology_constraint {
            out.push(Diagnostic::error(
                format!("{field}.topologyConstraint"),
                "is immutable: placement cannot change under running pods",
            ));
        }
        if adapter_owned(old_svc)
            && adapter_owned(new_svc)
            && old_svc.replicas != new_svc.replicas
            && !may_scale
        {
            out.push(Diagnostic::error(
                format!("{field}.replicas"),
                "is owned by the scaling adapter (scalingAdapter.enabled is true): scale the \
                 service's DynamoGraphDeploymentScalingAdapter instead (`kubectl scale dgdsa`); \
                 only the operator and the planner change it here",
            ));
        }
    }
    let old_restart = old.spec.restart.as_ref().map(|r| r.id.as_str());
    let new_restart = new.spec.restart.as_ref().map(|r| r.id.as_str());
    if old_restart != new_restart && rolling_update_running(old) {
        out.push(Diagnostic::error(
            "spec.restart.id",
            "cannot change while a rolling update is in progress; change it once \
             status.rollingUpdate.phase is Completed or Failed",
        ));
    }
    out
}

/// Whether `username` may change adapter-owned replicas: the operator's own service account
/// (`operator`, as `system:serviceaccount:<ns>:<name>`) or any planner service account.
pub fn may_scale(username: &str, operator: Option<&str>) -> bool {
    if operator.is_some_and(|op| op == username) {
        return true;
    }
    username
        .strip_prefix("system:serviceaccount:")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(_, name)| name == PLANNER_SERVICE_ACCOUNT)
}

fn is_multinode(svc: &DynamoComponentDeploymentSharedSpec) -> bool {
    svc.multinode.as_ref().is_some_and(|m| m.node_count > 1)
}

fn adapter_owned(svc: &DynamoComponentDeploymentSharedSpec) -> bool {
    svc.scaling_adapter
        .as_ref()
        .and_then(|a| a.enabled)
        .unwrap_or(false)
}

fn rolling_update_running(dgd: &DynamoGraphDeployment) -> bool {
    dgd.status
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.phase)
        .is_some_and(|p| {
            matches!(
                p,
                RollingUpdatePhase::Pending | RollingUpdatePhase::InProgress
            )
        })
}

/// `spec.backendFramework` may not change: the pods were rendered for the old backend.
fn backend_immutable<T: PartialEq + serde::Serialize>(
    old: Option<&T>,
    new: Option<&T>,
) -> Option<Diagnostic> {
    (old != new).then(|| {
        Diagnostic::error(
            "spec.backendFramework",
            format!(
                "is immutable: it was `{}`; create a new object to change the backend",
                framework_text(old)
            ),
        )
    })
}

fn framework_text<T: serde::Serialize>(framework: Option<&T>) -> String {
    match framework.map(serde_json::to_value) {
        Some(Ok(Value::String(s))) => s,
        Some(_) => "?".into(),
        None => "unset".into(),
    }
}

// === components ===

/// What a DynamoComponentDeployment must satisfy on CREATE and UPDATE.
pub fn component(dcd: &DynamoComponentDeployment) -> Vec<Diagnostic> {
    let name = dcd
        .spec
        .shared
        .service_name
        .clone()
        .or_else(|| dcd.metadata.name.clone())
        .unwrap_or_default();
    dynamo_render::validate::validate_service(&name, &dcd.spec.shared, "spec")
}

/// What an UPDATE of a DynamoComponentDeployment may not do.
pub fn component_update(
    old: &DynamoComponentDeployment,
    new: &DynamoComponentDeployment,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(backend_immutable(
        old.spec.backend_framework.as_ref(),
        new.spec.backend_framework.as_ref(),
    ));
    out
}

// === models ===

/// What a DynamoModel must satisfy on CREATE and UPDATE.
pub fn model(model: &DynamoModel) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if model.spec.model_name.trim().is_empty() {
        out.push(Diagnostic::error("spec.modelName", "is required"));
    }
    if model.spec.base_model_name.trim().is_empty() {
        out.push(Diagnostic::error("spec.baseModelName", "is required"));
    }
    if model.spec.model_type == Some(dynamo_api::model::ModelType::Lora) {
        match model.spec.source.as_ref().map(|s| s.uri.as_str()) {
            None | Some("") => out.push(Diagnostic::error(
                "spec.source.uri",
                "is required for a LoRA model (s3://bucket/path or hf://org/model)",
            )),
            Some(uri) if !(uri.starts_with("s3://") || uri.starts_with("hf://")) => {
                out.push(Diagnostic::error(
                    "spec.source.uri",
                    format!("must start with s3:// or hf://, got `{uri}`"),
                ));
            }
            Some(_) => {}
        }
    }
    out
}

/// What an UPDATE of a DynamoModel may not do.
pub fn model_update(old: &DynamoModel, new: &DynamoModel) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if old.spec.model_type.unwrap_or_default() != new.spec.model_type.unwrap_or_default() {
        out.push(Diagnostic::error("spec.modelType", "is immutable"));
    }
    if old.spec.base_model_name != new.spec.base_model_name {
        out.push(Diagnostic::error(
            "spec.baseModelName",
            format!("is immutable: it was `{}`", old.spec.base_model_name),
        ));
    }
    out
}

#[cfg(test)]
mod tests;
