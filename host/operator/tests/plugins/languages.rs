//! The TGI example plugin in Rust, Python and JavaScript: one set of conformance vectors through
//! the real wasmtime host, and the same graph rendered with each through `--plugin-dir`.

use std::path::PathBuf;

use dynamo_plugin_runtime::contract::{Diagnostic, PluginError as Reported, RenderInput};
use dynamo_plugin_runtime::{LoadedPlugin, PluginError, PluginOrigin, PluginRuntime};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::build::{
    LANGS, Lang, deployment_main_container, documents, render_with_plugins, runtime_config, text,
    tgi, workspace,
};

/// One conformance vector (`examples/tgi/SPEC.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    name: String,
    call: String,
    input: RenderInput,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    output: Option<Value>,
    error: Option<Reported>,
    diagnostics: Option<Vec<Diagnostic>>,
}

fn vectors() -> Vec<(PathBuf, Vector)> {
    let dir = workspace().join("examples/tgi/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the TGI conformance vectors in {}",
        dir.display()
    );
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            let vector: Vector =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, vector)
        })
        .collect()
}

fn load(lang: Lang) -> LoadedPlugin {
    let runtime = PluginRuntime::new(runtime_config()).expect("runtime");
    let built = tgi(lang);
    let bytes = std::fs::read(&built.wasm).expect("the component");
    runtime
        .load(PluginOrigin::Bytes(format!("tgi ({lang:?})")), &bytes)
        .unwrap_or_else(|e| panic!("{lang:?}: {e}"))
}

/// What a call gave, in the vectors' JSON form.
fn outcome(plugin: &LoadedPlugin, vector: &Vector) -> Value {
    match vector.call.as_str() {
        "render" => match plugin.render(&vector.input) {
            Ok(output) => json!({ "output": {
                "podTemplate": serde_json::from_str::<Value>(&output.pod_template).expect("JSON"),
                "extraObjects": output.extra_objects,
                "warnings": output.warnings,
            }}),
            Err(PluginError::Plugin { error, .. }) => json!({ "error": error }),
            Err(other) => panic!("{}: the host failed the call: {other}", vector.name),
        },
        "validate" => match plugin.validate(&vector.input) {
            Ok(found) => json!({ "diagnostics": found }),
            Err(other) => panic!("{}: the host failed the call: {other}", vector.name),
        },
        other => panic!("{}: unknown call `{other}`", vector.name),
    }
}

fn expected(vector: &Vector) -> Value {
    let e = &vector.expect;
    match (&e.output, &e.error, &e.diagnostics) {
        (Some(output), None, None) => {
            let mut output = output.clone();
            for (key, empty) in [("extraObjects", json!([])), ("warnings", json!([]))] {
                if output.get(key).is_none() {
                    output[key] = empty;
                }
            }
            json!({ "output": output })
        }
        (None, Some(error), None) => json!({ "error": error }),
        (None, None, Some(found)) => json!({ "diagnostics": found }),
        _ => panic!(
            "{}: expect must hold exactly one of output, error, diagnostics",
            vector.name
        ),
    }
}

#[test]
fn every_language_passes_every_conformance_vector_through_wasmtime() {
    let vectors = vectors();
    let mut failures = Vec::new();
    for lang in LANGS {
        let plugin = load(lang);
        eprintln!(
            "{lang:?}: component of {} bytes, built in {:.1} s",
            std::fs::metadata(&tgi(lang).wasm).map_or(0, |m| m.len()),
            tgi(lang).took.as_secs_f64()
        );
        let meta = plugin.metadata();
        assert_eq!(meta.name, "tgi", "{lang:?}");
        assert_eq!(plugin.contract_version(), "0.3.0", "{lang:?}");
        let serving = meta
            .serving
            .as_ref()
            .unwrap_or_else(|| panic!("{lang:?}: no serving"));
        assert!(!serving.dynamo_runtime, "{lang:?}");
        assert_eq!(meta.annotation_prefixes, ["example.com/tgi-"], "{lang:?}");
        for (path, vector) in &vectors {
            let got = outcome(&plugin, vector);
            let want = expected(vector);
            if got != want {
                failures.push(format!(
                    "{lang:?} {} ({}):\n  want {want}\n  got  {got}",
                    vector.name,
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_tgi_graph_renders_alike_in_every_language_without_dynamo_defaults() {
    let mut rendered = Vec::new();
    for lang in LANGS {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::copy(&tgi(lang).wasm, dir.path().join("tgi.wasm")).expect("copied");
        let out = render_with_plugins(&workspace(), "examples/tgi/graph.yaml", dir.path());
        assert!(out.status.success(), "{lang:?}: {}", text(&out.stderr));
        rendered.push((lang, text(&out.stdout)));
    }
    let (_, rust) = &rendered[0];
    for (lang, stream) in &rendered[1..] {
        assert_eq!(
            stream, rust,
            "{lang:?} renders the graph exactly as Rust does"
        );
    }

    let objects = documents(rust);
    let main = deployment_main_container(&objects);
    assert_eq!(main["command"], json!(["text-generation-launcher"]));
    assert_eq!(
        main["args"],
        json!([
            "--model-id",
            "Qwen/Qwen2.5-7B-Instruct-AWQ",
            "--port",
            "8080",
            "--num-shard",
            "2",
            "--quantize",
            "awq"
        ])
    );
    assert_eq!(
        main["ports"],
        json!([{"containerPort": 8080, "name": "http", "protocol": "TCP"}])
    );
    assert_eq!(
        main["readinessProbe"]["httpGet"],
        json!({"path": "/health", "port": "http"})
    );
    let env: Vec<&str> = main["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        env.iter()
            .all(|n| !n.starts_with("DYN_") && !n.starts_with("NIXL_")),
        "{env:?}"
    );
    let service = objects
        .iter()
        .find(|o| {
            o["kind"] == "Service"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("tgi-tgi"))
        })
        .expect("the component Service");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}])
    );
}
