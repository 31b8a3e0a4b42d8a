//! The render-relevant subset of Dynamo's `OperatorConfiguration`, and the [`RenderConfig`] the
//! pipeline takes.
//!
//! The document is the one Dynamo's Helm chart renders (`apiVersion:
//! operator.config.dynamo.nvidia.com/v1alpha1`, `kind: OperatorConfiguration`); fields this
//! crate does not need (server, leader election, RBAC, ...) are accepted and ignored, so the same
//! file configures both operators.

use std::fmt;
use std::str::FromStr;

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
    /// LeaderWorkerSet (with Volcano).
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
        }
    }
}

impl OperatorConfiguration {
    /// Parses and validates a YAML (or JSON) `OperatorConfiguration` document.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let config: Self =
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
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
    /// Deployments, plus one LeaderWorkerSet and Volcano PodGroup per multi-node replica.
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
