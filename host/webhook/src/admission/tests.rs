use super::*;

use std::sync::OnceLock;

fn registry() -> PluginRegistry {
    static REGISTRY: OnceLock<PluginRegistry> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let cache = std::env::temp_dir().join("dynamo-webhook-unit-cache");
            let runtime = dynamo_plugin_runtime::PluginRuntime::new(
                dynamo_plugin_runtime::RuntimeConfig::new().cache_dir(Some(cache)),
            )
            .expect("plugin runtime");
            PluginRegistry::load(&runtime, None).expect("built-in plugins load")
        })
        .clone()
}

fn admission() -> Admission {
    let config = RenderConfig::new(dynamo_render::OperatorConfiguration::default());
    let (_tx, rx) = watch::channel(config);
    Admission::new(rx, registry())
        .operator_version(Some("1.0.0".into()))
        .operator_user(Some(
            "system:serviceaccount:dynamo-system:dynamo-operator".into(),
        ))
}

/// The `v1alpha1` vLLM aggregated anchor graph (services `Frontend` and `VllmDecodeWorker`).
fn anchor() -> serde_json::Value {
    let text = dynamo_fixtures::anchor_example("vllm-agg").text;
    let mut value: serde_json::Value = serde_yaml_ng::from_str(&text).expect("anchor parses");
    value["metadata"]["namespace"] = "team-a".into();
    value
}

/// Dynamo 1.5's `v1beta1` vLLM aggregated example (components `Frontend`, `VllmDecodeWorker`).
fn beta_anchor() -> serde_json::Value {
    let example = dynamo_fixtures::v1beta1_examples()
        .into_iter()
        .find(|e| e.name == "vllm/deploy/agg")
        .expect("the v1beta1 vLLM agg example");
    let mut value: serde_json::Value =
        serde_yaml_ng::from_str(&example.text).expect("example parses");
    value["metadata"]["namespace"] = "team-a".into();
    value
}

/// The JSON patch of a mutating answer.
fn patch_of(response: &AdmissionResponse) -> serde_json::Value {
    serde_json::from_slice(response.patch.as_deref().expect("a patch")).expect("a JSON patch")
}

fn review(
    operation: &str,
    kind: &str,
    object: &serde_json::Value,
    old: Option<&serde_json::Value>,
    user: &str,
) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "0c4f1a4e-3f0b-4d55-9d8a-1f2e3d4c5b6a",
            "kind": {"group": "nvidia.com", "version": "v1alpha1", "kind": kind},
            "resource": {"group": "nvidia.com", "version": "v1alpha1", "resource": "x"},
            "name": object["metadata"]["name"],
            "namespace": "team-a",
            "operation": operation,
            "userInfo": {"username": user},
            "object": object,
            "oldObject": old,
            "dryRun": false,
        }
    }))
    .expect("review serializes")
}

fn answer_of(review: &AdmissionReview<DynamicObject>) -> &AdmissionResponse {
    review.response.as_ref().expect("a response")
}

#[tokio::test]
async fn garbage_is_an_invalid_review() {
    let out = admission()
        .review(Webhook::ValidateGraph, b"{not json")
        .await;
    let response = answer_of(&out);
    assert!(!response.allowed);
    assert!(response.result.message.contains("not an AdmissionReview"));
}

#[tokio::test]
async fn an_anchor_graph_is_allowed_and_defaulted() {
    let graph = anchor();
    let body = review("CREATE", "DynamoGraphDeployment", &graph, None, "alice");
    let validated = admission().review(Webhook::ValidateGraph, &body).await;
    let response = answer_of(&validated);
    assert!(response.allowed, "{}", response.result.message);
    assert_eq!(response.uid, "0c4f1a4e-3f0b-4d55-9d8a-1f2e3d4c5b6a");

    let mutated = admission().review(Webhook::MutateGraph, &body).await;
    let response = answer_of(&mutated);
    assert!(response.allowed);
    let patch = String::from_utf8(response.patch.clone().expect("a patch")).expect("utf-8");
    assert!(patch.contains("dynamo-operator-origin-version"), "{patch}");
}

#[tokio::test]
async fn an_invalid_graph_is_denied_naming_the_field() {
    let mut graph = anchor();
    graph["spec"]["services"]["VllmDecodeWorker"]["replicas"] = (-1).into();
    let body = review("CREATE", "DynamoGraphDeployment", &graph, None, "alice");
    let out = admission().review(Webhook::ValidateGraph, &body).await;
    let response = answer_of(&out);
    assert!(!response.allowed);
    assert!(
        response
            .result
            .message
            .contains("spec.components[1].replicas: must be 0 or more"),
        "a v1alpha1 graph is judged at v1beta1 paths: {}",
        response.result.message
    );
}

#[tokio::test]
async fn a_v1beta1_graph_is_judged_and_defaulted_in_v1beta1() {
    let graph = beta_anchor();
    let body = review("CREATE", "DynamoGraphDeployment", &graph, None, "alice");
    let validated = admission().review(Webhook::ValidateGraph, &body).await;
    let response = answer_of(&validated);
    assert!(response.allowed, "{}", response.result.message);

    let mut unnamed = graph.clone();
    unnamed["spec"]["components"][1]["replicas"] = (-1).into();
    unnamed["spec"]["components"][0]["podTemplate"]["spec"]["containers"][0]["image"] = "".into();
    let body = review("CREATE", "DynamoGraphDeployment", &unnamed, None, "alice");
    let out = admission().review(Webhook::ValidateGraph, &body).await;
    let response = answer_of(&out);
    assert!(!response.allowed);
    assert_eq!(
        response.result.message,
        "spec.components[0].podTemplate.spec.containers: a container named `main` with a \
         non-empty image is required; spec.components[1].replicas: must be 0 or more, got -1"
    );

    let mut defaulted = graph;
    if let Some(fields) = defaulted["spec"]["components"][0].as_object_mut() {
        fields.remove("replicas");
    }
    let body = review("CREATE", "DynamoGraphDeployment", &defaulted, None, "alice");
    let mutated = admission().review(Webhook::MutateGraph, &body).await;
    let patch = patch_of(answer_of(&mutated));
    let mut value = defaulted.clone();
    json_patch::patch(
        &mut value,
        &serde_json::from_value::<json_patch::Patch>(patch).expect("a patch"),
    )
    .expect("the patch applies to the v1beta1 object");
    assert_eq!(value["spec"]["components"][0]["replicas"], 1);
    let annotations = &value["metadata"]["annotations"];
    assert_eq!(
        annotations["nvidia.com/dynamo-operator-origin-version"],
        "1.0.0"
    );
    assert_eq!(annotations["nvidia.com/workload-provider"], "component");
}

#[tokio::test]
async fn a_v1alpha1_graph_is_defaulted_in_v1alpha1() {
    let mut graph = anchor();
    if let Some(fields) = graph["spec"]["services"]["Frontend"].as_object_mut() {
        fields.remove("replicas");
    }
    let body = review("CREATE", "DynamoGraphDeployment", &graph, None, "alice");
    let mutated = admission().review(Webhook::MutateGraph, &body).await;
    let patch = patch_of(answer_of(&mutated));
    let text = patch.to_string();
    assert!(!text.contains("/spec/components"), "{text}");
    let mut value = graph.clone();
    json_patch::patch(
        &mut value,
        &serde_json::from_value::<json_patch::Patch>(patch).expect("a patch"),
    )
    .expect("the patch applies to the v1alpha1 object");
    assert_eq!(value["spec"]["services"]["Frontend"]["replicas"], 1);
    assert_eq!(
        value["metadata"]["annotations"]["nvidia.com/workload-provider"],
        "component"
    );
}

#[tokio::test]
async fn components_are_judged_and_named_in_v1beta1() {
    let dcd = serde_json::json!({
        "apiVersion": "nvidia.com/v1beta1", "kind": "DynamoComponentDeployment",
        "metadata": {"name": "g-decode", "namespace": "team-a"},
        "spec": {"type": "worker", "replicas": 1},
    });
    let body = review("CREATE", "DynamoComponentDeployment", &dcd, None, "alice");
    let out = admission().review(Webhook::ValidateComponent, &body).await;
    let response = answer_of(&out);
    assert!(!response.allowed);
    assert_eq!(
        response.result.message,
        "spec.podTemplate.spec.containers: a container named `main` with a non-empty image is \
         required"
    );
    let mutated = admission().review(Webhook::MutateComponent, &body).await;
    assert_eq!(
        patch_of(answer_of(&mutated)),
        serde_json::json!([{"op": "add", "path": "/spec/name", "value": "g-decode"}])
    );
}

#[tokio::test]
async fn a_wrongly_typed_field_is_denied_with_its_path() {
    let mut graph = anchor();
    graph["spec"]["services"]["VllmDecodeWorker"]["replicas"] = "two".into();
    let body = review("CREATE", "DynamoGraphDeployment", &graph, None, "alice");
    let out = admission().review(Webhook::ValidateGraph, &body).await;
    let response = answer_of(&out);
    assert!(!response.allowed);
    assert!(
        response
            .result
            .message
            .contains("spec.services.VllmDecodeWorker.replicas"),
        "{}",
        response.result.message
    );
}

#[tokio::test]
async fn update_rules_apply_and_deletes_pass() {
    let old = anchor();
    let mut new = old.clone();
    new["spec"]["backendFramework"] = "sglang".into();
    let body = review("UPDATE", "DynamoGraphDeployment", &new, Some(&old), "alice");
    let out = admission().review(Webhook::ValidateGraph, &body).await;
    let response = answer_of(&out);
    assert!(!response.allowed);
    assert!(
        response
            .result
            .message
            .contains("spec.backendFramework: is immutable")
    );

    let body = review("DELETE", "DynamoGraphDeployment", &new, Some(&old), "alice");
    let out = admission().review(Webhook::ValidateGraph, &body).await;
    assert!(answer_of(&out).allowed, "deletions are never judged");
}

#[tokio::test]
async fn namespaces_claimed_elsewhere_are_left_alone() {
    let mut graph = anchor();
    graph["spec"]["services"]["VllmDecodeWorker"]["replicas"] = (-1).into();
    let body = review("CREATE", "DynamoGraphDeployment", &graph, None, "alice");
    let claimed: ClaimedElsewhere = Arc::new(|ns: &str| ns == "team-a");
    let out = admission()
        .claimed_elsewhere(Some(claimed))
        .review(Webhook::ValidateGraph, &body)
        .await;
    assert!(answer_of(&out).allowed);
}

#[tokio::test]
async fn models_are_judged() {
    let model = serde_json::json!({
        "apiVersion": "nvidia.com/v1alpha1", "kind": "DynamoModel",
        "metadata": {"name": "m", "namespace": "team-a"},
        "spec": {"modelName": "a", "baseModelName": "b", "modelType": "lora"},
    });
    let body = review("CREATE", "DynamoModel", &model, None, "alice");
    let out = admission().review(Webhook::ValidateModel, &body).await;
    let response = answer_of(&out);
    assert!(!response.allowed);
    assert!(
        response
            .result
            .message
            .starts_with("spec.source.uri: is required")
    );
}
