//! Tests of the migration's decisions: which CRDs need migrating, through which subresource, and
//! the patch that narrows `storedVersions`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::json;

use super::{MigrationError, Pending, narrowing_patch, pending};

/// A CRD with `versions` (`(name, storage, has status)`) and `stored` as its storedVersions.
fn crd(versions: &[(&str, bool, bool)], stored: Option<&[&str]>) -> CustomResourceDefinition {
    let versions: Vec<_> = versions
        .iter()
        .map(|(name, storage, status)| {
            let mut version = json!({"name": name, "served": true, "storage": storage});
            if *status {
                version["subresources"] = json!({"status": {}});
            }
            version
        })
        .collect();
    let mut value = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "dynamographdeployments.nvidia.com"},
        "spec": {
            "group": "nvidia.com",
            "names": {"kind": "DynamoGraphDeployment", "plural": "dynamographdeployments"},
            "scope": "Namespaced",
            "versions": versions,
        },
    });
    if let Some(stored) = stored {
        value["status"] = json!({"storedVersions": stored});
    }
    serde_json::from_value(value).unwrap_or_else(|e| panic!("CRD: {e}"))
}

#[test]
fn a_crd_that_stored_an_older_version_needs_migrating_through_its_status() {
    let upgraded = crd(
        &[("v1alpha1", false, true), ("v1beta1", true, true)],
        Some(&["v1alpha1", "v1beta1"]),
    );
    assert_eq!(
        pending(&upgraded).unwrap_or_else(|e| panic!("{e}")),
        Some(Pending {
            storage: "v1beta1".into(),
            stored: vec!["v1alpha1".into(), "v1beta1".into()],
            has_status: true,
        })
    );
    // Only the old version listed (nothing written since the upgrade): still to migrate.
    let untouched = crd(
        &[("v1alpha1", false, false), ("v1beta1", true, false)],
        Some(&["v1alpha1"]),
    );
    let found = pending(&untouched).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.as_ref().map(|p| p.storage.as_str()), Some("v1beta1"));
    // Without a status subresource the object itself is rewritten.
    assert_eq!(found.map(|p| p.has_status), Some(false));
}

#[test]
fn a_crd_storing_only_its_storage_version_is_left_alone() {
    let migrated = crd(
        &[("v1alpha1", false, true), ("v1beta1", true, true)],
        Some(&["v1beta1"]),
    );
    assert_eq!(pending(&migrated).unwrap_or_else(|e| panic!("{e}")), None);
    // A new CRD before its first object, as the API server may show it.
    let fresh = crd(&[("v1alpha1", false, true), ("v1beta1", true, true)], None);
    assert_eq!(pending(&fresh).unwrap_or_else(|e| panic!("{e}")), None);
}

#[test]
fn a_crd_without_a_storage_version_is_an_error_naming_it() {
    let broken = crd(&[("v1alpha1", false, true)], Some(&["v1alpha1"]));
    match pending(&broken) {
        Err(error @ MigrationError::NoStorageVersion(_)) => assert!(
            error
                .to_string()
                .contains("dynamographdeployments.nvidia.com"),
            "{error}"
        ),
        other => panic!("expected NoStorageVersion, got {other:?}"),
    }
}

#[test]
fn narrowing_replaces_stored_versions_with_the_storage_version() {
    assert_eq!(
        narrowing_patch("v1beta1"),
        json!({"status": {"storedVersions": ["v1beta1"]}})
    );
}
