//! Small accessors over canonical JSON values, and handles on the Go types conversion names.
//!
//! In canonical form (see [`crate::shape`]) an absent key and a `null` both mean nil/zero, so the
//! accessors treat them alike.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::shape::{self, Ty};

/// The value of `key`, unless absent or `null`.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// The value of `key` for editing, unless absent or `null`.
pub(crate) fn get_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    v.get_mut(key).filter(|x| !x.is_null())
}

/// The string at `key`, `""` when absent.
pub(crate) fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The boolean at `key`, `false` when absent.
pub(crate) fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The list at `key`, empty when absent.
pub(crate) fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Whether `key` holds a non-empty list or map.
pub(crate) fn has_items(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        _ => false,
    }
}

/// Sets `key` to `value`, or removes it for `None`; turns `v` into an object first if needed.
pub(crate) fn put(v: &mut Value, key: &str, value: Option<Value>) {
    if !v.is_object() {
        *v = obj();
    }
    if let Value::Object(m) = v {
        match value {
            Some(x) => {
                m.insert(key.to_string(), x);
            }
            None => {
                m.remove(key);
            }
        }
    }
}

/// Sets `key` to a copy of `value` when present, removes it otherwise.
pub(crate) fn put_ref(v: &mut Value, key: &str, value: Option<&Value>) {
    put(v, key, value.cloned());
}

/// An empty object.
pub(crate) fn obj() -> Value {
    Value::Object(Map::new())
}

/// The object at `key`, created empty if absent.
pub(crate) fn ensure<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    if !v.is_object() {
        *v = obj();
    }
    let Value::Object(m) = v else {
        unreachable!("made an object above")
    };
    let entry = m.entry(key.to_string()).or_insert_with(obj);
    if entry.is_null() {
        *entry = obj();
    }
    entry
}

/// The list at `key`, created empty if absent.
pub(crate) fn ensure_list<'a>(v: &'a mut Value, key: &str) -> &'a mut Vec<Value> {
    if !v.is_object() {
        *v = obj();
    }
    let Value::Object(m) = v else {
        unreachable!("made an object above")
    };
    let entry = m
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    let Value::Array(list) = entry else {
        unreachable!("made a list above")
    };
    list
}

/// The container called `name` in a list of containers.
pub(crate) fn find_named<'a>(list: &'a [Value], name: &str) -> Option<&'a Value> {
    list.iter().find(|c| text(c, "name") == name)
}

/// Whether a list of containers has one called `name`.
pub(crate) fn has_named(list: &[Value], name: &str) -> bool {
    find_named(list, name).is_some()
}

macro_rules! go_types {
    ($($(#[$doc:meta])* $fn:ident => $name:expr;)*) => {
        $(
            $(#[$doc])*
            pub(crate) fn $fn() -> &'static Ty {
                static T: OnceLock<Ty> = OnceLock::new();
                T.get_or_init(|| shape::ty($name))
            }
        )*
    };
}

/// The Go types the conversion refers to by name.
pub(crate) mod go {
    use super::*;

    const CORE: &str = "k8s.io/api/core/v1.";

    fn core(name: &str) -> String {
        format!("{CORE}{name}")
    }

    go_types! {
        /// `corev1.Container`.
        container => &core("Container");
        /// `corev1.PodSpec`.
        pod_spec => &core("PodSpec");
        /// `corev1.PodTemplateSpec`.
        pod_template => &core("PodTemplateSpec");
        /// `corev1.ResourceRequirements`.
        resource_requirements => &core("ResourceRequirements");
        /// `corev1.VolumeMount`.
        volume_mount => &core("VolumeMount");
        /// `corev1.Probe`.
        probe => &core("Probe");
        /// `corev1.EnvVar`.
        env_var => &core("EnvVar");
        /// `corev1.EnvFromSource`.
        env_from => &core("EnvFromSource");
        /// `metav1.ObjectMeta`.
        object_meta => "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta";
        /// v1alpha1 `DynamoComponentDeploymentSharedSpec`.
        alpha_shared => "api/v1alpha1.DynamoComponentDeploymentSharedSpec";
        /// v1alpha1 `Resources`.
        alpha_resources => "api/v1alpha1.Resources";
        /// v1alpha1 `DynamoGraphDeployment`.
        alpha_dgd => "api/v1alpha1.DynamoGraphDeployment";
        /// v1alpha1 `DynamoGraphDeploymentSpec`.
        alpha_dgd_spec => "api/v1alpha1.DynamoGraphDeploymentSpec";
        /// v1alpha1 `DynamoGraphDeploymentStatus`.
        alpha_dgd_status => "api/v1alpha1.DynamoGraphDeploymentStatus";
        /// v1alpha1 `DynamoComponentDeployment`.
        alpha_dcd => "api/v1alpha1.DynamoComponentDeployment";
        /// v1alpha1 `DynamoComponentDeploymentSpec`.
        alpha_dcd_spec => "api/v1alpha1.DynamoComponentDeploymentSpec";
        /// v1alpha1 `DynamoComponentDeploymentStatus`.
        alpha_dcd_status => "api/v1alpha1.DynamoComponentDeploymentStatus";
        /// v1alpha1 `DynamoGraphDeploymentScalingAdapter`.
        alpha_dgdsa => "api/v1alpha1.DynamoGraphDeploymentScalingAdapter";
        /// v1beta1 `DynamoComponentDeploymentSharedSpec`.
        beta_shared => "api/v1beta1.DynamoComponentDeploymentSharedSpec";
        /// v1beta1 `DynamoGraphDeployment`.
        beta_dgd => "api/v1beta1.DynamoGraphDeployment";
        /// v1beta1 `DynamoGraphDeploymentSpec`.
        beta_dgd_spec => "api/v1beta1.DynamoGraphDeploymentSpec";
        /// v1beta1 `DynamoComponentDeployment`.
        beta_dcd => "api/v1beta1.DynamoComponentDeployment";
        /// v1beta1 `DynamoComponentDeploymentSpec`.
        beta_dcd_spec => "api/v1beta1.DynamoComponentDeploymentSpec";
        /// v1beta1 `DynamoGraphDeploymentScalingAdapter`.
        beta_dgdsa => "api/v1beta1.DynamoGraphDeploymentScalingAdapter";
        /// v1alpha1 `DynamoGraphDeploymentRequest` (described by hand, see `shape/NOTICE.md`).
        alpha_dgdr => "api/v1alpha1.DynamoGraphDeploymentRequest";
        /// v1alpha1 `DynamoGraphDeploymentRequestSpec`.
        alpha_dgdr_spec => "api/v1alpha1.DynamoGraphDeploymentRequestSpec";
        /// v1alpha1 `ProfilingConfigSpec` (a DGDR's `spec.profilingConfig`).
        alpha_dgdr_profiling => "api/v1alpha1.ProfilingConfigSpec";
        /// v1alpha1 `DynamoGraphDeploymentRequestStatus`.
        alpha_dgdr_status => "api/v1alpha1.DynamoGraphDeploymentRequestStatus";
        /// v1beta1 `DynamoGraphDeploymentRequest` (described by hand, see `shape/NOTICE.md`).
        beta_dgdr => "api/v1beta1.DynamoGraphDeploymentRequest";
        /// v1beta1 `DynamoGraphDeploymentRequestSpec`.
        beta_dgdr_spec => "api/v1beta1.DynamoGraphDeploymentRequestSpec";
        /// v1beta1 `DynamoGraphDeploymentRequestStatus`.
        beta_dgdr_status => "api/v1beta1.DynamoGraphDeploymentRequestStatus";
    }

    /// `[]T` of a named struct type.
    pub(crate) fn slice_of(t: &Ty) -> Ty {
        Ty::Slice(Box::new(t.clone()))
    }

    /// `*T`.
    pub(crate) fn ptr_of(t: &Ty) -> Ty {
        Ty::Ptr(Box::new(t.clone()))
    }
}
