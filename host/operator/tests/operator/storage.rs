//! Upgrading from the previous release: a private control plane starts with that release's CRDs
//! (every object stored as `v1alpha1`), graphs, components and scaling adapters are created, the
//! current CRDs (stored as `v1beta1`, converted by the harness's loopback webhook) are applied
//! over them, and the storage-version migration rewrites every object and narrows each CRD's
//! `storedVersions`, losing nothing and bumping no generation, also when it resumes an
//! interrupted run or runs again.

use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use dynamo_controllers::storage::{self, Migrated};
use dynamo_test_harness::{ControlPlane, Mode, TEST_CRDS_DIR, workspace_root};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::common;

const ALPHA: &str = "nvidia.com/v1alpha1";
const BETA: &str = "nvidia.com/v1beta1";

/// The kinds the previous release stored as v1alpha1 and the current CRDs convert: (kind, plural).
const KINDS: [(&str, &str); 3] = [
    ("DynamoGraphDeployment", "dynamographdeployments"),
    ("DynamoComponentDeployment", "dynamocomponentdeployments"),
    (
        "DynamoGraphDeploymentScalingAdapter",
        "dynamographdeploymentscalingadapters",
    ),
];

fn crd_name(plural: &str) -> String {
    format!("{plural}.nvidia.com")
}

/// One object as created at v1alpha1 and read back before the upgrade.
struct Created {
    kind: &'static str,
    name: String,
    object: Value,
}

/// The v1alpha1 objects of the test: every anchor graph and the small graph, two standalone
/// components, two scaling adapters; several with a status (the migration writes through the
/// status subresource, so a status must come out of it unchanged).
fn objects() -> Result<Vec<(&'static str, Value, Option<Value>)>> {
    let graph_status = json!({
        "state": "pending",
        "observedGeneration": 1,
        "conditions": [{
            "type": "Ready", "status": "False", "reason": "Waiting",
            "message": "waiting for the workers", "lastTransitionTime": "2026-01-01T00:00:00Z",
        }],
    });
    let mut out = Vec::new();
    // Each graph named after its file: two examples share a graph name.
    let mut graphs = vec![("small".to_owned(), common::small_graph("small", "v1"))];
    graphs.extend(
        dynamo_fixtures::anchor_examples()
            .into_iter()
            .map(|e| (e.name.replace('_', "-"), e.text)),
    );
    for (i, (name, text)) in graphs.iter().enumerate() {
        for document in serde_yaml_ng::Deserializer::from_str(text) {
            let mut value: Value = serde::Deserialize::deserialize(document)?;
            if value["kind"] == "DynamoGraphDeployment" {
                value["metadata"]["name"] = json!(name);
                let status = (i % 2 == 0).then(|| graph_status.clone());
                out.push(("DynamoGraphDeployment", value, status));
            }
        }
    }
    for (name, status) in [
        (
            "standalone-frontend",
            Some(json!({
                "observedGeneration": 1,
                "conditions": [{
                    "type": "Available", "status": "True", "reason": "Ready",
                    "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z",
                }],
            })),
        ),
        ("standalone-worker", None),
    ] {
        out.push((
            "DynamoComponentDeployment",
            json!({
                "apiVersion": ALPHA, "kind": "DynamoComponentDeployment",
                "metadata": {"name": name, "labels": {"team": "a"}},
                "spec": {
                    "backendFramework": "vllm",
                    "componentType": if name.ends_with("worker") { "worker" } else { "frontend" },
                    "serviceName": name,
                    "replicas": 2,
                    "resources": {"limits": {"gpu": "1"}},
                    "envs": [{"name": "LOG_LEVEL", "value": "debug"}],
                    "extraPodSpec": {"mainContainer": {
                        "image": "registry.example.com/dynamo:v1",
                        "args": ["--model", "Qwen/Qwen3-0.6B"],
                    }},
                },
            }),
            status,
        ));
    }
    for (name, status) in [
        (
            "small-worker",
            Some(json!({"replicas": 3, "selector": "app=small-worker"})),
        ),
        ("small-frontend", None),
    ] {
        out.push((
            "DynamoGraphDeploymentScalingAdapter",
            json!({
                "apiVersion": ALPHA, "kind": "DynamoGraphDeploymentScalingAdapter",
                "metadata": {"name": name},
                "spec": {"replicas": 3, "dgdRef": {"name": "small", "serviceName": name.trim_start_matches("small-")}},
            }),
            status,
        ));
    }
    Ok(out)
}

fn api(client: &Client, ns: &str, api_version: &str, kind: &str) -> Api<DynamicObject> {
    common::dynamic_api(client, ns, api_version, kind)
}

/// `object` as JSON, as [`comparable_value`] leaves it.
fn comparable(object: &DynamicObject) -> Result<Value> {
    Ok(comparable_value(serde_json::to_value(object)?))
}

/// `value` without what the API server changes on every write (resourceVersion,
/// managedFields) and without `null` fields, which the API server drops from a converted object
/// wherever its schema does not declare them nullable.
fn comparable_value(mut value: Value) -> Value {
    if let Some(metadata) = value["metadata"].as_object_mut() {
        metadata.remove("resourceVersion");
        metadata.remove("managedFields");
    }
    drop_nulls(&mut value);
    value
}

fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

async fn stored_versions(client: &Client, plural: &str) -> Result<Vec<String>> {
    let crd = Api::<CustomResourceDefinition>::all(client.clone())
        .get(&crd_name(plural))
        .await?;
    Ok(crd
        .status
        .and_then(|s| s.stored_versions)
        .unwrap_or_default())
}

/// Where the objects are stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// As created, at v1alpha1: a v1alpha1 read returns the bytes written.
    AsCreated,
    /// Rewritten at v1beta1: a v1alpha1 read is converted back, which returns the object in
    /// the form Dynamo's webhook prints it (`dynamo_conversion::canonical`: zero values of Go
    /// fields without `omitempty`, such as a main container's `name: ""`, spelled out).
    Converted,
}

/// Every object reads back at v1alpha1 as it was created (see [`Stored`]) and at v1beta1 as its
/// conversion, at the generation it was created with.
async fn check_unchanged(
    client: &Client,
    ns: &str,
    created: &[Created],
    stored: Stored,
    when: &str,
) -> Result<()> {
    for c in created {
        let alpha = api(client, ns, ALPHA, c.kind).get(&c.name).await?;
        let expected = match stored {
            Stored::AsCreated => c.object.clone(),
            Stored::Converted => dynamo_conversion::canonical(&c.object)
                .with_context(|| format!("the canonical form of {} {}", c.kind, c.name))?,
        };
        ensure!(
            comparable(&alpha)? == comparable_value(expected.clone()),
            "{when}: {} {} at v1alpha1 differs from what was created:\nexpected {}\nread     {}",
            c.kind,
            c.name,
            comparable_value(expected),
            comparable(&alpha)?
        );
        let beta = api(client, ns, BETA, c.kind).get(&c.name).await?;
        let expected = dynamo_conversion::convert(c.object.clone(), BETA)
            .with_context(|| format!("converting {} {}", c.kind, c.name))?;
        ensure!(
            comparable(&beta)? == comparable_value(expected.clone()),
            "{when}: {} {} at v1beta1 differs from its conversion:\nexpected {}\nread     {}",
            c.kind,
            c.name,
            comparable_value(expected),
            comparable(&beta)?
        );
        ensure!(
            beta.metadata.generation == c.object["metadata"]["generation"].as_i64(),
            "{when}: {} {} is at generation {:?}, was created at {}",
            c.kind,
            c.name,
            beta.metadata.generation,
            c.object["metadata"]["generation"]
        );
    }
    Ok(())
}

/// Points the conversion webhook of `plural`'s CRD at a port nothing listens on, and waits until
/// the API server uses it (a v1alpha1 read of `name` fails or gets no answer): from then on only
/// objects stored as v1beta1 can be read at v1beta1.
async fn break_conversion(
    client: &Client,
    ns: &str,
    kind: &str,
    plural: &str,
    name: &str,
) -> Result<()> {
    let patch = json!({"spec": {"conversion": {"webhook": {"clientConfig": {
        "url": "https://127.0.0.1:9/convert",
    }}}}});
    Api::<CustomResourceDefinition>::all(client.clone())
        .patch(
            &crd_name(plural),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await?;
    common::wait_for(
        &format!("v1alpha1 reads of {kind} {name} to fail without conversion"),
        Duration::from_secs(30),
        || async {
            // The API server answers 5xx, or 429 while its cache of the kind cannot fill (which
            // the client retries for minutes): either way conversion is gone.
            let read = tokio::time::timeout(
                Duration::from_secs(2),
                api(client, ns, ALPHA, kind).get(name),
            )
            .await;
            Ok((!matches!(read, Ok(Ok(_)))).then_some(()))
        },
    )
    .await
}

#[tokio::test]
async fn objects_stored_by_the_previous_release_are_rewritten_at_v1beta1() -> Result<()> {
    // A private control plane: the CRDs are replaced.
    let previous = workspace_root()
        .join(TEST_CRDS_DIR)
        .join("previous-release");
    let cp = ControlPlane::start_with_crds(Mode::Basic, &previous).await?;
    let (client, ns) = cp.namespace("storage").await?;

    // 1. The previous release's world: everything stored as v1alpha1.
    for (_, plural) in KINDS {
        ensure!(
            stored_versions(&client, plural).await? == ["v1alpha1"],
            "{plural}: the previous release's CRD is not installed"
        );
    }
    let mut created = Vec::new();
    for (kind, mut object, status) in objects()? {
        object["metadata"]["namespace"] = json!(ns);
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let objects = api(&client, &ns, ALPHA, kind);
        objects
            .create(&PostParams::default(), &serde_json::from_value(object)?)
            .await
            .with_context(|| format!("creating {kind} {name} at v1alpha1"))?;
        if let Some(status) = status {
            objects
                .patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": status})),
                )
                .await
                .with_context(|| format!("writing the status of {kind} {name}"))?;
        }
        let object = serde_json::to_value(objects.get(&name).await?)?;
        created.push(Created { kind, name, object });
    }
    let count = |kind: &str| created.iter().filter(|c| c.kind == kind).count();
    ensure!(count("DynamoGraphDeployment") >= 10, "too few graphs");

    // 2. The upgrade: the current CRDs over the old ones. Nothing is rewritten yet, but every
    // object already reads at both versions.
    cp.install_crds(&workspace_root().join("crds")).await?;
    for (_, plural) in KINDS {
        assert_eq!(
            stored_versions(&client, plural).await?,
            ["v1alpha1", "v1beta1"],
            "{plural} after the upgrade"
        );
    }
    check_unchanged(
        &client,
        &ns,
        &created,
        Stored::AsCreated,
        "after the upgrade",
    )
    .await?;

    // 3. A migration interrupted part-way: half the objects of each kind rewritten (what the
    // migration does to each), the CRDs not narrowed. Running it again finishes the job.
    for c in created.iter().step_by(2) {
        api(&client, &ns, BETA, c.kind)
            .patch_status(&c.name, &PatchParams::default(), &Patch::Merge(json!({})))
            .await
            .with_context(|| format!("rewriting {} {}", c.kind, c.name))?;
    }
    for (kind, plural) in KINDS {
        let done = storage::migrate(&client, &crd_name(plural)).await?;
        assert_eq!(
            done,
            Migrated {
                crd: crd_name(plural),
                rewritten: count(kind),
                narrowed_from: Some(vec!["v1alpha1".into(), "v1beta1".into()]),
            }
        );
        assert_eq!(stored_versions(&client, plural).await?, ["v1beta1"]);
    }
    check_unchanged(
        &client,
        &ns,
        &created,
        Stored::Converted,
        "after the migration",
    )
    .await?;

    // 4. Every object really is stored as v1beta1: with the conversion webhook gone, each still
    // reads at v1beta1 (no conversion needed), while v1alpha1 reads fail. Then conversion back.
    for (kind, plural) in KINDS {
        let first = created
            .iter()
            .find(|c| c.kind == kind)
            .context("no object of the kind")?;
        break_conversion(&client, &ns, kind, plural, &first.name).await?;
        let listed = tokio::time::timeout(
            Duration::from_secs(60),
            api(&client, &ns, BETA, kind).list(&Default::default()),
        )
        .await
        .map_err(anyhow::Error::from)
        .and_then(|listed| Ok(listed?))
        .with_context(|| format!("{kind}: an object is still stored as v1alpha1"))?;
        ensure!(
            listed.items.len() == count(kind),
            "{kind}: {} listed",
            listed.items.len()
        );
    }
    cp.install_crds(&workspace_root().join("crds")).await?;
    check_unchanged(
        &client,
        &ns,
        &created,
        Stored::Converted,
        "with conversion restored",
    )
    .await?;

    // 5. A second run has nothing to do.
    for (_, plural) in KINDS {
        let done = storage::migrate(&client, &crd_name(plural)).await?;
        assert_eq!(
            done,
            Migrated {
                crd: crd_name(plural),
                rewritten: 0,
                narrowed_from: None,
            },
            "a second run"
        );
    }

    // 6. A run stopped after rewriting every object but before narrowing (storedVersions
    // re-widened): the next run rewrites again (no-op writes) and narrows.
    let (kind, plural) = KINDS[0];
    Api::<CustomResourceDefinition>::all(client.clone())
        .patch_status(
            &crd_name(plural),
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"storedVersions": ["v1alpha1", "v1beta1"]}})),
        )
        .await?;
    let done = storage::migrate(&client, &crd_name(plural)).await?;
    assert_eq!(done.rewritten, count(kind));
    assert_eq!(
        done.narrowed_from,
        Some(vec!["v1alpha1".to_owned(), "v1beta1".to_owned()])
    );
    assert_eq!(stored_versions(&client, plural).await?, ["v1beta1"]);
    check_unchanged(
        &client,
        &ns,
        &created,
        Stored::Converted,
        "after the resumed run",
    )
    .await?;

    // A CRD that is not installed is nothing to migrate.
    let absent = storage::migrate(&client, "absents.nvidia.com").await?;
    if absent.rewritten != 0 || absent.narrowed_from.is_some() {
        bail!("migrating a missing CRD did something: {absent:?}");
    }
    let names: Vec<String> = created.iter().map(|c| c.name.clone()).collect();
    eprintln!("migrated {} objects: {names:?}", created.len());
    Ok(())
}
