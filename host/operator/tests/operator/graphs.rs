//! Graphs on the Deployment pathway: what lands in the cluster is what `render` predicts, pods run
//! on the fake GPU nodes and the graph becomes Ready; hand edits are reverted; nothing is written
//! while nothing changes; deleting a graph removes everything it made.

use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_api::DynamoGraphDeployment;
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DeleteParams, Patch, PatchParams};

use crate::common::{self, Operator};

const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The anchors that fit the Deployment pathway (the multi-node ones need LWS or Grove).
const DEPLOYMENT_ANCHORS: [&str; 5] = [
    "vllm-agg",
    "vllm-disagg",
    "vllm-disagg_planner",
    "sglang-agg",
    "trtllm-agg",
];

#[tokio::test]
async fn anchors_land_as_rendered_and_become_ready() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let registry_for_render = common::registry(None);
    for anchor in DEPLOYMENT_ANCHORS {
        let (client, ns) = cp.namespace(&format!("anchor-{anchor}")).await?;
        let operator = Operator::start(cp, &ns, common::registry(None)).await?;
        let text = common::anchor(anchor);
        common::apply_yaml(&client, &ns, &text).await?;
        let mut graph = common::graph_in(&text)?;
        graph.metadata.namespace = Some(ns.clone());
        let name = graph.metadata.name.clone().unwrap_or_default();
        common::wait_ready(
            &client,
            &ns,
            &name,
            "True",
            Some("all_resources_are_ready"),
            READY_TIMEOUT,
        )
        .await
        .with_context(|| format!("anchor {anchor}"))?;

        // Every object render predicts is in the cluster, holding every rendered field.
        let rendered =
            dynamo_render::render(&graph, &common::render_config(), &registry_for_render)?;
        common::ensure_live_as_rendered(&client, &ns, &rendered, anchor).await?;
        // Pods run on the fake GPU nodes.
        let pods = common::dynamic_api(&client, &ns, "v1", "Pod")
            .list(&Default::default())
            .await?;
        ensure!(!pods.items.is_empty(), "{anchor}: no pods");
        for pod in &pods.items {
            let node = pod.data["spec"]["nodeName"].as_str().unwrap_or_default();
            ensure!(
                cp.node_names().iter().any(|n| n == node),
                "{anchor}: pod on {node:?}"
            );
        }
        operator.stop().await?;
        // Free the GPUs for the next anchor.
        Api::<DynamoGraphDeployment>::namespaced(client.clone(), &ns)
            .delete(&name, &DeleteParams::foreground())
            .await?;
    }
    Ok(())
}

const SMALL: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: small
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
"#;

#[tokio::test]
async fn hand_edits_are_reverted_and_foreign_fields_kept() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("hand-edit").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, SMALL).await?;
    common::wait_ready(&client, &ns, "small", "True", None, READY_TIMEOUT).await?;

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    // A person edits the image (a field the operator owns) and adds an annotation (not its own).
    let patch = serde_json::json!({
        "metadata": {"annotations": {"team.example.com/owner": "alice"}},
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "evil:1"}]}}}
    });
    deployments
        .patch(
            "small-frontend",
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await?;
    let restored = common::wait_for("the image to be restored", Duration::from_secs(60), || {
        let deployments = deployments.clone();
        async move {
            let d = deployments.get("small-frontend").await?;
            let image = d
                .spec
                .template
                .spec
                .as_ref()
                .and_then(|s| s.containers.iter().find(|c| c.name == "main"))
                .and_then(|c| c.image.clone());
            Ok((image.as_deref() == Some("registry.example.com/dynamo:1")).then_some(d))
        }
    })
    .await?;
    let annotations = restored.metadata.annotations.unwrap_or_default();
    ensure!(
        annotations
            .get("team.example.com/owner")
            .map(String::as_str)
            == Some("alice"),
        "the foreign annotation was removed: {annotations:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_unchanged_graph_costs_no_writes_even_after_a_restart() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("no-writes").await?;
    let operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, SMALL).await?;
    common::wait_ready(&client, &ns, "small", "True", None, READY_TIMEOUT).await?;
    // Let the last status and events settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let writes = |cp: &ControlPlane| -> Result<usize> {
        Ok(cp
            .audited_writes("dynamo-operator/")?
            .into_iter()
            .filter(|w| w.namespace == ns)
            .count())
    };
    let converged = writes(cp)?;
    ensure!(
        converged > 0,
        "the audit log shows no operator write at all"
    );
    let counted = operator.counters.total();
    ensure!(counted > 0, "the operator counted no write");

    // Something touches the graph without changing it: a reconcile runs, nothing is written.
    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
    graphs
        .patch(
            "small",
            &PatchParams::default(),
            &Patch::Merge(
                serde_json::json!({"metadata": {"annotations": {"example.com/touched": "1"}}}),
            ),
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_touch = writes(cp)?;
    ensure!(
        after_touch == converged,
        "a no-op reconcile wrote {} times",
        after_touch - converged
    );
    ensure!(
        operator.counters.total() == counted,
        "the operator's own count moved too"
    );

    // A restarted operator finds everything in place.
    operator.stop().await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after_restart = writes(cp)?;
    let written: Vec<String> = cp
        .audited_writes("dynamo-operator/")?
        .into_iter()
        .filter(|w| w.namespace == ns)
        .skip(converged)
        .map(|w| format!("{} {}/{} {}", w.verb, w.resource, w.name, w.subresource))
        .collect();
    ensure!(
        after_restart == converged,
        "a restart over an unchanged graph wrote {} times: {written:?}",
        after_restart - converged
    );
    eprintln!(
        "small graph: {converged} writes to converge, 0 on a no-op reconcile, 0 after a restart"
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_graph_leaves_nothing_behind() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("gc").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, SMALL).await?;
    common::wait_ready(&client, &ns, "small", "True", None, READY_TIMEOUT).await?;
    Api::<DynamoGraphDeployment>::namespaced(client.clone(), &ns)
        .delete("small", &DeleteParams::background())
        .await?;
    let kinds = [
        (dynamo_api::API_VERSION, "DynamoComponentDeployment"),
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("v1", "ServiceAccount"),
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("v1", "Pod"),
    ];
    common::wait_for(
        "every child to be garbage-collected",
        Duration::from_secs(90),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                for (api_version, kind) in kinds {
                    let left: Vec<String> = common::names(&client, &ns, api_version, kind)
                        .await?
                        .into_iter()
                        // The namespace's own default ServiceAccount is not the graph's.
                        .filter(|n| n != "default")
                        .collect();
                    if !left.is_empty() {
                        return Ok(None);
                    }
                }
                Ok(Some(()))
            }
        },
    )
    .await
}

const WITH_VOLUME_AND_INGRESS: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: extras
spec:
  pvcs:
  - { name: models, create: true, storageClass: fast, size: 1Gi, volumeAccessMode: ReadWriteOnce }
  services:
    Frontend:
      componentType: frontend
      ingress: { enabled: true, host: chat, ingressControllerClassName: nginx }
      extraPodSpec: { mainContainer: { image: "registry.example.com/dynamo:1" } }
    worker:
      componentType: worker
      resources: { limits: { gpu: "1" } }
      extraPodSpec:
        mainContainer:
          image: "registry.example.com/dynamo:1"
          command: [python3, -m, dynamo.vllm]
          args: [--model, m]
"#;

#[tokio::test]
async fn a_graph_gets_its_volume_and_ingress_and_rewrites_neither() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("extras").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, WITH_VOLUME_AND_INGRESS).await?;
    common::wait_ready(&client, &ns, "extras", "True", None, READY_TIMEOUT).await?;

    let claims = common::names(&client, &ns, "v1", "PersistentVolumeClaim").await?;
    ensure!(claims == ["models"], "claims: {claims:?}");
    let ingresses = common::names(&client, &ns, "networking.k8s.io/v1", "Ingress").await?;
    ensure!(ingresses.len() == 1, "ingresses: {ingresses:?}");

    // Neither is written again by a reconcile that changes nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let writes = |cp: &ControlPlane| -> Result<usize> {
        Ok(cp
            .audited_writes("dynamo-operator/")?
            .into_iter()
            .filter(|w| {
                w.namespace == ns
                    && (w.resource == "persistentvolumeclaims" || w.resource == "ingresses")
            })
            .count())
    };
    let settled = writes(cp)?;
    ensure!(
        settled == 2,
        "{settled} writes to create the claim and the ingress"
    );
    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
    graphs
        .patch(
            "extras",
            &PatchParams::default(),
            &Patch::Merge(
                serde_json::json!({"metadata": {"annotations": {"example.com/touched": "1"}}}),
            ),
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = writes(cp)?;
    ensure!(
        after == settled,
        "{} rewrites after a no-op change",
        after - settled
    );
    Ok(())
}

#[tokio::test]
async fn a_gpu_memory_service_graph_gets_its_claim_template_once() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("gms").await?;
    let _operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&client, &ns, &common::anchor("vllm-agg_gms")).await?;
    let templates =
        common::dynamic_api(&client, &ns, "resource.k8s.io/v1", "ResourceClaimTemplate");
    let template = common::wait_for("the worker's ResourceClaimTemplate", READY_TIMEOUT, || {
        let templates = templates.clone();
        async move { Ok(templates.get_opt("vllm-agg-gms-vllmworker-gpu").await?) }
    })
    .await?;
    let request = &template.data["spec"]["spec"]["devices"]["requests"][0];
    ensure!(
        request["exactly"]["count"] == 1
            && request["exactly"]["deviceClassName"] == "gpu.nvidia.com",
        "claim template request: {request}"
    );
    let owners = template
        .metadata
        .owner_references
        .clone()
        .unwrap_or_default();
    ensure!(
        owners
            .iter()
            .any(|o| o.kind == "DynamoGraphDeployment" && o.name == "vllm-agg-gms"),
        "owned by the graph: {owners:?}"
    );

    // Its spec is immutable: created once, never written again.
    let writes = |cp: &ControlPlane| -> Result<usize> {
        Ok(cp
            .audited_writes("dynamo-operator/")?
            .into_iter()
            .filter(|w| w.namespace == ns && w.resource == "resourceclaimtemplates")
            .count())
    };
    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
    graphs
        .patch(
            "vllm-agg-gms",
            &PatchParams::default(),
            &Patch::Merge(
                serde_json::json!({"metadata": {"annotations": {"example.com/touched": "1"}}}),
            ),
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(
        writes(cp)? == 1,
        "{} writes to the claim template",
        writes(cp)?
    );
    Ok(())
}
