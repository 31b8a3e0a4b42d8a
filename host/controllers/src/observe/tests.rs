//! Unit tests of the graph-state counts and the object keys.

use std::sync::Arc;

use dynamo_api::graph::DeploymentState;
use dynamo_api::{DynamoGraphDeployment, DynamoGraphDeploymentStatus};

use super::{GRAPH_STATES, count_states, object_key, state_label};

fn graph(name: &str, state: Option<DeploymentState>) -> Arc<DynamoGraphDeployment> {
    let mut graph = DynamoGraphDeployment::new(name, Default::default());
    graph.metadata.namespace = Some("ns".into());
    graph.status = state.map(|state| DynamoGraphDeploymentStatus {
        state,
        ..Default::default()
    });
    Arc::new(graph)
}

#[test]
fn labels_are_the_status_values() {
    for state in GRAPH_STATES {
        let written = serde_json::to_value(state).expect("a state serializes");
        assert_eq!(written.as_str(), Some(state_label(state)));
    }
}

#[test]
fn graphs_are_counted_by_state_with_every_state_listed() {
    let graphs = [
        graph("a", None),
        graph("b", Some(DeploymentState::Successful)),
        graph("c", Some(DeploymentState::Successful)),
        graph("d", Some(DeploymentState::Failed)),
    ];
    assert_eq!(
        count_states(&graphs),
        [
            ("initializing", 1),
            ("pending", 0),
            ("successful", 2),
            ("failed", 1),
        ]
    );
    assert_eq!(count_states(&[]).iter().map(|(_, n)| n).sum::<u64>(), 0);
}

#[test]
fn keys_are_namespace_and_name() {
    assert_eq!(object_key(graph("a", None).as_ref()), "ns/a");
    let mut cluster_scoped = DynamoGraphDeployment::new("b", Default::default());
    cluster_scoped.metadata.namespace = None;
    assert_eq!(object_key(&cluster_scoped), "b");
}
