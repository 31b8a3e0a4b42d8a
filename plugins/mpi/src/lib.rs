//! `mpi`: the launcher plugin that runs a multi-node component as one MPI job over SSH.
//!
//! A backend names this launcher in its metadata (`multinode-launcher: "mpi"`); the host then runs
//! it on the backend's output for every pod of a multi-node component. Single-node pods pass
//! through unchanged.
//!
//! What it does to a multi-node pod (see [`render`] and [`scripts`]):
//!
//! - **Both roles**: mount the SSH key-pair Secret named by `infrastructure.mpi-ssh-secret-name`
//!   (volume of the same name, mode 0644, listed before the pod's `/dev/shm` volume as Dynamo
//!   1.5 lists it) at `/ssh-pk`, set `OMPI_MCA_orte_keep_fqdn_hostnames=1`, and ask the host to
//!   ensure that Secret (`extra-object::ssh-key-secret`).
//! - **Worker**: the main container runs `sshd` on port 2222 instead of the engine; liveness and
//!   startup probes are removed and readiness becomes a TCP check of port 2222.
//! - **Leader**: the main container waits for the workers' DNS names when the placement asks for
//!   it, then runs `mpirun` with one process per GPU of the group across the leader and worker
//!   hosts, forwarding the environment, with the original command run by `bash -c`. Its probes
//!   are left alone: the leader serves.
//!
//! # Backend hand-off
//!
//! Everything above is engine-neutral. A backend adds what its engine needs through two pod
//! annotations, which this plugin reads and removes (they never reach the pod):
//!
//! - [`ENTRYPOINT_WRAPPER_ANNOTATION`] (`mpi.plugins.dynamo.nvidia.com/entrypoint-wrapper`): words, in
//!   shell syntax, put before the engine command inside `bash -c` on every rank — TensorRT-LLM
//!   sets `trtllm-llmapi-launch`;
//! - [`EXPORT_ENV_ANNOTATION`] (`mpi.plugins.dynamo.nvidia.com/export-env`): extra variable names
//!   (comma or space separated) forwarded with `-x`, on top of the main container's env and
//!   [`FORWARDED_ENV`] — TensorRT-LLM adds `TENSORRT_LLM_CACHE_DIR,TRTLLM_USE_UCX_KVCACHE`.
//!
//! Built for `wasm32-wasip2` this crate is a WebAssembly component exporting the
//! `dynamo:backend@0.2.0` `plugin` world; built natively it is an ordinary library.

#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]

pub mod render;
pub mod scripts;
pub mod validate;

use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Placement, Plugin, PluginError, PluginKind, RenderInput, RenderOutput,
    Role,
};

/// Pod annotation a backend sets to wrap its engine command on every MPI rank.
pub const ENTRYPOINT_WRAPPER_ANNOTATION: &str = "mpi.plugins.dynamo.nvidia.com/entrypoint-wrapper";
/// Pod annotation a backend sets to forward more environment variables to every MPI rank.
pub const EXPORT_ENV_ANNOTATION: &str = "mpi.plugins.dynamo.nvidia.com/export-env";

/// Variables always forwarded to every rank (when set on the leader), besides the main
/// container's own env: device selection, model and Hugging Face settings, NCCL switches, the
/// process basics, and what Triton needs to compile kernels on each rank (`CPATH`,
/// `TRITON_PTXAS_PATH`, forwarded since Dynamo 1.5).
pub const FORWARDED_ENV: [&str; 19] = [
    "CUDA_VISIBLE_DEVICES",
    "MODEL_PATH",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_ENDPOINT",
    "TOKENIZERS_PARALLELISM",
    "NCCL_DEBUG",
    "NCCL_IB_DISABLE",
    "NCCL_P2P_DISABLE",
    "HF_HOME",
    "TRANSFORMERS_CACHE",
    "HF_DATASETS_CACHE",
    "PATH",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "HOME",
    "USER",
    "CPATH",
    "TRITON_PTXAS_PATH",
];

/// Port `sshd` listens on in worker pods.
pub const SSH_PORT: u16 = 2222;
/// Where the SSH key-pair Secret is mounted.
pub const KEY_MOUNT_PATH: &str = "/ssh-pk";
/// Variable that keeps Open MPI from shortening the (pod DNS) host names.
pub const KEEP_FQDN_ENV: &str = "OMPI_MCA_orte_keep_fqdn_hostnames";

/// Field of a service's container command, relative to `spec.services.<service>`.
pub const COMMAND_FIELD: &str = "extraPodSpec.mainContainer.command";
/// Field of a service's GPU limit, relative to `spec.services.<service>`.
pub const GPU_FIELD: &str = "resources.limits.gpu";

/// The MPI launcher plugin.
pub struct Mpi;

impl Plugin for Mpi {
    // `render` checks what it needs itself and reports its own warnings; `validate`'s findings
    // reach the user through admission and `render`'s check step. Running `validate` first would
    // change this built-in's render output (new errors, repeated warnings).
    const VALIDATE_BEFORE_RENDER: bool = false;

    fn metadata() -> Metadata {
        Metadata {
            name: "mpi".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Launcher,
            frameworks: Vec::new(),
            python_modules: Vec::new(),
            multinode_launcher: None,
            capabilities: vec![dynamo_plugin_sdk::capability::SSH_KEY_SECRET.into()],
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

dynamo_plugin_sdk::export_plugin!(Mpi);

/// True when the pod template being rendered is one pod of a multi-node group.
pub fn is_multinode(placement: &Placement) -> bool {
    placement.node_count > 1 && placement.role != Role::Main
}

/// `spec.services.<service>.<suffix>` for the component being rendered.
pub fn service_field(input: &RenderInput, suffix: &str) -> String {
    format!("spec.services.{}.{suffix}", input.component.service_name)
}
