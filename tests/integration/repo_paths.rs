//! `hack/check-repo-paths.sh`, which `.ci/run` calls: the repository refers to nothing outside
//! itself, and a reference to a folder beside the clone is caught.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the repository")
        .to_owned()
}

fn check(dir: &Path) -> Output {
    Command::new(repository().join("hack/check-repo-paths.sh"))
        .arg(dir)
        .output()
        .expect("running hack/check-repo-paths.sh")
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("running git");
    assert!(status.success(), "git {args:?} failed");
}

/// A small git work tree: a crate in `host/render` plus the given extra files.
fn work_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let mut all = vec![
        ("Cargo.toml", "[workspace]\n"),
        ("wit/backend.wit", "package x:y;\n"),
        ("host/render/Cargo.toml", "[package]\nname = \"r\"\n"),
        (
            "host/render/src/lib.rs",
            "// Inside: from the crate, the file and the root.\n\
             const A: &str = \"UP/UP/wit/backend.wit\";\n\
             const B: &str = include_str!(\"UP/UP/UP/wit/backend.wit\");\n\
             const C: &str = \"UP/UP/target/debug\";\n\
             fn f() { let _ = (0..3); let _ = S { ..S::default() }; }\n",
        ),
    ];
    all.extend_from_slice(files);
    for (path, text) in all {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        // The texts spell `../` as `UP/` so this file itself refers to nothing outside.
        std::fs::write(path, text.replace("UP/", "../")).expect("write");
    }
    git(root, &["init", "-q"]);
    git(root, &["add", "-A"]);
    dir
}

#[test]
fn the_repository_refers_to_nothing_outside_itself() {
    let out = check(&repository());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn references_that_stay_inside_pass() {
    let tree = work_tree(&[(
        "docs/guide.md",
        "The contract is [backend.wit](UP/wit/backend.wit).\n",
    )]);
    let out = check(tree.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_reference_beside_the_clone_fails_naming_the_line() {
    for (file, text) in [
        (
            "host/render/src/tests.rs",
            "// fixtures\nlet dir = manifest.join(\"UP/UP/UP/shared/anchor-examples\");\n",
        ),
        ("hack/test.sh", "#!/bin/sh\nexport X=UP/other-repo/bin\n"),
        (
            "docs/guide.md",
            "See UP/UP/shared/reference for the spec.\n",
        ),
    ] {
        let tree = work_tree(&[(file, text)]);
        let out = check(tree.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("{file}:2 refers to a path outside the repository"))
                || stderr.contains(&format!("{file}:1 refers to a path outside the repository")),
            "{file}: {stderr}"
        );
    }
}
