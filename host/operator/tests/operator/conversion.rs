//! The operator's own conversion webhook: a cluster-wide operator runs out of cluster with its own
//! certificates and admission webhooks off, a converted CRD is pointed at its `/convert` by
//! loopback URL with no caBundle, and the operator writes its CA into the CRD; v1alpha1 writes
//! and reads then go through it.

use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use dynamo_test_harness::{ControlPlane, Mode};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::core::DynamicObject;
use serde_json::{Value, json};

use crate::common;
use crate::process::Launch;

const CRD: &str = "dynamographdeployments.nvidia.com";
const ALPHA: &str = "nvidia.com/v1alpha1";
const BETA: &str = "nvidia.com/v1beta1";
const KIND: &str = "DynamoGraphDeployment";

/// The conversion `clientConfig` of the graph CRD.
async fn client_config(client: &kube::Client) -> Result<Value> {
    let crd = Api::<CustomResourceDefinition>::all(client.clone())
        .get(CRD)
        .await?;
    Ok(serde_json::to_value(&crd)?["spec"]["conversion"]["webhook"]["clientConfig"].clone())
}

#[tokio::test]
async fn the_operator_writes_its_ca_into_a_crd_and_converts_through_it() -> Result<()> {
    // A private control plane: the graph CRD is pointed at this test's operator.
    let cp = ControlPlane::start(Mode::Basic).await?;
    let (client, ns) = cp.namespace("convert").await?;

    // Cluster-wide, its own certificates (kept in a Secret of `ns`), no admission webhooks: it
    // still serves /convert.
    let operator = Launch::new(&cp, "")
        .args(["--operator-namespace", ns.as_str()])
        .start("convert", ", enabled: false")?;
    operator.wait_ready(Duration::from_secs(60)).await?;

    // The CRD now converts through the operator, without a CA bundle yet.
    let url = format!("https://127.0.0.1:{}/convert", operator.webhook_port);
    Api::<CustomResourceDefinition>::all(client.clone())
        .patch(
            CRD,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"conversion": {"webhook": {"clientConfig": {
                "url": url, "caBundle": null,
            }}}}})),
        )
        .await?;
    ensure!(
        client_config(&client).await?["caBundle"].is_null(),
        "the caBundle was not cleared"
    );

    // The operator writes its CA (the one in its certificate Secret) into the CRD.
    let ca = common::wait_for(
        "the operator's CA in the CRD's conversion webhook",
        Duration::from_secs(45),
        || async {
            let Some(ca) = common::operator_ca(&client, &ns).await? else {
                return Ok(None);
            };
            let config = client_config(&client).await?;
            let written = config["caBundle"].as_str().map(str::to_owned);
            let expected = serde_json::to_value(&ca)?;
            Ok((written.as_deref() == expected.as_str()).then_some(ca.0))
        },
    )
    .await
    .with_context(|| format!("operator log:\n{}", operator.log_text()))?;
    ensure!(String::from_utf8_lossy(&ca).contains("BEGIN CERTIFICATE"));
    let config = client_config(&client).await?;
    assert_eq!(config["url"], url.as_str(), "the URL was changed");

    // A v1alpha1 write is converted and stored as v1beta1; reads at both versions go through
    // the operator and agree with the conversion code.
    let alpha = common::dynamic_api(&client, &ns, ALPHA, KIND);
    let mut graph: Value = serde_yaml_ng::from_str(&common::small_graph("through", "v1"))?;
    graph["metadata"]["namespace"] = json!(ns);
    let created = alpha
        .create(&Default::default(), &serde_json::from_value(graph)?)
        .await
        .with_context(|| format!("a v1alpha1 create; operator log:\n{}", operator.log_text()))?;
    let created = serde_json::to_value(&created)?;
    let beta = common::dynamic_api(&client, &ns, BETA, KIND)
        .get("through")
        .await?;
    let expected_beta = dynamo_conversion::convert(created.clone(), BETA)?;
    assert_eq!(
        serde_json::to_value(&beta)?["spec"],
        expected_beta["spec"],
        "the v1beta1 read"
    );
    ensure!(
        beta.data["spec"]["components"].is_array(),
        "not stored as v1beta1: {}",
        beta.data["spec"]
    );
    let read = alpha.get("through").await?;
    assert_eq!(
        serde_json::to_value(&read)?["spec"],
        dynamo_conversion::canonical(&created)?["spec"],
        "the v1alpha1 read"
    );

    // A v1alpha1 update goes through as well.
    let patched: DynamicObject = alpha
        .patch(
            "through",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"services": {"worker": {"replicas": 3}}}})),
        )
        .await?;
    assert_eq!(patched.data["spec"]["services"]["worker"]["replicas"], 3);
    let beta = common::dynamic_api(&client, &ns, BETA, KIND)
        .get("through")
        .await?;
    let worker = beta.data["spec"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "worker")
        .context("no worker component at v1beta1")?;
    assert_eq!(worker["replicas"], 3, "the v1alpha1 update at v1beta1");
    Ok(())
}
