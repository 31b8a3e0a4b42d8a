//! The llama.cpp example plugin (`examples/llamacpp-plugin`), a plain engine shipped apart from
//! the operator, compiled once per test binary.
//!
//! It is built to a wasm32-wasip2 component with `dynamo-plugin-build` (release, size profile)
//! into `<target>/wasm-plugins`: the nested target dir the built-ins use, never the one the running
//! `cargo test` holds locked, so there is no lock deadlock and the SDK's dependencies compiled for
//! the built-ins are reused. With `DYNAMO_PLUGIN_WASM_DIR` set, the prebuilt
//! `llamacpp_backend_plugin.wasm` there is used instead.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const PACKAGE: &str = "llamacpp-backend-plugin";

/// The repository root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The plugin component, built on first use.
pub fn plugin_wasm() -> &'static Path {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let file = dynamo_plugin_build::wasm_file_name(PACKAGE);
        if let Some(dir) = std::env::var_os(dynamo_plugin_build::PREBUILT_DIR_ENV) {
            return PathBuf::from(dir).join(file);
        }
        // CARGO_TARGET_TMPDIR is `<target>/tmp`.
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let target = tmp.parent().unwrap_or(&tmp).join("wasm-plugins");
        match dynamo_plugin_build::build(&workspace(), &target, &[PACKAGE]) {
            Ok(built) => built
                .into_iter()
                .next()
                .map(|b| b.wasm)
                .expect("one package built"),
            Err(e) => panic!("building the example plugin: {e}"),
        }
    })
}

/// A fresh plugin directory holding only the example plugin.
pub fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(plugin_wasm(), dir.path().join("llamacpp.wasm")).expect("copying the plugin");
    dir
}
