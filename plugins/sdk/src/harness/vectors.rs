//! Conformance vectors: one plugin call, its input and its expected outcome, in one JSON file.
//!
//! A plugin written in several languages (or a plugin and its specification) is pinned by a
//! folder of vectors; each implementation runs every vector and must get exactly the expected
//! outcome. The format (one JSON object per file, e.g. `conformance/01-plain.json`):
//!
//! ```json
//! {
//!   "name": "two GPUs shard the model",
//!   "call": "render",
//!   "input": { "graph": {}, "component": {}, "placement": {}, "infrastructure": {}, "podTemplate": {} },
//!   "expect": { "output": { "podTemplate": {}, "extraObjects": [], "warnings": [] } }
//! }
//! ```
//!
//! - `call` is `render` (run as the host does, [`crate::render_checked`]) or `validate`;
//! - `input` is a [`RenderInput`] as `dynamo-operator render --plugin-input` writes it;
//! - `expect` has exactly one of `output` (a [`RenderOutput`]; the pod template and config maps
//!   compare as JSON values, warnings in order), `error` (a [`PluginError`]:
//!   `{"invalidInput": {"fieldPath", "message", "severity"}}`, `{"unsupported": "..."}` or
//!   `{"internal": "..."}`) or `diagnostics` (the list `validate` returns, in order).
//!
//! [`run_conformance`] runs a folder of vectors in a test and panics with a readable report of
//! every difference; with `UPDATE_CONFORMANCE=1` in the environment it first rewrites each
//! vector's `expect` from the implementation under test (review the result by hand).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::HarnessError;
use crate::{Diagnostic, Plugin, PluginError, RenderInput, RenderOutput};

/// Environment variable that makes [`run_conformance`] rewrite the vectors' expectations first
/// (set it to `1`).
pub const UPDATE_ENV: &str = "UPDATE_CONFORMANCE";

/// Differences listed per vector before the report is cut short.
const MAX_DIFFERENCES: usize = 40;

/// Longest JSON value shown in a difference.
const MAX_VALUE_CHARS: usize = 160;

/// Which plugin function a vector calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Call {
    /// `render`, run as the host runs it ([`crate::render_checked`]).
    Render,
    /// `validate`.
    Validate,
}

/// What a call produced, or is expected to produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// `render` succeeded.
    Output(RenderOutput),
    /// `render` failed.
    Error(PluginError),
    /// What `validate` returned.
    Diagnostics(Vec<Diagnostic>),
}

/// One conformance vector (see the module docs for the file format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vector {
    /// What the vector shows, in a few words.
    pub name: String,
    /// The function called.
    pub call: Call,
    /// The input of the call.
    pub input: RenderInput,
    /// The expected outcome; absent in a new vector until [`update_vectors`] fills it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
}

impl Vector {
    /// Reads a vector file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, HarnessError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| HarnessError::Io {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| HarnessError::Vector {
            path: path.to_owned(),
            message: format!("not a conformance vector: {e}"),
        })
    }

    /// Makes the vector's call with plugin `P` and returns what it produced.
    pub fn run<P: Plugin>(&self) -> Outcome {
        match self.call {
            Call::Render => match crate::render_checked::<P>(&self.input) {
                Ok(output) => Outcome::Output(output),
                Err(error) => Outcome::Error(error),
            },
            Call::Validate => Outcome::Diagnostics(P::validate(&self.input)),
        }
    }

    /// Runs the vector with `P` and lists how the outcome differs from `expect` (empty: the
    /// plugin conforms).
    pub fn differences<P: Plugin>(&self) -> Vec<String> {
        match &self.expect {
            Some(expected) => outcome_differences(expected, &self.run::<P>()),
            None => vec![format!(
                "expect: missing; run with {UPDATE_ENV}=1 to fill it in from this implementation"
            )],
        }
    }

    /// The vector as its file holds it: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// How `actual` differs from `expected`, one line per difference, each naming the JSON path
/// (`expect.output.podTemplate.spec.containers[0].args[3]: expected "8080", got "9000"`).
///
/// Pod templates and config maps compare as JSON values (key order does not matter); lists
/// compare item by item, in order.
pub fn outcome_differences(expected: &Outcome, actual: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    diff_values(
        "expect",
        &outcome_value(expected),
        &outcome_value(actual),
        &mut out,
    );
    if out.len() > MAX_DIFFERENCES {
        let more = out.len() - MAX_DIFFERENCES;
        out.truncate(MAX_DIFFERENCES);
        out.push(format!("... and {more} more"));
    }
    out
}

/// An outcome as JSON, with pod templates and config maps as embedded objects.
fn outcome_value(outcome: &Outcome) -> Value {
    serde_json::to_value(outcome).unwrap_or_else(|e| Value::String(format!("<{e}>")))
}

/// Appends the differences between `expected` and `actual` below `path` to `out`.
fn diff_values(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, e_value) in e {
                let child = format!("{path}{}", key_segment(key));
                match a.get(key) {
                    Some(a_value) => diff_values(&child, e_value, a_value, out),
                    None => out.push(format!("{child}: expected {}, missing", show(e_value))),
                }
            }
            for (key, a_value) in a {
                if !e.contains_key(key) {
                    out.push(format!(
                        "{path}{}: not expected, got {}",
                        key_segment(key),
                        show(a_value)
                    ));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for i in 0..e.len().max(a.len()) {
                let child = format!("{path}[{i}]");
                match (e.get(i), a.get(i)) {
                    (Some(e_item), Some(a_item)) => diff_values(&child, e_item, a_item, out),
                    (Some(e_item), None) => {
                        out.push(format!("{child}: expected {}, missing", show(e_item)));
                    }
                    (None, Some(a_item)) => {
                        out.push(format!("{child}: not expected, got {}", show(a_item)));
                    }
                    (None, None) => {}
                }
            }
        }
        _ if expected != actual => out.push(format!(
            "{path}: expected {}, got {}",
            show(expected),
            show(actual)
        )),
        _ => {}
    }
}

/// `.key` for a plain key, `["key"]` for one with dots, slashes or other punctuation.
fn key_segment(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        format!(".{key}")
    } else {
        format!("[{}]", Value::String(key.to_owned()))
    }
}

/// A value as compact JSON, cut to [`MAX_VALUE_CHARS`].
fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The vector files of `dir`: every `*.json` file, sorted by name.
pub fn vector_files(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, HarnessError> {
    let dir = dir.as_ref();
    let io = |source| HarnessError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs every vector of `dir` with `P`; returns how many passed, or a report of every vector
/// that did not (as [`HarnessError::Vector`] naming `dir`). A folder without vectors is an error.
pub fn check_vectors<P: Plugin>(dir: impl AsRef<Path>) -> Result<usize, HarnessError> {
    let dir = dir.as_ref();
    let files = vector_files(dir)?;
    let mut report = String::new();
    let mut failed = 0;
    for path in &files {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        match Vector::load(path) {
            Ok(vector) => {
                let differences = vector.differences::<P>();
                if !differences.is_empty() {
                    failed += 1;
                    let _ = writeln!(report, "\n{file} ({}):", vector.name);
                    for line in differences {
                        let _ = writeln!(report, "  {line}");
                    }
                }
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(report, "\n{file}: {e}");
            }
        }
    }
    if files.is_empty() {
        return Err(HarnessError::Vector {
            path: dir.to_owned(),
            message: "no *.json vectors in this folder".into(),
        });
    }
    if failed > 0 {
        return Err(HarnessError::Vector {
            path: dir.to_owned(),
            message: format!(
                "{failed} of {} vectors do not match{report}\n(to rewrite every `expect` from \
                 this implementation, run the test again with {UPDATE_ENV}=1, then review the \
                 changes by hand)",
                files.len()
            ),
        });
    }
    Ok(files.len())
}

/// Rewrites the `expect` of every vector of `dir` from what `P` produces, leaving `name`, `call`
/// and `input` as they are (in their canonical JSON form: the form `--plugin-input` dumps have).
/// Returns the files whose text changed.
pub fn update_vectors<P: Plugin>(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, HarnessError> {
    let mut changed = Vec::new();
    for path in vector_files(dir)? {
        let before = std::fs::read_to_string(&path).map_err(|source| HarnessError::Io {
            path: path.clone(),
            source,
        })?;
        let mut vector = Vector::load(&path)?;
        vector.expect = Some(vector.run::<P>());
        let after = vector.to_json();
        if after != before {
            std::fs::write(&path, after).map_err(|source| HarnessError::Io {
                path: path.clone(),
                source,
            })?;
            changed.push(path);
        }
    }
    Ok(changed)
}

/// For a test: runs every vector of `dir` with `P` and panics with a report of every difference.
///
/// With `UPDATE_CONFORMANCE=1` in the environment, rewrites the expectations first
/// ([`update_vectors`]) and prints which files changed. Returns the number of vectors.
///
/// ```no_run
/// # struct MyPlugin;
/// # impl dynamo_plugin_sdk::Plugin for MyPlugin {
/// #     fn metadata() -> dynamo_plugin_sdk::Metadata { Default::default() }
/// #     fn render(_: &dynamo_plugin_sdk::RenderInput)
/// #         -> Result<dynamo_plugin_sdk::RenderOutput, dynamo_plugin_sdk::PluginError> { todo!() }
/// # }
/// #[test]
/// fn conformance() {
///     let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance");
///     dynamo_plugin_sdk::harness::run_conformance::<MyPlugin>(dir);
/// }
/// ```
pub fn run_conformance<P: Plugin>(dir: impl AsRef<Path>) -> usize {
    let dir = dir.as_ref();
    if std::env::var_os(UPDATE_ENV).is_some_and(|v| v == "1") {
        match update_vectors::<P>(dir) {
            Ok(changed) => {
                for path in changed {
                    eprintln!("rewrote {}", path.display());
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
    match check_vectors::<P>(dir) {
        Ok(count) => count,
        Err(e) => panic!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Metadata, PodTemplate, Severity};

    /// Labels the pod with the service name; `validate` rejects service `bad`, warns on `warn`.
    struct Labeler;

    impl Plugin for Labeler {
        fn metadata() -> Metadata {
            Metadata::default()
        }

        fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
            let mut pod = PodTemplate::from_input(input)?;
            pod.labels_mut()
                .insert("svc".into(), input.component.service_name.clone());
            Ok(RenderOutput::new(pod.to_json()?))
        }

        fn validate(input: &RenderInput) -> Vec<Diagnostic> {
            match input.component.service_name.as_str() {
                "bad" => vec![Diagnostic::error("spec.services.bad", "no")],
                "warn" => vec![Diagnostic::warning("spec.services.warn", "hm")],
                _ => Vec::new(),
            }
        }
    }

    fn vector(call: &str, service: &str, expect: &str) -> String {
        format!(
            r#"{{"name": "v", "call": "{call}",
                "input": {{"component": {{"serviceName": "{service}"}},
                           "podTemplate": {{"spec": {{"containers": [{{"name": "main"}}]}}}}}},
                "expect": {expect}}}"#
        )
    }

    #[test]
    fn vectors_parse_the_spec_format() {
        let v: Vector = serde_json::from_str(&vector(
            "render",
            "warn",
            r#"{"output": {"podTemplate": {"metadata": {"labels": {"svc": "warn"}},
                "spec": {"containers": [{"name": "main"}]}},
                "extraObjects": [], "warnings": ["spec.services.warn: hm"]}}"#,
        ))
        .expect("parses");
        assert_eq!(v.call, Call::Render);
        assert_eq!(v.differences::<Labeler>(), Vec::<String>::new());

        let error: Vector = serde_json::from_str(&vector(
            "render",
            "bad",
            r#"{"error": {"invalidInput": {"fieldPath": "spec.services.bad", "message": "no", "severity": "error"}}}"#,
        ))
        .expect("parses");
        assert!(error.differences::<Labeler>().is_empty());

        let diagnostics: Vector = serde_json::from_str(&vector(
            "validate",
            "warn",
            r#"{"diagnostics": [{"fieldPath": "spec.services.warn", "message": "hm", "severity": "warning"}]}"#,
        ))
        .expect("parses");
        assert_eq!(
            diagnostics.run::<Labeler>(),
            Outcome::Diagnostics(vec![Diagnostic {
                field_path: "spec.services.warn".into(),
                message: "hm".into(),
                severity: Severity::Warning,
            }])
        );
        assert!(diagnostics.differences::<Labeler>().is_empty());

        for bad in [
            vector("render", "x", r#"{"outputs": {}}"#),
            vector(
                "render",
                "x",
                r#"{"output": {}, "error": {"internal": "x"}}"#,
            ),
            vector("call", "x", r#"{"diagnostics": []}"#),
            vector("render", "x", r#"{"diagnostics": []}, "extra": 1"#),
        ] {
            assert!(serde_json::from_str::<Vector>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn differences_name_the_json_path() {
        let v: Vector = serde_json::from_str(&vector(
            "render",
            "x",
            r#"{"output": {"podTemplate": {"metadata": {"labels": {"svc": "y", "gone": "1"}},
                "spec": {"containers": [{"name": "main", "args": ["a"]}]}},
                "warnings": ["w"]}}"#,
        ))
        .expect("parses");
        assert_eq!(
            v.differences::<Labeler>(),
            [
                r#"expect.output.podTemplate.metadata.labels.gone: expected "1", missing"#,
                r#"expect.output.podTemplate.metadata.labels.svc: expected "y", got "x""#,
                r#"expect.output.podTemplate.spec.containers[0].args: expected ["a"], missing"#,
                r#"expect.output.warnings[0]: expected "w", missing"#,
            ]
        );
        let kind: Vector = serde_json::from_str(&vector("render", "bad", r#"{"diagnostics": []}"#))
            .expect("parses");
        assert_eq!(
            kind.differences::<Labeler>(),
            [
                "expect.diagnostics: expected [], missing",
                r#"expect.error: not expected, got {"invalidInput":{"fieldPath":"spec.services.bad","message":"no","severity":"error"}}"#,
            ]
        );
        assert_eq!(key_segment("nvidia.com/gpu"), r#"["nvidia.com/gpu"]"#);
        assert_eq!(key_segment("app-x_1"), ".app-x_1");
        assert!(show(&Value::String("x".repeat(500))).ends_with("..."));
    }

    #[test]
    fn folders_are_checked_and_updated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = check_vectors::<Labeler>(dir.path()).expect_err("empty folder");
        assert!(err.to_string().contains("no *.json vectors"), "{err}");

        std::fs::write(
            dir.path().join("01-ok.json"),
            vector("validate", "ok", r#"{"diagnostics": []}"#),
        )
        .expect("writes");
        std::fs::write(
            dir.path().join("02-wrong.json"),
            vector("validate", "bad", r#"{"diagnostics": []}"#),
        )
        .expect("writes");
        let new = r#"{"name": "new", "call": "render", "input": {"component": {"serviceName": "n"}, "podTemplate": {}}}"#;
        std::fs::write(dir.path().join("03-new.json"), new).expect("writes");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("writes");

        let report = check_vectors::<Labeler>(dir.path())
            .expect_err("two fail")
            .to_string();
        assert!(report.contains("2 of 3 vectors do not match"), "{report}");
        assert!(
            report.contains("02-wrong.json (v):\n  expect.diagnostics[0]: not expected"),
            "{report}"
        );
        assert!(
            report.contains("03-new.json (new):\n  expect: missing"),
            "{report}"
        );
        assert!(report.contains(UPDATE_ENV), "{report}");

        let changed = update_vectors::<Labeler>(dir.path()).expect("updates");
        let names: Vec<String> = changed
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["01-ok.json", "02-wrong.json", "03-new.json"]);
        assert_eq!(check_vectors::<Labeler>(dir.path()).expect("all pass"), 3);
        assert!(
            update_vectors::<Labeler>(dir.path())
                .expect("updates")
                .is_empty(),
            "a second update changes nothing"
        );
        let rewritten = Vector::load(dir.path().join("03-new.json")).expect("loads");
        assert_eq!(rewritten.name, "new");
        assert!(matches!(rewritten.expect, Some(Outcome::Output(_))));
        let text = std::fs::read_to_string(dir.path().join("03-new.json")).expect("reads");
        assert!(
            text.ends_with("}\n") && text.contains("\n  \"expect\": {"),
            "{text}"
        );

        std::fs::write(dir.path().join("04-broken.json"), "{").expect("writes");
        let report = check_vectors::<Labeler>(dir.path())
            .expect_err("broken")
            .to_string();
        assert!(
            report.contains("04-broken.json: conformance vector"),
            "{report}"
        );
    }
}
