//! [`Capability`]: a privilege beyond the default allow-list that a plugin declares in its
//! metadata and the operator configuration grants per plugin.
//!
//! By default a plugin may only change the engine's command line, literal env, ports, probes,
//! init containers running an image already in the pod, and volumes that hold nothing of the
//! cluster's (`emptyDir`, `downwardAPI`, its own ConfigMaps). Anything more is a capability:
//! declared by the plugin (so a reviewer sees what it asks for) and granted by the operator
//! configuration (so the platform team decides). A declared capability that is not granted has no
//! effect; an output that needs it is rejected with a message naming the capability.

use std::fmt;
use std::str::FromStr;

/// Name of [`Capability::SshKeySecret`].
pub const SSH_KEY_SECRET: &str = "ssh-key-secret";
/// Name of [`Capability::Privileged`].
pub const PRIVILEGED: &str = "privileged";
/// Name of [`Capability::HostNamespaces`].
pub const HOST_NAMESPACES: &str = "host-namespaces";
/// Name of [`Capability::HostPath`].
pub const HOST_PATH: &str = "host-path";
/// Prefix of [`Capability::AddCapability`] (`add-capability:IPC_LOCK`).
pub const ADD_CAPABILITY_PREFIX: &str = "add-capability:";

/// One privilege a plugin may be granted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// Ask the host for SSH key-pair Secrets and mount them read-only: the operator's MPI key
    /// (`infrastructure.mpiSshSecretName`) or the plugin's own (`<graph>-<plugin>-...`).
    SshKeySecret,
    /// Make containers privileged.
    Privileged,
    /// Set `hostNetwork`, `hostPID` or `hostIPC`.
    HostNamespaces,
    /// Add `hostPath` volumes.
    HostPath,
    /// Add this Linux capability (upper case, without `CAP_`, e.g. `IPC_LOCK`) to a container.
    AddCapability(String),
}

/// A capability name that is not one of [`Capability`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCapability(pub String);

impl fmt::Display for UnknownCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown capability `{}` (known: {SSH_KEY_SECRET}, {PRIVILEGED}, {HOST_NAMESPACES}, \
             {HOST_PATH}, {ADD_CAPABILITY_PREFIX}<NAME>)",
            self.0
        )
    }
}

impl std::error::Error for UnknownCapability {}

// === impl Capability ===

impl FromStr for Capability {
    type Err = UnknownCapability;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            SSH_KEY_SECRET => Ok(Self::SshKeySecret),
            PRIVILEGED => Ok(Self::Privileged),
            HOST_NAMESPACES => Ok(Self::HostNamespaces),
            HOST_PATH => Ok(Self::HostPath),
            other => match other.strip_prefix(ADD_CAPABILITY_PREFIX) {
                Some(name)
                    if !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
                {
                    Ok(Self::AddCapability(name.to_owned()))
                }
                _ => Err(UnknownCapability(other.to_owned())),
            },
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SshKeySecret => f.write_str(SSH_KEY_SECRET),
            Self::Privileged => f.write_str(PRIVILEGED),
            Self::HostNamespaces => f.write_str(HOST_NAMESPACES),
            Self::HostPath => f.write_str(HOST_PATH),
            Self::AddCapability(name) => write!(f, "{ADD_CAPABILITY_PREFIX}{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in [
            "ssh-key-secret",
            "privileged",
            "host-namespaces",
            "host-path",
            "add-capability:IPC_LOCK",
        ] {
            let parsed: Capability = name.parse().expect(name);
            assert_eq!(parsed.to_string(), name);
        }
    }

    #[test]
    fn unknown_and_malformed_names_are_refused() {
        for name in [
            "",
            "root",
            "add-capability:",
            "add-capability:ipc_lock",
            "Privileged",
        ] {
            let error = name.parse::<Capability>().expect_err(name);
            assert!(error.to_string().contains("unknown capability"), "{error}");
        }
    }
}
