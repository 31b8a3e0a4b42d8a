//! Tests of the TensorRT-LLM plugin, alone and followed by the `mpi` launcher as the host chains
//! them.

use dynamo_plugin_mpi::Mpi;
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::PodTemplateSpec;
use dynamo_plugin_sdk::{
    Placement, Plugin, PluginKind, RenderInput, RenderOutput, Role, Severity, harness, testing,
};
use dynamo_plugin_trtllm::{
    ENTRYPOINT_WRAPPER_ANNOTATION, EXPORT_ENV_ANNOTATION, LLMAPI_LAUNCH, Trtllm,
};

fn fixture(name: &str) -> std::path::PathBuf {
    testing::fixture_path(env!("CARGO_MANIFEST_DIR"), name)
}

fn load_at(name: &str, placement: Placement) -> RenderInput {
    testing::load_fixture_at(env!("CARGO_MANIFEST_DIR"), name, placement)
}

/// The placement the host hands a two-node Grove pod of service `prefill`.
fn grove(role: Role) -> Placement {
    testing::grove(role, "prefill", 2)
}

fn pod(out: &RenderOutput) -> PodTemplateSpec {
    testing::pod(out)
}

/// The pod template without its annotations, as JSON.
fn without_annotations(pod_template: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(pod_template).expect("json");
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("annotations");
    }
    value
}

#[test]
fn metadata_names_the_mpi_launcher() {
    let m = Trtllm::metadata();
    assert_eq!(m.name, "trtllm");
    assert_eq!(m.kind, PluginKind::Backend);
    assert_eq!(m.frameworks, ["trtllm"]);
    assert_eq!(m.python_modules, ["dynamo.trtllm"]);
    assert_eq!(m.multinode_launcher.as_deref(), Some("mpi"));
    assert_eq!(Some(Mpi::metadata().name), m.multinode_launcher);
}

#[test]
fn handoff_annotations_match_the_launcher() {
    assert_eq!(
        ENTRYPOINT_WRAPPER_ANNOTATION,
        dynamo_plugin_mpi::ENTRYPOINT_WRAPPER_ANNOTATION
    );
    assert_eq!(
        EXPORT_ENV_ANNOTATION,
        dynamo_plugin_mpi::EXPORT_ENV_ANNOTATION
    );
}

#[test]
fn single_node_is_unchanged() {
    let input = harness::load_input(fixture("agg.yaml")).expect("loads");
    let out = harness::render::<Trtllm>(fixture("agg.yaml")).expect("renders");
    assert_eq!(out.pod_template, input.pod_template);
    assert!(out.warnings.is_empty() && out.extra_objects.is_empty());
}

#[test]
fn compilation_cache_is_only_a_warning() {
    let mut input = harness::load_input(fixture("agg.yaml")).expect("loads");
    input.component.compilation_cache_path = Some("/cache".into());
    let out = Trtllm::render(&input).expect("renders");
    assert_eq!(out.pod_template, input.pod_template);
    assert_eq!(out.warnings.len(), 1);
    assert!(out.warnings[0].contains("/cache"), "{:?}", out.warnings);
}

#[test]
fn multinode_pods_get_the_handoff_and_nothing_else() {
    for role in [Role::Leader, Role::Worker] {
        let input = load_at("disagg-multinode.yaml", grove(role));
        let out = Trtllm::render(&input).expect("renders");
        let annotations = pod(&out)
            .metadata
            .expect("metadata")
            .annotations
            .expect("annotations");
        assert_eq!(annotations[ENTRYPOINT_WRAPPER_ANNOTATION], LLMAPI_LAUNCH);
        assert_eq!(
            annotations[EXPORT_ENV_ANNOTATION],
            "TENSORRT_LLM_CACHE_DIR,TRTLLM_USE_UCX_KVCACHE"
        );
        assert_eq!(annotations.len(), 2);
        // Command, args, env, probes, volumes: untouched (the launcher's job).
        assert_eq!(
            without_annotations(&out.pod_template),
            without_annotations(&input.pod_template)
        );
        assert!(out.extra_objects.is_empty() && out.warnings.is_empty());
    }
}

#[test]
fn chained_with_mpi_the_leader_launches_trtllm_llmapi_launch() {
    let input = load_at("disagg-multinode.yaml", grove(Role::Leader));
    let backend = Trtllm::render(&input).expect("trtllm renders");
    let launched = Mpi::render(&RenderInput {
        pod_template: backend.pod_template,
        ..input
    })
    .expect("mpi renders");
    let pod = pod(&launched);
    assert!(
        pod.metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref())
            .is_none()
    );
    let main = &pod.spec.expect("spec").containers[0];
    let script = &main.args.as_ref().expect("args")[0];
    assert!(
        script.ends_with(
            " -x TENSORRT_LLM_CACHE_DIR -x TOKENIZERS_PARALLELISM -x TRANSFORMERS_CACHE \
             -x TRITON_PTXAS_PATH -x TRTLLM_USE_UCX_KVCACHE -x USER bash -c 'trtllm-llmapi-launch python3 -m dynamo.trtllm \
             --model-path Qwen/Qwen3-0.6B --served-model-name Qwen/Qwen3-0.6B --extra-engine-args \
             /workspace/prefill.yaml --disaggregation-mode prefill'\n"
        ),
        "{script}"
    );
    assert!(
        script.contains("exec mpirun $allow_root --oversubscribe -n 8 -H "),
        "{script}"
    );
}

#[test]
fn chained_with_mpi_the_worker_runs_sshd() {
    let input = load_at("disagg-multinode.yaml", grove(Role::Worker));
    let backend = Trtllm::render(&input).expect("trtllm renders");
    let launched = Mpi::render(&RenderInput {
        pod_template: backend.pod_template,
        ..input
    })
    .expect("mpi renders");
    let main = &pod(&launched).spec.expect("spec").containers[0];
    assert_eq!(
        main.args.as_ref().expect("args")[0],
        dynamo_plugin_mpi::scripts::worker_script()
    );
    assert!(main.liveness_probe.is_none());
}

#[test]
fn multinode_needs_a_gpu_count() {
    let mut input = load_at("disagg-multinode.yaml", grove(Role::Leader));
    assert_eq!(Trtllm::validate(&input), vec![]);
    input.component.gpus_per_node = 0;
    let d = Trtllm::validate(&input);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].field_path,
        "spec.services.prefill.resources.limits.gpu"
    );
    assert_eq!(d[0].severity, Severity::Error);

    // Single node: no MPI world to size.
    input.placement = Placement::default();
    assert_eq!(Trtllm::validate(&input), vec![]);
    assert_eq!(
        harness::validate::<Trtllm>(fixture("agg.yaml")).expect("validates"),
        vec![]
    );
}
