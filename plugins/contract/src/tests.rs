use super::*;

#[test]
fn constants_match_the_wit_source() {
    let package_line = WIT_SOURCE
        .lines()
        .find(|l| l.starts_with("package "))
        .expect("WIT has a package line");
    assert_eq!(package_line, format!("package {WIT_PACKAGE_ID};"));
    assert_eq!(WIT_PACKAGE_ID, format!("{WIT_PACKAGE}@{WIT_VERSION}"));
    assert_eq!(
        WIT_TYPES_INTERFACE,
        format!("{WIT_PACKAGE}/types@{WIT_VERSION}")
    );
    assert!(WIT_SOURCE.contains(&format!("world {WIT_WORLD} {{")));
    for export in WIT_EXPORTS {
        assert!(WIT_SOURCE.contains(&format!("export {export}: func(")));
    }
}

#[test]
fn fixture_yaml_with_defaults_and_embedded_pod_template() {
    let yaml = r#"
graph:
  name: g
  namespace: ns
  annotations:
    b: "2"
    a: "1"
component:
  serviceName: decode
  backendFramework: vllm
podTemplate:
  metadata: {labels: {app: x}}
  spec:
    containers: [{name: main, image: img}]
"#;
    let input: RenderInput = serde_yaml_ng::from_str(yaml).expect("parses");
    assert_eq!(input.graph.annotation("a"), Some("1"));
    assert_eq!(
        input.graph.annotations[0].key, "a",
        "maps are read in key order"
    );
    assert_eq!(input.placement, Placement::default());
    assert_eq!(input.placement.node_count, 1);
    let pod: serde_json::Value = serde_json::from_str(&input.pod_template).expect("json text");
    assert_eq!(pod["spec"]["containers"][0]["name"], "main");

    // Round trip through JSON keeps everything.
    let json = serde_json::to_string(&input).expect("serializes");
    let back: RenderInput = serde_json::from_str(&json).expect("parses back");
    assert_eq!(back, input);
}

#[test]
fn json_text_accepts_strings_and_keeps_invalid_text() {
    let out: RenderOutput = serde_json::from_str(
        r#"{"podTemplate": "not json {", "extraObjects": [{"sshKeySecret": "k"}]}"#,
    )
    .expect("parses");
    assert_eq!(out.pod_template, "not json {");
    assert_eq!(
        out.extra_objects,
        vec![ExtraObject::SshKeySecret("k".into())]
    );
    let json = serde_json::to_string(&out).expect("serializes");
    let back: RenderOutput = serde_json::from_str(&json).expect("parses back");
    assert_eq!(back, out);

    let cm = ExtraObject::ConfigMap(r#"{"kind":"ConfigMap"}"#.into());
    let json = serde_json::to_value(&cm).expect("serializes");
    assert_eq!(json["configMap"]["kind"], "ConfigMap");
}

#[test]
fn errors_display_their_field() {
    let e = PluginError::invalid_input("spec.x", "bad");
    assert_eq!(e.to_string(), "invalid input at spec.x: bad");
    assert_eq!(
        PluginError::unsupported("grove").to_string(),
        "unsupported: grove"
    );
    assert_eq!(
        Diagnostic::warning("", "careful").to_string(),
        "warning: careful"
    );
}

#[test]
fn only_shell_syntax_in_the_rank_or_leader_needs_a_shell() {
    let lws = Placement {
        role: Role::Worker,
        node_count: 2,
        leader_host: "$(LWS_LEADER_ADDRESS)".to_owned(),
        node_rank: "$(LWS_WORKER_INDEX)".to_owned(),
        worker_hosts: vec!["$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')".to_owned()],
        needs_shell: true,
        ..Placement::default()
    };
    assert!(!lws.rank_needs_shell());
    let grove = Placement {
        leader_host:
            "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-decode-ldr-0.$(GROVE_HEADLESS_SERVICE)"
                .to_owned(),
        node_rank: "$((GROVE_PCLQ_POD_INDEX + 1))".to_owned(),
        ..lws.clone()
    };
    assert!(grove.rank_needs_shell());
    let leader_in_shell = Placement {
        leader_host: "$LEADER".to_owned(),
        node_rank: "1".to_owned(),
        ..lws
    };
    assert!(leader_in_shell.rank_needs_shell());
    assert!(!Placement::default().rank_needs_shell());
}
