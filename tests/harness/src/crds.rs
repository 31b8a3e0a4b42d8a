//! Installing CustomResourceDefinitions from YAML files with server-side apply.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, ResourceExt as _};

use crate::bins::workspace_root;
use crate::conversion;
use crate::error::{Component, HarnessError, Result};

/// The field manager of the harness's server-side applies.
pub(crate) const FIELD_MANAGER: &str = "dynamo-test-harness";

/// The workspace-relative folder of the test stand-in CRDs, one subfolder per project.
pub const TEST_CRDS_DIR: &str = "tests/fixtures/crds";

/// How long one CRD may take to become `Established`.
const ESTABLISHED_TIMEOUT: Duration = Duration::from_secs(30);

/// Applies every CRD in the `*.yaml`/`*.yml` files of `dir` and waits until each is `Established`.
///
/// A missing or empty directory installs nothing. Files are applied in name order; a document
/// that is not a `CustomResourceDefinition` is an error. A CRD converted by a webhook is pointed
/// at `conversion` first. Returns the names of the CRDs.
pub(crate) async fn install_dir(
    client: &Client,
    dir: &Path,
    conversion: &conversion::Server,
) -> Result<Vec<String>> {
    let mut crds = Vec::new();
    for file in yaml_files(dir)? {
        crds.extend(parse_file(&file)?);
    }
    for crd in &mut crds {
        conversion.rewrite(crd);
    }
    install(client, crds).await
}

/// `<workspace>/tests/fixtures/crds/<name>`, or an error when `name` is not a plain folder name
/// or the folder holds no YAML file.
pub(crate) fn test_crds_dir(name: &str) -> Result<PathBuf> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !plain {
        return Err(HarnessError::invalid(
            Component::Crds,
            format!("test CRD set {name:?} is not a plain folder name"),
        ));
    }
    let dir = workspace_root().join(TEST_CRDS_DIR).join(name);
    if yaml_files(&dir)?.is_empty() {
        return Err(HarnessError::invalid(
            Component::Crds,
            format!(
                "no test CRDs named {name:?}: {} has no YAML file",
                dir.display()
            ),
        ));
    }
    Ok(dir)
}

/// Applies `crds` and waits until each is `Established`.
pub(crate) async fn install(
    client: &Client,
    crds: Vec<CustomResourceDefinition>,
) -> Result<Vec<String>> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut names = Vec::with_capacity(crds.len());
    for crd in crds {
        let name = crd.name_any();
        api.patch(&name, &params, &Patch::Apply(&crd))
            .await
            .map_err(|e| HarnessError::kube(Component::Crds, format!("applying CRD {name}"), e))?;
        names.push(name);
    }
    for name in &names {
        let established = await_condition(api.clone(), name, conditions::is_crd_established());
        match tokio::time::timeout(ESTABLISHED_TIMEOUT, established).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(HarnessError::invalid(
                    Component::Crds,
                    format!("watching CRD {name}: {e}"),
                ));
            }
            Err(_) => {
                return Err(HarnessError::invalid(
                    Component::Crds,
                    format!("CRD {name} not Established after {ESTABLISHED_TIMEOUT:?}"),
                ));
            }
        }
    }
    Ok(names)
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HarnessError::io(Component::Crds, "listing", dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| HarnessError::io(Component::Crds, "listing", dir, e))?
            .path();
        let is_yaml = path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        if is_yaml && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn parse_file(path: &Path) -> Result<Vec<CustomResourceDefinition>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| HarnessError::io(Component::Crds, "reading", path, e))?;
    let invalid = |reason: String| {
        HarnessError::invalid(Component::Crds, format!("{}: {reason}", path.display()))
    };
    let mut crds = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
        let value = <serde_json::Value as serde::Deserialize>::deserialize(document)
            .map_err(|e| invalid(format!("document {index}: {e}")))?;
        if value.is_null() {
            continue;
        }
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        if kind != "CustomResourceDefinition" {
            return Err(invalid(format!(
                "document {index} has kind {kind:?}, expected CustomResourceDefinition"
            )));
        }
        let crd =
            serde_json::from_value(value).map_err(|e| invalid(format!("document {index}: {e}")))?;
        crds.push(crd);
    }
    Ok(crds)
}
