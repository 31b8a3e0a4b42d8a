//! Pure validation of a DynamoGraphDeployment: the admission rules of Dynamo's webhook (CREATE),
//! plus the checks an offline render needs because no API server enforced the CRD schema.
//!
//! Every finding is a [`Diagnostic`] with the field path at fault
//! (`spec.services.decode.replicas`) and a severity; warnings never block a render. Rules that
//! need the cluster (Grove ClusterTopology levels, the InferencePool API) and UPDATE rules are
//! not here.

use std::collections::{BTreeMap, BTreeSet};

use dynamo_api::DynamoGraphDeployment;
use dynamo_api::shared::{DynamoComponentDeploymentSharedSpec, GpuSharingMode};
use dynamo_plugin_contract::Diagnostic;

use crate::config::{Orchestrator, RenderConfig};
use crate::keys::{self, annotation};
use crate::model::{
    self, ComponentRole, backend_annotation_path, default_compilation_cache_path, detect_framework,
    explicit_framework, k8s_name, main_container, mismatch_message, service_path,
};
use crate::names::{self, Rule};
use crate::plugins::{Catalog, PluginSet};

/// Longest `{dgd}{svc}` (single-node) or `{dgd}{svc}{svc}-ldr` (multi-node) Grove accepts.
pub const GROVE_NAME_BUDGET: usize = 45;

/// Validates `dgd` for `config`, detecting backends with `plugins`' metadata.
pub fn validate(
    dgd: &DynamoGraphDeployment,
    config: &RenderConfig,
    plugins: &dyn PluginSet,
) -> Vec<Diagnostic> {
    validate_with(dgd, config, &Catalog::new(plugins))
}

/// Validates `dgd` for `config` with an already-built plugin catalog.
pub fn validate_with(
    dgd: &DynamoGraphDeployment,
    config: &RenderConfig,
    catalog: &Catalog,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let name = dgd.metadata.name.clone().unwrap_or_default();
    if name.is_empty() {
        out.push(Diagnostic::error("metadata.name", "must not be empty"));
    }
    let annotations = dgd.metadata.annotations.clone().unwrap_or_default();
    check_graph_annotations(&annotations, &mut out);
    let empty = BTreeMap::new();
    let services = dgd.spec.services.as_ref().unwrap_or(&empty);
    if services.is_empty() {
        out.push(Diagnostic::error(
            "spec.services",
            "at least one service is required",
        ));
    }
    check_names(dgd, services, config, &mut out);
    check_pvcs(dgd, &mut out);
    check_restart(dgd, services, &mut out);
    check_topology(dgd, services, &mut out);
    check_failover_discovery(&annotations, services, &mut out);

    let orchestrator = model::effective_orchestrator(&annotations, config);
    for (svc_name, svc) in services {
        let field = service_path(svc_name);
        check_service(svc_name, svc, &field, &mut out);
        check_backend(dgd, svc_name, svc, &field, catalog, &mut out);
        check_orchestrator(&name, svc_name, svc, &field, orchestrator, &mut out);
    }
    out
}

/// The rules about one service on its own (`field` is its path, e.g. `spec` for a
/// DynamoComponentDeployment): what Dynamo's webhook checks on a component's shared spec.
pub fn validate_service(
    name: &str,
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_service(name, svc, field, &mut out);
    out
}

fn check_graph_annotations(annotations: &BTreeMap<String, String>, out: &mut Vec<Diagnostic>) {
    let path = |key: &str| format!("metadata.annotations[{key}]");
    if let Some(version) = annotations.get(annotation::ORIGIN_VERSION)
        && !is_semver(version)
    {
        out.push(Diagnostic::error(
            path(annotation::ORIGIN_VERSION),
            format!("must be a semantic version such as 1.0.0, got `{version}`"),
        ));
    }
    check_vllm_backend(annotations, &path(annotation::VLLM_EXECUTOR_BACKEND), out);
    if let Some(mode) = annotations.get(annotation::KUBE_DISCOVERY_MODE)
        && !matches!(mode.as_str(), "pod" | "container")
    {
        out.push(Diagnostic::error(
            path(annotation::KUBE_DISCOVERY_MODE),
            format!("must be `pod` or `container`, got `{mode}`"),
        ));
    }
    if let Some(backend) = annotations.get(annotation::DISCOVERY_BACKEND)
        && !matches!(backend.as_str(), "kubernetes" | "etcd")
    {
        out.push(Diagnostic::warning(
            path(annotation::DISCOVERY_BACKEND),
            format!(
                "unknown discovery backend `{backend}` (expected `kubernetes` or `etcd`); the \
                 operator default is used"
            ),
        ));
    }
}

fn check_vllm_backend(
    annotations: &BTreeMap<String, String>,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(backend) = annotations.get(annotation::VLLM_EXECUTOR_BACKEND)
        && !matches!(backend.as_str(), "mp" | "ray")
    {
        out.push(Diagnostic::error(
            path,
            format!("must be `mp` or `ray`, got `{backend}`"),
        ));
    }
}

fn check_pvcs(dgd: &DynamoGraphDeployment, out: &mut Vec<Diagnostic>) {
    for (i, pvc) in dgd.spec.pvcs.iter().flatten().enumerate() {
        let field = format!("spec.pvcs[{i}]");
        if pvc.name.is_empty() {
            out.push(Diagnostic::error(format!("{field}.name"), "is required"));
        }
        if pvc.create == Some(true) {
            if pvc.storage_class.as_deref().is_none_or(str::is_empty) {
                out.push(Diagnostic::error(
                    format!("{field}.storageClass"),
                    "is required when create is true",
                ));
            }
            if pvc.size.is_none() {
                out.push(Diagnostic::error(
                    format!("{field}.size"),
                    "is required when create is true",
                ));
            }
            if pvc.volume_access_mode.as_deref().is_none_or(str::is_empty) {
                out.push(Diagnostic::error(
                    format!("{field}.volumeAccessMode"),
                    "is required when create is true",
                ));
            }
        }
    }
}

fn check_restart(
    dgd: &DynamoGraphDeployment,
    services: &BTreeMap<String, Box<DynamoComponentDeploymentSharedSpec>>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(restart) = &dgd.spec.restart else {
        return;
    };
    if restart.id.is_empty() {
        out.push(Diagnostic::error(
            "spec.restart.id",
            "is required when restart is set",
        ));
    }
    let Some(order) = restart.strategy.as_ref().and_then(|s| s.order.as_ref()) else {
        return;
    };
    let field = "spec.restart.strategy.order";
    let mut seen = BTreeSet::new();
    for (i, name) in order.iter().enumerate() {
        if !seen.insert(name) {
            out.push(Diagnostic::error(
                format!("{field}[{i}]"),
                format!("service `{name}` is listed more than once"),
            ));
        }
        if !services.contains_key(name) {
            out.push(Diagnostic::error(
                format!("{field}[{i}]"),
                format!("`{name}` is not a service of this graph"),
            ));
        }
    }
    if order.len() != services.len() {
        out.push(Diagnostic::error(
            field,
            format!(
                "must list every service exactly once: {} listed, {} services",
                order.len(),
                services.len()
            ),
        ));
    }
}

fn check_topology(
    dgd: &DynamoGraphDeployment,
    services: &BTreeMap<String, Box<DynamoComponentDeploymentSharedSpec>>,
    out: &mut Vec<Diagnostic>,
) {
    let graph = dgd.spec.topology_constraint.as_ref();
    if let Some(domain) = graph.and_then(|t| t.pack_domain.as_deref())
        && !is_topology_domain(domain)
    {
        out.push(Diagnostic::error(
            "spec.topologyConstraint.packDomain",
            topology_domain_message(domain),
        ));
    }
    let mut any_service = false;
    for (name, svc) in services {
        if let Some(constraint) = &svc.topology_constraint {
            any_service = true;
            if !is_topology_domain(&constraint.pack_domain) {
                out.push(Diagnostic::error(
                    format!("{}.topologyConstraint.packDomain", service_path(name)),
                    topology_domain_message(&constraint.pack_domain),
                ));
            }
        }
    }
    match graph {
        None if any_service => out.push(Diagnostic::error(
            "spec.topologyConstraint.topologyProfile",
            "is required when any service sets a topologyConstraint",
        )),
        None => {}
        Some(constraint) => {
            if constraint.topology_profile.is_empty() {
                out.push(Diagnostic::error(
                    "spec.topologyConstraint.topologyProfile",
                    "must not be empty",
                ));
            }
            if constraint.pack_domain.as_deref().is_none_or(str::is_empty) {
                for (name, svc) in services {
                    if svc.topology_constraint.is_none() {
                        out.push(Diagnostic::error(
                            format!("{}.topologyConstraint.packDomain", service_path(name)),
                            "is required when spec.topologyConstraint.packDomain is not set",
                        ));
                    }
                }
            }
        }
    }
}

fn topology_domain_message(domain: &str) -> String {
    format!(
        "`{domain}` is not a valid topology domain (lowercase letters, digits and `-`, starting \
         and ending with a letter or digit)"
    )
}

fn check_failover_discovery(
    annotations: &BTreeMap<String, String>,
    services: &BTreeMap<String, Box<DynamoComponentDeploymentSharedSpec>>,
    out: &mut Vec<Diagnostic>,
) {
    let container_mode = annotations
        .get(annotation::KUBE_DISCOVERY_MODE)
        .is_some_and(|m| m == "container");
    for (name, svc) in services {
        if svc.failover.as_ref().is_some_and(|f| f.enabled) && !container_mode {
            out.push(Diagnostic::error(
                format!("{}.failover.enabled", service_path(name)),
                format!(
                    "failover needs the graph annotation {}: container",
                    annotation::KUBE_DISCOVERY_MODE
                ),
            ));
        }
    }
}

/// Names Kubernetes must accept: the graph's name and namespace, every name derived from them
/// with the suffixes the operator adds, service names (which become label values), and the
/// graph's and services' labels and annotations.
fn check_names(
    dgd: &DynamoGraphDeployment,
    services: &BTreeMap<String, Box<DynamoComponentDeploymentSharedSpec>>,
    config: &RenderConfig,
    out: &mut Vec<Diagnostic>,
) {
    let graph = dgd.metadata.name.as_deref().unwrap_or_default();
    if let Some(namespace) = dgd.metadata.namespace.as_deref()
        && let Some(problem) = names::problem(namespace, Rule::DnsLabel)
    {
        out.push(Diagnostic::error("metadata.namespace", problem));
    }
    if graph.is_empty() {
        return;
    }
    if let Some(problem) = names::problem(graph, Rule::Dns1035Label) {
        out.push(Diagnostic::error(
            "metadata.name",
            format!(
                "{problem}; the graph name starts the names of its Services, which must be \
                 DNS-1035 labels"
            ),
        ));
        return;
    }
    let orchestrator = model::effective_orchestrator(
        &dgd.metadata.annotations.clone().unwrap_or_default(),
        config,
    );
    for (name, svc) in services {
        let field = service_path(name);
        if !names::is_label_value(name) {
            out.push(Diagnostic::error(
                &field,
                format!(
                    "service name `{}` is not a valid label value (at most 63 letters, digits, \
                     '-' and '.', starting and ending with a letter or digit)",
                    names::printable(name)
                ),
            ));
            continue;
        }
        let base = format!("{graph}-{}", k8s_name(name));
        let worker = ComponentRole::of(svc.component_type.as_deref().unwrap_or_default())
            == ComponentRole::Worker;
        let multinode = svc.multinode.as_ref().is_some_and(|m| m.node_count > 1);
        let mut derived = vec![(base.clone(), "Service")];
        if orchestrator != Orchestrator::Grove {
            // Worker DCDs carry `-<worker hash>`; multi-node replicas become `<dcd>-<index>`.
            let dcd = if worker {
                format!("{base}-{}", "x".repeat(8))
            } else {
                base.clone()
            };
            if multinode && orchestrator == Orchestrator::Lws {
                let last = svc.replicas.unwrap_or(1).max(1) - 1;
                derived.push((format!("{dcd}-{last}"), "LeaderWorkerSet"));
            }
            derived.push((dcd, "DynamoComponentDeployment"));
        }
        for (derived_name, kind) in derived {
            if derived_name.len() > names::MAX_LABEL {
                out.push(Diagnostic::error(
                    &field,
                    format!(
                        "graph name `{graph}` and service name `{name}` give a {kind} name of {} \
                         characters; Kubernetes allows {} (shorten the graph or service name)",
                        derived_name.len(),
                        names::MAX_LABEL
                    ),
                ));
                break;
            }
        }
    }
    check_metadata_maps(
        "spec",
        dgd.spec.labels.as_ref(),
        dgd.spec.annotations.as_ref(),
        out,
    );
    for (name, svc) in services {
        let field = service_path(name);
        check_metadata_maps(&field, svc.labels.as_ref(), svc.annotations.as_ref(), out);
        if let Some(extra) = &svc.extra_pod_metadata {
            check_metadata_maps(
                &format!("{field}.extraPodMetadata"),
                extra.labels.as_ref(),
                extra.annotations.as_ref(),
                out,
            );
        }
    }
}

/// Label keys and values, and annotation keys, of one `labels`/`annotations` pair at `field`.
fn check_metadata_maps(
    field: &str,
    labels: Option<&BTreeMap<String, String>>,
    annotations: Option<&BTreeMap<String, String>>,
    out: &mut Vec<Diagnostic>,
) {
    for (map, entries) in [("labels", labels), ("annotations", annotations)] {
        for (key, value) in entries.into_iter().flatten() {
            let at = format!("{field}.{map}[{}]", names::printable(key));
            if !names::is_qualified_name(key) {
                out.push(Diagnostic::error(
                    &at,
                    "is not a valid key (an optional DNS subdomain and '/', then at most 63 \
                     letters, digits, '-', '_' and '.')",
                ));
            } else if map == "labels"
                && let Some(problem) = names::problem(value, Rule::LabelValue)
            {
                out.push(Diagnostic::error(&at, problem));
            }
        }
    }
}

/// Rules about one service on its own.
fn check_service(
    name: &str,
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let k8s = k8s_name(name);
    if !is_dns_label(&k8s) {
        out.push(Diagnostic::error(
            field,
            format!(
                "service name `{name}` gives the Kubernetes name `{k8s}`, which is not a DNS \
                 label (lowercase letters, digits and `-`, at most 63 characters)"
            ),
        ));
    }
    if svc.dynamo_namespace.is_some() {
        out.push(Diagnostic::warning(
            format!("{field}.dynamoNamespace"),
            "is deprecated and ignored: the Dynamo namespace is derived from the namespace and \
             graph name",
        ));
    }
    if svc.autoscaling.is_some() {
        out.push(Diagnostic::warning(
            format!("{field}.autoscaling"),
            "is deprecated and ignored: use scalingAdapter with an autoscaler instead",
        ));
    }
    if let Some(replicas) = svc.replicas
        && replicas < 0
    {
        out.push(Diagnostic::error(
            format!("{field}.replicas"),
            format!("must be 0 or more, got {replicas}"),
        ));
    }
    if let Some(multinode) = &svc.multinode
        && multinode.node_count < 2
    {
        out.push(Diagnostic::error(
            format!("{field}.multinode.nodeCount"),
            format!("must be at least 2, got {}", multinode.node_count),
        ));
    }
    if let Some(ingress) = &svc.ingress
        && ingress.enabled == Some(true)
        && ingress.host.as_deref().is_none_or(str::is_empty)
    {
        out.push(Diagnostic::error(
            format!("{field}.ingress.host"),
            "is required when ingress is enabled",
        ));
    }
    check_gpu_values(svc, field, out);
    for (i, mount) in svc.volume_mounts.iter().flatten().enumerate() {
        let path = format!("{field}.volumeMounts[{i}]");
        if mount.name.is_empty() {
            out.push(Diagnostic::error(format!("{path}.name"), "is required"));
        }
        if mount.use_as_compilation_cache != Some(true)
            && mount.mount_point.as_deref().is_none_or(str::is_empty)
        {
            out.push(Diagnostic::error(
                format!("{path}.mountPoint"),
                "is required unless the volume is the compilation cache",
            ));
        }
    }
    if let Some(shm) = &svc.shared_memory {
        let disabled = shm.disabled == Some(true);
        if disabled && shm.size.is_some() {
            out.push(Diagnostic::error(
                format!("{field}.sharedMemory.size"),
                "must not be set when sharedMemory.disabled is true",
            ));
        }
        if !disabled && shm.size.is_none() {
            out.push(Diagnostic::error(
                format!("{field}.sharedMemory.size"),
                "is required unless sharedMemory.disabled is true",
            ));
        }
    }
    if svc.frontend_sidecar.is_some()
        && svc.extra_pod_spec.as_ref().is_some_and(|e| {
            e.pod_spec
                .containers
                .iter()
                .any(|c| c.name == keys::FRONTEND_SIDECAR_CONTAINER)
        })
    {
        out.push(Diagnostic::error(
            format!("{field}.frontendSidecar"),
            format!(
                "extraPodSpec.containers already has a container named `{}`",
                keys::FRONTEND_SIDECAR_CONTAINER
            ),
        ));
    }
    check_vllm_backend(
        svc.annotations.as_ref().unwrap_or(&BTreeMap::new()),
        &format!("{field}.annotations[{}]", annotation::VLLM_EXECUTOR_BACKEND),
        out,
    );
    let role = ComponentRole::of(svc.component_type.as_deref().unwrap_or_default());
    if role == ComponentRole::Epp {
        check_epp(svc, field, out);
    }
    check_gms_and_failover(svc, role, field, out);
    check_not_rendered(svc, field, out);
}

/// Features of Dynamo's API this operator does not render: refused by name rather than
/// silently dropped, so a graph never runs without what it asked for.
fn check_not_rendered(
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    if svc
        .checkpoint
        .as_ref()
        .is_some_and(|c| c.enabled == Some(true))
    {
        out.push(Diagnostic::error(
            format!("{field}.checkpoint.enabled"),
            "restoring engines from checkpoints is not supported by this operator; remove \
             `checkpoint` or set `enabled: false`",
        ));
    }
}

/// GPU counts that parse, and a request equal to its limit (the model's own rule, reported here
/// as a diagnostic so the webhooks name it beside every other finding).
fn check_gpu_values(
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    if let Err(error) = crate::model::gpus(svc, field) {
        out.extend(error.diagnostics());
    }
}

fn check_epp(svc: &DynamoComponentDeploymentSharedSpec, field: &str, out: &mut Vec<Diagnostic>) {
    if svc.multinode.is_some() {
        out.push(Diagnostic::error(
            format!("{field}.multinode"),
            "an endpoint picker cannot be multi-node",
        ));
    }
    if let Some(replicas) = svc.replicas
        && replicas != 1
    {
        out.push(Diagnostic::error(
            format!("{field}.replicas"),
            format!("an endpoint picker runs exactly 1 replica, got {replicas}"),
        ));
    }
    match &svc.epp_config {
        None => out.push(Diagnostic::error(
            format!("{field}.eppConfig"),
            "is required for componentType epp",
        )),
        Some(config) => match (&config.config_map_ref, &config.config) {
            (Some(_), Some(_)) | (None, None) => out.push(Diagnostic::error(
                format!("{field}.eppConfig"),
                "set exactly one of configMapRef and config",
            )),
            (Some(reference), None) if reference.name.is_empty() => out.push(Diagnostic::error(
                format!("{field}.eppConfig.configMapRef.name"),
                "is required",
            )),
            _ => {}
        },
    }
}

fn check_gms_and_failover(
    svc: &DynamoComponentDeploymentSharedSpec,
    role: ComponentRole,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let gms = svc.gpu_memory_service.as_ref().filter(|g| g.enabled);
    if let Some(gms) = gms {
        if gms.mode == Some(GpuSharingMode::InterPod) {
            out.push(Diagnostic::error(
                format!("{field}.gpuMemoryService.mode"),
                "interPod is not supported",
            ));
        }
        if role != ComponentRole::Worker {
            out.push(Diagnostic::error(
                format!("{field}.gpuMemoryService.enabled"),
                "is only supported on worker, prefill and decode components",
            ));
        }
        let gpus = svc.resources.as_ref().and_then(|r| {
            r.limits
                .as_ref()
                .and_then(|l| l.gpu.clone())
                .or_else(|| r.requests.as_ref().and_then(|q| q.gpu.clone()))
        });
        if gpus.and_then(|g| g.trim().parse::<u32>().ok()).unwrap_or(0) < 1 {
            out.push(Diagnostic::error(
                format!("{field}.resources.limits.gpu"),
                "must be at least 1 when gpuMemoryService is enabled",
            ));
        }
    }
    if let Some(failover) = svc.failover.as_ref().filter(|f| f.enabled) {
        if svc.multinode.is_some() {
            out.push(Diagnostic::error(
                format!("{field}.failover.enabled"),
                "is not supported on multi-node services",
            ));
        }
        let mode = failover.mode.unwrap_or_default();
        if mode == GpuSharingMode::InterPod {
            out.push(Diagnostic::error(
                format!("{field}.failover.mode"),
                "interPod is not supported",
            ));
        }
        match gms {
            None => out.push(Diagnostic::error(
                format!("{field}.failover.enabled"),
                "needs gpuMemoryService.enabled",
            )),
            Some(gms) if gms.mode.unwrap_or_default() != mode => out.push(Diagnostic::error(
                format!("{field}.failover.mode"),
                "must equal gpuMemoryService.mode",
            )),
            Some(_) => {}
        }
    }
}

/// Backend detection against the explicit choice (the service's `nvidia.com/backend-framework`
/// annotation, else `spec.backendFramework`), and that some plugin handles it.
fn check_backend(
    dgd: &DynamoGraphDeployment,
    name: &str,
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    catalog: &Catalog,
    out: &mut Vec<Diagnostic>,
) {
    let annotated = svc
        .annotations
        .as_ref()
        .and_then(|a| a.get(annotation::BACKEND_FRAMEWORK));
    if ComponentRole::of(svc.component_type.as_deref().unwrap_or_default()) != ComponentRole::Worker
    {
        if annotated.is_some() {
            out.push(Diagnostic::warning(
                backend_annotation_path(name),
                "is ignored: only worker, prefill and decode components run a backend plugin",
            ));
        }
        return;
    }
    if annotated.is_some_and(|value| value.trim().is_empty()) {
        out.push(Diagnostic::error(
            backend_annotation_path(name),
            "must name the backend framework of a loaded plugin, e.g. `llamacpp`",
        ));
    }
    let detected = detect_framework(main_container(svc), catalog);
    let explicit = explicit_framework(dgd, name, svc);
    match (&detected, &explicit) {
        (Some(d), Some(e)) if d.framework != e.framework => out.push(Diagnostic::error(
            format!("{field}.extraPodSpec.mainContainer.command"),
            mismatch_message(d, e),
        )),
        (None, Some(e)) if catalog.backend_for(&e.framework).is_none() => {
            let message = if e.field == backend_annotation_path(name) {
                match catalog.unavailable_note() {
                    note if note.is_empty() => format!(
                        "no loaded backend plugin handles `{}` (a custom backend plugin is loaded \
                         from the operator's plugin directory)",
                        e.framework
                    ),
                    note => format!("no loaded backend plugin handles `{}`{note}", e.framework),
                }
            } else {
                format!(
                    "no backend plugin handles `{}` (needed by service `{name}`)",
                    e.framework
                )
            };
            out.push(Diagnostic::error(&e.field, message));
        }
        _ => {}
    }
    let framework = detected
        .as_ref()
        .map(|d| d.framework.as_str())
        .or(explicit.as_ref().map(|e| e.framework.as_str()));
    for (i, mount) in svc.volume_mounts.iter().flatten().enumerate() {
        if mount.use_as_compilation_cache == Some(true)
            && mount.mount_point.as_deref().is_none_or(str::is_empty)
            && default_compilation_cache_path(framework).is_none()
        {
            out.push(Diagnostic::warning(
                format!("{field}.volumeMounts[{i}].mountPoint"),
                format!(
                    "backend `{}` has no default compilation-cache path; the volume is not \
                     mounted",
                    framework.unwrap_or("none")
                ),
            ));
        }
    }
}

/// Rules that depend on the orchestrator: multi-node support and Grove name lengths.
fn check_orchestrator(
    graph: &str,
    name: &str,
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    orchestrator: Orchestrator,
    out: &mut Vec<Diagnostic>,
) {
    let multinode = svc.multinode.as_ref().is_some_and(|m| m.node_count > 1);
    match orchestrator {
        Orchestrator::Deployment if multinode => out.push(Diagnostic::error(
            format!("{field}.multinode"),
            "no multinode orchestrator available: enable Grove or LeaderWorkerSet",
        )),
        Orchestrator::Lws if multinode => {
            let main = main_container(svc);
            if main
                .and_then(|c| c.command.as_ref())
                .is_none_or(Vec::is_empty)
            {
                out.push(Diagnostic::error(
                    format!("{field}.extraPodSpec.mainContainer.command"),
                    "is required for a multi-node service on LeaderWorkerSet",
                ));
            }
            if main.and_then(|c| c.args.as_ref()).is_none_or(Vec::is_empty) {
                out.push(Diagnostic::error(
                    format!("{field}.extraPodSpec.mainContainer.args"),
                    "is required for a multi-node service on LeaderWorkerSet",
                ));
            }
            let role = ComponentRole::of(svc.component_type.as_deref().unwrap_or_default());
            let limit = svc
                .resources
                .as_ref()
                .and_then(|r| r.limits.as_ref())
                .and_then(|l| l.gpu.as_deref());
            if role == ComponentRole::Worker && limit.is_none_or(str::is_empty) {
                out.push(Diagnostic::error(
                    format!("{field}.resources.limits.gpu"),
                    "is required for a multi-node worker on LeaderWorkerSet",
                ));
            }
        }
        Orchestrator::Grove => {
            let svc_len = k8s_name(name).len();
            let (used, what) = if multinode {
                (
                    graph.len() + svc_len + svc_len + "-ldr".len(),
                    "graph name + service name + leader clique name",
                )
            } else {
                (graph.len() + svc_len, "graph name + service name")
            };
            if used > GROVE_NAME_BUDGET {
                out.push(Diagnostic::error(
                    field,
                    format!(
                        "{what} is {used} characters; Grove allows at most {GROVE_NAME_BUDGET}"
                    ),
                ));
            }
        }
        _ => {}
    }
}

/// True for `MAJOR.MINOR.PATCH` with optional `v` prefix, `-pre` and `+build` parts.
pub fn is_semver(text: &str) -> bool {
    let text = text.strip_prefix('v').unwrap_or(text);
    let (text, build) = match text.split_once('+') {
        Some((t, b)) => (t, Some(b)),
        None => (text, None),
    };
    let (core, pre) = match text.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (text, None),
    };
    let identifiers_ok = |s: Option<&str>| {
        s.is_none_or(|s| {
            !s.is_empty()
                && s.split('.').all(|id| {
                    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        })
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && identifiers_ok(pre)
        && identifiers_ok(build)
}

/// True for a topology domain name: `^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`.
pub fn is_topology_domain(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// True for an RFC 1123 DNS label (at most 63 characters).
pub fn is_dns_label(text: &str) -> bool {
    text.len() <= 63 && is_topology_domain(text)
}

#[cfg(test)]
mod tests;
