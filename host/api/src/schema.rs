//! Structural OpenAPI schemas for the CRDs, built from `schemars` output.
//!
//! The apiserver only accepts *structural* schemas: every node carries a `type` (or is an
//! int-or-string / preserve-unknown-fields node), there are no `$ref`s, and `anyOf`/`oneOf` may not
//! introduce types. `schemars` emits none of that on its own, so [`structural_schema_for`] runs a
//! small pipeline:
//!
//! 1. **Generate with named definitions.** Every struct becomes a `$ref` to a definition named by
//!    its `JsonSchema::schema_name` (k8s-openapi types use their OpenAPI names, such as
//!    `io.k8s.apimachinery.pkg.api.resource.Quantity`). Keeping the names lets step 2 recognise
//!    types whose schema must be spelled a particular way.
//! 2. **Inline** each `$ref`, applying [`definition_fixup`] on the way: Kubernetes quantities and
//!    int-or-strings get the `anyOf: [integer, string]` + `x-kubernetes-int-or-string` form (with
//!    the quantity pattern), `metav1.Condition` gets its validation limits, and Kubernetes types
//!    get the server-side-apply markers (`x-kubernetes-list-type`, `-list-map-keys`, `-map-type`)
//!    and server-side defaults that k8s-openapi's schemas leave out. Sibling keys of a `$ref`
//!    (typically a field's `description`) win over the definition's. Kubernetes types also lose
//!    their `description`s, at every depth ([`KUBERNETES_PREFIX`]): each of the graph kinds
//!    embeds whole pod specs several times, and their upstream prose would make the CRDs too
//!    large for a Helm release (whose Secret holds at most 1 MiB). The descriptions of our own
//!    fields, including a field whose type is a Kubernetes type, are kept.
//! 3. **Normalise** schemars idioms into CRD idioms ([`normalize`]): `null` branches of `Option`s
//!    are dropped (no `nullable`), unit enums become `enum` lists, `true` schemas and flattened
//!    maps become `x-kubernetes-preserve-unknown-fields`, annotations the apiserver does not
//!    know (`title`, `$schema`, `deprecated`, …) are removed, and hard-wrapped doc-comment
//!    paragraphs are joined into single lines.
//! 4. **Check** the result with [`check_structural`], which rejects anything the apiserver would
//!    reject (and any key `JSONSchemaProps` would silently drop).
//!
//! The helpers [`plain_integer`], [`no_default`], [`any_value`], [`preserved_object`],
//! [`embedded_resource`], [`list_set`], [`list_map_by_name`], [`list_map_by_type`] and
//! [`container_name_set`] are `#[schemars(transform = ...)]` hooks for fields whose schema must
//! differ from what their Rust type suggests.
//!
//! Like Kubernetes' own code generator, the pipeline reduces every embedded `ObjectMeta` (the
//! `metadata` of a pod template or a PVC template) to the fields Kubernetes keeps there: names,
//! labels, annotations and finalizers.

use schemars::{JsonSchema, Schema, generate::SchemaSettings};
use serde_json::{Map, Value, json};

/// Pattern every Kubernetes quantity string must match (for example `100Gi`, `1.5`, `250m`).
pub const QUANTITY_PATTERN: &str = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

/// Pattern of a `metav1.Condition` reason (CamelCase, starting with a letter).
pub const CONDITION_REASON_PATTERN: &str = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";

/// Pattern of a `metav1.Condition` type (`CamelCase` or `example.com/CamelCase`).
pub const CONDITION_TYPE_PATTERN: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$";

/// Why a schema could not be turned into a structural CRD schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A `$ref` pointed at a definition the generator did not produce.
    #[error("unknown schema reference `{0}`")]
    UnknownRef(String),
    /// A type refers to itself; CRD schemas cannot express recursion.
    #[error("recursive schema through definition `{0}`; CRD schemas cannot be recursive")]
    Recursive(String),
    /// The final schema breaks a structural-schema rule.
    #[error("schema at `{path}` is not structural: {reason}")]
    NotStructural {
        /// JSON-path-like location of the offending node (`.spec.services{}.replicas`).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The schema could not be converted into the Kubernetes `JSONSchemaProps` type.
    #[error("schema does not fit JSONSchemaProps: {0}")]
    Convert(#[from] serde_json::Error),
}

/// Builds the structural CRD schema of `T` (see the module docs for the pipeline).
///
/// # Errors
/// Fails when the generated schema is recursive, refers to a missing definition, or is not
/// structural after normalisation; all of these are bugs in the Rust types, not in user input.
pub fn structural_schema_for<T: JsonSchema>() -> Result<Value, SchemaError> {
    let settings = SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = false;
        s.meta_schema = None;
        s.transforms.clear();
    });
    let mut generator = settings.into_generator();
    let root = generator.subschema_for::<T>().to_value();
    let definitions = generator.take_definitions(false);
    let mut inliner = Inliner {
        definitions,
        in_progress: Vec::new(),
    };
    let inlined = inliner.inline(root)?;
    let normalized = normalize(inlined)?;
    check_structural(&normalized, "")?;
    Ok(normalized)
}

/// `#[schemars(transform = ...)]` hook: an integer without `format`, like a Go `int` field.
pub fn plain_integer(schema: &mut Schema) {
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("format");
    }
}

/// `#[schemars(transform = ...)]` hook: no `default` in the schema.
///
/// For fields that have a serde default only so that incomplete objects still deserialize,
/// while the apiserver should not fill anything in.
pub fn no_default(schema: &mut Schema) {
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("default");
    }
}

/// `#[schemars(transform = ...)]` hook: any JSON value, kept as-is by the apiserver.
pub fn any_value(schema: &mut Schema) {
    let description = schema
        .as_object()
        .and_then(|o| o.get("description"))
        .cloned();
    *schema = Schema::from(Map::new());
    let obj = schema.ensure_object();
    if let Some(description) = description {
        obj.insert("description".into(), description);
    }
    obj.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
}

/// `#[schemars(transform = ...)]` hook: an object whose fields are kept as they are (`type: object`
/// with `x-kubernetes-preserve-unknown-fields`), for fields Dynamo declares schemaless, such as a
/// pod template only a later step interprets.
pub fn preserved_object(schema: &mut Schema) {
    any_value(schema);
    schema
        .ensure_object()
        .insert("type".into(), "object".into());
}

/// `#[schemars(transform = ...)]` hook: a whole Kubernetes object (with `apiVersion`, `kind` and
/// `metadata`) kept as it is (`x-kubernetes-embedded-resource`), such as a generated graph.
pub fn embedded_resource(schema: &mut Schema) {
    preserved_object(schema);
    schema
        .ensure_object()
        .insert("x-kubernetes-embedded-resource".into(), true.into());
}

/// `#[schemars(transform = ...)]` hook: a list of strings that server-side apply treats as a set
/// (`x-kubernetes-list-type: set`).
pub fn list_set(schema: &mut Schema) {
    schema
        .ensure_object()
        .insert("x-kubernetes-list-type".into(), "set".into());
}

/// `#[schemars(transform = ...)]` hook: a list of objects keyed by their `name`
/// (`x-kubernetes-list-type: map`, `x-kubernetes-list-map-keys: [name]`).
pub fn list_map_by_name(schema: &mut Schema) {
    list_map(schema, "name");
}

/// `#[schemars(transform = ...)]` hook: a list of conditions keyed by their `type`
/// (`x-kubernetes-list-type: map`, `x-kubernetes-list-map-keys: [type]`).
pub fn list_map_by_type(schema: &mut Schema) {
    list_map(schema, "type");
}

fn list_map(schema: &mut Schema, key: &str) {
    let obj = schema.ensure_object();
    obj.insert("x-kubernetes-list-type".into(), "map".into());
    obj.insert("x-kubernetes-list-map-keys".into(), json!([key]));
}

/// Pattern of a DNS-1123 label (a container or pod name): lower-case alphanumerics and `-`.
pub const DNS_LABEL_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// `#[schemars(transform = ...)]` hook: a set of container names (each a DNS-1123 label of 1 to
/// 63 characters).
pub fn container_name_set(schema: &mut Schema) {
    list_set(schema);
    if let Some(Value::Object(items)) = schema.ensure_object().get_mut("items") {
        items.insert("minLength".into(), 1.into());
        items.insert("maxLength".into(), 63.into());
        items.insert("pattern".into(), DNS_LABEL_PATTERN.into());
    }
}

/// The `metadata` of an object embedded in another one (a pod template, a PVC template), as
/// Kubernetes validates it there: only names, labels, annotations and finalizers are kept.
fn embedded_object_meta(definition: &mut Value) {
    const KEPT: [&str; 5] = ["annotations", "finalizers", "labels", "name", "namespace"];
    if let Some(Value::Object(properties)) = definition.get_mut("properties") {
        properties.retain(|name, _| KEPT.contains(&name.as_str()));
        for property in properties.values_mut() {
            if let Some(obj) = property.as_object_mut() {
                // Server-side-apply markers of the full ObjectMeta do not apply to the copy.
                obj.remove("x-kubernetes-list-type");
                obj.remove("x-kubernetes-map-type");
            }
        }
    }
    if let Some(obj) = definition.as_object_mut() {
        obj.remove("required");
    }
}

/// Replaces `$ref`s by the (fixed-up) definitions they name.
struct Inliner {
    definitions: Map<String, Value>,
    in_progress: Vec<String>,
}

impl Inliner {
    fn inline(&mut self, node: Value) -> Result<Value, SchemaError> {
        let Value::Object(mut obj) = node else {
            return Ok(node);
        };
        if let Some(reference) = obj.remove("$ref") {
            let name = reference_name(&reference)?;
            let mut resolved = match self.resolve(&name)? {
                Value::Object(def) => def,
                other => {
                    // A bool schema: siblings cannot be merged into it meaningfully.
                    return if obj.is_empty() {
                        Ok(other)
                    } else {
                        Err(SchemaError::NotStructural {
                            path: name,
                            reason: "boolean definition referenced with sibling keys".into(),
                        })
                    };
                }
            };
            for (key, value) in obj {
                let value = self.inline(value)?;
                resolved.insert(key, value);
            }
            return Ok(Value::Object(resolved));
        }
        let mut out = Map::with_capacity(obj.len());
        for (key, value) in obj {
            let value = match key.as_str() {
                "properties" | "patternProperties" | "definitions" | "$defs" => {
                    self.inline_map_values(value)?
                }
                "items" | "additionalProperties" | "not" => self.inline(value)?,
                "anyOf" | "oneOf" | "allOf" => self.inline_array(value)?,
                // Literal data (defaults, enums, CEL rules) is never a schema.
                _ => value,
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }

    fn inline_map_values(&mut self, value: Value) -> Result<Value, SchemaError> {
        let Value::Object(map) = value else {
            return Ok(value);
        };
        let mut out = Map::with_capacity(map.len());
        for (key, value) in map {
            out.insert(key, self.inline(value)?);
        }
        Ok(Value::Object(out))
    }

    fn inline_array(&mut self, value: Value) -> Result<Value, SchemaError> {
        let Value::Array(items) = value else {
            return Ok(value);
        };
        items
            .into_iter()
            .map(|v| self.inline(v))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }

    fn resolve(&mut self, name: &str) -> Result<Value, SchemaError> {
        if self.in_progress.iter().any(|n| n == name) {
            return Err(SchemaError::Recursive(name.to_owned()));
        }
        let mut definition = self
            .definitions
            .get(name)
            .cloned()
            .ok_or_else(|| SchemaError::UnknownRef(name.to_owned()))?;
        definition_fixup(name, &mut definition);
        self.in_progress.push(name.to_owned());
        let inlined = self.inline(definition);
        self.in_progress.pop();
        inlined
    }
}

/// Extracts the definition name from a `#/definitions/<name>` reference.
fn reference_name(reference: &Value) -> Result<String, SchemaError> {
    let text = reference.as_str().unwrap_or_default();
    let Some(encoded) = text.strip_prefix("#/definitions/") else {
        return Err(SchemaError::UnknownRef(text.to_owned()));
    };
    // JSON-pointer unescaping; schema names in this crate never need percent-encoding.
    Ok(encoded.replace("~1", "/").replace("~0", "~"))
}

/// Kubernetes structs that server-side apply treats as one atomic value
/// (`x-kubernetes-map-type: atomic`), as the apiserver's own OpenAPI marks them.
const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.api.core.v1.ConfigMapEnvSource",
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.ConfigMapProjection",
    "io.k8s.api.core.v1.ConfigMapVolumeSource",
    "io.k8s.api.core.v1.FileKeySelector",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.SecretEnvSource",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.SecretProjection",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
];

/// Map-valued properties that server-side apply replaces as a whole: (definition, property).
const ATOMIC_MAPS: &[(&str, &str)] = &[("io.k8s.api.core.v1.PodSpec", "nodeSelector")];

/// List properties that server-side apply merges by key: (definition, property, keys).
const LIST_MAPS: &[(&str, &str, &[&str])] = &[
    ("io.k8s.api.core.v1.PodSpec", "containers", &["name"]),
    (
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        &["name"],
    ),
    ("io.k8s.api.core.v1.PodSpec", "hostAliases", &["ip"]),
    ("io.k8s.api.core.v1.PodSpec", "imagePullSecrets", &["name"]),
    ("io.k8s.api.core.v1.PodSpec", "initContainers", &["name"]),
    ("io.k8s.api.core.v1.PodSpec", "resourceClaims", &["name"]),
    ("io.k8s.api.core.v1.PodSpec", "schedulingGates", &["name"]),
    (
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        &["topologyKey", "whenUnsatisfiable"],
    ),
    ("io.k8s.api.core.v1.PodSpec", "volumes", &["name"]),
    ("io.k8s.api.core.v1.Container", "env", &["name"]),
    (
        "io.k8s.api.core.v1.Container",
        "ports",
        &["containerPort", "protocol"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        &["devicePath"],
    ),
    (
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        &["mountPath"],
    ),
    ("io.k8s.api.core.v1.EphemeralContainer", "env", &["name"]),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "ports",
        &["containerPort", "protocol"],
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeDevices",
        &["devicePath"],
    ),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        &["mountPath"],
    ),
    (
        "io.k8s.api.core.v1.ResourceRequirements",
        "claims",
        &["name"],
    ),
];

/// List properties that are sets: (definition, property).
const LIST_SETS: &[(&str, &str)] = &[
    (
        "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
        "values",
    ),
    (
        "io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes",
        "values",
    ),
];

/// A literal default value.
#[derive(Clone, Copy)]
enum Literal {
    Str(&'static str),
    Bool(bool),
}

/// Optional properties the apiserver fills in with a default: (definition, property, default).
///
/// k8s-openapi turns some of these into required fields (the selector `name`s); they are made
/// optional again, as the upstream OpenAPI documents them.
const PROPERTY_DEFAULTS: &[(&str, &str, Literal)] = &[
    (
        "io.k8s.api.core.v1.AzureDiskVolumeSource",
        "fsType",
        Literal::Str("ext4"),
    ),
    (
        "io.k8s.api.core.v1.AzureDiskVolumeSource",
        "readOnly",
        Literal::Bool(false),
    ),
    (
        "io.k8s.api.core.v1.ConfigMapEnvSource",
        "name",
        Literal::Str(""),
    ),
    (
        "io.k8s.api.core.v1.ConfigMapKeySelector",
        "name",
        Literal::Str(""),
    ),
    (
        "io.k8s.api.core.v1.ConfigMapProjection",
        "name",
        Literal::Str(""),
    ),
    (
        "io.k8s.api.core.v1.ConfigMapVolumeSource",
        "name",
        Literal::Str(""),
    ),
    (
        "io.k8s.api.core.v1.ContainerPort",
        "protocol",
        Literal::Str("TCP"),
    ),
    (
        "io.k8s.api.core.v1.FileKeySelector",
        "optional",
        Literal::Bool(false),
    ),
    ("io.k8s.api.core.v1.GRPCAction", "service", Literal::Str("")),
    (
        "io.k8s.api.core.v1.ISCSIVolumeSource",
        "iscsiInterface",
        Literal::Str("default"),
    ),
    (
        "io.k8s.api.core.v1.LocalObjectReference",
        "name",
        Literal::Str(""),
    ),
    (
        "io.k8s.api.core.v1.RBDVolumeSource",
        "keyring",
        Literal::Str("/etc/ceph/keyring"),
    ),
    (
        "io.k8s.api.core.v1.RBDVolumeSource",
        "pool",
        Literal::Str("rbd"),
    ),
    (
        "io.k8s.api.core.v1.RBDVolumeSource",
        "user",
        Literal::Str("admin"),
    ),
    (
        "io.k8s.api.core.v1.ScaleIOVolumeSource",
        "fsType",
        Literal::Str("xfs"),
    ),
    (
        "io.k8s.api.core.v1.ScaleIOVolumeSource",
        "storageMode",
        Literal::Str("ThinProvisioned"),
    ),
    (
        "io.k8s.api.core.v1.SecretEnvSource",
        "name",
        Literal::Str(""),
    ),
    (
        "io.k8s.api.core.v1.SecretKeySelector",
        "name",
        Literal::Str(""),
    ),
    (
        "io.k8s.api.core.v1.SecretProjection",
        "name",
        Literal::Str(""),
    ),
];

/// Per-definition adjustments, keyed by the definition's schema name.
///
/// This is where knowledge about how Kubernetes spells its own types in CRDs lives: the
/// int-or-string forms, `metav1.Condition` limits, server-side-apply merge markers and
/// server-side defaults. Everything here mirrors the apiserver's published OpenAPI for these
/// types, except that their descriptions are dropped (see the module docs). Hand-written schemas that embed a Kubernetes type without a `$ref` (such as
/// [`crate::shared::ExtraPodSpec`]) call this themselves.
pub fn definition_fixup(name: &str, definition: &mut Value) {
    if name.starts_with(KUBERNETES_PREFIX) {
        strip_descriptions(definition);
    }
    match name {
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => {
            *definition = json!({
                "anyOf": [{"type": "integer"}, {"type": "string"}],
                "pattern": QUANTITY_PATTERN,
                "x-kubernetes-int-or-string": true,
            });
            return;
        }
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => {
            *definition = json!({
                "anyOf": [{"type": "integer"}, {"type": "string"}],
                "x-kubernetes-int-or-string": true,
            });
            return;
        }
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" => {
            embedded_object_meta(definition);
            return;
        }
        "io.k8s.apimachinery.pkg.apis.meta.v1.Condition" => {
            let limits = [
                ("message", json!({"maxLength": 32768})),
                ("observedGeneration", json!({"minimum": 0})),
                (
                    "reason",
                    json!({"maxLength": 1024, "minLength": 1, "pattern": CONDITION_REASON_PATTERN}),
                ),
                ("status", json!({"enum": ["True", "False", "Unknown"]})),
                (
                    "type",
                    json!({"maxLength": 316, "pattern": CONDITION_TYPE_PATTERN}),
                ),
            ];
            for (property, extra) in limits {
                extend_property(definition, property, extra);
            }
        }
        _ => {}
    }
    if ATOMIC_STRUCTS.contains(&name)
        && let Some(obj) = definition.as_object_mut()
    {
        obj.insert("x-kubernetes-map-type".into(), "atomic".into());
    }
    for (_, property) in ATOMIC_MAPS.iter().filter(|(d, _)| *d == name) {
        extend_property(
            definition,
            property,
            json!({"x-kubernetes-map-type": "atomic"}),
        );
    }
    for (_, property, keys) in LIST_MAPS.iter().filter(|(d, _, _)| *d == name) {
        extend_property(
            definition,
            property,
            json!({"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": keys}),
        );
    }
    for (_, property) in LIST_SETS.iter().filter(|(d, _)| *d == name) {
        extend_property(
            definition,
            property,
            json!({"x-kubernetes-list-type": "set"}),
        );
    }
    for (_, property, default) in PROPERTY_DEFAULTS.iter().filter(|(d, _, _)| *d == name) {
        let default = match *default {
            Literal::Str(s) => Value::from(s),
            Literal::Bool(b) => Value::from(b),
        };
        make_optional_with_default(definition, property, default);
    }
}

/// Prefix of the schema names of the Kubernetes types k8s-openapi provides (their OpenAPI
/// names, such as `io.k8s.api.core.v1.PodSpec`): the types whose descriptions are left out.
pub const KUBERNETES_PREFIX: &str = "io.k8s.";

/// Removes the `description` of `schema` and of every schema below it (properties, items, map
/// values, branches), leaving literal data (defaults, enums, validation rules) and properties
/// that happen to be named `description` alone.
pub fn strip_descriptions(schema: &mut Value) {
    let Value::Object(obj) = schema else {
        return;
    };
    if obj.get("description").is_some_and(Value::is_string) {
        obj.remove("description");
    }
    for (key, value) in obj.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "definitions" | "$defs" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(strip_descriptions);
                }
            }
            "items" | "additionalProperties" | "not" => strip_descriptions(value),
            "anyOf" | "oneOf" | "allOf" => {
                if let Value::Array(branches) = value {
                    branches.iter_mut().for_each(strip_descriptions);
                }
            }
            _ => {}
        }
    }
}

/// Adds the keys of `extra` to the schema of `property` (when the property exists).
fn extend_property(definition: &mut Value, property: &str, extra: Value) {
    if let (Some(Value::Object(prop)), Value::Object(extra)) = (
        definition.pointer_mut(&format!("/properties/{property}")),
        extra,
    ) {
        prop.extend(extra);
    }
}

/// Removes `property` from `required` and gives it a `default` instead.
fn make_optional_with_default(definition: &mut Value, property: &str, default: Value) {
    if let Some(Value::Array(required)) = definition.get_mut("required") {
        required.retain(|r| r != property);
        if required.is_empty()
            && let Some(obj) = definition.as_object_mut()
        {
            obj.remove("required");
        }
    }
    if let Some(Value::Object(prop)) = definition.pointer_mut(&format!("/properties/{property}")) {
        prop.insert("default".into(), default);
    }
}

/// Keys that only annotate a schema and that CRDs do not support.
const DROPPED_KEYS: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "examples",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "nullable",
    "definitions",
    "$defs",
];

/// Rewrites schemars idioms into CRD idioms, bottom-up (see the module docs, step 3).
///
/// # Errors
/// Fails on a `false` schema, which no CRD can express.
pub fn normalize(node: Value) -> Result<Value, SchemaError> {
    let mut obj = match node {
        Value::Bool(true) => {
            return Ok(json!({"x-kubernetes-preserve-unknown-fields": true}));
        }
        Value::Bool(false) => {
            return Err(SchemaError::NotStructural {
                path: String::new(),
                reason: "`false` schema".into(),
            });
        }
        Value::Object(obj) => obj,
        other => return Ok(other),
    };

    for key in DROPPED_KEYS {
        obj.remove(*key);
    }

    // Children first.
    if let Some(Value::Object(props)) = obj.remove("properties") {
        let mut out = Map::with_capacity(props.len());
        for (name, schema) in props {
            out.insert(name, normalize(schema)?);
        }
        obj.insert("properties".into(), Value::Object(out));
    }
    if let Some(items) = obj.remove("items") {
        obj.insert("items".into(), normalize(items)?);
    }
    match obj.remove("additionalProperties") {
        Some(Value::Bool(true)) => {
            obj.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
        }
        Some(Value::Bool(false)) | None => {}
        Some(schema) => {
            obj.insert("additionalProperties".into(), normalize(schema)?);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = obj.remove(key) {
            let branches = branches
                .into_iter()
                .filter(|b| !is_null_schema(b))
                .map(normalize)
                .collect::<Result<Vec<_>, _>>()?;
            obj.insert(key.into(), Value::Array(branches));
        }
    }

    // `type: [T, "null"]` → `type: T`.
    if let Some(Value::Array(types)) = obj.get("type") {
        let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        match types.len() {
            0 => {
                obj.remove("type");
            }
            1 => {
                obj.insert("type".into(), types[0].clone());
            }
            _ => {
                obj.insert("type".into(), Value::Array(types));
            }
        }
    }
    if let Some(constant) = obj.remove("const") {
        obj.insert("enum".into(), Value::Array(vec![constant]));
    }
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if obj.get("default").is_some_and(Value::is_null) {
        obj.remove("default");
    }
    if let Some(Value::String(description)) = obj.get_mut("description") {
        *description = unwrap_paragraphs(description);
    }
    if matches!(
        obj.get("format").and_then(Value::as_str),
        Some("double" | "float")
    ) {
        obj.remove("format");
    }

    for key in ["anyOf", "oneOf", "allOf"] {
        collapse_branches(&mut obj, key);
    }
    if let Some(Value::Array(required)) = obj.get_mut("required") {
        required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        required.dedup();
    }

    Ok(Value::Object(obj))
}

/// Joins the hard-wrapped lines of each paragraph of a doc comment into one line, so that
/// `kubectl explain` can wrap the text itself. Blank lines, indented lines and list items
/// (`- `, `* `) keep their line breaks.
fn unwrap_paragraphs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<&str> = None;
    for line in text.split('\n') {
        if let Some(previous) = previous {
            let is_item = |l: &str| ["- ", "* "].iter().any(|m| l.trim_start().starts_with(m));
            let indented = line.starts_with([' ', '\t']);
            let keep_break = previous.trim().is_empty()
                || line.trim().is_empty()
                || indented
                || is_item(line)
                || is_item(previous);
            if keep_break {
                out.push('\n');
                out.push_str(line);
            } else {
                out.push(' ');
                out.push_str(line.trim_start());
            }
        } else {
            out.push_str(line);
        }
        previous = Some(line);
    }
    out
}

/// Whether `schema` only admits `null` (the extra branch schemars adds for `Option<T>`).
fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").is_some_and(|t| t == "null")
        || schema.get("const").is_some_and(Value::is_null)
        || schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.iter().all(Value::is_null))
}

/// Simplifies `anyOf`/`oneOf`/`allOf` that schemars uses for options, enums and flattening.
fn collapse_branches(obj: &mut Map<String, Value>, key: &str) {
    let Some(Value::Array(branches)) = obj.get(key) else {
        return;
    };
    let branches = branches.clone();
    if branches.is_empty() {
        obj.remove(key);
        return;
    }
    // A single remaining branch (for example `Option<Struct>` minus its null branch) merges
    // into the node; the node's own keys (field description, default) take precedence.
    if branches.len() == 1 || key == "allOf" {
        obj.remove(key);
        for branch in branches {
            if let Value::Object(branch) = branch {
                merge_under(obj, branch);
            }
        }
        return;
    }
    // A unit enum whose variants carry docs: `oneOf: [{const: A}, {const: B}]` → `enum: [A, B]`.
    let mut values = Vec::new();
    for branch in &branches {
        let Some(enum_values) = branch.get("enum").and_then(Value::as_array) else {
            return;
        };
        if !branch.get("type").is_none_or(|t| t == "string") {
            return;
        }
        values.extend(enum_values.iter().cloned());
    }
    obj.remove(key);
    obj.insert("type".into(), "string".into());
    obj.insert("enum".into(), Value::Array(values));
}

/// Adds the keys of `branch` that `obj` does not set itself (merging `properties`/`required`).
fn merge_under(obj: &mut Map<String, Value>, branch: Map<String, Value>) {
    for (key, value) in branch {
        match (key.as_str(), obj.get_mut(&key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (k, v) in theirs {
                    mine.entry(k).or_insert(v);
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for r in theirs {
                    if !mine.contains(&r) {
                        mine.push(r);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                obj.insert(key, value);
            }
        }
    }
}

/// Keys a structural CRD schema node may carry.
const ALLOWED_KEYS: &[&str] = &[
    "type",
    "format",
    "description",
    "default",
    "enum",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "anyOf",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];

/// Checks the structural-schema rules the apiserver enforces on a CRD schema.
///
/// `path` is the location of `schema` (use `""` for the root); it only shapes error messages.
///
/// # Errors
/// Returns the first violation found, with its path.
pub fn check_structural(schema: &Value, path: &str) -> Result<(), SchemaError> {
    let fail = |reason: String| {
        Err(SchemaError::NotStructural {
            path: if path.is_empty() {
                ".".into()
            } else {
                path.into()
            },
            reason,
        })
    };
    let Value::Object(obj) = schema else {
        return fail("schema is not an object".into());
    };
    if let Some(key) = obj.keys().find(|k| !ALLOWED_KEYS.contains(&k.as_str())) {
        return fail(format!("unsupported keyword `{key}`"));
    }
    let flag = |key: &str| obj.get(key).is_some_and(|v| v == true);
    let int_or_string = flag("x-kubernetes-int-or-string");
    let preserve = flag("x-kubernetes-preserve-unknown-fields");
    let ty = obj.get("type");
    match ty {
        None if int_or_string || preserve => {}
        None => return fail("missing `type`".into()),
        Some(Value::String(t))
            if ["object", "array", "string", "integer", "number", "boolean"]
                .contains(&t.as_str()) => {}
        Some(other) => return fail(format!("invalid `type` {other}")),
    }
    if let Some(any_of) = obj.get("anyOf") {
        let int_or_string_form = json!([{"type": "integer"}, {"type": "string"}]);
        if !int_or_string || *any_of != int_or_string_form {
            return fail("`anyOf` is only allowed as the int-or-string pattern".into());
        }
    }
    if int_or_string && ty.is_some() {
        return fail("int-or-string node must not declare a `type`".into());
    }
    if obj.contains_key("properties") && obj.contains_key("additionalProperties") {
        return fail("both `properties` and `additionalProperties`".into());
    }
    if ty.is_some_and(|t| t == "array") && !obj.contains_key("items") {
        return fail("array without `items`".into());
    }
    if let Some(Value::Array(required)) = obj.get("required") {
        let props = obj.get("properties").and_then(Value::as_object);
        for r in required {
            let declared = r
                .as_str()
                .is_some_and(|r| props.is_some_and(|p| p.contains_key(r)));
            if !declared {
                return fail(format!("required property {r} is not declared"));
            }
        }
    }
    if obj
        .get("x-kubernetes-list-type")
        .is_some_and(|t| t == "map")
    {
        let keys = obj
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if keys.is_empty() {
            return fail("list-type map without list-map-keys".into());
        }
        let items = obj.get("items").cloned().unwrap_or(Value::Null);
        for key in keys {
            let key = key.as_str().unwrap_or_default();
            let required = items
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|r| r == key));
            let defaulted = items
                .pointer(&format!("/properties/{key}/default"))
                .is_some();
            if !required && !defaulted {
                return fail(format!(
                    "list-map key `{key}` is neither required nor defaulted"
                ));
            }
        }
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        for (name, child) in props {
            check_structural(child, &format!("{path}.{name}"))?;
        }
    }
    if let Some(items) = obj.get("items") {
        check_structural(items, &format!("{path}[]"))?;
    }
    if let Some(additional) = obj.get("additionalProperties") {
        check_structural(additional, &format!("{path}{{}}"))?;
    }
    Ok(())
}
