//! Compiles the plugins the benches need to wasm32-wasip2 components (see `dynamo-plugin-build`):
//! `echo` for the empty-call overhead, and the backend and launcher plugins in case they are not
//! (or no longer) built-ins.
//!
//! The benches take a plugin from `dynamo-plugin-builtins` when it is embedded there and fall back
//! to these copies otherwise, so the figures stay right as the built-in list changes.

/// The plugin crates the benches use.
const PLUGINS: &[&str] = &[
    "dynamo-plugin-echo",
    "dynamo-plugin-vllm",
    "dynamo-plugin-sglang",
    "dynamo-plugin-trtllm",
    "dynamo-plugin-mpi",
];

fn main() {
    dynamo_plugin_build::embed("plugins.rs", PLUGINS);
}
