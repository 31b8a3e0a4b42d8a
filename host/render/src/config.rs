//! Dynamo's `OperatorConfiguration`, and the [`RenderConfig`] the pipeline takes.
//!
//! The document is the one Dynamo's Helm chart renders (`apiVersion:
//! operator.config.dynamo.nvidia.com/v1alpha1`, `kind: OperatorConfiguration`), with every field
//! of Dynamo's and the same defaults, so the same file configures both operators; this operator
//! adds a `plugins` section. An unknown field is an error naming its path: a typo in a production
//! configuration must stop start-up, not be ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use dynamo_plugin_contract::Capability;
use serde::{Deserialize, Serialize};

/// `apiVersion` of an `OperatorConfiguration` document.
pub const API_VERSION: &str = "operator.config.dynamo.nvidia.com/v1alpha1";
/// `kind` of an `OperatorConfiguration` document.
pub const KIND: &str = "OperatorConfiguration";
/// Default MPI SSH key Secret name.
pub const DEFAULT_MPI_SSH_SECRET: &str = "mpi-run-ssh-secret";
/// Default Grove termination delay.
pub const DEFAULT_GROVE_TERMINATION_DELAY: &str = "15m";

/// Why an operator configuration could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not a well-formed `OperatorConfiguration`.
    #[error("cannot parse the OperatorConfiguration: {0}")]
    Parse(String),
    /// A field holds an invalid value.
    #[error("{field}: {message}")]
    Invalid {
        /// Path of the field, such as `orchestrators.grove.terminationDelay`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// The render-relevant subset of an `OperatorConfiguration` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OperatorConfiguration {
    /// Must be [`API_VERSION`].
    pub api_version: String,
    /// Must be [`KIND`].
    pub kind: String,
    /// Addresses of NATS, etcd, Model Express and Prometheus handed to every pod.
    pub infrastructure: InfrastructureConfig,
    /// Service discovery backend of Dynamo components.
    pub discovery: DiscoveryConfig,
    /// MPI launch settings (multi-node TRT-LLM).
    pub mpi: MpiConfig,
    /// Which multi-node orchestrators are on.
    pub orchestrators: OrchestratorsConfig,
    /// Defaults of the frontend Ingress / VirtualService.
    pub ingress: IngressConfig,
    /// Backend plugins: directory, sandbox limits, capability grants (this operator's own
    /// section; Dynamo's operator has no plugins).
    pub plugins: PluginsConfig,
    /// Metrics, health probe and webhook servers.
    pub server: ServerConfig,
    /// Leader election between operator replicas.
    pub leader_election: LeaderElectionConfig,
    /// Namespace-restricted mode and the namespace-scope leases.
    pub namespace: NamespaceConfig,
    /// ClusterRoles the operator binds for planners, profiling jobs and endpoint pickers.
    pub rbac: RbacConfig,
    /// Checkpoint/restore (accepted; not rendered by this operator, see the docs).
    pub checkpoint: CheckpointConfig,
    /// GPU discovery.
    pub gpu: GpuConfig,
    /// Log level and format.
    pub logging: LoggingConfig,
    /// HTTP/2 on the metrics and webhook servers.
    pub security: SecurityConfig,
}

/// `server`: where the operator listens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerConfig {
    /// Prometheus metrics.
    pub metrics: MetricsServerConfig,
    /// `/healthz` and `/readyz`.
    pub health_probe: EndpointConfig,
    /// Admission webhooks.
    pub webhook: WebhookServerConfig,
}

/// `server.metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MetricsServerConfig {
    /// Address to bind (default `0.0.0.0`).
    pub bind_address: String,
    /// Port (default 8080).
    pub port: u16,
    /// Serve over TLS with authentication (default `true`).
    pub secure: bool,
}

impl Default for MetricsServerConfig {
    fn default() -> Self {
        Self {
            bind_address: "0.0.0.0".into(),
            port: 8080,
            secure: true,
        }
    }
}

/// An address and port (`server.healthProbe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointConfig {
    /// Address to bind (default `0.0.0.0`).
    pub bind_address: String,
    /// Port (default 8081).
    pub port: u16,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            bind_address: "0.0.0.0".into(),
            port: 8081,
        }
    }
}

/// `server.webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookServerConfig {
    /// Address to bind (default `0.0.0.0`).
    pub host: String,
    /// Port (default 9443).
    pub port: u16,
    /// Where the serving certificate is mounted or written.
    pub cert_dir: String,
    /// `auto` (the operator makes and rotates its certificate) or `manual` (mounted, e.g. by
    /// cert-manager).
    pub cert_provision_mode: String,
    /// Secret holding the certificate in `auto` mode.
    pub secret_name: String,
    /// Service the API server calls the webhooks through.
    pub service_name: String,
    /// Whether the operator serves its admission webhooks (default `true`).
    pub enabled: bool,
    /// Name of the Validating- and MutatingWebhookConfiguration whose `caBundle` the operator
    /// keeps current in `auto` mode (default `dynamo-operator-webhook`; a missing configuration
    /// is not an error, so the operator also runs where no webhook is registered).
    pub configuration_name: String,
}

impl Default for WebhookServerConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".into(),
            port: 9443,
            cert_dir: "/tmp/k8s-webhook-server/serving-certs".into(),
            cert_provision_mode: "auto".into(),
            secret_name: "webhook-server-cert".into(),
            service_name: String::new(),
            enabled: true,
            configuration_name: "dynamo-operator-webhook".into(),
        }
    }
}

/// `leaderElection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeaderElectionConfig {
    /// Whether only the lease holder reconciles (default `false`).
    pub enabled: bool,
    /// Name of the Lease (required when enabled).
    pub id: String,
    /// Namespace of the Lease (default: the operator's own namespace).
    pub namespace: String,
    /// How long a lease stays valid after its last renewal (default `10s`): about the longest a
    /// standby waits after the leader dies. The holder renews when a third of it is left.
    pub lease_duration: String,
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            id: String::new(),
            namespace: String::new(),
            lease_duration: "10s".into(),
        }
    }
}

/// `namespace`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NamespaceConfig {
    /// Watch only this namespace (deprecated in Dynamo; empty means cluster-wide).
    pub restricted: String,
    /// Namespace-scope lease timing.
    pub scope: NamespaceScopeConfig,
}

/// `namespace.scope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NamespaceScopeConfig {
    /// Lease duration (default `30s`).
    pub lease_duration: String,
    /// Lease renew interval (default `10s`).
    pub lease_renew_interval: String,
}

impl Default for NamespaceScopeConfig {
    fn default() -> Self {
        Self {
            lease_duration: "30s".into(),
            lease_renew_interval: "10s".into(),
        }
    }
}

/// `rbac`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RbacConfig {
    /// ClusterRole bound to `planner-serviceaccount`.
    pub planner_cluster_role_name: String,
    /// ClusterRole of profiling jobs.
    pub dgdr_profiling_cluster_role_name: String,
    /// ClusterRole bound to `epp-serviceaccount`.
    pub epp_cluster_role_name: String,
}

/// `checkpoint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckpointConfig {
    /// Whether checkpoint restore is injected into pods.
    pub enabled: bool,
    /// Deprecated storage settings (accepted as they are).
    pub storage: Option<serde_json::Value>,
}

/// `gpu`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GpuConfig {
    /// Discover GPUs from DCGM metrics (default `true`).
    pub discovery_enabled: bool,
}

impl Default for GpuConfig {
    fn default() -> Self {
        Self {
            discovery_enabled: true,
        }
    }
}

/// `logging`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoggingConfig {
    /// `debug`, `info` (default), `warn` or `error`.
    pub level: String,
    /// `json` (default) or `text`.
    pub format: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "json".into(),
        }
    }
}

/// `security`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecurityConfig {
    /// Serve HTTP/2 on the metrics and webhook servers (default `false`).
    #[serde(rename = "enableHTTP2")]
    pub enable_http2: bool,
}

/// The `plugins` section: where custom plugins come from and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PluginsConfig {
    /// Directory of extra plugins (`*.wasm`); the `--plugin-dir` flag wins over it.
    pub directory: Option<String>,
    /// Whether a directory plugin may replace a built-in of the same name (default `true`; a
    /// replacement is always logged).
    pub allow_builtin_override: bool,
    /// Sandbox and output limits per plugin call.
    pub limits: PluginLimitsConfig,
    /// Capabilities granted per plugin name (`mpi: [ssh-key-secret]`); a plugin must also declare
    /// a capability for it to count. Built-in plugins need no grant.
    pub grants: BTreeMap<String, Vec<String>>,
    /// Threads renders (and so plugin calls) run on in the operator (default 2).
    pub render_threads: u32,
    /// Where compiled plugins are cached between restarts (default: `$XDG_CACHE_HOME` or
    /// `~/.cache`, under `dynamo-operator/plugins`). The chart points it at an emptyDir so a
    /// read-only root filesystem still caches.
    pub cache_dir: Option<String>,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            directory: None,
            allow_builtin_override: true,
            limits: PluginLimitsConfig::default(),
            grants: BTreeMap::new(),
            render_threads: 2,
            cache_dir: None,
        }
    }
}

/// `plugins.limits`: what one plugin call may cost the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PluginLimitsConfig {
    /// Wall-clock budget of one call (`100ms`).
    pub deadline: String,
    /// Linear memory of one plugin instance, all memories together (`64Mi`).
    pub memory: String,
    /// Bytes one call may return (`1Mi`).
    pub max_output_bytes: String,
    /// Warnings kept per render call (more are dropped with a note).
    pub max_warnings: u32,
    /// Diagnostics kept per validate call (more are dropped with a note).
    pub max_diagnostics: u32,
    /// Bytes of one warning, diagnostic or error message (longer text is cut).
    pub max_message_bytes: u32,
    /// Extra objects one render call may return.
    pub max_extra_objects: u32,
    /// Largest plugin component accepted (`64Mi`: a Python plugin built with componentize-py
    /// carries the interpreter, about 18 MiB).
    pub max_component_bytes: String,
    /// Longest compile of one plugin (`120s`: components that carry an interpreter compile for tens
    /// of seconds).
    pub compile_timeout: String,
}

impl Default for PluginLimitsConfig {
    fn default() -> Self {
        Self {
            deadline: "100ms".into(),
            memory: "64Mi".into(),
            max_output_bytes: "1Mi".into(),
            max_warnings: 32,
            max_diagnostics: 64,
            max_message_bytes: 1024,
            max_extra_objects: 16,
            max_component_bytes: "64Mi".into(),
            compile_timeout: "120s".into(),
        }
    }
}

impl PluginsConfig {
    /// The grants, parsed; the first unknown capability is an error naming its field.
    pub fn parsed_grants(&self) -> Result<BTreeMap<String, Vec<Capability>>, ConfigError> {
        self.grants
            .iter()
            .map(|(plugin, names)| {
                let parsed = names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        name.parse::<Capability>().map_err(|e| {
                            invalid(&format!("plugins.grants.{plugin}[{i}]"), e.to_string())
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((plugin.clone(), parsed))
            })
            .collect()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        for (field, text) in [
            ("plugins.limits.deadline", &l.deadline),
            ("plugins.limits.compileTimeout", &l.compile_timeout),
        ] {
            match parse_duration(text) {
                Some(d) if !d.is_zero() => {}
                _ => {
                    return Err(invalid(
                        field,
                        format!("must be a positive duration such as 100ms or 30s, got `{text}`"),
                    ));
                }
            }
        }
        for (field, text) in [
            ("plugins.limits.memory", &l.memory),
            ("plugins.limits.maxOutputBytes", &l.max_output_bytes),
            ("plugins.limits.maxComponentBytes", &l.max_component_bytes),
        ] {
            match parse_bytes(text) {
                Some(b) if b > 0 => {}
                _ => {
                    return Err(invalid(
                        field,
                        format!("must be a positive size such as 64Mi or 1048576, got `{text}`"),
                    ));
                }
            }
        }
        self.parsed_grants().map(drop)
    }
}

/// Parses a Go-style duration (`100ms`, `1h30m`, `2.5s`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    if !is_go_duration(text) || text.starts_with('-') {
        return None;
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, seconds) = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("ms", 1e-3),
            ("h", 3600.0),
            ("m", 60.0),
            ("s", 1.0),
        ]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total += number * seconds;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// Parses a byte size: a whole number, optionally with a Kubernetes binary (`Ki`, `Mi`, `Gi`) or
/// decimal (`k`, `M`, `G`) suffix.
pub fn parse_bytes(text: &str) -> Option<usize> {
    let (number, factor) = [
        ("Ki", 1usize << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ]
    .into_iter()
    .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, factor)))
    .unwrap_or((text, 1));
    number.parse::<usize>().ok()?.checked_mul(factor)
}

/// Infrastructure addresses handed to pods as environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InfrastructureConfig {
    /// NATS URL (`NATS_SERVER`).
    pub nats_address: Option<String>,
    /// etcd endpoints (`ETCD_ENDPOINTS`).
    pub etcd_address: Option<String>,
    /// Model Express URL (`MODEL_EXPRESS_URL`); must be a URL.
    #[serde(rename = "modelExpressURL")]
    pub model_express_url: Option<String>,
    /// Prometheus endpoint (`PROMETHEUS_ENDPOINT`).
    pub prometheus_endpoint: Option<String>,
}

/// Discovery backend setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DiscoveryConfig {
    /// `kubernetes` (default) or `etcd`.
    pub backend: DiscoveryBackend,
}

/// Where Dynamo components discover each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscoveryBackend {
    /// Kubernetes API objects (EndpointSlices, DynamoWorkerMetadata); pods get a ServiceAccount.
    #[default]
    Kubernetes,
    /// etcd.
    Etcd,
}

impl DiscoveryBackend {
    /// The value as written in configuration and annotations.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kubernetes => "kubernetes",
            Self::Etcd => "etcd",
        }
    }
}

/// MPI settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MpiConfig {
    /// Name of the SSH key-pair Secret mounted into MPI pods.
    pub ssh_secret_name: String,
    /// Namespace the operator keeps the source Secret in (the controller's concern).
    pub ssh_secret_namespace: Option<String>,
}

impl Default for MpiConfig {
    fn default() -> Self {
        Self {
            ssh_secret_name: DEFAULT_MPI_SSH_SECRET.to_owned(),
            ssh_secret_namespace: None,
        }
    }
}

/// Orchestrator switches. `None` means "auto-detect" in a running operator; offline rendering
/// treats it as off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrchestratorsConfig {
    /// Grove.
    pub grove: GroveConfig,
    /// LeaderWorkerSet (multi-node services on the DCD pathway).
    pub lws: SwitchConfig,
    /// KAI scheduler (Grove pods only).
    pub kai_scheduler: SwitchConfig,
}

/// Grove settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroveConfig {
    /// Whether Grove is on.
    pub enabled: Option<bool>,
    /// `terminationDelay` of every PodCliqueSet, as a Go duration (`15m`, `4h`).
    pub termination_delay: String,
}

impl Default for GroveConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            termination_delay: DEFAULT_GROVE_TERMINATION_DELAY.to_owned(),
        }
    }
}

/// An on/off/auto switch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SwitchConfig {
    /// Whether the feature is on.
    pub enabled: Option<bool>,
}

/// Ingress defaults for frontends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IngressConfig {
    /// Istio gateway; when set, frontends get a VirtualService by default.
    pub virtual_service_gateway: Option<String>,
    /// Ingress class; when set, frontends get an Ingress by default.
    pub controller_class_name: Option<String>,
    /// TLS Secret of the default Ingress.
    #[serde(rename = "controllerTLSSecretName")]
    pub controller_tls_secret_name: Option<String>,
    /// Host suffix of the default Ingress (`{host}.{suffix}`).
    pub host_suffix: Option<String>,
}

// === impl OperatorConfiguration ===

impl Default for OperatorConfiguration {
    fn default() -> Self {
        Self {
            api_version: API_VERSION.to_owned(),
            kind: KIND.to_owned(),
            infrastructure: InfrastructureConfig::default(),
            discovery: DiscoveryConfig::default(),
            mpi: MpiConfig::default(),
            orchestrators: OrchestratorsConfig::default(),
            ingress: IngressConfig::default(),
            plugins: PluginsConfig::default(),
            server: ServerConfig::default(),
            leader_election: LeaderElectionConfig::default(),
            namespace: NamespaceConfig::default(),
            rbac: RbacConfig::default(),
            checkpoint: CheckpointConfig::default(),
            gpu: GpuConfig::default(),
            logging: LoggingConfig::default(),
            security: SecurityConfig::default(),
        }
    }
}

impl OperatorConfiguration {
    /// Parses and validates a YAML (or JSON) `OperatorConfiguration` document.
    ///
    /// An unknown field is an error naming its path (`server.metrics.prot: unknown field`).
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        let mut unknown = Vec::new();
        let config: Self = serde_ignored::deserialize(value, |path| unknown.push(path.to_string()))
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        if let Some(field) = unknown.first() {
            return Err(invalid(field, "unknown field"));
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every field; the first problem is returned, naming its field path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.api_version != API_VERSION {
            return Err(invalid(
                "apiVersion",
                format!("must be `{API_VERSION}`, got `{}`", self.api_version),
            ));
        }
        if self.kind != KIND {
            return Err(invalid(
                "kind",
                format!("must be `{KIND}`, got `{}`", self.kind),
            ));
        }
        if let Some(url) = &self.infrastructure.model_express_url
            && !looks_like_url(url)
        {
            return Err(invalid(
                "infrastructure.modelExpressURL",
                format!("must be a URL such as http://host:port, got `{url}`"),
            ));
        }
        if self.mpi.ssh_secret_name.is_empty() {
            return Err(invalid("mpi.sshSecretName", "must not be empty"));
        }
        if !is_dns_subdomain(&self.mpi.ssh_secret_name) {
            return Err(invalid(
                "mpi.sshSecretName",
                format!(
                    "`{}` is not a valid Secret name (lowercase DNS subdomain)",
                    self.mpi.ssh_secret_name
                ),
            ));
        }
        self.plugins.validate()?;
        if self.leader_election.enabled && self.leader_election.id.is_empty() {
            return Err(invalid(
                "leaderElection.id",
                "is required when leader election is enabled",
            ));
        }
        if !matches!(
            self.logging.level.as_str(),
            "debug" | "info" | "warn" | "error"
        ) {
            return Err(invalid(
                "logging.level",
                format!(
                    "must be debug, info, warn or error, got `{}`",
                    self.logging.level
                ),
            ));
        }
        if !matches!(self.logging.format.as_str(), "json" | "text") {
            return Err(invalid(
                "logging.format",
                format!("must be json or text, got `{}`", self.logging.format),
            ));
        }
        if !matches!(
            self.server.webhook.cert_provision_mode.as_str(),
            "auto" | "manual"
        ) {
            return Err(invalid(
                "server.webhook.certProvisionMode",
                format!(
                    "must be auto or manual, got `{}`",
                    self.server.webhook.cert_provision_mode
                ),
            ));
        }
        for (field, text) in [
            (
                "leaderElection.leaseDuration",
                &self.leader_election.lease_duration,
            ),
            (
                "namespace.scope.leaseDuration",
                &self.namespace.scope.lease_duration,
            ),
            (
                "namespace.scope.leaseRenewInterval",
                &self.namespace.scope.lease_renew_interval,
            ),
        ] {
            if !is_go_duration(text) {
                return Err(invalid(
                    field,
                    format!("must be a duration such as 30s, got `{text}`"),
                ));
            }
        }
        if !self.namespace.restricted.is_empty()
            && !crate::names::is_dns_label(&self.namespace.restricted)
        {
            return Err(invalid(
                "namespace.restricted",
                format!("`{}` is not a namespace name", self.namespace.restricted),
            ));
        }
        if !is_go_duration(&self.orchestrators.grove.termination_delay) {
            return Err(invalid(
                "orchestrators.grove.terminationDelay",
                format!(
                    "must be a duration such as 15m or 4h, got `{}`",
                    self.orchestrators.grove.termination_delay
                ),
            ));
        }
        Ok(())
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn looks_like_url(text: &str) -> bool {
    match text.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.is_empty()
                && !rest.starts_with('/')
        }
        None => false,
    }
}

/// True for a lowercase RFC 1123 subdomain (what Kubernetes accepts as most object names).
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// True for a Go `time.ParseDuration` string made of `<number><unit>` parts (`1h30m`, `90s`).
pub fn is_go_duration(text: &str) -> bool {
    let text = text.strip_prefix(['+', '-']).unwrap_or(text);
    if text == "0" {
        return true;
    }
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        // Longest unit first so `ms` is not read as `m` followed by garbage.
        let Some(unit) = ["ns", "us", "µs", "ms", "h", "m", "s"]
            .into_iter()
            .find(|u| rest.starts_with(u))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// Which machinery places the graph's pods.
///
/// `deployment` and `lws` are both Dynamo's "DCD pathway" (a DynamoComponentDeployment per
/// service); `lws` adds LeaderWorkerSets for multi-node services, which `deployment` cannot
/// place. `grove` renders one PodCliqueSet per graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Orchestrator {
    /// Deployments only; multi-node services are rejected.
    #[default]
    Deployment,
    /// Deployments, plus one LeaderWorkerSet per multi-node replica.
    Lws,
    /// One Grove PodCliqueSet for the whole graph.
    Grove,
}

// === impl Orchestrator ===

impl Orchestrator {
    /// Every orchestrator, in a fixed order.
    pub const ALL: [Orchestrator; 3] = [Self::Deployment, Self::Lws, Self::Grove];

    /// The orchestrator an operator configuration implies: Grove when `grove.enabled`, else LWS
    /// when `lws.enabled`, else Deployment. (Auto-detection needs a cluster; offline it is off.)
    pub fn implied_by(config: &OperatorConfiguration) -> Self {
        if config.orchestrators.grove.enabled == Some(true) {
            Self::Grove
        } else if config.orchestrators.lws.enabled == Some(true) {
            Self::Lws
        } else {
            Self::Deployment
        }
    }

    /// The value as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployment => "deployment",
            Self::Lws => "lws",
            Self::Grove => "grove",
        }
    }
}

impl fmt::Display for Orchestrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Orchestrator {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deployment" => Ok(Self::Deployment),
            "lws" => Ok(Self::Lws),
            "grove" => Ok(Self::Grove),
            other => Err(invalid(
                "orchestrator",
                format!("must be one of deployment, lws, grove; got `{other}`"),
            )),
        }
    }
}

/// Everything the pipeline needs besides the graph and the plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderConfig {
    /// The operator configuration.
    pub operator: OperatorConfiguration,
    /// Orchestrator to render for (a graph annotated `nvidia.com/enable-grove: "false"` falls
    /// back from Grove to the DCD pathway).
    pub orchestrator: Orchestrator,
    /// Operator version. When set, a graph without the
    /// `nvidia.com/dynamo-operator-origin-version` annotation is treated as created by this
    /// version, as the defaulting webhook does on CREATE. Controllers leave it `None` (the
    /// object they see was already defaulted).
    pub operator_version: Option<String>,
    /// Namespace used when the graph's metadata has none (offline rendering).
    pub default_namespace: String,
}

// === impl RenderConfig ===

impl RenderConfig {
    /// A config for `operator`, rendering for the orchestrator it implies.
    pub fn new(operator: OperatorConfiguration) -> Self {
        Self {
            orchestrator: Orchestrator::implied_by(&operator),
            operator,
            operator_version: None,
            default_namespace: "default".to_owned(),
        }
    }

    /// The same config rendering for `orchestrator` (a CLI flag wins over the configuration).
    #[must_use]
    pub fn with_orchestrator(mut self, orchestrator: Orchestrator) -> Self {
        self.orchestrator = orchestrator;
        self
    }

    /// The same config with an operator version (see [`RenderConfig::operator_version`]).
    #[must_use]
    pub fn with_operator_version(mut self, version: impl Into<String>) -> Self {
        self.operator_version = Some(version.into());
        self
    }

    /// The same config with another fallback namespace.
    #[must_use]
    pub fn with_default_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.default_namespace = namespace.into();
        self
    }
}

impl Default for RenderConfig {
    fn default() -> Self {
        Self::new(OperatorConfiguration::default())
    }
}

#[cfg(test)]
mod tests;
