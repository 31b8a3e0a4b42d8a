//! Errors of the harness, each naming the component that failed.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// A part of the test control plane, named by every [`HarnessError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    /// The upstream binaries built by `hack/build-tools.sh`.
    Tools,
    /// The temporary directory, certificates and kubeconfig.
    Setup,
    /// The etcd server backing the API server.
    Etcd,
    /// The kube-apiserver.
    ApiServer,
    /// Installation of the workspace's CRDs from `crds/`.
    Crds,
    /// The kube-controller-manager (full mode).
    ControllerManager,
    /// The kube-scheduler (full mode).
    Scheduler,
    /// The kwok controller that simulates kubelets (full mode).
    Kwok,
    /// The fake nodes that kwok manages (full mode).
    FakeNodes,
    /// The LeaderWorkerSet controller (`lws-controller`) and its admission webhooks.
    LeaderWorkerSet,
    /// Per-test resources such as namespaces and clients.
    Test,
}

impl Component {
    /// The name used in errors and for log files, e.g. `kube-apiserver`.
    pub fn name(self) -> &'static str {
        match self {
            Component::Tools => "tools",
            Component::Setup => "setup",
            Component::Etcd => "etcd",
            Component::ApiServer => "kube-apiserver",
            Component::Crds => "crds",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Kwok => "kwok",
            Component::FakeNodes => "fake-nodes",
            Component::LeaderWorkerSet => "lws-controller",
            Component::Test => "test",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the control plane, or a resource a test asked for, could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// An upstream binary is missing; the message names the command that builds it.
    #[error(
        "{component}: required binary `{name}` not found at {}; build the tools with \
         `hack/build-tools.sh` (it prints the bin dir; export it as DYNAMO_TOOLS_BIN)",
        path.display()
    )]
    MissingBinary {
        /// The component that needs the binary.
        component: Component,
        /// The binary's file name.
        name: String,
        /// Where it was expected.
        path: PathBuf,
    },

    /// `hack/build-tools.sh` failed or printed no bin dir.
    #[error("tools: `{command}` failed: {reason}")]
    BuildTools {
        /// The command that was run.
        command: String,
        /// What went wrong.
        reason: String,
    },

    /// A process could not be started at all.
    #[error("{component}: cannot start {}: {source}", program.display())]
    Spawn {
        /// The component being started.
        component: Component,
        /// The program that was executed.
        program: PathBuf,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },

    /// A process exited before it became ready.
    #[error(
        "{component}: exited before it became ready ({status}); last lines of {}:\n{log_tail}",
        log.display()
    )]
    Exited {
        /// The component that exited.
        component: Component,
        /// Its exit status as reported by the shell (`143` is SIGTERM, `137` SIGKILL).
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The last lines of the log file.
        log_tail: String,
    },

    /// A component did not become ready within its timeout.
    #[error(
        "{component}: not ready after {timeout:?} (last check: {last_check}); last lines of {}:\n{log_tail}",
        log.display()
    )]
    NotReady {
        /// The component that was waited for.
        component: Component,
        /// How long the harness waited.
        timeout: Duration,
        /// The result of the last readiness check.
        last_check: String,
        /// The log file that most likely explains the failure.
        log: PathBuf,
        /// The last lines of that log file.
        log_tail: String,
    },

    /// A file-system operation failed.
    #[error("{component}: {context} {}: {source}", path.display())]
    Io {
        /// The component being prepared.
        component: Component,
        /// What the harness was doing, e.g. `writing`.
        context: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },

    /// Generating a certificate or key failed.
    #[error("setup: generating {what}: {source}")]
    Certificate {
        /// Which certificate or key.
        what: &'static str,
        /// The rcgen error.
        #[source]
        source: rcgen::Error,
    },

    /// A Kubernetes API call failed.
    #[error("{component}: {context}: {source}")]
    Kube {
        /// The component on whose behalf the call was made.
        component: Component,
        /// What the call was for.
        context: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },

    /// Anything else that is invalid, e.g. a kubeconfig that does not load or a CRD file that
    /// does not parse.
    #[error("{component}: {reason}")]
    Invalid {
        /// The component concerned.
        component: Component,
        /// What is wrong.
        reason: String,
    },

    /// The shared control plane of this test process failed to start for an earlier test.
    #[error(
        "the shared {mode} control plane failed to start earlier in this test process: {reason}"
    )]
    SharedUnavailable {
        /// `basic` or `full`.
        mode: &'static str,
        /// The original error, rendered.
        reason: String,
    },
}

impl HarnessError {
    /// Builds an [`HarnessError::Io`] for `component`.
    pub(crate) fn io(
        component: Component,
        context: &'static str,
        path: impl Into<PathBuf>,
        source: io::Error,
    ) -> Self {
        HarnessError::Io {
            component,
            context,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`HarnessError::Kube`] for `component`.
    pub(crate) fn kube(
        component: Component,
        context: impl Into<String>,
        source: kube::Error,
    ) -> Self {
        HarnessError::Kube {
            component,
            context: context.into(),
            source,
        }
    }

    /// Builds an [`HarnessError::Invalid`] for `component`.
    pub(crate) fn invalid(component: Component, reason: impl Into<String>) -> Self {
        HarnessError::Invalid {
            component,
            reason: reason.into(),
        }
    }
}

/// The result type of the harness.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
