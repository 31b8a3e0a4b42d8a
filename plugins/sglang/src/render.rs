//! The SGLang render: distributed-init flags and worker probes (see the crate docs).

#![forbid(unsafe_code)]

use dynamo_plugin_sdk::k8s_openapi::api::core::v1::Container;
use dynamo_plugin_sdk::{
    PluginError, PodTemplate, RenderInput, RenderOutput, Role, ShellArg, inject_flags, python,
};

use crate::{DIST_INIT_PORT, MODULES, is_multinode};

/// The distributed-init flags of one pod of a multi-node group.
pub fn multinode_flags(input: &RenderInput) -> Vec<ShellArg> {
    let placement = &input.placement;
    vec![
        "--dist-init-addr".into(),
        word(format!("{}:{DIST_INIT_PORT}", placement.leader_host)),
        "--nnodes".into(),
        placement.node_count.to_string().into(),
        "--node-rank".into(),
        word(placement.node_rank.clone()),
    ]
}

/// Renders the SGLang parts of one pod template.
pub fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
    let mut pod = PodTemplate::from_input(input)?;
    let mut warnings = Vec::new();
    if let Some(path) = input
        .component
        .compilation_cache_path
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        warnings.push(format!(
            "a compilation-cache volume is mounted at {path}, but SGLang does not use one yet; \
             no cache settings were added"
        ));
    }
    if is_multinode(&input.placement) {
        let worker = input.placement.role == Role::Worker;
        let needs_shell = worker && input.placement.rank_needs_shell();
        let main = pod.main_container_mut()?;
        if needs_shell {
            check_wrappable(main)?;
        }
        inject_flags(main, &MODULES, &multinode_flags(input), needs_shell)?;
        if worker {
            main.liveness_probe = None;
            main.readiness_probe = None;
            main.startup_probe = None;
        }
    }
    let mut out = RenderOutput::new(pod.to_json()?);
    out.warnings = warnings;
    Ok(out)
}

/// A literal word, or an expression when it contains `$`.
fn word(text: String) -> ShellArg {
    if text.contains('$') {
        ShellArg::Expr(text)
    } else {
        ShellArg::Literal(text)
    }
}

/// Refuses to run a container through a shell when it has no `command` and its args are meant
/// for the image's entrypoint: the shell would run the args as a program and skip the entrypoint.
fn check_wrappable(main: &Container) -> Result<(), PluginError> {
    if main.command.as_ref().is_some_and(|c| !c.is_empty()) {
        return Ok(());
    }
    match main.args.iter().flatten().next() {
        Some(first) if !python::is_python(first) && !python::is_shell(first) => {
            Err(PluginError::unsupported(format!(
                "container `{}` has no command: its args go to the image's entrypoint, which the \
                 shell a multi-node worker needs would bypass; set extraPodSpec.mainContainer.command",
                main.name
            )))
        }
        _ => Ok(()),
    }
}
