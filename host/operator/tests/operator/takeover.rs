//! Taking over graphs Dynamo's operator deployed: the objects of `go-output/` are created as
//! Dynamo's operator left them (its finalizers, its worker hash, its field manager, pods
//! running), then our operator starts. No pod template, name or selector may change and no pod
//! may be replaced; a later spec change rolls out as usual, and the finalizers Dynamo's operator
//! would have removed do not block anything.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt as _};
use serde_json::{Value, json};

use crate::common::{self, Operator};

const GRAPH: &str = "vllm-agg";
/// What Dynamo's defaulting webhook stamps on a new graph.
const ORIGIN_VERSION: &str = "1.1.0";

/// `value` with every string naming the `default` namespace (or the Dynamo namespace derived
/// from it) moved to `namespace`, as if Dynamo's operator had deployed the graph there.
fn moved(value: &mut Value, namespace: &str) {
    match value {
        Value::String(s) if s == "default" => *s = namespace.to_owned(),
        Value::String(s) if s.starts_with("default-") && s.contains(GRAPH) => {
            *s = format!("{namespace}-{}", &s["default-".len()..]);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| moved(v, namespace)),
        Value::Object(map) => map.values_mut().for_each(|v| moved(v, namespace)),
        _ => {}
    }
}

/// The objects Dynamo's operator created for `vllm-agg` on the Deployment pathway.
fn dynamo_objects(namespace: &str) -> Result<Vec<Value>> {
    let path = dynamo_fixtures::go_output_dir().join(format!("{GRAPH}.deployment.yaml"));
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut objects = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let mut value: Value = serde::Deserialize::deserialize(document)?;
        if value.is_null() {
            continue;
        }
        moved(&mut value, namespace);
        let map = value.as_object_mut().context("an object")?;
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        objects.push(value);
    }
    Ok(objects)
}

/// Creates `object` (a plain create, as Dynamo's operator does) with owner uids resolved.
async fn create(
    client: &Client,
    ns: &str,
    mut object: Value,
    uids: &BTreeMap<String, String>,
) -> Result<String> {
    if let Some(owners) = object["metadata"]["ownerReferences"].as_array_mut() {
        for owner in owners {
            let key = format!(
                "{}/{}",
                owner["kind"].as_str().unwrap_or_default(),
                owner["name"].as_str().unwrap_or_default()
            );
            owner["uid"] = json!(
                uids.get(&key)
                    .with_context(|| format!("owner {key} first"))?
            );
        }
    }
    let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
    let kind = object["kind"].as_str().unwrap_or_default().to_owned();
    let api = common::dynamic_api(client, ns, &api_version, &kind);
    let object: DynamicObject = serde_json::from_value(object)?;
    let created = api
        .create(
            &PostParams {
                field_manager: Some("manager".to_owned()),
                ..PostParams::default()
            },
            &object,
        )
        .await
        .with_context(|| format!("creating {kind} {}", object.name_any()))?;
    Ok(created.uid().unwrap_or_default())
}

/// Name → (rollout revision, spec) of the namespace's Deployments, every field of the spec
/// included. (Not the generation: Deployments bump it on annotation changes too, which replace
/// no pod; a new pod template is a new revision.)
async fn deployments(client: &Client, ns: &str) -> Result<BTreeMap<String, (String, Value)>> {
    let list = common::dynamic_api(client, ns, "apps/v1", "Deployment")
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .into_iter()
        .map(|d| {
            let revision = d
                .annotations()
                .get("deployment.kubernetes.io/revision")
                .cloned()
                .unwrap_or_default();
            (d.name_any(), (revision, d.data["spec"].clone()))
        })
        .collect())
}

/// Uids of the namespace's pods that are Ready and not terminating.
async fn ready_pods(client: &Client, ns: &str) -> Result<Vec<String>> {
    let list = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await?;
    let mut uids: Vec<String> = list
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .map(|p| p.uid().unwrap_or_default())
        .collect();
    uids.sort();
    Ok(uids)
}

#[tokio::test]
async fn a_graph_deployed_by_dynamos_operator_is_taken_over_without_restarting_a_pod() -> Result<()>
{
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("takeover").await?;

    // The graph as Dynamo's webhook and controller left it: defaulted, hashed, finalized.
    let mut graph: Value = serde_yaml_ng::from_str(&common::anchor(GRAPH))?;
    let objects = dynamo_objects(&ns)?;
    let hash = objects
        .iter()
        .find_map(|o| o["metadata"]["labels"]["nvidia.com/dynamo-worker-hash"].as_str())
        .context("a worker hash in the reference objects")?
        .to_owned();
    graph["metadata"]["namespace"] = json!(ns);
    graph["metadata"]["finalizers"] = json!(["nvidia.com/finalizer"]);
    graph["metadata"]["annotations"] = json!({
        "nvidia.com/dynamo-operator-origin-version": ORIGIN_VERSION,
        "nvidia.com/current-worker-hash": hash,
    });
    for service in graph["spec"]["services"]
        .as_object_mut()
        .context("services")?
        .values_mut()
    {
        service["replicas"] = json!(1);
    }
    let mut uids = BTreeMap::new();
    uids.insert(
        format!("DynamoGraphDeployment/{GRAPH}"),
        create(&client, &ns, graph, &uids).await?,
    );
    // Owners before what they own.
    let order = [
        "DynamoComponentDeployment",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Service",
        "Deployment",
    ];
    for kind in order {
        for object in objects.iter().filter(|o| o["kind"] == kind) {
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let uid = create(&client, &ns, object.clone(), &uids).await?;
            uids.insert(format!("{kind}/{name}"), uid);
        }
    }
    let expected_pods = objects.iter().filter(|o| o["kind"] == "Deployment").count();
    let before_pods = common::wait_for(
        "the pods Dynamo's Deployments run to be Ready",
        Duration::from_secs(120),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let pods = ready_pods(&client, &ns).await?;
                Ok((pods.len() == expected_pods).then_some(pods))
            }
        },
    )
    .await?;
    let before = deployments(&client, &ns).await?;

    // Our operator takes over.
    let operator = Operator::start(cp, &ns, common::registry(None)).await?;
    common::wait_ready(&client, &ns, GRAPH, "True", None, Duration::from_secs(120)).await?;
    let graphs = common::dynamic_api(&client, &ns, "nvidia.com/v1alpha1", "DynamoGraphDeployment");
    common::wait_for(
        "the adopted hash to be recorded",
        Duration::from_secs(30),
        || {
            let graphs = graphs.clone();
            async move {
                let graph = graphs.get(GRAPH).await?;
                Ok(graph
                    .annotations()
                    .contains_key("nvidia.com/adopted-worker-spec-hash")
                    .then_some(()))
            }
        },
    )
    .await?;
    // Give a wrongly started rollout time to show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = deployments(&client, &ns).await?;
    ensure!(
        before.keys().collect::<Vec<_>>() == after.keys().collect::<Vec<_>>(),
        "Deployments changed: {:?} → {:?}",
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, (revision, spec)) in &before {
        let (now_revision, now_spec) = &after[name];
        ensure!(
            spec == now_spec && revision == now_revision,
            "Deployment {name}: the spec changed on takeover (revision {revision} → \
             {now_revision}):\nbefore {spec}\nafter  {now_spec}"
        );
    }
    ensure!(
        ready_pods(&client, &ns).await? == before_pods,
        "pods were replaced on takeover"
    );
    let components = common::dynamic_api(
        &client,
        &ns,
        "nvidia.com/v1alpha1",
        "DynamoComponentDeployment",
    );
    for component in components.list(&ListParams::default()).await?.items {
        ensure!(
            component.finalizers().is_empty(),
            "{} keeps Dynamo's finalizer: {:?}",
            component.name_any(),
            component.finalizers()
        );
    }

    // A spec change rolls out under our own hash; the old components go, finalizers and all.
    let patch = json!({"spec": {"services": {"VllmDecodeWorker": {"extraPodSpec": {"mainContainer": {"image": "registry.example.com/vllm:2"}}}}}});
    graphs
        .patch(GRAPH, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    let old = format!("{GRAPH}-vllmdecodeworker-{hash}");
    common::wait_for(
        "the old worker Deployment to go",
        Duration::from_secs(180),
        || {
            let client = client.clone();
            let ns = ns.clone();
            let old = old.clone();
            async move {
                let now = deployments(&client, &ns).await?;
                let new_worker = now
                    .keys()
                    .any(|n| n.starts_with(&format!("{GRAPH}-vllmdecodeworker-")) && *n != old);
                Ok((!now.contains_key(&old) && new_worker).then_some(()))
            }
        },
    )
    .await?;
    common::wait_ready(&client, &ns, GRAPH, "True", None, Duration::from_secs(120)).await?;
    ensure!(
        !components
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .any(|c| c.name_any() == old),
        "the old component {old} is still there"
    );
    // The graph records the hash it runs now, as Dynamo's operator would after a rollout.
    let recorded = common::wait_for(
        "the new worker hash to be recorded",
        Duration::from_secs(30),
        || {
            let graphs = graphs.clone();
            let hash = hash.clone();
            async move {
                let graph = graphs.get(GRAPH).await?;
                let now = graph
                    .annotations()
                    .get("nvidia.com/current-worker-hash")
                    .cloned();
                Ok(now.filter(|h| *h != hash))
            }
        },
    )
    .await?;
    ensure!(
        deployments(&client, &ns)
            .await?
            .contains_key(&format!("{GRAPH}-vllmdecodeworker-{recorded}")),
        "the recorded hash {recorded} names no worker Deployment"
    );

    // Deleting the graph is not blocked by Dynamo's finalizer.
    graphs.delete(GRAPH, &Default::default()).await?;
    common::wait_for("the graph to be deleted", Duration::from_secs(60), || {
        let graphs = graphs.clone();
        async move { Ok(graphs.get_opt(GRAPH).await?.is_none().then_some(())) }
    })
    .await?;
    operator.stop().await
}
