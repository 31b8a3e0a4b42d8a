//! The host's base pod template of a component, before any plugin runs.
//!
//! Order of assembly (each step sees the previous ones):
//! 1. component defaults by type ([`defaults`]): container `main`, command, ports, env, probes;
//! 2. the `podTemplate`'s container `main` merged over them ([`merge`]; empty fields keep the
//!    defaults, `env` merges by name, probes replace); the graph's `env` is already in it;
//! 3. infrastructure env from the operator config (`NATS_SERVER`, `ETCD_ENDPOINTS`,
//!    `MODEL_EXPRESS_URL`, `PROMETHEUS_ENDPOINT`) unless the user set them;
//! 4. base pod spec (`terminationGracePeriodSeconds` 60, `restartPolicy: Always`) with the
//!    `podTemplate`'s pod spec merged over it;
//! 5. the component's own volumes mounted into `main`; a PersistentVolumeClaim volume for each
//!    mount of `main` that names no volume; the compilation cache (`compilationCache`, mounted
//!    at its `mountPath`, else the backend's default);
//! 6. `securityContext.fsGroup: 1000` unless the user gave a pod security context;
//! 7. ServiceAccount `{dgd}-k8s-service-discovery` under Kubernetes discovery when none is set;
//! 8. shared memory: emptyDir `shared-memory` (medium Memory, `sharedMemorySize`, default 8Gi)
//!    at `/dev/shm`, unless `sharedMemorySize` is `0`;
//! 9. the containers in the `podTemplate`'s order (`main` first when it has none), the one
//!    `frontendSidecar` names given the frontend's defaults; env sorted by name;
//! 10. labels and annotations of the template (component identity and type, selector, metrics,
//!     discovery, worker hash and class, model hash, the component's labels and annotations,
//!     the `podTemplate`'s metadata).

pub mod defaults;
pub mod failover;
pub mod gms;
pub mod merge;

use std::collections::{BTreeMap, BTreeSet};

use dynamo_plugin_contract::Role;
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, PersistentVolumeClaimVolumeSource, PodSecurityContext,
    PodSpec, PodTemplateSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config::RenderConfig;
use crate::error::RenderError;
use crate::keys::{self, label};
use crate::model::{GraphModel, ServiceModel, short_hash};

/// Default GPU resource name.
pub const DEFAULT_GPU_RESOURCE: &str = "nvidia.com/gpu";
/// Name of the shared-memory volume.
pub const SHARED_MEMORY_VOLUME: &str = "shared-memory";
/// Mount path of the shared-memory volume.
pub const SHARED_MEMORY_PATH: &str = "/dev/shm";
/// Default size of the shared-memory volume.
pub const DEFAULT_SHARED_MEMORY_SIZE: &str = "8Gi";
/// `fsGroup` set when the user gives no pod security context.
pub const DEFAULT_FS_GROUP: i64 = 1000;

/// The base pod template of `service` for `role` (the same pod for leader and worker; plugins
/// tell them apart).
pub fn base_template(
    graph: &GraphModel,
    service: &ServiceModel,
    role: Role,
    config: &RenderConfig,
) -> Result<PodTemplateSpec, RenderError> {
    let field = service.field();
    let spec = &service.spec;
    let defaults = defaults::component_defaults(graph, service);
    let containers_path = format!("{field}.podTemplate.spec.containers");

    // 1–2. Defaults, then the user's main container over them.
    let mut main = match service.main_container() {
        Some(user) => merge::merge_container(
            &defaults.container,
            user,
            &format!("{containers_path}[{}]", keys::MAIN_CONTAINER),
        )?,
        None => defaults.container.clone(),
    };
    main.name = keys::MAIN_CONTAINER.to_owned();

    // 3. Infrastructure env.
    let plain_engine = service.is_plain_engine();
    if !plain_engine {
        add_infrastructure_env(&mut main, config);
    }

    // 4. Base pod spec with the user's pod spec merged over it.
    let user_pod = service.pod_spec();
    let base = PodSpec {
        termination_grace_period_seconds: Some(defaults.termination_grace_period_seconds),
        restart_policy: Some("Always".to_owned()),
        service_account_name: defaults.service_account.clone(),
        volumes: (!defaults.volumes.is_empty()).then(|| defaults.volumes.clone()),
        ..PodSpec::default()
    };
    let mut pod = match user_pod {
        Some(user) => {
            let user = PodSpec {
                containers: Vec::new(),
                ..user.clone()
            };
            merge::merge_pod_spec(&base, &user, &format!("{field}.podTemplate.spec"))?
        }
        None => base,
    };

    // 5. The component's volumes, claims the main container mounts, the compilation cache.
    for mount in &defaults.volume_mounts {
        add_mount(&mut main, mount.clone());
    }
    // A `v1alpha1` compilation cache without a mount point converts to a mount of its claim at
    // an empty path beside `compilationCache`; the cache is mounted at its path below (or not
    // at all), and a mount without a path would make the pod invalid.
    if let (Some(cache), Some(mounts)) = (&spec.compilation_cache, main.volume_mounts.as_mut()) {
        mounts.retain(|m| m.name != cache.pvc_name || !m.mount_path.is_empty());
    }
    let claims: Vec<String> = main
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| m.name.clone())
        .collect();
    for claim in claims {
        add_claim_volume(&mut pod, &claim);
    }
    if let (Some(cache), Some(path)) = (&spec.compilation_cache, &service.compilation_cache_path) {
        add_claim_volume(&mut pod, &cache.pvc_name);
        add_mount(
            &mut main,
            VolumeMount {
                name: cache.pvc_name.clone(),
                mount_path: path.clone(),
                ..VolumeMount::default()
            },
        );
    }

    // 6. fsGroup unless the user brought a pod security context.
    if user_pod.is_none_or(|p| p.security_context.is_none()) {
        pod.security_context = Some(PodSecurityContext {
            fs_group: Some(DEFAULT_FS_GROUP),
            ..PodSecurityContext::default()
        });
    }

    // 7. Discovery ServiceAccount (a plain engine takes no part in Dynamo's discovery).
    if graph.kube_discovery()
        && !plain_engine
        && pod
            .service_account_name
            .as_deref()
            .is_none_or(str::is_empty)
    {
        pod.service_account_name = Some(keys::discovery_service_account(&graph.name));
    }

    // 8. Shared memory.
    if let Some(size) = shared_memory_size(service) {
        add_volume(
            &mut pod,
            Volume {
                name: SHARED_MEMORY_VOLUME.to_owned(),
                empty_dir: Some(EmptyDirVolumeSource {
                    medium: Some("Memory".to_owned()),
                    size_limit: Some(size),
                    ..EmptyDirVolumeSource::default()
                }),
                ..Volume::default()
            },
        );
        add_mount(
            &mut main,
            VolumeMount {
                name: SHARED_MEMORY_VOLUME.to_owned(),
                mount_path: SHARED_MEMORY_PATH.to_owned(),
                ..VolumeMount::default()
            },
        );
    }

    // 9. Containers in the user's order, main first when the user gave none.
    sort_env(&mut main);
    let sidecar = spec.frontend_sidecar.as_deref().filter(|s| !s.is_empty());
    let mut containers = Vec::new();
    let mut placed_main = false;
    for (index, container) in user_pod.iter().flat_map(|p| &p.containers).enumerate() {
        if container.name == keys::MAIN_CONTAINER {
            if !placed_main {
                containers.push(main.clone());
                placed_main = true;
            }
        } else if Some(container.name.as_str()) == sidecar {
            containers.push(frontend_sidecar(
                graph,
                service,
                config,
                container,
                &format!("{containers_path}[{index}]"),
            )?);
        } else {
            containers.push(container.clone());
        }
    }
    if !placed_main {
        containers.insert(0, main);
    }
    pod.containers = containers;

    // 10. Metadata.
    Ok(PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod_labels(graph, service, role)),
            annotations: Some(pod_annotations(graph, service)).filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        }),
        spec: Some(pod),
    })
}

/// Size of the component's `/dev/shm`: `sharedMemorySize`, else
/// [`DEFAULT_SHARED_MEMORY_SIZE`]; `None` when it is zero (no shared memory).
pub fn shared_memory_size(service: &ServiceModel) -> Option<Quantity> {
    match &service.spec.shared_memory_size {
        None => Some(Quantity(DEFAULT_SHARED_MEMORY_SIZE.to_owned())),
        Some(size) if is_zero_quantity(&size.0) => None,
        Some(size) => Some(size.clone()),
    }
}

/// Whether a quantity reads as zero (`0`, `0Gi`, `0.0`, ...).
pub(crate) fn is_zero_quantity(text: &str) -> bool {
    let digits: String = text
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '+' || *c == '-')
        .collect();
    !digits.is_empty() && digits.parse::<f64>().is_ok_and(|v| v == 0.0)
}

/// Adds a volume for PersistentVolumeClaim `name`, unless the pod has a volume of that name.
fn add_claim_volume(pod: &mut PodSpec, name: &str) {
    add_volume(
        pod,
        Volume {
            name: name.to_owned(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: name.to_owned(),
                read_only: None,
            }),
            ..Volume::default()
        },
    );
}

/// Puts the volume mounts a plugin chain added to the main container of `rendered` before the
/// shared-memory mount, where Dynamo's operator has them (its backends run before shared
/// memory is set up); `base` is the chain's input.
pub fn order_plugin_mounts(base: &PodTemplateSpec, rendered: &mut PodTemplateSpec) {
    let main_of = |pod: &PodTemplateSpec| {
        pod.spec
            .as_ref()
            .and_then(|s| s.containers.iter().find(|c| c.name == keys::MAIN_CONTAINER))
            .and_then(|c| c.volume_mounts.clone())
            .unwrap_or_default()
    };
    let before: BTreeSet<String> = main_of(base).into_iter().map(|m| m.name).collect();
    if !before.contains(SHARED_MEMORY_VOLUME) {
        return;
    }
    let Some(main) = rendered.spec.as_mut().and_then(|s| {
        s.containers
            .iter_mut()
            .find(|c| c.name == keys::MAIN_CONTAINER)
    }) else {
        return;
    };
    let Some(mounts) = main.volume_mounts.take() else {
        return;
    };
    let (added, kept): (Vec<VolumeMount>, Vec<VolumeMount>) =
        mounts.into_iter().partition(|m| !before.contains(&m.name));
    let at = kept
        .iter()
        .position(|m| m.name == SHARED_MEMORY_VOLUME)
        .unwrap_or(kept.len());
    let mut ordered = kept;
    ordered.splice(at..at, added);
    main.volume_mounts = Some(ordered);
}

/// Labels of a component's pods for `role`.
pub fn pod_labels(
    graph: &GraphModel,
    service: &ServiceModel,
    role: Role,
) -> BTreeMap<String, String> {
    let mut labels = service.labels.clone();
    if let Some(extra) = template_metadata(service).and_then(|m| m.labels.as_ref()) {
        labels.extend(extra.clone());
    }
    labels.extend(component_labels(graph, service));
    labels.insert(label::SELECTOR.to_owned(), selector(graph, service, role));
    // A plain engine neither registers in Dynamo's discovery nor serves Dynamo's metrics on a
    // `system` port, so its pods lack the labels that select pods for either: a metrics scrape
    // of them could only fail.
    let plain_engine = service.is_plain_engine();
    if service.metrics_enabled() && !plain_engine {
        labels.insert(label::METRICS_ENABLED.to_owned(), label::TRUE.to_owned());
    }
    if graph.kube_discovery() && !plain_engine {
        labels.extend(discovery_labels());
    }
    if let Some(model) = &service.spec.model_ref {
        labels.insert(label::BASE_MODEL_HASH.to_owned(), short_hash(&model.name));
    }
    labels
}

/// Identity labels of a component, shared by its pods and the objects owning them.
pub fn component_labels(graph: &GraphModel, service: &ServiceModel) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (label::COMPONENT.to_owned(), service.name.clone()),
        (
            label::DYNAMO_NAMESPACE.to_owned(),
            service.dynamo_namespace.clone(),
        ),
        (label::GRAPH_NAME.to_owned(), graph.name.clone()),
    ]);
    let component_type = service.dynamo_component_type();
    if !component_type.is_empty() {
        labels.insert(label::COMPONENT_TYPE.to_owned(), component_type.to_owned());
    }
    if let Some(sub) = service.sub_component_label() {
        labels.insert(label::SUB_COMPONENT_TYPE.to_owned(), sub.to_owned());
    }
    if let Some(hash) = &service.worker_hash {
        labels.insert(label::WORKER_HASH.to_owned(), hash.clone());
    }
    if service.in_worker_generation() && graph.worker_class {
        labels.insert(
            label::COMPONENT_CLASS.to_owned(),
            label::WORKER_CLASS.to_owned(),
        );
    }
    labels
}

/// Labels of pods and Services taking part in Kubernetes discovery.
pub fn discovery_labels() -> [(String, String); 2] {
    [
        (label::DISCOVERY_BACKEND.to_owned(), "kubernetes".to_owned()),
        (label::DISCOVERY_ENABLED.to_owned(), label::TRUE.to_owned()),
    ]
}

/// Value of the `nvidia.com/selector` label: `{dgd}-{svc}` under Grove (the leader and worker
/// cliques of a multi-node service share it), the DCD name otherwise.
pub fn selector(graph: &GraphModel, service: &ServiceModel, _role: Role) -> String {
    if graph.orchestrator == crate::config::Orchestrator::Grove {
        format!("{}-{}", graph.name, service.k8s_name)
    } else {
        service.dcd_name.clone()
    }
}

/// Grove clique of `service` for `role`: `{svc}` single-node, `{svc}-ldr` / `{svc}-wkr`
/// multi-node.
pub fn clique_name(service: &ServiceModel, role: Role) -> String {
    match role {
        Role::Main => service.k8s_name.clone(),
        Role::Leader => format!("{}-ldr", service.k8s_name),
        Role::Worker => format!("{}-wkr", service.k8s_name),
    }
}

/// Annotations of a component's pods, then the `podTemplate`'s annotations over them. On the
/// DCD pathway (Deployments, LeaderWorkerSets), as Dynamo 1.5's component controller writes
/// them: the annotations of the component's workload
/// ([`crate::orchestrate::dcd::workload_annotations`]: the component's, the graph switches it
/// inherits, the served model, the restart token). Under Grove: the component's annotations
/// (graph's folded in).
pub fn pod_annotations(graph: &GraphModel, service: &ServiceModel) -> BTreeMap<String, String> {
    let mut annotations = if graph.orchestrator == crate::config::Orchestrator::Grove {
        service.object_annotations.clone()
    } else {
        crate::orchestrate::dcd::workload_annotations(graph, service)
    };
    if let Some(extra) = template_metadata(service).and_then(|m| m.annotations.as_ref()) {
        annotations.extend(extra.clone());
    }
    annotations
}

/// `podTemplate.metadata` of a component, if any.
fn template_metadata(service: &ServiceModel) -> Option<&ObjectMeta> {
    service.spec.pod_template.as_ref()?.metadata.as_ref()
}

/// Infrastructure env from the operator configuration; a variable the user set is kept.
fn add_infrastructure_env(container: &mut Container, config: &RenderConfig) {
    let infra = &config.operator.infrastructure;
    let wanted = [
        ("NATS_SERVER", &infra.nats_address),
        ("ETCD_ENDPOINTS", &infra.etcd_address),
        ("MODEL_EXPRESS_URL", &infra.model_express_url),
        ("PROMETHEUS_ENDPOINT", &infra.prometheus_endpoint),
    ];
    let env = container.env.get_or_insert_with(Vec::new);
    for (name, value) in wanted {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty())
            && !env.iter().any(|e| e.name == name)
        {
            env.push(defaults::value_env(name, value));
        }
    }
}

fn add_volume(pod: &mut PodSpec, volume: Volume) {
    let volumes = pod.volumes.get_or_insert_with(Vec::new);
    if !volumes.iter().any(|v| v.name == volume.name) {
        volumes.push(volume);
    }
}

fn add_mount(container: &mut Container, mount: VolumeMount) {
    let mounts = container.volume_mounts.get_or_insert_with(Vec::new);
    if !mounts.iter().any(|m| m.mount_path == mount.mount_path) {
        mounts.push(mount);
    }
}

fn sort_env(container: &mut Container) {
    if let Some(env) = &mut container.env {
        env.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// The container `frontendSidecar` names (`user`, at `field`), with the frontend's defaults
/// under it and the infrastructure env.
fn frontend_sidecar(
    graph: &GraphModel,
    service: &ServiceModel,
    config: &RenderConfig,
    user: &Container,
    field: &str,
) -> Result<Container, RenderError> {
    let defaults = defaults::frontend_sidecar(graph, service);
    let mut sidecar = merge::merge_container(&defaults, user, field)?;
    add_infrastructure_env(&mut sidecar, config);
    sort_env(&mut sidecar);
    Ok(sidecar)
}

#[cfg(test)]
mod tests;
