//! What multi-node graphs need from the full control plane: the Volcano and KAI scheduler names,
//! the real LeaderWorkerSet controller with its webhooks, and the Volcano/KAI stand-in CRDs.

use std::future::Future;
use std::time::{Duration, Instant};

use dynamo_test_harness::{
    Bins, Component, ControlPlane, GPU_RESOURCE, HarnessError, LWS_NAME_LABEL, Mode,
    SCHEDULER_NAMES,
};
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};

/// How long pods may take to be scheduled and turn Ready, and a LeaderWorkerSet to turn Available.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// The field manager of this file's server-side applies.
const MANAGER: &str = "multi-node-test";

/// Polls `check` every 250 ms until it yields a value; panics with the last reason after `timeout`.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(reason) if Instant::now() >= deadline => {
                panic!("{what}: not done after {timeout:?}: {reason}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The pod's node if it is Running and Ready on one of `nodes`, else why not.
fn ready_on_fake_node(pod: &Pod, nodes: &[String]) -> Result<String, String> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .ok_or_else(|| format!("pod {name} is not scheduled yet"))?;
    if !nodes.contains(&node) {
        return Err(format!("pod {name} is on {node}, not a fake node"));
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase != Some("Running") || !is_ready(pod) {
        return Err(format!(
            "pod {name} on {node} is {phase:?}, not Running and Ready"
        ));
    }
    Ok(node)
}

fn pod_for(scheduler: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": { "name": format!("for-{scheduler}") },
        "spec": {
            "schedulerName": scheduler,
            "containers": [{
                "name": "main",
                "image": "example.invalid/worker:1",
                "resources": { "limits": { GPU_RESOURCE: "1" } },
            }],
        },
    }))
    .expect("a valid Pod")
}

#[tokio::test]
async fn pods_for_volcano_and_kai_are_scheduled_on_fake_nodes() {
    let cp = ControlPlane::shared_full()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (client, ns) = cp
        .namespace("scheduler-names")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        SCHEDULER_NAMES,
        ["default-scheduler", "volcano", "kai-scheduler"]
    );
    let pods: Api<Pod> = Api::namespaced(client, &ns);
    for scheduler in ["volcano", "kai-scheduler"] {
        pods.create(&PostParams::default(), &pod_for(scheduler))
            .await
            .unwrap_or_else(|e| panic!("creating the pod for {scheduler}: {e}"));
    }
    for scheduler in ["volcano", "kai-scheduler"] {
        let name = format!("for-{scheduler}");
        let node = eventually(&name, READY_TIMEOUT, || async {
            let pod = pods.get(&name).await.map_err(|e| e.to_string())?;
            ready_on_fake_node(&pod, cp.node_names())
        })
        .await;
        eprintln!("{name}: Running and Ready on {node}");
    }
}

fn lws_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("leaderworkerset.x-k8s.io", "v1", "LeaderWorkerSet"),
        "leaderworkersets",
    )
}

/// A LeaderWorkerSet of one group: a leader and one worker, each with one GPU.
fn leader_worker_set(name: &str) -> DynamicObject {
    DynamicObject::new(name, &lws_resource()).data(serde_json::json!({
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": 2,
                "workerTemplate": {
                    "spec": {
                        "nodeSelector": { "type": "kwok" },
                        "containers": [{
                            "name": "engine",
                            "image": "example.invalid/engine:1",
                            "resources": { "limits": { GPU_RESOURCE: "1" } },
                        }],
                    },
                },
            },
        },
    }))
}

fn env_value(pod: &Pod, name: &str) -> Option<String> {
    pod.spec
        .as_ref()?
        .containers
        .first()?
        .env
        .as_ref()?
        .iter()
        .find(|e| e.name == name)?
        .value
        .clone()
}

fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

#[tokio::test]
async fn leader_worker_set_runs_a_leader_and_a_worker_on_fake_gpu_nodes() {
    let cp = ControlPlane::shared_full()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let lws = cp
        .start_leader_worker_set_controller()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "lws-controller ready in {:.1}s, webhooks at {}",
        started.elapsed().as_secs_f64(),
        lws.webhook_url()
    );
    // Starting again while it runs hands out the same controller.
    let again = cp
        .start_leader_worker_set_controller()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.webhook_url(), lws.webhook_url());
    assert!(lws.is_running());

    let (client, ns) = cp.namespace("lws").await.unwrap_or_else(|e| panic!("{e}"));
    let sets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &lws_resource());
    sets.create(&PostParams::default(), &leader_worker_set("gang"))
        .await
        .unwrap_or_else(|e| panic!("creating the LeaderWorkerSet: {e}"));

    // The leader StatefulSet is named after the set, the worker StatefulSet after the leader pod.
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
    for name in ["gang", "gang-0"] {
        eventually(&format!("StatefulSet {name}"), READY_TIMEOUT, || async {
            statefulsets
                .get_opt(name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no StatefulSet {name} yet"))
        })
        .await;
    }

    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let nodes = cp.node_names();
    let leader_address = format!("gang-0.gang.{ns}");
    for (pod_name, worker_index) in [("gang-0", "0"), ("gang-0-1", "1")] {
        let pod = eventually(&format!("pod {pod_name}"), READY_TIMEOUT, || async {
            let pod = pods.get(pod_name).await.map_err(|e| e.to_string())?;
            ready_on_fake_node(&pod, nodes)?;
            Ok(pod)
        })
        .await;
        assert_eq!(label(&pod, LWS_NAME_LABEL), Some("gang"), "{pod_name}");
        assert_eq!(
            label(&pod, "leaderworkerset.sigs.k8s.io/group-index"),
            Some("0"),
            "{pod_name}"
        );
        assert_eq!(
            label(&pod, "leaderworkerset.sigs.k8s.io/worker-index"),
            Some(worker_index),
            "{pod_name}"
        );
        assert_eq!(
            env_value(&pod, "LWS_LEADER_ADDRESS").as_deref(),
            Some(leader_address.as_str()),
            "{pod_name}"
        );
        assert_eq!(env_value(&pod, "LWS_GROUP_SIZE").as_deref(), Some("2"));
        assert_eq!(
            env_value(&pod, "LWS_WORKER_INDEX").as_deref(),
            Some(worker_index)
        );
    }

    eventually("LeaderWorkerSet gang Available", READY_TIMEOUT, || async {
        let set = sets.get("gang").await.map_err(|e| e.to_string())?;
        let status = &set.data["status"];
        let available = status["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Available" && c["status"] == "True")
        });
        if status["readyReplicas"] == 1 && available {
            Ok(())
        } else {
            Err(format!("status {status}"))
        }
    })
    .await;

    // Other pods of the shared cluster never reach the pod webhooks.
    let mutating: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let validating: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let [mutating_name, validating_name] = lws.webhook_configurations().map(str::to_owned);
    let config = mutating
        .get(&mutating_name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pod_hook = config
        .webhooks
        .iter()
        .flatten()
        .find(|w| w.name == "mpod.kb.io")
        .expect("the mutating pod webhook");
    let selector = pod_hook
        .object_selector
        .as_ref()
        .expect("an objectSelector");
    let requirement = selector
        .match_expressions
        .iter()
        .flatten()
        .find(|r| r.key == LWS_NAME_LABEL)
        .expect("a requirement on the LWS name label");
    assert_eq!(requirement.operator, "Exists");

    // The last handle's stop removes the webhook configurations, then the process.
    again.stop().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(lws.is_running(), "another handle still uses it");
    let log = lws.log_path().to_path_buf();
    lws.stop().await.unwrap_or_else(|e| panic!("{e}"));
    let left = mutating
        .get_opt(&mutating_name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(left.is_none(), "{mutating_name} is left: {left:?}");
    let left = validating
        .get_opt(&validating_name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(left.is_none(), "{validating_name} is left: {left:?}");
    eprintln!(
        "LeaderWorkerSet gang Available; controller stopped (log {}); {:.1}s in all",
        log.display(),
        started.elapsed().as_secs_f64()
    );
}

/// Server-side applies `object` with strict field validation.
async fn apply_strict(
    api: &Api<DynamicObject>,
    name: &str,
    object: &DynamicObject,
) -> Result<DynamicObject, kube::Error> {
    let params = PatchParams::apply(MANAGER).validation_strict();
    api.patch(name, &params, &Patch::Apply(object)).await
}

/// Asserts that applying `object` is refused for naming `field`.
async fn assert_refused(api: &Api<DynamicObject>, name: &str, object: &DynamicObject, field: &str) {
    match apply_strict(api, name, object).await {
        Err(kube::Error::Api(status)) => {
            assert!(
                status.message.contains(field),
                "the refusal should name {field}: {status:?}"
            );
        }
        other => panic!("expected {field} to be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn volcano_and_kai_stand_in_crds_accept_their_fields_and_refuse_others() {
    let cp = ControlPlane::shared_full()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let volcano = cp
        .install_test_crds("volcano")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(volcano, ["podgroups.scheduling.volcano.sh"]);
    let kai = cp
        .install_test_crds("kai")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kai, ["queues.scheduling.run.ai"]);
    assert!(cp.install_test_crds("no-such-project").await.is_err());
    assert!(cp.install_test_crds("../crds").await.is_err());
    let (client, ns) = cp
        .namespace("stand-in-crds")
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let pg_resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("scheduling.volcano.sh", "v1beta1", "PodGroup"),
        "podgroups",
    );
    let podgroups: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &pg_resource);
    let podgroup = DynamicObject::new("gang", &pg_resource).data(serde_json::json!({
        "spec": {
            "minMember": 2,
            "minTaskMember": { "leader": 1, "worker": 1 },
            "minResources": { "cpu": "2", "memory": "4Gi", GPU_RESOURCE: 2 },
            "queue": "default",
            "priorityClassName": "high",
            // Unknown fields are kept only inside networkTopology.
            "networkTopology": { "mode": "hard", "highestTierAllowed": 1, "futureField": true },
        },
    }));
    let applied = apply_strict(&podgroups, "gang", &podgroup)
        .await
        .unwrap_or_else(|e| panic!("applying a PodGroup: {e}"));
    assert_eq!(applied.data["spec"]["minTaskMember"]["worker"], 1);
    assert_eq!(applied.data["spec"]["networkTopology"]["futureField"], true);
    let status = serde_json::json!({
        "apiVersion": "scheduling.volcano.sh/v1beta1",
        "kind": "PodGroup",
        "status": { "phase": "Running", "running": 2, "succeeded": 0, "failed": 0,
            "conditions": [{ "type": "Scheduled", "status": "True", "transitionID": "t1",
                "lastTransitionTime": "2025-01-01T00:00:00Z", "reason": "tasks", "message": "ok" }] },
    });
    let params = PatchParams::apply(MANAGER).validation_strict();
    let with_status = podgroups
        .patch_status("gang", &params, &Patch::Apply(&status))
        .await
        .unwrap_or_else(|e| panic!("applying PodGroup status: {e}"));
    assert_eq!(with_status.data["status"]["running"], 2);

    let mut typo = podgroup.clone();
    typo.data["spec"]["minMembers"] = serde_json::json!(2);
    assert_refused(&podgroups, "gang", &typo, "minMembers").await;
    let mut wrong_type = podgroup.clone();
    wrong_type.data["spec"]["minTaskMember"]["worker"] = serde_json::json!("one");
    assert!(apply_strict(&podgroups, "gang", &wrong_type).await.is_err());

    let queue_resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("scheduling.run.ai", "v2", "Queue"),
        "queues",
    );
    let queues: Api<DynamicObject> = Api::all_with(client, &queue_resource);
    // Queues are cluster-scoped; the namespace name keeps this one unique.
    let name = format!("team-{ns}");
    let resource = serde_json::json!({ "quota": 8, "limit": -1, "overQuotaWeight": 1.5 });
    let queue = DynamicObject::new(&name, &queue_resource).data(serde_json::json!({
        "spec": {
            "displayName": "Team",
            "parentQueue": "root",
            "priority": 100,
            "resources": { "gpu": resource, "cpu": resource, "memory": resource },
        },
    }));
    let applied = apply_strict(&queues, &name, &queue)
        .await
        .unwrap_or_else(|e| panic!("applying a Queue: {e}"));
    assert_eq!(
        applied.data["spec"]["resources"]["gpu"]["overQuotaWeight"],
        1.5
    );
    let mut unknown = queue.clone();
    unknown.data["spec"]["resources"]["gpu"]["guaranteed"] = serde_json::json!(1);
    assert_refused(&queues, &name, &unknown, "guaranteed").await;
}

#[tokio::test]
async fn dropping_the_last_lws_handle_removes_its_webhooks_and_a_new_start_works() {
    // A private basic plane: the webhooks and the controller run without controller-manager.
    let cp = ControlPlane::start(Mode::Basic)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = cp.client().await.unwrap_or_else(|e| panic!("{e}"));
    let mutating: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let validating: Api<ValidatingWebhookConfiguration> = Api::all(client);

    let first = cp
        .start_leader_worker_set_controller()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let [first_mutating, first_validating] = first.webhook_configurations().map(str::to_owned);
    let first_url = first.webhook_url();
    drop(first);
    let left = mutating
        .get_opt(&first_mutating)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(left.is_none(), "{first_mutating} is left after drop");
    let left = validating
        .get_opt(&first_validating)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(left.is_none(), "{first_validating} is left after drop");

    let second = cp
        .start_leader_worker_set_controller()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(
        second.webhook_url(),
        first_url,
        "a new controller, not the dropped one"
    );
    assert!(second.is_running());
    second.stop().await.unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_missing_lws_controller_names_the_build_command() {
    let real = Bins::locate().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["etcd", "kube-apiserver"] {
        let path = real
            .path(Component::Tools, name)
            .unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(path, dir.path().join(name)).expect("symlink");
    }
    let cp = ControlPlane::start_with_bins(Mode::Basic, Bins::from_dir(dir.path()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    match cp.start_leader_worker_set_controller().await {
        Err(e @ HarnessError::MissingBinary { .. }) => {
            let message = e.to_string();
            assert!(message.contains("lws-controller"), "{message}");
            assert!(message.contains("hack/build-tools.sh"), "{message}");
        }
        other => panic!("expected MissingBinary, got {other:?}"),
    }
}
