//! Components on their own: a DynamoComponentDeployment applied by hand runs like one a graph
//! made, the model Services two graphs share survive until the last graph goes, and a frontend's
//! Istio VirtualService (a kind no cache watches) is not rewritten when unchanged.

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
                .and_then(|s| s.conditions)
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

/// A namespaced stand-in for Istio's VirtualService CRD: any spec.
const VIRTUAL_SERVICE_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: virtualservices.networking.istio.io
spec:
  group: networking.istio.io
  scope: Namespaced
  names: { plural: virtualservices, singular: virtualservice, kind: VirtualService }
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

const FRONTEND_WITH_VIRTUAL_SERVICE: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoComponentDeployment
metadata:
  name: front
spec:
  backendFramework: vllm
  componentType: frontend
  replicas: 1
  ingress:
    enabled: true
    host: front
    useVirtualService: true
    virtualServiceGateway: istio-system/gw
  extraPodSpec:
    mainContainer:
      image: "registry.example.com/dynamo:1"
"#;

#[tokio::test]
async fn an_unchanged_virtual_service_is_not_rewritten() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("istio").await?;
    install_crd(&client, VIRTUAL_SERVICE_CRD).await?;
    let mut config = common::render_config();
    config.operator.ingress.virtual_service_gateway = Some("istio-system/gw".to_owned());
    let operator = Operator::start_with(cp, &ns, common::registry(None), config.clone()).await?;
    common::apply_yaml(&client, &ns, FRONTEND_WITH_VIRTUAL_SERVICE).await?;

    let virtual_services = common::dynamic_api(
        &client,
        &ns,
        "networking.istio.io/v1beta1",
        "VirtualService",
    );
    common::wait_for("the VirtualService", TIMEOUT, || {
        let api = virtual_services.clone();
        async move { Ok(api.get_opt("front").await?.map(|_| ())) }
    })
    .await?;
    let writes = |cp: &ControlPlane| -> Result<usize> {
        Ok(cp
            .audited_writes("dynamo-operator/")?
            .into_iter()
            .filter(|w| w.namespace == ns && w.resource == "virtualservices")
            .count())
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let written = writes(cp)?;
    ensure!(written == 1, "{written} VirtualService writes to create it");

    // A new operator has no memory of its writes: only reading the live object keeps it from
    // applying again.
    operator.stop().await?;
    let _operator = Operator::start_with(cp, &ns, common::registry(None), config).await?;
    let components: Api<DynamoComponentDeployment> = Api::namespaced(client.clone(), &ns);
    common::wait_for("the restarted operator to reconcile", TIMEOUT, || {
        let components = components.clone();
        async move {
            let dcd = components.get("front").await?;
            Ok(dcd.status.is_some().then_some(()))
        }
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = writes(cp)?;
    ensure!(
        after == written,
        "the restarted operator rewrote the unchanged VirtualService {} times",
        after - written
    );
    Ok(())
}

/// Installs `crd` (idempotent: the shared control plane outlives a test) and waits until served.
async fn install_crd(client: &kube::Client, crd: &str) -> Result<()> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Patch, PatchParams};
    let crd: CustomResourceDefinition = serde_yaml_ng::from_str(crd)?;
    let name = crd.metadata.name.clone().unwrap_or_default();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        &name,
        &PatchParams::apply("operator-tests").force(),
        &Patch::Apply(&crd),
    )
    .await?;
    common::wait_for("the CRD to be established", TIMEOUT, || {
        let crds = crds.clone();
        let name = name.clone();
        async move {
            let established = crds
                .get(&name)
                .await?
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            Ok(established.then_some(()))
        }
    })
    .await
}
