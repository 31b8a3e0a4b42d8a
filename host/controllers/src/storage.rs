//! Storage-version migration: rewrites every stored object of a CRD at its storage version, then
//! narrows the CRD's `status.storedVersions` to that version alone.
//!
//! Upgrading from a release that stored `nvidia.com/v1alpha1` leaves those objects in etcd as they
//! were written; the API server converts them on every read, and `status.storedVersions` keeps
//! listing `v1alpha1`, so that version could never be dropped from the CRD. Rewriting an object
//! re-encodes it at the storage version. The rewrite is an empty merge patch of the **status**
//! subresource: it changes nothing a user or a controller sees (no spec change, so no new
//! generation) and admission webhooks on the main resource are not called, yet the API server
//! writes the object again because its stored bytes differ from the re-encoded ones.
//!
//! The migration is idempotent, so an interrupted one is resumed by running it again: objects
//! already rewritten are rewritten once more (a cheap no-op write), and `storedVersions` is only
//! narrowed after every object listed was written. Objects created meanwhile are stored at the
//! storage version anyway.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::{Client, ResourceExt as _};
use serde_json::json;

/// Objects listed per page, so a cluster with many graphs is migrated in bounded memory.
const PAGE_SIZE: u32 = 200;

/// Why a migration stopped before it finished; running it again resumes it.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// An API call failed.
    #[error("{action}: {source}")]
    Api {
        /// What was being done, naming the CRD or object.
        action: String,
        /// The failure.
        #[source]
        source: kube::Error,
    },
    /// The CRD declares no storage version.
    #[error("CRD {0} has no storage version")]
    NoStorageVersion(String),
}

/// What one CRD's migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrated {
    /// The CRD's name.
    pub crd: String,
    /// Objects rewritten at the storage version (0 when nothing needed migrating).
    pub rewritten: usize,
    /// `storedVersions` before, when they were narrowed; `None` when they already were.
    pub narrowed_from: Option<Vec<String>>,
}

/// What a CRD still needs migrated: its storage version and the versions its
/// `status.storedVersions` lists besides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The version objects are written at.
    pub storage: String,
    /// `status.storedVersions` as found (it lists some version other than `storage`).
    pub stored: Vec<String>,
    /// Whether the storage version has a status subresource (objects are rewritten through it).
    pub has_status: bool,
}

/// What `crd` needs migrated, or `None` when its `storedVersions` lists only its storage version
/// (or nothing at all, as before the API server first stored an object).
///
/// # Errors
/// [`MigrationError::NoStorageVersion`] when no version of `crd` is marked as stored.
pub fn pending(crd: &CustomResourceDefinition) -> Result<Option<Pending>, MigrationError> {
    let storage = crd
        .spec
        .versions
        .iter()
        .find(|v| v.storage)
        .ok_or_else(|| MigrationError::NoStorageVersion(crd.name_any()))?;
    let stored = crd
        .status
        .as_ref()
        .and_then(|s| s.stored_versions.clone())
        .unwrap_or_default();
    if stored.iter().all(|v| *v == storage.name) {
        return Ok(None);
    }
    Ok(Some(Pending {
        storage: storage.name.clone(),
        stored,
        has_status: storage
            .subresources
            .as_ref()
            .is_some_and(|s| s.status.is_some()),
    }))
}

/// The merge patch of a CRD's status that leaves `storage` as the only stored version. Only sent
/// once every object has been rewritten at `storage`.
pub fn narrowing_patch(storage: &str) -> serde_json::Value {
    json!({"status": {"storedVersions": [storage]}})
}

/// Migrates the stored objects of CRD `name` to its storage version (see the module docs).
/// A CRD that does not exist, or whose `storedVersions` already lists only the storage version,
/// is left alone.
pub async fn migrate(client: &Client, name: &str) -> Result<Migrated, MigrationError> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let api_error = |action: String| move |source| MigrationError::Api { action, source };
    let mut done = Migrated {
        crd: name.to_owned(),
        ..Migrated::default()
    };
    let Some(crd) = crds
        .get_opt(name)
        .await
        .map_err(api_error(format!("reading CRD {name}")))?
    else {
        return Ok(done);
    };
    let Some(Pending {
        storage,
        stored,
        has_status,
    }) = pending(&crd)?
    else {
        return Ok(done);
    };

    let gvk = GroupVersionKind::gvk(&crd.spec.group, &storage, &crd.spec.names.kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, &crd.spec.names.plural);
    let objects: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let page = objects
            .list_metadata(&params)
            .await
            .map_err(api_error(format!("listing {}", crd.spec.names.plural)))?;
        for object in &page.items {
            let Some(namespace) = object.metadata.namespace.as_deref() else {
                continue;
            };
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), namespace, &resource);
            let patch = Patch::Merge(json!({}));
            let written = if has_status {
                api.patch_status(&object.name_any(), &PatchParams::default(), &patch)
                    .await
            } else {
                api.patch(&object.name_any(), &PatchParams::default(), &patch)
                    .await
            };
            match written {
                Ok(_) => done.rewritten += 1,
                // Deleted since it was listed: nothing left to migrate.
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(source) => {
                    return Err(MigrationError::Api {
                        action: format!(
                            "rewriting {} {namespace}/{}",
                            crd.spec.names.kind,
                            object.name_any()
                        ),
                        source,
                    });
                }
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }

    crds.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(narrowing_patch(&storage)),
    )
    .await
    .map_err(api_error(format!("narrowing storedVersions of CRD {name}")))?;
    done.narrowed_from = Some(stored);
    Ok(done)
}

/// Migrates each CRD of `names` until all are done, trying the ones that failed again after
/// `retry` (a failure is logged, never fatal: the API server serves unmigrated objects all the
/// same). One CRD that keeps failing, say over an object its conversion refuses, does not hold
/// up the others.
pub async fn migrate_all(client: Client, names: &[&str], retry: Duration) {
    let mut remaining: Vec<&str> = names.to_vec();
    while !remaining.is_empty() {
        let mut failed = Vec::new();
        for name in remaining {
            match migrate(&client, name).await {
                Ok(done) => {
                    if let Some(from) = &done.narrowed_from {
                        tracing::info!(
                            crd = %done.crd,
                            rewritten = done.rewritten,
                            stored_versions_before = ?from,
                            "migrated stored objects to the storage version"
                        );
                    }
                }
                Err(error) => {
                    tracing::warn!(crd = %name, "storage migration: {error}; retrying");
                    failed.push(name);
                }
            }
        }
        if failed.is_empty() {
            break;
        }
        tokio::time::sleep(retry).await;
        remaining = failed;
    }
}

#[cfg(test)]
mod tests;
