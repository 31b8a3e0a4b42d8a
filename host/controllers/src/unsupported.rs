//! Kinds whose CRDs the operator ships but does not act on yet (DynamoGraphDeploymentRequest,
//! DynamoCheckpoint): each object gets a `Ready=False` condition saying so, in one line.
//!
//! Users apply manifests written for Dynamo's operator; their CRDs are shipped so those manifests
//! apply, and this controller makes sure nobody waits on an object that nothing will ever
//! process. The condition is written by server-side apply under the operator's field manager, so
//! conditions other writers own are kept, and only when it is missing or stale.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt as _};
use serde_json::{Value, json};

use crate::apply::FIELD_MANAGER;

/// `Ready` condition reason on objects of an unsupported kind.
pub const REASON: &str = "NotSupported";

/// One kind the operator ships a CRD for and does not act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedKind {
    /// The kind.
    pub kind: &'static str,
    /// Its plural resource name.
    pub plural: &'static str,
    /// The version to watch and write (the storage version).
    pub version: &'static str,
    /// What a user should do instead, appended to the condition message.
    pub instead: &'static str,
}

/// The kinds this controller marks.
pub const KINDS: [UnsupportedKind; 2] = [
    UnsupportedKind {
        kind: "DynamoGraphDeploymentRequest",
        plural: "dynamographdeploymentrequests",
        version: "v1beta1",
        instead: "write the DynamoGraphDeployment yourself",
    },
    UnsupportedKind {
        kind: "DynamoCheckpoint",
        plural: "dynamocheckpoints",
        version: "v1alpha1",
        instead: "workers start without a checkpoint",
    },
];

/// How long a failed status write waits before it is retried.
const RETRY: Duration = Duration::from_secs(30);

// === impl UnsupportedKind ===

impl UnsupportedKind {
    /// The condition message: one line naming the kind and what to do instead.
    pub fn message(&self) -> String {
        format!(
            "dynamo-operator does not act on {} objects (not implemented yet); {}",
            self.kind, self.instead
        )
    }

    fn resource(&self) -> ApiResource {
        let gvk = GroupVersionKind::gvk(dynamo_api::GROUP, self.version, self.kind);
        ApiResource::from_gvk_with_plural(&gvk, self.plural)
    }

    fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, dynamo_api::GROUP)
    }
}

/// Whether `object`'s status already carries the condition for `kind` at its generation.
pub fn is_marked(object: &Value, kind: &UnsupportedKind) -> bool {
    let generation = object["metadata"]["generation"].as_i64();
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| {
            c["type"] == "Ready"
                && c["status"] == "False"
                && c["reason"] == REASON
                && c["message"] == kind.message().as_str()
                && c["observedGeneration"].as_i64() == generation
        })
}

/// The status patch marking `object` (server-side apply of one condition).
pub fn mark(object: &DynamicObject, kind: &UnsupportedKind, now: &Time) -> Value {
    json!({
        "apiVersion": format!("{}/{}", dynamo_api::GROUP, kind.version),
        "kind": kind.kind,
        "metadata": {"name": object.name_any(), "namespace": object.namespace()},
        "status": {"conditions": [{
            "type": "Ready",
            "status": "False",
            "reason": REASON,
            "message": kind.message(),
            "observedGeneration": object.metadata.generation,
            "lastTransitionTime": now,
        }]},
    })
}

/// Marks every object of every [`KINDS`] whose CRD is installed, until `stop` turns true.
/// `namespace` restricts the watch (namespace-restricted mode).
pub async fn run(
    client: Client,
    namespace: Option<String>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut controllers = Vec::new();
    for kind in KINDS {
        match crds.get_opt(&kind.crd_name()).await {
            Ok(Some(_)) => {}
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(kind = kind.kind, "cannot read its CRD: {error}");
                continue;
            }
        }
        let resource = kind.resource();
        let api: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        let context = Arc::new((client.clone(), kind));
        let mut stop = stop.clone();
        let controller = Controller::new_with(api, watcher::Config::default(), resource)
            .graceful_shutdown_on(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .run(reconcile, |_, _, _| Action::requeue(RETRY), context)
            .for_each(|_| std::future::ready(()));
        controllers.push(controller);
    }
    futures::future::join_all(controllers).await;
}

async fn reconcile(
    object: Arc<DynamicObject>,
    context: Arc<(Client, UnsupportedKind)>,
) -> Result<Action, kube::Error> {
    let (client, kind) = context.as_ref();
    let value = serde_json::to_value(object.as_ref()).unwrap_or_default();
    if is_marked(&value, kind) || object.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(namespace) = object.namespace() else {
        return Ok(Action::await_change());
    };
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &namespace, &kind.resource());
    api.patch_status(
        &object.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(mark(&object, kind, &crate::status::now())),
    )
    .await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests;
