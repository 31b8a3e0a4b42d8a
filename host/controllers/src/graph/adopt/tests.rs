use std::collections::BTreeMap;
use std::sync::Arc;

use dynamo_render::testing::{FakePlugins, graph};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use super::*;

const GRAPH: &str = "apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeployment\nmetadata: { name: g, namespace: ns }\nspec:\n  components:\n    - name: Worker\n      type: worker\n      podTemplate:\n        spec:\n          containers: [{ name: main, image: i, command: [python3, -m, dynamo.vllm] }]\n";

/// The worker Deployments the graph renders with `hash`, as they would run.
fn render_with_hash(hash: &str) -> BTreeMap<String, Arc<Deployment>> {
    let rendered = dynamo_render::render_with(
        &graph(GRAPH),
        &RenderConfig::default(),
        &FakePlugins::new(),
        &Overrides {
            worker_hash: Some(hash.to_owned()),
            ..Overrides::default()
        },
    )
    .expect("render");
    rendered
        .objects
        .iter()
        .filter(|o| o.kind() == "Deployment")
        .map(|o| {
            let deployment: Deployment =
                serde_json::from_value(o.manifest().clone()).expect("a Deployment");
            (o.name().to_owned(), Arc::new(deployment))
        })
        .collect()
}

fn choose_with(recorded: &Recorded) -> Choice {
    choose(
        &graph(GRAPH),
        &RenderConfig::default(),
        &FakePlugins::new(),
        Some("ours0000"),
        Some(recorded),
    )
}

#[test]
fn a_recorded_hash_is_adopted_only_when_the_running_pods_match() {
    let deployments = render_with_hash("go123456");
    assert_eq!(deployments.len(), 1, "{deployments:?}");
    let workloads = |deployments: &BTreeMap<String, Arc<Deployment>>| {
        deployments
            .iter()
            .map(|(name, d)| (name.clone(), Workload::Deployment(d.clone())))
            .collect()
    };
    let recorded = Recorded {
        hash: "go123456".to_owned(),
        verified_for: None,
        workloads: workloads(&deployments),
    };
    assert_eq!(
        choose_with(&recorded),
        Choice::NewlyAdopted {
            hash: "go123456".to_owned(),
            computed: "ours0000".to_owned()
        }
    );

    // Fields the API server adds to the live template do not matter; a changed one does.
    let edited = |edit: fn(&mut Deployment)| Recorded {
        workloads: workloads(
            &deployments
                .iter()
                .map(|(name, d)| {
                    let mut d = d.as_ref().clone();
                    edit(&mut d);
                    (name.clone(), Arc::new(d))
                })
                .collect(),
        ),
        ..recorded.clone()
    };
    let defaulted = edited(|d| {
        if let Some(spec) = &mut d.spec.template.spec {
            spec.dns_policy = Some("ClusterFirst".to_owned());
        }
    });
    assert!(matches!(
        choose_with(&defaulted),
        Choice::NewlyAdopted { .. }
    ));
    let changed = edited(|d| {
        if let Some(spec) = &mut d.spec.template.spec {
            spec.containers[0].image = Some("other".to_owned());
        }
    });
    assert_eq!(choose_with(&changed), Choice::Computed);

    // Verified before for this spec: no render needed, even without live templates.
    let verified = Recorded {
        verified_for: Some("ours0000".to_owned()),
        workloads: BTreeMap::new(),
        ..recorded.clone()
    };
    assert_eq!(
        choose_with(&verified),
        Choice::Adopted("go123456".to_owned())
    );
    // Nothing runs under the recorded hash any more: our own hash.
    let gone = Recorded {
        workloads: BTreeMap::new(),
        ..recorded
    };
    assert_eq!(choose_with(&gone), Choice::Computed);
}

#[test]
fn the_legacy_finalizer_is_released_with_a_precondition() {
    let meta = ObjectMeta {
        resource_version: Some("42".to_owned()),
        finalizers: Some(vec![LEGACY_FINALIZER.to_owned(), "other/keep".to_owned()]),
        ..ObjectMeta::default()
    };
    assert_eq!(
        release_legacy_finalizer(&meta),
        Some(json!({"metadata": {"resourceVersion": "42", "finalizers": ["other/keep"]}}))
    );
    let clean = ObjectMeta {
        finalizers: Some(vec!["other/keep".to_owned()]),
        ..ObjectMeta::default()
    };
    assert_eq!(release_legacy_finalizer(&clean), None);
    assert_eq!(release_legacy_finalizer(&ObjectMeta::default()), None);
}
