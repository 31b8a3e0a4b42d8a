//! The object around a conversion: who it is (for errors) and how its pieces become a root.

use serde_json::Value;

use crate::error::ConversionError;
use crate::value as v;

// === impl ObjectRef ===

/// How an object is named in errors: `Kind namespace/name (apiVersion)`.
#[derive(Debug, Clone)]
pub(crate) struct ObjectRef {
    text: String,
}

impl ObjectRef {
    /// Names `object` (any JSON) as well as it can be named.
    pub(crate) fn of(object: &Value) -> ObjectRef {
        let kind = v::text(object, "kind");
        let version = v::text(object, "apiVersion");
        let meta = object.get("metadata").cloned().unwrap_or(Value::Null);
        let name = meta.get("name").and_then(Value::as_str).unwrap_or("");
        let ns = meta.get("namespace").and_then(Value::as_str).unwrap_or("");
        let kind = if kind.is_empty() { "object" } else { kind };
        let who = match (ns, name) {
            ("", "") => String::from("<unnamed>"),
            ("", n) => n.to_string(),
            (ns, n) => format!("{ns}/{n}"),
        };
        let text = if version.is_empty() {
            format!("{kind} {who}")
        } else {
            format!("{kind} {who} ({version})")
        };
        ObjectRef { text }
    }

    /// The text naming the object.
    pub(crate) fn text(&self) -> String {
        self.text.clone()
    }

    /// An error about `field` of this object.
    pub(crate) fn field_error(&self, field: &str, message: String) -> ConversionError {
        ConversionError::InvalidField {
            object: self.text(),
            field: field.to_string(),
            message,
        }
    }

    /// An error about an unreadable payload annotation of this object.
    pub(crate) fn payload_error(&self, annotation: &str, message: String) -> ConversionError {
        ConversionError::Payload {
            object: self.text(),
            annotation: annotation.to_string(),
            message,
        }
    }
}

// === roots ===

/// A converted object from its parts; `print` in the crate root names its version and kind.
pub(crate) fn root(meta: Value, spec: Value, status: Value) -> Value {
    let mut out = v::obj();
    v::put(&mut out, "metadata", Some(meta));
    v::put(&mut out, "spec", Some(spec));
    v::put(&mut out, "status", Some(status));
    out
}
