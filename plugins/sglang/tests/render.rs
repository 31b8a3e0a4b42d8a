//! Render tests of the SGLang plugin, one rule at a time, on fixtures shaped like the host's pods.

mod common;

use common::*;
use dynamo_plugin_sdk::{Plugin, PluginError, PluginKind, RenderInput, Role, harness};
use dynamo_plugin_sglang::Sglang;

const GROVE_LEADER: &str =
    "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-decode-ldr-0.$(GROVE_HEADLESS_SERVICE)";

const GROVE_ENV: [(&str, &str); 4] = [
    ("GROVE_PCSG_NAME", "sglang-disagg-multinode"),
    ("GROVE_PCSG_INDEX", "0"),
    ("GROVE_HEADLESS_SERVICE", "sglang-disagg-multinode-0"),
    ("GROVE_PCLQ_POD_INDEX", "0"),
];

const LWS_ENV: [(&str, &str); 2] = [
    ("LWS_LEADER_ADDRESS", "decode-0.decode.dynamo"),
    ("LWS_WORKER_INDEX", "1"),
];

fn fixture_args() -> Vec<String> {
    strings(&[
        "--model-path",
        "Qwen/Qwen3-0.6B",
        "--served-model-name",
        "Qwen/Qwen3-0.6B",
        "--tp-size",
        "8",
        "--trust-remote-code",
        "--skip-tokenizer-init",
        "--disaggregation-mode",
        "decode",
        "--disaggregation-transfer-backend",
        "nixl",
        "--disaggregation-bootstrap-port",
        "30001",
        "--host",
        "0.0.0.0",
        "--mem-fraction-static",
        "0.82",
    ])
}

fn render(input: &RenderInput) -> dynamo_plugin_sdk::RenderOutput {
    Sglang::render(input).expect("renders")
}

#[test]
fn metadata_describes_an_sglang_backend() {
    let m = Sglang::metadata();
    assert_eq!(m.name, "sglang");
    assert_eq!(m.kind, PluginKind::Backend);
    assert_eq!(m.frameworks, ["sglang"]);
    assert_eq!(m.python_modules, ["dynamo.sglang"]);
    assert_eq!(m.multinode_launcher, None);
}

#[test]
fn single_node_is_unchanged() {
    let input = load("agg.yaml");
    let out = harness::render::<Sglang>(fixture("agg.yaml")).expect("renders");
    assert_eq!(
        harness::pod_template_value(&out),
        serde_json::from_str::<serde_json::Value>(&input.pod_template).expect("json")
    );
    assert!(out.warnings.is_empty() && out.extra_objects.is_empty());
}

#[test]
fn compilation_cache_is_only_a_warning() {
    let mut input = load("agg.yaml");
    input.component.compilation_cache_path = Some("/cache".into());
    let out = render(&input);
    assert_eq!(out.warnings.len(), 1);
    assert!(out.warnings[0].contains("/cache"), "{:?}", out.warnings);
    assert_eq!(
        harness::pod_template_value(&out),
        serde_json::from_str::<serde_json::Value>(&input.pod_template).expect("json")
    );
}

#[test]
fn leader_gets_flags_appended() {
    let c = main(&render(&load_at(
        "disagg-multinode.yaml",
        grove(Role::Leader, "decode", 2),
    )));
    assert_eq!(
        c.command,
        Some(strings(&["python3", "-m", "dynamo.sglang"]))
    );
    let mut expected = fixture_args();
    expected.extend(strings(&[
        "--dist-init-addr",
        &format!("{GROVE_LEADER}:29500"),
        "--nnodes",
        "2",
        "--node-rank",
        "0",
    ]));
    assert_eq!(c.args, Some(expected));
    assert!(c.liveness_probe.is_some() && c.readiness_probe.is_some() && c.startup_probe.is_some());
}

#[test]
fn leader_on_lws_needs_no_shell() {
    let c = main(&render(&load_at(
        "disagg-multinode.yaml",
        lws(Role::Leader, 2),
    )));
    assert_eq!(
        c.command,
        Some(strings(&["python3", "-m", "dynamo.sglang"]))
    );
    let args = c.args.expect("args");
    assert_eq!(
        args[args.len() - 6..],
        strings(&[
            "--dist-init-addr",
            "$(LWS_LEADER_ADDRESS):29500",
            "--nnodes",
            "2",
            "--node-rank",
            "0"
        ])[..]
    );
}

#[test]
fn grove_worker_runs_through_a_shell_and_loses_probes() {
    let c = main(&render(&load_at(
        "disagg-multinode.yaml",
        grove(Role::Worker, "decode", 2),
    )));
    assert_eq!(c.command, Some(strings(&["sh", "-c"])));
    assert_eq!(
        c.args,
        Some(vec![format!(
            "exec python3 -m dynamo.sglang {} --dist-init-addr \"{GROVE_LEADER}:29500\" --nnodes 2 \
             --node-rank \"$((GROVE_PCLQ_POD_INDEX + 1))\"",
            fixture_args().join(" ")
        )])
    );
    assert!(c.liveness_probe.is_none() && c.readiness_probe.is_none() && c.startup_probe.is_none());
    if let Some(received) = run_with_stub_engine(&argv(&c), &GROVE_ENV) {
        let mut expected = strings(&["-m", "dynamo.sglang"]);
        expected.extend(fixture_args());
        expected.extend(strings(&[
            "--dist-init-addr",
            "sglang-disagg-multinode-0-decode-ldr-0.sglang-disagg-multinode-0:29500",
            "--nnodes",
            "2",
            "--node-rank",
            "1",
        ]));
        assert_eq!(received, expected);
    }
}

#[test]
fn lws_worker_gets_its_rank_from_the_kubelet() {
    let c = main(&render(&load_at(
        "disagg-multinode.yaml",
        lws(Role::Worker, 3),
    )));
    // Leader address and rank are kubelet references: no shell, the flags are plain args (as
    // Dynamo's operator writes them).
    assert_ne!(
        c.command
            .as_ref()
            .and_then(|c| c.first())
            .map(String::as_str),
        Some("sh")
    );
    let args = c.args.clone().unwrap_or_default();
    assert_eq!(
        args[args.len() - 6..],
        strings(&[
            "--dist-init-addr",
            "$(LWS_LEADER_ADDRESS):29500",
            "--nnodes",
            "3",
            "--node-rank",
            "$(LWS_WORKER_INDEX)"
        ])[..]
    );
    // What the kubelet expands them to.
    let expanded: Vec<String> = args[args.len() - 6..]
        .iter()
        .map(|a| {
            LWS_ENV.iter().fold(a.clone(), |text, (name, value)| {
                text.replace(&format!("$({name})"), value)
            })
        })
        .collect();
    assert_eq!(expanded[1], "decode-0.decode.dynamo:29500");
    assert_eq!(expanded[5], "1");
}

#[test]
fn quoted_arguments_survive_the_shell() {
    let tricky = r#"{"rope_scaling": {"type": "yarn", "factor": 4.0}, "name": "it's $HOME"}"#;
    let mut input = load_at("disagg-multinode.yaml", grove(Role::Worker, "decode", 2));
    input.pod_template = serde_json::json!({"spec": {"containers": [{
        "name": "main",
        "command": ["python3", "-m", "dynamo.sglang"],
        "args": ["--json-model-override-args", tricky, "--served-model-name", "a model", ""],
    }]}})
    .to_string();
    let c = main(&render(&input));
    if let Some(received) = run_with_stub_engine(&argv(&c), &GROVE_ENV) {
        assert_eq!(
            received[..7],
            strings(&[
                "-m",
                "dynamo.sglang",
                "--json-model-override-args",
                tricky,
                "--served-model-name",
                "a model",
                ""
            ])[..]
        );
    }
}

#[test]
fn flags_go_into_an_existing_shell_script() {
    let mut input = load_at("disagg-multinode.yaml", lws(Role::Leader, 2));
    input.pod_template = serde_json::json!({"spec": {"containers": [{
        "name": "main",
        "command": ["/bin/bash", "-lc"],
        "args": ["source /env.sh; python3 -m dynamo.sglang --tp-size 8 | tee /tmp/log"],
    }]}})
    .to_string();
    let c = main(&render(&input));
    assert_eq!(
        argv(&c),
        strings(&[
            "/bin/bash",
            "-lc",
            "source /env.sh; python3 -m dynamo.sglang --dist-init-addr \"$(LWS_LEADER_ADDRESS):29500\" \
             --nnodes 2 --node-rank 0 --tp-size 8 | tee /tmp/log",
        ])
    );
}

#[test]
fn errors() {
    let mut input = load_at("disagg-multinode.yaml", grove(Role::Worker, "decode", 2));
    input.pod_template = r#"{"spec":{"containers":[{"name":"other"}]}}"#.into();
    assert!(
        matches!(Sglang::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == "podTemplate.spec.containers")
    );

    input.pod_template =
        r#"{"spec":{"containers":[{"name":"main","command":["sh","-c","echo hi"]}]}}"#.into();
    assert!(
        matches!(Sglang::render(&input), Err(PluginError::Unsupported(m)) if m.contains("dynamo.sglang"))
    );

    input.pod_template =
        r#"{"spec":{"containers":[{"name":"main","args":["--tp-size","8"]}]}}"#.into();
    assert!(
        matches!(Sglang::render(&input), Err(PluginError::Unsupported(m)) if m.contains("command"))
    );

    input.pod_template = r#"{"spec":{"containers":[{"name":"main"}]}}"#.into();
    assert!(
        matches!(Sglang::render(&input), Err(PluginError::Unsupported(m)) if m.contains("no command"))
    );
}

#[test]
fn output_is_deterministic() {
    for placement in [grove(Role::Worker, "decode", 2), lws(Role::Leader, 2)] {
        let input = load_at("disagg-multinode.yaml", placement);
        assert_eq!(render(&input), render(&input));
    }
}
