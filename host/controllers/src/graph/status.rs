//! A graph's status: per-service replicas, `state`, the `Ready` condition, restart and
//! rolling-update progress; written only when it changed, with an event when `Ready` changes.
//!
//! `Ready` is `True` with reason `all_resources_are_ready` only when every service's current
//! component is ready and no component or pod of an older generation remains. Otherwise the reason
//! is the worst of: `insufficient_capacity` (pods cannot be scheduled; the message names the
//! resource), `updating` (an older generation still runs), `pods_not_ready`; or, when the graph
//! could not be reconciled at all, `invalid_spec`, `plugin_error` (the plugin's own message) or
//! `failed_to_reconcile` (the API error). The message names the services concerned.

use std::collections::BTreeMap;

use dynamo_api::ComponentReplicaStatus;
use dynamo_api::DynamoGraphDeployment;
use dynamo_api::common::condition;
use dynamo_api::graph::{
    DeploymentState, DynamoGraphDeploymentStatus, RollingUpdatePhase, RollingUpdateStatus,
};
use dynamo_plugin_runtime::contract::text::one_line;
use dynamo_render::RenderError;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::{Live, Plans};
use crate::apply::api_resource;
use crate::context::{Context, Error};
use crate::status::{self, Phase};

/// Reason of a graph whose spec failed validation.
pub const INVALID_SPEC: &str = "invalid_spec";
/// Reason of a graph a plugin failed to render.
pub const PLUGIN_ERROR: &str = "plugin_error";
/// Reason of a graph whose children could not be written.
pub const FAILED_TO_RECONCILE: &str = "failed_to_reconcile";

/// Writes the status of a reconciled graph.
pub async fn write(
    graph: &DynamoGraphDeployment,
    live: &Live,
    plans: &Plans,
    ctx: &Context,
) -> Result<(), Error> {
    let mut services = BTreeMap::new();
    let mut worst: Option<(Phase, Vec<String>, Vec<String>)> = None;
    for (service, current) in &plans.current {
        let state = live.states.get(current);
        let mut replicas =
            state
                .map(|s| s.replicas.clone())
                .unwrap_or_else(|| ComponentReplicaStatus {
                    component_kind: dynamo_api::ComponentKind::Deployment,
                    component_names: Some(vec![current.clone()]),
                    replicas: 0,
                    updated_replicas: 0,
                    ready_replicas: Some(0),
                    available_replicas: Some(0),
                    runtime_namespace: None,
                    scheduled_replicas: None,
                    gpus_per_engine: None,
                    gpus_per_replica: None,
                });
        let old = plans.old.get(service).cloned().unwrap_or_default();
        if !old.is_empty() {
            let mut names = old.clone();
            names.push(current.clone());
            replicas.component_names = Some(names);
        }
        let (mut phase, mut message) = match state {
            Some(s) => (s.phase.clone(), s.message.clone()),
            None => (
                Phase::PodsNotReady,
                format!(
                    "{current}: 0 of {} replicas ready",
                    plans.desired.get(service).copied().unwrap_or(1)
                ),
            ),
        };
        if !old.is_empty() && phase.rank() < Phase::Updating.rank() {
            phase = Phase::Updating;
            message = format!("the previous generation ({}) still runs", old.join(", "));
        }
        services.insert(service.clone(), replicas);
        if phase == Phase::Ready {
            continue;
        }
        match &mut worst {
            Some((w, names, messages)) if w.rank() == phase.rank() => {
                names.push(service.clone());
                messages.push(message);
            }
            Some((w, _, _)) if w.rank() > phase.rank() => {}
            _ => worst = Some((phase, vec![service.clone()], vec![message])),
        }
    }
    // Pods of components the graph no longer has (an old generation being deleted) still run:
    // not ready until they are gone.
    let current: std::collections::BTreeSet<&String> = plans.current.values().collect();
    let leftover = live
        .pod_components
        .iter()
        .filter(|c| !current.contains(c))
        .count();
    if leftover > 0
        && worst
            .as_ref()
            .is_none_or(|(w, _, _)| w.rank() < Phase::Updating.rank())
    {
        worst = Some((
            Phase::Updating,
            Vec::new(),
            vec![format!(
                "{leftover} pod(s) of a previous generation are still running"
            )],
        ));
    }
    let (ready, reason, message) = match &worst {
        None => (
            true,
            Phase::Ready.reason().to_owned(),
            "All resources are ready".to_owned(),
        ),
        Some((phase, names, messages)) if names.is_empty() => {
            (false, phase.reason().to_owned(), messages.join("; "))
        }
        Some((phase, names, messages)) => (
            false,
            phase.reason().to_owned(),
            format!("services {}: {}", names.join(", "), messages.join("; ")),
        ),
    };
    let rolling_update = rolling_update_status(graph.status.as_ref(), plans);
    let status = DynamoGraphDeploymentStatus {
        observed_generation: graph.metadata.generation,
        state: if ready {
            DeploymentState::Successful
        } else {
            DeploymentState::Pending
        },
        conditions: Some(vec![ready_condition(graph, ready, &reason, &message)]),
        components: Some(services),
        restart: plans.restart.status.clone(),
        checkpoints: None,
        rolling_update,
        placement: None,
    };
    publish(graph, status, ctx).await
}

/// Writes the status of a graph that could not be rendered.
pub async fn write_failure(
    graph: &DynamoGraphDeployment,
    error: &RenderError,
    live: &Live,
    ctx: &Context,
) -> Result<(), Error> {
    let reason = match error {
        RenderError::Invalid(_) => INVALID_SPEC,
        RenderError::Plugin { .. } => PLUGIN_ERROR,
        _ => INVALID_SPEC,
    };
    let message = one_line(&error.to_string(), 2048);
    failed(
        graph,
        reason,
        &message,
        live,
        None,
        DeploymentState::Failed,
        ctx,
    )
    .await
}

/// Writes the status of a graph that waits for something outside it (an orchestrator or API to
/// be installed, a KAI queue to be created): not ready, state `pending`, nothing applied.
pub async fn write_blocked(
    graph: &DynamoGraphDeployment,
    blocked: &super::gate::Blocked,
    live: &Live,
    ctx: &Context,
) -> Result<(), Error> {
    let message = one_line(&blocked.message, 2048);
    failed(
        graph,
        blocked.reason,
        &message,
        live,
        None,
        DeploymentState::Pending,
        ctx,
    )
    .await
}

/// Writes the status of a graph whose children could not be written.
pub async fn write_apply_failure(
    graph: &DynamoGraphDeployment,
    error: &Error,
    live: &Live,
    plans: &Plans,
    ctx: &Context,
) -> Result<(), Error> {
    let message = one_line(&error.to_string(), 2048);
    failed(
        graph,
        FAILED_TO_RECONCILE,
        &message,
        live,
        Some(plans),
        DeploymentState::Failed,
        ctx,
    )
    .await
}

async fn failed(
    graph: &DynamoGraphDeployment,
    reason: &str,
    message: &str,
    live: &Live,
    plans: Option<&Plans>,
    state: DeploymentState,
    ctx: &Context,
) -> Result<(), Error> {
    let previous = graph.status.clone().unwrap_or_default();
    let services = if live.states.is_empty() {
        previous.components.clone()
    } else {
        Some(
            live.states
                .iter()
                .filter_map(|(name, state)| {
                    let service = live
                        .components
                        .iter()
                        .find(|c| c.metadata.name.as_deref() == Some(name.as_str()))?
                        .metadata
                        .labels
                        .as_ref()?
                        .get(dynamo_render::keys::label::COMPONENT)?
                        .clone();
                    Some((service, state.replicas.clone()))
                })
                .collect(),
        )
    };
    let status = DynamoGraphDeploymentStatus {
        // A spec that could not be reconciled is not observed.
        observed_generation: previous.observed_generation,
        state,
        conditions: Some(vec![ready_condition(graph, false, reason, message)]),
        components: services,
        restart: plans
            .and_then(|p| p.restart.status.clone())
            .or(previous.restart),
        checkpoints: None,
        rolling_update: previous.rolling_update,
        placement: None,
    };
    publish(graph, status, ctx).await
}

/// The `Ready` condition, keeping its transition time when its status did not change.
fn ready_condition(
    graph: &DynamoGraphDeployment,
    ready: bool,
    reason: &str,
    message: &str,
) -> Condition {
    let previous = previous_ready(graph);
    status::condition(
        condition::READY,
        ready,
        reason,
        message,
        graph.metadata.generation,
        previous.as_ref(),
        &status::now(),
    )
}

fn previous_ready(graph: &DynamoGraphDeployment) -> Option<Condition> {
    graph
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == condition::READY)
        .cloned()
}

/// The rolling-update status: phase and services, with start and end times that change only on
/// transitions.
fn rolling_update_status(
    previous: Option<&DynamoGraphDeploymentStatus>,
    plans: &Plans,
) -> Option<RollingUpdateStatus> {
    let previous = previous.and_then(|s| s.rolling_update.clone());
    let was_running = previous
        .as_ref()
        .is_some_and(|r| r.phase == Some(RollingUpdatePhase::InProgress));
    if plans.rollout.in_progress {
        let start = previous
            .as_ref()
            .filter(|_| was_running)
            .and_then(|r| r.start_time.clone())
            .or_else(|| Some(status::now()));
        return Some(RollingUpdateStatus {
            phase: Some(RollingUpdatePhase::InProgress),
            start_time: start,
            end_time: None,
            updated_components: Some(plans.rollout.updated_services.clone()),
        });
    }
    if was_running {
        return Some(RollingUpdateStatus {
            phase: Some(RollingUpdatePhase::Completed),
            start_time: previous.and_then(|r| r.start_time),
            end_time: Some(status::now()),
            updated_components: Some(plans.rollout.updated_services.clone()),
        });
    }
    previous
}

/// The event reason of a `Ready` condition reason: `insufficient_capacity` becomes
/// `InsufficientCapacity`, `all_resources_are_ready` becomes `Ready`.
pub fn event_reason(reason: &str) -> String {
    if reason == Phase::Ready.reason() {
        return "Ready".to_owned();
    }
    reason
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Writes `status` when it differs from the graph's, and publishes an event when `Ready`
/// changed.
async fn publish(
    graph: &DynamoGraphDeployment,
    status: DynamoGraphDeploymentStatus,
    ctx: &Context,
) -> Result<(), Error> {
    if graph.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let before = previous_ready(graph);
    let after = status
        .conditions
        .as_ref()
        .and_then(|c| c.iter().find(|c| c.type_ == condition::READY))
        .cloned();
    let resource = api_resource(dynamo_api::API_VERSION, "DynamoGraphDeployment");
    let value = serde_json::to_value(&status).map_err(|e| Error::Internal(e.to_string()))?;
    ctx.applier
        .apply_status(
            &resource,
            graph.metadata.namespace.as_deref().unwrap_or_default(),
            graph.metadata.name.as_deref().unwrap_or_default(),
            value,
        )
        .await?;
    if let Some(after) = &after {
        // Never written by a controller: no status, or only the empty one a conversion from
        // v1alpha1 leaves (`state: ""`).
        let first = graph
            .status
            .as_ref()
            .is_none_or(|s| s.conditions.is_none() && s.observed_generation.is_none());
        for transition in crate::events::transition(first, before.as_ref(), after) {
            ctx.publish_lifecycle(crate::events::event(graph, transition, Some(after)));
        }
    }
    if let Some(after) = after
        && before
            .as_ref()
            .is_none_or(|b| b.status != after.status || b.reason != after.reason)
    {
        let ready = after.status == "True";
        ctx.event(
            graph,
            !ready
                && after.reason != Phase::PodsNotReady.reason()
                && after.reason != Phase::Updating.reason(),
            &event_reason(&after.reason),
            format!("{}: {}", after.reason, after.message),
        )
        .await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_reasons_are_pascal_case() {
        assert_eq!(
            super::event_reason("insufficient_capacity"),
            "InsufficientCapacity"
        );
        assert_eq!(super::event_reason("all_resources_are_ready"), "Ready");
        assert_eq!(super::event_reason("plugin_error"), "PluginError");
    }
}
