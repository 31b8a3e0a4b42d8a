//! `apiextensions.k8s.io/v1` ConversionReview: request in, response out.

use serde_json::{Value, json};

use crate::convert;
use crate::error::ConversionError;

/// Answers a ConversionReview: every object of `request.objects` converted to
/// `request.desiredAPIVersion`, in order, under the request's `uid`.
///
/// When any object fails, the response is a `Failure` whose message names the object (by index
/// and name) and the field, and carries no converted objects, as the API server expects. A
/// malformed review gets a `Failure` too (with whatever `uid` it had).
pub fn review(review: &Value) -> Value {
    let api_version = review
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("apiextensions.k8s.io/v1");
    let uid = review
        .get("request")
        .and_then(|r| r.get("uid"))
        .cloned()
        .unwrap_or(Value::String(String::new()));
    let response = match answer(review) {
        Ok(objects) => json!({
            "uid": uid,
            "convertedObjects": objects,
            "result": { "status": "Success" },
        }),
        Err(e) => json!({
            "uid": uid,
            "convertedObjects": [],
            "result": { "status": "Failure", "message": e },
        }),
    };
    json!({
        "apiVersion": api_version,
        "kind": "ConversionReview",
        "response": response,
    })
}

fn malformed(field: &str, message: &str) -> String {
    ConversionError::Review {
        field: field.into(),
        message: message.into(),
    }
    .to_string()
}

fn answer(review: &Value) -> Result<Vec<Value>, String> {
    let Some(request) = review.get("request").filter(|r| r.is_object()) else {
        return Err(malformed("request", "missing or not an object"));
    };
    if !request.get("uid").is_some_and(Value::is_string) {
        return Err(malformed("request.uid", "missing or not a string"));
    }
    let Some(to) = request.get("desiredAPIVersion").and_then(Value::as_str) else {
        return Err(malformed(
            "request.desiredAPIVersion",
            "missing or not a string",
        ));
    };
    let objects = match request.get("objects") {
        Some(Value::Array(objects)) => objects.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err(malformed("request.objects", "not a list")),
    };
    objects
        .iter()
        .enumerate()
        .map(|(i, o)| convert(o.clone(), to).map_err(|e| format!("request.objects[{i}]: {e}")))
        .collect()
}
