//! Rolling updates and restarts: a changed worker rolls out through a new set of components,
//! the graph says `updating` and is never Ready while a pod of the old generation remains;
//! `spec.restart` replaces pods one service at a time or all at once.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Result, bail, ensure};
use dynamo_api::DynamoGraphDeployment;
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};

use crate::common::{self, Operator};

pub const GRAPH: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: roll
spec:
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: "registry.example.com/dynamo:1" } }
    worker:
      componentType: worker
      replicas: 2
      resources: { limits: { gpu: "1" } }
      extraPodSpec:
        mainContainer:
          image: "registry.example.com/dynamo:1"
          command: [python3, -m, dynamo.vllm]
          args: [--model, m]
"#;

/// Worker hashes of the graph's pods (terminating ones included).
pub async fn worker_hashes(client: &Client, ns: &str) -> Result<BTreeSet<String>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels("nvidia.com/dynamo-component=worker"))
        .await?;
    Ok(list
        .items
        .iter()
        .filter_map(|p| {
            p.metadata
                .labels
                .as_ref()?
                .get("nvidia.com/dynamo-worker-hash")
                .cloned()
        })
        .collect())
}

/// Changes the worker image of graph `roll`.
pub async fn change_worker_image(client: &Client, ns: &str, image: &str) -> Result<()> {
    let patch = serde_json::json!({"spec": {"services": {"worker": {"extraPodSpec": {"mainContainer": {"image": image}}}}}});
    common::patch_alpha_graph(client, ns, "roll", &patch).await
}

#[tokio::test]
async fn a_changed_worker_rolls_out_and_ready_waits_for_the_old_pods() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("rollout").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, GRAPH).await?;
    common::wait_ready(&client, &ns, "roll", "True", None, Duration::from_secs(120)).await?;
    let old = worker_hashes(&client, &ns).await?;
    ensure!(old.len() == 1, "one generation at first: {old:?}");

    change_worker_image(&client, &ns, "registry.example.com/dynamo:2").await?;
    common::wait_ready(
        &client,
        &ns,
        "roll",
        "False",
        Some("updating"),
        Duration::from_secs(60),
    )
    .await?;
    // Until Ready, watch the invariant: Ready=True never while an old pod exists.
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let hashes = worker_hashes(&client, &ns).await?;
        let ready = common::ready(&client, &ns, "roll").await?;
        if ready.as_ref().is_some_and(|c| c.status == "True") {
            // Pods listed before the condition: list again after seeing Ready.
            let after = worker_hashes(&client, &ns).await?;
            ensure!(
                after.is_disjoint(&old),
                "Ready while old-generation pods remain: {after:?} (old {old:?})"
            );
            ensure!(after.len() == 1, "one generation at the end: {after:?}");
            break;
        }
        ensure!(
            !hashes.is_empty() || std::time::Instant::now() < deadline,
            "no worker pods"
        );
        if std::time::Instant::now() > deadline {
            bail!("not Ready 180 s after the change: {ready:?}, pods {hashes:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The old components are gone, not just scaled down.
    let components = common::names(
        &client,
        &ns,
        dynamo_api::API_VERSION,
        "DynamoComponentDeployment",
    )
    .await?;
    ensure!(
        components.len() == 2,
        "frontend and the new worker only: {components:?}"
    );
    let graph = common::graph(&client, &ns, "roll").await?;
    let phase = graph
        .status
        .and_then(|s| s.rolling_update)
        .and_then(|r| r.phase);
    ensure!(
        phase == Some(dynamo_api::graph::RollingUpdatePhase::Completed),
        "rolling update phase {phase:?}"
    );
    Ok(())
}

/// Pod UIDs of the Deployment of each service.
async fn pod_uids(client: &Client, ns: &str) -> Result<Vec<(String, String)>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut out: Vec<(String, String)> = pods
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let service = p
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("nvidia.com/dynamo-component").cloned())
                .unwrap_or_default();
            (service, p.metadata.uid.unwrap_or_default())
        })
        .collect();
    out.sort();
    Ok(out)
}

async fn restart(strategy: &str) -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp
        .namespace(&format!("restart-{}", strategy.to_lowercase()))
        .await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, GRAPH).await?;
    common::wait_ready(&client, &ns, "roll", "True", None, Duration::from_secs(120)).await?;
    let before = pod_uids(&client, &ns).await?;

    let patch =
        serde_json::json!({"spec": {"restart": {"id": "r1", "strategy": {"type": strategy}}}});
    Api::<DynamoGraphDeployment>::namespaced(client.clone(), &ns)
        .patch("roll", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::<Vec<String>>::new()));
    common::wait_for("the restart to complete", Duration::from_secs(180), || {
        let client = client.clone();
        let ns = ns.clone();
        let seen = std::sync::Arc::clone(&seen);
        async move {
            let graph = common::graph(&client, &ns, "roll").await?;
            let restart = graph.status.and_then(|s| s.restart);
            if let Some(in_progress) = restart.as_ref().and_then(|r| r.in_progress.clone())
                && let Ok(mut seen) = seen.lock()
            {
                seen.insert(in_progress);
            }
            Ok(restart.filter(|r| {
                r.phase.as_deref() == Some("Completed") && r.observed_id.as_deref() == Some("r1")
            }))
        }
    })
    .await?;
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    if strategy == "Sequential" {
        ensure!(
            seen.iter().all(|s| s.len() <= 1),
            "one service at a time: {seen:?}"
        );
    }
    common::wait_ready(&client, &ns, "roll", "True", None, Duration::from_secs(60)).await?;
    let after = pod_uids(&client, &ns).await?;
    for (service, uid) in &before {
        ensure!(
            !after.iter().any(|(_, u)| u == uid),
            "pod of {service} was not replaced"
        );
    }
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    for deployment in deployments.list(&ListParams::default()).await?.items {
        let token = deployment
            .spec
            .template
            .metadata
            .and_then(|m| m.annotations)
            .and_then(|a| a.get("nvidia.com/restartAt").cloned());
        ensure!(
            token.as_deref() == Some("r1"),
            "{:?} carries {token:?}",
            deployment.metadata.name
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_sequential_restart_replaces_every_pod() -> Result<()> {
    restart("Sequential").await
}

#[tokio::test]
async fn a_parallel_restart_replaces_every_pod() -> Result<()> {
    restart("Parallel").await
}
