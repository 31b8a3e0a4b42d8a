//! The etcd server behind the API server: one member on loopback, no fsync, plain HTTP.

use std::time::Duration;

use crate::bins::Bins;
use crate::error::{Component, Result};
use crate::process::Process;
use crate::wait;
use crate::workdir::WorkDir;

/// How long etcd may take to report healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running etcd and the URL clients use.
pub(crate) struct Etcd {
    /// The process.
    pub(crate) process: Process,
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
}

/// Starts etcd on `client_port`/`peer_port` and waits until `/health` reports healthy.
pub(crate) async fn start(
    bins: &Bins,
    workdir: &WorkDir,
    client_port: u16,
    peer_port: u16,
) -> Result<Etcd> {
    let program = bins.path(Component::Etcd, "etcd")?;
    let url = format!("http://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    let data_dir = workdir.path("etcd");
    let args = vec![
        "--name=default".to_owned(),
        format!("--data-dir={}", data_dir.display()),
        format!("--listen-client-urls={url}"),
        format!("--advertise-client-urls={url}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=default={peer}"),
        "--initial-cluster-state=new".to_owned(),
        "--unsafe-no-fsync=true".to_owned(),
        "--log-level=warn".to_owned(),
    ];
    let process = Process::spawn(
        Component::Etcd,
        &program,
        &args,
        &[Component::ApiServer],
        workdir,
    )?;
    wait::until_ready(&process, READY_TIMEOUT, || health(client_port)).await?;
    Ok(Etcd { process, url })
}

/// One `GET /health` over plain HTTP.
async fn health(port: u16) -> std::result::Result<(), String> {
    let (_, body) = wait::http_get(port, "/health").await?;
    if body.contains("\"health\":\"true\"") {
        Ok(())
    } else {
        Err(format!("GET /health answered: {}", body.trim()))
    }
}
