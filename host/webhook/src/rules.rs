//! The admission rules: defaults stamped on a new graph, and what an update may not change.
//!
//! Pure functions of the (`v1beta1`) objects and the requester, as Dynamo 1.5's webhooks judge
//! them; the CREATE-time rules of a graph live in [`dynamo_render::check`] (shared with the
//! `render` CLI) and are not repeated here.

use std::collections::BTreeMap;

use dynamo_api::common::RollingUpdatePhase;
use dynamo_api::shared::DynamoComponentDeploymentSharedSpec;
use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment, DynamoModel};
use dynamo_plugin_contract::Diagnostic;
use dynamo_render::RenderConfig;
use dynamo_render::keys::annotation;
use dynamo_render::model::{self, component_path};
use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation};
use serde_json::Value;

/// The replicas a component gets when it names none.
pub const DEFAULT_REPLICAS: i32 = 1;

/// The `minAvailable` a component on the Grove pathway gets when it names none.
pub const DEFAULT_MIN_AVAILABLE: i32 = 1;

/// Name of the service account Dynamo's planner runs as; it may scale adapter-owned components.
pub const PLANNER_SERVICE_ACCOUNT: &str = "planner-serviceaccount";

// === defaulting ===

/// The JSON patch that defaults `dgd` under `config`: every component without `replicas` gets
/// [`DEFAULT_REPLICAS`]; on CREATE the workload provider (`nvidia.com/workload-provider`) is
/// chosen from the graph's intent (Grove enabled and `nvidia.com/enable-grove` not `false`),
/// replacing any value the request carries, and the origin version is stamped when absent.
/// On every operation, components of a graph whose provider is Grove get `minAvailable`
/// [`DEFAULT_MIN_AVAILABLE`] when they name none, as Dynamo 1.5 does: a `kubectl apply` that
/// replaces the component list keeps the value the immutability rule compares against. An
/// UPDATE of a graph with no provider (one created before providers existed) gets none: the
/// controller adopts it as it is.
pub fn graph_defaults(
    dgd: &DynamoGraphDeployment,
    create: bool,
    operator_version: Option<&str>,
    config: &RenderConfig,
) -> Vec<PatchOperation> {
    let mut patch = Vec::new();
    let annotations = dgd.metadata.annotations.clone().unwrap_or_default();
    let chosen = model::workload_provider(&annotations, config).to_owned();
    let provider = if create {
        Some(chosen.as_str())
    } else {
        annotations
            .get(annotation::WORKLOAD_PROVIDER)
            .map(String::as_str)
    };
    let grove = provider.is_some_and(|p| p.eq_ignore_ascii_case(model::WORKLOAD_PROVIDER_GROVE));
    for (index, component) in dgd.components().iter().enumerate() {
        let at = |field: &str| {
            PointerBuf::from_tokens(["spec", "components", &index.to_string(), field])
        };
        if component.replicas.is_none() {
            patch.push(add(at("replicas"), Value::from(DEFAULT_REPLICAS)));
        }
        if grove && component.min_available.is_none() {
            patch.push(add(at("minAvailable"), Value::from(DEFAULT_MIN_AVAILABLE)));
        }
    }
    if create {
        let mut stamps = BTreeMap::new();
        if annotations.get(annotation::WORKLOAD_PROVIDER) != Some(&chosen) {
            stamps.insert(annotation::WORKLOAD_PROVIDER, chosen.clone());
        }
        if let Some(version) = operator_version.filter(|v| !v.is_empty())
            && !annotations.contains_key(annotation::ORIGIN_VERSION)
        {
            stamps.insert(annotation::ORIGIN_VERSION, version.to_owned());
        }
        if dgd.metadata.annotations.is_none() && !stamps.is_empty() {
            patch.push(add(
                PointerBuf::from_tokens(["metadata", "annotations"]),
                serde_json::to_value(&stamps).unwrap_or_default(),
            ));
        } else {
            for (key, value) in stamps {
                patch.push(add(
                    PointerBuf::from_tokens(["metadata", "annotations", key]),
                    Value::from(value),
                ));
            }
        }
    }
    patch
}

/// The JSON patch that defaults a new DynamoComponentDeployment: `spec.name` from its
/// `metadata.name` when empty.
pub fn component_defaults(dcd: &DynamoComponentDeployment, create: bool) -> Vec<PatchOperation> {
    match (
        &dcd.metadata.name,
        create && dcd.spec.shared.name.is_empty(),
    ) {
        (Some(name), true) => vec![add(
            PointerBuf::from_tokens(["spec", "name"]),
            Value::from(name.clone()),
        )],
        _ => Vec::new(),
    }
}

fn add(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation { path, value })
}

// === graph updates ===

/// What an UPDATE of a graph may not do. `may_scale` is whether the requester may change the
/// replicas of components whose scaling adapter owns them (the operator or the planner);
/// `is_operator` whether the requester is the operator itself.
pub fn graph_update(
    old: &DynamoGraphDeployment,
    new: &DynamoGraphDeployment,
    may_scale: bool,
    is_operator: bool,
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
    let kv = |d: &DynamoGraphDeployment| {
        d.spec
            .experimental
            .as_ref()
            .and_then(|e| e.kv_transfer_policy.clone())
    };
    if kv(old) != kv(new) {
        out.push(Diagnostic::error(
            "spec.experimental.kvTransferPolicy",
            "is immutable",
        ));
    }
    out.extend(workload_provider_kept(old, new, is_operator));
    let old_components = old.components();
    let new_components = new.components();
    let names = |list: &[DynamoComponentDeploymentSharedSpec]| {
        list.iter()
            .map(|c| c.name.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (old_names, new_names) = (names(old_components), names(new_components));
    if old_names != new_names {
        let added: Vec<&str> = new_names
            .difference(&old_names)
            .map(String::as_str)
            .collect();
        let removed: Vec<&str> = old_names
            .difference(&new_names)
            .map(String::as_str)
            .collect();
        let mut change = Vec::new();
        if !added.is_empty() {
            change.push(format!("added {}", added.join(", ")));
        }
        if !removed.is_empty() {
            change.push(format!("removed {}", removed.join(", ")));
        }
        out.push(Diagnostic::error(
            "spec.components",
            format!(
                "components cannot be added or removed after creation ({}); create a new graph \
                 instead",
                change.join("; ")
            ),
        ));
    }
    for (index, new_svc) in new_components.iter().enumerate() {
        let Some(old_svc) = old.component(&new_svc.name) else {
            continue;
        };
        let field = component_path(index);
        if old_svc.uses_multinode() != new_svc.uses_multinode() {
            out.push(Diagnostic::error(
                format!("{field}.multinode"),
                format!(
                    "a component cannot switch between single-node and multi-node (it was {}); \
                     create a new component instead",
                    if old_svc.uses_multinode() {
                        "multi-node"
                    } else {
                        "single-node"
                    }
                ),
            ));
        } else if old_svc.uses_multinode() && old_svc.node_count() != new_svc.node_count() {
            out.push(Diagnostic::error(
                format!("{field}.multinode.nodeCount"),
                format!("is immutable: it was {}", old_svc.node_count()),
            ));
        }
        if old_svc.topology_constraint != new_svc.topology_constraint {
            out.push(Diagnostic::error(
                format!("{field}.topologyConstraint"),
                "is immutable: placement cannot change under running pods",
            ));
        }
        let adapter_owned = old_svc.has_scaling_adapter() || new_svc.has_scaling_adapter();
        if adapter_owned && old_svc.replicas != new_svc.replicas && !may_scale {
            out.push(Diagnostic::error(
                format!("{field}.replicas"),
                "is owned by the scaling adapter (scalingAdapter is set): scale the \
                 component's DynamoGraphDeploymentScalingAdapter instead (`kubectl scale \
                 dgdsa`); only the operator and the planner change it here",
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

/// `nvidia.com/workload-provider` is chosen once: only the operator may add it, and nobody may
/// change or remove it.
fn workload_provider_kept(
    old: &DynamoGraphDeployment,
    new: &DynamoGraphDeployment,
    is_operator: bool,
) -> Option<Diagnostic> {
    let get = |d: &DynamoGraphDeployment| {
        d.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(annotation::WORKLOAD_PROVIDER))
            .cloned()
    };
    let field = format!("metadata.annotations[{}]", annotation::WORKLOAD_PROVIDER);
    match (get(old), get(new)) {
        (None, Some(_)) if !is_operator => {
            Some(Diagnostic::error(field, "may only be set by the operator"))
        }
        (Some(was), now) if now.as_deref() != Some(was.as_str()) => Some(Diagnostic::error(
            field,
            format!("is immutable: it was `{was}`"),
        )),
        _ => None,
    }
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

/// What a DynamoComponentDeployment must satisfy on CREATE and UPDATE: the component rules,
/// judged off the Grove pathway (a component is never Grove's).
pub fn component(dcd: &DynamoComponentDeployment) -> Vec<Diagnostic> {
    let legacy = match dynamo_render::legacy::LegacyService::of_component(dcd) {
        Ok(legacy) => legacy,
        Err(error) => return error.diagnostics(),
    };
    let mut spec = dcd.spec.shared.clone();
    if spec.name.is_empty() {
        spec.name = dcd.metadata.name.clone().unwrap_or_default();
    }
    dynamo_render::validate::validate_service(
        &spec,
        &legacy,
        "spec",
        dynamo_render::Orchestrator::Deployment,
    )
}

/// What an UPDATE of a DynamoComponentDeployment may not do: change its backend. Naming a
/// backend where none was set is allowed: Dynamo 1.5, and this operator, name the graph's backend
/// on every DCD of the graph, so a component created before that gains it on its next update (a
/// backend that contradicts the component's command fails its render, naming the field).
pub fn component_update(
    old: &DynamoComponentDeployment,
    new: &DynamoComponentDeployment,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if old.spec.backend_framework.is_some() {
        out.extend(backend_immutable(
            old.spec.backend_framework.as_ref(),
            new.spec.backend_framework.as_ref(),
        ));
    }
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
