use serde_json::{Value, json};

use super::*;

fn template(value: Value) -> PodTemplateSpec {
    serde_json::from_value(value).expect("a pod template")
}

/// A pod that passes `restricted`.
fn restricted() -> Value {
    json!({"spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "main", "image": "i", "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}
        }}],
        "volumes": [{"name": "e", "emptyDir": {}}]
    }})
}

#[test]
fn the_default_host_pod_is_baseline_and_a_hardened_one_restricted() {
    let plain = template(
        json!({"spec": {"containers": [{"name": "main", "image": "i"}],
        "securityContext": {"fsGroup": 1000}}}),
    );
    assert_eq!(levels(&plain), [Level::Baseline]);
    assert_eq!(
        levels(&template(restricted())),
        [Level::Baseline, Level::Restricted]
    );
}

#[test]
fn each_baseline_rule_is_enforced() {
    let cases: Vec<(&str, Value)> = vec![
        ("/spec/hostNetwork", json!(true)),
        ("/spec/hostPID", json!(true)),
        ("/spec/containers/0/securityContext/privileged", json!(true)),
        (
            "/spec/containers/0/securityContext/capabilities/add",
            json!(["SYS_ADMIN"]),
        ),
        (
            "/spec/containers/0/ports",
            json!([{"containerPort": 80, "hostPort": 80}]),
        ),
        (
            "/spec/containers/0/securityContext/procMount",
            json!("Unmasked"),
        ),
        (
            "/spec/containers/0/securityContext/seccompProfile",
            json!({"type": "Unconfined"}),
        ),
        (
            "/spec/containers/0/securityContext/appArmorProfile",
            json!({"type": "Unconfined"}),
        ),
        (
            "/spec/securityContext/sysctls",
            json!([{"name": "kernel.msgmax", "value": "1"}]),
        ),
        (
            "/spec/securityContext/seLinuxOptions",
            json!({"type": "spc_t"}),
        ),
        (
            "/spec/volumes/0",
            json!({"name": "h", "hostPath": {"path": "/"}}),
        ),
    ];
    for (pointer, value) in cases {
        let mut pod = restricted();
        set(&mut pod, pointer, value);
        let levels = levels(&template(pod));
        assert!(levels.is_empty(), "{pointer}: still {levels:?}");
    }
}

#[test]
fn each_restricted_rule_is_enforced() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "/spec/containers/0/securityContext/allowPrivilegeEscalation",
            json!(true),
        ),
        (
            "/spec/containers/0/securityContext/runAsNonRoot",
            json!(false),
        ),
        ("/spec/containers/0/securityContext/runAsUser", json!(0)),
        (
            "/spec/containers/0/securityContext/capabilities/drop",
            json!([]),
        ),
        (
            "/spec/containers/0/securityContext/capabilities/add",
            json!(["CHOWN"]),
        ),
        ("/spec/securityContext/seccompProfile", json!(null)),
        (
            "/spec/volumes/0",
            json!({"name": "n", "nfs": {"server": "s", "path": "/"}}),
        ),
    ];
    for (pointer, value) in cases {
        let mut pod = restricted();
        set(&mut pod, pointer, value);
        assert_eq!(levels(&template(pod)), [Level::Baseline], "{pointer}");
    }
}

#[test]
fn lowered_lists_only_new_findings_at_levels_that_passed_and_honours_grants() {
    let before = template(restricted());
    let mut after = restricted();
    set(
        &mut after,
        "/spec/containers/0/securityContext/privileged",
        json!(true),
    );
    let after = template(after);
    let found = lowered(&before, &after, &[]);
    assert!(
        found.iter().any(|f| f.field.ends_with("privileged")),
        "{found:?}"
    );
    assert!(lowered(&before, &after, &[Capability::Privileged]).is_empty());

    // A pod that passed nothing cannot be lowered.
    let mut none = restricted();
    set(&mut none, "/spec/hostIPC", json!(true));
    assert!(lowered(&template(none.clone()), &template(none), &[]).is_empty());
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let mut slot = value;
    for part in parent.split('/').skip(1) {
        slot = match part.parse::<usize>() {
            Ok(i) => &mut slot[i],
            Err(_) => {
                if slot.get(part).is_none() {
                    slot[part] = json!({});
                }
                &mut slot[part]
            }
        };
    }
    match key.parse::<usize>() {
        Ok(i) if slot.is_array() => {
            let list = slot.as_array_mut().expect("array");
            if i < list.len() {
                list[i] = new;
            } else {
                list.push(new);
            }
        }
        _ => slot[key] = new,
    }
}
