//! Admission checks of a vLLM component, reported with the field they concern.
//!
//! - A parallelism flag (`--tensor-parallel-size`, `--pipeline-parallel-size`,
//!   `--data-parallel-size`, or an alias) that is not a literal positive integer: an error on a
//!   multi-node component (the operator cannot plan it), a warning otherwise (vLLM will reject it).
//! - Multi-node without a GPU count: warning, no launch flags can be chosen.
//! - Multi-node, one engine spanning nodes: the world size (tensor × pipeline) must divide evenly
//!   over `multinode.nodeCount` and fit in nodes × GPUs (errors); GPUs left idle on every node
//!   are a warning.
//! - Multi-node, data parallel: `--data-parallel-size` must equal nodes × ranks per node (error);
//!   GPUs per node that are not a multiple of the world size leave GPUs idle (warning).
//! - Multi-node where everything fits on one node: warning, the nodes run independent engines.
//! - Multi-node, a launch flag the operator sets for the chosen strategy (`--nnodes`,
//!   `--node-rank`, `--data-parallel-start-rank`, ...) also set by hand: error, since each pod
//!   needs its own value.
//! - Finally, when nothing above is an error, the render itself is tried and its failure (say,
//!   a shell script without `python -m dynamo.vllm`) becomes a diagnostic.

#![forbid(unsafe_code)]

use dynamo_plugin_sdk::{Diagnostic, PluginError, PodTemplate, RenderInput, Severity};

use crate::args::{self, Flag, Parallelism, engine_words};
use crate::executor::{self, Executor};
use crate::render::render;
use crate::strategy::{self, Strategy};
use crate::{
    ARGS_FIELD, COMMAND_FIELD, GPU_FIELD, MODULES, NODE_COUNT_FIELD, is_multinode, service_field,
};

/// Checks a vLLM component (see the module docs); an empty list means valid.
pub fn validate(input: &RenderInput) -> Vec<Diagnostic> {
    let pod = match PodTemplate::from_input(input) {
        Ok(pod) => pod,
        Err(e) => return vec![diagnostic_of(input, e)],
    };
    let multinode = is_multinode(&input.placement);
    let args = service_field(input, ARGS_FIELD);
    let mut out = Vec::new();
    let words = engine_words(&pod.main_argv(), &MODULES);
    match Parallelism::from_words(&words) {
        Ok(parallelism) if multinode => {
            check_multinode(input, &parallelism, &mut out);
            check_operator_owned(input, &parallelism, &words, &mut out);
        }
        Ok(_) => {}
        Err(e) if multinode => out.push(Diagnostic::error(args, e.to_string())),
        Err(e) => out.push(Diagnostic::warning(args, e.to_string())),
    }
    if !out.iter().any(|d| d.severity == Severity::Error)
        && let Err(e) = render(input)
    {
        out.push(diagnostic_of(input, e));
    }
    out
}

/// The multi-node checks.
fn check_multinode(input: &RenderInput, parallelism: &Parallelism, out: &mut Vec<Diagnostic>) {
    let nodes = u64::from(input.placement.node_count);
    let gpus = u64::from(input.component.gpus_per_node);
    let world = parallelism.world();
    let args = service_field(input, ARGS_FIELD);
    if gpus == 0 {
        out.push(Diagnostic::warning(
            service_field(input, GPU_FIELD),
            "multi-node vLLM component without a GPU count: the operator cannot tell whether \
             the model spans nodes, so it adds no multi-node launch flags",
        ));
        return;
    }
    match strategy::decide(
        parallelism,
        input.component.gpus_per_node,
        input.placement.node_count,
    ) {
        Strategy::Distributed => {
            if !world.is_multiple_of(nodes) {
                out.push(Diagnostic::error(
                    args,
                    format!(
                        "world size {world} (tensor × pipeline parallel size) is not divisible by \
                         multinode.nodeCount {nodes}"
                    ),
                ));
            } else if world > nodes * gpus {
                out.push(Diagnostic::error(
                    args,
                    format!(
                        "world size {world} (tensor × pipeline parallel size) needs more GPUs than \
                         the {nodes} nodes × {gpus} GPUs of one replica"
                    ),
                ));
            } else if world / nodes < gpus {
                out.push(Diagnostic::warning(
                    args,
                    format!(
                        "world size {world} over {nodes} nodes uses {} of the {gpus} GPUs of each node",
                        world / nodes
                    ),
                ));
            }
        }
        Strategy::DataParallel { local, total } => {
            if total != local * nodes {
                out.push(Diagnostic::error(
                    args,
                    format!(
                        "`--data-parallel-size` {total} must equal multinode.nodeCount {nodes} × \
                         {local} data-parallel ranks per node ({gpus} GPUs / world size {world})"
                    ),
                ));
            } else if !gpus.is_multiple_of(world) {
                out.push(Diagnostic::warning(
                    args,
                    format!(
                        "{gpus} GPUs per node is not a multiple of the world size {world}: {} GPU(s) \
                         per node stay idle",
                        gpus % world
                    ),
                ));
            }
        }
        Strategy::None => out.push(Diagnostic::warning(
            service_field(input, NODE_COUNT_FIELD),
            format!(
                "world size {world} × data-parallel size {} fits on one node of {gpus} GPUs: the \
                 {nodes} nodes run independent engines and no multi-node launch is configured",
                parallelism.data
            ),
        )),
    }
}

/// Flags this plugin sets for `strategy` with `executor`, so the user must not.
fn operator_owned(strategy: Strategy, executor: Executor) -> &'static [Flag] {
    const fn flag(long: &'static str) -> Flag {
        Flag { long, alias: None }
    }
    const MP: [Flag; 6] = [
        flag("--distributed-executor-backend"),
        flag("--nnodes"),
        flag("--master-addr"),
        flag("--master-port"),
        flag("--node-rank"),
        flag("--headless"),
    ];
    const RAY: [Flag; 1] = [flag("--distributed-executor-backend")];
    const DATA_PARALLEL: [Flag; 5] = [
        flag("--data-parallel-hybrid-lb"),
        Flag {
            long: "--data-parallel-size-local",
            alias: Some("-dpl"),
        },
        flag("--data-parallel-start-rank"),
        flag("--data-parallel-address"),
        flag("--data-parallel-rpc-port"),
    ];
    match (strategy, executor) {
        (Strategy::Distributed, Executor::Mp) => &MP,
        (Strategy::Distributed, Executor::Ray) => &RAY,
        (Strategy::DataParallel { .. }, _) => &DATA_PARALLEL,
        (Strategy::None, _) => &[],
    }
}

/// Reports launch flags the user set that the operator sets per pod for this strategy.
fn check_operator_owned(
    input: &RenderInput,
    parallelism: &Parallelism,
    words: &[String],
    out: &mut Vec<Diagnostic>,
) {
    let strategy = strategy::decide(
        parallelism,
        input.component.gpus_per_node,
        input.placement.node_count,
    );
    let executor = executor::choose(&input.graph).executor;
    for flag in operator_owned(strategy, executor) {
        if let Some(found) = args::find(words, flag) {
            out.push(Diagnostic::error(
                service_field(input, ARGS_FIELD),
                format!(
                    "`{}` is set by the operator on each pod of this multi-node component; remove it",
                    found.spelled
                ),
            ));
        }
    }
}

/// A render failure as a diagnostic on the field it concerns.
fn diagnostic_of(input: &RenderInput, error: PluginError) -> Diagnostic {
    match error {
        PluginError::InvalidInput(d) if d.field_path.is_empty() => {
            Diagnostic::error(service_field(input, COMMAND_FIELD), d.message)
        }
        PluginError::InvalidInput(d) => d,
        PluginError::Unsupported(message) => {
            Diagnostic::error(service_field(input, COMMAND_FIELD), message)
        }
        PluginError::Internal(message) => Diagnostic::error(
            format!("spec.services.{}", input.component.service_name),
            format!("internal error in the vllm plugin: {message}"),
        ),
    }
}
