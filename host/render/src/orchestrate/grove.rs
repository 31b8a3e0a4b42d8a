//! The Grove pathway: one PodCliqueSet named after the graph.
//!
//! A single-node service is one clique `{svc}` (`replicas` = service replicas, `minAvailable`
//! 1). A multi-node service is a leader clique `{svc}-ldr` (1 pod) and a worker clique
//! `{svc}-wkr` (`nodeCount - 1` pods), each gang-complete (`minAvailable` = its replicas), tied
//! into a PodCliqueScalingGroup `{svc}` whose replicas are the service replicas. When a
//! component's leader must start after its workers (its chain ends in a launcher), the leader
//! clique `startsAfter` the worker clique and the set's `cliqueStartupType` is Explicit.

use dynamo_plugin_contract::Role;
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use serde_json::{Value, json};

use crate::config::RenderConfig;
use crate::error::RenderError;
use crate::keys::annotation;
use crate::model::{GraphModel, ServiceModel};
use crate::object::Object;
use crate::orchestrate::{Pods, RenderedComponent, non_empty};
use crate::pod::clique_name;

/// `apiVersion` of the Grove PodCliqueSet.
pub const PCS_API_VERSION: &str = "grove.io/v1alpha1";
/// Cliques start in any order.
pub const STARTUP_ANY_ORDER: &str = "CliqueStartupTypeAnyOrder";
/// Cliques start after the cliques named in their `startsAfter`.
pub const STARTUP_EXPLICIT: &str = "CliqueStartupTypeExplicit";

/// The PodCliqueSet of the whole graph.
pub fn pod_clique_set(
    graph: &GraphModel,
    components: &[RenderedComponent<'_>],
    config: &RenderConfig,
) -> Result<Object, RenderError> {
    let mut cliques = Vec::new();
    let mut groups = Vec::new();
    let mut explicit = false;
    // Services by name, the order Dynamo 1.5 lists them in (it keeps the order of a v1beta1
    // graph's components, which converting a v1alpha1 graph sorts by name).
    for component in components {
        let service = component.service;
        match &component.pods {
            Pods::Single(pod) => cliques.push(clique(
                graph,
                service,
                Role::Main,
                pod,
                service.replicas,
                None,
                pack_domain(service),
            )?),
            Pods::Multi { leader, worker } => {
                let workers = i32::try_from(service.node_count.saturating_sub(1)).unwrap_or(0);
                let worker_clique = clique_name(service, Role::Worker);
                let starts_after = component
                    .leader_starts_after_workers
                    .then(|| vec![worker_clique.clone()]);
                explicit |= starts_after.is_some();
                cliques.push(clique(
                    graph,
                    service,
                    Role::Leader,
                    leader,
                    1,
                    starts_after,
                    None,
                )?);
                cliques.push(clique(
                    graph,
                    service,
                    Role::Worker,
                    worker,
                    workers,
                    None,
                    None,
                )?);
                let mut group = json!({
                    "name": service.k8s_name,
                    "cliqueNames": [clique_name(service, Role::Leader), worker_clique],
                    "replicas": service.replicas,
                    // Grove refuses `minAvailable` above `replicas`: a group scaled to zero
                    // needs none available.
                    "minAvailable": service.replicas.min(1),
                });
                if let Some(domain) = pack_domain(service) {
                    group["topologyConstraint"] = json!({ "packDomain": domain });
                }
                groups.push(group);
            }
        }
    }
    let mut template = json!({
        "headlessServiceConfig": { "publishNotReadyAddresses": true },
        "cliqueStartupType": if explicit { STARTUP_EXPLICIT } else { STARTUP_ANY_ORDER },
        "terminationDelay": go_duration(&config.operator.orchestrators.grove.termination_delay),
        "cliques": cliques,
    });
    if !groups.is_empty() {
        template["podCliqueScalingGroups"] = Value::Array(groups);
    }
    if let Some(domain) = &graph.pack_domain {
        template["topologyConstraint"] = json!({ "packDomain": domain });
    }
    Ok(Object::new(
        PCS_API_VERSION,
        "PodCliqueSet",
        &graph.namespace,
        &graph.name,
        json!({
            "metadata": {
                "labels": crate::orchestrate::graph_labels(graph),
                "annotations": non_empty(graph.spec_annotations.clone()),
            },
            "spec": { "replicas": 1, "template": template },
        }),
    ))
}

fn pack_domain(service: &ServiceModel) -> Option<String> {
    service
        .spec
        .topology_constraint
        .as_ref()
        .map(|t| t.pack_domain.clone())
}

/// One clique template: the pod's labels and annotations lifted onto the clique, its spec as
/// `podSpec`.
#[allow(clippy::too_many_arguments)]
fn clique(
    graph: &GraphModel,
    service: &ServiceModel,
    role: Role,
    pod: &PodTemplateSpec,
    replicas: i32,
    starts_after: Option<Vec<String>>,
    pack_domain: Option<String>,
) -> Result<Value, RenderError> {
    let name = clique_name(service, role);
    let meta = pod.metadata.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    let mut pod_spec: PodSpec = pod.spec.clone().unwrap_or_default();
    crate::orchestrate::kai_scheduler(graph, &mut pod_spec, &mut labels);
    let pod_spec = serde_json::to_value(&pod_spec)
        .map_err(|e| RenderError::field(service.field(), format!("cannot serialize: {e}")))?;
    let mut spec = json!({
        "roleName": name,
        "replicas": replicas,
        "minAvailable": if role == Role::Main { replicas.min(1) } else { replicas },
        "podSpec": pod_spec,
    });
    if let Some(after) = starts_after {
        spec["startsAfter"] = json!(after);
    }
    // The clique carries its component's annotations (graph switches included) and, under
    // Kubernetes discovery, the discovery backend, as Dynamo's operator writes them.
    let mut annotations = crate::orchestrate::dcd::dcd_annotations(graph, service);
    annotations.extend(meta.annotations.unwrap_or_default());
    if graph.kube_discovery() {
        annotations.insert(
            annotation::DISCOVERY_BACKEND.to_owned(),
            "kubernetes".to_owned(),
        );
    }
    let mut clique = json!({
        "name": name,
        "labels": labels,
        "annotations": non_empty(annotations),
        "spec": spec,
    });
    if let Some(domain) = pack_domain {
        clique["topologyConstraint"] = json!({ "packDomain": domain });
    }
    Ok(clique)
}

/// `text` (a duration such as `15m` or `1h30m`) as Go's `time.Duration` prints it (`15m0s`,
/// `1h30m0s`), the form Dynamo's operator writes; text that is not such a duration is kept.
fn go_duration(text: &str) -> String {
    let mut seconds = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return text.to_owned(),
        };
        let Ok(n) = number.parse::<u64>() else {
            return text.to_owned();
        };
        seconds += n * unit;
        number.clear();
    }
    if !number.is_empty() || seconds == 0 {
        return text.to_owned();
    }
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::go_duration;

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(go_duration("15m"), "15m0s");
        assert_eq!(go_duration("1h30m"), "1h30m0s");
        assert_eq!(go_duration("90s"), "1m30s");
        assert_eq!(go_duration("2h"), "2h0m0s");
        assert_eq!(go_duration("15m0s"), "15m0s");
        assert_eq!(go_duration("soon"), "soon");
        assert_eq!(go_duration("1.5h"), "1.5h");
    }
}
