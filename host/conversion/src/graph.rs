//! DynamoGraphDeployment: v1alpha1's `services` map ⇄ v1beta1's `components` list.
//!
//! The map key is the component's name. v1beta1 lists keep their order only when it is not
//! already sorted (the v1alpha1 payload records it); v1alpha1 `services` entries that are `null`
//! have no v1beta1 counterpart and are kept in the v1beta1 payload, as is a `serviceName` that
//! disagrees with its key. Status keeps its shape under new names (`services` → `components`,
//! `updatedServices` → `updatedComponents`); the deprecated singular `componentName` of a
//! service status is derived from `componentNames` unless it disagreed, which the status payload
//! records.

use serde_json::{Map, Value};

use crate::error::ConversionError;
use crate::object::{ObjectRef, root};
use crate::payload::{self, DGD_SPEC, DGD_STATUS};
use crate::shape;
use crate::shared::{self, UpContext};
use crate::value::{self as v, go};

// === v1alpha1 -> v1beta1 ===

/// Converts a canonical v1alpha1 DGD to v1beta1.
pub(crate) fn up(src: &Value, _object: &ObjectRef) -> Result<Value, ConversionError> {
    let mut meta = v::get(src, "metadata").cloned().unwrap_or_else(v::obj);
    let restored = payload::annotation(&meta, DGD_SPEC)
        .filter(|raw| !raw.is_empty())
        .and_then(|raw| payload::read_spec(raw, go::beta_dgd_spec()))
        .map(|(mut spec, records)| {
            if let Some(Value::Array(components)) = spec.get_mut("components") {
                for (i, c) in components.iter_mut().enumerate() {
                    if let Some(config) =
                        v::get_mut(c, "eppConfig").and_then(|e| v::get_mut(e, "config"))
                    {
                        payload::apply_epp_records(
                            config,
                            &format!("components/{i}/eppConfig/config"),
                            &records,
                        );
                    }
                }
            }
            spec
        });
    payload::scrub(&mut meta, &[DGD_SPEC, DGD_STATUS]);
    let ctx = UpContext {
        include_origin_splits: restored.is_none(),
        template_origin: false,
    };
    let alpha_spec = v::get(src, "spec").cloned().unwrap_or_else(v::obj);
    let mut spec_save = v::obj();
    let spec = spec_up(&alpha_spec, restored.as_ref(), &mut spec_save, ctx);
    let alpha_status = v::get(src, "status").cloned().unwrap_or_else(v::obj);
    let status_save = save_status_alpha_only(&alpha_status);
    let status = status_up(&alpha_status);
    if !shape::sem_zero(Some(&spec_save), go::alpha_dgd_spec()) {
        payload::set_annotation(
            &mut meta,
            DGD_SPEC,
            payload::write_spec(&spec_save, go::alpha_dgd_spec(), &[]),
        );
    }
    if !shape::sem_zero(Some(&status_save), go::alpha_dgd_status()) {
        payload::set_annotation(
            &mut meta,
            DGD_STATUS,
            payload::write_status(&status_save, go::alpha_dgd_status()),
        );
    }
    Ok(root(meta, spec, status))
}

fn copy_common_spec(src: &Value, dst: &mut Value) {
    for key in [
        "annotations",
        "labels",
        "priorityClassName",
        "backendFramework",
        "providerOverride",
        "restart",
    ] {
        v::put_ref(dst, key, v::get(src, key));
    }
    if let Some(exp) = v::get(src, "experimental") {
        let mut out = v::obj();
        v::put_ref(
            &mut out,
            "kvTransferPolicy",
            v::get(exp, "kvTransferPolicy"),
        );
        v::put(dst, "experimental", Some(out));
    }
}

fn spec_up(src: &Value, restored: Option<&Value>, save: &mut Value, ctx: UpContext) -> Value {
    let mut dst = v::obj();
    copy_common_spec(src, &mut dst);
    if let Some(tc) = v::get(src, "topologyConstraint") {
        let mut out = v::obj();
        v::put_ref(
            &mut out,
            "clusterTopologyName",
            v::get(tc, "topologyProfile"),
        );
        v::put_ref(&mut out, "packDomain", v::get(tc, "packDomain"));
        v::put(&mut dst, "topologyConstraint", Some(out));
    }
    v::put_ref(&mut dst, "env", v::get(src, "envs"));
    if v::has_items(src, "pvcs") {
        v::put_ref(save, "pvcs", v::get(src, "pvcs"));
    }
    let restored_components = restored.map(|r| v::items(r, "components")).unwrap_or(&[]);
    let Some(Value::Object(services)) = v::get(src, "services") else {
        return dst;
    };
    if services.is_empty() {
        return dst;
    }
    let mut components = Vec::with_capacity(services.len());
    for name in emission_order(services, restored_components) {
        let comp = &services[&name];
        if comp.is_null() {
            v::ensure(save, "services")
                .as_object_mut()
                .map(|m| m.insert(name.clone(), Value::Null));
            continue;
        }
        let restored_comp = restored_components
            .iter()
            .rev()
            .find(|c| v::text(c, "name") == name);
        let comp_ctx = UpContext {
            include_origin_splits: ctx.include_origin_splits,
            template_origin: restored_comp.is_some_and(|c| v::get(c, "podTemplate").is_some()),
        };
        let mut comp_save = v::obj();
        let mut out = shared::up(comp, restored_comp, Some(&mut comp_save), comp_ctx);
        v::put(
            &mut out,
            "name",
            (!name.is_empty()).then(|| Value::from(name.clone())),
        );
        let service_name = v::text(comp, "serviceName");
        if !service_name.is_empty() && service_name != name {
            v::put(
                &mut comp_save,
                "serviceName",
                Some(Value::from(service_name)),
            );
        }
        if !shape::sem_zero(Some(&comp_save), go::alpha_shared()) {
            v::ensure(save, "services")
                .as_object_mut()
                .map(|m| m.insert(name.clone(), comp_save));
        }
        components.push(out);
    }
    if !components.is_empty() {
        v::put(&mut dst, "components", Some(Value::Array(components)));
    }
    dst
}

/// Component order: sorted by name, unless the v1beta1 original was not sorted, in which case
/// its order first and any new names after, sorted.
fn emission_order(services: &Map<String, Value>, restored: &[Value]) -> Vec<String> {
    let mut sorted: Vec<String> = services.keys().cloned().collect();
    sorted.sort();
    if !order_needs_preservation(restored) {
        return sorted;
    }
    let mut out = Vec::with_capacity(sorted.len());
    for c in restored {
        let name = v::text(c, "name");
        if services.contains_key(name) && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    for name in sorted {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn order_needs_preservation(components: &[Value]) -> bool {
    components
        .windows(2)
        .any(|w| v::text(&w[0], "name") > v::text(&w[1], "name"))
}

fn component_names_up(svc: &Value) -> Option<Value> {
    if v::has_items(svc, "componentNames") {
        return v::get(svc, "componentNames").cloned();
    }
    let name = v::text(svc, "componentName");
    if !name.is_empty() {
        return Some(Value::Array(vec![Value::from(name)]));
    }
    v::get(svc, "componentNames").cloned()
}

/// Whether the singular `componentName` says something `componentNames` does not.
fn component_name_needs_preservation(svc: &Value) -> bool {
    let names = v::items(svc, "componentNames");
    let name = v::text(svc, "componentName");
    match names.last() {
        None => !name.is_empty(),
        Some(last) => last.as_str().unwrap_or("") != name,
    }
}

/// A service/component replica status, v1alpha1 to v1beta1.
pub(crate) fn replica_status_up(svc: &Value) -> Value {
    let mut out = svc.clone();
    v::put(&mut out, "componentName", None);
    v::put(&mut out, "componentNames", component_names_up(svc));
    out
}

/// A component/service replica status, v1beta1 to v1alpha1.
pub(crate) fn replica_status_down(c: &Value) -> Value {
    let mut out = c.clone();
    let last = v::items(c, "componentNames").last().cloned();
    v::put(
        &mut out,
        "componentName",
        last.filter(|l| l.as_str() != Some("")),
    );
    out
}

/// What of a v1alpha1 replica status the v1beta1 one cannot hold.
pub(crate) fn save_replica_status(svc: &Value) -> Option<Value> {
    if !component_name_needs_preservation(svc) {
        return None;
    }
    let mut out = v::obj();
    v::put_ref(&mut out, "componentName", v::get(svc, "componentName"));
    v::put_ref(&mut out, "componentNames", v::get(svc, "componentNames"));
    Some(out)
}

/// Puts a saved singular `componentName` back when the live names are still what it projected to.
pub(crate) fn restore_replica_status(dst: &mut Value, saved: &Value) {
    if !component_name_needs_preservation(saved) {
        return;
    }
    let projected: Vec<Value> = component_names_up(saved)
        .and_then(|n| n.as_array().cloned())
        .unwrap_or_default();
    let live = v::items(dst, "componentNames");
    let matches = live == projected.as_slice()
        || (!v::text(saved, "componentName").is_empty()
            && !v::has_items(saved, "componentNames")
            && live.is_empty());
    if matches {
        v::put_ref(dst, "componentName", v::get(saved, "componentName"));
        v::put_ref(dst, "componentNames", v::get(saved, "componentNames"));
    }
}

fn save_status_alpha_only(src: &Value) -> Value {
    let mut save = v::obj();
    if let Some(Value::Object(services)) = v::get(src, "services") {
        for (name, svc) in services {
            if let Some(s) = save_replica_status(svc) {
                v::ensure(&mut save, "services")
                    .as_object_mut()
                    .map(|m| m.insert(name.clone(), s));
            }
        }
    }
    save
}

fn map_entries(src: &Value, key: &str, f: impl Fn(&Value) -> Value) -> Option<Value> {
    match v::get(src, key) {
        Some(Value::Object(m)) if !m.is_empty() => Some(Value::Object(
            m.iter().map(|(k, x)| (k.clone(), f(x))).collect(),
        )),
        _ => None,
    }
}

fn status_common(src: &Value, dst: &mut Value) {
    for key in ["observedGeneration", "state", "placement", "restart"] {
        v::put_ref(dst, key, v::get(src, key));
    }
    if v::has_items(src, "conditions") {
        v::put_ref(dst, "conditions", v::get(src, "conditions"));
    }
    v::put(
        dst,
        "checkpoints",
        map_entries(src, "checkpoints", Clone::clone),
    );
}

fn status_up(src: &Value) -> Value {
    let mut dst = v::obj();
    status_common(src, &mut dst);
    v::put(
        &mut dst,
        "components",
        map_entries(src, "services", replica_status_up),
    );
    if let Some(ru) = v::get(src, "rollingUpdate") {
        let mut out = ru.clone();
        v::put(&mut out, "updatedServices", None);
        v::put_ref(&mut out, "updatedComponents", v::get(ru, "updatedServices"));
        v::put(&mut dst, "rollingUpdate", Some(out));
    }
    dst
}

fn status_down(src: &Value) -> Value {
    let mut dst = v::obj();
    status_common(src, &mut dst);
    v::put(
        &mut dst,
        "services",
        map_entries(src, "components", replica_status_down),
    );
    if let Some(ru) = v::get(src, "rollingUpdate") {
        let mut out = ru.clone();
        v::put(&mut out, "updatedComponents", None);
        v::put_ref(&mut out, "updatedServices", v::get(ru, "updatedComponents"));
        v::put(&mut dst, "rollingUpdate", Some(out));
    }
    dst
}

// === v1beta1 -> v1alpha1 ===

/// Converts a canonical v1beta1 DGD to v1alpha1.
pub(crate) fn down(src: &Value, object: &ObjectRef) -> Result<Value, ConversionError> {
    let mut meta = v::get(src, "metadata").cloned().unwrap_or_else(v::obj);
    let spoke_origin = payload::annotation(&meta, DGD_SPEC).is_some()
        || payload::annotation(&meta, DGD_STATUS).is_some();
    let restored_spec = payload::annotation(&meta, DGD_SPEC)
        .filter(|raw| !raw.is_empty())
        .and_then(|raw| payload::read_spec(raw, go::alpha_dgd_spec()))
        .map(|(mut spec, records)| {
            if let Some(Value::Object(services)) = spec.get_mut("services") {
                for (name, svc) in services.iter_mut() {
                    if let Some(config) =
                        v::get_mut(svc, "eppConfig").and_then(|e| v::get_mut(e, "config"))
                    {
                        payload::apply_epp_records(
                            config,
                            &format!("services/{name}/eppConfig/config"),
                            &records,
                        );
                    }
                }
            }
            spec
        });
    let restored_status = match payload::annotation(&meta, DGD_STATUS) {
        Some(raw) => payload::read_status(raw, go::alpha_dgd_status())
            .map_err(|message| object.payload_error(DGD_STATUS, message))?,
        None => None,
    };
    payload::scrub(&mut meta, &[DGD_SPEC, DGD_STATUS]);
    let beta_spec = v::get(src, "spec").cloned().unwrap_or_else(v::obj);
    let mut hub_save = v::obj();
    let mut spec = spec_down(
        &beta_spec,
        restored_spec.as_ref(),
        &mut hub_save,
        !spoke_origin,
        object,
    )?;
    let beta_status = v::get(src, "status").cloned().unwrap_or_else(v::obj);
    let mut status = status_down(&beta_status);
    if let Some(saved) = &restored_spec {
        restore_spec_alpha_only(&mut spec, saved);
    }
    if let Some(saved) = &restored_status
        && let Some(Value::Object(saved_services)) = v::get(saved, "services")
        && let Some(Value::Object(services)) = status.get_mut("services")
    {
        for (name, svc) in services.iter_mut() {
            if let Some(s) = saved_services.get(name) {
                restore_replica_status(svc, s);
            }
        }
    }
    if !shape::sem_zero(Some(&hub_save), go::beta_dgd_spec()) {
        payload::set_annotation(
            &mut meta,
            DGD_SPEC,
            payload::write_spec(&hub_save, go::beta_dgd_spec(), &[]),
        );
    }
    Ok(root(meta, spec, status))
}

fn spec_down(
    src: &Value,
    restored: Option<&Value>,
    save: &mut Value,
    save_hub_origin: bool,
    object: &ObjectRef,
) -> Result<Value, ConversionError> {
    let mut dst = v::obj();
    copy_common_spec(src, &mut dst);
    if let Some(tc) = v::get(src, "topologyConstraint") {
        let mut out = v::obj();
        v::put_ref(
            &mut out,
            "topologyProfile",
            v::get(tc, "clusterTopologyName"),
        );
        v::put_ref(&mut out, "packDomain", v::get(tc, "packDomain"));
        v::put(&mut dst, "topologyConstraint", Some(out));
    }
    v::put_ref(&mut dst, "envs", v::get(src, "env"));
    let components = v::items(src, "components");
    if components.is_empty() {
        return Ok(dst);
    }
    let preserve_order = order_needs_preservation(components);
    let mut services = Map::new();
    let mut saved_components = Vec::new();
    for (i, comp) in components.iter().enumerate() {
        let name = v::text(comp, "name").to_string();
        if services.contains_key(&name) {
            return Err(object.field_error(
                &format!("spec.components[{i}].name"),
                format!("duplicate component name {name:?} in spec.components"),
            ));
        }
        let preserved = restored
            .and_then(|r| v::get(r, "services"))
            .and_then(|s| v::get(s, &name));
        let mut comp_save = v::obj();
        let mut out = shared::down(comp, preserved, Some(&mut comp_save));
        v::put(&mut out, "serviceName", None);
        services.insert(name.clone(), out);
        let mut keyless = comp_save.clone();
        v::put(&mut keyless, "name", None);
        let save_needed = preserve_order
            || !shape::sem_zero(Some(&keyless), go::beta_shared())
            || (save_hub_origin && v::get(comp, "podTemplate").is_some());
        if save_needed {
            v::put(
                &mut comp_save,
                "name",
                (!name.is_empty()).then(|| Value::from(name.clone())),
            );
            saved_components.push(comp_save);
        }
    }
    v::put(&mut dst, "services", Some(Value::Object(services)));
    if !saved_components.is_empty() {
        v::put(save, "components", Some(Value::Array(saved_components)));
    }
    Ok(dst)
}

fn restore_spec_alpha_only(dst: &mut Value, saved: &Value) {
    if !v::has_items(dst, "pvcs") {
        v::put_ref(dst, "pvcs", v::get(saved, "pvcs"));
    }
    let Some(Value::Object(saved_services)) = v::get(saved, "services") else {
        return;
    };
    for (name, comp) in saved_services {
        if comp.is_null() {
            let services = v::ensure(dst, "services");
            if services.get(name).is_none() {
                v::put(services, name, Some(Value::Null));
            }
        }
    }
    if let Some(Value::Object(services)) = dst.get_mut("services") {
        for (name, comp) in services.iter_mut() {
            if comp.is_null() {
                continue;
            }
            let Some(saved_comp) = saved_services.get(name).filter(|c| !c.is_null()) else {
                continue;
            };
            let saved_name = v::text(saved_comp, "serviceName");
            if v::text(comp, "serviceName").is_empty()
                && !saved_name.is_empty()
                && saved_name != name
            {
                v::put(comp, "serviceName", Some(Value::from(saved_name)));
            }
        }
    }
}
