//! Handles for the custom resources of other projects that the operator writes or reads:
//! LeaderWorkerSet, Volcano PodGroup, Grove's PodCliqueSet, PodClique and PodCliqueScalingGroup,
//! and KAI's Queue.
//!
//! Their Go types live in modules we do not link, and their schemas change with their releases,
//! so each is a thin typed handle: the metadata typed, `spec` and `status` kept as JSON. That is
//! enough to cache them in a reflector (which wants a `Resource` with a static kind), to compare
//! them with a render, and to read the few status fields status aggregation needs
//! ([`crate::status`]); it never rejects a field a newer release adds.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Declares a schemaless handle for one custom resource kind.
macro_rules! foreign_kind {
    ($(#[$doc:meta])* $name:ident, $group:literal, $version:literal, $kind:literal, $plural:literal, $scope:ty) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Standard object metadata.
            pub metadata: ObjectMeta,
            /// The spec, as JSON (`null` when absent).
            #[serde(default, skip_serializing_if = "Value::is_null")]
            pub spec: Value,
            /// The status, as JSON (`null` when absent).
            #[serde(default, skip_serializing_if = "Value::is_null")]
            pub status: Value,
        }

        impl Resource for $name {
            type DynamicType = ();
            type Scope = $scope;

            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                $group.into()
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                $version.into()
            }
            fn api_version(_: &()) -> std::borrow::Cow<'_, str> {
                concat!($group, "/", $version).into()
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }

        impl $name {
            /// The name of this kind's CustomResourceDefinition (`<plural>.<group>`).
            pub const CRD: &'static str = concat!($plural, ".", $group);
        }
    };
}

foreign_kind!(
    /// A LeaderWorkerSet (`leaderworkerset.x-k8s.io/v1`): one multi-node replica of a component.
    LeaderWorkerSet,
    "leaderworkerset.x-k8s.io",
    "v1",
    "LeaderWorkerSet",
    "leaderworkersets",
    kube::core::NamespaceResourceScope
);

foreign_kind!(
    /// A Volcano PodGroup (`scheduling.volcano.sh/v1beta1`): the gang earlier versions made for
    /// each LeaderWorkerSet; read only to remove them.
    PodGroup,
    "scheduling.volcano.sh",
    "v1beta1",
    "PodGroup",
    "podgroups",
    kube::core::NamespaceResourceScope
);

foreign_kind!(
    /// A Grove PodCliqueSet (`grove.io/v1alpha1`): a whole graph on the Grove pathway.
    PodCliqueSet,
    "grove.io",
    "v1alpha1",
    "PodCliqueSet",
    "podcliquesets",
    kube::core::NamespaceResourceScope
);

foreign_kind!(
    /// A Grove PodClique (`grove.io/v1alpha1`): the pods of one role of a PodCliqueSet.
    PodClique,
    "grove.io",
    "v1alpha1",
    "PodClique",
    "podcliques",
    kube::core::NamespaceResourceScope
);

foreign_kind!(
    /// A Grove PodCliqueScalingGroup (`grove.io/v1alpha1`): the cliques of a multi-node service
    /// that scale together.
    PodCliqueScalingGroup,
    "grove.io",
    "v1alpha1",
    "PodCliqueScalingGroup",
    "podcliquescalinggroups",
    kube::core::NamespaceResourceScope
);

foreign_kind!(
    /// A KAI scheduler Queue (`scheduling.run.ai/v2`, cluster-scoped).
    Queue,
    "scheduling.run.ai",
    "v2",
    "Queue",
    "queues",
    kube::core::ClusterResourceScope
);

/// The integer at `path` (JSON pointer) of `value`, or 0.
pub fn int_at(value: &Value, path: &str) -> i64 {
    value.pointer(path).and_then(Value::as_i64).unwrap_or(0)
}

/// The status of condition `type_` in `status.conditions` (`"True"`, `"False"`, ...).
pub fn condition_status<'a>(status: &'a Value, type_: &str) -> Option<&'a str> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?
        .get("status")?
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_names_are_plural_dot_group() {
        assert_eq!(
            LeaderWorkerSet::CRD,
            "leaderworkersets.leaderworkerset.x-k8s.io"
        );
        assert_eq!(PodGroup::CRD, "podgroups.scheduling.volcano.sh");
        assert_eq!(PodCliqueSet::CRD, "podcliquesets.grove.io");
        assert_eq!(Queue::CRD, "queues.scheduling.run.ai");
        assert_eq!(
            LeaderWorkerSet::api_version(&()),
            "leaderworkerset.x-k8s.io/v1"
        );
    }

    #[test]
    fn handles_keep_unknown_fields() {
        let lws: LeaderWorkerSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "a"},
            "spec": {"replicas": 2, "futureField": true},
            "status": {"readyReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]},
        }))
        .expect("parses");
        assert_eq!(int_at(&lws.spec, "/replicas"), 2);
        assert_eq!(lws.spec["futureField"], true);
        assert_eq!(condition_status(&lws.status, "Available"), Some("True"));
        assert_eq!(condition_status(&lws.status, "Progressing"), None);
    }
}
