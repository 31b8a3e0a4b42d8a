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

use crate::index::{self, Index};

/// Label of a graph's components, workloads, component Services, ConfigMaps, PVCs and pods.
pub const GRAPH_LABEL: &str = "nvidia.com/dynamo-graph-deployment-name";
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
}

/// The caches, their triggers, and the tasks that keep them filled.
pub struct Started {
    /// The caches.
    pub caches: Caches,
    /// Their change streams.
    pub triggers: Triggers,
    /// The watch tasks (abort them to stop watching).
    pub tasks: Vec<JoinHandle<()>>,
}

/// A store and its writer before the watch starts.
struct Pending<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store: Store<K>,
    writer: Writer<K>,
}

impl<K> Pending<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned
        + Send
        + Sync
        + 'static,
    K::DynamicType: Eq + Hash + Clone + Default,
{
    fn new() -> Self {
        let (store, writer) = reflector::store_shared(SHARED_BUFFER);
        Self { store, writer }
    }

    fn subscribe(&self) -> ReflectHandle<K> {
        // `store_shared` writers always hand out subscriptions.
        self.writer
            .subscribe()
            .unwrap_or_else(|| unreachable!("a shared store's writer subscribes"))
    }

    /// Starts the watch that fills the cache (all namespaces, or one), keeping only objects
    /// matching `labels`, passing each through `strip` before it is stored and indexing it under
    /// `keys`.
    fn start(
        self,
        client: &Client,
        namespace: Option<&str>,
        labels: Option<&str>,
        strip: fn(&mut K),
        keys: fn(&K) -> Vec<String>,
        tasks: &mut Vec<JoinHandle<()>>,
    ) -> Cache<K> {
        let api: Api<K> = match namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let mut config = watcher::Config::default();
        if let Some(labels) = labels {
            config = config.labels(labels);
        }
        let kind = K::kind(&Default::default()).into_owned();
        let index = Index::new(keys);
        let indexer = index.clone();
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
        Cache {
            store: self.store,
            index,
        }
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

/// Pods are found by graph and by component (selector label); their owners are ReplicaSets.
fn pod_keys(pod: &Pod) -> Vec<String> {
    index::label_keys(pod, &[label::GRAPH_NAME, label::SELECTOR])
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

/// Starts every cache, in all namespaces or in `namespace` only.
pub fn start(client: &Client, namespace: Option<&str>) -> Started {
    let graphs = Pending::<DynamoGraphDeployment>::new();
    let components = Pending::<DynamoComponentDeployment>::new();
    let adapters = Pending::<DynamoGraphDeploymentScalingAdapter>::new();
    let deployments = Pending::<Deployment>::new();
    let services = Pending::<Service>::new();
    let model_services = Pending::<Service>::new();
    let service_accounts = Pending::<ServiceAccount>::new();
    let roles = Pending::<Role>::new();
    let role_bindings = Pending::<RoleBinding>::new();
    let config_maps = Pending::<ConfigMap>::new();
    let pvcs = Pending::<PersistentVolumeClaim>::new();
    let ingresses = Pending::<Ingress>::new();
    let secrets = Pending::<Secret>::new();
    let pods = Pending::<Pod>::new();

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
        model_services: model_services.subscribe(),
        ingresses: ingresses.subscribe(),
        service_accounts: service_accounts.subscribe(),
        roles: roles.subscribe(),
        role_bindings: role_bindings.subscribe(),
        config_maps: config_maps.subscribe(),
        pvcs: pvcs.subscribe(),
        pods: pods.subscribe(),
        pods_for_graphs: pods.subscribe(),
    };

    let mut tasks = Vec::new();
    let graph = Some(GRAPH_LABEL);
    let managed_selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY}");
    let managed = Some(managed_selector.as_str());
    let caches = Caches {
        graphs: graphs.start(client, namespace, None, keep, no_keys, &mut tasks),
        components: components.start(client, namespace, None, keep, owners, &mut tasks),
        adapters: adapters.start(client, namespace, None, keep, adapter_keys, &mut tasks),
        deployments: deployments.start(client, namespace, graph, keep, owners, &mut tasks),
        services: services.start(client, namespace, graph, keep, owners, &mut tasks),
        model_services: model_services.start(
            client,
            namespace,
            Some(MODEL_LABEL),
            keep,
            owners,
            &mut tasks,
        ),
        // All of them: the planner's and endpoint picker's ServiceAccounts are shared by the
        // graphs of a namespace and carry no graph label. ServiceAccounts are small.
        service_accounts: service_accounts.start(client, namespace, None, keep, owners, &mut tasks),
        // The discovery Role and RoleBinding are labelled as Dynamo's operator labels them (no
        // graph label), so these two watch what the operator manages.
        roles: roles.start(client, namespace, managed, keep, owners, &mut tasks),
        role_bindings: role_bindings.start(client, namespace, managed, keep, owners, &mut tasks),
        config_maps: config_maps.start(client, namespace, graph, keep, owners, &mut tasks),
        pvcs: pvcs.start(client, namespace, graph, keep, owners, &mut tasks),
        ingresses: ingresses.start(client, namespace, graph, keep, owners, &mut tasks),
        secrets: secrets.start(client, namespace, managed, keep, owners, &mut tasks),
        pods: pods.start(client, namespace, graph, strip_pod, pod_keys, &mut tasks),
    };
    Started {
        caches,
        triggers,
        tasks,
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
