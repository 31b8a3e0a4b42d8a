//! `dynamo-operator render` end to end: golden outputs for Dynamo's example graphs and the
//! one-line errors for bad input.
//!
//! Goldens live in `tests/golden/render/<orchestrator>/<example>` (`.yaml` for a rendered stream,
//! `.err` for the expected one-line error). Regenerate with
//! `DYNAMO_UPDATE_GOLDEN=1 cargo test -p dynamo-operator --test render_cli`, then review the diff
//! against the reference before committing.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ORCHESTRATORS: [&str; 3] = ["deployment", "lws", "grove"];

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every anchor example file (`tests/fixtures/dynamo/examples/*.yaml`).
fn anchors() -> Vec<PathBuf> {
    dynamo_fixtures::anchor_examples()
        .into_iter()
        .map(|e| e.path)
        .collect()
}

fn render(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dynamo-operator"))
        .arg("render")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning dynamo-operator");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or_default().as_bytes())
        .expect("writing stdin");
    drop(pipe);
    child
        .wait_with_output()
        .expect("waiting for dynamo-operator")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compares `actual` with the golden file, or rewrites it under `DYNAMO_UPDATE_GOLDEN`.
fn check_golden(path: &Path, actual: &str, mismatches: &mut Vec<String>) {
    if std::env::var_os("DYNAMO_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
        std::fs::write(path, actual).expect("writing golden");
        return;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => {}
        Ok(_) => mismatches.push(format!("{} differs", path.display())),
        Err(_) => mismatches.push(format!("{} is missing", path.display())),
    }
}

#[test]
fn anchor_examples_match_their_goldens_under_every_orchestrator() {
    let golden = workspace().join("tests/golden/render");
    let mut mismatches = Vec::new();
    for file in anchors() {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let stem = name.trim_end_matches(".yaml");
        for orchestrator in ORCHESTRATORS {
            let out = render(
                &[
                    "-f",
                    &file.to_string_lossy(),
                    "--orchestrator",
                    orchestrator,
                ],
                None,
            );
            let dir = golden.join(orchestrator);
            // Only one of the two goldens may exist for a case.
            let (kept, stale, actual) = if out.status.success() {
                (
                    dir.join(format!("{stem}.yaml")),
                    dir.join(format!("{stem}.err")),
                    text(&out.stdout),
                )
            } else {
                assert!(
                    out.stdout.is_empty(),
                    "{name}/{orchestrator}: printed output on failure"
                );
                // The path of the input differs between machines; keep the message after it.
                let err = text(&out.stderr);
                let err = err
                    .split_once(".yaml: ")
                    .map_or(err.as_str(), |(_, m)| m)
                    .to_owned();
                (
                    dir.join(format!("{stem}.err")),
                    dir.join(format!("{stem}.yaml")),
                    err,
                )
            };
            if std::env::var_os("DYNAMO_UPDATE_GOLDEN").is_some() {
                let _ = std::fs::remove_file(&stale);
            } else if stale.exists() {
                mismatches.push(format!(
                    "{} exists but the render {}",
                    stale.display(),
                    if out.status.success() {
                        "succeeded"
                    } else {
                        "failed"
                    }
                ));
            }
            check_golden(&kept, &actual, &mut mismatches);
        }
    }
    assert!(
        mismatches.is_empty(),
        "render output changed (review, then regenerate with DYNAMO_UPDATE_GOLDEN=1):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn output_is_byte_for_byte_deterministic_and_stdin_works() {
    let file = dynamo_fixtures::anchor_example("vllm-disagg-multinode").path;
    let path = file.to_string_lossy().into_owned();
    let first = render(&["-f", &path, "--orchestrator", "grove"], None);
    let second = render(&["-f", &path, "--orchestrator", "grove"], None);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(first.stdout, second.stdout);
    let input = std::fs::read_to_string(&file).expect("anchor");
    let piped = render(&["-f", "-", "--orchestrator", "grove"], Some(&input));
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(first.stdout, piped.stdout);
}

/// Renders `yaml` from stdin and returns the single error line.
fn render_error(yaml: &str) -> String {
    let out = render(&["-f", "-"], Some(yaml));
    assert!(
        !out.status.success(),
        "expected failure, got:\n{}",
        text(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "printed output on failure:\n{}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

const VALID_HEAD: &str = "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: g\nspec:\n  services:\n";

#[test]
fn invalid_yaml_is_one_line_error() {
    let err = render_error("apiVersion: [unclosed\n");
    assert!(err.contains("<stdin>: document 1: invalid YAML"), "{err}");
}

#[test]
fn wrong_type_names_the_field_path() {
    let err = render_error(&format!(
        "{VALID_HEAD}    Frontend:\n      componentType: frontend\n      replicas: many\n"
    ));
    assert!(err.contains("spec.services.Frontend.replicas"), "{err}");
}

#[test]
fn unknown_field_names_the_field_path() {
    let err = render_error(&format!(
        "{VALID_HEAD}    Frontend:\n      componentType: frontend\n      replica: 2\n"
    ));
    assert!(
        err.contains("spec.services.Frontend.replica: unknown field"),
        "{err}"
    );
}

/// A `v1beta1` graph whose one component `Frontend` has a main image and the further `field`
/// line.
fn beta_frontend(field: &str) -> String {
    format!(
        "apiVersion: nvidia.com/v1beta1\nkind: DynamoGraphDeployment\nmetadata:\n  name: g\nspec:\n  components:\n    - name: Frontend\n      type: frontend\n      podTemplate: {{spec: {{containers: [{{name: main, image: 'fe:1.0.0'}}]}}}}\n      {field}\n"
    )
}

#[test]
fn schema_violation_names_the_field_path() {
    // A v1alpha1 graph is judged once converted, at the v1beta1 path of the field.
    let err = render_error(&format!(
        "{VALID_HEAD}    Frontend:\n      componentType: frontend\n      replicas: -1\n      extraPodSpec: {{mainContainer: {{image: 'fe:1.0.0'}}}}\n"
    ));
    assert!(
        err.contains("spec.components[0].replicas: must be 0 or more, got -1"),
        "{err}"
    );
    let err = render_error(&beta_frontend("replicas: -1"));
    assert!(
        err.contains("spec.components[0].replicas: must be 0 or more, got -1"),
        "{err}"
    );
}

#[test]
fn a_v1beta1_graph_names_its_own_field_paths() {
    let err = render_error(&beta_frontend("replicas: many"));
    assert!(
        err.contains("spec.components[0].replicas: invalid type"),
        "{err}"
    );
    let err = render_error(&beta_frontend("replica: 2"));
    assert!(
        err.contains("spec.components[0].replica: unknown field"),
        "{err}"
    );
    let err = render_error(&beta_frontend("frontendSidecar: fe"));
    assert!(
        err.contains("spec.components[0].frontendSidecar: must name a container"),
        "{err}"
    );
}

#[test]
fn unknown_backend_is_rejected_with_the_field() {
    let err = render_error(&format!(
        "{VALID_HEAD}    worker:\n      componentType: worker\n      extraPodSpec:\n        mainContainer:\n          image: x\n          command: [python3, -m, dynamo.vllm]\n  backendFramework: llamacpp\n"
    ));
    assert!(err.contains("backendFramework"), "{err}");
}

#[test]
fn multinode_without_an_orchestrator_is_rejected() {
    let file = dynamo_fixtures::anchor_example("vllm-disagg-multinode").path;
    let out = render(
        &[
            "-f",
            &file.to_string_lossy(),
            "--orchestrator",
            "deployment",
        ],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    // `decode` is the second component once the services are listed by name.
    assert!(err.contains("spec.components[1].multinode"), "{err}");
    assert!(err.contains("no multinode orchestrator available"), "{err}");
}

#[test]
fn a_namespace_carrying_a_document_is_refused_and_nothing_printed() {
    let yaml = "apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata:\n  name: g\n  namespace: \"team\\n---\\napiVersion: rbac.authorization.k8s.io/v1\\nkind: ClusterRoleBinding\"\nspec:\n  services:\n    Frontend: { componentType: frontend }\n";
    let err = render_error(yaml);
    assert!(err.contains("metadata.namespace"), "{err}");
    assert!(err.contains("not a valid DNS-1123 label"), "{err}");
}

#[test]
fn hostile_yaml_is_refused_quickly_with_a_reason() {
    let deep = format!("{VALID_HEAD}    Frontend: {}\n", "[".repeat(100_000));
    let err = render_error(&deep);
    assert!(err.contains("nest deeper than"), "{err}");
    let nan =
        format!("{VALID_HEAD}    Frontend:\n      componentType: frontend\n      replicas: .nan\n");
    let err = render_error(&nan);
    assert!(err.contains("spec.services.Frontend.replicas"), "{err}");
}

#[test]
fn the_ssh_key_note_goes_to_stderr_not_into_the_stream() {
    let file = dynamo_fixtures::anchor_example("trtllm-disagg-multinode").path;
    let out = render(
        &["-f", &file.to_string_lossy(), "--orchestrator", "lws"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains('#'),
        "only the serializer writes the stream"
    );
    assert!(
        text(&out.stderr).contains(
            "note: trtllm-disagg-tp8: the operator generates SSH key-pair Secret mpi-run-ssh-secret"
        ),
        "{}",
        text(&out.stderr)
    );
}

/// `examples/graphs/*.yaml` (v1beta1) and their `v1alpha1/` twins, as (name, beta, alpha).
fn example_twins() -> Vec<(String, PathBuf, PathBuf)> {
    let dir = workspace().join("examples/graphs");
    let mut twins: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/graphs")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|beta| {
            let name = beta
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let alpha = dir.join("v1alpha1").join(&name);
            assert!(alpha.exists(), "{name} has no v1alpha1 twin");
            (name, beta, alpha)
        })
        .collect();
    twins.sort();
    twins
}

/// Our example graphs say the same thing in both API versions: each renders to the same objects
/// under every orchestrator as its `v1alpha1` twin, or both are refused.
#[test]
fn example_graphs_render_the_same_in_both_api_versions() {
    let twins = example_twins();
    assert!(twins.len() >= 3, "examples: {twins:?}");
    let mut rendered = 0;
    for (name, beta, alpha) in &twins {
        for orchestrator in ORCHESTRATORS {
            let run = |path: &Path| {
                render(
                    &[
                        "-f",
                        &path.to_string_lossy(),
                        "--orchestrator",
                        orchestrator,
                    ],
                    None,
                )
            };
            let (beta_out, alpha_out) = (run(beta), run(alpha));
            assert_eq!(
                beta_out.status.success(),
                alpha_out.status.success(),
                "{name}/{orchestrator}: one version renders, the other not:\nv1beta1: {}\nv1alpha1: {}",
                text(&beta_out.stderr),
                text(&alpha_out.stderr)
            );
            if beta_out.status.success() {
                assert!(
                    text(&beta_out.stdout) == text(&alpha_out.stdout),
                    "{name}/{orchestrator}: the v1alpha1 twin renders differently"
                );
                rendered += 1;
            }
        }
    }
    assert!(rendered >= 6, "only {rendered} renders compared");
}

/// One file may hold graphs of both versions: each document is read in its own version, and the
/// stream equals rendering them in one version.
#[test]
fn a_file_mixing_api_versions_renders_each_graph_in_its_own_version() {
    let read = |path: &Path| std::fs::read_to_string(path).expect("example");
    let twins = example_twins();
    let find = |wanted: &str| {
        twins
            .iter()
            .find(|(name, _, _)| name == wanted)
            .unwrap_or_else(|| panic!("no example {wanted}"))
    };
    let (_, agg_beta, agg_alpha) = find("vllm-agg.yaml");
    let (_, multi_beta, multi_alpha) = find("vllm-disagg-multinode.yaml");
    let mixed = format!("{}\n---\n{}", read(agg_alpha), read(multi_beta));
    let other_mix = format!("{}\n---\n{}", read(agg_beta), read(multi_alpha));
    let all_beta = format!("{}\n---\n{}", read(agg_beta), read(multi_beta));
    let run = |yaml: &str| {
        let out = render(&["-f", "-", "--orchestrator", "lws"], Some(yaml));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let expected = run(&all_beta);
    assert!(
        expected.contains("kind: LeaderWorkerSet") && expected.contains("name: qwen-agg"),
        "both graphs rendered"
    );
    assert!(
        run(&mixed) == expected,
        "alpha + beta differs from beta + beta"
    );
    assert!(
        run(&other_mix) == expected,
        "beta + alpha differs from beta + beta"
    );
}
