use dynamo_plugin_contract::{Serving, ServingPort};

use super::*;

fn backend() -> Metadata {
    Metadata {
        name: "tgi".into(),
        version: "0.1.0".into(),
        kind: PluginKind::Backend,
        frameworks: vec!["tgi".into()],
        ..Metadata::default()
    }
}

fn serving(ports: &[(&str, u16)], health: Option<&str>) -> Serving {
    Serving {
        dynamo_runtime: false,
        ports: ports
            .iter()
            .map(|(n, p)| ServingPort::new(*n, *p))
            .collect(),
        health_path: health.map(str::to_owned),
    }
}

fn load_error(m: &Metadata) -> String {
    check_metadata(m, "tgi.wasm")
        .expect_err("refused")
        .to_string()
}

#[test]
fn a_serving_declaration_must_be_what_kubernetes_accepts() {
    let mut m = backend();
    m.serving = Some(serving(
        &[("http", 8080), ("metrics", 9000)],
        Some("/health"),
    ));
    check_metadata(&m, "tgi.wasm").expect("valid");

    let cases = [
        (
            serving(&[("HTTP", 8080)], None),
            "is not a Kubernetes port name",
        ),
        (
            serving(&[("a-very-long-port-name", 8080)], None),
            "is not a Kubernetes port name",
        ),
        (serving(&[("http", 0)], None), "has number 0"),
        (
            serving(&[("http", 8080), ("http", 8081)], None),
            "declared twice",
        ),
        (
            serving(&[("http", 8080), ("web", 8080)], None),
            "declared twice",
        ),
        (
            serving(&[("http", 8080)], Some("health")),
            "must start with '/'",
        ),
        (
            serving(&[("http", 8080)], Some("/a b")),
            "must start with '/'",
        ),
        (serving(&[], Some("/health")), "needs a port to probe"),
    ];
    for (declared, expected) in cases {
        m.serving = Some(declared.clone());
        let error = load_error(&m);
        assert!(error.contains(expected), "{declared:?}: {error}");
        assert!(error.contains("serving"), "{error}");
    }

    m.serving = Some(Serving {
        dynamo_runtime: true,
        ..serving(&[("system", 9091)], None)
    });
    assert!(load_error(&m).contains("taken by the Dynamo runtime"));
    m.serving = Some(Serving {
        dynamo_runtime: true,
        ..serving(&[("http", 8080)], Some("/health"))
    });
    assert!(load_error(&m).contains("keeps its probes on the `system` port"));

    let mut launcher = backend();
    launcher.kind = PluginKind::Launcher;
    launcher.frameworks.clear();
    launcher.serving = Some(serving(&[("http", 8080)], None));
    assert!(load_error(&launcher).contains("only backends declare"));
}

#[test]
fn annotation_prefixes_start_with_a_domain() {
    let mut m = backend();
    m.annotation_prefixes = vec![
        "example.com/".into(),
        "example.com/tgi-".into(),
        "a.b.c/x_y.z".into(),
    ];
    check_metadata(&m, "tgi.wasm").expect("valid");
    for bad in [
        "example.com",
        "",
        "/tgi-",
        "Example.com/",
        "example..com/",
        "example.com/a/b",
        "-x.com/",
    ] {
        m.annotation_prefixes = vec![bad.into()];
        let error = load_error(&m);
        assert!(error.contains("annotation prefix"), "{bad:?}: {error}");
    }
    m.annotation_prefixes = (0..9).map(|i| format!("e{i}.com/")).collect();
    assert!(load_error(&m).contains("at most 8"));
}
