//! kwok: simulates kubelets for the fake nodes, making their pods Running and Ready.

use std::path::Path;
use std::time::Duration;

use crate::bins::Bins;
use crate::error::{Component, Result};
use crate::nodes::{KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE};
use crate::process::Process;
use crate::workdir::WorkDir;

/// The lifecycle stages kwok plays for fake nodes and their pods (see the YAML for what each does).
const STAGES: &str = include_str!("kwok-stages.yaml");

/// How long the fake nodes may take to become Ready once kwok runs.
pub(crate) const NODES_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The pod CIDR kwok assigns pod IPs from.
const POD_CIDR: &str = "10.244.0.0/16";

/// Starts kwok managing the nodes annotated `kwok.x-k8s.io/node=fake`.
///
/// kwok has no health endpoint without its server; readiness is judged by the nodes it makes
/// Ready (see [`crate::nodes::all_ready`]).
pub(crate) fn start(bins: &Bins, workdir: &WorkDir, kubeconfig_path: &Path) -> Result<Process> {
    let program = bins.path(Component::Kwok, "kwok")?;
    let stages = workdir.write("kwok/stages.yaml", STAGES)?;
    let args = vec![
        format!("--kubeconfig={}", kubeconfig_path.display()),
        format!("--config={}", stages.display()),
        format!(
            "--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}={KWOK_NODE_ANNOTATION_VALUE}"
        ),
        format!("--cidr={POD_CIDR}"),
    ];
    Process::spawn(Component::Kwok, &program, &args, &[], workdir)
}
