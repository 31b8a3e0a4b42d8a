//! How ready a component is, from its Deployment and its pods; and conditions that keep their
//! transition time while nothing changes. Pure functions.
//!
//! A component is:
//! - **insufficient_capacity** when a pod cannot be scheduled (its `PodScheduled` condition says
//!   `Unschedulable`); the message names the resource (`Insufficient nvidia.com/gpu`);
//! - **updating** while pods of an older revision exist: the Deployment has not observed its
//!   latest spec, counts fewer updated than total replicas, or more pods exist (terminating ones
//!   included) than updated replicas;
//! - **pods_not_ready** while fewer pods are ready or available than desired;
//! - **ready** otherwise.
//!
//! Old pods count until they are gone, terminating or not: a graph is never reported ready while
//! the previous revision still runs anywhere.

use dynamo_api::ComponentReplicaStatus;
use dynamo_api::common::ComponentKind;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Where a component stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Every desired replica is updated, ready and available, and no old pod remains.
    Ready,
    /// Pods of an older revision remain.
    Updating,
    /// Some pods are not ready yet.
    PodsNotReady,
    /// Some pods cannot be scheduled; names the resource that is short, when known.
    InsufficientCapacity(Option<String>),
}

impl Phase {
    /// The `Ready` condition reason this phase gives a graph.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Ready => "all_resources_are_ready",
            Self::Updating => "updating",
            Self::PodsNotReady => "pods_not_ready",
            Self::InsufficientCapacity(_) => "insufficient_capacity",
        }
    }

    /// Severity when several components differ: the worst one names the graph's reason.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Ready => 0,
            Self::PodsNotReady => 1,
            Self::Updating => 2,
            Self::InsufficientCapacity(_) => 3,
        }
    }
}

/// The state of one component's workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentState {
    /// Where it stands.
    pub phase: Phase,
    /// Replica counts, as a graph's or component's status reports them.
    pub replicas: ComponentReplicaStatus,
    /// One line for the user.
    pub message: String,
}

/// The few facts of a pod the status needs (the cache keeps only these).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodFacts {
    /// Being deleted.
    pub terminating: bool,
    /// `Ready` condition true.
    pub ready: bool,
    /// The `PodScheduled=False, reason=Unschedulable` message, if any.
    pub unschedulable: Option<String>,
}

impl PodFacts {
    /// Reads the facts from a (possibly stripped) pod.
    pub fn of(pod: &Pod) -> Self {
        let conditions = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let ready = conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        let unschedulable = conditions
            .iter()
            .find(|c| {
                c.type_ == "PodScheduled"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("Unschedulable")
            })
            .map(|c| c.message.clone().unwrap_or_default());
        Self {
            terminating: pod.metadata.deletion_timestamp.is_some(),
            ready,
            unschedulable,
        }
    }
}

/// The resource a scheduler message says is short: `0/3 nodes are available: 3 Insufficient
/// nvidia.com/gpu.` gives `nvidia.com/gpu`.
pub fn insufficient_resource(message: &str) -> Option<String> {
    let rest = message.split("Insufficient ").nth(1)?;
    let word: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',')
        .collect();
    // Resource names contain dots (`nvidia.com/gpu`); only a sentence's final dot is cut.
    let resource = word.trim_end_matches('.');
    (!resource.is_empty()).then(|| resource.to_owned())
}

/// `InsufficientCapacity` with its message when a pod of `name` cannot be scheduled.
fn unschedulable(name: &str, pods: &[PodFacts]) -> Option<(Phase, String)> {
    let message = pods.iter().find_map(|p| p.unschedulable.clone())?;
    let resource = insufficient_resource(&message);
    let what = resource
        .as_deref()
        .map_or_else(|| "capacity".to_owned(), str::to_owned);
    let count = pods.iter().filter(|p| p.unschedulable.is_some()).count();
    Some((
        Phase::InsufficientCapacity(resource),
        format!("{count} pod(s) of {name} cannot be scheduled: not enough {what} ({message})"),
    ))
}

/// The state of a component run by Deployment `name` (absent until created), which should
/// have `desired` replicas, given its pods.
pub fn deployment_state(
    name: &str,
    desired: i32,
    deployment: Option<&Deployment>,
    pods: &[PodFacts],
) -> ComponentState {
    let status = deployment
        .and_then(|d| d.status.clone())
        .unwrap_or_default();
    let replicas = ComponentReplicaStatus {
        component_kind: ComponentKind::Deployment,
        component_names: Some(vec![name.to_owned()]),
        replicas: status.replicas.unwrap_or(0),
        updated_replicas: status.updated_replicas.unwrap_or(0),
        ready_replicas: Some(status.ready_replicas.unwrap_or(0)),
        available_replicas: Some(status.available_replicas.unwrap_or(0)),
        runtime_namespace: None,
        scheduled_replicas: None,
        gpus_per_engine: None,
        gpus_per_replica: None,
    };
    let state = |phase, message: String| ComponentState {
        phase,
        replicas: replicas.clone(),
        message,
    };
    let Some(deployment) = deployment else {
        return state(
            Phase::PodsNotReady,
            format!("{name}: 0 of {desired} replicas ready"),
        );
    };
    if let Some((phase, message)) = unschedulable(name, pods) {
        return state(phase, message);
    }
    let generation = deployment.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0) >= generation;
    let updated = replicas.updated_replicas;
    let extra_pods = pods.len() > usize::try_from(updated.max(desired)).unwrap_or(0);
    // A change its controller has not seen yet is an update only if something of the previous
    // template runs; a new Deployment is simply not ready yet (and reads the same as before it
    // existed, so its creation costs no status write of its own).
    // A Deployment whose controller never wrote its status has no previous template: pods seen
    // before that first status write are the new template's.
    let ever_observed = status.observed_generation.is_some();
    let unobserved_change =
        !observed && ever_observed && (replicas.replicas > 0 || !pods.is_empty());
    if unobserved_change || replicas.replicas > updated || extra_pods {
        return state(
            Phase::Updating,
            format!(
                "{name}: {updated} of {desired} replicas updated, {} pod(s) exist",
                pods.len()
                    .max(usize::try_from(replicas.replicas).unwrap_or(0))
            ),
        );
    }
    let ready = replicas.ready_replicas.unwrap_or(0);
    let available = replicas.available_replicas.unwrap_or(0);
    if !observed || updated < desired || ready < desired || available < desired {
        // Pods that cannot even be created (a missing ServiceAccount, a quota) say why here.
        let failure = status
            .conditions
            .iter()
            .flatten()
            .find(|c| {
                c.type_.as_deref() == Some("ReplicaFailure") && c.status.as_deref() == Some("True")
            })
            .and_then(|c| c.message.clone());
        let message = match failure {
            Some(failure) => format!("{name}: pods cannot be created: {failure}"),
            None => format!("{name}: {ready} of {desired} replicas ready"),
        };
        return state(Phase::PodsNotReady, message);
    }
    state(
        Phase::Ready,
        format!("{name}: {ready} of {desired} replicas ready"),
    )
}

/// A condition with `status`, `reason` and `message`; it keeps `previous`'s transition time when
/// the status did not change, so an unchanged condition never causes a write.
pub fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    previous: Option<&Condition>,
    now: &Time,
) -> Condition {
    let status = if status { "True" } else { "False" };
    let last_transition_time = previous
        .filter(|p| p.status == status)
        .map(|p| p.last_transition_time.clone())
        .unwrap_or_else(|| now.clone());
    Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
        observed_generation: generation,
        last_transition_time,
    }
}

/// The current time as a Kubernetes `Time`.
pub fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

// === multi-node components ===

/// What status needs of one LeaderWorkerSet group (one replica of a multi-node component).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFacts {
    /// Name of the LeaderWorkerSet.
    pub name: String,
    /// It exists.
    pub exists: bool,
    /// It holds the current render (the operator has applied the latest spec to it).
    pub current: bool,
    /// Its controller reports it updated, ready and available, with no update in progress.
    pub settled: bool,
    /// The operator applied its spec moments ago: its controller may not have reacted yet.
    pub recently_applied: bool,
}

impl Phase {
    /// The phase a reason written by [`Phase::reason`] names (`None` for other reasons).
    pub fn from_reason(reason: &str) -> Option<Self> {
        Some(match reason {
            "all_resources_are_ready" => Self::Ready,
            "updating" => Self::Updating,
            "pods_not_ready" => Self::PodsNotReady,
            "insufficient_capacity" => Self::InsufficientCapacity(None),
            _ => return None,
        })
    }
}

/// True when LeaderWorkerSet `status` (with `spec`) reports every group updated and ready, the
/// `Available` condition true and no `UpdateInProgress`.
pub fn lws_settled(spec: &serde_json::Value, status: &serde_json::Value) -> bool {
    use crate::kinds::{condition_status, int_at};
    let replicas = spec
        .get("replicas")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(1);
    int_at(status, "/readyReplicas") >= replicas
        && int_at(status, "/updatedReplicas") >= replicas
        && condition_status(status, "Available") == Some("True")
        && condition_status(status, "UpdateInProgress") != Some("True")
}

/// The state of a multi-node component run as `desired` LeaderWorkerSet groups, given each
/// wanted group, the number of groups past `desired` that still exist (being removed), and the
/// pods of all of them.
///
/// Replica counts count groups (one leader and its workers), as an HPA scaling the component
/// sees them. The component is ready only when every wanted group exists, holds the current
/// spec and is settled, and no surplus group remains.
pub fn lws_state(
    name: &str,
    desired: i32,
    groups: &[GroupFacts],
    surplus: usize,
    pods: &[PodFacts],
) -> ComponentState {
    let count = |f: fn(&GroupFacts) -> bool| {
        i32::try_from(groups.iter().filter(|g| f(g)).count()).unwrap_or(i32::MAX)
    };
    let existing = count(|g| g.exists);
    let updated = count(|g| g.exists && g.current);
    let ready = count(|g| g.exists && g.current && g.settled);
    let surplus_groups = i32::try_from(surplus).unwrap_or(i32::MAX);
    let replicas = ComponentReplicaStatus {
        component_kind: ComponentKind::LeaderWorkerSet,
        component_names: Some(groups.iter().map(|g| g.name.clone()).collect()),
        replicas: existing.saturating_add(surplus_groups),
        updated_replicas: updated,
        ready_replicas: Some(ready),
        available_replicas: Some(ready),
        runtime_namespace: None,
        scheduled_replicas: None,
        gpus_per_engine: None,
        gpus_per_replica: None,
    };
    let state = |phase, message: String| ComponentState {
        phase,
        replicas: replicas.clone(),
        message,
    };
    if let Some((phase, message)) = unschedulable(name, pods) {
        return state(phase, message);
    }
    let outdated: Vec<&str> = groups
        .iter()
        .filter(|g| g.exists && !g.current)
        .map(|g| g.name.as_str())
        .collect();
    if !outdated.is_empty() || surplus > 0 {
        let mut parts = Vec::new();
        if !outdated.is_empty() {
            parts.push(format!(
                "group(s) {} still run the previous spec",
                outdated.join(", ")
            ));
        }
        if surplus > 0 {
            parts.push(format!("{surplus} surplus group(s) are being removed"));
        }
        return state(
            Phase::Updating,
            format!(
                "{name}: {updated} of {desired} groups updated; {}",
                parts.join("; ")
            ),
        );
    }
    if ready < desired {
        return state(
            Phase::PodsNotReady,
            format!("{name}: {ready} of {desired} groups ready"),
        );
    }
    state(
        Phase::Ready,
        format!("{name}: {ready} of {desired} groups ready"),
    )
}

/// The state of a Grove-run service from its PodClique (single-node) or PodCliqueScalingGroup
/// (multi-node) `object` named `name`, absent until Grove creates it, which should run `desired`
/// replicas; `observed` is false while Grove has not seen the latest PodCliqueSet.
///
/// A clique is ready when its spec, status, ready and updated replica counts all equal `desired`
/// and Grove observed its generation; a scaling group when its available and updated replicas
/// reach `desired`.
pub fn grove_state(
    name: &str,
    kind: ComponentKind,
    desired: i32,
    object: Option<(&serde_json::Value, &serde_json::Value, i64)>,
    observed: bool,
    pods: &[PodFacts],
) -> ComponentState {
    use crate::kinds::int_at;
    let (spec, status, generation) = match object {
        Some((spec, status, generation)) => (spec.clone(), status.clone(), generation),
        None => (serde_json::Value::Null, serde_json::Value::Null, 0),
    };
    let clamp = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    let total = clamp(int_at(&status, "/replicas"));
    let updated = clamp(int_at(&status, "/updatedReplicas"));
    let ready = if kind == ComponentKind::PodCliqueScalingGroup {
        clamp(int_at(&status, "/availableReplicas"))
    } else {
        clamp(int_at(&status, "/readyReplicas"))
    };
    let replicas = ComponentReplicaStatus {
        component_kind: kind,
        component_names: Some(vec![name.to_owned()]),
        replicas: total,
        updated_replicas: updated,
        ready_replicas: Some(ready),
        available_replicas: Some(ready),
        runtime_namespace: None,
        scheduled_replicas: None,
        gpus_per_engine: None,
        gpus_per_replica: None,
    };
    let state = |phase, message: String| ComponentState {
        phase,
        replicas: replicas.clone(),
        message,
    };
    if object.is_none() {
        return state(
            Phase::PodsNotReady,
            format!("{name}: Grove has not created it yet"),
        );
    }
    if let Some((phase, message)) = unschedulable(name, pods) {
        return state(phase, message);
    }
    let spec_replicas = clamp(
        spec.get("replicas")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(i64::from(desired)),
    );
    let status_observed = int_at(&status, "/observedGeneration") >= generation;
    if !observed || !status_observed || updated < total || spec_replicas != desired {
        return state(
            Phase::Updating,
            format!("{name}: {updated} of {desired} replicas updated"),
        );
    }
    let settled = if kind == ComponentKind::PodCliqueScalingGroup {
        ready >= desired && updated >= desired
    } else {
        total == desired && ready == desired && updated == desired
    };
    if !settled {
        return state(
            Phase::PodsNotReady,
            format!("{name}: {ready} of {desired} replicas ready"),
        );
    }
    state(
        Phase::Ready,
        format!("{name}: {ready} of {desired} replicas ready"),
    )
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::DeploymentStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn deployment(generation: i64, status: DeploymentStatus) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                generation: Some(generation),
                ..ObjectMeta::default()
            },
            status: Some(status),
            ..Deployment::default()
        }
    }

    fn status(observed: i64, replicas: i32, updated: i32, ready: i32) -> DeploymentStatus {
        DeploymentStatus {
            observed_generation: Some(observed),
            replicas: Some(replicas),
            updated_replicas: Some(updated),
            ready_replicas: Some(ready),
            available_replicas: Some(ready),
            ..DeploymentStatus::default()
        }
    }

    fn ready_pods(n: usize) -> Vec<PodFacts> {
        vec![
            PodFacts {
                ready: true,
                ..PodFacts::default()
            };
            n
        ]
    }

    #[test]
    fn phases() {
        let d = deployment(2, status(2, 2, 2, 2));
        assert_eq!(
            deployment_state("d", 2, Some(&d), &ready_pods(2)).phase,
            Phase::Ready
        );
        // The new spec is not observed yet.
        let d = deployment(3, status(2, 2, 2, 2));
        assert_eq!(
            deployment_state("d", 2, Some(&d), &ready_pods(2)).phase,
            Phase::Updating
        );
        // An old pod is still terminating.
        let d = deployment(2, status(2, 2, 2, 2));
        let mut pods = ready_pods(2);
        pods.push(PodFacts {
            terminating: true,
            ..PodFacts::default()
        });
        assert_eq!(
            deployment_state("d", 2, Some(&d), &pods).phase,
            Phase::Updating
        );
        // Old replicas still counted by the Deployment.
        let d = deployment(2, status(2, 3, 2, 2));
        assert_eq!(
            deployment_state("d", 2, Some(&d), &ready_pods(3)).phase,
            Phase::Updating
        );
        let d = deployment(2, status(2, 2, 2, 1));
        assert_eq!(
            deployment_state("d", 2, Some(&d), &ready_pods(2)).phase,
            Phase::PodsNotReady
        );
        assert_eq!(
            deployment_state("d", 2, None, &[]).phase,
            Phase::PodsNotReady
        );
    }

    #[test]
    fn a_new_deployment_reads_as_before_it_existed() {
        let missing = deployment_state("d", 2, None, &[]);
        // Created, its controller has not seen it yet: no status at all.
        let created = Deployment {
            metadata: ObjectMeta {
                generation: Some(1),
                ..ObjectMeta::default()
            },
            ..Deployment::default()
        };
        let unseen = deployment_state("d", 2, Some(&created), &[]);
        assert_eq!(unseen.phase, Phase::PodsNotReady);
        assert_eq!(unseen.message, missing.message, "no extra status write");
        // Its first pods can be seen before its controller first writes its status: they are
        // the new template's, so this is not an update.
        let starting = deployment_state("d", 2, Some(&created), &ready_pods(1));
        assert_eq!(starting.phase, Phase::PodsNotReady, "{}", starting.message);
        // An unseen change with the old pods still there is an update, never Ready.
        let d = deployment(3, status(2, 2, 2, 2));
        assert_eq!(
            deployment_state("d", 2, Some(&d), &ready_pods(2)).phase,
            Phase::Updating
        );
        // Scaled to zero and not seen yet: not Ready until it is.
        let d = deployment(2, status(1, 0, 0, 0));
        assert_ne!(deployment_state("d", 0, Some(&d), &[]).phase, Phase::Ready);
    }

    #[test]
    fn unschedulable_pods_name_the_resource() {
        let d = deployment(1, status(1, 1, 1, 0));
        let pods = vec![PodFacts {
            unschedulable: Some("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.".into()),
            ..PodFacts::default()
        }];
        let state = deployment_state("d", 1, Some(&d), &pods);
        assert_eq!(
            state.phase,
            Phase::InsufficientCapacity(Some("nvidia.com/gpu".into()))
        );
        assert!(
            state.message.contains("nvidia.com/gpu"),
            "{}",
            state.message
        );
        assert_eq!(
            insufficient_resource(
                "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."
            ),
            Some("cpu".into())
        );
        assert_eq!(insufficient_resource("node(s) had untolerated taint"), None);
    }

    #[test]
    fn conditions_keep_their_transition_time() {
        let then = Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
        let first = condition("Ready", false, "pods_not_ready", "m", Some(1), None, &then);
        let later = now();
        let same = condition(
            "Ready",
            false,
            "pods_not_ready",
            "m2",
            Some(2),
            Some(&first),
            &later,
        );
        assert_eq!(same.last_transition_time, then);
        let flipped = condition(
            "Ready",
            true,
            "all_resources_are_ready",
            "m",
            Some(2),
            Some(&first),
            &later,
        );
        assert_eq!(flipped.last_transition_time, later);
    }

    fn group(name: &str, exists: bool, current: bool, settled: bool) -> GroupFacts {
        GroupFacts {
            name: name.to_owned(),
            exists,
            current,
            settled,
            recently_applied: false,
        }
    }

    #[test]
    fn leader_worker_set_groups_count_as_replicas() {
        let ready = [
            group("c-0", true, true, true),
            group("c-1", true, true, true),
        ];
        let state = lws_state("c", 2, &ready, 0, &[]);
        assert_eq!(state.phase, Phase::Ready);
        assert_eq!(
            state.replicas.component_kind,
            ComponentKind::LeaderWorkerSet
        );
        assert_eq!(
            (state.replicas.replicas, state.replicas.ready_replicas),
            (2, Some(2))
        );

        // One group still on the previous spec: updating, whatever its readiness.
        let mixed = [
            group("c-0", true, true, true),
            group("c-1", true, false, true),
        ];
        let state = lws_state("c", 2, &mixed, 0, &[]);
        assert_eq!(state.phase, Phase::Updating);
        assert!(state.message.contains("c-1"), "{}", state.message);
        assert_eq!(state.replicas.updated_replicas, 1);

        // A surplus group being removed keeps it updating too, and counts as a replica.
        let state = lws_state("c", 2, &ready, 1, &[]);
        assert_eq!(state.phase, Phase::Updating);
        assert_eq!(state.replicas.replicas, 3);

        // Missing or settling groups: not ready yet.
        let partial = [
            group("c-0", true, true, true),
            group("c-1", false, false, false),
        ];
        assert_eq!(
            lws_state("c", 2, &partial, 0, &[]).phase,
            Phase::PodsNotReady
        );
        let settling = [group("c-0", true, true, false)];
        assert_eq!(
            lws_state("c", 1, &settling, 0, &[]).phase,
            Phase::PodsNotReady
        );

        let stuck = PodFacts {
            unschedulable: Some("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.".into()),
            ..PodFacts::default()
        };
        let state = lws_state("c", 2, &partial, 0, &[stuck]);
        assert_eq!(
            state.phase,
            Phase::InsufficientCapacity(Some("nvidia.com/gpu".into()))
        );
    }

    #[test]
    fn a_group_is_settled_only_when_its_controller_says_so() {
        let spec = serde_json::json!({"replicas": 1});
        let ready = serde_json::json!({
            "readyReplicas": 1, "updatedReplicas": 1,
            "conditions": [{"type": "Available", "status": "True"}],
        });
        assert!(lws_settled(&spec, &ready));
        let mut updating = ready.clone();
        updating["conditions"] = serde_json::json!([
            {"type": "Available", "status": "True"},
            {"type": "UpdateInProgress", "status": "True"},
        ]);
        assert!(!lws_settled(&spec, &updating));
        assert!(!lws_settled(
            &spec,
            &serde_json::json!({"readyReplicas": 1})
        ));
    }

    #[test]
    fn grove_cliques_and_scaling_groups() {
        let spec = serde_json::json!({"replicas": 2});
        let ready = serde_json::json!({
            "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2, "observedGeneration": 3,
        });
        let kind = ComponentKind::PodClique;
        let state = grove_state("g-0-w", kind, 2, Some((&spec, &ready, 3)), true, &[]);
        assert_eq!(state.phase, Phase::Ready);
        // Not created yet, not observed, or scaled but not yet applied: not ready.
        assert_eq!(
            grove_state("g-0-w", kind, 2, None, true, &[]).phase,
            Phase::PodsNotReady
        );
        assert_eq!(
            grove_state("g-0-w", kind, 2, Some((&spec, &ready, 4)), true, &[]).phase,
            Phase::Updating
        );
        assert_eq!(
            grove_state("g-0-w", kind, 2, Some((&spec, &ready, 3)), false, &[]).phase,
            Phase::Updating
        );
        assert_eq!(
            grove_state("g-0-w", kind, 3, Some((&spec, &ready, 3)), true, &[]).phase,
            Phase::Updating
        );
        let short = serde_json::json!({
            "replicas": 2, "readyReplicas": 1, "updatedReplicas": 2, "observedGeneration": 3,
        });
        assert_eq!(
            grove_state("g-0-w", kind, 2, Some((&spec, &short, 3)), true, &[]).phase,
            Phase::PodsNotReady
        );
        // A scaling group counts available replicas; zero of zero is ready.
        let group = ComponentKind::PodCliqueScalingGroup;
        let zero_spec = serde_json::json!({"replicas": 0});
        let zero = serde_json::json!({"observedGeneration": 1});
        let state = grove_state("g-0-d", group, 0, Some((&zero_spec, &zero, 1)), true, &[]);
        assert_eq!(state.phase, Phase::Ready);
        assert_eq!(
            state.replicas.component_kind,
            ComponentKind::PodCliqueScalingGroup
        );
    }
}
