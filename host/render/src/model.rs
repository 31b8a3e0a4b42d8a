//! The graph model: every service of a DynamoGraphDeployment resolved into the facts the rest of
//! the pipeline needs (names, type, backend chain, replicas, GPUs, nodes, Dynamo namespace,
//! worker hash), with graph-level envs, labels and annotations folded into each service.

use std::collections::BTreeMap;

use dynamo_api::DynamoGraphDeployment;
use dynamo_api::common::component_type;
use dynamo_api::shared::DynamoComponentDeploymentSharedSpec;
use k8s_openapi::api::core::v1::{Container, EnvVar};
use sha2::{Digest, Sha256};

use crate::config::{DiscoveryBackend, Orchestrator, RenderConfig};
use crate::error::RenderError;
use crate::keys::{self, annotation};
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
    /// Hash of the worker services' pod-affecting spec (first 8 hex digits of a sha256), when
    /// the graph has workers.
    pub worker_hash: Option<String>,
    /// `spec.backendFramework` of the graph, as written (components inherit it).
    pub backend_framework: Option<dynamo_api::BackendFramework>,
    /// The KAI scheduler queue of the graph's pods when the KAI scheduler is on
    /// (`nvidia.com/kai-scheduler-queue`, default `dynamo`); `None` when it is off.
    pub kai_queue: Option<String>,
    /// Services, sorted by name.
    pub services: Vec<ServiceModel>,
}

/// What a service is, as far as the host's pod defaults are concerned.
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

/// One resolved service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceModel {
    /// Name as written in `spec.services`.
    pub name: String,
    /// Lowercase Kubernetes-safe form of the name (`.` becomes `-`).
    pub k8s_name: String,
    /// `componentType` as written (empty when absent).
    pub component_type: String,
    /// Role derived from `componentType`.
    pub role: ComponentRole,
    /// `subComponentType`, if any.
    pub sub_component_type: Option<String>,
    /// Plugins the service runs through (workers with a known backend only).
    pub chain: Option<Chain>,
    /// Desired replicas (default 1).
    pub replicas: i32,
    /// GPUs per node (limits.gpu, else requests.gpu, else 0; the two must agree).
    pub gpus_per_node: u32,
    /// Kubernetes resource name of those GPUs (`gpuType`, default `nvidia.com/gpu`); empty when
    /// the service has none.
    pub gpu_resource: String,
    /// Nodes per replica (1 for single-node services).
    pub node_count: u32,
    /// Dynamo namespace the service registers in.
    pub dynamo_namespace: String,
    /// The graph's worker hash, on Dynamo worker services (every pathway).
    pub worker_hash: Option<String>,
    /// True when the DCD name carries the worker hash (workers on the DCD pathway).
    pub hashed: bool,
    /// Mount path of the compilation-cache volume, if any.
    pub compilation_cache_path: Option<String>,
    /// Name of the service's DynamoComponentDeployment (and Deployment).
    pub dcd_name: String,
    /// Name of the service's Kubernetes Service: its component's name on the DCD pathway (the
    /// worker hash included), `{dgd}-{k8s_name}` under Grove.
    pub service_name: String,
    /// The service spec with the graph's envs, labels and annotations folded in (service wins).
    pub spec: DynamoComponentDeploymentSharedSpec,
    /// Graph metadata annotations overlaid with the service's annotations (service wins); the
    /// operator reads its switches (`nvidia.com/...`) here.
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
        let mut annotations = dgd.metadata.annotations.clone().unwrap_or_default();
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

        let empty = BTreeMap::new();
        let services_in = spec.services.as_ref().unwrap_or(&empty);
        let mut services = Vec::with_capacity(services_in.len());
        for (svc_name, svc) in services_in {
            let field = service_path(svc_name);
            let effective = effective_spec(dgd, svc);
            let component_type = svc.component_type.clone().unwrap_or_default();
            let role = ComponentRole::of(&component_type);
            let chain = resolve_chain(dgd, svc_name, svc, role, catalog)?;
            let node_count = node_count(svc);
            let replicas = svc.replicas.unwrap_or(1);
            if replicas < 0 {
                return Err(RenderError::field(
                    format!("{field}.replicas"),
                    format!("must be 0 or more, got {replicas}"),
                ));
            }
            let mut svc_annotations = annotations.clone();
            svc_annotations.extend(effective.annotations.clone().unwrap_or_default());
            let k8s_name = k8s_name(svc_name);
            let gpus = gpus(svc, &field)?;
            services.push(ServiceModel {
                gpus_per_node: gpus.count,
                gpu_resource: gpus.resource,
                compilation_cache_path: compilation_cache_path(svc, chain.as_ref()),
                dynamo_namespace: dynamo_namespace(&namespace, &name, svc),
                service_name: format!("{name}-{k8s_name}"),
                dcd_name: format!("{name}-{k8s_name}"),
                name: svc_name.clone(),
                k8s_name,
                component_type,
                role,
                sub_component_type: svc.sub_component_type.clone(),
                chain,
                replicas,
                node_count,
                worker_hash: None,
                hashed: false,
                spec: effective,
                annotations: svc_annotations,
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
            services,
        })
    }

    /// True when pods discover each other through the Kubernetes API.
    pub fn kube_discovery(&self) -> bool {
        self.discovery == DiscoveryBackend::Kubernetes
    }

    /// True when the graph has an endpoint picker (its workers then carry the
    /// `nvidia.com/dynamo-component-class` label its InferencePool selects on).
    pub fn has_endpoint_picker(&self) -> bool {
        self.services.iter().any(|s| s.role == ComponentRole::Epp)
    }

    /// The service named `name`, if any.
    pub fn service(&self, name: &str) -> Option<&ServiceModel> {
        self.services.iter().find(|s| s.name == name)
    }

    /// True when any service spans several nodes.
    pub fn has_multinode(&self) -> bool {
        self.services.iter().any(ServiceModel::is_multinode)
    }
}

/// Adjustments the controller makes on top of a graph's own spec. They are applied after the
/// worker hash is computed, so none of them starts a rolling update by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Annotations added to a service's component spec and pods (the restart token
    /// `nvidia.com/restartAt`), by service name.
    pub service_annotations: BTreeMap<String, BTreeMap<String, String>>,
    /// Replicas of a service during an operator-managed rolling update, by service name.
    pub replicas: BTreeMap<String, i32>,
    /// The worker hash to use instead of the computed one (a component rendered on its own
    /// carries its graph's hash in a label).
    pub worker_hash: Option<String>,
    /// Component (DCD) names to use instead of the derived ones, by service name.
    pub dcd_names: BTreeMap<String, String>,
}

// === impl GraphModel (overrides) ===

impl GraphModel {
    /// Applies `overrides` to the resolved services.
    pub fn apply(&mut self, overrides: &Overrides) {
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
    /// The role of a `componentType` value.
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

    /// True when the service's backend declared an engine that is not a Dynamo runtime
    /// ([`Chain::plain_engine`]).
    pub fn is_plain_engine(&self) -> bool {
        self.chain.as_ref().and_then(Chain::plain_engine).is_some()
    }

    /// The component's type as Dynamo 1.5 labels and announces it: `prefill` or `decode` for
    /// a worker with that `subComponentType`, else its `componentType`.
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

    /// Value of the `nvidia.com/dynamo-sub-component-type` label: the `subComponentType`, or
    /// the `componentType` itself when that is `prefill` or `decode`.
    pub fn sub_component_label(&self) -> Option<&str> {
        match self.sub_component_type.as_deref().filter(|s| !s.is_empty()) {
            Some(sub) => Some(sub),
            None => matches!(
                self.component_type.as_str(),
                component_type::PREFILL | component_type::DECODE
            )
            .then_some(self.component_type.as_str()),
        }
    }

    /// True when the service belongs to the graph's generation of Dynamo workers, which the
    /// worker hash names and a rolling update replaces as a whole. A plain engine does not: it
    /// takes no part in Dynamo's discovery, so its Deployment rolls in place under a stable
    /// name, and its spec does not renew the Dynamo workers.
    pub fn in_worker_generation(&self) -> bool {
        self.role == ComponentRole::Worker && !self.is_plain_engine()
    }

    /// Field path of the service in the graph (`spec.services.<name>`).
    pub fn field(&self) -> String {
        service_path(&self.name)
    }

    /// Value of annotation `key` (service annotations win over the graph's).
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// `false` only when metrics were switched off with `nvidia.com/enable-metrics: "false"`.
    pub fn metrics_enabled(&self) -> bool {
        self.annotation(annotation::ENABLE_METRICS) != Some(keys::label::FALSE)
    }
}

/// Field path of service `name` (`spec.services.<name>`).
pub fn service_path(name: &str) -> String {
    format!("spec.services.{name}")
}

/// The orchestrator used for a graph with these metadata annotations: the configured one, except
/// that `nvidia.com/enable-grove: "false"` moves a graph from Grove to the DCD pathway (with
/// LeaderWorkerSets when LWS is enabled).
pub fn effective_orchestrator(
    annotations: &BTreeMap<String, String>,
    config: &RenderConfig,
) -> Orchestrator {
    let grove_off = annotations
        .get(annotation::ENABLE_GROVE)
        .is_some_and(|v| v == keys::label::FALSE);
    match config.orchestrator {
        Orchestrator::Grove if grove_off => {
            if config.operator.orchestrators.lws.enabled == Some(true) {
                Orchestrator::Lws
            } else {
                Orchestrator::Deployment
            }
        }
        other => other,
    }
}

/// Lowercase Kubernetes-safe form of a service name (`.` becomes `-`).
pub fn k8s_name(service: &str) -> String {
    service.to_lowercase().replace('.', "-")
}

/// Dynamo namespace of a service: `dynamo` when global, else `{namespace}-{graph}` with dots
/// of the graph name turned into dashes.
pub fn dynamo_namespace(
    namespace: &str,
    graph: &str,
    service: &DynamoComponentDeploymentSharedSpec,
) -> String {
    if service.global_dynamo_namespace == Some(true) {
        keys::GLOBAL_DYNAMO_NAMESPACE.to_owned()
    } else {
        format!("{namespace}-{}", graph.replace('.', "-"))
    }
}

/// Nodes per replica: `multinode.nodeCount`, else 1.
fn node_count(service: &DynamoComponentDeploymentSharedSpec) -> u32 {
    service
        .multinode
        .as_ref()
        .map_or(1, |m| u32::try_from(m.node_count).unwrap_or(1).max(1))
}

/// The GPUs one node of a service uses.
pub(crate) struct Gpus {
    /// How many (0 when none).
    pub(crate) count: u32,
    /// Their resource name; empty when `count` is 0.
    pub(crate) resource: String,
}

/// GPUs per node from `resources.limits` and `resources.requests`.
///
/// Kubernetes requires the request of an extended resource such as a GPU to equal its limit
/// (the request defaults to the limit), so a request that differs from the limit in count or
/// `gpuType` is refused here, naming the field, rather than by the API server later.
pub(crate) fn gpus(
    service: &DynamoComponentDeploymentSharedSpec,
    field: &str,
) -> Result<Gpus, RenderError> {
    let resources = service.resources.as_ref();
    let parse = |which: &str| -> Result<Option<(u32, String)>, RenderError> {
        let item = match which {
            "requests" => resources.and_then(|r| r.requests.as_ref()),
            _ => resources.and_then(|r| r.limits.as_ref()),
        };
        let Some(item) = item else {
            return Ok(None);
        };
        let Some(text) = item.gpu.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let count = text.parse::<u32>().map_err(|_| {
            RenderError::field(
                format!("{field}.resources.{which}.gpu"),
                format!("must be a whole number of GPUs, got `{text}`"),
            )
        })?;
        Ok(Some((count, crate::pod::gpu_resource(item))))
    };
    let request = parse("requests")?;
    let limit = parse("limits")?;
    if let (Some((wanted, wanted_type)), Some((most, most_type))) = (&request, &limit) {
        if wanted != most {
            return Err(RenderError::field(
                format!("{field}.resources.requests.gpu"),
                format!(
                    "must equal resources.limits.gpu ({most}), got {wanted}: Kubernetes requires \
                     the request of a GPU to equal its limit (omit the request to default it to \
                     the limit)"
                ),
            ));
        }
        if wanted_type != most_type {
            return Err(RenderError::field(
                format!("{field}.resources.requests.gpuType"),
                format!(
                    "must equal resources.limits.gpuType (`{most_type}`), got `{wanted_type}`: \
                     the request and the limit name one GPU resource"
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

/// Mount path of the volume marked `useAsCompilationCache`: its `mountPoint`, else the
/// backend's default (vLLM only).
fn compilation_cache_path(
    service: &DynamoComponentDeploymentSharedSpec,
    chain: Option<&Chain>,
) -> Option<String> {
    let mount = service
        .volume_mounts
        .as_ref()?
        .iter()
        .find(|m| m.use_as_compilation_cache == Some(true))?;
    mount
        .mount_point
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(|| default_compilation_cache_path(chain.map(|c| c.framework.as_str())))
}

/// Backend default mount path of a compilation cache (`/root/.cache/vllm` for vLLM).
pub fn default_compilation_cache_path(framework: Option<&str>) -> Option<String> {
    (framework == Some("vllm")).then(|| VLLM_COMPILATION_CACHE_PATH.to_owned())
}

/// The service spec with graph-level envs, annotations and labels folded in (service wins).
pub fn effective_spec(
    dgd: &DynamoGraphDeployment,
    service: &DynamoComponentDeploymentSharedSpec,
) -> DynamoComponentDeploymentSharedSpec {
    let mut spec = service.clone();
    let envs = merge_env_by_name(
        dgd.spec.envs.as_deref().unwrap_or_default(),
        service.envs.as_deref().unwrap_or_default(),
    );
    spec.envs = (!envs.is_empty()).then_some(envs);
    spec.annotations = overlay(dgd.spec.annotations.as_ref(), service.annotations.as_ref());
    spec.labels = overlay(dgd.spec.labels.as_ref(), service.labels.as_ref());
    spec
}

fn overlay(
    base: Option<&BTreeMap<String, String>>,
    top: Option<&BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    let mut merged = base.cloned().unwrap_or_default();
    merged.extend(top.cloned().unwrap_or_default());
    (!merged.is_empty()).then_some(merged)
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
/// with an explicit choice ([`explicit_framework`]: the service's `nvidia.com/backend-framework`
/// annotation, else `spec.backendFramework`), and falls back to it. Non-workers and workers with
/// neither run no plugin.
fn resolve_chain(
    dgd: &DynamoGraphDeployment,
    name: &str,
    service: &DynamoComponentDeploymentSharedSpec,
    role: ComponentRole,
    catalog: &Catalog,
) -> Result<Option<Chain>, RenderError> {
    if role != ComponentRole::Worker {
        return Ok(None);
    }
    let field = service_path(name);
    let detected = detect_framework(main_container(service), catalog);
    let explicit = explicit_framework(dgd, name, service);
    let framework = match (detected, explicit) {
        (Some(d), Some(e)) if d.framework != e.framework => {
            return Err(RenderError::field(
                format!("{field}.extraPodSpec.mainContainer.command"),
                mismatch_message(&d, &e),
            ));
        }
        (Some(d), _) => d.framework,
        (None, Some(e)) => e.framework,
        (None, None) => return Ok(None),
    };
    catalog
        .chain(&framework, node_count(service) > 1, &field)
        .map(Some)
}

/// A backend framework chosen explicitly for a worker, and the field that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplicitFramework {
    /// The framework (`vllm`, or a custom plugin's such as `llamacpp`).
    pub framework: String,
    /// Path of the field that chose it: `spec.backendFramework`, or the service's annotation
    /// (`spec.services.<name>.annotations[nvidia.com/backend-framework]`).
    pub field: String,
}

/// The framework service `name` asks for explicitly: its own `nvidia.com/backend-framework`
/// annotation when non-blank (it can name any plugin's framework, which the CRD enum of
/// `spec.backendFramework` cannot), else the graph's `spec.backendFramework`.
pub fn explicit_framework(
    dgd: &DynamoGraphDeployment,
    name: &str,
    service: &DynamoComponentDeploymentSharedSpec,
) -> Option<ExplicitFramework> {
    let annotated = service
        .annotations
        .as_ref()
        .and_then(|a| a.get(annotation::BACKEND_FRAMEWORK))
        .map(|value| value.trim())
        .filter(|value| !value.is_empty());
    match annotated {
        Some(framework) => Some(ExplicitFramework {
            framework: framework.to_owned(),
            field: backend_annotation_path(name),
        }),
        None => dgd.spec.backend_framework.map(|b| ExplicitFramework {
            framework: b.as_str().to_owned(),
            field: "spec.backendFramework".to_owned(),
        }),
    }
}

/// Field path of service `name`'s backend-framework annotation
/// (`spec.services.<name>.annotations[nvidia.com/backend-framework]`).
pub fn backend_annotation_path(name: &str) -> String {
    format!(
        "{}.annotations[{}]",
        service_path(name),
        annotation::BACKEND_FRAMEWORK
    )
}

/// Message for a detected framework that contradicts the explicitly chosen one.
pub fn mismatch_message(detected: &Detection, explicit: &ExplicitFramework) -> String {
    format!(
        "runs Python module `{}` (backend `{}`), but {} is `{}`",
        detected.module, detected.framework, explicit.field, explicit.framework
    )
}

/// The `extraPodSpec.mainContainer` of a service, if any.
pub fn main_container(service: &DynamoComponentDeploymentSharedSpec) -> Option<&Container> {
    service.extra_pod_spec.as_ref()?.main_container.as_ref()
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

/// Fields of a service spec that never reach its pods, left out of the worker hash.
const NON_POD_FIELDS: [&str; 5] = [
    "replicas",
    "scalingAdapter",
    "autoscaling",
    "ingress",
    "dynamoNamespace",
];

/// First 8 hex digits of the sha256 of the Dynamo worker services' pod-affecting specs (graph
/// envs, labels and annotations folded in), keyed by service name; `None` without workers.
fn worker_hash(services: &[ServiceModel]) -> Result<Option<String>, RenderError> {
    let mut workers = serde_json::Map::new();
    for service in services.iter().filter(|s| s.in_worker_generation()) {
        let mut spec = serde_json::to_value(&service.spec)
            .map_err(|e| RenderError::field(service.field(), format!("cannot serialize: {e}")))?;
        if let Some(fields) = spec.as_object_mut() {
            for field in NON_POD_FIELDS {
                fields.remove(field);
            }
        }
        workers.insert(service.name.clone(), spec);
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
