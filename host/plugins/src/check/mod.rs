//! Checks on what a plugin returns: well formed, within the cost limits, and inside the
//! allow-list of what a plugin may change.
//!
//! The check is an allow-list, not a deny-list: the output pod template must **equal** the input
//! except on the paths below, which are compared by their own rules. Everything else (images,
//! resources, other containers, scheduling, service account, DNS, priority, runtime class, ...)
//! is compared in full.
//!
//! | path | what a plugin may do |
//! |---|---|
//! | `metadata.labels`, `metadata.annotations` | set or remove keys under its own prefix `<plugin>.plugins.dynamo.nvidia.com/`; annotations also under the prefix of the launcher it names (the hand-off to `multinode-launcher`) |
//! | main container (`main`) `command`, `args`, `workingDir` | anything |
//! | main container `env` | add, change or remove variables whose value is a literal or a downward-API reference (`fieldRef`, `resourceFieldRef`); a `configMapKeyRef` only to its own ConfigMaps; a variable it does not touch keeps whatever source it had |
//! | main container `ports` | anything without `hostPort`/`hostIP` (kept ones may stay) |
//! | main container probes | anything, except `httpGet.host` / `tcpSocket.host` pointing elsewhere |
//! | main container `volumeMounts` | add mounts of the volumes it may add, or of volumes already mounted there; existing mounts stay (`readOnly` may become `true`); no mount propagation |
//! | main container `securityContext` | only stricter (see [`security`]) |
//! | `spec.initContainers` | add containers of a restricted shape: an image already in the pod, command, args, working directory, env as above, `envFrom` equal to the main container's, mounts as above, no resources or exactly the main container's, a security context no weaker than the main container's; existing init containers stay unchanged and in order |
//! | `spec.volumes` | add `emptyDir`, `downwardAPI`, `configMap` of its own ConfigMaps or of the host's wait-for-leader ConfigMap; existing volumes stay unchanged |
//! | `spec.securityContext` | only stricter |
//! | `spec.hostNetwork`, `hostPID`, `hostIPC` | only to `false` |
//!
//! Capabilities ([`dynamo_plugin_contract::Capability`]) widen this, when declared by the
//! plugin **and** granted to it by the configuration: `ssh-key-secret` (Secret volumes of the
//! SSH keys it asked for), `privileged`, `host-namespaces`, `host-path`,
//! `add-capability:<NAME>`.
//!
//! Extra objects ([`extra`]): ConfigMaps named `<graph>-<plugin>-...` without finalizers or owner
//! references, and (with `ssh-key-secret`) SSH key Secret requests for the operator's MPI key or
//! `<graph>-<plugin>-...`; at most [`OutputLimits::max_extra_objects`].
//!
//! The final pod is checked again, independently, against the Kubernetes Pod Security Standards
//! by the render pipeline (`dynamo_render::security`).

mod extra;
mod pod;
pub mod security;

use std::collections::BTreeSet;

use dynamo_plugin_contract::text::plugin_key_prefix;
use dynamo_plugin_contract::{Capability, RenderInput, RenderOutput};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

use crate::config::OutputLimits;

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
    /// The output exceeds one of the [`OutputLimits`].
    OverLimit {
        /// What was counted, e.g. `extra objects`.
        what: String,
        /// The configured limit.
        limit: usize,
        /// What the plugin returned.
        actual: usize,
    },
}

/// What a plugin is allowed, besides the default allow-list.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The plugin's name (its key prefix and extra-object name prefix derive from it).
    pub plugin: &'a str,
    /// The launcher the plugin hands multi-node components to, whose annotation prefix it may
    /// write.
    pub launcher: Option<&'a str>,
    /// Capabilities the plugin declared and the configuration granted.
    pub granted: &'a BTreeSet<Capability>,
    /// Capabilities the plugin declared (granted or not), for error messages.
    pub declared: &'a BTreeSet<Capability>,
    /// Size and count limits.
    pub limits: &'a OutputLimits,
}

// === impl Policy ===

impl Policy<'_> {
    /// True when `capability` was declared and granted.
    pub fn has(&self, capability: &Capability) -> bool {
        self.granted.contains(capability)
    }

    /// Why `capability` is missing, for a message: not declared, or declared but not granted.
    pub fn missing(&self, capability: &Capability) -> String {
        if self.declared.contains(capability) {
            format!(
                "needs capability `{capability}`, which the plugin declares but the operator \
                 configuration does not grant (plugins.grants.{})",
                self.plugin
            )
        } else {
            format!(
                "needs capability `{capability}`, which the plugin does not declare in its \
                 metadata"
            )
        }
    }

    /// Prefix of the ConfigMaps and Secrets this plugin may name in graph `graph`.
    pub fn object_prefix(&self, graph: &str) -> String {
        format!("{graph}-{}-", self.plugin)
    }

    /// Label or annotation key prefixes this plugin may write.
    fn key_prefixes(&self, annotations: bool) -> Vec<String> {
        let mut prefixes = vec![plugin_key_prefix(self.plugin)];
        if annotations && let Some(launcher) = self.launcher {
            prefixes.push(plugin_key_prefix(launcher));
        }
        prefixes
    }
}

/// Checks a render output against its input and `policy`.
pub fn check_output(
    input: &RenderInput,
    output: &RenderOutput,
    policy: &Policy<'_>,
) -> Result<(), Violation> {
    check_size(output, policy.limits)?;
    let after: PodTemplateSpec = serde_json::from_str(&output.pod_template)
        .map_err(|e| Violation::Malformed(format!("pod-template is not a PodTemplateSpec: {e}")))?;
    // The host built the input, so it parses; should it not, compare against an empty template,
    // which only makes the checks stricter.
    let before: PodTemplateSpec = serde_json::from_str(&input.pod_template).unwrap_or_default();
    let extras = extra::check_extra_objects(input, output, policy)?;
    pod::check_pod(&before, &after, input, &extras, policy)
}

/// The byte and count limits that apply before anything is parsed.
fn check_size(output: &RenderOutput, limits: &OutputLimits) -> Result<(), Violation> {
    let bytes = output.pod_template.len()
        + output
            .extra_objects
            .iter()
            .map(|o| match o {
                dynamo_plugin_contract::ExtraObject::ConfigMap(json) => json.len(),
                dynamo_plugin_contract::ExtraObject::SshKeySecret(name) => name.len(),
            })
            .sum::<usize>()
        + output.warnings.iter().map(String::len).sum::<usize>();
    over("output bytes", limits.max_output_bytes, bytes)?;
    over(
        "extra objects",
        limits.max_extra_objects,
        output.extra_objects.len(),
    )
}

fn over(what: &str, limit: usize, actual: usize) -> Result<(), Violation> {
    if actual > limit {
        Err(Violation::OverLimit {
            what: what.to_owned(),
            limit,
            actual,
        })
    } else {
        Ok(())
    }
}

fn forbidden(field: impl Into<String>, message: impl Into<String>) -> Violation {
    Violation::Forbidden {
        field: field.into(),
        message: message.into(),
    }
}

/// The first path at which `before` and `after` differ (`prefix` prepended), or `None` when they
/// are equal. Objects are compared key by key, arrays item by item.
fn first_difference(before: &Value, after: &Value, prefix: &str) -> Option<String> {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            keys.into_iter().find_map(|key| {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match (b.get(key), a.get(key)) {
                    (Some(bv), Some(av)) => first_difference(bv, av, &path),
                    _ => Some(path),
                }
            })
        }
        (Value::Array(b), Value::Array(a)) => {
            if b.len() != a.len() {
                return Some(prefix.to_owned());
            }
            b.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (bv, av))| first_difference(bv, av, &format!("{prefix}[{i}]")))
        }
        (b, a) if b == a => None,
        _ => Some(prefix.to_owned()),
    }
}

/// `Err(Forbidden)` at the first difference between two values that must be equal.
fn must_equal<T: serde::Serialize + PartialEq>(
    before: &T,
    after: &T,
    prefix: &str,
    message: &str,
) -> Result<(), Violation> {
    if before == after {
        return Ok(());
    }
    let b = serde_json::to_value(before).unwrap_or(Value::Null);
    let a = serde_json::to_value(after).unwrap_or(Value::Null);
    let field = first_difference(&b, &a, prefix).unwrap_or_else(|| prefix.to_owned());
    Err(forbidden(field, message))
}

#[cfg(test)]
mod tests;
