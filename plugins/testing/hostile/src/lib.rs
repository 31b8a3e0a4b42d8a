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
//! | `chatty`         | writes 1 MiB to stderr, then renders normally             |
//! | `huge`           | returns a pod template of 2 MiB (twice the output limit)  |
//! | `escape`         | tries to read `/etc/passwd`, the environment and the network |
//! | anything else    | applies the [`ATTACK_ANNOTATION`] of the input, if any    |
//!
//! The attack annotation (a graph annotation of the input) holds JSON, so a test states an escape
//! attempt as data:
//!
//! ```json
//! {"set": [["/spec/containers/0/securityContext/privileged", true]],
//!  "extra": [{"configMap": "{...}"}, {"sshKeySecret": "name"}],
//!  "warnings": ["text"], "warningCopies": 1000,
//!  "diagnostics": [{"fieldPath": "...", "message": "...", "severity": "error"}],
//!  "diagnosticCopies": 1000}
//! ```
//!
//! `set` writes each value at its JSON pointer (`-` appends to an array; missing objects are
//! created). Only the wasm build is meant to be run with the hostile names; natively the `loop` and
//! `oom` cases would hang or exhaust the test process.

use std::hint::black_box;

use dynamo_plugin_sdk::{
    Diagnostic, ExtraObject, Metadata, Plugin, PluginError, PluginKind, RenderInput, RenderOutput,
};
use serde::Deserialize;
use serde_json::Value;

/// Graph annotation whose JSON value says what to do (see the crate docs).
pub const ATTACK_ANNOTATION: &str = "nvidia.com/hostile-attack";

/// The hostile plugin.
pub struct Hostile;

/// What the attack annotation asks for.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Attack {
    /// JSON pointers into the pod template and the values to write there.
    pub set: Vec<(String, Value)>,
    /// Extra objects to return.
    pub extra: Vec<ExtraObject>,
    /// Warnings to return.
    pub warnings: Vec<String>,
    /// Repeat `warnings` this many times (at least once).
    pub warning_copies: usize,
    /// Diagnostics `validate` returns.
    pub diagnostics: Vec<Diagnostic>,
    /// Repeat `diagnostics` this many times (at least once).
    pub diagnostic_copies: usize,
}

impl Attack {
    /// The attack of `input`, if its graph carries the annotation.
    pub fn of(input: &RenderInput) -> Result<Option<Self>, PluginError> {
        input
            .graph
            .annotation(ATTACK_ANNOTATION)
            .map(|text| {
                serde_json::from_str(text)
                    .map_err(|e| PluginError::invalid_input(ATTACK_ANNOTATION, e.to_string()))
            })
            .transpose()
    }
}

impl Plugin for Hostile {
    // Render and validate misbehave independently, on purpose: the host's sandbox tests call
    // each on its own, so `render` must not run `validate` first.
    const VALIDATE_BEFORE_RENDER: bool = false;

    fn metadata() -> Metadata {
        Metadata {
            name: "hostile".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec!["hostile".into()],
            python_modules: vec!["dynamo.hostile".into()],
            multinode_launcher: None,
            // Declared so tests can show that only a grant makes them count.
            capabilities: vec![
                "privileged".into(),
                "ssh-key-secret".into(),
                "host-path".into(),
            ],
            ..Metadata::default()
        }
    }

    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut pod: Value = serde_json::from_str(&input.pod_template)
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
                // Reserve without touching: growing linear memory is what the limit guards, and
                // skipping the fill keeps the call far inside its CPU deadline on a loaded machine.
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(Vec::with_capacity(4 << 20)));
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
                serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": format!("{}-hostile-x", input.graph.name), "namespace": "kube-system"},
                })
                .to_string(),
            )),
            "plugin-error" => return Err(PluginError::unsupported("hostile refuses politely")),
            "sleep" => std::thread::sleep(std::time::Duration::from_secs(3600)),
            "spam" | "chatty" => {
                let line = "x".repeat(1023);
                for _ in 0..1024 {
                    eprintln!("{line}");
                }
                if input.component.service_name == "spam" {
                    panic!("after spam");
                }
            }
            "huge" => {
                pod["metadata"]["annotations"]["hostile.plugins.dynamo.nvidia.com/pad"] =
                    "x".repeat(2 << 20).into();
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
            _ => {
                if let Some(attack) = Attack::of(input)? {
                    for (pointer, value) in &attack.set {
                        set_pointer(&mut pod, pointer, value.clone());
                    }
                    out.extra_objects = attack.extra;
                    for _ in 0..attack.warning_copies.max(1) {
                        out.warnings.extend(attack.warnings.iter().cloned());
                    }
                }
            }
        }
        out.pod_template = pod.to_string();
        Ok(out)
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        if input.component.service_name == "trap" {
            panic!("hostile validate panics on purpose");
        }
        match Attack::of(input) {
            Ok(Some(attack)) => {
                let mut out = Vec::new();
                for _ in 0..attack.diagnostic_copies.max(1) {
                    out.extend(attack.diagnostics.iter().cloned());
                }
                out
            }
            _ => Vec::new(),
        }
    }
}

/// Writes `value` at JSON pointer `pointer` in `target`, creating missing objects; a last
/// segment `-` appends to an array.
pub fn set_pointer(target: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = parts.split_last() else {
        *target = value;
        return;
    };
    let mut slot = target;
    for (index, part) in parents.iter().enumerate() {
        // A missing container is an array when the next segment indexes one.
        let next = parts.get(index + 1).map(String::as_str).unwrap_or_default();
        let empty = || {
            if next == "-" || next.parse::<usize>().is_ok() {
                Value::Array(Vec::new())
            } else {
                Value::Object(serde_json::Map::new())
            }
        };
        slot = match slot {
            Value::Array(items) => match part.parse::<usize>() {
                Ok(i) if i < items.len() => &mut items[i],
                _ => {
                    items.push(empty());
                    let end = items.len() - 1;
                    &mut items[end]
                }
            },
            other => {
                if !other.is_object() {
                    *other = Value::Object(serde_json::Map::new());
                }
                let map = other.as_object_mut().expect("an object now");
                map.entry(part.clone()).or_insert_with(empty)
            }
        };
    }
    match slot {
        Value::Array(items) if last == "-" => items.push(value),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => items[i] = value,
            _ => items.push(value),
        },
        other => {
            if !other.is_object() {
                *other = Value::Object(serde_json::Map::new());
            }
            if let Some(map) = other.as_object_mut() {
                map.insert(last.clone(), value);
            }
        }
    }
}

dynamo_plugin_sdk::export_plugin!(Hostile);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn pointers_create_and_append() {
        let mut pod = json!({"spec": {"containers": [{"name": "main"}]}});
        set_pointer(
            &mut pod,
            "/spec/containers/0/securityContext/privileged",
            json!(true),
        );
        set_pointer(&mut pod, "/spec/volumes/-", json!({"name": "v"}));
        set_pointer(&mut pod, "/metadata/labels/a~1b", json!("c"));
        assert_eq!(
            pod["spec"]["containers"][0]["securityContext"]["privileged"],
            true
        );
        assert_eq!(pod["spec"]["volumes"][0]["name"], "v");
        assert_eq!(pod["metadata"]["labels"]["a/b"], "c");
    }

    #[test]
    fn attacks_come_from_the_annotation() {
        let mut i = input("x");
        i.graph.annotations.push(dynamo_plugin_sdk::KeyValue::new(
            ATTACK_ANNOTATION,
            json!({"set": [["/spec/hostPID", true]], "warnings": ["w"], "warningCopies": 3})
                .to_string(),
        ));
        let out = Hostile::render(&i).expect("renders");
        assert!(out.pod_template.contains("hostPID"));
        assert_eq!(out.warnings.len(), 3);
    }
}
