//! Building the example plugin in each language, and running the operator binary.
//!
//! Each component is built once per test binary: Rust with `dynamo-plugin-build` into the nested
//! `<target>/wasm-plugins` (never the target dir the running `cargo test` holds), Python with
//! componentize-py and JavaScript with jco into `<target>/tmp/plugin-languages`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dynamo_test_harness::{Bins, Component};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The operator binary, run from `dir`.
pub fn operator(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dynamo-operator"));
    command.current_dir(dir);
    command
}

/// Lossy UTF-8 of a process's output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A plugin toolchain from the tools directory (`componentize-py`, `jco`).
pub fn tool(name: &str) -> PathBuf {
    let bins = Bins::locate().unwrap_or_else(|e| panic!("{e}"));
    bins.path(Component::Tools, name).unwrap_or_else(|e| {
        panic!("{e}: `hack/build-tools.sh` installs it (through hack/plugin-tools.sh)")
    })
}

/// The tools directory, for a child's `PATH`.
pub fn tools_dir() -> PathBuf {
    Bins::locate()
        .unwrap_or_else(|e| panic!("{e}"))
        .dir()
        .to_owned()
}

/// `PATH` with the tools directory first.
pub fn path_with_tools() -> std::ffi::OsString {
    let mut dirs = vec![tools_dir()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("a valid PATH")
}

/// Runs `command`, panicking with its output when it fails; returns how long it took.
pub fn run(what: &str, command: &mut Command) -> Duration {
    let start = Instant::now();
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    start.elapsed()
}

/// The objects of a rendered YAML stream.
pub fn documents(stream: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize as _;
    serde_yaml_ng::Deserializer::from_str(stream)
        .map(|d| serde_json::Value::deserialize(d).expect("rendered YAML parses"))
        .filter(|v| !v.is_null())
        .collect()
}

/// The main container of the first Deployment among `objects`.
pub fn deployment_main_container(objects: &[serde_json::Value]) -> serde_json::Value {
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap_or_else(|| panic!("no Deployment among {} objects", objects.len()));
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "main")
        .cloned()
        .expect("a main container")
}

/// `<target>/tmp/plugin-languages`, for components built here.
pub fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-languages");
    std::fs::create_dir_all(&dir).expect("creating the output directory");
    dir
}

/// The contract folder new plugins build against.
pub fn wit_dir() -> PathBuf {
    workspace().join(format!(
        "wit/dynamo-backend@{}",
        dynamo_plugin_runtime::contract::WIT_VERSION
    ))
}

/// How long a test lets one plugin compile: components that carry an interpreter take tens of
/// seconds in a debug build, and several compile at once on a two-core machine.
pub const TEST_COMPILE_TIMEOUT: Duration = Duration::from_secs(900);

/// The runtime configuration of these tests: the defaults, but patient compiles.
pub fn runtime_config() -> dynamo_plugin_runtime::RuntimeConfig {
    dynamo_plugin_runtime::RuntimeConfig::new().compile_timeout(TEST_COMPILE_TIMEOUT)
}

/// An operator configuration file with [`TEST_COMPILE_TIMEOUT`], for `render --config`.
pub fn operator_config() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let file = out_dir().join("patient-compile.yaml");
        let yaml = format!(
            "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\n\
             kind: OperatorConfiguration\n\
             plugins:\n  limits:\n    compileTimeout: {}s\n",
            TEST_COMPILE_TIMEOUT.as_secs()
        );
        std::fs::write(&file, yaml).expect("writing the test configuration");
        file
    })
}

/// `dynamo-operator render -f <graph> --plugin-dir <dir> --config <patient compiles>`, run in
/// `cwd`.
pub fn render_with_plugins(cwd: &Path, graph: &str, plugin_dir: &Path) -> std::process::Output {
    operator(cwd)
        .args(["render", "-f", graph, "--plugin-dir"])
        .arg(plugin_dir)
        .arg("--config")
        .arg(operator_config())
        .output()
        .expect("running dynamo-operator")
}

/// Compiles `wasm` once into the default plugin cache, so later loads in this process and in
/// the operator binaries it runs find it compiled.
fn warm_cache(wasm: &Path) {
    let runtime = dynamo_plugin_runtime::PluginRuntime::new(runtime_config()).expect("runtime");
    let bytes = std::fs::read(wasm).expect("the component");
    if let Err(e) = runtime.load(
        dynamo_plugin_runtime::PluginOrigin::Bytes(wasm.display().to_string()),
        &bytes,
    ) {
        panic!("{} does not load: {e}", wasm.display());
    }
}

/// The example plugin in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `examples/tgi/rust`.
    Rust,
    /// `examples/tgi/python`.
    Python,
    /// `examples/tgi/js`.
    Js,
}

/// Every language, Rust first.
pub const LANGS: [Lang; 3] = [Lang::Rust, Lang::Python, Lang::Js];

/// A built component and how long its build took.
#[derive(Debug, Clone)]
pub struct Built {
    /// The `.wasm` file.
    pub wasm: PathBuf,
    /// The build's wall time (zero when cargo found it up to date).
    pub took: Duration,
}

/// The TGI example component in `lang`, built on first use.
pub fn tgi(lang: Lang) -> &'static Built {
    static RUST: OnceLock<Built> = OnceLock::new();
    static PYTHON: OnceLock<Built> = OnceLock::new();
    static JS: OnceLock<Built> = OnceLock::new();
    let (cell, build): (&OnceLock<Built>, fn() -> Built) = match lang {
        Lang::Rust => (&RUST, build_rust_tgi),
        Lang::Python => (&PYTHON, build_python_tgi),
        Lang::Js => (&JS, build_js_tgi),
    };
    cell.get_or_init(|| {
        let built = build();
        warm_cache(&built.wasm);
        built
    })
}

fn build_rust_tgi() -> Built {
    let start = Instant::now();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp.parent().unwrap_or(&tmp).join("wasm-plugins");
    let built = dynamo_plugin_build::build(&workspace(), &target, &["tgi-backend-plugin"])
        .unwrap_or_else(|e| panic!("building the Rust TGI plugin: {e}"));
    Built {
        wasm: built.into_iter().next().expect("one package built").wasm,
        took: start.elapsed(),
    }
}

fn build_python_tgi() -> Built {
    let wasm = out_dir().join("tgi-python.wasm");
    let example = workspace().join("examples/tgi/python");
    let took = run(
        "componentize-py (examples/tgi/python)",
        Command::new(tool("componentize-py"))
            .current_dir(&example)
            .arg("-d")
            .arg(wit_dir())
            .args(["-w", "plugin", "componentize", "app", "-p", "."])
            .arg("-p")
            .arg(workspace().join("plugins/sdk-python"))
            .arg("-o")
            .arg(&wasm),
    );
    Built { wasm, took }
}

fn build_js_tgi() -> Built {
    let wasm = out_dir().join("tgi-js.wasm");
    let example = workspace().join("examples/tgi/js");
    // The SDK's build script bundles the plugin's modules into one and runs jco on it.
    let took = run(
        "node plugins/sdk-js/build.js (examples/tgi/js)",
        Command::new("node")
            .current_dir(&example)
            .env("PATH", path_with_tools())
            .arg(workspace().join("plugins/sdk-js/build.js"))
            .args(["src/plugin.js", "-o"])
            .arg(&wasm)
            .arg("--wit")
            .arg(wit_dir()),
    );
    Built { wasm, took }
}
