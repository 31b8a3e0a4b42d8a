//! Security settings may only get stricter.
//!
//! For a container's `securityContext` (and the pod's, where the field exists):
//!
//! | field | allowed change |
//! |---|---|
//! | `privileged` | to `true` only with capability `privileged` |
//! | `allowPrivilegeEscalation` | unchanged, or to `false` |
//! | `capabilities.add` | a new entry only with capability `add-capability:<NAME>` |
//! | `capabilities.drop` | entries may be added, none removed |
//! | `readOnlyRootFilesystem`, `runAsNonRoot` | unchanged, or to `true` |
//! | `seccompProfile`, `appArmorProfile` | from unset or `Unconfined` to `RuntimeDefault` or `Localhost`; nothing else |
//! | `procMount` | only to `Default` |
//! | everything else (`runAsUser`, `runAsGroup`, `seLinuxOptions`, `windowsOptions`, `fsGroup`, `supplementalGroups`, `sysctls`, ...) | unchanged |

use std::collections::BTreeSet;

use dynamo_plugin_contract::Capability;
use k8s_openapi::api::core::v1::{
    AppArmorProfile, Capabilities, PodSecurityContext, SeccompProfile, SecurityContext,
};

use super::{Policy, Violation, forbidden, must_equal};

const WEAKER: &str = "security settings may only get stricter";

/// Checks that `after` is no weaker than `before` for a container at `field`
/// (`spec.containers[main].securityContext`).
pub fn container_not_weaker(
    before: Option<&SecurityContext>,
    after: Option<&SecurityContext>,
    field: &str,
    policy: &Policy<'_>,
) -> Result<(), Violation> {
    let empty = SecurityContext::default();
    let b = before.unwrap_or(&empty);
    let a = after.unwrap_or(&empty);
    let at = |suffix: &str| format!("{field}.{suffix}");

    if a.privileged == Some(true)
        && b.privileged != Some(true)
        && !policy.has(&Capability::Privileged)
    {
        return Err(forbidden(
            at("privileged"),
            format!(
                "a privileged container {}",
                policy.missing(&Capability::Privileged)
            ),
        ));
    }
    stays(
        b.allow_privilege_escalation,
        a.allow_privilege_escalation,
        false,
        &at("allowPrivilegeEscalation"),
    )?;
    stays(
        b.read_only_root_filesystem,
        a.read_only_root_filesystem,
        true,
        &at("readOnlyRootFilesystem"),
    )?;
    stays(
        b.run_as_non_root,
        a.run_as_non_root,
        true,
        &at("runAsNonRoot"),
    )?;
    capabilities(
        b.capabilities.as_ref(),
        a.capabilities.as_ref(),
        &at("capabilities"),
        policy,
    )?;
    seccomp(
        b.seccomp_profile.as_ref(),
        a.seccomp_profile.as_ref(),
        &at("seccompProfile"),
    )?;
    app_armor(
        b.app_armor_profile.as_ref(),
        a.app_armor_profile.as_ref(),
        &at("appArmorProfile"),
    )?;
    if a.proc_mount != b.proc_mount && a.proc_mount.as_deref().is_some_and(|m| m != "Default") {
        return Err(forbidden(
            at("procMount"),
            format!("{WEAKER}: only `Default` is allowed"),
        ));
    }

    // Everything not handled above must be unchanged.
    let rest = |sc: &SecurityContext| SecurityContext {
        privileged: None,
        allow_privilege_escalation: None,
        read_only_root_filesystem: None,
        run_as_non_root: None,
        capabilities: None,
        seccomp_profile: None,
        app_armor_profile: None,
        proc_mount: None,
        ..sc.clone()
    };
    must_equal(&rest(b), &rest(a), field, WEAKER)
}

/// Checks that the pod security context `after` is no weaker than `before`.
pub fn pod_not_weaker(
    before: Option<&PodSecurityContext>,
    after: Option<&PodSecurityContext>,
) -> Result<(), Violation> {
    let field = "spec.securityContext";
    let empty = PodSecurityContext::default();
    let b = before.unwrap_or(&empty);
    let a = after.unwrap_or(&empty);
    stays(
        b.run_as_non_root,
        a.run_as_non_root,
        true,
        &format!("{field}.runAsNonRoot"),
    )?;
    seccomp(
        b.seccomp_profile.as_ref(),
        a.seccomp_profile.as_ref(),
        &format!("{field}.seccompProfile"),
    )?;
    app_armor(
        b.app_armor_profile.as_ref(),
        a.app_armor_profile.as_ref(),
        &format!("{field}.appArmorProfile"),
    )?;
    let rest = |sc: &PodSecurityContext| PodSecurityContext {
        run_as_non_root: None,
        seccomp_profile: None,
        app_armor_profile: None,
        ..sc.clone()
    };
    must_equal(&rest(b), &rest(a), field, WEAKER)
}

/// The field may stay as it was or become `Some(strict)`; nothing else (an unset field may not
/// become the lax value either: "only stricter" is read literally).
fn stays(
    before: Option<bool>,
    after: Option<bool>,
    strict: bool,
    field: &str,
) -> Result<(), Violation> {
    if after == before || after == Some(strict) {
        Ok(())
    } else {
        Err(forbidden(
            field,
            format!("{WEAKER}: may only become `{strict}`"),
        ))
    }
}

fn capabilities(
    before: Option<&Capabilities>,
    after: Option<&Capabilities>,
    field: &str,
    policy: &Policy<'_>,
) -> Result<(), Violation> {
    let list = |c: Option<&Capabilities>, add: bool| -> BTreeSet<String> {
        c.and_then(|c| if add { c.add.as_ref() } else { c.drop.as_ref() })
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    };
    let (b_add, a_add) = (list(before, true), list(after, true));
    for cap in a_add.difference(&b_add) {
        let needed = Capability::AddCapability(cap.clone());
        if !policy.has(&needed) {
            return Err(forbidden(
                format!("{field}.add"),
                format!("adding Linux capability {cap} {}", policy.missing(&needed)),
            ));
        }
    }
    let (b_drop, a_drop) = (list(before, false), list(after, false));
    if let Some(kept) = b_drop.difference(&a_drop).next() {
        return Err(forbidden(
            format!("{field}.drop"),
            format!("{WEAKER}: dropped capability {kept} must stay dropped"),
        ));
    }
    Ok(())
}

/// Profile types that confine a container, as opposed to unset or `Unconfined`.
fn confining(profile_type: Option<&str>) -> bool {
    matches!(profile_type, Some("RuntimeDefault" | "Localhost"))
}

fn profile_change(
    before: Option<&str>,
    after: Option<&str>,
    same: bool,
    field: &str,
) -> Result<(), Violation> {
    if same || (!confining(before) && confining(after)) {
        Ok(())
    } else {
        Err(forbidden(
            field,
            format!(
                "{WEAKER}: only an unset or Unconfined profile may change, to RuntimeDefault or Localhost"
            ),
        ))
    }
}

fn seccomp(
    before: Option<&SeccompProfile>,
    after: Option<&SeccompProfile>,
    field: &str,
) -> Result<(), Violation> {
    profile_change(
        before.map(|p| p.type_.as_str()),
        after.map(|p| p.type_.as_str()),
        before == after,
        field,
    )
}

fn app_armor(
    before: Option<&AppArmorProfile>,
    after: Option<&AppArmorProfile>,
    field: &str,
) -> Result<(), Violation> {
    profile_change(
        before.map(|p| p.type_.as_str()),
        after.map(|p| p.type_.as_str()),
        before == after,
        field,
    )
}
