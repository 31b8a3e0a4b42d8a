use dynamo_render::RenderConfig;
use dynamo_render::config::{OperatorConfiguration, Orchestrator};

use super::Capabilities;

const ALL: [&str; 6] = [
    "leaderworkersets.leaderworkerset.x-k8s.io",
    "podgroups.scheduling.volcano.sh",
    "podcliquesets.grove.io",
    "podcliques.grove.io",
    "podcliquescalinggroups.grove.io",
    "queues.scheduling.run.ai",
];

#[test]
fn capabilities_follow_the_established_crds() {
    assert_eq!(Capabilities::from_crds([]), Capabilities::default());
    let all = Capabilities::from_crds(ALL);
    assert!(all.lws && all.volcano && all.grove && all.kai);
    // Grove needs all three of its kinds: status is read from cliques and scaling groups.
    let partial = Capabilities::from_crds(["podcliquesets.grove.io", "podcliques.grove.io"]);
    assert!(!partial.grove);
}

#[test]
fn unset_switches_follow_the_cluster_and_set_ones_win() {
    let base = RenderConfig::new(OperatorConfiguration::default());
    let nothing = Capabilities::default();
    assert_eq!(
        nothing.render_config(&base).orchestrator,
        Orchestrator::Deployment
    );

    // LeaderWorkerSet alone is enough (its groups are no longer Volcano gangs); Volcano alone
    // is nothing.
    let lws = Capabilities {
        lws: true,
        ..Capabilities::default()
    };
    assert_eq!(lws.render_config(&base).orchestrator, Orchestrator::Lws);
    let volcano_only = Capabilities {
        volcano: true,
        ..Capabilities::default()
    };
    assert_eq!(
        volcano_only.render_config(&base).orchestrator,
        Orchestrator::Deployment
    );

    // Grove wins over LWS when both are there.
    let both = Capabilities::from_crds(ALL);
    let resolved = both.render_config(&base);
    assert_eq!(resolved.orchestrator, Orchestrator::Grove);
    assert_eq!(resolved.operator.orchestrators.lws.enabled, Some(true));
    assert_eq!(
        resolved.operator.orchestrators.kai_scheduler.enabled,
        Some(true)
    );

    // An explicit `false` turns a served API off; an explicit `true` stays on without it.
    let mut operator = OperatorConfiguration::default();
    operator.orchestrators.grove.enabled = Some(false);
    operator.orchestrators.kai_scheduler.enabled = Some(true);
    let config = RenderConfig::new(operator);
    let resolved = both.render_config(&config);
    assert_eq!(resolved.orchestrator, Orchestrator::Lws);
    let resolved = nothing.render_config(&config);
    assert_eq!(resolved.orchestrator, Orchestrator::Deployment);
    assert!(nothing.missing_kai(&resolved.operator).is_some());
    assert!(both.missing_kai(&resolved.operator).is_none());
}

#[test]
fn missing_apis_name_the_crd_and_what_to_install() {
    let nothing = Capabilities::default();
    let missing = nothing.missing("LeaderWorkerSet").expect("missing");
    assert_eq!(missing.crd, "leaderworkersets.leaderworkerset.x-k8s.io");
    assert!(
        missing.to_string().contains("install LeaderWorkerSet"),
        "{missing}"
    );
    assert!(
        nothing
            .missing("PodCliqueSet")
            .expect("missing")
            .to_string()
            .contains("Grove")
    );
    assert_eq!(nothing.missing("Deployment"), None);
    let advice = nothing.multinode_advice();
    assert!(
        advice.contains("leaderworkersets.leaderworkerset.x-k8s.io")
            && advice.contains("podcliquesets.grove.io")
            && !advice.contains("volcano"),
        "{advice}"
    );
    let lws = Capabilities {
        lws: true,
        ..Capabilities::default()
    };
    assert!(
        !lws.multinode_advice().contains("leaderworkersets."),
        "{}",
        lws.multinode_advice()
    );
}
