//! What a graph needs from the cluster before anything of it is applied: a multi-node
//! orchestrator for its multi-node services, the APIs its rendered objects belong to, and the
//! KAI scheduler queue its pods name.
//!
//! A graph that lacks one is reported `Ready=False` with what to install or create, and nothing
//! of it is applied: a half-applied graph (Services without workers, a LeaderWorkerSet refused
//! by a missing API) would be worse than none. The graph is looked at again when the cluster's
//! APIs change ([`crate::discovery`]) or a Queue appears, so installing what was missing is all
//! the user has to do.

use dynamo_api::DynamoGraphDeployment;
use dynamo_render::keys::{self, annotation};
use dynamo_render::model::{self, component_path};
use dynamo_render::{Orchestrator, RenderConfig, Rendered};

use crate::discovery::Capabilities;

/// Reason of a graph with multi-node services and no multi-node orchestrator.
pub const NO_MULTINODE_ORCHESTRATOR: &str = "no_multinode_orchestrator";
/// Reason of a graph whose objects belong to an API the cluster does not serve.
pub const MISSING_API: &str = "missing_api";
/// Reason of a graph whose KAI scheduler queue does not exist.
pub const QUEUE_NOT_FOUND: &str = "kai_queue_not_found";

/// Why a graph cannot be applied yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The `Ready` condition reason.
    pub reason: &'static str,
    /// What is missing and what to do, for the user.
    pub message: String,
}

/// The KAI scheduler queue of `graph`'s pods (`nvidia.com/kai-scheduler-queue`, else `dynamo`).
pub fn queue_of(graph: &DynamoGraphDeployment) -> String {
    graph
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(annotation::KAI_QUEUE))
        .filter(|q| !q.is_empty())
        .cloned()
        .unwrap_or_else(|| keys::KAI_DEFAULT_QUEUE.to_owned())
}

/// Checks what can be known before rendering: a multi-node orchestrator for multi-node
/// services, and the KAI scheduler's API and queue when `config` (in effect) turns KAI on.
pub fn before_render(
    graph: &DynamoGraphDeployment,
    config: &RenderConfig,
    capabilities: &Capabilities,
    queue_exists: impl Fn(&str) -> bool,
) -> Option<Blocked> {
    let annotations = graph.metadata.annotations.clone().unwrap_or_default();
    if model::effective_orchestrator(&annotations, config) == Orchestrator::Deployment {
        let multinode: Vec<String> = graph
            .components()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.uses_multinode())
            .map(|(index, _)| format!("{}.multinode", component_path(index)))
            .collect();
        if !multinode.is_empty() {
            return Some(Blocked {
                reason: NO_MULTINODE_ORCHESTRATOR,
                message: format!(
                    "{}: {}",
                    multinode.join(", "),
                    capabilities.multinode_advice()
                ),
            });
        }
    }
    if let Some(missing) = capabilities.missing_kai(&config.operator) {
        return Some(Blocked {
            reason: MISSING_API,
            message: format!("the KAI scheduler is enabled but {missing}"),
        });
    }
    if config.operator.orchestrators.kai_scheduler.enabled == Some(true) {
        let queue = queue_of(graph);
        if !queue_exists(&queue) {
            return Some(Blocked {
                reason: QUEUE_NOT_FOUND,
                message: format!(
                    "metadata.annotations[{}]: the KAI scheduler queue `{queue}` does not exist: \
                     create a scheduling.run.ai/v2 Queue named `{queue}`, or name an existing \
                     queue in the annotation",
                    annotation::KAI_QUEUE
                ),
            });
        }
    }
    None
}

/// Checks that the cluster serves every kind `rendered` holds.
pub fn after_render(rendered: &Rendered, capabilities: &Capabilities) -> Option<Blocked> {
    // One line per missing kind, naming its first object.
    let mut kinds = std::collections::BTreeSet::new();
    let mut missing: Vec<String> = Vec::new();
    for object in &rendered.objects {
        if let Some(api) = capabilities.missing(object.kind())
            && kinds.insert(object.kind())
        {
            missing.push(format!("{} {}: {api}", object.kind(), object.name()));
        }
    }
    (!missing.is_empty()).then(|| Blocked {
        reason: MISSING_API,
        message: missing.join("; "),
    })
}

#[cfg(test)]
mod tests;
