//! The control plane's temporary directory and the watchdog that removes it.
//!
//! The directory must disappear even when the test process dies without running destructors
//! (statics are never dropped, and a process can be killed). So its removal is delegated to a
//! small `sh` watchdog whose stdin is a pipe held by the test process: the kernel closes the pipe
//! when the test process ends in any way, the watchdog reads EOF, waits until the component
//! watchdogs (see [`crate::process`]) have removed their pid files, and deletes the directory.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Component, HarnessError, Result};

/// The environment variable that, when set to anything but empty or `0`, keeps the directory (with
/// logs and certificates) after the control plane stops, for debugging.
pub const KEEP_DIR_ENV: &str = "DYNAMO_HARNESS_KEEP_DIR";

/// `$1` is the directory, `$2` is `keep` to leave it in place. Runs in its own process group, so
/// Ctrl-C on the terminal does not reach it; it acts only on EOF of stdin.
const DIR_WATCHDOG: &str = r#"
dir=$1; keep=$2
trap '' INT HUP
read -r _ || true
i=0
while [ "$i" -lt 300 ]; do
  alive=
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] && alive=1
  done
  [ -z "$alive" ] && break
  sleep 0.1
  i=$((i + 1))
done
if [ "$keep" = keep ]; then
  echo "dynamo-test-harness: kept $dir ($KEEP_DIR_ENV)" >&2
else
  rm -rf "$dir"
fi
"#;

/// The temporary directory of one control plane, with a fixed layout.
#[derive(Debug)]
pub(crate) struct WorkDir {
    root: PathBuf,
    guard: Option<(Child, ChildStdin)>,
}

impl WorkDir {
    /// Creates a fresh directory under the system temp dir and starts its removal watchdog.
    pub(crate) fn create() -> Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("dynamo-cp-")
            .tempdir()
            .map_err(|e| HarnessError::io(Component::Setup, "creating", std::env::temp_dir(), e))?
            .keep();
        let mut dir = WorkDir { root, guard: None };
        for sub in ["pki", "logs", "run", "kwok", "helm"] {
            let path = dir.root.join(sub);
            std::fs::create_dir_all(&path)
                .map_err(|e| HarnessError::io(Component::Setup, "creating", path, e))?;
        }
        let log = dir.log("workdir-watchdog");
        let log_file = std::fs::File::create(&log)
            .map_err(|e| HarnessError::io(Component::Setup, "creating", &log, e))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| HarnessError::io(Component::Setup, "opening", &log, e))?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(DIR_WATCHDOG)
            .arg("dynamo-cp-workdir")
            .arg(&dir.root)
            .arg(if keep_dir() { "keep" } else { "remove" })
            .env("KEEP_DIR_ENV", KEEP_DIR_ENV)
            .stdin(Stdio::piped())
            .stdout(log_file)
            .stderr(log_err)
            .process_group(0)
            .spawn()
            .map_err(|e| HarnessError::Spawn {
                component: Component::Setup,
                program: PathBuf::from("sh"),
                source: e,
            })?;
        match child.stdin.take() {
            Some(stdin) => dir.guard = Some((child, stdin)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HarnessError::invalid(
                    Component::Setup,
                    "the workdir watchdog has no stdin pipe",
                ));
            }
        }
        Ok(dir)
    }

    /// The directory itself.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// A path inside the directory.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The log file of `name`.
    pub(crate) fn log(&self, name: &str) -> PathBuf {
        self.root.join("logs").join(format!("{name}.log"))
    }

    /// The directory for pid and exit-status files.
    pub(crate) fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// Writes `contents` to `relative`, creating its parent directories.
    pub(crate) fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf> {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| HarnessError::io(Component::Setup, "creating", parent, e))?;
        }
        let mut file = std::fs::File::create(&path)
            .map_err(|e| HarnessError::io(Component::Setup, "creating", &path, e))?;
        file.write_all(contents.as_ref())
            .map_err(|e| HarnessError::io(Component::Setup, "writing", &path, e))?;
        Ok(path)
    }
}

fn keep_dir() -> bool {
    std::env::var_os(KEEP_DIR_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

impl Drop for WorkDir {
    /// Lets the watchdog remove the directory and waits (bounded) for it to finish.
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.guard.take() {
            drop(stdin);
            let deadline = Instant::now() + Duration::from_secs(40);
            while Instant::now() < deadline {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => return,
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
