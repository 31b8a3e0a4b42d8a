//! The DynamoGraphDeploymentScalingAdapter controller.
//!
//! An adapter is the source of truth for its component's replicas: `kubectl scale
//! dgdsa/<name>`, an HPA or KEDA write its `spec.replicas` through the `/scale` subresource, and
//! this controller copies the value into the graph (`spec.components[<i>].replicas`, the
//! component named by `dgdRef.componentName`), which the graph controller then rolls out. The
//! adapter's status carries the replicas in effect and the label selector of the component's
//! pods (`status.selector`), so an HPA can read their metrics.

use std::sync::Arc;

use dynamo_api::scaling_adapter::DynamoGraphDeploymentScalingAdapterStatus;
use dynamo_api::{DynamoGraphDeployment, DynamoGraphDeploymentScalingAdapter};
use dynamo_render::keys::label;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use serde_json::json;

use crate::apply::api_resource;
use crate::context::{Context, Error, RESYNC, key};
use crate::status;

/// Reconciles one adapter (see the module docs).
pub async fn reconcile(
    adapter: Arc<DynamoGraphDeploymentScalingAdapter>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    if adapter.metadata.deletion_timestamp.is_some()
        || ctx.claimed_elsewhere(adapter.metadata.namespace.as_deref())
    {
        return Ok(Action::await_change());
    }
    let namespace = adapter.metadata.namespace.clone().unwrap_or_default();
    let reference = &adapter.spec.dgd_ref;
    let Some(graph) = ctx
        .caches
        .graphs
        .get(&ObjectRef::new(&reference.name).within(&namespace))
    else {
        // The graph appears later or never; a graph event triggers this adapter again.
        return Ok(Action::await_change());
    };
    let service = &reference.component_name;
    let Some((index, spec)) = graph
        .components()
        .iter()
        .enumerate()
        .find(|(_, c)| &c.name == service)
    else {
        return Ok(Action::await_change());
    };
    let wanted = adapter.spec.replicas;
    let previous = adapter.status.clone().unwrap_or_default();
    let mut last_scale_time = previous.last_scale_time.clone();
    if spec.replicas.unwrap_or(1) != wanted {
        // By position, guarded by the component's name: the list may not have moved under us.
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": format!("/spec/components/{index}/name"), "value": service},
            {"op": "add", "path": format!("/spec/components/{index}/replicas"), "value": wanted},
        ]))
        .map_err(|e| Error::Internal(format!("replica patch: {e}")))?;
        ctx.applier
            .json_patch(
                &api_resource(dynamo_api::API_VERSION, "DynamoGraphDeployment"),
                &namespace,
                &reference.name,
                patch,
            )
            .await?;
        last_scale_time = Some(status::now());
        ctx.event(
            adapter.as_ref(),
            false,
            "Scaled",
            format!(
                "component {service} of {} scaled from {} to {wanted} replicas",
                reference.name,
                spec.replicas.unwrap_or(1)
            ),
        )
        .await;
    }
    let mut selector = format!(
        "{}={},{}={service}",
        label::GRAPH_NAME,
        reference.name,
        label::COMPONENT
    );
    // A multi-node replica is one LeaderWorkerSet group: an HPA must count one pod per group,
    // so the selector matches leaders only.
    let multinode = spec.uses_multinode();
    let annotations = graph.metadata.annotations.clone().unwrap_or_default();
    let orchestrator =
        dynamo_render::model::effective_orchestrator(&annotations, &ctx.render_config());
    if multinode && orchestrator == dynamo_render::Orchestrator::Lws {
        selector.push_str(&format!(",{}=leader", label::LWS_ROLE));
    }
    let status = DynamoGraphDeploymentScalingAdapterStatus {
        replicas: wanted,
        selector: Some(selector),
        last_scale_time,
    };
    if adapter.status.as_ref() != Some(&status) {
        let value = serde_json::to_value(&status).map_err(|e| Error::Internal(e.to_string()))?;
        ctx.applier
            .apply_status(
                &api_resource(
                    dynamo_api::API_VERSION,
                    "DynamoGraphDeploymentScalingAdapter",
                ),
                &namespace,
                adapter.metadata.name.as_deref().unwrap_or_default(),
                value,
            )
            .await?;
    }
    ctx.succeeded(&key(adapter.as_ref()));
    Ok(Action::requeue(RESYNC))
}

/// Retries a failed reconcile with per-adapter backoff.
pub fn error_policy(
    adapter: Arc<DynamoGraphDeploymentScalingAdapter>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    tracing::warn!(
        namespace = adapter.metadata.namespace.as_deref().unwrap_or_default(),
        name = adapter.metadata.name.as_deref().unwrap_or_default(),
        "reconcile failed: {error}"
    );
    ctx.backoff(key(adapter.as_ref()))
}

/// The adapters of `graph`'s services (by the labels the graph controller gives them).
pub fn adapters_of(
    graph: &DynamoGraphDeployment,
    ctx: &Context,
) -> Vec<ObjectRef<DynamoGraphDeploymentScalingAdapter>> {
    let name = graph.metadata.name.clone().unwrap_or_default();
    let namespace = graph.metadata.namespace.clone().unwrap_or_default();
    ctx.caches
        .adapters
        .labelled(crate::stores::ADAPTER_GRAPH_KEY, &namespace, &name)
        .iter()
        .map(|a| ObjectRef::from_obj(a.as_ref()))
        .collect()
}
