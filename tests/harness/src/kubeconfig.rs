//! The admin kubeconfig file and the `kube::Client`s built from it.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::certs::Pki;
use crate::error::{Component, HarnessError, Result};
use crate::workdir::WorkDir;

/// The context, cluster and user name used in the kubeconfig.
const NAME: &str = "dynamo-test";

/// Writes `<workdir>/kubeconfig` for user `admin` (group `system:masters`) and returns its path.
pub(crate) fn write(workdir: &WorkDir, server: &str, pki: &Pki) -> Result<std::path::PathBuf> {
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": NAME,
            "cluster": {
                "server": server,
                "certificate-authority": pki.ca_cert,
            },
        }],
        "users": [{
            "name": NAME,
            "user": {
                "client-certificate": pki.admin_cert,
                "client-key": pki.admin_key,
            },
        }],
        "contexts": [{
            "name": NAME,
            "context": { "cluster": NAME, "user": NAME, "namespace": "default" },
        }],
        "current-context": NAME,
    });
    let yaml = serde_yaml_ng::to_string(&doc).map_err(|e| {
        HarnessError::invalid(Component::Setup, format!("serializing the kubeconfig: {e}"))
    })?;
    workdir.write("kubeconfig", yaml)
}

/// Loads the client configuration from the kubeconfig at `path`.
pub(crate) async fn load(path: &Path) -> Result<Config> {
    let invalid = |e: &dyn std::fmt::Display| {
        HarnessError::invalid(
            Component::Setup,
            format!("loading kubeconfig {}: {e}", path.display()),
        )
    };
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| invalid(&e))?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| invalid(&e))
}

/// Builds a client for `config`; must run inside the tokio runtime that will use the client.
pub(crate) fn client(component: Component, config: Config) -> Result<Client> {
    Client::try_from(config).map_err(|e| HarnessError::kube(component, "building a client", e))
}

/// GETs `path` from `base` (an `https://` URL) without verifying the server certificate, as
/// anonymous; for the health endpoints of components that serve a self-signed certificate.
pub(crate) async fn get_insecure(base: &str, path: &str) -> std::result::Result<String, String> {
    let uri: http::Uri = base
        .parse()
        .map_err(|e| format!("invalid URL {base}: {e}"))?;
    let mut config = Config::new(uri);
    config.accept_invalid_certs = true;
    config.default_retry = false;
    config.connect_timeout = Some(std::time::Duration::from_secs(2));
    config.read_timeout = Some(std::time::Duration::from_secs(5));
    let client = Client::try_from(config).map_err(|e| e.to_string())?;
    get(&client, path).await
}

/// GETs `path` with `client` and returns the body.
pub(crate) async fn get(client: &Client, path: &str) -> std::result::Result<String, String> {
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    client
        .request_text(request)
        .await
        .map_err(|e| format!("GET {path}: {e}"))
}
