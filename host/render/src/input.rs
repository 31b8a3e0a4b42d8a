//! Reading graphs and components of either served version: `v1alpha1` is converted to the
//! `v1beta1` hub the pipeline works on, as the API server's conversion webhook would.

use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment};
use dynamo_conversion::{ConversionError, V1BETA1};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::RenderError;

/// `object` (a DynamoGraphDeployment at `nvidia.com/v1alpha1` or `v1beta1`) as the hub type.
///
/// # Errors
/// An unknown `apiVersion`, a graph the conversion refuses, or one that does not fit the
/// `v1beta1` type, naming the field.
pub fn graph(object: Value) -> Result<DynamoGraphDeployment, RenderError> {
    to_hub(object)
}

/// `object` (a DynamoComponentDeployment at `nvidia.com/v1alpha1` or `v1beta1`) as the hub
/// type.
///
/// # Errors
/// As [`graph`].
pub fn component(object: Value) -> Result<DynamoComponentDeployment, RenderError> {
    to_hub(object)
}

/// A conversion error as a render error naming the field at fault.
pub fn conversion_error(error: ConversionError) -> RenderError {
    match error {
        ConversionError::InvalidField { field, message, .. } => RenderError::field(field, message),
        ConversionError::Payload {
            annotation,
            message,
            ..
        } => RenderError::field(
            format!("metadata.annotations[{annotation}]"),
            format!("unreadable conversion payload: {message}"),
        ),
        ConversionError::MissingTypeField { field, .. } => {
            RenderError::field(field, "is missing or not a string")
        }
        other => RenderError::field("apiVersion", other.to_string()),
    }
}

fn to_hub<T: DeserializeOwned>(object: Value) -> Result<T, RenderError> {
    let converting = object.get("apiVersion").and_then(Value::as_str) != Some(V1BETA1);
    let mut converted = dynamo_conversion::convert(object, V1BETA1).map_err(conversion_error)?;
    // The conversion prints an empty `v1beta1` spec (a graph without services) by leaving it
    // out; the object still has one, which the pipeline then judges (no components).
    if converting
        && let Some(fields) = converted.as_object_mut()
        && fields.get("spec").is_none_or(Value::is_null)
    {
        fields.insert("spec".to_owned(), Value::Object(serde_json::Map::new()));
    }
    serde_path_to_error::deserialize(converted).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "spec".to_owned() } else { path };
        RenderError::field(field, e.inner().to_string())
    })
}

#[cfg(test)]
mod tests;
