//! Admission checks of the MPI launcher.
//!
//! On multi-node components the leader runs the main container's command through `mpirun`, so
//! the container must have an explicit command (an error otherwise), and hand-off annotations
//! already on the pod must parse. The GPU count is the backend's to check (the TensorRT-LLM
//! plugin does), so it is not reported twice; [`crate::render::render`] still refuses to render
//! without one.

#![forbid(unsafe_code)]

use dynamo_plugin_sdk::{Diagnostic, PluginError, PodTemplate, RenderInput};

use crate::render::take_handoff;
use crate::{COMMAND_FIELD, is_multinode, service_field};

/// Checks a multi-node component for the launcher; an empty list means valid.
pub fn validate(input: &RenderInput) -> Vec<Diagnostic> {
    if !is_multinode(&input.placement) {
        return Vec::new();
    }
    let mut pod = match PodTemplate::from_input(input) {
        Ok(pod) => pod,
        Err(e) => return vec![diagnostic_of(e)],
    };
    let mut out = Vec::new();
    if pod.main_argv().is_empty() {
        out.push(Diagnostic::error(
            service_field(input, COMMAND_FIELD),
            "a multi-node component launched with MPI needs an explicit command: the leader runs \
             it on every rank through mpirun",
        ));
    }
    if let Err(e) = take_handoff(&mut pod) {
        out.push(diagnostic_of(e));
    }
    out
}

fn diagnostic_of(error: PluginError) -> Diagnostic {
    match error {
        PluginError::InvalidInput(d) => d,
        PluginError::Unsupported(m) | PluginError::Internal(m) => Diagnostic::error("", m),
    }
}
