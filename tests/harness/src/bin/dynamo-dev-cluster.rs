//! `dynamo-dev-cluster`: the test harness's full control plane (etcd, kube-apiserver,
//! controller-manager, scheduler, kwok fake GPU nodes, the operator's CRDs) as a long-running
//! process for local development. `hack/dev-cluster.sh up` starts it in the background.
//!
//! For multi-node graphs it also runs the LeaderWorkerSet controller with its webhooks and
//! installs Grove's CRDs (fetched by `hack/build-tools.sh`) and the Volcano and KAI stand-in CRDs
//! (`tests/fixtures/crds/`). The scheduler answers to `volcano` and `kai-scheduler` too, but
//! places pods one by one: no gang scheduling.
//!
//! ```text
//! dynamo-dev-cluster --dir DIR [--gpu-nodes N] [--gpus-per-node M]
//! ```
//!
//! Writes `DIR/kubeconfig` once all of that is ready and runs until SIGTERM or SIGINT, then stops
//! the LeaderWorkerSet controller (deleting its webhooks) and every component, and removes the
//! cluster's files (its watchdogs also do that if this process is killed).

use std::path::PathBuf;
use std::process::ExitCode;

use dynamo_test_harness::{ControlPlane, FakeNodes, LeaderWorkerSetController, Mode};

struct Args {
    dir: PathBuf,
    nodes: usize,
    gpus: u32,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        dir: PathBuf::new(),
        nodes: FakeNodes::default().count,
        gpus: FakeNodes::default().gpus_per_node,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => args.dir = PathBuf::from(value()?),
            "--gpu-nodes" => {
                args.nodes = value()?.parse().map_err(|e| format!("--gpu-nodes: {e}"))?;
            }
            "--gpus-per-node" => {
                args.gpus = value()?
                    .parse()
                    .map_err(|e| format!("--gpus-per-node: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.dir.as_os_str().is_empty() {
        return Err("--dir is required".into());
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("dynamo-dev-cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    let nodes = FakeNodes {
        count: args.nodes,
        gpus_per_node: args.gpus,
        ..FakeNodes::default()
    };
    let cluster = match ControlPlane::start(Mode::Full(nodes)).await {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("dynamo-dev-cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lws = match add_multi_node_support(&cluster).await {
        Ok(lws) => lws,
        Err(e) => {
            eprintln!("dynamo-dev-cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    let kubeconfig = args.dir.join("kubeconfig");
    let staged = args.dir.join(".kubeconfig.tmp");
    let written = std::fs::create_dir_all(&args.dir)
        .and_then(|()| std::fs::copy(cluster.kubeconfig_path(), &staged))
        .and_then(|_| std::fs::rename(&staged, &kubeconfig));
    if let Err(e) = written {
        eprintln!("dynamo-dev-cluster: writing {}: {e}", kubeconfig.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "dynamo-dev-cluster: ready at {} with {} fake GPU node(s); kubeconfig {}",
        cluster.server_url(),
        cluster.node_names().len(),
        kubeconfig.display()
    );
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(e) => {
                eprintln!("dynamo-dev-cluster: cannot listen for SIGTERM: {e}");
                return ExitCode::FAILURE;
            }
        };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    let _ = std::fs::remove_file(&kubeconfig);
    let stopped = lws.stop().await;
    drop(cluster);
    match stopped {
        Ok(()) => {
            eprintln!("dynamo-dev-cluster: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "dynamo-dev-cluster: stopped, but stopping the LeaderWorkerSet controller failed: {e}"
            );
            ExitCode::FAILURE
        }
    }
}

/// Installs the Grove, Volcano and KAI CRDs and starts the LeaderWorkerSet controller.
async fn add_multi_node_support(
    cluster: &ControlPlane,
) -> Result<LeaderWorkerSetController<'_>, dynamo_test_harness::HarnessError> {
    let mut crds = cluster.install_upstream_crds("grove").await?;
    crds.extend(cluster.install_test_crds("volcano").await?);
    crds.extend(cluster.install_test_crds("kai").await?);
    let lws = cluster.start_leader_worker_set_controller().await?;
    eprintln!(
        "dynamo-dev-cluster: installed {}; LeaderWorkerSet controller running (webhooks at {}, log {})",
        crds.join(", "),
        lws.webhook_url(),
        lws.log_path().display()
    );
    Ok(lws)
}
