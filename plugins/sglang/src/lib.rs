//! `sglang`: the backend plugin for SGLang workers (`python3 -m dynamo.sglang ...`).
//!
//! Single-node components are left as the host rendered them. A compilation-cache volume is
//! reported with a warning: SGLang does not use one yet, so no cache variables are set.
//!
//! Multi-node components get SGLang's distributed-init flags on both roles:
//!
//! ```text
//! --dist-init-addr <leader-host>:29500 --nnodes <N> --node-rank <rank>
//! ```
//!
//! The leader host and rank are the host's placement expressions. A worker whose placement needs
//! a shell (its rank is shell arithmetic) runs through `/bin/sh -c "exec <cmd> <flags>"`; every
//! other pod gets the flags appended to its args (or inserted after `python -m dynamo.sglang`
//! inside an existing `sh -c` script). Workers lose their liveness, readiness and startup probes:
//! only the leader serves.
//!
//! [`validate`] rejects size flags that are not numbers, tensor × pipeline sizes that do not
//! divide over the nodes or need more GPUs than a node has, and the flags this plugin owns when
//! the user sets them by hand.
//!
//! Built for `wasm32-wasip2` this crate is a WebAssembly component exporting the
//! `dynamo:backend@0.2.0` `plugin` world; built natively it is an ordinary library.

#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]

pub mod args;
pub mod render;
pub mod validate;

use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Plugin, PluginError, PluginKind, RenderInput, RenderOutput,
};

/// The Python module that runs a Dynamo SGLang worker.
pub const MODULE: &str = "dynamo.sglang";
/// [`MODULE`] as the module filter the SDK's flag injection takes.
pub const MODULES: [&str; 1] = [MODULE];
/// Port of SGLang's distributed init on the leader.
pub const DIST_INIT_PORT: u16 = 29500;

/// Field of a service's engine arguments, relative to `spec.services.<service>`.
pub const ARGS_FIELD: &str = "extraPodSpec.mainContainer.args";
/// Field of a service's container command, relative to `spec.services.<service>`.
pub const COMMAND_FIELD: &str = "extraPodSpec.mainContainer.command";

/// The SGLang plugin.
pub struct Sglang;

impl Plugin for Sglang {
    // `render` checks what it needs itself and reports its own warnings; `validate`'s findings
    // reach the user through admission and `render`'s check step. Running `validate` first would
    // change this built-in's render output (new errors, repeated warnings).
    const VALIDATE_BEFORE_RENDER: bool = false;

    fn metadata() -> Metadata {
        Metadata {
            name: "sglang".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec!["sglang".into()],
            python_modules: vec![MODULE.into()],
            multinode_launcher: None,
            capabilities: Vec::new(),
            ..Metadata::default()
        }
    }

    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        render::render(input)
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        validate::validate(input)
    }
}

dynamo_plugin_sdk::export_plugin!(Sglang);

pub use dynamo_plugin_sdk::{is_multinode, service_field};
