//! Component defaults: the main container (command, ports, env, probes) and pod-level extras each
//! `componentType` starts from, before the user's overrides are merged in.

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    GRPCAction, HTTPGetAction, KeyToPath, ObjectFieldSelector, Probe, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use dynamo_plugin_contract::Serving;

use crate::keys;
use crate::model::{ComponentRole, GraphModel, ServiceModel};
use crate::plugins::Chain;

/// Port of the frontend's HTTP API.
pub const FRONTEND_PORT: i32 = 8000;
/// Port of the Dynamo system server (health, metrics) of workers and planners.
pub const SYSTEM_PORT: i32 = 9090;
/// Port of the NIXL telemetry exporter of workers.
pub const NIXL_TELEMETRY_PORT: i32 = 19090;
/// Port a worker publishes its forward-pass metrics on (`DYN_FORWARDPASS_METRIC_PORT`); the
/// failover engines of one pod take it and the ports after it.
pub const FORWARDPASS_METRIC_PORT: i32 = 20380;
/// Prometheus port of the planner.
pub const PLANNER_METRICS_PORT: i32 = 9085;
/// gRPC port of the endpoint picker.
pub const EPP_GRPC_PORT: i32 = 9002;
/// gRPC health port of the endpoint picker.
pub const EPP_GRPC_HEALTH_PORT: i32 = 9003;
/// Termination grace period of every pod unless a component says otherwise.
pub const TERMINATION_GRACE_PERIOD_SECONDS: i64 = 60;
/// Termination grace period of endpoint-picker pods.
pub const EPP_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 130;
/// Key (and file name) of the endpoint picker's configuration.
pub const EPP_CONFIG_FILE: &str = "epp-config-dynamo.yaml";
/// Directory the endpoint picker's configuration is mounted at.
pub const EPP_CONFIG_DIR: &str = "/etc/epp";

/// What a component starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// The main container before user overrides.
    pub container: Container,
    /// Pod volumes the component needs.
    pub volumes: Vec<Volume>,
    /// Mounts of those volumes in the main container (added after user overrides).
    pub volume_mounts: Vec<VolumeMount>,
    /// ServiceAccount the component runs as, if it needs a specific one.
    pub service_account: Option<String>,
    /// Termination grace period of the pod.
    pub termination_grace_period_seconds: i64,
}

/// Defaults of `service` in `graph`, by component role; an engine whose plugin declares it is not
/// a Dynamo runtime starts from [`plain_engine_defaults`] instead.
pub fn component_defaults(graph: &GraphModel, service: &ServiceModel) -> Defaults {
    if let Some(serving) = service.chain.as_ref().and_then(Chain::plain_engine) {
        return plain_engine_defaults(serving);
    }
    let serving = service.chain.as_ref().and_then(|c| c.serving.as_ref());
    let mut defaults = Defaults {
        container: Container {
            name: keys::MAIN_CONTAINER.to_owned(),
            command: Some(vec!["/bin/sh".into(), "-c".into()]),
            env: Some(common_env(graph, service)),
            ..Container::default()
        },
        volumes: Vec::new(),
        volume_mounts: Vec::new(),
        service_account: None,
        termination_grace_period_seconds: TERMINATION_GRACE_PERIOD_SECONDS,
    };
    let c = &mut defaults.container;
    let env = c.env.get_or_insert_with(Vec::new);
    match service.role {
        ComponentRole::Frontend => {
            c.command = Some(vec!["python3".into()]);
            c.args = Some(vec!["-m".into(), "dynamo.frontend".into()]);
            c.ports = Some(vec![port("http", FRONTEND_PORT)]);
            env.extend(frontend_env(&service.dynamo_namespace));
            c.liveness_probe = Some(http_probe("/live", "http", 15, 10, 1, 3));
            c.readiness_probe = Some(http_probe("/health", "http", 10, 10, 3, 3));
        }
        ComponentRole::Worker => {
            c.ports = Some(vec![
                port("system", SYSTEM_PORT),
                port("nixl", NIXL_TELEMETRY_PORT),
            ]);
            env.extend([
                value_env("DYN_SYSTEM_ENABLED", "true"),
                value_env("DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS", "[\"generate\"]"),
                value_env("DYN_SYSTEM_PORT", &SYSTEM_PORT.to_string()),
                value_env("DYN_HEALTH_CHECK_ENABLED", "false"),
                value_env("NIXL_TELEMETRY_ENABLE", "n"),
                value_env("NIXL_TELEMETRY_EXPORTER", "prometheus"),
                value_env(
                    "NIXL_TELEMETRY_PROMETHEUS_PORT",
                    &NIXL_TELEMETRY_PORT.to_string(),
                ),
                value_env(
                    "DYN_FORWARDPASS_METRIC_PORT",
                    &FORWARDPASS_METRIC_PORT.to_string(),
                ),
            ]);
            // The generation of workers registers under its own suffix, whatever the pathway.
            if let Some(hash) = &service.worker_hash {
                env.push(value_env("DYN_NAMESPACE_WORKER_SUFFIX", hash));
            }
            set_system_probes(c);
        }
        ComponentRole::Planner => {
            c.ports = Some(vec![
                port("metrics", PLANNER_METRICS_PORT),
                port("system", SYSTEM_PORT),
            ]);
            env.extend([
                value_env("PLANNER_PROMETHEUS_PORT", &PLANNER_METRICS_PORT.to_string()),
                value_env("DYN_SYSTEM_PORT", &SYSTEM_PORT.to_string()),
            ]);
            set_system_probes(c);
            defaults.service_account = Some(keys::PLANNER_SERVICE_ACCOUNT.to_owned());
        }
        ComponentRole::Epp => {
            c.command = None;
            c.args = Some(epp_args(graph));
            c.ports = Some(vec![
                port("grpc", EPP_GRPC_PORT),
                port("grpc-health", EPP_GRPC_HEALTH_PORT),
                port("metrics", SYSTEM_PORT),
            ]);
            env.extend([
                value_env("USE_STREAMING", "true"),
                value_env("RUST_LOG", "info"),
                value_env("DYN_ENFORCE_DISAGG", "false"),
                value_env("DYN_NAMESPACE_PREFIX", &service.dynamo_namespace),
            ]);
            c.liveness_probe = Some(grpc_probe(5, 10, None));
            c.readiness_probe = Some(grpc_probe(5, 10, None));
            c.startup_probe = Some(grpc_probe(0, 10, Some(180)));
            defaults.service_account = Some(keys::EPP_SERVICE_ACCOUNT.to_owned());
            defaults.termination_grace_period_seconds = EPP_TERMINATION_GRACE_PERIOD_SECONDS;
            let (config_map, key) = epp_config_source(graph, service);
            defaults.volumes = vec![
                Volume {
                    name: "epp-config".into(),
                    config_map: Some(ConfigMapVolumeSource {
                        name: config_map,
                        items: Some(vec![KeyToPath {
                            key,
                            path: EPP_CONFIG_FILE.into(),
                            ..KeyToPath::default()
                        }]),
                        ..ConfigMapVolumeSource::default()
                    }),
                    ..Volume::default()
                },
                Volume {
                    name: "hf-cache".into(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Volume::default()
                },
            ];
            defaults.volume_mounts = vec![
                VolumeMount {
                    read_only: Some(true),
                    ..mount("epp-config", EPP_CONFIG_DIR)
                },
                mount("hf-cache", "/home/nonroot/.cache"),
            ];
        }
        ComponentRole::Default => {}
    }
    // A Dynamo engine that serves more than the runtime's ports declares them; they go beside.
    if let Some(serving) = serving {
        let ports = defaults.container.ports.get_or_insert_with(Vec::new);
        for declared in &serving.ports {
            if !ports
                .iter()
                .any(|p| p.name.as_deref() == Some(declared.name.as_str()))
            {
                ports.push(port(&declared.name, i32::from(declared.number)));
            }
        }
    }
    defaults
}

/// Startup probe failures allowed for a plain engine: with a 10 s period, two hours to download
/// and load a model, as Dynamo's workers get.
const PLAIN_ENGINE_STARTUP_FAILURES: i32 = 720;

/// What an engine that is not a Dynamo runtime starts from, built from its plugin's serving
/// declaration: no default command (the user's or the plugin's), no Dynamo or NIXL environment,
/// only the declared ports, and HTTP probes on the health path at the first port. The pod's
/// identity (`POD_NAME`, `POD_NAMESPACE`, `POD_UID`) is still given, since any engine may log it.
pub fn plain_engine_defaults(serving: &Serving) -> Defaults {
    let mut container = Container {
        name: keys::MAIN_CONTAINER.to_owned(),
        env: Some(vec![
            field_env("POD_NAME", "metadata.name"),
            field_env("POD_NAMESPACE", "metadata.namespace"),
            field_env("POD_UID", "metadata.uid"),
        ]),
        ports: (!serving.ports.is_empty()).then(|| {
            serving
                .ports
                .iter()
                .map(|p| port(&p.name, i32::from(p.number)))
                .collect()
        }),
        ..Container::default()
    };
    if let (Some(path), Some(first)) = (&serving.health_path, serving.ports.first()) {
        container.startup_probe = Some(http_probe(
            path,
            &first.name,
            0,
            10,
            5,
            PLAIN_ENGINE_STARTUP_FAILURES,
        ));
        container.liveness_probe = Some(http_probe(path, &first.name, 0, 10, 5, 3));
        container.readiness_probe = Some(http_probe(path, &first.name, 0, 10, 5, 3));
    }
    Defaults {
        container,
        volumes: Vec::new(),
        volume_mounts: Vec::new(),
        service_account: None,
        termination_grace_period_seconds: TERMINATION_GRACE_PERIOD_SECONDS,
    }
}

/// The frontend sidecar container's starting point (`sidecar-frontend`).
pub fn frontend_sidecar(graph: &GraphModel, service: &ServiceModel) -> Container {
    let mut env = common_env(graph, service);
    if let Some(component) = env.iter_mut().find(|e| e.name == "DYN_COMPONENT") {
        component.value = Some(dynamo_api::common::component_type::FRONTEND.to_owned());
    }
    if let Some(name) = env.iter_mut().find(|e| e.name == "CONTAINER_NAME") {
        name.value = Some(keys::FRONTEND_SIDECAR_CONTAINER.to_owned());
    }
    env.extend(frontend_env(&service.dynamo_namespace));
    Container {
        name: keys::FRONTEND_SIDECAR_CONTAINER.to_owned(),
        command: Some(vec!["python3".into()]),
        args: Some(vec!["-m".into(), "dynamo.frontend".into()]),
        ports: Some(vec![port("http", FRONTEND_PORT)]),
        env: Some(env),
        liveness_probe: Some(http_probe("/live", "http", 15, 10, 1, 3)),
        readiness_probe: Some(http_probe("/health", "http", 10, 10, 3, 3)),
        ..Container::default()
    }
}

/// Environment every component gets.
fn common_env(graph: &GraphModel, service: &ServiceModel) -> Vec<EnvVar> {
    let mut env = vec![
        value_env("DYN_NAMESPACE", &service.dynamo_namespace),
        value_env("DYN_COMPONENT", service.dynamo_component_type()),
        value_env("DYN_PARENT_DGD_K8S_NAME", &graph.name),
        value_env("DYN_PARENT_DGD_K8S_NAMESPACE", &graph.namespace),
        field_env("POD_NAME", "metadata.name"),
        field_env("POD_NAMESPACE", "metadata.namespace"),
        field_env("POD_UID", "metadata.uid"),
    ];
    if graph.kube_discovery() {
        env.push(value_env("DYN_DISCOVERY_BACKEND", "kubernetes"));
        if graph.container_discovery {
            env.push(value_env("CONTAINER_NAME", keys::MAIN_CONTAINER));
            env.push(value_env("DYN_KUBE_DISCOVERY_MODE", "container"));
        }
    }
    env
}

fn frontend_env(dynamo_namespace: &str) -> [EnvVar; 3] {
    [
        value_env("DYNAMO_PORT", &FRONTEND_PORT.to_string()),
        value_env("DYN_HTTP_PORT", &FRONTEND_PORT.to_string()),
        value_env("DYN_NAMESPACE_PREFIX", dynamo_namespace),
    ]
}

fn epp_args(graph: &GraphModel) -> Vec<String> {
    [
        "--pool-name",
        &inference_pool_name(&graph.name),
        "--pool-namespace",
        &graph.namespace,
        "--pool-group",
        "inference.networking.k8s.io",
        "-v",
        "4",
        "--zap-encoder",
        "json",
        "--grpc-port",
        &EPP_GRPC_PORT.to_string(),
        "--grpc-health-port",
        &EPP_GRPC_HEALTH_PORT.to_string(),
        "--config-file",
        &format!("{EPP_CONFIG_DIR}/{EPP_CONFIG_FILE}"),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// ConfigMap name and key holding an endpoint picker's configuration: the user's
/// `eppConfig.configMapRef`, else the generated `{dgd}-epp-config`.
pub fn epp_config_source(graph: &GraphModel, service: &ServiceModel) -> (String, String) {
    match service
        .spec
        .epp_config
        .as_ref()
        .and_then(|c| c.config_map_ref.as_ref())
    {
        Some(reference) => (reference.name.clone(), reference.key.clone()),
        None => (epp_config_map_name(&graph.name), EPP_CONFIG_FILE.to_owned()),
    }
}

/// Name of the ConfigMap generated from an inline `eppConfig.config`.
pub fn epp_config_map_name(graph: &str) -> String {
    format!("{graph}-epp-config")
}

fn set_system_probes(c: &mut Container) {
    c.liveness_probe = Some(http_probe("/live", "system", 0, 5, 4, 1));
    c.readiness_probe = Some(http_probe("/health", "system", 0, 10, 4, 3));
    c.startup_probe = Some(http_probe("/live", "system", 0, 10, 5, 720));
}

/// A plain `name=value` variable.
pub fn value_env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        value_from: None,
    }
}

fn field_env(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.to_owned(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

fn port(name: &str, number: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: number,
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        ..VolumeMount::default()
    }
}

fn http_probe(
    path: &str,
    port: &str,
    delay: i32,
    period: i32,
    timeout: i32,
    failure: i32,
) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String(port.to_owned()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: (delay > 0).then_some(delay),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failure),
        ..Probe::default()
    }
}

/// A gRPC health probe of the endpoint picker; `failure` unset leaves Kubernetes' default (3),
/// as Dynamo's operator does.
fn grpc_probe(delay: i32, period: i32, failure: Option<i32>) -> Probe {
    Probe {
        grpc: Some(GRPCAction {
            port: EPP_GRPC_HEALTH_PORT,
            service: Some("inference-extension".to_owned()),
            ..GRPCAction::default()
        }),
        initial_delay_seconds: (delay > 0).then_some(delay),
        period_seconds: Some(period),
        failure_threshold: failure,
        ..Probe::default()
    }
}

/// Name of the InferencePool an endpoint picker of graph `graph` serves: `{graph}-pool`.
pub fn inference_pool_name(graph: &str) -> String {
    format!("{graph}-pool")
}
