//! The vLLM render: what each role of a component needs for the chosen strategy.
//!
//! | | leader | worker |
//! |---|---|---|
//! | every role | `VLLM_CACHE_ROOT` when a compilation cache is mounted | same |
//! | `mp` executor (multi-node) | `VLLM_NIXL_SIDE_CHANNEL_HOST` = pod IP | same, probes removed |
//! | distributed, `mp` | `--distributed-executor-backend mp --nnodes N --master-addr <leader> --master-port 29500 --node-rank 0` | same with `--node-rank <rank> --headless` (through a shell when placement says so), init container `wait-for-leader-mp`, script ConfigMap |
//! | distributed, Ray | `sh -c 'ray start --head --port=6379 && exec <cmd> --distributed-executor-backend ray'` | `sh -c 'exec ray start --address=<leader>:6379 --block'` |
//! | failover engine (`ENGINE_ID` = i) | `DYN_VLLM_GMS_SHADOW_MODE=true`, `VLLM_NIXL_SIDE_CHANNEL_PORT` 5600 + i, `DYN_VLLM_KV_EVENT_PORT` 20080 + i, `--master-port` 29500 + 100·i after the first engine | — |
//! | data parallel | `--data-parallel-hybrid-lb [--data-parallel-size T] --data-parallel-size-local L --data-parallel-start-rank 0 --data-parallel-address <leader> --data-parallel-rpc-port 13445` | same with start rank `$(( L * <rank> ))` (always through a shell) |
//!
//! Multi-node workers lose their liveness, readiness and startup probes: they serve nothing
//! themselves (the leader does), so the default worker probes would fail.

#![forbid(unsafe_code)]

use dynamo_plugin_sdk::env::set_env;
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, ObjectFieldSelector, PodSpec, Volume,
};
use dynamo_plugin_sdk::python;
use dynamo_plugin_sdk::shell::{self, QuoteError};
use dynamo_plugin_sdk::{
    FlagError, PluginError, PodTemplate, RenderInput, RenderOutput, Role, ShellArg, inject_flags,
};

use crate::args::{Parallelism, engine_words};
use crate::executor::{self, Executor};
use crate::shell_expr::{to_shell_refs, word};
use crate::strategy::{self, Strategy};
use crate::{
    ARGS_FIELD, DATA_PARALLEL_RPC_PORT, MASTER_PORT, MODULES, RAY_PORT, is_multinode,
    service_field, wait_leader,
};

/// Variable pointing vLLM at the compilation cache.
pub const CACHE_ROOT_ENV: &str = "VLLM_CACHE_ROOT";
/// Variable telling NIXL which address peers reach this pod's side channel on.
pub const SIDE_CHANNEL_HOST_ENV: &str = "VLLM_NIXL_SIDE_CHANNEL_HOST";

/// What a multi-node component does, worked out from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The parallelism the engine was asked for.
    pub parallelism: Parallelism,
    /// The executor for a model that spans nodes.
    pub executor: Executor,
    /// How the nodes cooperate.
    pub strategy: Strategy,
    /// Annotations ignored while choosing the executor.
    pub warnings: Vec<String>,
}

/// Works out the plan of a multi-node component from the main container of `pod`.
///
/// A parallelism flag that is not a positive integer is [`PluginError::InvalidInput`] naming the
/// container args.
pub fn plan(input: &RenderInput, pod: &PodTemplate) -> Result<Plan, PluginError> {
    let words = engine_words(&pod.main_argv(), &MODULES);
    let parallelism = Parallelism::from_words(&words)
        .map_err(|e| PluginError::invalid_input(service_field(input, ARGS_FIELD), e.to_string()))?;
    let choice = executor::choose(&input.graph);
    Ok(Plan {
        parallelism,
        executor: choice.executor,
        strategy: strategy::decide(
            &parallelism,
            input.component.gpus_per_node,
            input.placement.node_count,
        ),
        warnings: choice.warnings,
    })
}

/// Renders the vLLM parts of one pod template (see the module docs).
pub fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
    let mut pod = PodTemplate::from_input(input)?;
    let mut warnings = Vec::new();

    if let Some(path) = input
        .component
        .compilation_cache_path
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        set_env(pod.main_container_mut()?, [plain_env(CACHE_ROOT_ENV, path)]);
    }

    if is_multinode(&input.placement) {
        let plan = plan(input, &pod)?;
        warnings.extend(plan.warnings.iter().cloned());
        let worker = input.placement.role == Role::Worker;
        let main = pod.main_container_mut()?;
        match plan.strategy {
            Strategy::None => {}
            Strategy::Distributed => match plan.executor {
                Executor::Mp => inject_mp(main, input)?,
                Executor::Ray => rewrite_for_ray(main, input)?,
            },
            Strategy::DataParallel { local, total } => {
                inject_data_parallel(main, input, &plan.parallelism, local, total)?;
            }
        }
        if plan.executor == Executor::Mp {
            set_env(main, [pod_ip_env(SIDE_CHANNEL_HOST_ENV)]);
        }
        if worker {
            main.liveness_probe = None;
            main.readiness_probe = None;
            main.startup_probe = None;
        }
        if worker && plan.strategy == Strategy::Distributed && plan.executor == Executor::Mp {
            let init = wait_leader::init_container(main, &input.placement.leader_host)
                .map_err(|e| PluginError::invalid_input("placement.leaderHost", e.to_string()))?;
            let spec = pod.spec_mut();
            upsert_init_container(spec, init);
            upsert_volume(
                spec,
                wait_leader::volume(&wait_leader::config_map_name(input)),
            );
        }
    }

    shadow_engine(pod.main_container_mut()?)?;

    Ok(RenderOutput {
        pod_template: pod.to_json()?,
        extra_objects: Vec::new(),
        warnings,
    })
}

/// Variable the host sets on each failover engine's container (its index, `0` first).
pub const ENGINE_ID_ENV: &str = "ENGINE_ID";
/// First NIXL side-channel port of failover engines (engine `i` uses this + `i`).
pub const FAILOVER_SIDE_CHANNEL_PORT: u32 = 5600;
/// First KV-event port of failover engines (engine `i` uses this + `i`).
pub const FAILOVER_KV_EVENT_PORT: u32 = 20080;
/// Torch distributed master port step between failover engines.
pub const FAILOVER_MASTER_PORT_STEP: u32 = 100;

/// Sets up a failover engine (the host marks each with `ENGINE_ID`): engines share the pod and
/// its GPUs, so each loads weights through the memory service in shadow mode and takes its own
/// side-channel, KV-event and (after the first) torch master port.
fn shadow_engine(main: &mut Container) -> Result<(), PluginError> {
    let Some(id) = main
        .env
        .iter()
        .flatten()
        .find(|e| e.name == ENGINE_ID_ENV)
        .and_then(|e| e.value.as_deref())
    else {
        return Ok(());
    };
    let index: u32 = id.parse().map_err(|_| {
        PluginError::invalid_input(
            format!("container {}: env {ENGINE_ID_ENV}", main.name),
            format!("must be an engine index, got `{id}`"),
        )
    })?;
    set_env(
        main,
        [
            plain_env("DYN_VLLM_GMS_SHADOW_MODE", "true"),
            plain_env(
                "VLLM_NIXL_SIDE_CHANNEL_PORT",
                &(FAILOVER_SIDE_CHANNEL_PORT + index).to_string(),
            ),
            plain_env(
                "DYN_VLLM_KV_EVENT_PORT",
                &(FAILOVER_KV_EVENT_PORT + index).to_string(),
            ),
        ],
    );
    if index > 0 {
        let port = u32::from(MASTER_PORT) + FAILOVER_MASTER_PORT_STEP * index;
        let flags: [ShellArg; 2] = ["--master-port".into(), port.to_string().into()];
        inject_flags(main, &MODULES, &flags, false)?;
    }
    Ok(())
}

/// Adds the `mp` executor flags (see the module docs).
fn inject_mp(main: &mut Container, input: &RenderInput) -> Result<(), PluginError> {
    let placement = &input.placement;
    let worker = placement.role == Role::Worker;
    let mut flags: Vec<ShellArg> = vec![
        "--distributed-executor-backend".into(),
        Executor::Mp.as_str().into(),
        "--nnodes".into(),
        placement.node_count.to_string().into(),
        "--master-addr".into(),
        word(&placement.leader_host),
        "--master-port".into(),
        MASTER_PORT.to_string().into(),
        "--node-rank".into(),
        word(&placement.node_rank),
    ];
    if worker {
        flags.push("--headless".into());
    }
    let needs_shell = worker && placement.rank_needs_shell();
    if needs_shell {
        check_wrappable(main)?;
    }
    inject_flags(main, &MODULES, &flags, needs_shell)?;
    Ok(())
}

/// Rewrites the container for a Ray cluster: the leader starts the Ray head and then the engine,
/// a worker only joins the cluster (the engine on the leader places its work there).
fn rewrite_for_ray(main: &mut Container, input: &RenderInput) -> Result<(), PluginError> {
    let script = match input.placement.role {
        Role::Worker => {
            let address = ShellArg::expr(format!(
                "--address={}:{RAY_PORT}",
                input.placement.leader_host
            ));
            format!(
                "exec ray start {} --block",
                address.to_shell_word().map_err(quote_error)?
            )
        }
        _ => {
            check_wrappable(main)?;
            let flags: [ShellArg; 2] = [
                "--distributed-executor-backend".into(),
                Executor::Ray.as_str().into(),
            ];
            inject_flags(main, &MODULES, &flags, false)?;
            let argv: Vec<&str> = main
                .command
                .iter()
                .flatten()
                .chain(main.args.iter().flatten())
                .map(String::as_str)
                .collect();
            format!(
                "ray start --head --port={RAY_PORT} && exec {}",
                shell::join(argv).map_err(quote_error)?
            )
        }
    };
    main.command = Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]);
    main.args = Some(vec![script]);
    Ok(())
}

/// Adds the data-parallel hybrid load-balancing flags (see the module docs).
fn inject_data_parallel(
    main: &mut Container,
    input: &RenderInput,
    parallelism: &Parallelism,
    local: u64,
    total: u64,
) -> Result<(), PluginError> {
    let placement = &input.placement;
    let worker = placement.role == Role::Worker;
    let start_rank = if worker {
        // Shell arithmetic around a host expression: kubelet references must become shell ones.
        ShellArg::expr(format!(
            "$(( {local} * {} ))",
            to_shell_refs(&placement.node_rank)
        ))
    } else {
        ShellArg::literal("0")
    };
    let mut flags: Vec<ShellArg> = vec!["--data-parallel-hybrid-lb".into()];
    if !parallelism.data_given {
        flags.extend(["--data-parallel-size".into(), total.to_string().into()]);
    }
    flags.extend([
        "--data-parallel-size-local".into(),
        local.to_string().into(),
        "--data-parallel-start-rank".into(),
        start_rank,
        "--data-parallel-address".into(),
        word(&placement.leader_host),
        "--data-parallel-rpc-port".into(),
        DATA_PARALLEL_RPC_PORT.to_string().into(),
    ]);
    if worker {
        check_wrappable(main)?;
    }
    inject_flags(main, &MODULES, &flags, worker)?;
    Ok(())
}

/// Refuses to run a container through a shell when it has no `command` and its args are meant
/// for the image's entrypoint: the shell would run the args as a program and skip the entrypoint.
/// Args that start with a Python interpreter or a shell are a program, and wrap fine.
fn check_wrappable(main: &Container) -> Result<(), PluginError> {
    if main.command.as_ref().is_some_and(|c| !c.is_empty()) {
        return Ok(());
    }
    match main.args.iter().flatten().next() {
        Some(first) if !python::is_python(first) && !python::is_shell(first) => {
            Err(PluginError::unsupported(format!(
                "container `{}` has no command: its args go to the image's entrypoint, which the \
                 shell this launch needs would bypass; set extraPodSpec.mainContainer.command",
                main.name
            )))
        }
        // No args: the SDK reports the missing command.
        _ => Ok(()),
    }
}

/// A word that cannot be shell-quoted, as a plugin error.
fn quote_error(e: QuoteError) -> PluginError {
    FlagError::from(e).into()
}

/// A `name=value` variable.
fn plain_env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        value_from: None,
    }
}

/// A variable holding the pod's IP (downward API).
fn pod_ip_env(name: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: "status.podIP".to_owned(),
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// Adds `container` to the init containers, replacing one of the same name.
fn upsert_init_container(spec: &mut PodSpec, container: Container) {
    let list = spec.init_containers.get_or_insert_with(Vec::new);
    match list.iter_mut().find(|c| c.name == container.name) {
        Some(slot) => *slot = container,
        None => list.push(container),
    }
}

/// Adds `volume` to the pod, replacing one of the same name.
fn upsert_volume(spec: &mut PodSpec, volume: Volume) {
    let list = spec.volumes.get_or_insert_with(Vec::new);
    match list.iter_mut().find(|v| v.name == volume.name) {
        Some(slot) => *slot = volume,
        None => list.push(volume),
    }
}
