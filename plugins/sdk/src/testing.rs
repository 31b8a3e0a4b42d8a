//! Helpers for plugin tests: the host's placements, reading rendered output, and running rendered
//! command lines the way a pod would.
//!
//! Enabled by the `testing` cargo feature, which plugins turn on from their `[dev-dependencies]`
//! only; native builds only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::{Container, PodTemplateSpec};

use crate::{Deployer, Placement, RenderInput, RenderOutput, Role, harness};

/// Path of fixture `name` in the `tests/fixtures` folder of the crate at `manifest_dir`.
///
/// Pass `env!("CARGO_MANIFEST_DIR")` of the plugin crate.
pub fn fixture_path(manifest_dir: impl AsRef<Path>, name: &str) -> PathBuf {
    manifest_dir.as_ref().join("tests/fixtures").join(name)
}

/// Loads fixture `name` (see [`fixture_path`]) with `placement` instead of the fixture's own.
pub fn load_fixture_at(
    manifest_dir: impl AsRef<Path>,
    name: &str,
    placement: Placement,
) -> RenderInput {
    RenderInput {
        placement,
        ..harness::load_input(fixture_path(manifest_dir, name)).expect("fixture loads")
    }
}

/// Defines `fixture`, `load` and `load_at` for the calling crate's `tests/fixtures` folder.
///
/// `env!("CARGO_MANIFEST_DIR")` is read where the macro is expanded, so the helpers find the
/// calling plugin's fixtures; `load_at` replaces the fixture's placement.
#[macro_export]
macro_rules! fixture_loaders {
    () => {
        /// Path of fixture `name`.
        pub fn fixture(name: &str) -> ::std::path::PathBuf {
            $crate::testing::fixture_path(env!("CARGO_MANIFEST_DIR"), name)
        }

        /// Loads fixture `name`.
        pub fn load(name: &str) -> $crate::RenderInput {
            $crate::harness::load_input(fixture(name)).expect("fixture loads")
        }

        /// Loads fixture `name` with `placement`.
        pub fn load_at(name: &str, placement: $crate::Placement) -> $crate::RenderInput {
            $crate::testing::load_fixture_at(env!("CARGO_MANIFEST_DIR"), name, placement)
        }
    };
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

/// The main container's `command` followed by its `args`.
pub use crate::pod::container_argv as argv;

/// Names and values of a container's plain env vars.
pub fn env(c: &Container) -> BTreeMap<String, Option<String>> {
    c.env
        .iter()
        .flatten()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect()
}

/// Strings from string slices.
pub fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// What the kubelet does to `command` and `args` before starting a container.
///
/// Replaces `$(NAME)` by the variable's value when `NAME` is defined in `env`, reading the name up
/// to the first `)`; `$$` becomes `$`; anything else is kept.
pub fn kubelet_expand(text: &str, env: &[(&str, &str)]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'$' => {
                    out.push('$');
                    i += 2;
                }
                b'(' => match text[i + 2..].find(')') {
                    Some(close) => {
                        let name = &text[i + 2..i + 2 + close];
                        match env.iter().find(|(k, _)| *k == name) {
                            Some((_, value)) => out.push_str(value),
                            None => out.push_str(&text[i..i + 3 + close]),
                        }
                        i += 3 + close;
                    }
                    None => {
                        out.push_str("$(");
                        i += 2;
                    }
                },
                _ => {
                    out.push('$');
                    i += 1;
                }
            }
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Runs `argv` (after kubelet expansion with `env`) with stub `python3` and `ray` programs.
///
/// The stubs come first on the `PATH` and print each argument they receive on its own line.
/// Returns those lines, or `None` when there is no `/bin/sh`; panics when the command fails.
pub fn run_with_stub_engine(argv: &[String], env: &[(&str, &str)]) -> Option<Vec<String>> {
    if !Path::new("/bin/sh").exists() {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for stub in ["python3", "ray"] {
        let path = dir.path().join(stub);
        std::fs::write(
            &path,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
        )
        .expect("stub");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    let expanded: Vec<String> = argv.iter().map(|a| kubelet_expand(a, env)).collect();
    let (program, rest) = expanded.split_first().expect("argv");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(program)
        .args(rest)
        .env_clear()
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_expansion() {
        let env = [("A", "1"), ("B", "x y")];
        assert_eq!(kubelet_expand("$(A)-$(B)", &env), "1-x y");
        assert_eq!(kubelet_expand("$(C) $(A", &env), "$(C) $(A");
        assert_eq!(kubelet_expand("$$(A) $$ $x $", &env), "$(A) $ $x $");
        assert_eq!(kubelet_expand("$((A + 1))", &env), "$((A + 1))");
        assert_eq!(kubelet_expand("é$(A)ü", &env), "é1ü");
    }

    #[test]
    fn fixture_paths() {
        assert_eq!(
            fixture_path("/x/plugin", "a.yaml"),
            Path::new("/x/plugin/tests/fixtures/a.yaml")
        );
    }

    #[test]
    fn placements() {
        let g = grove(Role::Worker, "svc", 3);
        assert_eq!(g.worker_hosts.len(), 2);
        assert_eq!(g.node_rank, "$((GROVE_PCLQ_POD_INDEX + 1))");
        assert!(g.needs_shell && !g.needs_dns_wait);
        assert_eq!(grove(Role::Leader, "svc", 1).node_rank, "0");
        let l = lws(Role::Worker, 2);
        assert_eq!(
            l.worker_hosts,
            ["$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')"]
        );
        assert_eq!(l.node_rank, "$(LWS_WORKER_INDEX)");
        assert!(l.needs_shell && l.needs_dns_wait);
    }

    #[test]
    fn container_views() {
        let c = Container {
            command: Some(strings(&["a"])),
            args: Some(strings(&["b", "c"])),
            ..Container::default()
        };
        assert_eq!(argv(&c), strings(&["a", "b", "c"]));
        assert!(env(&c).is_empty());
    }

    #[test]
    fn stub_engine_echoes_expanded_arguments() {
        let argv = strings(&["sh", "-c", "python3 -m m --rank $(R) \"$R\""]);
        if let Some(lines) = run_with_stub_engine(&argv, &[("R", "2")]) {
            assert_eq!(lines, strings(&["-m", "m", "--rank", "2", "2"]));
        }
    }
}
