//! Render latency through WebAssembly vs the same plugin code compiled natively, per-call
//! overhead, whole-graph render and cold start.
//!
//! `cargo bench -p dynamo-bench --bench render` (all groups), or name groups as a filter:
//! `cargo bench -p dynamo-bench --bench render -- render_component`. See `BENCHMARKS.md`.
//!
//! Groups:
//! - `render_component/{native,wasm}/<case>`: one vLLM `render` on a real host input; natively a
//!   direct call of the `Plugin` impl, through WebAssembly `LoadedPlugin::render` (fresh store and
//!   instance, input/output copies, the call, output allow-list checks). `wasm-in-tokio` is the
//!   same call made from inside a Tokio runtime (the runtime then hops to a scoped thread).
//! - `call_overhead/...`: `echo` validate (instantiate + an empty call), `echo` render, vLLM
//!   validate both ways, and the host-side pieces of a render (output checks, the pod-template
//!   JSON round trip every plugin does).
//! - `graph/{native,wasm}/<anchor>`: `dynamo_render::render` of a whole anchor example.
//! - `cold_start/{warm_cache,empty_cache}`: a new `PluginRuntime` plus a registry of every
//!   plugin a release ships.

mod common;

use std::hint::black_box;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dynamo_plugin_runtime::{LoadedPlugin, RuntimeConfig};
use dynamo_plugin_sdk::{Plugin as _, PodTemplate};
use dynamo_plugin_vllm::Vllm;

use common::{NativePlugins, VllmInputs, WasmPlugins};

fn plugin<'a>(plugins: &'a WasmPlugins, name: &str) -> &'a LoadedPlugin {
    plugins
        .registry
        .get(name)
        .unwrap_or_else(|| panic!("{name} not loaded"))
}

fn render_component(c: &mut Criterion) {
    let inputs = VllmInputs::capture();
    let plugins = WasmPlugins::load(Some(&common::shared_cache_dir()));
    let vllm = plugin(&plugins, "vllm");
    let mut group = c.benchmark_group("render_component");
    for (case, input) in inputs.cases() {
        // Same output both ways, or the comparison means nothing.
        assert_eq!(
            Vllm::render(input).expect("native render"),
            vllm.render(input).expect("wasm render"),
            "{case}"
        );
        group.bench_with_input(BenchmarkId::new("native", case), input, |b, input| {
            b.iter(|| Vllm::render(black_box(input)).expect("renders"));
        });
        group.bench_with_input(BenchmarkId::new("wasm", case), input, |b, input| {
            b.iter(|| vllm.render(black_box(input)).expect("renders"));
        });
    }
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let _inside = tokio.enter();
    group.bench_with_input(
        BenchmarkId::new("wasm-in-tokio", "mp-worker"),
        &inputs.worker,
        |b, input| b.iter(|| vllm.render(black_box(input)).expect("renders")),
    );
    group.finish();
}

fn call_overhead(c: &mut Criterion) {
    let inputs = VllmInputs::capture();
    let plugins = WasmPlugins::load(Some(&common::shared_cache_dir()));
    let echo = common::echo(&plugins.runtime);
    let vllm = plugin(&plugins, "vllm");
    let input = &inputs.worker;
    let config = RuntimeConfig::new();
    let output = Vllm::render(input).expect("renders");
    let mut group = c.benchmark_group("call_overhead");
    group.bench_function("echo-validate", |b| {
        b.iter(|| echo.validate(black_box(input)).expect("validates"));
    });
    group.bench_function("echo-render", |b| {
        b.iter(|| echo.render(black_box(input)).expect("renders"));
    });
    group.bench_function("vllm-validate/native", |b| {
        b.iter(|| Vllm::validate(black_box(input)));
    });
    group.bench_function("vllm-validate/wasm", |b| {
        b.iter(|| vllm.validate(black_box(input)).expect("validates"));
    });
    let granted = std::collections::BTreeSet::new();
    let limits = config.get_output_limits().clone();
    let policy = dynamo_plugin_runtime::check::Policy {
        plugin: "vllm",
        launcher: None,
        granted: &granted,
        declared: &granted,
        limits: &limits,
    };
    group.bench_function("output-checks/native", |b| {
        b.iter(|| {
            dynamo_plugin_runtime::check::check_output(
                black_box(input),
                black_box(&output),
                &policy,
            )
            .expect("allowed")
        });
    });
    group.bench_function("pod-json-roundtrip/native", |b| {
        b.iter(|| {
            PodTemplate::from_input(black_box(input))
                .and_then(|pod| pod.to_json())
                .expect("round trips")
        });
    });
    group.finish();
}

fn graph(c: &mut Criterion) {
    let config = common::render_config();
    let wasm = WasmPlugins::load(Some(&common::shared_cache_dir()));
    let native = NativePlugins::new();
    let mut group = c.benchmark_group("graph");
    for name in [common::AGG, common::DISAGG_MULTINODE] {
        let dgd = common::anchor(name);
        let components = common::captured_inputs(&dgd).len();
        assert_eq!(
            dynamo_render::render(&dgd, &config, &native).expect("renders"),
            dynamo_render::render(&dgd, &config, &wasm).expect("renders"),
            "{name}"
        );
        // Throughput in elements = plugin-rendered pod templates, so criterion also reports the
        // cost per component.
        group.throughput(Throughput::Elements(components as u64));
        group.bench_with_input(BenchmarkId::new("native", name), &dgd, |b, dgd| {
            b.iter(|| dynamo_render::render(black_box(dgd), &config, &native).expect("renders"));
        });
        group.bench_with_input(BenchmarkId::new("wasm", name), &dgd, |b, dgd| {
            b.iter(|| dynamo_render::render(black_box(dgd), &config, &wasm).expect("renders"));
        });
    }
    group.finish();
}

/// Times `iters` cold starts with the cache in `warm`, or (`warm` = `None`) each in a new empty
/// cache directory, whose creation is not timed.
fn cold_starts(iters: u64, warm: Option<&Path>) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let empty = warm
            .is_none()
            .then(|| tempfile::tempdir().expect("temp dir"));
        let dir = warm.or(empty.as_ref().map(tempfile::TempDir::path));
        let start = Instant::now();
        let runtime = common::runtime(dir);
        let registry = common::release_registry(&runtime).expect("loads");
        total += start.elapsed();
        drop(black_box(registry));
    }
    total
}

fn cold_start(c: &mut Criterion) {
    // Filled on first use, so a filtered run that skips this group does not compile anything.
    let warm: OnceLock<tempfile::TempDir> = OnceLock::new();
    let warm_dir = || {
        warm.get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            common::release_registry(&common::runtime(Some(dir.path()))).expect("loads");
            dir
        })
        .path()
    };
    let mut group = c.benchmark_group("cold_start");
    // Elements = plugins loaded, so criterion also reports the cost per plugin.
    group.throughput(Throughput::Elements(common::release_plugins().len() as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("warm_cache", |b| {
        b.iter_custom(|iters| cold_starts(iters, Some(warm_dir())));
    });
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("empty_cache", |b| {
        b.iter_custom(|iters| cold_starts(iters, None));
    });
    group.finish();
}

criterion_group!(benches, render_component, call_overhead, graph, cold_start);
criterion_main!(benches);
