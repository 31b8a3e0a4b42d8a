//! Secondary indexes over the watch caches: which cached objects belong to an owner, a graph or a
//! component, without scanning the whole cache.
//!
//! A reconcile asks "what does this graph control?" for every kind it prunes. Answering by
//! scanning a cache costs time proportional to everything the operator manages, on every
//! reconcile: at 1000 graphs that made the operator quadratic. An [`Index`] is fed by the same
//! watch events as its cache (before the cache sees them) and maps keys (an owner's UID, a
//! namespaced label value) to object references, so a lookup costs only what it returns.
//!
//! The index follows the watcher's relist protocol as the cache does: objects listed between
//! `Init` and `InitDone` replace the previous contents at once, so an object deleted while the
//! watch was down leaves the index too.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use kube::Resource;
use kube::runtime::watcher;

/// A cached object's identity within its kind: namespace and name.
pub type ObjectKey = (String, String);

/// What an index maps: key → objects, and each object's keys (to unindex it on change).
#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<String, HashSet<ObjectKey>>,
    keys_of: HashMap<ObjectKey, Vec<String>>,
}

#[derive(Debug, Default)]
struct State {
    live: Entries,
    /// Filled during a relist, swapped in when it completes.
    relisting: Option<Entries>,
}

/// A secondary index of one cache, keyed by what `keys` returns for each object.
pub struct Index<K> {
    state: Arc<RwLock<State>>,
    keys: fn(&K) -> Vec<String>,
}

impl<K> Clone for Index<K> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            keys: self.keys,
        }
    }
}

// === impl Entries ===

impl Entries {
    fn insert(&mut self, object: ObjectKey, keys: Vec<String>) {
        self.remove(&object);
        for key in &keys {
            self.by_key
                .entry(key.clone())
                .or_default()
                .insert(object.clone());
        }
        if !keys.is_empty() {
            self.keys_of.insert(object, keys);
        }
    }

    fn remove(&mut self, object: &ObjectKey) {
        let Some(keys) = self.keys_of.remove(object) else {
            return;
        };
        for key in keys {
            if let Some(objects) = self.by_key.get_mut(&key) {
                objects.remove(object);
                if objects.is_empty() {
                    self.by_key.remove(&key);
                }
            }
        }
    }
}

// === impl Index ===

impl<K: Resource> Index<K> {
    /// An empty index that files each object under `keys(object)`.
    pub fn new(keys: fn(&K) -> Vec<String>) -> Self {
        Self {
            state: Arc::default(),
            keys,
        }
    }

    /// Updates the index with one watch event.
    pub fn observe(&self, event: &watcher::Event<K>) {
        // A poisoned lock means a panic mid-update elsewhere; the index data is still usable.
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        match event {
            watcher::Event::Apply(object) => {
                state.live.insert(identity(object), (self.keys)(object))
            }
            watcher::Event::Delete(object) => state.live.remove(&identity(object)),
            watcher::Event::Init => state.relisting = Some(Entries::default()),
            watcher::Event::InitApply(object) => {
                let keys = (self.keys)(object);
                state
                    .relisting
                    .get_or_insert_with(Entries::default)
                    .insert(identity(object), keys);
            }
            watcher::Event::InitDone => {
                if let Some(listed) = state.relisting.take() {
                    state.live = listed;
                }
            }
        }
    }

    /// The objects filed under `key` (namespace, name), in no particular order.
    pub fn get(&self, key: &str) -> Vec<ObjectKey> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state
            .live
            .by_key
            .get(key)
            .map(|objects| objects.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many keys the index holds.
    pub fn len(&self) -> usize {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state.live.by_key.len()
    }

    /// True when the index holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn identity<K: Resource>(object: &K) -> ObjectKey {
    let meta = object.meta();
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

// === keys ===

/// Index key of the objects that `uid` owns (any owner reference, controller or not).
pub fn owner_key(uid: &str) -> String {
    format!("owner:{uid}")
}

/// Index key of the objects in `namespace` whose `label` is `value`.
pub fn label_key(label: &str, namespace: &str, value: &str) -> String {
    format!("label:{label}={value}@{namespace}")
}

/// The owner keys of an object: one per owner reference.
pub fn owner_keys<K: Resource>(object: &K) -> Vec<String> {
    object
        .meta()
        .owner_references
        .iter()
        .flatten()
        .map(|r| owner_key(&r.uid))
        .collect()
}

/// The label keys of an object for each label in `labels` it carries.
pub fn label_keys<K: Resource>(object: &K, labels: &[&str]) -> Vec<String> {
    let meta = object.meta();
    let namespace = meta.namespace.as_deref().unwrap_or_default();
    let Some(present) = meta.labels.as_ref() else {
        return Vec::new();
    };
    labels
        .iter()
        .filter_map(|label| {
            present
                .get(*label)
                .map(|value| label_key(label, namespace, value))
        })
        .collect()
}

#[cfg(test)]
mod tests;
