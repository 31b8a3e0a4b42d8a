//! Helpers of the operator tests: an operator per test (in this process, or as the real binary),
//! graphs in and out of the API server, and waiting.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use dynamo_api::DynamoGraphDeployment;
use dynamo_controllers::WriteCounters;
use dynamo_plugin_runtime::{PluginRegistry, PluginRuntime, RuntimeConfig};
use dynamo_render::RenderConfig;
use dynamo_test_harness::ControlPlane;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;
use tokio::sync::oneshot;

/// The operator version the tests stamp on graphs (as `render` does).
pub const VERSION: &str = "1.1.0";

/// A precompiled plugin cache shared by every test run.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("operator-plugin-cache")
}

/// The built-in plugins, plus the `*.wasm` of `dir`.
pub fn registry(dir: Option<&std::path::Path>) -> PluginRegistry {
    let runtime = PluginRuntime::new(RuntimeConfig::new().cache_dir(Some(cache_dir())))
        .expect("plugin runtime");
    PluginRegistry::load(&runtime, dir).expect("plugin registry")
}

/// The render configuration the operator runs with in the tests (and `render` predicts with):
/// the Deployment pathway, whatever optional APIs other tests installed.
pub fn render_config() -> RenderConfig {
    orchestrators(Some(false), Some(false), Some(false))
}

/// A render configuration with these orchestrator switches (`None`: follow the cluster).
pub fn orchestrators(grove: Option<bool>, lws: Option<bool>, kai: Option<bool>) -> RenderConfig {
    let mut operator = dynamo_render::OperatorConfiguration::default();
    operator.orchestrators.grove.enabled = grove;
    operator.orchestrators.lws.enabled = lws;
    operator.orchestrators.kai_scheduler.enabled = kai;
    RenderConfig::new(operator).with_operator_version(VERSION)
}

/// An operator running in this process, watching one namespace.
pub struct Operator {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), dynamo_controllers::Error>>>,
    /// What it wrote.
    pub counters: Arc<WriteCounters>,
}

impl Operator {
    /// Starts an operator on `cp` watching `namespace`, with `registry`.
    pub async fn start(
        cp: &ControlPlane,
        namespace: &str,
        registry: PluginRegistry,
    ) -> Result<Self> {
        Self::start_with(cp, namespace, registry, render_config()).await
    }

    /// Starts an operator as [`Operator::start`] does, rendering with `render`.
    pub async fn start_with(
        cp: &ControlPlane,
        namespace: &str,
        registry: PluginRegistry,
        render: RenderConfig,
    ) -> Result<Self> {
        Self::start_publishing(cp, namespace, registry, render, None).await
    }

    /// Starts an operator as [`Operator::start_with`] does, publishing lifecycle events with
    /// `lifecycle`.
    pub async fn start_publishing(
        cp: &ControlPlane,
        namespace: &str,
        registry: PluginRegistry,
        render: RenderConfig,
        lifecycle: Option<dynamo_events::Publisher>,
    ) -> Result<Self> {
        // `RUST_LOG=dynamo_controllers=debug` shows what the in-process operators do.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let mut config = cp.kube_config();
        dynamo_controllers::identify(&mut config);
        let client = Client::try_from(config)?;
        let mut options = dynamo_controllers::Options::new(render);
        options.namespace = Some(namespace.to_owned());
        options.debounce = Duration::from_millis(100);
        options.lifecycle = lifecycle;
        let (stop, stopped) = oneshot::channel::<()>();
        let counters = Arc::new(WriteCounters::default());
        let task = tokio::spawn(dynamo_controllers::run(
            client,
            registry,
            options,
            async move {
                let _ = stopped.await;
            },
            Some(Arc::clone(&counters)),
        ));
        Ok(Self {
            stop: Some(stop),
            task: Some(task),
            counters,
        })
    }

    /// Stops it (graceful shutdown) and waits until it has.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .context("the operator did not stop within 30 s")???;
        }
        Ok(())
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The API of a kind by `apiVersion` and `kind`.
pub fn dynamic_api(
    client: &Client,
    namespace: &str,
    api_version: &str,
    kind: &str,
) -> Api<DynamicObject> {
    let resource = dynamo_controllers::apply::api_resource(api_version, kind);
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// Merge-patches graph `name` at `nvidia.com/v1alpha1` (served through the conversion webhook),
/// in that version's shape (`spec.services.<name>...`), as a user of the earlier API would.
pub async fn patch_alpha_graph(
    client: &Client,
    namespace: &str,
    name: &str,
    patch: &Value,
) -> Result<()> {
    dynamic_api(
        client,
        namespace,
        dynamo_api::v1alpha1::API_VERSION,
        "DynamoGraphDeployment",
    )
    .patch(name, &PatchParams::default(), &Patch::Merge(patch))
    .await
    .with_context(|| format!("patching graph {name} at v1alpha1"))?;
    Ok(())
}

/// Applies every document of `yaml` to `namespace` (server-side apply as a user would).
pub async fn apply_yaml(client: &Client, namespace: &str, yaml: &str) -> Result<()> {
    for document in serde_yaml_ng::Deserializer::from_str(yaml) {
        let mut value: Value = serde::Deserialize::deserialize(document)?;
        if value.is_null() {
            continue;
        }
        value["metadata"]["namespace"] = Value::String(namespace.to_owned());
        let api_version = value["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        dynamic_api(client, namespace, &api_version, &kind)
            .patch(
                &name,
                &PatchParams::apply("test-user").force(),
                &Patch::Apply(&value),
            )
            .await
            .with_context(|| format!("applying {kind} {name}"))?;
    }
    Ok(())
}

/// The graph `name` of `namespace`.
pub async fn graph(client: &Client, namespace: &str, name: &str) -> Result<DynamoGraphDeployment> {
    Ok(
        Api::<DynamoGraphDeployment>::namespaced(client.clone(), namespace)
            .get(name)
            .await?,
    )
}

/// The `Ready` condition of graph `name`.
pub async fn ready(client: &Client, namespace: &str, name: &str) -> Result<Option<Condition>> {
    let graph = graph(client, namespace, name).await?;
    Ok(graph
        .status
        .and_then(|s| s.conditions)
        .and_then(|c| c.into_iter().find(|c| c.type_ == "Ready")))
}

/// The CA certificate (`ca.crt`) of the operator's webhook certificate Secret in `namespace`,
/// once the operator has made it.
pub async fn operator_ca(
    client: &Client,
    namespace: &str,
) -> Result<Option<k8s_openapi::ByteString>> {
    Ok(
        Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), namespace)
            .get_opt("webhook-server-cert")
            .await?
            .and_then(|s| s.data)
            .and_then(|d| d.get("ca.crt").cloned()),
    )
}

/// Polls `check` every 250 ms until it returns `Some`, or fails naming `what` after `timeout`
/// with the last value it saw.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last = String::new();
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(error) => last = format!("{error:#}"),
        }
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for {what} (last error: {last})");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until graph `name` has a `Ready` condition with `status` (and `reason`, when given),
/// and returns it.
pub async fn wait_ready(
    client: &Client,
    namespace: &str,
    name: &str,
    status: &str,
    reason: Option<&str>,
    timeout: Duration,
) -> Result<Condition> {
    let outcome =
        wait_for(
            &format!("graph {name} Ready={status} {reason:?}"),
            timeout,
            || {
                let client = client.clone();
                async move {
                    let condition = ready(&client, namespace, name).await?;
                    Ok(condition
                        .filter(|c| c.status == status && reason.is_none_or(|r| c.reason == r)))
                }
            },
        )
        .await;
    match outcome {
        Ok(condition) => Ok(condition),
        Err(error) => {
            let last = ready(client, namespace, name).await.ok().flatten();
            Err(error.context(format!("last Ready condition: {last:?}")))
        }
    }
}

/// An anchor example's text.
pub fn anchor(name: &str) -> String {
    dynamo_fixtures::anchor_example(name).text
}

/// Names of the objects of `kind` in `namespace`.
pub async fn names(
    client: &Client,
    namespace: &str,
    api_version: &str,
    kind: &str,
) -> Result<Vec<String>> {
    let list = dynamic_api(client, namespace, api_version, kind)
        .list(&Default::default())
        .await?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The DynamoGraphDeployment document of a YAML stream.
pub fn graph_in(yaml: &str) -> Result<DynamoGraphDeployment> {
    for document in serde_yaml_ng::Deserializer::from_str(yaml) {
        let value: Value = serde::Deserialize::deserialize(document)?;
        if value["kind"] == "DynamoGraphDeployment" {
            return Ok(dynamo_render::input::graph(value)?);
        }
    }
    bail!("no DynamoGraphDeployment in the YAML")
}

/// A few lines on the workloads of `namespace` (LeaderWorkerSets, StatefulSets, pods), for a
/// failing test's message.
pub async fn describe_workloads(client: &Client, namespace: &str) -> String {
    let mut out = Vec::new();
    let kinds = [
        ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "Deployment"),
        ("v1", "Pod"),
    ];
    for (api_version, kind) in kinds {
        let Ok(list) = dynamic_api(client, namespace, api_version, kind)
            .list(&Default::default())
            .await
        else {
            continue;
        };
        for item in list.items {
            let name = item.metadata.name.clone().unwrap_or_default();
            let status = &item.data["status"];
            let summary = match kind {
                "Pod" => format!(
                    "phase={} node={} scheduler={} conditions={}",
                    status["phase"],
                    item.data["spec"]["nodeName"],
                    item.data["spec"]["schedulerName"],
                    status["conditions"]
                ),
                _ => format!(
                    "spec.replicas={} status={status}",
                    item.data["spec"]["replicas"]
                ),
            };
            out.push(format!("{kind} {name}: {summary}"));
        }
    }
    out.join("\n")
}

/// A small graph named `name`: a frontend and one single-GPU vLLM worker, image tag `tag`.
pub fn small_graph(name: &str, tag: &str) -> String {
    format!(
        r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: {name}
spec:
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: {{ mainContainer: {{ image: "registry.example.com/dynamo:{tag}" }} }}
    worker:
      componentType: worker
      resources: {{ limits: {{ gpu: "1" }} }}
      extraPodSpec:
        mainContainer:
          image: "registry.example.com/dynamo:{tag}"
          command: [python3, -m, dynamo.vllm]
          args: [--model, m]
"#
    )
}

/// Checks that every object of `rendered` is in `namespace` holding every rendered field
/// (`what` names the case in the error).
pub async fn ensure_live_as_rendered(
    client: &Client,
    namespace: &str,
    rendered: &dynamo_render::Rendered,
    what: &str,
) -> Result<()> {
    for object in &rendered.objects {
        let live = dynamic_api(client, namespace, object.api_version(), object.kind())
            .get(object.name())
            .await
            .with_context(|| format!("{what}: {} {} is missing", object.kind(), object.name()))?;
        let live = serde_json::to_value(&live)?;
        anyhow::ensure!(
            dynamo_controllers::compare::contains(&live, object.manifest()),
            "{what}: {} {} differs from the render:\nrendered {}\nlive {}",
            object.kind(),
            object.name(),
            object.manifest(),
            live
        );
    }
    Ok(())
}
