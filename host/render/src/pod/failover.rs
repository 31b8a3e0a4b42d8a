//! Engine failover (`experimental.failover`, intra-pod mode): one pod runs an active engine and a shadow engine on
//! the same GPUs (through the GPU memory service); when the active one dies, the shadow takes
//! over without reloading weights.
//!
//! The host splits the main container into one copy per engine before the plugin chain, with
//! the engine's identity and its own system port: `ENGINE_ID`, `CONTAINER_NAME`, the shared lock
//! file `FAILOVER_LOCK_PATH` (in the memory service's control volume), a system server that
//! starts `notready`, port `system-{i}` = 9090 + i for its probes, and forward-pass metrics on
//! 20380 + i. The chain then renders
//! each copy as `main`: a backend plugin sees `ENGINE_ID` in the main container's environment
//! and sets what its engine needs to share a pod (vLLM: shadow mode and per-engine side-channel,
//! KV-event and torch ports). Afterwards the copies are merged into one pod as containers
//! `engine-0`, `engine-1`, ….

use k8s_openapi::api::core::v1::{Container, ContainerPort, EnvVar, PodTemplateSpec, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::error::RenderError;
use crate::keys::MAIN_CONTAINER;
use crate::model::ServiceModel;
use crate::pod::defaults::{FORWARDPASS_METRIC_PORT, SYSTEM_PORT};
use crate::pod::gms::CONTROL_VOLUME;

/// Engines per pod: the active one and its shadow.
pub const ENGINES: u32 = 2;
/// Variable naming a failover engine's index (`0` active at start); plugins key on it.
pub const ENGINE_ID_ENV: &str = "ENGINE_ID";
/// Variables the host's worker defaults set that each engine sets differently.
const REPLACED_ENV: [&str; 6] = [
    "CONTAINER_NAME",
    "DYN_HEALTH_CHECK_ENABLED",
    "DYN_SYSTEM_USE_ENDPOINT_HEALTH_STATUS",
    "DYN_SYSTEM_PORT",
    "DYN_SYSTEM_ENABLED",
    "DYN_FORWARDPASS_METRIC_PORT",
];

/// True when `service` runs failover engines.
pub fn enabled(service: &ServiceModel) -> bool {
    service
        .spec
        .experimental
        .as_ref()
        .is_some_and(|e| e.failover.is_some())
}

/// Name of engine `index`'s container.
pub fn engine_container(index: u32) -> String {
    format!("engine-{index}")
}

fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.into()),
        value_from: None,
    }
}

/// The pod of engine `index`: `base` with its main container set up for that engine (still
/// named `main`, for the plugin chain).
pub fn engine_base(
    base: &PodTemplateSpec,
    index: u32,
    field: &str,
) -> Result<PodTemplateSpec, RenderError> {
    let mut pod = base.clone();
    let main = main_of(&mut pod, field)?;
    let port_name = format!("system-{index}");
    let offset = i32::try_from(index).unwrap_or(0);
    let port = SYSTEM_PORT + offset;
    let env_list = main.env.get_or_insert_with(Vec::new);
    env_list.retain(|e| !REPLACED_ENV.contains(&e.name.as_str()));
    env_list.extend([
        env(ENGINE_ID_ENV, index.to_string()),
        env("CONTAINER_NAME", engine_container(index)),
        env(
            "FAILOVER_LOCK_PATH",
            format!("/{CONTROL_VOLUME}/failover.lock"),
        ),
        env("DYN_SYSTEM_STARTING_HEALTH_STATUS", "notready"),
        env("DYN_SYSTEM_PORT", port.to_string()),
        env("DYN_SYSTEM_ENABLED", "true"),
        env(
            "DYN_FORWARDPASS_METRIC_PORT",
            (FORWARDPASS_METRIC_PORT + offset).to_string(),
        ),
    ]);
    main.ports = Some(vec![ContainerPort {
        name: Some(port_name.clone()),
        container_port: port,
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    }]);
    for probe in [
        &mut main.liveness_probe,
        &mut main.readiness_probe,
        &mut main.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        retarget(probe, &port_name);
    }
    Ok(pod)
}

/// Points a probe on the system port at the engine's own.
fn retarget(probe: &mut Probe, port_name: &str) {
    if let Some(get) = &mut probe.http_get
        && get.port == IntOrString::String("system".to_owned())
    {
        get.port = IntOrString::String(port_name.to_owned());
    }
}

fn main_of<'a>(
    pod: &'a mut PodTemplateSpec,
    field: &str,
) -> Result<&'a mut Container, RenderError> {
    pod.spec
        .as_mut()
        .and_then(|s| s.containers.iter_mut().find(|c| c.name == MAIN_CONTAINER))
        .ok_or_else(|| RenderError::field(field, "the pod has no main container"))
}

/// One pod from the rendered engine pods: the first engine's pod, with each engine's main
/// container in place of its `main`, named `engine-{i}`.
pub fn merge(engines: Vec<PodTemplateSpec>, field: &str) -> Result<PodTemplateSpec, RenderError> {
    let mut engines = engines.into_iter();
    let mut pod = engines
        .next()
        .ok_or_else(|| RenderError::field(field, "no engine was rendered"))?;
    let mut containers = vec![main_of(&mut pod, field)?.clone()];
    for mut other in engines {
        containers.push(main_of(&mut other, field)?.clone());
    }
    for (index, container) in (0..).zip(&mut containers) {
        container.name = engine_container(index);
    }
    let spec = pod.spec.get_or_insert_with(Default::default);
    let at = spec
        .containers
        .iter()
        .position(|c| c.name == MAIN_CONTAINER)
        .ok_or_else(|| RenderError::field(field, "the pod has no main container"))?;
    spec.containers.splice(at..=at, containers);
    Ok(pod)
}
