//! Components on their own: a DynamoComponentDeployment applied by hand runs like one a graph
//! made, and the model Services two graphs share survive until the last graph goes.

use std::time::Duration;

use anyhow::{Result, ensure};
use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment};
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams};

use crate::common::{self, Operator};

const TIMEOUT: Duration = Duration::from_secs(120);

const HAND_MADE: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoComponentDeployment
metadata:
  name: solo
spec:
  backendFramework: vllm
  componentType: worker
  replicas: 1
  resources: { limits: { gpu: "1" } }
  extraPodSpec:
    mainContainer:
      image: "registry.example.com/dynamo:1"
      command: [python3, -m, dynamo.vllm]
      args: [--model, m]
"#;

#[tokio::test]
async fn a_component_applied_by_hand_runs_and_is_cleaned_up() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("solo").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, HAND_MADE).await?;

    let components: Api<DynamoComponentDeployment> = Api::namespaced(client.clone(), &ns);
    common::wait_for("the component to be Available", TIMEOUT, || {
        let components = components.clone();
        async move {
            let dcd = components.get("solo").await?;
            let available = dcd
                .status
                .map(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .any(|c| c.type_ == "Available" && c.status == "True");
            Ok(available.then_some(()))
        }
    })
    .await?;
    // Named after the component; the discovery identity its graph would have made is there,
    // owned by the component.
    let deployments = common::names(&client, &ns, "apps/v1", "Deployment").await?;
    ensure!(deployments == ["solo"], "deployments: {deployments:?}");
    let services = common::names(&client, &ns, "v1", "Service").await?;
    ensure!(services == ["solo"], "services: {services:?}");
    let accounts = common::names(&client, &ns, "v1", "ServiceAccount").await?;
    ensure!(
        accounts.iter().any(|a| a == "solo-k8s-service-discovery"),
        "service accounts: {accounts:?}"
    );

    components
        .delete("solo", &DeleteParams::background())
        .await?;
    common::wait_for(
        "the component's objects to be collected",
        Duration::from_secs(90),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let left = [
                    common::names(&client, &ns, "apps/v1", "Deployment").await?,
                    common::names(&client, &ns, "v1", "Service").await?,
                    common::names(&client, &ns, "rbac.authorization.k8s.io/v1", "Role").await?,
                ];
                Ok(left.iter().all(Vec::is_empty).then_some(()))
            }
        },
    )
    .await
}

/// A small graph serving model `Qwen/Qwen3-0.6B`, named `name`.
fn serving(name: &str) -> String {
    format!(
        r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: {name}
spec:
  backendFramework: vllm
  services:
    worker:
      componentType: worker
      modelRef: {{ name: Qwen/Qwen3-0.6B }}
      resources: {{ limits: {{ gpu: "1" }} }}
      extraPodSpec:
        mainContainer:
          image: "registry.example.com/dynamo:1"
          command: [python3, -m, dynamo.vllm]
          args: [--model, Qwen/Qwen3-0.6B]
"#
    )
}

/// The model Services of `ns` with how many owners each has.
async fn model_services(client: &kube::Client, ns: &str) -> Result<Vec<(String, usize)>> {
    let services: Api<Service> = Api::namespaced(client.clone(), ns);
    Ok(services
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter_map(|s| {
            let name = s.metadata.name?;
            let owners = s.metadata.owner_references.map_or(0, |o| o.len());
            name.starts_with("dynamo-model-").then_some((name, owners))
        })
        .collect())
}

#[tokio::test]
async fn a_model_service_lives_as_long_as_a_graph_serves_the_model() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("shared-model").await?;
    let operator = Operator::start(cp, &ns, common::registry(None)).await?;
    for graph in ["first", "second"] {
        common::apply_yaml(&client, &ns, &serving(graph)).await?;
    }
    for graph in ["first", "second"] {
        common::wait_ready(&client, &ns, graph, "True", None, TIMEOUT).await?;
    }
    let shared = common::wait_for("one model Service with both owners", TIMEOUT, || {
        let client = client.clone();
        let ns = ns.clone();
        async move {
            let services = model_services(&client, &ns).await?;
            Ok((services.len() == 1 && services[0].1 == 2).then(|| services[0].0.clone()))
        }
    })
    .await?;

    // The two owners apply the same Service: they do not take turns rewriting it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let writes_to_shared = |cp: &ControlPlane| -> Result<usize> {
        Ok(cp
            .audited_writes("dynamo-operator/")?
            .into_iter()
            .filter(|w| w.namespace == ns && w.name == shared)
            .count())
    };
    let settled = writes_to_shared(cp)?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let later = writes_to_shared(cp)?;
    ensure!(
        later == settled,
        "the shared Service was rewritten {} times while nothing changed",
        later - settled
    );
    // A restarted operator (which remembers no recent write) reconciles both owners: still no
    // write, since both apply the very same Service.
    operator.stop().await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after_restart = writes_to_shared(cp)?;
    ensure!(
        after_restart == settled,
        "the owners rewrote the shared Service {} times after a restart",
        after_restart - settled
    );

    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
    graphs.delete("first", &DeleteParams::background()).await?;
    common::wait_for(
        "the model Service to keep only the second graph's owner",
        Duration::from_secs(90),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let services = model_services(&client, &ns).await?;
                let first_gone = graphs_left(&client, &ns).await? == ["second"];
                Ok((first_gone && services.len() == 1 && services[0].1 == 1).then_some(()))
            }
        },
    )
    .await?;
    // Still there while the second graph serves the model.
    tokio::time::sleep(Duration::from_secs(2)).await;
    ensure!(
        model_services(&client, &ns).await?.len() == 1,
        "the model Service went with the first graph"
    );

    graphs.delete("second", &DeleteParams::background()).await?;
    common::wait_for(
        "the model Service to go with the last graph",
        Duration::from_secs(90),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move { Ok(model_services(&client, &ns).await?.is_empty().then_some(())) }
        },
    )
    .await
}

async fn graphs_left(client: &kube::Client, ns: &str) -> Result<Vec<String>> {
    common::names(client, ns, dynamo_api::API_VERSION, "DynamoGraphDeployment").await
}
