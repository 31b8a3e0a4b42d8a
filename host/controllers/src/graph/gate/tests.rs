use dynamo_api::DynamoGraphDeployment;
use dynamo_render::{OperatorConfiguration, RenderConfig};

use super::*;
use crate::discovery::Capabilities;

fn graph(yaml: &str) -> DynamoGraphDeployment {
    dynamo_render::testing::graphs_from_yaml(yaml)
        .expect("a graph")
        .remove(0)
}

const MULTINODE: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: {name: g, namespace: ns}
spec:
  components:
    - name: Frontend
      type: frontend
      podTemplate: {spec: {containers: [{name: main, image: "fe:1.0.0"}]}}
    - name: decode
      type: worker
      multinode: {nodeCount: 2}
      podTemplate: {spec: {containers: [{name: main, image: "w:1.0.0"}]}}
"#;

const SINGLE: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata:
  name: g
  namespace: ns
  annotations: {nvidia.com/kai-scheduler-queue: team-a}
spec:
  components:
    - name: Frontend
      type: frontend
      podTemplate: {spec: {containers: [{name: main, image: "fe:1.0.0"}]}}
"#;

#[test]
fn a_multinode_graph_without_an_orchestrator_says_what_to_install() {
    let base = RenderConfig::new(OperatorConfiguration::default());
    let none = Capabilities::default();
    let config = none.render_config(&base);
    let blocked = before_render(&graph(MULTINODE), &config, &none, |_| true).expect("blocked");
    assert_eq!(blocked.reason, NO_MULTINODE_ORCHESTRATOR);
    assert!(
        blocked.message.contains("spec.components[1].multinode"),
        "{}",
        blocked.message
    );
    assert!(
        blocked.message.contains("LeaderWorkerSet"),
        "{}",
        blocked.message
    );

    let lws = Capabilities {
        lws: true,
        ..Capabilities::default()
    };
    assert_eq!(
        before_render(&graph(MULTINODE), &lws.render_config(&base), &lws, |_| true),
        None
    );
    // A single-node graph never waits for one.
    assert_eq!(
        before_render(&graph(SINGLE), &config, &none, |_| true),
        None
    );
}

#[test]
fn the_kai_queue_must_exist_when_kai_is_on() {
    let base = RenderConfig::new(OperatorConfiguration::default());
    let kai = Capabilities {
        kai: true,
        ..Capabilities::default()
    };
    let config = kai.render_config(&base);
    let blocked = before_render(&graph(SINGLE), &config, &kai, |q| q == "dynamo").expect("blocked");
    assert_eq!(blocked.reason, QUEUE_NOT_FOUND);
    assert!(blocked.message.contains("`team-a`"), "{}", blocked.message);
    assert!(
        blocked.message.contains("nvidia.com/kai-scheduler-queue"),
        "{}",
        blocked.message
    );
    assert_eq!(
        before_render(&graph(SINGLE), &config, &kai, |q| q == "team-a"),
        None
    );

    // Switched on in the configuration without the API: say what to install.
    let mut operator = OperatorConfiguration::default();
    operator.orchestrators.kai_scheduler.enabled = Some(true);
    let none = Capabilities::default();
    let config = none.render_config(&RenderConfig::new(operator));
    let blocked = before_render(&graph(SINGLE), &config, &none, |_| true).expect("blocked");
    assert_eq!(blocked.reason, MISSING_API);
    assert!(
        blocked.message.contains("queues.scheduling.run.ai"),
        "{}",
        blocked.message
    );
}

#[test]
fn rendered_kinds_the_cluster_lacks_block_the_graph() {
    let mut operator = OperatorConfiguration::default();
    operator.orchestrators.lws.enabled = Some(true);
    let config = RenderConfig::new(operator);
    let plugins = dynamo_render::testing::FakePlugins::new();
    let rendered =
        dynamo_render::render(&graph(MULTINODE_LWS), &config, &plugins).expect("renders");
    let none = Capabilities::default();
    let blocked = after_render(&rendered, &none).expect("blocked");
    assert_eq!(blocked.reason, MISSING_API);
    assert!(
        blocked
            .message
            .contains("leaderworkersets.leaderworkerset.x-k8s.io"),
        "{}",
        blocked.message
    );
    // LeaderWorkerSet is all the LWS pathway needs: no Volcano PodGroups are rendered.
    assert!(rendered.objects.iter().all(|o| o.kind() != "PodGroup"));
    let lws_only = Capabilities {
        lws: true,
        ..Capabilities::default()
    };
    assert_eq!(after_render(&rendered, &lws_only), None);
}

const MULTINODE_LWS: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: {name: g, namespace: ns}
spec:
  components:
    - name: decode
      type: worker
      multinode: {nodeCount: 2}
      podTemplate:
        spec:
          containers:
            - name: main
              image: vllm:1
              command: [python3, -m, dynamo.vllm]
              args: [--model, m]
              resources: {limits: {nvidia.com/gpu: "1"}}
"#;
