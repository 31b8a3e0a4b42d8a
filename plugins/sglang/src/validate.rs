//! Admission checks of an SGLang component, reported with the field they concern.
//!
//! On multi-node components only:
//! - `--tensor-parallel-size` / `--pipeline-parallel-size` (or their aliases) that are not
//!   literal positive integers: error;
//! - tensor × pipeline size not divisible by `multinode.nodeCount`, or needing more GPUs per node
//!   than the component has (when it has a GPU count): error;
//! - `--dist-init-addr`, `--nnodes` or `--node-rank` set by hand: error, the operator sets them
//!   per pod;
//! - finally, when nothing above is an error, the render itself is tried and its failure becomes
//!   a diagnostic.

#![forbid(unsafe_code)]

use dynamo_plugin_sdk::{Diagnostic, PluginError, PodTemplate, RenderInput, Severity};

use crate::args::{
    self, DIST_INIT_ADDR, NNODES, NODE_RANK, PIPELINE_PARALLEL_SIZE, TENSOR_PARALLEL_SIZE,
};
use crate::render::render;
use crate::{ARGS_FIELD, COMMAND_FIELD, MODULES, is_multinode, service_field};

/// Checks an SGLang component (see the module docs); an empty list means valid.
pub fn validate(input: &RenderInput) -> Vec<Diagnostic> {
    if !is_multinode(&input.placement) {
        return Vec::new();
    }
    let pod = match PodTemplate::from_input(input) {
        Ok(pod) => pod,
        Err(e) => return vec![diagnostic_of(input, e)],
    };
    let words = args::engine_words(&pod.main_argv(), &MODULES);
    let field = service_field(input, ARGS_FIELD);
    let mut out = Vec::new();

    for flag in [DIST_INIT_ADDR, NNODES, NODE_RANK] {
        if let Some((spelled, _)) = args::find(&words, &flag) {
            out.push(Diagnostic::error(
                field.clone(),
                format!("`{spelled}` is set by the operator on each pod of a multi-node component; remove it"),
            ));
        }
    }

    match (
        args::size(&words, &TENSOR_PARALLEL_SIZE),
        args::size(&words, &PIPELINE_PARALLEL_SIZE),
    ) {
        (Err(e), _) | (_, Err(e)) => out.push(Diagnostic::error(field.clone(), e.to_string())),
        (Ok(tp), Ok(pp)) => {
            let world = u64::from(tp.unwrap_or(1)) * u64::from(pp.unwrap_or(1));
            let nodes = u64::from(input.placement.node_count);
            let gpus = u64::from(input.component.gpus_per_node);
            if !world.is_multiple_of(nodes) {
                out.push(Diagnostic::error(
                    field.clone(),
                    format!(
                        "tensor × pipeline parallel size {world} is not divisible by \
                         multinode.nodeCount {nodes}"
                    ),
                ));
            } else if gpus > 0 && world / nodes > gpus {
                out.push(Diagnostic::error(
                    field.clone(),
                    format!(
                        "tensor × pipeline parallel size {world} over {nodes} nodes needs {} GPUs \
                         per node, but the component has {gpus}",
                        world / nodes
                    ),
                ));
            }
        }
    }

    if !out.iter().any(|d| d.severity == Severity::Error)
        && let Err(e) = render(input)
    {
        out.push(diagnostic_of(input, e));
    }
    out
}

/// A render failure as a diagnostic on the field it concerns.
fn diagnostic_of(input: &RenderInput, error: PluginError) -> Diagnostic {
    match error {
        PluginError::InvalidInput(d) if !d.field_path.is_empty() => d,
        PluginError::InvalidInput(d) => {
            Diagnostic::error(service_field(input, COMMAND_FIELD), d.message)
        }
        PluginError::Unsupported(message) => {
            Diagnostic::error(service_field(input, COMMAND_FIELD), message)
        }
        PluginError::Internal(message) => Diagnostic::error(
            format!("spec.services.{}", input.component.service_name),
            format!("internal error in the sglang plugin: {message}"),
        ),
    }
}
