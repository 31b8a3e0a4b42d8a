//! Tests of the multi-node host and rank expressions.

use super::*;

#[test]
fn single_node_gets_the_default_placement() {
    for deployer in [Deployer::None, Deployer::Lws, Deployer::Grove] {
        let p = placement(deployer, Role::Main, "decode", 1);
        assert_eq!(p, Placement::default());
        assert_eq!(p.node_rank, "0");
        assert_eq!(p.node_count, 1);
    }
}

#[test]
fn grove_leader() {
    let p = placement(Deployer::Grove, Role::Leader, "decode", 2);
    assert_eq!(p.deployer, Deployer::Grove);
    assert_eq!(p.role, Role::Leader);
    assert_eq!(p.node_count, 2);
    assert_eq!(
        p.leader_host,
        "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-decode-ldr-0.$(GROVE_HEADLESS_SERVICE)"
    );
    assert_eq!(
        p.worker_hosts,
        vec!["$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-decode-wkr-0.$(GROVE_HEADLESS_SERVICE)"]
    );
    assert_eq!(p.node_rank, "0");
    assert!(!p.needs_shell);
    assert!(!p.needs_dns_wait);
}

#[test]
fn grove_worker_rank_needs_a_shell() {
    let p = placement(Deployer::Grove, Role::Worker, "prefill", 4);
    assert_eq!(p.node_rank, "$((GROVE_PCLQ_POD_INDEX + 1))");
    assert!(p.needs_shell);
    assert!(!p.needs_dns_wait);
    assert_eq!(p.worker_hosts.len(), 3);
    assert!(
        p.worker_hosts[2].contains("-prefill-wkr-2."),
        "{:?}",
        p.worker_hosts
    );
}

#[test]
fn lws_leader_and_workers() {
    let leader = placement(Deployer::Lws, Role::Leader, "decode", 3);
    assert_eq!(leader.leader_host, "$(LWS_LEADER_ADDRESS)");
    assert_eq!(leader.node_rank, "0");
    assert_eq!(
        leader.worker_hosts,
        vec![
            "$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')",
            "$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-2./')",
        ]
    );
    assert!(leader.needs_shell);
    assert!(leader.needs_dns_wait);
    let worker = placement(Deployer::Lws, Role::Worker, "decode", 3);
    assert_eq!(worker.node_rank, "$(LWS_WORKER_INDEX)");
    assert_eq!(worker.role, Role::Worker);
    assert_eq!(worker.worker_hosts, leader.worker_hosts);
}
