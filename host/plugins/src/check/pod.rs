//! The pod template allow-list (see the table in the parent module).

use std::collections::{BTreeMap, BTreeSet};

use dynamo_plugin_contract::{Capability, RenderInput};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, PodSpec, PodTemplateSpec, Probe, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::extra::Extras;
use super::security::{container_not_weaker, pod_not_weaker};
use super::{Policy, Violation, forbidden, must_equal};

/// Name of the main container the host builds and plugins shape.
const MAIN: &str = "main";

/// Checks the output pod template `after` against the input `before`.
pub(super) fn check_pod(
    before: &PodTemplateSpec,
    after: &PodTemplateSpec,
    input: &RenderInput,
    extras: &Extras,
    policy: &Policy<'_>,
) -> Result<(), Violation> {
    check_metadata(before.metadata.as_ref(), after.metadata.as_ref(), policy)?;
    let empty = PodSpec::default();
    let b = before.spec.as_ref().unwrap_or(&empty);
    let a = after.spec.as_ref().unwrap_or(&empty);

    for (field, bv, av) in [
        ("spec.hostNetwork", b.host_network, a.host_network),
        ("spec.hostPID", b.host_pid, a.host_pid),
        ("spec.hostIPC", b.host_ipc, a.host_ipc),
    ] {
        if av == Some(true) && bv != Some(true) && !policy.has(&Capability::HostNamespaces) {
            return Err(forbidden(
                field,
                format!(
                    "sharing a host namespace {}",
                    policy.missing(&Capability::HostNamespaces)
                ),
            ));
        }
    }
    pod_not_weaker(b.security_context.as_ref(), a.security_context.as_ref())?;

    let volumes = check_volumes(b, a, input, extras, policy)?;
    let main_before = b
        .containers
        .iter()
        .find(|c| c.name == MAIN)
        .cloned()
        .unwrap_or_default();
    let mut mountable: BTreeSet<String> = volumes.added.keys().cloned().collect();
    mountable.extend(
        main_before
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| m.name.clone()),
    );
    let scope = Scope {
        extras,
        policy,
        mountable: &mountable,
        secret_volumes: &volumes.secrets,
    };
    check_containers(b, a, &scope)?;
    check_init_containers(b, a, &main_before, &scope)?;

    // Everything handled above is blanked; the rest must be unchanged.
    let rest = |spec: &PodSpec| PodSpec {
        host_network: None,
        host_pid: None,
        host_ipc: None,
        security_context: None,
        volumes: None,
        containers: Vec::new(),
        init_containers: None,
        ..spec.clone()
    };
    must_equal(
        &rest(b),
        &rest(a),
        "spec",
        "plugins may not change this field (it is outside the plugin allow-list)",
    )
}

/// What a container check needs to know about the rest of the output.
struct Scope<'a> {
    extras: &'a Extras,
    policy: &'a Policy<'a>,
    /// Volumes a changed or new container may mount: added by the plugin, or already mounted in
    /// the main container.
    mountable: &'a BTreeSet<String>,
    /// Which of the volumes are Secret volumes (mounts must be read-only).
    secret_volumes: &'a BTreeSet<String>,
}

// === metadata ===

fn check_metadata(
    before: Option<&ObjectMeta>,
    after: Option<&ObjectMeta>,
    policy: &Policy<'_>,
) -> Result<(), Violation> {
    let empty = ObjectMeta::default();
    let b = before.unwrap_or(&empty);
    let a = after.unwrap_or(&empty);
    check_keys(
        b.labels.as_ref(),
        a.labels.as_ref(),
        "metadata.labels",
        &policy.key_prefixes(false),
    )?;
    check_keys(
        b.annotations.as_ref(),
        a.annotations.as_ref(),
        "metadata.annotations",
        &policy.key_prefixes(true),
    )?;
    let rest = |m: &ObjectMeta| ObjectMeta {
        labels: None,
        annotations: None,
        ..m.clone()
    };
    must_equal(
        &rest(b),
        &rest(a),
        "metadata",
        "only labels and annotations under the plugin's own prefix may change",
    )
}

/// Keys of `before` and `after` may differ only under one of `prefixes`.
fn check_keys(
    before: Option<&BTreeMap<String, String>>,
    after: Option<&BTreeMap<String, String>>,
    field: &str,
    prefixes: &[String],
) -> Result<(), Violation> {
    let empty = BTreeMap::new();
    let b = before.unwrap_or(&empty);
    let a = after.unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for key in keys {
        if b.get(key) != a.get(key) && !prefixes.iter().any(|p| key.starts_with(p.as_str())) {
            return Err(forbidden(
                format!("{field}[{key}]"),
                format!(
                    "a plugin may only set or remove keys under {}",
                    prefixes.join(" or ")
                ),
            ));
        }
    }
    Ok(())
}

// === volumes ===

/// The volumes the plugin added (by name), and which volumes hold Secrets.
struct Volumes {
    added: BTreeMap<String, Volume>,
    secrets: BTreeSet<String>,
}

fn check_volumes(
    b: &PodSpec,
    a: &PodSpec,
    input: &RenderInput,
    extras: &Extras,
    policy: &Policy<'_>,
) -> Result<Volumes, Violation> {
    let before: BTreeMap<&str, &Volume> = b
        .volumes
        .iter()
        .flatten()
        .map(|v| (v.name.as_str(), v))
        .collect();
    let after: BTreeMap<&str, &Volume> = a
        .volumes
        .iter()
        .flatten()
        .map(|v| (v.name.as_str(), v))
        .collect();
    for (name, volume) in &before {
        match after.get(name) {
            Some(kept) => must_equal(
                *volume,
                *kept,
                &format!("spec.volumes[{name}]"),
                "a plugin may not change a volume it did not add",
            )?,
            None => {
                return Err(forbidden(
                    format!("spec.volumes[{name}]"),
                    "a plugin may not remove a volume it did not add",
                ));
            }
        }
    }
    let mut volumes = Volumes {
        added: BTreeMap::new(),
        secrets: before
            .iter()
            .filter(|(_, v)| v.secret.is_some())
            .map(|(n, _)| (*n).to_owned())
            .collect(),
    };
    for (name, volume) in after {
        if before.contains_key(name) {
            continue;
        }
        check_new_volume(volume, input, extras, policy)?;
        if volume.secret.is_some() {
            volumes.secrets.insert(name.to_owned());
        }
        volumes.added.insert(name.to_owned(), volume.clone());
    }
    Ok(volumes)
}

fn check_new_volume(
    volume: &Volume,
    input: &RenderInput,
    extras: &Extras,
    policy: &Policy<'_>,
) -> Result<(), Violation> {
    let field = format!("spec.volumes[{}]", volume.name);
    let value = serde_json::to_value(volume).unwrap_or(Value::Null);
    let sources: Vec<&str> = value
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .map(String::as_str)
        .filter(|k| *k != "name")
        .collect();
    let [source] = sources.as_slice() else {
        return Err(Violation::Malformed(format!(
            "{field} must have exactly one source, has {sources:?}"
        )));
    };
    let at = format!("{field}.{source}");
    match *source {
        "emptyDir" | "downwardAPI" => Ok(()),
        "configMap" => {
            let name = volume
                .config_map
                .as_ref()
                .map(|c| c.name.as_str())
                .unwrap_or_default();
            let host = input.infrastructure.wait_for_leader_config_map.as_str();
            if extras.config_maps.contains(name) || (!host.is_empty() && name == host) {
                Ok(())
            } else {
                Err(forbidden(
                    format!("{at}.name"),
                    format!(
                        "ConfigMap {name:?} is neither one this plugin returned nor the host's \
                         wait-for-leader ConfigMap"
                    ),
                ))
            }
        }
        "secret" => {
            if !policy.has(&Capability::SshKeySecret) {
                return Err(forbidden(
                    at,
                    format!(
                        "a Secret volume {}",
                        policy.missing(&Capability::SshKeySecret)
                    ),
                ));
            }
            let name = volume
                .secret
                .as_ref()
                .and_then(|s| s.secret_name.as_deref())
                .unwrap_or_default();
            if extras.ssh_secrets.contains(name) {
                Ok(())
            } else {
                Err(forbidden(
                    format!("{at}.secretName"),
                    format!(
                        "Secret {name:?} is not an SSH key Secret this plugin asked for in the \
                         same output"
                    ),
                ))
            }
        }
        "hostPath" if policy.has(&Capability::HostPath) => Ok(()),
        "hostPath" => Err(forbidden(
            at,
            format!(
                "a hostPath volume {}",
                policy.missing(&Capability::HostPath)
            ),
        )),
        other => Err(forbidden(
            at,
            format!(
                "{other} volumes are not allowed for plugins (emptyDir, downwardAPI and the \
                 plugin's own ConfigMaps are)"
            ),
        )),
    }
}

// === containers ===

fn check_containers(b: &PodSpec, a: &PodSpec, scope: &Scope<'_>) -> Result<(), Violation> {
    let names = |s: &PodSpec| {
        s.containers
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    if names(b) != names(a) {
        return Err(forbidden(
            "spec.containers",
            format!(
                "a plugin may not add, remove, rename or reorder containers (was {:?}, now {:?})",
                names(b),
                names(a)
            ),
        ));
    }
    for (before, after) in b.containers.iter().zip(&a.containers) {
        let field = format!("spec.containers[{}]", before.name);
        if before.name == MAIN {
            check_main(before, after, &field, scope)?;
        } else {
            must_equal(
                before,
                after,
                &field,
                "a plugin may only change the main container",
            )?;
        }
    }
    Ok(())
}

fn check_main(
    before: &Container,
    after: &Container,
    field: &str,
    scope: &Scope<'_>,
) -> Result<(), Violation> {
    let at = |suffix: &str| format!("{field}.{suffix}");
    check_env(
        before.env.as_deref(),
        after.env.as_deref(),
        &at("env"),
        scope,
    )?;
    let before_ports = before.ports.iter().flatten().collect::<Vec<_>>();
    for port in after.ports.iter().flatten() {
        let binds_host = port.host_port.is_some_and(|p| p != 0) || port.host_ip.is_some();
        if binds_host && !before_ports.contains(&port) {
            return Err(forbidden(
                format!("{}[{}]", at("ports"), port.container_port),
                "a plugin may not bind a host port (hostPort, hostIP)",
            ));
        }
    }
    for (name, b, a) in [
        (
            "livenessProbe",
            &before.liveness_probe,
            &after.liveness_probe,
        ),
        (
            "readinessProbe",
            &before.readiness_probe,
            &after.readiness_probe,
        ),
        ("startupProbe", &before.startup_probe, &after.startup_probe),
    ] {
        if a != b
            && let Some(probe) = a
        {
            check_probe(probe, &at(name))?;
        }
    }
    check_mounts(
        before.volume_mounts.as_deref(),
        after.volume_mounts.as_deref(),
        &at("volumeMounts"),
        scope,
    )?;
    container_not_weaker(
        before.security_context.as_ref(),
        after.security_context.as_ref(),
        &at("securityContext"),
        scope.policy,
    )?;
    let rest = |c: &Container| Container {
        command: None,
        args: None,
        working_dir: None,
        env: None,
        ports: None,
        liveness_probe: None,
        readiness_probe: None,
        startup_probe: None,
        volume_mounts: None,
        security_context: None,
        ..c.clone()
    };
    must_equal(
        &rest(before),
        &rest(after),
        field,
        "a plugin may change the main container's command, args, working directory, env, ports, \
         probes and mounts, nothing else",
    )
}

/// Every variable of `after` is unchanged from `before`, or takes its value from a source a
/// plugin may use.
fn check_env(
    before: Option<&[EnvVar]>,
    after: Option<&[EnvVar]>,
    field: &str,
    scope: &Scope<'_>,
) -> Result<(), Violation> {
    let before = before.unwrap_or_default();
    for var in after.unwrap_or_default() {
        if before.contains(var) {
            continue;
        }
        check_env_source(var, &format!("{field}[{}]", var.name), scope)?;
    }
    Ok(())
}

fn check_env_source(var: &EnvVar, field: &str, scope: &Scope<'_>) -> Result<(), Violation> {
    let Some(source) = &var.value_from else {
        return Ok(());
    };
    if source.field_ref.is_some() || source.resource_field_ref.is_some() {
        return Ok(());
    }
    if let Some(key) = &source.config_map_key_ref
        && scope.extras.config_maps.contains(&key.name)
    {
        return Ok(());
    }
    Err(forbidden(
        format!("{field}.valueFrom"),
        "a plugin may set literal values, downward-API references and keys of its own \
         ConfigMaps, not Secret or other ConfigMap references",
    ))
}

fn check_probe(probe: &Probe, field: &str) -> Result<(), Violation> {
    if probe
        .http_get
        .as_ref()
        .is_some_and(|h| h.host.as_deref().is_some_and(|h| !h.is_empty()))
    {
        return Err(forbidden(
            format!("{field}.httpGet.host"),
            "a probe may only target the pod itself",
        ));
    }
    if probe
        .tcp_socket
        .as_ref()
        .is_some_and(|t| t.host.as_deref().is_some_and(|h| !h.is_empty()))
    {
        return Err(forbidden(
            format!("{field}.tcpSocket.host"),
            "a probe may only target the pod itself",
        ));
    }
    Ok(())
}

/// Mounts of `before` stay (read-only may be added); new mounts use a mountable volume, no
/// propagation, and are read-only for Secret volumes.
fn check_mounts(
    before: Option<&[VolumeMount]>,
    after: Option<&[VolumeMount]>,
    field: &str,
    scope: &Scope<'_>,
) -> Result<(), Violation> {
    let before = before.unwrap_or_default();
    let after = after.unwrap_or_default();
    let same_but_read_only = |a: &VolumeMount, b: &VolumeMount| {
        VolumeMount {
            read_only: None,
            ..a.clone()
        } == VolumeMount {
            read_only: None,
            ..b.clone()
        }
    };
    for kept in before {
        let found = after.iter().any(|m| {
            same_but_read_only(m, kept)
                && (m.read_only == kept.read_only || m.read_only == Some(true))
        });
        if !found {
            return Err(forbidden(
                format!("{field}[{}]", kept.mount_path),
                "a plugin may not remove or change a mount it did not add (it may make it read-only)",
            ));
        }
    }
    for mount in after {
        if before.iter().any(|b| same_but_read_only(b, mount)) {
            continue;
        }
        let at = format!("{field}[{}]", mount.mount_path);
        if !scope.mountable.contains(&mount.name) {
            return Err(forbidden(
                at,
                format!(
                    "volume {:?} is neither one the plugin added nor one already mounted in the \
                     main container",
                    mount.name
                ),
            ));
        }
        if mount
            .mount_propagation
            .as_deref()
            .is_some_and(|p| p != "None")
        {
            return Err(forbidden(
                format!("{at}.mountPropagation"),
                "a plugin may not enable mount propagation",
            ));
        }
        if scope.secret_volumes.contains(&mount.name) && mount.read_only != Some(true) {
            return Err(forbidden(
                format!("{at}.readOnly"),
                "a Secret volume must be mounted read-only",
            ));
        }
    }
    Ok(())
}

// === init containers ===

fn check_init_containers(
    b: &PodSpec,
    a: &PodSpec,
    main: &Container,
    scope: &Scope<'_>,
) -> Result<(), Violation> {
    let before = b.init_containers.as_deref().unwrap_or_default();
    let after = a.init_containers.as_deref().unwrap_or_default();
    let images: BTreeSet<&str> = b
        .containers
        .iter()
        .chain(before)
        .filter_map(|c| c.image.as_deref())
        .collect();
    let mut next_kept = 0;
    for container in after {
        let field = format!("spec.initContainers[{}]", container.name);
        match before.iter().position(|c| c.name == container.name) {
            Some(index) => {
                if index < next_kept {
                    return Err(forbidden(
                        field,
                        "a plugin may not reorder init containers it did not add",
                    ));
                }
                next_kept = index + 1;
                must_equal(
                    &before[index],
                    container,
                    &field,
                    "a plugin may not change an init container it did not add",
                )?;
            }
            None => check_new_init(container, main, &images, &field, scope)?,
        }
    }
    if let Some(gone) = before
        .iter()
        .find(|b| !after.iter().any(|a| a.name == b.name))
    {
        return Err(forbidden(
            format!("spec.initContainers[{}]", gone.name),
            "a plugin may not remove an init container it did not add",
        ));
    }
    if b.containers
        .iter()
        .any(|c| after.iter().any(|i| i.name == c.name))
    {
        return Err(forbidden(
            "spec.initContainers",
            "an init container may not take a container's name",
        ));
    }
    Ok(())
}

fn check_new_init(
    container: &Container,
    main: &Container,
    images: &BTreeSet<&str>,
    field: &str,
    scope: &Scope<'_>,
) -> Result<(), Violation> {
    let at = |suffix: &str| format!("{field}.{suffix}");
    match container.image.as_deref() {
        Some(image) if images.contains(image) => {}
        other => {
            return Err(forbidden(
                at("image"),
                format!(
                    "an added init container must run an image already in the pod, not {other:?}"
                ),
            ));
        }
    }
    for var in container.env.iter().flatten() {
        let copied = main.env.iter().flatten().any(|m| m == var);
        if !copied {
            check_env_source(var, &format!("{}[{}]", at("env"), var.name), scope)?;
        }
    }
    if container.env_from.is_some() && container.env_from != main.env_from {
        return Err(forbidden(
            at("envFrom"),
            "an added init container may only take the main container's envFrom",
        ));
    }
    check_mounts(
        None,
        container.volume_mounts.as_deref(),
        &at("volumeMounts"),
        scope,
    )?;
    if container.resources.is_some() && container.resources != main.resources {
        return Err(forbidden(
            at("resources"),
            "an added init container may only take the main container's resources",
        ));
    }
    container_not_weaker(
        main.security_context.as_ref(),
        container.security_context.as_ref(),
        &at("securityContext"),
        scope.policy,
    )?;
    let rest = Container {
        name: String::new(),
        image: None,
        command: None,
        args: None,
        working_dir: None,
        env: None,
        env_from: None,
        volume_mounts: None,
        resources: None,
        security_context: None,
        image_pull_policy: None,
        ..container.clone()
    };
    must_equal(
        &Container::default(),
        &rest,
        field,
        "an added init container may set its image, command, args, working directory, env, \
         envFrom, mounts, resources, security context and pull policy, nothing else",
    )
}
