//! The wait-for-leader init container of multi-node `mp` workers, and the ConfigMap holding its
//! script.
//!
//! A vLLM `mp` worker connects to the leader's master port as soon as it starts and fails when
//! the leader is not listening yet. Worker pods therefore get an init container,
//! `wait-for-leader-mp`, running [`SCRIPT`] with the main container's image: it waits until the
//! leader's host name resolves and `LEADER_HOST:LEADER_PORT` accepts a TCP connection.
//!
//! The script reaches the pod through a ConfigMap volume named `wait-leader-script`, mounted at
//! `/scripts`. The ConfigMap (one per graph, named by the host in
//! `infrastructure.wait-for-leader-config-map`, else `{graph}-wait-leader-script`) is returned as
//! an extra object; the host sets its namespace and owner.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, Volume, VolumeMount,
};
use dynamo_plugin_sdk::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use dynamo_plugin_sdk::shell::{self, QuoteError};
use dynamo_plugin_sdk::{PluginError, RenderInput, ShellArg};

use crate::MASTER_PORT;
use crate::shell_expr::to_shell_refs;

/// Name of the init container.
pub const INIT_CONTAINER: &str = "wait-for-leader-mp";
/// Name of the volume holding the script.
pub const VOLUME: &str = "wait-leader-script";
/// Where the volume is mounted in the init container.
pub const MOUNT_PATH: &str = "/scripts";
/// Key of the script in the ConfigMap (and its file name under [`MOUNT_PATH`]).
pub const SCRIPT_KEY: &str = "wait-for-leader.py";
/// Label naming the graph a ConfigMap belongs to.
pub const GRAPH_LABEL: &str = "nvidia.com/dynamo-graph-deployment-name";

/// The wait-for-leader script (Python 3, standard library only).
pub const SCRIPT: &str = include_str!("wait_for_leader.py");

/// Name of the script ConfigMap: the host's choice, else `{graph}-wait-leader-script`.
pub fn config_map_name(input: &RenderInput) -> String {
    let chosen = input.infrastructure.wait_for_leader_config_map.trim();
    if chosen.is_empty() {
        format!("{}-wait-leader-script", input.graph.name)
    } else {
        chosen.to_owned()
    }
}

/// The ConfigMap carrying [`SCRIPT`], as JSON text for an `extra-object::config-map`.
pub fn config_map_json(input: &RenderInput) -> Result<String, PluginError> {
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(config_map_name(input)),
            labels: Some(BTreeMap::from([(
                GRAPH_LABEL.to_owned(),
                input.graph.name.clone(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(SCRIPT_KEY.to_owned(), SCRIPT.to_owned())])),
        ..ConfigMap::default()
    };
    serde_json::to_string(&config_map).map_err(|e| {
        PluginError::internal(format!(
            "cannot serialize the wait-for-leader ConfigMap: {e}"
        ))
    })
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
        "export LEADER_HOST={} LEADER_PORT={MASTER_PORT} && exec python3 {}",
        ShellArg::expr(to_shell_refs(leader_host)).to_shell_word()?,
        shell::quote(&format!("{MOUNT_PATH}/{SCRIPT_KEY}"))?,
    ))
}

/// The init container, running `main`'s image and pull policy.
pub fn init_container(main: &Container, leader_host: &str) -> Result<Container, QuoteError> {
    Ok(Container {
        name: INIT_CONTAINER.to_owned(),
        image: main.image.clone(),
        image_pull_policy: main.image_pull_policy.clone(),
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
                "export LEADER_HOST=\"${LWS_LEADER_ADDRESS}\" LEADER_PORT=29500 && exec python3 /scripts/wait-for-leader.py"
            )
        );
        let grove = "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-decode-ldr-0.$(GROVE_HEADLESS_SERVICE)";
        assert_eq!(
            command(grove).as_deref(),
            Ok(
                "export LEADER_HOST=\"${GROVE_PCSG_NAME}-${GROVE_PCSG_INDEX}-decode-ldr-0.${GROVE_HEADLESS_SERVICE}\" \
                LEADER_PORT=29500 && exec python3 /scripts/wait-for-leader.py"
            )
        );
    }

    #[test]
    fn config_map_is_named_and_labelled() {
        let mut input = RenderInput::default();
        input.graph.name = "g".into();
        assert_eq!(config_map_name(&input), "g-wait-leader-script");
        input.infrastructure.wait_for_leader_config_map = "custom".into();
        let cm: serde_json::Value =
            serde_json::from_str(&config_map_json(&input).expect("serializes")).expect("json");
        assert_eq!(cm["kind"], "ConfigMap");
        assert_eq!(cm["apiVersion"], "v1");
        assert_eq!(cm["metadata"]["name"], "custom");
        assert_eq!(cm["metadata"]["labels"][GRAPH_LABEL], "g");
        assert_eq!(cm["data"][SCRIPT_KEY], SCRIPT);
        assert!(cm["metadata"].get("namespace").is_none());
    }
}
