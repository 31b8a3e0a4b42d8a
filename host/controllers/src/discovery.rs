//! Which optional APIs the cluster serves (LeaderWorkerSet, Volcano, Grove, KAI), kept current by
//! a watch on CustomResourceDefinitions, and what that makes of the operator configuration.
//!
//! The orchestrator switches of the configuration are tri-state (`enabled: true|false|unset`).
//! Unset means "use it when the cluster has it": LeaderWorkerSet when LeaderWorkerSet is served,
//! Grove when Grove is served, KAI when KAI's Queue is served. Volcano is not needed: the LWS
//! pathway no longer gang-schedules its groups with Volcano PodGroups (nor does Dynamo 1.5); when
//! Volcano is served, the PodGroups earlier versions made are watched so that they are removed.
//! Because the answer follows a watch, installing LeaderWorkerSet or Grove after the operator
//! started needs no restart: the capabilities change, every graph is reconciled again, and a
//! graph that waited for a multi-node orchestrator converges.
//!
//! A switch set to `true` whose API is absent is not a start-up failure (one missing CRD must not
//! stop every graph): the graphs that need it report what to install in their `Ready` condition
//! ([`Capabilities::missing`]).

use std::collections::BTreeMap;
use std::fmt;

use dynamo_render::RenderConfig;
use dynamo_render::config::{OperatorConfiguration, Orchestrator};
use futures::StreamExt as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Client, ResourceExt as _};
use tokio::sync::watch;

use crate::kinds::{
    LeaderWorkerSet, PodClique, PodCliqueScalingGroup, PodCliqueSet, PodGroup, Queue,
};

/// The optional APIs the cluster serves (their CRDs exist and are established).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `leaderworkerset.x-k8s.io` LeaderWorkerSets.
    pub lws: bool,
    /// `scheduling.volcano.sh` PodGroups (only to remove those earlier versions made).
    pub volcano: bool,
    /// `grove.io` PodCliqueSets, PodCliques and PodCliqueScalingGroups.
    pub grove: bool,
    /// `scheduling.run.ai` Queues (the KAI scheduler).
    pub kai: bool,
}

/// An API a graph needs and the cluster does not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingApi {
    /// The CRD that is missing, such as `leaderworkersets.leaderworkerset.x-k8s.io`.
    pub crd: &'static str,
    /// What to install, in a sentence.
    pub install: &'static str,
}

impl fmt::Display for MissingApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the cluster does not serve {}: {}",
            self.crd, self.install
        )
    }
}

const INSTALL_LWS: &str = "install LeaderWorkerSet (https://github.com/kubernetes-sigs/lws)";
const INSTALL_GROVE: &str = "install Grove (https://github.com/ai-dynamo/grove), or set orchestrators.grove.enabled to false";
const INSTALL_KAI: &str = "install the KAI scheduler (https://github.com/NVIDIA/KAI-Scheduler), or set orchestrators.kaiScheduler.enabled to false";

// === impl Capabilities ===

impl Capabilities {
    /// The capabilities that a set of established CRD names gives.
    pub fn from_crds<'a>(established: impl IntoIterator<Item = &'a str>) -> Self {
        let names: std::collections::BTreeSet<&str> = established.into_iter().collect();
        Self {
            lws: names.contains(LeaderWorkerSet::CRD),
            volcano: names.contains(PodGroup::CRD),
            grove: [
                PodCliqueSet::CRD,
                PodClique::CRD,
                PodCliqueScalingGroup::CRD,
            ]
            .iter()
            .all(|crd| names.contains(crd)),
            kai: names.contains(Queue::CRD),
        }
    }

    /// `operator` with every unset orchestrator switch decided by what the cluster serves.
    pub fn resolve(&self, operator: &OperatorConfiguration) -> OperatorConfiguration {
        let mut resolved = operator.clone();
        let switches = &mut resolved.orchestrators;
        switches.grove.enabled = Some(switches.grove.enabled.unwrap_or(self.grove));
        switches.lws.enabled = Some(switches.lws.enabled.unwrap_or(self.lws));
        switches.kai_scheduler.enabled = Some(switches.kai_scheduler.enabled.unwrap_or(self.kai));
        resolved
    }

    /// The render configuration in effect: `base` with its switches resolved and the
    /// orchestrator they imply.
    pub fn render_config(&self, base: &RenderConfig) -> RenderConfig {
        let operator = self.resolve(&base.operator);
        let mut config = base.clone();
        config.orchestrator = Orchestrator::implied_by(&operator);
        config.operator = operator;
        config
    }

    /// The first API that objects of `kind` (as rendered) need and the cluster lacks.
    pub fn missing(&self, kind: &str) -> Option<MissingApi> {
        let (served, crd, install) = match kind {
            "LeaderWorkerSet" => (self.lws, LeaderWorkerSet::CRD, INSTALL_LWS),
            "PodCliqueSet" => (self.grove, PodCliqueSet::CRD, INSTALL_GROVE),
            _ => return None,
        };
        (!served).then_some(MissingApi { crd, install })
    }

    /// The API the KAI scheduler needs when the resolved configuration enables it and the
    /// cluster lacks it.
    pub fn missing_kai(&self, resolved: &OperatorConfiguration) -> Option<MissingApi> {
        (resolved.orchestrators.kai_scheduler.enabled == Some(true) && !self.kai).then_some(
            MissingApi {
                crd: Queue::CRD,
                install: INSTALL_KAI,
            },
        )
    }

    /// What to install so that a multi-node service can run, for a graph that has none.
    pub fn multinode_advice(&self) -> String {
        if self.lws {
            return "no multi-node orchestrator is available: LeaderWorkerSet is served but \
                    switched off; enable it (orchestrators.lws.enabled) or Grove \
                    (orchestrators.grove.enabled, podcliquesets.grove.io) in the operator \
                    configuration"
                .to_owned();
        }
        format!(
            "no multi-node orchestrator is available: install LeaderWorkerSet ({}) or Grove \
             (podcliquesets.grove.io); or enable one in the operator configuration \
             (orchestrators.lws.enabled, orchestrators.grove.enabled)",
            LeaderWorkerSet::CRD
        )
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lws={} volcano={} grove={} kai={}",
            self.lws, self.volcano, self.grove, self.kai
        )
    }
}

// === the CRD watch ===

/// True when a CRD's `Established` condition is true (its resources are served).
fn established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

/// Watches CustomResourceDefinitions and publishes the [`Capabilities`] they give on `sender`
/// whenever they change; runs until the receivers are gone.
///
/// The first value is published once the initial list is complete, so a receiver that waits for
/// a change past the default sees the cluster as it is.
pub async fn watch_crds(client: Client, sender: watch::Sender<Option<Capabilities>>) {
    let api: Api<CustomResourceDefinition> = Api::all(client);
    let mut crds: BTreeMap<String, bool> = BTreeMap::new();
    let mut listing: Option<BTreeMap<String, bool>> = None;
    let mut stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!("watching CustomResourceDefinitions: {error}");
                continue;
            }
        };
        match event {
            watcher::Event::Init => listing = Some(BTreeMap::new()),
            watcher::Event::InitApply(crd) => {
                if let Some(listing) = &mut listing {
                    listing.insert(crd.name_any(), established(&crd));
                }
            }
            watcher::Event::InitDone => {
                if let Some(listed) = listing.take() {
                    crds = listed;
                }
            }
            watcher::Event::Apply(crd) => {
                crds.insert(crd.name_any(), established(&crd));
            }
            watcher::Event::Delete(crd) => {
                crds.remove(&crd.name_any());
            }
        }
        if listing.is_some() {
            continue;
        }
        let now = Capabilities::from_crds(
            crds.iter()
                .filter(|(_, established)| **established)
                .map(|(name, _)| name.as_str()),
        );
        let changed = sender.send_if_modified(|current| {
            if *current == Some(now) {
                return false;
            }
            tracing::info!(capabilities = %now, "cluster APIs");
            *current = Some(now);
            true
        });
        if changed && sender.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
