//! Running a control-plane component under a watchdog that kills it when the test process ends.
//!
//! Each component runs as the child of a small `sh` watchdog started in its own process group
//! (so Ctrl-C on the terminal does not race the cleanup). The watchdog's stdin is a pipe whose
//! only write end belongs to the test process (Rust opens pipes close-on-exec, so no other child
//! inherits it). When the test process closes it — on drop, or implicitly because the process
//! exited, panicked or was killed — the watchdog reads EOF, waits (up to 10 s) for the components
//! that must stop first (etcd waits for kube-apiserver, which is slow to stop without etcd), sends
//! SIGTERM, escalates to SIGKILL after five seconds, records the exit status and removes the pid
//! file that [`crate::workdir`]'s watchdog waits for before deleting the directory.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Component, HarnessError, Result};
use crate::workdir::WorkDir;

/// `$1` name, `$2` run dir, `$3` log file, `$4` names of components to let stop first
/// (space-separated, may be empty), `$5...` the command. The component's exit status is written
/// to `$2/$1.exit` whenever it ends.
const WATCHDOG: &str = r#"
name=$1; run=$2; log=$3; after=$4; shift 4
trap '' INT HUP
exec 3<&0 0</dev/null
"$@" </dev/null 3<&- >>"$log" 2>&1 &
child=$!
echo "$child" >"$run/$name.pid"
(
  read -r _ <&3 || true
  for dep in $after; do
    i=0
    while [ -e "$run/$dep.pid" ] && [ "$i" -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
    done
  done
  kill -TERM "$child" 2>/dev/null
  i=0
  while kill -0 "$child" 2>/dev/null && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$child" 2>/dev/null
) &
killer=$!
exec 3<&-
wait "$child"
status=$?
echo "$status" >"$run/$name.exit"
kill "$killer" 2>/dev/null
rm -f "$run/$name.pid"
"#;

/// How long dropping a [`Process`] waits: the watchdog's wait for `stop_after` (10 s) plus its
/// SIGTERM grace period (5 s), with some slack.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// How many log lines errors include.
const LOG_TAIL_LINES: usize = 40;

/// A running component; dropping it stops the component and waits for it.
#[derive(Debug)]
pub(crate) struct Process {
    component: Component,
    watchdog: Child,
    keepalive: Option<ChildStdin>,
    log: PathBuf,
    exit_file: PathBuf,
}

impl Process {
    /// Starts `program args...` under a watchdog, logging to `<workdir>/logs/<component>.log`.
    ///
    /// When asked to stop, the watchdog first waits for the components in `stop_after` to end.
    pub(crate) fn spawn(
        component: Component,
        program: &Path,
        args: &[String],
        stop_after: &[Component],
        workdir: &WorkDir,
    ) -> Result<Self> {
        Self::spawn_as(
            component,
            component.name(),
            program,
            args,
            stop_after,
            workdir,
        )
    }

    /// Like [`Process::spawn`], but names the log, pid and exit-status files after `name`, so two
    /// instances of one component (one stopping while the next starts) keep their files apart.
    pub(crate) fn spawn_as(
        component: Component,
        name: &str,
        program: &Path,
        args: &[String],
        stop_after: &[Component],
        workdir: &WorkDir,
    ) -> Result<Self> {
        let after: Vec<&str> = stop_after.iter().map(|c| c.name()).collect();
        let log = workdir.log(name);
        let run = workdir.run_dir();
        let exit_file = run.join(format!("{name}.exit"));
        // A component started again (an API server restart) must not look like it already died.
        let _ = std::fs::remove_file(&exit_file);
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| HarnessError::io(component, "opening", &log, e))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| HarnessError::io(component, "opening", &log, e))?;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg(format!("dynamo-cp-{name}"))
            .arg(name)
            .arg(&run)
            .arg(&log)
            .arg(after.join(" "))
            .arg(program)
            .args(args)
            .current_dir(workdir.root())
            .stdin(Stdio::piped())
            .stdout(log_file)
            .stderr(log_err)
            .process_group(0)
            .spawn()
            .map_err(|e| HarnessError::Spawn {
                component,
                program: program.to_path_buf(),
                source: e,
            })?;
        let keepalive = watchdog.stdin.take();
        let process = Process {
            component,
            watchdog,
            keepalive,
            log,
            exit_file,
        };
        if process.keepalive.is_none() {
            return Err(HarnessError::invalid(
                component,
                "the watchdog has no stdin pipe",
            ));
        }
        Ok(process)
    }

    /// The component this process runs.
    pub(crate) fn component(&self) -> Component {
        self.component
    }

    /// The component's log file.
    pub(crate) fn log(&self) -> &Path {
        &self.log
    }

    /// The exit status if the component has ended.
    pub(crate) fn exit_status(&self) -> Option<String> {
        std::fs::read_to_string(&self.exit_file)
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// The last lines of the component's log file.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// The error for a component that ended on its own.
    pub(crate) fn exited_error(&self, status: String) -> HarnessError {
        HarnessError::Exited {
            component: self.component,
            status: format!("exit status {status}"),
            log: self.log.clone(),
            log_tail: self.log_tail(),
        }
    }

    /// The error for a component that did not become ready in time.
    pub(crate) fn not_ready_error(&self, timeout: Duration, last_check: String) -> HarnessError {
        HarnessError::NotReady {
            component: self.component,
            timeout,
            last_check,
            log: self.log.clone(),
            log_tail: self.log_tail(),
        }
    }

    /// Asks the watchdog to stop the component (SIGTERM, then SIGKILL after 5 s).
    pub(crate) fn signal_stop(&mut self) {
        self.keepalive = None;
    }

    /// Waits up to `timeout` for the watchdog (and therefore the component) to end.
    pub(crate) fn wait_stopped(&mut self, timeout: Duration) {
        self.signal_stop();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.watchdog.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

impl Drop for Process {
    /// Stops the component and waits for it, bounded by the watchdog's SIGKILL escalation.
    fn drop(&mut self) {
        self.wait_stopped(STOP_TIMEOUT);
    }
}

/// Processes that are stopped together: all are signalled before any is waited for, so the
/// watchdogs' `stop_after` ordering cannot make one wait for another that was not yet signalled.
#[derive(Debug, Default)]
pub(crate) struct ProcessGroup {
    processes: Vec<Process>,
}

impl ProcessGroup {
    /// Adds a started process.
    pub(crate) fn push(&mut self, process: Process) {
        self.processes.push(process);
    }

    /// The process running `component`, if any.
    pub(crate) fn get(&self, component: Component) -> Option<&Process> {
        self.processes.iter().find(|p| p.component() == component)
    }

    /// Removes the process running `component` from the group (dropping it stops it).
    pub(crate) fn take(&mut self, component: Component) -> Option<Process> {
        let index = self
            .processes
            .iter()
            .position(|p| p.component() == component)?;
        Some(self.processes.remove(index))
    }
}

impl Drop for ProcessGroup {
    /// Signals every process to stop, then waits for each.
    fn drop(&mut self) {
        for process in &mut self.processes {
            process.signal_stop();
        }
        for process in &mut self.processes {
            process.wait_stopped(STOP_TIMEOUT);
        }
    }
}

/// The last [`LOG_TAIL_LINES`] lines of `path`, or a note why there are none.
pub(crate) fn log_tail(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(LOG_TAIL_LINES);
            if lines.is_empty() {
                "(log is empty)".to_owned()
            } else {
                lines[start..].join("\n")
            }
        }
        Err(e) => format!("(cannot read log: {e})"),
    }
}
