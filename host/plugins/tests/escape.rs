//! A hostile plugin tries every escape the allow-list closes, through the real wasmtime host: each
//! attempt fails with its typed error naming the plugin and the field, and the next good render
//! works. (The allow-list itself is unit-tested path by path in `src/check/tests.rs`; this suite
//! proves the wiring: the runtime applies it to what a component really returns.)

mod common;

use common::{echo, hostile, input};
use dynamo_plugin_runtime::contract::{Capability, KeyValue, RenderInput, Severity};
use dynamo_plugin_runtime::{PluginError, PluginOrigin, RuntimeConfig};
use serde_json::{Value, json};

/// `input(service)` carrying the attack annotation `attack`.
fn attacked(service: &str, attack: Value) -> RenderInput {
    let mut input = input(service);
    input.graph.annotations.push(KeyValue::new(
        "nvidia.com/hostile-attack",
        attack.to_string(),
    ));
    input
}

/// Renders the attack and returns the error, after checking that echo still renders.
fn attempt(attack: Value) -> PluginError {
    let error = hostile()
        .render(&attacked("decode", attack.clone()))
        .expect_err(&format!("must be refused: {attack}"));
    assert_eq!(error.plugin(), Some("hostile"), "{error}");
    assert_eq!(error.component(), Some("decode"), "{error}");
    echo().render(&input("after")).expect("echo still renders");
    error
}

fn forbidden_field(error: &PluginError) -> &str {
    match error {
        PluginError::ForbiddenChange { field, .. } => field,
        other => panic!("expected a forbidden change, got {other}"),
    }
}

#[test]
fn escapes_through_the_main_container_are_refused() {
    for (pointer, value, field) in [
        (
            "/spec/containers/0/image",
            json!("attacker/miner"),
            "spec.containers[main].image",
        ),
        (
            "/spec/containers/0/env/-",
            json!({"name": "T", "valueFrom": {"secretKeyRef": {"name": "team-b", "key": "k"}}}),
            "spec.containers[main].env[T].valueFrom",
        ),
        (
            "/spec/containers/0/envFrom",
            json!([{"secretRef": {"name": "team-b"}}]),
            "spec.containers[main].envFrom",
        ),
        (
            "/spec/containers/0/securityContext/allowPrivilegeEscalation",
            json!(true),
            "spec.containers[main].securityContext.allowPrivilegeEscalation",
        ),
        (
            "/spec/containers/0/securityContext/runAsUser",
            json!(0),
            "spec.containers[main].securityContext.runAsUser",
        ),
        (
            "/spec/containers/0/securityContext/procMount",
            json!("Unmasked"),
            "spec.containers[main].securityContext.procMount",
        ),
        (
            "/spec/containers/0/ports/-",
            json!({"containerPort": 22, "hostPort": 22}),
            "spec.containers[main].ports[22]",
        ),
    ] {
        let error = attempt(json!({"set": [[pointer, value]]}));
        assert_eq!(forbidden_field(&error), field, "{pointer}");
    }
}

#[test]
fn escapes_through_init_containers_and_volumes_are_refused() {
    for (pointer, value, field) in [
        (
            "/spec/initContainers/-",
            json!({"name": "x", "image": "attacker/miner"}),
            "spec.initContainers[x].image",
        ),
        (
            "/spec/initContainers/-",
            json!({"name": "x", "image": "img", "securityContext": {"privileged": true}}),
            "spec.initContainers[x].securityContext.privileged",
        ),
        (
            "/spec/volumes/-",
            json!({"name": "v", "secret": {"secretName": "team-b"}}),
            "spec.volumes[v].secret",
        ),
        (
            "/spec/volumes/-",
            json!({"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}),
            "spec.volumes[v].projected",
        ),
        (
            "/spec/volumes/-",
            json!({"name": "v", "nfs": {"server": "s", "path": "/"}}),
            "spec.volumes[v].nfs",
        ),
        (
            "/spec/volumes/-",
            json!({"name": "v", "persistentVolumeClaim": {"claimName": "team-b"}}),
            "spec.volumes[v].persistentVolumeClaim",
        ),
        (
            "/spec/volumes/-",
            json!({"name": "v", "hostPath": {"path": "/var/run/containerd/containerd.sock"}}),
            "spec.volumes[v].hostPath",
        ),
    ] {
        let error = attempt(json!({"set": [[pointer, value]]}));
        assert_eq!(forbidden_field(&error), field, "{pointer}");
    }
}

#[test]
fn escapes_through_the_pod_are_refused() {
    for (pointer, value, field) in [
        ("/spec/nodeName", json!("gpu-1"), "spec.nodeName"),
        (
            "/spec/tolerations",
            json!([{"operator": "Exists"}]),
            "spec.tolerations",
        ),
        (
            "/spec/priorityClassName",
            json!("system-node-critical"),
            "spec.priorityClassName",
        ),
        (
            "/spec/runtimeClassName",
            json!("unsafe"),
            "spec.runtimeClassName",
        ),
        (
            "/spec/automountServiceAccountToken",
            json!(true),
            "spec.automountServiceAccountToken",
        ),
        (
            "/spec/hostAliases",
            json!([{"ip": "1.2.3.4", "hostnames": ["r"]}]),
            "spec.hostAliases",
        ),
        (
            "/spec/securityContext",
            json!({"sysctls": [{"name": "kernel.core_pattern", "value": "|x"}]}),
            "spec.securityContext.sysctls",
        ),
        (
            "/metadata/labels/app",
            json!("other-graph"),
            "metadata.labels[app]",
        ),
    ] {
        let error = attempt(json!({"set": [[pointer, value]]}));
        assert_eq!(forbidden_field(&error), field, "{pointer}");
    }
}

#[test]
fn extra_objects_are_confined_to_the_plugins_names() {
    let cm = |name: &str| json!({"configMap": {"metadata": {"name": name}}});
    let error = attempt(json!({"extra": [cm("graph-wait-leader-script")]}));
    assert_eq!(forbidden_field(&error), "extraObjects[0].metadata.name");
    let error = attempt(
        json!({"extra": [{"configMap": {"metadata": {"name": "graph-hostile-x", "finalizers": ["a/b"]}}}]}),
    );
    assert_eq!(
        forbidden_field(&error),
        "extraObjects[0].metadata.finalizers"
    );
    // Declared but not granted: the message says how to grant it.
    let error = attempt(json!({"extra": [{"sshKeySecret": "graph-hostile-key"}]}));
    assert!(
        error.to_string().contains("plugins.grants.hostile"),
        "{error}"
    );
    let many: Vec<Value> = (0..17).map(|i| cm(&format!("graph-hostile-{i}"))).collect();
    let error = attempt(json!({"extra": many}));
    assert!(
        matches!(
            error,
            PluginError::OutputTooLarge {
                actual: Some(17),
                ..
            }
        ),
        "{error}"
    );
    // Its own name is fine.
    let out = hostile()
        .render(&attacked(
            "decode",
            json!({"extra": [cm("graph-hostile-settings")]}),
        ))
        .expect("own ConfigMap");
    assert_eq!(out.extra_objects.len(), 1);
}

#[test]
fn a_granted_capability_takes_effect_only_for_that_plugin() {
    let runtime = dynamo_plugin_runtime::PluginRuntime::new(
        common::config().grant("hostile", Capability::Privileged),
    )
    .expect("runtime");
    let granted = runtime
        .load(
            PluginOrigin::Bytes("hostile fixture".into()),
            dynamo_plugin_test_fixtures::hostile(),
        )
        .expect("loads");
    assert!(
        granted
            .granted_capabilities()
            .contains(&Capability::Privileged)
    );
    assert!(
        !granted
            .granted_capabilities()
            .contains(&Capability::HostPath),
        "declared, not granted"
    );
    let attack = json!({"set": [["/spec/containers/0/securityContext/privileged", true]]});
    granted
        .render(&attacked("decode", attack.clone()))
        .expect("granted");
    let error = hostile()
        .render(&attacked("decode", attack))
        .expect_err("not granted on the shared runtime");
    assert!(
        error.to_string().contains("plugins.grants.hostile"),
        "{error}"
    );
}

#[test]
fn warnings_and_diagnostics_are_text_and_bounded() {
    let attack = json!({
        "warnings": ["line one\n\u{1b}[31mERROR forged log line\r\nmore"],
        "warningCopies": 100,
        "diagnostics": [
            {"fieldPath": "spec.services.other.replicas", "message": "x\ny", "severity": "error"},
            {"fieldPath": "spec.services.decode.args", "message": "ok", "severity": "warning"}
        ],
        "diagnosticCopies": 50
    });
    let out = hostile()
        .render(&attacked("decode", attack.clone()))
        .expect("renders");
    assert_eq!(out.warnings.len(), 33, "32 kept and a note");
    assert!(
        out.warnings
            .iter()
            .all(|w| !w.chars().any(char::is_control)),
        "{:?}",
        out.warnings[0]
    );
    assert!(out.warnings[32].contains("68 more warnings were dropped"));

    let found = hostile()
        .validate(&attacked("decode", attack))
        .expect("validates");
    assert_eq!(found.len(), 65, "64 kept and a note");
    assert_eq!(
        found[0].field_path, "spec.services.decode",
        "outside its service: replaced"
    );
    assert_eq!(found[0].message, "x y");
    assert_eq!(found[1].field_path, "spec.services.decode.args");
    assert_eq!(found[64].severity, Severity::Warning);
}

#[test]
fn oversized_components_and_slow_compiles_fail_the_load() {
    let runtime = dynamo_plugin_runtime::PluginRuntime::new(
        RuntimeConfig::new()
            .cache_dir(None)
            .max_component_bytes(1 << 20),
    )
    .expect("runtime");
    let error = runtime
        .load(PluginOrigin::Bytes("big".into()), &vec![0u8; (1 << 20) + 1])
        .expect_err("too big");
    assert!(
        matches!(&error, PluginError::Load { message, .. } if message.contains("max_component_bytes")),
        "{error}"
    );

    let runtime = dynamo_plugin_runtime::PluginRuntime::new(
        RuntimeConfig::new()
            .cache_dir(None)
            .compile_timeout(std::time::Duration::from_millis(1)),
    )
    .expect("runtime");
    let error = runtime
        .load(
            PluginOrigin::Bytes("slow".into()),
            dynamo_plugin_test_fixtures::echo(),
        )
        .expect_err("1 ms is too short to compile");
    assert!(
        matches!(&error, PluginError::Compile { message, .. } if message.contains("compile_timeout")),
        "{error}"
    );
}
