//! Scaling through a DynamoGraphDeploymentScalingAdapter: the `/scale` subresource (what an HPA
//! writes) and `kubectl scale` change the service's replicas; the adapter reports a selector for
//! the service's pods.

use std::time::Duration;

use anyhow::{Result, ensure};
use dynamo_api::DynamoGraphDeploymentScalingAdapter;
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams};

use crate::common::{self, Operator};

const ADAPTED: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: scaled
spec:
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: "registry.example.com/dynamo:1" } }
    worker:
      componentType: worker
      replicas: 1
      scalingAdapter: { enabled: true }
      resources: { limits: { gpu: "1" } }
      extraPodSpec:
        mainContainer:
          image: "registry.example.com/dynamo:1"
          command: [python3, -m, dynamo.vllm]
          args: [--model, m]
"#;

async fn worker_replicas(deployments: &Api<Deployment>) -> Result<Option<(i32, i32)>> {
    let list = deployments
        .list(&ListParams::default().labels("nvidia.com/dynamo-component=worker"))
        .await?;
    Ok(list.items.first().map(|d| {
        (
            d.spec.replicas.unwrap_or(0),
            d.status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0),
        )
    }))
}

#[tokio::test]
async fn the_adapter_owns_the_replicas() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("scaling").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, ADAPTED).await?;
    common::wait_ready(
        &client,
        &ns,
        "scaled",
        "True",
        None,
        Duration::from_secs(120),
    )
    .await?;

    let adapters: Api<DynamoGraphDeploymentScalingAdapter> = Api::namespaced(client.clone(), &ns);
    let adapter =
        common::wait_for(
            "the adapter and its status",
            Duration::from_secs(60),
            || {
                let adapters = adapters.clone();
                async move {
                    let adapter = adapters.get_opt("scaled-worker").await?;
                    Ok(adapter
                        .filter(|a| a.status.as_ref().and_then(|s| s.selector.clone()).is_some()))
                }
            },
        )
        .await?;
    let selector = adapter.status.and_then(|s| s.selector).unwrap_or_default();
    ensure!(
        adapter.spec.replicas == 1,
        "created with the service's replicas"
    );
    // The selector finds the worker's pods, as an HPA would look them up.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let found = pods.list(&ListParams::default().labels(&selector)).await?;
    ensure!(
        found.items.len() == 1,
        "selector {selector} found {} pods",
        found.items.len()
    );

    // An HPA writes the scale subresource.
    adapters
        .patch_scale(
            "scaled-worker",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 2}})),
        )
        .await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    common::wait_for("two ready workers", Duration::from_secs(90), || {
        let deployments = deployments.clone();
        async move {
            Ok(worker_replicas(&deployments)
                .await?
                .filter(|r| *r == (2, 2)))
        }
    })
    .await?;
    let graph = common::graph(&client, &ns, "scaled").await?;
    let replicas = graph.component("worker").and_then(|w| w.replicas);
    ensure!(replicas == Some(2), "the graph now says {replicas:?}");

    // kubectl scale, as a person would.
    let out = cp
        .kubectl()?
        .args(["scale", "dgdsa/scaled-worker", "--replicas", "1", "-n", &ns])
        .output()?;
    ensure!(
        out.status.success(),
        "kubectl scale: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::wait_for("one worker again", Duration::from_secs(90), || {
        let deployments = deployments.clone();
        async move { Ok(worker_replicas(&deployments).await?.filter(|r| r.0 == 1)) }
    })
    .await?;
    common::wait_ready(
        &client,
        &ns,
        "scaled",
        "True",
        None,
        Duration::from_secs(90),
    )
    .await?;
    Ok(())
}
