//! Tests of the generated CRDs: freshness of `crds/`, compatibility with Dynamo's CRDs (1.5 and
//! the April 2026 `v1alpha1`), the schema pipeline, and round trips of the example manifests.

use std::path::Path;

use serde_json::{Value, json};

use crate::compat::{Finding, Problem, Severity, compare_crds};
use crate::crds;

/// All YAML documents of a file, as JSON values (empty documents skipped).
fn yaml_documents(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            <Value as serde::Deserialize>::deserialize(doc)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

/// The CRD held by `path`.
fn crd_file(path: &Path) -> Value {
    assert!(path.is_file(), "reference CRD {} not found", path.display());
    yaml_documents(path)
        .into_iter()
        .find(|d| {
            d.get("kind")
                .is_some_and(|k| k == "CustomResourceDefinition")
        })
        .unwrap_or_else(|| panic!("{} holds no CRD", path.display()))
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("{e}"))
}

/// Our CRDs as JSON, by file name.
fn our_crds() -> Vec<(String, Value)> {
    crds::try_all()
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|crd| (crds::file_name(crd), to_json(crd)))
        .collect()
}

#[test]
fn crds_are_structural() {
    let all = crds::try_all().unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<&str> = all.iter().map(|c| c.spec.names.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "DynamoGraphDeployment",
            "DynamoComponentDeployment",
            "DynamoGraphDeploymentScalingAdapter",
            "DynamoGraphDeploymentRequest",
            "DynamoModel",
            "DynamoCheckpoint",
            "DynamoWorkerMetadata",
        ]
    );
}

#[test]
fn crd_files_are_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crds");
    let rendered = crds::rendered().unwrap_or_else(|e| panic!("{e}"));
    let mut stale = Vec::new();
    for (name, yaml) in &rendered {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == *yaml => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{} unreadable: {e}", path.display())),
        }
    }
    let names: Vec<&String> = rendered.iter().map(|(name, _)| name).collect();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let name = entry
            .unwrap_or_else(|e| panic!("{e}"))
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".yaml") && !names.contains(&&name) {
            stale.push(format!("{name} is no CRD of ours"));
        }
    }
    assert!(
        stale.is_empty(),
        "crds/ is stale ({}); regenerate with `{}`",
        stale.join(", "),
        crds::REGENERATE_COMMAND
    );
}

#[test]
fn rendering_is_deterministic() {
    let first = crds::multi_document_yaml().unwrap_or_else(|e| panic!("{e}"));
    let second = crds::multi_document_yaml().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first, second);
    assert_eq!(
        first.matches("\nkind: CustomResourceDefinition\n").count(),
        7
    );
}

/// Whether a finding must fail the compatibility test: everything that prunes or rejects, plus
/// differing defaults and CEL messages (both part of the API contract). Merge-metadata
/// differences are only printed.
fn must_fail(finding: &Finding) -> bool {
    match &finding.problem {
        Problem::DefaultDiffers { .. }
        | Problem::ValidationMessageDiffers { .. }
        | Problem::ValidationRuleMissing(_) => true,
        _ => finding.severity() == Severity::Breaking,
    }
}

/// Differences from Dynamo 1.5's CRDs that are intended: the two schema changes upstream merged
/// into the 1.5.0 release after the commit the fixtures come from (`types/POST_2026-08-21_DELTAS.md`
/// of the reference pack). `multinode.leader` and `multinode.worker` were removed (they were
/// never released; component `roles` replace them). `(file, finding text)`.
const DYNAMO_1_5_DELTAS: &[(&str, &str)] = &[
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.multinode.leader: pruned (property not declared)",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.multinode.worker: pruned (property not declared)",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1beta1].schema.spec.components[].multinode.leader: pruned (property not declared)",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1beta1].schema.spec.components[].multinode.worker: pruned (property not declared)",
    ),
];

/// Prints the findings of one comparison and returns those that fail the test, minus the
/// `expected` ones (each of which must be among the findings).
fn judge(label: &str, findings: &[Finding], wider: &[Finding], expected: &[&str]) -> Vec<String> {
    let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
    let mut failures: Vec<String> = expected
        .iter()
        .filter(|e| !text.iter().any(|t| t == *e))
        .map(|e| format!("{label}: expected difference not found (update the list): {e}"))
        .collect();
    let (hard, soft): (Vec<_>, Vec<_>) = findings.iter().partition(|f| must_fail(f));
    println!(
        "{label}: {} breaking ({} expected), {} informational difference(s), {} path(s) ours \
         accepts and theirs does not",
        hard.len(),
        expected.len(),
        soft.len(),
        wider.len()
    );
    for finding in &soft {
        println!("  info: {finding}");
    }
    for finding in wider {
        println!("  wider: {finding}");
    }
    failures.extend(
        hard.into_iter()
            .map(ToString::to_string)
            .filter(|t| !expected.contains(&t.as_str()))
            .map(|t| format!("{label}: {t}")),
    );
    failures
}

/// What ours accepts beyond theirs (the walk the other way round), schema paths only.
fn wider(theirs: &Value, ours: &Value) -> Vec<Finding> {
    compare_crds(ours, theirs)
        .into_iter()
        .filter(|f| f.is_breaking() && f.path.contains(".schema"))
        .collect()
}

#[test]
fn compatible_with_dynamo_1_5_crds() {
    let reference = dynamo_fixtures::dynamo_1_5_crds_dir();
    let ours = our_crds();
    let mut failures = Vec::new();
    for (name, crd) in &ours {
        let theirs = crd_file(&reference.join(name));
        let expected: Vec<&str> = DYNAMO_1_5_DELTAS
            .iter()
            .filter(|(file, _)| file == name)
            .map(|(_, finding)| *finding)
            .collect();
        let findings = compare_crds(&theirs, crd);
        failures.extend(judge(name, &findings, &wider(&theirs, crd), &expected));
    }
    let files = std::fs::read_dir(&reference)
        .unwrap_or_else(|e| panic!("{}: {e}", reference.display()))
        .count();
    assert_eq!(files, ours.len(), "one CRD of ours per Dynamo 1.5 CRD");
    assert!(
        failures.is_empty(),
        "{} incompatibilit(ies) with Dynamo 1.5's CRDs:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Differences between the April 2026 `v1alpha1` CRDs and ours that Dynamo 1.5 made itself (our
/// `v1alpha1` follows 1.5). `(file, finding text)`.
///
/// 1.5 added CEL rules (`spec.restart` unset on create, `minAvailable`, `checkpoint.job`, the GPU
/// memory service's extra clients, a positive `sharedMemory.size` unless disabled) and removed
/// three things April had: the `checkpoint` rule that an enabled checkpoint needs a
/// `checkpointRef` or an identity, the `sharedMemory` rule that a disabled tmpfs has no size, and
/// the default `Auto` of `checkpoint.mode`.
const APRIL_TO_1_5_CHANGES: &[(&str, &str)] = &[
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec: extra CEL rule \"oldSelf.hasValue() || !has(self.restart)\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}: extra CEL rule \"!has(self.minAvailable) || (has(self.replicas) && self.replicas == 0) || self.minAvailable <= (has(self.replicas) ? self.replicas : 1)\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}: extra CEL rule \"!has(oldSelf.minAvailable) || (has(self.minAvailable) && self.minAvailable == oldSelf.minAvailable)\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.checkpoint: extra CEL rule \"!has(self.job) || !has(self.checkpointRef) || size(self.checkpointRef) == 0\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.checkpoint: CEL rule \"!self.enabled || (has(self.checkpointRef) && size(self.checkpointRef) > 0) || (has(self.identity) && has(self.identity.model) && has(self.identity.backendFramework))\" missing",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.checkpoint.mode: default <none>, theirs \"Auto\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.gpuMemoryService: extra CEL rule \"!has(self.extraClientContainers) || size(self.extraClientContainers) == 0 || self.mode == 'intraPod'\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.gpuMemoryService: extra CEL rule \"!has(self.extraClientPods) || size(self.extraClientPods) == 0 || self.mode == 'interPod'\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.gpuMemoryService: extra CEL rule \"!has(self.extraClientPods) || size(self.extraClientPods) == 0\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.sharedMemory: extra CEL rule \"(has(self.disabled) && self.disabled) || (has(self.size) && quantity(self.size).isGreaterThan(quantity('0')))\"",
    ),
    (
        "nvidia.com_dynamographdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.services{}.sharedMemory: CEL rule \"!(has(self.disabled) && self.disabled && has(self.size))\" missing",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec: extra CEL rule \"!has(self.minAvailable) || (has(self.replicas) && self.replicas == 0) || self.minAvailable <= (has(self.replicas) ? self.replicas : 1)\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec: extra CEL rule \"!has(oldSelf.minAvailable) || (has(self.minAvailable) && self.minAvailable == oldSelf.minAvailable)\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.checkpoint: extra CEL rule \"!has(self.job) || !has(self.checkpointRef) || size(self.checkpointRef) == 0\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.checkpoint: CEL rule \"!self.enabled || (has(self.checkpointRef) && size(self.checkpointRef) > 0) || (has(self.identity) && has(self.identity.model) && has(self.identity.backendFramework))\" missing",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.checkpoint.mode: default <none>, theirs \"Auto\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.gpuMemoryService: extra CEL rule \"!has(self.extraClientContainers) || size(self.extraClientContainers) == 0 || self.mode == 'intraPod'\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.gpuMemoryService: extra CEL rule \"!has(self.extraClientPods) || size(self.extraClientPods) == 0 || self.mode == 'interPod'\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.gpuMemoryService: extra CEL rule \"!has(self.extraClientPods) || size(self.extraClientPods) == 0\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.sharedMemory: extra CEL rule \"(has(self.disabled) && self.disabled) || (has(self.size) && quantity(self.size).isGreaterThan(quantity('0')))\"",
    ),
    (
        "nvidia.com_dynamocomponentdeployments.yaml",
        "spec.versions[v1alpha1].schema.spec.sharedMemory: CEL rule \"!(has(self.disabled) && self.disabled && has(self.size))\" missing",
    ),
];

/// A CRD reduced to its `v1alpha1` version, without the facts that moving storage to `v1beta1`
/// changes (which version is stored or deprecated, and the conversion strategy).
fn v1alpha1_only(crd: &Value) -> Value {
    let mut crd = crd.clone();
    if let Some(spec) = crd.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("conversion");
        if let Some(Value::Array(versions)) = spec.get_mut("versions") {
            versions.retain(|v| v.get("name").is_some_and(|n| n == "v1alpha1"));
            for version in versions.iter_mut().filter_map(Value::as_object_mut) {
                for key in ["storage", "deprecated", "deprecationWarning"] {
                    version.remove(key);
                }
            }
        }
    }
    crd
}

#[test]
fn v1alpha1_compatible_with_april_dynamo_crds() {
    let reference = dynamo_fixtures::reference_crds_dir();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, crd) in &our_crds() {
        let path = reference.join(name);
        if !path.is_file() {
            continue;
        }
        compared += 1;
        let (theirs, ours) = (v1alpha1_only(&crd_file(&path)), v1alpha1_only(crd));
        let expected: Vec<&str> = APRIL_TO_1_5_CHANGES
            .iter()
            .filter(|(file, _)| file == name)
            .map(|(_, finding)| *finding)
            .collect();
        let findings = compare_crds(&theirs, &ours);
        failures.extend(judge(
            &format!("{name} (April)"),
            &findings,
            &wider(&theirs, &ours),
            &expected,
        ));
    }
    assert_eq!(compared, 4, "the four April CRDs");
    assert!(
        failures.is_empty(),
        "{} incompatibilit(ies) with the April v1alpha1 CRDs:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The `openAPIV3Schema` of `version` of a CRD.
fn version_schema(crd: &Value, version: &str) -> Value {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| vs.iter().find(|v| v["name"] == version))
        .and_then(|v| v.pointer("/schema/openAPIV3Schema"))
        .cloned()
        .unwrap_or_else(|| panic!("no version {version}"))
}

/// Schema of one property path (`["spec", "services", "{}", "replicas"]`) of a CRD version.
fn schema_at(crd: &Value, version: &str, path: &[&str]) -> Value {
    let mut node = version_schema(crd, version);
    for segment in path {
        node = match *segment {
            "{}" => node.get("additionalProperties").cloned(),
            "[]" => node.get("items").cloned(),
            name => node.pointer(&format!("/properties/{name}")).cloned(),
        }
        .unwrap_or_else(|| panic!("no schema at {path:?} (stopped at {segment})"));
    }
    node
}

fn graph_crd() -> Value {
    to_json(&crds::dynamo_graph_deployment().unwrap_or_else(|e| panic!("{e}")))
}

fn component_crd() -> Value {
    to_json(&crds::dynamo_component_deployment().unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn schema_spells_kubernetes_types_like_the_apiserver() {
    let crd = graph_crd();
    let svc = ["spec", "services", "{}"];
    let at = |rest: &[&str]| schema_at(&crd, "v1alpha1", &[&svc[..], rest].concat());

    let size = at(&["sharedMemory", "size"]);
    assert_eq!(size["x-kubernetes-int-or-string"], true);
    assert_eq!(
        size["anyOf"],
        json!([{"type": "integer"}, {"type": "string"}])
    );
    assert_eq!(size["pattern"], crate::schema::QUANTITY_PATTERN);

    let port = at(&["livenessProbe", "httpGet", "port"]);
    assert_eq!(port["x-kubernetes-int-or-string"], true);
    assert!(port.get("pattern").is_none());

    assert_eq!(at(&["resources", "limits", "cpu"])["type"], "string");

    let extra = at(&["extraPodSpec"]);
    assert!(
        extra.get("required").is_none(),
        "containers must be optional"
    );
    let main = at(&["extraPodSpec", "mainContainer"]);
    assert!(
        main.get("required").is_none(),
        "mainContainer.name must be optional"
    );

    let config = at(&["eppConfig", "config"]);
    assert_eq!(config["x-kubernetes-preserve-unknown-fields"], true);
    assert_eq!(config["required"], json!(["plugins", "schedulingProfiles"]));

    assert_eq!(at(&["multinode", "nodeCount"])["default"], 2);
    assert_eq!(at(&["multinode"])["required"], json!(["nodeCount"]));
    assert_eq!(at(&["scalingAdapter", "enabled"])["default"], false);

    let state = schema_at(&crd, "v1alpha1", &["status", "state"]);
    assert_eq!(state["default"], "initializing");
    assert_eq!(
        schema_at(&crd, "v1alpha1", &["status"])["required"],
        json!(["state"])
    );

    let reason = schema_at(&crd, "v1alpha1", &["status", "conditions", "[]", "reason"]);
    assert_eq!(reason["pattern"], crate::schema::CONDITION_REASON_PATTERN);
}

/// Paths of the nodes below `node` that carry a `description` (`""` for `node` itself).
fn described_paths(node: &Value, path: &str, out: &mut Vec<String>) {
    if node.get("description").is_some() {
        out.push(path.to_owned());
    }
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            described_paths(child, &format!("{path}.{name}"), out);
        }
    }
    if let Some(items) = node.get("items") {
        described_paths(items, &format!("{path}[]"), out);
    }
    if let Some(values) = node.get("additionalProperties") {
        described_paths(values, &format!("{path}{{}}"), out);
    }
}

#[test]
fn kubernetes_types_carry_no_descriptions_and_our_fields_keep_theirs() {
    let graph = graph_crd();
    let component = component_crd();
    // Whole Kubernetes types inside our schemas: nothing below them is described.
    for (crd, version, path) in [
        (
            &graph,
            "v1beta1",
            &["spec", "components", "[]", "podTemplate", "spec"][..],
        ),
        (
            &graph,
            "v1beta1",
            &["spec", "components", "[]", "podTemplate", "metadata"][..],
        ),
        (
            &graph,
            "v1alpha1",
            &["spec", "services", "{}", "extraPodSpec", "containers"][..],
        ),
        (
            &graph,
            "v1alpha1",
            &["spec", "services", "{}", "livenessProbe", "httpGet"][..],
        ),
        (&graph, "v1alpha1", &["status", "conditions", "[]"][..]),
        (&component, "v1beta1", &["spec", "podTemplate", "spec"][..]),
    ] {
        let mut described = Vec::new();
        described_paths(&schema_at(crd, version, path), "", &mut described);
        assert!(
            described.is_empty(),
            "{version} {path:?} keeps Kubernetes descriptions at {described:?}"
        );
    }
    // Our own fields keep theirs, including those whose type is a Kubernetes type, and the
    // fields our hand-written ExtraPodSpec schema adds.
    for (crd, version, path) in [
        (
            &graph,
            "v1beta1",
            &["spec", "components", "[]", "podTemplate"][..],
        ),
        (
            &graph,
            "v1beta1",
            &["spec", "components", "[]", "replicas"][..],
        ),
        (
            &graph,
            "v1alpha1",
            &["spec", "services", "{}", "extraPodSpec"][..],
        ),
        (
            &graph,
            "v1alpha1",
            &["spec", "services", "{}", "extraPodSpec", "mainContainer"][..],
        ),
        (
            &graph,
            "v1alpha1",
            &["spec", "services", "{}", "livenessProbe"][..],
        ),
        (&graph, "v1alpha1", &["status", "conditions"][..]),
        (&component, "v1beta1", &["spec", "podTemplate"][..]),
    ] {
        let node = schema_at(crd, version, path);
        assert!(
            node["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{version} {path:?} lost its description: {}",
            node.get("description").unwrap_or(&Value::Null)
        );
    }
}

#[test]
fn embedded_object_metadata_keeps_only_what_kubernetes_keeps() {
    let crd = graph_crd();
    let metadata = schema_at(
        &crd,
        "v1beta1",
        &["spec", "components", "[]", "podTemplate", "metadata"],
    );
    let mut names: Vec<&String> = metadata["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("metadata has properties"))
        .keys()
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["annotations", "finalizers", "labels", "name", "namespace"]
    );
}

#[test]
fn v1beta1_component_schema_has_dynamos_rules() {
    let crd = graph_crd();
    let components = schema_at(&crd, "v1beta1", &["spec", "components"]);
    assert_eq!(components["x-kubernetes-list-type"], "map");
    assert_eq!(components["x-kubernetes-list-map-keys"], json!(["name"]));
    assert_eq!(components["maxItems"], 25);
    assert_eq!(
        components["x-kubernetes-validations"][0]["message"],
        "at most one component may have type epp"
    );
    let component = &components["items"];
    assert_eq!(component["required"], json!(["name"]));
    assert_eq!(
        component["properties"]["type"]["enum"],
        json!(["frontend", "worker", "prefill", "decode", "planner", "epp"])
    );
    assert_eq!(
        component["properties"]["scalingAdapter"]["type"], "object",
        "scalingAdapter is a marker object"
    );
    let template = &component["properties"]["podTemplate"]["properties"];
    assert_eq!(
        template["spec"]["properties"]["containers"]["items"]["x-kubernetes-validations"][0]["message"],
        "sidecar containers must specify a non-empty image"
    );
    assert_eq!(
        template["metadata"]["properties"]["annotations"]["additionalProperties"]["maxLength"],
        262_144
    );
    let restart_rule = &schema_at(&crd, "v1beta1", &["spec"])["x-kubernetes-validations"][0];
    assert_eq!(restart_rule["optionalOldSelf"], true);

    // The roles' pod templates are not Dynamo's injected paths: no rules there.
    let role_template = schema_at(
        &crd,
        "v1beta1",
        &[
            "spec",
            "components",
            "[]",
            "roles",
            "[]",
            "podTemplate",
            "spec",
            "containers",
            "[]",
        ],
    );
    assert!(role_template.get("x-kubernetes-validations").is_none());
}

#[test]
fn standalone_component_schema_differs_from_graph_component_as_dynamos() {
    let crd = component_crd();
    for version in ["v1alpha1", "v1beta1"] {
        let spec = schema_at(&crd, version, &["spec"]);
        assert!(
            spec["properties"].get("providerOverride").is_none(),
            "{version}: no providerOverride on a standalone component"
        );
        assert!(
            spec.get("required").is_none(),
            "{version}: nothing required in spec, name included"
        );
    }
    let beta_spec = schema_at(&crd, "v1beta1", &["spec"]);
    assert!(beta_spec["properties"].get("name").is_some());
    assert_eq!(
        beta_spec["properties"]["podTemplate"]["properties"]["spec"]["properties"]["initContainers"]
            ["items"]["x-kubernetes-validations"][0]["message"],
        "init containers must specify a non-empty image"
    );
    // The graph keeps providerOverride on its components in both versions.
    let graph = graph_crd();
    assert!(
        schema_at(
            &graph,
            "v1alpha1",
            &["spec", "services", "{}", "providerOverride"]
        )
        .is_object()
    );
    assert!(
        schema_at(
            &graph,
            "v1beta1",
            &["spec", "components", "[]", "providerOverride"]
        )
        .is_object()
    );
}

#[test]
fn multi_version_kinds_store_v1beta1_and_convert_through_the_webhook() {
    for (name, crd) in our_crds() {
        let versions = crd["spec"]["versions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = versions.iter().filter_map(|v| v["name"].as_str()).collect();
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or_default();
        if names.len() == 1 {
            assert_eq!(names, ["v1alpha1"], "{name}");
            assert_eq!(versions[0]["storage"], true, "{name}");
            assert!(crd["spec"].get("conversion").is_none(), "{name}");
            continue;
        }
        assert_eq!(names, ["v1alpha1", "v1beta1"], "{name}");
        assert_eq!(versions[0]["storage"], false, "{name}");
        assert_eq!(versions[0]["deprecated"], true, "{name}");
        assert_eq!(
            versions[0]["deprecationWarning"],
            format!("nvidia.com/v1alpha1 {kind} is deprecated; use nvidia.com/v1beta1 {kind}")
        );
        assert_eq!(versions[1]["storage"], true, "{name}");
        assert!(versions[1].get("deprecated").is_none(), "{name}");
        assert!(versions.iter().all(|v| v["served"] == true), "{name}");
        assert_eq!(
            crd["spec"]["conversion"],
            json!({
                "strategy": "Webhook",
                "webhook": {
                    "clientConfig": {"service": {
                        "namespace": crds::CONVERSION_WEBHOOK_NAMESPACE,
                        "name": crds::CONVERSION_WEBHOOK_SERVICE,
                        "path": "/convert",
                    }},
                    "conversionReviewVersions": ["v1"],
                },
            }),
            "{name}"
        );
    }
}

#[test]
fn conversion_webhook_service_is_the_platform_charts() {
    // The chart names the Service `<fullname>-webhook`, and the fullname of the operator
    // subchart for release `dynamo-platform` is `<release>-<chart>`.
    let helpers = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../charts/dynamo-platform/charts/dynamo-operator/templates/_helpers.tpl");
    let text =
        std::fs::read_to_string(&helpers).unwrap_or_else(|e| panic!("{}: {e}", helpers.display()));
    assert!(text.contains(r#"printf "%s-webhook" (include "dynamo-operator.fullname" .)"#));
    assert!(text.contains(r#"printf "%s-%s" .Release.Name .Chart.Name"#));
    assert_eq!(
        crds::CONVERSION_WEBHOOK_SERVICE,
        format!("{}-{}-webhook", "dynamo-platform", "dynamo-operator")
    );
    let service = crds::conversion_webhook_service();
    assert_eq!(service.namespace, "dynamo-system");
    assert_eq!(service.path.as_deref(), Some("/convert"));
    assert_eq!(service.port, None, "the chart's Service listens on 443");
}

#[test]
fn printer_columns_follow_each_version() {
    let columns = |crd: &Value, version: &str| -> Vec<String> {
        crd["spec"]["versions"]
            .as_array()
            .and_then(|vs| vs.iter().find(|v| v["name"] == version))
            .and_then(|v| v["additionalPrinterColumns"].as_array())
            .map(|cs| {
                cs.iter()
                    .map(|c| format!("{}={}", c["name"], c["jsonPath"]))
                    .collect()
            })
            .unwrap_or_default()
    };
    let adapter =
        to_json(&crds::dynamo_graph_deployment_scaling_adapter().unwrap_or_else(|e| panic!("{e}")));
    assert!(
        columns(&adapter, "v1alpha1").contains(&r#""SERVICE"=".spec.dgdRef.serviceName""#.into())
    );
    assert!(
        columns(&adapter, "v1beta1")
            .contains(&r#""COMPONENT"=".spec.dgdRef.componentName""#.into())
    );
    let component = component_crd();
    assert!(columns(&component, "v1alpha1")[0].starts_with(r#""DynamoComponent""#));
    assert!(columns(&component, "v1beta1")[0].starts_with(r#""Available""#));
    let scale = adapter["spec"]["versions"][1]["subresources"]["scale"].clone();
    assert_eq!(scale["specReplicasPath"], ".spec.replicas");
    assert_eq!(scale["labelSelectorPath"], ".status.selector");
}

#[test]
fn single_version_kinds_match_dynamos_shape() {
    let wm = to_json(&crds::dynamo_worker_metadata().unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(wm["spec"]["names"]["shortNames"], json!(["dwm"]));
    let version = &wm["spec"]["versions"][0];
    assert!(version.get("subresources").is_none(), "no status");
    let root = version_schema(&wm, "v1alpha1");
    assert!(root["properties"].get("status").is_none());
    assert_eq!(root["properties"]["spec"]["required"], json!(["data"]));
    let data = &root["properties"]["spec"]["properties"]["data"];
    assert_eq!(data["type"], "object");
    assert_eq!(data["x-kubernetes-preserve-unknown-fields"], true);

    let checkpoint = to_json(&crds::dynamo_checkpoint().unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(checkpoint["spec"]["names"]["shortNames"], json!(["dckpt"]));
    assert_eq!(
        version_schema(&checkpoint, "v1alpha1")["x-kubernetes-validations"][0]["message"],
        "spec.identity is immutable after creation"
    );
}

#[test]
fn schema_has_no_nullable_or_refs() {
    let text = crds::multi_document_yaml().unwrap_or_else(|e| panic!("{e}"));
    for forbidden in ["nullable:", "$ref", "oneOf:", "allOf:", "title:"] {
        assert!(
            !text.contains(forbidden),
            "generated CRDs contain `{forbidden}`"
        );
    }
}

#[test]
fn compat_walker_reports_pruning_and_narrowing() {
    let theirs = json!({
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "enum": ["x", "y"]},
            "c": {"type": "integer", "minimum": 0},
            "d": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        },
    });
    let ours = json!({
        "type": "object",
        "required": ["b"],
        "properties": {
            "b": {"type": "string", "enum": ["x"]},
            "c": {"type": "integer", "minimum": 1},
            "d": {"type": "object"},
        },
    });
    let findings = crate::compat::compare_schemas(&theirs, &ours, "");
    let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
    let expect = [
        ".a: pruned",
        ": requires `b`",
        ".b: enum lacks",
        ".c: minimum 1",
        ".d: unknown fields pruned",
    ];
    for expected in expect {
        assert!(
            text.iter().any(|t| t.contains(expected)),
            "missing {expected:?} in {text:#?}"
        );
    }
    assert!(crate::compat::compare_schemas(&theirs, &theirs, "").is_empty());
}

#[test]
fn compat_reads_enums_in_all_of_branches() {
    let theirs = json!({
        "type": "string",
        "allOf": [{"enum": ["a", "b", "c"]}, {"enum": ["a", "b"]}],
    });
    let same = json!({"type": "string", "enum": ["b", "a"]});
    assert!(crate::compat::compare_schemas(&theirs, &same, "").is_empty());
    let narrower = json!({"type": "string", "enum": ["a"]});
    let text: Vec<String> = crate::compat::compare_schemas(&theirs, &narrower, "")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(text, [r#".: enum lacks [String("b")]"#]);
}

#[test]
fn compat_compares_rule_options_and_conversion() {
    let rule = |optional: bool| {
        json!({"type": "object", "x-kubernetes-validations": [
            {"rule": "oldSelf.hasValue()", "message": "m", "optionalOldSelf": optional},
        ]})
    };
    let findings = crate::compat::compare_schemas(&rule(true), &rule(false), "");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].is_breaking());
    assert!(findings[0].to_string().contains("optionalOldSelf"));

    let crd = |strategy: &str| json!({"spec": {"conversion": {"strategy": strategy}}});
    let text: Vec<String> = compare_crds(&crd("Webhook"), &crd("None"))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        text,
        [r#"spec.conversion.strategy: "None", theirs "Webhook""#]
    );
}

/// Every `kind` document of the files, as `(file, document)`.
fn documents_of_kind(examples: &[dynamo_fixtures::Example], kind: &str) -> Vec<(String, Value)> {
    examples
        .iter()
        .flat_map(|e| {
            yaml_documents(&e.path)
                .into_iter()
                .filter(|d| d.get("kind").is_some_and(|k| k == kind))
                .map(|d| (e.name.clone(), d))
        })
        .collect()
}

#[test]
fn anchor_examples_round_trip() {
    let examples = dynamo_fixtures::anchor_examples();
    let graphs = documents_of_kind(&examples, "DynamoGraphDeployment");
    assert!(
        graphs.len() >= examples.len(),
        "a DynamoGraphDeployment per anchor example"
    );
    for (file, doc) in graphs {
        assert_eq!(doc["apiVersion"], crate::v1alpha1::API_VERSION, "{file}");
        let typed: crate::v1alpha1::DynamoGraphDeployment =
            serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            to_json(&typed),
            doc,
            "{file}: round trip changed the object"
        );
    }
}

#[test]
fn dynamo_1_5_examples_round_trip_as_v1beta1() {
    let examples = dynamo_fixtures::v1beta1_examples();
    let graphs = documents_of_kind(&examples, "DynamoGraphDeployment");
    assert_eq!(graphs.len(), examples.len(), "one graph per example file");
    for (file, doc) in graphs {
        assert_eq!(doc["apiVersion"], crate::v1beta1::API_VERSION, "{file}");
        let typed: crate::v1beta1::DynamoGraphDeployment =
            serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!typed.components().is_empty(), "{file}: no components");
        assert_eq!(
            to_json(&typed),
            doc,
            "{file}: round trip changed the object"
        );
    }
}

#[test]
fn component_spec_flattens_the_shared_spec() {
    let dcd = json!({
        "apiVersion": "nvidia.com/v1alpha1",
        "kind": "DynamoComponentDeployment",
        "metadata": {"name": "w"},
        "spec": {
            "backendFramework": "vllm",
            "componentType": "worker",
            "replicas": 2,
            "extraPodSpec": {"mainContainer": {"image": "img"}},
        },
    });
    let typed: crate::v1alpha1::DynamoComponentDeployment =
        serde_json::from_value(dcd.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(typed.spec.shared.replicas, Some(2));
    assert_eq!(to_json(&typed), dcd);
}

#[test]
fn a_component_type_outside_the_enum_reads_as_unset() {
    // What the conversion makes of a v1alpha1 `componentType: custom` (a free string there).
    let dcd = json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoComponentDeployment",
        "metadata": {"name": "w"},
        "spec": {"name": "w", "type": "custom", "replicas": 2},
    });
    let typed: crate::DynamoComponentDeployment =
        serde_json::from_value(dcd).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(typed.spec.shared.component_type, None);
    assert_eq!(typed.spec.shared.replicas, Some(2));
    let known: crate::DynamoComponentDeployment = serde_json::from_value(json!({
        "apiVersion": "nvidia.com/v1beta1",
        "kind": "DynamoComponentDeployment",
        "metadata": {"name": "w"},
        "spec": {"name": "w", "type": "decode"},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        known.spec.shared.component_type,
        Some(crate::ComponentType::Decode)
    );
}
