//! Tests of the rendered objects per orchestrator: DCDs, Deployments, Services, Ingress,
//! LeaderWorkerSets, the Grove PodCliqueSet and discovery RBAC.

use dynamo_api::DynamoComponentDeployment;
use serde_json::Value;

use crate::config::{DiscoveryBackend, Orchestrator, RenderConfig};
use crate::legacy::LegacyService;
use crate::object::Object;
use crate::testing::{FakePlugins, graph};
use crate::{Rendered, render};

fn render_with(yaml: &str, config: &RenderConfig) -> Rendered {
    render(&graph(yaml), config, &FakePlugins::new()).expect("render")
}

fn render_for(yaml: &str, orchestrator: Orchestrator) -> Rendered {
    render_with(
        yaml,
        &RenderConfig::default().with_orchestrator(orchestrator),
    )
}

/// The one object of `kind` whose name starts with `prefix` (names carrying the worker hash).
fn find_prefix<'a>(rendered: &'a Rendered, kind: &str, prefix: &str) -> &'a Value {
    rendered
        .objects
        .iter()
        .find(|o| o.kind() == kind && o.name().starts_with(prefix))
        .map(Object::manifest)
        .unwrap_or_else(|| panic!("no {kind} {prefix}* in {:?}", names(rendered)))
}

fn find<'a>(rendered: &'a Rendered, kind: &str, name: &str) -> &'a Value {
    rendered
        .objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .map(Object::manifest)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:?}", names(rendered)))
}

/// What a rendered (`v1beta1`) DCD carries for `v1alpha1` only, read back as its component's
/// render reads it.
fn carried(dcd: &Value) -> LegacyService {
    let dcd: DynamoComponentDeployment =
        serde_json::from_value(dcd.clone()).expect("a v1beta1 DynamoComponentDeployment");
    LegacyService::of_component(&dcd).expect("the carried v1alpha1 facts")
}

fn names(rendered: &Rendered) -> Vec<String> {
    rendered
        .objects
        .iter()
        .map(|o| format!("{}/{}", o.kind(), o.name()))
        .collect()
}

fn of_kind(rendered: &Rendered, kind: &str) -> Vec<String> {
    rendered
        .objects
        .iter()
        .filter(|o| o.kind() == kind)
        .map(|o| o.name().to_owned())
        .collect()
}

const DISAGG: &str = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata:
  name: g
  namespace: ns
  annotations: { nvidia.com/enable-metrics: "true", unrelated: x }
spec:
  annotations: { owner: team }
  envs: [{ name: HF_HOME, value: /models }]
  services:
    Frontend:
      componentType: frontend
      extraPodSpec: { mainContainer: { image: fe } }
    Planner:
      componentType: planner
      extraPodSpec: { mainContainer: { image: planner } }
    decode:
      componentType: worker
      replicas: 2
      annotations:
        nvidia.com/deployment-rolling-update-max-surge: "1"
      resources: { limits: { gpu: "1" } }
      modelRef: { name: Qwen/Qwen3-0.6B }
      extraPodSpec: { mainContainer: { image: w, command: [python3, -m, dynamo.vllm], args: [--x] } }
    prefill:
      componentType: worker
      annotations: { nvidia.com/deployment-strategy: Recreate }
      modelRef: { name: Qwen/Qwen3-0.6B }
      resources: { limits: { gpu: "1" } }
      extraPodSpec: { mainContainer: { image: w, command: [python3, -m, dynamo.vllm], args: [--y] } }
"#;

#[test]
fn deployment_mode_object_set() {
    let r = render_for(DISAGG, Orchestrator::Deployment);
    let dcds = of_kind(&r, "DynamoComponentDeployment");
    let deployments = of_kind(&r, "Deployment");
    assert_eq!(dcds, deployments, "one Deployment per DCD, same name");
    assert_eq!(dcds.len(), 4);
    let hash = dcds[0]
        .strip_prefix("g-decode-")
        .expect("sorted by name: decode first");
    assert_eq!(hash.len(), 8);
    assert_eq!(
        dcds,
        [
            format!("g-decode-{hash}"),
            "g-frontend".to_owned(),
            "g-planner".to_owned(),
            format!("g-prefill-{hash}"),
        ],
        "workers share the graph's worker hash"
    );
    assert_eq!(
        of_kind(&r, "Service"),
        [
            "dynamo-model-fb68f5a6".to_owned(),
            format!("g-decode-{hash}"),
            "g-frontend".to_owned(),
            "g-planner".to_owned(),
            format!("g-prefill-{hash}"),
        ],
        "worker Services carry the worker hash, like their components"
    );
    assert_eq!(of_kind(&r, "ServiceAccount"), ["g-k8s-service-discovery"]);
    assert_eq!(of_kind(&r, "Role"), ["g-k8s-service-discovery-role"]);
    assert_eq!(
        of_kind(&r, "RoleBinding"),
        ["g-k8s-service-discovery-binding"]
    );
    assert!(of_kind(&r, "Ingress").is_empty());
    assert!(of_kind(&r, "LeaderWorkerSet").is_empty());
}

#[test]
fn dcd_shape() {
    let r = render_for(DISAGG, Orchestrator::Deployment);
    let name = of_kind(&r, "DynamoComponentDeployment")
        .into_iter()
        .find(|n| n.starts_with("g-decode-"))
        .expect("decode dcd");
    let dcd = find(&r, "DynamoComponentDeployment", &name);
    assert_eq!(dcd["apiVersion"], "nvidia.com/v1beta1");
    let hash = &name["g-decode-".len()..];
    let labels = &dcd["metadata"]["labels"];
    assert_eq!(labels["nvidia.com/dynamo-component"], "decode");
    assert_eq!(labels["nvidia.com/dynamo-namespace"], "ns-g");
    assert_eq!(labels["nvidia.com/dynamo-graph-deployment-name"], "g");
    assert_eq!(labels["nvidia.com/dynamo-worker-hash"], hash);
    assert_eq!(dcd["metadata"]["annotations"]["owner"], "team");
    let spec = &dcd["spec"];
    assert_eq!(
        spec["backendFramework"], "vllm",
        "the framework detected from the workers, named on every component as Dynamo 1.5 does"
    );
    assert_eq!(spec["name"], "decode");
    assert_eq!(spec["type"], "worker");
    assert_eq!(spec["replicas"], 2);
    assert_eq!(spec["modelRef"]["name"], "Qwen/Qwen3-0.6B");
    let template = &spec["podTemplate"];
    assert_eq!(
        template["metadata"]["labels"]["nvidia.com/dynamo-worker-hash"],
        hash
    );
    let annotations = &template["metadata"]["annotations"];
    assert_eq!(
        annotations["nvidia.com/enable-metrics"], "true",
        "propagated switch"
    );
    assert_eq!(annotations["owner"], "team");
    assert!(annotations.get("unrelated").is_none());
    let main = &template["spec"]["containers"][0];
    assert_eq!(main["name"], "main");
    assert_eq!(main["image"], "w");
    assert_eq!(main["env"][0]["name"], "HF_HOME", "graph env merged");
    assert_eq!(main["resources"]["limits"]["nvidia.com/gpu"], "1");
    // What only v1alpha1 can hold rides in the conversion's payload, for the component's own
    // render.
    assert!(
        dcd["metadata"]["annotations"]
            .get("nvidia.com/dcd-spec")
            .is_some()
    );
    let carried = carried(dcd);
    assert_eq!(
        carried
            .annotations
            .get("nvidia.com/deployment-rolling-update-max-surge")
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(
        carried
            .annotations
            .get("nvidia.com/enable-metrics")
            .map(String::as_str),
        Some("true")
    );

    let planner = find(&r, "DynamoComponentDeployment", "g-planner");
    assert_eq!(
        planner["spec"]["podTemplate"]["spec"]["serviceAccountName"],
        "planner-serviceaccount"
    );
    assert_eq!(planner["spec"]["type"], "planner");
    assert!(
        planner["metadata"]["labels"]
            .get("nvidia.com/dynamo-worker-hash")
            .is_none()
    );
}

#[test]
fn a_graph_naming_no_framework_and_running_no_known_backend_names_none_on_its_components() {
    let yaml = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  components:
    - name: Frontend
      type: frontend
      podTemplate: { spec: { containers: [{ name: main, image: fe }] } }
"#;
    let r = render_for(yaml, Orchestrator::Deployment);
    let dcd = find(&r, "DynamoComponentDeployment", "g-frontend");
    assert!(dcd["spec"].get("backendFramework").is_none(), "{dcd}");

    // Workers that disagree on the backend leave it to each component's detection.
    let mixed = format!(
        "{yaml}    - name: a\n      type: worker\n      podTemplate: {{ spec: {{ containers: [{{ name: main, image: w, command: [python3, -m, dynamo.vllm] }}] }} }}\n    - name: b\n      type: worker\n      podTemplate: {{ spec: {{ containers: [{{ name: main, image: w, command: [python3, -m, dynamo.sglang] }}] }} }}\n"
    );
    let r = render_for(&mixed, Orchestrator::Deployment);
    for dcd in of_kind(&r, "DynamoComponentDeployment") {
        let dcd = find(&r, "DynamoComponentDeployment", &dcd);
        assert!(dcd["spec"].get("backendFramework").is_none(), "{dcd}");
    }
}

#[test]
fn deployment_shape_and_strategy() {
    let r = render_for(DISAGG, Orchestrator::Deployment);
    let fe = find(&r, "Deployment", "g-frontend");
    assert_eq!(fe["spec"]["replicas"], 1);
    assert_eq!(
        fe["spec"]["selector"]["matchLabels"]["nvidia.com/selector"],
        "g-frontend"
    );
    assert_eq!(
        fe["spec"]["template"]["metadata"]["labels"]["nvidia.com/selector"],
        "g-frontend"
    );
    assert_eq!(fe["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(fe["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    assert_eq!(
        fe["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        "25%"
    );
    let decode = of_kind(&r, "Deployment")
        .into_iter()
        .find(|n| n.starts_with("g-decode"))
        .expect("decode");
    let decode = find(&r, "Deployment", &decode);
    assert_eq!(decode["spec"]["replicas"], 2);
    assert_eq!(decode["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
    let prefill = of_kind(&r, "Deployment")
        .into_iter()
        .find(|n| n.starts_with("g-prefill"))
        .expect("prefill");
    let prefill = find(&r, "Deployment", &prefill);
    assert_eq!(prefill["spec"]["strategy"]["type"], "Recreate");
    assert!(prefill["spec"]["strategy"].get("rollingUpdate").is_none());
}

#[test]
fn services_ports_and_selectors() {
    let r = render_for(DISAGG, Orchestrator::Deployment);
    let fe = find(&r, "Service", "g-frontend");
    assert_eq!(fe["spec"]["ports"][0]["name"], "http");
    assert_eq!(fe["spec"]["ports"][0]["port"], 8000);
    assert_eq!(fe["spec"]["ports"][0]["targetPort"], "http");
    let selector = &fe["spec"]["selector"];
    assert_eq!(selector["nvidia.com/dynamo-component"], "Frontend");
    assert_eq!(selector["nvidia.com/dynamo-component-type"], "frontend");
    assert_eq!(selector["nvidia.com/dynamo-namespace"], "ns-g");
    assert_eq!(
        fe["metadata"]["labels"]["nvidia.com/dynamo-discovery-enabled"],
        "true"
    );
    let decode = find_prefix(&r, "Service", "g-decode-");
    assert_eq!(decode["spec"]["ports"][0]["name"], "system");
    assert_eq!(decode["spec"]["ports"][0]["port"], 9090);
    assert!(
        decode["spec"]["selector"]
            .get("nvidia.com/dynamo-worker-hash")
            .is_none(),
        "Services span worker hashes"
    );
    let model = find(&r, "Service", "dynamo-model-fb68f5a6");
    assert_eq!(model["spec"]["clusterIP"], "None");
    assert_eq!(
        model["spec"]["selector"]["nvidia.com/dynamo-base-model-hash"],
        "fb68f5a6"
    );
    assert_eq!(
        model["metadata"]["annotations"]["nvidia.com/dynamo-base-model"],
        "Qwen/Qwen3-0.6B"
    );
    assert_eq!(model["spec"]["ports"][0]["port"], 9090);

    let mut etcd = RenderConfig::default();
    etcd.operator.discovery.backend = DiscoveryBackend::Etcd;
    let r = render_with(DISAGG, &etcd);
    assert_eq!(
        of_kind(&r, "Service"),
        ["dynamo-model-fb68f5a6", "g-frontend"],
        "etcd: frontend only"
    );
    assert!(of_kind(&r, "ServiceAccount").is_empty());
    assert!(of_kind(&r, "Role").is_empty());
}

/// A disaggregated graph with an endpoint picker, as Dynamo 1.5's examples write one.
const GAIE: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  components:
    - name: Epp
      type: epp
      eppConfig: { configMapRef: { name: c, key: k } }
      podTemplate: { spec: { containers: [{ name: main, image: epp }] } }
    - name: Decode
      type: decode
      modelRef: { name: Qwen/Qwen3-0.6B }
      podTemplate: { spec: { containers: [{ name: main, image: w, command: [python3, -m, dynamo.vllm] }] } }
"#;

#[test]
fn workloads_and_services_are_labelled_and_annotated_as_dynamo_1_5_does() {
    let config = RenderConfig::default().with_operator_version("1.1.0");
    let r = render_with(GAIE, &config);
    let dcd = find_prefix(&r, "DynamoComponentDeployment", "g-decode-");
    let deployment = find_prefix(&r, "Deployment", "g-decode-");
    let service = find_prefix(&r, "Service", "g-decode-");
    // The component keeps its origin version (on its pod template, as Dynamo 1.5 writes it);
    // its workload, Service and pods do not.
    assert_eq!(
        dcd["spec"]["podTemplate"]["metadata"]["annotations"]["nvidia.com/dynamo-operator-origin-version"],
        "1.1.0"
    );
    for (what, meta) in [
        ("Deployment", &deployment["metadata"]),
        ("pod", &deployment["spec"]["template"]["metadata"]),
        ("Service", &service["metadata"]),
    ] {
        let annotations = &meta["annotations"];
        assert!(
            annotations
                .get("nvidia.com/dynamo-operator-origin-version")
                .is_none(),
            "{what}: {annotations}"
        );
        assert_eq!(
            annotations["nvidia.com/dynamo-base-model"], "Qwen/Qwen3-0.6B",
            "{what}"
        );
        let labels = &meta["labels"];
        assert_eq!(
            labels["nvidia.com/dynamo-sub-component-type"], "decode",
            "{what}"
        );
        assert_eq!(
            labels["nvidia.com/dynamo-component-class"], "worker",
            "{what}"
        );
        assert_eq!(
            labels["nvidia.com/dynamo-base-model-hash"], "fb68f5a6",
            "{what}"
        );
    }
    // The component itself carries the class, not the sub-component type.
    let labels = &dcd["metadata"]["labels"];
    assert_eq!(labels["nvidia.com/dynamo-component-class"], "worker");
    assert!(labels.get("nvidia.com/dynamo-sub-component-type").is_none());
    // Pods and the Service selector speak the decode type.
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"]["nvidia.com/dynamo-component-type"],
        "decode"
    );
    assert_eq!(
        service["spec"]["selector"]["nvidia.com/dynamo-component-type"],
        "decode"
    );

    // The endpoint picker: no Istio sidecar, on its Deployment, pods and Service.
    let epp = find(&r, "Deployment", "g-epp");
    for meta in [&epp["metadata"], &epp["spec"]["template"]["metadata"]] {
        assert_eq!(meta["annotations"]["sidecar.istio.io/inject"], "false");
    }
    assert_eq!(
        find(&r, "Service", "g-epp")["metadata"]["annotations"]["sidecar.istio.io/inject"],
        "false"
    );
    // Its pool selects the workers by class, prefill and decode alike.
    let pool = find(&r, "InferencePool", "g-pool");
    assert_eq!(
        pool["spec"]["selector"]["matchLabels"],
        serde_json::json!({
            "nvidia.com/dynamo-component-class": "worker",
            "nvidia.com/dynamo-namespace": "ns-g",
        })
    );
    // The shared model Service says who manages it.
    assert_eq!(
        find(&r, "Service", "dynamo-model-fb68f5a6")["metadata"]["labels"]["nvidia.com/managed-by"],
        "dynamo-operator"
    );
}

#[test]
fn grove_labels_the_set_and_the_worker_services_and_lists_cliques_in_component_order() {
    let r = render_for(GAIE, Orchestrator::Grove);
    let set = find(&r, "PodCliqueSet", "g");
    assert_eq!(
        set["metadata"]["labels"]["nvidia.com/dynamo-graph-deployment-name"],
        "g"
    );
    let cliques: Vec<&str> = set["spec"]["template"]["cliques"]
        .as_array()
        .expect("cliques")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(cliques, ["epp", "decode"], "the order of spec.components");
    let decode = &set["spec"]["template"]["cliques"][1];
    let hash = decode["labels"]["nvidia.com/dynamo-worker-hash"]
        .as_str()
        .expect("Grove workers carry the hash");
    assert_eq!(
        decode["labels"]["nvidia.com/dynamo-component-class"],
        "worker"
    );
    // Grove keeps the component's annotations (origin version included) on the clique, and
    // adds neither the model nor the Istio switch.
    assert!(
        decode["annotations"]
            .get("nvidia.com/dynamo-base-model")
            .is_none()
    );
    let epp = &set["spec"]["template"]["cliques"][0];
    assert!(epp["annotations"].get("sidecar.istio.io/inject").is_none());
    let service = find(&r, "Service", "g-decode");
    assert_eq!(
        service["metadata"]["labels"],
        serde_json::json!({
            "nvidia.com/dynamo-discovery-backend": "kubernetes",
            "nvidia.com/dynamo-discovery-enabled": "true",
            "nvidia.com/dynamo-worker-hash": hash,
        })
    );
    assert!(
        find(&r, "Service", "g-epp")["metadata"]["labels"]
            .get("nvidia.com/dynamo-worker-hash")
            .is_none()
    );

    // A v1alpha1 graph's services become components sorted by name.
    let alpha = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  services:
    Epp:
      componentType: epp
      eppConfig: { configMapRef: { name: c, key: k } }
      extraPodSpec: { mainContainer: { image: epp } }
    Decode:
      componentType: worker
      subComponentType: decode
      extraPodSpec: { mainContainer: { image: w, command: [python3, -m, dynamo.vllm] } }
"#;
    let r = render_for(alpha, Orchestrator::Grove);
    let cliques: Vec<String> = find(&r, "PodCliqueSet", "g")["spec"]["template"]["cliques"]
        .as_array()
        .expect("cliques")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(cliques, ["decode", "epp"]);
}

#[test]
fn epp_service_and_generated_config_map() {
    let yaml = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  components:
    - name: Epp
      type: epp
      podTemplate: { spec: { containers: [{ name: main, image: epp }] } }
      eppConfig:
        config:
          plugins: [{ type: kv-aware-scorer }]
          schedulingProfiles: [{ name: default, plugins: [{ pluginRef: kv-aware-scorer }] }]
"#;
    let r = render_for(yaml, Orchestrator::Deployment);
    let svc = find(&r, "Service", "g-epp");
    assert_eq!(svc["spec"]["ports"][0]["port"], 9002);
    assert_eq!(svc["spec"]["ports"][0]["appProtocol"], "http2");
    let cm = find(&r, "ConfigMap", "g-epp-config");
    let text = cm["data"]["epp-config-dynamo.yaml"]
        .as_str()
        .expect("config text");
    assert!(text.contains("kind: EndpointPickerConfig"), "{text}");
    assert!(text.contains("kv-aware-scorer"), "{text}");
}

#[test]
fn ingress_from_operator_config() {
    let mut config = RenderConfig::default();
    config.operator.ingress.controller_class_name = Some("nginx".into());
    config.operator.ingress.host_suffix = Some("example.com".into());
    config.operator.ingress.controller_tls_secret_name = Some("tls".into());
    let r = render_with(DISAGG, &config);
    let ingress = find(&r, "Ingress", "g-frontend");
    let spec = &ingress["spec"];
    assert_eq!(spec["ingressClassName"], "nginx");
    assert_eq!(spec["rules"][0]["host"], "g.example.com");
    let path = &spec["rules"][0]["http"]["paths"][0];
    assert_eq!(path["path"], "/");
    assert_eq!(path["pathType"], "Prefix");
    assert_eq!(path["backend"]["service"]["name"], "g-frontend");
    assert_eq!(path["backend"]["service"]["port"]["number"], 8000);
    assert_eq!(spec["tls"][0]["secretName"], "tls");
    assert_eq!(spec["tls"][0]["hosts"][0], "g.example.com");
    let dcd = find(&r, "DynamoComponentDeployment", "g-frontend");
    assert_eq!(
        carried(dcd).ingress.and_then(|i| i.enabled),
        Some(true),
        "default ingress recorded on the DCD (in its v1alpha1 payload)"
    );

    let user = DISAGG.replace(
        "extraPodSpec: { mainContainer: { image: fe } }",
        "ingress: { enabled: true, host: chat, hostPrefix: beta- }\n      extraPodSpec: { mainContainer: { image: fe } }",
    );
    let r = render_with(&user, &config);
    assert_eq!(
        find(&r, "Ingress", "g-frontend")["spec"]["rules"][0]["host"],
        "beta-chat.example.com"
    );
    let r = render_with(&user, &RenderConfig::default());
    assert!(
        of_kind(&r, "Ingress").is_empty(),
        "no ingress class, no Ingress"
    );
}

#[test]
fn virtual_service_with_gateway() {
    let mut config = RenderConfig::default();
    config.operator.ingress.virtual_service_gateway = Some("istio-system/gw".into());
    let r = render_with(DISAGG, &config);
    assert!(of_kind(&r, "Ingress").is_empty());
    let vs = find(&r, "VirtualService", "g-frontend");
    assert_eq!(vs["apiVersion"], "networking.istio.io/v1beta1");
    assert_eq!(vs["spec"]["hosts"][0], "g.local");
    assert_eq!(vs["spec"]["gateways"][0], "istio-system/gw");
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"]["host"],
        "g-frontend"
    );
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"]["port"]["number"],
        8000
    );
}

const MULTI: &str = r#"
apiVersion: nvidia.com/v1beta1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  labels: { team: ml }
  topologyConstraint: { clusterTopologyName: p, packDomain: zone }
  components:
    - name: Frontend
      type: frontend
      topologyConstraint: { packDomain: rack }
      podTemplate: { spec: { containers: [{ name: main, image: fe }] } }
    - name: decode
      type: worker
      replicas: 2
      multinode: { nodeCount: 3 }
      topologyConstraint: { packDomain: block }
      podTemplate:
        spec:
          containers:
            - name: main
              image: w
              command: [python3, -m, dynamo.trtllm]
              args: [--x]
              resources: { limits: { nvidia.com/gpu: "4" } }
"#;

#[test]
fn lws_per_replica_placed_by_the_default_scheduler() {
    let r = render_for(MULTI, Orchestrator::Lws);
    let dcd = of_kind(&r, "DynamoComponentDeployment")
        .into_iter()
        .find(|n| n.starts_with("g-decode-"))
        .expect("decode dcd");
    let expected = [format!("{dcd}-0"), format!("{dcd}-1")];
    assert_eq!(of_kind(&r, "LeaderWorkerSet"), expected);
    // As in Dynamo 1.5: no Volcano PodGroup, scheduler name, group annotation or instance label.
    assert!(of_kind(&r, "PodGroup").is_empty());
    assert_eq!(
        of_kind(&r, "Deployment"),
        ["g-frontend"],
        "single-node stays a Deployment"
    );
    let lws = find(&r, "LeaderWorkerSet", &expected[1]);
    assert_eq!(lws["apiVersion"], "leaderworkerset.x-k8s.io/v1");
    let labels = &lws["metadata"]["labels"];
    assert_eq!(labels["nvidia.com/dynamo-component"], "decode");
    assert_eq!(
        labels["nvidia.com/dynamo-worker-hash"],
        dcd.rsplit('-').next().unwrap_or("")
    );
    assert!(labels.get("instance-id").is_none(), "{labels}");
    let spec = &lws["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["startupPolicy"], "LeaderCreated");
    let template = &spec["leaderWorkerTemplate"];
    assert_eq!(template["size"], 3);
    for (which, role) in [("leaderTemplate", "leader"), ("workerTemplate", "worker")] {
        let pod = &template[which];
        assert_eq!(pod["metadata"]["labels"]["role"], role);
        assert!(pod["metadata"]["labels"].get("instance-id").is_none());
        assert!(
            pod["metadata"]["annotations"]
                .get("scheduling.k8s.io/group-name")
                .is_none()
        );
        assert!(pod["spec"].get("schedulerName").is_none(), "{which}");
    }
    let args = template["workerTemplate"]["spec"]["containers"][0]["args"].clone();
    assert!(args.to_string().contains("$(LWS_WORKER_INDEX)"), "{args}");
    assert_eq!(
        find_prefix(&r, "Service", "g-decode-")["spec"]["selector"]["role"],
        "leader"
    );
    assert_eq!(r.ssh_key_secrets, ["mpi-run-ssh-secret"]);
}

#[test]
fn pod_clique_set_shape() {
    let mut config = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    config.operator.orchestrators.grove.termination_delay = "1h".into();
    let r = render_with(MULTI, &config);
    assert_eq!(of_kind(&r, "PodCliqueSet"), ["g"]);
    assert!(of_kind(&r, "Deployment").is_empty());
    assert!(of_kind(&r, "DynamoComponentDeployment").is_empty());
    assert_eq!(of_kind(&r, "Service"), ["g-decode", "g-frontend"]);
    let pcs = find(&r, "PodCliqueSet", "g");
    assert_eq!(pcs["apiVersion"], "grove.io/v1alpha1");
    assert_eq!(pcs["metadata"]["labels"]["team"], "ml");
    assert_eq!(pcs["spec"]["replicas"], 1);
    let t = &pcs["spec"]["template"];
    assert_eq!(t["headlessServiceConfig"]["publishNotReadyAddresses"], true);
    assert_eq!(t["terminationDelay"], "1h0m0s", "as Go prints durations");
    assert_eq!(t["topologyConstraint"]["packDomain"], "zone");
    assert_eq!(
        t["cliqueStartupType"], "CliqueStartupTypeExplicit",
        "the mpi launcher orders startup"
    );
    let cliques = t["cliques"].as_array().expect("cliques");
    let names: Vec<&str> = cliques.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["frontend", "decode-ldr", "decode-wkr"]);
    let (fe, ldr, wkr) = (&cliques[0], &cliques[1], &cliques[2]);
    assert_eq!(fe["spec"]["roleName"], "frontend");
    assert_eq!(fe["spec"]["replicas"], 1);
    assert_eq!(fe["spec"]["minAvailable"], 1);
    assert_eq!(fe["topologyConstraint"]["packDomain"], "rack");
    assert_eq!(fe["labels"]["nvidia.com/selector"], "g-frontend");
    assert_eq!(ldr["spec"]["replicas"], 1);
    assert_eq!(ldr["spec"]["minAvailable"], 1);
    assert_eq!(ldr["spec"]["startsAfter"][0], "decode-wkr");
    assert_eq!(
        ldr["labels"]["nvidia.com/selector"], "g-decode",
        "leader and workers share the service selector"
    );
    assert_eq!(wkr["spec"]["replicas"], 2);
    assert_eq!(wkr["spec"]["minAvailable"], 2);
    assert!(wkr["spec"].get("startsAfter").is_none());
    assert!(
        wkr.get("topologyConstraint").is_none(),
        "multi-node packs at the group level"
    );
    let worker_args = wkr["spec"]["podSpec"]["containers"][0]["args"].to_string();
    assert!(
        worker_args.contains("GROVE_PCLQ_POD_INDEX"),
        "{worker_args}"
    );
    let groups = t["podCliqueScalingGroups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["name"], "decode");
    assert_eq!(
        groups[0]["cliqueNames"],
        serde_json::json!(["decode-ldr", "decode-wkr"])
    );
    assert_eq!(groups[0]["replicas"], 2);
    assert_eq!(groups[0]["minAvailable"], 1);
    assert_eq!(groups[0]["topologyConstraint"]["packDomain"], "block");
}

#[test]
fn pod_clique_set_any_order_without_launchers_and_kai() {
    let vllm = MULTI.replace("dynamo.trtllm", "dynamo.vllm");
    let mut config = RenderConfig::default().with_orchestrator(Orchestrator::Grove);
    config.operator.orchestrators.kai_scheduler.enabled = Some(true);
    let r = render_with(&vllm, &config);
    let t = &find(&r, "PodCliqueSet", "g")["spec"]["template"];
    assert_eq!(t["cliqueStartupType"], "CliqueStartupTypeAnyOrder");
    for clique in t["cliques"].as_array().expect("cliques") {
        assert!(clique["spec"].get("startsAfter").is_none());
        assert_eq!(clique["spec"]["podSpec"]["schedulerName"], "kai-scheduler");
        assert_eq!(clique["labels"]["kai.scheduler/queue"], "dynamo");
    }
    assert!(r.ssh_key_secrets.is_empty());
    assert_eq!(
        of_kind(&r, "ConfigMap"),
        ["g-vllm-settings", "g-wait-leader-script"],
        "the plugin's own ConfigMap and the host's"
    );
}

#[test]
fn kai_scheduler_reaches_deployments_and_leader_worker_sets() {
    let mut config = RenderConfig::default().with_orchestrator(Orchestrator::Lws);
    config.operator.orchestrators.kai_scheduler.enabled = Some(true);
    let queued = MULTI.replace(
        "metadata: { name: g, namespace: ns }",
        "metadata: { name: g, namespace: ns, annotations: { nvidia.com/kai-scheduler-queue: team-a } }",
    );
    assert_ne!(queued, MULTI, "the queue annotation was added");
    let r = render_with(&queued, &config);
    let deployment = find(&r, "Deployment", "g-frontend");
    let pod = &deployment["spec"]["template"];
    assert_eq!(pod["spec"]["schedulerName"], "kai-scheduler");
    assert_eq!(pod["metadata"]["labels"]["kai.scheduler/queue"], "team-a");
    let lws = find_prefix(&r, "LeaderWorkerSet", "g-decode-");
    for which in ["leaderTemplate", "workerTemplate"] {
        let pod = &lws["spec"]["leaderWorkerTemplate"][which];
        assert_eq!(pod["spec"]["schedulerName"], "kai-scheduler", "{which}");
        assert_eq!(pod["metadata"]["labels"]["kai.scheduler/queue"], "team-a");
    }
    // A component renders alone with the same queue: the DCD carries it.
    let dcd = find_prefix(&r, "DynamoComponentDeployment", "g-decode-");
    assert_eq!(
        dcd["spec"]["podTemplate"]["metadata"]["annotations"]["nvidia.com/kai-scheduler-queue"],
        "team-a"
    );

    // KAI off: the default scheduler places the groups and no queue label appears.
    let r = render_for(&queued, Orchestrator::Lws);
    let lws = find_prefix(&r, "LeaderWorkerSet", "g-decode-");
    let pod = &lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"];
    assert!(pod["spec"].get("schedulerName").is_none());
    assert!(
        pod["metadata"]["labels"]
            .get("kai.scheduler/queue")
            .is_none()
    );
}

#[test]
fn pvcs_marked_create_are_rendered() {
    let yaml = r#"
apiVersion: nvidia.com/v1alpha1
kind: DynamoGraphDeployment
metadata: { name: g, namespace: ns }
spec:
  pvcs:
    - { name: existing }
    - { name: models, create: true, storageClass: fast, size: 100Gi, volumeAccessMode: ReadWriteMany }
  services:
    Frontend:
      componentType: frontend
      volumeMounts: [{ name: models, mountPoint: /models }]
      extraPodSpec: { mainContainer: { image: fe } }
"#;
    let r = render_for(yaml, Orchestrator::Deployment);
    assert_eq!(of_kind(&r, "PersistentVolumeClaim"), ["models"]);
    let pvc = find(&r, "PersistentVolumeClaim", "models");
    assert_eq!(pvc["spec"]["storageClassName"], "fast");
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "100Gi");
    assert_eq!(
        pvc["metadata"]["labels"]["nvidia.com/dynamo-graph-deployment-name"],
        "g"
    );
}
