//! Namespace scope: a namespace-restricted operator claims its namespace with a Lease, and a
//! cluster-wide operator leaves claimed namespaces alone (its reconciles and webhooks skip them).
//!
//! The claim is the Lease [`SCOPE_LEASE`] in the claimed namespace, renewed by the restricted
//! operator every `namespace.scope.leaseRenewInterval` and valid for
//! `namespace.scope.leaseDuration` after each renewal. If the restricted operator goes away its
//! claim runs out (or is deleted at a graceful stop) and the cluster-wide operator picks the
//! namespace's graphs up again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client, Resource as _};
use tokio::sync::watch;

/// Name of the Lease by which a restricted operator claims its namespace.
pub const SCOPE_LEASE: &str = "dynamo-operator-namespace-scope";

/// Field manager of the claim.
const MANAGER: &str = "dynamo-operator-namespace-scope";

/// How often a cluster-wide operator looks for claims that ran out without an event.
const EXPIRY_CHECK: Duration = Duration::from_secs(2);

/// Whether a namespace is left to another operator.
pub type ClaimedElsewhere = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The namespaces claimed by restricted operators, kept current from their Leases.
#[derive(Debug, Clone)]
pub struct Claims {
    claimed: watch::Receiver<BTreeSet<String>>,
}

// === impl Claims ===

impl Claims {
    /// Starts following the claims (a watch on [`SCOPE_LEASE`] Leases in every namespace).
    pub fn watch(client: Client) -> Self {
        let (tx, rx) = watch::channel(BTreeSet::new());
        tokio::spawn(follow(client, tx));
        Self { claimed: rx }
    }

    /// Whether `namespace` is claimed by a restricted operator right now.
    pub fn is_claimed(&self, namespace: &str) -> bool {
        self.claimed.borrow().contains(namespace)
    }

    /// [`Self::is_claimed`] as a shareable predicate.
    pub fn predicate(&self) -> ClaimedElsewhere {
        let claims = self.clone();
        Arc::new(move |namespace: &str| claims.is_claimed(namespace))
    }

    /// The receiver of the claimed set, to react when it changes.
    pub fn receiver(&self) -> watch::Receiver<BTreeSet<String>> {
        self.claimed.clone()
    }
}

/// Valid-until per namespace, from the Leases seen.
async fn follow(client: Client, tx: watch::Sender<BTreeSet<String>>) {
    let api: Api<Lease> = Api::all(client);
    let config = watcher::Config::default().fields(&format!("metadata.name={SCOPE_LEASE}"));
    let mut events = watcher(api, config).default_backoff().boxed();
    let mut until: BTreeMap<String, jiff::Timestamp> = BTreeMap::new();
    let mut listing: Option<BTreeMap<String, jiff::Timestamp>> = None;
    let mut tick = tokio::time::interval(EXPIRY_CHECK);
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { return };
                match event {
                    Ok(watcher::Event::Init) => listing = Some(BTreeMap::new()),
                    Ok(watcher::Event::InitApply(lease)) => {
                        if let (Some(list), Some((ns, t))) = (listing.as_mut(), valid_until(&lease)) {
                            list.insert(ns, t);
                        }
                    }
                    Ok(watcher::Event::InitDone) => {
                        if let Some(list) = listing.take() {
                            until = list;
                        }
                    }
                    Ok(watcher::Event::Apply(lease)) => {
                        match valid_until(&lease) {
                            Some((ns, t)) => { until.insert(ns, t); }
                            None => if let Some(ns) = lease.meta().namespace.clone() { until.remove(&ns); },
                        }
                    }
                    Ok(watcher::Event::Delete(lease)) => {
                        if let Some(ns) = lease.meta().namespace.clone() {
                            until.remove(&ns);
                        }
                    }
                    Err(error) => tracing::debug!(%error, "namespace-scope lease watch"),
                }
            }
            _ = tick.tick() => {}
        }
        let now = jiff::Timestamp::now();
        let claimed: BTreeSet<String> = until
            .iter()
            .filter(|(_, t)| **t > now)
            .map(|(ns, _)| ns.clone())
            .collect();
        tx.send_if_modified(|current| {
            if *current == claimed {
                return false;
            }
            tracing::info!(claimed = ?claimed, "namespaces claimed by restricted operators");
            *current = claimed;
            true
        });
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn valid_until(lease: &Lease) -> Option<(String, jiff::Timestamp)> {
    let namespace = lease.meta().namespace.clone()?;
    let spec = lease.spec.as_ref()?;
    spec.holder_identity.as_ref().filter(|h| !h.is_empty())?;
    let renewed = spec.renew_time.as_ref()?.0;
    let seconds = i64::from(spec.lease_duration_seconds?);
    let until = renewed
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .ok()?;
    Some((namespace, until))
}

/// A restricted operator's claim on its namespace.
#[derive(Debug, Clone)]
pub struct Claim {
    namespace: String,
    identity: String,
    duration: Duration,
    renew_every: Duration,
}

// === impl Claim ===

impl Claim {
    /// The claim on `namespace` held by `identity`, valid `duration` after each renewal, renewed
    /// every `renew_every` (less than `duration`).
    pub fn new(
        namespace: impl Into<String>,
        identity: impl Into<String>,
        duration: Duration,
        renew_every: Duration,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            identity: identity.into(),
            duration,
            renew_every: renew_every
                .min(duration / 2)
                .max(Duration::from_millis(500)),
        }
    }

    /// Renews the claim until `stop` turns true, then deletes it so a cluster-wide operator takes
    /// the namespace back at once. When renewals fail for as long as the claim lasts, the claim
    /// has lapsed and a cluster-wide operator may already act here: the process exits rather
    /// than have two operators reconcile one namespace.
    pub async fn hold(self, client: Client, mut stop: watch::Receiver<bool>) {
        let api: Api<Lease> = Api::namespaced(client, &self.namespace);
        let mut last_renewal = tokio::time::Instant::now();
        loop {
            match self.renew(&api).await {
                Ok(()) => last_renewal = tokio::time::Instant::now(),
                Err(error) => {
                    tracing::warn!(namespace = %self.namespace, %error, "cannot renew the namespace claim");
                    if last_renewal.elapsed() >= self.duration {
                        tracing::error!(
                            namespace = %self.namespace,
                            "the namespace claim lapsed; exiting so a cluster-wide operator and \
                             this one never both reconcile it"
                        );
                        std::process::exit(1);
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.renew_every) => {}
                () = stopped(&mut stop) => {
                    if let Err(error) = api.delete(SCOPE_LEASE, &DeleteParams::default()).await {
                        tracing::warn!(namespace = %self.namespace, %error, "cannot release the namespace claim");
                    }
                    return;
                }
            }
        }
    }

    async fn renew(&self, api: &Api<Lease>) -> Result<(), kube::Error> {
        let seconds = i32::try_from(self.duration.as_secs().max(1)).unwrap_or(i32::MAX);
        let lease = Lease {
            metadata: kube::api::ObjectMeta {
                name: Some(SCOPE_LEASE.into()),
                namespace: Some(self.namespace.clone()),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_owned(),
                        "dynamo-operator".to_owned(),
                    )]
                    .into(),
                ),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.identity.clone()),
                lease_duration_seconds: Some(seconds),
                renew_time: Some(MicroTime(jiff::Timestamp::now())),
                ..Default::default()
            }),
        };
        let mut value = serde_json::to_value(&lease).map_err(kube::Error::SerdeError)?;
        value["apiVersion"] = "coordination.k8s.io/v1".into();
        value["kind"] = "Lease".into();
        api.patch(
            SCOPE_LEASE,
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(value),
        )
        .await?;
        Ok(())
    }
}
