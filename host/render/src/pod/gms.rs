//! The GPU memory service (`experimental.gpuMemoryService`, intra-pod mode): engines share their
//! GPUs with a memory-server sidecar through one Dynamic Resource Allocation claim.
//!
//! Applied to a component's finished pod (after the plugin chain), as Dynamo's operator does:
//! the main container's GPU count becomes the claim `intrapod-shared-gpu` (made from the
//! ResourceClaimTemplate `{dgd}-{svc}-gpu`), a restartable init container `gms-server` runs the
//! server on the same claim, both talk over UNIX sockets in the `gms-intrapod-control` emptyDir
//! (`GMS_SOCKET_DIR`), and the pod tolerates the GPU taint since it no longer requests
//! `nvidia.com/gpu` itself.

use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, PodResourceClaim, PodTemplateSpec, ResourceClaim,
    ResourceRequirements, Toleration, Volume, VolumeMount,
};
use serde_json::json;

use dynamo_api::shared::GpuMemoryServiceSpec;

use crate::error::RenderError;
use crate::keys::MAIN_CONTAINER;
use crate::model::{GraphModel, ServiceModel};
use crate::object::Object;
use crate::pod::DEFAULT_GPU_RESOURCE;

/// Name of the pod's shared GPU claim.
pub const CLAIM: &str = "intrapod-shared-gpu";
/// Name (and mount path, with a leading `/`) of the control volume.
pub const CONTROL_VOLUME: &str = "gms-intrapod-control";
/// Name of the memory-server init container.
pub const SERVER_CONTAINER: &str = "gms-server";
/// DRA DeviceClass GPUs are requested from by default.
pub const DEFAULT_DEVICE_CLASS: &str = "gpu.nvidia.com";
/// `apiVersion` of the ResourceClaimTemplate.
pub const RESOURCE_API_VERSION: &str = "resource.k8s.io/v1";

/// The GPU memory service settings of `service`, when it runs one.
pub fn settings(service: &ServiceModel) -> Option<&GpuMemoryServiceSpec> {
    service
        .spec
        .experimental
        .as_ref()?
        .gpu_memory_service
        .as_ref()
}

/// True when `service` runs the GPU memory service.
pub fn enabled(service: &ServiceModel) -> bool {
    settings(service).is_some()
}

/// Name of the ResourceClaimTemplate of `service`: `{dgd}-{svc}-gpu`.
pub fn claim_template_name(graph: &GraphModel, service: &ServiceModel) -> String {
    format!("{}-{}-gpu", graph.name, service.k8s_name)
}

fn control_path() -> String {
    format!("/{CONTROL_VOLUME}")
}

fn socket_env() -> EnvVar {
    EnvVar {
        name: "GMS_SOCKET_DIR".to_owned(),
        value: Some(control_path()),
        value_from: None,
    }
}

fn control_mount() -> VolumeMount {
    VolumeMount {
        name: CONTROL_VOLUME.to_owned(),
        mount_path: control_path(),
        ..VolumeMount::default()
    }
}

fn claim() -> ResourceClaim {
    ResourceClaim {
        name: CLAIM.to_owned(),
        ..ResourceClaim::default()
    }
}

/// Rewrites `template` of `service` for the memory service (see the module docs).
pub fn apply(
    graph: &GraphModel,
    service: &ServiceModel,
    template: &mut PodTemplateSpec,
) -> Result<(), RenderError> {
    let field = format!("{}.experimental.gpuMemoryService", service.field());
    let spec = template.spec.get_or_insert_with(Default::default);
    let main = spec
        .containers
        .iter_mut()
        .find(|c| c.name == MAIN_CONTAINER)
        .ok_or_else(|| RenderError::field(&field, "the pod has no main container"))?;
    let gpu_names: Vec<String> = [service.gpu_resource.clone()]
        .into_iter()
        .filter(|name| !name.is_empty())
        .chain([DEFAULT_GPU_RESOURCE.to_owned()])
        .collect();
    let resources = main
        .resources
        .get_or_insert_with(ResourceRequirements::default);
    for list in [&mut resources.limits, &mut resources.requests] {
        if let Some(map) = list {
            for name in &gpu_names {
                map.remove(name);
            }
            if map.is_empty() {
                *list = None;
            }
        }
    }
    resources.claims.get_or_insert_with(Vec::new).push(claim());
    main.env.get_or_insert_with(Vec::new).push(socket_env());
    main.volume_mounts
        .get_or_insert_with(Vec::new)
        .push(control_mount());
    let image = main.image.clone();

    spec.init_containers
        .get_or_insert_with(Vec::new)
        .push(Container {
            name: SERVER_CONTAINER.to_owned(),
            image,
            command: Some(
                ["python3", "-m", "gpu_memory_service.cli.server"]
                    .map(str::to_owned)
                    .to_vec(),
            ),
            env: Some(vec![socket_env()]),
            resources: Some(ResourceRequirements {
                claims: Some(vec![claim()]),
                ..ResourceRequirements::default()
            }),
            // A restartable init container: a sidecar started before the engines. Without a
            // startup probe, as Dynamo 1.5 renders it, the kubelet starts the engines as soon as
            // the server's container has started.
            restart_policy: Some("Always".to_owned()),
            volume_mounts: Some(vec![control_mount()]),
            ..Container::default()
        });
    spec.resource_claims
        .get_or_insert_with(Vec::new)
        .push(PodResourceClaim {
            name: CLAIM.to_owned(),
            resource_claim_template_name: Some(claim_template_name(graph, service)),
            ..PodResourceClaim::default()
        });
    let toleration = Toleration {
        key: Some(DEFAULT_GPU_RESOURCE.to_owned()),
        operator: Some("Exists".to_owned()),
        effect: Some("NoSchedule".to_owned()),
        ..Toleration::default()
    };
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    if !tolerations.contains(&toleration) {
        tolerations.push(toleration);
    }
    spec.volumes.get_or_insert_with(Vec::new).push(Volume {
        name: CONTROL_VOLUME.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    });
    Ok(())
}

/// The ResourceClaimTemplate of `service`: its GPUs per node, exactly, from the device class.
pub fn claim_template(graph: &GraphModel, service: &ServiceModel) -> Object {
    let device_class = settings(service)
        .and_then(|g| g.device_class_name.clone())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| DEFAULT_DEVICE_CLASS.to_owned());
    Object::new(
        RESOURCE_API_VERSION,
        "ResourceClaimTemplate",
        &graph.namespace,
        claim_template_name(graph, service),
        json!({
            "metadata": {},
            "spec": {
                "metadata": {},
                "spec": {
                    "devices": {
                        "requests": [{
                            "name": "gpus",
                            "exactly": {
                                "allocationMode": "ExactCount",
                                "count": service.gpus_per_node,
                                "deviceClassName": device_class,
                            },
                        }],
                    },
                },
            },
        }),
    )
}
