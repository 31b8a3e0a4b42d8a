//! The test control plane itself: the API server (basic mode) and GPU scheduling onto kwok's fake
//! nodes (full mode).

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use dynamo_test_harness::{ControlPlane, GPU_RESOURCE};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Namespace, Pod};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};

/// How long a GPU pod may take to be scheduled and become Ready.
const POD_READY_TIMEOUT: Duration = Duration::from_secs(90);

/// How long the scheduler may take to report a pod unschedulable.
const UNSCHEDULABLE_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn basic_control_plane_serves_kubernetes_1_37() -> anyhow::Result<()> {
    let cp = ControlPlane::shared().await?;
    let (client, ns) = cp.namespace("basic").await?;

    let version = client.apiserver_version().await?;
    ensure!(
        version.major == "1" && version.minor.trim_end_matches('+') == "37",
        "expected Kubernetes 1.37, got {version:?}"
    );
    ensure!(
        version.git_version.starts_with("v1.37."),
        "expected git version v1.37.x, got {}",
        version.git_version
    );

    let namespace = Api::<Namespace>::all(client.clone()).get(&ns).await?;
    ensure!(namespace.metadata.name.as_deref() == Some(ns.as_str()));

    // RBAC is real: a user without bindings is forbidden (admin may impersonate).
    let mut config = cp.kube_config();
    config.auth_info.impersonate = Some("nobody".to_owned());
    let nobody = Client::try_from(config)?;
    match Api::<Pod>::namespaced(nobody, &ns)
        .list(&ListParams::default())
        .await
    {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => bail!("expected 403 Forbidden for an unbound user, got {other:?}"),
    }

    // The kubeconfig works for kubectl and helm.
    let out = cp
        .kubectl()?
        .args(["get", "namespace", &ns, "-o", "name"])
        .output()?;
    ensure!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).trim() == format!("namespace/{ns}"),
        "kubectl get namespace: {out:?}"
    );
    let out = cp.helm()?.args(["list", "--namespace", &ns]).output()?;
    ensure!(out.status.success(), "helm list: {out:?}");
    Ok(())
}

#[tokio::test]
async fn gpu_deployment_is_scheduled_on_a_fake_node_and_becomes_ready() -> anyhow::Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("gpu-sched").await?;

    create_gpu_deployment(&client, &ns, "one-gpu", 1).await?;
    let pod = wait_for_pod(&client, &ns, "one-gpu", POD_READY_TIMEOUT, "Ready", |pod| {
        is_ready(pod)
    })
    .await?;

    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .context("a Ready pod has no node")?;
    ensure!(
        cp.node_names().contains(&node),
        "pod ran on {node}, which is not one of the fake nodes {:?}",
        cp.node_names()
    );
    Ok(())
}

#[tokio::test]
async fn deployment_wanting_more_gpus_than_any_node_stays_pending() -> anyhow::Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let per_node = cp
        .fake_nodes()
        .context("the full control plane has fake nodes")?
        .gpus_per_node;
    let (client, ns) = cp.namespace("gpu-unsched").await?;

    create_gpu_deployment(&client, &ns, "too-many-gpus", per_node + 1).await?;
    let pod = wait_for_pod(
        &client,
        &ns,
        "too-many-gpus",
        UNSCHEDULABLE_TIMEOUT,
        "Unschedulable",
        |pod| unschedulable_message(pod).is_some(),
    )
    .await?;

    let message = unschedulable_message(&pod).unwrap_or_default();
    ensure!(
        message.contains(GPU_RESOURCE),
        "pod is unschedulable, but not for lack of {GPU_RESOURCE}: {message}"
    );
    let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
    ensure!(
        phase.as_deref() == Some("Pending"),
        "expected phase Pending, got {phase:?}"
    );
    ensure!(
        pod.spec
            .as_ref()
            .and_then(|s| s.node_name.as_ref())
            .is_none(),
        "an unschedulable pod was bound to a node"
    );
    Ok(())
}

/// Creates a one-replica Deployment `name` whose container requests and limits `gpus` GPUs.
async fn create_gpu_deployment(
    client: &Client,
    ns: &str,
    name: &str,
    gpus: u32,
) -> anyhow::Result<()> {
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": {
                    "containers": [{
                        "name": "worker",
                        "image": "example.invalid/worker:latest",
                        "resources": {
                            "requests": { GPU_RESOURCE: gpus.to_string(), "cpu": "1", "memory": "1Gi" },
                            "limits": { GPU_RESOURCE: gpus.to_string() },
                        },
                    }],
                },
            },
        },
    }))?;
    Api::<Deployment>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &deployment)
        .await
        .with_context(|| format!("creating Deployment {ns}/{name}"))?;
    Ok(())
}

/// Polls the pods of Deployment `app` until one satisfies `done`; on timeout, fails with the pods'
/// status and the namespace's events.
async fn wait_for_pod(
    client: &Client,
    ns: &str,
    app: &str,
    timeout: Duration,
    what: &str,
    done: impl Fn(&Pod) -> bool,
) -> anyhow::Result<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let selector = ListParams::default().labels(&format!("app={app}"));
    let deadline = Instant::now() + timeout;
    loop {
        let list = pods.list(&selector).await?;
        if let Some(pod) = list.items.into_iter().find(|p| done(p)) {
            return Ok(pod);
        }
        if Instant::now() >= deadline {
            bail!(
                "no pod of {ns}/{app} became {what} within {timeout:?}\n{}",
                diagnostics(client, ns, app).await
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The message of the pod's `PodScheduled=False, reason=Unschedulable` condition, if any.
fn unschedulable_message(pod: &Pod) -> Option<String> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        })
        .map(|c| c.message.clone().unwrap_or_default())
}

/// The status of the pods of `app` and the events of `ns`, for failure messages.
async fn diagnostics(client: &Client, ns: &str, app: &str) -> String {
    let mut out = String::new();
    let selector = ListParams::default().labels(&format!("app={app}"));
    match Api::<Pod>::namespaced(client.clone(), ns)
        .list(&selector)
        .await
    {
        Ok(list) if list.items.is_empty() => {
            out.push_str("no pods (is the controller-manager running?)\n")
        }
        Ok(list) => {
            for pod in list.items {
                let status = serde_json::to_string_pretty(&pod.status).unwrap_or_default();
                let node = pod.spec.and_then(|s| s.node_name).unwrap_or_default();
                out.push_str(&format!(
                    "pod {} (node {node:?}) status: {status}\n",
                    pod.metadata.name.unwrap_or_default()
                ));
            }
        }
        Err(e) => out.push_str(&format!("listing pods failed: {e}\n")),
    }
    match Api::<Event>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
    {
        Ok(list) => {
            out.push_str("events:\n");
            for event in list.items {
                out.push_str(&format!(
                    "  {} {}/{}: {} {}\n",
                    event.type_.unwrap_or_default(),
                    event.involved_object.kind.unwrap_or_default(),
                    event.involved_object.name.unwrap_or_default(),
                    event.reason.unwrap_or_default(),
                    event.message.unwrap_or_default(),
                ));
            }
        }
        Err(e) => out.push_str(&format!("listing events failed: {e}\n")),
    }
    out
}
