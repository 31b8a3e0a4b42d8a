//! The wait-for-leader init container of multi-node `mp` workers.
//!
//! A vLLM `mp` worker connects to the leader's master port as soon as it starts and fails when
//! the leader is not listening yet. Worker pods therefore get an init container,
//! `wait-for-leader-mp`, running the host's wait-for-leader script with the main container's
//! image: it waits until the leader is up and `LEADER_HOST:LEADER_PORT` accepts a connection.
//!
//! The script reaches the pod through a ConfigMap volume named `wait-leader-script`, mounted at
//! `/scripts`. The host creates that ConfigMap for every graph with a multi-node service and names
//! it in `infrastructure.wait-for-leader-config-map`.

#![forbid(unsafe_code)]

use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, Volume, VolumeMount,
};
use dynamo_plugin_sdk::shell::{self, QuoteError};
use dynamo_plugin_sdk::{RenderInput, ShellArg};

use crate::MASTER_PORT;
use crate::shell_expr::to_shell_refs;

/// Name of the init container.
pub const INIT_CONTAINER: &str = "wait-for-leader-mp";
/// Name of the volume holding the script.
pub const VOLUME: &str = "wait-leader-script";
/// Where the volume is mounted in the init container.
pub const MOUNT_PATH: &str = "/scripts";
/// Key of the script in the host's ConfigMap (and its file name under [`MOUNT_PATH`]).
pub const SCRIPT_KEY: &str = "wait-for-leader.py";

/// Name of the script ConfigMap: the host's, else (an older host) `{graph}-wait-leader-script`.
pub fn config_map_name(input: &RenderInput) -> String {
    let chosen = input.infrastructure.wait_for_leader_config_map.trim();
    if chosen.is_empty() {
        format!("{}-wait-leader-script", input.graph.name)
    } else {
        chosen.to_owned()
    }
}

/// The volume holding the script, from ConfigMap `config_map`.
pub fn volume(config_map: &str) -> Volume {
    Volume {
        name: VOLUME.to_owned(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map.to_owned(),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// The shell command the init container runs for leader host expression `leader_host`.
///
/// Kubelet references in the host expression become shell references (`${NAME}`): the script
/// always runs in a shell, and the orchestrator may add its variables to init containers after
/// the ones this plugin sets.
pub fn command(leader_host: &str) -> Result<String, QuoteError> {
    Ok(format!(
        "export LEADER_HOST={} LEADER_PORT=\"{MASTER_PORT}\" && exec python3 {}",
        ShellArg::expr(to_shell_refs(leader_host)).to_shell_word()?,
        shell::quote(&format!("{MOUNT_PATH}/{SCRIPT_KEY}"))?,
    ))
}

/// The init container, running `main`'s image, pull policy and security context (a container a
/// plugin adds may not be less confined than the main one).
pub fn init_container(main: &Container, leader_host: &str) -> Result<Container, QuoteError> {
    Ok(Container {
        name: INIT_CONTAINER.to_owned(),
        image: main.image.clone(),
        image_pull_policy: main.image_pull_policy.clone(),
        security_context: main.security_context.clone(),
        command: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            command(leader_host)?,
        ]),
        volume_mounts: Some(vec![VolumeMount {
            name: VOLUME.to_owned(),
            mount_path: MOUNT_PATH.to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_uses_shell_references() {
        assert_eq!(
            command("$(LWS_LEADER_ADDRESS)").as_deref(),
            Ok(
                "export LEADER_HOST=\"${LWS_LEADER_ADDRESS}\" LEADER_PORT=\"29500\" && exec python3 /scripts/wait-for-leader.py"
            )
        );
        let grove = "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-decode-ldr-0.$(GROVE_HEADLESS_SERVICE)";
        assert_eq!(
            command(grove).as_deref(),
            Ok(
                "export LEADER_HOST=\"${GROVE_PCSG_NAME}-${GROVE_PCSG_INDEX}-decode-ldr-0.${GROVE_HEADLESS_SERVICE}\" \
                LEADER_PORT=\"29500\" && exec python3 /scripts/wait-for-leader.py"
            )
        );
    }

    #[test]
    fn config_map_is_the_hosts() {
        let mut input = RenderInput::default();
        input.graph.name = "g".into();
        assert_eq!(config_map_name(&input), "g-wait-leader-script");
        input.infrastructure.wait_for_leader_config_map = "custom".into();
        assert_eq!(config_map_name(&input), "custom");
    }
}
