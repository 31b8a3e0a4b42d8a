//! The CustomResourceDefinitions of the four kinds, and their YAML rendering.
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
//! `listKind` name.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceValidation, JSONSchemaProps,
};
use kube::CustomResourceExt;
use schemars::JsonSchema;
use serde_json::{Value, json};

use crate::component::DynamoComponentDeploymentStatus;
use crate::component::{DynamoComponentDeployment, DynamoComponentDeploymentSpec};
use crate::graph::{DynamoGraphDeployment, DynamoGraphDeploymentSpec, DynamoGraphDeploymentStatus};
use crate::model::{DynamoModel, DynamoModelSpec, DynamoModelStatus};
use crate::scaling_adapter::{
    DynamoGraphDeploymentScalingAdapter, DynamoGraphDeploymentScalingAdapterSpec,
    DynamoGraphDeploymentScalingAdapterStatus,
};
use crate::schema::{SchemaError, check_structural, structural_schema_for};

/// Command that regenerates the files in `crds/`.
pub const REGENERATE_COMMAND: &str = "cargo run -p dynamo-operator -- crdgen";

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

/// CRD of `DynamoGraphDeployment`.
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_graph_deployment() -> Result<CustomResourceDefinition, CrdError> {
    build::<DynamoGraphDeployment, DynamoGraphDeploymentSpec, DynamoGraphDeploymentStatus>(
        "An inference graph: a set of services (frontend, workers, planner, ...) deployed and \
         updated together.",
    )
}

/// CRD of `DynamoComponentDeployment`.
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_component_deployment() -> Result<CustomResourceDefinition, CrdError> {
    build::<DynamoComponentDeployment, DynamoComponentDeploymentSpec, DynamoComponentDeploymentStatus>(
        "One service of an inference graph deployed as its own object; normally created and \
         owned by the DynamoGraphDeployment controller.",
    )
}

/// CRD of `DynamoGraphDeploymentScalingAdapter`.
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_graph_deployment_scaling_adapter() -> Result<CustomResourceDefinition, CrdError> {
    build::<
        DynamoGraphDeploymentScalingAdapter,
        DynamoGraphDeploymentScalingAdapterSpec,
        DynamoGraphDeploymentScalingAdapterStatus,
    >(
        "Scale handle for one service of a DynamoGraphDeployment. Autoscalers (HPA, KEDA, the \
         planner) scale the adapter through its scale subresource and the adapter controller \
         copies the replica count into the graph, so the service has a single writer.",
    )
}

/// CRD of `DynamoModel`.
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn dynamo_model() -> Result<CustomResourceDefinition, CrdError> {
    build::<DynamoModel, DynamoModelSpec, DynamoModelStatus>(
        "A model served by an inference graph (a base model or an adapter such as LoRA), and \
         the endpoints that currently serve it.",
    )
}

/// All four CRDs, in a fixed order (graph, component, scaling adapter, model).
///
/// # Errors
/// Fails only if the Rust types produce a non-structural schema (a bug caught by tests).
pub fn try_all() -> Result<Vec<CustomResourceDefinition>, CrdError> {
    Ok(vec![
        dynamo_graph_deployment()?,
        dynamo_component_deployment()?,
        dynamo_graph_deployment_scaling_adapter()?,
        dynamo_model()?,
    ])
}

/// All four CRDs, in a fixed order (graph, component, scaling adapter, model).
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

/// Builds the CRD of kind `K` from its derive output and the structural schema of its parts.
fn build<K, Spec, Status>(description: &str) -> Result<CustomResourceDefinition, CrdError>
where
    K: CustomResourceExt + kube::Resource<DynamicType = ()>,
    Spec: JsonSchema,
    Status: JsonSchema,
{
    let kind = K::kind(&()).into_owned();
    let schema_error = |source| CrdError::Schema {
        kind: kind.clone(),
        source,
    };
    let spec = structural_schema_for::<Spec>().map_err(schema_error)?;
    let status = structural_schema_for::<Status>().map_err(schema_error)?;
    let root = root_schema(description, spec, status);
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

/// The object-level schema: standard type-meta fields, opaque metadata, spec and status.
fn root_schema(description: &str, spec: Value, status: Value) -> Value {
    json!({
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "Versioned schema of this object; always nvidia.com/v1alpha1 here.",
                "type": "string",
            },
            "kind": {
                "description": "REST resource kind of this object, in CamelCase.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    })
}
