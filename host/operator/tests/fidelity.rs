//! Fidelity with Dynamo's operator: `render` against the objects Dynamo's own reconcilers create.
//!
//! Two references, each with its reviewed allow-list:
//! - Dynamo's operator of April 2026 on the `v1alpha1` anchor examples
//!   (`tests/fixtures/dynamo/go-output/<example>.<deployment|lws|grove>.yaml`;
//!   `tests/golden/fidelity/allowed.yaml`). Its DynamoComponentDeployments are `v1alpha1`, ours
//!   `v1beta1`: Dynamo's are compared as the API server serves them at `v1beta1` (through our
//!   conversion).
//! - Dynamo 1.5's operator on its 46 `v1beta1` example graphs
//!   (`tests/fixtures/dynamo-1.5/go-output/`, one run per example and pathway listed in its
//!   `index.tsv`; `tests/golden/fidelity/allowed-1.5.yaml`). A run Dynamo completed must render
//!   and is compared; a run Dynamo refused must be refused by us too, naming the field Dynamo's
//!   admission names (or, for a controller failure, with Dynamo's reason). A run we refuse on
//!   purpose is listed under `unsupported` in the allow-list, with the error we give.
//!
//! Rendered objects are matched with the reference ones by kind and name and compared field by
//! field. Every difference must match one entry of the allow-list (each with its reason), and
//! every entry must still match something: a new difference fails, and so does an entry that has
//! become stale. Two kinds of string compare by meaning as well: a launcher script running
//! `mpirun` must forward the same variables (`-x`), else the difference is reported at
//! `<path>(mpirun -x)`; and a shell command line made of the same words after the shell's quote
//! removal is reported at `<path>(quoting)`, not as a different command.
//!
//! The worker hash is the one value compared by substitution: Dynamo's is a SHA-256 over Go's
//! JSON encoding of the worker specs, ours over our own canonical encoding, so the reference hash
//! replaces ours in the rendered text before comparing (the operator adopts a running graph's
//! hash instead of recomputing it; see the takeover tests).
//!
//! The twins: each anchor converted to `v1beta1` renders byte for byte as the anchor does, and
//! the anchors Dynamo 1.5 ships again as `v1beta1` examples render the same objects, with the
//! same labels, as those examples (see [`TWINS`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

const PATHWAYS: [&str; 3] = ["deployment", "lws", "grove"];
const WORKER_HASH: &str = "nvidia.com/dynamo-worker-hash";
/// The graph annotation that records Dynamo 1.5's worker hash.
const WORKER_HASH_V2: &str = "nvidia.com/current-worker-hash-v2";

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
    /// True for bookkeeping: what only one operator records about an object (apply hashes,
    /// owners, status, private payloads) or how Go encodes an empty value. A run differing only
    /// there counts as rendering what Dynamo renders.
    #[serde(default)]
    bookkeeping: bool,
    /// Why the difference is right.
    reason: String,
}

/// How a compared run came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Only bookkeeping differs (or nothing).
    Same,
    /// Some reviewed difference beyond bookkeeping.
    Reviewed,
    /// Some difference no entry allows.
    Failed,
}

/// A run Dynamo completes and we refuse on purpose.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unsupported {
    /// The `<example>.<pathway>` case.
    case: String,
    /// A glob our error message must match.
    error: String,
    /// Why we refuse it.
    reason: String,
}

/// An allow-list file: a list of differences, or the runs we refuse (`unsupported`) and the
/// differences.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AllowListFile {
    Differences(Vec<Allowed>),
    Sections(Sections),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    #[serde(default)]
    unsupported: Vec<Unsupported>,
    differences: Vec<Allowed>,
}

/// An allow-list being checked: which entries matched, and what failed.
struct Checker {
    file: &'static str,
    differences: Vec<Allowed>,
    unsupported: Vec<Unsupported>,
    used: Vec<usize>,
    unsupported_used: Vec<usize>,
    failures: Vec<String>,
}

impl Checker {
    /// Reads allow-list `file` (relative to `tests/golden/fidelity/`).
    fn new(file: &'static str) -> Self {
        let path = workspace().join("tests/golden/fidelity").join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let parsed: AllowListFile = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        let (differences, unsupported) = match parsed {
            AllowListFile::Differences(d) => (d, Vec::new()),
            AllowListFile::Sections(s) => (s.differences, s.unsupported),
        };
        for (what, reason) in differences
            .iter()
            .map(|d| (&d.r#match, &d.reason))
            .chain(unsupported.iter().map(|u| (&u.case, &u.reason)))
        {
            assert!(
                reason.trim().len() > 10,
                "{file}: entry `{what}` needs a reason"
            );
        }
        Self {
            file,
            used: vec![0; differences.len()],
            unsupported_used: vec![0; unsupported.len()],
            differences,
            unsupported,
            failures: Vec::new(),
        }
    }

    /// Checks the differences of one case.
    fn record(&mut self, differences: Vec<Difference>) -> Outcome {
        let mut outcome = Outcome::Same;
        for difference in differences {
            match self
                .differences
                .iter()
                .position(|a| difference.allowed_by(a))
            {
                Some(at) => {
                    self.used[at] += 1;
                    if !self.differences[at].bookkeeping && outcome == Outcome::Same {
                        outcome = Outcome::Reviewed;
                    }
                }
                None => {
                    self.failures.push(difference.to_string());
                    outcome = Outcome::Failed;
                }
            }
        }
        outcome
    }

    /// The `unsupported` entry of `case`, counted as used.
    fn unsupported(&mut self, case: &str) -> Option<&Unsupported> {
        let at = self.unsupported.iter().position(|u| u.case == case)?;
        self.unsupported_used[at] += 1;
        Some(&self.unsupported[at])
    }

    fn fail(&mut self, failure: String) {
        self.failures.push(failure);
    }

    /// Fails on every failure so far and on every entry that matched nothing.
    fn finish(mut self) {
        for (entry, count) in self.differences.iter().zip(&self.used) {
            if *count == 0 {
                self.failures.push(format!(
                    "allow-list entry `{}` ({:?}{}) matches nothing any more: remove it",
                    entry.r#match,
                    entry.side,
                    entry
                        .case
                        .as_ref()
                        .map(|c| format!(", case {c}"))
                        .unwrap_or_default()
                ));
            }
        }
        for (entry, count) in self.unsupported.iter().zip(&self.unsupported_used) {
            if *count == 0 {
                self.failures.push(format!(
                    "unsupported case `{}` is no reference run any more: remove it",
                    entry.case
                ));
            }
        }
        assert!(
            self.failures.is_empty(),
            "{} difference(s) from Dynamo's operator outside tests/golden/fidelity/{}:\n{}",
            self.failures.len(),
            self.file,
            self.failures.join("\n")
        );
    }
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
                let keys: BTreeSet<&String> = g.keys().chain(o.keys()).collect();
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
            (Value::String(g), Value::String(o)) => self.compare_text(path, g, o),
            _ => self.push(path, Side::Differs, Some(go), Some(ours)),
        }
    }

    /// Two different strings: the same command line quoted differently is reported as
    /// `(quoting)`; launchers must forward the same variables to `mpirun`'s ranks.
    fn compare_text(&mut self, path: &str, go: &str, ours: &str) {
        let (g, o) = (Value::from(go), Value::from(ours));
        if go.contains("mpirun") && ours.contains("mpirun") {
            let (forwarded_go, forwarded_ours) = (mpirun_exports(go), mpirun_exports(ours));
            if forwarded_go != forwarded_ours {
                self.push(
                    &format!("{path}(mpirun -x)"),
                    Side::Differs,
                    Some(&Value::from(forwarded_go)),
                    Some(&Value::from(forwarded_ours)),
                );
            }
        } else if shell_words(go).is_some_and(|words| Some(words) == shell_words(ours)) {
            self.push(
                &format!("{path}(quoting)"),
                Side::Differs,
                Some(&g),
                Some(&o),
            );
            return;
        }
        self.push(path, Side::Differs, Some(&g), Some(&o));
    }
}

/// A list whose items are objects with a unique `name` (containers, env, volumes, ports…).
fn named(list: &[Value]) -> bool {
    let mut seen = BTreeSet::new();
    !list.is_empty()
        && list.iter().all(|v| {
            v["name"]
                .as_str()
                .is_some_and(|n| seen.insert(n.to_owned()))
        })
}

/// The variables a launcher script forwards to `mpirun`'s ranks (`-x NAME`), sorted.
fn mpirun_exports(script: &str) -> Vec<String> {
    let words: Vec<&str> = script.split_whitespace().collect();
    let names: BTreeSet<String> = words
        .windows(2)
        .filter(|pair| pair[0] == "-x")
        .map(|pair| pair[1].to_owned())
        .collect();
    names.into_iter().collect()
}

/// The words of a shell command line after quote removal (`'…'`, `"…"` with its backslash
/// escapes, `\x`), a `$(…)` or `$((…))` kept whole with its spaces; `None` when a quote or
/// parenthesis is left open.
fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '\'' => {
                let text = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => text.push(other),
                    }
                }
            }
            '"' => {
                let text = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            escaped @ ('"' | '\\' | '$' | '`') => text.push(escaped),
                            other => {
                                text.push('\\');
                                text.push(other);
                            }
                        },
                        other => text.push(other),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            '$' if chars.peek() == Some(&'(') => {
                let text = word.get_or_insert_with(String::new);
                text.push('$');
                let mut depth = 0usize;
                loop {
                    let next = chars.next()?;
                    text.push(next);
                    match next {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(word);
    Some(words)
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

/// Renders `text` (graph YAML) for `pathway` with the CLI: its output, or its error.
fn render_text(text: &str, pathway: &str) -> Result<String, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynamo-operator"))
        .args(["render", "-f", "-", "--orchestrator", pathway])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning dynamo-operator");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(text.as_bytes()).expect("stdin");
    drop(pipe);
    let out = child.wait_with_output().expect("dynamo-operator");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        // Warnings (placeholder image tags and the like) are not the error.
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(stderr
            .lines()
            .filter(|l| !l.starts_with("warning: "))
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

/// Renders `example` for `pathway` with the CLI.
fn render(example: &dynamo_fixtures::Example, pathway: &str) -> Result<String, String> {
    render_text(&example.text, pathway)
}

/// The objects of `rendered` with our worker hash replaced by Dynamo's (`theirs`) in every
/// string, when both have one.
fn substitute_hash(rendered: &str, theirs: Option<&str>, what: &str) -> Vec<Value> {
    fn replace(value: &mut Value, ours: &str, theirs: &str) {
        match value {
            Value::String(text) => *text = text.replace(ours, theirs),
            Value::Array(items) => items.iter_mut().for_each(|v| replace(v, ours, theirs)),
            Value::Object(fields) => {
                let old = std::mem::take(fields);
                for (key, mut v) in old {
                    replace(&mut v, ours, theirs);
                    fields.insert(key.replace(ours, theirs), v);
                }
            }
            _ => {}
        }
    }
    let mut objects = documents(rendered, what);
    if let (Some(theirs), Some(ours)) = (theirs, worker_hash(&objects)) {
        objects.iter_mut().for_each(|o| replace(o, &ours, theirs));
    }
    objects
}

/// Every difference between Dynamo's objects `go` and ours, matched by kind and name.
fn differences(case: &str, go: Vec<Value>, ours: Vec<Value>) -> Vec<Difference> {
    let ours: BTreeMap<(String, String), Value> = ours.into_iter().map(|o| (key(&o), o)).collect();
    let go: BTreeMap<(String, String), Value> = go.into_iter().map(|o| (key(&o), o)).collect();
    let mut out = Vec::new();
    let keys: BTreeSet<&(String, String)> = go.keys().chain(ours.keys()).collect();
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

/// Every difference of one April case (`example.pathway`): Dynamo's YAML `reference` against
/// our `rendered` stream. Dynamo's DynamoComponentDeployments are `v1alpha1`; they are compared
/// as the API server serves them at `v1beta1` (through our conversion), as ours are written.
fn april_differences(case: &str, reference: &str, rendered: &str) -> Vec<Difference> {
    let go: Vec<Value> = documents(reference, case)
        .into_iter()
        .map(|object| {
            if object["kind"] == "DynamoComponentDeployment" {
                dynamo_conversion::convert(object, dynamo_conversion::V1BETA1)
                    .unwrap_or_else(|e| panic!("{case}: Dynamo's DCD does not convert: {e}"))
            } else {
                object
            }
        })
        .collect();
    let ours = substitute_hash(rendered, worker_hash(&go).as_deref(), case);
    differences(case, go, ours)
}

// === April 2026 (v1alpha1 anchors) ===

#[test]
fn render_matches_what_dynamos_operator_creates_up_to_the_reviewed_differences() {
    let mut check = Checker::new("allowed.yaml");
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
            match render(&example, pathway) {
                Ok(rendered) => {
                    check.record(april_differences(&case, &reference, &rendered));
                }
                Err(e) => check.fail(format!("{case}: render failed: {}", e.trim())),
            }
        }
    }
    assert!(
        cases >= 30,
        "expected the 31 reference cases, found {cases}"
    );
    check.finish();
}

// === Dynamo 1.5 (its v1beta1 examples) ===

/// What our error must name for a run Dynamo refused: the fields its admission names, else its
/// controller's reason.
fn refusal_expectations(message: &str) -> Vec<String> {
    let parts: Vec<&str> = message.split(" | ").collect();
    let fields: Vec<String> = parts
        .iter()
        .filter_map(|p| p.strip_prefix("admission: "))
        .filter_map(|p| p.split_once(": ").map(|(field, _)| field.to_owned()))
        .collect();
    if !fields.is_empty() {
        return fields;
    }
    parts
        .iter()
        .filter_map(|p| p.strip_prefix("controller: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn render_matches_what_dynamo_1_5_creates_for_its_examples_up_to_the_reviewed_differences() {
    let mut check = Checker::new("allowed-1.5.yaml");
    let examples: BTreeMap<String, dynamo_fixtures::Example> = dynamo_fixtures::v1beta1_examples()
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect();
    let runs = dynamo_fixtures::dynamo_1_5_runs();
    let (mut same, mut reviewed, mut refused, mut unsupported) = (0, 0, 0, 0);
    for run in &runs {
        let case = format!("{}.{}", run.example, run.pathway);
        let example = examples
            .get(&run.example)
            .unwrap_or_else(|| panic!("{case}: no such example among the v1beta1 examples"));
        let text = std::fs::read_to_string(&run.output).expect("reference output");
        let reference: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", run.output.display()));
        match (run.ok, render(example, &run.pathway)) {
            (true, Ok(rendered)) => {
                if check.unsupported(&case).is_some() {
                    check.fail(format!(
                        "{case}: listed as unsupported, but renders: remove it from `unsupported`"
                    ));
                }
                let go: Vec<Value> = reference["objects"].as_array().cloned().unwrap_or_default();
                let theirs = reference["dgdAnnotations"][WORKER_HASH_V2].as_str();
                let ours = substitute_hash(&rendered, theirs, &case);
                match check.record(differences(&case, go, ours)) {
                    Outcome::Same => same += 1,
                    Outcome::Reviewed => reviewed += 1,
                    Outcome::Failed => {}
                }
            }
            (true, Err(error)) => match check.unsupported(&case) {
                Some(entry) if glob(&entry.error, error.trim()) => unsupported += 1,
                Some(entry) => {
                    let pattern = entry.error.clone();
                    check.fail(format!(
                        "{case}: unsupported, but the error is not `{pattern}`: {}",
                        error.trim()
                    ));
                }
                None => check.fail(format!(
                    "{case}: Dynamo renders it, we fail: {}",
                    error.trim()
                )),
            },
            (false, Ok(_)) => check.fail(format!(
                "{case}: Dynamo refuses it ({}), we render it",
                run.message
            )),
            (false, Err(error)) => {
                let missing: Vec<String> = refusal_expectations(&run.message)
                    .into_iter()
                    .filter(|expected| !error.contains(expected.as_str()))
                    .collect();
                if missing.is_empty() {
                    refused += 1;
                } else {
                    check.fail(format!(
                        "{case}: refused, but our error does not name {missing:?} as Dynamo's does \
                         ({}): {}",
                        run.message,
                        error.trim()
                    ));
                }
            }
        }
    }
    eprintln!(
        "Dynamo 1.5 reference: {} runs; {same} render what Dynamo renders (up to bookkeeping), \
         {reviewed} with reviewed differences, {refused} refused as Dynamo refuses them, \
         {unsupported} refused on purpose",
        runs.len()
    );
    assert_eq!(runs.len(), 46 * 3, "the 46 examples on three pathways each");
    check.finish();
}

#[test]
fn the_comparison_finds_each_kind_of_difference() {
    let go = "kind: Deployment\nmetadata:\n  name: a\n  labels: {x: '1', y: '2'}\nspec:\n  containers:\n  - {name: main, image: i, args: ['exec run --config \"{\\\"a\\\": 1}\" --rank $((I + 1))']}\n  - {name: side, image: s, args: ['mpirun -x A -x B bash -c run']}\n";
    let ours = "kind: Deployment\nmetadata:\n  name: a\n  labels: {x: '1', z: '3'}\nspec:\n  containers:\n  - {name: side, image: s, args: ['mpirun -x B bash -c launch']}\n  - {name: main, image: j, args: ['exec run --config ''{\"a\": 1}'' --rank \"$((I + 1))\"']}\n---\nkind: Service\nmetadata: {name: a}\n";
    let found: Vec<String> = april_differences("t.deployment", go, ours)
        .iter()
        .map(|d| format!("{} {} {:?}", d.object, d.path, d.side))
        .collect();
    assert_eq!(
        found,
        [
            "Deployment/a .metadata.labels.y GoOnly",
            "Deployment/a .metadata.labels.z OursOnly",
            "Deployment/a .spec.containers(order) Differs",
            "Deployment/a .spec.containers[main].args[0](quoting) Differs",
            "Deployment/a .spec.containers[main].image Differs",
            "Deployment/a .spec.containers[side].args[0](mpirun -x) Differs",
            "Deployment/a .spec.containers[side].args[0] Differs",
            "Service/a (object) OursOnly",
        ]
    );
    assert!(glob(
        "* .metadata.annotations.nvidia.com/last-applied-*",
        "Service .metadata.annotations.nvidia.com/last-applied-hash"
    ));
    assert!(!glob("Service .spec", "Service .spec.x"));
    assert!(glob("*", ""));
    assert_eq!(shell_words("a 'b c"), None);
    assert_eq!(
        refusal_expectations(
            "controller: x failed | admission: spec.components[0].y: Forbidden: no | note: z"
        ),
        ["spec.components[0].y"]
    );
    assert_eq!(
        refusal_expectations("controller: no multinode orchestrator available | note: z"),
        ["no multinode orchestrator available"]
    );
}

// === the twins ===

/// Anchors (`v1alpha1`) Dynamo 1.5 ships again as `v1beta1` examples: the same graph (name,
/// backend, mode) in the new API.
const TWINS: [(&str, &str); 11] = [
    ("vllm-agg", "vllm/deploy/agg"),
    ("vllm-disagg", "vllm/deploy/disagg"),
    ("vllm-disagg-multinode", "vllm/deploy/disagg-multinode"),
    ("vllm-disagg_planner", "vllm/deploy/disagg_planner"),
    ("sglang-agg", "sglang/deploy/agg"),
    ("sglang-disagg-multinode", "sglang/deploy/disagg-multinode"),
    ("trtllm-agg", "trtllm/deploy/agg"),
    ("trtllm-disagg-multinode", "trtllm/deploy/disagg-multinode"),
    ("vllm-gaie-agg", "vllm/deploy/gaie/agg"),
    ("vllm-agg_gms", "vllm/deploy/agg_gms"),
    ("vllm-agg_failover", "vllm/deploy/agg_failover"),
];

/// Anchors whose prefill/decode workers are `componentType: worker` without a sub-type, where
/// their twins say `type: prefill`/`decode`: the two inputs differ there, so their workers'
/// component-type labels differ (`worker` against `prefill`/`decode`) and only the twin's carry
/// `nvidia.com/dynamo-sub-component-type`.
const UNTYPED_WORKERS: [&str; 4] = [
    "vllm-disagg-multinode",
    "sglang-disagg-multinode",
    "trtllm-disagg-multinode",
    "vllm-gaie-agg",
];

/// Each document of `text` with its DynamoGraphDeployment converted to `v1beta1`.
fn as_v1beta1(text: &str, what: &str) -> String {
    documents(text, what)
        .into_iter()
        .map(|doc| {
            let doc = if doc["kind"] == "DynamoGraphDeployment" {
                dynamo_conversion::convert(doc, dynamo_conversion::V1BETA1)
                    .unwrap_or_else(|e| panic!("{what}: the conversion refuses the graph: {e}"))
            } else {
                doc
            };
            serde_yaml_ng::to_string(&doc).unwrap_or_else(|e| panic!("{what}: {e}"))
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn every_anchor_renders_byte_for_byte_the_same_read_as_v1beta1() {
    for anchor in dynamo_fixtures::anchor_examples() {
        let converted = as_v1beta1(&anchor.text, &anchor.name);
        assert!(
            converted.contains("apiVersion: nvidia.com/v1beta1")
                && !converted.contains("apiVersion: nvidia.com/v1alpha1"),
            "{}: not converted",
            anchor.name
        );
        for pathway in PATHWAYS {
            let original = render(&anchor, pathway);
            let hub = render_text(&converted, pathway);
            assert!(
                original == hub,
                "{}.{pathway}: the anchor read as v1beta1 renders differently:\n--- as written\n{}\n--- as v1beta1\n{}",
                anchor.name,
                original.unwrap_or_else(|e| e),
                hub.unwrap_or_else(|e| e)
            );
        }
    }
}

/// The labels of an object that say what it is and what it selects: its own, its pod
/// templates' (Deployment, DCD, both LeaderWorkerSet templates, each Grove clique) and its
/// selector's, by where they are, our worker hash written `<hash>`.
fn label_sets(object: &Value, hash: Option<&str>) -> BTreeMap<String, BTreeMap<String, String>> {
    let read = |labels: &Value| -> BTreeMap<String, String> {
        labels
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = v.as_str().unwrap_or_default();
                let v = hash.map_or_else(|| v.to_owned(), |h| v.replace(h, "<hash>"));
                (k.clone(), v)
            })
            .collect()
    };
    let spec = &object["spec"];
    let mut sets = BTreeMap::from([
        ("metadata".to_owned(), read(&object["metadata"]["labels"])),
        (
            "pods".to_owned(),
            read(&spec["template"]["metadata"]["labels"]),
        ),
        (
            "podTemplate".to_owned(),
            read(&spec["podTemplate"]["metadata"]["labels"]),
        ),
        (
            "selector".to_owned(),
            read(&spec["selector"]["matchLabels"]),
        ),
        ("service selector".to_owned(), read(&spec["selector"])),
        (
            "leader pods".to_owned(),
            read(&spec["leaderWorkerTemplate"]["leaderTemplate"]["metadata"]["labels"]),
        ),
        (
            "worker pods".to_owned(),
            read(&spec["leaderWorkerTemplate"]["workerTemplate"]["metadata"]["labels"]),
        ),
    ]);
    for clique in spec["template"]["cliques"].as_array().into_iter().flatten() {
        let name = clique["name"].as_str().unwrap_or_default();
        sets.insert(format!("clique {name}"), read(&clique["labels"]));
    }
    sets.retain(|_, labels| !labels.is_empty());
    sets
}

/// The objects of a render by kind and name (our worker hash written `<hash>`), with their
/// [`label_sets`].
type Structure = BTreeMap<(String, String), BTreeMap<String, BTreeMap<String, String>>>;

fn structure(rendered: &str, what: &str) -> Structure {
    let objects = documents(rendered, what);
    let hash = worker_hash(&objects);
    objects
        .iter()
        .map(|o| {
            let (kind, name) = key(o);
            let name = hash
                .as_deref()
                .map_or_else(|| name.clone(), |h| name.replace(h, "<hash>"));
            ((kind, name), label_sets(o, hash.as_deref()))
        })
        .collect()
}

/// Where the structures of an anchor's and its twin's render differ.
fn structure_differences(
    anchor: &Structure,
    twin: &Structure,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    let keys: BTreeSet<&(String, String)> = anchor.keys().chain(twin.keys()).collect();
    for k in keys {
        let object = format!("{}/{}", k.0, k.1);
        let (Some(a), Some(t)) = (anchor.get(k), twin.get(k)) else {
            let side = if anchor.contains_key(k) {
                "anchor only"
            } else {
                "twin only"
            };
            out.push((object, "(object)".to_owned(), Some(side.to_owned()), None));
            continue;
        };
        let places: BTreeSet<&String> = a.keys().chain(t.keys()).collect();
        let none = BTreeMap::new();
        for place in places {
            let (la, lt) = (a.get(place).unwrap_or(&none), t.get(place).unwrap_or(&none));
            let labels: BTreeSet<&String> = la.keys().chain(lt.keys()).collect();
            for label in labels {
                if la.get(label) != lt.get(label) {
                    out.push((
                        object.clone(),
                        format!("{place} {label}"),
                        la.get(label).cloned(),
                        lt.get(label).cloned(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn anchors_and_their_v1beta1_twins_render_the_same_objects_and_labels() {
    let twins: BTreeMap<String, dynamo_fixtures::Example> = dynamo_fixtures::v1beta1_examples()
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect();
    let mut failures = Vec::new();
    let mut typed = BTreeSet::new();
    for (anchor_name, twin_name) in TWINS {
        let anchor = dynamo_fixtures::anchor_example(anchor_name);
        let twin = twins
            .get(twin_name)
            .unwrap_or_else(|| panic!("no v1beta1 example {twin_name}"));
        for pathway in PATHWAYS {
            let case = format!("{anchor_name}/{twin_name}.{pathway}");
            let (anchor_out, twin_out) = match (render(&anchor, pathway), render(twin, pathway)) {
                (Ok(a), Ok(t)) => (a, t),
                (Err(_), Err(_)) => continue,
                (a, t) => {
                    failures.push(format!(
                        "{case}: one renders, the other not: anchor {:?}, twin {:?}",
                        a.err(),
                        t.err()
                    ));
                    continue;
                }
            };
            let differences =
                structure_differences(&structure(&anchor_out, &case), &structure(&twin_out, &case));
            for (object, place, a, t) in differences {
                // The one difference of the inputs (see UNTYPED_WORKERS).
                let sub_type = t.as_deref().filter(|t| *t == "prefill" || *t == "decode");
                let expected = UNTYPED_WORKERS.contains(&anchor_name)
                    && sub_type.is_some()
                    && ((place.ends_with(" nvidia.com/dynamo-component-type")
                        && a.as_deref() == Some("worker"))
                        || (place.ends_with(" nvidia.com/dynamo-sub-component-type")
                            && a.is_none()));
                if expected {
                    typed.insert(anchor_name);
                } else {
                    failures.push(format!(
                        "{case}: {object} {place}: anchor {a:?}, twin {t:?}"
                    ));
                }
            }
        }
    }
    for anchor in UNTYPED_WORKERS {
        if !typed.contains(anchor) {
            failures.push(format!(
                "{anchor}: its workers are labelled as its twin's now: remove it from UNTYPED_WORKERS"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "anchors and twins differ:\n{}",
        failures.join("\n")
    );
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
