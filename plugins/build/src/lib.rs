//! Compiles plugin crates to WebAssembly components from a build script, for embedding.
//!
//! A crate that embeds plugins (`dynamo-plugin-builtins`, the test fixtures) calls [`embed`] from
//! its `build.rs`. It runs a nested
//! `cargo build --release --target wasm32-wasip2 -p <plugin>...` on this workspace and writes a
//! Rust file to `OUT_DIR` that `include_bytes!`s the resulting `.wasm` files:
//!
//! ```text
//! // build.rs
//! fn main() {
//!     dynamo_plugin_build::embed("plugins.rs", &["dynamo-plugin-echo"]);
//! }
//! // src/lib.rs: include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
//! //   defines `pub static PLUGINS: &[(&str, &[u8])]` = (package name, component bytes)
//! ```
//!
//! Details that matter:
//! - **Own target dir.** The nested build uses `<outer target dir>/wasm-plugins`, never the outer
//!   one: the outer cargo holds its build-directory lock while build scripts run, so sharing it
//!   would deadlock. Every embedding crate shares the nested dir, so plugin dependencies are
//!   compiled once (the nested cargo serialises on its own lock).
//! - **Clean environment.** Variables the outer cargo sets for build scripts that would leak into
//!   the nested build are removed: host `RUSTFLAGS`/`CARGO_ENCODED_RUSTFLAGS` (e.g.
//!   `-C target-cpu=native`), `RUSTC_WORKSPACE_WRAPPER` (clippy), `CARGO_TARGET_DIR` and
//!   `CARGO_BUILD_TARGET`. The jobserver (`CARGO_MAKEFLAGS`) is kept so the nested build shares
//!   the outer build's CPU budget.
//! - **Size-optimised profile.** `opt-level = "s"`, fat LTO, one codegen unit, debug info stripped
//!   (function names kept for trap backtraces): a smaller component compiles faster in the host.
//! - **Prebuilt override.** With `DYNAMO_PLUGIN_WASM_DIR` set, `<dir>/<crate_name>.wasm` files are
//!   embedded as they are and no nested build runs (offline packaging, cross builds).
//! - **Change tracking.** The build script reruns when `plugins/`, `wit/`, the root `Cargo.toml`
//!   or `Cargo.lock` change; the nested cargo then decides what actually needs rebuilding.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// The target plugins are compiled for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Environment variable naming a directory of prebuilt `<crate_name>.wasm` files.
pub const PREBUILT_DIR_ENV: &str = "DYNAMO_PLUGIN_WASM_DIR";

/// Profile settings for plugin builds, passed as `--config` overrides of the release profile.
const PROFILE: [&str; 5] = [
    "profile.release.opt-level=\"s\"",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.debug=false",
    "profile.release.strip=\"debuginfo\"",
];

/// Variables that must not leak from an outer build (or a running `cargo test`) into a nested
/// cargo.
pub const SCRUBBED_ENV: [&str; 8] = [
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_BUILD_DIR",
];

/// One compiled plugin component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPlugin {
    /// Cargo package name, e.g. `dynamo-plugin-echo`.
    pub package: String,
    /// Path of the `.wasm` component.
    pub wasm: PathBuf,
}

/// Finds the workspace root: the nearest ancestor of `start` whose `Cargo.toml` has `[workspace]`.
pub fn workspace_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        manifest
            .lines()
            .any(|l| l.trim() == "[workspace]")
            .then(|| dir.to_owned())
    })
}

/// The nested build's target dir: `wasm-plugins` beside the outer profile dirs
/// (`<target>/wasm-plugins`), derived from `out_dir` (`<target>/<profile>/build/<pkg>/out`).
pub fn nested_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(|build| build.parent()?.parent())
        .map(|target| target.join("wasm-plugins"))
        .unwrap_or_else(|| out_dir.join("wasm-plugins"))
}

/// The file name cargo gives a package's cdylib for `wasm32-wasip2`.
pub fn wasm_file_name(package: &str) -> String {
    format!("{}.wasm", package.replace('-', "_"))
}

/// Compiles `packages` for `wasm32-wasip2` with a nested cargo into `target_dir`.
///
/// Returns an error carrying cargo's output when the build fails.
pub fn build(
    workspace: &Path,
    target_dir: &Path,
    packages: &[&str],
) -> Result<Vec<BuiltPlugin>, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .arg("build")
        .arg("--release")
        .args(["--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    for setting in PROFILE {
        cmd.args(["--config", setting]);
    }
    for package in packages {
        cmd.args(["-p", package]);
    }
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run cargo for the nested plugin build: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "nested plugin build failed ({}): {cmd:?}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let release = target_dir.join(WASM_TARGET).join("release");
    packages
        .iter()
        .map(|package| {
            let wasm = release.join(wasm_file_name(package));
            if wasm.is_file() {
                Ok(BuiltPlugin {
                    package: (*package).to_owned(),
                    wasm,
                })
            } else {
                Err(format!(
                    "nested plugin build produced no {} (is `crate-type` missing \"cdylib\"?)",
                    wasm.display()
                ))
            }
        })
        .collect()
}

/// Build-script entry point: compiles (or finds prebuilt) `packages`, copies the components into
/// `OUT_DIR` and writes `OUT_DIR/<file>` defining `pub static PLUGINS: &[(&str, &[u8])]`.
///
/// # Panics
///
/// Panics (failing the build with the message) when not run from a build script or when the
/// nested build fails: a build script reports errors by panicking.
pub fn embed(file: &str, packages: &[&str]) {
    if let Err(e) = try_embed(file, packages) {
        panic!("{e}");
    }
}

fn try_embed(file: &str, packages: &[&str]) -> Result<(), String> {
    let out_dir = PathBuf::from(
        env::var_os("OUT_DIR").ok_or("OUT_DIR is not set: call embed from build.rs")?,
    );
    let manifest_dir = PathBuf::from(
        env::var_os("CARGO_MANIFEST_DIR")
            .ok_or("CARGO_MANIFEST_DIR is not set: call embed from build.rs")?,
    );
    let workspace =
        workspace_root(&manifest_dir).ok_or("no workspace root above CARGO_MANIFEST_DIR")?;
    println!("cargo:rerun-if-env-changed={PREBUILT_DIR_ENV}");

    let built = match env::var_os(PREBUILT_DIR_ENV) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            println!("cargo:rerun-if-changed={}", dir.display());
            packages
                .iter()
                .map(|package| {
                    let wasm = dir.join(wasm_file_name(package));
                    if wasm.is_file() {
                        Ok(BuiltPlugin {
                            package: (*package).to_owned(),
                            wasm,
                        })
                    } else {
                        Err(format!("{PREBUILT_DIR_ENV} has no {}", wasm.display()))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        None => {
            for watched in ["plugins", "wit", "Cargo.toml", "Cargo.lock"] {
                println!(
                    "cargo:rerun-if-changed={}",
                    workspace.join(watched).display()
                );
            }
            build(&workspace, &nested_target_dir(&out_dir), packages)?
        }
    };

    let mut code =
        String::from("/// Embedded plugin components: (cargo package name, component bytes).\n");
    code.push_str("pub static PLUGINS: &[(&str, &[u8])] = &[\n");
    for plugin in &built {
        let copy = out_dir.join(wasm_file_name(&plugin.package));
        fs::copy(&plugin.wasm, &copy)
            .map_err(|e| format!("cannot copy {} to OUT_DIR: {e}", plugin.wasm.display()))?;
        let _ = writeln!(
            code,
            "    ({:?}, include_bytes!({:?})),",
            plugin.package,
            copy.display().to_string()
        );
    }
    code.push_str("];\n");
    fs::write(out_dir.join(file), code).map_err(|e| format!("cannot write {file}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_dir_sits_beside_the_profiles() {
        let out = Path::new("/w/target/debug/build/x-123/out");
        assert_eq!(nested_target_dir(out), Path::new("/w/target/wasm-plugins"));
        let cross = Path::new("/w/target/x86_64-unknown-linux-gnu/release/build/x-1/out");
        assert_eq!(
            nested_target_dir(cross),
            Path::new("/w/target/x86_64-unknown-linux-gnu/wasm-plugins")
        );
        assert_eq!(
            nested_target_dir(Path::new("/odd")),
            Path::new("/odd/wasm-plugins")
        );
    }

    #[test]
    fn finds_this_workspace() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = workspace_root(here).expect("inside a workspace");
        assert!(root.join("plugins/build").is_dir());
        assert_eq!(
            wasm_file_name("dynamo-plugin-echo"),
            "dynamo_plugin_echo.wasm"
        );
    }
}
