//! What only `v1alpha1` can say about a graph or component, read through the conversion.
//!
//! The pipeline works on `v1beta1` objects. A few `v1alpha1` fields have no `v1beta1`
//! counterpart yet still mean something to the operator, as they do to Dynamo's: a graph's
//! `pvcs`, and a service's `annotations`, `labels`, `ingress`, a `subComponentType` other than
//! prefill or decode, and a `componentType` outside `v1beta1`'s enum. The conversion keeps them
//! on the `v1beta1` object, and they are read back here by converting the object to `v1alpha1`
//! in memory, so nothing but the conversion crate knows how they are kept.

use std::collections::BTreeMap;

use dynamo_api::v1alpha1::graph::PvcSpec;
use dynamo_api::v1alpha1::shared::{
    DynamoComponentDeploymentSharedSpec as AlphaService, IngressSpec,
};
use dynamo_api::{DynamoComponentDeployment, DynamoGraphDeployment};
use dynamo_conversion::V1ALPHA1;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::RenderError;

/// The `v1alpha1`-only facts of a graph.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegacyGraph {
    /// `spec.pvcs`: claims services mount by name, created when `create` is set.
    pub pvcs: Vec<PvcSpec>,
    /// The `v1alpha1`-only facts of each service, by name.
    pub services: BTreeMap<String, LegacyService>,
}

/// The `v1alpha1`-only facts of one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegacyService {
    /// `annotations`: put on the service's objects, and read for the operator's switches.
    pub annotations: BTreeMap<String, String>,
    /// `labels`: put on the service's objects and pods.
    pub labels: BTreeMap<String, String>,
    /// `ingress`: how a frontend is exposed outside the cluster.
    pub ingress: Option<IngressSpec>,
    /// `subComponentType`: only a label; prefill and decode are `v1beta1` types instead.
    pub sub_component_type: Option<String>,
    /// `componentType` as written in `v1alpha1` (a free string there).
    pub component_type: Option<String>,
    /// Whether the deprecated, ignored `dynamoNamespace` is set.
    pub dynamo_namespace: bool,
    /// Whether the deprecated, ignored `autoscaling` is set.
    pub autoscaling: bool,
}

// === impl LegacyGraph ===

impl LegacyGraph {
    /// The `v1alpha1`-only facts of `dgd`.
    ///
    /// # Errors
    /// When the conversion refuses the graph (an invalid preserved payload), naming the field.
    pub fn of(dgd: &DynamoGraphDeployment) -> Result<Self, RenderError> {
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct Spec {
            #[serde(default)]
            pvcs: Option<Vec<PvcSpec>>,
            #[serde(default)]
            services: Option<BTreeMap<String, Option<AlphaFacts>>>,
        }
        let spec: Spec = alpha_spec(dgd)?;
        Ok(Self {
            pvcs: spec.pvcs.unwrap_or_default(),
            services: spec
                .services
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(name, service)| Some((name, LegacyService::from(service?))))
                .collect(),
        })
    }

    /// The facts of service `name` (none when it has none).
    pub fn service(&self, name: &str) -> LegacyService {
        self.services.get(name).cloned().unwrap_or_default()
    }
}

// === impl LegacyService ===

impl LegacyService {
    /// The `v1alpha1`-only facts of component `dcd`.
    ///
    /// # Errors
    /// When the conversion refuses the component, naming the field.
    pub fn of_component(dcd: &DynamoComponentDeployment) -> Result<Self, RenderError> {
        let spec: AlphaFacts = alpha_spec(dcd)?;
        Ok(Self::from(spec))
    }
}

/// The fields of a `v1alpha1` service [`LegacyService`] is made of. Only these are read: the
/// `v1alpha1` form of a `v1beta1` object may hold values the other fields' types refuse (a
/// compilation cache without a claim name prints as a volume mount without a name), which must
/// not hide the `v1beta1` rules' findings about them.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AlphaFacts {
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    ingress: Option<IngressSpec>,
    #[serde(default)]
    sub_component_type: Option<String>,
    #[serde(default)]
    component_type: Option<String>,
    #[serde(default)]
    dynamo_namespace: Option<Value>,
    #[serde(default)]
    autoscaling: Option<Value>,
}

impl From<AlphaService> for LegacyService {
    /// The facts of `service` only `v1alpha1` can hold (see [`LegacyService`]).
    fn from(service: AlphaService) -> Self {
        Self::from(AlphaFacts {
            annotations: service.annotations,
            labels: service.labels,
            ingress: service.ingress,
            sub_component_type: service.sub_component_type,
            component_type: service.component_type,
            dynamo_namespace: service.dynamo_namespace.map(Value::from),
            autoscaling: service
                .autoscaling
                .map(|a| serde_json::to_value(a).unwrap_or(Value::Null)),
        })
    }
}

impl From<AlphaFacts> for LegacyService {
    /// The facts of `service` only `v1alpha1` can hold: a type `v1beta1` lists is its `type`
    /// there, and a prefill or decode sub-type is the `type` too.
    fn from(service: AlphaFacts) -> Self {
        let representable =
            |t: &str| ["frontend", "worker", "prefill", "decode", "planner", "epp"].contains(&t);
        Self {
            annotations: service.annotations.unwrap_or_default(),
            labels: service.labels.unwrap_or_default(),
            ingress: service.ingress,
            sub_component_type: service
                .sub_component_type
                .filter(|s| !s.is_empty() && s != "prefill" && s != "decode"),
            component_type: service
                .component_type
                .filter(|t| !t.is_empty() && !representable(t)),
            dynamo_namespace: service.dynamo_namespace.is_some(),
            autoscaling: service.autoscaling.is_some(),
        }
    }
}

/// `object` (a `v1beta1` DynamoComponentDeployment) carrying `carried`, the `v1alpha1`-only
/// facts of its component, in the form the conversion keeps them in (so
/// [`LegacyService::of_component`] reads them back, and `kubectl get` at `v1alpha1` shows
/// them). Facts the object already states are left as they are.
///
/// # Errors
/// When the conversion refuses the object, naming the field.
pub fn carry(
    object: &DynamoComponentDeployment,
    carried: &LegacyService,
) -> Result<Value, RenderError> {
    let value = serde_json::to_value(object)
        .map_err(|e| RenderError::field("spec", format!("cannot be written as JSON: {e}")))?;
    if carried == &LegacyService::default() {
        return Ok(value);
    }
    let mut alpha =
        dynamo_conversion::convert(value, V1ALPHA1).map_err(crate::input::conversion_error)?;
    if let Some(spec) = alpha.get_mut("spec").and_then(Value::as_object_mut) {
        let mut set = |key: &str, value: Value| {
            let missing = spec.get(key).is_none_or(|v| v.is_null() || v == "");
            if missing && !value.is_null() {
                spec.insert(key.to_owned(), value);
            }
        };
        let map = |m: &BTreeMap<String, String>| {
            if m.is_empty() {
                Value::Null
            } else {
                serde_json::to_value(m).unwrap_or(Value::Null)
            }
        };
        set("annotations", map(&carried.annotations));
        set("labels", map(&carried.labels));
        set(
            "ingress",
            serde_json::to_value(&carried.ingress).unwrap_or(Value::Null),
        );
        set(
            "subComponentType",
            serde_json::to_value(&carried.sub_component_type).unwrap_or(Value::Null),
        );
        set(
            "componentType",
            serde_json::to_value(&carried.component_type).unwrap_or(Value::Null),
        );
    }
    dynamo_conversion::convert(alpha, dynamo_conversion::V1BETA1)
        .map_err(crate::input::conversion_error)
}

/// The `spec` of `object` converted to `v1alpha1`, read as `T` (status left out: only the spec
/// carries legacy facts).
fn alpha_spec<O: serde::Serialize, T: DeserializeOwned + Default>(
    object: &O,
) -> Result<T, RenderError> {
    let mut value = serde_json::to_value(object)
        .map_err(|e| RenderError::field("metadata", format!("cannot be written as JSON: {e}")))?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("status");
    }
    let converted =
        dynamo_conversion::convert(value, V1ALPHA1).map_err(crate::input::conversion_error)?;
    match converted.get("spec") {
        None | Some(Value::Null) => Ok(T::default()),
        Some(spec) => serde_path_to_error::deserialize(spec.clone()).map_err(|e| {
            RenderError::field(
                format!("spec.{}", e.path()),
                format!("cannot be read as v1alpha1: {}", e.inner()),
            )
        }),
    }
}

#[cfg(test)]
mod tests;
