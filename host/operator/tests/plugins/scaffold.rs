//! `plugin new`: a project in each language (Rust, Python, JavaScript, TypeScript), made outside
//! the workspace, passes its own tests, builds to a component and renders its example graph
//! through `--plugin-dir`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::build::{
    deployment_main_container, documents, operator, path_with_tools, render_with_plugins, run,
    text, tool, tools_dir,
};

/// The plugin name every new project gets here.
const NAME: &str = "acme";

/// Writes a new `lang` project into a fresh temporary directory (outside the workspace).
fn new_project(lang: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join(format!("{NAME}-plugin"));
    let out = operator(dir.path())
        .args(["plugin", "new", NAME, "--lang", lang])
        .output()
        .expect("running dynamo-operator");
    assert!(
        out.status.success(),
        "plugin new --lang {lang}: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("created"),
        "{}",
        text(&out.stderr)
    );
    let stamp: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("dynamo-plugin.json")).expect("a stamp"),
    )
    .expect("JSON");
    assert_eq!(stamp["contract"], "dynamo:backend@0.3.0");
    (dir, project)
}

/// A command run in `project` with the plugin tools first on `PATH`.
fn in_project(project: &Path, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(project).env("PATH", path_with_tools());
    command
}

/// Renders the project's `graph.yaml` with `wasm` as the only extra plugin; returns the main
/// container of the plugin's Deployment.
fn render_with(project: &Path, wasm: &Path) -> Value {
    let plugins = tempfile::tempdir().expect("temp dir");
    std::fs::copy(wasm, plugins.path().join(format!("{NAME}.wasm"))).expect("copied");
    let out = render_with_plugins(project, "graph.yaml", plugins.path());
    assert!(out.status.success(), "render: {}", text(&out.stderr));
    deployment_main_container(&documents(&text(&out.stdout)))
}

/// What every template's plugin does: an `http` port, probed on a health path, no Dynamo
/// runtime defaults, and the model cache at `/cache` that `HF_HOME` names.
fn assert_plain_engine(main: &Value) {
    assert!(
        main["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["mountPath"] == "/cache"),
        "{main}"
    );
    assert!(
        main["env"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["name"] == "HF_HOME" && e["value"] == "/cache"),
        "{main}"
    );
    let ports = main["ports"].as_array().expect("ports");
    assert!(ports.iter().any(|p| p["name"] == "http"), "{main}");
    assert!(
        ports
            .iter()
            .all(|p| p["name"] != "system" && p["name"] != "nixl"),
        "{main}"
    );
    assert_eq!(main["readinessProbe"]["httpGet"]["port"], "http", "{main}");
    let env = main["env"].as_array().into_iter().flatten();
    assert!(
        env.filter_map(|e| e["name"].as_str())
            .all(|n| !n.starts_with("DYN_")),
        "{main}"
    );
}

#[test]
fn a_new_rust_plugin_tests_builds_and_renders() {
    let (_dir, project) = new_project("rust");
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    // The nested target dir the built-ins use: the SDK's dependencies are compiled once.
    let target = tmp.parent().unwrap_or(&tmp).join("wasm-plugins");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let nested = |args: &[&str]| {
        let mut command = in_project(&project, &cargo);
        for var in dynamo_plugin_build::SCRUBBED_ENV {
            command.env_remove(var);
        }
        command.env("CARGO_TARGET_DIR", &target).args(args);
        command
    };
    run("cargo test (new Rust plugin)", &mut nested(&["test"]));
    run(
        "cargo build (new Rust plugin)",
        &mut nested(&["build", "--release", "--target", "wasm32-wasip2"]),
    );
    let wasm = target.join(format!("wasm32-wasip2/release/{NAME}_plugin.wasm"));
    assert!(wasm.is_file(), "{} was not built", wasm.display());
    assert_plain_engine(&render_with(&project, &wasm));
}

#[test]
fn a_new_python_plugin_tests_builds_and_renders() {
    let (_dir, project) = new_project("python");
    run(
        "python3 -m unittest (new Python plugin)",
        in_project(&project, "python3").args(["-m", "unittest"]),
    );
    run(
        "componentize-py (new Python plugin)",
        in_project(&project, tool("componentize-py")).args([
            "-d",
            "wit/dynamo-backend@0.3.0",
            "-w",
            "plugin",
            "componentize",
            "app",
            "-p",
            ".",
            "-o",
            &format!("build/{NAME}.wasm"),
        ]),
    );
    assert_plain_engine(&render_with(
        &project,
        &project.join(format!("build/{NAME}.wasm")),
    ));
}

#[test]
fn a_new_javascript_plugin_tests_builds_and_renders() {
    let (_dir, project) = new_project("js");
    run(
        "npm test (new JavaScript plugin)",
        in_project(&project, "npm").arg("test"),
    );
    run(
        "npm run build (new JavaScript plugin)",
        in_project(&project, "npm").args(["run", "build"]),
    );
    assert_plain_engine(&render_with(
        &project,
        &project.join(format!("dist/{NAME}.wasm")),
    ));
}

#[test]
fn a_new_typescript_plugin_type_checks_tests_builds_and_renders() {
    let (_dir, project) = new_project("ts");
    // `npm install` would fetch what hack/plugin-tools.sh already installed from the same pins
    // (TypeScript, Node's types, jco): link that instead of downloading it for every test run.
    tool("tsc");
    let installed = tools_dir()
        .parent()
        .expect("the tools cache")
        .join("plugin-languages/node/node_modules");
    assert!(
        installed.join("@types/node").is_dir(),
        "{} has no @types/node: run hack/build-tools.sh",
        installed.display()
    );
    std::os::unix::fs::symlink(&installed, project.join("node_modules")).expect("linked");

    run(
        "npm test (new TypeScript plugin)",
        in_project(&project, "npm").arg("test"),
    );
    assert!(
        project.join("src/plugin.js").is_file(),
        "tsc writes the JavaScript beside the TypeScript"
    );

    // A type error stops the test run before any test runs.
    let source = project.join("src/plugin.ts");
    let typed = std::fs::read_to_string(&source).expect("the plugin source");
    std::fs::write(
        &source,
        typed.replace(
            "const flags: ShellArg[][] = [['--port', String(PORT)]];",
            "const flags: ShellArg[][] = [['--port', PORT]];",
        ),
    )
    .expect("written");
    let out = in_project(&project, "npm")
        .arg("test")
        .output()
        .expect("running npm");
    let printed = text(&out.stdout) + &text(&out.stderr);
    assert!(!out.status.success(), "a type error must fail `npm test`");
    assert!(
        printed.contains("src/plugin.ts") && printed.contains("not assignable to type 'ShellArg'"),
        "tsc names the file and the error: {printed}"
    );
    std::fs::write(&source, typed).expect("restored");

    run(
        "npm run build (new TypeScript plugin)",
        in_project(&project, "npm").args(["run", "build"]),
    );
    assert_plain_engine(&render_with(
        &project,
        &project.join(format!("dist/{NAME}.wasm")),
    ));
}
