//! Checks on what a plugin returns: it must be well formed and stay inside the allow-list.
//!
//! A plugin decides *what the engine needs* (flags, env, init containers, volumes, probes, extra
//! ConfigMaps); it may not widen the pod's privileges or move it. After every successful `render`
//! the host checks:
//!
//! **Well formed** (else [`crate::PluginError::MalformedOutput`]):
//! - `pod-template` parses as a Kubernetes `PodTemplateSpec`;
//! - each `config-map` extra object parses as a `ConfigMap` (`kind`, when given, is `ConfigMap`)
//!   and has a name;
//! - each `ssh-key-secret` request names a valid DNS-1123 subdomain.
//!
//! **Unchanged from the input** (else [`crate::PluginError::ForbiddenChange`]):
//! - `metadata.namespace`, `metadata.name`, `metadata.ownerReferences`;
//! - `spec.serviceAccountName` and the deprecated `spec.serviceAccount`;
//! - `spec.hostNetwork`, `spec.hostPID`, `spec.hostIPC` — unless
//!   [`RuntimeConfig::allow_host_namespaces`];
//! - `spec.ephemeralContainers`.
//!
//! **Not newly granted** (a container keeps what the input already gave the container of the same
//! name; else [`crate::PluginError::ForbiddenChange`]):
//! - `securityContext.privileged: true` on any container or init container — unless
//!   [`RuntimeConfig::allow_privileged`];
//! - capabilities in `securityContext.capabilities.add` — unless listed with
//!   [`RuntimeConfig::allow_capability`];
//! - `hostPath` volumes (compared by volume name) — unless [`RuntimeConfig::allow_host_path`].
//!
//! **Extra objects**: only ConfigMaps (whose namespace is unset or the graph's, and which carry no
//! owner references: the host sets namespace and owner) and SSH key-pair Secret requests; the WIT
//! variant admits nothing else.
//!
//! Everything else (containers, init containers, env, args, resources, probes, labels,
//! annotations, volumes other than `hostPath`, affinity, tolerations) is the plugin's to change.

use std::collections::{BTreeMap, BTreeSet};

use dynamo_plugin_contract::{ExtraObject, RenderInput, RenderOutput};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, EphemeralContainer, HostPathVolumeSource, PodSpec, PodTemplateSpec,
    SecurityContext,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use crate::config::RuntimeConfig;

/// Why an output was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// The output is not what the contract promises.
    Malformed(String),
    /// The output changes `field` in a way the allow-list forbids.
    Forbidden {
        /// JSON-style path of the field.
        field: String,
        /// Why it is forbidden.
        message: String,
    },
}

fn forbidden(field: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation::Forbidden {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks a render output against its input and the allow-list switches of `config`.
pub fn check_output(
    input: &RenderInput,
    output: &RenderOutput,
    config: &RuntimeConfig,
) -> Result<(), Violation> {
    let after: PodTemplateSpec = serde_json::from_str(&output.pod_template)
        .map_err(|e| Violation::Malformed(format!("pod-template is not a PodTemplateSpec: {e}")))?;
    // The host built the input, so it parses; should it not, compare against an empty template,
    // which only makes the checks stricter. Only the compared fields are built (see `Before`).
    let before: Before = serde_json::from_str(&input.pod_template).unwrap_or_default();
    check_metadata(before.metadata.as_ref(), &after)?;
    let before_spec = before.spec.unwrap_or_default();
    let empty = PodSpec::default();
    let after_spec = after.spec.as_ref().unwrap_or(&empty);
    check_spec(&before_spec, after_spec, config)?;
    for (index, object) in output.extra_objects.iter().enumerate() {
        check_extra_object(index, object, &input.graph.namespace)?;
    }
    Ok(())
}

/// The fields of the input pod template that the checks compare against. Reading only these
/// skips building the rest (container args, env, probes, resources...): with the metadata no
/// longer cloned, checking a vLLM output went from ~25 µs to ~15 µs (`BENCHMARKS.md`). The output
/// itself is still parsed in full, since its being a `PodTemplateSpec` is one of the checks.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Before {
    metadata: Option<ObjectMeta>,
    spec: Option<BeforeSpec>,
}

/// The compared fields of the input's `PodSpec`, named as in Kubernetes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BeforeSpec {
    service_account_name: Option<String>,
    service_account: Option<String>,
    host_network: Option<bool>,
    #[serde(rename = "hostPID")]
    host_pid: Option<bool>,
    #[serde(rename = "hostIPC")]
    host_ipc: Option<bool>,
    ephemeral_containers: Option<Vec<EphemeralContainer>>,
    containers: Vec<BeforeContainer>,
    init_containers: Option<Vec<BeforeContainer>>,
    volumes: Option<Vec<BeforeVolume>>,
}

/// The compared fields of an input container.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BeforeContainer {
    name: String,
    security_context: Option<SecurityContext>,
}

/// The compared fields of an input volume.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BeforeVolume {
    name: String,
    host_path: Option<HostPathVolumeSource>,
}

fn check_metadata(before: Option<&ObjectMeta>, after: &PodTemplateSpec) -> Result<(), Violation> {
    let empty = ObjectMeta::default();
    let b = before.unwrap_or(&empty);
    let a = after.metadata.as_ref().unwrap_or(&empty);
    if a.namespace != b.namespace {
        return Err(forbidden(
            "metadata.namespace",
            format!("changed from {:?} to {:?}", b.namespace, a.namespace),
        ));
    }
    if a.name != b.name {
        return Err(forbidden(
            "metadata.name",
            format!("changed from {:?} to {:?}", b.name, a.name),
        ));
    }
    if a.owner_references != b.owner_references {
        return Err(forbidden(
            "metadata.ownerReferences",
            "owner references are set by the host",
        ));
    }
    Ok(())
}

fn check_spec(
    before: &BeforeSpec,
    after: &PodSpec,
    config: &RuntimeConfig,
) -> Result<(), Violation> {
    if after.service_account_name != before.service_account_name {
        return Err(forbidden(
            "spec.serviceAccountName",
            format!(
                "changed from {:?} to {:?}",
                before.service_account_name, after.service_account_name
            ),
        ));
    }
    if after.service_account != before.service_account {
        return Err(forbidden(
            "spec.serviceAccount",
            "the service account is set by the host",
        ));
    }
    if !config.get_allow_host_namespaces() {
        for (field, b, a) in [
            ("spec.hostNetwork", before.host_network, after.host_network),
            ("spec.hostPID", before.host_pid, after.host_pid),
            ("spec.hostIPC", before.host_ipc, after.host_ipc),
        ] {
            if a.unwrap_or(false) != b.unwrap_or(false) {
                return Err(forbidden(
                    field,
                    "host namespaces are not allowed (RuntimeConfig::allow_host_namespaces)",
                ));
            }
        }
    }
    if after.ephemeral_containers != before.ephemeral_containers {
        return Err(forbidden(
            "spec.ephemeralContainers",
            "plugins may not add ephemeral containers",
        ));
    }

    let before_containers: BTreeMap<&str, Option<&SecurityContext>> = before
        .containers
        .iter()
        .chain(before.init_containers.iter().flatten())
        .map(|c| (c.name.as_str(), c.security_context.as_ref()))
        .collect();
    let lists = [
        ("containers", after.containers.as_slice()),
        (
            "initContainers",
            after.init_containers.as_deref().unwrap_or_default(),
        ),
    ];
    for (list, containers) in lists {
        for container in containers {
            check_container(
                list,
                container,
                before_containers
                    .get(container.name.as_str())
                    .copied()
                    .flatten(),
                config,
            )?;
        }
    }

    if !config.get_allow_host_path() {
        let before_host_paths: BTreeSet<&str> = before
            .volumes
            .iter()
            .flatten()
            .filter(|v| v.host_path.is_some())
            .map(|v| v.name.as_str())
            .collect();
        for volume in after.volumes.iter().flatten() {
            if volume.host_path.is_some() && !before_host_paths.contains(volume.name.as_str()) {
                return Err(forbidden(
                    format!("spec.volumes[{}].hostPath", volume.name),
                    "hostPath volumes are not allowed (RuntimeConfig::allow_host_path)",
                ));
            }
        }
    }
    Ok(())
}

fn check_container(
    list: &str,
    after: &Container,
    before_sc: Option<&SecurityContext>,
    config: &RuntimeConfig,
) -> Result<(), Violation> {
    let Some(sc) = after.security_context.as_ref() else {
        return Ok(());
    };
    let field = |suffix: &str| format!("spec.{list}[{}].securityContext.{suffix}", after.name);

    let was_privileged = before_sc.and_then(|s| s.privileged).unwrap_or(false);
    if sc.privileged.unwrap_or(false) && !was_privileged && !config.get_allow_privileged() {
        return Err(forbidden(
            field("privileged"),
            "privileged containers are not allowed (RuntimeConfig::allow_privileged)",
        ));
    }

    let before_caps: BTreeSet<&str> = before_sc
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.as_ref())
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let added = sc
        .capabilities
        .as_ref()
        .and_then(|c| c.add.as_ref())
        .into_iter()
        .flatten();
    for cap in added {
        if !before_caps.contains(cap.as_str()) && !config.get_allowed_capabilities().contains(cap) {
            return Err(forbidden(
                field("capabilities.add"),
                format!("capability {cap} is not allowed (RuntimeConfig::allow_capability)"),
            ));
        }
    }
    Ok(())
}

fn check_extra_object(
    index: usize,
    object: &ExtraObject,
    namespace: &str,
) -> Result<(), Violation> {
    match object {
        ExtraObject::ConfigMap(json) => {
            let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
                Violation::Malformed(format!("extra object {index} is not JSON: {e}"))
            })?;
            if let Some(kind) = value.get("kind")
                && kind != "ConfigMap"
            {
                return Err(Violation::Malformed(format!(
                    "extra object {index} has kind {kind}, expected ConfigMap"
                )));
            }
            let cm: ConfigMap = serde_json::from_value(value).map_err(|e| {
                Violation::Malformed(format!("extra object {index} is not a ConfigMap: {e}"))
            })?;
            let name = cm.metadata.name.as_deref().unwrap_or_default();
            if name.is_empty() {
                return Err(Violation::Malformed(format!(
                    "extra ConfigMap {index} has no metadata.name"
                )));
            }
            match cm.metadata.namespace.as_deref() {
                None | Some("") => {}
                Some(ns) if ns == namespace => {}
                Some(ns) => {
                    return Err(forbidden(
                        format!("extraObjects[{index}].metadata.namespace"),
                        format!(
                            "ConfigMap {name} targets namespace {ns:?}, not the graph's {namespace:?}"
                        ),
                    ));
                }
            }
            if cm
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|o| !o.is_empty())
            {
                return Err(forbidden(
                    format!("extraObjects[{index}].metadata.ownerReferences"),
                    "owner references are set by the host",
                ));
            }
            Ok(())
        }
        ExtraObject::SshKeySecret(name) => {
            if is_dns_subdomain(name) {
                Ok(())
            } else {
                Err(Violation::Malformed(format!(
                    "ssh-key-secret {name:?} is not a valid Secret name"
                )))
            }
        }
    }
}

/// True for a DNS-1123 subdomain: at most 253 characters of `[a-z0-9.-]`, starting and ending with
/// an alphanumeric.
fn is_dns_subdomain(name: &str) -> bool {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= 253
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests;
