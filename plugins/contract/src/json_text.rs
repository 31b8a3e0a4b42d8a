//! Serde adapter for fields that hold JSON text (`pod-template`, ConfigMaps).
//!
//! Serializes the text as the JSON value it encodes (so YAML/JSON fixtures embed an object rather
//! than an escaped string) and accepts either form when deserializing. Text that is not valid JSON
//! round-trips as a plain string, so nothing is lost; valid JSON is re-emitted compactly.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Serializes JSON text as its value, or as a string when it is not valid JSON.
pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        // A JSON string literal is kept as raw text so it deserializes back unchanged.
        Ok(serde_json::Value::String(_)) | Err(_) => serializer.serialize_str(text),
        Ok(value) => value.serialize(serializer),
    }
}

/// Accepts a string (kept verbatim) or any other value (re-encoded as compact JSON text).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Null => Ok(String::new()),
        value => Ok(value.to_string()),
    }
}
