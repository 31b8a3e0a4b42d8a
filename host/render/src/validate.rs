//! Pure validation of a DynamoGraphDeployment (`v1beta1`): the admission rules of Dynamo 1.5's
//! webhook (CREATE), the CRD's own rules an offline render must check because no API server
//! enforced them, and what this operator does not render.
//!
//! Every finding is a [`Diagnostic`] with the field path at fault, in `v1beta1` terms as Dynamo's
//! webhook reports them (`spec.components[1].replicas`; a `v1alpha1` graph is judged after its
//! conversion), and a severity; warnings never block a render. Fields only `v1alpha1` has
//! (kept through the conversion, [`LegacyGraph`]) are named by their `v1alpha1` path
//! (`spec.pvcs[0].size`, `spec.services.<name>.ingress.host`). Rules that need the cluster
//! (Grove ClusterTopology levels, the InferencePool API) and UPDATE rules are not here.

use std::collections::{BTreeMap, BTreeSet};

use dynamo_api::DynamoGraphDeployment;
use dynamo_api::common::RestartStrategyType;
use dynamo_api::shared::{
    ComponentType, DynamoComponentDeploymentSharedSpec, GpuMemoryServiceMode, MAIN_CONTAINER_NAME,
};
use dynamo_plugin_contract::Diagnostic;

use crate::config::{Orchestrator, RenderConfig};
use crate::keys::annotation;
use crate::legacy::{LegacyGraph, LegacyService};
use crate::model::{
    self, ComponentRole, command_path, component_path, default_compilation_cache_path,
    detect_framework, explicit_framework, k8s_name, mismatch_message,
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
    match LegacyGraph::of(dgd) {
        Ok(legacy) => validate_with(dgd, &legacy, None, config, &Catalog::new(plugins)),
        Err(error) => error.diagnostics(),
    }
}

/// Validates `dgd` (whose `v1alpha1`-only facts are `legacy`) for `config` with an
/// already-built plugin catalog. `path` replaces the components' field paths (`spec` for the
/// one component of a DynamoComponentDeployment).
pub fn validate_with(
    dgd: &DynamoGraphDeployment,
    legacy: &LegacyGraph,
    path: Option<&str>,
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
    let components = dgd.components();
    if components.is_empty() {
        out.push(Diagnostic::error(
            "spec.components",
            "at least one component is required",
        ));
    }
    check_unique(components, &mut out);
    check_names(dgd, legacy, config, &mut out);
    check_pvcs(legacy, &mut out);
    check_restart(dgd, &mut out);
    check_topology(dgd, &mut out);
    check_failover_discovery(&annotations, components, &mut out);
    check_graph_not_rendered(dgd, &mut out);

    let orchestrator = model::effective_orchestrator(&annotations, config);
    for (index, component) in components.iter().enumerate() {
        let field = path.map_or_else(|| component_path(index), str::to_owned);
        let svc_legacy = legacy.service(&component.name);
        check_service(component, &svc_legacy, &field, orchestrator, &mut out);
        check_backend(dgd, component, &svc_legacy, &field, catalog, &mut out);
        check_orchestrator(&name, component, &field, orchestrator, &mut out);
    }
    out
}

/// The rules about one component on its own (`field` is its path, e.g. `spec` for a
/// DynamoComponentDeployment): what Dynamo's webhook checks on a component's shared spec.
pub fn validate_service(
    component: &DynamoComponentDeploymentSharedSpec,
    legacy: &LegacyService,
    field: &str,
    orchestrator: Orchestrator,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_service(component, legacy, field, orchestrator, &mut out);
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

/// `nvidia.com/vllm-distributed-executor-backend`, when set, is `mp` or `ray` in any case (as
/// Dynamo's CRD rule reads it).
fn check_vllm_backend(
    annotations: &BTreeMap<String, String>,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(backend) = annotations.get(annotation::VLLM_EXECUTOR_BACKEND)
        && !matches!(backend.to_ascii_lowercase().as_str(), "mp" | "ray")
    {
        out.push(Diagnostic::error(
            path,
            format!("must be `mp` or `ray` (in any case), got `{backend}`"),
        ));
    }
}

/// Component names unique case-insensitively, at most one endpoint picker (the CRD's rules).
fn check_unique(components: &[DynamoComponentDeploymentSharedSpec], out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (index, component) in components.iter().enumerate() {
        let key = component.name.to_ascii_lowercase();
        if let Some(first) = seen.get(&key) {
            out.push(Diagnostic::error(
                format!("{}.name", component_path(index)),
                format!(
                    "component names must be unique case-insensitively: `{}` repeats \
                     spec.components[{first}]",
                    component.name
                ),
            ));
        } else {
            seen.insert(key, index);
        }
    }
    let pickers: Vec<usize> = components
        .iter()
        .enumerate()
        .filter(|(_, c)| c.component_type == Some(ComponentType::Epp))
        .map(|(i, _)| i)
        .collect();
    if pickers.len() > 1 {
        out.push(Diagnostic::error(
            "spec.components",
            format!(
                "at most one component may have type epp, found {} (spec.components{:?})",
                pickers.len(),
                pickers
            ),
        ));
    }
}

fn check_pvcs(legacy: &LegacyGraph, out: &mut Vec<Diagnostic>) {
    for (i, pvc) in legacy.pvcs.iter().enumerate() {
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
            // The conversion writes an absent size as `0` (Go's zero quantity), and a claim
            // of zero bytes cannot be created either.
            if pvc
                .size
                .as_ref()
                .is_none_or(|size| crate::pod::is_zero_quantity(&size.0))
            {
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

fn check_restart(dgd: &DynamoGraphDeployment, out: &mut Vec<Diagnostic>) {
    let Some(restart) = &dgd.spec.restart else {
        return;
    };
    if restart.id.is_empty() {
        out.push(Diagnostic::error(
            "spec.restart.id",
            "is required when restart is set",
        ));
    }
    let Some(strategy) = &restart.strategy else {
        return;
    };
    let Some(order) = &strategy.order else {
        return;
    };
    let field = "spec.restart.strategy.order";
    if strategy.type_ == Some(RestartStrategyType::Parallel) {
        out.push(Diagnostic::error(
            field,
            "cannot be specified when strategy is parallel",
        ));
        return;
    }
    let names: BTreeSet<&str> = dgd.components().iter().map(|c| c.name.as_str()).collect();
    let mut seen = BTreeSet::new();
    for (i, name) in order.iter().enumerate() {
        if !seen.insert(name) {
            out.push(Diagnostic::error(
                format!("{field}[{i}]"),
                format!("component `{name}` is listed more than once"),
            ));
        }
        if !names.contains(name.as_str()) {
            out.push(Diagnostic::error(
                format!("{field}[{i}]"),
                format!("`{name}` is not a component of this graph"),
            ));
        }
    }
    if order.len() != names.len() {
        out.push(Diagnostic::error(
            field,
            format!(
                "must list every component exactly once: {} listed, {} components",
                order.len(),
                names.len()
            ),
        ));
    }
}

fn check_topology(dgd: &DynamoGraphDeployment, out: &mut Vec<Diagnostic>) {
    let graph = dgd.spec.topology_constraint.as_ref();
    if let Some(domain) = graph.and_then(|t| t.pack_domain.as_deref())
        && !is_topology_domain(domain)
    {
        out.push(Diagnostic::error(
            "spec.topologyConstraint.packDomain",
            topology_domain_message(domain),
        ));
    }
    let components = dgd.components();
    let mut any_component = false;
    for (index, component) in components.iter().enumerate() {
        if let Some(constraint) = &component.topology_constraint {
            any_component = true;
            if !is_topology_domain(&constraint.pack_domain) {
                out.push(Diagnostic::error(
                    format!("{}.topologyConstraint.packDomain", component_path(index)),
                    topology_domain_message(&constraint.pack_domain),
                ));
            }
        }
    }
    match graph {
        None if any_component => out.push(Diagnostic::error(
            "spec.topologyConstraint.clusterTopologyName",
            "is required when any component sets a topologyConstraint",
        )),
        None => {}
        Some(constraint) => {
            if constraint.cluster_topology_name.is_empty() {
                out.push(Diagnostic::error(
                    "spec.topologyConstraint.clusterTopologyName",
                    "must not be empty",
                ));
            }
            if constraint.pack_domain.as_deref().is_none_or(str::is_empty) {
                for (index, component) in components.iter().enumerate() {
                    if component.topology_constraint.is_none() {
                        out.push(Diagnostic::error(
                            format!("{}.topologyConstraint.packDomain", component_path(index)),
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
    components: &[DynamoComponentDeploymentSharedSpec],
    out: &mut Vec<Diagnostic>,
) {
    let container_mode = annotations
        .get(annotation::KUBE_DISCOVERY_MODE)
        .is_some_and(|m| m == "container");
    for (index, component) in components.iter().enumerate() {
        let failover = component
            .experimental
            .as_ref()
            .is_some_and(|e| e.failover.is_some());
        if failover && !container_mode {
            out.push(Diagnostic::error(
                format!("{}.experimental.failover", component_path(index)),
                format!(
                    "failover needs the graph annotation {}: container",
                    annotation::KUBE_DISCOVERY_MODE
                ),
            ));
        }
    }
}

/// Graph-level features of Dynamo's API this operator does not render: refused by name rather
/// than silently dropped, so a graph never runs without what it asked for.
fn check_graph_not_rendered(dgd: &DynamoGraphDeployment, out: &mut Vec<Diagnostic>) {
    if dgd.spec.provider_override.is_some() {
        out.push(Diagnostic::error(
            "spec.providerOverride",
            "Grove provider overrides are not supported by this operator; remove the field",
        ));
    }
    if dgd
        .spec
        .experimental
        .as_ref()
        .is_some_and(|e| e.kv_transfer_policy.is_some())
    {
        out.push(Diagnostic::error(
            "spec.experimental.kvTransferPolicy",
            "KV-transfer placement policies are not supported by this operator; remove the field",
        ));
    }
}

/// Names Kubernetes must accept: the graph's name and namespace, every name derived from them
/// with the suffixes the operator adds, component names (which become label values), and the
/// graph's and components' labels and annotations.
fn check_names(
    dgd: &DynamoGraphDeployment,
    legacy: &LegacyGraph,
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
    for (index, component) in dgd.components().iter().enumerate() {
        let field = component_path(index);
        let name = &component.name;
        if name.is_empty() {
            out.push(Diagnostic::error(format!("{field}.name"), "is required"));
            continue;
        }
        if !names::is_label_value(name) || name.contains('.') || name.contains('_') {
            out.push(Diagnostic::error(
                format!("{field}.name"),
                format!(
                    "component name `{}` must be at most 63 letters, digits and '-', starting \
                     and ending with a letter or digit",
                    names::printable(name)
                ),
            ));
            continue;
        }
        // Grove names its objects after graph and component itself (budget checked with the
        // orchestrator); the DCD pathway derives a DCD, Deployment and Service name.
        if orchestrator != Orchestrator::Grove {
            let base = format!("{graph}-{}", k8s_name(name));
            let multinode = component.uses_multinode();
            let mut derived = vec![(base.clone(), "DynamoComponentDeployment")];
            if component.is_worker() {
                // Worker DCDs carry `-<worker hash>`.
                derived[0].0 = format!("{base}-{}", "x".repeat(8));
            }
            if multinode && orchestrator == Orchestrator::Lws {
                let last = component.replicas.unwrap_or(1).max(1) - 1;
                derived.push((format!("{}-{last}", derived[0].0), "LeaderWorkerSet"));
            }
            for (derived_name, kind) in derived {
                if derived_name.len() > names::MAX_SUBDOMAIN {
                    out.push(Diagnostic::error(
                        format!("{field}.name"),
                        format!(
                            "graph name `{graph}` and component name `{name}` give a {kind} \
                             name of {} characters; Kubernetes allows {}",
                            derived_name.len(),
                            names::MAX_SUBDOMAIN
                        ),
                    ));
                    break;
                }
            }
        }
    }
    check_metadata_maps(
        "spec",
        dgd.spec.labels.as_ref(),
        dgd.spec.annotations.as_ref(),
        out,
    );
    for (index, component) in dgd.components().iter().enumerate() {
        let field = component_path(index);
        if let Some(meta) = component
            .pod_template
            .as_ref()
            .and_then(|t| t.metadata.as_ref())
        {
            check_metadata_maps(
                &format!("{field}.podTemplate.metadata"),
                meta.labels.as_ref(),
                meta.annotations.as_ref(),
                out,
            );
        }
        let svc_legacy = legacy.service(&component.name);
        check_metadata_maps(
            &legacy_path(&component.name),
            Some(&svc_legacy.labels),
            Some(&svc_legacy.annotations),
            out,
        );
    }
}

/// `v1alpha1` path of service `name`, for fields only `v1alpha1` has.
fn legacy_path(name: &str) -> String {
    format!("spec.services.{name}")
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

/// Rules about one component on its own.
fn check_service(
    svc: &DynamoComponentDeploymentSharedSpec,
    legacy: &LegacyService,
    field: &str,
    orchestrator: Orchestrator,
    out: &mut Vec<Diagnostic>,
) {
    let name = &svc.name;
    let k8s = k8s_name(name);
    if !name.is_empty() && !is_dns_label(&k8s) {
        out.push(Diagnostic::error(
            format!("{field}.name"),
            format!(
                "component name `{name}` gives the Kubernetes name `{k8s}`, which is not a DNS \
                 label (lowercase letters, digits and `-`, at most 63 characters)"
            ),
        ));
    }
    if legacy.dynamo_namespace {
        out.push(Diagnostic::warning(
            format!("{}.dynamoNamespace", legacy_path(name)),
            "is deprecated and ignored: the Dynamo namespace is derived from the namespace and \
             graph name",
        ));
    }
    if legacy.autoscaling {
        out.push(Diagnostic::warning(
            format!("{}.autoscaling", legacy_path(name)),
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
    check_min_available(svc, field, orchestrator, out);
    if let Some(multinode) = &svc.multinode
        && multinode.node_count < 2
    {
        out.push(Diagnostic::error(
            format!("{field}.multinode.nodeCount"),
            format!("must be at least 2, got {}", multinode.node_count),
        ));
    }
    check_roles(svc, field, out);
    if let Some(ingress) = &legacy.ingress
        && ingress.enabled == Some(true)
        && ingress.host.as_deref().is_none_or(str::is_empty)
    {
        out.push(Diagnostic::error(
            format!("{}.ingress.host", legacy_path(name)),
            "is required when ingress is enabled",
        ));
    }
    check_gpu_values(svc, field, out);
    check_pod_template(svc, field, out);
    if let Some(size) = &svc.shared_memory_size
        && size.0.trim_start().starts_with('-')
    {
        out.push(Diagnostic::error(
            format!("{field}.sharedMemorySize"),
            format!("must not be negative, got `{}`", size.0),
        ));
    }
    if let Some(cache) = &svc.compilation_cache
        && cache.pvc_name.is_empty()
    {
        out.push(Diagnostic::error(
            format!("{field}.compilationCache.pvcName"),
            "is required",
        ));
    }
    check_vllm_backend(
        &legacy.annotations,
        &format!(
            "{}.annotations[{}]",
            legacy_path(name),
            annotation::VLLM_EXECUTOR_BACKEND
        ),
        out,
    );
    if let Some(annotations) = svc
        .pod_template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
    {
        check_vllm_backend(
            annotations,
            &format!(
                "{field}.podTemplate.metadata.annotations[{}]",
                annotation::VLLM_EXECUTOR_BACKEND
            ),
            out,
        );
    }
    let role = ComponentRole::of(svc.component_type.map_or("", ComponentType::as_str));
    if svc.epp_config.is_some() && role != ComponentRole::Epp {
        out.push(Diagnostic::error(
            format!("{field}.eppConfig"),
            "eppConfig may only be set when type is epp",
        ));
    }
    if role == ComponentRole::Epp {
        check_epp(svc, field, out);
    }
    check_gms_and_failover(svc, role, field, out);
    check_not_rendered(svc, field, out);
}

/// `minAvailable`: only on the Grove pathway, and at most `replicas` unless those are 0.
fn check_min_available(
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    orchestrator: Orchestrator,
    out: &mut Vec<Diagnostic>,
) {
    let Some(min) = svc.min_available else {
        return;
    };
    if orchestrator != Orchestrator::Grove {
        out.push(Diagnostic::error(
            format!("{field}.minAvailable"),
            "is only supported on the Grove pathway",
        ));
        return;
    }
    let replicas = svc.replicas.unwrap_or(1);
    if min < 1 {
        out.push(Diagnostic::error(
            format!("{field}.minAvailable"),
            format!("must be at least 1, got {min}"),
        ));
    } else if replicas != 0 && min > replicas {
        out.push(Diagnostic::error(
            format!("{field}.minAvailable"),
            "minAvailable must be less than or equal to replicas unless replicas is 0",
        ));
    }
}

/// `roles`: a multi-node component lists exactly one `leader` (1 replica) and one `worker`
/// (`nodeCount` − 1); no component type supports role pod templates yet.
fn check_roles(svc: &DynamoComponentDeploymentSharedSpec, field: &str, out: &mut Vec<Diagnostic>) {
    let Some(roles) = &svc.roles else {
        return;
    };
    if !svc.uses_multinode() {
        out.push(Diagnostic::error(
            format!("{field}.roles"),
            "is only supported on multi-node components",
        ));
        return;
    }
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    if sorted != ["leader", "worker"] {
        out.push(Diagnostic::error(
            format!("{field}.roles"),
            format!(
                "a multi-node component has exactly one `leader` and one `worker` role, got {names:?}"
            ),
        ));
    }
    for (i, role) in roles.iter().enumerate() {
        let at = format!("{field}.roles[{i}]");
        if role.pod_template.is_some() {
            out.push(Diagnostic::error(
                format!("{at}.podTemplate"),
                "role pod templates are not supported for this component type",
            ));
        }
        if role.provider_override.is_some() {
            out.push(Diagnostic::error(
                format!("{at}.providerOverride"),
                "Grove provider overrides are not supported by this operator; remove the field",
            ));
        }
        let expected = match role.name.as_str() {
            "leader" => 1,
            "worker" => svc.node_count() - 1,
            _ => continue,
        };
        if let Some(replicas) = role.replicas
            && replicas != expected
        {
            out.push(Diagnostic::error(
                format!("{at}.replicas"),
                format!(
                    "the `{}` role of this component has {expected} replica(s), got {replicas}",
                    role.name
                ),
            ));
        }
    }
}

/// The pod template: a main container with an image, images on sidecars and init containers,
/// `frontendSidecar` naming one of its containers, and a hint when the image version is
/// unknown.
fn check_pod_template(
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let containers_path = format!("{field}.podTemplate.spec.containers");
    let pod = svc.pod_template.as_ref().and_then(|t| t.spec.as_ref());
    let main = svc.main_container();
    match main
        .and_then(|m| m.image.as_deref())
        .filter(|i| !i.is_empty())
    {
        None => out.push(Diagnostic::error(
            &containers_path,
            format!("a container named `{MAIN_CONTAINER_NAME}` with a non-empty image is required"),
        )),
        Some(image) => {
            if svc.runtime_version_override.is_none() && image_version(image).is_none() {
                out.push(Diagnostic::warning(
                    format!("{field}.runtimeVersionOverride"),
                    format!(
                        "the main image `{image}` has no semantic-version tag; set \
                         runtimeVersionOverride to the Dynamo runtime version it carries \
                         (Dynamo's operator refuses the graph without it)"
                    ),
                ));
            }
        }
    }
    for (i, container) in pod.iter().flat_map(|p| &p.containers).enumerate() {
        if container.name != MAIN_CONTAINER_NAME
            && container.image.as_deref().is_none_or(str::is_empty)
        {
            out.push(Diagnostic::error(
                format!("{containers_path}[{i}].image"),
                "sidecar containers must specify a non-empty image",
            ));
        }
    }
    for (i, container) in pod
        .iter()
        .flat_map(|p| p.init_containers.iter().flatten())
        .enumerate()
    {
        if container.image.as_deref().is_none_or(str::is_empty) {
            out.push(Diagnostic::error(
                format!("{field}.podTemplate.spec.initContainers[{i}].image"),
                "init containers must specify a non-empty image",
            ));
        }
    }
    if let Some(sidecar) = &svc.frontend_sidecar {
        let named = pod
            .iter()
            .flat_map(|p| &p.containers)
            .any(|c| &c.name == sidecar && c.name != MAIN_CONTAINER_NAME);
        if !named {
            out.push(Diagnostic::error(
                format!("{field}.frontendSidecar"),
                format!(
                    "must name a container of podTemplate.spec.containers other than `{MAIN_CONTAINER_NAME}`, \
                     got `{sidecar}`"
                ),
            ));
        }
    }
}

/// The version of an image from its tag, when the tag is a semantic version (`1.5.0`,
/// `v1.5.0-rc1`); `None` for digests-only references and tags such as `latest`.
pub fn image_version(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let (_, tag) = last.split_once(':')?;
    is_semver(tag).then_some(tag)
}

/// Features of Dynamo's API this operator does not render: refused by name rather than
/// silently dropped, so a graph never runs without what it asked for.
fn check_not_rendered(
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    out: &mut Vec<Diagnostic>,
) {
    let experimental = svc.experimental.as_ref();
    if experimental
        .and_then(|e| e.checkpoint.as_ref())
        .is_some_and(|c| c.enabled)
    {
        out.push(Diagnostic::error(
            format!("{field}.experimental.checkpoint.enabled"),
            "restoring engines from checkpoints is not supported by this operator; remove \
             `experimental.checkpoint` or set `enabled: false`",
        ));
    }
    if experimental
        .and_then(|e| e.grove.as_ref())
        .and_then(|g| g.force_scaling_group)
        == Some(true)
    {
        out.push(Diagnostic::error(
            format!("{field}.experimental.grove.forceScalingGroup"),
            "rendering a single-node component as a PodCliqueScalingGroup is not supported by \
             this operator; remove the field",
        ));
    }
    if svc.provider_override.is_some() {
        out.push(Diagnostic::error(
            format!("{field}.providerOverride"),
            "Grove provider overrides are not supported by this operator; remove the field",
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
            "is required for type epp",
        )),
        Some(config) => match (&config.config_map_ref, &config.config) {
            (Some(_), Some(_)) | (None, None) => out.push(Diagnostic::error(
                format!("{field}.eppConfig"),
                "exactly one of configMapRef or config must be specified",
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
    let experimental = svc.experimental.as_ref();
    let gms = experimental.and_then(|e| e.gpu_memory_service.as_ref());
    let at = format!("{field}.experimental");
    if let Some(gms) = gms {
        if gms.mode == Some(GpuMemoryServiceMode::InterPod) {
            out.push(Diagnostic::error(
                format!("{at}.gpuMemoryService.mode"),
                "InterPod is not supported by this operator (IntraPod is)",
            ));
        }
        if role != ComponentRole::Worker {
            out.push(Diagnostic::error(
                format!("{at}.gpuMemoryService"),
                "is only supported on worker, prefill and decode components",
            ));
        }
        if crate::model::gpus(svc, field).is_ok_and(|g| g.count < 1) {
            out.push(Diagnostic::error(
                format!(
                    "{field}.podTemplate.spec.containers[{MAIN_CONTAINER_NAME}].resources.limits"
                ),
                "must request at least 1 GPU when experimental.gpuMemoryService is set",
            ));
        }
        if gms
            .extra_client_containers
            .as_ref()
            .is_some_and(|c| !c.is_empty())
        {
            out.push(Diagnostic::error(
                format!("{at}.gpuMemoryService.extraClientContainers"),
                "is not supported by this operator",
            ));
        }
    }
    if let Some(failover) = experimental.and_then(|e| e.failover.as_ref()) {
        if svc.multinode.is_some() {
            out.push(Diagnostic::error(
                format!("{at}.failover"),
                "is not supported on multi-node components",
            ));
        }
        let mode = failover.mode.unwrap_or_default();
        if mode == GpuMemoryServiceMode::InterPod {
            out.push(Diagnostic::error(
                format!("{at}.failover.mode"),
                "InterPod is not supported by this operator (IntraPod is)",
            ));
        }
        match gms {
            None => out.push(Diagnostic::error(
                format!("{at}.failover"),
                "needs experimental.gpuMemoryService",
            )),
            Some(gms) if gms.mode.unwrap_or_default() != mode => out.push(Diagnostic::error(
                format!("{at}.failover.mode"),
                "must equal experimental.gpuMemoryService.mode",
            )),
            Some(_) => {}
        }
    }
}

/// Backend detection against the explicit choice (the component's
/// `nvidia.com/backend-framework` annotation, else `spec.backendFramework`), and that some
/// plugin handles it.
fn check_backend(
    dgd: &DynamoGraphDeployment,
    svc: &DynamoComponentDeploymentSharedSpec,
    legacy: &LegacyService,
    field: &str,
    catalog: &Catalog,
    out: &mut Vec<Diagnostic>,
) {
    let annotated = model::component_annotation(svc, legacy, field, annotation::BACKEND_FRAMEWORK);
    if !svc.is_worker() && legacy.component_type.is_none() {
        if let Some(a) = &annotated {
            out.push(Diagnostic::warning(
                &a.path,
                "is ignored: only worker, prefill and decode components run a backend plugin",
            ));
        }
        return;
    }
    if !svc.is_worker() {
        return;
    }
    if let Some(a) = annotated.as_ref().filter(|a| a.value.trim().is_empty()) {
        out.push(Diagnostic::error(
            &a.path,
            "must name the backend framework of a loaded plugin, e.g. `llamacpp`",
        ));
    }
    let detected = detect_framework(svc.main_container(), catalog);
    let explicit = explicit_framework(dgd, svc, legacy, field);
    match (&detected, &explicit) {
        (Some(d), Some(e)) if d.framework != e.framework => out.push(Diagnostic::error(
            command_path(field),
            mismatch_message(d, e),
        )),
        (None, Some(e)) if catalog.backend_for(&e.framework).is_none() => {
            let message = if e.field != "spec.backendFramework" {
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
                    "no backend plugin handles `{}` (needed by component `{}`)",
                    e.framework, svc.name
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
    if let Some(cache) = &svc.compilation_cache
        && cache.mount_path.as_deref().is_none_or(str::is_empty)
        && default_compilation_cache_path(framework).is_none()
    {
        out.push(Diagnostic::warning(
            format!("{field}.compilationCache.mountPath"),
            format!(
                "backend `{}` has no default compilation-cache path; the volume is not mounted",
                framework.unwrap_or("none")
            ),
        ));
    }
}

/// Rules that depend on the orchestrator: multi-node support and Grove name lengths.
fn check_orchestrator(
    graph: &str,
    svc: &DynamoComponentDeploymentSharedSpec,
    field: &str,
    orchestrator: Orchestrator,
    out: &mut Vec<Diagnostic>,
) {
    let multinode = svc.uses_multinode();
    match orchestrator {
        Orchestrator::Deployment if multinode => out.push(Diagnostic::error(
            format!("{field}.multinode"),
            "no multinode orchestrator available: enable Grove or LeaderWorkerSet",
        )),
        Orchestrator::Lws if multinode => {
            let main = svc.main_container();
            let at = format!("{field}.podTemplate.spec.containers[{MAIN_CONTAINER_NAME}]");
            if main
                .and_then(|c| c.command.as_ref())
                .is_none_or(Vec::is_empty)
            {
                out.push(Diagnostic::error(
                    format!("{at}.command"),
                    "is required for a multi-node component on LeaderWorkerSet",
                ));
            }
            if main.and_then(|c| c.args.as_ref()).is_none_or(Vec::is_empty) {
                out.push(Diagnostic::error(
                    format!("{at}.args"),
                    "is required for a multi-node component on LeaderWorkerSet",
                ));
            }
            if svc.is_worker() && crate::model::gpus(svc, field).is_ok_and(|g| g.count == 0) {
                out.push(Diagnostic::error(
                    format!("{at}.resources.limits"),
                    "must request GPUs for a multi-node worker on LeaderWorkerSet",
                ));
            }
        }
        Orchestrator::Grove => {
            let svc_len = k8s_name(&svc.name).len();
            let (used, what) = if multinode {
                (
                    graph.len() + svc_len + svc_len + "-ldr".len(),
                    "graph name + component name + leader clique name",
                )
            } else {
                (graph.len() + svc_len, "graph name + component name")
            };
            if used > GROVE_NAME_BUDGET {
                out.push(Diagnostic::error(
                    format!("{field}.name"),
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
