use super::*;

const LANGS: [Lang; 4] = [Lang::Rust, Lang::Python, Lang::Js, Lang::Ts];

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

#[test]
fn a_typescript_project_shares_the_javascript_graph_and_fixture() {
    let ts = project_files("tgi", Lang::Ts);
    let js = project_files("tgi", Lang::Js);
    let file = |files: &[(String, Vec<u8>)], path: &str| {
        files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, bytes)| bytes.clone())
            .unwrap_or_else(|| panic!("no {path}"))
    };
    for shared in SHARED_WITH_TS {
        assert_eq!(file(&ts, shared), file(&js, shared), "{shared}");
    }
    let names: Vec<&str> = ts.iter().map(|(p, _)| p.as_str()).collect();
    for own in [
        "src/plugin.ts",
        "test/plugin.test.ts",
        "tsconfig.json",
        "dynamo-plugin-sdk/index.d.ts",
        "dynamo-plugin-sdk/build.js",
    ] {
        assert!(names.contains(&own), "{own}: {names:?}");
    }
    // Nothing else of the JavaScript template: its plugin.js would be overwritten by tsc.
    assert!(!names.contains(&"src/plugin.js"), "{names:?}");
    assert!(!names.contains(&"test/plugin.test.js"), "{names:?}");
    let package = String::from_utf8(file(&ts, "package.json")).expect("UTF-8");
    assert!(package.contains("\"typescript\": \"5.9.3\""), "{package}");
}

#[test]
fn template_pins_match_the_tools_the_tests_build_with() {
    // The scaffold tests build new projects with hack/plugin-tools.sh's installs; a template
    // pinning other versions would be tested against tools its users never get.
    let tools: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../hack/tools/plugin-languages/package.json"
    )))
    .expect("JSON");
    for lang in [Lang::Js, Lang::Ts] {
        let files = project_files("tgi", lang);
        let (_, package) = files
            .iter()
            .find(|(p, _)| p == "package.json")
            .expect("package.json");
        let package: serde_json::Value = serde_json::from_slice(package).expect("JSON");
        let pins = package["devDependencies"].as_object().expect("pins");
        assert!(!pins.is_empty());
        for (name, version) in pins {
            assert_eq!(
                version, &tools["dependencies"][name],
                "{lang:?}: {name} differs from hack/tools/plugin-languages/package.json"
            );
        }
        assert_eq!(package["overrides"], tools["overrides"], "{lang:?}");
    }
}
