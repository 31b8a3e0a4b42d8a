//! The Helm charts (`charts/dynamo-crds`, `charts/dynamo-platform`) and the image build context,
//! with the real `helm` from `hack/build-tools.sh`: lint, `helm template` over the defaults and
//! every documented values combination, server-side validation of what they render, and a full
//! install, upgrade and uninstall against a real API server.
//!
//! For tests that run the operator the way the chart does, [`chart_operator_config`] gives the
//! `OperatorConfiguration` the chart mounts for a release and namespace, and [`render_platform`]
//! every object it renders (RBAC, ServiceAccount, ...).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context as _, Result, bail, ensure};
use dynamo_render::OperatorConfiguration;
use dynamo_test_harness::{Bins, Component, ControlPlane, Mode, workspace_root};
use serde_json::{Value, json};

/// The charts folder of the repository.
fn charts() -> PathBuf {
    workspace_root().join("charts")
}

fn crds_chart() -> PathBuf {
    charts().join("dynamo-crds")
}

fn platform_chart() -> PathBuf {
    charts().join("dynamo-platform")
}

/// The seven CRDs of `crds/` (and so of the dynamo-crds chart), in name order.
const CRD_NAMES: [&str; 7] = [
    "dynamocheckpoints.nvidia.com",
    "dynamocomponentdeployments.nvidia.com",
    "dynamographdeploymentrequests.nvidia.com",
    "dynamographdeployments.nvidia.com",
    "dynamographdeploymentscalingadapters.nvidia.com",
    "dynamomodels.nvidia.com",
    "dynamoworkermetadatas.nvidia.com",
];

/// The CRDs served at v1alpha1 and v1beta1 and converted by the operator's webhook.
const CONVERTED_CRDS: [&str; 4] = [
    "dynamographdeployments.nvidia.com",
    "dynamocomponentdeployments.nvidia.com",
    "dynamographdeploymentscalingadapters.nvidia.com",
    "dynamographdeploymentrequests.nvidia.com",
];

/// Helm stores a release (chart files and rendered manifest, gzipped) in one Secret, whose data
/// may hold at most 1 MiB.
const RELEASE_SECRET_LIMIT: usize = 1 << 20;

/// Dynamo 1.5's admission webhook paths, as the platform chart registers them: (configuration
/// kind, path, rule version, rule resource).
const WEBHOOK_PATHS: [(&str, &str, &str, &str); 5] = [
    (
        "ValidatingWebhookConfiguration",
        "/validate/nvidia.com/v1beta1/dynamographdeployments",
        "v1beta1",
        "dynamographdeployments",
    ),
    (
        "ValidatingWebhookConfiguration",
        "/validate/nvidia.com/v1beta1/dynamocomponentdeployments",
        "v1beta1",
        "dynamocomponentdeployments",
    ),
    (
        "ValidatingWebhookConfiguration",
        "/validate-nvidia-com-v1alpha1-dynamomodel",
        "v1alpha1",
        "dynamomodels",
    ),
    (
        "MutatingWebhookConfiguration",
        "/mutate/nvidia.com/v1beta1/dynamographdeployments",
        "v1beta1",
        "dynamographdeployments",
    ),
    (
        "MutatingWebhookConfiguration",
        "/mutate-nvidia-com-v1beta1-dynamocomponentdeployment",
        "v1beta1",
        "dynamocomponentdeployments",
    ),
];

/// The metrics the operator exports, which the dashboard must show (histograms as `_bucket`).
const METRICS: [&str; 18] = [
    "dynamo_operator_reconcile_duration_seconds_bucket",
    "dynamo_operator_reconciles_total",
    "dynamo_operator_reconcile_errors_total",
    "dynamo_operator_queue_depth",
    "dynamo_operator_api_requests_total",
    "dynamo_operator_webhook_request_duration_seconds_bucket",
    "dynamo_operator_webhook_requests_total",
    "dynamo_operator_webhook_denials_total",
    "dynamo_operator_plugin_call_duration_seconds_bucket",
    "dynamo_operator_plugin_calls_total",
    "dynamo_operator_plugin_errors_total",
    "dynamo_operator_plugin_timeouts_total",
    "dynamo_operator_plugin_traps_total",
    "dynamo_operator_nats_events_published_total",
    "dynamo_operator_nats_events_dropped_total",
    "dynamo_operator_graphs",
    "dynamo_operator_leader",
    "dynamo_operator_webhook_certificate_expiry_timestamp_seconds",
];

// === running helm ===

/// A `helm` command from `hack/build-tools.sh`, with its cache, config and data in `home`, so
/// the user's helm setup is never read or written. Not bound to a cluster (see
/// [`ControlPlane::helm`] for one that is). A missing binary is an error naming the script.
fn helm(home: &Path) -> Result<Command> {
    let bins = Bins::locate()?;
    let mut command = Command::new(bins.path(Component::Test, "helm")?);
    command
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG");
    Ok(command)
}

/// Runs `command`; its stdout, or an error with the command line and stderr.
fn run(mut command: Command) -> Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    check(&command, output)
}

fn check(command: &Command, output: Output) -> Result<String> {
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

/// Runs `command` expecting it to fail; its stderr.
fn run_failing(mut command: Command) -> Result<String> {
    let output = command.stdin(Stdio::null()).output()?;
    ensure!(
        !output.status.success(),
        "{command:?} succeeded, expected a failure; it printed:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    Ok(String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Writes `values` (JSON is YAML) to a file in `dir` for `helm -f`.
fn values_file(dir: &Path, values: &Value) -> Result<PathBuf> {
    let path = dir.join(format!("values-{}.yaml", rand_suffix()));
    std::fs::write(&path, serde_json::to_string_pretty(values)?)?;
    Ok(path)
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Every YAML document of `text` that is not empty.
fn documents(text: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let value: Value = serde::Deserialize::deserialize(doc).context("parsing YAML")?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

/// What `helm template` rendered.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    /// The objects, in helm's install order.
    pub(crate) objects: Vec<Value>,
    release: String,
}

/// Renders `chart` as release `release` in `namespace` with `values` (merged over the chart's).
fn render(chart: &Path, release: &str, namespace: &str, values: &Value) -> Result<Rendered> {
    let home = tempfile::tempdir()?;
    let file = values_file(home.path(), values)?;
    let mut command = helm(home.path())?;
    command
        .arg("template")
        .arg(release)
        .arg(chart)
        .args(["--namespace", namespace])
        .arg("-f")
        .arg(&file);
    let text = run(command)?;
    Ok(Rendered {
        objects: documents(&text)?,
        release: release.to_owned(),
    })
}

/// Renders `chart` expecting helm to refuse; its error output.
fn render_error(chart: &Path, values: &Value) -> Result<String> {
    let home = tempfile::tempdir()?;
    let file = values_file(home.path(), values)?;
    let mut command = helm(home.path())?;
    command
        .args(["template", "refused"])
        .arg(chart)
        .arg("-f")
        .arg(&file);
    run_failing(command)
}

/// The dynamo-platform chart rendered for `release` in `namespace` with `values` (e.g.
/// `json!({"dynamo-operator": {"namespaceRestriction": {"enabled": true}}})`).
pub(crate) fn render_platform(release: &str, namespace: &str, values: &Value) -> Result<Rendered> {
    render(&platform_chart(), release, namespace, values)
}

/// The `OperatorConfiguration` text (the operator's `--config` file) the dynamo-platform chart
/// renders for `release` in `namespace` with `values`. The RBAC, ServiceAccount and the rest come
/// from [`render_platform`] with the same arguments.
pub(crate) fn chart_operator_config(
    release: &str,
    namespace: &str,
    values: &Value,
) -> Result<String> {
    render_platform(release, namespace, values)?.operator_config_text()
}

impl Rendered {
    /// The objects of `kind`.
    pub(crate) fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    /// The object of `kind` named `name`, or an error listing what there is.
    pub(crate) fn get(&self, kind: &str, name: &str) -> Result<&Value> {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .with_context(|| format!("no {kind} {name} rendered; there are: {:?}", self.summary()))
    }

    fn has(&self, kind: &str, name: &str) -> bool {
        self.get(kind, name).is_ok()
    }

    /// `Kind namespace/name` of every object.
    fn summary(&self) -> Vec<String> {
        self.objects
            .iter()
            .map(|o| {
                format!(
                    "{} {}/{}",
                    o["kind"].as_str().unwrap_or_default(),
                    o["metadata"]["namespace"].as_str().unwrap_or_default(),
                    o["metadata"]["name"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    /// `<release>-dynamo-operator`, the operator's objects' name.
    pub(crate) fn operator_name(&self) -> String {
        if self.release.contains("dynamo-operator") {
            self.release.clone()
        } else {
            format!("{}-dynamo-operator", self.release)
        }
    }

    /// The text of the operator's `--config` file (the `config.yaml` of its ConfigMap).
    pub(crate) fn operator_config_text(&self) -> Result<String> {
        let name = format!("{}-config", self.operator_name());
        self.get("ConfigMap", &name)?["data"]["config.yaml"]
            .as_str()
            .map(str::to_owned)
            .context("the operator ConfigMap has no config.yaml")
    }

    /// The operator configuration, parsed and validated as the operator does at start-up.
    pub(crate) fn operator_config(&self) -> Result<OperatorConfiguration> {
        let text = self.operator_config_text()?;
        OperatorConfiguration::from_yaml(&text)
            .with_context(|| format!("the chart's operator configuration:\n{text}"))
    }

    /// The operator's Deployment.
    fn deployment(&self) -> Result<&Value> {
        self.get("Deployment", &self.operator_name())
    }

    /// The operator container.
    fn container(&self) -> Result<&Value> {
        Ok(&self.deployment()?["spec"]["template"]["spec"]["containers"][0])
    }

    fn args(&self) -> Result<Vec<String>> {
        Ok(strings(&self.container()?["args"]))
    }

    /// Every rule of every Role and ClusterRole, with the role it comes from.
    fn rules(&self) -> Vec<(String, &Value)> {
        self.objects
            .iter()
            .filter(|o| o["kind"] == "Role" || o["kind"] == "ClusterRole")
            .flat_map(|role| {
                let name = format!(
                    "{} {}",
                    role["kind"].as_str().unwrap_or_default(),
                    role["metadata"]["name"].as_str().unwrap_or_default()
                );
                role["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |rule| (name.clone(), rule))
            })
            .collect()
    }

    /// The verbs role `kind`/`name` grants on `group`/`resource` (optionally for `resource_name`).
    fn verbs(&self, kind: &str, name: &str, group: &str, resource: &str) -> BTreeSet<String> {
        let Ok(role) = self.get(kind, name) else {
            return BTreeSet::new();
        };
        role["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                strings(&r["apiGroups"]).iter().any(|g| g == group)
                    && strings(&r["resources"]).iter().any(|x| x == resource)
            })
            .flat_map(|r| strings(&r["verbs"]))
            .collect()
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

// === the documented values combinations ===

/// Every documented combination of values, by name: each must render, lint, configure the
/// operator with a configuration it accepts, and grant no wildcard.
fn combinations(namespace: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("defaults", json!({})),
        (
            "restricted",
            json!({"dynamo-operator": {"namespaceRestriction": {
                "enabled": true, "targetNamespace": namespace
            }}}),
        ),
        (
            "cert-manager",
            json!({"dynamo-operator": {"webhook": {"certManager": {"enabled": true}}}}),
        ),
        (
            "external-certificate",
            json!({"dynamo-operator": {"webhook": {
                "certificateSecret": {"name": "my-webhook-cert", "external": true},
                "caBundle": "Q0EgYnVuZGxl"
            }}}),
        ),
        (
            "nats-off",
            json!({"nats": {"enabled": false}, "dynamo-operator": {"nats": {"enabled": false}}}),
        ),
        (
            "external-nats",
            json!({"nats": {"enabled": false},
                   "dynamo-operator": {"natsAddr": "nats://nats.messaging:4222"}}),
        ),
        (
            "kai-and-grove",
            json!({"global": {"kai-scheduler": {"enabled": true}, "grove": {"enabled": true}}}),
        ),
        (
            "monitoring",
            json!({"dynamo-operator": {"metrics": {
                "serviceMonitor": {"enabled": true, "labels": {"release": "prometheus"}},
                "prometheusRule": {"enabled": true},
                "dashboard": {"enabled": true}
            }}}),
        ),
        (
            "secure-metrics",
            json!({"dynamo-operator": {"metrics": {"secure": true, "serviceMonitor": {"enabled": true}}}}),
        ),
        (
            "custom-plugins",
            json!({"dynamo-operator": {"plugins": {
                "volume": {"image": {"reference": "registry.example.com/plugins:1.0", "pullPolicy": "IfNotPresent"}},
                "grants": {"llamacpp": ["ssh-key-secret", "add-capability:IPC_LOCK"]},
                "limits": {"deadline": "250ms", "memory": "128Mi"}
            }}}),
        ),
        (
            "leader-election-off",
            json!({"dynamo-operator": {"controllerManager": {"leaderElection": {"enabled": false}}}}),
        ),
        ("two-replicas", json!({"dynamo-operator": {"replicas": 2}})),
        (
            "webhook-off",
            json!({"dynamo-operator": {"webhook": {"enabled": false}}}),
        ),
        (
            "webhook-off-cert-manager",
            json!({"dynamo-operator": {"webhook": {"enabled": false, "certManager": {"enabled": true}}}}),
        ),
        (
            "restricted-webhook-off",
            json!({"dynamo-operator": {
                "namespaceRestriction": {"enabled": true, "targetNamespace": namespace},
                "webhook": {"enabled": false}
            }}),
        ),
        (
            "existing-component-roles",
            json!({"dynamo-operator": {"componentRoles": {
                "planner": {"create": false, "clusterRoleName": "my-planner"},
                "epp": {"create": false}
            }}}),
        ),
        (
            "ingress-and-infrastructure",
            json!({"dynamo-operator": {
                "etcdAddr": "etcd.infra:2379",
                "modelExpressURL": "http://model-express.infra:8001",
                "discoveryBackend": "etcd",
                "dynamo": {
                    "ingress": {"enabled": true, "className": "nginx", "tlsSecretName": "tls"},
                    "ingressHostSuffix": "example.com",
                    "metrics": {"prometheusEndpoint": "http://prometheus:9090"},
                    "mpiRun": {"secretName": "my-mpi-key"}
                },
                "logging": {"level": "debug", "format": "text"}
            }}),
        ),
    ]
}

/// Checks every chart-wide invariant of one rendering.
fn check_common(name: &str, rendered: &Rendered) -> Result<()> {
    ensure!(!rendered.objects.is_empty(), "{name}: nothing rendered");
    let mut seen = BTreeSet::new();
    for object in &rendered.objects {
        let id = format!(
            "{} {}/{}",
            object["kind"].as_str().unwrap_or_default(),
            object["metadata"]["namespace"].as_str().unwrap_or_default(),
            object["metadata"]["name"].as_str().unwrap_or_default()
        );
        ensure!(seen.insert(id.clone()), "{name}: {id} rendered twice");
        // The release's objects are found (and checked gone after uninstall) by these labels.
        let labels = &object["metadata"]["labels"];
        ensure!(
            labels["app.kubernetes.io/instance"] == rendered.release.as_str()
                && labels["app.kubernetes.io/managed-by"] == "Helm",
            "{name}: {id} lacks the release labels: {labels}"
        );
        ensure!(
            labels["app.kubernetes.io/managed-by"] != "dynamo-operator",
            "{name}: {id} is labelled as the operator's own, whose caches would pick it up"
        );
    }
    no_wildcards(name, rendered)?;
    if rendered.has("Deployment", &rendered.operator_name()) {
        rendered
            .operator_config()
            .with_context(|| format!("{name}: the operator would refuse its configuration"))?;
        hardened(name, rendered)?;
    }
    Ok(())
}

/// No RBAC rule of the chart grants `*` (verbs, resources, API groups, names or URLs).
fn no_wildcards(name: &str, rendered: &Rendered) -> Result<()> {
    for (role, rule) in rendered.rules() {
        for field in [
            "verbs",
            "resources",
            "apiGroups",
            "resourceNames",
            "nonResourceURLs",
        ] {
            for value in strings(&rule[field]) {
                ensure!(
                    !value.contains('*'),
                    "{name}: {role} has a wildcard in {field}: {rule}"
                );
            }
        }
        ensure!(
            !strings(&rule["verbs"]).is_empty(),
            "{name}: {role} has a rule without verbs: {rule}"
        );
    }
    Ok(())
}

/// The operator pod's security settings, probes, resources and volumes.
fn hardened(name: &str, rendered: &Rendered) -> Result<()> {
    let pod = &rendered.deployment()?["spec"]["template"]["spec"];
    let container = rendered.container()?;
    let security = &container["securityContext"];
    ensure!(
        pod["securityContext"]["runAsNonRoot"] == true
            && pod["securityContext"]["runAsUser"] == 65532
            && pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault",
        "{name}: pod security context: {}",
        pod["securityContext"]
    );
    ensure!(
        security["runAsNonRoot"] == true
            && security["readOnlyRootFilesystem"] == true
            && security["allowPrivilegeEscalation"] == false
            && strings(&security["capabilities"]["drop"]) == ["ALL"]
            && security["seccompProfile"]["type"] == "RuntimeDefault",
        "{name}: container security context: {security}"
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &container[probe]["httpGet"];
        ensure!(
            get["path"] == path && get["port"] == "health",
            "{name}: {probe}: {}",
            container[probe]
        );
    }
    let ports: BTreeMap<String, i64> = container["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["containerPort"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    ensure!(
        ports.get("metrics") == Some(&8080) && ports.get("health") == Some(&8081),
        "{name}: ports {ports:?}"
    );
    // Every writable path is an emptyDir: /tmp and the compiled-plugin cache.
    let config = rendered.operator_config()?;
    let cache = config.plugins.cache_dir.clone().unwrap_or_default();
    let mounts: BTreeMap<String, String> = container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["mountPath"].as_str().unwrap_or_default().to_owned(),
                m["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for path in ["/tmp", cache.as_str()] {
        let volume = mounts
            .get(path)
            .with_context(|| format!("{name}: nothing mounted at {path}: {mounts:?}"))?;
        let source = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == volume.as_str())
            .with_context(|| format!("{name}: no volume {volume}"))?;
        ensure!(
            source["emptyDir"].is_object(),
            "{name}: {path} is not an emptyDir: {source}"
        );
    }
    ensure!(
        mounts.get("/etc/dynamo-operator").map(String::as_str) == Some("config"),
        "{name}: the configuration is not mounted at /etc/dynamo-operator: {mounts:?}"
    );
    let args = rendered.args()?;
    ensure!(
        args.first().map(String::as_str) == Some("run")
            && args.contains(&"--config=/etc/dynamo-operator/config.yaml".to_owned()),
        "{name}: args {args:?}"
    );
    let env: BTreeMap<String, String> = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().to_owned(),
                e["valueFrom"]["fieldRef"]["fieldPath"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    ensure!(
        env.get("POD_NAMESPACE").map(String::as_str) == Some("metadata.namespace")
            && env.get("POD_SERVICE_ACCOUNT").map(String::as_str)
                == Some("spec.serviceAccountName"),
        "{name}: env {env:?}"
    );
    Ok(())
}

// === lint, values files, CRD chart ===

#[test]
fn both_charts_lint_cleanly_with_every_values_combination() -> Result<()> {
    let home = tempfile::tempdir()?;
    for chart in [crds_chart(), platform_chart()] {
        let mut command = helm(home.path())?;
        command.args(["lint", "--strict"]).arg(&chart);
        run(command)?;
    }
    for set in [
        "keep=false",
        "conversionWebhook.certManager.enabled=true",
        "conversionWebhook.caBundle=Q0E=",
    ] {
        let mut command = helm(home.path())?;
        command
            .args(["lint", "--strict"])
            .arg(crds_chart())
            .args(["--set", set]);
        run(command).with_context(|| format!("helm lint dynamo-crds --set {set}"))?;
    }
    for (name, values) in combinations("team-a") {
        let file = values_file(home.path(), &values)?;
        let mut command = helm(home.path())?;
        command
            .args(["lint", "--strict", "--namespace", "dynamo-system"])
            .arg(platform_chart())
            .arg("-f")
            .arg(&file);
        run(command).with_context(|| format!("helm lint with the {name} values"))?;
    }
    Ok(())
}

#[test]
fn the_crd_chart_carries_the_generated_crds_unchanged_and_kept() -> Result<()> {
    // The script CI and developers run, in check mode.
    let script = workspace_root().join("hack/sync-chart-crds.sh");
    let mut command = Command::new(&script);
    command.arg("--check");
    run(command).context("charts/dynamo-crds/files is stale: run hack/sync-chart-crds.sh")?;

    let mut generated = BTreeMap::new();
    for entry in std::fs::read_dir(workspace_root().join("crds"))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let copy = crds_chart().join("files").join(&name);
        ensure!(
            std::fs::read(&path)? == std::fs::read(&copy).unwrap_or_default(),
            "{} differs from crds/{name}: run hack/sync-chart-crds.sh",
            copy.display()
        );
        for crd in documents(&std::fs::read_to_string(&path)?)? {
            let crd_name = crd["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            generated.insert(crd_name, crd);
        }
    }
    ensure!(
        generated.keys().map(String::as_str).collect::<Vec<_>>() == CRD_NAMES,
        "crds/ holds {:?}",
        generated.keys()
    );

    let rendered = render(&crds_chart(), "crds", "default", &json!({}))?;
    check_common("dynamo-crds", &rendered)?;
    ensure!(
        rendered.objects.len() == CRD_NAMES.len(),
        "{:?}",
        rendered.summary()
    );
    for object in &rendered.objects {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        ensure!(
            object["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep",
            "{name} is not kept on uninstall: {}",
            object["metadata"]
        );
        // Apart from the chart's labels and annotations, exactly the generated CRD.
        let mut stripped = object.clone();
        if let Some(metadata) = stripped["metadata"].as_object_mut() {
            metadata.remove("labels");
            metadata.remove("annotations");
        }
        let expected = generated
            .get(name)
            .with_context(|| format!("the chart renders {name}, which crds/ lacks"))?;
        ensure!(
            &stripped == expected,
            "the chart's {name} differs from crds/ beyond its labels and annotations"
        );
    }
    let unkept = render(&crds_chart(), "crds", "default", &json!({"keep": false}))?;
    ensure!(
        unkept
            .objects
            .iter()
            .all(|o| o["metadata"]["annotations"]["helm.sh/resource-policy"].is_null()),
        "keep=false still keeps"
    );
    Ok(())
}

/// The converted CRDs' conversion `clientConfig` of a rendering, by CRD name.
fn conversion_client_configs(rendered: &Rendered) -> BTreeMap<String, Value> {
    rendered
        .objects
        .iter()
        .filter(|o| o["spec"]["conversion"]["strategy"] == "Webhook")
        .map(|o| {
            (
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                o["spec"]["conversion"]["webhook"]["clientConfig"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_crd_chart_points_the_conversion_webhook_at_the_platform_release() -> Result<()> {
    // By default: the webhook Service of `helm install dynamo-platform` in dynamo-system, which
    // is what the generated CRDs name, and which the platform chart creates for that release.
    let defaults = render(&crds_chart(), "crds", "default", &json!({}))?;
    let platform = render_platform("dynamo-platform", "dynamo-system", &json!({}))?;
    let service = platform.get("Service", "dynamo-platform-dynamo-operator-webhook")?;
    assert_eq!(service["metadata"]["namespace"], "dynamo-system");
    assert_eq!(
        service["metadata"]["name"],
        dynamo_api::crds::CONVERSION_WEBHOOK_SERVICE
    );
    let expected = json!({"service": {
        "name": dynamo_api::crds::CONVERSION_WEBHOOK_SERVICE,
        "namespace": dynamo_api::crds::CONVERSION_WEBHOOK_NAMESPACE,
        "path": dynamo_api::crds::CONVERSION_WEBHOOK_PATH,
    }});
    let configs = conversion_client_configs(&defaults);
    assert_eq!(
        configs.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        CONVERTED_CRDS.into_iter().collect::<BTreeSet<_>>()
    );
    for (name, config) in &configs {
        assert_eq!(config, &expected, "{name}");
    }

    // Another platform release: its Service, no CA bundle (the operator or cert-manager writes
    // it), and nothing else of the CRDs changed.
    let values = json!({"conversionWebhook": {"service": {
        "name": "edge-dynamo-operator-webhook", "namespace": "edge-system"
    }}});
    let custom = render(&crds_chart(), "crds", "default", &values)?;
    for (name, config) in conversion_client_configs(&custom) {
        assert_eq!(
            config,
            json!({"service": {
                "name": "edge-dynamo-operator-webhook", "namespace": "edge-system", "path": "/convert"
            }}),
            "{name}"
        );
    }
    for (mine, default) in custom.objects.iter().zip(&defaults.objects) {
        let mut mine = mine.clone();
        if mine["spec"]["conversion"]["strategy"] == "Webhook" {
            mine["spec"]["conversion"]["webhook"]["clientConfig"] =
                default["spec"]["conversion"]["webhook"]["clientConfig"].clone();
        }
        ensure!(
            &mine == default,
            "{}: more than the conversion Service changed",
            default["metadata"]["name"]
        );
        ensure!(
            mine["metadata"]["annotations"]["cert-manager.io/inject-ca-from"].is_null(),
            "a CA injection annotation without cert-manager"
        );
    }

    // With cert-manager: its CA injector fills the converted CRDs' caBundle from the platform
    // chart's serving Certificate (named like the Service, or as given).
    for (certificate, expected) in [
        ("", "edge-system/edge-dynamo-operator-webhook"),
        ("my-cert", "edge-system/my-cert"),
    ] {
        let mut values = values.clone();
        values["conversionWebhook"]["certManager"] =
            json!({"enabled": true, "certificate": certificate});
        let injected = render(&crds_chart(), "crds", "default", &values)?;
        for object in &injected.objects {
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            let annotation = &object["metadata"]["annotations"]["cert-manager.io/inject-ca-from"];
            if CONVERTED_CRDS.contains(&name) {
                assert_eq!(annotation, expected, "{name}");
                ensure!(
                    object["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"].is_null(),
                    "{name}: a caBundle beside cert-manager's"
                );
                ensure!(
                    object["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep",
                    "{name} lost the keep policy"
                );
            } else {
                ensure!(
                    annotation.is_null(),
                    "{name} is not converted: {annotation}"
                );
            }
        }
    }

    // A certificate of your own: its CA in every converted CRD.
    let mine = render(
        &crds_chart(),
        "crds",
        "default",
        &json!({"conversionWebhook": {"caBundle": "Q0EgYnVuZGxl"}}),
    )?;
    for (name, config) in conversion_client_configs(&mine) {
        assert_eq!(config["caBundle"], "Q0EgYnVuZGxl", "{name}");
        assert_eq!(config["service"], expected["service"], "{name}");
    }

    // Refused: both CA sources, a Service name that is no DNS label, an unknown key.
    let error = render_error(
        &crds_chart(),
        &json!({"conversionWebhook": {"caBundle": "Q0E=", "certManager": {"enabled": true}}}),
    )?;
    ensure!(error.contains("exclude each other"), "{error}");
    let error = render_error(
        &crds_chart(),
        &json!({"conversionWebhook": {"service": {"name": "Not_A_Name"}}}),
    )?;
    ensure!(error.contains("conversionWebhook"), "{error}");
    let error = render_error(
        &crds_chart(),
        &json!({"conversionWebhook": {"service": {"port": 8443}}}),
    )?;
    ensure!(error.contains("port"), "{error}");
    Ok(())
}

/// Every leaf of `values.yaml` is documented: a comment right above it or above one of the keys
/// that contain it.
fn undocumented_keys(text: &str) -> Vec<String> {
    let mut missing = Vec::new();
    // (indent, key, documented) of the enclosing keys.
    let mut stack: Vec<(usize, String, bool)> = Vec::new();
    let mut comment_above = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            comment_above = false;
            continue;
        }
        if trimmed.starts_with('#') {
            comment_above = true;
            continue;
        }
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("- ") || !trimmed.contains(':') {
            comment_above = false;
            continue;
        }
        while stack.last().is_some_and(|(i, _, _)| *i >= indent) {
            stack.pop();
        }
        let key = trimmed.split(':').next().unwrap_or_default().to_owned();
        let documented = comment_above || stack.iter().any(|(_, _, d)| *d);
        let value = trimmed.split_once(':').map_or("", |(_, v)| v.trim());
        if value.is_empty() {
            stack.push((indent, key, documented));
        } else if !documented {
            let path: Vec<&str> = stack.iter().map(|(_, k, _)| k.as_str()).collect();
            missing.push(format!("{}.{key}", path.join(".")));
        }
        comment_above = false;
    }
    missing
}

#[test]
fn values_files_are_documented_and_the_sub_charts_defaults_agree() -> Result<()> {
    for file in [
        platform_chart().join("values.yaml"),
        crds_chart().join("values.yaml"),
    ] {
        let missing = undocumented_keys(&std::fs::read_to_string(&file)?);
        ensure!(
            missing.is_empty(),
            "{}: keys without a comment: {missing:?}",
            file.display()
        );
    }
    // `helm show values dynamo-platform` shows the parent's file, so it holds every default; the
    // sub-charts' own defaults must say the same.
    let parent: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(
        platform_chart().join("values.yaml"),
    )?)?;
    for sub in ["dynamo-operator", "nats"] {
        let path = platform_chart()
            .join("charts")
            .join(sub)
            .join("values.yaml");
        let own: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&path)?)?;
        ensure!(
            own == parent[sub],
            "{} and the `{sub}:` section of dynamo-platform's values.yaml differ",
            path.display()
        );
    }
    Ok(())
}

// === rendering: defaults and each combination ===

#[test]
fn defaults_render_a_hardened_cluster_wide_operator_with_nats() -> Result<()> {
    let r = render_platform("dynamo", "dynamo-system", &json!({}))?;
    check_common("defaults", &r)?;
    let op = r.operator_name();
    assert_eq!(op, "dynamo-dynamo-operator");

    // The Deployment.
    let deployment = r.deployment()?;
    ensure!(deployment["spec"]["replicas"] == 1, "{deployment}");
    let container = r.container()?;
    ensure!(
        container["image"] == "dynamo-operator:0.1.0",
        "image {}",
        container["image"]
    );
    let resources = &container["resources"];
    ensure!(
        resources["requests"]["cpu"] == "100m"
            && resources["requests"]["memory"] == "256Mi"
            && resources["limits"]["cpu"] == "1"
            && resources["limits"]["memory"] == "1Gi",
        "resources {resources}"
    );
    let args = r.args()?;
    ensure!(
        args == ["run", "--config=/etc/dynamo-operator/config.yaml"],
        "default args {args:?}: no plugin dir, no namespace, the binary's own operator version"
    );
    ensure!(
        deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"].is_string(),
        "no config checksum on the pod template"
    );

    // The configuration.
    let config = r.operator_config()?;
    assert_eq!(
        chart_operator_config("dynamo", "dynamo-system", &json!({}))?,
        r.operator_config_text()?
    );
    ensure!(config.leader_election.enabled, "leader election is off");
    assert_eq!(config.leader_election.id, "dynamo.nvidia.com");
    assert_eq!(config.leader_election.namespace, "kube-system");
    assert_eq!(
        config.infrastructure.nats_address.as_deref(),
        Some("nats://dynamo-nats.dynamo-system.svc.cluster.local:4222")
    );
    assert_eq!(config.namespace.restricted, "");
    let webhook = &config.server.webhook;
    ensure!(webhook.enabled && webhook.cert_provision_mode == "auto");
    assert_eq!(webhook.configuration_name, format!("{op}-webhook"));
    assert_eq!(webhook.service_name, format!("{op}-webhook"));
    assert_eq!(webhook.secret_name, "webhook-server-cert");
    assert_eq!(config.server.metrics.port, 8080);
    assert_eq!(config.server.health_probe.port, 8081);
    assert_eq!(webhook.port, 9443);
    assert_eq!(config.mpi.ssh_secret_name, "mpi-run-ssh-secret");
    assert_eq!(
        config.mpi.ssh_secret_namespace.as_deref(),
        Some("dynamo-system")
    );
    assert_eq!(config.orchestrators.grove.enabled, None, "auto-detect");
    assert_eq!(config.orchestrators.kai_scheduler.enabled, None);
    assert_eq!(config.orchestrators.lws.enabled, None);
    assert_eq!(config.orchestrators.grove.termination_delay, "4h");
    assert_eq!(
        config.rbac.planner_cluster_role_name,
        format!("{op}-planner")
    );
    assert_eq!(config.rbac.epp_cluster_role_name, format!("{op}-epp"));
    assert_eq!(
        config.plugins.cache_dir.as_deref(),
        Some("/var/cache/dynamo-operator/plugins")
    );

    // RBAC: cluster-wide, the workload rules in a ClusterRole.
    let manager = format!("{op}-manager");
    ensure!(r.has("ClusterRole", &manager) && r.has("ClusterRoleBinding", &manager));
    ensure!(!r.has("Role", &manager), "a Role in cluster-wide mode");
    assert_eq!(
        r.verbs("ClusterRole", &manager, "apps", "deployments"),
        set(&["get", "list", "watch", "create", "patch", "delete"])
    );
    assert_eq!(
        r.verbs("ClusterRole", &manager, "", "secrets"),
        set(&["get", "list", "watch", "create"]),
        "the operator never changes or deletes a Secret in graph namespaces"
    );
    assert_eq!(
        r.verbs("ClusterRole", &manager, "", "persistentvolumeclaims"),
        set(&["get", "list", "watch", "create"])
    );
    assert_eq!(
        r.verbs("ClusterRole", &manager, "", "pods"),
        set(&["get", "list", "watch"])
    );
    assert_eq!(
        r.verbs(
            "ClusterRole",
            &manager,
            "nvidia.com",
            "dynamographdeployments/status"
        ),
        set(&["patch"])
    );
    let bind = r.get("ClusterRole", &manager)?["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|rule| strings(&rule["verbs"]) == ["bind"])
        .context("no bind rule")?;
    assert_eq!(
        strings(&bind["resourceNames"]),
        [format!("{op}-planner"), format!("{op}-epp")]
    );
    // The kinds it does not act on yet: read, and their status marked.
    for resource in ["dynamographdeploymentrequests", "dynamocheckpoints"] {
        assert_eq!(
            r.verbs("ClusterRole", &manager, "nvidia.com", resource),
            set(&["get", "list", "watch"]),
            "{resource}"
        );
    }
    // Status of every kind it writes or migrates.
    for resource in [
        "dynamographdeployments/status",
        "dynamocomponentdeployments/status",
        "dynamographdeploymentscalingadapters/status",
        "dynamographdeploymentrequests/status",
        "dynamocheckpoints/status",
    ] {
        assert_eq!(
            r.verbs("ClusterRole", &manager, "nvidia.com", resource),
            set(&["patch"]),
            "{resource}"
        );
    }
    let cluster = r.get("ClusterRole", &format!("{op}-cluster"))?;
    // The converted CRDs, by name: their conversion caBundle (patch) and their storedVersions
    // (status). Every other CRD is only read.
    let crd_rules: Vec<&Value> = cluster["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rule| strings(&rule["apiGroups"]) == ["apiextensions.k8s.io"])
        .collect();
    let by_resource = |resource: &str| -> Vec<&Value> {
        crd_rules
            .iter()
            .copied()
            .filter(|rule| strings(&rule["resources"]) == [resource])
            .collect()
    };
    for (resource, verbs) in [
        ("customresourcedefinitions", &["patch"]),
        ("customresourcedefinitions/status", &["patch"]),
    ] {
        let named: Vec<&Value> = by_resource(resource)
            .into_iter()
            .filter(|rule| !strings(&rule["resourceNames"]).is_empty())
            .collect();
        ensure!(named.len() == 1, "{resource}: {named:?}");
        assert_eq!(strings(&named[0]["verbs"]), verbs, "{resource}");
        assert_eq!(
            strings(&named[0]["resourceNames"])
                .into_iter()
                .collect::<BTreeSet<_>>(),
            CONVERTED_CRDS.iter().map(|n| (*n).to_owned()).collect(),
            "{resource}"
        );
    }
    for rule in by_resource("customresourcedefinitions") {
        if strings(&rule["resourceNames"]).is_empty() {
            assert_eq!(strings(&rule["verbs"]), ["get", "list", "watch"], "{rule}");
        }
    }
    let webhook_rule = cluster["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|rule| strings(&rule["apiGroups"]) == ["admissionregistration.k8s.io"])
        .context("no webhook configuration rule")?;
    assert_eq!(
        strings(&webhook_rule["resourceNames"]),
        [format!("{op}-webhook")]
    );
    let leader = r.get("Role", &format!("{op}-leader-election"))?;
    assert_eq!(leader["metadata"]["namespace"], "kube-system");
    assert_eq!(
        r.verbs("Role", &format!("{op}-webhook-cert"), "", "secrets"),
        set(&["create", "get", "update", "patch"])
    );
    ensure!(r.has("ServiceAccount", &op));

    // Webhooks: Dynamo's paths, CREATE and UPDATE, Fail, 10 s, no selector.
    let validating = r.get("ValidatingWebhookConfiguration", &format!("{op}-webhook"))?;
    let mutating = r.get("MutatingWebhookConfiguration", &format!("{op}-webhook"))?;
    let paths = |config: &Value| -> Vec<String> {
        config["webhooks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| {
                w["clientConfig"]["service"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let expected_paths = |kind: &str| -> Vec<&str> {
        WEBHOOK_PATHS
            .iter()
            .filter(|(k, _, _, _)| *k == kind)
            .map(|(_, path, _, _)| *path)
            .collect()
    };
    assert_eq!(
        paths(validating),
        expected_paths("ValidatingWebhookConfiguration")
    );
    assert_eq!(
        paths(mutating),
        expected_paths("MutatingWebhookConfiguration")
    );
    let names = |config: &Value| -> Vec<String> {
        config["webhooks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| w["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        names(validating),
        [
            "validate-dynamographdeployment.dynamo.nvidia.com",
            "validate-dynamocomponentdeployment.dynamo.nvidia.com",
            "validate-dynamomodel.dynamo.nvidia.com"
        ]
    );
    assert_eq!(
        names(mutating),
        [
            "default-dynamographdeployment.dynamo.nvidia.com",
            "default-dynamocomponentdeployment.dynamo.nvidia.com"
        ]
    );
    // Each path's rule: graphs and components at v1beta1 (a v1alpha1 write is converted first:
    // matchPolicy Equivalent), models at v1alpha1.
    for (kind, path, version, resource) in WEBHOOK_PATHS {
        let config = if kind == "MutatingWebhookConfiguration" {
            mutating
        } else {
            validating
        };
        let webhook = config["webhooks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|w| w["clientConfig"]["service"]["path"] == path)
            .with_context(|| format!("no webhook at {path}"))?;
        let rule = &webhook["rules"][0];
        ensure!(
            strings(&rule["apiGroups"]) == ["nvidia.com"]
                && strings(&rule["apiVersions"]) == [version]
                && strings(&rule["resources"]) == [resource]
                && webhook["matchPolicy"] == "Equivalent",
            "{path}: {webhook}"
        );
    }
    for webhook in validating["webhooks"]
        .as_array()
        .into_iter()
        .chain(mutating["webhooks"].as_array())
        .flatten()
    {
        ensure!(
            webhook["failurePolicy"] == "Fail"
                && webhook["timeoutSeconds"] == 10
                && webhook["sideEffects"] == "None"
                && strings(&webhook["admissionReviewVersions"]) == ["v1"]
                && strings(&webhook["rules"][0]["operations"]) == ["CREATE", "UPDATE"]
                && webhook["clientConfig"]["service"]["name"] == format!("{op}-webhook")
                && webhook["clientConfig"]["service"]["namespace"] == "dynamo-system"
                && webhook["clientConfig"]["caBundle"].is_null()
                && webhook["namespaceSelector"] == json!({}),
            "webhook {webhook}"
        );
    }
    let service = r.get("Service", &format!("{op}-webhook"))?;
    ensure!(
        service["spec"]["ports"][0]["port"] == 443
            && service["spec"]["ports"][0]["targetPort"] == "webhook",
        "{service}"
    );
    ensure!(r.has("Service", &format!("{op}-metrics")));

    // NATS with JetStream.
    let nats = r.get("StatefulSet", "dynamo-nats")?;
    let conf = r.get("ConfigMap", "dynamo-nats-config")?["data"]["nats.conf"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ensure!(
        conf.contains("jetstream {") && conf.contains("store_dir: \"/data\""),
        "{conf}"
    );
    ensure!(
        nats["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
            == "10Gi",
        "{nats}"
    );
    ensure!(r.has("Service", "dynamo-nats"));

    // Nothing optional.
    for kind in [
        "Queue",
        "ServiceMonitor",
        "PrometheusRule",
        "Issuer",
        "Certificate",
    ] {
        ensure!(r.of_kind(kind).is_empty(), "{kind} rendered by default");
    }
    ensure!(!r.has("ConfigMap", &format!("{op}-dashboard")));
    Ok(())
}

#[test]
fn restricted_mode_grants_namespaced_access_in_the_target_namespace_only() -> Result<()> {
    let r = render_platform(
        "team",
        "dynamo-system",
        &json!({"dynamo-operator": {"namespaceRestriction": {
            "enabled": true, "targetNamespace": "team-a"
        }}}),
    )?;
    check_common("restricted", &r)?;
    let op = r.operator_name();
    let manager = format!("{op}-manager");
    let role = r.get("Role", &manager)?;
    assert_eq!(role["metadata"]["namespace"], "team-a");
    let binding = r.get("RoleBinding", &manager)?;
    assert_eq!(binding["metadata"]["namespace"], "team-a");
    assert_eq!(binding["subjects"][0]["namespace"], "dynamo-system");
    ensure!(
        !r.has("ClusterRole", &manager) && !r.has("ClusterRoleBinding", &manager),
        "workload access granted cluster-wide in restricted mode"
    );
    assert_eq!(
        r.verbs("Role", &manager, "apps", "deployments"),
        set(&["get", "list", "watch", "create", "patch", "delete"])
    );
    // The namespace-scope Lease, by name.
    let lease_rules: Vec<&Value> = role["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| strings(&r["resources"]) == ["leases"])
        .collect();
    ensure!(
        lease_rules.iter().any(|r| {
            strings(&r["resourceNames"]) == ["dynamo-operator-namespace-scope"]
                && strings(&r["verbs"]).contains(&"update".to_owned())
        }),
        "no namespace-scope Lease rule: {lease_rules:?}"
    );

    // The operator's only cluster-wide grants: cluster-scoped reads and its own webhooks.
    let cluster_scoped = set(&[
        "customresourcedefinitions",
        "queues",
        "validatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
    ]);
    let sa = format!("system:serviceaccount:dynamo-system:{op}");
    for binding in r.of_kind("ClusterRoleBinding") {
        let subject = &binding["subjects"][0];
        if format!(
            "system:serviceaccount:{}:{}",
            subject["namespace"].as_str().unwrap_or_default(),
            subject["name"].as_str().unwrap_or_default()
        ) != sa
        {
            continue;
        }
        let role = r.get(
            "ClusterRole",
            binding["roleRef"]["name"].as_str().unwrap_or_default(),
        )?;
        for rule in role["rules"].as_array().into_iter().flatten() {
            for resource in strings(&rule["resources"]) {
                ensure!(
                    cluster_scoped.contains(&resource),
                    "restricted mode grants {resource} cluster-wide: {rule}"
                );
            }
            let writes: BTreeSet<String> = strings(&rule["verbs"])
                .into_iter()
                .filter(|v| !["get", "list", "watch"].contains(&v.as_str()))
                .collect();
            ensure!(
                writes.is_empty() || !strings(&rule["resourceNames"]).is_empty(),
                "restricted mode writes cluster-wide without a resource name: {rule}"
            );
        }
    }

    // No CRD is written in restricted mode: it neither serves conversion nor migrates storage.
    assert_eq!(
        r.verbs(
            "ClusterRole",
            &format!("{op}-cluster"),
            "apiextensions.k8s.io",
            "customresourcedefinitions"
        ),
        set(&["get", "list", "watch"])
    );
    ensure!(
        r.verbs(
            "ClusterRole",
            &format!("{op}-cluster"),
            "apiextensions.k8s.io",
            "customresourcedefinitions/status"
        )
        .is_empty(),
        "restricted mode may narrow storedVersions"
    );
    // The kinds it does not act on are still marked, in its namespace.
    assert_eq!(
        r.verbs(
            "Role",
            &manager,
            "nvidia.com",
            "dynamographdeploymentrequests/status"
        ),
        set(&["patch"])
    );

    // The webhooks only see the target namespace; the operator only watches it.
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        for webhook in r.get(kind, &format!("{op}-webhook"))?["webhooks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert_eq!(
                webhook["namespaceSelector"],
                json!({"matchExpressions": [{
                    "key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]
                }]})
            );
        }
    }
    let config = r.operator_config()?;
    assert_eq!(config.namespace.restricted, "team-a");
    assert_eq!(config.leader_election.namespace, "team-a");
    ensure!(
        r.args()?.contains(&"--watch-namespace=team-a".to_owned()),
        "{:?}",
        r.args()
    );
    assert_eq!(
        r.get("Role", &format!("{op}-leader-election"))?["metadata"]["namespace"],
        "team-a"
    );

    // A user selector is kept and the target namespace added to it.
    let r = render_platform(
        "team",
        "team-a",
        &json!({"dynamo-operator": {
            "namespaceRestriction": {"enabled": true},
            "webhook": {"namespaceSelector": {"matchLabels": {"env": "prod"}}}
        }}),
    )?;
    let selector = &r.get("ValidatingWebhookConfiguration", &format!("{op}-webhook"))?["webhooks"]
        [0]["namespaceSelector"];
    assert_eq!(
        *selector,
        json!({"matchLabels": {"env": "prod"}, "matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]
        }]})
    );
    Ok(())
}

#[test]
fn cert_manager_mode_issues_and_mounts_the_webhook_certificate() -> Result<()> {
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"webhook": {"certManager": {"enabled": true}}}}),
    )?;
    check_common("cert-manager", &r)?;
    let op = r.operator_name();
    ensure!(r.of_kind("Issuer").len() == 2, "{:?}", r.summary());
    let serving = r.get("Certificate", &format!("{op}-webhook"))?;
    assert_eq!(serving["spec"]["secretName"], "webhook-server-cert");
    assert_eq!(
        strings(&serving["spec"]["dnsNames"]),
        [
            format!("{op}-webhook.dynamo-system.svc"),
            format!("{op}-webhook.dynamo-system.svc.cluster.local")
        ]
    );
    assert_eq!(serving["spec"]["duration"], "8760h");
    let root = r.get("Certificate", &format!("{op}-root-ca"))?;
    ensure!(root["spec"]["isCA"] == true, "{root}");
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        let config = r.get(kind, &format!("{op}-webhook"))?;
        assert_eq!(
            config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            format!("dynamo-system/{op}-webhook")
        );
    }
    let config = r.operator_config()?;
    assert_eq!(config.server.webhook.cert_provision_mode, "manual");
    let cert_dir = config.server.webhook.cert_dir.clone();
    let mount = r.container()?["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"] == cert_dir.as_str())
        .with_context(|| format!("nothing mounted at certDir {cert_dir}"))?;
    let volume = r.deployment()?["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == mount["name"])
        .context("the certificate volume")?;
    assert_eq!(volume["secret"]["secretName"], "webhook-server-cert");
    // cert-manager, not the operator, handles the certificate: no Secret or caBundle access.
    ensure!(!r.has("Role", &format!("{op}-webhook-cert")));
    ensure!(
        r.verbs(
            "ClusterRole",
            &format!("{op}-cluster"),
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations"
        )
        .is_empty(),
        "the operator may patch webhook configurations cert-manager fills"
    );

    // An external certificate: mounted too, caBundle from values; without one helm refuses.
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"webhook": {
            "certificateSecret": {"name": "mine", "external": true}, "caBundle": "Q0E="
        }}}),
    )?;
    let config = r.operator_config()?;
    assert_eq!(config.server.webhook.cert_provision_mode, "manual");
    assert_eq!(config.server.webhook.secret_name, "mine");
    assert_eq!(
        r.get("ValidatingWebhookConfiguration", &format!("{op}-webhook"))?["webhooks"][0]["clientConfig"]
            ["caBundle"],
        "Q0E="
    );
    let error = render_error(
        &platform_chart(),
        &json!({"dynamo-operator": {"webhook": {"certificateSecret": {"external": true}}}}),
    )?;
    ensure!(error.contains("caBundle"), "{error}");
    Ok(())
}

#[test]
fn nats_can_be_turned_off_or_pointed_elsewhere() -> Result<()> {
    let off = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"nats": {"enabled": false}, "dynamo-operator": {"nats": {"enabled": false}}}),
    )?;
    check_common("nats-off", &off)?;
    ensure!(off.of_kind("StatefulSet").is_empty(), "{:?}", off.summary());
    ensure!(!off.has("Service", "dynamo-nats"));
    assert_eq!(off.operator_config()?.infrastructure.nats_address, None);

    let external = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"nats": {"enabled": false}, "dynamo-operator": {"natsAddr": "nats://n.messaging:4222"}}),
    )?;
    assert_eq!(
        external
            .operator_config()?
            .infrastructure
            .nats_address
            .as_deref(),
        Some("nats://n.messaging:4222")
    );

    // Turning the NATS sub-chart off but leaving the operator pointing at it is refused.
    let error = render_error(&platform_chart(), &json!({"nats": {"enabled": false}}))?;
    ensure!(
        error.contains("dynamo-operator.nats.enabled=false"),
        "{error}"
    );

    // Without a persistent volume, the store is an emptyDir; the PVC goes with the release.
    let ephemeral = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"nats": {"config": {"jetstream": {"fileStore": {"pvc": {"enabled": false}}}}}}),
    )?;
    let nats = ephemeral.get("StatefulSet", "dynamo-nats")?;
    ensure!(nats["spec"]["volumeClaimTemplates"].is_null(), "{nats}");
    let persistent = render_platform("dynamo", "dynamo-system", &json!({}))?;
    assert_eq!(
        persistent.get("StatefulSet", "dynamo-nats")?["spec"]["persistentVolumeClaimRetentionPolicy"]
            ["whenDeleted"],
        "Delete"
    );
    Ok(())
}

#[test]
fn kai_and_grove_globals_turn_the_orchestrators_on_and_create_the_queues() -> Result<()> {
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"global": {"kai-scheduler": {"enabled": true}, "grove": {"enabled": true}}}),
    )?;
    check_common("kai-and-grove", &r)?;
    let parent = r.get("Queue", "dynamo-default")?;
    let child = r.get("Queue", "dynamo")?;
    assert_eq!(parent["apiVersion"], "scheduling.run.ai/v2");
    ensure!(parent["spec"]["parentQueue"].is_null(), "{parent}");
    assert_eq!(child["spec"]["parentQueue"], "dynamo-default");
    assert_eq!(child["spec"]["resources"]["gpu"]["quota"], -1);
    let config = r.operator_config()?;
    assert_eq!(config.orchestrators.kai_scheduler.enabled, Some(true));
    assert_eq!(config.orchestrators.grove.enabled, Some(true));

    let no_queues = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"global": {"kai-scheduler": {"enabled": true}}, "kaiQueues": {"create": false}}),
    )?;
    ensure!(no_queues.of_kind("Queue").is_empty());
    let explicit_off = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"orchestrators": {"lws": {"enabled": false}}}}),
    )?;
    assert_eq!(
        explicit_off.operator_config()?.orchestrators.lws.enabled,
        Some(false)
    );
    Ok(())
}

#[test]
fn monitoring_renders_a_service_monitor_alerts_and_a_dashboard_for_every_metric() -> Result<()> {
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"metrics": {
            "serviceMonitor": {"enabled": true, "labels": {"release": "prometheus"}},
            "prometheusRule": {"enabled": true},
            "dashboard": {"enabled": true, "namespace": "monitoring"}
        }}}),
    )?;
    check_common("monitoring", &r)?;
    let op = r.operator_name();
    let monitor = r.get("ServiceMonitor", &op)?;
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["scheme"], "http");
    // It selects the metrics Service.
    let service = r.get("Service", &format!("{op}-metrics"))?;
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .context("matchLabels")?
    {
        assert_eq!(&service["metadata"]["labels"][key], value, "label {key}");
    }

    let rule = r.get("PrometheusRule", &op)?;
    let alerts: Vec<&Value> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let names: Vec<&str> = alerts.iter().filter_map(|a| a["alert"].as_str()).collect();
    assert_eq!(
        names,
        [
            "DynamoOperatorReconcileErrors",
            "DynamoOperatorWebhookSlow",
            "DynamoOperatorWebhookCertificateExpiring",
            "DynamoOperatorNoLeader"
        ]
    );
    for alert in &alerts {
        let expr = alert["expr"].as_str().unwrap_or_default();
        ensure!(
            METRICS.iter().any(|m| expr.contains(m)),
            "alert on an unknown metric: {expr}"
        );
        ensure!(
            expr.contains(&format!("job=\"{op}-metrics\"")),
            "alert not scoped to this release: {expr}"
        );
    }
    ensure!(
        alerts[2]["expr"]
            .as_str()
            .unwrap_or_default()
            .ends_with("< 604800"),
        "certificate alert threshold is not 7 days: {}",
        alerts[2]["expr"]
    );

    let dashboard = r.get("ConfigMap", &format!("{op}-dashboard"))?;
    assert_eq!(dashboard["metadata"]["namespace"], "monitoring");
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    let json_text = dashboard["data"]["dynamo-operator.json"]
        .as_str()
        .context("dashboard JSON")?;
    let parsed: Value = serde_json::from_str(json_text).context("the dashboard is not JSON")?;
    let exprs: Vec<String> = parsed["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    for metric in METRICS {
        ensure!(
            exprs.iter().any(|e| e.contains(metric)),
            "the dashboard shows nothing of {metric}"
        );
    }
    for expr in &exprs {
        let used: Vec<&str> = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("dynamo_operator_"))
            .collect();
        for metric in used {
            ensure!(
                METRICS.contains(&metric),
                "the dashboard queries {metric}, which the operator does not export"
            );
        }
    }

    // Authenticated metrics: the operator may review tokens, Prometheus gets a reader role.
    let secure = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"metrics": {"secure": true, "serviceMonitor": {"enabled": true}}}}),
    )?;
    ensure!(secure.operator_config()?.server.metrics.secure);
    assert_eq!(
        secure.verbs(
            "ClusterRole",
            &format!("{op}-cluster"),
            "authentication.k8s.io",
            "tokenreviews"
        ),
        set(&["create"])
    );
    ensure!(secure.has("ClusterRole", &format!("{op}-metrics-reader")));
    assert_eq!(
        secure.get("ServiceMonitor", &op)?["spec"]["endpoints"][0]["scheme"],
        "https"
    );
    Ok(())
}

#[test]
fn a_custom_plugin_volume_is_mounted_at_the_plugin_dir_with_its_grants() -> Result<()> {
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"plugins": {
            "volume": {"image": {"reference": "registry.example.com/plugins:1.0", "pullPolicy": "IfNotPresent"}},
            "grants": {"llamacpp": ["ssh-key-secret", "add-capability:IPC_LOCK"]},
            "limits": {"deadline": "250ms"}
        }}}),
    )?;
    check_common("custom-plugins", &r)?;
    ensure!(
        r.args()?
            .contains(&"--plugin-dir=/opt/dynamo-operator/plugins".to_owned()),
        "{:?}",
        r.args()
    );
    let mount = r.container()?["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"] == "/opt/dynamo-operator/plugins")
        .context("no mount at the plugin dir")?;
    assert_eq!(mount["readOnly"], true);
    let volume = r.deployment()?["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == mount["name"])
        .context("the plugin volume")?;
    assert_eq!(
        volume["image"]["reference"],
        "registry.example.com/plugins:1.0"
    );
    let config = r.operator_config()?;
    let grants = config.plugins.parsed_grants()?;
    assert_eq!(grants["llamacpp"].len(), 2);
    assert_eq!(config.plugins.limits.deadline, "250ms");

    // A ConfigMap volume works the same way; a wrong capability is refused by the schema.
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"plugins": {"volume": {"configMap": {"name": "my-plugins"}}}}}),
    )?;
    ensure!(
        r.deployment()?["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["configMap"]["name"] == "my-plugins")
    );
    let error = render_error(
        &platform_chart(),
        &json!({"dynamo-operator": {"plugins": {"grants": {"x": ["root"]}}}}),
    )?;
    ensure!(error.contains("grants"), "{error}");
    Ok(())
}

#[test]
fn leader_election_can_be_turned_off_but_not_with_several_replicas() -> Result<()> {
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"controllerManager": {"leaderElection": {"enabled": false}}}}),
    )?;
    check_common("leader-election-off", &r)?;
    ensure!(!r.operator_config()?.leader_election.enabled);
    ensure!(
        !r.has("Role", &format!("{}-leader-election", r.operator_name())),
        "a leader-election Role without leader election"
    );

    let two = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"replicas": 2,
            "controllerManager": {"leaderElection": {"id": "my-lease", "namespace": "dynamo-system"}}}}),
    )?;
    assert_eq!(two.deployment()?["spec"]["replicas"], 2);
    let config = two.operator_config()?;
    assert_eq!(config.leader_election.id, "my-lease");
    assert_eq!(config.leader_election.namespace, "dynamo-system");
    let leader = two.get("Role", &format!("{}-leader-election", two.operator_name()))?;
    assert_eq!(leader["metadata"]["namespace"], "dynamo-system");
    ensure!(
        leader["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| strings(&r["resourceNames"]) == ["my-lease"]),
        "{leader}"
    );

    let error = render_error(
        &platform_chart(),
        &json!({"dynamo-operator": {"replicas": 2,
            "controllerManager": {"leaderElection": {"enabled": false}}}}),
    )?;
    ensure!(error.contains("leaderElection.enabled"), "{error}");
    Ok(())
}

#[test]
fn every_values_combination_renders_a_configuration_the_operator_accepts_and_no_wildcard()
-> Result<()> {
    for (name, values) in combinations("team-a") {
        let rendered = render_platform("dynamo", "dynamo-system", &values)
            .with_context(|| format!("rendering {name}"))?;
        check_common(name, &rendered)?;
    }
    // Without admission webhooks, a cluster-wide operator still serves the CRDs' conversion
    // webhook: its Service, port and certificate stay (made by the operator, or by cert-manager).
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"webhook": {"enabled": false}}}),
    )?;
    let op = r.operator_name();
    ensure!(r.of_kind("ValidatingWebhookConfiguration").is_empty());
    ensure!(r.of_kind("MutatingWebhookConfiguration").is_empty());
    ensure!(!r.operator_config()?.server.webhook.enabled);
    let serves_https = |r: &Rendered| -> Result<bool> {
        let port = r.container()?["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "webhook" && p["containerPort"] == 9443);
        let service = r.has("Service", &format!("{op}-webhook"));
        ensure!(
            port == service,
            "the webhook Service and container port disagree"
        );
        Ok(port)
    };
    ensure!(serves_https(&r)?, "no conversion webhook Service or port");
    assert_eq!(
        r.verbs("Role", &format!("{op}-webhook-cert"), "", "secrets"),
        set(&["create", "get", "update", "patch"])
    );
    ensure!(
        !r.verbs(
            "ClusterRole",
            &format!("{op}-cluster"),
            "apiextensions.k8s.io",
            "customresourcedefinitions/status"
        )
        .is_empty(),
        "no storage migration without admission webhooks"
    );
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"webhook": {"enabled": false, "certManager": {"enabled": true}}}}),
    )?;
    ensure!(serves_https(&r)?);
    r.get("Certificate", &format!("{op}-webhook"))?;
    ensure!(
        r.container()?["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["name"] == "webhook-cert"),
        "the cert-manager certificate is not mounted"
    );
    // A restricted operator without admission webhooks serves no HTTPS at all.
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {
            "namespaceRestriction": {"enabled": true}, "webhook": {"enabled": false, "certManager": {"enabled": true}}
        }}),
    )?;
    ensure!(!serves_https(&r)?, "{:?}", r.summary());
    ensure!(r.of_kind("Certificate").is_empty(), "{:?}", r.summary());
    ensure!(!r.has("Role", &format!("{op}-webhook-cert")));
    ensure!(
        !r.container()?["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["name"] == "webhook-cert"),
        "a certificate nobody issues is mounted"
    );
    // The operator can be left out entirely.
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"enabled": false}}),
    )?;
    ensure!(r.of_kind("Deployment").is_empty(), "{:?}", r.summary());
    check_common("operator-off", &r)?;
    // Values Dynamo's chart has and this one does not use are accepted.
    let r = render_platform(
        "dynamo",
        "dynamo-system",
        &json!({"dynamo-operator": {"upgradeCRD": true, "dynamo": {"dockerRegistry": {"useKubernetesSecret": false}}},
                "etcd": {"persistence": {"enabled": true}}, "global": {"etcd": {"install": false}}}),
    )?;
    check_common("dynamo-values", &r)?;
    Ok(())
}

// === against a real API server ===

/// Kinds no test control plane serves (cert-manager, Prometheus Operator): left out of the
/// server-side dry run.
const UNSERVED_KINDS: [&str; 4] = ["Issuer", "Certificate", "ServiceMonitor", "PrometheusRule"];

#[tokio::test]
async fn every_combination_passes_the_api_servers_validation() -> Result<()> {
    let cp = ControlPlane::shared().await?;
    // KAI queues are validated against the stand-in CRD (cluster-scoped, shared, idempotent).
    cp.install_test_crds("kai").await?;
    let (_, namespace) = cp.namespace("helm-validate").await?;
    let (_, target) = cp.namespace("helm-validate-target").await?;
    for (name, values) in combinations(&target) {
        let rendered = render_platform("validate", &namespace, &values)?;
        let objects: Vec<&Value> = rendered
            .objects
            .iter()
            .filter(|o| !UNSERVED_KINDS.contains(&o["kind"].as_str().unwrap_or_default()))
            .collect();
        let mut input = String::new();
        for object in objects {
            input.push_str("---\n");
            input.push_str(&serde_json::to_string(object)?);
            input.push('\n');
        }
        // A dry run: validated and admitted by the API server, nothing stored (the webhook
        // configurations never take effect).
        let mut command = cp.kubectl()?;
        command
            .args([
                "apply",
                "--server-side",
                "--dry-run=server",
                "--field-manager=helm-test",
                // Queues other tests made: a dry run may take their fields.
                "--force-conflicts",
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn()?;
        child
            .stdin
            .take()
            .context("kubectl stdin")?
            .write_all(input.as_bytes())?;
        let output = child.wait_with_output()?;
        check(&command, output).with_context(|| format!("the {name} rendering"))?;
    }
    Ok(())
}

/// `kubectl get <what> -o json`, parsed; `None` when it does not exist.
fn kubectl_get(cp: &ControlPlane, args: &[&str]) -> Result<Option<Value>> {
    let mut command = cp.kubectl()?;
    command.arg("get").args(args).args(["-o", "json"]);
    let output = command.stdin(Stdio::null()).output()?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("NotFound") || stderr.contains("not found") {
            return Ok(None);
        }
        bail!("{command:?} failed: {stderr}");
    }
    Ok(Some(serde_json::from_slice(&output.stdout)?))
}

/// Waits until every CRD of `names` is `Established` (`kubectl wait` fails outright on a CRD
/// created so recently that it has no conditions yet).
fn wait_established(cp: &ControlPlane, names: &[&str]) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    for name in names {
        loop {
            let crd = kubectl_get(cp, &["crd", name])?;
            let established = crd.as_ref().is_some_and(|crd| {
                crd["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Established" && c["status"] == "True")
            });
            if established {
                break;
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "CRD {name} not Established within 120 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
    Ok(())
}

fn kubectl(cp: &ControlPlane, args: &[&str]) -> Result<String> {
    let mut command = cp.kubectl()?;
    command.args(args);
    run(command)
}

/// What `kubectl auth can-i` answers for the operator's ServiceAccount.
fn can_i(cp: &ControlPlane, service_account: &str, args: &[&str]) -> Result<bool> {
    let mut command = cp.kubectl()?;
    command
        .args(["auth", "can-i", "--as", service_account])
        .args(args);
    let output = command.stdin(Stdio::null()).output()?;
    let answer = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match answer.as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => bail!(
            "{command:?}: {answer} {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Every object of the cluster carrying `selector`, as `kind namespace/name`, over every kind
/// the API server lists.
fn labelled_objects(cp: &ControlPlane, selector: &str) -> Result<Vec<String>> {
    let kinds = kubectl(cp, &["api-resources", "--verbs=list", "-o", "name"])?;
    let kinds: Vec<&str> = kinds
        .lines()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    let listed = kubectl(
        cp,
        &[
            "get",
            &kinds.join(","),
            "--all-namespaces",
            "-l",
            selector,
            "-o",
            "json",
        ],
    )?;
    let listed: Value = serde_json::from_str(&listed)?;
    Ok(listed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            format!(
                "{} {}/{}",
                o["kind"].as_str().unwrap_or_default(),
                o["metadata"]["namespace"].as_str().unwrap_or_default(),
                o["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect())
}

/// A copy of the dynamo-crds chart in a temporary directory, for an upgrade with changed CRDs.
fn chart_copy(into: &Path) -> Result<PathBuf> {
    let dest = into.join("dynamo-crds");
    for dir in ["", "templates", "files"] {
        std::fs::create_dir_all(dest.join(dir))?;
        for entry in std::fs::read_dir(crds_chart().join(dir))? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::copy(
                    &path,
                    dest.join(dir).join(path.file_name().context("file name")?),
                )?;
            }
        }
    }
    Ok(dest)
}

fn printer_column_description(crd: &Value, column: usize) -> String {
    crd["spec"]["versions"][0]["additionalPrinterColumns"][column]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn install_upgrade_and_uninstall_on_a_real_api_server() -> Result<()> {
    // A private control plane without the nvidia.com CRDs (the chart installs them, as on a new
    // cluster), whose CRDs this test edits and upgrades. Its webhook configurations are also
    // cluster-wide; with no operator pod behind them, the install below still scopes them to its
    // own namespace with failurePolicy Ignore so that nothing else on this API server (were it
    // ever shared) has its writes refused or delayed.
    let no_crds = tempfile::tempdir()?;
    let cp = ControlPlane::start_with_crds(Mode::Basic, no_crds.path()).await?;
    let home = tempfile::tempdir()?;
    let helm = || -> Result<Command> { Ok(cp.helm()?) };
    cp.install_test_crds("kai").await?;
    let (_, namespace) = cp.namespace("helm-install").await?;
    let crds_release = "dynamo-crds";
    let release = "dynamo";

    // 1. The CRDs, converted through the webhook Service of the platform release below. The
    // release fits Helm's Secret with room to spare.
    let crds_values = json!({"conversionWebhook": {"service": {
        "name": format!("{release}-dynamo-operator-webhook"), "namespace": namespace
    }}});
    let crds_file = values_file(home.path(), &crds_values)?;
    let mut command = helm()?;
    command
        .args(["install", crds_release])
        .arg(crds_chart())
        .args(["--namespace", &namespace, "--timeout", "2m", "-f"])
        .arg(&crds_file);
    run(command)?;
    let secret = kubectl_get(
        &cp,
        &[
            "secret",
            &format!("sh.helm.release.v1.{crds_release}.v1"),
            "-n",
            &namespace,
        ],
    )?
    .context("the CRD release's Secret")?;
    // Secret data is base64 on the wire; the limit counts the bytes.
    let size = secret["data"]["release"].as_str().unwrap_or_default().len() / 4 * 3;
    eprintln!(
        "dynamo-crds release Secret: {size} bytes ({:.0}% of Helm's {RELEASE_SECRET_LIMIT})",
        size as f64 * 100.0 / RELEASE_SECRET_LIMIT as f64
    );
    ensure!(
        size > 0 && size < RELEASE_SECRET_LIMIT * 3 / 4,
        "the CRD release takes {size} bytes of the Secret's {RELEASE_SECRET_LIMIT}"
    );
    wait_established(&cp, &CRD_NAMES)?;
    for name in CRD_NAMES {
        let crd = kubectl_get(&cp, &["crd", name])?.with_context(|| format!("CRD {name}"))?;
        eprintln!(
            "CRD {name}: {} bytes of JSON",
            serde_json::to_string(&crd)?.len()
        );
        ensure!(
            crd["metadata"]["labels"]["app.kubernetes.io/instance"] == crds_release
                && crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep",
            "{name}: {}",
            crd["metadata"]
        );
        if CONVERTED_CRDS.contains(&name) {
            assert_eq!(
                crd["spec"]["conversion"]["webhook"]["clientConfig"],
                json!({"service": {
                    "name": format!("{release}-dynamo-operator-webhook"),
                    "namespace": namespace,
                    "path": "/convert",
                    "port": 443
                }}),
                "{name}"
            );
        }
    }

    // 2. The platform, with KAI queues and NATS.
    let values = json!({
        "global": {"kai-scheduler": {"enabled": true}},
        "dynamo-operator": {"webhook": {
            "failurePolicy": "Ignore",
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
        }}
    });
    let file = values_file(home.path(), &values)?;
    let mut command = helm()?;
    command
        .args(["install", release])
        .arg(platform_chart())
        .args(["--namespace", &namespace, "--timeout", "2m", "-f"])
        .arg(&file);
    run(command)?;
    let expected = render_platform(release, &namespace, &values)?;
    let op = expected.operator_name();
    // The Service the CRDs convert through is the platform's.
    let service = kubectl_get(
        &cp,
        &["service", &format!("{op}-webhook"), "-n", &namespace],
    )?
    .context("the webhook Service")?;
    ensure!(service["spec"]["ports"][0]["port"] == 443, "{service}");
    for object in &expected.objects {
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        let resource = match kind {
            "Queue" => "queues.scheduling.run.ai".to_owned(),
            other => other.to_lowercase(),
        };
        let mut args = vec![resource.as_str(), name];
        if let Some(ns) = object["metadata"]["namespace"].as_str() {
            args.extend(["--namespace", ns]);
        }
        let live =
            kubectl_get(&cp, &args)?.with_context(|| format!("{kind} {name} was not installed"))?;
        ensure!(
            live["metadata"]["labels"]["app.kubernetes.io/instance"] == release,
            "{kind} {name}: {}",
            live["metadata"]
        );
    }
    let config_map = kubectl_get(
        &cp,
        &["configmap", &format!("{op}-config"), "-n", &namespace],
    )?
    .context("the operator ConfigMap")?;
    let config = OperatorConfiguration::from_yaml(
        config_map["data"]["config.yaml"]
            .as_str()
            .unwrap_or_default(),
    )?;
    ensure!(config.orchestrators.kai_scheduler.enabled == Some(true));

    // What the installed RBAC lets the operator's ServiceAccount do (the API server's answer).
    let sa = format!("system:serviceaccount:{namespace}:{op}");
    let webhook_config = format!("validatingwebhookconfigurations/{op}-webhook");
    let planner = format!("clusterroles/{op}-planner");
    for (args, allowed) in [
        (vec!["create", "deployments.apps", "-n", "anywhere"], true),
        (
            vec![
                "patch",
                "dynamographdeployments.nvidia.com",
                "--subresource=status",
                "-n",
                "anywhere",
            ],
            true,
        ),
        (
            vec!["list", "customresourcedefinitions.apiextensions.k8s.io"],
            true,
        ),
        (vec!["watch", "queues.scheduling.run.ai"], true),
        (vec!["patch", webhook_config.as_str()], true),
        (
            vec!["patch", "validatingwebhookconfigurations/someone-elses"],
            false,
        ),
        (vec!["bind", planner.as_str(), "-n", "anywhere"], true),
        (
            vec!["bind", "clusterroles/cluster-admin", "-n", "anywhere"],
            false,
        ),
        (
            vec!["update", "leases/dynamo.nvidia.com", "-n", "kube-system"],
            true,
        ),
        (
            vec!["update", "leases/kube-scheduler", "-n", "kube-system"],
            false,
        ),
        (
            vec![
                "update",
                "secrets/webhook-server-cert",
                "-n",
                namespace.as_str(),
            ],
            true,
        ),
        (
            vec!["update", "secrets/other", "-n", namespace.as_str()],
            false,
        ),
        (vec!["delete", "secrets", "-n", "anywhere"], false),
        (vec!["create", "pods", "-n", "anywhere"], false),
        (vec!["get", "nodes"], false),
        (
            vec![
                "watch",
                "leases/dynamo-operator-namespace-scope",
                "--all-namespaces",
            ],
            true,
        ),
        (vec!["list", "leases", "--all-namespaces"], false),
        (vec!["create", "clusterroles"], false),
        (vec!["escalate", "roles", "-n", "anywhere"], false),
        // The converted CRDs, by name: conversion caBundle and storedVersions.
        (
            vec![
                "patch",
                "customresourcedefinitions.apiextensions.k8s.io/dynamographdeployments.nvidia.com",
            ],
            true,
        ),
        (
            vec![
                "patch",
                "customresourcedefinitions.apiextensions.k8s.io/dynamographdeploymentrequests.nvidia.com",
                "--subresource=status",
            ],
            true,
        ),
        (
            vec![
                "patch",
                "customresourcedefinitions.apiextensions.k8s.io/dynamomodels.nvidia.com",
            ],
            false,
        ),
        (
            vec![
                "update",
                "customresourcedefinitions.apiextensions.k8s.io/dynamographdeployments.nvidia.com",
            ],
            false,
        ),
        (
            vec!["delete", "customresourcedefinitions.apiextensions.k8s.io"],
            false,
        ),
        // Requests and checkpoints: read, status marked; never changed themselves.
        (
            vec![
                "list",
                "dynamographdeploymentrequests.nvidia.com",
                "--all-namespaces",
            ],
            true,
        ),
        (
            vec![
                "patch",
                "dynamocheckpoints.nvidia.com",
                "--subresource=status",
                "-n",
                "anywhere",
            ],
            true,
        ),
        (
            vec!["patch", "dynamocheckpoints.nvidia.com", "-n", "anywhere"],
            false,
        ),
    ] {
        let answer = can_i(&cp, &sa, &args)?;
        ensure!(
            answer == allowed,
            "the operator {} be able to {args:?}",
            if allowed { "should" } else { "should not" }
        );
    }

    // 3. An upgrade with changed values takes effect.
    let upgraded = json!({
        "global": {"kai-scheduler": {"enabled": true}},
        "nats": {"enabled": false},
        "dynamo-operator": {
            "replicas": 2,
            "nats": {"enabled": false},
            "logging": {"level": "debug"},
            "webhook": values["dynamo-operator"]["webhook"].clone()
        }
    });
    let before =
        kubectl_get(&cp, &["deployment", &op, "-n", &namespace])?.context("the Deployment")?;
    let file = values_file(home.path(), &upgraded)?;
    let mut command = helm()?;
    command
        .args(["upgrade", release])
        .arg(platform_chart())
        .args(["--namespace", &namespace, "--timeout", "2m", "-f"])
        .arg(&file);
    run(command)?;
    let after =
        kubectl_get(&cp, &["deployment", &op, "-n", &namespace])?.context("the Deployment")?;
    ensure!(after["spec"]["replicas"] == 2, "replicas {}", after["spec"]);
    let checksum =
        |d: &Value| d["spec"]["template"]["metadata"]["annotations"]["checksum/config"].clone();
    ensure!(
        checksum(&before) != checksum(&after),
        "a changed configuration does not roll the pods"
    );
    let config_map = kubectl_get(
        &cp,
        &["configmap", &format!("{op}-config"), "-n", &namespace],
    )?
    .context("the operator ConfigMap")?;
    let config = OperatorConfiguration::from_yaml(
        config_map["data"]["config.yaml"]
            .as_str()
            .unwrap_or_default(),
    )?;
    assert_eq!(config.logging.level, "debug");
    assert_eq!(config.infrastructure.nats_address, None);
    ensure!(
        kubectl_get(
            &cp,
            &["statefulset", &format!("{release}-nats"), "-n", &namespace]
        )?
        .is_none(),
        "NATS stayed after being turned off"
    );

    // 4. The CRDs: edited in the cluster, then upgraded with a chart whose DynamoModel CRD
    // changed. The chart's version of both wins.
    let dgd = "dynamographdeployments.nvidia.com";
    let original =
        printer_column_description(&kubectl_get(&cp, &["crd", dgd])?.context("the DGD CRD")?, 0);
    kubectl(
        &cp,
        &[
            "patch",
            "crd",
            dgd,
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/versions/0/additionalPrinterColumns/0/description","value":"edited by hand"}]"#,
        ],
    )?;
    let copy = chart_copy(home.path())?;
    let model_file = copy.join("files/nvidia.com_dynamomodels.yaml");
    let text = std::fs::read_to_string(&model_file)?;
    let changed = "Base model the services serve (chart 0.1.1)";
    ensure!(text.contains("description: Base model the services serve\n"));
    std::fs::write(
        &model_file,
        text.replacen(
            "description: Base model the services serve\n",
            &format!("description: {changed}\n"),
            1,
        ),
    )?;
    // The caBundle the operator writes into the converted CRDs (auto certificates) is not the
    // chart's: an upgrade keeps it.
    let ca_bundle = serde_json::to_value(k8s_openapi::ByteString(std::fs::read(
        cp.dir().join("pki/ca.crt"),
    )?))?;
    kubectl(
        &cp,
        &[
            "patch",
            "crd",
            dgd,
            "--type=merge",
            "-p",
            &json!({"spec": {"conversion": {"webhook": {"clientConfig": {"caBundle": ca_bundle}}}}})
                .to_string(),
        ],
    )?;
    let mut command = helm()?;
    command
        .args(["upgrade", crds_release])
        .arg(&copy)
        .args(["--namespace", &namespace, "--timeout", "2m", "-f"])
        .arg(&crds_file);
    run(command)?;
    let model = kubectl_get(&cp, &["crd", "dynamomodels.nvidia.com"])?.context("DynamoModel")?;
    assert_eq!(printer_column_description(&model, 0), changed);
    let restored = kubectl_get(&cp, &["crd", dgd])?.context("the DGD CRD")?;
    assert_eq!(
        printer_column_description(&restored, 0),
        original,
        "the hand edit of the CRD survived the chart's upgrade"
    );
    assert_eq!(
        restored["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"], ca_bundle,
        "the upgrade dropped the operator's caBundle"
    );

    // 5. Uninstall both: nothing of either release is left but the CRDs (kept by policy).
    for (name, release_namespace) in [(release, &namespace), (crds_release, &namespace)] {
        let mut command = helm()?;
        command
            .args([
                "uninstall",
                name,
                "--namespace",
                release_namespace,
                "--wait",
            ])
            .args(["--timeout", "2m"]);
        run(command)?;
    }
    let left = labelled_objects(
        &cp,
        &format!("app.kubernetes.io/instance in ({release},{crds_release})"),
    )?;
    let mut kept: Vec<String> = CRD_NAMES
        .iter()
        .map(|n| format!("CustomResourceDefinition /{n}"))
        .collect();
    kept.sort();
    let mut left_sorted = left.clone();
    left_sorted.sort();
    assert_eq!(left_sorted, kept, "left behind after uninstall");
    for name in CRD_NAMES {
        let crd = kubectl_get(&cp, &["crd", name])?
            .with_context(|| format!("CRD {name} was deleted by uninstall"))?;
        ensure!(
            crd["metadata"]["deletionTimestamp"].is_null(),
            "{name} is being deleted"
        );
    }
    let secrets = labelled_objects(&cp, "owner=helm")?;
    ensure!(secrets.is_empty(), "helm release records left: {secrets:?}");
    Ok(())
}

#[tokio::test]
async fn the_generated_crds_install_with_kubectl_server_side_apply() -> Result<()> {
    // A private control plane without the nvidia.com CRDs, as a new cluster.
    let no_crds = tempfile::tempdir()?;
    let cp = ControlPlane::start_with_crds(Mode::Basic, no_crds.path()).await?;
    let crds = workspace_root().join("crds");
    let graph = crds.join("nvidia.com_dynamographdeployments.yaml");

    // Client-side apply keeps a copy of the object in an annotation, which the graph CRD
    // exceeds (256 KiB): that is why the charts' README says `--server-side`.
    let mut command = cp.kubectl()?;
    command.args(["apply", "-f"]).arg(&graph);
    let error = run_failing(command)?;
    ensure!(error.contains("Too long"), "{error}");

    // Server-side apply installs all seven, and applies them again (an upgrade) without
    // conflicts.
    for _ in 0..2 {
        let mut command = cp.kubectl()?;
        command.args(["apply", "--server-side", "-f"]).arg(&crds);
        let out = run(command)?;
        ensure!(out.lines().count() == CRD_NAMES.len(), "{out}");
    }
    wait_established(&cp, &CRD_NAMES)?;
    for name in CRD_NAMES {
        let crd = kubectl_get(&cp, &["crd", name])?.with_context(|| format!("CRD {name}"))?;
        eprintln!(
            "CRD {name}: {} bytes of JSON after server-side apply",
            serde_json::to_string(&crd)?.len()
        );
        let stored: Vec<String> = strings(&crd["status"]["storedVersions"]);
        let storage: Vec<String> = crd["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["storage"] == true)
            .map(|v| v["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(stored, storage, "{name}");
    }
    Ok(())
}

// === the image ===

#[test]
fn the_dockerfile_builds_the_operator_from_a_context_with_the_whole_workspace() -> Result<()> {
    let root = workspace_root();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile"))?;
    for needed in [
        "rustup target add wasm32-wasip2",
        "cargo build --release -p dynamo-operator --locked",
        "FROM gcr.io/distroless/cc-debian12:nonroot",
        "USER 65532:65532",
        "ENTRYPOINT [\"/usr/local/bin/dynamo-operator\"]",
    ] {
        ensure!(
            dockerfile.contains(needed),
            "the Dockerfile lacks `{needed}`"
        );
    }
    // Build and runtime on the same Debian release, so the binary finds its glibc.
    ensure!(
        dockerfile.contains("FROM rust:1.95-bookworm"),
        "the builder is not Debian 12 like the runtime image"
    );
    // Cargo loads every workspace member, so the build context must keep them all.
    let ignored: Vec<String> = std::fs::read_to_string(root.join(".dockerignore"))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_start_matches("**/").trim_end_matches('/').to_owned())
        .collect();
    let mut needed = workspace_members(&std::fs::read_to_string(root.join("Cargo.toml"))?);
    needed.extend(["Cargo.toml", "Cargo.lock", "wit"].map(str::to_owned));
    for path in &needed {
        let excluded = ignored.iter().any(|pattern| {
            path == pattern
                || path.starts_with(&format!("{pattern}/"))
                || path
                    .split('/')
                    .any(|part| part == pattern && pattern == "target")
        });
        ensure!(
            !excluded,
            ".dockerignore leaves out {path}, which the build needs"
        );
    }
    Ok(())
}

/// The `members = [...]` paths of the workspace manifest.
fn workspace_members(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with("members = [") {
            inside = true;
        } else if inside && line.starts_with(']') {
            break;
        } else if inside && let Some(path) = line.strip_prefix('"') {
            out.push(path.split('"').next().unwrap_or_default().to_owned());
        }
    }
    out
}
