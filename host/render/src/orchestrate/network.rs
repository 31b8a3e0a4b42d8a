//! Traffic objects: a Service per component (the frontend always; every component under
//! Kubernetes discovery), a headless Service per served model, and the frontend's Ingress or
//! Istio VirtualService.

use std::collections::{BTreeMap, BTreeSet};

use dynamo_api::v1alpha1::shared::{IngressSpec, IngressTls};
use dynamo_plugin_contract::ServingPort;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec as K8sIngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use crate::config::{Orchestrator, RenderConfig};
use crate::error::RenderError;
use crate::keys::{annotation, label};
use crate::model::{ComponentRole, GraphModel, ServiceModel, short_hash};
use crate::object::Object;
use crate::orchestrate::dcd::{workload_annotations, workload_labels};
use crate::orchestrate::non_empty;
use crate::pod::defaults::{EPP_GRPC_PORT, FRONTEND_PORT, SYSTEM_PORT};
use crate::pod::{component_labels, discovery_labels};

/// `apiVersion` of the Istio VirtualService.
pub const VIRTUAL_SERVICE_API_VERSION: &str = "networking.istio.io/v1beta1";

/// Every traffic object of the graph.
pub fn objects(graph: &GraphModel, config: &RenderConfig) -> Result<Vec<Object>, RenderError> {
    let mut objects = Vec::new();
    for service in &graph.services {
        // A plain engine is reached through its Service whatever the discovery backend, since
        // Dynamo's Frontend does not route to it; it has one exactly when it declares ports.
        let wanted = match plain_engine_ports(service) {
            Some(ports) => !ports.is_empty(),
            None => service.role == ComponentRole::Frontend || graph.kube_discovery(),
        };
        if wanted {
            objects.push(component_service(graph, service)?);
        }
        if service.role == ComponentRole::Frontend {
            objects.extend(frontend_routes(graph, service, config)?);
        }
    }
    objects.extend(model_services(graph)?);
    Ok(objects)
}

/// The ports a plain (non-Dynamo) engine's plugin declares, or `None` for a Dynamo engine.
fn plain_engine_ports(service: &ServiceModel) -> Option<&[ServingPort]> {
    let serving = service.chain.as_ref()?.plain_engine()?;
    Some(serving.ports.as_slice())
}

/// A Service port targeting the container port of the same name.
fn named_port(name: &str, number: i32, app_protocol: Option<String>) -> ServicePort {
    ServicePort {
        name: Some(name.to_owned()),
        port: number,
        target_port: Some(IntOrString::String(name.to_owned())),
        protocol: Some("TCP".to_owned()),
        app_protocol,
        ..ServicePort::default()
    }
}

/// The Service of one component: `{dgd}-{svc}`, selecting the component's pods (leaders only
/// for LeaderWorkerSet components).
///
/// Its ports: `http` for a frontend, `grpc` for an endpoint picker, `system` for other Dynamo
/// components plus any port their plugin declares, and exactly the declared ports of a plain
/// engine.
pub fn component_service(
    graph: &GraphModel,
    service: &ServiceModel,
) -> Result<Object, RenderError> {
    let ports = match (service.role, plain_engine_ports(service)) {
        (ComponentRole::Frontend, _) => vec![named_port("http", FRONTEND_PORT, None)],
        // The endpoint picker's Service targets its gRPC port by number, as Dynamo's does.
        (ComponentRole::Epp, _) => vec![ServicePort {
            target_port: Some(IntOrString::Int(EPP_GRPC_PORT)),
            ..named_port("grpc", EPP_GRPC_PORT, Some("http2".to_owned()))
        }],
        (_, Some(declared)) => declared
            .iter()
            .map(|p| named_port(&p.name, i32::from(p.number), None))
            .collect(),
        (_, None) => {
            let mut ports = vec![named_port("system", SYSTEM_PORT, None)];
            let declared = service.chain.as_ref().and_then(|c| c.serving.as_ref());
            for p in declared.iter().flat_map(|s| &s.ports) {
                ports.push(named_port(&p.name, i32::from(p.number), None));
            }
            ports
        }
    };
    let mut selector = BTreeMap::from([
        (label::COMPONENT.to_owned(), service.name.clone()),
        (
            label::DYNAMO_NAMESPACE.to_owned(),
            service.dynamo_namespace.clone(),
        ),
    ]);
    let component_type = service.dynamo_component_type();
    if !component_type.is_empty() {
        selector.insert(label::COMPONENT_TYPE.to_owned(), component_type.to_owned());
    }
    if service.is_multinode() && graph.orchestrator == Orchestrator::Lws {
        selector.insert(label::LWS_ROLE.to_owned(), "leader".to_owned());
    }
    // On the DCD pathway the Service belongs to the component and carries its workload's
    // labels and annotations; under Grove it belongs to the graph and carries only the worker
    // hash and the discovery labels.
    let (mut labels, annotations) = if graph.orchestrator == Orchestrator::Grove {
        let hash = service
            .worker_hash
            .as_ref()
            .map(|h| (label::WORKER_HASH.to_owned(), h.clone()));
        (hash.into_iter().collect(), None)
    } else {
        (
            workload_labels(graph, service),
            non_empty(workload_annotations(graph, service)),
        )
    };
    if graph.kube_discovery() {
        labels.extend(discovery_labels());
    }
    let object = Service {
        metadata: ObjectMeta {
            labels: non_empty(labels),
            annotations,
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(selector),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        status: None,
    };
    Object::from_resource(&graph.namespace, &service.service_name, &object)
}

/// Headless Services `dynamo-model-{hash8}`, one per distinct `modelRef.name`.
pub fn model_services(graph: &GraphModel) -> Result<Vec<Object>, RenderError> {
    let models: BTreeSet<&str> = graph
        .services
        .iter()
        .filter_map(|s| s.spec.model_ref.as_ref().map(|m| m.name.as_str()))
        .filter(|m| !m.is_empty())
        .collect();
    models
        .into_iter()
        .map(|model| {
            let hash = short_hash(model);
            let name = format!("dynamo-model-{hash}");
            let selector = BTreeMap::from([(label::BASE_MODEL_HASH.to_owned(), hash)]);
            // Every graph serving the model applies this same Service, so it carries nothing
            // of any one graph: with differing labels the graphs would overwrite each other.
            let mut labels = selector.clone();
            labels.insert(
                label::DYNAMO_MANAGED_BY.to_owned(),
                label::MANAGED_BY_OPERATOR.to_owned(),
            );
            let object = Service {
                metadata: ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(
                        annotation::BASE_MODEL.to_owned(),
                        model.to_owned(),
                    )])),
                    ..ObjectMeta::default()
                },
                spec: Some(ServiceSpec {
                    cluster_ip: Some("None".to_owned()),
                    selector: Some(selector),
                    ports: Some(vec![ServicePort {
                        name: Some("system".to_owned()),
                        port: SYSTEM_PORT,
                        target_port: Some(IntOrString::Int(SYSTEM_PORT)),
                        protocol: Some("TCP".to_owned()),
                        ..ServicePort::default()
                    }]),
                    ..ServiceSpec::default()
                }),
                status: None,
            };
            Object::from_resource(&graph.namespace, &name, &object)
        })
        .collect()
}

/// The frontend's Ingress (when enabled with an ingress class) and VirtualService (when the
/// operator has a gateway and the spec asks for one).
pub fn frontend_routes(
    graph: &GraphModel,
    service: &ServiceModel,
    config: &RenderConfig,
) -> Result<Vec<Object>, RenderError> {
    let Some(spec) = effective_ingress(graph, service, config) else {
        return Ok(Vec::new());
    };
    if spec.enabled != Some(true) {
        return Ok(Vec::new());
    }
    let host = format!(
        "{}{}.{}",
        spec.host_prefix.clone().unwrap_or_default(),
        spec.host.clone().unwrap_or_else(|| graph.name.clone()),
        spec.host_suffix
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "local".to_owned()),
    );
    let mut labels = component_labels(graph, service);
    labels.extend(spec.labels.clone().unwrap_or_default());
    let annotations = non_empty(spec.annotations.clone().unwrap_or_default());
    let mut out = Vec::new();
    let gateway = spec
        .virtual_service_gateway
        .clone()
        .filter(|g| !g.is_empty())
        .filter(|_| {
            config
                .operator
                .ingress
                .virtual_service_gateway
                .as_deref()
                .is_some_and(|g| !g.is_empty())
        });
    if spec.use_virtual_service == Some(true) {
        if let Some(gateway) = gateway {
            out.push(Object::new(
                VIRTUAL_SERVICE_API_VERSION,
                "VirtualService",
                &graph.namespace,
                &service.service_name,
                json!({
                    "metadata": { "labels": labels, "annotations": annotations },
                    "spec": {
                        "hosts": [host],
                        "gateways": [gateway],
                        "http": [{
                            "match": [{ "uri": { "prefix": "/" } }],
                            "route": [{
                                "destination": {
                                    "host": service.service_name,
                                    "port": { "number": FRONTEND_PORT },
                                },
                            }],
                        }],
                    },
                }),
            ));
        }
        return Ok(out);
    }
    let Some(class) = spec
        .ingress_controller_class_name
        .clone()
        .filter(|c| !c.is_empty())
    else {
        return Ok(out);
    };
    let ingress = Ingress {
        metadata: ObjectMeta {
            labels: Some(labels),
            annotations,
            ..ObjectMeta::default()
        },
        spec: Some(K8sIngressSpec {
            ingress_class_name: Some(class),
            rules: Some(vec![IngressRule {
                host: Some(host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".to_owned()),
                        path_type: "Prefix".to_owned(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: service.service_name.clone(),
                                port: Some(ServiceBackendPort {
                                    number: Some(FRONTEND_PORT),
                                    name: None,
                                }),
                            }),
                            resource: None,
                        },
                    }],
                }),
            }]),
            tls: spec
                .tls
                .as_ref()
                .and_then(|t| t.secret_name.clone())
                .filter(|s| !s.is_empty())
                .map(|secret| {
                    vec![IngressTLS {
                        hosts: Some(vec![host.clone()]),
                        secret_name: Some(secret),
                    }]
                }),
            ..K8sIngressSpec::default()
        }),
        status: None,
    };
    out.push(Object::from_resource(
        &graph.namespace,
        &service.service_name,
        &ingress,
    )?);
    Ok(out)
}

/// The frontend's ingress: the user's fields over the defaults the operator config implies
/// (enabled when an ingress class or a VirtualService gateway is configured, host = graph
/// name). `None` when neither gives anything.
pub fn effective_ingress(
    graph: &GraphModel,
    service: &ServiceModel,
    config: &RenderConfig,
) -> Option<IngressSpec> {
    let defaults = &config.operator.ingress;
    let class = defaults
        .controller_class_name
        .clone()
        .filter(|s| !s.is_empty());
    let gateway = defaults
        .virtual_service_gateway
        .clone()
        .filter(|s| !s.is_empty());
    let configured = class.is_some() || gateway.is_some();
    let user = service.legacy.ingress.clone();
    if !configured {
        // Without an ingress controller or gateway in the config, the frontend still records
        // the host its routes would use, as Dynamo's operator does.
        let mut spec = user.unwrap_or_default();
        spec.host.get_or_insert_with(|| graph.name.clone());
        return Some(spec);
    }
    let mut spec = IngressSpec {
        enabled: Some(true),
        host: Some(graph.name.clone()),
        use_virtual_service: gateway.is_some().then_some(true),
        virtual_service_gateway: gateway,
        host_suffix: defaults.host_suffix.clone().filter(|s| !s.is_empty()),
        tls: defaults
            .controller_tls_secret_name
            .clone()
            .filter(|s| !s.is_empty())
            .map(|secret| IngressTls {
                secret_name: Some(secret),
            }),
        ingress_controller_class_name: class,
        ..IngressSpec::default()
    };
    if let Some(user) = user {
        macro_rules! take {
            ($($field:ident),*) => {$(
                if user.$field.is_some() {
                    spec.$field = user.$field.clone();
                }
            )*};
        }
        take!(
            enabled,
            host,
            use_virtual_service,
            virtual_service_gateway,
            host_prefix,
            host_suffix,
            annotations,
            labels,
            tls,
            ingress_controller_class_name
        );
    }
    Some(spec)
}
