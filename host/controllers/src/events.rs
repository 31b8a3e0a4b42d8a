//! Which graph status changes are lifecycle transitions, and the watch that sees graphs go.
//!
//! A graph's lifecycle, as published on NATS ([`dynamo_events`]):
//!
//! - **created**: its first status is written;
//! - **rendering_failed**: `Ready` turns false for an invalid spec or a plugin error;
//! - **updating**: `Ready` turns false because a previous generation still runs;
//! - **ready**: `Ready` turns true;
//! - **degraded**: `Ready` turns from true to false for any other reason (pods lost, capacity);
//! - **deleted**: the graph is gone from the API server.
//!
//! Transitions follow the `Ready` condition the graph controller writes, so the events say what
//! `kubectl get dgd` says, in the same order.

use dynamo_api::DynamoGraphDeployment;
use dynamo_events::{LifecycleEvent, Publisher, Transition};
use futures::StreamExt as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Client;
use kube::api::Api;
use kube::runtime::{WatchStreamExt as _, watcher};

use crate::graph::status::{INVALID_SPEC, PLUGIN_ERROR};
use crate::status::Phase;

/// The transition from `before` to `after` (the graph's `Ready` condition), if it is one;
/// `first` when the graph had no status yet.
pub fn transition(first: bool, before: Option<&Condition>, after: &Condition) -> Vec<Transition> {
    let mut transitions = Vec::new();
    if first {
        transitions.push(Transition::Created);
    }
    let changed = before.is_none_or(|b| b.status != after.status || b.reason != after.reason);
    if !changed {
        return transitions;
    }
    let was_ready = before.is_some_and(|b| b.status == "True");
    let next = if after.status == "True" {
        Some(Transition::Ready)
    } else if after.reason == INVALID_SPEC || after.reason == PLUGIN_ERROR {
        Some(Transition::RenderingFailed)
    } else if after.reason == Phase::Updating.reason() {
        Some(Transition::Updating)
    } else if was_ready {
        Some(Transition::Degraded)
    } else {
        None
    };
    transitions.extend(next);
    transitions
}

/// The lifecycle event `transition` of `graph`, with its `Ready` condition's reason and message.
pub fn event(
    graph: &DynamoGraphDeployment,
    transition: Transition,
    ready: Option<&Condition>,
) -> LifecycleEvent {
    let mut event = LifecycleEvent::new(
        transition,
        graph.metadata.namespace.clone().unwrap_or_default(),
        graph.metadata.name.clone().unwrap_or_default(),
    );
    if let Some(uid) = &graph.metadata.uid {
        event = event.with_uid(uid.clone());
    }
    if let Some(generation) = graph.metadata.generation {
        event = event.with_generation(generation);
    }
    if let Some(ready) = ready {
        event = event
            .with_reason(ready.reason.clone())
            .with_message(ready.message.clone());
    }
    event
}

/// Publishes `deleted` for every graph that leaves the API server (in `namespace`, or all);
/// runs until aborted. Graphs carry no finalizer, so a watch is where their end is seen; a graph
/// deleted while the watch is re-listing (after an API server outage) goes unannounced.
pub async fn watch_deletions(client: Client, namespace: Option<String>, publisher: Publisher) {
    let api: Api<DynamoGraphDeployment> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Delete(graph)) => {
                publisher.publish(self::event(&graph, Transition::Deleted, None));
            }
            Ok(_) => {}
            Err(error) => tracing::warn!("watching graphs for deletions: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(status: &str, reason: &str) -> Condition {
        Condition {
            type_: "Ready".into(),
            status: status.into(),
            reason: reason.into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: crate::status::now(),
        }
    }

    #[test]
    fn transitions_follow_the_ready_condition() {
        let pending = ready("False", "pods_not_ready");
        let up = ready("True", "all_resources_are_ready");
        assert_eq!(transition(true, None, &pending), [Transition::Created]);
        assert_eq!(transition(false, Some(&pending), &pending), []);
        assert_eq!(transition(false, Some(&pending), &up), [Transition::Ready]);
        assert_eq!(
            transition(false, Some(&up), &ready("False", "updating")),
            [Transition::Updating]
        );
        assert_eq!(
            transition(false, Some(&up), &ready("False", "insufficient_capacity")),
            [Transition::Degraded]
        );
        // Not ready before and still not ready for another reason: no transition.
        assert_eq!(
            transition(
                false,
                Some(&pending),
                &ready("False", "insufficient_capacity")
            ),
            []
        );
        assert_eq!(
            transition(true, None, &ready("False", "invalid_spec")),
            [Transition::Created, Transition::RenderingFailed]
        );
        assert_eq!(
            transition(false, Some(&up), &ready("False", "plugin_error")),
            [Transition::RenderingFailed]
        );
    }
}
