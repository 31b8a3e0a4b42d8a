//! Multi-node placement: the host-name and rank expressions handed to plugins.
//!
//! The host decides where each pod of a multi-node group runs; a plugin only receives these
//! expressions and never learns which orchestrator is underneath.
//!
//! - **Grove**: every pod gets `GROVE_PCSG_NAME`, `GROVE_PCSG_INDEX`, `GROVE_HEADLESS_SERVICE`
//!   and `GROVE_PCLQ_POD_INDEX` in its environment. The leader is pod 0 of clique `{svc}-ldr`,
//!   worker *i* is pod *i* of clique `{svc}-wkr`; a worker's rank is its pod index + 1, which
//!   needs shell arithmetic. Grove publishes not-ready addresses, so no DNS wait is needed.
//! - **LeaderWorkerSet**: the leader address is `$(LWS_LEADER_ADDRESS)` and a worker's rank
//!   `$(LWS_WORKER_INDEX)`, both expanded by the kubelet. Worker host names are derived from the
//!   leader's (`…-0.svc…` → `…-0-{i}.svc…`) with `sed` in a shell, and may not resolve at once,
//!   so launchers wait for DNS.

use dynamo_plugin_contract::{Deployer, Placement, Role};

/// Placement of the pod template with `role` of a component named `service` (the lowercase
/// Kubernetes form) spread over `node_count` nodes.
///
/// Single-node components (`node_count <= 1` or `deployer == None`) get the default placement:
/// role `main`, one node, rank `0`.
pub fn placement(deployer: Deployer, role: Role, service: &str, node_count: u32) -> Placement {
    if node_count <= 1 || deployer == Deployer::None || role == Role::Main {
        return Placement::default();
    }
    let worker_count = node_count - 1;
    match deployer {
        Deployer::Grove => Placement {
            deployer,
            role,
            node_count,
            leader_host: grove_leader_host(service),
            worker_hosts: (0..worker_count)
                .map(|i| grove_worker_host(service, i))
                .collect(),
            node_rank: match role {
                Role::Worker => GROVE_WORKER_RANK.to_owned(),
                _ => "0".to_owned(),
            },
            needs_shell: role == Role::Worker,
            needs_dns_wait: false,
        },
        Deployer::Lws => Placement {
            deployer,
            role,
            node_count,
            leader_host: LWS_LEADER_HOST.to_owned(),
            worker_hosts: (1..=worker_count).map(lws_worker_host).collect(),
            node_rank: match role {
                Role::Worker => LWS_WORKER_RANK.to_owned(),
                _ => "0".to_owned(),
            },
            needs_shell: true,
            needs_dns_wait: true,
        },
        Deployer::None => Placement::default(),
    }
}

/// Rank of a Grove worker pod (shell arithmetic; worker pod index 0 is rank 1).
pub const GROVE_WORKER_RANK: &str = "$((GROVE_PCLQ_POD_INDEX + 1))";
/// Leader address of a LeaderWorkerSet group (kubelet-expanded).
pub const LWS_LEADER_HOST: &str = "$(LWS_LEADER_ADDRESS)";
/// Rank of a LeaderWorkerSet worker pod (kubelet-expanded).
pub const LWS_WORKER_RANK: &str = "$(LWS_WORKER_INDEX)";

/// Host name of the leader of a Grove multi-node component.
pub fn grove_leader_host(service: &str) -> String {
    format!("$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-{service}-ldr-0.$(GROVE_HEADLESS_SERVICE)")
}

/// Host name of worker pod `index` (0-based, rank `index + 1`) of a Grove multi-node component.
pub fn grove_worker_host(service: &str, index: u32) -> String {
    format!(
        "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-{service}-wkr-{index}.$(GROVE_HEADLESS_SERVICE)"
    )
}

/// Host name of the worker with rank `rank` (1-based) of a LeaderWorkerSet group: the leader
/// address with `-{rank}` inserted before its first dot (shell only).
pub fn lws_worker_host(rank: u32) -> String {
    format!("$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-{rank}./')")
}

#[cfg(test)]
mod tests;
