//! Namespace-restricted mode beside a cluster-wide operator on one API server: the restricted
//! operator claims its namespace with a Lease and the cluster-wide one leaves it alone while the
//! claim holds, and takes the namespace back once the claim is released.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_api::DynamoComponentDeployment;
use dynamo_test_harness::{ControlPlane, Mode};
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};

use crate::common;
use crate::process::{Launch, Running};

const CLAIM: &str = "dynamo-operator-namespace-scope";

/// The image of the graph's frontend component (what the operator last applied).
async fn frontend_image(client: &Client, ns: &str, graph: &str) -> Result<Option<String>> {
    let dcd = Api::<DynamoComponentDeployment>::namespaced(client.clone(), ns)
        .get_opt(&format!("{graph}-frontend"))
        .await?;
    Ok(dcd.and_then(|d| d.spec.shared.main_container().and_then(|c| c.image.clone())))
}

async fn wait_image(client: &Client, ns: &str, graph: &str, tag: &str) -> Result<()> {
    let want = format!("registry.example.com/dynamo:{tag}");
    common::wait_for(
        &format!("{ns}/{graph} frontend at {tag}"),
        Duration::from_secs(30),
        || async {
            Ok(
                (frontend_image(client, ns, graph).await?.as_deref() == Some(want.as_str()))
                    .then_some(()),
            )
        },
    )
    .await
}

fn signal(operator: &Running, signal: &str) -> Result<()> {
    let status = Command::new("kill")
        .args([signal, &operator.pid().to_string()])
        .status()?;
    ensure!(status.success(), "kill {signal} failed");
    Ok(())
}

#[tokio::test]
async fn a_cluster_wide_operator_skips_a_namespace_claimed_by_a_restricted_one() -> Result<()> {
    // A private API server: a cluster-wide operator would reconcile every test's namespace.
    let cp = ControlPlane::start(Mode::Basic).await?;
    let (client, team) = cp.namespace("team").await?;
    let (_, other) = cp.namespace("other").await?;

    let wide = Launch::new(&cp, "").start("cluster-wide", ", enabled: false")?;
    let restricted = Launch::new(
        &cp,
        "namespace:\n  scope: {leaseDuration: 30s, leaseRenewInterval: 10s}\n",
    )
    .args(["--watch-namespace", team.as_str()])
    .start("restricted", ", enabled: false")?;
    wide.wait_ready(Duration::from_secs(60)).await?;
    restricted.wait_ready(Duration::from_secs(60)).await?;
    common::wait_for(
        "the restricted operator's claim",
        Duration::from_secs(30),
        || async {
            Ok(Api::<Lease>::namespaced(client.clone(), &team)
                .get_opt(CLAIM)
                .await?
                .map(|_| ()))
        },
    )
    .await?;

    // Both namespaces are served (by different operators).
    common::apply_yaml(&client, &team, &common::small_graph("g", "v1")).await?;
    common::apply_yaml(&client, &other, &common::small_graph("g", "v1")).await?;
    wait_image(&client, &team, "g", "v1").await?;
    wait_image(&client, &other, "g", "v1").await?;

    // The restricted operator paused: its claim still holds, so nobody changes `team` ...
    signal(&restricted, "-STOP")?;
    common::apply_yaml(&client, &team, &common::small_graph("g", "v2")).await?;
    common::apply_yaml(&client, &other, &common::small_graph("g", "v2")).await?;
    wait_image(&client, &other, "g", "v2").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(
        frontend_image(&client, &team, "g").await?.as_deref()
            == Some("registry.example.com/dynamo:v1"),
        "the cluster-wide operator reconciled a claimed namespace"
    );
    // ... until it resumes.
    signal(&restricted, "-CONT")?;
    wait_image(&client, &team, "g", "v2").await?;

    // Stopped gracefully, it releases the claim and the cluster-wide operator takes over.
    let mut restricted = restricted;
    ensure!(
        restricted.terminate(Duration::from_secs(30))?,
        "SIGTERM did not stop it"
    );
    common::wait_for("the claim released", Duration::from_secs(10), || async {
        Ok(Api::<Lease>::namespaced(client.clone(), &team)
            .get_opt(CLAIM)
            .await?
            .is_none()
            .then_some(()))
    })
    .await?;
    common::apply_yaml(&client, &team, &common::small_graph("g", "v3")).await?;
    wait_image(&client, &team, "g", "v3")
        .await
        .context("the cluster-wide operator took the namespace back")?;
    drop(wide);
    Ok(())
}
