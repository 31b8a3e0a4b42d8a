//! The DynamoGraphDeployment controller.
//!
//! Reconcile is dereference → plan → render (pure, on the render pool) → apply → status:
//!
//! 1. **dereference**: the graph's components, their Deployments and pods, its other children,
//!    from the caches (never a list call);
//! 2. **plan**: restart tokens ([`restart`]) and rolling-update replicas ([`rollout`]) from what
//!    runs now;
//! 3. **render**: `dynamo_render::render_with` on the pool: one DynamoComponentDeployment per
//!    service plus what the graph owns directly (discovery RBAC, ConfigMaps, PVCs to create);
//! 4. **apply**: each object by server-side apply when it differs; scaling adapters for services
//!    with `scalingAdapter.enabled`; SSH key Secrets the render asks for, generated once; old
//!    worker components scaled down and removed as the rolling update allows; children the graph
//!    no longer wants deleted (only those this graph controls);
//! 5. **status**: per-service replicas, `state`, the `Ready` condition with a reason
//!    ([`status`]), written only when it changed; an event on each transition of `Ready`.
//!
//! A render that fails (invalid spec, a plugin error) becomes the graph's `Ready=False`
//! condition; nothing is applied, and other graphs are not affected.

pub mod adopt;
pub mod gate;
pub mod grove;
pub mod restart;
pub mod rollout;
pub mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use dynamo_api::{
    DynamoComponentDeployment, DynamoGraphDeployment, DynamoGraphDeploymentScalingAdapter,
};
use dynamo_render::component::COMPONENT_KINDS;
use dynamo_render::keys::{annotation, label};
use dynamo_render::model::{ComponentRole, GraphModel, Overrides};
use dynamo_render::{RenderError, Rendered};
use k8s_openapi::api::core::v1::Pod;
use kube::Resource;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use serde_json::{Value, json};

use crate::apply::{Owner, api_resource, controlled_by, to_value};
use crate::context::{Context, Error, RESYNC, key};
use crate::ssh;
use crate::status::{ComponentState, PodFacts, deployment_state};

/// Reconciles one graph (see the module docs).
pub async fn reconcile(
    graph: Arc<DynamoGraphDeployment>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    if ctx.claimed_elsewhere(graph.metadata.namespace.as_deref()) {
        // A namespace-restricted operator owns this namespace.
        return Ok(Action::await_change());
    }
    let started = std::time::Instant::now();
    let result = reconcile_graph(&graph, &ctx).await;
    tracing::debug!(
        controller = "graph",
        namespace = graph.metadata.namespace.as_deref().unwrap_or_default(),
        name = graph.metadata.name.as_deref().unwrap_or_default(),
        duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        ok = result.is_ok(),
        "reconciled"
    );
    result
}

async fn reconcile_graph(
    graph: &Arc<DynamoGraphDeployment>,
    ctx: &Arc<Context>,
) -> Result<Action, Error> {
    let graph = Arc::clone(graph);
    let ctx = Arc::clone(ctx);
    let namespace = graph.metadata.namespace.clone().unwrap_or_default();
    if let Some(patch) = adopt::release_legacy_finalizer(&graph.metadata) {
        patch_graph(&graph, patch, &ctx).await?;
    }
    if graph.metadata.deletion_timestamp.is_some() {
        // Children carry owner references; the garbage collector removes them.
        return Ok(Action::await_change());
    }
    let Some(owner) = Owner::of(graph.as_ref()) else {
        return Ok(Action::await_change());
    };

    // 1. Dereference.
    let mut live = Live::of(&graph, &owner.uid, &namespace, &ctx);

    // What the cluster must offer first (an orchestrator, a KAI queue).
    let capabilities = ctx.capabilities();
    let config = capabilities.render_config(&ctx.config);
    let queues = &ctx.caches.queues;
    let queue_exists = |queue: &str| queues.get(&ObjectRef::new(queue)).is_some();
    if let Some(blocked) = gate::before_render(&graph, &config, &capabilities, queue_exists) {
        status::write_blocked(&graph, &blocked, &live, &ctx).await?;
        return Ok(Action::await_change());
    }

    // 2–3. Plan and render, on the pool.
    let inputs = live.plan_inputs();
    let dgd = Arc::clone(&graph);
    let outcome = ctx
        .pool
        .run(move |registry| plan_and_render(&dgd, &config, registry, &inputs))
        .await?;
    let (rendered, plans) = match outcome {
        Ok(done) => done,
        Err(error) => {
            status::write_failure(&graph, &error, &live, &ctx).await?;
            return Ok(match error {
                RenderError::Invalid(_) => Action::await_change(),
                _ => Action::requeue(RESYNC),
            });
        }
    };

    if let Some(blocked) = gate::after_render(&rendered, &capabilities) {
        status::write_blocked(&graph, &blocked, &live, &ctx).await?;
        return Ok(Action::await_change());
    }

    // 4. Apply.
    let applied = apply_children(&graph, &owner, &namespace, &rendered, &plans, &live, &ctx).await;
    if let Err(error) = applied {
        status::write_apply_failure(&graph, &error, &live, &plans, &ctx).await?;
        return Err(error);
    }

    if plans.orchestrator == dynamo_render::Orchestrator::Grove {
        grove::scale(&graph, &plans, &ctx).await?;
        live.states = grove::states(&graph, &plans, &ctx);
    }

    // 5. Status.
    status::write(&graph, &live, &plans, &ctx).await?;
    ctx.succeeded(&key(graph.as_ref()));
    Ok(Action::requeue(RESYNC))
}

/// Retries a failed reconcile with per-graph backoff.
pub fn error_policy(graph: Arc<DynamoGraphDeployment>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(
        namespace = graph.metadata.namespace.as_deref().unwrap_or_default(),
        name = graph.metadata.name.as_deref().unwrap_or_default(),
        "reconcile failed: {error}"
    );
    ctx.backoff(key(graph.as_ref()))
}

/// The graph of a Grove PodCliqueScalingGroup: its PodCliqueSet's, which is named after it.
pub fn graph_of_scaling_group(
    group: &crate::kinds::PodCliqueScalingGroup,
) -> Option<ObjectRef<DynamoGraphDeployment>> {
    let owner = group
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.kind == "PodCliqueSet")?;
    Some(ObjectRef::new(&owner.name).within(group.metadata.namespace.as_deref()?))
}

/// The graphs whose pods go to KAI scheduler queue `queue` (their queue annotation, or the
/// default queue).
pub fn graphs_in_queue(
    queue: &crate::kinds::Queue,
    ctx: &Context,
) -> Vec<ObjectRef<DynamoGraphDeployment>> {
    let Some(name) = queue.metadata.name.as_deref() else {
        return Vec::new();
    };
    ctx.caches
        .graphs
        .state()
        .iter()
        .filter(|g| gate::queue_of(g) == name)
        .map(|g| ObjectRef::from_obj(g.as_ref()))
        .collect()
}

/// The graph that a child with the graph label belongs to.
pub fn graph_of<K: Resource>(child: &K) -> Option<ObjectRef<DynamoGraphDeployment>> {
    let name = child.meta().labels.as_ref()?.get(label::GRAPH_NAME)?;
    Some(ObjectRef::new(name).within(child.meta().namespace.as_deref()?))
}

// === dereference ===

/// The component a pod of the graph belongs to: its selector label, or for a LeaderWorkerSet
/// pod the LeaderWorkerSet's name without its group index (`{component}-{index}`).
fn pod_component(pod: &Pod) -> Option<String> {
    let labels = pod.metadata.labels.as_ref()?;
    if let Some(selector) = labels.get(label::SELECTOR) {
        return Some(selector.clone());
    }
    let group = labels.get(crate::stores::LWS_NAME_LABEL)?;
    Some(
        group
            .rsplit_once('-')
            .map_or(group.as_str(), |(c, _)| c)
            .to_owned(),
    )
}

/// What runs for a graph now, from the caches.
pub struct Live {
    /// Components this graph controls.
    pub components: Vec<Arc<DynamoComponentDeployment>>,
    /// Readiness of each component (by DCD name).
    pub states: BTreeMap<String, ComponentState>,
    /// The restart token on each component's pod template (by DCD name).
    pub template_tokens: BTreeMap<String, Option<String>>,
    /// Scaling adapters this graph controls.
    pub adapters: Vec<Arc<DynamoGraphDeploymentScalingAdapter>>,
    /// Other children this graph controls, as JSON, by (kind, name).
    pub others: BTreeMap<(String, String), Value>,
    /// The component (selector) of each pod of the graph, terminating ones included.
    pub pod_components: Vec<String>,
    /// The worker hash the graph records, when it does ([`adopt`]).
    pub recorded: Option<adopt::Recorded>,
}

impl Live {
    fn of(graph: &DynamoGraphDeployment, uid: &str, namespace: &str, ctx: &Context) -> Self {
        let in_ns = |ns: Option<&String>| ns.map(String::as_str) == Some(namespace);
        let caches = &ctx.caches;
        let components: Vec<_> = caches
            .components
            .owned_by(uid)
            .into_iter()
            .filter(|c| in_ns(c.metadata.namespace.as_ref()) && controlled_by(c.as_ref(), uid))
            .collect();
        let graph_name = graph.metadata.name.clone().unwrap_or_default();
        let pods: Vec<Arc<Pod>> = caches
            .pods
            .labelled(label::GRAPH_NAME, namespace, &graph_name);
        let mut states = BTreeMap::new();
        let mut template_tokens = BTreeMap::new();
        // Only the workers running under the hash the graph records matter for adoption.
        let recorded_hash = adopt::recorded_hash(graph);
        let mut recorded_workers = BTreeMap::new();
        for component in &components {
            let name = component.metadata.name.clone().unwrap_or_default();
            let deployment = caches
                .deployments
                .get(&ObjectRef::new(&name).within(namespace));
            let of_recorded_generation = recorded_hash.is_some()
                && component
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(label::WORKER_HASH))
                    .map(String::as_str)
                    == recorded_hash;
            if of_recorded_generation {
                if let Some(d) = &deployment {
                    recorded_workers
                        .insert(name.clone(), adopt::Workload::Deployment(Arc::clone(d)));
                }
                if let Some(uid) = component.metadata.uid.as_deref() {
                    for lws in caches.leader_worker_sets.owned_by(uid) {
                        let lws_name = lws.metadata.name.clone().unwrap_or_default();
                        recorded_workers.insert(lws_name, adopt::Workload::LeaderWorkerSet(lws));
                    }
                }
            }
            let facts: Vec<PodFacts> = pods
                .iter()
                .filter(|p| {
                    p.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(label::SELECTOR))
                        == Some(&name)
                })
                .map(|p| PodFacts::of(p))
                .collect();
            let desired = component.spec.shared.replicas.unwrap_or(1);
            let state = if crate::component::component_is_multinode(component) {
                crate::component::reported_state(component)
            } else {
                deployment_state(&name, desired, deployment.as_deref(), &facts)
            };
            states.insert(name.clone(), state);
            template_tokens.insert(
                name,
                deployment.and_then(|d| {
                    d.spec
                        .template
                        .metadata
                        .as_ref()?
                        .annotations
                        .as_ref()?
                        .get(annotation::RESTART_AT)
                        .cloned()
                }),
            );
        }
        let adapters = caches
            .adapters
            .owned_by(uid)
            .into_iter()
            .filter(|a| in_ns(a.metadata.namespace.as_ref()) && controlled_by(a.as_ref(), uid))
            .collect();
        let mut others = BTreeMap::new();
        let mut add = |value: Value| {
            let kind = value["kind"].as_str().unwrap_or_default().to_owned();
            let name = value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            others.insert((kind, name), value);
        };
        macro_rules! collect {
            ($store:expr) => {
                for object in $store.owned_by(uid) {
                    if in_ns(object.metadata.namespace.as_ref())
                        && controlled_by(object.as_ref(), uid)
                    {
                        add(to_value(object.as_ref()));
                    }
                }
            };
        }
        collect!(caches.service_accounts);
        collect!(caches.roles);
        collect!(caches.role_bindings);
        collect!(caches.config_maps);
        collect!(caches.pvcs);
        // On the Grove pathway the graph controls its Services, Ingress and PodCliqueSet itself
        // (no components in between).
        collect!(caches.services);
        collect!(caches.discovery_services);
        collect!(caches.ingresses);
        collect!(caches.clique_sets);
        let pod_components = pods.iter().filter_map(|p| pod_component(p)).collect();
        Self {
            recorded: adopt::recorded(graph, recorded_workers),
            components,
            states,
            template_tokens,
            adapters,
            others,
            pod_components,
        }
    }

    /// The live child of `kind` named `name`, as JSON.
    fn get(&self, kind: &str, name: &str) -> Option<Value> {
        if kind == "DynamoComponentDeployment" {
            return self
                .components
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(name))
                .map(|c| to_value(c.as_ref()));
        }
        self.others
            .get(&(kind.to_owned(), name.to_owned()))
            .cloned()
    }

    fn plan_inputs(&self) -> PlanInputs {
        PlanInputs {
            components: self
                .components
                .iter()
                .map(|c| {
                    let name = c.metadata.name.clone().unwrap_or_default();
                    let labels = c.metadata.labels.clone().unwrap_or_default();
                    let state = self.states.get(&name);
                    LiveComponent {
                        service: labels.get(label::COMPONENT).cloned().unwrap_or_default(),
                        hash: labels.get(label::WORKER_HASH).cloned(),
                        replicas: c.spec.shared.replicas.unwrap_or(1),
                        ready: state.and_then(|s| s.replicas.ready_replicas).unwrap_or(0),
                        settled: state.is_some_and(|s| s.phase == crate::status::Phase::Ready),
                        token: c
                            .spec
                            .shared
                            .pod_template
                            .as_ref()
                            .and_then(|t| t.metadata.as_ref())
                            .and_then(|m| m.annotations.as_ref())
                            .and_then(|a| a.get(annotation::RESTART_AT))
                            .cloned(),
                        template_token: self.template_tokens.get(&name).cloned().flatten(),
                        name,
                    }
                })
                .collect(),
            recorded: self.recorded.clone(),
        }
    }
}

/// A live component as the planners see it (plain data, sent to the render pool).
#[derive(Debug, Clone)]
struct LiveComponent {
    name: String,
    service: String,
    hash: Option<String>,
    replicas: i32,
    ready: i32,
    settled: bool,
    token: Option<String>,
    template_token: Option<String>,
}

#[derive(Debug, Clone)]
struct PlanInputs {
    components: Vec<LiveComponent>,
    recorded: Option<adopt::Recorded>,
}

/// What the planners decided.
#[derive(Debug, Clone, Default)]
pub struct Plans {
    /// The rolling update of worker services.
    pub rollout: rollout::Plan,
    /// The restart.
    pub restart: restart::Plan,
    /// Names of the components the current render wants, by service.
    pub current: BTreeMap<String, String>,
    /// Old worker components still running, by service.
    pub old: BTreeMap<String, Vec<String>>,
    /// Services with `scalingAdapter.enabled`.
    pub adapted: BTreeSet<String>,
    /// The graph's replicas per service (as the spec asks, before rolling-update adjustments).
    pub desired: BTreeMap<String, i32>,
    /// How the worker hash was chosen ([`adopt`]).
    pub worker_hash: adopt::Choice,
    /// The worker hash the render used.
    pub hash: Option<String>,
    /// The orchestrator the graph runs on.
    pub orchestrator: dynamo_render::Orchestrator,
    /// Services that run on several nodes.
    pub multinode: BTreeSet<String>,
    /// The Kubernetes name of each service (lowercase, `.` as `-`).
    pub k8s_names: BTreeMap<String, String>,
}

// === plan and render (on the pool) ===

fn plan_and_render(
    dgd: &DynamoGraphDeployment,
    config: &dynamo_render::RenderConfig,
    registry: &dynamo_plugin_runtime::PluginRegistry,
    inputs: &PlanInputs,
) -> Result<(Rendered, Plans), RenderError> {
    let mut model = GraphModel::build(dgd, config, registry)?;
    let choice = adopt::choose(
        dgd,
        config,
        registry,
        model.worker_hash.as_deref(),
        inputs.recorded.as_ref(),
    );
    let adopted = choice.hash().map(str::to_owned);
    if adopted.is_some() {
        model.apply(&Overrides {
            worker_hash: adopted.clone(),
            ..Overrides::default()
        });
    }
    let hash = model.worker_hash.clone();
    let mut plans = Plans {
        worker_hash: choice,
        hash: hash.clone(),
        orchestrator: model.orchestrator,
        ..Plans::default()
    };
    let mut workers = Vec::new();
    for service in &model.services {
        plans
            .k8s_names
            .insert(service.name.clone(), service.k8s_name.clone());
        if service.node_count > 1 {
            plans.multinode.insert(service.name.clone());
        }
        plans
            .current
            .insert(service.name.clone(), service.dcd_name.clone());
        plans.desired.insert(service.name.clone(), service.replicas);
        if service.spec.scaling_adapter.as_ref().is_some() {
            plans.adapted.insert(service.name.clone());
        }
        if service.role != ComponentRole::Worker || !service.hashed {
            continue;
        }
        let old: Vec<rollout::OldComponent> = inputs
            .components
            .iter()
            .filter(|c| c.service == service.name && c.hash.is_some() && c.hash != hash)
            .map(|c| rollout::OldComponent {
                name: c.name.clone(),
                replicas: c.replicas,
                ready: c.ready,
            })
            .collect();
        plans.old.insert(
            service.name.clone(),
            old.iter().map(|o| o.name.clone()).collect(),
        );
        let new_ready = inputs
            .components
            .iter()
            .find(|c| c.name == service.dcd_name)
            .map_or(0, |c| c.ready);
        workers.push(rollout::WorkerService {
            name: service.name.clone(),
            desired: service.replicas,
            max_surge: service.annotation(annotation::MAX_SURGE).map(str::to_owned),
            max_unavailable: service
                .annotation(annotation::MAX_UNAVAILABLE)
                .map(str::to_owned),
            new_ready,
            old,
        });
    }
    plans.rollout = rollout::plan(&workers);

    let services: Vec<restart::ServiceRestart> = model
        .services
        .iter()
        .map(|service| {
            let current = inputs
                .components
                .iter()
                .find(|c| c.name == service.dcd_name);
            restart::ServiceRestart {
                name: service.name.clone(),
                token: current.and_then(|c| c.token.clone()).or_else(|| {
                    // A new worker component inherits the token its service's old one had.
                    inputs
                        .components
                        .iter()
                        .find(|c| c.service == service.name)
                        .and_then(|c| c.token.clone())
                }),
                settled: current.is_some_and(|c| c.settled && c.template_token == c.token),
            }
        })
        .collect();
    plans.restart = restart::plan(
        dgd.spec.restart.as_ref(),
        &services,
        plans.rollout.in_progress,
    );

    let overrides = Overrides {
        service_annotations: plans
            .restart
            .tokens
            .iter()
            .map(|(svc, token)| {
                (
                    svc.clone(),
                    BTreeMap::from([(annotation::RESTART_AT.to_owned(), token.clone())]),
                )
            })
            .collect(),
        replicas: plans.rollout.new_replicas.clone(),
        worker_hash: adopted,
        ..Overrides::default()
    };
    let rendered = dynamo_render::render_with(dgd, config, registry, &overrides)?;
    Ok((rendered, plans))
}

// === apply ===

/// Merge-patches the graph object itself (its finalizers or annotations, never its spec).
async fn patch_graph(
    graph: &DynamoGraphDeployment,
    patch: Value,
    ctx: &Context,
) -> Result<(), Error> {
    let resource = api_resource(dynamo_api::API_VERSION, "DynamoGraphDeployment");
    ctx.applier
        .merge_patch(
            &resource,
            graph.metadata.namespace.as_deref().unwrap_or_default(),
            graph.metadata.name.as_deref().unwrap_or_default(),
            patch,
        )
        .await?;
    Ok(())
}

async fn apply_children(
    graph: &DynamoGraphDeployment,
    owner: &Owner,
    namespace: &str,
    rendered: &Rendered,
    plans: &Plans,
    live: &Live,
    ctx: &Context,
) -> Result<(), Error> {
    let applier = &ctx.applier;
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    // Without components (Grove), the graph applies its Services and Ingress itself.
    let grove = plans.orchestrator == dynamo_render::Orchestrator::Grove;
    for object in rendered
        .objects
        .iter()
        .filter(|o| grove || !COMPONENT_KINDS.contains(&o.kind()))
    {
        wanted.insert((object.kind().to_owned(), object.name().to_owned()));
        let current = live.get(object.kind(), object.name());
        if object.kind() == "ResourceClaimTemplate" {
            // No cache watches them (only GPU-memory-service graphs have one), and their spec
            // is immutable: read, and create when missing.
            if applier.fetch(object.manifest()).await?.is_none() {
                applier
                    .create(object.manifest().clone(), Some(owner))
                    .await?;
            }
            continue;
        }
        if object.kind() == "PersistentVolumeClaim" {
            // A claim is made once and then left alone: its spec is mostly immutable and its
            // data is the user's.
            if current.is_none() {
                applier
                    .create(object.manifest().clone(), Some(owner))
                    .await?;
            }
            continue;
        }
        let current = applier.live(object.manifest(), current).await?;
        applier
            .apply(object.manifest().clone(), owner, current.as_ref())
            .await?;
    }

    let dcd = api_resource(dynamo_api::API_VERSION, "DynamoComponentDeployment");
    if let adopt::Choice::NewlyAdopted { hash, computed } = &plans.worker_hash {
        tracing::info!(
            namespace,
            name = graph.metadata.name.as_deref().unwrap_or_default(),
            hash,
            "adopting the running workers' hash: their pods already match the spec"
        );
        let patch = json!({"metadata": {"annotations": {adopt::ADOPTED_SPEC_HASH: computed}}});
        patch_graph(graph, patch, ctx).await?;
    }
    for component in &live.components {
        if let Some(patch) = adopt::release_legacy_finalizer(&component.metadata) {
            let name = component.metadata.name.as_deref().unwrap_or_default();
            applier.merge_patch(&dcd, namespace, name, patch).await?;
        }
    }

    adapters(graph, owner, namespace, plans, live, ctx).await?;
    ensure_ssh_secrets(namespace, &rendered.ssh_key_secrets, ctx).await?;
    ensure_shared_service_accounts(namespace, rendered, ctx).await?;

    // Rolling update: old worker components shrink as the new ones become ready, then go.
    for (name, replicas) in &plans.rollout.scale_old {
        applier
            .merge_patch(
                &dcd,
                namespace,
                name,
                json!({"spec": {"replicas": replicas}}),
            )
            .await?;
    }
    let old: BTreeSet<&String> = plans.old.values().flatten().collect();
    for component in &live.components {
        let name = component.metadata.name.clone().unwrap_or_default();
        let keep_old = old.contains(&name) && !plans.rollout.delete_old.contains(&name);
        if wanted.contains(&("DynamoComponentDeployment".to_owned(), name.clone())) || keep_old {
            continue;
        }
        applier.delete(&to_value(component.as_ref())).await?;
    }
    // Other children the graph no longer wants. PVCs stay: they hold the user's data.
    for ((kind, name), value) in &live.others {
        if kind != "PersistentVolumeClaim" && !wanted.contains(&(kind.clone(), name.clone())) {
            applier.delete(value).await?;
        }
    }
    if !plans.rollout.delete_old.is_empty() {
        // A graph that records its worker hash (one taken over from Dynamo's operator) records
        // the new one once the rollout is done, as Dynamo 1.5's operator does: in the v2
        // annotation, the earlier one dropped.
        let recorded = adopt::recorded_hash(graph);
        if let Some(hash) = plans
            .hash
            .as_ref()
            .filter(|h| recorded.is_some_and(|r| r != h.as_str()))
        {
            let patch = json!({"metadata": {"annotations": {
                annotation::CURRENT_WORKER_HASH_V2: hash,
                annotation::CURRENT_WORKER_HASH: null,
                adopt::ADOPTED_SPEC_HASH: null,
            }}});
            patch_graph(graph, patch, ctx).await?;
        }
        ctx.event(
            graph,
            false,
            "RollingUpdateCompleted",
            format!(
                "removed the previous worker components: {}",
                plans.rollout.delete_old.join(", ")
            ),
        )
        .await;
    }
    Ok(())
}

/// Creates scaling adapters for services that enable them (the adapter then owns the replicas),
/// and deletes those of services that no longer do.
async fn adapters(
    graph: &DynamoGraphDeployment,
    owner: &Owner,
    namespace: &str,
    plans: &Plans,
    live: &Live,
    ctx: &Context,
) -> Result<(), Error> {
    let graph_name = graph.metadata.name.clone().unwrap_or_default();
    let mut wanted = BTreeSet::new();
    for service in &plans.adapted {
        let name = format!("{graph_name}-{}", dynamo_render::model::k8s_name(service));
        wanted.insert(name.clone());
        if live
            .adapters
            .iter()
            .any(|a| a.metadata.name.as_deref() == Some(name.as_str()))
        {
            continue;
        }
        // Created once with the service's replicas; from then on the adapter is the source of
        // truth (kubectl scale, an HPA), so the operator never writes its replicas again.
        let adapter = json!({
            "apiVersion": dynamo_api::API_VERSION,
            "kind": "DynamoGraphDeploymentScalingAdapter",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    label::GRAPH_NAME: graph_name,
                    label::COMPONENT: service,
                },
            },
            "spec": {
                "replicas": plans.desired.get(service).copied().unwrap_or(1),
                "dgdRef": {"name": graph_name, "componentName": service},
            },
        });
        ctx.applier.create(adapter, Some(owner)).await?;
    }
    for adapter in &live.adapters {
        if !adapter
            .metadata
            .name
            .as_ref()
            .is_some_and(|n| wanted.contains(n))
        {
            ctx.applier.delete(&to_value(adapter.as_ref())).await?;
        }
    }
    Ok(())
}

/// Makes the ServiceAccounts pods of the namespace share (`planner-serviceaccount`,
/// `epp-serviceaccount`) when a component runs as one, and binds each to the ClusterRole the
/// configuration names for it (`rbac.plannerClusterRoleName`, `rbac.eppClusterRoleName`). Made once,
/// without an owner: other graphs of the namespace use them too.
async fn ensure_shared_service_accounts(
    namespace: &str,
    rendered: &Rendered,
    ctx: &Context,
) -> Result<(), Error> {
    let rbac = &ctx.config.operator.rbac;
    let shared = [
        (
            dynamo_render::keys::PLANNER_SERVICE_ACCOUNT,
            &rbac.planner_cluster_role_name,
        ),
        (
            dynamo_render::keys::EPP_SERVICE_ACCOUNT,
            &rbac.epp_cluster_role_name,
        ),
    ];
    for (account, cluster_role) in shared {
        // The graph render also holds its components' pods (their controller applies them).
        let used = rendered.objects.iter().any(|o| {
            let spec = &o.manifest()["spec"];
            [
                &spec["template"]["spec"],
                &spec["leaderWorkerTemplate"]["leaderTemplate"]["spec"],
            ]
            .iter()
            .any(|pod| pod["serviceAccountName"] == account)
        });
        let exists = ctx
            .caches
            .service_accounts
            .get(&ObjectRef::new(account).within(namespace))
            .is_some();
        if !used || exists {
            continue;
        }
        let labels = json!({crate::stores::MANAGED_BY_LABEL: crate::stores::MANAGED_BY});
        ctx.applier
            .create(
                json!({
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {"name": account, "namespace": namespace, "labels": labels},
                }),
                None,
            )
            .await?;
        if !cluster_role.is_empty() {
            ctx.applier
                .create(
                    json!({
                        "apiVersion": "rbac.authorization.k8s.io/v1",
                        "kind": "RoleBinding",
                        "metadata": {"name": account, "namespace": namespace, "labels": labels},
                        "roleRef": {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "ClusterRole",
                            "name": cluster_role,
                        },
                        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
                    }),
                    None,
                )
                .await?;
        }
    }
    Ok(())
}

/// Makes the SSH key-pair Secrets the render asks for, once: a key is never rotated under
/// running pods. They carry no owner (several graphs of a namespace share the MPI key).
async fn ensure_ssh_secrets(namespace: &str, names: &[String], ctx: &Context) -> Result<(), Error> {
    for name in names {
        let exists = ctx
            .caches
            .secrets
            .get(&ObjectRef::new(name).within(namespace))
            .is_some();
        if exists {
            continue;
        }
        let secret = ssh::key_pair_secret(namespace, name).map_err(Error::Internal)?;
        ctx.applier.create(secret, None).await?;
    }
    Ok(())
}
