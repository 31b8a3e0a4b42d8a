//! `DynamoWorkerMetadata` (`dwm`, `nvidia.com/v1alpha1` only): the discovery record a Dynamo
//! worker publishes about itself when service discovery runs on Kubernetes.
//!
//! The Dynamo runtime inside each worker pod writes one object per pod (or per container), owned
//! by the pod so it goes away with it; the runtime's discovery, the planner and the endpoint
//! picker read them. The operator only installs the CRD and grants graph pods access to it: it
//! never reads or writes the contents, which are an opaque JSON document.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The discovery record of one worker.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "nvidia.com",
    version = "v1alpha1",
    kind = "DynamoWorkerMetadata",
    plural = "dynamoworkermetadatas",
    singular = "dynamoworkermetadata",
    shortname = "dwm",
    namespaced,
    schema = "disabled",
    derive = "PartialEq",
    derive = "Default",
    doc = "Discovery record a Dynamo worker publishes about itself (written by the Dynamo \
           runtime, not by the operator). Get its CRD from `dynamo_api::crds`.",
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct DynamoWorkerMetadataSpec {
    /// The worker's discovery metadata, a JSON document the Dynamo runtime defines.
    pub data: Map<String, Value>,
}
