//! The real operator binary under stress: killed with SIGKILL in the middle of a rolling update
//! and started again, it converges with nothing lost or orphaned; with kube-apiserver restarted
//! under it, its watches resume and graphs converge. Also: start-up refuses a bad configuration
//! with one line naming the field, and SIGTERM stops it cleanly.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_test_harness::{ControlPlane, FakeNodes, Mode};
use kube::Client;

use crate::common;
use crate::rollout::{GRAPH, change_worker_image, worker_hashes};

/// The operator binary as a child process; killed when dropped, so a failing test leaves no
/// operator behind.
struct OperatorProcess(Child);

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The operator binary, started against `cp` and watching `ns`, logging to the test's stderr.
fn spawn(cp: &ControlPlane, ns: &str) -> Result<OperatorProcess> {
    // The Deployment pathway, whatever optional APIs other tests installed.
    let config = std::env::temp_dir().join(format!("dynamo-operator-{ns}.yaml"));
    std::fs::write(
        &config,
        "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\nkind: OperatorConfiguration\n\
         orchestrators:\n  grove: {enabled: false}\n  lws: {enabled: false}\n  \
         kaiScheduler: {enabled: false}\n\
         server:\n  metrics: {port: 0}\n  healthProbe: {port: 0}\n  webhook: {port: 0}\n",
    )?;
    Command::new(env!("CARGO_BIN_EXE_dynamo-operator"))
        .args(["run", "--kubeconfig"])
        .arg(cp.kubeconfig_path())
        .arg("--config")
        .arg(&config)
        .args(["--watch-namespace", ns])
        .env("XDG_CACHE_HOME", common::cache_dir())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .spawn()
        .map(OperatorProcess)
        .context("starting dynamo-operator run")
}

fn kill9(operator: &mut OperatorProcess) -> Result<()> {
    operator.0.kill()?;
    operator.0.wait()?;
    Ok(())
}

#[tokio::test]
async fn sigkill_mid_rollout_then_restart_converges() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("sigkill").await?;
    let mut operator = spawn(cp, &ns)?;
    common::apply_yaml(&client, &ns, GRAPH).await?;
    common::wait_ready(&client, &ns, "roll", "True", None, Duration::from_secs(120)).await?;
    let old = worker_hashes(&client, &ns).await?;

    change_worker_image(&client, &ns, "registry.example.com/dynamo:2").await?;
    // Kill it once the new generation's component exists beside the old one.
    common::wait_for(
        "old and new worker components",
        Duration::from_secs(60),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let names = common::names(
                    &client,
                    &ns,
                    dynamo_api::API_VERSION,
                    "DynamoComponentDeployment",
                )
                .await?;
                Ok((names
                    .iter()
                    .filter(|n| n.starts_with("roll-worker-"))
                    .count()
                    == 2)
                    .then_some(()))
            }
        },
    )
    .await?;
    kill9(&mut operator)?;

    let mut operator = spawn(cp, &ns)?;
    common::wait_ready(&client, &ns, "roll", "True", None, Duration::from_secs(180)).await?;
    let hashes = worker_hashes(&client, &ns).await?;
    ensure!(
        hashes.len() == 1 && hashes.is_disjoint(&old),
        "pods {hashes:?} (old {old:?})"
    );
    let components = common::names(
        &client,
        &ns,
        dynamo_api::API_VERSION,
        "DynamoComponentDeployment",
    )
    .await?;
    ensure!(
        components.len() == 2,
        "no orphaned component: {components:?}"
    );
    // The garbage collector removes the old component's Deployment (its pods are gone already).
    common::wait_for(
        "one Deployment per component",
        Duration::from_secs(60),
        || {
            let client = client.clone();
            let ns = ns.clone();
            let components = components.clone();
            async move {
                let deployments = common::names(&client, &ns, "apps/v1", "Deployment").await?;
                Ok((deployments == components).then_some(()))
            }
        },
    )
    .await?;
    stop(&mut operator)
}

/// SIGTERM, then waits (graceful shutdown).
fn stop(operator: &mut OperatorProcess) -> Result<()> {
    let child = &mut operator.0;
    let pid = i32::try_from(child.id())?;
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    ensure!(status.success(), "kill -TERM failed");
    for _ in 0..100 {
        if let Some(status) = child.try_wait()? {
            ensure!(
                status.success(),
                "the operator exited with {status} after SIGTERM"
            );
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill()?;
    anyhow::bail!("the operator did not stop within 10 s of SIGTERM")
}

#[tokio::test]
async fn watches_resume_after_the_api_server_restarts() -> Result<()> {
    // A private control plane: restarting its API server must not disturb other tests.
    let mut cp = ControlPlane::start(Mode::Full(FakeNodes {
        count: 1,
        ..FakeNodes::default()
    }))
    .await?;
    let (client, ns) = cp.namespace("apiserver-restart").await?;
    let mut operator = spawn(&cp, &ns)?;
    common::apply_yaml(&client, &ns, GRAPH).await?;
    common::wait_ready(&client, &ns, "roll", "True", None, Duration::from_secs(120)).await?;

    let away = cp.restart_api_server().await?;
    eprintln!("kube-apiserver was away for {away:?}");
    let client: Client = cp.client().await?;
    // A change made after the restart is picked up: the watches are back.
    change_worker_image(&client, &ns, "registry.example.com/dynamo:3").await?;
    common::wait_for(
        "the new generation to run",
        Duration::from_secs(180),
        || {
            let client = client.clone();
            let ns = ns.clone();
            async move {
                let graph = common::graph(&client, &ns, "roll").await?;
                let ready = graph
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
                    .is_some_and(|c| c.status == "True");
                let observed = graph.status.as_ref().and_then(|s| s.observed_generation)
                    == graph.metadata.generation;
                Ok((ready && observed).then_some(()))
            }
        },
    )
    .await?;
    stop(&mut operator)
}

#[test]
fn a_bad_configuration_stops_start_up_naming_the_field() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for (text, field) in [
        (
            "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\nkind: OperatorConfiguration\nserver:\n  metrics:\n    prot: 1\n",
            "server.metrics.prot",
        ),
        (
            "apiVersion: operator.config.dynamo.nvidia.com/v1alpha1\nkind: OperatorConfiguration\nlogging:\n  level: loud\n",
            "logging.level",
        ),
    ] {
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, text)?;
        let out = Command::new(env!("CARGO_BIN_EXE_dynamo-operator"))
            .args(["run", "--config"])
            .arg(&path)
            .output()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(!out.status.success(), "started with {text}");
        ensure!(stderr.trim().lines().count() == 1, "one line: {stderr}");
        ensure!(stderr.contains(field), "names {field}: {stderr}");
    }
    Ok(())
}
