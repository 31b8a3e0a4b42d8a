//! Kinds whose CRDs are shipped but not acted on (DynamoGraphDeploymentRequest,
//! DynamoCheckpoint): while the operator runs, each object applied gets `Ready=False` with reason
//! `NotSupported` and a one-line message, stamped again at each new generation.

use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_controllers::unsupported::{KINDS, REASON, UnsupportedKind};
use dynamo_test_harness::ControlPlane;
use kube::Client;
use serde_json::{Value, json};

use crate::common;
use crate::process::Launch;

/// A minimal object of `kind` named `name`; each `revision` has another spec.
fn object(kind: &UnsupportedKind, name: &str, revision: u32) -> Value {
    let models = ["Qwen/Qwen3-0.6B", "Qwen/Qwen3-8B"];
    let spec = match kind.kind {
        "DynamoGraphDeploymentRequest" => json!({"model": models[revision as usize % 2]}),
        _ => json!({
            "identity": {"backendFramework": "vllm", "model": "Qwen/Qwen3-0.6B"},
            "job": {
                "backoffLimit": revision,
                "podTemplateSpec": {"spec": {"containers": [
                    {"name": "main", "image": "registry.example.com/dynamo:v1"}
                ]}},
            },
        }),
    };
    json!({
        "apiVersion": format!("{}/{}", dynamo_api::GROUP, kind.version),
        "kind": kind.kind,
        "metadata": {"name": name},
        "spec": spec,
    })
}

/// Waits until `name` is at `generation` and carries a `Ready` condition observed at it; returns
/// the condition.
async fn wait_marked(
    client: &Client,
    ns: &str,
    kind: &UnsupportedKind,
    name: &str,
    generation: i64,
) -> Result<Value> {
    let api = common::dynamic_api(
        client,
        ns,
        &format!("{}/{}", dynamo_api::GROUP, kind.version),
        kind.kind,
    );
    common::wait_for(
        &format!("{} {name} marked at generation {generation}", kind.kind),
        Duration::from_secs(30),
        || async {
            let object = api.get(name).await?;
            ensure!(
                object.metadata.generation == Some(generation),
                "{} {name} is at generation {:?}",
                kind.kind,
                object.metadata.generation
            );
            let ready = object.data["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready")
                .cloned();
            Ok(ready.filter(|c| c["observedGeneration"] == generation))
        },
    )
    .await
}

#[tokio::test]
async fn requests_and_checkpoints_are_marked_not_supported_at_each_generation() -> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (client, ns) = cp.namespace("unsupported").await?;
    // The operator binary, watching this namespace only.
    let operator = Launch::new(cp, "")
        .args(["--watch-namespace", ns.as_str()])
        .start(&format!("unsupported-{ns}"), ", enabled: false")?;
    operator.wait_ready(Duration::from_secs(60)).await?;

    for kind in &KINDS {
        let name = kind.plural.trim_end_matches('s');
        let applied = object(kind, name, 0);
        common::apply_yaml(&client, &ns, &serde_yaml_ng::to_string(&applied)?).await?;
        let condition = wait_marked(&client, &ns, kind, name, 1)
            .await
            .with_context(|| format!("operator log:\n{}", operator.log_text()))?;
        assert_eq!(condition["status"], "False", "{condition}");
        assert_eq!(condition["reason"], REASON, "{condition}");
        let message = condition["message"].as_str().unwrap_or_default();
        assert_eq!(message, kind.message());
        ensure!(
            message.contains(kind.kind) && !message.contains('\n'),
            "not one line naming the kind: {message:?}"
        );

        // A spec change: marked again at the new generation.
        let changed = object(kind, name, 1);
        common::apply_yaml(&client, &ns, &serde_yaml_ng::to_string(&changed)?).await?;
        let condition = wait_marked(&client, &ns, kind, name, 2).await?;
        assert_eq!(condition["reason"], REASON, "{condition}");
    }
    Ok(())
}
