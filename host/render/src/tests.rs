//! Pipeline tests: every anchor example under every orchestrator that applies, output order,
//! byte-stable YAML, errors, plugin findings and extra objects.

use std::collections::{BTreeMap, BTreeSet};

use dynamo_plugin_contract::{PluginError, Severity};
use serde_json::Value;

use crate::object::compare;
use crate::testing::{FakePlugins, RENDERED_BY, graph, graphs_from_yaml};
use crate::*;

mod serving;

/// Every DynamoGraphDeployment of every anchor file, with its file name.
fn anchors() -> Vec<(String, DynamoGraphDeployment)> {
    let mut graphs = Vec::new();
    for example in dynamo_fixtures::anchor_examples() {
        let name = format!("{}.yaml", example.name);
        for dgd in graphs_from_yaml(&example.text).unwrap_or_else(|e| panic!("{name}: {e}")) {
            graphs.push((name.clone(), dgd));
        }
    }
    assert!(
        graphs.len() >= 11,
        "expected the 11 anchor graphs, found {}",
        graphs.len()
    );
    graphs
}

fn is_multinode(dgd: &DynamoGraphDeployment) -> bool {
    dgd.components().iter().any(|c| c.multinode.is_some())
}

/// Pod templates of the rendered workloads, by `kind/name[/role]`.
fn pod_templates(objects: &[Object]) -> Vec<(String, Value)> {
    let mut pods = Vec::new();
    for o in objects {
        let m = o.manifest();
        let id = format!("{}/{}", o.kind(), o.name());
        match o.kind() {
            "Deployment" => pods.push((id, m["spec"]["template"].clone())),
            "LeaderWorkerSet" => {
                let t = &m["spec"]["leaderWorkerTemplate"];
                pods.push((format!("{id}/leader"), t["leaderTemplate"].clone()));
                pods.push((format!("{id}/worker"), t["workerTemplate"].clone()));
            }
            "PodCliqueSet" => {
                for clique in m["spec"]["template"]["cliques"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    pods.push((
                        format!("{id}/{}", clique["name"].as_str().unwrap_or_default()),
                        serde_json::json!({
                            "metadata": { "labels": clique["labels"], "annotations": clique["annotations"] },
                            "spec": clique["spec"]["podSpec"],
                        }),
                    ));
                }
            }
            _ => {}
        }
    }
    pods
}

fn check_structure(
    file: &str,
    orchestrator: Orchestrator,
    dgd: &DynamoGraphDeployment,
    out: &Rendered,
) {
    let ctx = format!("{file} under {orchestrator}");
    let graph_name = dgd.metadata.name.clone().unwrap_or_default();
    assert!(!out.objects.is_empty(), "{ctx}");
    for pair in out.objects.windows(2) {
        assert_ne!(
            compare(&pair[0], &pair[1]),
            std::cmp::Ordering::Greater,
            "{ctx}: order"
        );
        assert!(
            !(pair[0].kind() == pair[1].kind() && pair[0].name() == pair[1].name()),
            "{ctx}: duplicate {}/{}",
            pair[0].kind(),
            pair[0].name()
        );
    }
    for o in &out.objects {
        let m = o.manifest();
        assert_eq!(m["apiVersion"], o.api_version(), "{ctx}");
        assert_eq!(m["kind"], o.kind(), "{ctx}");
        assert_eq!(m["metadata"]["name"], o.name(), "{ctx}");
        assert_eq!(m["metadata"]["namespace"], "default", "{ctx}");
        assert!(m["metadata"].get("ownerReferences").is_none(), "{ctx}");
    }
    let kinds: BTreeSet<&str> = out.objects.iter().map(Object::kind).collect();
    let services = dgd.components().to_vec();
    match orchestrator {
        Orchestrator::Grove => {
            assert!(kinds.contains("PodCliqueSet"), "{ctx}");
            assert!(
                !kinds.contains("Deployment") && !kinds.contains("DynamoComponentDeployment"),
                "{ctx}"
            );
        }
        _ => {
            let dcds = out
                .objects
                .iter()
                .filter(|o| o.kind() == "DynamoComponentDeployment")
                .count();
            assert_eq!(dcds, services.len(), "{ctx}: one DCD per service");
            assert!(!kinds.contains("PodCliqueSet"), "{ctx}");
        }
    }
    assert_eq!(
        kinds.contains("LeaderWorkerSet"),
        orchestrator == Orchestrator::Lws && is_multinode(dgd),
        "{ctx}"
    );
    // A graph behind the Inference Extension has no frontend of its own (its workers run one as
    // a sidecar); every other anchor has one, with its Service.
    let has_frontend = services
        .iter()
        .any(|s| s.component_type == Some(dynamo_api::ComponentType::Frontend));
    assert_eq!(
        out.objects
            .iter()
            .any(|o| o.kind() == "Service" && o.name() == format!("{graph_name}-frontend")),
        has_frontend,
        "{ctx}: frontend Service"
    );
    let pods = pod_templates(&out.objects);
    let expected_pods: usize = services
        .iter()
        .map(|s| match (s.multinode.is_some(), orchestrator) {
            (false, _) => 1,
            (true, Orchestrator::Lws) => 2 * usize::try_from(s.replicas.unwrap_or(1)).unwrap_or(0),
            (true, _) => 2,
        })
        .sum();
    assert_eq!(
        pods.len(),
        expected_pods,
        "{ctx}: {:?}",
        pods.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    for (id, pod) in &pods {
        let containers = pod["spec"]["containers"].as_array().expect("containers");
        // Failover pods run their engines as `engine-0`, `engine-1` instead of `main`.
        assert!(
            containers
                .iter()
                .any(|c| c["name"] == "main" || c["name"] == "engine-0"),
            "{ctx} {id}: main container"
        );
        let labels = &pod["metadata"]["labels"];
        assert_eq!(
            labels["nvidia.com/dynamo-graph-deployment-name"],
            graph_name.as_str(),
            "{ctx} {id}"
        );
        // LeaderWorkerSet selects its own pods: only the others carry `nvidia.com/selector`.
        assert_eq!(
            labels["nvidia.com/selector"].is_string(),
            !id.starts_with("LeaderWorkerSet/"),
            "{ctx} {id}: selector label"
        );
        if ["worker", "prefill", "decode"]
            .iter()
            .any(|t| labels["nvidia.com/dynamo-component-type"] == *t)
        {
            let chain = pod["metadata"]["annotations"][RENDERED_BY]
                .as_str()
                .unwrap_or_default();
            assert!(
                !chain.is_empty(),
                "{ctx} {id}: worker pods went through a plugin"
            );
        }
    }
    assert!(
        out.warnings.iter().all(|w| w.severity == Severity::Warning),
        "{ctx}"
    );
}

#[test]
fn every_anchor_renders_under_every_orchestrator_that_applies() {
    let plugins = FakePlugins::new();
    let mut rendered = 0;
    for (file, dgd) in anchors() {
        for orchestrator in Orchestrator::ALL {
            let config = RenderConfig::default().with_orchestrator(orchestrator);
            let result = render(&dgd, &config, &plugins);
            if orchestrator == Orchestrator::Deployment && is_multinode(&dgd) {
                let err = result.expect_err("multi-node needs LWS or Grove");
                assert!(
                    err.to_string()
                        .contains("no multinode orchestrator available"),
                    "{file}: {err}"
                );
                continue;
            }
            let out = result.unwrap_or_else(|e| panic!("{file} under {orchestrator}: {e}"));
            check_structure(&file, orchestrator, &dgd, &out);
            let again = render(&dgd, &config, &plugins).expect("second render");
            assert_eq!(
                to_yaml_stream(&out.objects).expect("prints"),
                to_yaml_stream(&again.objects).expect("prints"),
                "{file}: byte-stable"
            );
            rendered += 1;
        }
    }
    assert!(rendered >= 19, "rendered {rendered} combinations");
}

#[test]
fn multinode_anchors_request_their_extra_objects_once() {
    let anchors = anchors();
    let find = |file: &str| {
        anchors
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| panic!("{file}"))
    };
    let grove = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    let trt = render(
        &find("trtllm-disagg-multinode.yaml"),
        &grove,
        &FakePlugins::new(),
    )
    .expect("trtllm");
    assert_eq!(
        trt.ssh_key_secrets,
        ["mpi-run-ssh-secret"],
        "two services, one Secret"
    );
    let vllm = render(
        &find("vllm-disagg-multinode.yaml"),
        &grove,
        &FakePlugins::new(),
    )
    .expect("vllm");
    let config_maps: Vec<&str> = vllm
        .objects
        .iter()
        .filter(|o| o.kind() == "ConfigMap")
        .map(Object::name)
        .collect();
    assert_eq!(
        config_maps,
        [
            "vllm-disagg-vllm-settings",
            "vllm-disagg-wait-leader-script"
        ],
        "two services, one plugin ConfigMap; the host's wait-for-leader ConfigMap"
    );
    assert!(vllm.ssh_key_secrets.is_empty());
}

#[test]
fn failover_engines_publish_forward_pass_metrics_on_their_own_ports() {
    let (_, dgd) = anchors()
        .into_iter()
        .find(|(f, _)| f == "vllm-agg_failover.yaml")
        .expect("failover anchor");
    let out = render(&dgd, &RenderConfig::default(), &FakePlugins::new()).expect("render");
    let pods = pod_templates(&out.objects);
    let (_, pod) = pods
        .iter()
        .find(|(_, p)| p["spec"]["containers"][0]["name"] == "engine-0")
        .expect("failover pod");
    let port = |engine: usize| {
        pod["spec"]["containers"][engine]["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == "DYN_FORWARDPASS_METRIC_PORT")
            .map(|e| e["value"].clone())
    };
    assert_eq!(port(0), Some(Value::from("20380")));
    assert_eq!(port(1), Some(Value::from("20381")));
    // The memory server starts without a startup probe, as Dynamo 1.5 runs it.
    let server = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "gms-server")
        .expect("gms-server");
    assert_eq!(server["restartPolicy"], "Always");
    assert!(server.get("startupProbe").is_none(), "{server}");
}

const SMALL: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: team }
spec:
  components:
    - name: Frontend
      type: frontend
      podTemplate: { spec: { containers: [{ name: main, image: "fe:1.0.0" }] } }
    - name: decode
      type: worker
      multinode: { nodeCount: 2 }
      podTemplate:
        spec:
          containers:
            - { name: main, image: "w:1.0.0", command: [python3, -m, dynamo.trtllm], args: [--x] }
"#;

/// Field path of SMALL's `decode` component.
const DECODE: &str = "spec.components[1]";

fn grove() -> RenderConfig {
    RenderConfig::default().with_orchestrator(Orchestrator::Grove)
}

#[test]
fn yaml_stream_is_sorted_and_stable() {
    let out = render(&graph(SMALL), &grove(), &FakePlugins::new()).expect("render");
    let text = to_yaml_stream(&out.objects).expect("prints");
    let docs: Vec<&str> = text.split("---\n").collect();
    assert_eq!(docs.len(), out.objects.len());
    for doc in &docs {
        assert!(doc.starts_with("apiVersion: "), "keys sorted: {doc}");
        let top: Vec<&str> = doc
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(' ') && !l.starts_with('-'))
            .filter_map(|l| l.split(':').next())
            .collect();
        let mut sorted = top.clone();
        sorted.sort_unstable();
        assert_eq!(top, sorted);
    }
    assert!(text.contains("namespace: team"));
    assert_eq!(to_yaml_stream(&[]).expect("prints"), "");
    let kinds: Vec<&str> = out.objects.iter().map(Object::kind).collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "ConfigMap",
            "Service",
            "Service",
            "PodCliqueSet"
        ]
    );
}

#[test]
fn invalid_graphs_name_the_field() {
    let bad = SMALL.replace("type: worker", "type: worker\n      replicas: -1");
    let err = render(&graph(&bad), &grove(), &FakePlugins::new()).expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "spec.components[1].replicas: must be 0 or more, got -1"
    );
    assert!(matches!(err, RenderError::Invalid(_)));
    let two = bad.replace("nodeCount: 2", "nodeCount: 0");
    let err = render(&graph(&two), &grove(), &FakePlugins::new()).expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "2 errors: spec.components[1].replicas: must be 0 or more, got -1; \
         spec.components[1].multinode.nodeCount: must be at least 2, got 0"
    );
}

#[test]
fn plugin_failures_name_the_service_and_plugin() {
    let plugins = FakePlugins::new().failing("mpi", PluginError::unsupported("no ssh"));
    let err = render(&graph(SMALL), &grove(), &plugins).expect_err("fails");
    assert_eq!(
        err.to_string(),
        "spec.components[1]: plugin `mpi` failed: unsupported: no ssh"
    );
}

#[test]
fn plugin_findings_block_or_warn() {
    let plugins = FakePlugins::new()
        .with_findings(
            "trtllm",
            vec![dynamo_plugin_contract::Diagnostic::warning(
                "spec.services.decode",
                "slow",
            )],
        )
        .with_warnings("mpi", vec!["ssh on 2222".into()])
        // What an SDK's validate-first render returns: the finding `validate` reported.
        .with_warnings("trtllm", vec!["spec.services.decode: slow".into()]);
    let out = render(&graph(SMALL), &grove(), &plugins).expect("warnings only");
    let warnings: Vec<(String, String)> = out
        .warnings
        .iter()
        .map(|d| (d.field_path.clone(), d.message.clone()))
        .collect();
    assert_eq!(
        warnings,
        [
            // The plugin named its field in v1alpha1 terms; the user reads the component's.
            ("spec.components[1]".to_owned(), "slow".to_owned()),
            (DECODE.to_owned(), "mpi: ssh on 2222".to_owned()),
        ],
        "each warning once: across roles, and a render repeating a validate finding; a \
         render warning is the component's"
    );
    let calls = plugins.calls();
    let first_render = calls
        .iter()
        .position(|c| c.function == "render")
        .expect("renders");
    assert!(
        calls[..first_render]
            .iter()
            .all(|c| c.function == "validate"),
        "validate before render"
    );
    let rendered: Vec<(String, dynamo_plugin_contract::Role)> = calls[first_render..]
        .iter()
        .map(|c| (c.plugin.clone(), c.role))
        .collect();
    use dynamo_plugin_contract::Role::{Leader, Worker};
    assert_eq!(
        rendered,
        [
            ("trtllm".to_owned(), Leader),
            ("mpi".to_owned(), Leader),
            ("trtllm".to_owned(), Worker),
            ("mpi".to_owned(), Worker),
        ]
    );

    let blocking = FakePlugins::new().with_findings(
        "mpi",
        vec![dynamo_plugin_contract::Diagnostic::error(
            "spec.services.decode.resources",
            "needs GPUs",
        )],
    );
    let err = render(&graph(SMALL), &grove(), &blocking).expect_err("blocked");
    assert_eq!(
        err.to_string(),
        "spec.components[1].podTemplate.spec.containers[main].resources: needs GPUs"
    );
    assert!(
        blocking.calls().iter().all(|c| c.function == "validate"),
        "nothing rendered"
    );
}

#[test]
fn check_reports_host_then_plugin_diagnostics() {
    let plugins = FakePlugins::new().with_findings(
        "trtllm",
        vec![dynamo_plugin_contract::Diagnostic::error(
            "spec.services.decode",
            "bad",
        )],
    );
    let found = check(&graph(SMALL), &grove(), &plugins);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].message, "bad");
    let host_error = SMALL.replace("nodeCount: 2", "nodeCount: 1");
    let found = check(&graph(&host_error), &grove(), &plugins);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field_path, format!("{DECODE}.multinode.nodeCount"));
    assert!(check(&graph(SMALL), &grove(), &FakePlugins::new()).is_empty());
}

#[test]
fn namespace_comes_from_metadata_or_config() {
    let out = render(&graph(SMALL), &grove(), &FakePlugins::new()).expect("render");
    assert!(out.objects.iter().all(|o| o.namespace() == "team"));
    let unnamespaced = SMALL.replace("namespace: team", "labels: {}");
    let config = grove().with_default_namespace("fallback");
    let out = render(&graph(&unnamespaced), &config, &FakePlugins::new()).expect("render");
    assert!(out.objects.iter().all(|o| o.namespace() == "fallback"));
}

/// Pod Security Standards: a plugin may not lower the level the host's pod had.
mod pod_security_levels {
    use dynamo_plugin_contract::Capability;
    use serde_json::json;

    use super::*;

    const AGG: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: team }
spec:
  services:
    decode:
      componentType: worker
      extraPodSpec: { mainContainer: { image: vllm:1, command: [python3, -m, dynamo.vllm] } }
"#;

    #[test]
    fn a_plugin_that_breaks_baseline_is_stopped_unless_granted() {
        let plugins = FakePlugins::new().with_edit("vllm", "/spec/hostNetwork", json!(true));
        let error = render(&graph(AGG), &grove(), &plugins).expect_err("lowered");
        let text = error.to_string();
        assert!(text.contains("vllm"), "{text}");
        assert!(
            text.contains("baseline") && text.contains("spec.hostNetwork"),
            "{text}"
        );

        let granted = FakePlugins::new()
            .with_edit("vllm", "/spec/hostNetwork", json!(true))
            .with_granted("vllm", vec![Capability::HostNamespaces]);
        assert!(render(&graph(AGG), &grove(), &granted).is_ok());
    }

    #[test]
    fn a_hardened_pod_keeps_restricted() {
        let hardened = AGG.replace(
            "extraPodSpec: { mainContainer: { image: vllm:1, command: [python3, -m, dynamo.vllm] } }",
            "extraPodSpec:\n        securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }\n        mainContainer:\n          image: vllm:1\n          command: [python3, -m, dynamo.vllm]\n          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }",
        );
        assert!(render(&graph(&hardened), &grove(), &FakePlugins::new()).is_ok());
        let weakening = FakePlugins::new().with_edit(
            "vllm",
            "/spec/containers/0/securityContext",
            json!({"allowPrivilegeEscalation": true}),
        );
        let error = render(&graph(&hardened), &grove(), &weakening).expect_err("lowered");
        assert!(error.to_string().contains("restricted"), "{error}");
    }
}

/// No user or plugin string can add a document to the rendered stream, and names are checked as
/// Kubernetes checks them.
mod injection {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    const PAYLOAD: &str = "x\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: pwn}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n# ";

    fn graph_with(value: &str) -> DynamoGraphDeployment {
        let quoted = serde_json::to_string(value).expect("json string");
        let text = format!(
            r#"{{"apiVersion":"nvidia.com/v1beta1","kind":"DynamoGraphDeployment",
            "metadata":{{"name":"g","namespace":"team","annotations":{{"example.com/a":{quoted}}}}},
            "spec":{{"annotations":{{"example.com/b":{quoted}}},
              "env":[{{"name":"E","value":{quoted}}}],
              "components":[
                {{"name":"Frontend","type":"frontend",
                  "podTemplate":{{"spec":{{"containers":[{{"name":"main","image":{quoted}}}]}}}}}},
                {{"name":"decode","type":"worker",
                  "podTemplate":{{"spec":{{"containers":[{{"name":"main","image":"i",
                    "command":["python3","-m","dynamo.vllm"],"args":[{quoted}],"workingDir":{quoted},
                    "envFrom":[{{"secretRef":{{"name":"s"}}}}]}}]}}}}}}]}}}}"#
        );
        let value: Value = serde_json::from_str(&text).expect("a JSON graph");
        crate::input::graph(value).expect("a v1beta1 graph")
    }

    /// Documents of a stream, parsed back.
    fn documents(stream: &str) -> Vec<Value> {
        serde_yaml_ng::Deserializer::from_str(stream)
            .map(|d| <Value as serde::Deserialize>::deserialize(d).expect("valid YAML"))
            .filter(|v| !v.is_null())
            .collect()
    }

    fn assert_no_extra_document(dgd: &DynamoGraphDeployment) {
        let Ok(out) = render(dgd, &grove(), &FakePlugins::new()) else {
            return;
        };
        let stream = to_yaml_stream(&out.objects).expect("prints");
        let docs = documents(&stream);
        assert_eq!(docs.len(), out.objects.len(), "{stream}");
        for (doc, object) in docs.iter().zip(&out.objects) {
            assert_eq!(doc["kind"], object.kind());
            assert_eq!(doc["metadata"]["name"], object.name());
        }
    }

    #[test]
    fn a_document_separator_in_every_user_string_stays_inside_its_string() {
        let dgd = graph_with(PAYLOAD);
        let out = render(&dgd, &grove(), &FakePlugins::new()).expect("renders");
        let stream = to_yaml_stream(&out.objects).expect("prints");
        assert!(
            stream.contains("ClusterRoleBinding"),
            "the payload is in a string"
        );
        assert_no_extra_document(&dgd);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        #[test]
        fn random_strings_never_add_a_document(value in "[-\n\r\t:#'\"{}\\[\\],!&*|>%@`?a-zA-Z0-9 é\u{2028}]{0,40}") {
            assert_no_extra_document(&graph_with(&value));
        }
    }

    #[test]
    fn names_and_namespaces_are_kubernetes_names() {
        let with_meta = |name: &str, namespace: &str| {
            let mut dgd = graph(SMALL);
            dgd.metadata.name = Some(name.to_owned());
            dgd.metadata.namespace = Some(namespace.to_owned());
            dgd
        };
        let long = "a".repeat(300);
        for (name, namespace, field) in [
            (
                "g",
                "team\n---\nkind: ClusterRoleBinding",
                "metadata.namespace",
            ),
            ("g", "Team", "metadata.namespace"),
            ("../../kube-system/x", "team", "metadata.name"),
            (long.as_str(), "team", "metadata.name"),
            ("a b", "team", "metadata.name"),
            ("grâph", "team", "metadata.name"),
            ("0graph", "team", "metadata.name"),
        ] {
            let error =
                render(&with_meta(name, namespace), &grove(), &FakePlugins::new()).expect_err(name);
            let RenderError::Invalid(found) = &error else {
                panic!("{name:?}: {error}");
            };
            assert!(
                found.iter().any(|d| d.field_path == field),
                "{name:?}: {found:?}"
            );
            assert!(!error.to_string().contains("\n---\n"), "{error}");
        }
    }

    #[test]
    fn derived_names_too_long_for_a_service_are_admitted_but_not_rendered() {
        // 50 + "-" + "decode" = 57 fits a Service, but the worker's component adds
        // "-<8 hex>". As with Dynamo's operator, admission accepts the graph off Grove (a
        // DynamoComponentDeployment name may be a long DNS subdomain); the names the render
        // derives from it (its workload, selector and Service) cannot be, so the render fails
        // naming the Service, whose name users know (Dynamo does not shorten it either).
        let mut dgd = graph(SMALL);
        dgd.metadata.name = Some("g".repeat(50));
        if let Some(decode) = dgd.component_mut("decode") {
            decode.multinode = None;
            decode.component_type = Some(dynamo_api::ComponentType::Worker);
        }
        let config = RenderConfig::default();
        let found = check(&dgd, &config, &FakePlugins::new());
        assert!(
            found.iter().all(|d| d.severity != Severity::Error),
            "{found:?}"
        );
        let error = render(&dgd, &config, &FakePlugins::new()).expect_err("too long");
        let text = error.to_string();
        assert!(
            text.starts_with(&format!(
                "metadata.name: the rendered Service name `{}-decode-",
                "g".repeat(50)
            )) && text.contains("is 66 characters and Kubernetes allows 63"),
            "{text}"
        );
        // Shorter, everything renders. (41 is the longest graph name with Kubernetes discovery
        // on: its ServiceAccount is labelled `<graph>-k8s-service-discovery`, as Dynamo's is.)
        dgd.metadata.name = Some("g".repeat(41));
        render(&dgd, &config, &FakePlugins::new()).expect("fits");
    }
}

/// The controller's restart token reaches the component's pod template (and so its pods), on
/// the DCD it renders alone from too, without renaming a generation of workers.
#[test]
fn the_restart_token_goes_into_the_pod_template_of_its_component() {
    use dynamo_api::DynamoComponentDeployment;

    let dgd = graph(&SMALL.replace("multinode: { nodeCount: 2 }", "replicas: 1"));
    let config = RenderConfig::default();
    let plain = render(&dgd, &config, &FakePlugins::new()).expect("render");
    let overrides = Overrides {
        service_annotations: BTreeMap::from([(
            "decode".to_owned(),
            BTreeMap::from([(keys::annotation::RESTART_AT.to_owned(), "r1".to_owned())]),
        )]),
        ..Overrides::default()
    };
    let restarted = render_with(&dgd, &config, &FakePlugins::new(), &overrides).expect("render");
    let names = |r: &Rendered| -> Vec<String> {
        r.objects
            .iter()
            .map(|o| format!("{}/{}", o.kind(), o.name()))
            .collect()
    };
    assert_eq!(
        names(&restarted),
        names(&plain),
        "a restart renames nothing: the worker hash is the spec's"
    );
    let find = |kind: &str, prefix: &str| {
        restarted
            .objects
            .iter()
            .find(|o| o.kind() == kind && o.name().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {kind} {prefix}*"))
    };
    let token = |annotations: &Value| annotations[keys::annotation::RESTART_AT].clone();
    let deployment = find("Deployment", "g-decode-").manifest();
    assert_eq!(
        token(&deployment["spec"]["template"]["metadata"]["annotations"]),
        "r1"
    );
    let dcd = find("DynamoComponentDeployment", "g-decode-");
    assert_eq!(
        token(&dcd.manifest()["spec"]["podTemplate"]["metadata"]["annotations"]),
        "r1"
    );
    let frontend = find("Deployment", "g-frontend").manifest();
    assert_eq!(
        token(&frontend["spec"]["template"]["metadata"]["annotations"]),
        Value::Null,
        "only the component restarted"
    );
    // The DCD's own render restarts the same pods.
    let dcd: DynamoComponentDeployment = dcd.to_typed().expect("a DCD");
    let alone = render_component(&dcd, &config, &FakePlugins::new()).expect("render");
    let alone = alone
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment")
        .expect("its Deployment");
    assert_eq!(alone.manifest(), deployment);
}

/// A DCD rendered on its own (its controller) gives exactly what the graph render printed for it.
#[test]
fn every_component_renders_alone_as_in_its_graph() {
    use dynamo_api::DynamoComponentDeployment;

    let mut compared = 0;
    for (file, dgd) in anchors() {
        for orchestrator in [Orchestrator::Deployment, Orchestrator::Lws] {
            let config = RenderConfig::default()
                .with_orchestrator(orchestrator)
                .with_operator_version("1.1.0");
            let plugins = FakePlugins::new();
            let Ok(graph) = render(&dgd, &config, &plugins) else {
                continue;
            };
            let by_key = |objects: &[Object]| -> BTreeMap<(String, String), Value> {
                objects
                    .iter()
                    .map(|o| {
                        (
                            (o.kind().to_owned(), o.name().to_owned()),
                            o.manifest().clone(),
                        )
                    })
                    .collect()
            };
            let graph_objects = by_key(&graph.objects);
            for object in graph
                .objects
                .iter()
                .filter(|o| o.kind() == "DynamoComponentDeployment")
            {
                let dcd: DynamoComponentDeployment = object.to_typed().expect("a DCD");
                let alone = crate::render_component(&dcd, &config, &plugins)
                    .unwrap_or_else(|e| panic!("{file} {orchestrator} {}: {e}", object.name()));
                assert!(
                    !alone.objects.is_empty(),
                    "{file}: {} owns nothing",
                    object.name()
                );
                for (key, manifest) in by_key(&alone.objects) {
                    let expected = graph_objects.get(&key).unwrap_or_else(|| {
                        panic!("{file} {orchestrator}: {key:?} is not in the graph render")
                    });
                    assert_eq!(
                        &manifest, expected,
                        "{file} {orchestrator}: {key:?} differs when rendered from its DCD"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared >= 20, "compared {compared} objects");
}
