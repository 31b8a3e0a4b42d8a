//! Full mode's controllers: kube-controller-manager and kube-scheduler.
//!
//! Both use the admin kubeconfig, run without leader election and serve their health endpoints
//! on loopback with a self-signed certificate.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{Api, Client};

use crate::bins::Bins;
use crate::certs::Pki;
use crate::error::{Component, Result};
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

/// Starts kube-scheduler on `port`; ready when `/readyz` is ok (informers synced).
pub(crate) async fn start_scheduler(
    bins: &Bins,
    workdir: &WorkDir,
    kubeconfig_path: &Path,
    port: u16,
) -> Result<Process> {
    let component = Component::Scheduler;
    let program = bins.path(component, "kube-scheduler")?;
    let cert_dir = workdir.path("pki/scheduler");
    let args = vec![
        format!("--kubeconfig={}", kubeconfig_path.display()),
        "--leader-elect=false".to_owned(),
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
