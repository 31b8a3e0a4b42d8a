//! Dynamo's own example graphs go through our CRDs on a real apiserver unchanged.

use anyhow::{Context, Result, bail, ensure};
use dynamo_api::DynamoGraphDeployment;
use dynamo_test_harness::ControlPlane;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use serde_json::Value;

/// Every DynamoGraphDeployment document of every anchor file, with the file it came from.
fn anchor_graphs() -> Result<Vec<(String, Value)>> {
    let mut graphs = Vec::new();
    for example in dynamo_fixtures::anchor_examples() {
        for doc in serde_yaml_ng::Deserializer::from_str(&example.text) {
            let value: Value = serde::Deserialize::deserialize(doc)
                .with_context(|| format!("parsing {}", example.path.display()))?;
            if value["kind"] == "DynamoGraphDeployment" {
                graphs.push((format!("{}.yaml", example.name), value));
            }
        }
    }
    ensure!(
        graphs.len() >= 11,
        "expected the 11 anchor graphs, found {}",
        graphs.len()
    );
    Ok(graphs)
}

/// Lists the paths of `sent` whose value is missing or different in `got` (extra fields in `got`,
/// such as schema defaults, are fine).
fn lost_fields(sent: &Value, got: &Value, path: &str, lost: &mut Vec<String>) {
    match (sent, got) {
        (Value::Object(s), Value::Object(g)) => {
            for (k, v) in s {
                let p = format!("{path}.{k}");
                match g.get(k) {
                    Some(gv) => lost_fields(v, gv, &p, lost),
                    None => lost.push(p),
                }
            }
        }
        (Value::Array(s), Value::Array(g)) if s.len() == g.len() => {
            for (i, (sv, gv)) in s.iter().zip(g).enumerate() {
                lost_fields(sv, gv, &format!("{path}[{i}]"), lost);
            }
        }
        _ if sent == got => {}
        _ => lost.push(format!("{path}: sent {sent}, read back {got}")),
    }
}

fn dgd_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("nvidia.com", "v1alpha1", "DynamoGraphDeployment"),
        "dynamographdeployments",
    )
}

#[tokio::test]
async fn every_anchor_graph_round_trips_through_the_apiserver() -> Result<()> {
    let cp = ControlPlane::shared().await?;
    let (client, ns) = cp.namespace("anchors").await?;
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &dgd_resource());
    // Strict field validation: the apiserver rejects (instead of silently pruning) unknown fields.
    let params = PatchParams::apply("anchor-test").validation_strict();
    let mut failures = Vec::new();
    for (file, sent) in anchor_graphs()? {
        let name = sent["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let applied = api.patch(&name, &params, &Patch::Apply(&sent)).await;
        let obj = match applied {
            Ok(obj) => obj,
            Err(e) => {
                failures.push(format!("{file}: apply rejected: {e}"));
                continue;
            }
        };
        let got = serde_json::to_value(&obj)?;
        let mut lost = Vec::new();
        lost_fields(&sent["spec"], &got["spec"], "spec", &mut lost);
        if !lost.is_empty() {
            failures.push(format!("{file}: fields lost: {lost:#?}"));
        }
        // The typed API reads the stored object too.
        let typed: Api<DynamoGraphDeployment> = Api::namespaced(client.clone(), &ns);
        typed
            .get(&name)
            .await
            .with_context(|| format!("{file}: typed read-back"))?;
    }
    if !failures.is_empty() {
        bail!("anchor graphs did not round-trip:\n{}", failures.join("\n"));
    }
    Ok(())
}

#[tokio::test]
async fn kubectl_get_dgd_shows_dynamos_printer_columns() -> Result<()> {
    let cp = ControlPlane::shared().await?;
    let (client, ns) = cp.namespace("columns").await?;
    let (_, sent) = anchor_graphs()?
        .into_iter()
        .find(|(_, g)| g["spec"]["backendFramework"] == "trtllm")
        .context("an anchor graph with backendFramework trtllm")?;
    let name = sent["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &dgd_resource());
    api.patch(
        &name,
        &PatchParams::apply("columns-test"),
        &Patch::Apply(&sent),
    )
    .await?;
    // A Ready condition in status feeds the READY column.
    let status = serde_json::json!({
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoGraphDeployment",
        "status": {
            "state": "successful",
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "all_resources_are_ready",
                "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"
            }]
        }
    });
    api.patch_status(
        &name,
        &PatchParams::apply("columns-test").force(),
        &Patch::Apply(&status),
    )
    .await?;

    let out = std::process::Command::new(cp.bin("kubectl")?)
        .arg("--kubeconfig")
        .arg(cp.kubeconfig_path())
        .args(["get", "dgd", "-n", &ns])
        .output()
        .context("running kubectl")?;
    ensure!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    ensure!(
        header == ["NAME", "READY", "BACKEND", "AGE"],
        "unexpected columns: {text}"
    );
    let row: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    ensure!(
        row.get(..3) == Some(&[name.as_str(), "True", "trtllm"][..]),
        "unexpected row: {text}"
    );
    Ok(())
}
