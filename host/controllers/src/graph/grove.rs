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
use serde_json::json;

use super::Plans;
use crate::apply::api_resource;
use crate::context::{Context, Error};
use crate::kinds::{PodClique, PodCliqueScalingGroup, PodCliqueSet, int_at};
use crate::status::{ComponentState, PodFacts, grove_state};

/// The name Grove gives the clique or scaling group of `service` (its Kubernetes name).
pub fn object_name(graph: &str, k8s_name: &str) -> String {
    format!("{graph}-0-{k8s_name}")
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
        let state = if plans.multinode.contains(service) {
            let group = caches
                .scaling_groups
                .get(&ObjectRef::<PodCliqueScalingGroup>::new(&object).within(&namespace));
            grove_state(
                &object,
                ComponentKind::PodCliqueScalingGroup,
                desired,
                group
                    .as_ref()
                    .map(|g| (&g.spec, &g.status, g.metadata.generation.unwrap_or(0))),
                observed,
                &pods,
            )
        } else {
            let clique = caches
                .cliques
                .get(&ObjectRef::<PodClique>::new(&object).within(&namespace));
            grove_state(
                &object,
                ComponentKind::PodClique,
                desired,
                clique
                    .as_ref()
                    .map(|c| (&c.spec, &c.status, c.metadata.generation.unwrap_or(0))),
                observed,
                &pods,
            )
        };
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
        let (kind, live) = if plans.multinode.contains(service) {
            let group = ctx
                .caches
                .scaling_groups
                .get(&ObjectRef::<PodCliqueScalingGroup>::new(&object).within(&namespace));
            ("PodCliqueScalingGroup", group.map(|g| g.spec.clone()))
        } else {
            let clique = ctx
                .caches
                .cliques
                .get(&ObjectRef::<PodClique>::new(&object).within(&namespace));
            ("PodClique", clique.map(|c| c.spec.clone()))
        };
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
