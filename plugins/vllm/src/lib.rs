//! `vllm`: the backend plugin for vLLM workers (`python3 -m dynamo.vllm ...`).
//!
//! A single-node component only gets `VLLM_CACHE_ROOT` pointing at its compilation-cache volume,
//! when it has one (multi-node components get it too). A multi-node component is planned from
//! the flags the user already passes to vLLM:
//!
//! 1. [`args`] reads the tensor-, pipeline- and data-parallel sizes from the main container;
//! 2. [`executor`] picks `mp` or Ray from the graph's annotations;
//! 3. [`strategy`] decides whether one engine spans the nodes, data-parallel ranks span them, or
//!    nothing does;
//! 4. [`render`] adds what each role needs: launch flags, the Ray rewrite, the pod-IP side
//!    channel variable, the `wait-for-leader-mp` init container ([`wait_leader`]) and its
//!    ConfigMap, and drops the probes of worker pods.
//!
//! Where the pods run is the host's business: the leader host, the node rank and whether they
//! need a shell come from the input's placement, never from guessing the orchestrator.
//! [`validate`] reports what cannot work (bad flag values, world sizes that do not fit the
//! nodes) against the field that causes it.
//!
//! Built for `wasm32-wasip2` this crate is a WebAssembly component exporting the
//! `dynamo:backend@0.2.0` `plugin` world; built natively it is an ordinary library, tested and
//! benchmarked without a runtime.

#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]

pub mod args;
pub mod executor;
pub mod render;
pub mod shell_expr;
pub mod strategy;
pub mod validate;
pub mod wait_leader;

use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Plugin, PluginError, PluginKind, RenderInput, RenderOutput,
};

/// The Python module that runs a Dynamo vLLM worker.
pub const MODULE: &str = "dynamo.vllm";
/// [`MODULE`] as the module filter the SDK's flag injection takes.
pub const MODULES: [&str; 1] = [MODULE];
/// Port of the `mp` executor's master (on the leader).
pub const MASTER_PORT: u16 = 29500;
/// Port of the Ray head (on the leader).
pub const RAY_PORT: u16 = 6379;
/// RPC port of data-parallel coordination (on the leader).
pub const DATA_PARALLEL_RPC_PORT: u16 = 13445;

/// Field of a service's engine arguments, relative to `spec.services.<service>`.
pub const ARGS_FIELD: &str = "extraPodSpec.mainContainer.args";
/// Field of a service's container command, relative to `spec.services.<service>`.
pub const COMMAND_FIELD: &str = "extraPodSpec.mainContainer.command";
/// Field of a service's GPU limit, relative to `spec.services.<service>`.
pub const GPU_FIELD: &str = "resources.limits.gpu";
/// Field of a service's node count, relative to `spec.services.<service>`.
pub const NODE_COUNT_FIELD: &str = "multinode.nodeCount";

/// The vLLM plugin.
pub struct Vllm;

impl Plugin for Vllm {
    // `render` checks what it needs itself and reports its own warnings; `validate`'s findings
    // reach the user through admission and `render`'s check step. Running `validate` first would
    // change this built-in's render output (new errors, repeated warnings).
    const VALIDATE_BEFORE_RENDER: bool = false;

    fn metadata() -> Metadata {
        Metadata {
            name: "vllm".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec!["vllm".into()],
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

dynamo_plugin_sdk::export_plugin!(Vllm);

pub use dynamo_plugin_sdk::{is_multinode, service_field};
