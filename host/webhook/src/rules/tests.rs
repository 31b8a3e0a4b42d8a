use super::*;

fn graph(yaml: &str) -> DynamoGraphDeployment {
    serde_yaml_ng::from_str(yaml).expect("test graph parses")
}

const BASE: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: {name: g, namespace: ns}
spec:
  backendFramework: vllm
  services:
    Frontend: {componentType: frontend}
    decode:
      componentType: worker
      replicas: 2
      scalingAdapter: {enabled: true}
"#;

fn errors(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.field_path, d.message))
        .collect()
}

#[test]
fn defaults_fill_missing_replicas_and_stamp_the_origin_on_create_only() {
    let g = graph(BASE);
    let patch = graph_defaults(&g, true, Some("1.2.3"));
    let text = serde_json::to_string(&patch).expect("patch serializes");
    assert!(text.contains("/spec/services/Frontend/replicas"), "{text}");
    assert!(!text.contains("/spec/services/decode/replicas"), "{text}");
    assert!(text.contains("/metadata/annotations"), "{text}");
    assert!(text.contains("1.2.3"), "{text}");

    let update = graph_defaults(&g, false, Some("1.2.3"));
    let text = serde_json::to_string(&update).expect("patch serializes");
    assert!(!text.contains("annotations"), "no stamp on UPDATE: {text}");

    // The patch applies to the object and gives the defaults.
    let mut value = serde_json::to_value(&g).expect("graph serializes");
    json_patch::patch(&mut value, &patch).expect("patch applies");
    assert_eq!(value["spec"]["services"]["Frontend"]["replicas"], 1);
    assert_eq!(
        value["metadata"]["annotations"][annotation::ORIGIN_VERSION],
        "1.2.3"
    );
}

#[test]
fn defaults_keep_an_existing_origin_and_escape_keys() {
    let mut g = graph(BASE);
    g.metadata.annotations = Some(
        [(annotation::ORIGIN_VERSION.to_owned(), "0.9.0".to_owned())]
            .into_iter()
            .collect(),
    );
    assert!(
        graph_defaults(&g, true, Some("1.2.3"))
            .iter()
            .all(|op| !serde_json::to_string(op)
                .unwrap_or_default()
                .contains("annotations")),
        "an existing origin annotation is kept"
    );
    g.metadata.annotations = Some([("other".to_owned(), "x".to_owned())].into());
    let patch = serde_json::to_string(&graph_defaults(&g, true, Some("1.2.3"))).unwrap_or_default();
    assert!(
        patch.contains("/metadata/annotations/nvidia.com~1dynamo-operator-origin-version"),
        "{patch}"
    );
}

#[test]
fn an_unchanged_graph_passes_every_update_rule() {
    let g = graph(BASE);
    assert!(graph_update(&g, &g, false).is_empty());
}

#[test]
fn backend_framework_is_immutable() {
    let old = graph(BASE);
    let new = graph(&BASE.replace("backendFramework: vllm", "backendFramework: sglang"));
    let found = errors(&graph_update(&old, &new, true));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.backendFramework: is immutable"),
        "{found:?}"
    );
}

#[test]
fn the_set_of_services_is_fixed() {
    let old = graph(BASE);
    let new = graph(&BASE.replace(
        "Frontend: {componentType: frontend}",
        "Router: {componentType: frontend}",
    ));
    let found = errors(&graph_update(&old, &new, true));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("added Router; removed Frontend"),
        "{found:?}"
    );
}

#[test]
fn a_service_cannot_switch_between_single_and_multi_node() {
    let old = graph(BASE);
    let new = graph(&BASE.replace(
        "replicas: 2\n",
        "replicas: 2\n      multinode: {nodeCount: 2}\n",
    ));
    let found = errors(&graph_update(&old, &new, true));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.services.decode.multinode:"),
        "{found:?}"
    );
    assert!(found[0].contains("it was single-node"), "{found:?}");
    // A node count change within multi-node is allowed.
    let three = graph(&BASE.replace(
        "replicas: 2\n",
        "replicas: 2\n      multinode: {nodeCount: 3}\n",
    ));
    assert!(graph_update(&new, &three, true).is_empty());
}

#[test]
fn adapter_owned_replicas_change_only_for_the_operator_or_the_planner() {
    let old = graph(BASE);
    let new = graph(&BASE.replace("replicas: 2", "replicas: 5"));
    let found = errors(&graph_update(&old, &new, false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("spec.services.decode.replicas: is owned by the scaling adapter"));
    assert!(graph_update(&old, &new, true).is_empty());

    let operator = "system:serviceaccount:dynamo-system:dynamo-operator";
    assert!(may_scale(operator, Some(operator)));
    assert!(may_scale(
        "system:serviceaccount:team-a:planner-serviceaccount",
        Some(operator)
    ));
    assert!(!may_scale(
        "system:serviceaccount:team-a:default",
        Some(operator)
    ));
    assert!(!may_scale("alice", Some(operator)));
    assert!(!may_scale("planner-serviceaccount", None));

    // Without the adapter, replicas are the user's to change.
    let free = graph(&BASE.replace(
        "scalingAdapter: {enabled: true}",
        "scalingAdapter: {enabled: false}",
    ));
    let free_new = graph(
        &BASE
            .replace(
                "scalingAdapter: {enabled: true}",
                "scalingAdapter: {enabled: false}",
            )
            .replace("replicas: 2", "replicas: 5"),
    );
    assert!(graph_update(&free, &free_new, false).is_empty());
}

#[test]
fn restart_id_is_frozen_during_a_rolling_update() {
    let with_restart = BASE.replace("spec:\n", "spec:\n  restart: {id: one}\n");
    let mut old = graph(&with_restart);
    let new = graph(&with_restart.replace("id: one", "id: two"));
    assert!(
        graph_update(&old, &new, false).is_empty(),
        "no rolling update: free to change"
    );
    old.status = Some(dynamo_api::DynamoGraphDeploymentStatus {
        rolling_update: Some(dynamo_api::graph::RollingUpdateStatus {
            phase: Some(RollingUpdatePhase::InProgress),
            ..Default::default()
        }),
        ..Default::default()
    });
    let found = errors(&graph_update(&old, &new, false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.restart.id: cannot change"),
        "{found:?}"
    );
}

fn dm(yaml: &str) -> DynamoModel {
    serde_yaml_ng::from_str(yaml).expect("test model parses")
}

#[test]
fn model_rules() {
    let base = "apiVersion: nvidia.com/v1alpha1\nkind: DynamoModel\nmetadata: {name: m}\nspec: {modelName: a, baseModelName: b}\n";
    assert!(model(&dm(base)).is_empty());
    let empty = dm(
        "apiVersion: nvidia.com/v1alpha1\nkind: DynamoModel\nmetadata: {name: m}\nspec: {modelName: '', baseModelName: ''}\n",
    );
    let found = errors(&model(&empty));
    assert_eq!(
        found,
        [
            "spec.modelName: is required",
            "spec.baseModelName: is required"
        ]
    );

    let lora = base.replace("baseModelName: b}", "baseModelName: b, modelType: lora}");
    assert_eq!(errors(&model(&dm(&lora))).len(), 1, "LoRA needs a source");
    let bad = base.replace(
        "baseModelName: b}",
        "baseModelName: b, modelType: lora, source: {uri: 'http://x'}}",
    );
    let found = errors(&model(&dm(&bad)));
    assert!(
        found[0].contains("must start with s3:// or hf://"),
        "{found:?}"
    );
    let good = base.replace(
        "baseModelName: b}",
        "baseModelName: b, modelType: lora, source: {uri: 'hf://org/m'}}",
    );
    assert!(model(&dm(&good)).is_empty());

    let found = errors(&model_update(&dm(&good), &dm(base)));
    assert_eq!(found, ["spec.modelType: is immutable"]);
    let renamed = base.replace("baseModelName: b", "baseModelName: c");
    let found = errors(&model_update(&dm(base), &dm(&renamed)));
    assert_eq!(found, ["spec.baseModelName: is immutable: it was `b`"]);
}

#[test]
fn component_backend_is_immutable_and_shared_rules_apply() {
    let yaml = "apiVersion: nvidia.com/v1alpha1\nkind: DynamoComponentDeployment\nmetadata: {name: g-decode}\nspec: {backendFramework: vllm, componentType: worker, replicas: -1}\n";
    let old: DynamoComponentDeployment = serde_yaml_ng::from_str(yaml).expect("dcd parses");
    let found = errors(&component(&old));
    assert!(
        found.iter().any(|f| f.starts_with("spec.replicas")),
        "{found:?}"
    );
    let new: DynamoComponentDeployment =
        serde_yaml_ng::from_str(&yaml.replace("vllm", "trtllm")).expect("dcd parses");
    let found = errors(&component_update(&old, &new));
    assert_eq!(
        found,
        [
            "spec.backendFramework: is immutable: it was `vllm`; create a new object to change the backend"
        ]
    );
}
