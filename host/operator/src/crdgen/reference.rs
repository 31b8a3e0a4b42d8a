//! The Markdown field reference of the CRDs (`crdgen --reference`).
//!
//! It walks the `openAPIV3Schema` of the same CRD objects `crdgen` writes as YAML, so the
//! reference cannot say anything the API server does not enforce. Per kind: the names, scope,
//! served versions (which is stored, which are deprecated) and conversion; then per version,
//! newest first, its subresources and printer columns and one table each for `spec` and `status`
//! with every field's path, type, whether it is required, its default and its description (with
//! enum values and validation rules).
//!
//! Kubernetes types embedded in the schemas (a container, a probe, a whole `PodSpec`) are not
//! expanded: they would add thousands of rows the Kubernetes API reference already documents.
//! They are recognised by comparing a schema node with the structural schema of a list of
//! `k8s-openapi` types built by the same pipeline as the CRDs ([`known`]), and named instead
//! (`[]EnvVar (core/v1)`). The comparison ignores validation rules and string-length limits
//! added inside such a type (Dynamo adds some to a component's pod template); those rules are
//! listed in the field's description instead. An object made of all the fields of such a type plus some of its own
//! (`extraPodSpec`: a `PodSpec` and `mainContainer`) lists only its own fields. A depth limit
//! stops any other deep nesting.
//!
//! The output is deterministic: properties are listed in name order and nothing depends on the
//! time or the machine.

use std::fmt::Write as _;

use anyhow::Context as _;
use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde_json::{Map, Value};

/// Command that regenerates `docs/crd-reference.md`.
pub const REFERENCE_COMMAND: &str =
    "cargo run -p dynamo-operator -- crdgen --reference docs/crd-reference.md";

/// Nesting below `spec` or `status` past which fields are not listed.
const MAX_DEPTH: usize = 8;

/// Keys of a schema node that a field may set around an embedded type without changing it.
const FIELD_KEYS: [&str; 3] = ["description", "default", "required"];

/// An embedded type needs at least this many fields to be recognised inside a larger object, so
/// a small type (a reference with only `name`) is never taken for part of an unrelated one.
const MIN_EMBEDDED_FIELDS: usize = 8;

/// A Kubernetes type recognised by its schema.
struct Known {
    /// Type name (`Container`).
    name: &'static str,
    /// API group and version (`core/v1`).
    group: &'static str,
    /// Its structural schema, as the CRD pipeline builds it.
    schema: Map<String, Value>,
}

/// The structural schema of each listed `k8s-openapi` type, tagged with its group/version.
macro_rules! known_types {
    ($($group:literal $module:ident :: $ty:ident),* $(,)?) => {
        vec![$(
            Known::new(
                stringify!($ty),
                $group,
                dynamo_api::schema::structural_schema_for::<$module::$ty>()
                    .with_context(|| concat!("schema of ", stringify!($ty)))?,
            )
        ),*]
    };
}

/// The Kubernetes types the reference names instead of expanding.
///
/// Only types that can appear in the schemas need to be here; a type that is missing is
/// expanded field by field (down to [`MAX_DEPTH`]), which the reference's review shows.
fn known() -> anyhow::Result<Vec<Known>> {
    Ok(known_types![
        "core/v1" core::PodTemplateSpec,
        "batch/v1" batch::JobSpec,
        "core/v1" core::PodSpec,
        "core/v1" core::Container,
        "core/v1" core::EnvVar,
        "core/v1" core::EnvFromSource,
        "core/v1" core::Probe,
        "core/v1" core::ResourceRequirements,
        "core/v1" core::ResourceClaim,
        "core/v1" core::Volume,
        "core/v1" core::VolumeMount,
        "core/v1" core::ConfigMapKeySelector,
        "core/v1" core::SecretKeySelector,
        "core/v1" core::Toleration,
        "core/v1" core::Affinity,
        "core/v1" core::SecurityContext,
        "core/v1" core::PodSecurityContext,
        "core/v1" core::LocalObjectReference,
        "core/v1" core::ObjectReference,
        "core/v1" core::TopologySpreadConstraint,
        "core/v1" core::PersistentVolumeClaimSpec,
        "autoscaling/v2" autoscaling::HorizontalPodAutoscalerBehavior,
        "autoscaling/v2" autoscaling::MetricSpec,
        "meta/v1" meta::Condition,
        "meta/v1" meta::LabelSelector,
        "meta/v1" meta::ObjectMeta,
    ])
}

impl Known {
    fn new(name: &'static str, group: &'static str, mut schema: Value) -> Self {
        dynamo_api::crds::integral_floats_to_integers(&mut schema);
        let schema = match schema {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self {
            name,
            group,
            schema,
        }
    }

    fn properties(&self) -> Option<&Map<String, Value>> {
        self.schema.get("properties").and_then(Value::as_object)
    }

    /// True when `node` is this type, up to what a field may set around it and the rules and
    /// length limits added inside it.
    fn is(&self, node: &Map<String, Value>) -> bool {
        let relevant = |(key, _): &(&String, &Value)| !FIELD_KEYS.contains(&key.as_str());
        node.iter().filter(relevant).count() == self.schema.iter().filter(relevant).count()
            && node
                .iter()
                .filter(relevant)
                .all(|(key, value)| self.schema.get(key).is_some_and(|v| same_type(v, value)))
    }

    /// True when `node` is an object holding every field of this type, unchanged.
    fn embedded_in(&self, node: &Map<String, Value>) -> bool {
        let (Some(mine), Some(theirs)) = (
            self.properties(),
            node.get("properties").and_then(Value::as_object),
        ) else {
            return false;
        };
        mine.len() >= MIN_EMBEDDED_FIELDS
            && mine.len() < theirs.len()
            && mine
                .iter()
                .all(|(key, value)| theirs.get(key) == Some(value))
    }
}

/// Keys a CRD may add inside an embedded Kubernetes type without making it another type.
const ADDED_LIMITS: [&str; 2] = ["x-kubernetes-validations", "maxLength"];

/// Whether two schema values are equal once [`ADDED_LIMITS`] are removed from both.
fn same_type(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = |m: &Map<String, Value>| -> Vec<String> {
                m.keys()
                    .filter(|k| !ADDED_LIMITS.contains(&k.as_str()))
                    .cloned()
                    .collect()
            };
            keys(a) == keys(b)
                && a.iter()
                    .filter(|(k, _)| !ADDED_LIMITS.contains(&k.as_str()))
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_type(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_type(x, y))
        }
        _ => a == b,
    }
}

/// The validation rules inside a node (not its own), as `(relative path, message or rule)`.
fn nested_rules(node: &Map<String, Value>, path: &str, out: &mut Vec<(String, String)>) {
    let visit = |child: &Value, child_path: String, out: &mut Vec<(String, String)>| {
        let Some(child) = child.as_object() else {
            return;
        };
        for rule in child
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let said = rule
                .get("message")
                .or_else(|| rule.get("rule"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            out.push((child_path.clone(), said.to_owned()));
        }
        nested_rules(child, &child_path, out);
    };
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        let mut names: Vec<&String> = properties.keys().collect();
        names.sort();
        for name in names {
            let child_path = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            visit(&properties[name], child_path, out);
        }
    }
    if let Some(items) = node.get("items") {
        visit(items, format!("{path}[]"), out);
    }
    if let Some(values) = node.get("additionalProperties") {
        visit(values, format!("{path}.<name>"), out);
    }
}

/// The reference of every CRD, as one Markdown document.
///
/// # Errors
/// Fails only if a CRD or a known type's schema cannot be built (a bug caught by tests).
pub fn markdown() -> anyhow::Result<String> {
    let known = known()?;
    let crds = dynamo_api::crds::try_all()?;
    let mut out = String::new();
    out.push_str(&format!(
        "<!-- Generated from the CRD schemas (host/api); do not edit. Regenerate with: {REFERENCE_COMMAND} -->\n\n"
    ));
    out.push_str(INTRO);
    out.push_str("\n| Kind | Short name | Versions | What it is |\n|---|---|---|---|\n");
    for crd in &crds {
        let kind = &crd.spec.names.kind;
        let short = crd
            .spec
            .names
            .short_names
            .iter()
            .flatten()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let summary = crd
            .spec
            .versions
            .iter()
            .find(|v| v.storage)
            .and_then(|v| root_schema(v.schema.as_ref()))
            .and_then(|s| {
                s.get("description")
                    .and_then(Value::as_str)
                    .map(first_sentence)
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| [{kind}](#{}) | {short} | {} | {} |",
            kind.to_ascii_lowercase(),
            version_list(crd),
            cell(&summary)
        );
    }
    for crd in &crds {
        out.push('\n');
        kind_section(crd, &known, &mut out)?;
    }
    Ok(out)
}

const INTRO: &str = "# CRD reference

Every field of the seven `nvidia.com` kinds the operator serves, in every version it serves them,
generated from the CustomResourceDefinitions in `crds/` (the same schemas the API server validates
with). DynamoGraphDeployment, DynamoComponentDeployment, DynamoGraphDeploymentScalingAdapter and
DynamoGraphDeploymentRequest are stored as `v1beta1` and still served, deprecated, as `v1alpha1`:
the API server converts between the two through the operator's conversion webhook, so an object
can be read and written in either. The other kinds have only `v1alpha1`.

How to read the tables:

- **Field** is the path from the object's root. `[]` stands for every item of a list (such as a
  component in `spec.components`), `<name>` for every key of a map (such as a service name in
  `spec.services`).
- **Type** is the JSON type, with the item or value type of lists and maps. A field whose type is
  a Kubernetes API type (a container, a probe, an environment variable) names that type and its
  API group instead of listing its fields: see the
  [Kubernetes API reference](https://kubernetes.io/docs/reference/kubernetes-api/) or
  `kubectl explain pod.spec.containers`. `quantity` is a Kubernetes quantity (`8Gi`, `500m`, or
  a plain number).
- **Required** fields must be set whenever their parent object is.
- **Default** is what the API server fills in when the field is left out.
- The description ends with the allowed values and any validation rule the API server enforces.
  The operator's admission webhook checks more, and says which field is wrong (see
  [install.md](install.md#a-write-is-refused-by-the-webhook)); `dynamo-operator render` runs the
  same checks offline.
";

/// The `openAPIV3Schema` of a CRD version, as JSON.
fn root_schema(
    validation: Option<
        &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceValidation,
    >,
) -> Option<Map<String, Value>> {
    let schema = validation?.open_api_v3_schema.as_ref()?;
    let mut schema = serde_json::to_value(schema).ok()?;
    dynamo_api::crds::integral_floats_to_integers(&mut schema);
    match schema {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn kind_section(
    crd: &CustomResourceDefinition,
    known: &[Known],
    out: &mut String,
) -> anyhow::Result<()> {
    let names = &crd.spec.names;
    let _ = writeln!(out, "## {}\n", names.kind);
    let mut name_list = vec![format!("`{}` (plural)", names.plural)];
    name_list.extend(
        names
            .short_names
            .iter()
            .flatten()
            .map(|s| format!("`{s}` (short)")),
    );
    let mut facts = vec![
        format!("**Versions:** {}", version_list(crd)),
        format!("**Scope:** {}", crd.spec.scope),
        format!("**Names:** {}", name_list.join(", ")),
    ];
    if let Some(service) = crd
        .spec
        .conversion
        .as_ref()
        .and_then(|c| c.webhook.as_ref())
        .and_then(|w| w.client_config.as_ref())
        .and_then(|c| c.service.as_ref())
    {
        facts.push(format!(
            "**Conversion:** by the operator's webhook (`{}` on Service `{}/{}` by default)",
            service.path.as_deref().unwrap_or("/"),
            service.namespace,
            service.name
        ));
    }
    for fact in facts {
        let _ = writeln!(out, "- {fact}");
    }
    // Newest (stored) version first: the one to write new manifests in.
    let mut versions: Vec<_> = crd.spec.versions.iter().collect();
    versions.sort_by_key(|v| !v.storage);
    for version in versions {
        let schema = root_schema(version.schema.as_ref())
            .with_context(|| format!("{} {} has no schema", names.kind, version.name))?;
        let _ = writeln!(
            out,
            "\n### {} `{}/{}`\n",
            names.kind, crd.spec.group, version.name
        );
        if let Some(description) = schema.get("description").and_then(Value::as_str) {
            let _ = writeln!(out, "{}\n", text(description));
        }
        let mut facts = Vec::new();
        if let Some(warning) = &version.deprecation_warning {
            facts.push(format!("**Deprecated:** {}", cell(warning)));
        }
        if let Some(sub) = &version.subresources {
            let mut list = Vec::new();
            if sub.status.is_some() {
                list.push("`status`".to_owned());
            }
            if let Some(scale) = &sub.scale {
                let selector = scale
                    .label_selector_path
                    .as_deref()
                    .map(|p| format!(", selector `{p}`"))
                    .unwrap_or_default();
                list.push(format!(
                    "`scale` (desired `{}`, current `{}`{selector}): `kubectl scale` and \
                     HorizontalPodAutoscalers work on it",
                    scale.spec_replicas_path, scale.status_replicas_path
                ));
            }
            if !list.is_empty() {
                facts.push(format!("**Subresources:** {}", list.join("; ")));
            }
        }
        let columns: Vec<String> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| format!("{} (`{}`)", c.name, c.json_path))
            .collect();
        if !columns.is_empty() {
            facts.push(format!("**`kubectl get` columns:** {}", columns.join(", ")));
        }
        for rule in schema
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let said = rule
                .get("message")
                .or_else(|| rule.get("rule"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            facts.push(format!("**Rule:** {}", cell(said)));
        }
        for fact in facts {
            let _ = writeln!(out, "- {fact}");
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for part in ["spec", "status"] {
            let Some(Value::Object(node)) = properties.and_then(|p| p.get(part)) else {
                continue;
            };
            let _ = writeln!(out, "\n#### `{part}` ({})\n", version.name);
            if let Some(description) = node.get("description").and_then(Value::as_str) {
                let _ = writeln!(out, "{}\n", text(description));
            }
            let own = constraints(node);
            if !own.is_empty() {
                let _ = writeln!(out, "{}\n", cell(&own.join(" ")));
            }
            let mut rows = Vec::new();
            fields(node, part, 0, known, &mut rows);
            if rows.is_empty() {
                out.push_str("No fields.\n");
                continue;
            }
            out.push_str("| Field | Type | Required | Default | Description |\n");
            out.push_str("|---|---|---|---|---|\n");
            for row in rows {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    row.path.replace('|', "\\|"),
                    row.ty,
                    if row.required { "yes" } else { "" },
                    row.default,
                    row.description
                );
            }
        }
    }
    Ok(())
}

/// The versions of a CRD as they read in the reference: `` `v1beta1` (stored), `v1alpha1`
/// (deprecated) ``.
fn version_list(crd: &CustomResourceDefinition) -> String {
    let mut versions: Vec<_> = crd.spec.versions.iter().collect();
    versions.sort_by_key(|v| !v.storage);
    versions
        .iter()
        .map(|v| {
            let mut notes = Vec::new();
            if v.storage {
                notes.push("stored");
            }
            if v.deprecated == Some(true) {
                notes.push("deprecated");
            }
            if !v.served {
                notes.push("not served");
            }
            if notes.is_empty() {
                format!("`{}`", v.name)
            } else {
                format!("`{}` ({})", v.name, notes.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of a field table (cells already formatted).
struct Row {
    path: String,
    ty: String,
    required: bool,
    default: String,
    description: String,
}

/// What a schema node is, for the Type column and the walk.
struct Shape<'a> {
    /// The Type cell.
    label: String,
    /// An object whose properties are listed under the field, with the path suffix of its
    /// children (`""`, `"[]"`, `".<name>"`).
    children: Option<(&'a Map<String, Value>, String)>,
    /// A known type whose fields the object holds besides its own.
    embeds: Option<&'a Known>,
    /// Allowed values of the node (or of its items).
    values: Option<&'a Vec<Value>>,
}

fn shape<'a>(node: &'a Map<String, Value>, known: &'a [Known]) -> Shape<'a> {
    let leaf = |label: String| Shape {
        label,
        children: None,
        embeds: None,
        values: node.get("enum").and_then(Value::as_array),
    };
    if let Some(k) = known.iter().find(|k| k.is(node)) {
        return leaf(format!("`{}` ({})", k.name, k.group));
    }
    if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        let quantity = node.get("pattern").and_then(Value::as_str)
            == Some(dynamo_api::schema::QUANTITY_PATTERN)
            || node
                .get("anyOf")
                .and_then(Value::as_array)
                .is_some_and(|branches| {
                    branches.iter().any(|b| {
                        b.get("pattern").and_then(Value::as_str)
                            == Some(dynamo_api::schema::QUANTITY_PATTERN)
                    })
                });
        return leaf(if quantity {
            "`quantity`".to_owned()
        } else {
            "`int` or `string`".to_owned()
        });
    }
    let ty = node.get("type").and_then(Value::as_str).unwrap_or("");
    if node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        && node.get("properties").is_none()
    {
        return leaf(if ty == "object" {
            "`object` (any fields)".to_owned()
        } else {
            "any".to_owned()
        });
    }
    match ty {
        "array" => {
            let Some(items) = node.get("items").and_then(Value::as_object) else {
                return leaf("`array`".to_owned());
            };
            let inner = shape(items, known);
            Shape {
                label: prefix_type("[]", &inner.label),
                children: inner
                    .children
                    .map(|(node, suffix)| (node, format!("[]{suffix}"))),
                embeds: inner.embeds,
                values: inner.values,
            }
        }
        "object" => {
            if let Some(value) = node.get("additionalProperties").and_then(Value::as_object) {
                let inner = shape(value, known);
                return Shape {
                    label: prefix_type("map[string]", &inner.label),
                    children: inner
                        .children
                        .map(|(node, suffix)| (node, format!(".<name>{suffix}"))),
                    embeds: inner.embeds,
                    values: inner.values,
                };
            }
            if node
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty())
            {
                let embeds = known
                    .iter()
                    .filter(|k| k.embedded_in(node))
                    .max_by_key(|k| k.properties().map_or(0, Map::len));
                return Shape {
                    label: "`object`".to_owned(),
                    children: Some((node, String::new())),
                    embeds,
                    values: None,
                };
            }
            leaf("`object`".to_owned())
        }
        "" => leaf("any".to_owned()),
        scalar => {
            let format = node
                .get("format")
                .and_then(Value::as_str)
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            leaf(format!("`{scalar}`{format}"))
        }
    }
}

/// `[]` + `` `string` `` → `` `[]string` ``; keeps a trailing note such as ` (core/v1)`.
fn prefix_type(prefix: &str, label: &str) -> String {
    match label.strip_prefix('`') {
        Some(rest) => format!("`{prefix}{rest}"),
        None => format!("`{prefix}`{label}"),
    }
}

/// Appends a row for every property of `node` (an object), recursively, in name order.
fn fields(
    node: &Map<String, Value>,
    path: &str,
    depth: usize,
    known: &[Known],
    rows: &mut Vec<Row>,
) {
    let Some(properties) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let embedded = known
        .iter()
        .filter(|k| k.embedded_in(node))
        .max_by_key(|k| k.properties().map_or(0, Map::len));
    let mut names: Vec<&String> = properties.keys().collect();
    names.sort();
    for name in names {
        if embedded
            .and_then(Known::properties)
            .is_some_and(|p| p.contains_key(name))
        {
            continue;
        }
        let Some(child) = properties.get(name).and_then(Value::as_object) else {
            continue;
        };
        let child_path = format!("{path}.{name}");
        let mut shape = shape(child, known);
        if depth + 1 >= MAX_DEPTH && shape.children.is_some() {
            shape.label.push_str(" (fields not listed)");
            shape.children = None;
        }
        let mut description = child
            .get("description")
            .and_then(Value::as_str)
            .map(text)
            .unwrap_or_default();
        if let Some(k) = shape.embeds {
            append(
                &mut description,
                &format!(
                    "Also takes every field of `{}` ({}), not listed here.",
                    k.name, k.group
                ),
            );
        }
        if let Some(values) = shape.values {
            let values: Vec<String> = values.iter().map(|v| format!("`{}`", json(v))).collect();
            append(&mut description, &format!("One of {}.", values.join(", ")));
        }
        for rule in constraints(child) {
            append(&mut description, &rule);
        }
        if shape.children.is_none() {
            // The fields are not listed, so neither would the rules inside them be.
            let mut nested = Vec::new();
            nested_rules(child, "", &mut nested);
            for (at, said) in nested {
                append(
                    &mut description,
                    &format!("Rule on `{at}`: {}.", text(&said).trim_end_matches('.')),
                );
            }
        }
        rows.push(Row {
            path: child_path.clone(),
            ty: shape.label.replace('|', "\\|"),
            required: required.contains(&name.as_str()),
            default: child
                .get("default")
                .map(|d| format!("`{}`", json(d).replace('|', "\\|")))
                .unwrap_or_default(),
            description,
        });
        if let Some((inner, suffix)) = shape.children {
            fields(
                inner,
                &format!("{child_path}{suffix}"),
                depth + 1,
                known,
                rows,
            );
        }
    }
}

/// The validation a node adds beyond its type, as short sentences.
fn constraints(node: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let number = |key: &str| node.get(key).map(json);
    // Item constraints of a list of scalars read as the list's own.
    let items = node.get("items").and_then(Value::as_object);
    if let Some(min) = number("minimum") {
        out.push(format!("Minimum `{min}`."));
    }
    if let Some(max) = number("maximum") {
        out.push(format!("Maximum `{max}`."));
    }
    match (number("minLength"), number("maxLength")) {
        (Some(min), Some(max)) => out.push(format!("Length {min} to {max}.")),
        (Some(min), None) if min == "1" => out.push("Not empty.".to_owned()),
        (Some(min), None) => out.push(format!("At least {min} characters.")),
        (None, Some(max)) => out.push(format!("At most {max} characters.")),
        (None, None) => {}
    }
    match (number("minItems"), number("maxItems")) {
        (Some(min), Some(max)) => out.push(format!("{min} to {max} items.")),
        (Some(min), None) if min == "1" => out.push("At least 1 item.".to_owned()),
        (Some(min), None) => out.push(format!("At least {min} items.")),
        (None, Some(max)) => out.push(format!("At most {max} items.")),
        (None, None) => {}
    }
    if let Some(max) = number("maxProperties") {
        out.push(format!("At most {max} entries."));
    }
    let pattern_of = |n: &Map<String, Value>| {
        n.get("pattern")
            .and_then(Value::as_str)
            .filter(|p| *p != dynamo_api::schema::QUANTITY_PATTERN)
            .map(str::to_owned)
    };
    if let Some(pattern) = pattern_of(node) {
        out.push(format!("Pattern `{pattern}`."));
    } else if let Some(pattern) = items.and_then(pattern_of) {
        out.push(format!("Items match `{pattern}`."));
    }
    // A list's or map's own rules, then those on each of its items or values (which have no
    // row of their own).
    let element = items.or_else(|| node.get("additionalProperties").and_then(Value::as_object));
    let own = node
        .get("x-kubernetes-validations")
        .map(|rules| ("Rule", rules));
    let each = element
        .and_then(|e| e.get("x-kubernetes-validations"))
        .map(|rules| ("Rule on each entry", rules));
    for (label, rules) in own.into_iter().chain(each) {
        for rule in rules.as_array().into_iter().flatten() {
            let message = rule.get("message").and_then(Value::as_str);
            let expression = rule.get("rule").and_then(Value::as_str).unwrap_or_default();
            out.push(match message {
                Some(message) => format!("{label}: {}.", text(message).trim_end_matches('.')),
                None => format!("{label}: `{expression}`."),
            });
        }
    }
    out
}

/// Appends a sentence to a description cell.
fn append(description: &mut String, sentence: &str) {
    if !description.is_empty() {
        description.push(' ');
    }
    description.push_str(&cell(sentence));
}

/// A value as it reads in a cell: strings bare (the empty string as `""`), the rest as compact
/// JSON.
fn json(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "\"\"".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first sentence of a description (up to the first `. ` or the end of the first paragraph).
fn first_sentence(description: &str) -> String {
    let paragraph = description.split("\n\n").next().unwrap_or_default();
    let flat = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.find(". ") {
        Some(end) => flat[..=end].to_owned(),
        None => flat,
    }
}

/// A description as one table cell: paragraphs and list items separated by `<br>`, other line
/// breaks joined, Markdown-sensitive characters escaped outside code spans.
fn text(description: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut new_block = true;
    for line in description.lines() {
        let line = line.trim();
        if line.is_empty() {
            new_block = true;
            continue;
        }
        let item = line.starts_with("- ") || line.starts_with("* ");
        match lines.last_mut() {
            Some(last) if !new_block && !item => {
                last.push(' ');
                last.push_str(line);
            }
            _ => lines.push(line.to_owned()),
        }
        new_block = false;
    }
    lines
        .iter()
        .map(|l| cell(l))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Escapes text for a table cell: `|` everywhere; `<`, `>` and `*` outside code spans.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '\n' => out.push(' '),
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '*' if !in_code => out.push_str("\\*"),
            _ => out.push(c),
        }
    }
    out
}
