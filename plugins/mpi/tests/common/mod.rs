//! Shared helpers of the MPI launcher tests: fixtures, the host's placements, and running
//! rendered script fragments with stub programs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use dynamo_plugin_sdk::harness;
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{Container, PodTemplateSpec};
use dynamo_plugin_sdk::{Deployer, Placement, RenderInput, RenderOutput, Role};

/// Path of fixture `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads fixture `name` with `placement`.
pub fn load_at(name: &str, placement: Placement) -> RenderInput {
    RenderInput {
        placement,
        ..harness::load_input(fixture(name)).expect("fixture loads")
    }
}

/// The placement the host hands a Grove pod of service `svc` (lower case) over `nodes` nodes.
pub fn grove(role: Role, svc: &str, nodes: u32) -> Placement {
    Placement {
        deployer: Deployer::Grove,
        role,
        node_count: nodes,
        leader_host: format!(
            "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-{svc}-ldr-0.$(GROVE_HEADLESS_SERVICE)"
        ),
        worker_hosts: (0..nodes - 1)
            .map(|i| {
                format!(
                    "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-{svc}-wkr-{i}.$(GROVE_HEADLESS_SERVICE)"
                )
            })
            .collect(),
        node_rank: if role == Role::Worker {
            "$((GROVE_PCLQ_POD_INDEX + 1))"
        } else {
            "0"
        }
        .into(),
        needs_shell: role == Role::Worker,
        needs_dns_wait: false,
    }
}

/// The placement the host hands a LeaderWorkerSet pod over `nodes` nodes.
pub fn lws(role: Role, nodes: u32) -> Placement {
    Placement {
        deployer: Deployer::Lws,
        role,
        node_count: nodes,
        leader_host: "$(LWS_LEADER_ADDRESS)".into(),
        worker_hosts: (1..nodes)
            .map(|r| format!("$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-{r}./')"))
            .collect(),
        node_rank: if role == Role::Worker {
            "$(LWS_WORKER_INDEX)"
        } else {
            "0"
        }
        .into(),
        needs_shell: true,
        needs_dns_wait: true,
    }
}

/// The rendered pod template.
pub fn pod(out: &RenderOutput) -> PodTemplateSpec {
    serde_json::from_str(&out.pod_template).expect("pod template parses")
}

/// The rendered main container.
pub fn main(out: &RenderOutput) -> Container {
    pod(out)
        .spec
        .expect("spec")
        .containers
        .into_iter()
        .find(|c| c.name == "main")
        .expect("main container")
}

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

/// Strings from string slices.
pub fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// What the kubelet does to `command` and `args`: replaces `$(NAME)` by the value of a defined
/// variable (reading the name up to the first `)`), turns `$$` into `$`, keeps everything else.
pub fn kubelet_expand(text: &str, env: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(close) => {
                    let name = &inner[..close];
                    match env.iter().find(|(k, _)| *k == name) {
                        Some((_, value)) => out.push_str(value),
                        None => out.push_str(&rest[at..at + close + 3]),
                    }
                    rest = &inner[close + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
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
