//! Fidelity with Dynamo's operator: `render` against the objects Dynamo's own reconcilers create.
//!
//! For every anchor example and pathway with a reference file in
//! `tests/fixtures/dynamo/go-output/` (`<example>.<deployment|lws|grove>.yaml`), the rendered
//! objects are matched with the reference ones by kind and name and compared field by field.
//! Every difference must match one entry of the reviewed allow-list
//! `tests/golden/fidelity/allowed.yaml` (each with its reason), and every entry must still match
//! something: a new difference fails, and so does an entry that has become stale.
//!
//! The worker hash is the one value compared by substitution: Dynamo's is a SHA-256 over Go's
//! JSON encoding of the worker specs, ours over our own canonical encoding, so the reference hash
//! replaces ours in the rendered text before comparing (the operator adopts a running graph's
//! hash instead of recomputing it; see the takeover tests).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

const PATHWAYS: [&str; 3] = ["deployment", "lws", "grove"];
const WORKER_HASH: &str = "nvidia.com/dynamo-worker-hash";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// === the allow-list ===

/// Which side a difference is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Side {
    /// Only Dynamo's operator writes the field.
    GoOnly,
    /// Only we write the field.
    OursOnly,
    /// Both write it, with different values.
    Differs,
}

/// One reviewed, accepted difference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allowed {
    /// `<Kind> <path>`, `*` matching any text.
    r#match: String,
    /// Which side the field is on.
    side: Side,
    /// `<example>.<pathway>` cases it applies to (`*` globs); every case when absent.
    case: Option<String>,
    /// A glob the reference value (as JSON text) must match.
    go: Option<String>,
    /// Why the difference is right.
    reason: String,
}

fn allow_list() -> Vec<Allowed> {
    let path = workspace().join("tests/golden/fidelity/allowed.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let list: Vec<Allowed> = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    for entry in &list {
        assert!(
            entry.reason.trim().len() > 10,
            "allow-list entry `{}` needs a reason",
            entry.r#match
        );
    }
    list
}

/// `text` matches `pattern`, where `*` matches any (possibly empty) text.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

// === the comparison ===

/// One field that differs.
#[derive(Debug, Clone)]
struct Difference {
    case: String,
    object: String,
    kind: String,
    path: String,
    side: Side,
    go: Option<Value>,
    ours: Option<Value>,
}

impl Difference {
    fn allowed_by(&self, entry: &Allowed) -> bool {
        entry.side == self.side
            && glob(&entry.r#match, &format!("{} {}", self.kind, self.path))
            && entry.case.as_deref().is_none_or(|c| glob(c, &self.case))
            && entry.go.as_deref().is_none_or(|g| {
                self.go
                    .as_ref()
                    .is_some_and(|v| glob(g, v.as_str().unwrap_or(&v.to_string())))
            })
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = |v: &Option<Value>| {
            let text = v.as_ref().map_or_else(|| "-".to_owned(), Value::to_string);
            if text.len() > 160 {
                format!("{}…", &text[..text.floor_char_boundary(160)])
            } else {
                text
            }
        };
        write!(
            f,
            "{} {} {}: {:?} (Dynamo: {}, ours: {})",
            self.case,
            self.object,
            self.path,
            self.side,
            short(&self.go),
            short(&self.ours)
        )
    }
}

struct Comparison<'a> {
    case: &'a str,
    object: String,
    kind: String,
    out: Vec<Difference>,
}

impl Comparison<'_> {
    fn push(&mut self, path: &str, side: Side, go: Option<&Value>, ours: Option<&Value>) {
        self.out.push(Difference {
            case: self.case.to_owned(),
            object: self.object.clone(),
            kind: self.kind.clone(),
            path: path.to_owned(),
            side,
            go: go.cloned(),
            ours: ours.cloned(),
        });
    }

    fn compare(&mut self, path: &str, go: &Value, ours: &Value) {
        match (go, ours) {
            (Value::Object(g), Value::Object(o)) => {
                let keys: std::collections::BTreeSet<&String> = g.keys().chain(o.keys()).collect();
                for key in keys {
                    let p = format!("{path}.{key}");
                    let empty = Value::Object(serde_json::Map::new());
                    match (g.get(key), o.get(key)) {
                        (Some(gv), Some(ov)) => self.compare(&p, gv, ov),
                        // A map only one side has: its entries are the differences, one by one.
                        (Some(gv @ Value::Object(m)), None) if !m.is_empty() => {
                            self.compare(&p, gv, &empty)
                        }
                        (None, Some(ov @ Value::Object(m))) if !m.is_empty() => {
                            self.compare(&p, &empty, ov)
                        }
                        (Some(gv), None) => self.push(&p, Side::GoOnly, Some(gv), None),
                        (None, Some(ov)) => self.push(&p, Side::OursOnly, None, Some(ov)),
                        (None, None) => {}
                    }
                }
            }
            (Value::Array(g), Value::Array(o)) if named(g) && named(o) => {
                let names = |list: &[Value]| -> Vec<String> {
                    list.iter()
                        .map(|v| v["name"].as_str().unwrap_or_default().to_owned())
                        .collect()
                };
                let (gn, on) = (names(g), names(o));
                let common_go: Vec<&String> = gn.iter().filter(|n| on.contains(n)).collect();
                let common_ours: Vec<&String> = on.iter().filter(|n| gn.contains(n)).collect();
                if common_go != common_ours {
                    self.push(
                        &format!("{path}(order)"),
                        Side::Differs,
                        Some(&Value::from(gn.clone())),
                        Some(&Value::from(on.clone())),
                    );
                }
                for (name, gv) in gn.iter().zip(g) {
                    let p = format!("{path}[{name}]");
                    match on.iter().position(|n| n == name) {
                        Some(at) => self.compare(&p, gv, &o[at]),
                        None => self.push(&p, Side::GoOnly, Some(gv), None),
                    }
                }
                for (name, ov) in on.iter().zip(o) {
                    if !gn.contains(name) {
                        self.push(&format!("{path}[{name}]"), Side::OursOnly, None, Some(ov));
                    }
                }
            }
            (Value::Array(g), Value::Array(o)) if g.len() == o.len() => {
                for (i, (gv, ov)) in g.iter().zip(o).enumerate() {
                    self.compare(&format!("{path}[{i}]"), gv, ov);
                }
            }
            _ if go == ours => {}
            _ => self.push(path, Side::Differs, Some(go), Some(ours)),
        }
    }
}

/// A list whose items are objects with a unique `name` (containers, env, volumes, ports…).
fn named(list: &[Value]) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    !list.is_empty()
        && list.iter().all(|v| {
            v["name"]
                .as_str()
                .is_some_and(|n| seen.insert(n.to_owned()))
        })
}

fn documents(text: &str, what: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("parsing {what}: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

fn worker_hash(objects: &[Value]) -> Option<String> {
    objects.iter().find_map(|o| {
        o["metadata"]["labels"][WORKER_HASH]
            .as_str()
            .map(str::to_owned)
    })
}

fn key(object: &Value) -> (String, String) {
    (
        object["kind"].as_str().unwrap_or_default().to_owned(),
        object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Renders `example` for `pathway` with the CLI.
fn render(example: &dynamo_fixtures::Example, pathway: &str) -> Result<String, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynamo-operator"))
        .args(["render", "-f", "-", "--orchestrator", pathway])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning dynamo-operator");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(example.text.as_bytes()).expect("stdin");
    drop(pipe);
    let out = child.wait_with_output().expect("dynamo-operator");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Every difference of one case (`example.pathway`).
fn differences(case: &str, reference: &str, rendered: &str) -> Vec<Difference> {
    let go = documents(reference, case);
    let mut rendered = rendered.to_owned();
    if let (Some(theirs), Some(ours)) = (worker_hash(&go), worker_hash(&documents(&rendered, case)))
    {
        rendered = rendered.replace(&ours, &theirs);
    }
    let ours: BTreeMap<(String, String), Value> = documents(&rendered, case)
        .into_iter()
        .map(|o| (key(&o), o))
        .collect();
    let go: BTreeMap<(String, String), Value> = go.into_iter().map(|o| (key(&o), o)).collect();
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&(String, String)> =
        go.keys().chain(ours.keys()).collect();
    for k in keys {
        let mut comparison = Comparison {
            case,
            object: format!("{}/{}", k.0, k.1),
            kind: k.0.clone(),
            out: Vec::new(),
        };
        match (go.get(k), ours.get(k)) {
            (Some(g), Some(o)) => comparison.compare("", g, o),
            (Some(g), None) => comparison.push("(object)", Side::GoOnly, Some(g), None),
            (None, Some(o)) => comparison.push("(object)", Side::OursOnly, None, Some(o)),
            (None, None) => {}
        }
        out.extend(comparison.out);
    }
    out
}

#[test]
fn render_matches_what_dynamos_operator_creates_up_to_the_reviewed_differences() {
    let allowed = allow_list();
    let mut used = vec![0usize; allowed.len()];
    let mut failures = Vec::new();
    let mut cases = 0;
    for example in dynamo_fixtures::anchor_examples() {
        for pathway in PATHWAYS {
            let file =
                dynamo_fixtures::go_output_dir().join(format!("{}.{pathway}.yaml", example.name));
            if !file.exists() {
                continue;
            }
            cases += 1;
            let case = format!("{}.{pathway}", example.name);
            let reference = std::fs::read_to_string(&file).expect("reference output");
            let rendered = match render(&example, pathway) {
                Ok(text) => text,
                Err(e) => {
                    failures.push(format!("{case}: render failed: {}", e.trim()));
                    continue;
                }
            };
            for difference in differences(&case, &reference, &rendered) {
                match allowed.iter().position(|a| difference.allowed_by(a)) {
                    Some(at) => used[at] += 1,
                    None => failures.push(difference.to_string()),
                }
            }
        }
    }
    assert!(
        cases >= 30,
        "expected the 31 reference cases, found {cases}"
    );
    for (entry, count) in allowed.iter().zip(&used) {
        if *count == 0 {
            failures.push(format!(
                "allow-list entry `{}` ({:?}) matches nothing any more: remove it",
                entry.r#match, entry.side
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} difference(s) from Dynamo's operator outside tests/golden/fidelity/allowed.yaml:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_comparison_finds_each_kind_of_difference() {
    let go = "kind: Deployment\nmetadata:\n  name: a\n  labels: {x: '1', y: '2'}\nspec:\n  containers:\n  - {name: main, image: i}\n  - {name: side, image: s}\n";
    let ours = "kind: Deployment\nmetadata:\n  name: a\n  labels: {x: '1', z: '3'}\nspec:\n  containers:\n  - {name: side, image: s}\n  - {name: main, image: j}\n---\nkind: Service\nmetadata: {name: a}\n";
    let found: Vec<String> = differences("t.deployment", go, ours)
        .iter()
        .map(|d| format!("{} {} {:?}", d.object, d.path, d.side))
        .collect();
    assert_eq!(
        found,
        [
            "Deployment/a .metadata.labels.y GoOnly",
            "Deployment/a .metadata.labels.z OursOnly",
            "Deployment/a .spec.containers(order) Differs",
            "Deployment/a .spec.containers[main].image Differs",
            "Service/a (object) OursOnly",
        ]
    );
    assert!(glob(
        "* .metadata.annotations.nvidia.com/last-applied-*",
        "Service .metadata.annotations.nvidia.com/last-applied-hash"
    ));
    assert!(!glob("Service .spec", "Service .spec.x"));
    assert!(glob("*", ""));
}

/// Grove objects applied to an API server serving Grove's own CRDs (from its API module, fetched
/// by `hack/build-tools.sh`) with strict field validation: a field Grove does not know is an
/// error, not silently pruned, and the startup ordering reads back as rendered.
#[tokio::test]
async fn pod_clique_sets_keep_every_field_on_groves_own_schema() -> anyhow::Result<()> {
    use kube::api::{Api, DynamicObject, Patch, PatchParams};
    use kube::core::GroupVersionKind;
    use kube::discovery::ApiResource;

    let cp = dynamo_test_harness::ControlPlane::shared().await?;
    cp.install_upstream_crds("grove").await?;
    let (client, ns) = cp.namespace("grove-schema").await?;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("grove.io", "v1alpha1", "PodCliqueSet"),
        "podcliquesets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &resource);
    let params = PatchParams::apply("fidelity-test").validation_strict();
    let expected = [
        ("trtllm-disagg-multinode", "CliqueStartupTypeExplicit"),
        ("vllm-disagg-multinode", "CliqueStartupTypeAnyOrder"),
        ("sglang-disagg-multinode", "CliqueStartupTypeAnyOrder"),
        ("vllm-disagg_planner", "CliqueStartupTypeAnyOrder"),
        ("vllm-agg_gms", "CliqueStartupTypeAnyOrder"),
    ];
    for (example, startup) in expected {
        let example = dynamo_fixtures::anchor_example(example);
        let rendered = render(&example, "grove").map_err(|e| anyhow::anyhow!("{e}"))?;
        let set = documents(&rendered, &example.name)
            .into_iter()
            .find(|o| o["kind"] == "PodCliqueSet")
            .ok_or_else(|| anyhow::anyhow!("{}: no PodCliqueSet", example.name))?;
        let mut set = set;
        set["metadata"]["namespace"] = Value::String(ns.clone());
        let name = set["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let stored = api
            .patch(&name, &params, &Patch::Apply(&set))
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}: Grove's schema refused the PodCliqueSet: {e}",
                    example.name
                )
            })?;
        let stored = serde_json::to_value(&stored)?;
        anyhow::ensure!(
            stored["spec"]["template"]["cliqueStartupType"] == startup,
            "{}: cliqueStartupType read back as {}, expected {startup}",
            example.name,
            stored["spec"]["template"]["cliqueStartupType"]
        );
        let starts_after = stored["spec"]["template"]["cliques"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["spec"]["startsAfter"].is_array());
        anyhow::ensure!(
            starts_after == (startup == "CliqueStartupTypeExplicit"),
            "{}: startsAfter does not follow the startup type",
            example.name
        );
    }
    Ok(())
}

/// A service scaled to zero (Dynamo issue #11837): the scaling group and the clique say
/// `minAvailable: 0`, which Grove accepts (it refuses `minAvailable` above `replicas`), and
/// Grove's schema keeps it rather than defaulting it back to 1.
#[tokio::test]
async fn services_scaled_to_zero_render_what_grove_accepts() -> anyhow::Result<()> {
    use kube::api::{Api, DynamicObject, Patch, PatchParams};
    use kube::core::GroupVersionKind;
    use kube::discovery::ApiResource;

    let mut example = dynamo_fixtures::anchor_example("vllm-disagg-multinode");
    let mut docs = documents(&example.text, &example.name);
    for doc in &mut docs {
        if doc["kind"] == "DynamoGraphDeployment" {
            doc["spec"]["services"]["decode"]["replicas"] = Value::from(0);
            doc["spec"]["services"]["Frontend"]["replicas"] = Value::from(0);
        }
    }
    example.text = docs
        .iter()
        .map(|d| serde_yaml_ng::to_string(d).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n");
    let rendered = render(&example, "grove").map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut set = documents(&rendered, &example.name)
        .into_iter()
        .find(|o| o["kind"] == "PodCliqueSet")
        .ok_or_else(|| anyhow::anyhow!("no PodCliqueSet"))?;
    let template = &set["spec"]["template"];
    let decode = template["podCliqueScalingGroups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == "decode"))
        .ok_or_else(|| anyhow::anyhow!("no decode scaling group"))?;
    anyhow::ensure!(
        decode["replicas"] == 0 && decode["minAvailable"] == 0,
        "decode group {decode}"
    );
    let frontend = template["cliques"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "frontend"))
        .ok_or_else(|| anyhow::anyhow!("no frontend clique"))?;
    anyhow::ensure!(
        frontend["spec"]["replicas"] == 0 && frontend["spec"]["minAvailable"] == 0,
        "frontend clique {frontend}"
    );
    // Every clique and group: never more available than there are replicas.
    for item in template["cliques"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| &c["spec"])
        .chain(
            template["podCliqueScalingGroups"]
                .as_array()
                .into_iter()
                .flatten(),
        )
    {
        anyhow::ensure!(
            item["minAvailable"].as_i64() <= item["replicas"].as_i64(),
            "minAvailable above replicas: {item}"
        );
    }

    let cp = dynamo_test_harness::ControlPlane::shared().await?;
    cp.install_upstream_crds("grove").await?;
    let (client, ns) = cp.namespace("grove-zero").await?;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("grove.io", "v1alpha1", "PodCliqueSet"),
        "podcliquesets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &resource);
    set["metadata"]["namespace"] = Value::String(ns.clone());
    let name = set["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let stored = api
        .patch(
            &name,
            &PatchParams::apply("fidelity-test").validation_strict(),
            &Patch::Apply(&set),
        )
        .await?;
    let stored = serde_json::to_value(&stored)?;
    let group = stored["spec"]["template"]["podCliqueScalingGroups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == "decode"))
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(
        group["minAvailable"] == 0 && group["replicas"] == 0,
        "stored decode group {group}"
    );
    Ok(())
}
