//! Locating the upstream binaries (kube-apiserver, etcd, kwok, kubectl, helm, ...).
//!
//! The directory comes from `DYNAMO_TOOLS_BIN` when set (the test command and CI set it);
//! otherwise `hack/build-tools.sh` is run once per test process and its last stdout line is
//! taken. A missing binary is an error that names that command, never a skipped test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::error::{Component, HarnessError, Result};

/// The environment variable that points at the bin dir printed by `hack/build-tools.sh`.
pub const TOOLS_BIN_ENV: &str = "DYNAMO_TOOLS_BIN";

/// The workspace-relative path of the script that builds the binaries.
pub const BUILD_TOOLS_SCRIPT: &str = "hack/build-tools.sh";

/// The root of the Cargo workspace this harness was compiled in.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("..").join("..");
    root.canonicalize().unwrap_or(root)
}

/// The directory holding the upstream binaries.
#[derive(Clone, Debug)]
pub struct Bins {
    dir: PathBuf,
}

impl Bins {
    /// Finds the bin dir via `DYNAMO_TOOLS_BIN` or, failing that, by running `hack/build-tools.sh`.
    ///
    /// The script runs at most once per process; its progress goes to stderr. This blocks, so
    /// async callers should use [`Bins::locate_async`].
    pub fn locate() -> Result<Self> {
        static LOCATED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let located = LOCATED.get_or_init(|| locate_dir().map_err(|e| e.to_string()));
        match located {
            Ok(dir) => Ok(Bins { dir: dir.clone() }),
            Err(reason) => Err(HarnessError::BuildTools {
                command: BUILD_TOOLS_SCRIPT.to_owned(),
                reason: reason.clone(),
            }),
        }
    }

    /// Like [`Bins::locate`], but runs on tokio's blocking pool.
    pub async fn locate_async() -> Result<Self> {
        tokio::task::spawn_blocking(Bins::locate)
            .await
            .map_err(|e| HarnessError::BuildTools {
                command: BUILD_TOOLS_SCRIPT.to_owned(),
                reason: format!("locating the tools panicked: {e}"),
            })?
    }

    /// Uses an explicit bin dir (not checked until a binary is asked for).
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        Bins { dir: dir.into() }
    }

    /// The bin dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of the upstream CRDs `hack/build-tools.sh` fetched as `name` (e.g. `grove`):
    /// `crds/<name>/` beside the bin dir, or [`HarnessError::BuildTools`] when it has no YAML.
    pub fn crds_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self
            .dir
            .parent()
            .unwrap_or(&self.dir)
            .join("crds")
            .join(name);
        let has_yaml = std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        });
        if has_yaml {
            Ok(dir)
        } else {
            Err(HarnessError::BuildTools {
                command: BUILD_TOOLS_SCRIPT.to_owned(),
                reason: format!(
                    "no {name} CRDs in {}: run `{BUILD_TOOLS_SCRIPT}`, which fetches them",
                    dir.display()
                ),
            })
        }
    }

    /// The path of binary `name`, or [`HarnessError::MissingBinary`] if it is not an executable file.
    pub fn path(&self, component: Component, name: &str) -> Result<PathBuf> {
        let path = self.dir.join(name);
        if is_executable(&path) {
            Ok(path)
        } else {
            Err(HarnessError::MissingBinary {
                component,
                name: name.to_owned(),
                path,
            })
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn locate_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(TOOLS_BIN_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if !dir.is_dir() {
            return Err(HarnessError::BuildTools {
                command: BUILD_TOOLS_SCRIPT.to_owned(),
                reason: format!(
                    "{TOOLS_BIN_ENV}={} is not a directory; run `{BUILD_TOOLS_SCRIPT}` and export its last output line",
                    dir.display()
                ),
            });
        }
        return Ok(dir);
    }
    run_build_tools(&workspace_root())
}

fn run_build_tools(root: &Path) -> Result<PathBuf> {
    let script = root.join(BUILD_TOOLS_SCRIPT);
    let command = script.display().to_string();
    let fail = |reason: String| HarnessError::BuildTools {
        command: command.clone(),
        reason,
    };
    if !script.is_file() {
        return Err(fail(format!(
            "script not found (and {TOOLS_BIN_ENV} is not set)"
        )));
    }
    let output = Command::new(&script)
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if !output.status.success() {
        return Err(fail(format!(
            "it exited with {} (its stderr is printed above)",
            output.status
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .ok_or_else(|| fail("it printed no bin dir".to_owned()))?;
    let dir = PathBuf::from(last);
    if !dir.is_dir() {
        return Err(fail(format!("its last line {last:?} is not a directory")));
    }
    Ok(dir)
}
