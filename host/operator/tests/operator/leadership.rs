//! Leader election with two operator processes on one Lease: only the leader reconciles; the
//! leader killed with SIGKILL is replaced by the standby (the takeover time is measured and
//! printed), and a leader stopped with SIGTERM hands the lease over at once.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};

use crate::common;
use crate::process::{Launch, Running};

const LEASE: &str = "dynamo-operator-leader";

fn start(cp: &ControlPlane, ns: &str, name: &str) -> Result<Running> {
    Launch::new(
        cp,
        &format!(
            "leaderElection: {{enabled: true, id: {LEASE}, namespace: {ns}, leaseDuration: 10s}}\n"
        ),
    )
    .args(["--watch-namespace", ns])
    .start(name, ", enabled: false")
}

/// The identity holding the lease, when someone does.
async fn holder(client: &Client, ns: &str) -> Result<Option<String>> {
    let lease = Api::<Lease>::namespaced(client.clone(), ns)
        .get_opt(LEASE)
        .await?;
    Ok(lease
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
        .filter(|h| !h.is_empty()))
}

fn pid_of(identity: &str) -> Option<u32> {
    identity.rsplit('-').next()?.parse().ok()
}

async fn wait_leader(client: &Client, ns: &str, among: &[&Running]) -> Result<u32> {
    common::wait_for(
        "a leader among the operators",
        Duration::from_secs(60),
        || async {
            let Some(identity) = holder(client, ns).await? else {
                return Ok(None);
            };
            Ok(pid_of(&identity).filter(|pid| among.iter().any(|r| r.pid() == *pid)))
        },
    )
    .await
}

#[tokio::test]
async fn the_standby_takes_over_after_sigkill_and_at_once_after_sigterm() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("leader").await?;
    let a = start(cp, &ns, &format!("{ns}-a"))?;
    let b = start(cp, &ns, &format!("{ns}-b"))?;
    let leader_pid = wait_leader(&client, &ns, &[&a, &b]).await?;
    let (mut leader, standby) = if leader_pid == a.pid() {
        (a, b)
    } else {
        (b, a)
    };

    // Only the leader reconciles: a graph converges, and the standby reports itself not leading.
    common::apply_yaml(&client, &ns, &common::small_graph("lead", "v1")).await?;
    common::wait_ready(&client, &ns, "lead", "True", None, Duration::from_secs(120)).await?;
    ensure!(leader.metric("dynamo_operator_leader").await == Some(1.0));
    ensure!(
        standby.metric("dynamo_operator_leader").await == Some(0.0),
        "the standby claims to lead"
    );
    ensure!(
        matches!(standby.get("/readyz").await, Some((200, _))),
        "a standby is ready: it serves webhooks"
    );
    let reconciles = standby
        .get("/metrics")
        .await
        .map(|(_, body)| body)
        .unwrap_or_default();
    ensure!(
        !reconciles.contains("dynamo_operator_reconciles_total{controller=\"graph\"}"),
        "the standby reconciled: {reconciles}"
    );

    // SIGKILL: the standby takes over once the lease runs out.
    leader.kill()?;
    let killed = Instant::now();
    let new_leader = wait_leader(&client, &ns, &[&standby]).await?;
    let takeover = killed.elapsed();
    eprintln!("leader failover after SIGKILL: {takeover:?} (lease 10 s)");
    ensure!(new_leader == standby.pid());
    ensure!(
        takeover <= Duration::from_secs(15),
        "takeover took {takeover:?}, more than 15 s"
    );
    // The new leader reconciles: a new graph converges.
    common::apply_yaml(&client, &ns, &common::small_graph("after", "v1")).await?;
    common::wait_ready(
        &client,
        &ns,
        "after",
        "True",
        None,
        Duration::from_secs(120),
    )
    .await?;
    ensure!(standby.metric("dynamo_operator_leader").await == Some(1.0));

    // SIGTERM: the lease is released at once (no waiting for it to run out).
    let mut standby = standby;
    let stopped = Instant::now();
    ensure!(
        standby.terminate(Duration::from_secs(30))?,
        "SIGTERM did not stop the leader"
    );
    let released = common::wait_for("the lease released", Duration::from_secs(5), || async {
        Ok(holder(&client, &ns).await?.is_none().then_some(()))
    })
    .await;
    eprintln!("lease released {:?} after SIGTERM", stopped.elapsed());
    released.context("a gracefully stopped leader releases its lease")?;
    Ok(())
}
