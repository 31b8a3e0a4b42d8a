//! The Python and JavaScript SDKs' own test suites and the TGI example's native tests, run as
//! part of `cargo test` so one command covers every language.

use std::path::Path;
use std::process::Command;

use crate::build::{path_with_tools, run, workspace};

fn suite(what: &str, dir: &Path, program: &str, args: &[&str]) {
    run(
        what,
        Command::new(program)
            .current_dir(dir)
            .env("PATH", path_with_tools())
            // No __pycache__ folders in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args(args),
    );
}

#[test]
fn the_python_sdk_and_example_pass_their_tests() {
    let root = workspace();
    suite(
        "python3 -m unittest (plugins/sdk-python)",
        &root.join("plugins/sdk-python"),
        "python3",
        &["-m", "unittest"],
    );
    suite(
        "python3 -m unittest (examples/tgi/python)",
        &root.join("examples/tgi/python"),
        "python3",
        &["-m", "unittest"],
    );
}

#[test]
fn the_javascript_sdk_and_example_pass_their_tests() {
    let root = workspace();
    suite(
        "node --test (plugins/sdk-js)",
        &root.join("plugins/sdk-js"),
        "node",
        &["--test"],
    );
    suite(
        "node --test (examples/tgi/js)",
        &root.join("examples/tgi/js"),
        "node",
        &["--test"],
    );
}
