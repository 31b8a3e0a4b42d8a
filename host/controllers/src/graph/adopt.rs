//! Taking over a graph another operator deployed, without restarting its pods.
//!
//! Worker components carry a worker hash in their names (`{dgd}-{svc}-{hash}`) and pod labels.
//! Dynamo's operator hashes Go's JSON encoding of the worker specs and we hash our own canonical
//! encoding, so for the same spec the two differ; taking the computed hash as the truth would
//! roll out every worker of a graph on takeover. Instead the hash the graph records
//! (`nvidia.com/current-worker-hash-v2`, Dynamo 1.5's, else the earlier
//! `nvidia.com/current-worker-hash`) is *adopted* when the worker workloads running under it
//! (Deployments, or the LeaderWorkerSets of multi-node workers) already hold exactly what we
//! would render with it: nothing about the pods changes, so no pod is replaced. The check is a
//! render with that hash compared against the live pod templates.
//!
//! Once verified, the graph is annotated with our hash of the spec it was verified for
//! (`nvidia.com/adopted-worker-spec-hash`) so later reconciles skip the check; a changed spec no
//! longer matches that hash nor the running pods, and rolls out under our own hash as usual.

use std::collections::BTreeMap;
use std::sync::Arc;

use dynamo_api::DynamoGraphDeployment;
use dynamo_render::RenderConfig;
use dynamo_render::keys::label;
use dynamo_render::model::Overrides;
use dynamo_render::plugins::PluginSet;
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::Value;

use crate::compare;

/// Our worker hash of the spec an adopted hash was verified for.
pub const ADOPTED_SPEC_HASH: &str = "nvidia.com/adopted-worker-spec-hash";

/// What the graph records about the hash its workers run under, and their live workloads.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// The worker hash the graph records ([`recorded_hash`]).
    pub hash: String,
    /// [`ADOPTED_SPEC_HASH`] of the graph, if any.
    pub verified_for: Option<String>,
    /// The live workloads of the components labelled with `hash`, by name (shared with the
    /// cache; read only when the hash has to be verified).
    pub workloads: BTreeMap<String, Workload>,
}

/// A live worker workload whose pod templates adoption compares.
#[derive(Debug, Clone)]
pub enum Workload {
    /// A single-node component's Deployment.
    Deployment(Arc<Deployment>),
    /// One replica of a multi-node component, as its LeaderWorkerSet.
    LeaderWorkerSet(Arc<crate::kinds::LeaderWorkerSet>),
}

// === impl Workload ===

impl Workload {
    /// The live pod templates, with the JSON pointer of the rendered object's template each
    /// must contain.
    fn templates(&self) -> Vec<(&'static str, Value)> {
        match self {
            Self::Deployment(d) => vec![(
                "/spec/template",
                serde_json::to_value(&d.spec.template).unwrap_or_default(),
            )],
            Self::LeaderWorkerSet(l) => {
                let lws = serde_json::to_value(l.as_ref()).unwrap_or_default();
                ["leaderTemplate", "workerTemplate"]
                    .into_iter()
                    .zip([
                        "/spec/leaderWorkerTemplate/leaderTemplate",
                        "/spec/leaderWorkerTemplate/workerTemplate",
                    ])
                    .map(|(key, pointer)| {
                        (pointer, lws["spec"]["leaderWorkerTemplate"][key].clone())
                    })
                    .collect()
            }
        }
    }
}

/// The outcome of [`choose`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Choice {
    /// Render with the computed hash.
    #[default]
    Computed,
    /// Render with the recorded hash, verified earlier for this spec.
    Adopted(String),
    /// Render with the recorded hash, verified now: record our hash of the spec on the graph.
    NewlyAdopted {
        /// The recorded hash.
        hash: String,
        /// Our hash of the spec.
        computed: String,
    },
}

impl Choice {
    /// The hash to render with instead of the computed one, if any.
    pub fn hash(&self) -> Option<&str> {
        match self {
            Self::Computed => None,
            Self::Adopted(hash) | Self::NewlyAdopted { hash, .. } => Some(hash),
        }
    }
}

/// Chooses the worker hash of `dgd` (see the module docs). `computed` is our hash of its spec.
pub fn choose(
    dgd: &DynamoGraphDeployment,
    config: &RenderConfig,
    plugins: &dyn PluginSet,
    computed: Option<&str>,
    recorded: Option<&Recorded>,
) -> Choice {
    let (Some(computed), Some(recorded)) = (computed, recorded) else {
        return Choice::Computed;
    };
    if recorded.hash.is_empty() || recorded.hash == computed {
        return Choice::Computed;
    }
    if recorded.verified_for.as_deref() == Some(computed) {
        return Choice::Adopted(recorded.hash.clone());
    }
    if recorded.workloads.is_empty() {
        return Choice::Computed;
    }
    let overrides = Overrides {
        worker_hash: Some(recorded.hash.clone()),
        ..Overrides::default()
    };
    let Ok(rendered) = dynamo_render::render_with(dgd, config, plugins, &overrides) else {
        return Choice::Computed;
    };
    let mut matched = 0;
    for object in rendered
        .objects
        .iter()
        .filter(|o| matches!(o.kind(), "Deployment" | "LeaderWorkerSet"))
    {
        let manifest = object.manifest();
        let Some(live) = recorded.workloads.get(object.name()) else {
            let labelled = manifest["metadata"]["labels"][label::WORKER_HASH].as_str();
            if labelled == Some(recorded.hash.as_str()) {
                // A worker of the recorded generation that does not run: nothing to verify
                // against, so the hash cannot be vouched for.
                return Choice::Computed;
            }
            continue;
        };
        for (pointer, live) in live.templates() {
            let Some(template) = manifest.pointer(pointer) else {
                return Choice::Computed;
            };
            if !compare::contains(&live, template) {
                return Choice::Computed;
            }
        }
        matched += 1;
    }
    if matched == 0 {
        return Choice::Computed;
    }
    Choice::NewlyAdopted {
        hash: recorded.hash.clone(),
        computed: computed.to_owned(),
    }
}

/// The worker hash `graph` records: `nvidia.com/current-worker-hash-v2` (Dynamo 1.5's,
/// authoritative), else `nvidia.com/current-worker-hash` (earlier releases; its sentinel
/// `legacy`, for workers that predate the hash, is no hash).
pub fn recorded_hash(graph: &DynamoGraphDeployment) -> Option<&str> {
    use dynamo_render::keys::annotation::{CURRENT_WORKER_HASH, CURRENT_WORKER_HASH_V2};
    let annotations = graph.metadata.annotations.as_ref()?;
    annotations
        .get(CURRENT_WORKER_HASH_V2)
        .or_else(|| annotations.get(CURRENT_WORKER_HASH))
        .map(String::as_str)
        .filter(|h| !h.is_empty() && *h != LEGACY_SENTINEL)
}

/// The value Dynamo records as the legacy worker hash of workers that predate hashing.
pub const LEGACY_SENTINEL: &str = "legacy";

/// What `graph` records about its worker hash, with the live `workloads` of the components
/// labelled with that hash; `None` when it records no hash.
pub fn recorded(
    graph: &DynamoGraphDeployment,
    workloads: BTreeMap<String, Workload>,
) -> Option<Recorded> {
    let hash = recorded_hash(graph)?.to_owned();
    let verified_for = graph
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ADOPTED_SPEC_HASH))
        .cloned();
    Some(Recorded {
        hash,
        verified_for,
        workloads,
    })
}

/// The finalizer Dynamo's operator puts on graphs and components. Nothing of ours acts on it,
/// so on objects we now control it would block deletion forever: it is removed.
pub const LEGACY_FINALIZER: &str = "nvidia.com/finalizer";

/// A merge patch removing [`LEGACY_FINALIZER`] from an object with `meta`, if it has it. The
/// patch carries the object's `resourceVersion`, so it fails (and is retried on the next
/// reconcile) rather than dropping a finalizer someone added meanwhile.
pub fn release_legacy_finalizer(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<Value> {
    let finalizers = meta.finalizers.as_ref()?;
    if !finalizers.iter().any(|f| f == LEGACY_FINALIZER) {
        return None;
    }
    let kept: Vec<&String> = finalizers
        .iter()
        .filter(|f| *f != LEGACY_FINALIZER)
        .collect();
    Some(serde_json::json!({
        "metadata": {
            "resourceVersion": meta.resource_version,
            "finalizers": kept,
        }
    }))
}

#[cfg(test)]
mod tests;
