//! The kube-apiserver: TLS with the harness CA, client-certificate auth, RBAC authorization.

use std::path::Path;
use std::time::Duration;

use crate::bins::Bins;
use crate::certs::Pki;
use crate::error::{Component, Result};
use crate::kubeconfig;
use crate::process::Process;
use crate::wait;
use crate::workdir::WorkDir;

/// How long the API server may take to report `/readyz` ok (cold starts on 2 cores are slow).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The service CIDR; its first address (10.0.0.1) is in the serving certificate. A /16 holds the
/// scale benchmark's Services (thousands); a /24 stops at about 250.
pub(crate) const SERVICE_CIDR: &str = "10.0.0.0/16";

/// Audit policy: every request at `Metadata` level (no bodies), so tests and benchmarks can
/// count the requests and writes a client made. Informer-based components read little, so the
/// log stays small next to what the writes alone would make.
const AUDIT_POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  # The API server's own loopback requests (OpenAPI aggregation, its lease) are nobody's.
  - level: None
    users: ["system:apiserver"]
  - level: Metadata
"#;

/// Where the audit log is written, relative to the control plane's directory.
pub(crate) const AUDIT_LOG: &str = "logs/audit.log";

/// Starts kube-apiserver on `port` against `etcd_url`.
///
/// Waits until `/readyz` succeeds with the admin credentials of `kubeconfig_path`, which also
/// proves that TLS, client-certificate authentication and RBAC bootstrap work.
pub(crate) async fn start(
    bins: &Bins,
    workdir: &WorkDir,
    pki: &Pki,
    etcd_url: &str,
    port: u16,
    kubeconfig_path: &Path,
) -> Result<Process> {
    let program = bins.path(Component::ApiServer, "kube-apiserver")?;
    let p = |path: &Path| path.display().to_string();
    let policy = workdir.write("audit-policy.yaml", AUDIT_POLICY)?;
    let args = vec![
        "--bind-address=127.0.0.1".to_owned(),
        "--advertise-address=127.0.0.1".to_owned(),
        format!("--secure-port={port}"),
        format!("--etcd-servers={etcd_url}"),
        format!("--cert-dir={}", p(&workdir.path("pki"))),
        format!("--tls-cert-file={}", p(&pki.serving_cert)),
        format!("--tls-private-key-file={}", p(&pki.serving_key)),
        format!("--client-ca-file={}", p(&pki.ca_cert)),
        "--authorization-mode=RBAC".to_owned(),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_owned(),
        format!("--service-account-key-file={}", p(&pki.sa_pub)),
        format!("--service-account-signing-key-file={}", p(&pki.sa_key)),
        format!("--service-cluster-ip-range={SERVICE_CIDR}"),
        "--allow-privileged=true".to_owned(),
        // No kubelets run, so the `kubernetes` Service needs no endpoints.
        "--endpoint-reconciler-type=none".to_owned(),
        "--profiling=false".to_owned(),
        format!("--audit-policy-file={}", p(&policy)),
        format!("--audit-log-path={}", p(&workdir.path(AUDIT_LOG))),
        "--audit-log-format=json".to_owned(),
        // Every event written before the request returns, so a count right after is exact.
        "--audit-log-mode=blocking".to_owned(),
        // A long-lived dev cluster must not fill the disk; tests and benchmarks stay far below.
        "--audit-log-maxsize=1024".to_owned(),
        "--audit-log-maxbackup=1".to_owned(),
        "--v=1".to_owned(),
    ];
    let process = Process::spawn(Component::ApiServer, &program, &args, &[], workdir)?;
    let config = kubeconfig::load(kubeconfig_path).await?;
    let client = kubeconfig::client(Component::ApiServer, config)?;
    wait::until_ready(&process, READY_TIMEOUT, || {
        let client = client.clone();
        async move {
            let body = kubeconfig::get(&client, "/readyz").await?;
            if body.trim() == "ok" {
                Ok(())
            } else {
                Err(format!("/readyz answered {body:?}"))
            }
        }
    })
    .await?;
    Ok(process)
}
