//! DynamoComponentDeployment: the shared component spec plus `backendFramework`.
//!
//! v1beta1 requires `spec.name`; a v1alpha1 DCD without `serviceName` takes the object's name,
//! and the v1alpha1 payload records (as a `rawJSON` record at path `serviceName`) that it was
//! empty, so the way back empties it again. The v1alpha1-only status field `podSelector`, and a
//! singular `service.componentName` that disagrees with `componentNames`, go to the status payload.

use serde_json::Value;

use crate::error::ConversionError;
use crate::graph::{
    replica_status_down, replica_status_up, restore_replica_status, save_replica_status,
};
use crate::object::{ObjectRef, root};
use crate::payload::{self, DCD_SPEC, DCD_STATUS, EMPTY_SERVICE_NAME, RawRecord};
use crate::shape;
use crate::shared::{self, UpContext};
use crate::value::{self as v, go};

const EPP_PREFIX: &str = "eppConfig/config";

fn apply_epp(spec: &mut Value, records: &[RawRecord]) {
    if let Some(config) = v::get_mut(spec, "eppConfig").and_then(|e| v::get_mut(e, "config")) {
        payload::apply_epp_records(config, EPP_PREFIX, records);
    }
}

// === v1alpha1 -> v1beta1 ===

/// Converts a canonical v1alpha1 DCD to v1beta1.
pub(crate) fn up(src: &Value, _object: &ObjectRef) -> Result<Value, ConversionError> {
    let mut meta = v::get(src, "metadata").cloned().unwrap_or_else(v::obj);
    let object_name = v::text(&meta, "name").to_string();
    let restored = payload::annotation(&meta, DCD_SPEC)
        .filter(|raw| !raw.is_empty())
        .and_then(|raw| payload::read_spec(raw, go::beta_dcd_spec()))
        .map(|(mut spec, records)| {
            apply_epp(&mut spec, &records);
            spec
        });
    let hub_origin = restored.is_some();
    payload::scrub(&mut meta, &[DCD_SPEC, DCD_STATUS]);
    let alpha_spec = v::get(src, "spec").cloned().unwrap_or_else(v::obj);
    let mut spoke_save = v::obj();
    let ctx = UpContext {
        include_origin_splits: !hub_origin,
        template_origin: restored
            .as_ref()
            .is_some_and(|r| v::get(r, "podTemplate").is_some()),
    };
    let mut spec = shared::up(&alpha_spec, restored.as_ref(), Some(&mut spoke_save), ctx);
    v::put_ref(
        &mut spec,
        "backendFramework",
        v::get(&alpha_spec, "backendFramework"),
    );
    if v::text(&spec, "name").is_empty() && !object_name.is_empty() {
        v::put(&mut spec, "name", Some(Value::from(object_name.clone())));
    }
    if restored
        .as_ref()
        .is_some_and(|r| v::text(r, "name").is_empty())
        && v::text(&spec, "name") == object_name
    {
        v::put(&mut spec, "name", None);
    }
    let alpha_status = v::get(src, "status").cloned().unwrap_or_else(v::obj);
    let status_save = save_status_alpha_only(&alpha_status);
    let empty_service_name = v::text(&alpha_spec, "serviceName").is_empty()
        && !object_name.is_empty()
        && v::text(&spec, "name") == object_name;
    let generated_template = !hub_origin && v::get(&spec, "podTemplate").is_some();
    let save_spec = generated_template
        || empty_service_name
        || !shape::sem_zero(Some(&spoke_save), go::alpha_dcd_spec());
    let status = status_up(&alpha_status);
    if save_spec {
        let records: Vec<RawRecord> = if empty_service_name {
            vec![RawRecord {
                path: EMPTY_SERVICE_NAME.into(),
                raw: Vec::new(),
                nil: true,
            }]
        } else {
            Vec::new()
        };
        payload::set_annotation(
            &mut meta,
            DCD_SPEC,
            payload::write_spec(&spoke_save, go::alpha_dcd_spec(), &records),
        );
    }
    if !shape::sem_zero(Some(&status_save), go::alpha_dcd_status()) {
        payload::set_annotation(
            &mut meta,
            DCD_STATUS,
            payload::write_status(&status_save, go::alpha_dcd_status()),
        );
    }
    Ok(root(meta, spec, status))
}

fn save_status_alpha_only(src: &Value) -> Value {
    let mut save = v::obj();
    if v::has_items(src, "podSelector") {
        v::put_ref(&mut save, "podSelector", v::get(src, "podSelector"));
    }
    if let Some(s) = v::get(src, "service").and_then(save_replica_status) {
        v::put(&mut save, "service", Some(s));
    }
    save
}

fn status_common(src: &Value, dst: &mut Value) {
    v::put_ref(dst, "observedGeneration", v::get(src, "observedGeneration"));
    if v::has_items(src, "conditions") {
        v::put_ref(dst, "conditions", v::get(src, "conditions"));
    }
}

fn status_up(src: &Value) -> Value {
    let mut dst = v::obj();
    status_common(src, &mut dst);
    v::put(
        &mut dst,
        "component",
        v::get(src, "service").map(replica_status_up),
    );
    dst
}

fn status_down(src: &Value) -> Value {
    let mut dst = v::obj();
    status_common(src, &mut dst);
    v::put(
        &mut dst,
        "service",
        v::get(src, "component").map(replica_status_down),
    );
    dst
}

// === v1beta1 -> v1alpha1 ===

/// Converts a canonical v1beta1 DCD to v1alpha1.
pub(crate) fn down(src: &Value, object: &ObjectRef) -> Result<Value, ConversionError> {
    let mut meta = v::get(src, "metadata").cloned().unwrap_or_else(v::obj);
    let object_name = v::text(&meta, "name").to_string();
    let spoke_origin = payload::annotation(&meta, DCD_SPEC).is_some()
        || payload::annotation(&meta, DCD_STATUS).is_some();
    let mut empty_service_name = false;
    let restored = payload::annotation(&meta, DCD_SPEC)
        .filter(|raw| !raw.is_empty())
        .and_then(|raw| payload::read_spec(raw, go::alpha_dcd_spec()))
        .map(|(mut spec, records)| {
            empty_service_name = records
                .iter()
                .any(|r| r.path == EMPTY_SERVICE_NAME && r.nil);
            apply_epp(&mut spec, &records);
            spec
        });
    let restored_status = match payload::annotation(&meta, DCD_STATUS) {
        Some(raw) => payload::read_status(raw, go::alpha_dcd_status())
            .map_err(|message| object.payload_error(DCD_STATUS, message))?,
        None => None,
    };
    let beta_spec = v::get(src, "spec").cloned().unwrap_or_else(v::obj);
    let mut hub_save = v::obj();
    let mut spec = shared::down(&beta_spec, restored.as_ref(), Some(&mut hub_save));
    v::put_ref(
        &mut spec,
        "backendFramework",
        v::get(&beta_spec, "backendFramework"),
    );
    let beta_status = v::get(src, "status").cloned().unwrap_or_else(v::obj);
    let mut status = status_down(&beta_status);
    if empty_service_name && v::text(&spec, "serviceName") == object_name {
        v::put(&mut spec, "serviceName", None);
    }
    if let Some(saved) = &restored_status {
        if !v::has_items(&status, "podSelector") && v::has_items(saved, "podSelector") {
            v::put_ref(&mut status, "podSelector", v::get(saved, "podSelector"));
        }
        if let Some(saved_service) = v::get(saved, "service")
            && let Some(service) = v::get_mut(&mut status, "service")
        {
            restore_replica_status(service, saved_service);
        }
    }
    payload::scrub(&mut meta, &[DCD_SPEC, DCD_STATUS]);
    let mut keyless = hub_save.clone();
    v::put(&mut keyless, "name", None);
    let needs_save = !shape::sem_zero(Some(&keyless), go::beta_shared())
        || (v::text(&beta_spec, "name").is_empty() && !object_name.is_empty())
        || (!spoke_origin && v::get(&beta_spec, "podTemplate").is_some());
    if needs_save {
        v::put_ref(&mut hub_save, "name", v::get(&beta_spec, "name"));
        payload::set_annotation(
            &mut meta,
            DCD_SPEC,
            payload::write_spec(&hub_save, go::beta_dcd_spec(), &[]),
        );
    }
    Ok(root(meta, spec, status))
}
