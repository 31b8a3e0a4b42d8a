//! The webhook's TLS material in `auto` mode: a CA the operator makes itself, the serving
//! certificate it signs, and when each is renewed.
//!
//! Kept in a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, plus `ca.crt` and `ca.key`) so
//! every replica serves the same certificate and a restart keeps the CA the API server trusts.
//! Pure: time is passed in, nothing touches the API server.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::ByteString;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Secret key of the serving certificate chain (PEM).
pub const TLS_CERT: &str = "tls.crt";
/// Secret key of the serving key (PEM).
pub const TLS_KEY: &str = "tls.key";
/// Secret key of the trusted CA certificates (PEM, newest first; the `caBundle`).
pub const CA_CERT: &str = "ca.crt";
/// Secret key of the CA's private key (PEM).
pub const CA_KEY: &str = "ca.key";

/// Errors making or reading certificates.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// A certificate or key could not be generated or signed.
    #[error("cannot make the {what}: {source}")]
    Generate {
        /// What was being made.
        what: &'static str,
        /// Why it failed.
        #[source]
        source: rcgen::Error,
    },
    /// Stored material is missing or unreadable.
    #[error("the stored {what} is unusable: {message}")]
    Unusable {
        /// Which part.
        what: &'static str,
        /// Why.
        message: String,
    },
}

/// How long the certificates live and when they are renewed.
///
/// The defaults: the CA for 10 years, the serving certificate for 1 year, each renewed once less
/// than a third of its life is left, so a renewal never races an expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Life of a new CA.
    pub ca: Duration,
    /// Life of a new serving certificate.
    pub serving: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            ca: Duration::from_secs(10 * 365 * 24 * 3600),
            serving: Duration::from_secs(365 * 24 * 3600),
        }
    }
}

/// The CA and serving certificate, as PEM text.
#[derive(Clone, PartialEq, Eq)]
pub struct Material {
    /// Trusted CA certificates, newest first: during a CA rotation the old one stays until it
    /// expires so callers holding the old bundle keep connecting.
    pub ca_cert: String,
    /// Key of the newest CA.
    pub ca_key: String,
    /// Serving certificate.
    pub cert: String,
    /// Serving key.
    pub key: String,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print keys.
        f.debug_struct("Material").finish_non_exhaustive()
    }
}

/// Validity window of a certificate, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Not valid before.
    pub not_before: i64,
    /// Not valid after.
    pub not_after: i64,
}

impl Validity {
    /// Whether less than a third of the window is left at `now` (or it is already over).
    pub fn renewal_due(&self, now: i64) -> bool {
        let life = (self.not_after - self.not_before).max(1);
        self.not_after - now < life / 3
    }
}

// === impl Material ===

impl Material {
    /// A new CA and a serving certificate for `names` (DNS names), valid from `now`.
    pub fn generate(names: &[String], lifetimes: Lifetimes, now: i64) -> Result<Self, CertError> {
        let (ca_cert, ca_key, issuer) = new_ca(lifetimes, now)?;
        let (cert, key) = serving(names, &issuer, lifetimes, now)?;
        Ok(Self {
            ca_cert,
            ca_key,
            cert,
            key,
        })
    }

    /// Reads the material from a Secret's `data`.
    pub fn from_secret_data(data: &BTreeMap<String, ByteString>) -> Result<Self, CertError> {
        let text = |key: &'static str| -> Result<String, CertError> {
            let bytes = data.get(key).ok_or(CertError::Unusable {
                what: key,
                message: "missing".into(),
            })?;
            String::from_utf8(bytes.0.clone()).map_err(|e| CertError::Unusable {
                what: key,
                message: e.to_string(),
            })
        };
        let material = Self {
            ca_cert: text(CA_CERT)?,
            ca_key: text(CA_KEY)?,
            cert: text(TLS_CERT)?,
            key: text(TLS_KEY)?,
        };
        material.serving_validity()?;
        material.ca_validity()?;
        Ok(material)
    }

    /// The Secret `data` holding this material.
    pub fn to_secret_data(&self) -> BTreeMap<String, ByteString> {
        [
            (CA_CERT, &self.ca_cert),
            (CA_KEY, &self.ca_key),
            (TLS_CERT, &self.cert),
            (TLS_KEY, &self.key),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), ByteString(v.clone().into_bytes())))
        .collect()
    }

    /// Validity of the serving certificate.
    pub fn serving_validity(&self) -> Result<Validity, CertError> {
        Ok(first_cert(&self.cert, TLS_CERT)?.0)
    }

    /// Validity of the newest CA.
    pub fn ca_validity(&self) -> Result<Validity, CertError> {
        Ok(first_cert(&self.ca_cert, CA_CERT)?.0)
    }

    /// The renewed material at `now`, or `None` when nothing is due: the CA is replaced when a
    /// third of its life is left (keeping the old one trusted until it expires), the serving
    /// certificate when a third of its life is left, when it lacks one of `names` or when its CA
    /// was replaced.
    pub fn renewed(
        &self,
        names: &[String],
        lifetimes: Lifetimes,
        now: i64,
    ) -> Result<Option<Self>, CertError> {
        let ca_due = self.ca_validity()?.renewal_due(now);
        let (serving_validity, serving_names) = first_cert(&self.cert, TLS_CERT)?;
        let serving_due =
            serving_validity.renewal_due(now) || names.iter().any(|n| !serving_names.contains(n));
        if !ca_due && !serving_due {
            return Ok(None);
        }
        let (ca_cert, ca_key, issuer) = if ca_due {
            let (pem, key, issuer) = new_ca(lifetimes, now)?;
            // Old CAs stay trusted until they expire.
            let mut bundle = pem;
            for old in still_valid_certs(&self.ca_cert, now) {
                bundle.push_str(&old);
            }
            (bundle, key, issuer)
        } else {
            let key = KeyPair::from_pem(&self.ca_key).map_err(|e| CertError::Unusable {
                what: CA_KEY,
                message: e.to_string(),
            })?;
            let newest = first_pem(&self.ca_cert).ok_or(CertError::Unusable {
                what: CA_CERT,
                message: "no certificate".into(),
            })?;
            let issuer =
                Issuer::from_ca_cert_pem(&newest, key).map_err(|e| CertError::Unusable {
                    what: CA_CERT,
                    message: e.to_string(),
                })?;
            (self.ca_cert.clone(), self.ca_key.clone(), issuer)
        };
        let (cert, key) = serving(names, &issuer, lifetimes, now)?;
        Ok(Some(Self {
            ca_cert,
            ca_key,
            cert,
            key,
        }))
    }
}

// === making certificates ===

fn new_ca(
    lifetimes: Lifetimes,
    now: i64,
) -> Result<(String, String, Issuer<'static, KeyPair>), CertError> {
    let generate = |source| CertError::Generate {
        what: "webhook CA",
        source,
    };
    let key = KeyPair::generate().map_err(generate)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = dn("dynamo-operator-webhook-ca");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, now, lifetimes.ca);
    let key_pem = key.serialize_pem();
    let certified = CertifiedIssuer::self_signed(params, key).map_err(generate)?;
    let pem = certified.pem();
    // Rebuild a plain issuer from the PEM so the CA's key can be moved out of `certified`.
    let key = KeyPair::from_pem(&key_pem).map_err(generate)?;
    let issuer = Issuer::from_ca_cert_pem(&pem, key).map_err(generate)?;
    Ok((pem, key_pem, issuer))
}

fn serving(
    names: &[String],
    issuer: &Issuer<'_, KeyPair>,
    lifetimes: Lifetimes,
    now: i64,
) -> Result<(String, String), CertError> {
    let generate = |source| CertError::Generate {
        what: "webhook serving certificate",
        source,
    };
    let key = KeyPair::generate().map_err(generate)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(generate)?;
    params.distinguished_name = dn(names.first().map_or("dynamo-operator-webhook", |n| n));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, now, lifetimes.serving);
    let cert = params.signed_by(&key, issuer).map_err(generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn set_validity(params: &mut CertificateParams, now: i64, life: Duration) {
    // Backdated a little so a caller whose clock lags does not see a not-yet-valid certificate.
    let from = now - 300;
    let until = now.saturating_add(i64::try_from(life.as_secs()).unwrap_or(i64::MAX / 2));
    if let (Ok(from), Ok(until)) = (
        time::OffsetDateTime::from_unix_timestamp(from),
        time::OffsetDateTime::from_unix_timestamp(until),
    ) {
        params.not_before = from;
        params.not_after = until;
    }
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "dynamo-operator");
    dn
}

// === reading certificates ===

/// The PEM blocks of certificates in `text`, in order.
fn pem_blocks(text: &str) -> Vec<String> {
    pem::parse_many(text)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| {
            pem::encode_config(
                &p,
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            )
        })
        .collect()
}

fn first_pem(text: &str) -> Option<String> {
    pem_blocks(text).into_iter().next()
}

fn still_valid_certs(text: &str, now: i64) -> Vec<String> {
    pem_blocks(text)
        .into_iter()
        .filter(|block| {
            parse(block)
                .map(|(validity, _)| validity.not_after > now)
                .unwrap_or(false)
        })
        .collect()
}

fn first_cert(text: &str, what: &'static str) -> Result<(Validity, Vec<String>), CertError> {
    let block = first_pem(text).ok_or(CertError::Unusable {
        what,
        message: "no PEM certificate".into(),
    })?;
    parse(&block).map_err(|message| CertError::Unusable { what, message })
}

/// Validity and DNS names of one PEM certificate.
fn parse(block: &str) -> Result<(Validity, Vec<String>), String> {
    let pem = pem::parse(block).map_err(|e| e.to_string())?;
    let (_, cert) = X509Certificate::from_der(pem.contents()).map_err(|e| e.to_string())?;
    let validity = Validity {
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
    };
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(name) => Some((*name).to_owned()),
                    GeneralName::IPAddress(bytes) => ip_text(bytes),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((validity, names))
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::IpAddr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::IpAddr::from(b).to_string()),
        _ => None,
    }
}

/// The DNS names a webhook Service is reached by (what the serving certificate must cover).
pub fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
        format!("{service}.{namespace}"),
        service.to_owned(),
    ]
}

#[cfg(test)]
#[path = "certs/tests.rs"]
mod tests;
