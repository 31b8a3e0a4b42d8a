//! The admission webhooks with the real kube-apiserver calling them: the operator runs out of
//! cluster, registered by URL on loopback on Dynamo 1.5's paths for `v1beta1`. It makes its own
//! CA and serving certificate and writes the CA bundle into the webhook configurations; then
//! `kubectl apply` of an invalid graph (written as `v1alpha1`, converted by the API server) is
//! refused with our message, a valid one comes back defaulted, each UPDATE rule holds whichever
//! version the update is written in, and a webhook that is down fails closed or open as its
//! configuration says.

use std::process::Output;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use dynamo_api::DynamoGraphDeployment;
use dynamo_test_harness::ControlPlane;
use dynamo_webhook::admission;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::common;
use crate::process::{Launch, Running};

/// The webhook configurations registering `operator` for namespace `ns` only (so other tests'
/// graphs never reach it), under `name`, with an empty caBundle for the operator to fill.
async fn register(
    client: &Client,
    name: &str,
    ns: &str,
    port: u16,
    failure_policy: &str,
) -> Result<()> {
    let webhook = |path: &str, resource: &str, hook: &str| {
        let version = if resource == "dynamomodels" {
            "v1alpha1"
        } else {
            "v1beta1"
        };
        json!({
            "name": format!("{hook}.nvidia.com"),
            "clientConfig": {"url": format!("https://127.0.0.1:{port}{path}")},
            "rules": [{
                "apiGroups": ["nvidia.com"], "apiVersions": [version],
                "operations": ["CREATE", "UPDATE"], "resources": [resource],
            }],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
            "failurePolicy": failure_policy,
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 10,
        })
    };
    let validating: ValidatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": name},
        "webhooks": [
            webhook(admission::VALIDATE_GRAPH, "dynamographdeployments", "vdgd"),
            webhook(admission::VALIDATE_COMPONENT, "dynamocomponentdeployments", "vdcd"),
            webhook(admission::VALIDATE_MODEL, "dynamomodels", "vdm"),
        ],
    }))?;
    let mutating: MutatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": name},
        "webhooks": [
            webhook(admission::MUTATE_GRAPH, "dynamographdeployments", "mdgd"),
            webhook(admission::MUTATE_COMPONENT, "dynamocomponentdeployments", "mdcd"),
        ],
    }))?;
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &validating)
        .await?;
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &mutating)
        .await?;
    Ok(())
}

async fn unregister(client: &Client, name: &str) {
    let _ = Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await;
    let _ = Api::<MutatingWebhookConfiguration>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await;
}

/// Removes the webhook configurations even when the test fails, so nothing cluster-wide is left.
/// Uses kubectl: the test's own client lives on the runtime a failing test is unwinding.
struct Registered {
    kubectl: std::path::PathBuf,
    kubeconfig: std::path::PathBuf,
    name: String,
}

impl Registered {
    fn new(cp: &ControlPlane, name: &str) -> Result<Self> {
        Ok(Self {
            kubectl: cp.bin("kubectl")?,
            kubeconfig: cp.kubeconfig_path().to_path_buf(),
            name: name.to_owned(),
        })
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        for kind in [
            "validatingwebhookconfiguration",
            "mutatingwebhookconfiguration",
        ] {
            let _ = std::process::Command::new(&self.kubectl)
                .env("KUBECONFIG", &self.kubeconfig)
                .args([
                    "delete",
                    kind,
                    &self.name,
                    "--ignore-not-found",
                    "--wait=false",
                ])
                .output();
        }
    }
}

/// `kubectl apply -f -` of `yaml` in `ns`.
fn kubectl_apply(cp: &ControlPlane, ns: &str, yaml: &str) -> Result<Output> {
    use std::io::Write as _;
    let mut child = cp
        .kubectl()?
        .args(["apply", "-n", ns, "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("kubectl stdin")?
        .write_all(yaml.as_bytes())?;
    Ok(child.wait_with_output()?)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The anchor `vllm-agg` graph with `edit` applied to its JSON form, as YAML.
fn anchor_with(edit: impl FnOnce(&mut serde_json::Value)) -> Result<String> {
    let mut value: serde_json::Value = serde_yaml_ng::from_str(&common::anchor("vllm-agg"))?;
    edit(&mut value);
    Ok(serde_yaml_ng::to_string(&value)?)
}

/// A graph the CRD schema accepts and our rules refuse: an origin version that is not semver.
fn invalid() -> Result<String> {
    anchor_with(|g| {
        g["metadata"]["annotations"] =
            json!({"nvidia.com/dynamo-operator-origin-version": "banana"});
    })
}

const INVALID_MESSAGE: &str =
    "metadata.annotations[nvidia.com/dynamo-operator-origin-version]: must be a semantic version";

async fn start(cp: &ControlPlane, ns: &str, name: &str) -> Result<Running> {
    start_with(cp, ns, name, false).await
}

/// [`start`], with the Grove feature enabled when `grove` (so admission picks the Grove
/// pathway for graphs that do not opt out).
async fn start_with(cp: &ControlPlane, ns: &str, name: &str, grove: bool) -> Result<Running> {
    // The controllers watch a namespace of their own, so graphs here stay as the test writes
    // them (their status included); only the webhooks act on `ns`.
    let (_, idle) = cp.namespace("webhook-idle").await?;
    let mut launch = Launch::new(cp, "");
    if grove {
        launch = launch.raw_config(
            "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\n\
             kind: OperatorConfiguration\n\
             orchestrators:\n  grove: {enabled: true}\n  lws: {enabled: false}\n  \
             kaiScheduler: {enabled: false}\n",
        );
    }
    let operator = launch
        .args([
            "--watch-namespace",
            idle.as_str(),
            "--operator-namespace",
            ns,
        ])
        .args(["--service-account", "dynamo-operator"])
        .start(name, &format!(", configurationName: {name}"))?;
    operator.wait_ready(Duration::from_secs(60)).await?;
    Ok(operator)
}

/// Waits until both configurations carry the CA bundle of the operator's Secret.
async fn wait_ca_bundle(client: &Client, ns: &str, name: &str) -> Result<Vec<u8>> {
    common::wait_for(
        "the caBundle in both webhook configurations",
        Duration::from_secs(30),
        || async {
            let Some(ca) = common::operator_ca(client, ns).await? else {
                return Ok(None);
            };
            let validating = Api::<ValidatingWebhookConfiguration>::all(client.clone())
                .get(name)
                .await?;
            let mutating = Api::<MutatingWebhookConfiguration>::all(client.clone())
                .get(name)
                .await?;
            let all = validating
                .webhooks
                .iter()
                .flatten()
                .map(|w| w.client_config.ca_bundle.clone())
                .chain(
                    mutating
                        .webhooks
                        .iter()
                        .flatten()
                        .map(|w| w.client_config.ca_bundle.clone()),
                );
            Ok(all
                .into_iter()
                .all(|b| b.as_ref() == Some(&ca))
                .then_some(ca.0))
        },
    )
    .await
}

#[tokio::test]
async fn the_api_server_calls_our_webhooks_for_every_rule() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("webhooks").await?;
    let mut operator = start(cp, &ns, &format!("{ns}-hooks")).await?;
    let name = format!("{ns}-hooks");
    register(&client, &name, &ns, operator.webhook_port, "Fail").await?;
    let _registered = Registered::new(cp, &name)?;
    let ca = wait_ca_bundle(&client, &ns, &name).await?;
    ensure!(String::from_utf8_lossy(&ca).contains("BEGIN CERTIFICATE"));

    // An invalid graph is refused by kubectl with our message naming the field.
    let out = kubectl_apply(cp, &ns, &invalid()?)?;
    ensure!(!out.status.success(), "invalid graph accepted");
    ensure!(
        stderr(&out).contains(INVALID_MESSAGE),
        "kubectl said: {}",
        stderr(&out)
    );

    // A valid graph comes back defaulted; a deprecated field is a warning kubectl shows.
    let good = anchor_with(|g| {
        g["spec"]["services"]["Frontend"]
            .as_object_mut()
            .map(|f| f.remove("replicas"));
        g["spec"]["services"]["Frontend"]["dynamoNamespace"] = json!("old");
        g["spec"]["services"]["VllmDecodeWorker"]["scalingAdapter"] = json!({"enabled": true});
    })?;
    let out = kubectl_apply(cp, &ns, &good)?;
    ensure!(
        out.status.success(),
        "valid graph refused: {}",
        stderr(&out)
    );
    ensure!(
        stderr(&out).contains("Warning: spec.services.Frontend.dynamoNamespace: is deprecated"),
        "no warning shown: {}",
        stderr(&out)
    );
    let graph: DynamoGraphDeployment = Api::namespaced(client.clone(), &ns).get("vllm-agg").await?;
    ensure!(
        graph.component("Frontend").and_then(|c| c.replicas) == Some(1),
        "replicas not defaulted"
    );
    let annotations = graph.metadata.annotations.clone().unwrap_or_default();
    ensure!(
        annotations.contains_key("nvidia.com/dynamo-operator-origin-version"),
        "origin version not stamped"
    );
    ensure!(
        annotations
            .get("nvidia.com/workload-provider")
            .map(String::as_str)
            == Some("component"),
        "workload provider not stamped: {annotations:?}"
    );

    // UPDATE rules, on updates written in v1alpha1's shape (converted by the API server).
    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
    let alpha_graphs = common::dynamic_api(
        &client,
        &ns,
        dynamo_api::v1alpha1::API_VERSION,
        "DynamoGraphDeployment",
    );
    let refused = |patch: serde_json::Value| {
        let graphs = alpha_graphs.clone();
        async move {
            match graphs
                .patch("vllm-agg", &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => anyhow::bail!("update accepted: {patch}"),
                Err(kube::Error::Api(e)) => Ok(e.message),
                Err(e) => Err(e.into()),
            }
        }
    };
    let message = refused(json!({"spec": {"backendFramework": "sglang"}})).await?;
    ensure!(
        message.contains("spec.backendFramework: is immutable"),
        "{message}"
    );
    let message =
        refused(json!({"spec": {"services": {"Extra": {"componentType": "frontend"}}}})).await?;
    ensure!(
        message.contains("components cannot be added or removed after creation (added Extra)"),
        "{message}"
    );
    let message = refused(
        json!({"spec": {"services": {"VllmDecodeWorker": {"multinode": {"nodeCount": 2}}}}}),
    )
    .await?;
    ensure!(
        message.contains("spec.components[1].multinode: a component cannot switch"),
        "{message}"
    );
    let message =
        refused(json!({"spec": {"services": {"VllmDecodeWorker": {"replicas": 3}}}})).await?;
    ensure!(
        message.contains("is owned by the scaling adapter"),
        "{message}"
    );
    // The operator's own account (impersonated) may change them.
    let mut as_operator = cp.kube_config();
    as_operator.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:dynamo-operator"));
    as_operator.auth_info.impersonate_groups = Some(vec!["system:masters".into()]);
    common::dynamic_api(
        &Client::try_from(as_operator)?,
        &ns,
        dynamo_api::v1alpha1::API_VERSION,
        "DynamoGraphDeployment",
    )
    .patch(
        "vllm-agg",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"services": {"VllmDecodeWorker": {"replicas": 3}}}})),
    )
    .await
    .context("the operator's account scales an adapter-owned service")?;
    // The restart id is frozen while a rolling update runs.
    graphs
        .patch_status(
            "vllm-agg",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"rollingUpdate": {"phase": "InProgress"}}})),
        )
        .await?;
    let message = refused(json!({"spec": {"restart": {"id": "again"}}})).await?;
    ensure!(
        message.contains("spec.restart.id: cannot change while a rolling update"),
        "{message}"
    );

    // Models are judged too.
    let out = kubectl_apply(
        cp,
        &ns,
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoModel\nmetadata: {name: lora}\n\
         spec: {modelName: a, baseModelName: b, modelType: lora}\n",
    )?;
    ensure!(
        !out.status.success(),
        "a LoRA model without a source was accepted"
    );
    ensure!(
        stderr(&out).contains("spec.source.uri: is required"),
        "{}",
        stderr(&out)
    );

    // Down: a webhook with failurePolicy Fail refuses, with Ignore lets writes through.
    operator.kill()?;
    let other = anchor_with(|g| g["metadata"]["name"] = json!("second"))?;
    let out = kubectl_apply(cp, &ns, &other)?;
    ensure!(
        !out.status.success(),
        "fail-closed webhook let a write through while down"
    );
    ensure!(
        stderr(&out).contains("failed calling webhook"),
        "{}",
        stderr(&out)
    );
    for kind in ["validating", "mutating"] {
        let patch =
            json!([{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Ignore"}]);
        let patch: json_patch::Patch = serde_json::from_value(patch)?;
        if kind == "validating" {
            Api::<ValidatingWebhookConfiguration>::all(client.clone())
                .patch(&name, &PatchParams::default(), &Patch::<()>::Json(patch))
                .await?;
        } else {
            Api::<MutatingWebhookConfiguration>::all(client.clone())
                .patch(&name, &PatchParams::default(), &Patch::<()>::Json(patch))
                .await?;
        }
    }
    let out = kubectl_apply(cp, &ns, &other)?;
    ensure!(
        out.status.success(),
        "fail-open webhook refused while down: {}",
        stderr(&out)
    );
    Ok(())
}

#[tokio::test]
async fn a_restarted_operator_keeps_its_ca_and_reaches_ready_fast() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("webhook-ca").await?;
    let name = format!("{ns}-hooks");
    let mut first = start(cp, &ns, &name).await?;
    register(&client, &name, &ns, first.webhook_port, "Fail").await?;
    let _registered = Registered::new(cp, &name)?;
    let ca = wait_ca_bundle(&client, &ns, &name).await?;
    first.terminate(Duration::from_secs(10))?;
    let started = Instant::now();
    let second = start(cp, &ns, &name).await?;
    eprintln!("webhook ready after restart in {:?}", started.elapsed());
    // Same Secret, same CA: the bundle the API server holds stays valid.
    let again = wait_ca_bundle(&client, &ns, &name).await?;
    ensure!(again == ca, "the CA changed across a restart");
    // Re-register at the new port; the kept CA verifies the new process at once.
    unregister(&client, &name).await;
    register(&client, &name, &ns, second.webhook_port, "Fail").await?;
    wait_ca_bundle(&client, &ns, &name).await?;
    let out = kubectl_apply(cp, &ns, &invalid()?)?;
    ensure!(stderr(&out).contains(INVALID_MESSAGE), "{}", stderr(&out));
    Ok(())
}

/// A two-component vLLM graph named `name` in the `v1beta1` shape: a frontend and a worker
/// called `worker`, `edit` applied to its JSON form.
fn beta_graph(name: &str, worker: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let image = "registry.example.com/dynamo/vllm-runtime:1.5.0";
    let mut graph = json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": name},
        "spec": {
            "backendFramework": "vllm",
            "components": [
                {"name": "Frontend", "type": "frontend",
                 "podTemplate": {"spec": {"containers": [{"name": "main", "image": image}]}}},
                {"name": worker, "type": "worker",
                 "podTemplate": {"spec": {"containers": [{
                     "name": "main", "image": image,
                     "resources": {"limits": {"nvidia.com/gpu": "1"}},
                 }]}}},
            ],
        },
    });
    edit(&mut graph);
    serde_yaml_ng::to_string(&graph).unwrap_or_default()
}

/// The same graph in the `v1alpha1` shape.
fn alpha_graph(name: &str, worker: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let image = "registry.example.com/dynamo/vllm-runtime:1.5.0";
    let mut graph = json!({
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeployment",
        "metadata": {"name": name},
        "spec": {
            "backendFramework": "vllm",
            "services": {
                "Frontend": {"componentType": "frontend",
                             "extraPodSpec": {"mainContainer": {"image": image}}},
                worker: {"componentType": "worker", "resources": {"limits": {"gpu": "1"}},
                         "extraPodSpec": {"mainContainer": {"image": image}}},
            },
        },
    });
    edit(&mut graph);
    serde_yaml_ng::to_string(&graph).unwrap_or_default()
}

/// Dynamo 1.5's verdicts on the inputs where our admission used to disagree with it (issue 18,
/// section 5), each written in both API versions: refused here as there (a PVC to create without
/// a size, shared memory neither disabled nor sized, a restart order with the parallel
/// strategy), accepted here as there (annotation values Dynamo reads in any case, long graph
/// and component names when the graph opts out of Grove).
#[tokio::test]
async fn admission_agrees_with_dynamo_on_both_versions() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("webhook-dynamo").await?;
    let name = format!("{ns}-hooks");
    // Grove enabled, so opting out of it by annotation is what admission must honour.
    let operator = start_with(cp, &ns, &name, true).await?;
    register(&client, &name, &ns, operator.webhook_port, "Fail").await?;
    let _registered = Registered::new(cp, &name)?;
    wait_ca_bundle(&client, &ns, &name).await?;

    let refused = |yaml: String, needle: &'static str| {
        let out = kubectl_apply(cp, &ns, &yaml);
        async move {
            let out = out?;
            ensure!(
                !out.status.success(),
                "accepted, expected `{needle}`:\n{yaml}"
            );
            ensure!(
                stderr(&out).contains(needle),
                "expected `{needle}`, kubectl said: {}",
                stderr(&out)
            );
            Ok(())
        }
    };
    let accepted = |yaml: String| {
        let out = kubectl_apply(cp, &ns, &yaml);
        async move {
            let out = out?;
            ensure!(out.status.success(), "refused: {}\n{yaml}", stderr(&out));
            Ok(())
        }
    };

    // Refused as by Dynamo: a PVC to create without a size (v1beta1 has no such field).
    refused(
        alpha_graph("pvc", "worker", |g| {
            g["spec"]["pvcs"] = json!([{"name": "models", "create": true,
                "storageClass": "standard", "volumeAccessMode": "ReadWriteOnce"}]);
        }),
        "spec.pvcs[0].size: is required when create is true",
    )
    .await?;
    // Shared memory not disabled and not sized; in v1beta1 a negative size is the bad input.
    refused(
        alpha_graph("shm", "worker", |g| {
            g["spec"]["services"]["worker"]["sharedMemory"] = json!({"disabled": false});
        }),
        "size is required when disabled is false",
    )
    .await?;
    refused(
        beta_graph("shm", "worker", |g| {
            g["spec"]["components"][1]["sharedMemorySize"] = json!("-1Gi");
        }),
        "spec.components[1].sharedMemorySize: must not be negative",
    )
    .await?;

    // A restart cannot come with the graph; once it exists, an order with the parallel
    // strategy is refused in either version, and an order with the sequential one is not.
    let restart = json!({"id": "r1", "strategy": {"type": "Parallel", "order": ["Frontend"]}});
    refused(
        beta_graph("restart", "worker", |g| {
            g["spec"]["restart"] = restart.clone()
        }),
        "spec.restart must be unset on create",
    )
    .await?;
    refused(
        alpha_graph("restart", "worker", |g| {
            g["spec"]["restart"] = restart.clone()
        }),
        "spec.restart must be unset on create",
    )
    .await?;
    accepted(beta_graph("restart", "worker", |_| {})).await?;
    let parallel = "spec.restart.strategy.order: cannot be specified when strategy is parallel";
    refused(
        beta_graph("restart", "worker", |g| {
            g["spec"]["restart"] = restart.clone()
        }),
        parallel,
    )
    .await?;
    refused(
        alpha_graph("restart", "worker", |g| {
            g["spec"]["restart"] = restart.clone()
        }),
        parallel,
    )
    .await?;
    accepted(beta_graph("restart", "worker", |g| {
        g["spec"]["restart"] = json!({"id": "r1",
            "strategy": {"type": "Sequential", "order": ["worker", "Frontend"]}});
    }))
    .await?;

    // Annotation values Dynamo reads in any case: "FALSE" opts out of Grove, "MP" picks the
    // multiprocessing executor. A value it does not know is still refused.
    accepted(beta_graph("upper-beta", "worker", |g| {
        g["metadata"]["annotations"] = json!({"nvidia.com/enable-grove": "FALSE"});
        g["spec"]["components"][1]["podTemplate"]["metadata"] =
            json!({"annotations": {"nvidia.com/vllm-distributed-executor-backend": "MP"}});
    }))
    .await?;
    accepted(alpha_graph("upper-alpha", "worker", |g| {
        g["metadata"]["annotations"] = json!({"nvidia.com/enable-grove": "FALSE"});
        g["spec"]["services"]["worker"]["annotations"] =
            json!({"nvidia.com/vllm-distributed-executor-backend": "MP"});
    }))
    .await?;
    let graphs: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
    for graph in ["upper-beta", "upper-alpha"] {
        let provider = graphs
            .get(graph)
            .await?
            .metadata
            .annotations
            .unwrap_or_default()
            .get("nvidia.com/workload-provider")
            .cloned();
        ensure!(
            provider.as_deref() == Some("component"),
            "{graph}: `enable-grove: FALSE` did not opt out of Grove: provider {provider:?}"
        );
    }
    refused(
        beta_graph("odd-backend", "worker", |g| {
            g["spec"]["components"][1]["podTemplate"]["metadata"] =
                json!({"annotations": {"nvidia.com/vllm-distributed-executor-backend": "spark"}});
        }),
        "spec.components[1].podTemplate.metadata.annotations: Invalid value: podTemplate \
         backend annotation must be mp or ray",
    )
    .await?;

    // Long names: 35 + 30 characters pass Grove's budget of 45 only when the graph opts out of
    // Grove; then, as with Dynamo, admission accepts them and the component reports the Service
    // name Kubernetes refuses (the render tests cover that message).
    let graph_name = "a-graph-name-of-thirty-five-letters";
    let component = "AComponentNameOfThirtyLetters0";
    ensure!(graph_name.len() == 35 && component.len() == 30);
    refused(
        beta_graph(graph_name, component, |_| {}),
        "graph name + component name is 65 characters; Grove allows at most 45",
    )
    .await?;
    accepted(beta_graph(graph_name, component, |g| {
        g["metadata"]["annotations"] = json!({"nvidia.com/enable-grove": "false"});
    }))
    .await?;
    let alpha_name = "b-graph-name-of-thirty-five-letters";
    refused(
        alpha_graph(alpha_name, component, |_| {}),
        "graph name + component name is 65 characters; Grove allows at most 45",
    )
    .await?;
    accepted(alpha_graph(alpha_name, component, |g| {
        g["metadata"]["annotations"] = json!({"nvidia.com/enable-grove": "False"});
    }))
    .await?;
    Ok(())
}
