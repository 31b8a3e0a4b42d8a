//! The control plane's PKI: a CA, the API server's serving certificate, the `admin` client
//! certificate (group `system:masters`) and the service-account signing key; more serving
//! certificates signed by the same CA on demand (e.g. for webhook servers).

use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::error::{HarnessError, Result};
use crate::workdir::WorkDir;

/// Names and addresses the serving certificate is valid for.
const SERVING_NAMES: &[&str] = &[
    "127.0.0.1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "10.0.0.1",
];

/// Paths of the generated PEM files, and the CA that signed them.
#[derive(Clone, Debug)]
pub(crate) struct Pki {
    /// The CA with its key, kept in memory to sign more certificates later.
    ca: Arc<CertifiedIssuer<'static, KeyPair>>,
    /// The CA certificate, trusted for both serving and client certificates.
    pub(crate) ca_cert: PathBuf,
    /// The API server's serving certificate.
    pub(crate) serving_cert: PathBuf,
    /// The API server's serving key.
    pub(crate) serving_key: PathBuf,
    /// The `admin` client certificate.
    pub(crate) admin_cert: PathBuf,
    /// The `admin` client key.
    pub(crate) admin_key: PathBuf,
    /// The service-account token signing key (private, PKCS#8).
    pub(crate) sa_key: PathBuf,
    /// The service-account token verification key (public).
    pub(crate) sa_pub: PathBuf,
}

fn cert_err(what: &'static str) -> impl FnOnce(rcgen::Error) -> HarnessError {
    move |source| HarnessError::Certificate { what, source }
}

impl Pki {
    /// Generates all keys and certificates into `<workdir>/pki`.
    pub(crate) fn generate(workdir: &WorkDir) -> Result<Self> {
        let ca_key = KeyPair::generate().map_err(cert_err("the CA key"))?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = dn("dynamo-test-harness-ca", None);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key)
            .map_err(cert_err("the CA certificate"))?;

        let serving_key = KeyPair::generate().map_err(cert_err("the serving key"))?;
        let names: Vec<String> = SERVING_NAMES.iter().map(|s| (*s).to_owned()).collect();
        let mut serving_params =
            CertificateParams::new(names).map_err(cert_err("the serving certificate"))?;
        serving_params.distinguished_name = dn("kube-apiserver", None);
        serving_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        serving_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        serving_params.use_authority_key_identifier_extension = true;
        let serving_cert = serving_params
            .signed_by(&serving_key, &ca)
            .map_err(cert_err("the serving certificate"))?;

        let admin_key = KeyPair::generate().map_err(cert_err("the admin key"))?;
        let mut admin_params = CertificateParams::default();
        admin_params.distinguished_name = dn("admin", Some("system:masters"));
        admin_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        admin_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        admin_params.use_authority_key_identifier_extension = true;
        let admin_cert = admin_params
            .signed_by(&admin_key, &ca)
            .map_err(cert_err("the admin certificate"))?;

        let sa_key = KeyPair::generate().map_err(cert_err("the service-account key"))?;

        Ok(Pki {
            ca_cert: workdir.write("pki/ca.crt", ca.pem())?,
            serving_cert: workdir.write("pki/apiserver.crt", serving_cert.pem())?,
            serving_key: workdir.write("pki/apiserver.key", serving_key.serialize_pem())?,
            admin_cert: workdir.write("pki/admin.crt", admin_cert.pem())?,
            admin_key: workdir.write("pki/admin.key", admin_key.serialize_pem())?,
            sa_key: workdir.write("pki/sa.key", sa_key.serialize_pem())?,
            sa_pub: workdir.write("pki/sa.pub", sa_key.public_key_pem())?,
            ca: Arc::new(ca),
        })
    }

    /// The CA certificate in PEM, e.g. for a webhook's `caBundle`.
    pub(crate) fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// Issues a serving certificate signed by the CA for `names` (DNS names or IP addresses) and
    /// writes it as `<dir>/tls.crt` and `<dir>/tls.key` under the workdir (the file names
    /// controller-runtime's webhook server expects). Returns the directory.
    pub(crate) fn issue_serving_cert(
        &self,
        workdir: &WorkDir,
        dir: &str,
        common_name: &str,
        names: &[&str],
    ) -> Result<PathBuf> {
        let key = KeyPair::generate().map_err(cert_err("a serving key"))?;
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params =
            CertificateParams::new(names).map_err(cert_err("a serving certificate"))?;
        params.distinguished_name = dn(common_name, None);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.ca)
            .map_err(cert_err("a serving certificate"))?;
        workdir.write(&format!("{dir}/tls.crt"), cert.pem())?;
        workdir.write(&format!("{dir}/tls.key"), key.serialize_pem())?;
        Ok(workdir.path(dir))
    }
}

fn dn(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn
}
