//! Embeds what `dynamo-operator plugin new` writes into a new plugin project: the project
//! templates of each language, the plugin SDKs, the WIT contract and the workspace's lock file.
//!
//! The SDK crates inherit from the workspace (`version.workspace = true`, `serde.workspace =
//! true`), which a project outside it cannot do, so their manifests are embedded resolved: every
//! inherited key is replaced by the workspace's value and the contract crate becomes a path
//! dependency beside the SDK (`vendor/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

/// Folders embedded whole: (group, folder relative to the workspace root, top-level entries
/// left out). The JavaScript SDK's own tests stay home: a project's `node --test` would run them.
const FOLDERS: [(&str, &str, &[&str]); 8] = [
    ("template/rust", "plugins/templates/rust", &[]),
    ("template/python", "plugins/templates/python", &[]),
    ("template/js", "plugins/templates/js", &[]),
    ("template/ts", "plugins/templates/ts", &[]),
    ("sdk/rust", "plugins/sdk/src", &[]),
    ("contract/rust", "plugins/contract/src", &[]),
    ("sdk/python", "plugins/sdk-python/dynamo_plugin", &[]),
    ("sdk/js", "plugins/sdk-js", &["test"]),
];

/// Names never embedded: caches, build output and dependencies of a local checkout.
const SKIPPED: [&str; 6] = [
    "__pycache__",
    "node_modules",
    "target",
    "dist",
    "wit_world",
    "package-lock.json",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir.join("../..");
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));

    let mut code =
        String::from("/// Files embedded by build.rs: (group, path in the group, bytes).\n");
    code.push_str("pub static FILES: &[(&str, &str, &[u8])] = &[\n");
    for (group, folder, left_out) in FOLDERS {
        let dir = root.join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        collect(&dir, &dir, &mut files);
        files.retain(|(relative, _)| {
            !left_out
                .iter()
                .any(|top| relative.split('/').next() == Some(*top))
        });
        files.sort();
        for (relative, absolute) in files {
            writeln!(
                code,
                "    ({group:?}, {relative:?}, include_bytes!({:?})),",
                absolute.display().to_string()
            )
            .expect("writing to a String");
        }
    }
    let wit = root.join("wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    let contract_version = newest_wit(&wit);
    let wit_file = wit.join(format!("dynamo-backend@{contract_version}/backend.wit"));
    writeln!(
        code,
        "    (\"wit\", \"dynamo-backend@{contract_version}/backend.wit\", include_bytes!({:?})),",
        wit_file.display().to_string()
    )
    .expect("writing to a String");
    let lock = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    writeln!(
        code,
        "    (\"lock\", \"Cargo.lock\", include_bytes!({:?})),",
        lock.display().to_string()
    )
    .expect("writing to a String");
    code.push_str("];\n");

    // The SDK and contract manifests, resolved against the workspace.
    let workspace_manifest = root.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", workspace_manifest.display());
    let workspace =
        fs::read_to_string(&workspace_manifest).expect("reading the workspace manifest");
    for (constant, crate_dir) in [
        ("SDK_MANIFEST", "plugins/sdk/Cargo.toml"),
        ("CONTRACT_MANIFEST", "plugins/contract/Cargo.toml"),
    ] {
        let path = root.join(crate_dir);
        println!("cargo:rerun-if-changed={}", path.display());
        let manifest = fs::read_to_string(&path).expect("reading an SDK manifest");
        let resolved = resolve_manifest(&manifest, &workspace);
        writeln!(
            code,
            "/// `{crate_dir}` with everything inherited from the workspace written out.\npub const {constant}: &str = {resolved:?};"
        )
        .expect("writing to a String");
    }
    writeln!(
        code,
        "/// The newest WIT contract version, the one new plugins are built against.\npub const WIT_VERSION: &str = {contract_version:?};"
    )
    .expect("writing to a String");
    fs::write(out.join("scaffold_files.rs"), code).expect("writing scaffold_files.rs");
}

/// Every file under `dir`, as (path relative to `base` with `/` separators, absolute path).
fn collect(base: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        panic!("scaffold folder {} is missing", dir.display());
    };
    for entry in entries {
        let entry = entry.expect("reading a directory entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if SKIPPED.contains(&name.as_str()) || name.ends_with(".wasm") || name.ends_with(".pyc") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect(base, &path, files);
        } else {
            let relative = path
                .strip_prefix(base)
                .expect("under its base")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let absolute = path.canonicalize().expect("an existing file");
            files.push((relative, absolute));
        }
    }
}

/// The highest `dynamo-backend@X.Y.Z` folder under `wit/`.
fn newest_wit(wit: &Path) -> String {
    let mut versions: Vec<(Vec<u64>, String)> = fs::read_dir(wit)
        .expect("reading wit/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("dynamo-backend@")?.to_owned();
            let key = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
            Some((key, version))
        })
        .collect();
    versions.sort();
    versions.pop().expect("a contract version under wit/").1
}

/// Rewrites a member manifest so it builds outside the workspace: `key.workspace = true` lines
/// take the workspace's value, the contract becomes a sibling path dependency, and workspace lint
/// inheritance is dropped.
fn resolve_manifest(manifest: &str, workspace: &str) -> String {
    let mut out = String::new();
    let mut in_lints_inherit = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_lints_inherit = trimmed == "[lints]";
            if in_lints_inherit {
                continue;
            }
        }
        if in_lints_inherit {
            continue;
        }
        if trimmed.starts_with("publish") {
            continue;
        }
        if let Some(key) = trimmed.strip_suffix(".workspace = true") {
            out.push_str(&resolve_key(key, "", workspace));
            out.push('\n');
            continue;
        }
        if let Some((key, rest)) = trimmed.split_once(" = { workspace = true") {
            let extra = rest
                .trim_end_matches('}')
                .trim()
                .trim_start_matches(',')
                .trim();
            out.push_str(&resolve_key(key, extra, workspace));
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// One inherited key resolved: a package field or a dependency, with `extra` inline-table
/// entries appended.
fn resolve_key(key: &str, extra: &str, workspace: &str) -> String {
    if key == "dynamo-plugin-contract" {
        return format!("{key} = {{ path = \"../dynamo-plugin-contract\" }}");
    }
    let section = if matches!(
        key,
        "version" | "edition" | "rust-version" | "license" | "repository"
    ) {
        "[workspace.package]"
    } else {
        "[workspace.dependencies]"
    };
    let value = lookup(workspace, section, key)
        .unwrap_or_else(|| panic!("{key} is not in the workspace's {section}"));
    if extra.is_empty() {
        return format!("{key} = {value}");
    }
    let inner = match value.strip_prefix('{') {
        Some(table) => table.trim_end_matches('}').trim().to_owned(),
        None => format!("version = {value}"),
    };
    format!("{key} = {{ {inner}, {extra} }}")
}

/// The value of `key` in `section` of a TOML file whose entries are one line each.
fn lookup(toml: &str, section: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in toml.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == section;
            continue;
        }
        if inside
            && let Some((k, v)) = trimmed.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().to_owned());
        }
    }
    None
}
