//! The operator-managed rolling update of worker services (Deployment pathway): pure planning.
//!
//! Workers are isolated by the graph's worker hash: their DCDs (and Deployments, and Dynamo
//! namespaces through `DYN_NAMESPACE_WORKER_SUFFIX`) carry it in their names, so a changed worker
//! spec makes a new set of DCDs beside the old one instead of changing pods in place. Per worker
//! service, while old DCDs exist:
//!
//! - old replicas: `max(0, desired − new_ready − maxUnavailable)`;
//! - new replicas: `min(desired, desired + maxSurge − old)`;
//! - when every worker service has `desired` new replicas ready and no old replica left, the old
//!   DCDs are deleted (their Deployments and pods go with them).
//!
//! `maxSurge` and `maxUnavailable` come from the service annotations
//! `nvidia.com/deployment-rolling-update-max-surge|-max-unavailable` (a count or a percentage of
//! `desired`, default 25%; surge rounds up, unavailability down; both zero means one unavailable).

use std::collections::BTreeMap;

/// One worker service as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerService {
    /// Service name.
    pub name: String,
    /// Replicas the spec asks for.
    pub desired: i32,
    /// `maxSurge` annotation, if any.
    pub max_surge: Option<String>,
    /// `maxUnavailable` annotation, if any.
    pub max_unavailable: Option<String>,
    /// Ready replicas of the new DCD's Deployment (0 before it exists).
    pub new_ready: i32,
    /// The old DCDs of the service: name, current replicas, ready replicas.
    pub old: Vec<OldComponent>,
}

/// A worker DCD of an older worker hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldComponent {
    /// DCD name.
    pub name: String,
    /// Its `spec.replicas` now.
    pub replicas: i32,
    /// Ready replicas of its Deployment.
    pub ready: i32,
}

/// What to do this reconcile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Replicas of the new DCDs, for services still rolling.
    pub new_replicas: BTreeMap<String, i32>,
    /// Old DCDs to scale, and to what.
    pub scale_old: Vec<(String, i32)>,
    /// Old DCDs to delete (the update is complete).
    pub delete_old: Vec<String>,
    /// True while any worker service still has old DCDs.
    pub in_progress: bool,
    /// Services whose new replicas are all ready.
    pub updated_services: Vec<String>,
}

/// Plans one step of the rolling update of `services`.
pub fn plan(services: &[WorkerService]) -> Plan {
    let mut plan = Plan::default();
    let mut all_done = true;
    for service in services {
        if service.old.is_empty() {
            if service.new_ready >= service.desired {
                plan.updated_services.push(service.name.clone());
            }
            continue;
        }
        plan.in_progress = true;
        let desired = service.desired.max(0);
        let surge = amount(service.max_surge.as_deref(), desired, true);
        let mut unavailable = amount(service.max_unavailable.as_deref(), desired, false);
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        let old_target = (desired - service.new_ready - unavailable).max(0);
        let new_target = desired.min(desired + surge - old_target).max(0);
        plan.new_replicas.insert(service.name.clone(), new_target);
        // Scale the old DCDs down to `old_target` in all, newest kept longest (by name order).
        let mut budget = old_target;
        for old in &service.old {
            let keep = old.replicas.min(budget).max(0);
            budget -= keep;
            if keep != old.replicas {
                plan.scale_old.push((old.name.clone(), keep));
            }
        }
        let old_ready: i32 = service.old.iter().map(|o| o.ready).sum();
        let done = service.new_ready >= desired && old_target == 0 && old_ready == 0;
        if done {
            plan.updated_services.push(service.name.clone());
        } else {
            all_done = false;
        }
    }
    if plan.in_progress && all_done {
        plan.delete_old = services
            .iter()
            .flat_map(|s| s.old.iter().map(|o| o.name.clone()))
            .collect();
    }
    plan
}

/// A count or percentage of `total`; percentages round up for surge, down otherwise.
fn amount(text: Option<&str>, total: i32, round_up: bool) -> i32 {
    let text = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("25%");
    match text.strip_suffix('%') {
        Some(percent) => {
            let percent: i64 = percent.parse().unwrap_or(25);
            let scaled = i64::from(total) * percent;
            let value = if round_up {
                (scaled + 99) / 100
            } else {
                scaled / 100
            };
            i32::try_from(value.max(0)).unwrap_or(i32::MAX)
        }
        None => text.parse::<i32>().unwrap_or(0).max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(desired: i32, new_ready: i32, old: &[(i32, i32)]) -> WorkerService {
        WorkerService {
            name: "decode".into(),
            desired,
            max_surge: None,
            max_unavailable: None,
            new_ready,
            old: old
                .iter()
                .enumerate()
                .map(|(i, &(replicas, ready))| OldComponent {
                    name: format!("g-decode-old{i}"),
                    replicas,
                    ready,
                })
                .collect(),
        }
    }

    #[test]
    fn a_one_replica_worker_surges_then_drains_then_deletes() {
        // Start: new DCD created with 1 replica (surge 1), old kept at 1.
        let p = plan(&[service(1, 0, &[(1, 1)])]);
        assert_eq!(p.new_replicas["decode"], 1);
        assert!(p.scale_old.is_empty());
        assert!(p.delete_old.is_empty() && p.in_progress);
        // New ready: old scaled to 0.
        let p = plan(&[service(1, 1, &[(1, 1)])]);
        assert_eq!(p.scale_old, [("g-decode-old0".to_owned(), 0)]);
        assert!(p.delete_old.is_empty(), "old pods are still ready");
        // Old gone: delete the old DCD.
        let p = plan(&[service(1, 1, &[(0, 0)])]);
        assert_eq!(p.delete_old, ["g-decode-old0"]);
        assert_eq!(p.updated_services, ["decode"]);
    }

    #[test]
    fn larger_services_respect_surge_and_unavailability() {
        let mut s = service(4, 0, &[(4, 4)]);
        s.max_surge = Some("1".into());
        s.max_unavailable = Some("0".into());
        let p = plan(&[s.clone()]);
        assert_eq!(p.new_replicas["decode"], 1, "only one extra pod");
        assert!(p.scale_old.is_empty());
        s.new_ready = 1;
        let p = plan(&[s]);
        assert_eq!(p.scale_old, [("g-decode-old0".to_owned(), 3)]);
        assert_eq!(p.new_replicas["decode"], 2);
    }

    #[test]
    fn nothing_to_do_without_old_components() {
        let p = plan(&[service(2, 2, &[])]);
        assert_eq!(
            p,
            Plan {
                updated_services: vec!["decode".into()],
                ..Plan::default()
            }
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(amount(None, 1, true), 1);
        assert_eq!(amount(None, 1, false), 0);
        assert_eq!(amount(Some("50%"), 3, false), 1);
        assert_eq!(amount(Some("2"), 10, true), 2);
    }
}
