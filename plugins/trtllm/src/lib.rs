//! `trtllm`: the backend plugin for TensorRT-LLM workers (`python3 -m dynamo.trtllm ...`).
//!
//! Single-node components are left as the host rendered them (a compilation-cache volume only
//! earns a warning: TensorRT-LLM does not use one yet).
//!
//! A multi-node TensorRT-LLM component runs as one MPI job: the leader starts every rank with
//! `mpirun` over SSH and the workers only run an SSH daemon. That machinery is engine-neutral and
//! lives in the `mpi` launcher plugin, which this plugin names in its metadata
//! (`multinode-launcher: "mpi"`), so the host runs it right after this one on the same pod
//! template.
//!
//! # What is TensorRT-LLM's and what is MPI's
//!
//! | piece | owner |
//! |---|---|
//! | SSH key Secret volume at `/ssh-pk`, `OMPI_MCA_orte_keep_fqdn_hostnames=1` | `mpi` |
//! | worker: key setup, host keys, `sshd` on port 2222, TCP readiness probe | `mpi` |
//! | leader: DNS wait, `mpirun` host list / process count / SSH options / `--allow-run-as-root` | `mpi` |
//! | `-x` forwarding of the container env and the generic set (CUDA, NCCL, Hugging Face, paths) | `mpi` |
//! | the `trtllm-llmapi-launch` wrapper around the engine command on every rank | **`trtllm`** |
//! | forwarding `TENSORRT_LLM_CACHE_DIR` and `TRTLLM_USE_UCX_KVCACHE` | **`trtllm`** |
//! | requiring a GPU count (the MPI world is nodes × GPUs) | **`trtllm`** (validate) |
//!
//! The hand-off is two pod annotations this plugin sets on multi-node pods and the launcher
//! reads and removes, so they never reach the cluster:
//!
//! - [`ENTRYPOINT_WRAPPER_ANNOTATION`] = [`LLMAPI_LAUNCH`];
//! - [`EXPORT_ENV_ANNOTATION`] = the TensorRT-LLM variables of [`EXPORT_ENV`], comma separated.
//!
//! The launcher then runs `bash -c 'trtllm-llmapi-launch <original command and args>'` on every
//! rank. This plugin leaves the command, args and probes alone.
//!
//! Built for `wasm32-wasip2` this crate is a WebAssembly component exporting the
//! `dynamo:backend@0.2.0` `plugin` world; built natively it is an ordinary library.

#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]

use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Placement, Plugin, PluginError, PluginKind, PodTemplate, RenderInput,
    RenderOutput, Role,
};

/// The Python module that runs a Dynamo TensorRT-LLM worker.
pub const MODULE: &str = "dynamo.trtllm";
/// The launcher plugin multi-node components run through.
pub const LAUNCHER: &str = "mpi";
/// Pod annotation the `mpi` launcher reads: words put before the engine command on every rank.
pub const ENTRYPOINT_WRAPPER_ANNOTATION: &str = "mpi.plugins.dynamo.nvidia.com/entrypoint-wrapper";
/// Pod annotation the `mpi` launcher reads: more variables to forward to every rank.
pub const EXPORT_ENV_ANNOTATION: &str = "mpi.plugins.dynamo.nvidia.com/export-env";
/// TensorRT-LLM's MPI entry point: sets up the LLM API's MPI session on each rank.
pub const LLMAPI_LAUNCH: &str = "trtllm-llmapi-launch";
/// TensorRT-LLM variables every rank needs when the leader has them.
pub const EXPORT_ENV: [&str; 2] = ["TENSORRT_LLM_CACHE_DIR", "TRTLLM_USE_UCX_KVCACHE"];
/// Field of a service's GPU limit, relative to `spec.services.<service>`.
pub const GPU_FIELD: &str = "resources.limits.gpu";

/// The TensorRT-LLM plugin.
pub struct Trtllm;

impl Plugin for Trtllm {
    // `render` checks what it needs itself and reports its own warnings; `validate`'s findings
    // reach the user through admission and `render`'s check step. Running `validate` first would
    // change this built-in's render output (new errors, repeated warnings).
    const VALIDATE_BEFORE_RENDER: bool = false;

    fn metadata() -> Metadata {
        Metadata {
            name: "trtllm".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec!["trtllm".into()],
            python_modules: vec![MODULE.into()],
            multinode_launcher: Some(LAUNCHER.into()),
            capabilities: Vec::new(),
            ..Metadata::default()
        }
    }

    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut warnings = Vec::new();
        if let Some(path) = input
            .component
            .compilation_cache_path
            .as_deref()
            .filter(|p| !p.trim().is_empty())
        {
            warnings.push(format!(
                "a compilation-cache volume is mounted at {path}, but TensorRT-LLM does not use \
                 one yet; no cache settings were added"
            ));
        }
        let pod_template = if is_multinode(&input.placement) {
            let mut pod = PodTemplate::from_input(input)?;
            let annotations = pod.annotations_mut();
            annotations.insert(ENTRYPOINT_WRAPPER_ANNOTATION.into(), LLMAPI_LAUNCH.into());
            annotations.insert(EXPORT_ENV_ANNOTATION.into(), EXPORT_ENV.join(","));
            pod.to_json()?
        } else {
            input.pod_template.clone()
        };
        Ok(RenderOutput {
            pod_template,
            extra_objects: Vec::new(),
            warnings,
        })
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        if is_multinode(&input.placement) && input.component.gpus_per_node == 0 {
            return vec![Diagnostic::error(
                format!("spec.services.{}.{GPU_FIELD}", input.component.service_name),
                "a multi-node TensorRT-LLM component runs one MPI rank per GPU and needs its GPUs \
                 per node (resources.limits.gpu or resources.requests.gpu)",
            )];
        }
        Vec::new()
    }
}

dynamo_plugin_sdk::export_plugin!(Trtllm);

/// True when the pod template being rendered is one pod of a multi-node group.
pub fn is_multinode(placement: &Placement) -> bool {
    placement.node_count > 1 && placement.role != Role::Main
}
