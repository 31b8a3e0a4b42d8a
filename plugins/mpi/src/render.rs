//! The MPI launcher render: key Secret, SSH daemon on workers, `mpirun` on the leader.

#![forbid(unsafe_code)]

use std::collections::BTreeSet;

use dynamo_plugin_sdk::env::{env_var, set_env};
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{
    Container, PodSpec, Probe, SecretVolumeSource, TCPSocketAction, Volume, VolumeMount,
};
use dynamo_plugin_sdk::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use dynamo_plugin_sdk::{ExtraObject, PluginError, PodTemplate, RenderInput, RenderOutput, Role};

use crate::scripts::{self, Launch};
use crate::{
    COMMAND_FIELD, ENTRYPOINT_WRAPPER_ANNOTATION, EXPORT_ENV_ANNOTATION, FORWARDED_ENV, GPU_FIELD,
    KEEP_FQDN_ENV, KEY_MOUNT_PATH, SSH_PORT, is_multinode, service_field,
};

/// File mode of the mounted key files (0644).
pub const KEY_FILE_MODE: i32 = 0o644;

/// Mount path of the pod's shared memory (the host mounts an in-memory volume there).
pub const SHARED_MEMORY_PATH: &str = "/dev/shm";

/// What a backend asked of the launcher through pod annotations (see the crate docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handoff {
    /// Words put before the engine command on every rank.
    pub wrapper: Vec<String>,
    /// Extra variable names forwarded to every rank.
    pub export_env: Vec<String>,
}

/// JSON-style path of pod annotation `key`, for diagnostics.
fn annotation_field(key: &str) -> String {
    format!("podTemplate.metadata.annotations[{key}]")
}

/// Removes the hand-off annotations from `pod` and parses them.
///
/// The wrapper is split with POSIX shell rules; the variable list on commas and white space.
/// A wrapper that does not split, or a variable name holding `=`, is [`PluginError::InvalidInput`].
pub fn take_handoff(pod: &mut PodTemplate) -> Result<Handoff, PluginError> {
    let Some(meta) = pod.inner_mut().metadata.as_mut() else {
        return Ok(Handoff::default());
    };
    let Some(annotations) = meta.annotations.as_mut() else {
        return Ok(Handoff::default());
    };
    let wrapper = annotations.remove(ENTRYPOINT_WRAPPER_ANNOTATION);
    let export_env = annotations.remove(EXPORT_ENV_ANNOTATION);
    if annotations.is_empty() && (wrapper.is_some() || export_env.is_some()) {
        meta.annotations = None;
    }
    let wrapper = match wrapper {
        None => Vec::new(),
        Some(text) => shlex::split(&text).ok_or_else(|| {
            PluginError::invalid_input(
                annotation_field(ENTRYPOINT_WRAPPER_ANNOTATION),
                format!("{text:?} is not a list of shell words"),
            )
        })?,
    };
    let export_env: Vec<String> = export_env
        .iter()
        .flat_map(|text| text.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = export_env
        .iter()
        .find(|n| n.contains('=') || n.contains('\0'))
    {
        return Err(PluginError::invalid_input(
            annotation_field(EXPORT_ENV_ANNOTATION),
            format!("{bad:?} is not a variable name"),
        ));
    }
    Ok(Handoff {
        wrapper,
        export_env,
    })
}

/// The worker's readiness probe: `sshd` accepts connections.
pub fn worker_readiness_probe() -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(i32::from(SSH_PORT)),
            host: None,
        }),
        initial_delay_seconds: Some(20),
        period_seconds: Some(20),
        timeout_seconds: Some(5),
        failure_threshold: Some(10),
        ..Probe::default()
    }
}

/// Renders the launcher's parts of one pod template (see the crate docs).
pub fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
    let placement = &input.placement;
    if !is_multinode(placement) {
        return Ok(RenderOutput::new(input.pod_template.clone()));
    }
    let secret = input.infrastructure.mpi_ssh_secret_name.trim();
    if secret.is_empty() {
        return Err(PluginError::invalid_input(
            "infrastructure.mpiSshSecretName",
            "the MPI launcher needs the name of the SSH key-pair Secret (operator setting mpi.sshSecretName)",
        ));
    }
    let gpus = input.component.gpus_per_node;
    if gpus == 0 {
        return Err(PluginError::invalid_input(
            service_field(input, GPU_FIELD),
            "a multi-node MPI launch starts one process per GPU and needs the GPUs per node \
             (resources.requests.gpu or resources.limits.gpu)",
        ));
    }

    let mut pod = PodTemplate::from_input(input)?;
    let handoff = take_handoff(&mut pod)?;
    // Dynamo 1.5 lists the key volume before the shared-memory volume at `/dev/shm`.
    let shared_memory = pod.main_container().and_then(|main| {
        main.volume_mounts
            .iter()
            .flatten()
            .find(|m| m.mount_path == SHARED_MEMORY_PATH)
            .map(|m| m.name.clone())
    });
    upsert_volume(
        pod.spec_mut(),
        shared_memory.as_deref(),
        Volume {
            name: secret.to_owned(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.to_owned()),
                default_mode: Some(KEY_FILE_MODE),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        },
    );
    let main = pod.main_container_mut()?;
    upsert_mount(
        main,
        VolumeMount {
            name: secret.to_owned(),
            mount_path: KEY_MOUNT_PATH.to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
    );
    set_env(main, [env_var(KEEP_FQDN_ENV, "1")]);

    let script = match placement.role {
        Role::Worker => {
            main.liveness_probe = None;
            main.startup_probe = None;
            main.readiness_probe = Some(worker_readiness_probe());
            scripts::worker_script()
        }
        _ => {
            let argv: Vec<String> = main
                .command
                .iter()
                .flatten()
                .chain(main.args.iter().flatten())
                .cloned()
                .collect();
            if argv.is_empty() {
                return Err(PluginError::invalid_input(
                    service_field(input, COMMAND_FIELD),
                    "the MPI launcher runs the main container's command on every rank, but the \
                     container has no command or args",
                ));
            }
            let forwarded_env: BTreeSet<String> = main
                .env
                .iter()
                .flatten()
                .map(|v| v.name.clone())
                .chain(FORWARDED_ENV.iter().map(|n| (*n).to_owned()))
                .chain(handoff.export_env.iter().cloned())
                .collect();
            let launch = Launch {
                hosts: std::iter::once(placement.leader_host.clone())
                    .chain(placement.worker_hosts.iter().cloned())
                    .collect(),
                processes: u64::from(placement.node_count) * u64::from(gpus),
                forwarded_env,
                wrapper: handoff.wrapper,
                argv,
            };
            let dns_wait_hosts: &[String] = if placement.needs_dns_wait {
                &placement.worker_hosts
            } else {
                &[]
            };
            scripts::leader_script(&launch, dns_wait_hosts).map_err(|e| {
                PluginError::invalid_input(service_field(input, COMMAND_FIELD), e.to_string())
            })?
        }
    };
    main.command = Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]);
    main.args = Some(vec![script]);

    Ok(RenderOutput {
        pod_template: pod.to_json()?,
        extra_objects: vec![ExtraObject::SshKeySecret(secret.to_owned())],
        warnings: Vec::new(),
    })
}

/// Adds `volume` to the pod, replacing one of the same name; a new volume goes before the
/// volume named `before` when the pod has it, else last.
fn upsert_volume(spec: &mut PodSpec, before: Option<&str>, volume: Volume) {
    let list = spec.volumes.get_or_insert_with(Vec::new);
    if let Some(slot) = list.iter_mut().find(|v| v.name == volume.name) {
        *slot = volume;
        return;
    }
    let at = before
        .and_then(|name| list.iter().position(|v| v.name == name))
        .unwrap_or(list.len());
    list.insert(at, volume);
}

/// Adds `mount` to the container, replacing one of the same volume name.
fn upsert_mount(container: &mut Container, mount: VolumeMount) {
    let list = container.volume_mounts.get_or_insert_with(Vec::new);
    match list.iter_mut().find(|m| m.name == mount.name) {
        Some(slot) => *slot = mount,
        None => list.push(mount),
    }
}
