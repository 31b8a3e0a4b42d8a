//! Tests of the operator configuration subset and the orchestrator choice.

use super::*;

const HEADER: &str =
    "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\nkind: OperatorConfiguration\n";

fn load(body: &str) -> Result<OperatorConfiguration, ConfigError> {
    OperatorConfiguration::from_yaml(&format!("{HEADER}{body}"))
}

fn invalid_field(result: Result<OperatorConfiguration, ConfigError>) -> String {
    match result {
        Err(ConfigError::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn empty_document_gets_defaults() {
    let config = load("").expect("valid");
    assert_eq!(config, OperatorConfiguration::default());
    assert_eq!(config.mpi.ssh_secret_name, "mpi-run-ssh-secret");
    assert_eq!(config.orchestrators.grove.termination_delay, "15m");
    assert_eq!(config.discovery.backend, DiscoveryBackend::Kubernetes);
    assert_eq!(config.orchestrators.grove.enabled, None);
}

#[test]
fn full_document_parses_and_ignores_other_sections() {
    let config = load(
        r#"
server:
  metrics: { bindAddress: 0.0.0.0, port: 8080 }
leaderElection: { enabled: true, id: dynamo.nvidia.com }
infrastructure:
  natsAddress: nats://nats.dynamo:4222
  etcdAddress: etcd.dynamo:2379
  modelExpressURL: http://mx.dynamo:8080
  prometheusEndpoint: http://prom:9090
discovery: { backend: etcd }
mpi: { sshSecretName: my-ssh, sshSecretNamespace: dynamo-system }
orchestrators:
  grove: { enabled: true, terminationDelay: 4h }
  lws: { enabled: false }
  kaiScheduler: { enabled: true }
ingress:
  virtualServiceGateway: istio-system/gw
  controllerClassName: nginx
  controllerTLSSecretName: tls
  hostSuffix: example.com
"#,
    )
    .expect("valid");
    assert_eq!(
        config.infrastructure.model_express_url.as_deref(),
        Some("http://mx.dynamo:8080")
    );
    assert_eq!(config.discovery.backend, DiscoveryBackend::Etcd);
    assert_eq!(config.mpi.ssh_secret_name, "my-ssh");
    assert_eq!(config.orchestrators.grove.termination_delay, "4h");
    assert_eq!(config.orchestrators.kai_scheduler.enabled, Some(true));
    assert_eq!(
        config.ingress.controller_tls_secret_name.as_deref(),
        Some("tls")
    );
    assert_eq!(config.ingress.host_suffix.as_deref(), Some("example.com"));
    assert_eq!(Orchestrator::implied_by(&config), Orchestrator::Grove);
}

#[test]
fn wrong_api_version_and_kind_are_named() {
    let bad = OperatorConfiguration::from_yaml("apiVersion: v1\nkind: OperatorConfiguration\n");
    assert_eq!(invalid_field(bad), "apiVersion");
    let bad = OperatorConfiguration::from_yaml(
        "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\nkind: Config\n",
    );
    assert_eq!(invalid_field(bad), "kind");
}

#[test]
fn field_errors_name_their_path() {
    assert_eq!(
        invalid_field(load("infrastructure: { modelExpressURL: not-a-url }")),
        "infrastructure.modelExpressURL"
    );
    assert_eq!(
        invalid_field(load("mpi: { sshSecretName: '' }")),
        "mpi.sshSecretName"
    );
    assert_eq!(
        invalid_field(load("mpi: { sshSecretName: Bad_Name }")),
        "mpi.sshSecretName"
    );
    let err = load("orchestrators: { grove: { terminationDelay: soon } }").expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "orchestrators.grove.terminationDelay: must be a duration such as 15m or 4h, got `soon`"
    );
}

#[test]
fn unknown_discovery_backend_is_a_parse_error() {
    let err = load("discovery: { backend: consul }").expect_err("invalid");
    assert!(matches!(err, ConfigError::Parse(_)), "{err:?}");
    assert!(err.to_string().contains("consul"), "{err}");
}

#[test]
fn go_durations() {
    for ok in [
        "15m", "4h", "1h30m", "90s", "1.5h", "300ms", "0", "2h45m10s",
    ] {
        assert!(is_go_duration(ok), "{ok}");
    }
    for bad in ["", "15", "m", "15x", "1..5h", "h1"] {
        assert!(!is_go_duration(bad), "{bad}");
    }
}

#[test]
fn orchestrator_implied_by_config_and_parsed_from_flag() {
    let mut config = OperatorConfiguration::default();
    assert_eq!(Orchestrator::implied_by(&config), Orchestrator::Deployment);
    config.orchestrators.lws.enabled = Some(true);
    assert_eq!(Orchestrator::implied_by(&config), Orchestrator::Lws);
    config.orchestrators.grove.enabled = Some(true);
    assert_eq!(Orchestrator::implied_by(&config), Orchestrator::Grove);
    for o in Orchestrator::ALL {
        assert_eq!(o.as_str().parse::<Orchestrator>().expect("round trip"), o);
    }
    let err = "kubernetes".parse::<Orchestrator>().expect_err("invalid");
    assert!(err.to_string().starts_with("orchestrator: "), "{err}");
}

#[test]
fn render_config_flag_overrides_config() {
    let mut operator = OperatorConfiguration::default();
    operator.orchestrators.grove.enabled = Some(true);
    let config = RenderConfig::new(operator);
    assert_eq!(config.orchestrator, Orchestrator::Grove);
    let config = config.with_orchestrator(Orchestrator::Lws);
    assert_eq!(config.orchestrator, Orchestrator::Lws);
    assert_eq!(config.default_namespace, "default");
    assert_eq!(config.operator_version, None);
}
