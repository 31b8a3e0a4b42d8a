//! A plain engine on the cluster: a worker whose plugin declares an engine that is not a Dynamo
//! runtime keeps its component, Deployment and Service names across updates and rolls its pods
//! in place, while the graph's Dynamo workers keep their generation.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Result, ensure};
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::Client;
use kube::api::{Api, ListParams};

#[path = "../support/example_plugin.rs"]
mod example_plugin;

use crate::common::{self, Operator};
use crate::rollout::worker_hashes;

const GRAPH: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: plain
spec:
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: "registry.example.com/dynamo:1" } }
    worker:
      componentType: worker
      resources: { limits: { gpu: "1" } }
      extraPodSpec:
        mainContainer:
          image: "registry.example.com/dynamo:1"
          command: [python3, -m, dynamo.vllm]
          args: [--model, m]
    llama:
      componentType: worker
      replicas: 2
      annotations: { nvidia.com/backend-framework: llamacpp }
      resources: { limits: { gpu: "1" } }
      sharedMemory: { disabled: true }
      extraPodSpec:
        mainContainer:
          image: "ghcr.io/ggml-org/llama.cpp:server-cuda-1"
          command: [/app/llama-server]
          args: [--hf-repo, "Qwen/Qwen2.5-0.5B-Instruct-GGUF:q4_k_m"]
"#;

/// Images of the running (not terminating) pods of component `service`.
async fn images(client: &Client, ns: &str, service: &str) -> Result<BTreeSet<String>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods
        .list(&ListParams::default().labels(&format!("nvidia.com/dynamo-component={service}")))
        .await?;
    Ok(list
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .flat_map(|p| p.spec.iter().flat_map(|s| s.containers.iter()))
        .filter(|c| c.name == "main")
        .filter_map(|c| c.image.clone())
        .collect())
}

#[tokio::test]
async fn a_plain_engine_rolls_in_place_under_stable_names() -> Result<()> {
    let plugins = example_plugin::plugin_dir();
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("plain-engine").await?;
    let _operator = Operator::start(cp, &ns, common::registry(Some(plugins.path()))).await?;
    common::apply_yaml(&client, &ns, GRAPH).await?;
    common::wait_ready(
        &client,
        &ns,
        "plain",
        "True",
        None,
        Duration::from_secs(120),
    )
    .await?;

    let components = || {
        common::names(
            &client,
            &ns,
            dynamo_api::API_VERSION,
            "DynamoComponentDeployment",
        )
    };
    let before = components().await?;
    ensure!(
        before.contains(&"plain-llama".to_owned()),
        "the plain engine's component carries no worker hash: {before:?}"
    );
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    let service = services.get("plain-llama").await?;
    let ports: Vec<(Option<String>, i32)> = service
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .map(|p| (p.name.clone(), p.port))
        .collect();
    ensure!(
        ports == [(Some("http".to_owned()), 8080)],
        "the Service serves the declared port: {ports:?}"
    );
    let dynamo_generation = worker_hashes(&client, &ns).await?;
    ensure!(
        dynamo_generation.len() == 1,
        "one Dynamo worker generation: {dynamo_generation:?}"
    );

    // A new engine image: the plain engine's Deployment rolls its own pods.
    let patch = serde_json::json!({"spec": {"services": {"llama": {"extraPodSpec": {"mainContainer": {"image": "ghcr.io/ggml-org/llama.cpp:server-cuda-2"}}}}}});
    common::patch_alpha_graph(&client, &ns, "plain", &patch).await?;
    common::wait_for(
        "the plain engine's pods to run the new image",
        Duration::from_secs(120),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let running = images(&client, &ns, "llama").await?;
                let deployment = Api::<Deployment>::namespaced(client.clone(), &ns)
                    .get("plain-llama")
                    .await?;
                let rolled = deployment.status.as_ref().is_some_and(|s| {
                    s.updated_replicas == Some(2)
                        && s.ready_replicas == Some(2)
                        && s.replicas == Some(2)
                        && s.observed_generation == deployment.metadata.generation
                });
                Ok((rolled
                    && running
                        == BTreeSet::from(["ghcr.io/ggml-org/llama.cpp:server-cuda-2".to_owned()]))
                .then_some(()))
            }
        },
    )
    .await?;
    common::wait_ready(&client, &ns, "plain", "True", None, Duration::from_secs(60)).await?;

    ensure!(
        components().await? == before,
        "no component was renamed or replaced"
    );
    let after = services.get("plain-llama").await?;
    ensure!(
        after.metadata.uid == service.metadata.uid,
        "the Service is the same object, so its address never went away"
    );
    ensure!(
        worker_hashes(&client, &ns).await? == dynamo_generation,
        "the Dynamo workers kept their generation"
    );
    Ok(())
}
