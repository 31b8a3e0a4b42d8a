//! Plugin authoring end to end: the plugin inputs the host sends (`render --plugin-input`), the
//! same example plugin written in Rust, Python and JavaScript passing one set of conformance
//! vectors through the real wasmtime host, and new projects from `plugin new` that build, test
//! and render a graph from outside the workspace.
//!
//! Python and JavaScript components are built with componentize-py and jco from the tools
//! directory (`DYNAMO_TOOLS_BIN`, filled by `hack/build-tools.sh`); a missing tool fails the test
//! with the command to run, never skips it.

mod build;
mod languages;
mod native_suites;
mod plugin_input;
mod scaffold;
