//! The host's base pod template of a component, before any plugin runs.
//!
//! Order of assembly (each step sees the previous ones):
//! 1. component defaults by `componentType` ([`defaults`]): container `main`, command, ports,
//!    env, probes;
//! 2. `extraPodSpec.mainContainer` merged over them ([`merge`]; empty fields keep defaults);
//! 3. graph and service `envs` merged by name;
//! 4. `livenessProbe` / `readinessProbe` replace the defaults;
//! 5. `resources` (GPU under `gpuType`, default `nvidia.com/gpu`; custom resources; claims);
//! 6. `envFromSecret` as an `envFrom` Secret reference;
//! 7. infrastructure env from the operator config (`NATS_SERVER`, `ETCD_ENDPOINTS`,
//!    `MODEL_EXPRESS_URL`, `PROMETHEUS_ENDPOINT`) unless the user set them;
//! 8. `volumeMounts` as PVC volumes and mounts (compilation cache: backend default path);
//! 9. base pod spec (`terminationGracePeriodSeconds` 60, `restartPolicy: Always`) with
//!    `extraPodSpec` merged over it;
//! 10. `securityContext.fsGroup: 1000` unless the user gave a pod security context;
//! 11. ServiceAccount `{dgd}-k8s-service-discovery` under Kubernetes discovery when none is set;
//! 12. shared memory: emptyDir `shared-memory` (medium Memory, default 8Gi) at `/dev/shm`
//!     unless disabled;
//! 13. the main container appended after the user's `extraPodSpec.containers`, then the
//!     frontend sidecar if requested; env sorted by name;
//! 14. labels and annotations of the template (component identity and type, selector, metrics,
//!     discovery, worker hash and class, model hash, user labels, the component's annotations,
//!     `extraPodMetadata`).

pub mod defaults;
pub mod failover;
pub mod gms;
pub mod merge;

use std::collections::{BTreeMap, BTreeSet};

use dynamo_api::shared::{ResourceItem, Resources};
use dynamo_plugin_contract::Role;
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvFromSource, EnvVar, PersistentVolumeClaimVolumeSource,
    PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SecretEnvSource, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config::RenderConfig;
use crate::error::RenderError;
use crate::keys::{self, label};
use crate::model::{GraphModel, ServiceModel, main_container, merge_env_by_name, short_hash};

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

    // 1–2. Defaults, then the user's main container over them.
    let mut main = match main_container(spec) {
        Some(user) => merge::merge_container(
            &defaults.container,
            user,
            &format!("{field}.extraPodSpec.mainContainer"),
        )?,
        None => defaults.container.clone(),
    };
    main.name = keys::MAIN_CONTAINER.to_owned();

    // 3. Graph and service envs (already merged with each other, service winning).
    if let Some(envs) = &spec.envs {
        main.env = Some(merge_env_by_name(
            main.env.as_deref().unwrap_or_default(),
            envs,
        ));
    }

    // 4. Probes given on the service replace the defaults.
    if let Some(probe) = &spec.liveness_probe {
        main.liveness_probe = Some(probe.clone());
    }
    if let Some(probe) = &spec.readiness_probe {
        main.readiness_probe = Some(probe.clone());
    }

    // 5–7. Resources, envFromSecret, infrastructure env.
    if let Some(resources) = &spec.resources {
        apply_resources(&mut main, resources);
    }
    if let Some(secret) = spec.env_from_secret.as_ref().filter(|s| !s.is_empty()) {
        add_env_from_secret(&mut main, secret);
    }
    let plain_engine = service.is_plain_engine();
    if !plain_engine {
        add_infrastructure_env(&mut main, config);
    }

    // 9. Base pod spec with the user's extraPodSpec merged over it.
    let user_pod = spec.extra_pod_spec.as_ref().map(|e| &e.pod_spec);
    let base = PodSpec {
        termination_grace_period_seconds: Some(defaults.termination_grace_period_seconds),
        restart_policy: Some("Always".to_owned()),
        service_account_name: defaults.service_account.clone(),
        volumes: (!defaults.volumes.is_empty()).then(|| defaults.volumes.clone()),
        ..PodSpec::default()
    };
    let user_containers = user_pod.map(|p| p.containers.clone()).unwrap_or_default();
    let mut pod = match user_pod {
        Some(user) => {
            let user = PodSpec {
                containers: Vec::new(),
                ..user.clone()
            };
            merge::merge_pod_spec(&base, &user, &format!("{field}.extraPodSpec"))?
        }
        None => base,
    };

    // Component volumes mounted into the main container.
    for mount in &defaults.volume_mounts {
        add_mount(&mut main, mount.clone());
    }

    // 8. PVC volumes from volumeMounts.
    for mount in spec.volume_mounts.iter().flatten() {
        add_volume(
            &mut pod,
            Volume {
                name: mount.name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: mount.name.clone(),
                    read_only: None,
                }),
                ..Volume::default()
            },
        );
        let path = mount
            .mount_point
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| {
                (mount.use_as_compilation_cache == Some(true))
                    .then(|| service.compilation_cache_path.clone())
                    .flatten()
            });
        if let Some(path) = path {
            add_mount(
                &mut main,
                VolumeMount {
                    name: mount.name.clone(),
                    mount_path: path,
                    ..VolumeMount::default()
                },
            );
        }
    }

    // 10. fsGroup unless the user brought a pod security context.
    if user_pod.is_none_or(|p| p.security_context.is_none()) {
        pod.security_context = Some(PodSecurityContext {
            fs_group: Some(DEFAULT_FS_GROUP),
            ..PodSecurityContext::default()
        });
    }

    // 11. Discovery ServiceAccount (a plain engine takes no part in Dynamo's discovery).
    if graph.kube_discovery()
        && !plain_engine
        && pod
            .service_account_name
            .as_deref()
            .is_none_or(str::is_empty)
    {
        pod.service_account_name = Some(keys::discovery_service_account(&graph.name));
    }

    // 12. Shared memory.
    let shm = spec.shared_memory.as_ref();
    if shm.and_then(|s| s.disabled) != Some(true) {
        let size = shm
            .and_then(|s| s.size.clone())
            .unwrap_or_else(|| Quantity(DEFAULT_SHARED_MEMORY_SIZE.to_owned()));
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

    // 13. Containers: the user's first, then main, then the frontend sidecar.
    sort_env(&mut main);
    let mut containers = user_containers;
    containers.push(main);
    if let Some(sidecar) = frontend_sidecar(graph, service, config) {
        containers.push(sidecar);
    }
    pod.containers = containers;

    // 14. Metadata.
    Ok(PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod_labels(graph, service, role)),
            annotations: Some(pod_annotations(graph, service)).filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        }),
        spec: Some(pod),
    })
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
    let mut labels = service.spec.labels.clone().unwrap_or_default();
    if let Some(extra) = service
        .spec
        .extra_pod_metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
    {
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
    if service.in_worker_generation() && graph.has_endpoint_picker() {
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

/// Annotations of a component's pods, then `extraPodMetadata.annotations` over them. On the
/// DCD pathway (Deployments, LeaderWorkerSets), as Dynamo 1.5's component controller writes
/// them: the annotations of the component's workload
/// ([`crate::orchestrate::dcd::workload_annotations`]: the service's, the graph switches it
/// inherits, the served model, the restart token). Under Grove: the service's annotations
/// (graph's folded in).
pub fn pod_annotations(graph: &GraphModel, service: &ServiceModel) -> BTreeMap<String, String> {
    let mut annotations = if graph.orchestrator == crate::config::Orchestrator::Grove {
        service.spec.annotations.clone().unwrap_or_default()
    } else {
        crate::orchestrate::dcd::workload_annotations(graph, service)
    };
    if let Some(extra) = service
        .spec
        .extra_pod_metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
    {
        annotations.extend(extra.clone());
    }
    annotations
}

fn apply_resources(main: &mut Container, resources: &Resources) {
    let requirements = main
        .resources
        .get_or_insert_with(ResourceRequirements::default);
    if let Some(item) = &resources.requests {
        apply_resource_item(
            requirements.requests.get_or_insert_with(BTreeMap::new),
            item,
        );
    }
    if let Some(item) = &resources.limits {
        apply_resource_item(requirements.limits.get_or_insert_with(BTreeMap::new), item);
    }
    if let Some(claims) = resources.claims.as_ref().filter(|c| !c.is_empty()) {
        requirements.claims = Some(claims.clone());
    }
    for map in [&mut requirements.requests, &mut requirements.limits] {
        if map.as_ref().is_some_and(BTreeMap::is_empty) {
            *map = None;
        }
    }
}

/// The resource name of an item's GPUs: its `gpuType`, else [`DEFAULT_GPU_RESOURCE`].
pub fn gpu_resource(item: &ResourceItem) -> String {
    item.gpu_type
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| DEFAULT_GPU_RESOURCE.to_owned())
}

fn apply_resource_item(target: &mut BTreeMap<String, Quantity>, item: &ResourceItem) {
    let mut set = |name: &str, value: &Option<String>| {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            target.insert(name.to_owned(), Quantity(value.clone()));
        }
    };
    set("cpu", &item.cpu);
    set("memory", &item.memory);
    set(&gpu_resource(item), &item.gpu);
    for (name, value) in item.custom.iter().flatten() {
        target.insert(name.clone(), Quantity(value.clone()));
    }
}

fn add_env_from_secret(container: &mut Container, secret: &str) {
    let sources = container.env_from.get_or_insert_with(Vec::new);
    let present = sources
        .iter()
        .any(|s| s.secret_ref.as_ref().is_some_and(|r| r.name == secret));
    if !present {
        sources.push(EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: secret.to_owned(),
                optional: None,
            }),
            ..EnvFromSource::default()
        });
    }
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

/// The `sidecar-frontend` container of a service with `frontendSidecar`, if any.
fn frontend_sidecar(
    graph: &GraphModel,
    service: &ServiceModel,
    config: &RenderConfig,
) -> Option<Container> {
    let spec = service.spec.frontend_sidecar.as_ref()?;
    let mut sidecar = defaults::frontend_sidecar(graph, service);
    sidecar.image = Some(spec.image.clone());
    if let Some(args) = spec.args.as_ref().filter(|a| !a.is_empty()) {
        sidecar.args = Some(args.clone());
    }
    if let Some(envs) = &spec.envs {
        let merged: Vec<EnvVar> =
            merge_env_by_name(sidecar.env.as_deref().unwrap_or_default(), envs);
        sidecar.env = Some(merged);
    }
    if let Some(secret) = spec.env_from_secret.as_ref().filter(|s| !s.is_empty()) {
        add_env_from_secret(&mut sidecar, secret);
    }
    add_infrastructure_env(&mut sidecar, config);
    sort_env(&mut sidecar);
    Some(sidecar)
}

#[cfg(test)]
mod tests;
