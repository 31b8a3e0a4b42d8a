//! The LeaderWorkerSet controller (`sigs.k8s.io/lws`, built as `lws-controller` by
//! `hack/build-tools.sh`) running against a test control plane, with its admission webhooks.
//!
//! In a real cluster LWS runs in a pod behind a Service and rotates its own webhook certificate.
//! Here it runs on the host: its webhook server listens on `127.0.0.1:<free port>` with a
//! serving certificate from the harness CA, and the webhook configurations point at it by URL
//! with that CA as `caBundle`. Everything else (the controllers for LeaderWorkerSets and their
//! pods, the defaulting and validating webhooks) is the unmodified upstream binary.
//!
//! The webhook configurations mirror LWS's `config/webhook` manifests as kustomize deploys them
//! (with the `objectSelector` patches), so the pod webhooks only see pods labelled
//! [`LWS_NAME_LABEL`]; pods of other tests on a shared control plane never depend on this
//! controller. LWS's own pod webhook skips pods without that label anyway.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
    PostParams,
};
use kube::{Api, Client, Config};

use crate::bins::Bins;
use crate::certs::Pki;
use crate::control_plane::ControlPlane;
use crate::crds::FIELD_MANAGER;
use crate::error::{Component, HarnessError, Result};
use crate::process::Process;
use crate::workdir::WorkDir;
use crate::{kubeconfig, ports, wait};

/// The label LWS puts on every pod of a LeaderWorkerSet (its value is the set's name); the pod
/// webhooks only see pods that carry it.
pub const LWS_NAME_LABEL: &str = "leaderworkerset.sigs.k8s.io/name";

/// The label on the webhook configurations the harness creates for LWS, so a new controller can
/// remove the ones a previous instance left behind.
const WEBHOOK_LABEL: &str = "dynamo.test/lws-webhook";

/// The LWS API group, version and kind.
const LWS_GROUP: &str = "leaderworkerset.x-k8s.io";

/// How long the controller may take to answer `/healthz`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the webhooks may take to serve once the controller is healthy.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// How long deleting the webhook configurations may take when the handle is dropped.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The name of the LeaderWorkerSet that readiness creates with `dryRun=All` (never stored).
const PROBE_NAME: &str = "dynamo-test-lws-webhook-probe";

/// A running LeaderWorkerSet controller, started by
/// [`ControlPlane::start_leader_worker_set_controller`].
///
/// Handles are shared: every start on the same control plane while one is running returns a
/// handle to the same controller, and it stops when the last handle is dropped or stopped. On
/// drop the webhook configurations are deleted (best effort) and then the process is stopped, so
/// they never point at a dead server; [`LeaderWorkerSetController::stop`] does the same and
/// reports errors.
#[derive(Clone, Debug)]
pub struct LeaderWorkerSetController<'cp> {
    running: Arc<Running>,
    /// The controller talks to this control plane; the handle must not outlive it.
    plane: PhantomData<&'cp ControlPlane>,
}

impl LeaderWorkerSetController<'_> {
    /// Wraps a running controller in a handle tied to its control plane's lifetime.
    pub(crate) fn new(running: Arc<Running>) -> Self {
        LeaderWorkerSetController {
            running,
            plane: PhantomData,
        }
    }

    /// The webhook server's address, `https://127.0.0.1:<port>`.
    pub fn webhook_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.running.webhook_port)
    }

    /// The names of the MutatingWebhookConfiguration and ValidatingWebhookConfiguration.
    pub fn webhook_configurations(&self) -> [&str; 2] {
        [&self.running.mutating, &self.running.validating]
    }

    /// The controller's log file.
    pub fn log_path(&self) -> &Path {
        &self.running.log
    }

    /// Whether the controller process is still running.
    pub fn is_running(&self) -> bool {
        self.running.is_alive()
    }

    /// Gives up this handle; when it is the last one, deletes the webhook configurations and
    /// stops the controller, reporting a failed deletion.
    ///
    /// While other handles exist the controller keeps running and this only drops the handle.
    pub async fn stop(self) -> Result<()> {
        let Ok(mut running) = Arc::try_unwrap(self.running) else {
            return Ok(());
        };
        let deleted = match kubeconfig::client(Component::LeaderWorkerSet, running.config.clone()) {
            Ok(client) => delete_webhooks(&client, &running.mutating, &running.validating).await,
            Err(e) => Err(e),
        };
        // Deleted or not, Drop must not try again (it would only wait for the same failure).
        running.webhooks_deleted = true;
        let process = running.process.take();
        // Stopping waits for the process (up to the watchdog's SIGKILL escalation).
        tokio::task::spawn_blocking(move || drop(process))
            .await
            .map_err(|e| {
                HarnessError::invalid(
                    Component::LeaderWorkerSet,
                    format!("stopping the controller panicked: {e}"),
                )
            })?;
        deleted
    }
}

/// The controller process and the webhook configurations that point at it.
pub(crate) struct Running {
    /// `None` once [`LeaderWorkerSetController::stop`] has taken it.
    process: Option<Process>,
    /// The admin configuration, for deleting the webhook configurations.
    config: Config,
    mutating: String,
    validating: String,
    webhook_port: u16,
    log: PathBuf,
    webhooks_deleted: bool,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the client configuration: it holds the admin credentials.
        f.debug_struct("Running")
            .field("webhook_port", &self.webhook_port)
            .field("mutating", &self.mutating)
            .field("validating", &self.validating)
            .field("log", &self.log)
            .field("alive", &self.is_alive())
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Whether the process is running (not taken, not exited).
    pub(crate) fn is_alive(&self) -> bool {
        self.process
            .as_ref()
            .is_some_and(|p| p.exit_status().is_none())
    }
}

impl Drop for Running {
    /// Deletes the webhook configurations (best effort), then stops the process.
    fn drop(&mut self) {
        if !self.webhooks_deleted {
            let (config, mutating, validating) = (
                self.config.clone(),
                self.mutating.clone(),
                self.validating.clone(),
            );
            // Drop may run inside or outside a runtime, and the caller's runtime may be a
            // current-thread one that cannot block; a thread with its own runtime works in all.
            let outcome = std::thread::spawn(move || -> std::result::Result<(), String> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("building a runtime: {e}"))?;
                runtime.block_on(async {
                    let client = kubeconfig::client(Component::LeaderWorkerSet, config)
                        .map_err(|e| e.to_string())?;
                    let deleting = delete_webhooks(&client, &mutating, &validating);
                    match tokio::time::timeout(CLEANUP_TIMEOUT, deleting).await {
                        Ok(result) => result.map_err(|e| e.to_string()),
                        Err(_) => Err(format!("timed out after {CLEANUP_TIMEOUT:?}")),
                    }
                })
            })
            .join();
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some("the cleanup thread panicked".to_owned()),
            };
            if let Some(reason) = failure {
                eprintln!(
                    "dynamo-test-harness: lws-controller: could not delete webhook configurations {} and {}: {reason}",
                    self.mutating, self.validating
                );
            }
        }
        drop(self.process.take());
    }
}

/// Everything [`start`] needs from the control plane.
pub(crate) struct Plane<'a> {
    /// Where `lws-controller` is.
    pub(crate) bins: &'a Bins,
    /// Where its configuration, certificate and log go.
    pub(crate) workdir: &'a WorkDir,
    /// The CA that signs its serving certificate.
    pub(crate) pki: &'a Pki,
    /// The admin kubeconfig it connects with.
    pub(crate) kubeconfig: &'a Path,
    /// The same credentials for the harness's own requests.
    pub(crate) config: Config,
}

/// Starts `lws-controller` (its CRD must be installed) and its webhooks, and waits until it is
/// healthy and its webhooks serve.
pub(crate) async fn start(plane: Plane<'_>) -> Result<Running> {
    let component = Component::LeaderWorkerSet;
    let program = plane.bins.path(component, "lws-controller")?;
    let [webhook_port, health_port] = ports::free_ports(2)?[..] else {
        return Err(HarnessError::invalid(component, "expected two ports"));
    };
    let name = format!("{}-{webhook_port}", component.name());
    let dir = format!("lws/{webhook_port}");
    let cert_dir = plane.pki.issue_serving_cert(
        plane.workdir,
        &format!("{dir}/certs"),
        &name,
        &["127.0.0.1"],
    )?;
    let config_file = plane.workdir.write(
        &format!("{dir}/config.yaml"),
        configuration(webhook_port, health_port, &cert_dir)?,
    )?;
    let args = vec![
        format!("--config={}", config_file.display()),
        format!("--kubeconfig={}", plane.kubeconfig.display()),
    ];
    let client = kubeconfig::client(component, plane.config.clone())?;
    // Webhook configurations of an earlier instance that point at a dead server would fail
    // every LeaderWorkerSet write, including the readiness probe below.
    delete_stale_webhooks(&client).await?;

    let process = Process::spawn_as(component, &name, &program, &args, &[], plane.workdir)?;
    // From here on, dropping `running` on an error removes what was created.
    let running = Running {
        log: process.log().to_path_buf(),
        process: Some(process),
        config: plane.config,
        mutating: format!("dynamo-test-lws-mutating-{webhook_port}"),
        validating: format!("dynamo-test-lws-validating-{webhook_port}"),
        webhook_port,
        webhooks_deleted: false,
    };
    let process = running
        .process
        .as_ref()
        .ok_or_else(|| HarnessError::invalid(component, "the process is gone"))?;
    wait::until_ready(process, HEALTH_TIMEOUT, || async move {
        match wait::http_get(health_port, "/healthz").await? {
            (200, body) if body.trim() == "ok" => Ok(()),
            (status, body) => Err(format!("/healthz answered {status} {:?}", body.trim())),
        }
    })
    .await?;

    let ca = plane.pki.ca_pem();
    apply_webhooks(&client, &running, &ca).await?;
    wait::until_ready(process, WEBHOOK_TIMEOUT, || webhooks_serve(&client)).await?;
    Ok(running)
}

/// The LWS `Configuration` (config.lws.x-k8s.io/v1alpha1): webhook server on loopback with the
/// given certificate directory, no internal certificate management, no leader election, no
/// metrics server, health probes on loopback.
fn configuration(webhook_port: u16, health_port: u16, cert_dir: &Path) -> Result<String> {
    let config = serde_json::json!({
        "apiVersion": "config.lws.x-k8s.io/v1alpha1",
        "kind": "Configuration",
        "leaderElection": { "leaderElect": false },
        "internalCertManagement": { "enable": false },
        "webhook": {
            "host": "127.0.0.1",
            "port": webhook_port,
            "certDir": cert_dir,
        },
        // "0" turns the metrics server off.
        "metrics": { "bindAddress": "0" },
        "health": { "healthProbeBindAddress": format!("127.0.0.1:{health_port}") },
    });
    serde_yaml_ng::to_string(&config).map_err(|e| {
        HarnessError::invalid(
            Component::LeaderWorkerSet,
            format!("serializing the configuration: {e}"),
        )
    })
}

/// One webhook of LWS's manifests: `name`, the server `path`, the API `group` and `resource` it
/// intercepts for `operations`; `pods_only_of_lws` adds the objectSelector on [`LWS_NAME_LABEL`].
fn webhook(
    url_base: &str,
    ca_bundle: &serde_json::Value,
    name: &str,
    path: &str,
    (group, resource): (&str, &str),
    operations: &[&str],
    pods_only_of_lws: bool,
) -> serde_json::Value {
    let mut webhook = serde_json::json!({
        "name": name,
        "admissionReviewVersions": ["v1"],
        "clientConfig": { "url": format!("{url_base}{path}"), "caBundle": ca_bundle },
        "failurePolicy": "Fail",
        "sideEffects": "None",
        "rules": [{
            "apiGroups": [group],
            "apiVersions": ["v1"],
            "operations": operations,
            "resources": [resource],
        }],
    });
    if pods_only_of_lws {
        webhook["objectSelector"] = serde_json::json!({
            "matchExpressions": [{ "key": LWS_NAME_LABEL, "operator": "Exists" }],
        });
    }
    webhook
}

/// Applies the mutating and validating webhook configurations pointing at `running`.
async fn apply_webhooks(client: &Client, running: &Running, ca_pem: &str) -> Result<()> {
    let component = Component::LeaderWorkerSet;
    let ca_bundle = serde_json::to_value(ByteString(ca_pem.as_bytes().to_vec()))
        .map_err(|e| HarnessError::invalid(component, format!("encoding the CA bundle: {e}")))?;
    let base = format!("https://127.0.0.1:{}", running.webhook_port);
    let lws = (LWS_GROUP, "leaderworkersets");
    let pods = ("", "pods");
    let create_update = ["CREATE", "UPDATE"];
    let metadata =
        |name: &str| serde_json::json!({ "name": name, "labels": { WEBHOOK_LABEL: "true" } });
    let mutating = serde_json::json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": metadata(&running.mutating),
        "webhooks": [
            webhook(&base, &ca_bundle, "mleaderworkerset.kb.io",
                "/mutate-leaderworkerset-x-k8s-io-v1-leaderworkerset", lws, &create_update, false),
            webhook(&base, &ca_bundle, "mpod.kb.io", "/mutate--v1-pod", pods, &create_update, true),
        ],
    });
    let validating = serde_json::json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": metadata(&running.validating),
        "webhooks": [
            webhook(&base, &ca_bundle, "vleaderworkerset.kb.io",
                "/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset", lws, &create_update, false),
            webhook(&base, &ca_bundle, "vpod.kb.io", "/validate--v1-pod", pods, &create_update, true),
        ],
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .patch(&running.mutating, &params, &Patch::Apply(&mutating))
        .await
        .map_err(|e| {
            HarnessError::kube(
                component,
                format!("applying MutatingWebhookConfiguration {}", running.mutating),
                e,
            )
        })?;
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .patch(&running.validating, &params, &Patch::Apply(&validating))
        .await
        .map_err(|e| {
            HarnessError::kube(
                component,
                format!(
                    "applying ValidatingWebhookConfiguration {}",
                    running.validating
                ),
                e,
            )
        })?;
    Ok(())
}

/// Deletes every webhook configuration labelled [`WEBHOOK_LABEL`].
async fn delete_stale_webhooks(client: &Client) -> Result<()> {
    let component = Component::LeaderWorkerSet;
    let labelled = ListParams::default().labels(WEBHOOK_LABEL);
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .delete_collection(&DeleteParams::default(), &labelled)
        .await
        .map_err(|e| {
            HarnessError::kube(component, "deleting stale MutatingWebhookConfigurations", e)
        })?;
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .delete_collection(&DeleteParams::default(), &labelled)
        .await
        .map_err(|e| {
            HarnessError::kube(
                component,
                "deleting stale ValidatingWebhookConfigurations",
                e,
            )
        })?;
    Ok(())
}

/// Deletes the two webhook configurations; ones already gone are fine.
async fn delete_webhooks(client: &Client, mutating: &str, validating: &str) -> Result<()> {
    let component = Component::LeaderWorkerSet;
    let gone = |e: &kube::Error| matches!(e, kube::Error::Api(s) if s.code == 404);
    match Api::<MutatingWebhookConfiguration>::all(client.clone())
        .delete(mutating, &DeleteParams::default())
        .await
    {
        Ok(_) => {}
        Err(e) if gone(&e) => {}
        Err(e) => {
            return Err(HarnessError::kube(
                component,
                format!("deleting MutatingWebhookConfiguration {mutating}"),
                e,
            ));
        }
    }
    match Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .delete(validating, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(HarnessError::kube(
            component,
            format!("deleting ValidatingWebhookConfiguration {validating}"),
            e,
        )),
    }
}

/// The LeaderWorkerSet API resource.
fn api_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(LWS_GROUP, "v1", "LeaderWorkerSet"),
        "leaderworkersets",
    )
}

/// Succeeds once a dry-run create of a LeaderWorkerSet comes back defaulted by the mutating
/// webhook (`rolloutStrategy` and `networkConfig`, which the CRD schema does not default) and
/// was admitted by the validating one.
async fn webhooks_serve(client: &Client) -> std::result::Result<(), String> {
    let resource = api_resource();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let probe = DynamicObject::new(PROBE_NAME, &resource).data(serde_json::json!({
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": 1,
                "workerTemplate": {
                    "spec": { "containers": [{ "name": "probe", "image": "probe" }] },
                },
            },
        },
    }));
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let created = api
        .create(&params, &probe)
        .await
        .map_err(|e| format!("dry-run create of LeaderWorkerSet {PROBE_NAME}: {e}"))?;
    let spec = &created.data["spec"];
    let rollout = spec["rolloutStrategy"]["type"].as_str().unwrap_or_default();
    let subdomain = spec["networkConfig"]["subdomainPolicy"]
        .as_str()
        .unwrap_or_default();
    if rollout.is_empty() || subdomain.is_empty() {
        Err(format!(
            "the dry-run LeaderWorkerSet was not defaulted by the webhook (rolloutStrategy.type {rollout:?}, networkConfig.subdomainPolicy {subdomain:?})"
        ))
    } else {
        Ok(())
    }
}
