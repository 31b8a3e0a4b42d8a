//! Keeping the serving certificate current.
//!
//! - `auto`: the CA and serving certificate live in a Secret of the operator's namespace. The
//!   first replica to start makes them; every replica serves them and renews them when due
//!   (writes are conditional on the Secret's resourceVersion, so two replicas never both win),
//!   and the CA bundle is written into the webhook configurations whenever it differs.
//! - `manual`: `tls.crt` and `tls.key` are mounted (e.g. by cert-manager, whose CA injector fills
//!   the `caBundle`); they are re-read when they change.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, WebhookClientConfig as CrdClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};

use crate::certs::{CertError, Lifetimes, Material};
use crate::server::{CertStore, TlsError};

/// Errors keeping the certificate.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The API server refused or failed a request.
    #[error("{what}: {source}")]
    Api {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
    /// A certificate could not be made or read.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// A mounted file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The certificate was refused by TLS.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Where the serving certificate comes from.
#[derive(Clone)]
pub enum Provision {
    /// The operator makes and renews it.
    Auto(Box<AutoProvision>),
    /// It is mounted in `dir` as `tls.crt` and `tls.key`.
    Manual {
        /// The mounted directory.
        dir: PathBuf,
    },
}

/// The `auto` mode's settings.
#[derive(Clone)]
pub struct AutoProvision {
    client: Client,
    namespace: Option<String>,
    secret_name: String,
    configuration_name: String,
    names: Vec<String>,
    lifetimes: Lifetimes,
    conversion: Option<ConversionTarget>,
    memory: Arc<tokio::sync::Mutex<Option<Material>>>,
}

/// The CRDs whose conversion webhook is this operator, and how to recognise that their
/// `clientConfig` points here, so the CA bundle is written into them and into no one else's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversionTarget {
    /// Names of the CRDs converted by the webhook (`dynamographdeployments.nvidia.com`, ...).
    pub crds: Vec<String>,
    /// The webhook Service (`namespace`, `name`) a CRD's `clientConfig.service` names in cluster.
    pub service: Option<(String, String)>,
    /// The webhook server's port, for a CRD registered by `clientConfig.url` on loopback (an
    /// operator running out of cluster).
    pub loopback_port: Option<u16>,
}

// === impl ConversionTarget ===

impl ConversionTarget {
    /// Whether `config` (a CRD's conversion `clientConfig`) reaches this operator.
    pub fn points_here(&self, config: &CrdClientConfig) -> bool {
        if let (Some(service), Some((namespace, name))) = (&config.service, &self.service) {
            return service.namespace == *namespace && service.name == *name;
        }
        let (Some(url), Some(port)) = (&config.url, self.loopback_port) else {
            return false;
        };
        let Some(rest) = url.strip_prefix("https://") else {
            return false;
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let Some((host, found)) = authority.rsplit_once(':') else {
            return false;
        };
        let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
        loopback && found.parse::<u16>().ok() == Some(port)
    }
}

impl AutoProvision {
    /// Certificates for `names`, kept in Secret `secret_name` of `namespace` (in memory only
    /// when no namespace is known, e.g. out of cluster), with the CA bundle written into the
    /// webhook configurations named `configuration_name`.
    pub fn new(
        client: Client,
        namespace: Option<String>,
        secret_name: impl Into<String>,
        configuration_name: impl Into<String>,
        names: Vec<String>,
    ) -> Self {
        Self {
            client,
            namespace,
            secret_name: secret_name.into(),
            configuration_name: configuration_name.into(),
            names,
            lifetimes: Lifetimes::default(),
            conversion: None,
            memory: Arc::default(),
        }
    }

    /// Also write the CA bundle into the conversion webhook of the CRDs of `target`. Default:
    /// none.
    pub fn conversion(mut self, target: ConversionTarget) -> Self {
        self.conversion = Some(target);
        self
    }

    /// Certificate lifetimes. Default: [`Lifetimes::default`].
    pub fn lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// The current material, made or renewed as needed.
    async fn current(&self) -> Result<Material, ProvisionError> {
        let now = unix_now();
        let Some(namespace) = &self.namespace else {
            let mut memory = self.memory.lock().await;
            let material = match memory.take() {
                Some(m) => m.renewed(&self.names, self.lifetimes, now)?.unwrap_or(m),
                None => Material::generate(&self.names, self.lifetimes, now)?,
            };
            *memory = Some(material.clone());
            return Ok(material);
        };
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let what = |verb: &str| format!("{verb} Secret {namespace}/{}", self.secret_name);
        // Two rounds: a lost race (another replica wrote first) is settled by reading theirs.
        for _ in 0..3 {
            let existing =
                secrets
                    .get_opt(&self.secret_name)
                    .await
                    .map_err(|source| ProvisionError::Api {
                        what: what("reading"),
                        source,
                    })?;
            let Some(existing) = existing else {
                let material = Material::generate(&self.names, self.lifetimes, now)?;
                let secret = self.secret(&material, None);
                match secrets.create(&PostParams::default(), &secret).await {
                    Ok(_) => {
                        tracing::info!(secret = %self.secret_name, "made the webhook CA and serving certificate");
                        return Ok(material);
                    }
                    Err(kube::Error::Api(e)) if e.code == 409 => continue,
                    Err(source) => {
                        return Err(ProvisionError::Api {
                            what: what("creating"),
                            source,
                        });
                    }
                }
            };
            let data = existing.data.clone().unwrap_or_default();
            let next = match Material::from_secret_data(&data) {
                Ok(material) => match material.renewed(&self.names, self.lifetimes, now)? {
                    None => return Ok(material),
                    Some(renewed) => renewed,
                },
                Err(error) => {
                    tracing::warn!(secret = %self.secret_name, %error, "replacing unusable webhook certificate");
                    Material::generate(&self.names, self.lifetimes, now)?
                }
            };
            let secret = self.secret(&next, existing.metadata.resource_version.clone());
            match secrets
                .replace(&self.secret_name, &PostParams::default(), &secret)
                .await
            {
                Ok(_) => {
                    tracing::info!(secret = %self.secret_name, "renewed the webhook certificate");
                    return Ok(next);
                }
                Err(kube::Error::Api(e)) if e.code == 409 => continue,
                Err(source) => {
                    return Err(ProvisionError::Api {
                        what: what("updating"),
                        source,
                    });
                }
            }
        }
        Err(ProvisionError::Api {
            what: what("settling"),
            source: kube::Error::Service("the Secret kept changing under us".into()),
        })
    }

    fn secret(&self, material: &Material, resource_version: Option<String>) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(self.secret_name.clone()),
                namespace: self.namespace.clone(),
                resource_version,
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_owned(),
                        "dynamo-operator".to_owned(),
                    )]
                    .into(),
                ),
                ..ObjectMeta::default()
            },
            type_: Some("kubernetes.io/tls".into()),
            data: Some(material.to_secret_data()),
            ..Secret::default()
        }
    }

    /// Writes `bundle` as the `caBundle` of every webhook of our configurations that differs.
    /// A configuration that does not exist is skipped: the operator also runs where no webhook
    /// is registered (or before Helm created it).
    async fn publish_bundle(&self, bundle: &str) -> Result<(), ProvisionError> {
        let bytes = ByteString(bundle.as_bytes().to_vec());
        let validating: Api<ValidatingWebhookConfiguration> = Api::all(self.client.clone());
        if let Some(mut config) = get_opt(&validating, &self.configuration_name).await?
            && set_bundle(
                config
                    .webhooks
                    .iter_mut()
                    .flatten()
                    .map(|w| &mut w.client_config),
                &bytes,
            )
        {
            replace(&validating, &self.configuration_name, &config).await?;
            tracing::info!(configuration = %self.configuration_name, "caBundle written into the ValidatingWebhookConfiguration");
        }
        let mutating: Api<MutatingWebhookConfiguration> = Api::all(self.client.clone());
        if let Some(mut config) = get_opt(&mutating, &self.configuration_name).await?
            && set_bundle(
                config
                    .webhooks
                    .iter_mut()
                    .flatten()
                    .map(|w| &mut w.client_config),
                &bytes,
            )
        {
            replace(&mutating, &self.configuration_name, &config).await?;
            tracing::info!(configuration = %self.configuration_name, "caBundle written into the MutatingWebhookConfiguration");
        }
        if let Some(target) = &self.conversion {
            self.publish_conversion_bundle(target, &bytes).await?;
        }
        Ok(())
    }

    /// Writes `bundle` into the conversion webhook of each CRD of `target` that points here and
    /// differs. A missing CRD, or one converted by someone else, is left alone.
    async fn publish_conversion_bundle(
        &self,
        target: &ConversionTarget,
        bundle: &ByteString,
    ) -> Result<(), ProvisionError> {
        let crds: Api<CustomResourceDefinition> = Api::all(self.client.clone());
        for name in &target.crds {
            let crd = crds
                .get_opt(name)
                .await
                .map_err(|source| ProvisionError::Api {
                    what: format!("reading CRD {name}"),
                    source,
                })?;
            let Some(config) = crd
                .as_ref()
                .and_then(|c| c.spec.conversion.as_ref())
                .filter(|c| c.strategy == "Webhook")
                .and_then(|c| c.webhook.as_ref())
                .and_then(|w| w.client_config.as_ref())
            else {
                continue;
            };
            if !target.points_here(config) || config.ca_bundle.as_ref() == Some(bundle) {
                continue;
            }
            let patch = serde_json::json!({"spec": {"conversion": {"webhook": {"clientConfig": {
                "caBundle": bundle,
            }}}}});
            crds.patch(name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .map_err(|source| ProvisionError::Api {
                    what: format!("writing the conversion caBundle of CRD {name}"),
                    source,
                })?;
            tracing::info!(crd = %name, "caBundle written into the CRD's conversion webhook");
        }
        Ok(())
    }
}

/// Sets `bundle` on every client config that differs; true when something changed.
fn set_bundle<'a>(
    configs: impl Iterator<Item = &'a mut WebhookClientConfig>,
    bundle: &ByteString,
) -> bool {
    let mut changed = false;
    for config in configs {
        if config.ca_bundle.as_ref() != Some(bundle) {
            config.ca_bundle = Some(bundle.clone());
            changed = true;
        }
    }
    changed
}

async fn get_opt<K>(api: &Api<K>, name: &str) -> Result<Option<K>, ProvisionError>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name)
        .await
        .map_err(|source| ProvisionError::Api {
            what: format!("reading webhook configuration {name}"),
            source,
        })
}

async fn replace<K>(api: &Api<K>, name: &str, object: &K) -> Result<(), ProvisionError>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    match api.replace(name, &PostParams::default(), object).await {
        Ok(_) => Ok(()),
        // Someone else changed it; the next round sees the new version.
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(source) => Err(ProvisionError::Api {
            what: format!("updating webhook configuration {name}"),
            source,
        }),
    }
}

/// What is served right now, to notice changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    cert: String,
    key: String,
}

// === impl Provision ===

impl Provision {
    /// The certificate and key to serve now (making or renewing them in `auto` mode), and the
    /// serving certificate's expiry (Unix seconds).
    async fn load(&self) -> Result<(Served, Option<i64>, Option<String>), ProvisionError> {
        match self {
            Provision::Auto(auto) => {
                let material = auto.current().await?;
                let expiry = material.serving_validity().ok().map(|v| v.not_after);
                Ok((
                    Served {
                        cert: material.cert.clone(),
                        key: material.key.clone(),
                    },
                    expiry,
                    Some(material.ca_cert),
                ))
            }
            Provision::Manual { dir } => {
                let read = |name: &str| {
                    let path = dir.join(name);
                    std::fs::read_to_string(&path)
                        .map_err(|source| ProvisionError::Read { path, source })
                };
                let served = Served {
                    cert: read(crate::certs::TLS_CERT)?,
                    key: read(crate::certs::TLS_KEY)?,
                };
                Ok((served, None, None))
            }
        }
    }

    /// Makes (or reads) the certificate and returns the store serving it; the caller then runs
    /// [`Provision::keep_current`].
    pub async fn start(&self) -> Result<Arc<CertStore>, ProvisionError> {
        let (served, _, bundle) = self.load().await?;
        let store = Arc::new(CertStore::new(&served.cert, &served.key)?);
        if let (Provision::Auto(auto), Some(bundle)) = (self, bundle) {
            auto.publish_bundle(&bundle).await?;
        }
        Ok(store)
    }

    /// Every `period`, renews or re-reads the certificate, swaps it into `store` when it changed,
    /// and (in `auto` mode) rewrites the `caBundle` if someone reset it. Errors are logged and
    /// retried next round; the current certificate keeps serving meanwhile.
    pub async fn keep_current(
        self,
        store: Arc<CertStore>,
        period: Duration,
        telemetry: dynamo_telemetry::Telemetry,
    ) {
        let mut last: Option<Served> = None;
        loop {
            match self.load().await {
                Ok((served, expiry, bundle)) => {
                    if last.as_ref() != Some(&served) {
                        match store.replace(&served.cert, &served.key) {
                            Ok(()) => {
                                if last.is_some() {
                                    tracing::info!("webhook serving certificate swapped in");
                                }
                                last = Some(served);
                            }
                            Err(error) => {
                                tracing::warn!(%error, "new webhook certificate refused; keeping the current one");
                            }
                        }
                    }
                    if let Some(expiry) = expiry {
                        telemetry.set_certificate_expiry(expiry);
                    }
                    if let (Provision::Auto(auto), Some(bundle)) = (&self, bundle)
                        && let Err(error) = auto.publish_bundle(&bundle).await
                    {
                        tracing::warn!(%error, "cannot write the webhook caBundle");
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot refresh the webhook certificate"),
            }
            tokio::time::sleep(period).await;
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
