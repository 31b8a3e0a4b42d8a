//! Writing children: server-side apply under one field manager, skipped when nothing would
//! change, and deletion of children the graph no longer wants.
//!
//! Every API request costs the API server work (admission, audit, etcd), a no-op apply included,
//! so the applier decides **before** calling whether a write is needed. Each applied object
//! carries the hash of what was applied ([`APPLIED_HASH`]); an object is left alone when the live
//! one carries the same hash *and* still holds every applied field ([`crate::compare`]):
//!
//! - a changed graph changes the hash → apply (server-side apply also removes what we stopped
//!   setting);
//! - a hand edit of a field we own breaks the subset match → apply with force, reverting it;
//! - fields other managers own (an HPA's, a webhook's) are not ours and are left alone.
//!
//! Shared objects (model Services, used by several components) are applied by each owner under
//! its own field manager (`dynamo-operator/owner/<uid>`) with a non-controller owner reference,
//! so each owner holds its own reference and the object lives until the last owner goes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Resource};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::compare;

/// The field manager of every object the operator applies.
pub const FIELD_MANAGER: &str = "dynamo-operator";
/// Annotation holding the hash of the applied object (without this annotation).
pub const APPLIED_HASH: &str = "nvidia.com/last-applied-hash";

/// Counts of the writes the operator made, by kind of write.
#[derive(Debug, Default)]
pub struct WriteCounters {
    /// Server-side applies of children.
    pub applies: AtomicU64,
    /// Creates (create-only objects, SSH Secrets).
    pub creates: AtomicU64,
    /// Deletes of children.
    pub deletes: AtomicU64,
    /// Status writes.
    pub statuses: AtomicU64,
    /// Other patches (graph replicas from an adapter, old components' replicas).
    pub patches: AtomicU64,
    /// Events.
    pub events: AtomicU64,
    /// Applies skipped because nothing would change.
    pub skipped: AtomicU64,
}

impl WriteCounters {
    /// Every write so far.
    pub fn total(&self) -> u64 {
        [
            &self.applies,
            &self.creates,
            &self.deletes,
            &self.statuses,
            &self.patches,
            &self.events,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

/// What an apply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The live object already held everything: no request was made.
    Unchanged,
    /// The object was written.
    Written,
}

/// How a live child stands against what the operator would apply ([`Applier::applied_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedState {
    /// It holds exactly the desired object.
    pub current: bool,
    /// This operator applied the desired object moments ago.
    pub recent: bool,
}

/// The owner a child points back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// `apiVersion` of the owner.
    pub api_version: String,
    /// `kind` of the owner.
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// UID of the owner.
    pub uid: String,
}

impl Owner {
    /// The owner reference of `resource`.
    pub fn of<K: Resource<DynamicType = ()>>(resource: &K) -> Option<Self> {
        Some(Self {
            api_version: K::api_version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            name: resource.meta().name.clone()?,
            uid: resource.meta().uid.clone()?,
        })
    }

    /// The reference as JSON; a controller reference blocks the owner's foreground deletion.
    pub fn reference(&self, controller: bool) -> Value {
        json!({
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": controller,
            "blockOwnerDeletion": true,
        })
    }
}

/// True when `object`'s controller owner reference is the object with `uid`.
pub fn controlled_by<K: Resource>(object: &K, uid: &str) -> bool {
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == uid && r.controller == Some(true))
}

/// True when any owner reference of `object` points at `uid`.
pub fn owned_by<K: Resource>(object: &K, uid: &str) -> bool {
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == uid)
}

/// Writes objects for the controllers and counts what it writes.
#[derive(Clone)]
pub struct Applier {
    client: Client,
    counters: Arc<WriteCounters>,
    recent: Arc<Mutex<RecentWrites>>,
}

/// Writes made moments ago, by object and manager: hash and time.
#[derive(Default)]
struct RecentWrites {
    writes: HashMap<String, (String, Instant)>,
    /// Size at which expired entries are next swept; doubles with the live entries, so sweeping
    /// stays amortised O(1) per write even in a burst where nothing has expired yet.
    sweep_at: usize,
}

/// Entries kept before the first sweep.
const RECENT_SWEEP_MIN: usize = 4096;

/// How long a write is remembered: a cache that has not seen it yet does not cause another.
const RECENT: Duration = Duration::from_secs(30);

/// The API resource of `apiVersion`/`kind`, for the kinds the operator writes.
pub fn api_resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let plural = match kind {
        "Ingress" => "ingresses".to_owned(),
        "PersistentVolumeClaim" => "persistentvolumeclaims".to_owned(),
        other => format!("{}s", other.to_lowercase()),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &plural)
}

impl Applier {
    /// An applier on `client`.
    pub fn new(client: Client, counters: Arc<WriteCounters>) -> Self {
        Self {
            client,
            counters,
            recent: Arc::default(),
        }
    }

    /// True when `hash` was written to `key` moments ago (the cache just has not caught up).
    fn written_recently(&self, key: &str, hash: &str) -> bool {
        let Ok(recent) = self.recent.lock() else {
            return false;
        };
        recent
            .writes
            .get(key)
            .is_some_and(|(h, at)| h == hash && at.elapsed() < RECENT)
    }

    fn remember(&self, key: String, hash: String) {
        let Ok(mut recent) = self.recent.lock() else {
            return;
        };
        let now = Instant::now();
        if recent.writes.len() >= recent.sweep_at.max(RECENT_SWEEP_MIN) {
            recent
                .writes
                .retain(|_, (_, at)| now.duration_since(*at) < RECENT);
            recent.sweep_at = 2 * recent.writes.len();
        }
        recent.writes.insert(key, (hash, now));
    }

    /// The counters.
    pub fn counters(&self) -> &Arc<WriteCounters> {
        &self.counters
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn api(&self, manifest: &Value) -> (Api<DynamicObject>, String) {
        let api_version = manifest["apiVersion"].as_str().unwrap_or_default();
        let kind = manifest["kind"].as_str().unwrap_or_default();
        let namespace = manifest["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default();
        let name = manifest["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let resource = api_resource(api_version, kind);
        (
            Api::namespaced_with(self.client.clone(), namespace, &resource),
            name,
        )
    }

    /// The live object `manifest` names, read from the API server, as JSON; `None` when absent.
    ///
    /// For the few kinds the operator writes without watching ([`UNCACHED_KINDS`], and the
    /// create-once ResourceClaimTemplates). One read per reconcile keeps an unchanged object from
    /// being rewritten.
    pub async fn fetch(&self, manifest: &Value) -> Result<Option<Value>, kube::Error> {
        let (api, name) = self.api(manifest);
        let object = api.get_opt(&name).await?;
        Ok(object.and_then(|mut o| {
            o.metadata.managed_fields = None;
            serde_json::to_value(o).ok()
        }))
    }

    /// The live object `manifest` names: `cached` when a cache had it, else, for a kind in
    /// [`UNCACHED_KINDS`], read from the API server.
    pub async fn live(
        &self,
        manifest: &Value,
        cached: Option<Value>,
    ) -> Result<Option<Value>, kube::Error> {
        match cached {
            None if UNCACHED_KINDS.contains(&manifest["kind"].as_str().unwrap_or_default()) => {
                self.fetch(manifest).await
            }
            cached => Ok(cached),
        }
    }

    /// Applies `desired` with `owner` as its controller, unless `live` already holds it.
    pub async fn apply(
        &self,
        mut desired: Value,
        owner: &Owner,
        live: Option<&Value>,
    ) -> Result<Outcome, kube::Error> {
        set_owner(&mut desired, owner.reference(true));
        self.apply_as(desired, live, FIELD_MANAGER).await
    }

    /// How `live` stands against `desired` (with `owner` as its controller), from the hash the
    /// operator stamps on what it applies: whether it holds exactly `desired`, and whether this
    /// operator applied it less than `within` ago (the object's own controller may not have
    /// reacted yet). Lets a controller tell an up-to-date child from one it has yet to update
    /// (LeaderWorkerSet groups updated one at a time).
    pub fn applied_state(
        &self,
        desired: &Value,
        owner: &Owner,
        live: Option<&Value>,
        within: Duration,
    ) -> AppliedState {
        let mut desired = desired.clone();
        set_owner(&mut desired, owner.reference(true));
        let hash = hash(&desired);
        let current = live.is_some_and(|live| {
            live["metadata"]["annotations"][APPLIED_HASH].as_str() == Some(hash.as_str())
        });
        let recent = self.recent.lock().is_ok_and(|recent| {
            recent
                .writes
                .get(&key(&desired, FIELD_MANAGER))
                .is_some_and(|(h, at)| *h == hash && at.elapsed() < within)
        });
        AppliedState { current, recent }
    }

    /// Applies shared object `desired` (a model Service) under `owner`'s own field manager with a
    /// non-controller reference, unless `live` already holds it with that reference.
    pub async fn apply_shared(
        &self,
        mut desired: Value,
        owner: &Owner,
        live: Option<&Value>,
    ) -> Result<Outcome, kube::Error> {
        set_owner(&mut desired, owner.reference(false));
        let manager = format!("{FIELD_MANAGER}/owner/{}", owner.uid);
        self.apply_as(desired, live, &manager).await
    }

    /// Drops `owner`'s hold on shared object `live`: deletes it when `owner` is its only owner,
    /// else removes `owner`'s fields and reference.
    pub async fn release_shared(&self, live: &Value, owner: &Owner) -> Result<(), kube::Error> {
        let owners = live["metadata"]["ownerReferences"]
            .as_array()
            .map_or(0, Vec::len);
        if owners <= 1 {
            return self.delete(live).await;
        }
        let (api, name) = self.api(live);
        let empty = json!({
            "apiVersion": live["apiVersion"],
            "kind": live["kind"],
            "metadata": {"name": name, "namespace": live["metadata"]["namespace"]},
        });
        let manager = format!("{FIELD_MANAGER}/owner/{}", owner.uid);
        api.patch(
            &name,
            &PatchParams::apply(&manager).force(),
            &Patch::Apply(&empty),
        )
        .await?;
        self.counters.applies.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn apply_as(
        &self,
        mut desired: Value,
        live: Option<&Value>,
        manager: &str,
    ) -> Result<Outcome, kube::Error> {
        let hash = hash(&desired);
        if let Some(annotations) = desired["metadata"]
            .as_object_mut()
            .map(|m| m.entry("annotations").or_insert_with(|| json!({})))
            && let Some(annotations) = annotations.as_object_mut()
        {
            annotations.insert(APPLIED_HASH.to_owned(), Value::String(hash.clone()));
        }
        let live_hash = live.and_then(|l| l["metadata"]["annotations"][APPLIED_HASH].as_str());
        let unchanged = match live {
            Some(live) if live_hash == Some(hash.as_str()) => compare::contains(live, &desired),
            // The cache lags behind a write made moments ago: not a reason to write again. (A
            // hand edit keeps our hash, so it takes the branch above and is reverted.)
            _ => self.written_recently(&key(&desired, manager), &hash),
        };
        if unchanged {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return Ok(Outcome::Unchanged);
        }
        let (api, name) = self.api(&desired);
        api.patch(
            &name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(&desired),
        )
        .await?;
        self.counters.applies.fetch_add(1, Ordering::Relaxed);
        self.remember(key(&desired, manager), hash);
        Ok(Outcome::Written)
    }

    /// Creates `desired` (owned by `owner`) unless it exists: for objects that must never be
    /// changed once made (PVCs, SSH keys).
    pub async fn create(
        &self,
        mut desired: Value,
        owner: Option<&Owner>,
    ) -> Result<Outcome, kube::Error> {
        if let Some(owner) = owner {
            set_owner(&mut desired, owner.reference(true));
        }
        let (api, _) = self.api(&desired);
        let object: DynamicObject =
            serde_json::from_value(desired).map_err(kube::Error::SerdeError)?;
        match api
            .create(
                &PostParams {
                    field_manager: Some(FIELD_MANAGER.to_owned()),
                    ..PostParams::default()
                },
                &object,
            )
            .await
        {
            Ok(_) => {
                self.counters.creates.fetch_add(1, Ordering::Relaxed);
                Ok(Outcome::Written)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Outcome::Unchanged),
            Err(error) => Err(error),
        }
    }

    /// Deletes `live` (only that incarnation: the UID is a precondition), in the background.
    pub async fn delete(&self, live: &Value) -> Result<(), kube::Error> {
        let (api, name) = self.api(live);
        let params = DeleteParams {
            preconditions: live["metadata"]["uid"].as_str().map(|uid| Preconditions {
                uid: Some(uid.to_owned()),
                resource_version: None,
            }),
            ..DeleteParams::background()
        };
        match api.delete(&name, &params).await {
            Ok(_) => {
                self.counters.deletes.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Server-side applies `status` to the status subresource of `object` (whose `apiVersion`,
    /// `kind`, name and namespace it takes).
    pub async fn apply_status(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> Result<(), kube::Error> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, resource);
        let patch = json!({
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "status": status,
        });
        api.patch_status(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
        self.counters.statuses.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Merge-patches `patch` onto `object` (a narrow change the controller owns: one replica
    /// count).
    pub async fn merge_patch(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
        patch: Value,
    ) -> Result<(), kube::Error> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, resource);
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        self.counters.patches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Applier {
    /// JSON-patches `patch` (RFC 6902 operations) onto `object`: a narrow change the controller
    /// owns inside a list (one component's replica count), guarded by `test` operations.
    pub async fn json_patch(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
        patch: json_patch::Patch,
    ) -> Result<(), kube::Error> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, resource);
        api.patch(name, &PatchParams::default(), &Patch::<()>::Json(patch))
            .await?;
        self.counters.patches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Kinds the operator applies that no cache watches (their CRDs are optional, so no cache could
/// wait on them): [`Applier::live`] reads them before applying.
pub const UNCACHED_KINDS: [&str; 2] = ["VirtualService", "InferencePool"];

/// Identity of an object (and the manager writing it) for the recent-writes memory.
fn key(manifest: &Value, manager: &str) -> String {
    format!(
        "{}/{}/{}/{}/{manager}",
        manifest["apiVersion"].as_str().unwrap_or_default(),
        manifest["kind"].as_str().unwrap_or_default(),
        manifest["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default(),
        manifest["metadata"]["name"].as_str().unwrap_or_default()
    )
}

fn set_owner(desired: &mut Value, reference: Value) {
    if let Some(metadata) = desired["metadata"].as_object_mut() {
        metadata.insert("ownerReferences".to_owned(), json!([reference]));
    }
}

/// Hex SHA-256 of `desired` in canonical form, without the hash annotation itself.
pub fn hash(desired: &Value) -> String {
    let mut copy = desired.clone();
    if let Some(annotations) = copy["metadata"]["annotations"].as_object_mut() {
        annotations.remove(APPLIED_HASH);
    }
    // Owners of a shared object each apply it with their own reference: the hash must agree
    // between them or they would rewrite each other's annotation forever. A changed owner is
    // still seen, by the subset check.
    if let Some(metadata) = copy["metadata"].as_object_mut() {
        metadata.remove("ownerReferences");
    }
    let text = dynamo_render::object::canonical(&copy).to_string();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `object` as JSON (with `apiVersion` and `kind`), for comparing with a desired manifest.
pub fn to_value<K: Resource<DynamicType = ()> + serde::Serialize>(object: &K) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "apiVersion".into(),
            Value::String(K::api_version(&()).into_owned()),
        );
        map.insert("kind".into(), Value::String(K::kind(&()).into_owned()));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_groups() {
        let r = api_resource("apps/v1", "Deployment");
        assert_eq!(
            (r.group.as_str(), r.version.as_str(), r.plural.as_str()),
            ("apps", "v1", "deployments")
        );
        assert_eq!(api_resource("v1", "Service").plural, "services");
        assert_eq!(
            api_resource("networking.k8s.io/v1", "Ingress").plural,
            "ingresses"
        );
        assert_eq!(
            api_resource("nvidia.com/v1beta1", "DynamoComponentDeployment").plural,
            "dynamocomponentdeployments"
        );
        assert_eq!(
            api_resource("rbac.authorization.k8s.io/v1", "RoleBinding").plural,
            "rolebindings"
        );
    }

    #[test]
    fn the_hash_ignores_its_own_annotation_and_key_order() {
        let a =
            json!({"metadata": {"name": "x", "annotations": {"a": "1"}}, "spec": {"b": 1, "a": 2}});
        let mut b =
            json!({"spec": {"a": 2, "b": 1}, "metadata": {"annotations": {"a": "1"}, "name": "x"}});
        b["metadata"]["annotations"][APPLIED_HASH] = json!("old");
        assert_eq!(hash(&a), hash(&b));
        let c = json!({"metadata": {"name": "x"}, "spec": {"a": 3}});
        assert_ne!(hash(&a), hash(&c));
    }

    #[test]
    fn owners_of_a_shared_object_agree_on_its_hash() {
        let service =
            json!({"metadata": {"name": "dynamo-model-1"}, "spec": {"clusterIP": "None"}});
        let owned = |uid: &str| {
            let mut copy = service.clone();
            set_owner(
                &mut copy,
                json!({"name": "c", "uid": uid, "kind": "DynamoComponentDeployment"}),
            );
            copy
        };
        assert_eq!(hash(&owned("one")), hash(&owned("two")));
        // ... and the subset check still tells the owners apart.
        assert!(!compare::contains(&owned("one"), &owned("two")));
    }
}
