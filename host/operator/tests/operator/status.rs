//! Truthful status: a graph asking for more GPUs than any node has says
//! `insufficient_capacity` and names the resource; a plugin that fails for one graph gives that
//! graph `plugin_error` while another graph of the same operator becomes Ready.

use std::time::Duration;

use anyhow::{Result, ensure};
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};

use crate::common::{self, Operator};

const GREEDY: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: greedy
spec:
  services:
    worker:
      componentType: worker
      resources: { limits: { gpu: "64" } }
      extraPodSpec:
        mainContainer:
          image: "registry.example.com/dynamo:1"
          command: [python3, -m, dynamo.vllm]
          args: [--model, m]
"#;

#[tokio::test]
async fn more_gpus_than_a_node_has_is_insufficient_capacity() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("capacity").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, GREEDY).await?;
    let waited = common::wait_ready(
        &client,
        &ns,
        "greedy",
        "False",
        Some("insufficient_capacity"),
        Duration::from_secs(90),
    )
    .await;
    if waited.is_err() {
        let out = cp
            .kubectl()?
            .args(["get", "dgd,dcd,deploy,pods", "-o", "yaml", "-n", &ns])
            .output()?;
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    }
    let condition = waited?;
    ensure!(
        condition.message.contains("nvidia.com/gpu"),
        "{}",
        condition.message
    );
    ensure!(
        condition.message.contains("worker"),
        "names the service: {}",
        condition.message
    );
    // One event for the transition.
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let found = common::wait_for(
        "an InsufficientCapacity event",
        Duration::from_secs(30),
        || {
            let events = events.clone();
            async move {
                let list = events.list(&ListParams::default()).await?;
                Ok(list.items.into_iter().find(|e| {
                    e.reason.as_deref() == Some("InsufficientCapacity")
                        && e.involved_object.name.as_deref() == Some("greedy")
                }))
            }
        },
    )
    .await?;
    ensure!(
        found
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("insufficient_capacity"),
        "{:?}",
        found.message
    );
    Ok(())
}

const HOSTILE: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: broken
spec:
  services:
    trap:
      componentType: worker
      annotations: { nvidia.com/backend-framework: hostile }
      extraPodSpec: { mainContainer: { image: "registry.example.com/dynamo:1", command: [run] } }
"#;

const FINE: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: fine
spec:
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: "registry.example.com/dynamo:1" } }
"#;

#[tokio::test]
async fn a_failing_plugin_fails_only_its_graph() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("plugin-error").await?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("hostile.wasm"),
        dynamo_plugin_test_fixtures::hostile(),
    )?;
    let _operator = Operator::start(cp, &ns, common::registry(Some(dir.path()))).await?;
    common::apply_yaml(&client, &ns, HOSTILE).await?;
    common::apply_yaml(&client, &ns, FINE).await?;
    let condition = common::wait_ready(
        &client,
        &ns,
        "broken",
        "False",
        Some("plugin_error"),
        Duration::from_secs(60),
    )
    .await?;
    ensure!(
        condition.message.contains("panics on purpose"),
        "the plugin's own message: {}",
        condition.message
    );
    ensure!(
        condition.message.contains("hostile"),
        "names the plugin: {}",
        condition.message
    );
    common::wait_ready(&client, &ns, "fine", "True", None, Duration::from_secs(90)).await?;
    let graph = common::graph(&client, &ns, "broken").await?;
    ensure!(
        graph.status.map(|s| s.state) == Some(dynamo_api::graph::DeploymentState::Failed),
        "state failed"
    );
    // Nothing of the broken graph was applied.
    let components = common::names(
        &client,
        &ns,
        dynamo_api::API_VERSION,
        "DynamoComponentDeployment",
    )
    .await?;
    ensure!(
        components.iter().all(|c| !c.starts_with("broken")),
        "{components:?}"
    );
    Ok(())
}
