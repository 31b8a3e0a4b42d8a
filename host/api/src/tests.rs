//! Tests of the generated CRDs: freshness of `crds/`, compatibility with Dynamo's CRDs, the
//! schema pipeline, and round-trips of the anchor example manifests.

use std::path::Path;

use serde_json::{Value, json};

use crate::compat::{Finding, Severity, compare_crds};
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

#[test]
fn crds_are_structural() {
    let all = crds::try_all().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.len(), 4);
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
        4
    );
}

/// Whether a finding must fail the compatibility test: everything that prunes or rejects, plus
/// differing defaults and CEL messages (both part of the API contract). Merge-metadata
/// differences are only printed.
fn must_fail(finding: &Finding) -> bool {
    use crate::compat::Problem;
    match &finding.problem {
        Problem::DefaultDiffers { .. }
        | Problem::ValidationMessageDiffers { .. }
        | Problem::ValidationRuleMissing(_) => true,
        _ => finding.severity() == Severity::Breaking,
    }
}

#[test]
fn compatible_with_dynamo_crds() {
    let reference = dynamo_fixtures::reference_crds_dir();
    let ours = crds::try_all().unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for crd in &ours {
        let name = crds::file_name(crd);
        let theirs_path = reference.join(&name);
        assert!(
            theirs_path.is_file(),
            "reference CRD {} not found",
            theirs_path.display()
        );
        let theirs = yaml_documents(&theirs_path)
            .into_iter()
            .find(|d| {
                d.get("kind")
                    .is_some_and(|k| k == "CustomResourceDefinition")
            })
            .unwrap_or_else(|| panic!("{} holds no CRD", theirs_path.display()));
        let ours = serde_json::to_value(crd).unwrap_or_else(|e| panic!("{e}"));

        let findings = compare_crds(&theirs, &ours);
        let (hard, soft): (Vec<_>, Vec<_>) = findings.iter().partition(|f| must_fail(f));
        println!(
            "{name}: {} breaking, {} informational difference(s)",
            hard.len(),
            soft.len()
        );
        for finding in &soft {
            println!("  info: {finding}");
        }
        // What ours accepts beyond theirs (the walk the other way round).
        let wider: Vec<Finding> = compare_crds(&ours, &theirs)
            .into_iter()
            .filter(|f| f.is_breaking() && f.path.contains(".schema"))
            .collect();
        println!(
            "{name}: {} path(s) ours accepts and theirs does not",
            wider.len()
        );
        for finding in &wider {
            println!("  wider: {finding}");
        }
        failures.extend(hard.into_iter().map(|f| format!("{name}: {f}")));
    }
    assert!(
        failures.is_empty(),
        "{} incompatibilit(ies) with Dynamo's CRDs:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Schema of one property path (`["spec", "services", "{}", "replicas"]`) of a CRD.
fn schema_at(crd: &Value, path: &[&str]) -> Value {
    let mut node = crd
        .pointer("/spec/versions/0/schema/openAPIV3Schema")
        .cloned()
        .unwrap_or(Value::Null);
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
    serde_json::to_value(crds::dynamo_graph_deployment().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn schema_spells_kubernetes_types_like_the_apiserver() {
    let crd = graph_crd();
    let svc = ["spec", "services", "{}"];
    let at = |rest: &[&str]| schema_at(&crd, &[&svc[..], rest].concat());

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

    let state = schema_at(&crd, &["status", "state"]);
    assert_eq!(state["default"], "initializing");
    assert_eq!(schema_at(&crd, &["status"])["required"], json!(["state"]));

    let reason = schema_at(&crd, &["status", "conditions", "[]", "reason"]);
    assert_eq!(reason["pattern"], crate::schema::CONDITION_REASON_PATTERN);
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
fn anchor_examples_round_trip() {
    let examples = dynamo_fixtures::anchor_examples();
    let mut graphs = 0;
    for example in &examples {
        let file = &example.path;
        for doc in yaml_documents(file) {
            if doc.get("kind").is_none_or(|k| k != "DynamoGraphDeployment") {
                continue;
            }
            let typed: crate::DynamoGraphDeployment = serde_json::from_value(doc.clone())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let back = serde_json::to_value(&typed).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                back,
                doc,
                "{}: round trip changed the object",
                file.display()
            );
            graphs += 1;
        }
    }
    assert!(
        graphs >= examples.len(),
        "a DynamoGraphDeployment per anchor example"
    );
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
    let typed: crate::DynamoComponentDeployment =
        serde_json::from_value(dcd.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(typed.spec.shared.replicas, Some(2));
    assert_eq!(
        serde_json::to_value(&typed).unwrap_or_else(|e| panic!("{e}")),
        dcd
    );
}
