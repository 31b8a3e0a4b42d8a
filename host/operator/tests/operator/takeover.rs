//! Taking over graphs Dynamo 1.5's operator deployed, and handing them back.
//!
//! On a control plane of its own, Dynamo 1.5's CRDs are applied as its operator's `crd-apply`
//! init container applies them (server-side, its field manager, no Helm ownership), and the
//! objects of `tests/fixtures/dynamo-1.5/go-output/` are created as Dynamo's operator left them
//! (stored as `v1beta1`, its field manager, its finalizers, the worker hash it recorded in
//! `nvidia.com/current-worker-hash-v2`, owner references, pods Ready). Then `helm upgrade
//! --install` of our CRD chart replaces the CRDs, and our operator starts: no workload's pod
//! template, name or revision may change and no pod may be replaced, on the Deployment pathway
//! and on LeaderWorkerSets. A later spec change rolls out as usual, the new hash is recorded as
//! Dynamo records it, and the graph can be deleted.
//!
//! The other way round, what our operator stores must be readable by Dynamo 1.5: every object of
//! ours validates against Dynamo's own CRDs with strict field validation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_test_harness::{ControlPlane, FakeNodes, Mode};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, DynamicObject, ListParams, Patch, PatchParams, PostParams, ValidationDirective,
};
use kube::{Client, ResourceExt as _};
use serde_json::{Value, json};

use crate::common::{self, Operator};

/// One run of Dynamo 1.5's operator: the graph as its webhook defaulted it, and what its
/// controllers made of it.
struct Reference {
    graph_name: String,
    graph: Value,
    objects: Vec<Value>,
    hash: String,
}

/// `value` with every string naming the `default` namespace (or a Dynamo namespace derived from
/// it) moved to `namespace`, as if Dynamo's operator had deployed the graph there.
fn moved(value: &mut Value, namespace: &str, graph: &str) {
    match value {
        Value::String(s) if s == "default" => *s = namespace.to_owned(),
        Value::String(s) if s.starts_with("default-") && s.contains(graph) => {
            *s = format!("{namespace}-{}", &s["default-".len()..]);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| moved(v, namespace, graph)),
        Value::Object(map) => map.values_mut().for_each(|v| moved(v, namespace, graph)),
        _ => {}
    }
}

/// What Dynamo 1.5 made of `example` (`vllm/deploy/agg`) on `pathway`, moved to `namespace`.
fn reference(example: &str, pathway: &str, namespace: &str) -> Result<Reference> {
    let run = dynamo_fixtures::dynamo_1_5_runs()
        .into_iter()
        .find(|r| r.example == example && r.pathway == pathway && r.ok)
        .with_context(|| format!("no reference run of {example} on {pathway}"))?;
    let output: Value = serde_json::from_str(&std::fs::read_to_string(&run.output)?)?;
    let source = dynamo_fixtures::v1beta1_examples()
        .into_iter()
        .find(|e| e.name == example)
        .with_context(|| format!("no example {example}"))?;
    let mut graph: Value = serde_yaml_ng::Deserializer::from_str(&source.text)
        .map(<Value as serde::Deserialize>::deserialize)
        .filter_map(Result::ok)
        .find(|d| d["kind"] == "DynamoGraphDeployment")
        .context("a DynamoGraphDeployment in the example")?;
    let graph_name = graph["metadata"]["name"]
        .as_str()
        .context("graph name")?
        .to_owned();
    // As Dynamo's defaulting webhook and controller left it.
    graph["metadata"]["namespace"] = json!(namespace);
    graph["metadata"]["finalizers"] = json!(["nvidia.com/finalizer"]);
    graph["metadata"]["annotations"] = output["dgdAnnotations"].clone();
    for component in graph["spec"]["components"]
        .as_array_mut()
        .context("components")?
    {
        if component.get("replicas").is_none() {
            component["replicas"] = json!(1);
        }
    }
    let hash = output["dgdAnnotations"]["nvidia.com/current-worker-hash-v2"]
        .as_str()
        .context("the recorded worker hash")?
        .to_owned();
    let mut objects = Vec::new();
    for object in output["objects"].as_array().context("objects")? {
        let mut object = object.clone();
        moved(&mut object, namespace, &graph_name);
        let map = object.as_object_mut().context("an object")?;
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
        }
        objects.push(object);
    }
    Ok(Reference {
        graph_name,
        graph,
        objects,
        hash,
    })
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

/// Creates the graph and everything Dynamo made for it, owners first.
async fn deploy_as_dynamo(client: &Client, ns: &str, reference: &Reference) -> Result<()> {
    let mut uids = BTreeMap::new();
    uids.insert(
        format!("DynamoGraphDeployment/{}", reference.graph_name),
        create(client, ns, reference.graph.clone(), &uids).await?,
    );
    let order = [
        "DynamoComponentDeployment",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Service",
        "Deployment",
        "LeaderWorkerSet",
    ];
    for kind in order {
        for object in reference.objects.iter().filter(|o| o["kind"] == kind) {
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let uid = create(client, ns, object.clone(), &uids).await?;
            uids.insert(format!("{kind}/{name}"), uid);
        }
    }
    Ok(())
}

/// Name → (revision, spec) of the namespace's workloads of `kind` (Deployment or
/// LeaderWorkerSet), every field of the spec included. A new pod template is a new revision;
/// the generation is not compared (annotation changes bump it without replacing a pod).
async fn workloads(
    client: &Client,
    ns: &str,
    kind: &str,
) -> Result<BTreeMap<String, (String, Value)>> {
    let api_version = match kind {
        "Deployment" => "apps/v1",
        _ => "leaderworkerset.x-k8s.io/v1",
    };
    let list = common::dynamic_api(client, ns, api_version, kind)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .into_iter()
        .map(|w| {
            let revision = w
                .annotations()
                .get("deployment.kubernetes.io/revision")
                .cloned()
                .unwrap_or_default();
            (w.name_any(), (revision, w.data["spec"].clone()))
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

/// What a takeover case runs on: the workload kind, the pods Dynamo's workloads run, and the
/// component whose edit is rolled out afterwards.
struct Expect {
    kind: &'static str,
    pods: usize,
    edited: &'static str,
}

/// A graph Dynamo deployed, as it ran before the takeover.
struct Deployed {
    /// The uids of its Ready pods, sorted.
    pods: Vec<String>,
    /// Its workloads of the case's kind: name → (revision, spec).
    workloads: BTreeMap<String, (String, Value)>,
}

/// Deploys `reference` as Dynamo 1.5 would and waits for its pods.
async fn deploy(
    client: &Client,
    ns: &str,
    reference: &Reference,
    expect: &Expect,
) -> Result<Deployed> {
    deploy_as_dynamo(client, ns, reference).await?;
    let pods = common::wait_for(
        "the pods Dynamo's workloads run to be Ready",
        Duration::from_secs(180),
        || {
            let client = client.clone();
            let ns = ns.to_owned();
            async move {
                let pods = ready_pods(&client, &ns).await?;
                Ok((pods.len() == expect.pods).then_some(pods))
            }
        },
    )
    .await?;
    let workloads = workloads(client, ns, expect.kind).await?;
    ensure!(!workloads.is_empty(), "no {} to take over", expect.kind);
    Ok(Deployed { pods, workloads })
}

/// Starts our operator rendering with `render` on the graph `deploy` left, and checks that it
/// takes the graph over without touching a pod; then rolls out an edit of component
/// `expect.edited`, and deletes the graph.
async fn take_over(
    cp: &ControlPlane,
    client: &Client,
    ns: &str,
    reference: &Reference,
    render: dynamo_render::RenderConfig,
    expect: Expect,
    deployed: Deployed,
) -> Result<()> {
    let Expect { kind, edited, .. } = expect;
    let Deployed {
        pods: before_pods,
        workloads: before,
    } = deployed;
    let graph = reference.graph_name.as_str();

    // Our operator takes over.
    let operator = Operator::start_with(cp, ns, common::registry(None), render).await?;
    common::wait_ready(client, ns, graph, "True", None, Duration::from_secs(180)).await?;
    let graphs = common::dynamic_api(client, ns, dynamo_api::API_VERSION, "DynamoGraphDeployment");
    common::wait_for(
        "the adopted hash to be recorded",
        Duration::from_secs(30),
        || {
            let graphs = graphs.clone();
            async move {
                let graph = graphs.get(graph).await?;
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
    let after = workloads(client, ns, kind).await?;
    ensure!(
        before.keys().collect::<Vec<_>>() == after.keys().collect::<Vec<_>>(),
        "{kind}s changed: {:?} → {:?}",
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, (revision, spec)) in &before {
        let (now_revision, now_spec) = &after[name];
        ensure!(
            spec == now_spec && revision == now_revision,
            "{kind} {name}: the spec changed on takeover (revision {revision} → \
             {now_revision}):\nbefore {spec}\nafter  {now_spec}"
        );
    }
    ensure!(
        ready_pods(client, ns).await? == before_pods,
        "pods were replaced on takeover"
    );
    let components = common::dynamic_api(
        client,
        ns,
        dynamo_api::API_VERSION,
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
    let live = graphs.get(graph).await?;
    let index = live.data["spec"]["components"]
        .as_array()
        .and_then(|c| c.iter().position(|c| c["name"] == edited))
        .with_context(|| format!("component {edited}"))?;
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": format!("/spec/components/{index}/name"), "value": edited},
        {"op": "replace",
         "path": format!("/spec/components/{index}/podTemplate/spec/containers/0/image"),
         "value": "registry.example.com/vllm:2"},
    ]))?;
    graphs
        .patch(graph, &PatchParams::default(), &Patch::<()>::Json(patch))
        .await?;
    let old_component = format!(
        "{graph}-{}-{}",
        dynamo_render::model::k8s_name(edited),
        reference.hash
    );
    common::wait_for(
        "the old worker component to go",
        Duration::from_secs(240),
        || {
            let components = components.clone();
            let old = old_component.clone();
            async move {
                let names: Vec<String> = components
                    .list(&ListParams::default())
                    .await?
                    .items
                    .iter()
                    .map(|c| c.name_any())
                    .collect();
                Ok((!names.contains(&old)).then_some(()))
            }
        },
    )
    .await?;
    common::wait_ready(client, ns, graph, "True", None, Duration::from_secs(180)).await?;
    // The graph records the hash it runs now, as Dynamo 1.5's operator does after a rollout.
    let recorded = common::wait_for(
        "the new worker hash to be recorded",
        Duration::from_secs(30),
        || {
            let graphs = graphs.clone();
            let hash = reference.hash.clone();
            async move {
                let graph = graphs.get(graph).await?;
                let now = graph
                    .annotations()
                    .get("nvidia.com/current-worker-hash-v2")
                    .cloned();
                Ok(now.filter(|h| *h != hash))
            }
        },
    )
    .await?;
    let now: Vec<String> = components
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    ensure!(
        now.iter().any(|n| n.ends_with(&format!("-{recorded}"))),
        "the recorded hash {recorded} names no component: {now:?}"
    );

    // Deleting the graph is not blocked by Dynamo's finalizer.
    graphs.delete(graph, &Default::default()).await?;
    common::wait_for("the graph to be deleted", Duration::from_secs(60), || {
        let graphs = graphs.clone();
        async move { Ok(graphs.get_opt(graph).await?.is_none().then_some(())) }
    })
    .await?;
    operator.stop().await
}

/// The names of the seven CRDs (ours and Dynamo 1.5's alike).
fn crd_names() -> Vec<String> {
    dynamo_api::crds::all()
        .into_iter()
        .filter_map(|crd| crd.metadata.name)
        .collect()
}

/// Runs `command`, failing with its output unless it succeeds; returns its stdout.
fn run(mut command: std::process::Command) -> Result<String> {
    let out = command.output()?;
    ensure!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn graphs_dynamo_1_5_deployed_are_taken_over_after_a_helm_upgrade_without_restarting_a_pod()
-> Result<()> {
    // A cluster Dynamo 1.5 runs: its CRDs applied as its `crd-apply` init container applies them.
    let no_crds = tempfile::tempdir()?;
    let cp =
        ControlPlane::start_with_crds(Mode::Full(FakeNodes::default()), no_crds.path()).await?;
    let _lws = cp.start_leader_worker_set_controller().await?;
    let mut apply = cp.kubectl()?;
    apply
        .args(["apply", "--server-side", "--force-conflicts"])
        .args(["--field-manager", "dynamo-crd-apply", "-f"])
        .arg(dynamo_fixtures::dynamo_1_5_crds_dir());
    run(apply)?;
    let mut established = cp.kubectl()?;
    established
        .args(["wait", "--for", "condition=Established", "--timeout", "60s"])
        .args(crd_names().iter().map(|n| format!("crd/{n}")));
    run(established)?;

    // Two graphs it deployed: aggregated on Deployments, disaggregated multi-node on
    // LeaderWorkerSets.
    let (client, agg_ns) = cp.namespace("takeover").await?;
    let (_, lws_ns) = cp.namespace("takeover-lws").await?;
    let agg = reference("vllm/deploy/agg", "deployment", &agg_ns)?;
    let agg_expect = Expect {
        kind: "Deployment",
        pods: agg
            .objects
            .iter()
            .filter(|o| o["kind"] == "Deployment")
            .count(),
        edited: "VllmDecodeWorker",
    };
    let multinode = reference("vllm/deploy/disagg-multinode", "lws", &lws_ns)?;
    // One pod per Deployment replica, and each LeaderWorkerSet's group of nodes.
    let lws_expect = Expect {
        kind: "LeaderWorkerSet",
        pods: multinode
            .objects
            .iter()
            .map(|o| match o["kind"].as_str() {
                Some("Deployment") => 1,
                Some("LeaderWorkerSet") => o["spec"]["leaderWorkerTemplate"]["size"]
                    .as_u64()
                    .and_then(|s| usize::try_from(s).ok())
                    .unwrap_or(1),
                _ => 0,
            })
            .sum(),
        edited: "decode",
    };
    let agg_deployed = deploy(&client, &agg_ns, &agg, &agg_expect).await?;
    let lws_deployed = deploy(&client, &lws_ns, &multinode, &lws_expect).await?;

    // Our CRD chart over Dynamo's. Helm refuses to upgrade objects no release of it owns unless
    // told to take them (Helm >= 3.17), which docs/install.md says.
    let chart = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../charts/dynamo-crds");
    let upgrade = |take_ownership: bool| -> Result<std::process::Command> {
        let mut command = cp.helm()?;
        command
            .args(["upgrade", "--install", "dynamo-crds"])
            .arg(&chart)
            .args(["--namespace", "dynamo-system", "--create-namespace"]);
        if take_ownership {
            command.arg("--take-ownership");
        }
        Ok(command)
    };
    let refused = upgrade(false)?.output()?;
    ensure!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("invalid ownership metadata"),
        "helm without --take-ownership: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
    run(upgrade(true)?)?;
    let names = crd_names();
    ensure!(names.len() == 7, "the CRDs: {names:?}");
    for name in &names {
        let mut get = cp.kubectl()?;
        get.args(["get", "crd", name, "-o", "json"]);
        let crd: Value = serde_json::from_str(&run(get)?)?;
        let annotations = &crd["metadata"]["annotations"];
        ensure!(
            annotations["meta.helm.sh/release-name"] == "dynamo-crds"
                && annotations["helm.sh/resource-policy"] == "keep",
            "{name} is not the chart's: {annotations}"
        );
        let storage: Vec<&str> = crd["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["storage"] == true)
            .filter_map(|v| v["name"].as_str())
            .collect();
        ensure!(
            crd["status"]["storedVersions"] == json!(storage),
            "{name}: stored {} while the chart stores {storage:?}",
            crd["status"]["storedVersions"]
        );
    }

    take_over(
        &cp,
        &client,
        &agg_ns,
        &agg,
        common::render_config(),
        agg_expect,
        agg_deployed,
    )
    .await?;
    take_over(
        &cp,
        &client,
        &lws_ns,
        &multinode,
        common::orchestrators(Some(false), Some(true), Some(false)),
        lws_expect,
        lws_deployed,
    )
    .await
}

/// What our operator stores reads in Dynamo 1.5: each graph, component and scaling adapter it
/// left in the API server is created, with strict field validation, on a control plane serving
/// Dynamo's own CRDs (no field of ours is unknown to them, none is refused).
#[tokio::test]
async fn what_we_store_validates_against_dynamo_1_5_s_own_crds() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("handback").await?;
    let operator = Operator::start(cp, &ns, common::registry(None)).await?;
    let mut graph: Value = serde_yaml_ng::from_str(&common::anchor("vllm-disagg"))?;
    graph["spec"]["services"]["VllmDecodeWorker"]["scalingAdapter"] = json!({"enabled": true});
    common::apply_yaml(&client, &ns, &serde_yaml_ng::to_string(&graph)?).await?;
    common::wait_ready(
        &client,
        &ns,
        "vllm-disagg",
        "True",
        None,
        Duration::from_secs(120),
    )
    .await?;
    let mut stored = Vec::new();
    for kind in [
        "DynamoGraphDeployment",
        "DynamoComponentDeployment",
        "DynamoGraphDeploymentScalingAdapter",
    ] {
        let api = common::dynamic_api(&client, &ns, dynamo_api::API_VERSION, kind);
        for object in api.list(&ListParams::default()).await?.items {
            stored.push(object);
        }
    }
    operator.stop().await?;
    ensure!(
        stored.len() >= 5,
        "too few objects stored: {}",
        stored.len()
    );

    // A control plane of its own, serving Dynamo 1.5's CRDs instead of ours.
    let theirs = ControlPlane::start(dynamo_test_harness::Mode::Basic).await?;
    theirs
        .install_crds(&dynamo_fixtures::dynamo_1_5_crds_dir())
        .await?;
    let (their_client, their_ns) = theirs.namespace("handback").await?;
    for object in stored {
        let kind = object
            .types
            .as_ref()
            .map(|t| t.kind.clone())
            .unwrap_or_default();
        let name = object.name_any();
        let mut value = serde_json::to_value(&object)?;
        value["metadata"] = json!({
            "name": name,
            "namespace": their_ns,
            "labels": value["metadata"]["labels"],
            "annotations": value["metadata"]["annotations"],
        });
        value.as_object_mut().map(|o| o.remove("status"));
        // Server-side apply with strict field validation: a field Dynamo's schema does not
        // declare is an error, not a silent prune.
        common::dynamic_api(&their_client, &their_ns, dynamo_api::API_VERSION, &kind)
            .patch(
                &name,
                &PatchParams::apply("handback").validation(ValidationDirective::Strict),
                &Patch::Apply(&value),
            )
            .await
            .with_context(|| format!("Dynamo's CRD refuses our {kind} {name}"))?;
    }
    Ok(())
}
