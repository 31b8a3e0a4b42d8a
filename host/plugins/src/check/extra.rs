//! Extra objects a plugin asks for: its own ConfigMaps and SSH key Secret requests.
//!
//! A ConfigMap's name must start with `<graph>-<plugin>-`, so it can never be a name the host
//! generates (`<graph>-<service>...`, `<graph>-wait-leader-script`) or another plugin's; it may not
//! carry finalizers or owner references (the host sets the owner) and may not target another
//! namespace. An SSH key Secret needs capability `ssh-key-secret` and is either the operator's
//! MPI key (`infrastructure.mpiSshSecretName`) or named `<graph>-<plugin>-...`.

use std::collections::BTreeSet;

use dynamo_plugin_contract::{Capability, ExtraObject, RenderInput, RenderOutput};
use k8s_openapi::api::core::v1::ConfigMap;

use super::{Policy, Violation, forbidden};

/// Names of what a checked output asked for, which its pod may then mount.
#[derive(Debug, Default)]
pub(super) struct Extras {
    /// The plugin's own ConfigMaps.
    pub(super) config_maps: BTreeSet<String>,
    /// SSH key Secrets requested (capability `ssh-key-secret` checked).
    pub(super) ssh_secrets: BTreeSet<String>,
}

/// Checks every extra object of `output` and returns their names.
pub(super) fn check_extra_objects(
    input: &RenderInput,
    output: &RenderOutput,
    policy: &Policy<'_>,
) -> Result<Extras, Violation> {
    let mut extras = Extras::default();
    let prefix = policy.object_prefix(&input.graph.name);
    for (index, object) in output.extra_objects.iter().enumerate() {
        let field = format!("extraObjects[{index}]");
        match object {
            ExtraObject::ConfigMap(json) => {
                let name = check_config_map(&field, json, &input.graph.namespace, &prefix)?;
                extras.config_maps.insert(name);
            }
            ExtraObject::SshKeySecret(name) => {
                if !policy.has(&Capability::SshKeySecret) {
                    return Err(forbidden(
                        field,
                        format!(
                            "asks for SSH key Secret {name:?}, which {}",
                            policy.missing(&Capability::SshKeySecret)
                        ),
                    ));
                }
                if !is_dns_subdomain(name) {
                    return Err(Violation::Malformed(format!(
                        "ssh-key-secret {name:?} is not a valid Secret name"
                    )));
                }
                let mpi = input.infrastructure.mpi_ssh_secret_name.as_str();
                if name != mpi && !name.starts_with(&prefix) {
                    return Err(forbidden(
                        field,
                        format!(
                            "SSH key Secret {name:?} must be the operator's MPI key ({mpi:?}) or \
                             be named {prefix}..."
                        ),
                    ));
                }
                extras.ssh_secrets.insert(name.clone());
            }
        }
    }
    Ok(extras)
}

fn check_config_map(
    field: &str,
    json: &str,
    namespace: &str,
    prefix: &str,
) -> Result<String, Violation> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Violation::Malformed(format!("{field} is not JSON: {e}")))?;
    if let Some(kind) = value.get("kind")
        && kind != "ConfigMap"
    {
        return Err(Violation::Malformed(format!(
            "{field} has kind {kind}, expected ConfigMap"
        )));
    }
    if let Some(version) = value.get("apiVersion")
        && version != "v1"
    {
        return Err(Violation::Malformed(format!(
            "{field} has apiVersion {version}, expected v1"
        )));
    }
    let cm: ConfigMap = serde_json::from_value(value)
        .map_err(|e| Violation::Malformed(format!("{field} is not a ConfigMap: {e}")))?;
    let meta = &cm.metadata;
    let name = meta.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(Violation::Malformed(format!(
            "{field} (a ConfigMap) has no metadata.name"
        )));
    }
    if !is_dns_subdomain(&name) {
        return Err(Violation::Malformed(format!(
            "{field}: ConfigMap name {name:?} is not a DNS-1123 subdomain"
        )));
    }
    if !name.starts_with(prefix) || name.len() == prefix.len() {
        return Err(forbidden(
            format!("{field}.metadata.name"),
            format!("ConfigMap {name:?} must be named {prefix}<something>"),
        ));
    }
    match meta.namespace.as_deref() {
        None | Some("") => {}
        Some(ns) if ns == namespace => {}
        Some(ns) => {
            return Err(forbidden(
                format!("{field}.metadata.namespace"),
                format!("ConfigMap {name} targets namespace {ns:?}, not the graph's {namespace:?}"),
            ));
        }
    }
    if meta
        .owner_references
        .as_ref()
        .is_some_and(|o| !o.is_empty())
    {
        return Err(forbidden(
            format!("{field}.metadata.ownerReferences"),
            "owner references are set by the host",
        ));
    }
    if meta.finalizers.as_ref().is_some_and(|f| !f.is_empty()) {
        return Err(forbidden(
            format!("{field}.metadata.finalizers"),
            "a plugin's ConfigMap may not carry finalizers (it could never be deleted)",
        ));
    }
    if meta.generate_name.is_some() {
        return Err(forbidden(
            format!("{field}.metadata.generateName"),
            "ConfigMap names are fixed; generateName would create a new one on every apply",
        ));
    }
    Ok(name)
}

/// True for a DNS-1123 subdomain: at most 253 characters, dot-separated labels of
/// `[a-z0-9-]` that start and end with an alphanumeric.
pub(crate) fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}
