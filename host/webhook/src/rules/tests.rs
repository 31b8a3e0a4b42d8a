use dynamo_render::Orchestrator;

use super::*;

fn graph(yaml: &str) -> DynamoGraphDeployment {
    serde_yaml_ng::from_str(yaml).expect("test graph parses")
}

const BASE: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: {name: g, namespace: ns}
spec:
  backendFramework: vllm
  components:
    - name: Frontend
      type: frontend
    - name: decode
      type: worker
      replicas: 2
      scalingAdapter: {}
"#;

fn errors(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.field_path, d.message))
        .collect()
}

fn deployment() -> RenderConfig {
    RenderConfig::default().with_orchestrator(Orchestrator::Deployment)
}

fn grove() -> RenderConfig {
    RenderConfig::default().with_orchestrator(Orchestrator::Grove)
}

/// `dgd` with `patch` applied.
fn patched(dgd: &DynamoGraphDeployment, patch: &[PatchOperation]) -> Value {
    let mut value = serde_json::to_value(dgd).expect("graph serializes");
    json_patch::patch(&mut value, patch).expect("patch applies");
    value
}

#[test]
fn defaults_fill_missing_replicas_and_stamp_the_origin_on_create_only() {
    let g = graph(BASE);
    let patch = graph_defaults(&g, true, Some("1.2.3"), &deployment());
    let text = serde_json::to_string(&patch).expect("patch serializes");
    assert!(text.contains("/spec/components/0/replicas"), "{text}");
    assert!(!text.contains("/spec/components/1/replicas"), "{text}");
    assert!(!text.contains("minAvailable"), "not on Grove: {text}");
    assert!(text.contains("/metadata/annotations"), "{text}");
    assert!(text.contains("1.2.3"), "{text}");

    let update = graph_defaults(&g, false, Some("1.2.3"), &deployment());
    let text = serde_json::to_string(&update).expect("patch serializes");
    assert!(!text.contains("annotations"), "no stamp on UPDATE: {text}");
    assert!(text.contains("/spec/components/0/replicas"), "{text}");

    // The patch applies to the object and gives the defaults.
    let value = patched(&g, &patch);
    assert_eq!(value["spec"]["components"][0]["replicas"], 1);
    assert_eq!(value["spec"]["components"][1]["replicas"], 2);
    assert_eq!(
        value["metadata"]["annotations"][annotation::ORIGIN_VERSION],
        "1.2.3"
    );
    assert_eq!(
        value["metadata"]["annotations"][annotation::WORKLOAD_PROVIDER],
        "component",
        "the DCD pathway"
    );
}

#[test]
fn defaults_on_grove_stamp_the_provider_and_min_available_on_create() {
    let g = graph(BASE);
    let patch = graph_defaults(&g, true, None, &grove());
    let value = patched(&g, &patch);
    assert_eq!(
        value["metadata"]["annotations"][annotation::WORKLOAD_PROVIDER],
        "grove"
    );
    assert!(
        value["metadata"]["annotations"]
            .get(annotation::ORIGIN_VERSION)
            .is_none(),
        "no operator version, no stamp"
    );
    for component in 0..2 {
        assert_eq!(
            value["spec"]["components"][component]["minAvailable"],
            DEFAULT_MIN_AVAILABLE
        );
    }
    // UPDATE: level-based on the provider the graph carries, whatever the configuration says.
    let text = serde_json::to_string(&graph_defaults(&g, false, None, &grove()))
        .expect("patch serializes");
    assert!(
        !text.contains("minAvailable"),
        "no provider, no Grove default on UPDATE: {text}"
    );
    let on_grove = graph(&BASE.replace(
        "metadata: {name: g, namespace: ns}",
        "metadata: {name: g, namespace: ns, annotations: {nvidia.com/workload-provider: grove}}",
    ));
    let value = patched(
        &on_grove,
        &graph_defaults(&on_grove, false, None, &deployment()),
    );
    assert_eq!(
        value["spec"]["components"][1]["minAvailable"], DEFAULT_MIN_AVAILABLE,
        "a graph on Grove keeps minAvailable through an UPDATE that drops it"
    );
    // CREATE chooses the provider from intent, not from the request's own annotation.
    let value = patched(
        &on_grove,
        &graph_defaults(&on_grove, true, None, &deployment()),
    );
    assert_eq!(
        value["metadata"]["annotations"][annotation::WORKLOAD_PROVIDER],
        "component"
    );
    assert!(value["spec"]["components"][0].get("minAvailable").is_none());

    // Opting out of Grove picks the DCD pathway, without minAvailable.
    let opted_out = graph(&BASE.replace(
        "metadata: {name: g, namespace: ns}",
        "metadata: {name: g, namespace: ns, annotations: {nvidia.com/enable-grove: \"False\"}}",
    ));
    let value = patched(
        &opted_out,
        &graph_defaults(&opted_out, true, None, &grove()),
    );
    assert_eq!(
        value["metadata"]["annotations"][annotation::WORKLOAD_PROVIDER],
        "component"
    );
    assert!(value["spec"]["components"][0].get("minAvailable").is_none());

    // One the graph names with its own minAvailable keeps it.
    let own = graph(&BASE.replace("replicas: 2\n", "replicas: 2\n      minAvailable: 2\n"));
    let value = patched(&own, &graph_defaults(&own, true, None, &grove()));
    assert_eq!(value["spec"]["components"][1]["minAvailable"], 2);
}

#[test]
fn defaults_keep_an_existing_origin_and_escape_keys() {
    let mut g = graph(BASE);
    g.metadata.annotations = Some(
        [(annotation::ORIGIN_VERSION.to_owned(), "0.9.0".to_owned())]
            .into_iter()
            .collect(),
    );
    let patch = serde_json::to_string(&graph_defaults(&g, true, Some("1.2.3"), &deployment()))
        .unwrap_or_default();
    assert!(
        !patch.contains(annotation::ORIGIN_VERSION.replace('/', "~1").as_str())
            && !patch.contains("1.2.3"),
        "an existing origin annotation is kept: {patch}"
    );
    g.metadata.annotations = Some([("other".to_owned(), "x".to_owned())].into());
    let patch = serde_json::to_string(&graph_defaults(&g, true, Some("1.2.3"), &deployment()))
        .unwrap_or_default();
    assert!(
        patch.contains("/metadata/annotations/nvidia.com~1dynamo-operator-origin-version"),
        "{patch}"
    );
    assert!(
        patch.contains("/metadata/annotations/nvidia.com~1workload-provider"),
        "{patch}"
    );
}

#[test]
fn component_defaults_name_a_new_component_after_its_object() {
    let dcd: DynamoComponentDeployment = serde_yaml_ng::from_str(
        "apiVersion: nvidia.com/v1beta1\nkind: DynamoComponentDeployment\nmetadata: {name: g-decode}\nspec: {type: worker}\n",
    )
    .expect("dcd parses");
    let patch = serde_json::to_value(component_defaults(&dcd, true)).expect("patch");
    assert_eq!(
        patch,
        serde_json::json!([{"op": "add", "path": "/spec/name", "value": "g-decode"}])
    );
    assert!(component_defaults(&dcd, false).is_empty(), "CREATE only");
    let named: DynamoComponentDeployment = serde_yaml_ng::from_str(
        "apiVersion: nvidia.com/v1beta1\nkind: DynamoComponentDeployment\nmetadata: {name: g-decode}\nspec: {name: decode, type: worker}\n",
    )
    .expect("dcd parses");
    assert!(
        component_defaults(&named, true).is_empty(),
        "a name is kept"
    );
}

#[test]
fn an_unchanged_graph_passes_every_update_rule() {
    let g = graph(BASE);
    assert!(graph_update(&g, &g, false, false).is_empty());
}

#[test]
fn backend_framework_is_immutable() {
    let old = graph(BASE);
    let new = graph(&BASE.replace("backendFramework: vllm", "backendFramework: sglang"));
    let found = errors(&graph_update(&old, &new, true, false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.backendFramework: is immutable"),
        "{found:?}"
    );
}

#[test]
fn the_set_of_components_is_fixed() {
    let old = graph(BASE);
    let new = graph(&BASE.replace("name: Frontend", "name: Router"));
    let found = errors(&graph_update(&old, &new, true, false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.components: components cannot be added or removed"),
        "{found:?}"
    );
    assert!(
        found[0].contains("added Router; removed Frontend"),
        "{found:?}"
    );
    // Reordering the list changes nothing.
    let reordered = graph(
        r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: {name: g, namespace: ns}
spec:
  backendFramework: vllm
  components:
    - name: decode
      type: worker
      replicas: 2
      scalingAdapter: {}
    - name: Frontend
      type: frontend
"#,
    );
    assert!(graph_update(&old, &reordered, false, false).is_empty());
}

#[test]
fn a_component_cannot_switch_between_single_and_multi_node_nor_change_its_node_count() {
    let old = graph(BASE);
    let multi = |nodes: u32| {
        graph(&BASE.replace(
            "replicas: 2\n",
            &format!("replicas: 2\n      multinode: {{nodeCount: {nodes}}}\n"),
        ))
    };
    let new = multi(2);
    let found = errors(&graph_update(&old, &new, true, false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.components[1].multinode:"),
        "{found:?}"
    );
    assert!(found[0].contains("it was single-node"), "{found:?}");
    assert!(
        errors(&graph_update(&new, &old, true, false))[0].contains("it was multi-node"),
        "and back"
    );
    // The node count of a multi-node component is immutable in v1beta1.
    assert_eq!(
        errors(&graph_update(&new, &multi(3), true, false)),
        ["spec.components[1].multinode.nodeCount: is immutable: it was 2"]
    );
}

#[test]
fn placement_is_immutable() {
    let placed = BASE.replace(
        "  backendFramework: vllm\n",
        "  backendFramework: vllm\n  topologyConstraint: {clusterTopologyName: t, packDomain: zone}\n",
    );
    let old = graph(&placed);
    let wider = graph(&placed.replace("packDomain: zone", "packDomain: rack"));
    assert_eq!(
        errors(&graph_update(&old, &wider, true, false)),
        ["spec.topologyConstraint: is immutable: placement cannot change under running pods"]
    );
    let component = graph(&placed.replace(
        "type: frontend\n",
        "type: frontend\n      topologyConstraint: {packDomain: rack}\n",
    ));
    assert_eq!(
        errors(&graph_update(&old, &component, true, false)),
        [
            "spec.components[0].topologyConstraint: is immutable: placement cannot change under \
             running pods"
        ]
    );
    let kv = graph(&BASE.replace(
        "  backendFramework: vllm\n",
        "  backendFramework: vllm\n  experimental: {kvTransferPolicy: {labelKey: topology.kubernetes.io/zone, domain: zone}}\n",
    ));
    assert_eq!(
        errors(&graph_update(&graph(BASE), &kv, true, false)),
        ["spec.experimental.kvTransferPolicy: is immutable"]
    );
}

#[test]
fn the_workload_provider_is_set_by_the_operator_once() {
    let without = graph(BASE);
    let with = |provider: &str| {
        graph(&BASE.replace(
            "metadata: {name: g, namespace: ns}",
            &format!(
                "metadata: {{name: g, namespace: ns, annotations: {{nvidia.com/workload-provider: {provider}}}}}"
            ),
        ))
    };
    let field = "metadata.annotations[nvidia.com/workload-provider]";
    assert_eq!(
        errors(&graph_update(&without, &with("grove"), true, false)),
        [format!("{field}: may only be set by the operator")]
    );
    assert!(
        graph_update(&without, &with("grove"), true, true).is_empty(),
        "the operator may add it"
    );
    for (new, is_operator) in [(with("component"), true), (without.clone(), true)] {
        assert_eq!(
            errors(&graph_update(&with("grove"), &new, true, is_operator)),
            [format!("{field}: is immutable: it was `grove`")],
            "not even the operator changes or removes it"
        );
    }
}

#[test]
fn adapter_owned_replicas_change_only_for_the_operator_or_the_planner() {
    let old = graph(BASE);
    let new = graph(&BASE.replace("replicas: 2", "replicas: 5"));
    let found = errors(&graph_update(&old, &new, false, false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("spec.components[1].replicas: is owned by the scaling adapter"),
        "{found:?}"
    );
    assert!(graph_update(&old, &new, true, false).is_empty());

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
    let free = BASE.replace("      scalingAdapter: {}\n", "");
    assert_ne!(free, BASE, "the marker was removed");
    let free_new = free.replace("replicas: 2", "replicas: 5");
    assert!(graph_update(&graph(&free), &graph(&free_new), false, false).is_empty());
}

#[test]
fn restart_id_is_frozen_during_a_rolling_update() {
    let with_restart = BASE.replace("spec:\n", "spec:\n  restart: {id: one}\n");
    let mut old = graph(&with_restart);
    let new = graph(&with_restart.replace("id: one", "id: two"));
    assert!(
        graph_update(&old, &new, false, false).is_empty(),
        "no rolling update: free to change"
    );
    old.status = Some(dynamo_api::DynamoGraphDeploymentStatus {
        rolling_update: Some(dynamo_api::graph::RollingUpdateStatus {
            phase: Some(RollingUpdatePhase::InProgress),
            ..Default::default()
        }),
        ..Default::default()
    });
    let found = errors(&graph_update(&old, &new, false, false));
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
    let yaml = "apiVersion: nvidia.com/v1beta1\nkind: DynamoComponentDeployment\nmetadata: {name: g-decode}\nspec: {backendFramework: vllm, type: worker, replicas: -1, podTemplate: {spec: {containers: [{name: main, image: 'w:1.0.0'}]}}}\n";
    let old: DynamoComponentDeployment = serde_yaml_ng::from_str(yaml).expect("dcd parses");
    let found = errors(&component(&old));
    assert_eq!(
        found,
        ["spec.replicas: must be 0 or more, got -1"],
        "the component rules, at the DCD's paths"
    );
    let no_image: DynamoComponentDeployment = serde_yaml_ng::from_str(
        "apiVersion: nvidia.com/v1beta1\nkind: DynamoComponentDeployment\nmetadata: {name: g-decode}\nspec: {type: worker}\n",
    )
    .expect("dcd parses");
    assert_eq!(
        errors(&component(&no_image)),
        [
            "spec.podTemplate.spec.containers: a container named `main` with a non-empty image is required"
        ]
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
