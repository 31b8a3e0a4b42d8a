//! The graph model: every component of a DynamoGraphDeployment (`v1beta1`, the hub) resolved
//! into the facts the rest of the pipeline needs (names, type, backend chain, replicas, GPUs,
//! nodes, Dynamo namespace, worker hash), with the graph's `env` folded into each component's
//! main container and the `v1alpha1`-only facts ([`LegacyGraph`]) beside it.

use std::collections::BTreeMap;

use dynamo_api::DynamoGraphDeployment;
use dynamo_api::common::component_type;
use dynamo_api::shared::{ComponentType, DynamoComponentDeploymentSharedSpec, MAIN_CONTAINER_NAME};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use sha2::{Digest, Sha256};

use crate::config::{DiscoveryBackend, Orchestrator, RenderConfig};
use crate::error::RenderError;
use crate::keys::{self, annotation};
use crate::legacy::{LegacyGraph, LegacyService};
use crate::object::canonical;
use crate::plugins::{Catalog, Chain, PluginSet};

/// Default compilation-cache mount path of vLLM.
pub const VLLM_COMPILATION_CACHE_PATH: &str = "/root/.cache/vllm";

/// The resolved graph.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphModel {
    /// Kubernetes name of the graph.
    pub name: String,
    /// Kubernetes namespace of the graph (the metadata's, else the config's default).
    pub namespace: String,
    /// Orchestrator actually used for this graph.
    pub orchestrator: Orchestrator,
    /// Discovery backend (annotation override, else operator config).
    pub discovery: DiscoveryBackend,
    /// True when the graph asks for container-level Kubernetes discovery.
    pub container_discovery: bool,
    /// The graph's metadata annotations (plus the origin version the config stamps, if any).
    pub annotations: BTreeMap<String, String>,
    /// `spec.annotations` of the graph (propagated to every child object).
    pub spec_annotations: BTreeMap<String, String>,
    /// `spec.labels` of the graph (propagated to every child object).
    pub spec_labels: BTreeMap<String, String>,
    /// `spec.topologyConstraint.packDomain` of the graph.
    pub pack_domain: Option<String>,
    /// Hash of the worker components' pod-affecting spec (first 8 hex digits of a sha256),
    /// when the graph has workers.
    pub worker_hash: Option<String>,
    /// `spec.backendFramework` of the graph, as written (components inherit it).
    pub backend_framework: Option<dynamo_api::BackendFramework>,
    /// The KAI scheduler queue of the graph's pods when the KAI scheduler is on
    /// (`nvidia.com/kai-scheduler-queue`, default `dynamo`); `None` when it is off.
    pub kai_queue: Option<String>,
    /// PersistentVolumeClaims the graph declares (`v1alpha1` `spec.pvcs`, kept through
    /// conversion); those with `create` are made by the operator.
    pub pvcs: Vec<dynamo_api::v1alpha1::graph::PvcSpec>,
    /// Components, in the order `spec.components` lists them.
    pub services: Vec<ServiceModel>,
    /// True when the graph's workers carry `nvidia.com/dynamo-component-class: worker` (the
    /// label its InferencePool selects on): the graph has an endpoint picker, or a component
    /// rendered on its own came from such a graph ([`Overrides::worker_class`]).
    pub worker_class: bool,
}

/// What a component is, as far as the host's pod defaults are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentRole {
    /// HTTP frontend.
    Frontend,
    /// Inference worker (`worker`, `prefill` or `decode`).
    Worker,
    /// Planner.
    Planner,
    /// Endpoint picker.
    Epp,
    /// Anything else.
    Default,
}

/// One resolved component.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceModel {
    /// Name as written in `spec.components[].name`.
    pub name: String,
    /// Field path of the component: `spec.components[<i>]` in a graph, `spec` in a
    /// DynamoComponentDeployment.
    pub path: String,
    /// Lowercase Kubernetes-safe form of the name (`.` becomes `-`).
    pub k8s_name: String,
    /// The component's type in `v1alpha1` terms (empty when absent): prefill and decode are
    /// `worker` with that [`Self::sub_component_type`]; a type only `v1alpha1` can write is kept.
    pub component_type: String,
    /// Role derived from the type.
    pub role: ComponentRole,
    /// Sub-type: `prefill` or `decode` for those types, else `v1alpha1`'s `subComponentType`.
    pub sub_component_type: Option<String>,
    /// Plugins the component runs through (workers with a known backend only).
    pub chain: Option<Chain>,
    /// Desired replicas (default 1).
    pub replicas: i32,
    /// GPUs per node (the main container's GPU limit, else request; the two must agree).
    pub gpus_per_node: u32,
    /// Kubernetes resource name of those GPUs (`nvidia.com/gpu` unless another `*/gpu` resource
    /// is asked for); empty when the component has none.
    pub gpu_resource: String,
    /// Nodes per replica (1 for single-node components).
    pub node_count: u32,
    /// Dynamo namespace the component registers in.
    pub dynamo_namespace: String,
    /// The graph's worker hash, on Dynamo worker components (every pathway).
    pub worker_hash: Option<String>,
    /// True when the DCD name carries the worker hash (workers on the DCD pathway).
    pub hashed: bool,
    /// Mount path of the compilation-cache volume, if any.
    pub compilation_cache_path: Option<String>,
    /// Name of the component's DynamoComponentDeployment (and Deployment).
    pub dcd_name: String,
    /// Name of the component's Kubernetes Service: its DCD's name on the DCD pathway (the
    /// worker hash included), `{dgd}-{k8s_name}` under Grove.
    pub service_name: String,
    /// The component spec with the graph's `env` folded into its main container (its own
    /// entries win by name).
    pub spec: DynamoComponentDeploymentSharedSpec,
    /// What only `v1alpha1` says about the component (annotations, labels, ingress, ...).
    pub legacy: LegacyService,
    /// Labels of the component's objects and pods: the graph's `spec.labels`, then the
    /// component's own ([`LegacyService::labels`]).
    pub labels: BTreeMap<String, String>,
    /// Annotations of the component's objects: the graph's `spec.annotations`, then the
    /// component's own ([`LegacyService::annotations`]), then the controller's restart token.
    pub object_annotations: BTreeMap<String, String>,
    /// The operator's switches (`nvidia.com/...`) as the component sees them: graph metadata
    /// annotations, then [`Self::object_annotations`], then the pod template's annotations.
    pub annotations: BTreeMap<String, String>,
}

// === impl GraphModel ===

impl GraphModel {
    /// Resolves `dgd` for `config` with backends from `plugins`.
    pub fn build(
        dgd: &DynamoGraphDeployment,
        config: &RenderConfig,
        plugins: &dyn PluginSet,
    ) -> Result<Self, RenderError> {
        Self::build_with(dgd, config, &Catalog::new(plugins))
    }

    /// Resolves `dgd` for `config` with an already-built plugin catalog.
    pub fn build_with(
        dgd: &DynamoGraphDeployment,
        config: &RenderConfig,
        catalog: &Catalog,
    ) -> Result<Self, RenderError> {
        let legacy = LegacyGraph::of(dgd)?;
        Self::build_from(dgd, &legacy, config, catalog, None)
    }

    /// Resolves `dgd` with its `v1alpha1`-only facts `legacy` already read; `path` replaces the
    /// components' field paths (a DynamoComponentDeployment's component is at `spec`).
    pub(crate) fn build_from(
        dgd: &DynamoGraphDeployment,
        legacy: &LegacyGraph,
        config: &RenderConfig,
        catalog: &Catalog,
        path: Option<&str>,
    ) -> Result<Self, RenderError> {
        let name = dgd
            .metadata
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| RenderError::field("metadata.name", "must not be empty"))?;
        let namespace = dgd
            .metadata
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| config.default_namespace.clone());
        // The conversion's private payloads are not the user's annotations.
        let mut annotations: BTreeMap<String, String> = dgd
            .metadata
            .annotations
            .iter()
            .flatten()
            .filter(|(k, _)| !dynamo_conversion::is_private_annotation(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(version) = &config.operator_version {
            annotations
                .entry(annotation::ORIGIN_VERSION.to_owned())
                .or_insert_with(|| version.clone());
        }
        let orchestrator = effective_orchestrator(&annotations, config);
        let discovery = match annotations
            .get(annotation::DISCOVERY_BACKEND)
            .map(String::as_str)
        {
            Some("etcd") => DiscoveryBackend::Etcd,
            Some("kubernetes") => DiscoveryBackend::Kubernetes,
            _ => config.operator.discovery.backend,
        };
        let container_discovery = annotations
            .get(annotation::KUBE_DISCOVERY_MODE)
            .is_some_and(|m| m == "container");
        let spec = &dgd.spec;
        let spec_annotations = spec.annotations.clone().unwrap_or_default();
        let spec_labels = spec.labels.clone().unwrap_or_default();
        let graph_env = spec.env.as_deref().unwrap_or_default();

        let components = dgd.components();
        let mut services = Vec::with_capacity(components.len());
        for (index, component) in components.iter().enumerate() {
            let field = path.map_or_else(|| component_path(index), str::to_owned);
            let svc_legacy = legacy.service(&component.name);
            let (component_type, sub_component_type) = types(component, &svc_legacy);
            let role = ComponentRole::of(&component_type);
            let labels = overlay(&spec_labels, &svc_legacy.labels);
            let object_annotations = overlay(&spec_annotations, &svc_legacy.annotations);
            let mut switches = annotations.clone();
            switches.extend(object_annotations.clone());
            if let Some(pod) = pod_annotations(component) {
                for (key, value) in pod {
                    switches.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
            let chain = resolve_chain(dgd, component, &svc_legacy, &field, role, catalog)?;
            let node_count = node_count(component);
            let replicas = component.replicas.unwrap_or(1);
            if replicas < 0 {
                return Err(RenderError::field(
                    format!("{field}.replicas"),
                    format!("must be 0 or more, got {replicas}"),
                ));
            }
            let k8s_name = k8s_name(&component.name);
            let gpus = gpus(component, &field)?;
            services.push(ServiceModel {
                gpus_per_node: gpus.count,
                gpu_resource: gpus.resource,
                compilation_cache_path: compilation_cache_path(component, chain.as_ref()),
                dynamo_namespace: dynamo_api::shared::dynamo_namespace(
                    component.global_dynamo_namespace == Some(true),
                    &namespace,
                    &name,
                ),
                service_name: format!("{name}-{k8s_name}"),
                dcd_name: format!("{name}-{k8s_name}"),
                name: component.name.clone(),
                path: field,
                k8s_name,
                component_type,
                role,
                sub_component_type,
                chain,
                replicas,
                node_count,
                worker_hash: None,
                hashed: false,
                spec: effective_spec(graph_env, component),
                legacy: svc_legacy,
                labels,
                object_annotations,
                annotations: switches,
            });
        }
        let worker_hash = worker_hash(&services)?;
        let kai_queue =
            (config.operator.orchestrators.kai_scheduler.enabled == Some(true)).then(|| {
                annotations
                    .get(annotation::KAI_QUEUE)
                    .filter(|q| !q.is_empty())
                    .cloned()
                    .unwrap_or_else(|| keys::KAI_DEFAULT_QUEUE.to_owned())
            });
        for service in &mut services {
            if !service.in_worker_generation() {
                continue;
            }
            // Every pathway labels its workers with the hash; Grove updates its cliques in
            // place, so only the DCD pathway names a generation of workers after it.
            service.worker_hash = worker_hash.clone();
            if orchestrator != Orchestrator::Grove
                && let Some(hash) = &worker_hash
            {
                service.hashed = true;
                service.dcd_name = format!("{}-{hash}", service.dcd_name);
                // One Service per component on the DCD pathway, named after it: during a
                // rolling update the old and new generations each have theirs.
                service.service_name = service.dcd_name.clone();
            }
        }
        Ok(Self {
            name,
            namespace,
            orchestrator,
            discovery,
            container_discovery,
            annotations,
            spec_annotations,
            spec_labels,
            pack_domain: spec
                .topology_constraint
                .as_ref()
                .and_then(|t| t.pack_domain.clone()),
            worker_hash,
            backend_framework: spec.backend_framework,
            kai_queue,
            pvcs: legacy.pvcs.clone(),
            worker_class: services.iter().any(|s| s.role == ComponentRole::Epp),
            services,
        })
    }

    /// True when pods discover each other through the Kubernetes API.
    pub fn kube_discovery(&self) -> bool {
        self.discovery == DiscoveryBackend::Kubernetes
    }

    /// True when the graph has an endpoint picker (its workers then carry the
    /// `nvidia.com/dynamo-component-class` label its InferencePool selects on; see
    /// [`Self::worker_class`]).
    pub fn has_endpoint_picker(&self) -> bool {
        self.services.iter().any(|s| s.role == ComponentRole::Epp)
    }

    /// The component named `name`, if any.
    pub fn service(&self, name: &str) -> Option<&ServiceModel> {
        self.services.iter().find(|s| s.name == name)
    }

    /// True when any component spans several nodes.
    pub fn has_multinode(&self) -> bool {
        self.services.iter().any(ServiceModel::is_multinode)
    }
}

/// Adjustments the controller makes on top of a graph's own spec. They are applied after the
/// worker hash is computed, so none of them starts a rolling update by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Annotations added to a component's pod template (the restart token
    /// `nvidia.com/restartAt`), by component name.
    pub service_annotations: BTreeMap<String, BTreeMap<String, String>>,
    /// Replicas of a component during an operator-managed rolling update, by component name.
    pub replicas: BTreeMap<String, i32>,
    /// The worker hash to use instead of the computed one (a component rendered on its own
    /// carries its graph's hash in a label).
    pub worker_hash: Option<String>,
    /// Component (DCD) names to use instead of the derived ones, by component name.
    pub dcd_names: BTreeMap<String, String>,
    /// Label the workers with the worker class even without an endpoint picker in the graph (a
    /// component rendered on its own whose DCD carries the label).
    pub worker_class: bool,
}

// === impl GraphModel (overrides) ===

impl GraphModel {
    /// Applies `overrides` to the resolved components.
    pub fn apply(&mut self, overrides: &Overrides) {
        self.worker_class |= overrides.worker_class;
        if let Some(hash) = &overrides.worker_hash {
            self.worker_hash = Some(hash.clone());
            for service in &mut self.services {
                if service.in_worker_generation() {
                    service.worker_hash = Some(hash.clone());
                    if service.hashed {
                        service.dcd_name = format!("{}-{}-{hash}", self.name, service.k8s_name);
                        service.service_name = service.dcd_name.clone();
                    }
                }
            }
        }
        for service in &mut self.services {
            if let Some(extra) = overrides.service_annotations.get(&service.name) {
                service
                    .spec
                    .pod_template
                    .get_or_insert_with(PodTemplateSpec::default)
                    .metadata
                    .get_or_insert_with(Default::default)
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .extend(extra.clone());
                service.annotations.extend(extra.clone());
            }
            if let Some(replicas) = overrides.replicas.get(&service.name) {
                service.replicas = *replicas;
            }
            if let Some(name) = overrides.dcd_names.get(&service.name) {
                service.dcd_name = name.clone();
                if self.orchestrator != Orchestrator::Grove {
                    service.service_name = name.clone();
                }
            }
        }
    }
}

// === impl ComponentRole ===

impl ComponentRole {
    /// The role of a component type (`v1alpha1`'s free string or `v1beta1`'s enum value).
    pub fn of(component_type: &str) -> Self {
        match component_type {
            component_type::FRONTEND => Self::Frontend,
            component_type::WORKER | component_type::PREFILL | component_type::DECODE => {
                Self::Worker
            }
            component_type::PLANNER => Self::Planner,
            component_type::EPP => Self::Epp,
            _ => Self::Default,
        }
    }
}

// === impl ServiceModel ===

impl ServiceModel {
    /// True when each replica spans several nodes.
    pub fn is_multinode(&self) -> bool {
        self.node_count > 1
    }

    /// True when the component's backend declared an engine that is not a Dynamo runtime
    /// ([`Chain::plain_engine`]).
    pub fn is_plain_engine(&self) -> bool {
        self.chain.as_ref().and_then(Chain::plain_engine).is_some()
    }

    /// The component's type as Dynamo 1.5 labels and announces it: `prefill` or `decode` for
    /// a worker with that sub-type, else its type.
    pub fn dynamo_component_type(&self) -> &str {
        match self.sub_component_type.as_deref() {
            Some(sub @ (component_type::PREFILL | component_type::DECODE))
                if self.component_type == component_type::WORKER =>
            {
                sub
            }
            _ => &self.component_type,
        }
    }

    /// Value of the `nvidia.com/dynamo-sub-component-type` label: the sub-type, if any.
    pub fn sub_component_label(&self) -> Option<&str> {
        self.sub_component_type.as_deref().filter(|s| !s.is_empty())
    }

    /// True when the component belongs to the graph's generation of Dynamo workers, which the
    /// worker hash names and a rolling update replaces as a whole. A plain engine does not: it
    /// takes no part in Dynamo's discovery, so its Deployment rolls in place under a stable
    /// name, and its spec does not renew the Dynamo workers.
    pub fn in_worker_generation(&self) -> bool {
        self.role == ComponentRole::Worker && !self.is_plain_engine()
    }

    /// Field path of the component (`spec.components[<i>]`, or `spec` for a component
    /// deployed on its own).
    pub fn field(&self) -> String {
        self.path.clone()
    }

    /// Value of annotation `key` (the component's annotations win over the graph's).
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// `false` only when metrics were switched off with `nvidia.com/enable-metrics: "false"`.
    pub fn metrics_enabled(&self) -> bool {
        self.annotation(annotation::ENABLE_METRICS) != Some(keys::label::FALSE)
    }

    /// The user's main container (`podTemplate`'s container `main`), if any.
    pub fn main_container(&self) -> Option<&Container> {
        self.spec.main_container()
    }

    /// The user's pod spec (`podTemplate.spec`), if any.
    pub fn pod_spec(&self) -> Option<&PodSpec> {
        self.spec.pod_template.as_ref()?.spec.as_ref()
    }
}

/// Field path of the component at `index` of `spec.components`.
pub fn component_path(index: usize) -> String {
    format!("spec.components[{index}]")
}

/// The component's type and sub-type in `v1alpha1` terms: `prefill`/`decode` become `worker`
/// with that sub-type; without a `v1beta1` type, `v1alpha1`'s free-form `componentType`.
fn types(
    component: &DynamoComponentDeploymentSharedSpec,
    legacy: &LegacyService,
) -> (String, Option<String>) {
    match component.component_type {
        Some(t @ (ComponentType::Prefill | ComponentType::Decode)) => (
            component_type::WORKER.to_owned(),
            Some(t.as_str().to_owned()),
        ),
        Some(t) => (t.as_str().to_owned(), legacy.sub_component_type.clone()),
        None => (
            legacy.component_type.clone().unwrap_or_default(),
            legacy.sub_component_type.clone(),
        ),
    }
}

/// `podTemplate.metadata.annotations` of a component, if any.
fn pod_annotations(
    component: &DynamoComponentDeploymentSharedSpec,
) -> Option<&BTreeMap<String, String>> {
    component
        .pod_template
        .as_ref()?
        .metadata
        .as_ref()?
        .annotations
        .as_ref()
}

/// The orchestrator used for a graph with these metadata annotations: the workload provider
/// the graph was created with (`nvidia.com/workload-provider`: `grove`, or `component` for the
/// DCD pathway), else the configured one, except that `nvidia.com/enable-grove: "false"` (in
/// any case, as Dynamo reads it) moves a graph from Grove to the DCD pathway. The DCD pathway
/// runs multi-node components on LeaderWorkerSets when LWS is enabled.
pub fn effective_orchestrator(
    annotations: &BTreeMap<String, String>,
    config: &RenderConfig,
) -> Orchestrator {
    let component_pathway = || match config.orchestrator {
        Orchestrator::Grove if config.operator.orchestrators.lws.enabled == Some(true) => {
            Orchestrator::Lws
        }
        Orchestrator::Grove => Orchestrator::Deployment,
        other => other,
    };
    let provider = annotations
        .get(annotation::WORKLOAD_PROVIDER)
        .map(|v| v.to_ascii_lowercase());
    match provider.as_deref() {
        Some(WORKLOAD_PROVIDER_GROVE) => return Orchestrator::Grove,
        Some(WORKLOAD_PROVIDER_COMPONENT) => return component_pathway(),
        _ => {}
    }
    let grove_off = annotations
        .get(annotation::ENABLE_GROVE)
        .is_some_and(|v| v.eq_ignore_ascii_case(keys::label::FALSE));
    match config.orchestrator {
        Orchestrator::Grove if grove_off => component_pathway(),
        other => other,
    }
}

/// `nvidia.com/workload-provider` value of a graph on the Grove pathway.
pub const WORKLOAD_PROVIDER_GROVE: &str = "grove";
/// `nvidia.com/workload-provider` value of a graph on the DCD (component) pathway.
pub const WORKLOAD_PROVIDER_COMPONENT: &str = "component";

/// The `nvidia.com/workload-provider` a new graph with these annotations gets under `config`
/// (what the defaulting webhook stamps on CREATE, as Dynamo's does): chosen from the graph's
/// intent alone, so a provider the request itself names is not taken on trust.
pub fn workload_provider(
    annotations: &BTreeMap<String, String>,
    config: &RenderConfig,
) -> &'static str {
    let mut intent = annotations.clone();
    intent.remove(annotation::WORKLOAD_PROVIDER);
    if effective_orchestrator(&intent, config) == Orchestrator::Grove {
        WORKLOAD_PROVIDER_GROVE
    } else {
        WORKLOAD_PROVIDER_COMPONENT
    }
}

/// Lowercase Kubernetes-safe form of a component name (`.` becomes `-`).
pub fn k8s_name(service: &str) -> String {
    service.to_lowercase().replace('.', "-")
}

/// Nodes per replica: `multinode.nodeCount`, else 1.
fn node_count(component: &DynamoComponentDeploymentSharedSpec) -> u32 {
    u32::try_from(component.node_count()).unwrap_or(1).max(1)
}

/// The GPUs one node of a component uses.
pub(crate) struct Gpus {
    /// How many (0 when none).
    pub(crate) count: u32,
    /// Their resource name; empty when `count` is 0.
    pub(crate) resource: String,
}

/// Whether resource `name` is a GPU: `nvidia.com/gpu`, or any other vendor's `<domain>/gpu`.
pub fn is_gpu_resource(name: &str) -> bool {
    name.rsplit_once('/')
        .is_some_and(|(domain, resource)| resource == "gpu" && !domain.is_empty())
}

/// GPUs per node from the main container's `resources.limits` and `resources.requests`.
///
/// Kubernetes requires the request of an extended resource such as a GPU to equal its limit
/// (the request defaults to the limit), so a request that differs from the limit in count or
/// resource name is refused here, naming the field, rather than by the API server later.
pub(crate) fn gpus(
    component: &DynamoComponentDeploymentSharedSpec,
    field: &str,
) -> Result<Gpus, RenderError> {
    let resources = component
        .main_container()
        .and_then(|c| c.resources.as_ref());
    let at = format!("{field}.podTemplate.spec.containers[{MAIN_CONTAINER_NAME}].resources");
    let parse = |which: &str| -> Result<Option<(u32, String)>, RenderError> {
        let map = match which {
            "requests" => resources.and_then(|r| r.requests.as_ref()),
            _ => resources.and_then(|r| r.limits.as_ref()),
        };
        let Some((name, Quantity(text))) = map.and_then(|m| {
            m.iter()
                .find(|(k, _)| k.as_str() == crate::pod::DEFAULT_GPU_RESOURCE)
                .or_else(|| m.iter().find(|(k, _)| is_gpu_resource(k)))
        }) else {
            return Ok(None);
        };
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let count = text.parse::<u32>().map_err(|_| {
            RenderError::field(
                format!("{at}.{which}[{name}]"),
                format!("must be a whole number of GPUs, got `{text}`"),
            )
        })?;
        Ok(Some((count, name.clone())))
    };
    let request = parse("requests")?;
    let limit = parse("limits")?;
    if let (Some((wanted, wanted_type)), Some((most, most_type))) = (&request, &limit) {
        if wanted_type != most_type {
            return Err(RenderError::field(
                format!("{at}.requests[{wanted_type}]"),
                format!(
                    "must be the GPU resource the limits name (`{most_type}`): the request and \
                     the limit name one GPU resource"
                ),
            ));
        }
        if wanted != most {
            return Err(RenderError::field(
                format!("{at}.requests[{wanted_type}]"),
                format!(
                    "must equal the limit ({most}), got {wanted}: Kubernetes requires the \
                     request of a GPU to equal its limit (omit the request to default it to the \
                     limit)"
                ),
            ));
        }
    }
    Ok(match limit.or(request) {
        Some((count, resource)) if count > 0 => Gpus { count, resource },
        _ => Gpus {
            count: 0,
            resource: String::new(),
        },
    })
}

/// Mount path of the compilation cache: `compilationCache.mountPath`, else the backend's
/// default (vLLM only).
fn compilation_cache_path(
    component: &DynamoComponentDeploymentSharedSpec,
    chain: Option<&Chain>,
) -> Option<String> {
    let cache = component.compilation_cache.as_ref()?;
    cache
        .mount_path
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(|| default_compilation_cache_path(chain.map(|c| c.framework.as_str())))
}

/// Backend default mount path of a compilation cache (`/root/.cache/vllm` for vLLM).
pub fn default_compilation_cache_path(framework: Option<&str>) -> Option<String> {
    (framework == Some("vllm")).then(|| VLLM_COMPILATION_CACHE_PATH.to_owned())
}

/// The component spec with the graph's `env` merged into its main container's own (an entry of
/// the component with the same name wins), sorted by name as Dynamo 1.5 writes the merged env on
/// a DynamoComponentDeployment (pods sort their env anyway). A component without a main
/// container gets one holding only that env; without a graph `env` the component is unchanged.
pub fn effective_spec(
    graph_env: &[EnvVar],
    component: &DynamoComponentDeploymentSharedSpec,
) -> DynamoComponentDeploymentSharedSpec {
    let mut spec = component.clone();
    if graph_env.is_empty() {
        return spec;
    }
    if spec.main_container().is_none() {
        let template = spec
            .pod_template
            .get_or_insert_with(PodTemplateSpec::default);
        let pod = template.spec.get_or_insert_with(PodSpec::default);
        pod.containers.insert(
            0,
            Container {
                name: MAIN_CONTAINER_NAME.to_owned(),
                ..Container::default()
            },
        );
    }
    if let Some(main) = spec.main_container_mut() {
        let mut merged = merge_env_by_name(graph_env, main.env.as_deref().unwrap_or_default());
        merged.sort_by(|a, b| a.name.cmp(&b.name));
        main.env = Some(merged);
    }
    spec
}

fn overlay(
    base: &BTreeMap<String, String>,
    top: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut merged = base.clone();
    merged.extend(top.clone());
    merged
}

/// `base` with every variable of `top` replacing the one of the same name, or appended.
pub fn merge_env_by_name(base: &[EnvVar], top: &[EnvVar]) -> Vec<EnvVar> {
    let mut merged = base.to_vec();
    for var in top {
        match merged.iter_mut().find(|v| v.name == var.name) {
            Some(existing) => *existing = var.clone(),
            None => merged.push(var.clone()),
        }
    }
    merged
}

/// Picks the plugin chain of a worker: the framework detected from its command wins, must agree
/// with an explicit choice ([`explicit_framework`]: the component's
/// `nvidia.com/backend-framework` annotation, else `spec.backendFramework`), and falls back to
/// it. Non-workers and workers with neither run no plugin.
fn resolve_chain(
    dgd: &DynamoGraphDeployment,
    component: &DynamoComponentDeploymentSharedSpec,
    legacy: &LegacyService,
    field: &str,
    role: ComponentRole,
    catalog: &Catalog,
) -> Result<Option<Chain>, RenderError> {
    if role != ComponentRole::Worker {
        return Ok(None);
    }
    let detected = detect_framework(component.main_container(), catalog);
    let explicit = explicit_framework(dgd, component, legacy, field);
    let framework = match (detected, explicit) {
        (Some(d), Some(e)) if d.framework != e.framework => {
            return Err(RenderError::field(
                command_path(field),
                mismatch_message(&d, &e),
            ));
        }
        (Some(d), _) => d.framework,
        (None, Some(e)) => e.framework,
        (None, None) => return Ok(None),
    };
    catalog
        .chain(&framework, node_count(component) > 1, field)
        .map(Some)
}

/// Field path of a component's main container command.
pub fn command_path(field: &str) -> String {
    format!("{field}.podTemplate.spec.containers[{MAIN_CONTAINER_NAME}].command")
}

/// A backend framework chosen explicitly for a worker, and the field that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplicitFramework {
    /// The framework (`vllm`, or a custom plugin's such as `llamacpp`).
    pub framework: String,
    /// Path of the field that chose it: `spec.backendFramework`, or the component annotation
    /// ([`ComponentAnnotation::path`]).
    pub field: String,
}

/// An annotation set on one component, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentAnnotation {
    /// Its value.
    pub value: String,
    /// Its field path: `spec.services.<name>.annotations[<key>]` when written in `v1alpha1`,
    /// else `<component>.podTemplate.metadata.annotations[<key>]`.
    pub path: String,
}

/// Annotation `key` of a component: its `v1alpha1` service annotations (kept through the
/// conversion), else its pod template's. Graph-level annotations do not count.
pub fn component_annotation(
    component: &DynamoComponentDeploymentSharedSpec,
    legacy: &LegacyService,
    field: &str,
    key: &str,
) -> Option<ComponentAnnotation> {
    if let Some(value) = legacy.annotations.get(key) {
        return Some(ComponentAnnotation {
            value: value.clone(),
            path: format!("spec.services.{}.annotations[{key}]", component.name),
        });
    }
    pod_annotations(component)
        .and_then(|a| a.get(key))
        .map(|value| ComponentAnnotation {
            value: value.clone(),
            path: format!("{field}.podTemplate.metadata.annotations[{key}]"),
        })
}

/// The framework a component asks for explicitly: its `nvidia.com/backend-framework`
/// annotation ([`component_annotation`]) when non-blank (it can name any plugin's framework,
/// which the CRD enum of `spec.backendFramework` cannot), else the graph's
/// `spec.backendFramework`.
pub fn explicit_framework(
    dgd: &DynamoGraphDeployment,
    component: &DynamoComponentDeploymentSharedSpec,
    legacy: &LegacyService,
    field: &str,
) -> Option<ExplicitFramework> {
    let annotated = component_annotation(component, legacy, field, annotation::BACKEND_FRAMEWORK)
        .filter(|a| !a.value.trim().is_empty());
    match annotated {
        Some(a) => Some(ExplicitFramework {
            framework: a.value.trim().to_owned(),
            field: a.path,
        }),
        None => dgd.spec.backend_framework.map(|b| ExplicitFramework {
            framework: b.as_str().to_owned(),
            field: "spec.backendFramework".to_owned(),
        }),
    }
}

/// Message for a detected framework that contradicts the explicitly chosen one.
pub fn mismatch_message(detected: &Detection, explicit: &ExplicitFramework) -> String {
    format!(
        "runs Python module `{}` (backend `{}`), but {} is `{}`",
        detected.module, detected.framework, explicit.field, explicit.framework
    )
}

/// A backend recognised in a container command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// Framework of the backend claiming the module.
    pub framework: String,
    /// The Python module found (`dynamo.vllm`).
    pub module: String,
}

/// Finds `python[0-9.]* … -m <module>` in the container's command and args, where a backend
/// of `catalog` claims `<module>`. Words inside shell scripts (`sh -c "python3 -m …"`) count.
pub fn detect_framework(container: Option<&Container>, catalog: &Catalog) -> Option<Detection> {
    let container = container?;
    let words: Vec<&str> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .flat_map(|w| w.split(|c: char| c.is_whitespace() || ";&|()'\"`".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    let python = words.iter().position(|w| is_python(w))?;
    let rest = &words[python + 1..];
    rest.iter().enumerate().find_map(|(i, word)| {
        let module = if *word == "-m" {
            rest.get(i + 1).copied()?
        } else {
            word.strip_prefix("-m").filter(|m| !m.is_empty())?
        };
        let framework = catalog.framework_of_module_or_parent(module)?;
        Some(Detection {
            framework: framework.to_owned(),
            module: module.to_owned(),
        })
    })
}

/// True when the file name of `word` is `python` followed only by digits and dots.
pub fn is_python(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    base.strip_prefix("python")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Fields of a component spec that never reach its pods, left out of the worker hash.
const NON_POD_FIELDS: [&str; 4] = [
    "replicas",
    "scalingAdapter",
    "minAvailable",
    "runtimeVersionOverride",
];

/// First 8 hex digits of the sha256 of the Dynamo worker components' pod-affecting specs (the
/// graph's env folded in) with their labels and annotations, keyed by component name; `None`
/// without workers.
fn worker_hash(services: &[ServiceModel]) -> Result<Option<String>, RenderError> {
    let mut workers = serde_json::Map::new();
    for service in services.iter().filter(|s| s.in_worker_generation()) {
        let cannot = |e: serde_json::Error| {
            RenderError::field(service.field(), format!("cannot serialize: {e}"))
        };
        let mut spec = serde_json::to_value(&service.spec).map_err(cannot)?;
        if let Some(fields) = spec.as_object_mut() {
            for field in NON_POD_FIELDS {
                fields.remove(field);
            }
        }
        let entry = serde_json::json!({
            "spec": spec,
            "labels": service.labels,
            "annotations": service.object_annotations,
            "subComponentType": service.sub_component_type,
        });
        workers.insert(service.name.clone(), entry);
    }
    if workers.is_empty() {
        return Ok(None);
    }
    let text = canonical(&serde_json::Value::Object(workers)).to_string();
    Ok(Some(short_hash(&text)))
}

/// First 8 hex digits of the sha256 of `text`.
pub fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
