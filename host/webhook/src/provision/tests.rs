//! Tests of which CRD conversion webhooks the operator writes its CA bundle into.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    ServiceReference, WebhookClientConfig,
};

use super::ConversionTarget;

fn target() -> ConversionTarget {
    ConversionTarget {
        crds: vec!["dynamographdeployments.nvidia.com".to_owned()],
        service: Some(("dynamo-system".to_owned(), "dynamo-webhook".to_owned())),
        loopback_port: Some(9443),
    }
}

fn service(namespace: &str, name: &str) -> WebhookClientConfig {
    WebhookClientConfig {
        service: Some(ServiceReference {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            path: Some("/convert".to_owned()),
            port: None,
        }),
        ..WebhookClientConfig::default()
    }
}

fn url(url: &str) -> WebhookClientConfig {
    WebhookClientConfig {
        url: Some(url.to_owned()),
        ..WebhookClientConfig::default()
    }
}

#[test]
fn our_service_in_our_namespace_points_here() {
    assert!(target().points_here(&service("dynamo-system", "dynamo-webhook")));
}

#[test]
fn another_operators_service_is_left_alone() {
    assert!(!target().points_here(&service("other-system", "dynamo-webhook")));
    assert!(!target().points_here(&service("dynamo-system", "dynamo-operator-webhook-service")));
}

#[test]
fn a_loopback_url_points_here_only_on_our_port() {
    assert!(target().points_here(&url("https://127.0.0.1:9443/convert")));
    assert!(target().points_here(&url("https://localhost:9443/convert")));
    // Another process on this machine (a test control plane's own converter).
    assert!(!target().points_here(&url("https://127.0.0.1:9444/convert")));
    assert!(!target().points_here(&url("https://10.0.0.7:9443/convert")));
    assert!(!target().points_here(&url("http://127.0.0.1:9443/convert")));
}

#[test]
fn without_a_known_service_or_port_nothing_points_here() {
    let unknown = ConversionTarget::default();
    assert!(!unknown.points_here(&service("dynamo-system", "dynamo-webhook")));
    assert!(!unknown.points_here(&url("https://127.0.0.1:9443/convert")));
}
