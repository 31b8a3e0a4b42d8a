//! Restarts requested with `spec.restart.id`: pure planning.
//!
//! A restart writes `nvidia.com/restartAt: <id>` into a service's component spec, which puts it on
//! the pod template, so the service's pods are replaced by its own rolling update. **Parallel**
//! restarts every service at once; **Sequential** (the default) restarts one service at a time, in
//! `strategy.order` or alphabetical order, moving on when the service's pods all carry the token
//! and are ready. A service keeps whatever token it already had until its turn, so a restart
//! never replaces pods it was not asked to, and an old token is never removed (that would roll
//! the pods once more).

use std::collections::BTreeMap;

use dynamo_api::graph::{Restart, RestartStatus, RestartStrategyType};

/// The restart phase values of `status.restart.phase`.
pub mod phase {
    /// Accepted, nothing restarted yet.
    pub const PENDING: &str = "Pending";
    /// Services are being restarted.
    pub const RESTARTING: &str = "Restarting";
    /// Every service restarted.
    pub const COMPLETED: &str = "Completed";
    /// An operator-managed rolling update replaces every worker anyway.
    pub const SUPERSEDED: &str = "Superseded";
}

/// One service as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRestart {
    /// Service name.
    pub name: String,
    /// The token its component spec carries now.
    pub token: Option<String>,
    /// True when its pods all carry `token` and are ready.
    pub settled: bool,
}

/// Tokens to write and the status to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The token each service's component spec should carry.
    pub tokens: BTreeMap<String, String>,
    /// `status.restart`, when a restart was ever requested.
    pub status: Option<RestartStatus>,
}

/// Plans the restart of `services` for `restart` (`None` keeps every token as it is).
pub fn plan(restart: Option<&Restart>, services: &[ServiceRestart], rolling_update: bool) -> Plan {
    let mut tokens: BTreeMap<String, String> = services
        .iter()
        .filter_map(|s| s.token.clone().map(|t| (s.name.clone(), t)))
        .collect();
    let Some(restart) = restart.filter(|r| !r.id.is_empty()) else {
        return Plan {
            tokens,
            status: None,
        };
    };
    let id = &restart.id;
    let status = |phase: &str, in_progress: Vec<String>| RestartStatus {
        observed_id: Some(id.clone()),
        phase: Some(phase.to_owned()),
        in_progress: (!in_progress.is_empty()).then_some(in_progress),
    };
    if rolling_update
        && services
            .iter()
            .any(|s| s.token.as_deref() != Some(id.as_str()))
    {
        return Plan {
            tokens,
            status: Some(status(phase::SUPERSEDED, Vec::new())),
        };
    }
    let sequential = restart
        .strategy
        .as_ref()
        .and_then(|s| s.type_)
        .is_none_or(|t| t == RestartStrategyType::Sequential);
    let order: Vec<String> = restart
        .strategy
        .as_ref()
        .and_then(|s| s.order.clone())
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| {
            let mut names: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
            names.sort();
            names
        });
    let by_name: BTreeMap<&str, &ServiceRestart> =
        services.iter().map(|s| (s.name.as_str(), s)).collect();
    let done = |name: &str| {
        by_name
            .get(name)
            .is_none_or(|s| s.token.as_deref() == Some(id.as_str()) && s.settled)
    };

    if !sequential {
        for name in &order {
            tokens.insert(name.clone(), id.clone());
        }
        let pending: Vec<String> = order.iter().filter(|n| !done(n)).cloned().collect();
        let phase = if pending.is_empty() {
            phase::COMPLETED
        } else {
            phase::RESTARTING
        };
        return Plan {
            tokens,
            status: Some(status(phase, pending)),
        };
    }

    match order.iter().find(|n| !done(n)) {
        None => Plan {
            tokens,
            status: Some(status(phase::COMPLETED, Vec::new())),
        },
        Some(current) => {
            let started = order.iter().any(|n| {
                by_name
                    .get(n.as_str())
                    .is_some_and(|s| s.token.as_deref() == Some(id.as_str()))
            });
            tokens.insert(current.clone(), id.clone());
            let phase = if started || by_name.contains_key(current.as_str()) {
                phase::RESTARTING
            } else {
                phase::PENDING
            };
            Plan {
                tokens,
                status: Some(status(phase, vec![current.clone()])),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use dynamo_api::graph::RestartStrategy;

    use super::*;

    fn restart(id: &str, parallel: bool) -> Restart {
        Restart {
            id: id.into(),
            strategy: Some(RestartStrategy {
                type_: Some(if parallel {
                    RestartStrategyType::Parallel
                } else {
                    RestartStrategyType::Sequential
                }),
                order: None,
            }),
        }
    }

    fn svc(name: &str, token: Option<&str>, settled: bool) -> ServiceRestart {
        ServiceRestart {
            name: name.into(),
            token: token.map(str::to_owned),
            settled,
        }
    }

    #[test]
    fn sequential_goes_one_service_at_a_time() {
        let r = restart("r1", false);
        let p = plan(
            Some(&r),
            &[svc("a", None, true), svc("b", Some("old"), true)],
            false,
        );
        assert_eq!(p.tokens.get("a").map(String::as_str), Some("r1"));
        assert_eq!(
            p.tokens.get("b").map(String::as_str),
            Some("old"),
            "b waits, keeping its token"
        );
        assert_eq!(
            p.status.as_ref().and_then(|s| s.in_progress.clone()),
            Some(vec!["a".to_owned()])
        );
        // a has the token but is not settled yet: still a.
        let p = plan(
            Some(&r),
            &[svc("a", Some("r1"), false), svc("b", Some("old"), true)],
            false,
        );
        assert_eq!(p.tokens["b"], "old");
        // a settled: b's turn.
        let p = plan(
            Some(&r),
            &[svc("a", Some("r1"), true), svc("b", Some("old"), true)],
            false,
        );
        assert_eq!(p.tokens["b"], "r1");
        let p = plan(
            Some(&r),
            &[svc("a", Some("r1"), true), svc("b", Some("r1"), true)],
            false,
        );
        assert_eq!(
            p.status.and_then(|s| s.phase).as_deref(),
            Some(phase::COMPLETED)
        );
    }

    #[test]
    fn parallel_restarts_everything_at_once() {
        let r = restart("r2", true);
        let p = plan(
            Some(&r),
            &[svc("a", None, true), svc("b", None, true)],
            false,
        );
        assert_eq!(p.tokens.len(), 2);
        assert_eq!(
            p.status.and_then(|s| s.phase).as_deref(),
            Some(phase::RESTARTING)
        );
    }

    #[test]
    fn without_a_restart_tokens_are_kept_and_a_rolling_update_supersedes() {
        let p = plan(None, &[svc("a", Some("r0"), true)], false);
        assert_eq!(p.tokens["a"], "r0");
        assert_eq!(p.status, None);
        let p = plan(Some(&restart("r3", false)), &[svc("a", None, true)], true);
        assert_eq!(
            p.status.and_then(|s| s.phase).as_deref(),
            Some(phase::SUPERSEDED)
        );
    }
}
