//! [`ControlPlane`]: starting, sharing and handing out access to a test control plane.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, Client, Config};
use tokio::sync::{Mutex, OnceCell};

use crate::bins::{Bins, workspace_root};
use crate::certs::Pki;
use crate::error::{Component, HarnessError, Result};
use crate::lws::{self, LeaderWorkerSetController};
use crate::nodes::FakeNodes;
use crate::process::{Process, ProcessGroup};
use crate::workdir::WorkDir;
use crate::{apiserver, conversion, crds, etcd, full, kubeconfig, kwok, nodes, ports, wait};

/// How long [`ControlPlane::namespace`] waits for the `default` ServiceAccount in full mode.
const SERVICE_ACCOUNT_TIMEOUT: Duration = Duration::from_secs(30);

/// The label put on namespaces created by [`ControlPlane::namespace`].
pub const TEST_NAMESPACE_LABEL: &str = "dynamo.test/harness";

/// Which components a control plane runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// etcd and kube-apiserver only: the API, admission and RBAC, but no controllers, so
    /// Deployments get no pods and namespaces are never finalized.
    Basic,
    /// Basic plus kube-controller-manager, kube-scheduler and kwok with these fake nodes: pods get
    /// scheduled onto the fake nodes and kwok makes them Running and Ready.
    Full(FakeNodes),
}

impl Mode {
    fn name(&self) -> &'static str {
        match self {
            Mode::Basic => "basic",
            Mode::Full(_) => "full",
        }
    }
}

/// A real Kubernetes control plane running on loopback for tests.
///
/// Dropping it stops every component and deletes its directory. If it is never dropped (a
/// `static`) or the process dies, each component's `sh` watchdog does the same as soon as the
/// test process is gone: its stdin is a pipe from the test process, which the kernel closes when
/// that process ends in any way (exit, panic, SIGKILL).
pub struct ControlPlane {
    /// Stopped together on drop, before the directory (field order).
    processes: ProcessGroup,
    /// Dropped after the processes are stopped (field order).
    workdir: WorkDir,
    bins: Bins,
    mode: Mode,
    kubeconfig: PathBuf,
    config: Config,
    server_url: String,
    node_names: Vec<String>,
    crds: Vec<String>,
    startup: Duration,
    pki: Pki,
    etcd_url: String,
    api_port: u16,
    /// The conversion webhook the workspace's multi-version CRDs are pointed at.
    conversion: conversion::Server,
    /// The LeaderWorkerSet controller while any handle to it lives; the lock also serializes
    /// starting it.
    lws: Mutex<Weak<lws::Running>>,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("mode", &self.mode.name())
            .field("server_url", &self.server_url)
            .field("dir", &self.workdir.root())
            .field("nodes", &self.node_names)
            .field("crds", &self.crds)
            .finish_non_exhaustive()
    }
}

static SHARED_BASIC: OnceCell<std::result::Result<ControlPlane, String>> = OnceCell::const_new();
static SHARED_FULL: OnceCell<std::result::Result<ControlPlane, String>> = OnceCell::const_new();

impl ControlPlane {
    /// The basic-mode control plane shared by all tests of this process, started on first use.
    ///
    /// If starting fails, every caller gets the error (no retry, no silent skip).
    pub async fn shared() -> Result<&'static ControlPlane> {
        Self::shared_in(&SHARED_BASIC, Mode::Basic).await
    }

    /// The full-mode control plane (with [`FakeNodes::default`]) shared by all tests of this
    /// process, started on first use. Independent of [`ControlPlane::shared`].
    ///
    /// Tests share its nodes, so they should not assume they are alone on them.
    pub async fn shared_full() -> Result<&'static ControlPlane> {
        Self::shared_in(&SHARED_FULL, Mode::Full(FakeNodes::default())).await
    }

    async fn shared_in(
        cell: &'static OnceCell<std::result::Result<ControlPlane, String>>,
        mode: Mode,
    ) -> Result<&'static ControlPlane> {
        let name = mode.name();
        let started = cell
            .get_or_init(
                || async move { ControlPlane::start(mode).await.map_err(|e| e.to_string()) },
            )
            .await;
        started
            .as_ref()
            .map_err(|reason| HarnessError::SharedUnavailable {
                mode: name,
                reason: reason.clone(),
            })
    }

    /// Starts a private control plane in `mode`; it is stopped when dropped.
    pub async fn start(mode: Mode) -> Result<Self> {
        let started_at = Instant::now();
        let bins = Bins::locate_async().await?;
        Self::start_at(mode, bins, started_at).await
    }

    /// Starts a private control plane in `mode` with the binaries in `bins`.
    pub async fn start_with_bins(mode: Mode, bins: Bins) -> Result<Self> {
        Self::start_at(mode, bins, Instant::now()).await
    }

    /// Starts a private control plane in `mode` whose `nvidia.com` CRDs are those of the YAML
    /// files in `crds` instead of `<workspace>/crds`, as a cluster installed by an earlier
    /// release would have them (pass an empty directory for none). [`ControlPlane::install_crds`]
    /// with `<workspace>/crds` then upgrades them.
    pub async fn start_with_crds(mode: Mode, crds: &Path) -> Result<Self> {
        let started_at = Instant::now();
        let bins = Bins::locate_async().await?;
        Self::start_from(mode, bins, started_at, crds).await
    }

    async fn start_at(mode: Mode, bins: Bins, started_at: Instant) -> Result<Self> {
        Self::start_from(mode, bins, started_at, &workspace_root().join("crds")).await
    }

    async fn start_from(
        mode: Mode,
        bins: Bins,
        started_at: Instant,
        crds_dir: &Path,
    ) -> Result<Self> {
        // Check every binary up front so a missing one fails before anything starts.
        let mut needed = vec![
            (Component::Etcd, "etcd"),
            (Component::ApiServer, "kube-apiserver"),
        ];
        if matches!(mode, Mode::Full(_)) {
            needed.extend([
                (Component::ControllerManager, "kube-controller-manager"),
                (Component::Scheduler, "kube-scheduler"),
                (Component::Kwok, "kwok"),
            ]);
        }
        for (component, name) in needed {
            bins.path(component, name)?;
        }

        // Declared before `processes`, so it is dropped (and deleted) after them on errors.
        let workdir = WorkDir::create()?;
        let mut processes = ProcessGroup::default();
        let [etcd_client, etcd_peer, api_port, cm_port, sched_port] = ports::free_ports(5)?[..]
        else {
            return Err(HarnessError::invalid(
                Component::Setup,
                "expected five ports",
            ));
        };
        let pki = Pki::generate(&workdir)?;
        let server_url = format!("https://127.0.0.1:{api_port}");
        let kubeconfig_path = kubeconfig::write(&workdir, &server_url, &pki)?;

        let etcd = etcd::start(&bins, &workdir, etcd_client, etcd_peer).await?;
        let etcd_url = etcd.url.clone();
        processes.push(etcd.process);
        let api =
            apiserver::start(&bins, &workdir, &pki, &etcd.url, api_port, &kubeconfig_path).await?;
        processes.push(api);

        let config = kubeconfig::load(&kubeconfig_path).await?;
        let client = kubeconfig::client(Component::Crds, config.clone())?;
        let conversion = conversion::Server::start(&pki, &workdir)?;
        let crds = crds::install_dir(&client, crds_dir, &conversion).await?;

        let mut node_names = Vec::new();
        if let Mode::Full(fake_nodes) = &mode {
            let kwok = kwok::start(&bins, &workdir, &kubeconfig_path)?;
            processes.push(kwok);
            let (cm, sched) = tokio::try_join!(
                full::start_controller_manager(&bins, &workdir, &pki, &kubeconfig_path, cm_port),
                full::start_scheduler(&bins, &workdir, &kubeconfig_path, sched_port),
            )?;
            processes.push(cm);
            processes.push(sched);
            let kwok = find(&processes, Component::Kwok)?;
            node_names = nodes::create(&client, fake_nodes).await?;
            wait::until_ready(kwok, kwok::NODES_READY_TIMEOUT, || {
                nodes::all_ready(&client, &node_names)
            })
            .await?;
        }

        let startup = started_at.elapsed();
        eprintln!(
            "dynamo-test-harness: {} control plane ready in {:.1}s at {server_url} (dir {})",
            mode.name(),
            startup.as_secs_f64(),
            workdir.root().display(),
        );
        Ok(ControlPlane {
            processes,
            workdir,
            bins,
            mode,
            kubeconfig: kubeconfig_path,
            config,
            server_url,
            node_names,
            crds,
            startup,
            pki,
            etcd_url,
            api_port,
            conversion,
            lws: Mutex::new(Weak::new()),
        })
    }

    /// Stops kube-apiserver and starts it again on the same address (etcd keeps the data), as a
    /// control-plane upgrade or crash would; returns how long it was away.
    ///
    /// Only for a private control plane: clients of other tests would see the outage.
    pub async fn restart_api_server(&mut self) -> Result<Duration> {
        let started = Instant::now();
        drop(self.processes.take(Component::ApiServer));
        let api = apiserver::start(
            &self.bins,
            &self.workdir,
            &self.pki,
            &self.etcd_url,
            self.api_port,
            &self.kubeconfig,
        )
        .await?;
        self.processes.push(api);
        Ok(started.elapsed())
    }

    /// A new client with admin (`system:masters`) credentials, bound to the calling runtime.
    ///
    /// Each `#[tokio::test]` has its own runtime, so get a client per test rather than storing one.
    pub async fn client(&self) -> Result<Client> {
        kubeconfig::client(Component::Test, self.config.clone())
    }

    /// The admin client configuration (e.g. to derive configs for other users).
    pub fn kube_config(&self) -> Config {
        self.config.clone()
    }

    /// Creates a uniquely named namespace `<prefix>-<n>-<random>` and returns a client with it.
    ///
    /// In full mode this also waits for its `default` ServiceAccount, so pods can be created
    /// immediately. Namespaces are not deleted afterwards; they vanish with the control plane.
    pub async fn namespace(&self, prefix: &str) -> Result<(Client, String)> {
        let client = self.client().await?;
        let name = unique_name(prefix);
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([(TEST_NAMESPACE_LABEL.to_owned(), "true".to_owned())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .map_err(|e| {
                HarnessError::kube(Component::Test, format!("creating namespace {name}"), e)
            })?;
        if let Mode::Full(_) = self.mode {
            let cm = find(&self.processes, Component::ControllerManager)?;
            wait::until_ready(cm, SERVICE_ACCOUNT_TIMEOUT, || {
                full::default_service_account(&client, &name)
            })
            .await?;
        }
        Ok((client, name))
    }

    /// Applies the CRDs in the YAML files of `dir` (server-side apply) and waits until they are
    /// `Established`; `<workspace>/crds` is already installed at start.
    pub async fn install_crds(&self, dir: &Path) -> Result<Vec<String>> {
        let client = kubeconfig::client(Component::Crds, self.config.clone())?;
        crds::install_dir(&client, dir, &self.conversion).await
    }

    /// Installs the upstream CRDs `hack/build-tools.sh` fetched as `name` (e.g. `grove`, from
    /// Grove's own API module), so objects of those kinds are checked against the real schema.
    pub async fn install_upstream_crds(&self, name: &str) -> Result<Vec<String>> {
        let dir = self.bins.crds_dir(name)?;
        self.install_crds(&dir).await
    }

    /// Installs the workspace's structural stand-ins for CRDs of projects that cannot be built
    /// here, `tests/fixtures/crds/<name>/` (e.g. `volcano`, `kai`; see that folder's README).
    pub async fn install_test_crds(&self, name: &str) -> Result<Vec<String>> {
        let dir = crds::test_crds_dir(name)?;
        self.install_crds(&dir).await
    }

    /// Starts the LeaderWorkerSet controller (`lws-controller` from `hack/build-tools.sh`) with
    /// its CRD and admission webhooks, and waits until it is healthy and its webhooks serve.
    ///
    /// Idempotent: while a handle to a running controller exists, further calls return another
    /// handle to that same controller (concurrent calls wait for one start). It stops when the
    /// last handle is dropped or [`LeaderWorkerSetController::stop`]ped; a later call starts a
    /// new one. Works on the shared planes (`&'static`) and private ones; in basic mode the
    /// webhooks and the LeaderWorkerSet controller run, but its StatefulSets get no pods.
    ///
    /// The webhook server listens on `127.0.0.1:<free port>` with a certificate from the
    /// harness CA; the pod webhooks only see pods labelled [`crate::LWS_NAME_LABEL`], so pods of
    /// other tests never depend on this controller.
    pub async fn start_leader_worker_set_controller(
        &self,
    ) -> Result<LeaderWorkerSetController<'_>> {
        let mut slot = self.lws.lock().await;
        if let Some(running) = slot.upgrade()
            && running.is_alive()
        {
            return Ok(LeaderWorkerSetController::new(running));
        }
        // Fail on a missing binary before installing anything.
        self.bins
            .path(Component::LeaderWorkerSet, "lws-controller")?;
        self.install_upstream_crds("lws").await?;
        let running = lws::start(lws::Plane {
            bins: &self.bins,
            workdir: &self.workdir,
            pki: &self.pki,
            kubeconfig: &self.kubeconfig,
            config: self.config.clone(),
        })
        .await?;
        let running = Arc::new(running);
        *slot = Arc::downgrade(&running);
        Ok(LeaderWorkerSetController::new(running))
    }

    /// Creates more fake nodes (full mode only) and waits until kwok has made them Ready.
    pub async fn add_fake_nodes(&self, config: &FakeNodes) -> Result<Vec<String>> {
        let kwok = find(&self.processes, Component::Kwok)?;
        let client = kubeconfig::client(Component::FakeNodes, self.config.clone())?;
        let names = nodes::create(&client, config).await?;
        wait::until_ready(kwok, kwok::NODES_READY_TIMEOUT, || {
            nodes::all_ready(&client, &names)
        })
        .await?;
        Ok(names)
    }

    /// The API server URL, `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The admin kubeconfig file, for kubectl and helm.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The directory of the upstream binaries (kubectl, helm, nats-server, ...).
    pub fn bin_dir(&self) -> &Path {
        self.bins.dir()
    }

    /// The path of an upstream binary, or [`HarnessError::MissingBinary`].
    pub fn bin(&self, name: &str) -> Result<PathBuf> {
        self.bins.path(Component::Test, name)
    }

    /// A `kubectl` command with `KUBECONFIG` pointing at this control plane.
    pub fn kubectl(&self) -> Result<Command> {
        let mut command = Command::new(self.bin("kubectl")?);
        command.env("KUBECONFIG", &self.kubeconfig);
        Ok(command)
    }

    /// A `helm` command with `KUBECONFIG` set and helm's cache/config/data inside the control
    /// plane's directory, so tests never touch the user's helm setup.
    pub fn helm(&self) -> Result<Command> {
        let mut command = Command::new(self.bin("helm")?);
        let helm = self.workdir.path("helm");
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_CACHE_HOME", helm.join("cache"))
            .env("HELM_CONFIG_HOME", helm.join("config"))
            .env("HELM_DATA_HOME", helm.join("data"));
        Ok(command)
    }

    /// Whether this control plane runs in full mode.
    pub fn is_full(&self) -> bool {
        matches!(self.mode, Mode::Full(_))
    }

    /// The mode it was started in.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The fake-node configuration in full mode.
    pub fn fake_nodes(&self) -> Option<&FakeNodes> {
        match &self.mode {
            Mode::Full(nodes) => Some(nodes),
            Mode::Basic => None,
        }
    }

    /// The names of the fake nodes created at start (empty in basic mode).
    pub fn node_names(&self) -> &[String] {
        &self.node_names
    }

    /// The CRDs installed at start (from `<workspace>/crds`, or the folder given to
    /// [`ControlPlane::start_with_crds`]).
    pub fn crds(&self) -> &[String] {
        &self.crds
    }

    /// The control plane's temporary directory (logs in `logs/`, certificates in `pki/`).
    pub fn dir(&self) -> &Path {
        self.workdir.root()
    }

    /// The log file of a running component, if this control plane runs it.
    pub fn log_path(&self, component: Component) -> Option<&Path> {
        self.processes.get(component).map(Process::log)
    }

    /// The requests the API server has audited so far whose `User-Agent` starts with
    /// `user_agent`, in order: each once (a watch when it starts, anything else when it ends).
    pub fn audited_requests(&self, user_agent: &str) -> Result<Vec<AuditedRequest>> {
        let path = self.audit_log_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(HarnessError::invalid(
                    Component::ApiServer,
                    format!("reading the audit log {}: {e}", path.display()),
                ));
            }
        };
        let field = |e: &serde_json::Value, path: &[&str]| -> String {
            path.iter()
                .fold(e, |v, key| &v[*key])
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|e| {
                e["userAgent"]
                    .as_str()
                    .is_some_and(|ua| ua.starts_with(user_agent))
            })
            .filter(|e| {
                let stage = e["stage"].as_str().unwrap_or_default();
                if e["verb"] == "watch" {
                    stage == "ResponseStarted"
                } else {
                    stage == "ResponseComplete" || stage == "Panic"
                }
            })
            .map(|e| AuditedRequest {
                verb: field(&e, &["verb"]),
                resource: field(&e, &["objectRef", "resource"]),
                subresource: field(&e, &["objectRef", "subresource"]),
                namespace: field(&e, &["objectRef", "namespace"]),
                name: field(&e, &["objectRef", "name"]),
                code: e["responseStatus"]["code"].as_u64().unwrap_or_default(),
            })
            .collect())
    }

    /// The write requests (create, update, patch, delete) among [`Self::audited_requests`].
    pub fn audited_writes(&self, user_agent: &str) -> Result<Vec<AuditedRequest>> {
        let mut requests = self.audited_requests(user_agent)?;
        requests.retain(AuditedRequest::is_write);
        Ok(requests)
    }

    /// The API server's audit log (JSON lines, every request at `Metadata` level).
    pub fn audit_log_path(&self) -> PathBuf {
        self.workdir.path(apiserver::AUDIT_LOG)
    }

    /// The process id of a running component (for measuring its CPU time and memory).
    pub fn pid(&self, component: Component) -> Option<u32> {
        self.processes.get(component)?;
        let file = self
            .workdir
            .run_dir()
            .join(format!("{}.pid", component.name()));
        std::fs::read_to_string(file).ok()?.trim().parse().ok()
    }

    /// How long starting took, from locating the binaries to the last readiness check.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }
}

/// One request from the API server's audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedRequest {
    /// `create`, `update`, `patch`, `delete`, ...
    pub verb: String,
    /// Resource (plural), e.g. `deployments`.
    pub resource: String,
    /// Subresource, e.g. `status` (empty for the object itself).
    pub subresource: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Object name (empty for a create whose name the server chose).
    pub name: String,
    /// HTTP status of the response.
    pub code: u64,
}

impl AuditedRequest {
    /// True for a request that changes state: create, update, patch, delete, deletecollection.
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }
}

fn find(processes: &ProcessGroup, component: Component) -> Result<&Process> {
    processes.get(component).ok_or_else(|| {
        HarnessError::invalid(
            component,
            format!("not running; it only runs in full mode ({component} was needed)"),
        )
    })
}

/// `<prefix>-<counter>-<random>`, a valid namespace name of at most 63 characters.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut clean: String = prefix
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '-' }
        })
        .collect();
    clean.truncate(40);
    let clean = clean.trim_matches('-');
    let clean = if clean.is_empty() { "test" } else { clean };
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(n);
    hasher.write_u32(std::process::id());
    let random = hasher.finish() % 36u64.pow(5);
    format!("{clean}-{n}-{}", base36(random, 5))
}

fn base36(mut value: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        // `value % 36` is always a valid index.
        *slot = DIGITS[(value % 36) as usize];
        value /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_valid_and_distinct() {
        let a = unique_name("Sched_Test!");
        let b = unique_name("Sched_Test!");
        assert_ne!(a, b);
        assert!(a.starts_with("sched-test-"), "{a}");
        assert!(a.len() <= 63);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        let long = unique_name(&"x".repeat(100));
        assert!(long.len() <= 63, "{long}");
        assert!(unique_name("---").starts_with("test-"));
    }
}
