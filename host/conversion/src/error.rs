//! Errors of a conversion; each names the object and the field at fault.

use thiserror::Error;

/// Why an object could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConversionError {
    /// The object is not a JSON object.
    #[error("the object to convert is not a JSON object (found {found})")]
    NotAnObject {
        /// What was found instead.
        found: String,
    },
    /// `apiVersion` or `kind` is missing or not a string.
    #[error("{object}: {field} is missing or not a string")]
    MissingTypeField {
        /// The object, as far as it can be named.
        object: String,
        /// `apiVersion` or `kind`.
        field: &'static str,
    },
    /// The object's kind is not one this crate converts.
    #[error(
        "{object}: kind {kind:?} is not convertible (only DynamoGraphDeployment, DynamoComponentDeployment, DynamoGraphDeploymentScalingAdapter and DynamoGraphDeploymentRequest are)"
    )]
    UnknownKind {
        /// The object.
        object: String,
        /// Its kind.
        kind: String,
    },
    /// An apiVersion (of the object or the requested one) is not nvidia.com/v1alpha1 or v1beta1.
    #[error(
        "{object}: {field} {api_version:?} is not served (nvidia.com/v1alpha1 and nvidia.com/v1beta1 are)"
    )]
    UnknownVersion {
        /// The object.
        object: String,
        /// `apiVersion`, or `desiredAPIVersion` for the requested version.
        field: &'static str,
        /// The version found.
        api_version: String,
    },
    /// A field holds a value its type cannot hold.
    #[error("{object}: {field}: {message}")]
    InvalidField {
        /// The object.
        object: String,
        /// Dotted path of the field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A private conversion annotation cannot be read.
    #[error(
        "{object}: metadata.annotations[{annotation:?}]: unreadable conversion payload: {message}"
    )]
    Payload {
        /// The object.
        object: String,
        /// The annotation.
        annotation: String,
        /// What is wrong with it.
        message: String,
    },
    /// A ConversionReview request is malformed.
    #[error("ConversionReview: {field}: {message}")]
    Review {
        /// The field of the review at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}
