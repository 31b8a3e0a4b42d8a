//! Conversion of Dynamo's custom resources between `nvidia.com/v1alpha1` and `nvidia.com/v1beta1`.
//!
//! DynamoGraphDeployment (DGD), DynamoComponentDeployment (DCD) and
//! DynamoGraphDeploymentScalingAdapter (DGDSA) are served at both versions and stored at v1beta1.
//! This crate converts them the way Dynamo 1.5's conversion webhook does, answer for answer: the
//! same field mapping, the same private payload annotations (`nvidia.com/dgd-spec`,
//! `nvidia.com/dgd-status`, `nvidia.com/dcd-spec`, `nvidia.com/dcd-status`) with the same JSON
//! inside, and the same printed shape of the converted object. An object converted here reads the
//! same through Dynamo's webhook and the other way round, and a round trip through the other
//! version gives back what the webhook would have returned for the original.
//!
//! How it stays lossless: metadata is copied; the target's payload annotations left by an
//! earlier trip are read, then removed; fields both versions have are converted from the live
//! source; fields the target cannot hold are written to the source version's sparse payload on
//! the result; and restored payload data only fills target fields the source cannot represent,
//! matched against the live object (list entries by name) so stale data is ignored.
//!
//! DynamoGraphDeploymentRequest (DGDR) is served at both versions and stored at v1beta1 too, and
//! converts here by the same rules (native fields from the live source, the rest in the source
//! version's sparse payload `nvidia.com/dgdr-spec` — same envelope as `nvidia.com/dgd-spec` — or
//! `nvidia.com/dgdr-status`, restored only into fields the source cannot represent; the mapping is
//! documented in `src/request.rs`). **Its wire compatibility with Dynamo is unverified**: Dynamo's
//! DGDR conversion code and Go types were not available, so its Go types are described by hand from
//! the CRD (`shape/dgdr_types.json`) and the payloads follow the DGD ones in shape, the most likely
//! match. A payload Dynamo wrote that does not fit them is read as far as it fits (an unreadable
//! spec payload counts as none, an unreadable status payload is an error, as for DGD). Round trips
//! of our own are lossless both ways, up to [`canonical`] and the scrubbing of every
//! `nvidia.com/dgdr-*` annotation (payloads and Dynamo 1.0/1.1's per-field ones). For DGDR the
//! canonical form is the DGD one applied to those types: unknown fields dropped, `null` and absent
//! alike, zero values of optional non-pointer fields gone (v1alpha1 `autoApply: false` and
//! `useMocker: false`, v1beta1 `backend: ""`; v1beta1 `autoApply`, v1alpha1 `enableGpuDiscovery`
//! and optional numbers are pointers and keep an explicit `false` or `0`), zero values of required
//! ones spelled out (v1alpha1 `model`, `backend`, `profilingConfig.profilerImage`, `status.state`),
//! quantities of `profilingConfig.resources` and condition times canonical, numbers as Go prints
//! them, an empty v1beta1 `status` gone, and free-form JSON (`profilingConfig.config`,
//! `overrides.profilingJob`, `overrides.dgd`, `features.planner`, `generatedDeployment`,
//! `selectedConfig`) kept verbatim.
//!
//! Entry points: [`convert`] for one object, [`review`] for an `apiextensions.k8s.io/v1`
//! ConversionReview, [`convert_typed`] for typed objects, [`canonical`] for the form the webhook
//! prints an object in without converting it. Everything is pure: no IO, no clock.
#![forbid(unsafe_code)]

mod adapter;
mod component;
mod error;
mod graph;
mod object;
mod payload;
mod pod;
mod request;
mod review;
mod shape;
mod shared;
mod value;

use serde_json::Value;

pub use error::ConversionError;
pub use review::review;

use object::ObjectRef;
use shape::Ty;
use value::go;

/// Whether annotation `key` is private to the conversion: one of the payloads it keeps what one
/// version cannot hold of the other in (`nvidia.com/dgd-spec`, `nvidia.com/dcd-status`, ...;
/// every `nvidia.com/dgd-` and `nvidia.com/dgdr-` key is reserved for them, as in Dynamo).
///
/// Such an annotation is not the user's: code outside this crate must not read it, and should
/// not copy it to other objects or hand it to plugins as if it were.
pub fn is_private_annotation(key: &str) -> bool {
    key.starts_with("nvidia.com/dgd-")
        || key.starts_with("nvidia.com/dgdr-")
        || key == payload::DCD_SPEC
        || key == payload::DCD_STATUS
}

/// `nvidia.com/v1alpha1`.
pub const V1ALPHA1: &str = "nvidia.com/v1alpha1";
/// `nvidia.com/v1beta1`, the storage version.
pub const V1BETA1: &str = "nvidia.com/v1beta1";

// === impl Kind ===

/// A convertible kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// DynamoGraphDeployment.
    DynamoGraphDeployment,
    /// DynamoComponentDeployment.
    DynamoComponentDeployment,
    /// DynamoGraphDeploymentScalingAdapter.
    DynamoGraphDeploymentScalingAdapter,
    /// DynamoGraphDeploymentRequest.
    DynamoGraphDeploymentRequest,
}

impl Kind {
    /// Every convertible kind.
    pub const ALL: [Kind; 4] = [
        Kind::DynamoGraphDeployment,
        Kind::DynamoComponentDeployment,
        Kind::DynamoGraphDeploymentScalingAdapter,
        Kind::DynamoGraphDeploymentRequest,
    ];

    /// The kind's name, as in `kind:`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::DynamoGraphDeployment => "DynamoGraphDeployment",
            Kind::DynamoComponentDeployment => "DynamoComponentDeployment",
            Kind::DynamoGraphDeploymentScalingAdapter => "DynamoGraphDeploymentScalingAdapter",
            Kind::DynamoGraphDeploymentRequest => "DynamoGraphDeploymentRequest",
        }
    }

    /// The kind called `name`, if convertible.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn root(self, beta: bool) -> &'static Ty {
        match (self, beta) {
            (Kind::DynamoGraphDeployment, false) => go::alpha_dgd(),
            (Kind::DynamoGraphDeployment, true) => go::beta_dgd(),
            (Kind::DynamoComponentDeployment, false) => go::alpha_dcd(),
            (Kind::DynamoComponentDeployment, true) => go::beta_dcd(),
            (Kind::DynamoGraphDeploymentScalingAdapter, false) => go::alpha_dgdsa(),
            (Kind::DynamoGraphDeploymentScalingAdapter, true) => go::beta_dgdsa(),
            (Kind::DynamoGraphDeploymentRequest, false) => go::alpha_dgdr(),
            (Kind::DynamoGraphDeploymentRequest, true) => go::beta_dgdr(),
        }
    }

    /// Whether Dynamo prints this kind's v1beta1 objects without empty value structs
    /// (`podTemplate.metadata: {}`, `resources: {}`, an empty `status`), as its custom
    /// `MarshalJSON` does (DGD, DCD and DGDR have one).
    fn normalized_at_beta(self) -> bool {
        !matches!(self, Kind::DynamoGraphDeploymentScalingAdapter)
    }
}

/// Which version an `apiVersion` is: `Some(true)` for v1beta1, `Some(false)` for v1alpha1.
fn is_beta(api_version: &str) -> Option<bool> {
    match api_version {
        V1ALPHA1 => Some(false),
        V1BETA1 => Some(true),
        _ => None,
    }
}

struct Typed<'a> {
    object: &'a Value,
    kind: Kind,
    beta: bool,
    who: ObjectRef,
}

fn identify(object: &Value) -> Result<Typed<'_>, ConversionError> {
    let who = ObjectRef::of(object);
    if !object.is_object() {
        let found = match object {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        };
        return Err(ConversionError::NotAnObject {
            found: found.into(),
        });
    }
    let field = |name: &'static str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| ConversionError::MissingTypeField {
                object: who.text(),
                field: name,
            })
    };
    let kind_name = field("kind")?;
    let api_version = field("apiVersion")?;
    let kind = Kind::from_name(kind_name).ok_or_else(|| ConversionError::UnknownKind {
        object: who.text(),
        kind: kind_name.to_string(),
    })?;
    let beta = is_beta(api_version).ok_or_else(|| ConversionError::UnknownVersion {
        object: who.text(),
        field: "apiVersion",
        api_version: api_version.to_string(),
    })?;
    Ok(Typed {
        object,
        kind,
        beta,
        who,
    })
}

fn decode(t: &Typed<'_>) -> Result<Value, ConversionError> {
    let mut path = Vec::new();
    shape::decode(t.object, t.kind.root(t.beta), &mut path)
        .map(|v| v.unwrap_or_else(value::obj))
        .map_err(|e| t.who.field_error(&e.path, e.message))
}

fn print(mut root: Value, kind: Kind, beta: bool) -> Value {
    value::put(
        &mut root,
        "apiVersion",
        Some(Value::from(if beta { V1BETA1 } else { V1ALPHA1 })),
    );
    value::put(&mut root, "kind", Some(Value::from(kind.name())));
    let ty = kind.root(beta);
    let mut out = shape::encode_value(Some(&root), ty);
    if beta && kind.normalized_at_beta() {
        shape::strip_empty_value_structs(&mut out, ty);
    }
    out
}

/// Converts one object to `to_api_version` (`nvidia.com/v1alpha1` or `nvidia.com/v1beta1`).
///
/// The result is what Dynamo 1.5's conversion webhook returns for the object: converted, its
/// payload annotations updated, printed in Go's shape. An object already at `to_api_version` is
/// returned unchanged.
///
/// # Errors
/// When the object is not a DGD, DCD, DGDSA or DGDR at one of the two versions, when
/// `to_api_version` is not one of them, when a field holds a value its type cannot hold, or when a
/// status payload annotation is unreadable (as in Dynamo). Each error names the object and field.
pub fn convert(object: Value, to_api_version: &str) -> Result<Value, ConversionError> {
    let t = identify(&object)?;
    let to_beta = is_beta(to_api_version).ok_or_else(|| ConversionError::UnknownVersion {
        object: t.who.text(),
        field: "desiredAPIVersion",
        api_version: to_api_version.to_string(),
    })?;
    if to_beta == t.beta {
        return Ok(object);
    }
    let src = decode(&t)?;
    let converted = match (t.kind, t.beta) {
        (Kind::DynamoGraphDeployment, false) => graph::up(&src, &t.who)?,
        (Kind::DynamoGraphDeployment, true) => graph::down(&src, &t.who)?,
        (Kind::DynamoComponentDeployment, false) => component::up(&src, &t.who)?,
        (Kind::DynamoComponentDeployment, true) => component::down(&src, &t.who)?,
        (Kind::DynamoGraphDeploymentScalingAdapter, false) => adapter::up(&src, &t.who)?,
        (Kind::DynamoGraphDeploymentScalingAdapter, true) => adapter::down(&src, &t.who)?,
        (Kind::DynamoGraphDeploymentRequest, false) => request::up(&src, &t.who)?,
        (Kind::DynamoGraphDeploymentRequest, true) => request::down(&src, &t.who)?,
    };
    Ok(print(converted, t.kind, to_beta))
}

/// The object as Dynamo's webhook prints it without converting it: decoded into its Go type and
/// encoded again (unknown fields dropped, quantities and times canonical, zero values of fields
/// without `omitempty` spelled out, v1beta1 empty value structs removed).
///
/// A round trip through the other version returns exactly this form of the original.
///
/// # Errors
/// As [`convert`], for an object that is not a convertible kind at a served version or holds a
/// value its type cannot hold.
pub fn canonical(object: &Value) -> Result<Value, ConversionError> {
    let t = identify(object)?;
    let src = decode(&t)?;
    Ok(print(src, t.kind, t.beta))
}

/// Converts a typed object (any serde type shaped like one of the four kinds) to
/// `to_api_version` and reads the result as `T`.
///
/// # Errors
/// As [`convert`], and [`ConversionError::InvalidField`] when the object does not serialise to
/// JSON or the result does not deserialise as `T` (naming the field serde reports).
pub fn convert_typed<S, T>(object: &S, to_api_version: &str) -> Result<T, ConversionError>
where
    S: serde::Serialize,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::to_value(object).map_err(|e| ConversionError::InvalidField {
        object: "object".into(),
        field: "<root>".into(),
        message: format!("cannot be written as JSON: {e}"),
    })?;
    let converted = convert(value, to_api_version)?;
    let who = ObjectRef::of(&converted);
    serde_path_to_error::deserialize(converted).map_err(|e| ConversionError::InvalidField {
        object: who.text(),
        field: e.path().to_string(),
        message: format!(
            "the converted object does not fit the requested type: {}",
            e.inner()
        ),
    })
}

#[cfg(test)]
mod tests;
