//! The dynamo-platform chart's RBAC is enough to run the operator, and no more: the chart is
//! installed with the real helm (cluster-wide mode, no pod of its own), the operator binary runs
//! out of cluster with the chart's configuration and arguments, impersonating the chart's
//! ServiceAccount, and does its cluster-wide duties (writes its CA into a converted CRD,
//! narrows a CRD's storedVersions after migrating its objects, marks requests and checkpoints as
//! not supported) and converges a graph; writes outside the chart's rules are refused with 403.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use dynamo_test_harness::{ControlPlane, FakeNodes, Mode, workspace_root};
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, Secret};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

use crate::common;
use crate::process::Launch;

const RELEASE: &str = "dynamo";
const NAMESPACE: &str = "dynamo-system";

/// The CRD this test points at the operator's conversion webhook (by loopback URL).
const CONVERTED_HERE: &str = "dynamographdeploymentrequests.nvidia.com";
/// The CRD whose storedVersions this test widens, for the operator to migrate and narrow.
const WIDENED: &str = "dynamographdeploymentscalingadapters.nvidia.com";

/// `<release>-dynamo-operator`: the chart's ServiceAccount, ConfigMap prefix and Deployment.
fn operator_name() -> String {
    format!("{RELEASE}-dynamo-operator")
}

/// Runs `command`; its stdout, or an error with its output.
fn run(mut command: Command) -> Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The values of a test install: cluster-wide, no operator pod (replicas 0: only the process
/// this test starts acts), no NATS, no orchestrators, the leader Lease in the release namespace,
/// and webhooks that neither block (Ignore) nor see any namespace but the release's.
fn values() -> Value {
    json!({
        "nats": {"enabled": false},
        "dynamo-operator": {
            "replicas": 0,
            "nats": {"enabled": false},
            "webhook": {
                "failurePolicy": "Ignore",
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}
            },
            "controllerManager": {"leaderElection": {"namespace": NAMESPACE}},
            "orchestrators": {
                "grove": {"enabled": false},
                "lws": {"enabled": false},
                "kaiScheduler": {"enabled": false}
            }
        }
    })
}

/// A copy of the admin kubeconfig whose every user impersonates `user` in `groups`.
fn impersonating_kubeconfig(
    admin: &Path,
    dir: &Path,
    user: &str,
    groups: &[String],
) -> Result<PathBuf> {
    let mut config: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(admin)?)?;
    let users = config["users"]
        .as_array_mut()
        .context("the admin kubeconfig has no users")?;
    for entry in users {
        entry["user"]["as"] = json!(user);
        entry["user"]["as-groups"] = json!(groups);
    }
    let path = dir.join("impersonating.kubeconfig");
    std::fs::write(&path, serde_yaml_ng::to_string(&config)?)?;
    Ok(path)
}

/// Whether `outcome` is the API server's 403.
fn forbidden<T: std::fmt::Debug>(what: &str, outcome: kube::Result<T>) -> Result<String> {
    match outcome {
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(status.message),
        other => bail!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn the_chart_service_account_runs_the_operator_and_nothing_more() -> Result<()> {
    // A private control plane: the chart installs cluster-wide objects (ClusterRoles, webhook
    // configurations) that the shared one must not see.
    let cp = ControlPlane::start(Mode::Full(
        FakeNodes::new().count(1).name_prefix("kwok-rbac"),
    ))
    .await?;
    let admin = cp.client().await?;
    let home = tempfile::tempdir()?;
    let op = operator_name();

    // 1. The chart, installed by helm.
    let values_path = home.path().join("values.yaml");
    std::fs::write(&values_path, serde_json::to_string_pretty(&values())?)?;
    let mut install = cp.helm()?;
    install
        .args(["install", RELEASE])
        .arg(workspace_root().join("charts/dynamo-platform"))
        .args(["--namespace", NAMESPACE, "--create-namespace"])
        .args(["--timeout", "2m", "-f"])
        .arg(&values_path);
    run(install)?;
    let outcome = run_as_the_chart(&cp, &admin, home.path(), &op).await;

    // 7. Uninstall, whatever happened.
    let mut uninstall = cp.helm()?;
    uninstall.args([
        "uninstall",
        RELEASE,
        "--namespace",
        NAMESPACE,
        "--wait",
        "--timeout",
        "2m",
    ]);
    let uninstalled = run(uninstall);
    outcome?;
    uninstalled?;
    Ok(())
}

async fn run_as_the_chart(cp: &ControlPlane, admin: &Client, home: &Path, op: &str) -> Result<()> {
    // The chart's Deployment runs nothing: only our process acts.
    let deployment = Api::<Deployment>::namespaced(admin.clone(), NAMESPACE)
        .get(op)
        .await?;
    let spec = deployment.spec;
    ensure!(spec.replicas == Some(0), "replicas {:?}", spec.replicas);
    let pod = spec.template.spec.context("no pod spec")?;
    ensure!(
        pod.service_account_name.as_deref() == Some(op),
        "the pod runs as {:?}",
        pod.service_account_name
    );
    let container = pod.containers.into_iter().next().context("no container")?;
    // The chart's arguments, but `--config`, which is ours (the chart's text with loopback ports).
    let chart_args: Vec<String> = container
        .args
        .unwrap_or_default()
        .into_iter()
        .skip_while(|a| a == "run")
        .filter(|a| !a.starts_with("--config"))
        .collect();

    // The configuration the chart installed (its ConfigMap).
    let config_map = Api::<ConfigMap>::namespaced(admin.clone(), NAMESPACE)
        .get(&format!("{op}-config"))
        .await?;
    let config = config_map
        .data
        .and_then(|d| d.get("config.yaml").cloned())
        .context("the operator ConfigMap has no config.yaml")?;
    let parsed: Value = serde_yaml_ng::from_str(&config)?;
    ensure!(
        parsed["leaderElection"]["namespace"] == NAMESPACE
            && parsed["server"]["webhook"]["certProvisionMode"] == "auto",
        "the chart's configuration:\n{config}"
    );

    // The admission webhooks it registers are at the paths the operator serves in Dynamo 1.5.
    let mut paths = Vec::new();
    let validating = Api::<ValidatingWebhookConfiguration>::all(admin.clone())
        .get(&format!("{op}-webhook"))
        .await?;
    let mutating = Api::<MutatingWebhookConfiguration>::all(admin.clone())
        .get(&format!("{op}-webhook"))
        .await?;
    for config in validating
        .webhooks
        .iter()
        .flatten()
        .map(|w| &w.client_config)
        .chain(mutating.webhooks.iter().flatten().map(|w| &w.client_config))
    {
        paths.push(
            config
                .service
                .as_ref()
                .and_then(|s| s.path.clone())
                .unwrap_or_default(),
        );
    }
    paths.sort();
    let mut served = vec![
        dynamo_webhook::admission::MUTATE_GRAPH.to_owned(),
        dynamo_webhook::admission::MUTATE_COMPONENT.to_owned(),
        dynamo_webhook::admission::VALIDATE_GRAPH.to_owned(),
        dynamo_webhook::admission::VALIDATE_COMPONENT.to_owned(),
        dynamo_webhook::admission::VALIDATE_MODEL.to_owned(),
    ];
    served.sort();
    assert_eq!(paths, served, "the chart's webhook paths");

    // Work for its cluster-wide duties: a CRD whose storedVersions still list v1alpha1 (as after
    // an upgrade), to be migrated and narrowed.
    Api::<CustomResourceDefinition>::all(admin.clone())
        .patch_status(
            WIDENED,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"storedVersions": ["v1alpha1", "v1beta1"]}})),
        )
        .await?;

    // 3. A kubeconfig impersonating the chart's ServiceAccount; kube reads the impersonation.
    let user = format!("system:serviceaccount:{NAMESPACE}:{op}");
    let groups = vec![
        "system:serviceaccounts".to_owned(),
        format!("system:serviceaccounts:{NAMESPACE}"),
        "system:authenticated".to_owned(),
    ];
    let kubeconfig = impersonating_kubeconfig(cp.kubeconfig_path(), home, &user, &groups)?;
    let file = Kubeconfig::read_from(&kubeconfig)?;
    ensure!(!file.auth_infos.is_empty());
    for named in &file.auth_infos {
        let auth = named.auth_info.as_ref().context("a user without fields")?;
        ensure!(
            auth.impersonate.as_deref() == Some(user.as_str()),
            "{auth:?}"
        );
        ensure!(
            auth.impersonate_groups.as_ref() == Some(&groups),
            "{auth:?}"
        );
    }
    let sa = Client::try_from(
        Config::from_custom_kubeconfig(file, &KubeConfigOptions::default()).await?,
    )?;
    // The impersonation takes: the ServiceAccount may not even read Nodes.
    forbidden(
        "listing Nodes as the ServiceAccount",
        Api::<Node>::all(sa.clone()).list(&Default::default()).await,
    )?;

    // 4. The operator binary as the ServiceAccount, with the chart's configuration.
    let certs = home.join("certs");
    std::fs::create_dir_all(&certs)?;
    let operator = Launch::new(cp, "")
        .raw_config(&config)
        .kubeconfig(kubeconfig.clone())
        .args(chart_args.clone())
        .args(["--operator-namespace", NAMESPACE, "--service-account", op])
        .start("chart-rbac", &format!(", certDir: {}", certs.display()))?;
    eprintln!(
        "operator args: {chart_args:?}; log: {}",
        operator.log.display()
    );
    let readiness = operator.wait_ready(Duration::from_secs(60)).await;
    let duties = async {
        readiness.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
        cluster_wide_duties(cp, admin, operator.webhook_port).await
    }
    .await;

    // 5. A graph in a user namespace converges.
    let converged = async {
        readiness?;
        let (_, ns) = cp.namespace("rbac").await?;
        common::apply_yaml(admin, &ns, &common::small_graph("rbac", "v1")).await?;
        common::wait_ready(admin, &ns, "rbac", "True", None, Duration::from_secs(120))
            .await
            .map(|_| ())
            .with_context(|| {
                format!(
                    "the graph did not become Ready as the chart's ServiceAccount; operator log:\n{}",
                    operator.log_text()
                )
            })
    }
    .await;
    let log = operator.log_text();
    let denials: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("forbidden") || l.contains("Forbidden"))
        .collect();
    let notable = [
        "starting",
        "leader",
        "lead",
        "certificate",
        "caBundle",
        "webhook",
        "WARN",
        "ERROR",
    ];
    for line in log
        .lines()
        .filter(|l| notable.iter().any(|n| l.contains(n)))
        .take(30)
    {
        eprintln!("operator: {line}");
    }
    eprintln!("operator log lines with `forbidden`: {}", denials.len());
    for line in denials.iter().take(20) {
        eprintln!("  {line}");
    }
    duties?;
    converged?;
    ensure!(
        denials.is_empty(),
        "the operator was refused something:\n{}",
        denials.join("\n")
    );
    // What the chart grants it did use: its certificate Secret and the leader Lease.
    Api::<Secret>::namespaced(admin.clone(), NAMESPACE)
        .get("webhook-server-cert")
        .await
        .context("the operator's webhook certificate Secret")?;
    ensure!(
        operator.metric("dynamo_operator_leader").await == Some(1.0),
        "the operator does not lead"
    );

    // 6. Writes outside the chart's rules are refused.
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": "rbac-escape"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    }))?;
    let message = forbidden(
        "creating a ClusterRole as the ServiceAccount",
        Api::<ClusterRole>::all(sa.clone())
            .create(&PostParams::default(), &role)
            .await,
    )?;
    eprintln!("create ClusterRole: {message}");
    let node = cp.node_names().first().context("no fake node")?.clone();
    let message = forbidden(
        "deleting a Node as the ServiceAccount",
        Api::<Node>::all(sa.clone())
            .delete(&node, &DeleteParams::default())
            .await,
    )?;
    eprintln!("delete Node: {message}");
    // (Patching a ConfigMap of kube-system is no such write: cluster-wide, the operator applies
    // graph ConfigMaps in every namespace, and RBAC cannot leave one namespace out.) Running a
    // pod of its own there is: the chart lets it read pods, never create them.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "rbac-escape"},
        "spec": {"containers": [{"name": "c", "image": "registry.example.com/escape:1"}]}
    }))?;
    let message = forbidden(
        "creating a Pod in kube-system as the ServiceAccount",
        Api::<Pod>::namespaced(sa.clone(), "kube-system")
            .create(&PostParams::default(), &pod)
            .await,
    )?;
    eprintln!("create Pod in kube-system: {message}");
    // And nothing of that happened.
    ensure!(
        Api::<ClusterRole>::all(admin.clone())
            .get_opt("rbac-escape")
            .await?
            .is_none()
    );
    ensure!(
        Api::<Pod>::namespaced(admin.clone(), "kube-system")
            .get_opt("rbac-escape")
            .await?
            .is_none()
    );
    Api::<Node>::all(admin.clone()).get(&node).await?;
    Ok(())
}

/// What a cluster-wide operator does besides reconciling, each needing its own grant: it writes
/// its CA into a converted CRD pointed at it (patch of that CRD), narrows the storedVersions of
/// a CRD once its objects are rewritten (CRD status), and marks requests and checkpoints as not
/// supported (their status).
async fn cluster_wide_duties(cp: &ControlPlane, admin: &Client, webhook_port: u16) -> Result<()> {
    let crds = Api::<CustomResourceDefinition>::all(admin.clone());
    crds.patch(
        CONVERTED_HERE,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"conversion": {"webhook": {"clientConfig": {
            "url": format!("https://127.0.0.1:{webhook_port}/convert"), "caBundle": null,
        }}}}})),
    )
    .await?;
    common::wait_for(
        "the operator's CA in the request CRD's conversion webhook",
        Duration::from_secs(45),
        || async {
            let Some(ca) = common::operator_ca(admin, NAMESPACE).await? else {
                return Ok(None);
            };
            let crd = crds.get(CONVERTED_HERE).await?;
            let bundle = crd
                .spec
                .conversion
                .and_then(|c| c.webhook)
                .and_then(|w| w.client_config)
                .and_then(|c| c.ca_bundle);
            Ok((bundle.as_ref() == Some(&ca)).then_some(()))
        },
    )
    .await?;
    common::wait_for(
        "the scaling adapter CRD's storedVersions narrowed",
        Duration::from_secs(60),
        || async {
            let stored = crds
                .get(WIDENED)
                .await?
                .status
                .and_then(|s| s.stored_versions)
                .unwrap_or_default();
            Ok((stored == ["v1beta1"]).then_some(()))
        },
    )
    .await?;

    let (_, ns) = cp.namespace("rbac-unsupported").await?;
    let request = json!({
        "apiVersion": "nvidia.com/v1beta1", "kind": "DynamoGraphDeploymentRequest",
        "metadata": {"name": "req"}, "spec": {"model": "Qwen/Qwen3-0.6B"},
    });
    let checkpoint = json!({
        "apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoCheckpoint",
        "metadata": {"name": "ckpt"},
        "spec": {
            "identity": {"backendFramework": "vllm", "model": "Qwen/Qwen3-0.6B"},
            "job": {"podTemplateSpec": {"spec": {"containers": [
                {"name": "main", "image": "registry.example.com/dynamo:v1"}
            ]}}},
        },
    });
    for object in [request, checkpoint] {
        common::apply_yaml(admin, &ns, &serde_yaml_ng::to_string(&object)?).await?;
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let api = common::dynamic_api(admin, &ns, api_version, kind);
        common::wait_for(
            &format!("{kind} {name} marked NotSupported"),
            Duration::from_secs(30),
            || async {
                let live = api.get(name).await?;
                Ok(live.data["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| {
                        c["type"] == "Ready"
                            && c["reason"] == dynamo_controllers::unsupported::REASON
                    })
                    .then_some(()))
            },
        )
        .await?;
    }
    Ok(())
}
