//! DynamoGraphDeploymentScalingAdapter: a straight copy but for `dgdRef.serviceName` (v1alpha1)
//! ⇄ `dgdRef.componentName` (v1beta1). No payload is needed either way.

use serde_json::Value;

use crate::error::ConversionError;
use crate::object::{self, ObjectRef};
use crate::value as v;

fn convert(src: &Value, from: &str, to: &str) -> Value {
    let meta = v::get(src, "metadata").cloned().unwrap_or_else(v::obj);
    let spec_src = v::get(src, "spec").cloned().unwrap_or_else(v::obj);
    let mut spec = v::obj();
    v::put_ref(&mut spec, "replicas", v::get(&spec_src, "replicas"));
    let mut dgd_ref = v::obj();
    if let Some(r) = v::get(&spec_src, "dgdRef") {
        v::put_ref(&mut dgd_ref, "name", v::get(r, "name"));
        v::put_ref(&mut dgd_ref, to, v::get(r, from));
    }
    v::put(&mut spec, "dgdRef", Some(dgd_ref));
    let status_src = v::get(src, "status").cloned().unwrap_or_else(v::obj);
    let mut status = v::obj();
    for key in ["replicas", "selector", "lastScaleTime"] {
        v::put_ref(&mut status, key, v::get(&status_src, key));
    }
    object::root(meta, spec, status)
}

/// Converts a canonical v1alpha1 DGDSA to v1beta1.
pub(crate) fn up(src: &Value, _object: &ObjectRef) -> Result<Value, ConversionError> {
    Ok(convert(src, "serviceName", "componentName"))
}

/// Converts a canonical v1beta1 DGDSA to v1alpha1.
pub(crate) fn down(src: &Value, _object: &ObjectRef) -> Result<Value, ConversionError> {
    Ok(convert(src, "componentName", "serviceName"))
}
