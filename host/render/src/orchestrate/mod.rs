//! Orchestration: turns rendered pod templates into the Kubernetes objects of the chosen
//! orchestrator, plus the objects every graph needs.
//!
//! - [`dcd`]: the DCD pathway (`deployment` and `lws`): a DynamoComponentDeployment per service,
//!   a Deployment per single-node component, and a LeaderWorkerSet per multi-node replica.
//! - [`grove`]: one Grove PodCliqueSet per graph.
//! - [`network`]: component Services, model Services, the frontend Ingress / VirtualService.
//! - [`wait_leader`]: the wait-for-leader script ConfigMap of graphs with multi-node services.
//! - Here: the Kubernetes-discovery ServiceAccount, Role and RoleBinding, the PVCs the graph
//!   asks the operator to create, and the endpoint picker's generated ConfigMap.

pub mod dcd;
pub mod grove;
pub mod network;
pub mod wait_leader;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodTemplateSpec, ServiceAccount,
    VolumeResourceRequirements,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config::{Orchestrator, RenderConfig};
use crate::error::RenderError;
use crate::keys::{self, label};
use crate::model::{ComponentRole, GraphModel, ServiceModel};
use crate::object::Object;
use crate::pod::defaults::{EPP_CONFIG_FILE, epp_config_map_name};

/// The pod templates of one component after the plugin chain.
#[derive(Debug, Clone, PartialEq)]
pub enum Pods {
    /// A single-node component's pod.
    Single(Box<PodTemplateSpec>),
    /// A multi-node component's leader and worker pods.
    Multi {
        /// Rank-0 pod.
        leader: Box<PodTemplateSpec>,
        /// Every other rank.
        worker: Box<PodTemplateSpec>,
    },
}

/// One component ready to orchestrate.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedComponent<'a> {
    /// The resolved service.
    pub service: &'a ServiceModel,
    /// Its pod templates.
    pub pods: Pods,
    /// True when its leader must start after its workers (a launcher runs from the leader).
    pub leader_starts_after_workers: bool,
}

/// Puts a pod on the KAI scheduler when `graph` has a queue ([`GraphModel::kai_queue`]):
/// `schedulerName: kai-scheduler` unless the pod names another scheduler, and the
/// `kai.scheduler/queue` label. Returns true when it did.
pub fn kai_scheduler(
    graph: &GraphModel,
    spec: &mut k8s_openapi::api::core::v1::PodSpec,
    labels: &mut BTreeMap<String, String>,
) -> bool {
    let Some(queue) = &graph.kai_queue else {
        return false;
    };
    if spec.scheduler_name.as_deref().is_none_or(str::is_empty) {
        spec.scheduler_name = Some(keys::KAI_SCHEDULER_NAME.to_owned());
    }
    labels.insert(label::KAI_QUEUE.to_owned(), queue.clone());
    true
}

/// Every object of `graph` for its orchestrator (extra objects requested by plugins excluded).
pub fn objects(
    graph: &GraphModel,
    components: &[RenderedComponent<'_>],
    config: &RenderConfig,
) -> Result<Vec<Object>, RenderError> {
    let mut objects = Vec::new();
    match graph.orchestrator {
        Orchestrator::Deployment | Orchestrator::Lws => {
            for component in components {
                objects.extend(dcd::component_objects(graph, component, config)?);
            }
        }
        Orchestrator::Grove => objects.push(grove::pod_clique_set(graph, components, config)?),
    }
    objects.extend(network::objects(graph, config)?);
    if graph.kube_discovery() {
        objects.extend(discovery_rbac(graph)?);
    }
    objects.extend(created_pvcs(graph)?);
    for service in graph
        .services
        .iter()
        .filter(|s| crate::pod::gms::enabled(s))
    {
        objects.push(crate::pod::gms::claim_template(graph, service));
    }
    if graph.has_multinode() {
        objects.push(wait_leader::config_map(graph)?);
    }
    for service in &graph.services {
        if service.role != ComponentRole::Epp {
            continue;
        }
        if let Some(config_map) = epp_config_map(graph, service)? {
            objects.push(config_map);
        }
        objects.push(inference_pool(graph, service));
    }
    Ok(objects)
}

/// Labels every graph-level object carries.
pub fn graph_labels(graph: &GraphModel) -> BTreeMap<String, String> {
    let mut labels = graph.spec_labels.clone();
    labels.insert(label::GRAPH_NAME.to_owned(), graph.name.clone());
    labels
}

/// `Some(map)` unless `map` is empty.
pub(crate) fn non_empty(map: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (!map.is_empty()).then_some(map)
}

/// ServiceAccount, Role and RoleBinding pods use for Kubernetes discovery.
fn discovery_rbac(graph: &GraphModel) -> Result<Vec<Object>, RenderError> {
    let name = keys::discovery_service_account(&graph.name);
    let role_name = format!("{name}-role");
    let binding_name = format!("{name}-binding");
    // Labelled as Dynamo's operator labels them; owner references tie them to the graph.
    let labels = BTreeMap::from([
        ("app.kubernetes.io/component".to_owned(), "rbac".to_owned()),
        (
            label::MANAGED_BY.to_owned(),
            label::MANAGED_BY_OPERATOR.to_owned(),
        ),
        ("app.kubernetes.io/name".to_owned(), name.clone()),
    ]);
    let meta = |n: &str| ObjectMeta {
        name: Some(n.to_owned()),
        namespace: Some(graph.namespace.clone()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    };
    let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(groups.iter().map(|s| (*s).to_owned()).collect()),
        resources: Some(resources.iter().map(|s| (*s).to_owned()).collect()),
        verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
        ..PolicyRule::default()
    };
    let read = ["get", "list", "watch"];
    let role = Role {
        metadata: meta(&role_name),
        rules: Some(vec![
            rule(&[""], &["endpoints", "pods"], &read),
            rule(&["discovery.k8s.io"], &["endpointslices"], &read),
            rule(
                &["nvidia.com"],
                &["dynamoworkermetadatas"],
                &[
                    "create", "get", "list", "watch", "update", "patch", "delete",
                ],
            ),
        ]),
    };
    let binding = RoleBinding {
        metadata: meta(&binding_name),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "Role".to_owned(),
            name: role_name.clone(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: name.clone(),
            namespace: Some(graph.namespace.clone()),
            ..Subject::default()
        }]),
    };
    let account = ServiceAccount {
        metadata: meta(&name),
        ..ServiceAccount::default()
    };
    Ok(vec![
        Object::from_resource(&graph.namespace, &name, &account)?,
        Object::from_resource(&graph.namespace, &role_name, &role)?,
        Object::from_resource(&graph.namespace, &binding_name, &binding)?,
    ])
}

/// PersistentVolumeClaims of `spec.pvcs` entries (`v1alpha1`) with `create: true`.
fn created_pvcs(graph: &GraphModel) -> Result<Vec<Object>, RenderError> {
    graph
        .pvcs
        .iter()
        .filter(|pvc| pvc.create == Some(true))
        .map(|pvc| {
            let claim = PersistentVolumeClaim {
                metadata: ObjectMeta {
                    labels: Some(graph_labels(graph)),
                    ..ObjectMeta::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    storage_class_name: pvc.storage_class.clone(),
                    access_modes: pvc.volume_access_mode.clone().map(|mode| vec![mode]),
                    resources: pvc.size.clone().map(|size| VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([("storage".to_owned(), size)])),
                        ..VolumeResourceRequirements::default()
                    }),
                    ..PersistentVolumeClaimSpec::default()
                }),
                status: None,
            };
            Object::from_resource(&graph.namespace, &pvc.name, &claim)
        })
        .collect()
}

/// `apiVersion` of the Gateway API Inference Extension's InferencePool.
pub const INFERENCE_POOL_API_VERSION: &str = "inference.networking.k8s.io/v1";
/// Port of the frontend sidecar the pool's endpoints serve on.
const INFERENCE_POOL_TARGET_PORT: i32 = 8000;

/// The InferencePool `{dgd}-pool` an endpoint picker serves: the graph's worker pods (by their
/// `nvidia.com/dynamo-component-class: worker` label, so prefill and decode workers alike),
/// picked through the picker's gRPC Service.
fn inference_pool(graph: &GraphModel, service: &ServiceModel) -> Object {
    let mut labels = graph_labels(graph);
    labels.insert(label::COMPONENT.to_owned(), service.name.clone());
    labels.insert(
        label::COMPONENT_TYPE.to_owned(),
        service.component_type.clone(),
    );
    let workers_namespace = graph
        .services
        .iter()
        .find(|s| s.role == ComponentRole::Worker)
        .map_or_else(
            || service.dynamo_namespace.clone(),
            |s| s.dynamo_namespace.clone(),
        );
    Object::new(
        INFERENCE_POOL_API_VERSION,
        "InferencePool",
        &graph.namespace,
        crate::pod::defaults::inference_pool_name(&graph.name),
        serde_json::json!({
            "metadata": { "labels": labels },
            "spec": {
                "selector": {
                    "matchLabels": {
                        label::COMPONENT_CLASS: label::WORKER_CLASS,
                        label::DYNAMO_NAMESPACE: workers_namespace,
                    },
                },
                "targetPorts": [{ "number": INFERENCE_POOL_TARGET_PORT }],
                "endpointPickerRef": {
                    "kind": "Service",
                    "name": service.service_name,
                    "port": { "number": crate::pod::defaults::EPP_GRPC_PORT },
                },
            },
        }),
    )
}

/// Fills the type of an inline endpoint-picker configuration when the user left it out.
pub(crate) fn default_epp_config(config: &mut dynamo_api::shared::EndpointPickerConfig) {
    config
        .api_version
        .get_or_insert_with(|| "inference.networking.x-k8s.io/v1alpha1".to_owned());
    config
        .kind
        .get_or_insert_with(|| "EndpointPickerConfig".to_owned());
}

/// The ConfigMap generated from an endpoint picker's inline `eppConfig.config`.
fn epp_config_map(
    graph: &GraphModel,
    service: &ServiceModel,
) -> Result<Option<Object>, RenderError> {
    let Some(config) = service
        .spec
        .epp_config
        .as_ref()
        .and_then(|c| c.config.as_ref())
    else {
        return Ok(None);
    };
    let mut config = config.clone();
    default_epp_config(&mut config);
    let field = format!("{}.eppConfig.config", service.field());
    let mut value = serde_json::to_value(&config)
        .map_err(|e| RenderError::field(&field, format!("cannot serialize: {e}")))?;
    spell_out_plugin_fields(&mut value);
    let text = serde_yaml_ng::to_string(&crate::object::canonical(&value))
        .map_err(|e| RenderError::field(&field, format!("cannot serialize: {e}")))?;
    let text = double_quote_empty_names(&text);
    let name = epp_config_map_name(&graph.name);
    let mut labels = graph_labels(graph);
    labels.insert(label::COMPONENT.to_owned(), service.name.clone());
    labels.insert(
        label::COMPONENT_TYPE.to_owned(),
        service.component_type.clone(),
    );
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(EPP_CONFIG_FILE.to_owned(), text)])),
        ..ConfigMap::default()
    };
    Object::from_resource(&graph.namespace, &name, &config_map).map(Some)
}

/// Writes every plugin's `name` (`""` when unset) and `parameters` (`null` when unset) into an
/// endpoint-picker configuration, as the file Dynamo 1.5 generates states them: the picker reads
/// both forms alike, and the same bytes mean a graph taken over from Dynamo keeps its picker's
/// ConfigMap unchanged.
fn spell_out_plugin_fields(config: &mut serde_json::Value) {
    let plugins = config
        .get_mut("plugins")
        .and_then(serde_json::Value::as_array_mut);
    for plugin in plugins.into_iter().flatten() {
        if let Some(fields) = plugin.as_object_mut() {
            fields
                .entry("name")
                .or_insert_with(|| serde_json::Value::String(String::new()));
            fields
                .entry("parameters")
                .or_insert(serde_json::Value::Null);
        }
    }
}

/// `text` with each `name: ''` line written `name: ""`, the way Go's YAML encoder writes the
/// empty plugin names of [`spell_out_plugin_fields`]: the same value, and the same bytes as the
/// file Dynamo 1.5 generates.
fn double_quote_empty_names(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let item = line.trim_start_matches(' ');
            let item = item.strip_prefix("- ").unwrap_or(item);
            if item.trim_end_matches('\n') == "name: ''" {
                line.replacen("name: ''", "name: \"\"", 1)
            } else {
                line.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
