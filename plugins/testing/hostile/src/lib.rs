//! `hostile`: a test plugin that misbehaves on purpose, to prove the host contains it.
//!
//! The misbehaviour is chosen by the component's service name:
//!
//! | service name     | what `render` does                                        |
//! |------------------|-----------------------------------------------------------|
//! | `loop`           | spins forever (the host's deadline must stop it)          |
//! | `oom`            | allocates until allocation fails (memory cap)             |
//! | `trap`           | panics, which traps (`unreachable`)                       |
//! | `bad-json`       | returns a pod template that is not JSON                   |
//! | `bad-namespace`  | changes `metadata.namespace`                              |
//! | `host-network`   | sets `spec.hostNetwork: true`                             |
//! | `privileged`     | makes the main container privileged                       |
//! | `foreign-config` | asks for a ConfigMap in another namespace                 |
//! | `plugin-error`   | returns an ordinary `unsupported` plugin error            |
//! | `sleep`          | sleeps for an hour (the sandbox must refuse to block)     |
//! | `spam`           | writes 1 MiB to stderr, then panics                       |
//! | `escape`         | tries to read `/etc/passwd`, the environment and the network |
//! | anything else    | behaves: returns the pod template unchanged               |
//!
//! Only the wasm build is meant to be run with the hostile names; natively the `loop` and `oom`
//! cases would hang or exhaust the test process.

use std::hint::black_box;

use dynamo_plugin_sdk::{
    Diagnostic, ExtraObject, Metadata, Plugin, PluginError, PluginKind, RenderInput, RenderOutput,
};

/// The hostile plugin.
pub struct Hostile;

impl Plugin for Hostile {
    fn metadata() -> Metadata {
        Metadata {
            name: "hostile".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec!["hostile".into()],
            python_modules: vec!["dynamo.hostile".into()],
            multinode_launcher: None,
        }
    }

    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut pod: serde_json::Value = serde_json::from_str(&input.pod_template)
            .map_err(|e| PluginError::invalid_input("podTemplate", e.to_string()))?;
        let mut out = RenderOutput::default();
        match input.component.service_name.as_str() {
            "loop" => {
                let mut i: u64 = 0;
                loop {
                    i = black_box(i.wrapping_add(1));
                }
            }
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "trap" => panic!("hostile plugin panics on purpose"),
            "bad-json" => {
                out.pod_template = "{ this is not json".into();
                return Ok(out);
            }
            "bad-namespace" => pod["metadata"]["namespace"] = "kube-system".into(),
            "host-network" => pod["spec"]["hostNetwork"] = true.into(),
            "privileged" => {
                if let Some(containers) = pod["spec"]["containers"].as_array_mut() {
                    for c in containers {
                        c["securityContext"]["privileged"] = true.into();
                    }
                }
            }
            "foreign-config" => out.extra_objects.push(ExtraObject::ConfigMap(
                r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}"#.into(),
            )),
            "plugin-error" => return Err(PluginError::unsupported("hostile refuses politely")),
            "sleep" => std::thread::sleep(std::time::Duration::from_secs(3600)),
            "spam" => {
                let line = "x".repeat(1023);
                for _ in 0..1024 {
                    eprintln!("{line}");
                }
                panic!("after spam");
            }
            "escape" => {
                let file = std::fs::read_to_string("/etc/passwd").map(|s| s.len());
                let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                let net = std::net::TcpStream::connect("127.0.0.1:1").map(|_| ());
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(u64::MAX);
                let random = std::hash::BuildHasher::hash_one(
                    &std::collections::hash_map::RandomState::new(),
                    1u8,
                );
                out.warnings = vec![
                    format!("file: {}", file.is_ok()),
                    format!("env: {}", env.len()),
                    format!("net: {}", net.is_ok()),
                    format!("now: {now}"),
                    format!("random: {random}"),
                ];
            }
            _ => {}
        }
        out.pod_template = pod.to_string();
        Ok(out)
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        if input.component.service_name == "trap" {
            panic!("hostile validate panics on purpose");
        }
        Vec::new()
    }
}

dynamo_plugin_sdk::export_plugin!(Hostile);

#[cfg(test)]
mod tests {
    use super::*;

    fn input(service: &str) -> RenderInput {
        RenderInput {
            component: dynamo_plugin_sdk::Component {
                service_name: service.into(),
                ..Default::default()
            },
            pod_template:
                r#"{"metadata":{"namespace":"ns"},"spec":{"containers":[{"name":"main"}]}}"#.into(),
            ..Default::default()
        }
    }

    #[test]
    fn benign_cases_natively() {
        let out = Hostile::render(&input("fine")).expect("renders");
        assert_eq!(out.pod_template, input("fine").pod_template);
        let out = Hostile::render(&input("bad-namespace")).expect("renders");
        assert!(out.pod_template.contains("kube-system"));
        assert!(Hostile::render(&input("plugin-error")).is_err());
        assert_eq!(
            Hostile::render(&input("bad-json"))
                .map(|o| o.pod_template)
                .ok()
                .as_deref(),
            Some("{ this is not json")
        );
    }
}
