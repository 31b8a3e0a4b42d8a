//! A real Kubernetes control plane for tests: etcd and kube-apiserver, optionally more.
//!
//! [`ControlPlane::shared`] starts etcd and kube-apiserver (TLS, client-certificate auth, RBAC)
//! on free loopback ports, installs the workspace's CRDs from `crds/`, and hands out admin
//! [`kube::Client`]s and per-test namespaces. [`ControlPlane::shared_full`] adds
//! kube-controller-manager, kube-scheduler and kwok with fake GPU nodes ([`FakeNodes`]), so
//! Deployments get pods that are scheduled and become Ready without a kubelet. Its scheduler also
//! answers to the Volcano and KAI scheduler names ([`SCHEDULER_NAMES`]; placement only, no gang
//! scheduling), [`ControlPlane::start_leader_worker_set_controller`] runs the real
//! LeaderWorkerSet controller with its webhooks, and [`ControlPlane::install_test_crds`] installs
//! structural stand-ins for CRDs that cannot be fetched (Volcano, KAI).
//!
//! The binaries come from `hack/build-tools.sh` (see [`Bins`]); a missing one is an error naming
//! that script. Every component runs under a watchdog that kills it, and removes the temporary
//! directory, when the control plane is dropped or the test process ends in any way (set
//! `DYNAMO_HARNESS_KEEP_DIR=1` to keep the directory with its logs for debugging).
//!
//! ```no_run
//! # async fn example() -> Result<(), dynamo_test_harness::HarnessError> {
//! use dynamo_test_harness::ControlPlane;
//!
//! let cp = ControlPlane::shared().await?;
//! let (client, namespace) = cp.namespace("my-test").await?;
//! # let _ = (client, namespace);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod apiserver;
mod bins;
mod certs;
mod control_plane;
mod conversion;
mod crds;
mod error;
mod etcd;
mod full;
mod kubeconfig;
mod kwok;
mod lws;
mod nodes;
mod ports;
mod process;
mod wait;
mod workdir;

pub use bins::{BUILD_TOOLS_SCRIPT, Bins, TOOLS_BIN_ENV, workspace_root};
pub use control_plane::{AuditedRequest, ControlPlane, Mode, TEST_NAMESPACE_LABEL};
pub use conversion::CONVERT_PATH;
pub use crds::TEST_CRDS_DIR;
pub use error::{Component, HarnessError, Result};
pub use full::{CONTROLLERS, SCHEDULER_NAMES};
pub use lws::{LWS_NAME_LABEL, LeaderWorkerSetController};
pub use nodes::{
    FakeNodes, GPU_RESOURCE, KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE, KWOK_NODE_LABEL,
};
pub use workdir::KEEP_DIR_ENV;
