//! `DynamoModel` (`dm`, `nvidia.com/v1alpha1` only): a model (base or LoRA adapter) and the
//! endpoints serving it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Desired state of a model.
// Each `printcolumn(...)` repeats the same keys, which clippy mistakes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1alpha1",
    kind = "DynamoModel",
    plural = "dynamomodels",
    singular = "dynamomodel",
    shortname = "dm",
    namespaced,
    status = "DynamoModelStatus",
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "A model served by a graph (a base model or a LoRA adapter), with the endpoints that \
           serve it. Get its CRD from `dynamo_api::crds`.",
    printcolumn(
        name = "BaseModel",
        type_ = "string",
        json_path = ".spec.baseModelName",
        description = "Base model the services serve"
    ),
    printcolumn(
        name = "Type",
        type_ = "string",
        json_path = ".spec.modelType",
        description = "Model type (base, lora or adapter)"
    ),
    printcolumn(
        name = "Ready",
        type_ = "integer",
        json_path = ".status.readyEndpoints",
        description = "Endpoints ready to serve the model"
    ),
    printcolumn(
        name = "Total",
        type_ = "integer",
        json_path = ".status.totalEndpoints",
        description = "All endpoints of the model"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DynamoModelSpec {
    /// Full model identifier, such as `meta-llama/Llama-3.3-70B-Instruct-lora`.
    pub model_name: String,
    /// Base model identifier; services whose model label matches it serve this model.
    pub base_model_name: String,
    /// What kind of model this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "base"))]
    pub model_type: Option<ModelType>,
    /// Where to load the model from (LoRA models only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ModelSource>,
}

/// Kind of model.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ModelType {
    /// A base model.
    #[default]
    Base,
    /// A LoRA adapter on top of the base model.
    Lora,
    /// Another kind of adapter on top of the base model.
    Adapter,
}

/// Location of a model's files.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelSource {
    /// Source URI: `s3://bucket/path` or `hf://org/model@revision`.
    pub uri: String,
}

/// Observed state of a model.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["readyEndpoints", "totalEndpoints"]))]
pub struct DynamoModelStatus {
    /// Endpoints (pods) serving the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<EndpointInfo>>,
    /// Number of ready endpoints.
    #[serde(default)]
    #[schemars(transform = crate::schema::plain_integer, transform = crate::schema::no_default)]
    pub ready_endpoints: i64,
    /// Number of endpoints.
    #[serde(default)]
    #[schemars(transform = crate::schema::plain_integer, transform = crate::schema::no_default)]
    pub total_endpoints: i64,
    /// Conditions of the model (`ServicesFound`, `EndpointsReady`), one per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Older prefill endpoints that cannot manage adapters themselves but are covered by a
    /// capable prefill endpoint during a rolling upgrade (not counted in `readyEndpoints`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = crate::schema::plain_integer)]
    pub lora_fallback_covered_endpoints: Option<i64>,
}

/// One endpoint serving a model.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointInfo {
    /// Address of the endpoint, such as `http://10.0.1.5:9090`.
    pub address: String,
    /// Pod behind the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    /// Whether the endpoint is ready (for LoRA models: its adapter was loaded).
    pub ready: bool,
    /// This older prefill endpoint cannot load adapters itself but is covered by a capable one
    /// during a rolling upgrade; it is still not ready to serve the adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_fallback_covered: Option<bool>,
}
