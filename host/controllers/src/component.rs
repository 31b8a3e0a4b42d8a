//! The DynamoComponentDeployment controller.
//!
//! Renders the component alone (`dynamo_render::render_component`, on the render pool), applies
//! its Deployment, Services and Ingress with the component as controller, shares the model
//! Services with the other components that serve the same model, deletes what it no longer
//! wants, and writes the component's status (`Available`, `DynamoComponentReady`, replicas).
//!
//! A component made by a graph renders exactly what the graph render printed for it. A component
//! applied by hand (no graph owns it) also gets the objects its graph would have made for it (the
//! discovery ServiceAccount, Role and RoleBinding, the wait-for-leader ConfigMap), owned by the
//! component.

use std::collections::BTreeSet;
use std::sync::Arc;

use dynamo_api::common::condition;
use dynamo_api::{DynamoComponentDeployment, DynamoComponentDeploymentStatus};
use dynamo_plugin_runtime::contract::text::one_line;
use dynamo_render::component::STANDALONE_KINDS;
use dynamo_render::keys::label;
use dynamo_render::{RenderError, Rendered};
use k8s_openapi::api::core::v1::Pod;
use kube::Resource;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use serde_json::Value;

use crate::apply::{Owner, api_resource, controlled_by, owned_by, to_value};
use crate::context::{Context, Error, RESYNC, key};
use crate::status::{self, ComponentState, Phase, PodFacts, deployment_state};

/// Reconciles one component (see the module docs).
pub async fn reconcile(
    component: Arc<DynamoComponentDeployment>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    if component.metadata.deletion_timestamp.is_some()
        || ctx.claimed_elsewhere(component.metadata.namespace.as_deref())
    {
        return Ok(Action::await_change());
    }
    let Some(owner) = Owner::of(component.as_ref()) else {
        return Ok(Action::await_change());
    };
    let namespace = component.metadata.namespace.clone().unwrap_or_default();
    let name = component.metadata.name.clone().unwrap_or_default();
    let standalone = !component
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.kind == "DynamoGraphDeployment" && r.controller == Some(true));

    let config = ctx.render_config();
    let dcd = Arc::clone(&component);
    let rendered = ctx
        .pool
        .run(move |registry| dynamo_render::render_component(&dcd, &config, registry))
        .await?;
    let rendered = match rendered {
        Ok(rendered) => rendered,
        Err(error) => {
            write_failure(&component, &error, &ctx).await?;
            return Ok(match error {
                RenderError::Invalid(_) => Action::await_change(),
                _ => Action::requeue(RESYNC),
            });
        }
    };

    if let Err(error) = apply(&owner, &namespace, &rendered, standalone, &ctx).await {
        let message = one_line(&error.to_string(), 2048);
        write_status(
            &component,
            not_ready("Reconciling", &message, &component),
            &ctx,
        )
        .await?;
        return Err(error);
    }

    let groups = groups(&rendered, &owner, &namespace, &ctx);
    let state = state(&component, &name, &namespace, &groups, &owner, &ctx);
    write_status(&component, from_state(&component, &state), &ctx).await?;
    ctx.succeeded(&key(component.as_ref()));
    // A group given a new spec moments ago reads as updating until LWS_REACTION has passed;
    // nothing else may trigger a look once it has.
    let reacting = groups.iter().any(|g| g.recently_applied);
    Ok(Action::requeue(if reacting {
        LWS_REACTION
    } else {
        RESYNC
    }))
}

/// Retries a failed reconcile with per-component backoff.
pub fn error_policy(
    component: Arc<DynamoComponentDeployment>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    tracing::warn!(
        namespace = component.metadata.namespace.as_deref().unwrap_or_default(),
        name = component.metadata.name.as_deref().unwrap_or_default(),
        "reconcile failed: {error}"
    );
    ctx.backoff(key(component.as_ref()))
}

/// The component whose pods carry selector label value `name`.
pub fn component_of_pod(pod: &Pod) -> Option<ObjectRef<DynamoComponentDeployment>> {
    let name = pod.metadata.labels.as_ref()?.get(label::SELECTOR)?;
    Some(ObjectRef::new(name).within(pod.metadata.namespace.as_deref()?))
}

/// Every component holding a reference to shared object `object` (a model Service).
pub fn components_of_shared<K: Resource>(object: &K) -> Vec<ObjectRef<DynamoComponentDeployment>> {
    let namespace = object.meta().namespace.clone().unwrap_or_default();
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .filter(|r| r.kind == "DynamoComponentDeployment")
        .map(|r| ObjectRef::new(&r.name).within(&namespace))
        .collect()
}

/// True for a model Service (shared between components).
fn is_model_service(kind: &str, name: &str) -> bool {
    kind == "Service" && name.starts_with("dynamo-model-")
}

async fn apply(
    owner: &Owner,
    namespace: &str,
    rendered: &Rendered,
    standalone: bool,
    ctx: &Context,
) -> Result<(), Error> {
    let caches = &ctx.caches;
    let get = |kind: &str, name: &str| -> Option<Value> {
        match kind {
            "Deployment" => cached(&caches.deployments, namespace, name),
            "Service" if name.starts_with("dynamo-model-") => {
                cached(&caches.model_services, namespace, name)
            }
            "Service" => cached(&caches.services, namespace, name),
            "Ingress" => cached(&caches.ingresses, namespace, name),
            "ServiceAccount" => cached(&caches.service_accounts, namespace, name),
            "Role" => cached(&caches.roles, namespace, name),
            "RoleBinding" => cached(&caches.role_bindings, namespace, name),
            "ConfigMap" => cached(&caches.config_maps, namespace, name),
            "LeaderWorkerSet" => cached(&caches.leader_worker_sets, namespace, name),
            "PodGroup" => cached(&caches.pod_groups, namespace, name),
            _ => None,
        }
    };
    // LeaderWorkerSet groups take a new spec one at a time: while one group that already has it
    // is not settled, the others keep running the previous one.
    let groups = groups(rendered, owner, namespace, ctx);
    let mut group_in_flight = groups.iter().any(|g| g.exists && g.current && !g.settled);
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for object in &rendered.objects {
        let kind = object.kind();
        let owned_kind = dynamo_render::component::COMPONENT_KINDS.contains(&kind)
            || (standalone && STANDALONE_KINDS.contains(&kind));
        if !owned_kind {
            continue;
        }
        wanted.insert((kind.to_owned(), object.name().to_owned()));
        if kind == "LeaderWorkerSet"
            && let Some(group) = groups.iter().find(|g| g.name == object.name())
            && group.exists
            && !group.current
        {
            if group_in_flight {
                continue;
            }
            group_in_flight = true;
        }
        let live = ctx
            .applier
            .live(object.manifest(), get(kind, object.name()))
            .await?;
        if is_model_service(kind, object.name()) {
            ctx.applier
                .apply_shared(object.manifest().clone(), owner, live.as_ref())
                .await?;
        } else {
            ctx.applier
                .apply(object.manifest().clone(), owner, live.as_ref())
                .await?;
        }
    }

    // What this component controls (or shares) and no longer wants.
    let in_ns = |ns: Option<&String>| ns.map(String::as_str) == Some(namespace);
    macro_rules! prune {
        ($store:expr) => {
            for object in $store.owned_by(&owner.uid) {
                if !in_ns(object.metadata.namespace.as_ref())
                    || !controlled_by(object.as_ref(), &owner.uid)
                {
                    continue;
                }
                let value = to_value(object.as_ref());
                let kind = value["kind"].as_str().unwrap_or_default().to_owned();
                let name = object.metadata.name.clone().unwrap_or_default();
                if !wanted.contains(&(kind, name)) {
                    ctx.applier.delete(&value).await?;
                }
            }
        };
    }
    prune!(caches.deployments);
    prune!(caches.services);
    prune!(caches.ingresses);
    prune!(caches.leader_worker_sets);
    prune!(caches.pod_groups);
    if standalone {
        prune!(caches.service_accounts);
        prune!(caches.roles);
        prune!(caches.role_bindings);
        prune!(caches.config_maps);
    }
    for service in caches.model_services.owned_by(&owner.uid) {
        if !in_ns(service.metadata.namespace.as_ref()) || !owned_by(service.as_ref(), &owner.uid) {
            continue;
        }
        let name = service.metadata.name.clone().unwrap_or_default();
        if !wanted.contains(&("Service".to_owned(), name)) {
            ctx.applier
                .release_shared(&to_value(service.as_ref()), owner)
                .await?;
        }
    }
    Ok(())
}

/// The cached object `namespace/name` of `store`, as JSON.
fn cached<K>(
    store: &kube::runtime::reflector::Store<K>,
    namespace: &str,
    name: &str,
) -> Option<Value>
where
    K: Resource<DynamicType = ()> + Clone + serde::Serialize + 'static,
{
    store
        .get(&ObjectRef::new(name).within(namespace))
        .map(|o| to_value(o.as_ref()))
}

/// How long after the operator gave a LeaderWorkerSet a new spec the group counts as updating
/// even if its status still reads settled: LeaderWorkerSet reports no observed generation, so
/// this covers the moment before its controller reacts.
const LWS_REACTION: std::time::Duration = std::time::Duration::from_secs(5);

/// The LeaderWorkerSet groups `rendered` wants, as they stand.
fn groups(
    rendered: &Rendered,
    owner: &Owner,
    namespace: &str,
    ctx: &Context,
) -> Vec<status::GroupFacts> {
    rendered
        .objects
        .iter()
        .filter(|o| o.kind() == "LeaderWorkerSet")
        .map(|object| {
            let name = object.name().to_owned();
            let live = ctx
                .caches
                .leader_worker_sets
                .get(&ObjectRef::new(&name).within(namespace));
            let applied = ctx.applier.applied_state(
                object.manifest(),
                owner,
                live.as_ref().map(|l| to_value(l.as_ref())).as_ref(),
                LWS_REACTION,
            );
            status::GroupFacts {
                name,
                exists: live.is_some(),
                current: applied.current,
                settled: !applied.recent
                    && live.is_some_and(|l| status::lws_settled(&l.spec, &l.status)),
                recently_applied: applied.recent,
            }
        })
        .collect()
}

/// The component's readiness from its Deployment (or LeaderWorkerSets) and pods.
fn state(
    component: &DynamoComponentDeployment,
    name: &str,
    namespace: &str,
    groups: &[status::GroupFacts],
    owner: &Owner,
    ctx: &Context,
) -> ComponentState {
    let desired = component.spec.shared.replicas.unwrap_or(1);
    if !groups.is_empty() || component_is_multinode(component) {
        let wanted: BTreeSet<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let mut pods = Vec::new();
        let mut surplus = 0;
        for lws in ctx.caches.leader_worker_sets.owned_by(&owner.uid) {
            let lws_name = lws.metadata.name.clone().unwrap_or_default();
            if lws.metadata.namespace.as_deref() != Some(namespace)
                || !controlled_by(lws.as_ref(), &owner.uid)
            {
                continue;
            }
            if !wanted.contains(lws_name.as_str()) {
                surplus += 1;
            }
            pods.extend(
                ctx.caches
                    .pods
                    .labelled(crate::stores::LWS_NAME_LABEL, namespace, &lws_name)
                    .iter()
                    .map(|p| PodFacts::of(p)),
            );
        }
        return status::lws_state(name, desired, groups, surplus, &pods);
    }
    let deployment = ctx
        .caches
        .deployments
        .get(&ObjectRef::new(name).within(namespace));
    let pods: Vec<PodFacts> = ctx
        .caches
        .pods
        .labelled(label::SELECTOR, namespace, name)
        .iter()
        .map(|p| PodFacts::of(p))
        .collect();
    deployment_state(name, desired, deployment.as_deref(), &pods)
}

/// True for a component that runs on several nodes.
pub fn component_is_multinode(component: &DynamoComponentDeployment) -> bool {
    component.spec.shared.uses_multinode()
}

/// The state of a multi-node component as its own controller reported it (the graph reads it
/// from there rather than rendering the component again).
pub fn reported_state(component: &DynamoComponentDeployment) -> ComponentState {
    let name = component.metadata.name.clone().unwrap_or_default();
    let status = component.status.clone().unwrap_or_default();
    let replicas = status
        .component
        .clone()
        .unwrap_or_else(|| dynamo_api::ComponentReplicaStatus {
            component_kind: dynamo_api::ComponentKind::LeaderWorkerSet,
            component_names: Some(vec![name.clone()]),
            replicas: 0,
            updated_replicas: 0,
            ready_replicas: Some(0),
            available_replicas: Some(0),
            runtime_namespace: None,
            scheduled_replicas: None,
            gpus_per_engine: None,
            gpus_per_replica: None,
        });
    let observed = status.observed_generation >= component.metadata.generation
        && component.metadata.generation.is_some();
    let available = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == condition::AVAILABLE);
    let (phase, message) = match available {
        Some(c) if observed && c.status == "True" => (Phase::Ready, c.message.clone()),
        Some(c) if observed => {
            let (reason, rest) = c.message.split_once(": ").unwrap_or(("", &c.message));
            let phase = Phase::from_reason(reason).unwrap_or(Phase::PodsNotReady);
            let rest = if Phase::from_reason(reason).is_some() {
                rest.to_owned()
            } else {
                c.message.clone()
            };
            (phase, rest)
        }
        _ => (
            Phase::PodsNotReady,
            format!("{name}: waiting for its controller to report"),
        ),
    };
    ComponentState {
        phase,
        replicas,
        message,
    }
}

fn previous(
    component: &DynamoComponentDeployment,
    type_: &str,
) -> Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    component
        .status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
        .cloned()
}

fn from_state(
    component: &DynamoComponentDeployment,
    state: &ComponentState,
) -> DynamoComponentDeploymentStatus {
    let ready = state.phase == Phase::Ready;
    let groups = state.replicas.component_kind == dynamo_api::ComponentKind::LeaderWorkerSet;
    let reason = match (groups, ready) {
        (false, true) => "DeploymentReady",
        (false, false) => "DeploymentNotReady",
        (true, true) => "AllLeaderWorkerSetsReady",
        (true, false) => "SomeLeaderWorkerSetsNotReady",
    };
    let now = status::now();
    let generation = component.metadata.generation;
    let message = format!("{}: {}", state.phase.reason(), state.message);
    DynamoComponentDeploymentStatus {
        observed_generation: generation,
        conditions: Some(vec![
            status::condition(
                condition::AVAILABLE,
                ready,
                reason,
                &message,
                generation,
                previous(component, condition::AVAILABLE).as_ref(),
                &now,
            ),
            status::condition(
                condition::DYNAMO_COMPONENT_READY,
                ready,
                if ready {
                    "ComponentReady"
                } else {
                    "ComponentNotReady"
                },
                &message,
                generation,
                previous(component, condition::DYNAMO_COMPONENT_READY).as_ref(),
                &now,
            ),
        ]),
        component: Some(state.replicas.clone()),
    }
}

fn not_ready(
    reason: &str,
    message: &str,
    component: &DynamoComponentDeployment,
) -> DynamoComponentDeploymentStatus {
    let now = status::now();
    let generation = component.metadata.generation;
    let previous_status = component.status.clone().unwrap_or_default();
    DynamoComponentDeploymentStatus {
        observed_generation: previous_status.observed_generation,
        conditions: Some(vec![
            status::condition(
                condition::AVAILABLE,
                false,
                reason,
                message,
                generation,
                previous(component, condition::AVAILABLE).as_ref(),
                &now,
            ),
            status::condition(
                condition::DYNAMO_COMPONENT_READY,
                false,
                reason,
                message,
                generation,
                previous(component, condition::DYNAMO_COMPONENT_READY).as_ref(),
                &now,
            ),
        ]),
        component: previous_status.component,
    }
}

async fn write_failure(
    component: &DynamoComponentDeployment,
    error: &RenderError,
    ctx: &Context,
) -> Result<(), Error> {
    let reason = match error {
        RenderError::Plugin { .. } => "PluginError",
        _ => "InvalidSpec",
    };
    let message = one_line(&error.to_string(), 2048);
    write_status(component, not_ready(reason, &message, component), ctx).await
}

async fn write_status(
    component: &DynamoComponentDeployment,
    status: DynamoComponentDeploymentStatus,
    ctx: &Context,
) -> Result<(), Error> {
    if component.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let before = previous(component, condition::AVAILABLE);
    let value = serde_json::to_value(&status).map_err(|e| Error::Internal(e.to_string()))?;
    ctx.applier
        .apply_status(
            &api_resource(dynamo_api::API_VERSION, "DynamoComponentDeployment"),
            component.metadata.namespace.as_deref().unwrap_or_default(),
            component.metadata.name.as_deref().unwrap_or_default(),
            value,
        )
        .await?;
    // Components of a graph report through the graph; a component made by hand reports itself.
    let after = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == condition::AVAILABLE);
    let standalone = !component
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.kind == "DynamoGraphDeployment");
    if standalone
        && let Some(after) = after
        && before
            .as_ref()
            .is_none_or(|b| b.status != after.status || b.reason != after.reason)
    {
        ctx.event(
            component,
            after.status != "True"
                && after.reason != "DeploymentNotReady"
                && after.reason != "SomeLeaderWorkerSetsNotReady",
            &after.reason,
            after.message.clone(),
        )
        .await;
    }
    Ok(())
}
