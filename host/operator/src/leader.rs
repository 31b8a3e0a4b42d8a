//! Leader election: one `coordination.k8s.io` Lease decides which replica reconciles.
//!
//! Every replica serves the webhooks and the health and metrics endpoints; only the holder of the
//! Lease runs the controllers. The holder renews when a third of the lease is left; a standby
//! takes over once the lease has run out (about `leaderElection.leaseDuration` after the holder
//! died), and a holder that stops gracefully releases it at once.

use std::time::Duration;

use anyhow::Context as _;
use kube::Client;
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Held leadership: the controllers run while [`Leadership::lost`] has not resolved.
pub struct Leadership {
    state: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

/// Which Lease to contend for, and as whom.
#[derive(Debug, Clone)]
pub struct Election {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity (unique among replicas).
    pub identity: String,
    /// How long a lease holds after its last renewal.
    pub duration: Duration,
}

// === impl Election ===

impl Election {
    /// Waits until this replica holds the Lease (`Some`), or until `stop` turns true (`None`).
    pub async fn acquire(
        &self,
        client: Client,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Option<Leadership>> {
        let seconds = self.duration.as_secs().max(2);
        // Renew with a third of the lease left: two chances to renew before it runs out.
        let grace = (seconds / 3).max(1);
        let params = LeaseParams::new(self.identity.clone(), seconds, grace)
            .with_field_manager(format!("dynamo-operator-leader-{}", self.identity));
        let manager = LeaseManager::new(
            client,
            &self.name,
            &self.namespace,
            params,
            LeaseCreateMode::AutoCreate,
        )
        .await
        .with_context(|| format!("leaderElection: Lease {}/{}", self.namespace, self.name))?;
        let (mut state, task) = manager.watch().await;
        tracing::info!(
            lease = %format!("{}/{}", self.namespace, self.name),
            identity = %self.identity,
            "waiting to become the leader"
        );
        loop {
            if *state.borrow_and_update() {
                tracing::info!(identity = %self.identity, "became the leader");
                return Ok(Some(Leadership { state, task }));
            }
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        let why = match task.await {
                            Ok(Err(e)) => e.to_string(),
                            Ok(Ok(_)) => "the lease manager stopped".into(),
                            Err(e) => e.to_string(),
                        };
                        anyhow::bail!("leader election stopped: {why}");
                    }
                }
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    drop(state);
                    let _ = task.await;
                    return Ok(None);
                }
            }
        }
    }
}

// === impl Leadership ===

impl Leadership {
    /// Resolves when the lease was lost (another replica holds it, or renewals failed).
    pub async fn lost(&mut self) {
        let _ = self.state.wait_for(|leading| !*leading).await;
    }

    /// Gives the lease up at once so a standby need not wait for it to run out.
    pub async fn release(self) {
        drop(self.state);
        match self.task.await {
            Ok(Ok(_)) => tracing::info!("leader lease released"),
            Ok(Err(error)) => tracing::warn!(%error, "cannot release the leader lease"),
            Err(error) => tracing::warn!(%error, "the lease manager task failed"),
        }
    }
}

/// A replica identity: the pod (host) name and the process id, so two processes on one host
/// differ too.
pub fn identity() -> String {
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "dynamo-operator".into());
    format!("{host}-{}", std::process::id())
}
