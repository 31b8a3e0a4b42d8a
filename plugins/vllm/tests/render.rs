//! Render tests of the vLLM plugin, one rule at a time, on fixtures shaped like the host's pods.

mod common;

use common::*;
use dynamo_plugin_sdk::harness;
use dynamo_plugin_sdk::{KeyValue, Plugin, PluginError, PluginKind, RenderInput, Role};
use dynamo_plugin_vllm::Vllm;
use dynamo_plugin_vllm::executor::{EXECUTOR_ANNOTATION, ORIGIN_VERSION_ANNOTATION};

const KV_CONFIG: &str = r#"{"kv_connector": "NixlConnector", "kv_role": "kv_both", "engine_id": "vllm-disagg-decode-engine-0abc123"}"#;

const GROVE_LEADER: &str =
    "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-decode-ldr-0.$(GROVE_HEADLESS_SERVICE)";

const GROVE_ENV: [(&str, &str); 4] = [
    ("GROVE_PCSG_NAME", "vllm-disagg"),
    ("GROVE_PCSG_INDEX", "0"),
    ("GROVE_HEADLESS_SERVICE", "vllm-disagg-0"),
    ("GROVE_PCLQ_POD_INDEX", "0"),
];

const LWS_ENV: [(&str, &str); 2] = [
    ("LWS_LEADER_ADDRESS", "decode-0.decode.dynamo"),
    ("LWS_WORKER_INDEX", "1"),
];

/// The fixture's engine arguments, in order.
fn disagg_args() -> Vec<String> {
    strings(&[
        "--model",
        "Qwen/Qwen3-0.6B",
        "--tensor-parallel-size",
        "2",
        "--is-decode-worker",
        "--kv-transfer-config",
        KV_CONFIG,
    ])
}

fn with_annotations(mut input: RenderInput, pairs: &[(&str, &str)]) -> RenderInput {
    input.graph.annotations = pairs.iter().map(|(k, v)| KeyValue::new(*k, *v)).collect();
    input
}

fn render(input: &RenderInput) -> dynamo_plugin_sdk::RenderOutput {
    Vllm::render(input).expect("renders")
}

#[test]
fn metadata_describes_a_vllm_backend() {
    let m = Vllm::metadata();
    assert_eq!(m.name, "vllm");
    assert_eq!(m.kind, PluginKind::Backend);
    assert_eq!(m.frameworks, ["vllm"]);
    assert_eq!(m.python_modules, ["dynamo.vllm"]);
    assert_eq!(m.multinode_launcher, None);
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn single_node_without_cache_is_unchanged() {
    let input = load("agg.yaml");
    let out = harness::render::<Vllm>(fixture("agg.yaml")).expect("renders");
    assert_eq!(
        harness::pod_template_value(&out),
        serde_json::from_str::<serde_json::Value>(&input.pod_template).expect("json")
    );
    assert!(out.extra_objects.is_empty());
    assert!(out.warnings.is_empty());
}

#[test]
fn compilation_cache_sets_cache_root_on_every_role() {
    let mut input = load("agg.yaml");
    input.component.compilation_cache_path = Some("/root/.cache/vllm".into());
    let c = main(&render(&input));
    assert_eq!(
        env(&c)["VLLM_CACHE_ROOT"].as_deref(),
        Some("/root/.cache/vllm")
    );
    assert_eq!(
        argv(&c),
        strings(&["python3", "-m", "dynamo.vllm", "--model", "Qwen/Qwen3-0.6B"])
    );

    let mut input = load_at("disagg-multinode.yaml", grove(Role::Worker, "decode", 2));
    input.component.compilation_cache_path = Some("/cache".into());
    assert_eq!(
        env(&main(&render(&input)))["VLLM_CACHE_ROOT"].as_deref(),
        Some("/cache")
    );

    // A blank path is no cache.
    let mut input = load("agg.yaml");
    input.component.compilation_cache_path = Some(" ".into());
    assert!(!env(&main(&render(&input))).contains_key("VLLM_CACHE_ROOT"));
}

#[test]
fn mp_leader_gets_flags_appended() {
    let input = load_at("disagg-multinode.yaml", grove(Role::Leader, "decode", 2));
    let out = render(&input);
    let c = main(&out);
    assert_eq!(c.command, Some(strings(&["python3", "-m", "dynamo.vllm"])));
    let mut expected = disagg_args();
    expected.extend(strings(&[
        "--distributed-executor-backend",
        "mp",
        "--nnodes",
        "2",
        "--master-addr",
        GROVE_LEADER,
        "--master-port",
        "29500",
        "--node-rank",
        "0",
    ]));
    assert_eq!(c.args, Some(expected));
    // Leader keeps its probes and gets no init container.
    assert!(c.liveness_probe.is_some() && c.readiness_probe.is_some() && c.startup_probe.is_some());
    assert!(pod(&out).spec.expect("spec").init_containers.is_none());
    assert!(out.extra_objects.is_empty());
}

#[test]
fn mp_sets_the_side_channel_host_from_the_pod_ip() {
    for role in [Role::Leader, Role::Worker] {
        let out = render(&load_at("disagg-multinode.yaml", lws(role, 2)));
        let c = main(&out);
        let var = c
            .env
            .iter()
            .flatten()
            .find(|v| v.name == "VLLM_NIXL_SIDE_CHANNEL_HOST")
            .expect("side channel variable");
        let field = var
            .value_from
            .as_ref()
            .and_then(|s| s.field_ref.as_ref())
            .expect("fieldRef");
        assert_eq!(field.field_path, "status.podIP");
        // The host's env stays first and in order.
        assert_eq!(c.env.as_ref().expect("env")[0].name, "DYN_SYSTEM_ENABLED");
    }
}

#[test]
fn mp_worker_on_grove_runs_through_a_shell() {
    let input = load_at("disagg-multinode.yaml", grove(Role::Worker, "decode", 2));
    let out = render(&input);
    let c = main(&out);
    assert_eq!(c.command, Some(strings(&["sh", "-c"])));
    let script = &c.args.as_ref().expect("args")[0];
    assert_eq!(
        script,
        &format!(
            "exec python3 -m dynamo.vllm --model Qwen/Qwen3-0.6B --tensor-parallel-size 2 \
             --is-decode-worker --kv-transfer-config '{KV_CONFIG}' --distributed-executor-backend mp \
             --nnodes 2 --master-addr \"{GROVE_LEADER}\" --master-port 29500 \
             --node-rank \"$((GROVE_PCLQ_POD_INDEX + 1))\" --headless"
        )
    );
    // What the engine receives once the kubelet and the shell have expanded everything.
    if let Some(received) = run_with_stub_engine(&argv(&c), &GROVE_ENV) {
        let mut expected = strings(&["-m", "dynamo.vllm"]);
        expected.extend(disagg_args());
        expected.extend(strings(&[
            "--distributed-executor-backend",
            "mp",
            "--nnodes",
            "2",
            "--master-addr",
            "vllm-disagg-0-decode-ldr-0.vllm-disagg-0",
            "--master-port",
            "29500",
            "--node-rank",
            "1",
            "--headless",
        ]));
        assert_eq!(received, expected);
    }
}

#[test]
fn mp_worker_loses_probes_and_waits_for_the_leader() {
    let input = load_at("disagg-multinode.yaml", grove(Role::Worker, "decode", 2));
    let out = render(&input);
    let c = main(&out);
    assert!(c.liveness_probe.is_none() && c.readiness_probe.is_none() && c.startup_probe.is_none());

    let spec = pod(&out).spec.expect("spec");
    let inits = spec.init_containers.expect("init containers");
    assert_eq!(inits.len(), 1);
    let init = &inits[0];
    assert_eq!(init.name, "wait-for-leader-mp");
    assert_eq!(
        init.image.as_deref(),
        Some("my-registry/vllm-runtime:my-tag")
    );
    assert_eq!(init.image_pull_policy.as_deref(), Some("IfNotPresent"));
    assert_eq!(
        init.command,
        Some(strings(&[
            "sh",
            "-c",
            "export LEADER_HOST=\"${GROVE_PCSG_NAME}-${GROVE_PCSG_INDEX}-decode-ldr-0.${GROVE_HEADLESS_SERVICE}\" \
             LEADER_PORT=\"29500\" && exec python3 /scripts/wait-for-leader.py",
        ]))
    );
    let mount = &init.volume_mounts.as_ref().expect("mounts")[0];
    assert_eq!(
        (
            mount.name.as_str(),
            mount.mount_path.as_str(),
            mount.read_only
        ),
        ("wait-leader-script", "/scripts", Some(true))
    );

    let volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == "wait-leader-script")
        .expect("script volume");
    assert_eq!(
        volume.config_map.as_ref().map(|c| c.name.as_str()),
        Some("vllm-disagg-wait-leader-script")
    );

    assert!(
        out.extra_objects.is_empty(),
        "the host owns the script ConfigMap: {:?}",
        out.extra_objects
    );
}

#[test]
fn mp_worker_on_lws_takes_its_rank_from_the_kubelet() {
    let out = render(&load_at("disagg-multinode.yaml", lws(Role::Worker, 2)));
    let c = main(&out);
    // Leader address and rank are kubelet references: plain args, no shell (as Dynamo writes).
    assert_eq!(c.command, Some(strings(&["python3", "-m", "dynamo.vllm"])));
    let args = c.args.clone().expect("args");
    assert_eq!(
        args[args.len() - 7..],
        strings(&[
            "--master-addr",
            "$(LWS_LEADER_ADDRESS)",
            "--master-port",
            "29500",
            "--node-rank",
            "$(LWS_WORKER_INDEX)",
            "--headless",
        ])[..]
    );
    // The JSON argument stays one argument.
    assert!(args.iter().any(|a| a == KV_CONFIG), "{args:?}");
}

#[test]
fn mp_leader_on_lws_needs_no_shell() {
    let c = main(&render(&load_at(
        "disagg-multinode.yaml",
        lws(Role::Leader, 2),
    )));
    assert_eq!(c.command, Some(strings(&["python3", "-m", "dynamo.vllm"])));
    let args = c.args.expect("args");
    assert_eq!(
        args[args.len() - 6..],
        strings(&[
            "--master-addr",
            "$(LWS_LEADER_ADDRESS)",
            "--master-port",
            "29500",
            "--node-rank",
            "0",
        ])[..]
    );
}

#[test]
fn ray_leader_starts_the_head_then_the_engine() {
    let input = with_annotations(
        load_at("disagg-multinode.yaml", grove(Role::Leader, "decode", 2)),
        &[
            (EXECUTOR_ANNOTATION, "ray"),
            (ORIGIN_VERSION_ANNOTATION, "1.0.0"),
        ],
    );
    let out = render(&input);
    let c = main(&out);
    assert_eq!(c.command, Some(strings(&["/bin/sh", "-c"])));
    assert_eq!(
        c.args,
        Some(vec![format!(
            "ray start --head --port=6379 && exec python3 -m dynamo.vllm --model Qwen/Qwen3-0.6B \
             --tensor-parallel-size 2 --is-decode-worker --kv-transfer-config '{KV_CONFIG}' \
             --distributed-executor-backend ray"
        )])
    );
    // No mp-only pieces.
    assert!(!env(&c).contains_key("VLLM_NIXL_SIDE_CHANNEL_HOST"));
    assert!(out.extra_objects.is_empty());
    if let Some(received) = run_with_stub_engine(&argv(&c), &GROVE_ENV) {
        let mut expected = strings(&["start", "--head", "--port=6379", "-m", "dynamo.vllm"]);
        expected.extend(disagg_args());
        expected.extend(strings(&["--distributed-executor-backend", "ray"]));
        assert_eq!(received, expected);
    }
}

#[test]
fn ray_worker_only_joins_the_cluster() {
    // No origin version: Ray, for graphs that predate the mp default.
    let input = with_annotations(load_at("disagg-multinode.yaml", lws(Role::Worker, 2)), &[]);
    let out = render(&input);
    let c = main(&out);
    assert_eq!(
        argv(&c),
        strings(&[
            "/bin/sh",
            "-c",
            "exec ray start \"--address=$(LWS_LEADER_ADDRESS):6379\" --block"
        ])
    );
    assert!(c.liveness_probe.is_none() && c.readiness_probe.is_none() && c.startup_probe.is_none());
    assert!(pod(&out).spec.expect("spec").init_containers.is_none());
    if let Some(received) = run_with_stub_engine(&argv(&c), &LWS_ENV) {
        assert_eq!(
            received,
            strings(&["start", "--address=decode-0.decode.dynamo:6379", "--block"])
        );
    }
}

#[test]
fn executor_annotation_and_origin_version() {
    let flags_of = |pairs: &[(&str, &str)]| {
        let input = with_annotations(
            load_at("disagg-multinode.yaml", grove(Role::Leader, "decode", 2)),
            pairs,
        );
        let out = render(&input);
        (argv(&main(&out)).join(" "), out.warnings)
    };
    let (mp, warnings) = flags_of(&[(ORIGIN_VERSION_ANNOTATION, "1.0.0")]);
    assert!(
        mp.contains("--distributed-executor-backend mp") && warnings.is_empty(),
        "{mp}"
    );
    let (old, _) = flags_of(&[(ORIGIN_VERSION_ANNOTATION, "0.9.1")]);
    assert!(old.contains("--distributed-executor-backend ray"), "{old}");
    let (forced, _) = flags_of(&[
        (EXECUTOR_ANNOTATION, "mp"),
        (ORIGIN_VERSION_ANNOTATION, "0.9.1"),
    ]);
    assert!(
        forced.contains("--distributed-executor-backend mp"),
        "{forced}"
    );
    let (bad, warnings) = flags_of(&[(EXECUTOR_ANNOTATION, "threads")]);
    assert!(bad.contains("--distributed-executor-backend ray"), "{bad}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

#[test]
fn data_parallel_leader() {
    let c = main(&render(&load_at(
        "data-parallel.yaml",
        lws(Role::Leader, 2),
    )));
    assert_eq!(c.command, Some(strings(&["python3", "-m", "dynamo.vllm"])));
    assert_eq!(
        c.args,
        Some(strings(&[
            "--model",
            "deepseek-ai/DeepSeek-V3",
            "-tp",
            "2",
            "--data-parallel-size",
            "8",
            "--data-parallel-hybrid-lb",
            "--data-parallel-size-local",
            "4",
            "--data-parallel-start-rank",
            "0",
            "--data-parallel-address",
            "$(LWS_LEADER_ADDRESS)",
            "--data-parallel-rpc-port",
            "13445",
        ]))
    );
    // The leader keeps its probes; mp still wants the side channel host.
    assert!(c.liveness_probe.is_some());
    assert!(env(&c).contains_key("VLLM_NIXL_SIDE_CHANNEL_HOST"));
}

#[test]
fn data_parallel_worker_computes_its_start_rank_in_the_shell() {
    let out = render(&load_at("data-parallel.yaml", lws(Role::Worker, 2)));
    let c = main(&out);
    assert_eq!(
        argv(&c),
        strings(&[
            "sh",
            "-c",
            "exec python3 -m dynamo.vllm --model deepseek-ai/DeepSeek-V3 -tp 2 --data-parallel-size 8 \
             --data-parallel-hybrid-lb --data-parallel-size-local 4 \
             --data-parallel-start-rank \"$(( 4 * ${LWS_WORKER_INDEX} ))\" \
             --data-parallel-address \"$(LWS_LEADER_ADDRESS)\" --data-parallel-rpc-port 13445",
        ])
    );
    assert!(c.liveness_probe.is_none());
    // Not the mp distributed launch: no init container.
    assert!(pod(&out).spec.expect("spec").init_containers.is_none());
    if let Some(received) = run_with_stub_engine(&argv(&c), &LWS_ENV) {
        let at = received
            .iter()
            .position(|a| a == "--data-parallel-start-rank")
            .expect("flag");
        assert_eq!(received[at + 1], "4");
    }

    let c = main(&render(&load_at(
        "data-parallel.yaml",
        grove(Role::Worker, "worker", 3),
    )));
    let grove_env = [
        ("GROVE_PCLQ_POD_INDEX", "1"),
        ("GROVE_PCSG_NAME", "g"),
        ("GROVE_PCSG_INDEX", "0"),
        ("GROVE_HEADLESS_SERVICE", "h"),
    ];
    if let Some(received) = run_with_stub_engine(&argv(&c), &grove_env) {
        let at = received
            .iter()
            .position(|a| a == "--data-parallel-start-rank")
            .expect("flag");
        assert_eq!(received[at + 1], "8", "rank 2 × 4 local ranks");
        let at = received
            .iter()
            .position(|a| a == "--data-parallel-address")
            .expect("flag");
        assert_eq!(received[at + 1], "g-0-worker-ldr-0.h");
    }
}

#[test]
fn data_parallel_size_is_added_only_when_missing() {
    // `-dp` counts as given.
    let mut input = load_at("data-parallel.yaml", grove(Role::Leader, "worker", 2));
    input.pod_template = input
        .pod_template
        .replace("\"--data-parallel-size\",\"8\"", "\"-dp\",\"8\"");
    let args = main(&render(&input)).args.expect("args");
    assert_eq!(
        args.iter()
            .filter(|a| a.contains("data-parallel-size"))
            .count(),
        1,
        "{args:?}"
    );
    assert!(args.contains(&"-dp".to_owned()));
}

#[test]
fn nothing_spans_nodes_when_it_all_fits() {
    // One GPU per engine and no data parallelism on nodes of one GPU: no launch flags.
    let mut input = load_at("disagg-multinode.yaml", grove(Role::Worker, "decode", 2));
    input.component.gpus_per_node = 2;
    let out = render(&input);
    let c = main(&out);
    assert_eq!(c.command, Some(strings(&["python3", "-m", "dynamo.vllm"])));
    assert_eq!(c.args, Some(disagg_args()));
    // Worker probes still go, and mp still sets the side channel host.
    assert!(c.liveness_probe.is_none());
    assert!(env(&c).contains_key("VLLM_NIXL_SIDE_CHANNEL_HOST"));

    // Without a GPU count nothing can be decided either.
    let mut input = load_at("disagg-multinode.yaml", grove(Role::Leader, "decode", 2));
    input.component.gpus_per_node = 0;
    assert_eq!(main(&render(&input)).args, Some(disagg_args()));
}

#[test]
fn flags_go_into_an_existing_shell_script() {
    let mut input = load_at("disagg-multinode.yaml", lws(Role::Worker, 2));
    input.pod_template = serde_json::json!({"spec": {"containers": [{
        "name": "main",
        "image": "i",
        "command": ["sh", "-c"],
        "args": ["nvidia-smi && exec python3 -m dynamo.vllm --model m --tensor-parallel-size=2"],
    }]}})
    .to_string();
    let c = main(&render(&input));
    assert_eq!(
        argv(&c),
        strings(&[
            "sh",
            "-c",
            "nvidia-smi && exec python3 -m dynamo.vllm --distributed-executor-backend mp --nnodes 2 \
             --master-addr \"$(LWS_LEADER_ADDRESS)\" --master-port 29500 --node-rank \"$(LWS_WORKER_INDEX)\" \
             --headless --model m --tensor-parallel-size=2",
        ])
    );
}

#[test]
fn bad_parallel_sizes_are_invalid_input_on_multinode_only() {
    let mut input = load_at("disagg-multinode.yaml", grove(Role::Leader, "decode", 2));
    input.pod_template = input.pod_template.replace(
        "\"--tensor-parallel-size\",\"2\"",
        "\"--tensor-parallel-size\",\"two\"",
    );
    match Vllm::render(&input) {
        Err(PluginError::InvalidInput(d)) => {
            assert_eq!(
                d.field_path,
                "spec.services.decode.extraPodSpec.mainContainer.args"
            );
            assert!(
                d.message.contains("`--tensor-parallel-size`") && d.message.contains("two"),
                "{}",
                d.message
            );
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
    // Single node: not the operator's concern.
    input.placement = Default::default();
    assert!(Vllm::render(&input).is_ok());
}

#[test]
fn missing_main_container_or_command() {
    let mut input = load_at("disagg-multinode.yaml", grove(Role::Worker, "decode", 2));
    input.pod_template = r#"{"spec":{"containers":[{"name":"sidecar"}]}}"#.into();
    assert!(
        matches!(Vllm::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == "podTemplate.spec.containers")
    );

    // Args for the image's entrypoint cannot be wrapped in a shell without losing the entrypoint.
    input.pod_template = r#"{"spec":{"containers":[{"name":"main","args":["-tp","2"]}]}}"#.into();
    assert!(
        matches!(Vllm::render(&input), Err(PluginError::Unsupported(m)) if m.contains("command"))
    );
    // ...unless they start with the interpreter.
    input.pod_template = r#"{"spec":{"containers":[{"name":"main","args":["python3","-m","dynamo.vllm","-tp","2"]}]}}"#.into();
    let c = main(&render(&input));
    assert_eq!(c.command, Some(strings(&["sh", "-c"])));
    // ...and appending needs no shell.
    input.placement = grove(Role::Leader, "decode", 2);
    input.pod_template = r#"{"spec":{"containers":[{"name":"main","args":["-tp","2"]}]}}"#.into();
    assert_eq!(
        main(&render(&input)).args.expect("args")[..3],
        strings(&["-tp", "2", "--distributed-executor-backend"])[..]
    );

    // No command at all and nothing spans nodes: nothing to do.
    input.pod_template = r#"{"spec":{"containers":[{"name":"main","image":"i"}]}}"#.into();
    assert!(Vllm::render(&input).is_ok());

    // A script without `python -m dynamo.vllm` gives the flags nowhere to go.
    input.pod_template =
        r#"{"spec":{"containers":[{"name":"main","command":["sh","-c","serve -tp 2"]}]}}"#.into();
    assert!(
        matches!(Vllm::render(&input), Err(PluginError::Unsupported(m)) if m.contains("dynamo.vllm"))
    );

    input.pod_template = "[]".into();
    assert!(
        matches!(Vllm::render(&input), Err(PluginError::InvalidInput(d)) if d.field_path == "podTemplate")
    );
}

#[test]
fn output_is_deterministic_and_idempotent_in_shape() {
    for placement in [
        grove(Role::Worker, "decode", 2),
        lws(Role::Leader, 2),
        lws(Role::Worker, 3),
    ] {
        let input = load_at("disagg-multinode.yaml", placement);
        let a = render(&input);
        let b = render(&input);
        assert_eq!(a, b);
    }
}

#[test]
fn kubelet_expansion_helper_matches_the_kubelet() {
    let env = [("A", "1"), ("B", "x y")];
    assert_eq!(kubelet_expand("$(A)-$(B)", &env), "1-x y");
    assert_eq!(kubelet_expand("$(C) $$(A) $x $", &env), "$(C) $(A) $x $");
    // The first `)` closes a reference: a nested one is swallowed, hence `${NAME}` in arithmetic.
    assert_eq!(kubelet_expand("$(( 2 * $(A) ))", &env), "$(( 2 * $(A) ))");
    assert_eq!(kubelet_expand("$((A + 1))", &env), "$((A + 1))");
}
