//! The allow-list, one escape path per case, plus a property test over random mutations.

use std::collections::BTreeSet;

use dynamo_plugin_contract::{Capability, ExtraObject, RenderInput, RenderOutput};
use serde_json::{Value, json};

use super::*;

/// A pod as the host builds it, with a user sidecar, a user init container and user volumes
/// (hostPath, PVC, Secret) the plugin must leave alone.
fn base_pod() -> Value {
    json!({
        "metadata": {
            "labels": {"nvidia.com/dynamo-component": "decode", "nvidia.com/selector": "g-decode"},
            "annotations": {"user.example.com/a": "b"}
        },
        "spec": {
            "serviceAccountName": "g-k8s-service-discovery",
            "securityContext": {"fsGroup": 1000},
            "terminationGracePeriodSeconds": 60,
            "containers": [
                {
                    "name": "sidecar", "image": "sidecar:1",
                    "volumeMounts": [{"name": "user-secret", "mountPath": "/secret", "readOnly": true}]
                },
                {
                    "name": "main", "image": "vllm:1",
                    "command": ["python3"], "args": ["-m", "dynamo.vllm"],
                    "env": [
                        {"name": "A", "value": "1"},
                        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "t"}}}
                    ],
                    "envFrom": [{"secretRef": {"name": "hf-token-secret"}}],
                    "ports": [{"name": "system", "containerPort": 9090}],
                    "livenessProbe": {"httpGet": {"path": "/live", "port": "system"}},
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                    "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["NET_RAW"]}},
                    "volumeMounts": [
                        {"name": "shared-memory", "mountPath": "/dev/shm"},
                        {"name": "model-cache", "mountPath": "/models"}
                    ]
                }
            ],
            "initContainers": [{"name": "user-init", "image": "busybox:1", "command": ["true"]}],
            "volumes": [
                {"name": "shared-memory", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
                {"name": "model-cache", "persistentVolumeClaim": {"claimName": "model-cache"}},
                {"name": "host-dev", "hostPath": {"path": "/dev/infiniband"}},
                {"name": "user-secret", "secret": {"secretName": "user-secret"}}
            ]
        }
    })
}

fn input() -> RenderInput {
    let mut input = RenderInput {
        pod_template: base_pod().to_string(),
        ..RenderInput::default()
    };
    input.graph.name = "g".into();
    input.graph.namespace = "ns".into();
    input.component.service_name = "decode".into();
    input.infrastructure.mpi_ssh_secret_name = "mpi-run-ssh-secret".into();
    input.infrastructure.wait_for_leader_config_map = "g-wait-leader-script".into();
    input
}

/// Checks `after` as the output of plugin `vllm` (launcher `mpi`) with `granted` capabilities.
fn check_with(
    after: &Value,
    extra: Vec<ExtraObject>,
    granted: &[Capability],
) -> Result<(), Violation> {
    let granted: BTreeSet<Capability> = granted.iter().cloned().collect();
    let declared = granted.clone();
    let limits = OutputLimits::default();
    let policy = Policy {
        plugin: "vllm",
        launcher: Some("mpi"),
        granted: &granted,
        declared: &declared,
        limits: &limits,
    };
    let output = RenderOutput {
        pod_template: after.to_string(),
        extra_objects: extra,
        warnings: Vec::new(),
    };
    check_output(&input(), &output, &policy)
}

fn check(after: &Value) -> Result<(), Violation> {
    check_with(after, Vec::new(), &[])
}

/// `base_pod()` with `value` written at JSON pointer `pointer` (`-` appends).
fn with(pointer: &str, value: Value) -> Value {
    let mut pod = base_pod();
    set(&mut pod, pointer, value);
    pod
}

fn set(target: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/"))
        .collect();
    let (last, parents) = parts.split_last().expect("a pointer");
    let mut slot = target;
    for part in parents {
        slot = match part.parse::<usize>() {
            Ok(i) if slot.is_array() => &mut slot[i],
            _ => {
                if slot.get(part.as_str()).is_none() {
                    slot[part.as_str()] = json!({});
                }
                &mut slot[part.as_str()]
            }
        };
    }
    match slot {
        Value::Array(items) if last == "-" => items.push(value),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => items[i] = value,
            // A key written into a list: not a pod shape the helper can express; leave it.
            _ => {}
        },
        other => {
            if other.is_object() {
                other[last.as_str()] = value;
            }
        }
    }
}

fn forbidden_field(result: Result<(), Violation>) -> String {
    match result {
        Err(Violation::Forbidden { field, .. }) => field,
        other => panic!("expected a forbidden change, got {other:?}"),
    }
}

// === what plugins may do ===

#[test]
fn the_built_in_shapes_of_change_pass() {
    let mut pod = base_pod();
    let main = &mut pod["spec"]["containers"][1];
    main["command"] = json!(["/bin/sh", "-c"]);
    main["args"] = json!(["exec python3 -m dynamo.vllm --tp 2"]);
    main["workingDir"] = json!("/workspace");
    main["env"].as_array_mut().expect("env").extend([
        json!({"name": "VLLM_NIXL_SIDE_CHANNEL_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}),
        json!({"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}),
        json!({"name": "B", "value": "2"}),
    ]);
    main["ports"] = json!([{"name": "http", "containerPort": 8080}]);
    main["livenessProbe"] = Value::Null;
    main["readinessProbe"] = json!({"tcpSocket": {"port": 2222}});
    main["volumeMounts"]
        .as_array_mut()
        .expect("mounts")
        .push(json!({"name": "scratch", "mountPath": "/scratch"}));
    main["securityContext"]["readOnlyRootFilesystem"] = json!(true);
    main["securityContext"]["capabilities"]["drop"] = json!(["NET_RAW", "ALL"]);
    pod["spec"]["initContainers"].as_array_mut().expect("inits").push(json!({
        "name": "wait-for-leader-mp", "image": "vllm:1", "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", "exec python3 /scripts/wait-for-leader.py"],
        "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "t"}}}],
        "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["NET_RAW"]}},
        "volumeMounts": [{"name": "wait-leader-script", "mountPath": "/scripts", "readOnly": true}]
    }));
    pod["spec"]["volumes"].as_array_mut().expect("volumes").extend([
        json!({"name": "scratch", "emptyDir": {}}),
        json!({"name": "wait-leader-script", "configMap": {"name": "g-wait-leader-script"}}),
        json!({"name": "podinfo", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}}),
    ]);
    pod["metadata"]["labels"]["vllm.plugins.dynamo.nvidia.com/role"] = json!("leader");
    pod["metadata"]["annotations"]["mpi.plugins.dynamo.nvidia.com/export-env"] = json!("X");
    pod["spec"]["securityContext"]["seccompProfile"] = json!({"type": "RuntimeDefault"});
    assert_eq!(check(&pod), Ok(()));
}

#[test]
fn own_config_maps_may_be_returned_mounted_and_referenced() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "g-vllm-tuning"}, "data": {"k": "v"}});
    let mut pod = with(
        "/spec/volumes/-",
        json!({"name": "tuning", "configMap": {"name": "g-vllm-tuning"}}),
    );
    set(
        &mut pod,
        "/spec/containers/1/env/-",
        json!({"name": "T", "valueFrom": {"configMapKeyRef": {"name": "g-vllm-tuning", "key": "k"}}}),
    );
    set(
        &mut pod,
        "/spec/containers/1/volumeMounts/-",
        json!({"name": "tuning", "mountPath": "/t"}),
    );
    assert_eq!(
        check_with(&pod, vec![ExtraObject::ConfigMap(cm.to_string())], &[]),
        Ok(())
    );
}

#[test]
fn the_ssh_key_capability_allows_exactly_its_secret() {
    let pod = {
        let mut pod = with(
            "/spec/volumes/-",
            json!({"name": "mpi-run-ssh-secret", "secret": {"secretName": "mpi-run-ssh-secret", "defaultMode": 420}}),
        );
        set(
            &mut pod,
            "/spec/containers/1/volumeMounts/-",
            json!({"name": "mpi-run-ssh-secret", "mountPath": "/ssh-pk", "readOnly": true}),
        );
        pod
    };
    let request = || vec![ExtraObject::SshKeySecret("mpi-run-ssh-secret".into())];
    assert_eq!(
        check_with(&pod, request(), &[Capability::SshKeySecret]),
        Ok(())
    );
    // Without the grant, both the request and the volume are refused.
    assert_eq!(
        forbidden_field(check_with(&pod, request(), &[])),
        "extraObjects[0]"
    );
    assert_eq!(
        forbidden_field(check_with(&pod, Vec::new(), &[])),
        "spec.volumes[mpi-run-ssh-secret].secret"
    );
    // With the grant, another Secret or a writable mount is still refused.
    let other = with(
        "/spec/volumes/-",
        json!({"name": "x", "secret": {"secretName": "team-b-credentials"}}),
    );
    assert_eq!(
        forbidden_field(check_with(&other, request(), &[Capability::SshKeySecret])),
        "spec.volumes[x].secret.secretName"
    );
    let mut writable = pod.clone();
    set(
        &mut writable,
        "/spec/containers/1/volumeMounts/2/readOnly",
        json!(false),
    );
    assert_eq!(
        forbidden_field(check_with(
            &writable,
            request(),
            &[Capability::SshKeySecret]
        )),
        "spec.containers[main].volumeMounts[/ssh-pk].readOnly"
    );
    assert_eq!(
        forbidden_field(check_with(
            &pod,
            vec![ExtraObject::SshKeySecret("team-b-key".into())],
            &[Capability::SshKeySecret]
        )),
        "extraObjects[0]"
    );
}

#[test]
fn granted_capabilities_widen_the_list() {
    for (pointer, value, capability) in [
        (
            "/spec/containers/1/securityContext/privileged",
            json!(true),
            Capability::Privileged,
        ),
        ("/spec/hostNetwork", json!(true), Capability::HostNamespaces),
        (
            "/spec/volumes/-",
            json!({"name": "dev", "hostPath": {"path": "/dev"}}),
            Capability::HostPath,
        ),
        (
            "/spec/containers/1/securityContext/capabilities/add",
            json!(["IPC_LOCK"]),
            Capability::AddCapability("IPC_LOCK".into()),
        ),
    ] {
        let pod = with(pointer, value);
        assert!(check(&pod).is_err(), "{pointer} without a grant");
        assert_eq!(
            check_with(&pod, Vec::new(), &[capability]),
            Ok(()),
            "{pointer}"
        );
    }
}

// === every escape path the issue lists ===

#[test]
fn volume_escapes_are_refused() {
    let volumes = [
        json!({"name": "v", "secret": {"secretName": "s"}}),
        json!({"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}),
        json!({"name": "v", "nfs": {"server": "nfs", "path": "/"}}),
        json!({"name": "v", "csi": {"driver": "d"}}),
        json!({"name": "v", "iscsi": {"targetPortal": "p", "iqn": "q", "lun": 0}}),
        json!({"name": "v", "gitRepo": {"repository": "r"}}),
        json!({"name": "v", "flexVolume": {"driver": "d"}}),
        json!({"name": "v", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}),
        json!({"name": "v", "persistentVolumeClaim": {"claimName": "team-b-data"}}),
        json!({"name": "v", "hostPath": {"path": "/var/run/containerd/containerd.sock"}}),
        json!({"name": "v", "configMap": {"name": "team-b-config"}}),
    ];
    for volume in volumes {
        let field = forbidden_field(check(&with("/spec/volumes/-", volume.clone())));
        assert!(field.starts_with("spec.volumes[v]."), "{volume}: {field}");
    }
    // The user's own volumes cannot be re-pointed (compared in full, not by name).
    let field = forbidden_field(check(&with(
        "/spec/volumes/2/hostPath/path",
        json!("/var/run/containerd/containerd.sock"),
    )));
    assert_eq!(field, "spec.volumes[host-dev].hostPath.path");
    let field = forbidden_field(check(&with(
        "/spec/volumes/1/persistentVolumeClaim/claimName",
        json!("team-b-data"),
    )));
    assert_eq!(
        field,
        "spec.volumes[model-cache].persistentVolumeClaim.claimName"
    );
    // ... nor removed.
    let mut pod = base_pod();
    pod["spec"]["volumes"]
        .as_array_mut()
        .expect("volumes")
        .remove(3);
    assert_eq!(forbidden_field(check(&pod)), "spec.volumes[user-secret]");
}

#[test]
fn container_escapes_are_refused() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/spec/containers/1/env/-",
            json!({"name": "S", "valueFrom": {"secretKeyRef": {"name": "team-b", "key": "k"}}}),
            "spec.containers[main].env[S].valueFrom",
        ),
        (
            "/spec/containers/1/env/-",
            json!({"name": "C", "valueFrom": {"configMapKeyRef": {"name": "team-b", "key": "k"}}}),
            "spec.containers[main].env[C].valueFrom",
        ),
        (
            "/spec/containers/1/envFrom/-",
            json!({"secretRef": {"name": "team-b"}}),
            "spec.containers[main].envFrom",
        ),
        (
            "/spec/containers/1/image",
            json!("attacker/vllm:1"),
            "spec.containers[main].image",
        ),
        (
            "/spec/containers/1/resources/limits/nvidia.com~1gpu",
            json!("8"),
            "spec.containers[main].resources.limits.nvidia.com/gpu",
        ),
        (
            "/spec/containers/1/resources/claims",
            json!([{"name": "other"}]),
            "spec.containers[main].resources.claims",
        ),
        (
            "/spec/containers/1/ports/-",
            json!({"containerPort": 22, "hostPort": 22}),
            "spec.containers[main].ports[22]",
        ),
        (
            "/spec/containers/1/livenessProbe/httpGet/host",
            json!("169.254.169.254"),
            "spec.containers[main].livenessProbe.httpGet.host",
        ),
        (
            "/spec/containers/1/securityContext/allowPrivilegeEscalation",
            json!(true),
            "spec.containers[main].securityContext.allowPrivilegeEscalation",
        ),
        (
            "/spec/containers/1/securityContext/procMount",
            json!("Unmasked"),
            "spec.containers[main].securityContext.procMount",
        ),
        (
            "/spec/containers/1/securityContext/seccompProfile",
            json!({"type": "Unconfined"}),
            "spec.containers[main].securityContext.seccompProfile",
        ),
        (
            "/spec/containers/1/securityContext/appArmorProfile",
            json!({"type": "Unconfined"}),
            "spec.containers[main].securityContext.appArmorProfile",
        ),
        (
            "/spec/containers/1/securityContext/runAsUser",
            json!(0),
            "spec.containers[main].securityContext.runAsUser",
        ),
        (
            "/spec/containers/1/securityContext/runAsNonRoot",
            json!(false),
            "spec.containers[main].securityContext.runAsNonRoot",
        ),
        (
            "/spec/containers/1/securityContext/capabilities/drop",
            json!([]),
            "spec.containers[main].securityContext.capabilities.drop",
        ),
        (
            "/spec/containers/1/securityContext/privileged",
            json!(true),
            "spec.containers[main].securityContext.privileged",
        ),
        (
            "/spec/containers/1/volumeMounts/0/mountPropagation",
            json!("Bidirectional"),
            "spec.containers[main].volumeMounts[/dev/shm]",
        ),
        (
            "/spec/containers/1/volumeMounts/-",
            json!({"name": "user-secret", "mountPath": "/stolen"}),
            "spec.containers[main].volumeMounts[/stolen]",
        ),
        (
            "/spec/containers/0/command",
            json!(["sh"]),
            "spec.containers[sidecar].command",
        ),
        (
            "/spec/containers/-",
            json!({"name": "miner", "image": "vllm:1"}),
            "spec.containers",
        ),
    ];
    for (pointer, value, field) in cases {
        assert_eq!(
            forbidden_field(check(&with(pointer, value))),
            field,
            "{pointer}"
        );
    }
    // Removing the user's hardening from the main container.
    let mut pod = base_pod();
    pod["spec"]["containers"][1]["securityContext"] = Value::Null;
    assert_eq!(
        forbidden_field(check(&pod)),
        "spec.containers[main].securityContext.runAsNonRoot"
    );
}

#[test]
fn init_container_escapes_are_refused() {
    let init = |extra: Value| {
        // As secure as the main container, so only the attempted escape differs.
        let mut c = json!({"name": "x", "image": "vllm:1", "command": ["sh"],
            "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["NET_RAW"]}}});
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        with("/spec/initContainers/-", c)
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"image": "attacker/miner:1"}),
            "spec.initContainers[x].image",
        ),
        (
            json!({"securityContext": {"privileged": true, "runAsNonRoot": true, "capabilities": {"drop": ["NET_RAW"]}}}),
            "spec.initContainers[x].securityContext.privileged",
        ),
        (
            json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 0, "capabilities": {"drop": ["NET_RAW"]}}}),
            "spec.initContainers[x].securityContext.runAsUser",
        ),
        (
            json!({"securityContext": null}),
            "spec.initContainers[x].securityContext.runAsNonRoot",
        ),
        (
            json!({"env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "team-b", "key": "k"}}}]}),
            "spec.initContainers[x].env[S].valueFrom",
        ),
        (
            json!({"envFrom": [{"secretRef": {"name": "team-b"}}]}),
            "spec.initContainers[x].envFrom",
        ),
        (
            json!({"volumeMounts": [{"name": "user-secret", "mountPath": "/s"}]}),
            "spec.initContainers[x].volumeMounts[/s]",
        ),
        (
            json!({"ports": [{"containerPort": 1, "hostPort": 1}]}),
            "spec.initContainers[x].ports",
        ),
        (
            json!({"restartPolicy": "Always"}),
            "spec.initContainers[x].restartPolicy",
        ),
        (
            json!({"resources": {"limits": {"nvidia.com/gpu": "8"}}}),
            "spec.initContainers[x].resources",
        ),
    ];
    for (extra, field) in cases {
        let pod = init(extra.clone());
        let got = forbidden_field(check(&pod));
        assert!(got.starts_with(field), "{extra}: {got}");
    }
    // The user's init container may be neither changed nor removed.
    assert_eq!(
        forbidden_field(check(&with(
            "/spec/initContainers/0/image",
            json!("vllm:1")
        ))),
        "spec.initContainers[user-init].image"
    );
    let mut pod = base_pod();
    pod["spec"]["initContainers"] = json!([]);
    assert_eq!(
        forbidden_field(check(&pod)),
        "spec.initContainers[user-init]"
    );
}

#[test]
fn pod_level_escapes_are_refused() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/spec/automountServiceAccountToken",
            json!(true),
            "spec.automountServiceAccountToken",
        ),
        ("/spec/nodeName", json!("gpu-node-1"), "spec.nodeName"),
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
            json!("runc-unsafe"),
            "spec.runtimeClassName",
        ),
        ("/spec/schedulerName", json!("other"), "spec.schedulerName"),
        (
            "/spec/dnsConfig",
            json!({"nameservers": ["1.1.1.1"]}),
            "spec.dnsConfig",
        ),
        (
            "/spec/hostAliases",
            json!([{"ip": "1.2.3.4", "hostnames": ["registry"]}]),
            "spec.hostAliases",
        ),
        (
            "/spec/resourceClaims",
            json!([{"name": "gpus", "resourceClaimName": "team-b"}]),
            "spec.resourceClaims",
        ),
        (
            "/spec/imagePullSecrets",
            json!([{"name": "team-b-registry"}]),
            "spec.imagePullSecrets",
        ),
        (
            "/spec/serviceAccountName",
            json!("admin"),
            "spec.serviceAccountName",
        ),
        ("/spec/hostPID", json!(true), "spec.hostPID"),
        ("/spec/hostIPC", json!(true), "spec.hostIPC"),
        (
            "/spec/securityContext/sysctls",
            json!([{"name": "kernel.core_pattern", "value": "|/x"}]),
            "spec.securityContext.sysctls",
        ),
        (
            "/spec/securityContext/runAsUser",
            json!(0),
            "spec.securityContext.runAsUser",
        ),
        (
            "/spec/securityContext/seccompProfile",
            json!({"type": "Unconfined"}),
            "spec.securityContext.seccompProfile",
        ),
        (
            "/spec/ephemeralContainers",
            json!([{"name": "dbg", "image": "x"}]),
            "spec.ephemeralContainers",
        ),
        (
            "/metadata/labels/nvidia.com~1dynamo-component",
            json!("other-graph-decode"),
            "metadata.labels[nvidia.com/dynamo-component]",
        ),
        (
            "/metadata/labels/app",
            json!("team-b"),
            "metadata.labels[app]",
        ),
        (
            "/metadata/annotations/sidecar.istio.io~1inject",
            json!("false"),
            "metadata.annotations[sidecar.istio.io/inject]",
        ),
        (
            "/metadata/labels/sglang.plugins.dynamo.nvidia.com~1x",
            json!("y"),
            "metadata.labels[sglang.plugins.dynamo.nvidia.com/x]",
        ),
        (
            "/metadata/namespace",
            json!("kube-system"),
            "metadata.namespace",
        ),
        (
            "/metadata/ownerReferences",
            json!([{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]),
            "metadata.ownerReferences",
        ),
    ];
    for (pointer, value, field) in cases {
        assert_eq!(
            forbidden_field(check(&with(pointer, value))),
            field,
            "{pointer}"
        );
    }
}

#[test]
fn extra_objects_are_named_and_bounded() {
    let cm = |v: Value| ExtraObject::ConfigMap(v.to_string());
    let pod = base_pod();
    let ok = check_with(
        &pod,
        vec![cm(
            json!({"metadata": {"name": "g-vllm-a", "namespace": "ns"}, "data": {"k": "v"}}),
        )],
        &[],
    );
    assert_eq!(ok, Ok(()));
    for (object, field) in [
        (
            json!({"metadata": {"name": "g-wait-leader-script"}}),
            "extraObjects[0].metadata.name",
        ),
        (
            json!({"metadata": {"name": "g-decode"}}),
            "extraObjects[0].metadata.name",
        ),
        (
            json!({"metadata": {"name": "g-sglang-a"}}),
            "extraObjects[0].metadata.name",
        ),
        (
            json!({"metadata": {"name": "g-vllm-a", "namespace": "kube-system"}}),
            "extraObjects[0].metadata.namespace",
        ),
        (
            json!({"metadata": {"name": "g-vllm-a", "finalizers": ["x/never"]}}),
            "extraObjects[0].metadata.finalizers",
        ),
        (
            json!({"metadata": {"name": "g-vllm-a", "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]}}),
            "extraObjects[0].metadata.ownerReferences",
        ),
    ] {
        assert_eq!(
            forbidden_field(check_with(&pod, vec![cm(object.clone())], &[])),
            field,
            "{object}"
        );
    }
    for bad in [
        ExtraObject::ConfigMap("nope".into()),
        cm(json!({"kind": "Secret", "metadata": {"name": "g-vllm-a"}})),
        cm(json!({"metadata": {}})),
        cm(json!({"metadata": {"name": "G-vllm-A"}})),
        cm(json!({"metadata": {"name": "g-vllm-"}})),
    ] {
        assert!(
            matches!(
                check_with(&pod, vec![bad.clone()], &[]),
                Err(Violation::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    let many: Vec<ExtraObject> = (0..17)
        .map(|i| cm(json!({"metadata": {"name": format!("g-vllm-{i}")}})))
        .collect();
    assert!(matches!(
        check_with(&pod, many, &[]),
        Err(Violation::OverLimit {
            limit: 16,
            actual: 17,
            ..
        })
    ));
}

#[test]
fn malformed_pod_templates() {
    for bad in ["{ nope", "[]", r#"{"spec": {"containers": 3}}"#] {
        let output = RenderOutput::new(bad);
        let granted = BTreeSet::new();
        let limits = OutputLimits::default();
        let policy = Policy {
            plugin: "vllm",
            launcher: None,
            granted: &granted,
            declared: &granted,
            limits: &limits,
        };
        assert!(
            matches!(
                check_output(&input(), &output, &policy),
                Err(Violation::Malformed(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn missing_capabilities_are_explained() {
    let pod = with("/spec/containers/1/securityContext/privileged", json!(true));
    let granted = BTreeSet::new();
    let declared = BTreeSet::from([Capability::Privileged]);
    let limits = OutputLimits::default();
    let policy = Policy {
        plugin: "custom",
        launcher: None,
        granted: &granted,
        declared: &declared,
        limits: &limits,
    };
    let error = check_output(&input(), &RenderOutput::new(pod.to_string()), &policy);
    match error {
        Err(Violation::Forbidden { message, .. }) => {
            assert!(message.contains("plugins.grants.custom"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

// === property: random mutations are rejected or stay inside the allowed paths ===

mod property {
    use proptest::prelude::*;

    use super::*;

    /// Paths (as JSON pointers into the pod template) where a change may be accepted without a
    /// capability. An independent restatement of the allow-list, coarser than the checker: any
    /// accepted mutation must touch only these.
    fn allowed(pointer: &str) -> bool {
        const ALLOWED: [&str; 16] = [
            "/metadata/labels/vllm.plugins.dynamo.nvidia.com~1",
            "/metadata/annotations/vllm.plugins.dynamo.nvidia.com~1",
            "/metadata/annotations/mpi.plugins.dynamo.nvidia.com~1",
            "/spec/containers/1/command",
            "/spec/containers/1/args",
            "/spec/containers/1/workingDir",
            "/spec/containers/1/env",
            "/spec/containers/1/ports",
            "/spec/containers/1/livenessProbe",
            "/spec/containers/1/readinessProbe",
            "/spec/containers/1/startupProbe",
            "/spec/containers/1/volumeMounts",
            "/spec/containers/1/securityContext",
            "/spec/initContainers",
            "/spec/volumes",
            "/spec/securityContext",
        ];
        ALLOWED.iter().any(|p| pointer.starts_with(p))
    }

    /// Leaf pointers of `value` that differ between `a` and `b`.
    fn changed(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let escaped = k.replace('~', "~0").replace('/', "~1");
                    changed(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        format!("{at}/{escaped}"),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    changed(p, q, format!("{at}/{i}"), out);
                }
            }
            (p, q) if p == q => {}
            _ => out.push(at),
        }
    }

    /// Pointers a mutation may write to: every existing path of the base pod, plus new keys.
    fn targets() -> Vec<String> {
        let mut out = Vec::new();
        fn walk(v: &Value, at: String, out: &mut Vec<String>) {
            out.push(at.clone());
            match v {
                Value::Object(m) => {
                    for (k, child) in m {
                        walk(child, format!("{at}/{}", k.replace('/', "~1")), out);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        walk(child, format!("{at}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        walk(&base_pod(), String::new(), &mut out);
        out.retain(|p| !p.is_empty());
        out.extend(
            [
                "/spec/nodeName",
                "/spec/hostNetwork",
                "/spec/containers/1/securityContext/privileged",
                "/spec/containers/1/securityContext/allowPrivilegeEscalation",
                "/spec/volumes/-",
                "/spec/initContainers/-",
                "/metadata/labels/app",
                "/metadata/labels/vllm.plugins.dynamo.nvidia.com~1x",
                "/spec/containers/1/env/-",
                "/spec/tolerations",
            ]
            .map(str::to_owned),
        );
        out
    }

    fn values() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(json!(true)),
            Just(json!(false)),
            Just(json!(0)),
            Just(json!("vllm:1")),
            Just(json!("x")),
            Just(json!(null)),
            Just(json!({"name": "v", "emptyDir": {}})),
            Just(json!({"name": "v", "hostPath": {"path": "/"}})),
            Just(json!({"name": "v", "secret": {"secretName": "s"}})),
            Just(json!({"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})),
            Just(json!({"name": "i", "image": "vllm:1"})),
            Just(json!({"name": "i", "image": "evil:1", "securityContext": {"privileged": true}})),
            Just(json!([])),
            Just(json!({})),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

        #[test]
        fn accepted_mutations_stay_inside_the_allowed_paths(
            edits in proptest::collection::vec((0usize..1000, values()), 1..4)
        ) {
            let targets = targets();
            let mut pod = base_pod();
            for (index, value) in edits {
                let pointer = &targets[index % targets.len()];
                // Skip writes through a scalar, which the helper cannot express.
                let parent_ok = pointer
                    .rsplit_once('/')
                    .is_some_and(|(parent, _)| parent.is_empty() || pod.pointer(parent).is_some_and(|p| p.is_object() || p.is_array()));
                if parent_ok {
                    set(&mut pod, pointer, value);
                }
            }
            // What the checker sees after normalisation (null fields are absent).
            let normalised = serde_json::from_value::<k8s_openapi::api::core::v1::PodTemplateSpec>(pod.clone())
                .ok()
                .and_then(|t| serde_json::to_value(t).ok());
            let Some(normalised) = normalised else {
                // Not a pod template at all: must be refused as malformed.
                prop_assert!(matches!(check(&pod), Err(Violation::Malformed(_))));
                return Ok(());
            };
            let base = serde_json::to_value(
                serde_json::from_value::<k8s_openapi::api::core::v1::PodTemplateSpec>(base_pod()).expect("base"),
            ).expect("base");
            if check(&pod).is_ok() {
                let mut diffs = Vec::new();
                changed(&base, &normalised, String::new(), &mut diffs);
                for d in diffs {
                    // Spelling out a host namespace's default (`false`) grants nothing.
                    let host_default = ["/spec/hostNetwork", "/spec/hostPID", "/spec/hostIPC"]
                        .contains(&d.as_str())
                        && normalised.pointer(&d) == Some(&Value::Bool(false));
                    prop_assert!(allowed(&d) || host_default, "accepted a change at {d}: {pod}");
                }
            }
        }
    }
}
