use serde_json::json;

use super::*;

fn input(pod: serde_json::Value) -> RenderInput {
    let mut input = RenderInput {
        pod_template: pod.to_string(),
        ..RenderInput::default()
    };
    input.graph.namespace = "ns".into();
    input
}

fn base_pod() -> serde_json::Value {
    json!({
        "metadata": {"namespace": "ns", "name": "p", "labels": {"a": "b"}},
        "spec": {
            "serviceAccountName": "sa",
            "containers": [{"name": "main", "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}],
            "volumes": [{"name": "host", "hostPath": {"path": "/dev/shm"}}]
        }
    })
}

fn check(after: serde_json::Value, config: &RuntimeConfig) -> Result<(), Violation> {
    check_output(
        &input(base_pod()),
        &RenderOutput::new(after.to_string()),
        config,
    )
}

fn config() -> RuntimeConfig {
    RuntimeConfig::new().cache_dir(None)
}

fn field_of(result: Result<(), Violation>) -> String {
    match result {
        Err(Violation::Forbidden { field, .. }) => field,
        other => panic!("expected a forbidden change, got {other:?}"),
    }
}

#[test]
fn ordinary_changes_pass() {
    let mut pod = base_pod();
    pod["metadata"]["labels"]["x"] = "y".into();
    pod["spec"]["containers"][0]["args"] = json!(["--tp", "2"]);
    pod["spec"]["initContainers"] = json!([{"name": "wait", "image": "busybox"}]);
    pod["spec"]["volumes"] =
        json!([{"name": "host", "hostPath": {"path": "/dev/shm"}}, {"name": "e", "emptyDir": {}}]);
    assert_eq!(check(pod, &config()), Ok(()));
}

#[test]
fn identity_fields_are_frozen() {
    for (path, value, field) in [
        (
            &["metadata", "namespace"][..],
            json!("kube-system"),
            "metadata.namespace",
        ),
        (&["metadata", "name"][..], json!("other"), "metadata.name"),
        (
            &["metadata", "ownerReferences"][..],
            json!([{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]),
            "metadata.ownerReferences",
        ),
        (
            &["spec", "serviceAccountName"][..],
            json!("admin"),
            "spec.serviceAccountName",
        ),
        (
            &["spec", "serviceAccount"][..],
            json!("admin"),
            "spec.serviceAccount",
        ),
        (
            &["spec", "hostNetwork"][..],
            json!(true),
            "spec.hostNetwork",
        ),
        (&["spec", "hostPID"][..], json!(true), "spec.hostPID"),
        (&["spec", "hostIPC"][..], json!(true), "spec.hostIPC"),
        (
            &["spec", "ephemeralContainers"][..],
            json!([{"name": "dbg"}]),
            "spec.ephemeralContainers",
        ),
    ] {
        let mut pod = base_pod();
        let mut slot = &mut pod;
        for key in path {
            slot = &mut slot[*key];
        }
        *slot = value;
        assert_eq!(field_of(check(pod, &config())), field, "{path:?}");
    }
}

#[test]
fn host_namespaces_can_be_allowed() {
    let mut pod = base_pod();
    pod["spec"]["hostNetwork"] = true.into();
    assert_eq!(check(pod, &config().allow_host_namespaces(true)), Ok(()));
}

#[test]
fn privileges_are_not_granted() {
    let mut pod = base_pod();
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = true.into();
    assert_eq!(
        field_of(check(pod.clone(), &config())),
        "spec.containers[main].securityContext.privileged"
    );
    assert_eq!(check(pod, &config().allow_privileged(true)), Ok(()));

    let mut pod = base_pod();
    pod["spec"]["initContainers"] =
        json!([{"name": "init", "securityContext": {"privileged": true}}]);
    assert_eq!(
        field_of(check(pod, &config())),
        "spec.initContainers[init].securityContext.privileged"
    );

    // Keeping a capability the input had is fine; adding one is not, unless allowed.
    let mut pod = base_pod();
    pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
        json!(["SYS_PTRACE", "NET_ADMIN"]);
    assert_eq!(
        field_of(check(pod.clone(), &config())),
        "spec.containers[main].securityContext.capabilities.add"
    );
    assert_eq!(check(pod, &config().allow_capability("NET_ADMIN")), Ok(()));

    // A new container with a capability the main container had is still a new grant.
    let mut pod = base_pod();
    pod["spec"]["containers"]
        .as_array_mut()
        .expect("array")
        .push(
            json!({"name": "side", "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}),
        );
    assert_eq!(
        field_of(check(pod, &config())),
        "spec.containers[side].securityContext.capabilities.add"
    );
}

#[test]
fn host_path_volumes_are_not_added() {
    let mut pod = base_pod();
    pod["spec"]["volumes"]
        .as_array_mut()
        .expect("array")
        .push(json!({"name": "root", "hostPath": {"path": "/"}}));
    assert_eq!(
        field_of(check(pod.clone(), &config())),
        "spec.volumes[root].hostPath"
    );
    assert_eq!(check(pod, &config().allow_host_path(true)), Ok(()));
}

#[test]
fn malformed_pod_templates() {
    for bad in ["{ nope", "[]", r#"{"spec": {"containers": 3}}"#] {
        let out = RenderOutput::new(bad);
        assert!(
            matches!(
                check_output(&input(base_pod()), &out, &config()),
                Err(Violation::Malformed(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn extra_objects() {
    let with = |objects: Vec<ExtraObject>| {
        let mut out = RenderOutput::new(base_pod().to_string());
        out.extra_objects = objects;
        check_output(&input(base_pod()), &out, &config())
    };
    let cm = |v: serde_json::Value| ExtraObject::ConfigMap(v.to_string());
    assert_eq!(
        with(vec![
            cm(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}})
            ),
            cm(json!({"metadata": {"name": "b", "namespace": "ns"}})),
            ExtraObject::SshKeySecret("mpi-ssh.key".into()),
        ]),
        Ok(())
    );
    assert_eq!(
        field_of(with(vec![cm(
            json!({"metadata": {"name": "a", "namespace": "other"}})
        )])),
        "extraObjects[0].metadata.namespace"
    );
    assert_eq!(
        field_of(with(vec![cm(
            json!({"metadata": {"name": "a", "ownerReferences": [
            {"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]}})
        )])),
        "extraObjects[0].metadata.ownerReferences"
    );
    for bad in [
        ExtraObject::ConfigMap("nope".into()),
        cm(json!({"kind": "Secret", "metadata": {"name": "a"}})),
        cm(json!({"metadata": {}})),
        cm(json!({"metadata": {"name": "a"}, "data": 3})),
        ExtraObject::SshKeySecret("Bad_Name".into()),
        ExtraObject::SshKeySecret(String::new()),
        ExtraObject::SshKeySecret("-a".into()),
    ] {
        assert!(
            matches!(with(vec![bad.clone()]), Err(Violation::Malformed(_))),
            "{bad:?}"
        );
    }
}
