//! Shared helpers of the MPI launcher tests: fixtures, the host's placements, and running
//! rendered script fragments with stub programs.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use dynamo_plugin_sdk::k8s_openapi::api::core::v1::Container;

#[allow(unused_imports)]
pub use dynamo_plugin_sdk::testing::{grove, kubelet_expand, lws, main, pod, strings};

dynamo_plugin_sdk::fixture_loaders!();

/// The script of a container run as `/bin/sh -c <script>`.
pub fn script(c: &Container) -> String {
    assert_eq!(
        c.command.as_deref(),
        Some(&["/bin/sh".to_owned(), "-c".to_owned()][..])
    );
    let args = c.args.as_ref().expect("args");
    assert_eq!(args.len(), 1);
    args[0].clone()
}

/// A directory of stub programs that print their arguments NUL-separated to stdout.
pub fn stubs(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in names {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\nprintf '%s\\0' {name} \"$@\"\n")).expect("stub");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    dir
}

/// Runs `sh -c <script>` (after kubelet expansion with `env`) with `stubs` first on the `PATH`.
/// Returns (exit code, NUL-separated words printed by the stubs, stderr); `None` without `sh`.
pub fn run_script(
    script: &str,
    env: &[(&str, &str)],
    stubs: &Path,
) -> Option<(i32, Vec<String>, String)> {
    if !Path::new("/bin/sh").exists() {
        return None;
    }
    let path = format!(
        "{}:{}",
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(kubelet_expand(script, env))
        .env("PATH", path)
        .env("HOME", "/home/test")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    // Every word ends with a NUL, so the last piece is empty; empty words in between are kept.
    let mut words: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .map(str::to_owned)
        .collect();
    words.pop();
    Some((
        output.status.code().unwrap_or(-1),
        words,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// The part of `script` from the first line starting with `marker` to the end.
pub fn tail_from(script: &str, marker: &str) -> String {
    let at = script
        .match_indices(marker)
        .find(|(i, _)| *i == 0 || script.as_bytes()[i - 1] == b'\n')
        .map(|(i, _)| i)
        .expect("marker line");
    script[at..].to_owned()
}
