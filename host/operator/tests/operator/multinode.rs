//! Multi-node graphs on a control plane of their own: the real LeaderWorkerSet controller (LWS
//! pathway; Volcano's PodGroup CRD is served too, as on a cluster that ran an earlier version, whose
//! PodGroups the operator removes), Grove's CRDs with Grove's part played by the test (Grove
//! pathway), the KAI scheduler's Queue CRD, and an LWS installed after the operator started.
//!
//! The plane has more GPU nodes than the shared one (the three multi-node anchors alone ask for
//! 36 GPUs), and keeps the optional CRDs away from the tests that pin the Deployment pathway.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_api::{DynamoGraphDeployment, DynamoGraphDeploymentScalingAdapter};
use dynamo_test_harness::{ControlPlane, FakeNodes, LeaderWorkerSetController, Mode};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::common::{self, Operator};

const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// The multi-node anchors.
const MULTINODE_ANCHORS: [&str; 3] = [
    "vllm-disagg-multinode",
    "sglang-disagg-multinode",
    "trtllm-disagg-multinode",
];

/// Which optional APIs an operator under test follows; the others are pinned off.
enum Pathway {
    /// LeaderWorkerSet follows the cluster; Grove and KAI off.
    Lws,
    /// Grove follows the cluster; LeaderWorkerSet and KAI off.
    Grove,
    /// KAI follows the cluster; the Deployment pathway.
    Kai,
}

/// An operator on `ns` following the cluster for `pathway` only.
async fn operator(cp: &ControlPlane, ns: &str, pathway: Pathway) -> Result<Operator> {
    let config = match pathway {
        Pathway::Lws => common::orchestrators(Some(false), None, Some(false)),
        Pathway::Grove => common::orchestrators(None, Some(false), Some(false)),
        Pathway::Kai => common::orchestrators(Some(false), Some(false), None),
    };
    Operator::start_with(cp, ns, common::registry(None), config).await
}

/// Writes `replicas` to adapter `name`'s scale subresource, as an HPA would.
async fn scale(
    adapters: &Api<DynamoGraphDeploymentScalingAdapter>,
    name: &str,
    replicas: i64,
) -> Result<()> {
    adapters
        .patch_scale(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": replicas}})),
        )
        .await?;
    Ok(())
}

/// Waits until service `service` runs `count` LeaderWorkerSet groups.
async fn wait_groups(client: &Client, ns: &str, service: &str, count: usize) -> Result<()> {
    common::wait_for(
        &format!("{count} {service} group(s)"),
        Duration::from_secs(60),
        || async move {
            Ok(Some(groups_of(client, ns, service).await?).filter(|g| g.len() == count))
        },
    )
    .await
    .map(|_| ())
}

/// The plane the multi-node tests share, with the LWS controller running.
struct Plane {
    cp: &'static ControlPlane,
    _lws: LeaderWorkerSetController<'static>,
}

static PLANE: OnceCell<std::result::Result<Plane, String>> = OnceCell::const_new();

async fn plane() -> Result<&'static Plane> {
    let plane = PLANE
        .get_or_init(|| async {
            let start = async {
                let nodes = FakeNodes::new().count(10).name_prefix("kwok-multinode");
                let cp: &'static ControlPlane =
                    Box::leak(Box::new(ControlPlane::start(Mode::Full(nodes)).await?));
                cp.install_test_crds("volcano").await?;
                cp.install_test_crds("kai").await?;
                cp.install_upstream_crds("grove").await?;
                let lws = cp.start_leader_worker_set_controller().await?;
                anyhow::Ok(Plane { cp, _lws: lws })
            };
            start.await.map_err(|e| format!("{e:#}"))
        })
        .await;
    plane
        .as_ref()
        .map_err(|e| anyhow::anyhow!("the multi-node control plane did not start: {e}"))
}

/// The LWS pathway, as the operator under test resolves it here (Grove and KAI off).
fn lws_config() -> dynamo_render::RenderConfig {
    common::orchestrators(Some(false), Some(true), Some(false))
}

// === LeaderWorkerSet ===

#[tokio::test]
async fn multinode_anchors_run_on_leader_worker_sets() -> Result<()> {
    let plane = plane().await?;
    let cp = plane.cp;
    let registry_for_render = common::registry(None);
    for anchor in MULTINODE_ANCHORS {
        let (client, ns) = cp.namespace(&format!("lws-{}", &anchor[..6])).await?;
        // LWS follows the cluster (LWS is served); Grove and KAI pinned off.
        let operator = operator(cp, &ns, Pathway::Lws).await?;
        let text = common::anchor(anchor);
        volumes_for_claims(&client, &ns, &text).await?;
        common::apply_yaml(&client, &ns, &text).await?;
        let name = common::graph_in(&text)?.metadata.name.unwrap_or_default();
        let ready = common::wait_ready(
            &client,
            &ns,
            &name,
            "True",
            Some("all_resources_are_ready"),
            READY_TIMEOUT,
        )
        .await;
        if let Err(error) = ready {
            let workloads = common::describe_workloads(&client, &ns).await;
            return Err(error.context(format!("anchor {anchor}:\n{workloads}")));
        }

        // Every rendered object is there, LeaderWorkerSets included. (Rendered from the graph
        // as stored: the API server filled in the CRD's defaults.)
        let stored = common::graph(&client, &ns, &name).await?;
        let rendered = dynamo_render::render(&stored, &lws_config(), &registry_for_render)?;
        common::ensure_live_as_rendered(&client, &ns, &rendered, anchor).await?;
        let groups: Vec<(String, i64)> = rendered
            .objects
            .iter()
            .filter(|o| o.kind() == "LeaderWorkerSet")
            .map(|o| {
                let size = o.manifest()["spec"]["leaderWorkerTemplate"]["size"].as_i64();
                (o.name().to_owned(), size.unwrap_or(0))
            })
            .collect();
        ensure!(groups.len() == 2, "{anchor}: groups {groups:?}");
        // LeaderWorkerSet made a leader and a worker StatefulSet per group, and their pods run
        // on the fake GPU nodes with the rank LWS gave them.
        let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        for (group, size) in &groups {
            ensure!(
                sets.get_opt(group).await?.is_some(),
                "{anchor}: no leader set {group}"
            );
            ensure!(
                sets.get_opt(&format!("{group}-0")).await?.is_some(),
                "{anchor}: no worker set {group}-0"
            );
            let members = pods
                .list(
                    &ListParams::default()
                        .labels(&format!("leaderworkerset.sigs.k8s.io/name={group}")),
                )
                .await?;
            ensure!(
                members.items.len() == usize::try_from(*size)?,
                "{anchor}: {group} has {} pods, not {size}",
                members.items.len()
            );
            for pod in &members.items {
                let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
                ensure!(
                    node.as_ref().is_some_and(|n| cp.node_names().contains(n)),
                    "{anchor}: pod on {node:?}"
                );
                // As in Dynamo 1.5: the default scheduler places the group, no Volcano gang.
                let spec = pod.spec.clone().unwrap_or_default();
                ensure!(
                    spec.scheduler_name.as_deref() == Some("default-scheduler"),
                    "{anchor}: scheduler {:?}",
                    spec.scheduler_name
                );
                let annotations = pod.metadata.annotations.clone().unwrap_or_default();
                ensure!(
                    !annotations.contains_key("scheduling.k8s.io/group-name"),
                    "{anchor}: the pod names a Volcano gang"
                );
            }
        }
        let podgroups =
            common::names(&client, &ns, "scheduling.volcano.sh/v1beta1", "PodGroup").await?;
        ensure!(podgroups.is_empty(), "{anchor}: PodGroups {podgroups:?}");
        if anchor.starts_with("trtllm") {
            let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
            ensure!(
                secrets.get_opt("mpi-run-ssh-secret").await?.is_some(),
                "{anchor}: no SSH key Secret"
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

/// Makes a PersistentVolume for each PersistentVolumeClaim of `yaml` (an anchor that brings its
/// model storage), reserved for that claim, as a cluster's storage would provide.
async fn volumes_for_claims(client: &Client, ns: &str, yaml: &str) -> Result<()> {
    let volumes: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("", "v1", "PersistentVolume"),
            "persistentvolumes",
        ),
    );
    for document in serde_yaml_ng::Deserializer::from_str(yaml) {
        let claim: Value = serde::Deserialize::deserialize(document)?;
        if claim["kind"] != "PersistentVolumeClaim" {
            continue;
        }
        let name = claim["metadata"]["name"].as_str().unwrap_or_default();
        let volume: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": format!("{ns}-{name}")},
            "spec": {
                "capacity": claim["spec"]["resources"]["requests"],
                "accessModes": claim["spec"]["accessModes"],
                "hostPath": {"path": format!("/tmp/{ns}/{name}")},
                "claimRef": {"namespace": ns, "name": name},
                "persistentVolumeReclaimPolicy": "Delete",
            },
        }))?;
        volumes.create(&PostParams::default(), &volume).await?;
    }
    Ok(())
}

/// The LeaderWorkerSets of service `service` (`nvidia.com/dynamo-component`), by name, with
/// their main container image.
async fn groups_of(client: &Client, ns: &str, service: &str) -> Result<Vec<(String, String)>> {
    let list = common::dynamic_api(client, ns, "leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet")
        .list(&ListParams::default().labels(&format!("nvidia.com/dynamo-component={service}")))
        .await?;
    let mut groups: Vec<(String, String)> = list
        .items
        .iter()
        .map(|l| {
            (
                l.metadata.name.clone().unwrap_or_default(),
                l.data["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]
                    ["image"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    groups.sort();
    Ok(groups)
}

#[tokio::test]
async fn a_multinode_service_scales_by_groups_and_rolls_out_group_by_group() -> Result<()> {
    let plane = plane().await?;
    let cp = plane.cp;
    let (client, ns) = cp.namespace("lws-scale").await?;
    let _operator = operator(cp, &ns, Pathway::Lws).await?;
    let mut text = common::anchor("vllm-disagg-multinode");
    // The decode service gets an adapter, as a team that autoscales it would.
    // Edited in its own (v1alpha1) shape.
    let mut graph: Value = serde_yaml_ng::from_str(&text)?;
    graph["spec"]["services"]["decode"]["scalingAdapter"] = json!({"enabled": true});
    graph["metadata"]["namespace"] = json!(ns);
    text = serde_yaml_ng::to_string(&graph)?;
    common::apply_yaml(&client, &ns, &text).await?;
    let name = "vllm-disagg";
    common::wait_ready(&client, &ns, name, "True", None, READY_TIMEOUT).await?;
    ensure!(groups_of(&client, &ns, "decode").await?.len() == 1);

    // 1 → 2 through the adapter's scale subresource (what an HPA writes).
    let adapters: Api<DynamoGraphDeploymentScalingAdapter> = Api::namespaced(client.clone(), &ns);
    let adapter = common::wait_for("the decode adapter", Duration::from_secs(60), || {
        let adapters = adapters.clone();
        async move {
            Ok(adapters
                .get_opt("vllm-disagg-decode")
                .await?
                .filter(|a| a.status.as_ref().and_then(|s| s.selector.clone()).is_some()))
        }
    })
    .await?;
    let selector = adapter.status.and_then(|s| s.selector).unwrap_or_default();
    ensure!(selector.contains("role=leader"), "selector {selector}");
    scale(&adapters, "vllm-disagg-decode", 2).await?;
    wait_groups(&client, &ns, "decode", 2).await?;
    common::wait_ready(&client, &ns, name, "True", None, READY_TIMEOUT).await?;
    // The adapter's selector counts one pod per group: the leaders.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let leaders = pods.list(&ListParams::default().labels(&selector)).await?;
    ensure!(
        leaders.items.len() == 2,
        "{selector} matched {} pods",
        leaders.items.len()
    );
    let status = common::graph(&client, &ns, name)
        .await?
        .status
        .unwrap_or_default();
    let decode = status
        .components
        .as_ref()
        .and_then(|s| s.get("decode"))
        .cloned()
        .context("no decode status")?;
    ensure!(
        decode.ready_replicas == Some(2) && decode.replicas == 2,
        "decode status {decode:?}"
    );

    // A new image rolls out group by group: never more than one extra group, never ready while
    // a group of the previous spec runs.
    let dgds: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
    common::patch_alpha_graph(
        &client,
        &ns,
        name,
        &json!({"spec": {"services": {"decode": {"extraPodSpec": {"mainContainer": {
            "image": "my-registry/vllm-runtime:next"}}}}}}),
    )
    .await?;
    let generation = dgds.get(name).await?.metadata.generation;
    let start = std::time::Instant::now();
    let mut most = 0;
    let mut mixed = false;
    loop {
        let groups = groups_of(&client, &ns, "decode").await?;
        let old = groups
            .iter()
            .filter(|(_, image)| !image.ends_with(":next"))
            .count();
        let new = groups.len() - old;
        most = most.max(groups.len());
        mixed |= old > 0 && new > 0;
        // Only a condition about the new spec counts.
        let ready = common::ready(&client, &ns, name)
            .await?
            .filter(|c| c.observed_generation >= generation);
        if old > 0 && ready.as_ref().is_some_and(|c| c.status == "True") {
            let components = common::names(
                &client,
                &ns,
                "nvidia.com/v1alpha1",
                "DynamoComponentDeployment",
            )
            .await?;
            let graph = common::graph(&client, &ns, name).await?;
            anyhow::bail!(
                "Ready while {old} old group(s) run: {ready:?}\ngroups {groups:?}\ncomponents \
                 {components:?}\ngraph {}",
                serde_json::to_string(&graph)?
            );
        } else if new == 2 && ready.as_ref().is_some_and(|c| c.status == "True") {
            break;
        }
        ensure!(
            start.elapsed() < READY_TIMEOUT,
            "the rollout did not finish: groups {groups:?}, Ready {ready:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ensure!(mixed, "old and new groups never ran side by side");
    ensure!(
        most <= 3,
        "up to {most} groups ran at once (2 desired, surge 1)"
    );

    // 2 → 1: a whole group goes.
    scale(&adapters, "vllm-disagg-decode", 1).await?;
    wait_groups(&client, &ns, "decode", 1).await?;
    common::wait_ready(&client, &ns, name, "True", None, READY_TIMEOUT).await?;

    // A Volcano PodGroup an earlier version made for a group (controlled by the component,
    // labelled with the group's index) is removed: nothing renders PodGroups any more.
    let component = common::dynamic_api(
        &client,
        &ns,
        "nvidia.com/v1alpha1",
        "DynamoComponentDeployment",
    )
    .list(&ListParams::default())
    .await?
    .items
    .into_iter()
    .find(|c| {
        c.metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("vllm-disagg-decode-"))
    })
    .context("no decode component")?;
    let owner = component.metadata.name.clone().unwrap_or_default();
    let legacy: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "PodGroup",
        "metadata": {
            "name": format!("{owner}-0"),
            "labels": {"instance-id": "0"},
            "ownerReferences": [{
                "apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoComponentDeployment",
                "name": owner, "uid": component.metadata.uid.clone().unwrap_or_default(),
                "controller": true, "blockOwnerDeletion": true,
            }],
        },
        "spec": {"minMember": 2},
    }))?;
    common::dynamic_api(&client, &ns, "scheduling.volcano.sh/v1beta1", "PodGroup")
        .create(&PostParams::default(), &legacy)
        .await?;
    let start = std::time::Instant::now();
    loop {
        let left = common::names(&client, &ns, "scheduling.volcano.sh/v1beta1", "PodGroup").await?;
        if left.is_empty() {
            break;
        }
        ensure!(
            start.elapsed() < READY_TIMEOUT,
            "the earlier version's PodGroup stays: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

// === Grove (the test plays Grove) ===

/// Creates Grove object `kind`/`name` with `metadata` and `spec` if missing, then reports all
/// of its spec's replicas ready, updated and (for a scaling group) available, as Grove would.
async fn make_ready(
    client: &Client,
    ns: &str,
    kind: &str,
    name: &str,
    mut metadata: Value,
    spec: Value,
) -> Result<()> {
    let api = common::dynamic_api(client, ns, "grove.io/v1alpha1", kind);
    if api.get_opt(name).await?.is_none() {
        metadata["name"] = json!(name);
        metadata["namespace"] = json!(ns);
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "grove.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec,
        }))?;
        api.create(&PostParams::default(), &object).await?;
    }
    let live = api.get(name).await?;
    let replicas = live.data["spec"]["replicas"].as_i64().unwrap_or(0);
    let mut status = json!({
        "replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas,
        "observedGeneration": live.metadata.generation,
    });
    if kind == "PodCliqueScalingGroup" {
        status["availableReplicas"] = json!(replicas);
        if let Some(status) = status.as_object_mut() {
            status.remove("readyReplicas");
        }
    }
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    Ok(())
}

/// What Grove would do for PodCliqueSet `graph`: create its PodCliques and scaling groups
/// (replica 0) if missing, and report every one of them ready at its spec's replicas.
async fn play_grove(client: &Client, ns: &str, graph: &str) -> Result<()> {
    let sets = common::dynamic_api(client, ns, "grove.io/v1alpha1", "PodCliqueSet");
    let pcs = sets.get(graph).await?;
    let owner = json!([{
        "apiVersion": "grove.io/v1alpha1", "kind": "PodCliqueSet", "name": graph,
        "uid": pcs.metadata.uid, "controller": true,
    }]);
    let template = &pcs.data["spec"]["template"];
    let grouped: BTreeSet<String> = template["podCliqueScalingGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["cliqueNames"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    for clique in template["cliques"].as_array().into_iter().flatten() {
        let clique_name = clique["name"].as_str().unwrap_or_default();
        if grouped.contains(clique_name) {
            continue;
        }
        let metadata = json!({"labels": clique["labels"], "ownerReferences": owner});
        let name = format!("{graph}-0-{clique_name}");
        make_ready(
            client,
            ns,
            "PodClique",
            &name,
            metadata,
            clique["spec"].clone(),
        )
        .await?;
    }
    for group in template["podCliqueScalingGroups"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = format!("{graph}-0-{}", group["name"].as_str().unwrap_or_default());
        let spec = json!({"cliqueNames": group["cliqueNames"], "replicas": group["replicas"],
                          "minAvailable": group["minAvailable"]});
        let metadata = json!({"ownerReferences": owner});
        make_ready(client, ns, "PodCliqueScalingGroup", &name, metadata, spec).await?;
    }
    sets.patch_status(
        graph,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"observedGeneration": pcs.metadata.generation}})),
    )
    .await?;
    Ok(())
}

/// Waits until graph `name` is Ready, playing Grove meanwhile.
async fn ready_under_grove(client: &Client, ns: &str, name: &str) -> Result<()> {
    common::wait_for(&format!("{name} Ready under Grove"), READY_TIMEOUT, || {
        let client = client.clone();
        let ns = ns.to_owned();
        let name = name.to_owned();
        async move {
            let sets = common::dynamic_api(&client, &ns, "grove.io/v1alpha1", "PodCliqueSet");
            if sets.get_opt(&name).await?.is_some() {
                play_grove(&client, &ns, &name).await?;
            }
            let ready = common::ready(&client, &ns, &name).await?;
            Ok(ready.filter(|c| c.status == "True").map(|_| ()))
        }
    })
    .await
}

#[tokio::test]
async fn multinode_anchors_run_on_grove() -> Result<()> {
    let plane = plane().await?;
    let cp = plane.cp;
    for anchor in MULTINODE_ANCHORS {
        let (client, ns) = cp.namespace(&format!("grove-{}", &anchor[..6])).await?;
        // Grove follows the cluster (its CRDs are served); KAI pinned off.
        let operator = operator(cp, &ns, Pathway::Grove).await?;
        let text = common::anchor(anchor);
        volumes_for_claims(&client, &ns, &text).await?;
        common::apply_yaml(&client, &ns, &text).await?;
        let name = common::graph_in(&text)?.metadata.name.unwrap_or_default();
        // Not ready while Grove has reported nothing.
        let sets = common::dynamic_api(&client, &ns, "grove.io/v1alpha1", "PodCliqueSet");
        let pcs = common::wait_for("the PodCliqueSet", Duration::from_secs(60), || {
            let sets = sets.clone();
            let name = name.clone();
            async move { Ok(sets.get_opt(&name).await?) }
        })
        .await?;
        ensure!(
            pcs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|r| r.kind == "DynamoGraphDeployment" && r.controller == Some(true)),
            "{anchor}: the PodCliqueSet is not controlled by its graph"
        );
        let condition =
            common::wait_ready(&client, &ns, &name, "False", None, READY_TIMEOUT).await?;
        ensure!(condition.status == "False", "{anchor}: {condition:?}");
        ready_under_grove(&client, &ns, &name)
            .await
            .with_context(|| format!("anchor {anchor}"))?;
        // No components on this pathway; the Services belong to the graph.
        let components = common::names(
            &client,
            &ns,
            "nvidia.com/v1alpha1",
            "DynamoComponentDeployment",
        )
        .await?;
        ensure!(components.is_empty(), "{anchor}: components {components:?}");
        let services = common::names(&client, &ns, "v1", "Service").await?;
        ensure!(
            services.contains(&format!("{name}-frontend")),
            "{anchor}: Services {services:?}"
        );
        operator.stop().await?;
    }
    Ok(())
}

#[tokio::test]
async fn grove_scaling_groups_scale_through_the_adapter_down_to_zero() -> Result<()> {
    let plane = plane().await?;
    let cp = plane.cp;
    let (client, ns) = cp.namespace("grove-scale").await?;
    let _operator = operator(cp, &ns, Pathway::Grove).await?;
    // Edited in its own (v1alpha1) shape.
    let mut graph: Value = serde_yaml_ng::from_str(&common::anchor("vllm-disagg-multinode"))?;
    graph["spec"]["services"]["decode"]["scalingAdapter"] = json!({"enabled": true});
    graph["metadata"]["namespace"] = json!(ns);
    common::apply_yaml(&client, &ns, &serde_yaml_ng::to_string(&graph)?).await?;
    let name = "vllm-disagg";
    ready_under_grove(&client, &ns, name).await?;

    let adapters: Api<DynamoGraphDeploymentScalingAdapter> = Api::namespaced(client.clone(), &ns);
    let groups = common::dynamic_api(&client, &ns, "grove.io/v1alpha1", "PodCliqueScalingGroup");
    for replicas in [2, 0, 1] {
        common::wait_for("the decode adapter", Duration::from_secs(60), || {
            let adapters = adapters.clone();
            async move { Ok(adapters.get_opt("vllm-disagg-decode").await?) }
        })
        .await?;
        scale(&adapters, "vllm-disagg-decode", replicas).await?;
        // The operator writes the scaling group's replicas (Grove copies the template's only
        // when it creates the group) and the template, with what Grove accepts at zero.
        common::wait_for(
            &format!("the decode scaling group at {replicas}"),
            Duration::from_secs(60),
            || {
                let groups = groups.clone();
                async move {
                    let group = groups.get("vllm-disagg-0-decode").await?;
                    Ok((group.data["spec"]["replicas"].as_i64() == Some(replicas)).then_some(()))
                }
            },
        )
        .await?;
        let pcs = common::dynamic_api(&client, &ns, "grove.io/v1alpha1", "PodCliqueSet")
            .get(name)
            .await?;
        let config = pcs.data["spec"]["template"]["podCliqueScalingGroups"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["name"] == "decode"))
            .cloned()
            .context("no decode scaling group in the PodCliqueSet")?;
        ensure!(
            config["replicas"].as_i64() == Some(replicas),
            "template replicas {config}"
        );
        ensure!(
            config["minAvailable"].as_i64() <= config["replicas"].as_i64(),
            "Grove refuses minAvailable above replicas: {config}"
        );
        ready_under_grove(&client, &ns, name).await?;
        let status = common::graph(&client, &ns, name)
            .await?
            .status
            .unwrap_or_default();
        let decode = status.components.and_then(|s| s.get("decode").cloned());
        ensure!(
            decode
                .as_ref()
                .is_some_and(|d| d.replicas == i32::try_from(replicas).unwrap_or(-1)),
            "decode status {decode:?}"
        );
    }

    // Deleting the graph takes its PodCliqueSet with it.
    Api::<DynamoGraphDeployment>::namespaced(client.clone(), &ns)
        .delete(name, &DeleteParams::foreground())
        .await?;
    let sets = common::dynamic_api(&client, &ns, "grove.io/v1alpha1", "PodCliqueSet");
    common::wait_for("the PodCliqueSet gone", Duration::from_secs(60), || {
        let sets = sets.clone();
        async move { Ok(sets.get_opt(name).await?.is_none().then_some(())) }
    })
    .await?;
    Ok(())
}

// === KAI scheduler ===

#[tokio::test]
async fn a_missing_kai_queue_holds_the_graph_until_it_exists() -> Result<()> {
    let plane = plane().await?;
    let cp = plane.cp;
    let (client, ns) = cp.namespace("kai").await?;
    // KAI follows the cluster (its Queue CRD is served); the Deployment pathway.
    let _operator = operator(cp, &ns, Pathway::Kai).await?;
    let queue = format!("team-{ns}");
    let mut graph: Value =
        serde_json::to_value(common::graph_in(&common::small_graph("queued", "1"))?)?;
    graph["metadata"]["annotations"] = json!({"nvidia.com/kai-scheduler-queue": queue});
    common::apply_yaml(&client, &ns, &serde_yaml_ng::to_string(&graph)?).await?;
    let condition = common::wait_ready(
        &client,
        &ns,
        "queued",
        "False",
        Some("kai_queue_not_found"),
        Duration::from_secs(60),
    )
    .await?;
    ensure!(condition.message.contains(&queue), "{condition:?}");
    let components = common::names(
        &client,
        &ns,
        "nvidia.com/v1alpha1",
        "DynamoComponentDeployment",
    )
    .await?;
    ensure!(
        components.is_empty(),
        "applied before the queue existed: {components:?}"
    );

    let queues: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk("scheduling.run.ai", "v2", "Queue"),
            "queues",
        ),
    );
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "scheduling.run.ai/v2", "kind": "Queue",
        "metadata": {"name": queue},
        "spec": {"resources": {"gpu": {"quota": 8, "limit": 8, "overQuotaWeight": 1}}},
    }))?;
    queues.create(&PostParams::default(), &object).await?;
    common::wait_ready(&client, &ns, "queued", "True", None, READY_TIMEOUT).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let list = pods.list(&ListParams::default()).await?;
    ensure!(!list.items.is_empty(), "no pods");
    for pod in &list.items {
        let spec = pod.spec.clone().unwrap_or_default();
        ensure!(
            spec.scheduler_name.as_deref() == Some("kai-scheduler"),
            "scheduler {:?}",
            spec.scheduler_name
        );
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        ensure!(
            labels.get("kai.scheduler/queue") == Some(&queue),
            "queue label {labels:?}"
        );
    }
    queues.delete(&queue, &DeleteParams::default()).await?;
    Ok(())
}

// === an orchestrator installed later ===

#[tokio::test]
async fn a_waiting_multinode_graph_converges_once_leader_worker_set_is_installed() -> Result<()> {
    // A plane of its own: LWS must be absent when the operator starts.
    let nodes = FakeNodes::new().count(2).name_prefix("kwok-late");
    // LeaderWorkerSet alone is enough: no Volcano CRD on this plane.
    let cp = ControlPlane::start(Mode::Full(nodes)).await?;
    let (client, ns) = cp.namespace("late-lws").await?;
    let _operator = operator(&cp, &ns, Pathway::Lws).await?;
    common::apply_yaml(&client, &ns, &common::anchor("vllm-disagg-multinode")).await?;
    let condition = common::wait_ready(
        &client,
        &ns,
        "vllm-disagg",
        "False",
        Some("no_multinode_orchestrator"),
        Duration::from_secs(60),
    )
    .await?;
    ensure!(
        condition
            .message
            .contains("leaderworkersets.leaderworkerset.x-k8s.io"),
        "the condition says what to install: {condition:?}"
    );
    let components = common::names(
        &client,
        &ns,
        "nvidia.com/v1alpha1",
        "DynamoComponentDeployment",
    )
    .await?;
    ensure!(components.is_empty(), "half-applied: {components:?}");

    let _lws = cp.start_leader_worker_set_controller().await?;
    let ready = common::wait_ready(
        &client,
        &ns,
        "vllm-disagg",
        "True",
        Some("all_resources_are_ready"),
        READY_TIMEOUT,
    )
    .await;
    if let Err(error) = ready {
        let workloads = common::describe_workloads(&client, &ns).await;
        return Err(error.context(workloads));
    }
    Ok(())
}
