//! Measures plugin compile time, registry cold start (with and without a warm cache) and per-call
//! render latency of the `echo` test plugin, and prints each hostile error once.
//!
//! `cargo run --release -p dynamo-plugin-runtime --example measure`

use std::time::{Duration, Instant};

use dynamo_plugin_runtime::contract::RenderInput;
use dynamo_plugin_runtime::{PluginOrigin, PluginRegistry, PluginRuntime, RuntimeConfig};

fn input(service: &str) -> RenderInput {
    let mut input = RenderInput {
        pod_template: serde_json::json!({
            "metadata": {"namespace": "ns"},
            "spec": {"containers": [{"name": "main", "image": "img",
                "command": ["python3", "-m", "dynamo.echo"], "args": ["--model", "m"],
                "env": [{"name": "A", "value": "1"}]}]}
        })
        .to_string(),
        ..RenderInput::default()
    };
    input.graph.namespace = "ns".into();
    input.component.service_name = service.into();
    input
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let echo = dynamo_plugin_test_fixtures::echo();
    println!("echo component: {} KiB", echo.len() / 1024);

    // Compile time: no cache.
    let uncached = PluginRuntime::new(RuntimeConfig::new().cache_dir(None))?;
    let start = Instant::now();
    uncached.load(PluginOrigin::Bytes("echo fixture".into()), echo)?;
    println!("compile + load echo (no cache): {:?}", start.elapsed());

    // Cold start: a new runtime and the full built-in registry, without and with a warm cache.
    let start = Instant::now();
    let registry = PluginRegistry::load(
        &PluginRuntime::new(RuntimeConfig::new().cache_dir(None))?,
        None,
    )?;
    println!(
        "cold start, {} built-ins, no cache: {:?}",
        registry.len(),
        start.elapsed()
    );
    let dir = tempfile::tempdir()?;
    let cached = || RuntimeConfig::new().cache_dir(Some(dir.path().to_owned()));
    PluginRegistry::load(&PluginRuntime::new(cached())?, None)?; // fills the cache
    let start = Instant::now();
    let registry = PluginRegistry::load(&PluginRuntime::new(cached())?, None)?;
    println!(
        "cold start, {} built-ins, warm cache: {:?}",
        registry.len(),
        start.elapsed()
    );

    // Per-call latency.
    let plugin =
        PluginRuntime::new(cached())?.load(PluginOrigin::Bytes("echo fixture".into()), echo)?;
    let decode = input("decode");
    for _ in 0..100 {
        plugin.render(&decode)?;
    }
    let mut samples: Vec<Duration> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            let result = plugin.render(&decode);
            let elapsed = start.elapsed();
            result.map(|_| elapsed)
        })
        .collect::<Result<_, _>>()?;
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / u32::try_from(samples.len())?;
    let pct = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)];
    println!(
        "echo render (instantiate + call + output checks): mean {mean:?}, p50 {:?}, p99 {:?}",
        pct(50),
        pct(99)
    );
    let start = Instant::now();
    for _ in 0..2000 {
        plugin.validate(&decode)?;
    }
    println!("echo validate: mean {:?}", start.elapsed() / 2000);

    if let Some(path) = std::env::var_os("HOSTILE_WASM") {
        let hostile = std::fs::read(path)?;
        let runtime = PluginRuntime::new(cached())?;
        let plugin = runtime.load(PluginOrigin::Bytes("hostile".into()), &hostile)?;
        for service in [
            "loop",
            "oom",
            "trap",
            "bad-json",
            "bad-namespace",
            "host-network",
            "sleep",
        ] {
            let start = Instant::now();
            let result = plugin.render(&input(service));
            println!(
                "{service:>14} ({:?}): {}",
                start.elapsed(),
                result.err().map(|e| e.to_string()).unwrap_or_default()
            );
        }
    }
    Ok(())
}
