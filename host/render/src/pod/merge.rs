//! Override merge of user-supplied container and pod-spec fields onto generated defaults.
//!
//! The rules follow Dynamo's use of `mergo.Merge(dst, src, WithOverride)`, with the fixes its
//! users asked for:
//! - a field the user leaves empty (absent, `""`, `[]`, `{}`, `false`, `0`) never overrides a
//!   default — so giving `mainContainer.image` alone keeps the default `command` and `args`
//!   (Dynamo issue #2753);
//! - a non-empty scalar or list replaces the default wholesale (`command`, `args`,
//!   `volumeMounts`, ...);
//! - nested objects merge field by field (`resources.limits` keeps default keys the user does
//!   not name);
//! - `env` (and, in a pod spec, `volumes`) merges by `name`: a user entry replaces the default
//!   of the same name, new names are appended;
//! - probes are replaced whole (mixing an `httpGet` default with an `exec` override would give
//!   an invalid probe).

use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::RenderError;

/// Container fields merged by `name`.
const CONTAINER_BY_NAME: [&str; 1] = ["env"];
/// Container fields replaced whole.
const CONTAINER_REPLACED: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];
/// Pod-spec fields merged by `name`.
const POD_BY_NAME: [&str; 1] = ["volumes"];

/// `base` with the non-empty fields of `overrides` merged in. `field` names the override in
/// errors.
pub fn merge_container(
    base: &Container,
    overrides: &Container,
    field: &str,
) -> Result<Container, RenderError> {
    merge_typed(
        base,
        overrides,
        &CONTAINER_BY_NAME,
        &CONTAINER_REPLACED,
        field,
    )
}

/// `base` with the non-empty fields of `overrides` merged in (`containers` included; callers
/// that place containers themselves clear it first). `field` names the override in errors.
pub fn merge_pod_spec(
    base: &PodSpec,
    overrides: &PodSpec,
    field: &str,
) -> Result<PodSpec, RenderError> {
    merge_typed(base, overrides, &POD_BY_NAME, &[], field)
}

fn merge_typed<T: Serialize + DeserializeOwned>(
    base: &T,
    overrides: &T,
    by_name: &[&str],
    replaced: &[&str],
    field: &str,
) -> Result<T, RenderError> {
    let cannot = |e: serde_json::Error| RenderError::field(field, format!("cannot merge: {e}"));
    let mut merged = serde_json::to_value(base).map_err(cannot)?;
    let overrides = serde_json::to_value(overrides).map_err(cannot)?;
    if let (Value::Object(dst), Value::Object(src)) = (&mut merged, &overrides) {
        for (key, value) in src {
            if is_empty(value) {
                continue;
            }
            if by_name.contains(&key.as_str()) {
                let entry = dst
                    .entry(key.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                merge_by_name(entry, value);
            } else if replaced.contains(&key.as_str()) {
                dst.insert(key.clone(), value.clone());
            } else {
                merge_field(dst, key, value);
            }
        }
    }
    serde_json::from_value(merged).map_err(cannot)
}

/// Recursive override merge of one field.
fn merge_field(dst: &mut Map<String, Value>, key: &str, value: &Value) {
    if is_empty(value) {
        return;
    }
    match (dst.get_mut(key), value) {
        (Some(Value::Object(existing)), Value::Object(src)) => {
            for (k, v) in src {
                merge_field(existing, k, v);
            }
        }
        _ => {
            dst.insert(key.to_owned(), value.clone());
        }
    }
}

/// Merges two lists of `{name: ...}` objects: same name replaces, new names append.
fn merge_by_name(dst: &mut Value, src: &Value) {
    let (Value::Array(existing), Value::Array(incoming)) = (dst, src) else {
        return;
    };
    for item in incoming {
        let name = item.get("name");
        match existing
            .iter_mut()
            .find(|e| name.is_some() && e.get("name") == name)
        {
            Some(slot) => *slot = item.clone(),
            None => existing.push(item.clone()),
        }
    }
}

/// Whether `value` counts as "not given" (mergo's empty values).
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
    }
}
