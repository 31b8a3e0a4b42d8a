//! [`Object`]: one rendered Kubernetes object, their deterministic order, and YAML printing.

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::RenderError;

/// One rendered Kubernetes object: its identity plus the full manifest.
///
/// The manifest always carries `apiVersion`, `kind`, `metadata.name` and `metadata.namespace`,
/// and never owner references (the controller adds those when it applies the object).
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    api_version: String,
    kind: String,
    name: String,
    namespace: String,
    manifest: Value,
}

// === impl Object ===

impl Object {
    /// Builds an object from its identity and the rest of the manifest (`spec`, `data`, ...).
    ///
    /// `metadata` in `body`, if any, is kept; `apiVersion`, `kind`, `metadata.name` and
    /// `metadata.namespace` are set from the arguments.
    pub fn new(
        api_version: impl Into<String>,
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
        body: Value,
    ) -> Self {
        let (api_version, kind, namespace, name) = (
            api_version.into(),
            kind.into(),
            namespace.into(),
            name.into(),
        );
        let mut fields = match strip_nulls(body) {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        fields.insert("apiVersion".into(), Value::String(api_version.clone()));
        fields.insert("kind".into(), Value::String(kind.clone()));
        let metadata = fields
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        if let Value::Object(metadata) = metadata {
            metadata.insert("name".into(), Value::String(name.clone()));
            metadata.insert("namespace".into(), Value::String(namespace.clone()));
            metadata.remove("ownerReferences");
        }
        Self {
            api_version,
            kind,
            name,
            namespace,
            manifest: Value::Object(fields),
        }
    }

    /// Builds an object from a typed `k8s-openapi` resource; `name` and `namespace` win over the
    /// resource's metadata.
    pub fn from_resource<R>(namespace: &str, name: &str, resource: &R) -> Result<Self, RenderError>
    where
        R: k8s_openapi::Resource + Serialize,
    {
        let body = serde_json::to_value(resource).map_err(|e| {
            RenderError::field(
                format!("{}/{name}", R::KIND),
                format!("cannot serialize: {e}"),
            )
        })?;
        Ok(Self::new(R::API_VERSION, R::KIND, namespace, name, body))
    }

    /// `apiVersion` of the object.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// `kind` of the object.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// `metadata.name` of the object.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.namespace` of the object.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The full manifest.
    pub fn manifest(&self) -> &Value {
        &self.manifest
    }

    /// Consumes the object, returning the manifest.
    pub fn into_manifest(self) -> Value {
        self.manifest
    }

    /// Deserializes the manifest into a typed resource (for tests and typed callers).
    pub fn to_typed<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.manifest.clone())
    }

    /// Where the object sorts: by kind rank (see [`kind_rank`]), then kind, then name.
    fn sort_key(&self) -> (usize, &str, &str) {
        (kind_rank(&self.kind), &self.kind, &self.name)
    }
}

/// `value` without `null` object fields, at every level (arrays keep their items).
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Kinds in apply order: identities and configuration first, then what selects or runs pods,
/// then what routes traffic to them. Kinds not listed sort after these, alphabetically.
pub const KIND_ORDER: [&str; 12] = [
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Service",
    "DynamoComponentDeployment",
    "Deployment",
    "LeaderWorkerSet",
    "PodCliqueSet",
    "Ingress",
    "VirtualService",
];

/// Position of `kind` in [`KIND_ORDER`] (the length of the list for other kinds).
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// Sorts objects into the pipeline's deterministic order (stable: kind rank, kind, name).
pub fn sort_objects(objects: &mut [Object]) {
    objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Compares two objects in the pipeline's order.
pub fn compare(a: &Object, b: &Object) -> Ordering {
    a.sort_key().cmp(&b.sort_key())
}

/// A copy of `value` whose object keys are sorted at every level.
///
/// `serde_json` keeps insertion order when some crate in the build enables its
/// `preserve_order` feature; rebuilding each map in sorted order makes the output the same
/// either way.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            let mut sorted = Map::new();
            for key in keys {
                if let Some(v) = fields.get(key) {
                    sorted.insert(key.clone(), canonical(v));
                }
            }
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Prints objects as a multi-document YAML stream (`---` between documents), keys sorted.
///
/// The output is byte-stable: the same objects always print the same text. Every byte comes from
/// the YAML serializer, so no string inside an object (a name, a label, an env value) can start a
/// document of its own.
pub fn to_yaml_stream(objects: &[Object]) -> Result<String, RenderError> {
    let mut out = String::new();
    for (index, object) in objects.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        let text = serde_yaml_ng::to_string(&canonical(&object.manifest)).map_err(|e| {
            RenderError::field(
                format!("{}/{}", object.kind, crate::names::printable(&object.name)),
                format!("cannot be printed as YAML: {e}"),
            )
        })?;
        out.push_str(&text);
    }
    Ok(out)
}
