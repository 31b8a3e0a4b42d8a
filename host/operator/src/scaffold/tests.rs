use super::*;

const LANGS: [Lang; 3] = [Lang::Rust, Lang::Python, Lang::Js];

fn paths(lang: Lang) -> Vec<String> {
    project_files("tgi", lang)
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn names_must_be_dns_labels() {
    for bad in ["", "TGI", "-tgi", "tgi-", "1tgi", "t_gi", &"x".repeat(64)] {
        let error = check_name(bad).expect_err(bad);
        assert!(error.to_string().contains("lowercase DNS label"), "{error}");
    }
    for good in ["tgi", "my-engine2", "a"] {
        check_name(good).expect(good);
    }
}

#[test]
fn every_project_gets_the_contract_and_a_stamp() {
    for lang in LANGS {
        let files = project_files("tgi", lang);
        let wit = files
            .iter()
            .find(|(p, _)| *p == format!("wit/dynamo-backend@{WIT_VERSION}/backend.wit"))
            .unwrap_or_else(|| panic!("{lang:?}: no WIT"));
        assert!(
            String::from_utf8_lossy(&wit.1)
                .contains(&format!("package dynamo:backend@{WIT_VERSION};"))
        );
        let (_, stamp) = files
            .iter()
            .find(|(p, _)| p == "dynamo-plugin.json")
            .expect("stamp");
        let stamp: serde_json::Value = serde_json::from_slice(stamp).expect("JSON");
        assert_eq!(stamp["plugin"], "tgi");
        assert_eq!(stamp["contract"], format!("dynamo:backend@{WIT_VERSION}"));
        assert_eq!(stamp["language"], lang.name());
    }
}

#[test]
fn each_language_gets_its_sdk_only() {
    let rust = paths(Lang::Rust);
    assert!(rust.contains(&"vendor/dynamo-plugin-sdk/src/lib.rs".to_owned()));
    assert!(rust.contains(&"vendor/dynamo-plugin-contract/src/lib.rs".to_owned()));
    assert!(rust.contains(&"vendor/dynamo-plugin-sdk/Cargo.toml".to_owned()));
    assert!(rust.contains(&"Cargo.lock".to_owned()));
    assert!(rust.contains(&"Cargo.toml".to_owned()));
    assert!(!rust.iter().any(|p| p.starts_with("dynamo_plugin/")));

    let python = paths(Lang::Python);
    assert!(python.iter().any(|p| p.starts_with("dynamo_plugin/")));
    assert!(
        !python
            .iter()
            .any(|p| p.starts_with("vendor/") || p == "Cargo.lock")
    );

    let js = paths(Lang::Js);
    assert!(js.iter().any(|p| p.starts_with("dynamo-plugin-sdk/")));
    assert!(
        !js.iter()
            .any(|p| p.starts_with("vendor/") || p.starts_with("dynamo_plugin/"))
    );
}

#[test]
fn templates_leave_no_placeholder_behind() {
    for lang in LANGS {
        for (path, bytes) in project_files("tgi", lang) {
            assert!(!path.contains("{{"), "{lang:?}: path {path}");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("{{name}}")
                    && !text.contains("{{package}}")
                    && !text.contains("{{crate_name}}")
                    && !text.contains("{{sdk_version}}")
                    && !text.contains("{{wit_version}}")
                    && !text.contains("{{operator_version}}"),
                "{lang:?}: {path} keeps a placeholder"
            );
        }
    }
}

#[test]
fn vendored_manifests_inherit_nothing() {
    for manifest in [embedded::SDK_MANIFEST, embedded::CONTRACT_MANIFEST] {
        assert!(!manifest.contains("workspace = true"), "{manifest}");
        assert!(!manifest.contains(".workspace"), "{manifest}");
        assert!(manifest.contains("edition = \"2024\""), "{manifest}");
    }
    assert!(
        embedded::SDK_MANIFEST
            .contains("dynamo-plugin-contract = { path = \"../dynamo-plugin-contract\" }")
    );
    assert!(embedded::SDK_MANIFEST.contains("wit-bindgen = {"));
}

#[test]
fn a_project_is_written_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("tgi-plugin");
    let written = new_project("tgi", Lang::Python, &target).expect("written");
    assert_eq!(written, project_files("tgi", Lang::Python).len());
    assert!(target.join("dynamo-plugin.json").is_file());
    let error = new_project("tgi", Lang::Python, &target).expect_err("not empty");
    assert!(error.to_string().contains("not empty"), "{error}");
}

#[test]
fn the_javascript_sdk_ships_without_its_own_tests() {
    let js = paths(Lang::Js);
    assert!(
        js.contains(&"dynamo-plugin-sdk/index.js".to_owned()),
        "{js:?}"
    );
    assert!(
        js.contains(&"dynamo-plugin-sdk/build.js".to_owned()),
        "{js:?}"
    );
    assert!(
        !js.iter().any(|p| p.starts_with("dynamo-plugin-sdk/test/")),
        "{js:?}"
    );
    assert!(
        js.iter().any(|p| p.starts_with("test/")),
        "the project's own tests: {js:?}"
    );
}
