//! SSH key-pair Secrets for multi-node MPI launches.
//!
//! The launcher plugin mounts the Secret at `/ssh-pk` and expects `private.key` (OpenSSH private
//! key) and `private.key.pub` (`authorized_keys` line), as Dynamo's operator provides. Keys are
//! Ed25519: generated in microseconds (RSA-2048, Dynamo's choice, takes up to a second), accepted
//! by every OpenSSH since 6.5, and read by `ssh -i` whatever the file is called.

use serde_json::{Value, json};
use ssh_key::{Algorithm, LineEnding, PrivateKey};

use crate::stores::{MANAGED_BY, MANAGED_BY_LABEL};

/// Key of the private key in the Secret.
pub const PRIVATE_KEY: &str = "private.key";
/// Key of the public key in the Secret.
pub const PUBLIC_KEY: &str = "private.key.pub";

/// A new Secret `name` in `namespace` holding a fresh key pair.
pub fn key_pair_secret(namespace: &str, name: &str) -> Result<Value, String> {
    let (private, public) = key_pair()?;
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY},
        },
        "type": "Opaque",
        "stringData": {PRIVATE_KEY: private, PUBLIC_KEY: public},
    }))
}

/// A fresh Ed25519 key pair: the OpenSSH private key and the public key line.
pub fn key_pair() -> Result<(String, String), String> {
    let key = PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
        .map_err(|e| format!("cannot generate an SSH key: {e}"))?;
    let private = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| format!("cannot encode an SSH key: {e}"))?
        .to_string();
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| format!("cannot encode an SSH public key: {e}"))?;
    Ok((private, format!("{public}\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_openssh_and_fresh() {
        let (private, public) = key_pair().expect("generates");
        assert!(
            private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"),
            "{private}"
        );
        assert!(public.starts_with("ssh-ed25519 "), "{public}");
        let (other, _) = key_pair().expect("generates");
        assert_ne!(private, other);
        let parsed = PrivateKey::from_openssh(&private).expect("parses back");
        assert_eq!(
            parsed.public_key().to_openssh().expect("encodes") + "\n",
            public
        );
        let secret = key_pair_secret("ns", "mpi-run-ssh-secret").expect("secret");
        assert_eq!(secret["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY);
        assert!(secret["stringData"][PRIVATE_KEY].is_string());
    }
}
