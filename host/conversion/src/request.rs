//! DynamoGraphDeploymentRequest (DGDR): the v1alpha1 request (a profiler configuration) ⇄ the
//! v1beta1 request (targets, workload and hardware), which share little beyond the model.
//!
//! Native fields, converted from the live source both ways:
//!
//! | v1alpha1 | v1beta1 |
//! | --- | --- |
//! | `model`, `backend`, `runtimeVersionOverride` | same names |
//! | `profilingConfig.profilerImage` | `image` (both: the profiling Job's image) |
//! | `autoApply` (unset = `false`) | `autoApply` (unset = `true`): always written out going up; an unset v1beta1 value comes down as `true` plus a nil `rawJSON` record at path `autoApply` |
//! | `useMocker` | `features.mocker.enabled` |
//! | status `observedGeneration`, `conditions` | same names |
//!
//! Everything else is one version's only and travels in that version's sparse payload on the
//! other: v1alpha1 `enableGpuDiscovery`, `deploymentOverrides` (`workersImage` included: it
//! names the graph's worker image, not `image`), the rest of `profilingConfig` (`config`,
//! `configMapRef`, `outputPVC`, `resources`, `tolerations`, `nodeSelector`) and status `state`,
//! `backend`, `profilingResults` (a ConfigMap reference), `generatedDeployment`, `deployment`;
//! v1beta1 `searchStrategy`, `sla`, `workload`, `hardware`, `modelCache`, `overrides`,
//! `features.planner`, a present-but-disabled `features.mocker` or empty `features`, and status
//! `phase`, `profilingPhase`, `profilingJobName`, `dgdName`, `profilingResults` (the selected
//! configuration), `deploymentInfo`. Close relatives that do not say the same thing (status
//! `state` ⇄ `phase` have different lifecycles, `deployment.name` ⇄ `dgdName`, the profiling
//! pod's `resources`/`tolerations`/`nodeSelector` ⇄ `overrides.profilingJob`, whose merge rules
//! are the profiler's) are preserved, not mapped.
//!
//! Every `nvidia.com/dgdr-` annotation is private: read (only the two payloads) and removed from
//! the converted object, so the per-field annotations of Dynamo 1.0/1.1 are ignored but scrubbed.

use serde_json::Value;

use crate::error::ConversionError;
use crate::object::{ObjectRef, root};
use crate::payload::{self, DGDR_PREFIX, DGDR_SPEC, DGDR_STATUS, RawRecord};
use crate::shape::{self, Ty};
use crate::value::{self as v, go};

/// The `rawJSON` path recording that a v1beta1 DGDR left `autoApply` unset (its default, `true`).
const UNSET_AUTO_APPLY: &str = "autoApply";

/// Fields of v1alpha1 `spec.profilingConfig` v1beta1 cannot hold (`profilerImage` it can).
const ALPHA_ONLY_PROFILING: [&str; 6] = [
    "config",
    "configMapRef",
    "outputPVC",
    "resources",
    "tolerations",
    "nodeSelector",
];
/// Top-level v1alpha1 spec fields v1beta1 cannot hold.
const ALPHA_ONLY_SPEC: [&str; 2] = ["enableGpuDiscovery", "deploymentOverrides"];
/// v1alpha1 status fields v1beta1 cannot hold.
const ALPHA_ONLY_STATUS: [&str; 5] = [
    "state",
    "backend",
    "profilingResults",
    "generatedDeployment",
    "deployment",
];
/// Top-level v1beta1 spec fields v1alpha1 cannot hold (`features` is handled apart).
const BETA_ONLY_SPEC: [&str; 6] = [
    "searchStrategy",
    "sla",
    "workload",
    "hardware",
    "modelCache",
    "overrides",
];
/// v1beta1 status fields v1alpha1 cannot hold.
const BETA_ONLY_STATUS: [&str; 6] = [
    "phase",
    "profilingPhase",
    "profilingJobName",
    "dgdName",
    "profilingResults",
    "deploymentInfo",
];
/// Status fields both versions have.
const COMMON_STATUS: [&str; 2] = ["observedGeneration", "conditions"];

// === payloads ===

/// The parts of a converted object: metadata (payloads read and scrubbed), the source's spec and
/// status, and the restored sparse spec, its records and the restored sparse status.
struct Parts {
    meta: Value,
    spec: Value,
    status: Value,
    restored_spec: Option<(Value, Vec<RawRecord>)>,
    restored_status: Option<Value>,
}

/// Splits a canonical DGDR whose payloads hold the *target* version (`spec_ty`, `status_ty`).
fn parts(
    src: &Value,
    spec_ty: &Ty,
    status_ty: &Ty,
    object: &ObjectRef,
) -> Result<Parts, ConversionError> {
    let mut meta = v::get(src, "metadata").cloned().unwrap_or_else(v::obj);
    // An unreadable spec payload counts as none, an unreadable status payload fails the
    // conversion: the same policy as the DGD and DCD payloads.
    let restored_spec = payload::annotation(&meta, DGDR_SPEC)
        .filter(|raw| !raw.is_empty())
        .and_then(|raw| payload::read_spec(raw, spec_ty));
    let restored_status = match payload::annotation(&meta, DGDR_STATUS) {
        Some(raw) => payload::read_status(raw, status_ty)
            .map_err(|message| object.payload_error(DGDR_STATUS, message))?,
        None => None,
    };
    payload::scrub_prefix(&mut meta, DGDR_PREFIX);
    Ok(Parts {
        meta,
        spec: v::get(src, "spec").cloned().unwrap_or_else(v::obj),
        status: v::get(src, "status").cloned().unwrap_or_else(v::obj),
        restored_spec,
        restored_status,
    })
}

/// Writes the source version's sparse payloads on the converted object, when they hold anything.
fn save(
    meta: &mut Value,
    spec: &Value,
    records: &[RawRecord],
    status: &Value,
    spec_ty: &Ty,
    status_ty: &Ty,
) {
    if !records.is_empty() || !shape::sem_zero(Some(spec), spec_ty) {
        payload::set_annotation(meta, DGDR_SPEC, payload::write_spec(spec, spec_ty, records));
    }
    if !shape::sem_zero(Some(status), status_ty) {
        payload::set_annotation(meta, DGDR_STATUS, payload::write_status(status, status_ty));
    }
}

/// Copies `keys` of `src` that are set into `dst`.
fn copy(src: &Value, dst: &mut Value, keys: &[&str]) {
    for key in keys {
        if let Some(x) = v::get(src, key) {
            v::put(dst, key, Some(x.clone()));
        }
    }
}

/// Copies the common status fields (an empty condition list is no list, as Go prints it).
fn copy_common_status(src: &Value, dst: &mut Value) {
    copy(src, dst, &COMMON_STATUS);
    if !v::has_items(dst, "conditions") {
        v::put(dst, "conditions", None);
    }
}

// === v1alpha1 -> v1beta1 ===

/// Converts a canonical v1alpha1 DGDR to v1beta1.
pub(crate) fn up(src: &Value, object: &ObjectRef) -> Result<Value, ConversionError> {
    let Parts {
        mut meta,
        spec: alpha,
        status: alpha_status,
        restored_spec,
        restored_status,
    } = parts(src, go::beta_dgdr_spec(), go::beta_dgdr_status(), object)?;
    let (restored, records) = restored_spec.unwrap_or_else(|| (v::obj(), Vec::new()));

    let mut spec = v::obj();
    copy(
        &alpha,
        &mut spec,
        &["model", "backend", "runtimeVersionOverride"],
    );
    let profiling = v::get(&alpha, "profilingConfig")
        .cloned()
        .unwrap_or_else(v::obj);
    copy_as(&profiling, "profilerImage", &mut spec, "image");
    let auto_apply = v::flag(&alpha, "autoApply");
    let was_unset = records.iter().any(|r| r.path == UNSET_AUTO_APPLY && r.nil);
    // v1alpha1 defaults to false and v1beta1 to true, so the value is always spelled out, except
    // when it is still the `true` an unset v1beta1 original came down as.
    if !(auto_apply && was_unset) {
        v::put(&mut spec, "autoApply", Some(Value::Bool(auto_apply)));
    }
    v::put(
        &mut spec,
        "features",
        features_up(v::flag(&alpha, "useMocker"), v::get(&restored, "features")),
    );
    copy(&restored, &mut spec, &BETA_ONLY_SPEC);

    let mut spec_save = v::obj();
    copy(&alpha, &mut spec_save, &ALPHA_ONLY_SPEC);
    let mut profiling_save = v::obj();
    copy(&profiling, &mut profiling_save, &ALPHA_ONLY_PROFILING);
    if !shape::sem_zero(Some(&profiling_save), go::alpha_dgdr_profiling()) {
        v::put(&mut spec_save, "profilingConfig", Some(profiling_save));
    }

    let mut status = v::obj();
    copy_common_status(&alpha_status, &mut status);
    if let Some(saved) = &restored_status {
        copy(saved, &mut status, &BETA_ONLY_STATUS);
    }
    let mut status_save = v::obj();
    copy(&alpha_status, &mut status_save, &ALPHA_ONLY_STATUS);

    save(
        &mut meta,
        &spec_save,
        &[],
        &status_save,
        go::alpha_dgdr_spec(),
        go::alpha_dgdr_status(),
    );
    Ok(root(meta, spec, status))
}

/// Copies `src[from]` to `dst[to]` when set.
fn copy_as(src: &Value, from: &str, dst: &mut Value, to: &str) {
    if let Some(x) = v::get(src, from) {
        v::put(dst, to, Some(x.clone()));
    }
}

/// v1beta1 `features` from v1alpha1 `useMocker` and the saved v1beta1 remainder (the planner, a
/// disabled mocker's presence, an empty `features`): `mocker.enabled` always follows `useMocker`.
fn features_up(use_mocker: bool, saved: Option<&Value>) -> Option<Value> {
    let mut features = saved.cloned();
    if use_mocker {
        let mocker = v::ensure(features.get_or_insert_with(v::obj), "mocker");
        v::put(mocker, "enabled", Some(Value::Bool(true)));
    } else if let Some(mocker) = features.as_mut().and_then(|f| v::get_mut(f, "mocker")) {
        v::put(mocker, "enabled", None);
    }
    features
}

// === v1beta1 -> v1alpha1 ===

/// Converts a canonical v1beta1 DGDR to v1alpha1.
pub(crate) fn down(src: &Value, object: &ObjectRef) -> Result<Value, ConversionError> {
    let Parts {
        mut meta,
        spec: beta,
        status: beta_status,
        restored_spec,
        restored_status,
    } = parts(src, go::alpha_dgdr_spec(), go::alpha_dgdr_status(), object)?;
    let restored = restored_spec.map_or_else(v::obj, |(spec, _)| spec);

    let mut spec = v::obj();
    copy(
        &beta,
        &mut spec,
        &["model", "backend", "runtimeVersionOverride"],
    );
    let mut profiling = v::obj();
    copy_as(&beta, "image", &mut profiling, "profilerImage");
    if let Some(saved) = v::get(&restored, "profilingConfig") {
        copy(saved, &mut profiling, &ALPHA_ONLY_PROFILING);
    }
    v::put(&mut spec, "profilingConfig", Some(profiling));
    let auto_apply = v::get(&beta, "autoApply").and_then(Value::as_bool);
    if auto_apply.unwrap_or(true) {
        v::put(&mut spec, "autoApply", Some(Value::Bool(true)));
    }
    let features = v::get(&beta, "features");
    let use_mocker = features
        .and_then(|f| v::get(f, "mocker"))
        .is_some_and(|m| v::flag(m, "enabled"));
    if use_mocker {
        v::put(&mut spec, "useMocker", Some(Value::Bool(true)));
    }
    copy(&restored, &mut spec, &ALPHA_ONLY_SPEC);

    let mut spec_save = v::obj();
    copy(&beta, &mut spec_save, &BETA_ONLY_SPEC);
    v::put(&mut spec_save, "features", features_save(features));
    let records = if auto_apply.is_none() {
        vec![RawRecord {
            path: UNSET_AUTO_APPLY.into(),
            raw: Vec::new(),
            nil: true,
        }]
    } else {
        Vec::new()
    };

    let mut status = v::obj();
    copy_common_status(&beta_status, &mut status);
    if let Some(saved) = &restored_status {
        copy(saved, &mut status, &ALPHA_ONLY_STATUS);
    }
    let mut status_save = v::obj();
    copy(&beta_status, &mut status_save, &BETA_ONLY_STATUS);

    save(
        &mut meta,
        &spec_save,
        &records,
        &status_save,
        go::beta_dgdr_spec(),
        go::beta_dgdr_status(),
    );
    Ok(root(meta, spec, status))
}

/// What of v1beta1 `features` `useMocker` does not carry: the planner, a mocker that is present
/// but not enabled, `features` present with nothing in it. `None` when `useMocker` says it all.
fn features_save(features: Option<&Value>) -> Option<Value> {
    let features = features?;
    let mut out = features.clone();
    let enabled = v::get(features, "mocker").is_some_and(|m| v::flag(m, "enabled"));
    if enabled {
        v::put(&mut out, "mocker", None);
    } else if v::get(features, "mocker").is_some() {
        v::put(&mut out, "mocker", Some(v::obj()));
    }
    let empty = out.as_object().is_some_and(serde_json::Map::is_empty);
    (!(empty && enabled)).then_some(out)
}

#[cfg(test)]
mod tests;
