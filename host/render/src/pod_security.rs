//! The Kubernetes Pod Security Standards (`baseline` and `restricted`), as a pure check of a pod
//! template.
//!
//! The render pipeline runs it on every component's pod before and after its plugin chain: the
//! final pod must pass every level the host's pod passed. This is independent of the plugin
//! runtime's allow-list (a second lock on the same door): a plugin that somehow got a weakening
//! change past the allow-list is still stopped here, and a plugin set that is not the wasmtime
//! runtime (the native test fakes) is held to the same rule.
//!
//! The rules are those of Kubernetes' `pod-security-admission` at the `latest` version: host
//! namespaces, privileged containers, capabilities, hostPath, host ports, AppArmor, SELinux,
//! `/proc` mount, seccomp and sysctls for `baseline`; volume types, privilege escalation,
//! non-root, seccomp and dropped capabilities for `restricted`. Windows host-process pods count as
//! privileged.

use std::fmt;

use dynamo_plugin_contract::Capability;
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, SecurityContext};

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Prevents known privilege escalations.
    Baseline,
    /// Heavily restricted; current hardening best practice.
    Restricted,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        })
    }
}

/// One rule a pod breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The lowest level the rule belongs to.
    pub level: Level,
    /// Path of the offending field (`spec.containers[main].securityContext.privileged`).
    pub field: String,
    /// What the rule requires.
    pub message: String,
    /// The plugin capability that, when granted, permits this (e.g. `privileged`).
    pub capability: Option<Capability>,
}

/// Capabilities `baseline` allows containers to add.
const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls `baseline` allows.
const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// SELinux types `baseline` allows.
const SELINUX_TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Volume sources `restricted` allows.
const RESTRICTED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every rule `template` breaks, at both levels.
pub fn findings(template: &PodTemplateSpec) -> Vec<Finding> {
    let mut out = Vec::new();
    let empty = PodSpec::default();
    let spec = template.spec.as_ref().unwrap_or(&empty);
    let mut push = |level, field: String, message: &str, capability| {
        out.push(Finding {
            level,
            field,
            message: message.to_owned(),
            capability,
        });
    };

    // --- baseline: the pod ---
    for (field, value) in [
        ("spec.hostNetwork", spec.host_network),
        ("spec.hostPID", spec.host_pid),
        ("spec.hostIPC", spec.host_ipc),
    ] {
        if value == Some(true) {
            push(
                Level::Baseline,
                field.into(),
                "host namespaces must not be shared",
                Some(Capability::HostNamespaces),
            );
        }
    }
    for volume in spec.volumes.iter().flatten() {
        if volume.host_path.is_some() {
            push(
                Level::Baseline,
                format!("spec.volumes[{}].hostPath", volume.name),
                "hostPath volumes are forbidden",
                Some(Capability::HostPath),
            );
        }
        let source = serde_json::to_value(volume)
            .ok()
            .and_then(|v| {
                v.as_object()
                    .and_then(|o| o.keys().find(|k| *k != "name").cloned())
            })
            .unwrap_or_default();
        if !source.is_empty() && !RESTRICTED_VOLUMES.contains(&source.as_str()) {
            push(
                Level::Restricted,
                format!("spec.volumes[{}].{source}", volume.name),
                "only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, \
                 projected and secret volumes are allowed",
                None,
            );
        }
    }
    let pod_sc = spec.security_context.as_ref();
    if pod_sc
        .and_then(|s| s.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true)
    {
        push(
            Level::Baseline,
            "spec.securityContext.windowsOptions.hostProcess".into(),
            "Windows host-process pods are forbidden",
            Some(Capability::Privileged),
        );
    }
    if let Some(se) = pod_sc.and_then(|s| s.se_linux_options.as_ref())
        && !selinux_ok(se.type_.as_deref(), se.user.as_deref(), se.role.as_deref())
    {
        push(
            Level::Baseline,
            "spec.securityContext.seLinuxOptions".into(),
            "SELinux type must be a container type, user and role unset",
            None,
        );
    }
    let pod_seccomp = pod_sc
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str());
    if pod_seccomp == Some("Unconfined") {
        push(
            Level::Baseline,
            "spec.securityContext.seccompProfile.type".into(),
            "seccomp must not be Unconfined",
            None,
        );
    }
    if pod_sc
        .and_then(|s| s.app_armor_profile.as_ref())
        .is_some_and(|p| p.type_ == "Unconfined")
    {
        push(
            Level::Baseline,
            "spec.securityContext.appArmorProfile.type".into(),
            "AppArmor must not be Unconfined",
            None,
        );
    }
    for sysctl in pod_sc
        .and_then(|s| s.sysctls.as_ref())
        .into_iter()
        .flatten()
    {
        if !SAFE_SYSCTLS.contains(&sysctl.name.as_str()) {
            push(
                Level::Baseline,
                format!("spec.securityContext.sysctls[{}]", sysctl.name),
                "only the safe sysctls are allowed",
                None,
            );
        }
    }
    for (key, value) in template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .into_iter()
        .flatten()
    {
        if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
            && value != "runtime/default"
            && !value.starts_with("localhost/")
        {
            push(
                Level::Baseline,
                format!("metadata.annotations[{key}]"),
                "AppArmor must be runtime/default or a localhost profile",
                None,
            );
        }
    }
    let pod_non_root = pod_sc.and_then(|s| s.run_as_non_root) == Some(true);
    if pod_sc.and_then(|s| s.run_as_user) == Some(0) {
        push(
            Level::Restricted,
            "spec.securityContext.runAsUser".into(),
            "must not run as user 0",
            None,
        );
    }

    // --- every container ---
    let containers = spec.containers.iter().map(|c| ("containers", c)).chain(
        spec.init_containers
            .iter()
            .flatten()
            .map(|c| ("initContainers", c)),
    );
    let ephemeral: Vec<(String, Option<SecurityContext>, bool)> = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .map(|e| {
            (
                format!("spec.ephemeralContainers[{}]", e.name),
                e.security_context.clone(),
                e.ports
                    .iter()
                    .flatten()
                    .any(|p| p.host_port.is_some_and(|h| h != 0)),
            )
        })
        .collect();
    let all: Vec<(String, Option<SecurityContext>, bool)> = containers
        .map(|(list, c): (&str, &Container)| {
            (
                format!("spec.{list}[{}]", c.name),
                c.security_context.clone(),
                c.ports
                    .iter()
                    .flatten()
                    .any(|p| p.host_port.is_some_and(|h| h != 0)),
            )
        })
        .chain(ephemeral)
        .collect();
    for (field, sc, host_port) in &all {
        let at = |suffix: &str| format!("{field}.securityContext.{suffix}");
        if *host_port {
            push(
                Level::Baseline,
                format!("{field}.ports"),
                "host ports are forbidden",
                None,
            );
        }
        let empty = SecurityContext::default();
        let sc = sc.as_ref().unwrap_or(&empty);
        if sc.privileged == Some(true) {
            push(
                Level::Baseline,
                at("privileged"),
                "privileged containers are forbidden",
                Some(Capability::Privileged),
            );
        }
        if sc.windows_options.as_ref().and_then(|w| w.host_process) == Some(true) {
            push(
                Level::Baseline,
                at("windowsOptions.hostProcess"),
                "Windows host-process containers are forbidden",
                Some(Capability::Privileged),
            );
        }
        let added: Vec<&String> = sc
            .capabilities
            .as_ref()
            .and_then(|c| c.add.as_ref())
            .into_iter()
            .flatten()
            .collect();
        for cap in &added {
            if !BASELINE_CAPABILITIES.contains(&cap.as_str()) {
                push(
                    Level::Baseline,
                    at("capabilities.add"),
                    "only the baseline capabilities may be added",
                    Some(Capability::AddCapability((*cap).clone())),
                );
            }
            if cap.as_str() != "NET_BIND_SERVICE" {
                push(
                    Level::Restricted,
                    at("capabilities.add"),
                    "only NET_BIND_SERVICE may be added",
                    Some(Capability::AddCapability((*cap).clone())),
                );
            }
        }
        let drops_all = sc
            .capabilities
            .as_ref()
            .and_then(|c| c.drop.as_ref())
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            push(
                Level::Restricted,
                at("capabilities.drop"),
                "must drop ALL capabilities",
                None,
            );
        }
        if sc.proc_mount.as_deref().is_some_and(|m| m != "Default") {
            push(
                Level::Baseline,
                at("procMount"),
                "/proc must be mounted Default",
                None,
            );
        }
        if let Some(se) = &sc.se_linux_options
            && !selinux_ok(se.type_.as_deref(), se.user.as_deref(), se.role.as_deref())
        {
            push(
                Level::Baseline,
                at("seLinuxOptions"),
                "SELinux type must be a container type, user and role unset",
                None,
            );
        }
        let seccomp = sc.seccomp_profile.as_ref().map(|p| p.type_.as_str());
        if seccomp == Some("Unconfined") {
            push(
                Level::Baseline,
                at("seccompProfile.type"),
                "seccomp must not be Unconfined",
                None,
            );
        }
        if !matches!(
            seccomp.or(pod_seccomp),
            Some("RuntimeDefault" | "Localhost")
        ) {
            push(
                Level::Restricted,
                at("seccompProfile.type"),
                "seccomp must be RuntimeDefault or Localhost (here or on the pod)",
                None,
            );
        }
        if sc
            .app_armor_profile
            .as_ref()
            .is_some_and(|p| p.type_ == "Unconfined")
        {
            push(
                Level::Baseline,
                at("appArmorProfile.type"),
                "AppArmor must not be Unconfined",
                None,
            );
        }
        if sc.allow_privilege_escalation != Some(false) {
            push(
                Level::Restricted,
                at("allowPrivilegeEscalation"),
                "must be false",
                None,
            );
        }
        let non_root = match sc.run_as_non_root {
            Some(value) => value,
            None => pod_non_root,
        };
        if !non_root {
            push(
                Level::Restricted,
                at("runAsNonRoot"),
                "must be true (here or on the pod)",
                None,
            );
        }
        if sc.run_as_user == Some(0) {
            push(
                Level::Restricted,
                at("runAsUser"),
                "must not run as user 0",
                None,
            );
        }
    }
    out
}

fn selinux_ok(type_: Option<&str>, user: Option<&str>, role: Option<&str>) -> bool {
    SELINUX_TYPES.contains(&type_.unwrap_or_default())
        && user.unwrap_or_default().is_empty()
        && role.unwrap_or_default().is_empty()
}

/// The levels `template` passes.
pub fn levels(template: &PodTemplateSpec) -> Vec<Level> {
    let found = findings(template);
    [Level::Baseline, Level::Restricted]
        .into_iter()
        .filter(|level| !found.iter().any(|f| f.level <= *level))
        .collect()
}

/// What `after` breaks at a level `before` passes, leaving out what a `granted` capability
/// permits. Empty when the pod is as safe as before.
pub fn lowered(
    before: &PodTemplateSpec,
    after: &PodTemplateSpec,
    granted: &[Capability],
) -> Vec<Finding> {
    let passed = levels(before);
    let Some(highest) = passed.last().copied() else {
        return Vec::new();
    };
    findings(after)
        .into_iter()
        .filter(|f| f.level <= highest)
        .filter(|f| f.capability.as_ref().is_none_or(|c| !granted.contains(c)))
        .collect()
}

#[cfg(test)]
mod tests;
