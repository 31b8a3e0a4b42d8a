//! The same plugin in Rust, Python and JavaScript: component size, build time, compile time in
//! the host, and the latency of `render` and `validate` through wasmtime.
//!
//! `cargo bench -p dynamo-operator --bench plugin_languages` prints a Markdown table (see
//! BENCHMARKS.md, "Plugins in other languages"). The plugin is the TGI example
//! (`examples/tgi/{rust,python,js}`), built as the tests build it; the input is the conformance
//! vector of a two-GPU render. Under `cargo test --benches` (no `--bench` argument) every step
//! runs once as a smoke test.

#[allow(dead_code)]
#[path = "../tests/plugins/build.rs"]
mod build;

use std::time::{Duration, Instant};

use dynamo_plugin_runtime::contract::RenderInput;
use dynamo_plugin_runtime::{PluginOrigin, PluginRuntime};

use build::{LANGS, Lang, tgi, workspace};

/// Calls measured per language and function.
const CALLS: usize = 300;

fn input() -> RenderInput {
    let path = workspace().join("examples/tgi/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&path)
        .expect("the conformance vectors")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    // The first vector that renders successfully with more than one GPU.
    for file in files {
        let vector: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("readable")).expect("JSON");
        if vector["call"] == "render"
            && vector["expect"].get("output").is_some()
            && vector["input"]["component"]["gpusPerNode"].as_u64() > Some(1)
        {
            return serde_json::from_value(vector["input"].clone()).expect("a RenderInput");
        }
    }
    panic!("no two-GPU render vector in {}", path.display());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let calls = if smoke { 1 } else { CALLS };
    let input = input();
    println!(
        "| language | component | build | compile in host | render p50 | render p99 | validate p50 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for lang in LANGS {
        let built = tgi(lang);
        let bytes = std::fs::read(&built.wasm).expect("the component");
        // No cache: the compile a first start after an upgrade pays.
        let runtime = PluginRuntime::new(build::runtime_config().cache_dir(None)).expect("runtime");
        let start = Instant::now();
        let plugin = runtime
            .load(PluginOrigin::Bytes(format!("{lang:?}")), &bytes)
            .unwrap_or_else(|e| panic!("{lang:?}: {e}"));
        let compile = start.elapsed();
        plugin.render(&input).expect("a warm-up render");
        let mut render = Vec::with_capacity(calls);
        let mut validate = Vec::with_capacity(calls);
        for _ in 0..calls {
            let start = Instant::now();
            plugin.render(&input).expect("render");
            render.push(start.elapsed());
            let start = Instant::now();
            plugin.validate(&input).expect("validate");
            validate.push(start.elapsed());
        }
        render.sort();
        validate.sort();
        let name = match lang {
            Lang::Rust => "Rust",
            Lang::Python => "Python (componentize-py)",
            Lang::Js => "JavaScript (componentize-js)",
        };
        println!(
            "| {name} | {:.2} MiB | {:.1} s | {:.2} s | {} | {} | {} |",
            bytes.len() as f64 / (1024.0 * 1024.0),
            built.took.as_secs_f64(),
            compile.as_secs_f64(),
            ms(percentile(&render, 0.5)),
            ms(percentile(&render, 0.99)),
            ms(percentile(&validate, 0.5)),
        );
    }
}
