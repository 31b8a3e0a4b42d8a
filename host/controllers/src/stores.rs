//! The operator's watch caches: one shared reflector per kind, read by every controller and
//! subscribed to for triggers.
//!
//! Children are watched by label (`nvidia.com/dynamo-graph-deployment-name`, which everything the
//! operator renders for a graph carries; model Services by `nvidia.com/dynamo-base-model-hash`;
//! generated Secrets by `app.kubernetes.io/managed-by`), so the caches hold the operator's
//! objects, not the cluster's. Before an object is stored its `managedFields` are dropped, and
//! pods are cut down to the few facts status needs: caches are most of an operator's memory.
//!
//! Each cache has a secondary [`Index`] (by owner UID, or by the graph and component labels for
//! pods), so a reconcile finds a graph's children without scanning every cached object.

use std::fmt::Debug;
use std::hash::Hash;
use std::ops::Deref;
use std::sync::Arc;

use dynamo_api::{
    DynamoComponentDeployment, DynamoGraphDeployment, DynamoGraphDeploymentScalingAdapter,
};
use dynamo_render::keys::label;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, PodStatus, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::Api;
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{self, ObjectRef, ReflectHandle, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use crate::discovery::Capabilities;
use crate::index::{self, Index};
use crate::kinds::{
    LeaderWorkerSet, PodClique, PodCliqueScalingGroup, PodCliqueSet, PodGroup, Queue,
};

/// Label of a graph's components, workloads, component Services, ConfigMaps, PVCs and pods.
pub const GRAPH_LABEL: &str = "nvidia.com/dynamo-graph-deployment-name";
/// Label every Service of a graph under Kubernetes discovery carries (the only one of the
/// Grove pathway's Services).
pub const DISCOVERY_SERVICE_LABEL: &str = "nvidia.com/dynamo-discovery-backend";
/// Label LeaderWorkerSet puts on the pods of a LeaderWorkerSet (its name).
pub const LWS_NAME_LABEL: &str = "leaderworkerset.sigs.k8s.io/name";
/// Label of the shared model Services.
pub const MODEL_LABEL: &str = "nvidia.com/dynamo-base-model-hash";
/// Label of what the operator manages (generated Secrets, shared ServiceAccounts, discovery RBAC).
pub const MANAGED_BY_LABEL: &str = label::MANAGED_BY;
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = label::MANAGED_BY_OPERATOR;

/// Buffer of each shared stream: how far a slow subscriber may lag before the reflector waits.
const SHARED_BUFFER: usize = 1024;

/// Every cache the controllers read.
#[derive(Clone)]
pub struct Caches {
    /// DynamoGraphDeployments.
    pub graphs: Cache<DynamoGraphDeployment>,
    /// DynamoComponentDeployments.
    pub components: Cache<DynamoComponentDeployment>,
    /// Scaling adapters.
    pub adapters: Cache<DynamoGraphDeploymentScalingAdapter>,
    /// Deployments of components.
    pub deployments: Cache<Deployment>,
    /// Component Services.
    pub services: Cache<Service>,
    /// Services with the discovery labels (the Grove pathway's per-service Services).
    pub discovery_services: Cache<Service>,
    /// Shared model Services.
    pub model_services: Cache<Service>,
    /// ServiceAccounts (discovery ones, and the shared planner and endpoint-picker ones).
    pub service_accounts: Cache<ServiceAccount>,
    /// Discovery Roles.
    pub roles: Cache<Role>,
    /// Discovery RoleBindings.
    pub role_bindings: Cache<RoleBinding>,
    /// Graph ConfigMaps (wait-for-leader, plugins').
    pub config_maps: Cache<ConfigMap>,
    /// PVCs graphs asked the operator to create.
    pub pvcs: Cache<PersistentVolumeClaim>,
    /// Frontend Ingresses.
    pub ingresses: Cache<Ingress>,
    /// SSH key Secrets the operator generated.
    pub secrets: Cache<Secret>,
    /// Pods of graphs, cut down to metadata and conditions.
    pub pods: Cache<Pod>,
    /// LeaderWorkerSets of multi-node components (empty until the cluster serves them).
    pub leader_worker_sets: Cache<LeaderWorkerSet>,
    /// Volcano PodGroups earlier versions made for multi-node components, to remove them
    /// (empty until served).
    pub pod_groups: Cache<PodGroup>,
    /// Grove PodCliqueSets (empty until served).
    pub clique_sets: Cache<PodCliqueSet>,
    /// Grove PodCliques of graphs, without their pod spec (empty until served).
    pub cliques: Cache<PodClique>,
    /// Grove PodCliqueScalingGroups (empty until served).
    pub scaling_groups: Cache<PodCliqueScalingGroup>,
    /// KAI scheduler Queues (empty until served).
    pub queues: Cache<Queue>,
}

/// Change streams, one per controller input (a kind read by two controllers has two).
pub struct Triggers {
    /// Graphs, for the graph controller.
    pub graphs: ReflectHandle<DynamoGraphDeployment>,
    /// Graphs, for the scaling-adapter controller.
    pub graphs_for_adapters: ReflectHandle<DynamoGraphDeployment>,
    /// Components, for the component controller.
    pub components: ReflectHandle<DynamoComponentDeployment>,
    /// Components, for the graph controller (owned).
    pub components_for_graphs: ReflectHandle<DynamoComponentDeployment>,
    /// Adapters, for their controller.
    pub adapters: ReflectHandle<DynamoGraphDeploymentScalingAdapter>,
    /// Adapters, for the graph controller (owned).
    pub adapters_for_graphs: ReflectHandle<DynamoGraphDeploymentScalingAdapter>,
    /// Deployments, for the component controller (owned).
    pub deployments: ReflectHandle<Deployment>,
    /// Deployments, for the graph controller (status).
    pub deployments_for_graphs: ReflectHandle<Deployment>,
    /// Services, for the component controller (owned).
    pub services: ReflectHandle<Service>,
    /// Discovery-labelled Services, for the graph controller (owned on the Grove pathway).
    pub discovery_services: ReflectHandle<Service>,
    /// Model Services, for the component controller.
    pub model_services: ReflectHandle<Service>,
    /// Ingresses, for the component controller (owned).
    pub ingresses: ReflectHandle<Ingress>,
    /// ServiceAccounts, for the graph controller (owned).
    pub service_accounts: ReflectHandle<ServiceAccount>,
    /// Roles, for the graph controller (owned).
    pub roles: ReflectHandle<Role>,
    /// RoleBindings, for the graph controller (owned).
    pub role_bindings: ReflectHandle<RoleBinding>,
    /// ConfigMaps, for the graph controller (owned).
    pub config_maps: ReflectHandle<ConfigMap>,
    /// PVCs, for the graph controller (owned).
    pub pvcs: ReflectHandle<PersistentVolumeClaim>,
    /// Pods, for the component controller.
    pub pods: ReflectHandle<Pod>,
    /// Pods, for the graph controller.
    pub pods_for_graphs: ReflectHandle<Pod>,
    /// LeaderWorkerSets, for the component controller (owned).
    pub leader_worker_sets: ReflectHandle<LeaderWorkerSet>,
    /// LeaderWorkerSets, for the graph controller (status).
    pub leader_worker_sets_for_graphs: ReflectHandle<LeaderWorkerSet>,
    /// PodGroups, for the component controller (owned).
    pub pod_groups: ReflectHandle<PodGroup>,
    /// PodCliqueSets, for the graph controller (owned).
    pub clique_sets: ReflectHandle<PodCliqueSet>,
    /// PodCliques, for the graph controller (status).
    pub cliques: ReflectHandle<PodClique>,
    /// PodCliqueScalingGroups, for the graph controller (status).
    pub scaling_groups: ReflectHandle<PodCliqueScalingGroup>,
    /// Queues, for the graph controller (the queue condition).
    pub queues: ReflectHandle<Queue>,
}

/// The caches, their triggers, and the tasks that keep them filled.
pub struct Started {
    /// The caches.
    pub caches: Caches,
    /// Their change streams.
    pub triggers: Triggers,
    /// The watch tasks (abort them to stop watching).
    pub tasks: Vec<JoinHandle<()>>,
    /// The caches of optional kinds, started once the cluster serves them.
    pub optional: Optional,
}

/// A store and its writer before the watch starts.
struct Pending<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store: Store<K>,
    writer: Writer<K>,
    index: Index<K>,
}

impl<K> Pending<K>
where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Default,
{
    /// A cache whose objects are indexed under `keys`; empty until [`Pending::start`].
    fn new(keys: fn(&K) -> Vec<String>) -> Self {
        let (store, writer) = reflector::store_shared(SHARED_BUFFER);
        Self {
            store,
            writer,
            index: Index::new(keys),
        }
    }

    fn subscribe(&self) -> ReflectHandle<K> {
        // `store_shared` writers always hand out subscriptions.
        self.writer
            .subscribe()
            .unwrap_or_else(|| unreachable!("a shared store's writer subscribes"))
    }

    /// The cache this fills (usable before the watch starts: it is empty until then).
    fn cache(&self) -> Cache<K> {
        Cache {
            store: self.store.clone(),
            index: self.index.clone(),
        }
    }

    /// Starts the watch that fills the cache from `api`, keeping only objects matching `labels`
    /// and passing each through `strip` before it is stored.
    fn start(
        self,
        api: Api<K>,
        labels: Option<&str>,
        strip: fn(&mut K),
        tasks: &mut Vec<JoinHandle<()>>,
    ) -> Cache<K> {
        let cache = self.cache();
        let mut config = watcher::Config::default();
        if let Some(labels) = labels {
            config = config.labels(labels);
        }
        let kind = K::kind(&Default::default()).into_owned();
        let indexer = self.index.clone();
        let stream = watcher(api, config)
            .default_backoff()
            .modify(move |object: &mut K| {
                object.meta_mut().managed_fields = None;
                strip(object);
            })
            // The index learns of a change before the cache, so whatever a lookup finds in the
            // index is already in the cache or about to be (see `Cache::lookup`).
            .map(move |event| {
                if let Ok(event) = &event {
                    indexer.observe(event);
                }
                event
            })
            .reflect_shared(self.writer)
            .for_each(move |event| {
                if let Err(error) = event {
                    tracing::warn!(%kind, "watch error: {error}");
                }
                std::future::ready(())
            });
        tasks.push(tokio::spawn(stream));
        cache
    }
}

/// The API of namespaced kind `K` in `namespace`, or in all namespaces.
fn namespaced<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A watch cache with its secondary index.
///
/// Dereferences to the kube-runtime [`Store`] for plain lookups by name; use [`Cache::owned_by`]
/// and [`Cache::labelled`] instead of scanning [`Store::state`].
pub struct Cache<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store: Store<K>,
    index: Index<K>,
}

impl<K: Resource + Clone + 'static> Clone for Cache<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            index: self.index.clone(),
        }
    }
}

impl<K: Resource + Clone + 'static> Deref for Cache<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    type Target = Store<K>;

    fn deref(&self) -> &Store<K> {
        &self.store
    }
}

// === impl Cache ===

impl<K: Resource + Clone + 'static> Cache<K>
where
    K::DynamicType: Eq + Hash + Clone + Default,
{
    /// The kube-runtime store (for controllers, which take it by value).
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Cached objects that list `uid` among their owner references (controller or not). Empty
    /// unless the cache indexes owners.
    pub fn owned_by(&self, uid: &str) -> Vec<Arc<K>> {
        self.lookup(&index::owner_key(uid))
    }

    /// Cached objects in `namespace` whose `label` is `value`. Empty unless the cache indexes
    /// that label.
    pub fn labelled(&self, label: &str, namespace: &str, value: &str) -> Vec<Arc<K>> {
        self.lookup(&index::label_key(label, namespace, value))
    }

    fn lookup(&self, key: &str) -> Vec<Arc<K>> {
        let mut found: Vec<Arc<K>> = self
            .index
            .get(key)
            .into_iter()
            // Indexed but not yet stored (the cache is a step behind): not there yet.
            .filter_map(|(namespace, name)| {
                self.store.get(&ObjectRef::new(&name).within(&namespace))
            })
            .collect();
        // Stable order, so reconciles act (and log) deterministically.
        found.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
        found
    }
}

fn keep<K>(_: &mut K) {}

fn no_keys<K>(_: &K) -> Vec<String> {
    Vec::new()
}

fn owners<K: Resource>(object: &K) -> Vec<String> {
    index::owner_keys(object)
}

/// Pods are found by graph, by component (selector label) and by LeaderWorkerSet; their owners
/// are ReplicaSets or StatefulSets.
fn pod_keys(pod: &Pod) -> Vec<String> {
    index::label_keys(pod, &[label::GRAPH_NAME, label::SELECTOR, LWS_NAME_LABEL])
}

/// Adapters are found by owner (to prune) and by the graph they scale (`spec.dgdRef.name`).
fn adapter_keys(adapter: &DynamoGraphDeploymentScalingAdapter) -> Vec<String> {
    let mut keys = index::owner_keys(adapter);
    keys.push(index::label_key(
        ADAPTER_GRAPH_KEY,
        adapter.metadata.namespace.as_deref().unwrap_or_default(),
        &adapter.spec.dgd_ref.name,
    ));
    keys
}

/// Pseudo-label under which adapters are indexed by the graph they scale.
pub const ADAPTER_GRAPH_KEY: &str = "spec.dgdRef.name";

/// Pods keep their metadata and conditions only.
fn strip_pod(pod: &mut Pod) {
    pod.spec = None;
    let conditions = pod.status.take().and_then(|s| s.conditions);
    pod.status = Some(PodStatus {
        conditions,
        ..PodStatus::default()
    });
    pod.metadata.annotations = None;
}

/// Starts every cache of the operator's own and built-in kinds, in all namespaces or in
/// `namespace` only. The caches of optional kinds ([`Optional`]) start later, once the cluster
/// serves them.
pub fn start(client: &Client, namespace: Option<&str>) -> Started {
    let graphs = Pending::<DynamoGraphDeployment>::new(no_keys);
    let components = Pending::<DynamoComponentDeployment>::new(owners);
    let adapters = Pending::<DynamoGraphDeploymentScalingAdapter>::new(adapter_keys);
    let deployments = Pending::<Deployment>::new(owners);
    let services = Pending::<Service>::new(owners);
    let discovery_services = Pending::<Service>::new(owners);
    let model_services = Pending::<Service>::new(owners);
    let service_accounts = Pending::<ServiceAccount>::new(owners);
    let roles = Pending::<Role>::new(owners);
    let role_bindings = Pending::<RoleBinding>::new(owners);
    let config_maps = Pending::<ConfigMap>::new(owners);
    let pvcs = Pending::<PersistentVolumeClaim>::new(owners);
    let ingresses = Pending::<Ingress>::new(owners);
    let secrets = Pending::<Secret>::new(owners);
    let pods = Pending::<Pod>::new(pod_keys);
    let leader_worker_sets = Pending::<LeaderWorkerSet>::new(owners);
    let pod_groups = Pending::<PodGroup>::new(owners);
    let clique_sets = Pending::<PodCliqueSet>::new(owners);
    let cliques = Pending::<PodClique>::new(no_keys);
    let scaling_groups = Pending::<PodCliqueScalingGroup>::new(no_keys);
    let queues = Pending::<Queue>::new(no_keys);

    let triggers = Triggers {
        graphs: graphs.subscribe(),
        graphs_for_adapters: graphs.subscribe(),
        components: components.subscribe(),
        components_for_graphs: components.subscribe(),
        adapters: adapters.subscribe(),
        adapters_for_graphs: adapters.subscribe(),
        deployments: deployments.subscribe(),
        deployments_for_graphs: deployments.subscribe(),
        services: services.subscribe(),
        discovery_services: discovery_services.subscribe(),
        model_services: model_services.subscribe(),
        ingresses: ingresses.subscribe(),
        service_accounts: service_accounts.subscribe(),
        roles: roles.subscribe(),
        role_bindings: role_bindings.subscribe(),
        config_maps: config_maps.subscribe(),
        pvcs: pvcs.subscribe(),
        pods: pods.subscribe(),
        pods_for_graphs: pods.subscribe(),
        leader_worker_sets: leader_worker_sets.subscribe(),
        leader_worker_sets_for_graphs: leader_worker_sets.subscribe(),
        pod_groups: pod_groups.subscribe(),
        clique_sets: clique_sets.subscribe(),
        cliques: cliques.subscribe(),
        scaling_groups: scaling_groups.subscribe(),
        queues: queues.subscribe(),
    };

    let mut tasks = Vec::new();
    let graph = Some(GRAPH_LABEL);
    let managed_selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY}");
    let managed = Some(managed_selector.as_str());
    // The optional kinds' caches exist (empty) from the start; their watches start later.
    let optional_caches = (
        leader_worker_sets.cache(),
        pod_groups.cache(),
        clique_sets.cache(),
        cliques.cache(),
        scaling_groups.cache(),
        queues.cache(),
    );
    let optional = Optional {
        namespace: namespace.map(str::to_owned),
        leader_worker_sets: Some(leader_worker_sets),
        pod_groups: Some(pod_groups),
        clique_sets: Some(clique_sets),
        cliques: Some(cliques),
        scaling_groups: Some(scaling_groups),
        queues: Some(queues),
    };
    let caches = Caches {
        graphs: graphs.start(namespaced(client, namespace), None, keep, &mut tasks),
        components: components.start(namespaced(client, namespace), None, keep, &mut tasks),
        adapters: adapters.start(namespaced(client, namespace), None, keep, &mut tasks),
        deployments: deployments.start(namespaced(client, namespace), graph, keep, &mut tasks),
        services: services.start(namespaced(client, namespace), graph, keep, &mut tasks),
        // Grove-pathway Services carry only the discovery labels, as Dynamo's operator writes
        // them, so the graph-label cache above cannot see them.
        discovery_services: discovery_services.start(
            namespaced(client, namespace),
            Some(DISCOVERY_SERVICE_LABEL),
            keep,
            &mut tasks,
        ),
        model_services: model_services.start(
            namespaced(client, namespace),
            Some(MODEL_LABEL),
            keep,
            &mut tasks,
        ),
        // All of them: the planner's and endpoint picker's ServiceAccounts are shared by the
        // graphs of a namespace and carry no graph label. ServiceAccounts are small.
        service_accounts: service_accounts.start(
            namespaced(client, namespace),
            None,
            keep,
            &mut tasks,
        ),
        // The discovery Role and RoleBinding are labelled as Dynamo's operator labels them (no
        // graph label), so these two watch what the operator manages.
        roles: roles.start(namespaced(client, namespace), managed, keep, &mut tasks),
        role_bindings: role_bindings.start(
            namespaced(client, namespace),
            managed,
            keep,
            &mut tasks,
        ),
        config_maps: config_maps.start(namespaced(client, namespace), graph, keep, &mut tasks),
        pvcs: pvcs.start(namespaced(client, namespace), graph, keep, &mut tasks),
        ingresses: ingresses.start(namespaced(client, namespace), graph, keep, &mut tasks),
        secrets: secrets.start(namespaced(client, namespace), managed, keep, &mut tasks),
        pods: pods.start(namespaced(client, namespace), graph, strip_pod, &mut tasks),
        leader_worker_sets: optional_caches.0,
        pod_groups: optional_caches.1,
        clique_sets: optional_caches.2,
        cliques: optional_caches.3,
        scaling_groups: optional_caches.4,
        queues: optional_caches.5,
    };
    Started {
        caches,
        triggers,
        tasks,
        optional,
    }
}

/// The caches of kinds the cluster may not serve (LeaderWorkerSet, Volcano, Grove, KAI), held
/// until it does: a watch on a kind that does not exist would only fail and retry.
pub struct Optional {
    namespace: Option<String>,
    leader_worker_sets: Option<Pending<LeaderWorkerSet>>,
    pod_groups: Option<Pending<PodGroup>>,
    clique_sets: Option<Pending<PodCliqueSet>>,
    cliques: Option<Pending<PodClique>>,
    scaling_groups: Option<Pending<PodCliqueScalingGroup>>,
    queues: Option<Pending<Queue>>,
}

// === impl Optional ===

impl Optional {
    /// Starts the watches of every kind `capabilities` says the cluster now serves and that
    /// is not watched yet; returns one future per cache started, resolving once it has listed.
    pub fn start_served(
        &mut self,
        client: &Client,
        capabilities: &Capabilities,
        tasks: &mut Vec<JoinHandle<()>>,
    ) -> Vec<BoxFuture<'static, ()>> {
        let namespace = self.namespace.clone();
        let ns = namespace.as_deref();
        let mut started: Vec<BoxFuture<'static, ()>> = Vec::new();
        let graph = Some(GRAPH_LABEL);
        if capabilities.lws
            && let Some(pending) = self.leader_worker_sets.take()
        {
            started.push(listed(pending.start(
                namespaced(client, ns),
                graph,
                keep,
                tasks,
            )));
        }
        if capabilities.volcano
            && let Some(pending) = self.pod_groups.take()
        {
            // The PodGroups earlier versions made (and Dynamo's operator before 1.5) carry only
            // the instance-id label; nothing renders them now, so the component controller
            // removes the ones it owns.
            started.push(listed(pending.start(
                namespaced(client, ns),
                Some(label::LWS_INSTANCE_ID),
                keep,
                tasks,
            )));
        }
        if capabilities.grove {
            if let Some(pending) = self.clique_sets.take() {
                // A PodCliqueSet made by an earlier version carries only the graph's
                // `spec.labels`: all are watched, and the graph finds its own by owner.
                started.push(listed(pending.start(
                    namespaced(client, ns),
                    None,
                    keep,
                    tasks,
                )));
            }
            if let Some(pending) = self.cliques.take() {
                started.push(listed(pending.start(
                    namespaced(client, ns),
                    graph,
                    strip_clique,
                    tasks,
                )));
            }
            if let Some(pending) = self.scaling_groups.take() {
                started.push(listed(pending.start(
                    namespaced(client, ns),
                    None,
                    keep,
                    tasks,
                )));
            }
        }
        if capabilities.kai
            && let Some(pending) = self.queues.take()
        {
            started.push(listed(pending.start(
                Api::all(client.clone()),
                None,
                keep,
                tasks,
            )));
        }
        started
    }
}

/// Resolves once `cache` has listed its objects once.
fn listed<K>(cache: Cache<K>) -> BoxFuture<'static, ()>
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    Box::pin(async move {
        let _ = cache.store.wait_until_ready().await;
    })
}

/// A PodClique keeps its metadata, replicas and status; its pod spec is Grove's business.
fn strip_clique(clique: &mut PodClique) {
    if let Some(spec) = clique.spec.as_object_mut() {
        spec.remove("podSpec");
    }
}

impl Caches {
    /// Waits until every cache has listed its objects once. Reconciling before that would
    /// re-create what exists (writes) or miss what to prune.
    pub async fn wait_ready(&self) -> Result<(), reflector::store::WriterDropped> {
        self.graphs.wait_until_ready().await?;
        self.components.wait_until_ready().await?;
        self.adapters.wait_until_ready().await?;
        self.deployments.wait_until_ready().await?;
        self.services.wait_until_ready().await?;
        self.discovery_services.wait_until_ready().await?;
        self.model_services.wait_until_ready().await?;
        self.service_accounts.wait_until_ready().await?;
        self.roles.wait_until_ready().await?;
        self.role_bindings.wait_until_ready().await?;
        self.config_maps.wait_until_ready().await?;
        self.pvcs.wait_until_ready().await?;
        self.ingresses.wait_until_ready().await?;
        self.secrets.wait_until_ready().await?;
        self.pods.wait_until_ready().await
    }
}
