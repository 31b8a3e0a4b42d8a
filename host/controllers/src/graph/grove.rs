//! The Grove pathway's side of a graph: service readiness from the PodCliques and
//! PodCliqueScalingGroups Grove makes, and replica changes written to them.
//!
//! Grove creates, for PodCliqueSet `{graph}`, one PodClique `{graph}-0-{service}` per
//! single-node service and one PodCliqueScalingGroup `{graph}-0-{service}` per multi-node one
//! (replica index 0: the operator renders one PodCliqueSet replica). Grove copies a template's
//! replicas only when it creates them, so a scaled service (through its adapter) is written to
//! the clique or scaling group itself, through the same `spec.replicas` its scale subresource
//! reads.

use std::collections::BTreeMap;

use dynamo_api::ComponentKind;
use dynamo_api::DynamoGraphDeployment;
use dynamo_render::keys::label;
use kube::runtime::reflector::ObjectRef;
use serde_json::{Value, json};

use super::Plans;
use crate::apply::api_resource;
use crate::context::{Context, Error};
use crate::kinds::{PodClique, PodCliqueScalingGroup, PodCliqueSet, int_at};
use crate::status::{ComponentState, PodFacts, grove_state};

/// The name Grove gives the clique or scaling group of `service` (its Kubernetes name).
pub fn object_name(graph: &str, k8s_name: &str) -> String {
    format!("{graph}-0-{k8s_name}")
}

/// What Grove made for `service`: its kind (a scaling group for a multi-node service, else a
/// clique) and, once it exists, its spec, status and generation.
fn made_for(
    service: &str,
    object: &str,
    namespace: &str,
    plans: &Plans,
    ctx: &Context,
) -> (ComponentKind, Option<(Value, Value, i64)>) {
    let facts = |metadata: &kube::api::ObjectMeta, spec: &Value, status: &Value| {
        (
            spec.clone(),
            status.clone(),
            metadata.generation.unwrap_or(0),
        )
    };
    if plans.multinode.contains(service) {
        let group = ctx
            .caches
            .scaling_groups
            .get(&ObjectRef::<PodCliqueScalingGroup>::new(object).within(namespace));
        (
            ComponentKind::PodCliqueScalingGroup,
            group.map(|g| facts(&g.metadata, &g.spec, &g.status)),
        )
    } else {
        let clique = ctx
            .caches
            .cliques
            .get(&ObjectRef::<PodClique>::new(object).within(namespace));
        (
            ComponentKind::PodClique,
            clique.map(|c| facts(&c.metadata, &c.spec, &c.status)),
        )
    }
}

/// The state of each service of a Grove graph, by the name its status is keyed under
/// ([`Plans::current`]).
pub fn states(
    graph: &DynamoGraphDeployment,
    plans: &Plans,
    ctx: &Context,
) -> BTreeMap<String, ComponentState> {
    let namespace = graph.metadata.namespace.clone().unwrap_or_default();
    let name = graph.metadata.name.clone().unwrap_or_default();
    let caches = &ctx.caches;
    let observed = caches
        .clique_sets
        .get(&ObjectRef::<PodCliqueSet>::new(&name).within(&namespace))
        .is_some_and(|pcs| {
            int_at(&pcs.status, "/observedGeneration") >= pcs.metadata.generation.unwrap_or(0)
        });
    let mut states = BTreeMap::new();
    for (service, current) in &plans.current {
        let k8s_name = plans.k8s_names.get(service).cloned().unwrap_or_default();
        let object = object_name(&name, &k8s_name);
        let desired = plans.desired.get(service).copied().unwrap_or(1);
        let pods: Vec<PodFacts> = caches
            .pods
            .labelled(label::SELECTOR, &namespace, current)
            .iter()
            .map(|p| PodFacts::of(p))
            .collect();
        let (kind, made) = made_for(service, &object, &namespace, plans, ctx);
        let state = grove_state(
            &object,
            kind,
            desired,
            made.as_ref()
                .map(|(spec, status, generation)| (spec, status, *generation)),
            observed,
            &pods,
        );
        states.insert(current.clone(), state);
    }
    states
}

/// Writes each service's replicas to its clique or scaling group where they differ.
pub async fn scale(
    graph: &DynamoGraphDeployment,
    plans: &Plans,
    ctx: &Context,
) -> Result<(), Error> {
    let namespace = graph.metadata.namespace.clone().unwrap_or_default();
    let name = graph.metadata.name.clone().unwrap_or_default();
    for (service, desired) in &plans.desired {
        let k8s_name = plans.k8s_names.get(service).cloned().unwrap_or_default();
        let object = object_name(&name, &k8s_name);
        let (kind, made) = made_for(service, &object, &namespace, plans, ctx);
        let kind = match kind {
            ComponentKind::PodCliqueScalingGroup => "PodCliqueScalingGroup",
            _ => "PodClique",
        };
        let live = made.map(|(spec, _, _)| spec);
        let Some(spec) = live else {
            // Grove has not made it yet; it will, from the template's replicas.
            continue;
        };
        if spec.get("replicas").and_then(serde_json::Value::as_i64) == Some(i64::from(*desired)) {
            continue;
        }
        ctx.applier
            .merge_patch(
                &api_resource("grove.io/v1alpha1", kind),
                &namespace,
                &object,
                json!({"spec": {"replicas": desired}}),
            )
            .await?;
        tracing::info!(
            namespace,
            graph = name,
            service,
            replicas = desired,
            "scaled the Grove {kind} {object}"
        );
    }
    Ok(())
}
