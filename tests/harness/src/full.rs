//! Full mode's controllers: kube-controller-manager and kube-scheduler.
//!
//! Both use the admin kubeconfig, run without leader election and serve their health endpoints
//! on loopback with a self-signed certificate.
//!
//! kube-scheduler runs one profile per name in [`SCHEDULER_NAMES`], so pods that name the
//! Volcano or KAI scheduler in `spec.schedulerName` (as the operator renders them for gang
//! scheduling) are placed on the fake nodes too. Every profile is the default plugin set: pods are
//! placed one at a time, so this does **not** gang-schedule (no all-or-nothing placement, no
//! PodGroup or Queue semantics). Neither Volcano nor KAI can be built here; tests that need gang
//! semantics must not rely on this stand-in.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{Api, Client};

use crate::bins::Bins;
use crate::certs::Pki;
use crate::error::{Component, HarnessError, Result};
use crate::kubeconfig;
use crate::process::Process;
use crate::wait;
use crate::workdir::WorkDir;

/// How long each controller may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// The controllers full mode runs; everything a Deployment, StatefulSet or Job needs to get
/// pods, plus garbage collection, namespace deletion and service accounts.
pub const CONTROLLERS: &[&str] = &[
    "garbage-collector-controller",
    "namespace-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "job-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "endpointslice-controller",
    "disruption-controller",
    "ttl-after-finished-controller",
    // Binds PersistentVolumeClaims to the PersistentVolumes tests create (graphs that mount
    // model storage); there is no provisioner, so a claim binds only to a volume made for it.
    "persistentvolume-binder-controller",
];

/// Starts kube-controller-manager with [`CONTROLLERS`] on `port`.
///
/// Ready when `/healthz` is ok and the service-account controller has created
/// `default/default`.
pub(crate) async fn start_controller_manager(
    bins: &Bins,
    workdir: &WorkDir,
    pki: &Pki,
    kubeconfig_path: &Path,
    port: u16,
) -> Result<Process> {
    let component = Component::ControllerManager;
    let program = bins.path(component, "kube-controller-manager")?;
    let cert_dir = workdir.path("pki/controller-manager");
    let args = vec![
        format!("--kubeconfig={}", kubeconfig_path.display()),
        format!("--controllers={}", CONTROLLERS.join(",")),
        "--leader-elect=false".to_owned(),
        "--use-service-account-credentials=false".to_owned(),
        format!(
            "--service-account-private-key-file={}",
            pki.sa_key.display()
        ),
        format!("--root-ca-file={}", pki.ca_cert.display()),
        "--bind-address=127.0.0.1".to_owned(),
        format!("--secure-port={port}"),
        format!("--cert-dir={}", cert_dir.display()),
        "--v=1".to_owned(),
    ];
    let process = Process::spawn(component, &program, &args, &[], workdir)?;
    let client = kubeconfig::client(component, kubeconfig::load(kubeconfig_path).await?)?;
    let base = format!("https://127.0.0.1:{port}");
    wait::until_ready(&process, READY_TIMEOUT, || {
        let (client, base) = (client.clone(), base.clone());
        async move {
            healthy(&base, "/healthz").await?;
            default_service_account(&client, "default").await
        }
    })
    .await?;
    Ok(process)
}

/// The scheduler names kube-scheduler answers to in full mode: its own default, Volcano's and the
/// KAI scheduler's (each a profile with the default plugins; see the module docs).
pub const SCHEDULER_NAMES: &[&str] = &["default-scheduler", "volcano", "kai-scheduler"];

/// The KubeSchedulerConfiguration: the admin kubeconfig, no leader election, one profile per
/// name in [`SCHEDULER_NAMES`].
fn scheduler_config(kubeconfig_path: &Path) -> Result<String> {
    let profiles: Vec<serde_json::Value> = SCHEDULER_NAMES
        .iter()
        .map(|name| serde_json::json!({ "schedulerName": name }))
        .collect();
    let config = serde_json::json!({
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": { "kubeconfig": kubeconfig_path },
        "leaderElection": { "leaderElect": false },
        "profiles": profiles,
    });
    serde_yaml_ng::to_string(&config).map_err(|e| {
        HarnessError::invalid(
            Component::Scheduler,
            format!("serializing the scheduler configuration: {e}"),
        )
    })
}

/// Starts kube-scheduler on `port` with the profiles of [`SCHEDULER_NAMES`]; ready when
/// `/readyz` is ok (informers synced).
pub(crate) async fn start_scheduler(
    bins: &Bins,
    workdir: &WorkDir,
    kubeconfig_path: &Path,
    port: u16,
) -> Result<Process> {
    let component = Component::Scheduler;
    let program = bins.path(component, "kube-scheduler")?;
    let cert_dir = workdir.path("pki/scheduler");
    let config = workdir.write(
        "kube-scheduler/config.yaml",
        scheduler_config(kubeconfig_path)?,
    )?;
    let args = vec![
        format!("--config={}", config.display()),
        "--bind-address=127.0.0.1".to_owned(),
        format!("--secure-port={port}"),
        format!("--cert-dir={}", cert_dir.display()),
        "--v=1".to_owned(),
    ];
    let process = Process::spawn(component, &program, &args, &[], workdir)?;
    let base = format!("https://127.0.0.1:{port}");
    wait::until_ready(&process, READY_TIMEOUT, || {
        let base = base.clone();
        async move { healthy(&base, "/readyz").await }
    })
    .await?;
    Ok(process)
}

async fn healthy(base: &str, path: &str) -> std::result::Result<(), String> {
    let body = kubeconfig::get_insecure(base, path).await?;
    if body.trim() == "ok" {
        Ok(())
    } else {
        Err(format!("{path} answered {body:?}"))
    }
}

/// Succeeds once the service-account controller has created `default` in `namespace`.
pub(crate) async fn default_service_account(
    client: &Client,
    namespace: &str,
) -> std::result::Result<(), String> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    match api.get_opt("default").await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(format!("no ServiceAccount {namespace}/default yet")),
        Err(e) => Err(format!("getting ServiceAccount {namespace}/default: {e}")),
    }
}
