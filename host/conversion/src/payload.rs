//! The private annotations that carry what one version cannot represent of the other.
//!
//! Spec payloads are an envelope `{"version":1,"spec":{…},"rawJSON":[…]}` around a sparse spec
//! of the *source* version, printed as Go prints that type so the bytes match Dynamo's; a bare
//! spec without the envelope is also accepted when reading. `rawJSON` records carry what JSON
//! cannot hold verbatim: Dynamo uses them for endpoint-picker plugin parameters that are null or
//! not JSON, and for a DCD whose v1alpha1 `serviceName` was empty (path `serviceName`, `nil`).
//! Status payloads are the plain sparse status. DGDR payloads (`nvidia.com/dgdr-spec`,
//! `nvidia.com/dgdr-status`) have the same shapes; their `rawJSON` carries one marker, a nil record
//! at path `autoApply` for a v1beta1 DGDR that left `autoApply` unset (see `request.rs`).

use base64::Engine as _;
use serde_json::Value;

use crate::shape::{self, Ty};
use crate::value as v;

// === annotations ===

/// DGD spec payload annotation.
pub(crate) const DGD_SPEC: &str = "nvidia.com/dgd-spec";
/// DGD status payload annotation.
pub(crate) const DGD_STATUS: &str = "nvidia.com/dgd-status";
/// DCD spec payload annotation.
pub(crate) const DCD_SPEC: &str = "nvidia.com/dcd-spec";
/// DCD status payload annotation.
pub(crate) const DCD_STATUS: &str = "nvidia.com/dcd-status";
/// DGDR spec payload annotation.
pub(crate) const DGDR_SPEC: &str = "nvidia.com/dgdr-spec";
/// DGDR status payload annotation.
pub(crate) const DGDR_STATUS: &str = "nvidia.com/dgdr-status";
/// Prefix of every private DGDR annotation: the two payloads and the retired per-field
/// annotations of Dynamo 1.0/1.1, which are ignored but scrubbed.
pub(crate) const DGDR_PREFIX: &str = "nvidia.com/dgdr-";
/// The `rawJSON` path recording a DCD's empty v1alpha1 `serviceName`.
pub(crate) const EMPTY_SERVICE_NAME: &str = "serviceName";

/// The annotation `key` of an object's (canonical) metadata, if present.
pub(crate) fn annotation<'a>(meta: &'a Value, key: &str) -> Option<&'a str> {
    v::get(meta, "annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// Removes private annotations; an annotation map left empty goes away, as in Dynamo.
pub(crate) fn scrub(meta: &mut Value, keys: &[&str]) {
    let Some(Value::Object(anns)) = meta.get_mut("annotations") else {
        return;
    };
    for k in keys {
        anns.remove(*k);
    }
    if anns.is_empty() {
        v::put(meta, "annotations", None);
    }
}

/// Removes every annotation whose key starts with `prefix`, like [`scrub`].
pub(crate) fn scrub_prefix(meta: &mut Value, prefix: &str) {
    let Some(Value::Object(anns)) = meta.get_mut("annotations") else {
        return;
    };
    anns.retain(|k, _| !k.starts_with(prefix));
    if anns.is_empty() {
        v::put(meta, "annotations", None);
    }
}

/// Sets annotation `key` to `value`.
pub(crate) fn set_annotation(meta: &mut Value, key: &str, value: String) {
    let anns = v::ensure(meta, "annotations");
    v::put(anns, key, Some(Value::String(value)));
}

// === impl RawRecord ===

/// One `rawJSON` record of a spec payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRecord {
    /// Where the value sits (`components/0/eppConfig/config/plugins/1/parameters`).
    pub(crate) path: String,
    /// The raw bytes, when the value was not JSON.
    pub(crate) raw: Vec<u8>,
    /// The value was nil.
    pub(crate) nil: bool,
}

/// Reads a spec payload: the sparse spec (canonical, as `spec_ty`) and its raw records. `None`
/// when the payload cannot be read, which Dynamo treats as no payload at all.
pub(crate) fn read_spec(raw: &str, spec_ty: &Ty) -> Option<(Value, Vec<RawRecord>)> {
    let parsed: Value = serde_json::from_str(raw).ok()?;
    let Value::Object(obj) = &parsed else {
        return None;
    };
    let mut path = Vec::new();
    if !obj.contains_key("spec") {
        let spec = shape::decode(&parsed, spec_ty, &mut path).ok()?;
        return Some((spec.unwrap_or_else(v::obj), Vec::new()));
    }
    if let Some(version) = obj.get("version")
        && !version.is_null()
        && !(version.is_i64() || version.is_u64())
    {
        return None;
    }
    let spec = shape::decode(&obj["spec"], spec_ty, &mut path)
        .ok()?
        .unwrap_or_else(v::obj);
    let mut records = Vec::new();
    match obj.get("rawJSON") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Value::Object(r) = item else {
                    if item.is_null() {
                        records.push(RawRecord {
                            path: String::new(),
                            raw: Vec::new(),
                            nil: false,
                        });
                        continue;
                    }
                    return None;
                };
                let path = match r.get("path") {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(_) => return None,
                };
                let raw = match r.get("raw") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::String(s)) => {
                        base64::engine::general_purpose::STANDARD.decode(s).ok()?
                    }
                    Some(_) => return None,
                };
                let nil = match r.get("nil") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return None,
                };
                records.push(RawRecord { path, raw, nil });
            }
        }
        Some(_) => return None,
    }
    Some((spec, records))
}

/// Prints a spec payload as Dynamo does.
pub(crate) fn write_spec(spec: &Value, spec_ty: &Ty, records: &[RawRecord]) -> String {
    let mut out = String::from("{\"version\":1,\"spec\":");
    shape::encode_text(Some(spec), spec_ty, &mut out);
    if !records.is_empty() {
        out.push_str(",\"rawJSON\":[");
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"path\":");
            shape::go_string(&r.path, &mut out);
            if !r.raw.is_empty() {
                out.push_str(",\"raw\":\"");
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(&r.raw));
                out.push('"');
            }
            if r.nil {
                out.push_str(",\"nil\":true");
            }
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// Reads a status payload (canonical, as `status_ty`); `Err` with the decoder's complaint when it
/// is not readable, which fails the conversion as in Dynamo.
pub(crate) fn read_status(raw: &str, status_ty: &Ty) -> Result<Option<Value>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    let parsed: Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let mut path = Vec::new();
    shape::decode(&parsed, status_ty, &mut path)
        .map(|s| Some(s.unwrap_or_else(v::obj)))
        .map_err(|e| {
            if e.path.is_empty() {
                e.message
            } else {
                format!("{}: {}", e.path, e.message)
            }
        })
}

/// Prints a status payload as Dynamo does.
pub(crate) fn write_status(status: &Value, status_ty: &Ty) -> String {
    let mut out = String::new();
    shape::encode_text(Some(status), status_ty, &mut out);
    out
}

/// Applies endpoint-picker parameter records under `prefix` (`<prefix>/plugins/<j>/parameters`)
/// to an EPP config: nil records clear the parameters, raw records set them when they are JSON.
pub(crate) fn apply_epp_records(config: &mut Value, prefix: &str, records: &[RawRecord]) {
    if records.is_empty() {
        return;
    }
    let Some(Value::Array(plugins)) = config.get_mut("plugins") else {
        return;
    };
    for (j, plugin) in plugins.iter_mut().enumerate() {
        let path = format!("{prefix}/plugins/{j}/parameters");
        // The last record for a path wins, as a Go map keyed by path would have it.
        let Some(record) = records.iter().rev().find(|r| r.path == path) else {
            continue;
        };
        if record.nil {
            v::put(plugin, "parameters", None);
        } else if let Ok(parsed) = serde_json::from_slice::<Value>(&record.raw) {
            v::put(plugin, "parameters", Some(parsed));
        }
    }
}
