//! Cold start and memory of a fresh process: load every plugin a release ships, render the
//! `vllm-disagg-multinode` anchor through WebAssembly, and report times and RSS.
//!
//! `cargo bench -p dynamo-bench --bench footprint` prints a table. Each measurement runs in a new
//! child process (this binary re-executed with `--child`), so nothing is warm but the disk cache
//! being measured: no compiled code, no allocator pools, no page cache of our own making. Under
//! `cargo test --benches` (no `--bench` argument) it runs each scenario once as a smoke test.
//!
//! Scenarios: `warm cache` (precompiled artifacts on disk, the operator's normal start),
//! `empty cache` (compile everything and write the artifacts: first start after an upgrade) and
//! `no cache` (compile in memory only).
//!
//! Memory: `VmHWM` (peak RSS) after loading and after rendering, and the peak added by one more
//! render call once everything is warm (peak reset through `/proc/self/clear_refs`): the
//! footprint of one plugin instance plus the host-side work of one call.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::WasmPlugins;

/// Everything one child process measured.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    /// Wall time of the whole child process, from spawn to exit.
    process: Duration,
    /// `PluginRuntime::new` + registry of all release plugins.
    load: Duration,
    /// The first whole-graph render after loading.
    first_render: Duration,
    /// Peak RSS after loading, KiB.
    hwm_loaded: u64,
    /// Peak RSS after the first render, KiB.
    hwm_rendered: u64,
    /// RSS after the first render, KiB.
    rss_rendered: u64,
    /// Peak RSS added by one warm `render` of the vLLM worker, KiB.
    per_call: u64,
    /// Warm instance-pool slots after the graph render.
    warm_slots: u64,
    /// Bytes those slots keep resident (the plugins' dirtied pages), KiB.
    slot_resident: u64,
    /// Number of plugins loaded.
    plugins: usize,
}

fn child(cache: Option<&Path>) {
    let start = Instant::now();
    let plugins = WasmPlugins::load(cache);
    let load = start.elapsed();
    let hwm_loaded = common::proc_status_kib("VmHWM").unwrap_or(0);

    let dgd = common::anchor(common::DISAGG_MULTINODE);
    let config = common::render_config();
    let start = Instant::now();
    dynamo_render::render(&dgd, &config, &plugins).expect("renders");
    let first_render = start.elapsed();
    let hwm_rendered = common::proc_status_kib("VmHWM").unwrap_or(0);
    let rss_rendered = common::proc_status_kib("VmRSS").unwrap_or(0);
    let pool = plugins.runtime.pool_stats();

    let worker = common::captured_inputs(&dgd)
        .into_iter()
        .find(|i| i.placement.role == dynamo_plugin_runtime::contract::Role::Worker)
        .expect("a worker input");
    let vllm = plugins.registry.get("vllm").expect("vllm loaded");
    vllm.render(&worker).expect("renders");
    let per_call = if common::reset_peak_rss() {
        let before = common::proc_status_kib("VmRSS").unwrap_or(0);
        vllm.render(&worker).expect("renders");
        common::proc_status_kib("VmHWM")
            .unwrap_or(0)
            .saturating_sub(before)
    } else {
        0
    };
    println!(
        "sample {} {} {hwm_loaded} {hwm_rendered} {rss_rendered} {per_call} {} {} {}",
        load.as_nanos(),
        first_render.as_nanos(),
        plugins.registry.len(),
        pool.warm_memory_slots,
        pool.resident_bytes / 1024,
    );
}

fn parse(stdout: &str) -> Option<Sample> {
    let line = stdout.lines().find_map(|l| l.strip_prefix("sample "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [
        load,
        first_render,
        hwm_loaded,
        hwm_rendered,
        rss_rendered,
        per_call,
        plugins,
        warm_slots,
        slot_resident,
    ] = f[..]
    else {
        return None;
    };
    Some(Sample {
        process: Duration::ZERO,
        load: Duration::from_nanos(load),
        first_render: Duration::from_nanos(first_render),
        hwm_loaded,
        hwm_rendered,
        rss_rendered,
        per_call,
        warm_slots,
        slot_resident,
        plugins: usize::try_from(plugins).ok()?,
    })
}

fn spawn(cache: Option<&Path>) -> Sample {
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = Command::new(exe);
    cmd.arg("--child");
    if let Some(dir) = cache {
        cmd.arg(dir);
    }
    let start = Instant::now();
    let output = cmd.output().expect("child runs");
    let process = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Sample {
        process,
        ..parse(&stdout).unwrap_or_else(|| panic!("no sample in {stdout:?}"))
    }
}

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn report(scenario: &str, samples: &[Sample]) {
    let durations = |f: fn(&Sample) -> Duration| {
        let values: Vec<Duration> = samples.iter().map(f).collect();
        let mean = values.iter().sum::<Duration>() / u32::try_from(values.len()).unwrap_or(1);
        format!("{} (mean {})", ms(median(values)), ms(mean))
    };
    let kib = |f: fn(&Sample) -> u64| mib(median(samples.iter().map(f).collect()));
    println!(
        "| {scenario} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} |",
        samples.len(),
        durations(|s| s.load),
        durations(|s| s.first_render),
        durations(|s| s.process),
        kib(|s| s.hwm_loaded),
        kib(|s| s.hwm_rendered),
        kib(|s| s.rss_rendered),
        median(samples.iter().map(|s| s.per_call).collect()),
        median(samples.iter().map(|s| s.warm_slots).collect()),
        median(samples.iter().map(|s| s.slot_resident).collect()),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(args.get(1).map(PathBuf::from).as_deref());
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: one run each.
    let full = args.iter().any(|a| a == "--bench");
    let runs = |n: usize| if full { n } else { 1 };

    let warm = tempfile::tempdir().expect("temp dir");
    let first = spawn(Some(warm.path())); // fills the cache
    println!(
        "{} plugins: {}",
        first.plugins,
        common::release_plugins()
            .iter()
            .map(|(p, w)| format!("{p} ({} KiB)", w.len() / 1024))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();
    println!(
        "| scenario | runs | load all plugins: p50 | first graph render: p50 | whole process: p50 | VmHWM loaded | VmHWM after render | VmRSS after render | per-call peak (KiB) | warm slots / resident KiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let samples: Vec<Sample> = (0..runs(15)).map(|_| spawn(Some(warm.path()))).collect();
    report("warm cache", &samples);
    let samples: Vec<Sample> = (0..runs(5))
        .map(|_| spawn(Some(tempfile::tempdir().expect("temp dir").path())))
        .collect();
    report("empty cache", &samples);
    let samples: Vec<Sample> = (0..runs(5)).map(|_| spawn(None)).collect();
    report("no cache", &samples);
}
