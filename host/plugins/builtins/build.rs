//! Compiles the built-in plugins to WebAssembly components (see `dynamo-plugin-build`).

/// The built-in plugin crates. Adding a backend is one line here (and its crate in the workspace).
const BUILTINS: &[&str] = &[
    "dynamo-plugin-vllm",
    "dynamo-plugin-sglang",
    "dynamo-plugin-trtllm",
    "dynamo-plugin-mpi",
];

fn main() {
    dynamo_plugin_build::embed("builtins.rs", BUILTINS);
}
