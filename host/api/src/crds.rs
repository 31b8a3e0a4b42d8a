//! The CustomResourceDefinitions of the seven kinds, and their YAML rendering.
//!
//! The YAML files in the workspace's `crds/` directory are generated from this module.
//! Regenerate them after changing any type with:
//!
//! ```text
//! cargo run -p dynamo-operator -- crdgen
//! ```
//!
//! A test fails when the files are stale.
//!
//! The kinds derive `CustomResource` with `schema = "disabled"`, so `CustomResourceExt::crd()`
//! alone has no schema; the functions here add the structural schema built by
//! [`crate::schema`], plus the root properties (`apiVersion`, `kind`, `metadata`) and the
//! `listKind` name, and assemble the versions of each kind:
//!
//! - DynamoGraphDeployment, DynamoComponentDeployment, DynamoGraphDeploymentScalingAdapter and
//!   DynamoGraphDeploymentRequest are served at `v1alpha1` (deprecated, with Dynamo's warning
//!   text) and `v1beta1` (stored); the API server converts between them through the operator's
//!   conversion webhook ([`conversion_webhook_service`]).
//! - DynamoModel, DynamoCheckpoint and DynamoWorkerMetadata are served and stored at `v1alpha1`
//!   only.
//!
//! A few schema details that Dynamo adds after generating its CRDs are added here the same way
//! (see [`dynamo_component_deployment`] and [`dynamo_graph_deployment`]): the validation rules of
//! a component's pod template, and the standalone component's optional `name` and missing
//! `providerOverride`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceConversion, CustomResourceDefinition, CustomResourceValidation, JSONSchemaProps,
    ServiceReference, WebhookClientConfig, WebhookConversion,
};
use kube::CustomResourceExt;
use schemars::JsonSchema;
use serde_json::{Value, json};

use crate::schema::{SchemaError, check_structural, structural_schema_for};
use crate::{v1alpha1, v1beta1};

/// Command that regenerates the files in `crds/`.
pub const REGENERATE_COMMAND: &str = "cargo run -p dynamo-operator -- crdgen";

/// Namespace of the conversion webhook's Service: where the `dynamo-platform` chart is meant to
/// be installed (its values show `--namespace dynamo-system`; the chart itself has no fixed
/// namespace and puts the Service in the release namespace).
pub const CONVERSION_WEBHOOK_NAMESPACE: &str = "dynamo-system";

/// Name of the conversion webhook's Service: the webhook Service the `dynamo-platform` chart
/// creates for the release name `dynamo-platform` (`<release>-dynamo-operator-webhook`).
pub const CONVERSION_WEBHOOK_SERVICE: &str = "dynamo-platform-dynamo-operator-webhook";

/// HTTP path the operator serves `ConversionReview`s on.
pub const CONVERSION_WEBHOOK_PATH: &str = "/convert";

/// `ConversionReview` versions the conversion webhook understands.
pub const CONVERSION_REVIEW_VERSIONS: [&str; 1] = ["v1"];

/// Why a CRD could not be built or rendered.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// The schema of a kind could not be made structural.
    #[error("schema of {kind}: {source}")]
    Schema {
        /// Kind whose schema failed.
        kind: String,
        /// The underlying failure.
        #[source]
        source: SchemaError,
    },
    /// A schema adjustment names a path the generated schema does not have.
    #[error("schema of {kind} {version}: no property at {path}")]
    MissingPath {
        /// Kind whose schema was adjusted.
        kind: String,
        /// Version whose schema was adjusted.
        version: String,
        /// The path, such as `spec.components[].podTemplate`.
        path: String,
    },
    /// The CRD could not be rendered as YAML.
    #[error("rendering CRD {name} as YAML: {source}")]
    Yaml {
        /// `metadata.name` of the CRD.
        name: String,
        /// The underlying failure.
        #[source]
        source: serde_yaml_ng::Error,
    },
}

/// The Service the API server sends `ConversionReview`s of the multi-version kinds to.
#[must_use]
pub fn conversion_webhook_service() -> ServiceReference {
    ServiceReference {
        namespace: CONVERSION_WEBHOOK_NAMESPACE.to_owned(),
        name: CONVERSION_WEBHOOK_SERVICE.to_owned(),
        path: Some(CONVERSION_WEBHOOK_PATH.to_owned()),
        port: None,
    }
}

/// The warning the API server returns for requests to the deprecated `v1alpha1` of `kind`
/// (Dynamo's text: `nvidia.com/v1alpha1 <Kind> is deprecated; use nvidia.com/v1beta1 <Kind>`).
#[must_use]
pub fn deprecation_warning(kind: &str) -> String {
    format!(
        "{} {kind} is deprecated; use {} {kind}",
        v1alpha1::API_VERSION,
        v1beta1::API_VERSION
    )
}

/// CRD of `DynamoGraphDeployment` (`v1alpha1` and `v1beta1`).
///
/// The `v1beta1` components' pod templates get Dynamo's rules: a sidecar or init container
/// needs an image (the `main` container may leave it to the operator), and the vLLM
/// distributed-executor annotation must be `mp` or `ray`.
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_graph_deployment() -> Result<CustomResourceDefinition, CrdError> {
    let alpha = version::<
        v1alpha1::DynamoGraphDeployment,
        v1alpha1::DynamoGraphDeploymentSpec,
        v1alpha1::DynamoGraphDeploymentStatus,
    >(
        "An inference graph: a set of services (frontend, workers, planner, ...) deployed and \
         updated together. Deprecated: use nvidia.com/v1beta1.",
        |_| Ok(()),
    )?;
    let beta = version::<
        v1beta1::DynamoGraphDeployment,
        v1beta1::DynamoGraphDeploymentSpec,
        v1beta1::DynamoGraphDeploymentStatus,
    >(
        "An inference graph: a set of components (frontend, workers, planner, ...) deployed and \
         updated together.",
        |root| pod_template_rules(root, &["spec", "components", "[]", "podTemplate"]),
    )?;
    Ok(converted(alpha, beta))
}

/// CRD of `DynamoComponentDeployment` (`v1alpha1` and `v1beta1`).
///
/// As in Dynamo's CRD, a standalone component has no `providerOverride` (in both versions), its
/// `v1beta1` `name` is optional (admission fills in `metadata.name`), and its `v1beta1` pod
/// template gets the same rules as a graph component's.
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_component_deployment() -> Result<CustomResourceDefinition, CrdError> {
    let alpha = version::<
        v1alpha1::DynamoComponentDeployment,
        v1alpha1::DynamoComponentDeploymentSpec,
        v1alpha1::DynamoComponentDeploymentStatus,
    >(
        "One service of an inference graph deployed as its own object; normally created and \
         owned by the DynamoGraphDeployment controller. Deprecated: use nvidia.com/v1beta1.",
        |root| remove_property(root, &["spec"], "providerOverride"),
    )?;
    let beta = version::<
        v1beta1::DynamoComponentDeployment,
        v1beta1::DynamoComponentDeploymentSpec,
        v1beta1::DynamoComponentDeploymentStatus,
    >(
        "One component of an inference graph deployed as its own object; normally created and \
         owned by the DynamoGraphDeployment controller.",
        |root| {
            remove_property(root, &["spec"], "providerOverride")?;
            let spec = node(root, &["spec"])?;
            if let Some(Value::Array(required)) = spec.get_mut("required") {
                required.retain(|r| r != "name");
                if required.is_empty()
                    && let Some(obj) = spec.as_object_mut()
                {
                    obj.remove("required");
                }
            }
            pod_template_rules(root, &["spec", "podTemplate"])
        },
    )?;
    Ok(converted(alpha, beta))
}

/// CRD of `DynamoGraphDeploymentScalingAdapter` (`v1alpha1` and `v1beta1`).
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_graph_deployment_scaling_adapter() -> Result<CustomResourceDefinition, CrdError> {
    let alpha = version::<
        v1alpha1::DynamoGraphDeploymentScalingAdapter,
        v1alpha1::DynamoGraphDeploymentScalingAdapterSpec,
        v1alpha1::DynamoGraphDeploymentScalingAdapterStatus,
    >(
        "Scale handle for one service of a DynamoGraphDeployment. Autoscalers (HPA, KEDA, the \
         planner) scale the adapter through its scale subresource and the adapter controller \
         copies the replica count into the graph, so the service has a single writer. \
         Deprecated: use nvidia.com/v1beta1.",
        |_| Ok(()),
    )?;
    let beta = version::<
        v1beta1::DynamoGraphDeploymentScalingAdapter,
        v1beta1::DynamoGraphDeploymentScalingAdapterSpec,
        v1beta1::DynamoGraphDeploymentScalingAdapterStatus,
    >(
        "Scale handle for one component of a DynamoGraphDeployment. Autoscalers (HPA, KEDA, the \
         planner) scale the adapter through its scale subresource and the adapter controller \
         copies the replica count into the graph, so the component has a single writer.",
        |_| Ok(()),
    )?;
    Ok(converted(alpha, beta))
}

/// CRD of `DynamoGraphDeploymentRequest` (`v1alpha1` and `v1beta1`).
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_graph_deployment_request() -> Result<CustomResourceDefinition, CrdError> {
    let alpha = version::<
        v1alpha1::DynamoGraphDeploymentRequest,
        v1alpha1::DynamoGraphDeploymentRequestSpec,
        v1alpha1::DynamoGraphDeploymentRequestStatus,
    >(
        "A request to profile a model and derive (and optionally deploy) an inference graph for \
         it. The spec cannot change once profiling has started. Deprecated: use \
         nvidia.com/v1beta1.",
        |_| Ok(()),
    )?;
    let beta = version::<
        v1beta1::DynamoGraphDeploymentRequest,
        v1beta1::DynamoGraphDeploymentRequestSpec,
        v1beta1::DynamoGraphDeploymentRequestStatus,
    >(
        "A request to profile a model against service-level targets and derive (and by default \
         deploy) an inference graph for it.",
        |_| Ok(()),
    )?;
    Ok(converted(alpha, beta))
}

/// CRD of `DynamoModel` (`v1alpha1` only).
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_model() -> Result<CustomResourceDefinition, CrdError> {
    version::<v1alpha1::DynamoModel, v1alpha1::DynamoModelSpec, v1alpha1::DynamoModelStatus>(
        "A model served by an inference graph (a base model or an adapter such as LoRA), and \
         the endpoints that currently serve it.",
        |_| Ok(()),
    )
}

/// CRD of `DynamoCheckpoint` (`v1alpha1` only). Its `spec.identity` cannot change after
/// creation (a rule on the object, as in Dynamo's CRD).
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_checkpoint() -> Result<CustomResourceDefinition, CrdError> {
    version::<
        v1alpha1::DynamoCheckpoint,
        v1alpha1::DynamoCheckpointSpec,
        v1alpha1::DynamoCheckpointStatus,
    >(
        "A snapshot of a warmed-up engine container that new worker pods restore from instead \
         of starting cold.",
        |root| {
            if let Some(obj) = root.as_object_mut() {
                obj.insert(
                    "x-kubernetes-validations".into(),
                    json!([{
                        "rule": "!has(oldSelf.spec.identity) || self.spec.identity == oldSelf.spec.identity",
                        "message": "spec.identity is immutable after creation",
                    }]),
                );
            }
            Ok(())
        },
    )
}

/// CRD of `DynamoWorkerMetadata` (`v1alpha1` only, no status).
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_worker_metadata() -> Result<CustomResourceDefinition, CrdError> {
    build::<v1alpha1::DynamoWorkerMetadata, v1alpha1::DynamoWorkerMetadataSpec>(
        "Discovery record a Dynamo worker publishes about itself (written by the Dynamo \
         runtime in each worker pod; the operator never reads it).",
        None,
        |_| Ok(()),
    )
}

/// All seven CRDs, in a fixed order (graph, component, scaling adapter, request, model,
/// checkpoint, worker metadata).
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn try_all() -> Result<Vec<CustomResourceDefinition>, CrdError> {
    Ok(vec![
        dynamo_graph_deployment()?,
        dynamo_component_deployment()?,
        dynamo_graph_deployment_scaling_adapter()?,
        dynamo_graph_deployment_request()?,
        dynamo_model()?,
        dynamo_checkpoint()?,
        dynamo_worker_metadata()?,
    ])
}

/// All seven CRDs, in the order of [`try_all`].
///
/// # Panics
/// Panics if a schema is not structural; the crate's tests guarantee it is.
#[must_use]
pub fn all() -> Vec<CustomResourceDefinition> {
    #[allow(clippy::expect_used)]
    try_all().expect("the CRD schemas of dynamo-api are structural (checked by its tests)")
}

/// File name a CRD is stored under, `<group>_<plural>.yaml` (for example
/// `nvidia.com_dynamographdeployments.yaml`).
#[must_use]
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// Renders one CRD as a YAML document (with a leading comment and `---`); deterministic.
///
/// # Errors
/// Fails if YAML serialisation fails, which does not happen for CRDs built by this module.
pub fn to_yaml(crd: &CustomResourceDefinition) -> Result<String, CrdError> {
    let yaml_error = |source| CrdError::Yaml {
        name: crd.metadata.name.clone().unwrap_or_default(),
        source,
    };
    // Through a JSON value so that whole numbers stored as floats (`minimum: 0.0`) print as
    // integers; JSON does not distinguish the two.
    let mut value =
        serde_json::to_value(crd).map_err(|e| yaml_error(serde::ser::Error::custom(e)))?;
    integral_floats_to_integers(&mut value);
    let body = serde_yaml_ng::to_string(&value).map_err(yaml_error)?;
    Ok(format!(
        "# Generated from the dynamo-api crate; do not edit.\n# Regenerate with: {REGENERATE_COMMAND}\n---\n{body}"
    ))
}

/// Rewrites every float with no fractional part (such as `0.0`, as `JSONSchemaProps` stores
/// `minimum`) as an integer, in place, so schemas print and compare as the YAML files show them.
pub fn integral_floats_to_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9_007_199_254_740_992.0
            {
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// Every CRD as `(file name, YAML text)`, in the order of [`try_all`].
///
/// # Errors
/// See [`try_all`] and [`to_yaml`].
pub fn rendered() -> Result<Vec<(String, String)>, CrdError> {
    try_all()?
        .iter()
        .map(|crd| Ok((file_name(crd), to_yaml(crd)?)))
        .collect()
}

/// All CRDs as one multi-document YAML stream.
///
/// # Errors
/// See [`try_all`] and [`to_yaml`].
pub fn multi_document_yaml() -> Result<String, CrdError> {
    Ok(rendered()?
        .into_iter()
        .map(|(_, yaml)| yaml)
        .collect::<Vec<_>>()
        .join(""))
}

/// The single-version CRD of kind `K` with a status subresource (see [`build`]).
fn version<K, Spec, Status>(
    description: &str,
    adjust: impl FnOnce(&mut Value) -> Result<(), PathError>,
) -> Result<CustomResourceDefinition, CrdError>
where
    K: CustomResourceExt + kube::Resource<DynamicType = ()>,
    Spec: JsonSchema,
    Status: JsonSchema,
{
    let kind = K::kind(&()).into_owned();
    let status = structural_schema_for::<Status>().map_err(|source| CrdError::Schema {
        kind: kind.clone(),
        source,
    })?;
    build::<K, Spec>(description, Some(status), adjust)
}

/// A schema adjustment's path that the generated schema lacks (see [`CrdError::MissingPath`]).
struct PathError(String);

/// Builds the single-version CRD of kind `K` from its derive output and the structural schema of
/// its parts; `adjust` edits the object-level schema before it is checked.
fn build<K, Spec>(
    description: &str,
    status: Option<Value>,
    adjust: impl FnOnce(&mut Value) -> Result<(), PathError>,
) -> Result<CustomResourceDefinition, CrdError>
where
    K: CustomResourceExt + kube::Resource<DynamicType = ()>,
    Spec: JsonSchema,
{
    let kind = K::kind(&()).into_owned();
    let version = K::version(&()).into_owned();
    let schema_error = |source| CrdError::Schema {
        kind: kind.clone(),
        source,
    };
    let spec = structural_schema_for::<Spec>().map_err(schema_error)?;
    let api_version = K::api_version(&()).into_owned();
    let mut root = root_schema(description, &api_version, spec, status);
    adjust(&mut root).map_err(|PathError(path)| CrdError::MissingPath {
        kind: kind.clone(),
        version,
        path,
    })?;
    check_structural(&root, "").map_err(schema_error)?;
    let props: JSONSchemaProps =
        serde_json::from_value(root).map_err(|e| schema_error(SchemaError::Convert(e)))?;

    let mut crd = K::crd();
    crd.spec.names.list_kind = Some(format!("{kind}List"));
    for version in &mut crd.spec.versions {
        version.schema = Some(CustomResourceValidation {
            open_api_v3_schema: Some(props.clone()),
        });
    }
    Ok(crd)
}

/// Joins the `v1alpha1` and `v1beta1` CRDs of one kind: both served, `v1beta1` stored,
/// `v1alpha1` deprecated with Dynamo's warning, and webhook conversion between them.
fn converted(
    mut alpha: CustomResourceDefinition,
    beta: CustomResourceDefinition,
) -> CustomResourceDefinition {
    let warning = deprecation_warning(&alpha.spec.names.kind);
    for version in &mut alpha.spec.versions {
        version.served = true;
        version.storage = false;
        version.deprecated = Some(true);
        version.deprecation_warning = Some(warning.clone());
    }
    for mut version in beta.spec.versions {
        version.served = true;
        version.storage = true;
        alpha.spec.versions.push(version);
    }
    alpha.spec.conversion = Some(CustomResourceConversion {
        strategy: "Webhook".to_owned(),
        webhook: Some(WebhookConversion {
            client_config: Some(WebhookClientConfig {
                ca_bundle: None,
                service: Some(conversion_webhook_service()),
                url: None,
            }),
            conversion_review_versions: CONVERSION_REVIEW_VERSIONS
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
        }),
    });
    alpha
}

/// The object-level schema: standard type-meta fields, opaque metadata, spec and status.
fn root_schema(description: &str, api_version: &str, spec: Value, status: Option<Value>) -> Value {
    let mut root = json!({
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": format!("Versioned schema of this object: {api_version} here."),
                "type": "string",
            },
            "kind": {
                "description": "REST resource kind of this object, in CamelCase.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": spec,
        },
    });
    if let (Some(status), Some(Value::Object(properties))) =
        (status, root.pointer_mut("/properties"))
    {
        properties.insert("status".into(), status);
    }
    root
}

/// The schema node at `path` below `root` (`[]`: list items, `{}`: map values, else a property).
fn node<'a>(root: &'a mut Value, path: &[&str]) -> Result<&'a mut Value, PathError> {
    let mut current = root;
    for (i, segment) in path.iter().enumerate() {
        let next = match *segment {
            "[]" => current.get_mut("items"),
            "{}" => current.get_mut("additionalProperties"),
            name => current.get_mut("properties").and_then(|p| p.get_mut(name)),
        };
        current = next.ok_or_else(|| PathError(display_path(&path[..=i])))?;
    }
    Ok(current)
}

/// `["spec", "components", "[]", "podTemplate"]` → `spec.components[].podTemplate`.
fn display_path(path: &[&str]) -> String {
    let mut out = String::new();
    for segment in path {
        if !matches!(*segment, "[]" | "{}") && !out.is_empty() {
            out.push('.');
        }
        out.push_str(segment);
    }
    out
}

/// Removes property `name` of the object schema at `path`.
fn remove_property(root: &mut Value, path: &[&str], name: &str) -> Result<(), PathError> {
    let object = node(root, path)?;
    let removed = object
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .and_then(|p| p.remove(name));
    match removed {
        Some(_) => Ok(()),
        None => Err(PathError(format!("{}.{name}", display_path(path)))),
    }
}

/// Adds Dynamo's validation rules to the pod template schema at `path`: sidecar and init
/// containers must name an image (`main` may leave it to the operator), the vLLM
/// distributed-executor annotation must be `mp` or `ray`, and annotation values are limited to
/// Kubernetes' total annotation size.
fn pod_template_rules(root: &mut Value, path: &[&str]) -> Result<(), PathError> {
    let template = node(root, path)?;
    let mut set = |at: &[&str], key: &str, value: Value| -> Result<(), PathError> {
        match node(template, at)?.as_object_mut() {
            Some(obj) => {
                obj.insert(key.to_owned(), value);
                Ok(())
            }
            None => Err(PathError(display_path(at))),
        }
    };
    set(
        &["spec", "containers", "[]"],
        "x-kubernetes-validations",
        json!([{
            "rule": r#"self.name == "main" || (has(self.image) && self.image != "")"#,
            "message": "sidecar containers must specify a non-empty image",
        }]),
    )?;
    set(
        &["spec", "initContainers", "[]"],
        "x-kubernetes-validations",
        json!([{
            "rule": r#"has(self.image) && self.image != """#,
            "message": "init containers must specify a non-empty image",
        }]),
    )?;
    set(
        &["metadata", "annotations"],
        "x-kubernetes-validations",
        json!([{
            "rule": r#"!("nvidia.com/vllm-distributed-executor-backend" in self) || self["nvidia.com/vllm-distributed-executor-backend"].lowerAscii() in ["mp", "ray"]"#,
            "message": "podTemplate backend annotation must be mp or ray, case-insensitively",
        }]),
    )?;
    set(
        &["metadata", "annotations", "{}"],
        "maxLength",
        json!(MAX_ANNOTATION_VALUE_LENGTH),
    )
}

/// Longest annotation value a pod template may carry: Kubernetes' limit on all annotations of
/// an object together (256 KiB).
const MAX_ANNOTATION_VALUE_LENGTH: u32 = 262_144;
