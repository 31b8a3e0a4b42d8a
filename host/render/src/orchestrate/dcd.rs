//! The DCD pathway: a DynamoComponentDeployment per service, then what its controller runs —
//! a Deployment for a single-node component, and for a multi-node one (LWS only) a
//! LeaderWorkerSet per replica.
//!
//! The LeaderWorkerSets are placed by the pods' own scheduler, as Dynamo 1.5 leaves them: no
//! Volcano PodGroup, `schedulerName` or group annotation (Dynamo 1.5 offers Volcano on the
//! Grove pathway only). With the KAI scheduler on, KAI places the pods, grouping a
//! LeaderWorkerSet's pods by their owner itself.

use std::collections::BTreeMap;

use dynamo_api::BackendFramework;
use dynamo_api::common::component_type;
use dynamo_api::{DynamoComponentDeployment, DynamoComponentDeploymentSpec};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use crate::config::{Orchestrator, RenderConfig};
use crate::error::RenderError;
use crate::keys::{self, annotation, label};
use crate::legacy::LegacyService;
use crate::model::{ComponentRole, GraphModel, ServiceModel, short_hash};
use crate::object::Object;
use crate::orchestrate::network::effective_ingress;
use crate::orchestrate::{Pods, RenderedComponent, non_empty};
use crate::pod::component_labels;

/// `apiVersion` of LeaderWorkerSet.
pub const LWS_API_VERSION: &str = "leaderworkerset.x-k8s.io/v1";
/// Default `maxSurge` / `maxUnavailable` of a component's rolling update.
pub const DEFAULT_ROLLING_UPDATE_PERCENT: &str = "25%";

/// The DCD of a component, then its Deployment or LeaderWorkerSets.
pub fn component_objects(
    graph: &GraphModel,
    component: &RenderedComponent<'_>,
    config: &RenderConfig,
) -> Result<Vec<Object>, RenderError> {
    let service = component.service;
    let mut objects = vec![dcd(graph, service, config)?];
    match &component.pods {
        Pods::Single(template) => objects.push(deployment(graph, service, template)?),
        Pods::Multi { leader, worker } => {
            if graph.orchestrator != Orchestrator::Lws {
                return Err(RenderError::field(
                    format!("{}.multinode", service.field()),
                    "no multinode orchestrator available: enable Grove or LeaderWorkerSet",
                ));
            }
            for index in 0..u32::try_from(service.replicas).unwrap_or(0) {
                objects.push(leader_worker_set(graph, service, index, leader, worker));
            }
        }
    }
    Ok(objects)
}

/// Labels of a DCD: the component's own labels (graph's folded in), then its identity
/// (component, Dynamo namespace, graph, worker hash and class). The component and
/// sub-component types are not among them, as in Dynamo's operator.
pub fn dcd_labels(graph: &GraphModel, service: &ServiceModel) -> BTreeMap<String, String> {
    let mut labels = service.labels.clone();
    labels.extend(component_labels(graph, service));
    labels.remove(label::COMPONENT_TYPE);
    labels.remove(label::SUB_COMPONENT_TYPE);
    labels
}

/// Labels of the workloads and the Service of a component on the DCD pathway (Deployment,
/// LeaderWorkerSets): [`dcd_labels`], plus the sub-component type and the served model's hash,
/// as Dynamo 1.5 labels them.
pub fn workload_labels(graph: &GraphModel, service: &ServiceModel) -> BTreeMap<String, String> {
    let mut labels = dcd_labels(graph, service);
    if let Some(sub) = service.sub_component_label() {
        labels.insert(label::SUB_COMPONENT_TYPE.to_owned(), sub.to_owned());
    }
    if let Some(model) = service
        .spec
        .model_ref
        .as_ref()
        .filter(|m| !m.name.is_empty())
    {
        labels.insert(label::BASE_MODEL_HASH.to_owned(), short_hash(&model.name));
    }
    labels
}

/// Annotations of the workloads, the Service and the pods of a component on the DCD pathway:
/// the component's ([`dcd_annotations`]) without the origin version, which stays on the
/// component; the model it serves (`nvidia.com/dynamo-base-model`); and for an endpoint picker,
/// `sidecar.istio.io/inject: "false"`. As Dynamo 1.5 writes them.
pub fn workload_annotations(
    graph: &GraphModel,
    service: &ServiceModel,
) -> BTreeMap<String, String> {
    let mut annotations = dcd_annotations(graph, service);
    annotations.remove(annotation::ORIGIN_VERSION);
    if let Some(model) = service
        .spec
        .model_ref
        .as_ref()
        .filter(|m| !m.name.is_empty())
    {
        annotations.insert(annotation::BASE_MODEL.to_owned(), model.name.clone());
    }
    if service.role == ComponentRole::Epp {
        annotations.insert(annotation::ISTIO_INJECT.to_owned(), label::FALSE.to_owned());
    }
    annotations
}

/// The DynamoComponentDeployment of `service` (`v1beta1`): its effective spec (the graph's
/// env folded in), the backend, the replicas, the planner's ServiceAccount; what only
/// `v1alpha1` can hold (the component's annotations with the propagated graph switches, its
/// labels, the frontend's effective ingress, a sub-type) is carried through the conversion
/// ([`crate::legacy::carry`]), where its component render reads it back.
pub fn dcd(
    graph: &GraphModel,
    service: &ServiceModel,
    config: &RenderConfig,
) -> Result<Object, RenderError> {
    let mut shared = service.spec.clone();
    shared.replicas = Some(service.replicas);
    if let Some(config) = shared.epp_config.as_mut().and_then(|c| c.config.as_mut()) {
        crate::orchestrate::default_epp_config(config);
    }
    if service.component_type == component_type::PLANNER {
        let pod = shared
            .pod_template
            .get_or_insert_with(PodTemplateSpec::default)
            .spec
            .get_or_insert_with(PodSpec::default);
        if pod
            .service_account_name
            .as_deref()
            .is_none_or(str::is_empty)
        {
            pod.service_account_name = Some(keys::PLANNER_SERVICE_ACCOUNT.to_owned());
        }
    }
    stamp_pod_template(graph, service, &mut shared);
    let component = DynamoComponentDeployment {
        metadata: ObjectMeta {
            name: Some(service.dcd_name.clone()),
            namespace: Some(graph.namespace.clone()),
            labels: Some(dcd_labels(graph, service)),
            annotations: non_empty(graph.spec_annotations.clone()),
            ..ObjectMeta::default()
        },
        spec: DynamoComponentDeploymentSpec {
            backend_framework: dcd_backend_framework(graph, service),
            shared,
        },
        status: None,
    };
    let carried = LegacyService {
        annotations: dcd_annotations(graph, service),
        labels: service.labels.clone(),
        ingress: (service.component_type == component_type::FRONTEND)
            .then(|| effective_ingress(graph, service, config))
            .flatten(),
        sub_component_type: service.legacy.sub_component_type.clone(),
        component_type: service.legacy.component_type.clone(),
        ..LegacyService::default()
    };
    let body = crate::legacy::carry(&component, &carried)?;
    Ok(Object::new(
        dynamo_api::API_VERSION,
        "DynamoComponentDeployment",
        &graph.namespace,
        &service.dcd_name,
        body,
    ))
}

/// The backend framework a component's DCD names: the graph's `spec.backendFramework`, else the
/// one its workers run when they agree on one of the three the field can hold. Dynamo 1.5 names
/// the graph's backend so on every component of the graph (its frontend and planner too). A
/// worker that runs no backend plugin keeps the graph's field as written: naming a backend would
/// make its DCD, rendered alone, pick that backend's plugins, which its graph did not run.
pub fn dcd_backend_framework(
    graph: &GraphModel,
    service: &ServiceModel,
) -> Option<BackendFramework> {
    if graph.backend_framework.is_some()
        || (service.role == ComponentRole::Worker && service.chain.is_none())
    {
        return graph.backend_framework;
    }
    let mut frameworks = graph
        .services
        .iter()
        .filter_map(|s| s.chain.as_ref())
        .map(|chain| chain.framework.as_str());
    let first = frameworks.next()?;
    if !frameworks.all(|f| f == first) {
        return None;
    }
    [
        BackendFramework::Vllm,
        BackendFramework::Sglang,
        BackendFramework::Trtllm,
    ]
    .into_iter()
    .find(|b| b.as_str() == first)
}

/// Records on the DCD's pod template what Dynamo 1.5 records there about the component (its
/// DCDs carry it in `spec.podTemplate.metadata`): the component's annotations
/// ([`dcd_annotations`], the origin version among them; an endpoint picker's also
/// `sidecar.istio.io/inject: "false"`) and its worker labels (the worker hash and class). Its pods
/// carry all of that already, except the origin version, which the component's render takes back
/// out of the template ([`crate::component::render_component`]). The user's own pod annotations
/// and labels keep their values; the worker labels are the operator's and are set.
fn stamp_pod_template(
    graph: &GraphModel,
    service: &ServiceModel,
    shared: &mut dynamo_api::shared::DynamoComponentDeploymentSharedSpec,
) {
    let mut annotations = dcd_annotations(graph, service);
    if service.role == ComponentRole::Epp {
        annotations.insert(annotation::ISTIO_INJECT.to_owned(), label::FALSE.to_owned());
    }
    let labels: BTreeMap<String, String> = component_labels(graph, service)
        .into_iter()
        .filter(|(key, _)| key == label::WORKER_HASH || key == label::COMPONENT_CLASS)
        .collect();
    if annotations.is_empty() && labels.is_empty() {
        return;
    }
    let metadata = shared
        .pod_template
        .get_or_insert_with(PodTemplateSpec::default)
        .metadata
        .get_or_insert_with(ObjectMeta::default);
    if !annotations.is_empty() {
        let own = metadata.annotations.get_or_insert_with(BTreeMap::new);
        for (key, value) in annotations {
            own.entry(key).or_insert(value);
        }
    }
    if !labels.is_empty() {
        metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .extend(labels);
    }
}

/// The annotations of a component: the component's (graph `spec.annotations` folded in) plus
/// the graph switches components inherit ([`annotation::PROPAGATED_TO_COMPONENTS`]). Its
/// workloads carry them too ([`workload_annotations`]).
pub fn dcd_annotations(graph: &GraphModel, service: &ServiceModel) -> BTreeMap<String, String> {
    let mut annotations = service.object_annotations.clone();
    for key in annotation::PROPAGATED_TO_COMPONENTS {
        if let Some(value) = graph.annotations.get(key) {
            annotations
                .entry(key.to_owned())
                .or_insert_with(|| value.clone());
        }
    }
    annotations
}

/// The Deployment of a single-node component.
pub fn deployment(
    graph: &GraphModel,
    service: &ServiceModel,
    template: &PodTemplateSpec,
) -> Result<Object, RenderError> {
    let selector = BTreeMap::from([(label::SELECTOR.to_owned(), service.dcd_name.clone())]);
    let mut template = template.clone();
    template
        .metadata
        .get_or_insert_with(ObjectMeta::default)
        .labels
        .get_or_insert_with(BTreeMap::new)
        .extend(selector.clone());
    if let Some(spec) = &mut template.spec {
        let labels = template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .labels
            .get_or_insert_with(BTreeMap::new);
        crate::orchestrate::kai_scheduler(graph, spec, labels);
    }
    let deployment = Deployment {
        metadata: ObjectMeta {
            labels: Some(workload_labels(graph, service)),
            annotations: non_empty(workload_annotations(graph, service)),
            ..ObjectMeta::default()
        },
        spec: DeploymentSpec {
            replicas: Some(service.replicas),
            selector: LabelSelector {
                match_labels: Some(selector),
                ..LabelSelector::default()
            },
            strategy: Some(strategy(service)),
            template,
            ..DeploymentSpec::default()
        },
        status: None,
    };
    Object::from_resource(&graph.namespace, &service.dcd_name, &deployment)
}

/// `Recreate` when annotated so, else a rolling update with the annotated (or 25%) surge and
/// unavailability.
pub fn strategy(service: &ServiceModel) -> DeploymentStrategy {
    if service.annotation(annotation::DEPLOYMENT_STRATEGY) == Some("Recreate") {
        return DeploymentStrategy {
            type_: Some("Recreate".to_owned()),
            rolling_update: None,
        };
    }
    let amount = |key: &str| {
        let text = service
            .annotation(key)
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_ROLLING_UPDATE_PERCENT);
        match text.parse::<i32>() {
            Ok(n) => IntOrString::Int(n),
            Err(_) => IntOrString::String(text.to_owned()),
        }
    };
    DeploymentStrategy {
        type_: Some("RollingUpdate".to_owned()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(amount(annotation::MAX_SURGE)),
            max_unavailable: Some(amount(annotation::MAX_UNAVAILABLE)),
        }),
    }
}

/// Name of the LeaderWorkerSet of replica `index`.
pub fn lws_name(service: &ServiceModel, index: u32) -> String {
    format!("{}-{index}", service.dcd_name)
}

/// The LeaderWorkerSet of replica `index` of a multi-node component.
pub fn leader_worker_set(
    graph: &GraphModel,
    service: &ServiceModel,
    index: u32,
    leader: &PodTemplateSpec,
    worker: &PodTemplateSpec,
) -> Object {
    let template = |pod: &PodTemplateSpec, role: &str| {
        let mut pod = pod.clone();
        let meta = pod.metadata.get_or_insert_with(ObjectMeta::default);
        let labels = meta.labels.get_or_insert_with(BTreeMap::new);
        // LeaderWorkerSet selects its own pods; they carry no `nvidia.com/selector`.
        labels.remove(label::SELECTOR);
        labels.insert(label::LWS_ROLE.to_owned(), role.to_owned());
        if let Some(spec) = &mut pod.spec {
            crate::orchestrate::kai_scheduler(graph, spec, labels);
        }
        serde_json::to_value(&pod).unwrap_or_default()
    };
    Object::new(
        LWS_API_VERSION,
        "LeaderWorkerSet",
        &graph.namespace,
        lws_name(service, index),
        json!({
            "metadata": { "labels": workload_labels(graph, service) },
            "spec": {
                "replicas": 1,
                "startupPolicy": "LeaderCreated",
                "leaderWorkerTemplate": {
                    "size": service.node_count,
                    "leaderTemplate": template(leader, "leader"),
                    "workerTemplate": template(worker, "worker"),
                },
            },
        }),
    )
}
