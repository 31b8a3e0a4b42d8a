//! The discovery ServiceAccount the operator renders for a graph under Kubernetes discovery
//! (`{graph}-k8s-service-discovery` with its Role and RoleBinding) lets a worker publish its
//! DynamoWorkerMetadata in the graph's namespace, and nowhere else: the API server's answers to
//! that ServiceAccount, impersonated.

use std::time::Duration;

use anyhow::{Result, bail, ensure};
use dynamo_test_harness::ControlPlane;
use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::core::DynamicObject;
use kube::{Client, Config};
use serde_json::json;

use crate::common;

const DWM: (&str, &str) = ("nvidia.com/v1alpha1", "DynamoWorkerMetadata");

/// A client acting as ServiceAccount `name` of `ns` (impersonated by the admin).
fn as_service_account(cp: &ControlPlane, ns: &str, name: &str) -> Result<Client> {
    let mut config: Config = cp.kube_config();
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{ns}:{name}"));
    config.auth_info.impersonate_groups = Some(vec![
        "system:serviceaccounts".to_owned(),
        format!("system:serviceaccounts:{ns}"),
        "system:authenticated".to_owned(),
    ]);
    Ok(Client::try_from(config)?)
}

fn metadata(name: &str, revision: u32) -> Result<DynamicObject> {
    Ok(serde_json::from_value(json!({
        "apiVersion": DWM.0,
        "kind": DWM.1,
        "metadata": {"name": name},
        "spec": {"data": {"endpoints": [format!("worker-{revision}")], "revision": revision}},
    }))?)
}

fn forbidden<T: std::fmt::Debug>(what: &str, outcome: kube::Result<T>) -> Result<()> {
    match outcome {
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(()),
        other => bail!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn the_discovery_service_account_publishes_worker_metadata_in_its_namespace_only()
-> Result<()> {
    let cp = ControlPlane::shared_full().await?;
    let (admin, ns) = cp.namespace("discovery-rbac").await?;
    let (_, other) = cp.namespace("discovery-rbac-other").await?;
    let operator = common::Operator::start(cp, &ns, common::registry(None)).await?;
    common::apply_yaml(&admin, &ns, &common::small_graph("disc", "v1")).await?;

    // What the operator renders for the graph.
    let account = "disc-k8s-service-discovery";
    common::wait_for(
        "the discovery ServiceAccount, Role and RoleBinding",
        Duration::from_secs(60),
        || async {
            let sa = Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
                .get_opt(account)
                .await?;
            let role = Api::<Role>::namespaced(admin.clone(), &ns)
                .get_opt(&format!("{account}-role"))
                .await?;
            let binding = Api::<RoleBinding>::namespaced(admin.clone(), &ns)
                .get_opt(&format!("{account}-binding"))
                .await?;
            Ok((sa.is_some() && role.is_some() && binding.is_some()).then_some(()))
        },
    )
    .await?;
    operator.stop().await?;

    let worker = as_service_account(cp, &ns, account)?;
    // The impersonation takes: the ServiceAccount may not read Nodes.
    forbidden(
        "listing Nodes as the discovery ServiceAccount",
        Api::<Node>::all(worker.clone())
            .list(&Default::default())
            .await,
    )?;

    // In the graph's namespace: create, update, patch, list, delete.
    let mine = common::dynamic_api(&worker, &ns, DWM.0, DWM.1);
    let created = mine
        .create(&PostParams::default(), &metadata("disc-worker-0", 1)?)
        .await?;
    let mut replaced = metadata("disc-worker-0", 2)?;
    replaced.metadata.resource_version = created.metadata.resource_version.clone();
    let replaced = mine
        .replace("disc-worker-0", &PostParams::default(), &replaced)
        .await?;
    ensure!(
        replaced.data["spec"]["data"]["revision"] == 2,
        "{:?}",
        replaced.data
    );
    mine.patch(
        "disc-worker-0",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"data": {"revision": 3}}})),
    )
    .await?;
    let listed = mine.list(&Default::default()).await?;
    let names: Vec<_> = listed
        .items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    assert_eq!(names, ["disc-worker-0"]);
    assert_eq!(listed.items[0].data["spec"]["data"]["revision"], 3);
    mine.delete("disc-worker-0", &DeleteParams::default())
        .await?;
    ensure!(
        mine.get_opt("disc-worker-0").await?.is_none(),
        "not deleted"
    );

    // In another namespace: nothing.
    let theirs = common::dynamic_api(&worker, &other, DWM.0, DWM.1);
    forbidden(
        "creating DynamoWorkerMetadata in another namespace",
        theirs
            .create(&PostParams::default(), &metadata("intruder", 1)?)
            .await,
    )?;
    forbidden(
        "listing DynamoWorkerMetadata in another namespace",
        theirs.list(&Default::default()).await,
    )?;
    let planted = common::dynamic_api(&admin, &other, DWM.0, DWM.1)
        .create(&PostParams::default(), &metadata("planted", 1)?)
        .await?;
    ensure!(planted.metadata.name.as_deref() == Some("planted"));
    forbidden(
        "updating DynamoWorkerMetadata in another namespace",
        theirs
            .patch(
                "planted",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"data": {"revision": 9}}})),
            )
            .await,
    )?;
    forbidden(
        "deleting DynamoWorkerMetadata in another namespace",
        theirs.delete("planted", &DeleteParams::default()).await,
    )?;
    Ok(())
}
