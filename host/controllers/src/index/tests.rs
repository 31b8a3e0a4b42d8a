use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::runtime::watcher::Event;

use super::*;

fn owned(name: &str, owners: &[&str]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some("ns".to_owned()),
            owner_references: Some(
                owners
                    .iter()
                    .map(|uid| OwnerReference {
                        uid: (*uid).to_owned(),
                        ..OwnerReference::default()
                    })
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

fn names(index: &Index<ConfigMap>, uid: &str) -> Vec<String> {
    let mut names: Vec<String> = index
        .get(&owner_key(uid))
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    names.sort();
    names
}

#[test]
fn objects_are_found_by_each_owner() {
    let index = Index::new(owner_keys::<ConfigMap>);
    index.observe(&Event::Apply(owned("a", &["g1"])));
    index.observe(&Event::Apply(owned("b", &["g1", "g2"])));
    assert_eq!(names(&index, "g1"), ["a", "b"]);
    assert_eq!(names(&index, "g2"), ["b"]);
    assert!(names(&index, "g3").is_empty());
}

#[test]
fn a_changed_owner_moves_the_object_and_a_delete_removes_it() {
    let index = Index::new(owner_keys::<ConfigMap>);
    index.observe(&Event::Apply(owned("a", &["g1"])));
    index.observe(&Event::Apply(owned("a", &["g2"])));
    assert!(names(&index, "g1").is_empty());
    assert_eq!(names(&index, "g2"), ["a"]);
    index.observe(&Event::Delete(owned("a", &["g2"])));
    assert!(names(&index, "g2").is_empty());
    assert!(index.is_empty(), "no empty key sets are kept");
}

#[test]
fn a_relist_replaces_the_contents_when_it_completes() {
    let index = Index::new(owner_keys::<ConfigMap>);
    index.observe(&Event::Apply(owned("gone", &["g1"])));
    index.observe(&Event::Apply(owned("kept", &["g1"])));

    index.observe(&Event::Init);
    index.observe(&Event::InitApply(owned("kept", &["g1"])));
    index.observe(&Event::InitApply(owned("new", &["g1"])));
    // Until the relist is done, readers see the previous contents, as the cache does.
    assert_eq!(names(&index, "g1"), ["gone", "kept"]);
    index.observe(&Event::InitDone);
    assert_eq!(names(&index, "g1"), ["kept", "new"]);
}

#[test]
fn label_keys_are_per_namespace_and_label() {
    let mut object = owned("a", &[]);
    object.metadata.labels = Some([("graph".to_owned(), "g".to_owned())].into_iter().collect());
    let keys = label_keys(&object, &["graph", "absent"]);
    assert_eq!(keys, [label_key("graph", "ns", "g")]);
    assert_ne!(
        label_key("graph", "ns", "g"),
        label_key("graph", "other", "g")
    );
}
