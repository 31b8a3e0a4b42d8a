//! The shell scripts the launcher puts in the leader's and the workers' main containers.
//!
//! Both roles start by installing the shared key pair (mounted from the Secret at `/ssh-pk`)
//! under `$HOME/.ssh` and writing an SSH client configuration that reaches every peer on port
//! 2222 without host-key prompts. `$HOME` rather than `~`: images may set `HOME` to a directory
//! other than the running user's passwd entry, and ssh, sshd and mpirun must agree on it.
//!
//! - **Worker** ([`worker_script`]): generates its own host keys (RSA, ECDSA, Ed25519) once,
//!   writes an `sshd_config` that listens on 2222 and accepts only the shared public key, and
//!   `exec`s `sshd -D` in the foreground, so the pod lives as long as the daemon.
//! - **Leader** ([`leader_script`]): optionally waits until every worker's host name resolves
//!   ([`dns_wait`]), then `exec`s `mpirun` ([`mpirun_command`]) with one process per GPU of the
//!   group, the group's host list, SSH on port 2222 as the remote shell, the environment variables
//!   to forward, and the engine command run by `bash -c`.
//!
//! Host names are the host's placement expressions. They are shell fragments (for example
//! `$(echo "$LWS_LEADER_ADDRESS" | sed 's/\./-1./')`), so they are put in double quotes *as they
//! are* — escaping their quotes would change the command substitution — after kubelet references
//! `$(NAME)` become shell references `${NAME}` (see [`to_shell_refs`]).

#![forbid(unsafe_code)]

use std::collections::BTreeSet;

use dynamo_plugin_sdk::shell::{self, QuoteError};

use crate::{KEY_MOUNT_PATH, SSH_PORT};

/// Seconds the leader waits for the workers' host names to resolve.
pub const DNS_WAIT_TIMEOUT_SECONDS: u32 = 300;

/// Rewrites kubelet references `$(NAME)` to shell references `${NAME}` (see the SDK function).
pub use dynamo_plugin_sdk::shell::kubelet_refs_to_shell as to_shell_refs;

/// A host expression as one double-quoted shell word (see the module docs).
pub fn host_word(expression: &str) -> String {
    format!("\"{}\"", to_shell_refs(expression))
}

/// Installs the key pair and the SSH client configuration (both roles).
fn ssh_client_setup(out: &mut String, extra_dirs: &[&str]) {
    out.push_str("mkdir -p \"$HOME/.ssh\"");
    for dir in extra_dirs {
        out.push_str(&format!(" \"$HOME/.ssh/{dir}\""));
    }
    out.push('\n');
    out.push_str(&format!(
        "cp {KEY_MOUNT_PATH}/private.key \"$HOME/.ssh/id_rsa\"\n\
         cp {KEY_MOUNT_PATH}/private.key.pub \"$HOME/.ssh/id_rsa.pub\"\n\
         cp {KEY_MOUNT_PATH}/private.key.pub \"$HOME/.ssh/authorized_keys\"\n\
         chmod 600 \"$HOME/.ssh/id_rsa\" \"$HOME/.ssh/authorized_keys\"\n\
         chmod 644 \"$HOME/.ssh/id_rsa.pub\"\n\
         printf 'Host *\\n    IdentityFile %s/.ssh/id_rsa\\n    StrictHostKeyChecking no\\n    Port {SSH_PORT}\\n' \"$HOME\" > \"$HOME/.ssh/config\"\n"
    ));
}

/// The worker's script: key pair, host keys, `sshd_config`, then `sshd` in the foreground.
pub fn worker_script() -> String {
    let mut out = String::from("set -e\n");
    ssh_client_setup(&mut out, &["host_keys", "run"]);
    out.push_str(&format!(
        "for type in rsa ecdsa ed25519; do\n\
         \x20   key=\"$HOME/.ssh/host_keys/ssh_host_${{type}}_key\"\n\
         \x20   [ -f \"$key\" ] || ssh-keygen -q -t \"$type\" -N '' -f \"$key\"\n\
         done\n\
         cat > \"$HOME/.ssh/sshd_config\" <<EOF\n\
         Port {SSH_PORT}\n\
         HostKey $HOME/.ssh/host_keys/ssh_host_rsa_key\n\
         HostKey $HOME/.ssh/host_keys/ssh_host_ecdsa_key\n\
         HostKey $HOME/.ssh/host_keys/ssh_host_ed25519_key\n\
         PidFile $HOME/.ssh/run/sshd.pid\n\
         AuthorizedKeysFile $HOME/.ssh/authorized_keys\n\
         StrictModes no\n\
         PermitRootLogin yes\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         EOF\n\
         exec /usr/sbin/sshd -D -f \"$HOME/.ssh/sshd_config\"\n"
    ));
    out
}

/// Shell lines that wait until every host in `hosts` resolves, failing after `timeout_seconds`.
pub fn dns_wait(hosts: &[String], timeout_seconds: u32) -> String {
    let words: Vec<String> = hosts.iter().map(|h| host_word(h)).collect();
    format!(
        "deadline=$(( $(date +%s) + {timeout_seconds} ))\n\
         for host in {}; do\n\
         \x20   until getent hosts \"$host\" > /dev/null 2>&1; do\n\
         \x20       if [ \"$(date +%s)\" -ge \"$deadline\" ]; then\n\
         \x20           echo \"timed out after {timeout_seconds}s waiting for DNS of $host\" >&2\n\
         \x20           exit 1\n\
         \x20       fi\n\
         \x20       echo \"waiting for DNS of $host\"\n\
         \x20       sleep 2\n\
         \x20   done\n\
         done\n",
        words.join(" ")
    )
}

/// What the leader launches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// Host expressions of the group, leader first.
    pub hosts: Vec<String>,
    /// MPI processes: nodes × GPUs per node.
    pub processes: u64,
    /// Environment variables forwarded to every process (sorted and deduplicated on use).
    pub forwarded_env: BTreeSet<String>,
    /// Words put before the engine command (e.g. `trtllm-llmapi-launch`).
    pub wrapper: Vec<String>,
    /// The engine command: the main container's `command` then `args`.
    pub argv: Vec<String>,
}

/// The `mpirun` invocation (one line, `exec`ing mpirun, expecting `$allow_root` to be set).
pub fn mpirun_command(launch: &Launch) -> Result<String, QuoteError> {
    let hosts: Vec<String> = launch.hosts.iter().map(|h| host_word(h)).collect();
    let mut line = format!(
        "exec mpirun $allow_root --oversubscribe -n {} -H {} --mca pml ob1 \
         --mca plm_rsh_args \"-p {SSH_PORT} -o StrictHostKeyChecking=no -i $HOME/.ssh/id_rsa\"",
        launch.processes,
        hosts.join(",")
    );
    for name in &launch.forwarded_env {
        line.push_str(" -x ");
        line.push_str(&shell::quote(name)?);
    }
    let payload = shell::join(
        launch
            .wrapper
            .iter()
            .chain(&launch.argv)
            .map(String::as_str),
    )?;
    line.push_str(" bash -c ");
    line.push_str(&shell::quote(&payload)?);
    line.push('\n');
    Ok(line)
}

/// The leader's script: key pair, optional DNS wait for `dns_wait_hosts`, then `mpirun`.
///
/// `--allow-run-as-root` is decided when the script runs: only a root user needs it, and
/// passing it otherwise would hide an accidental root launch.
pub fn leader_script(launch: &Launch, dns_wait_hosts: &[String]) -> Result<String, QuoteError> {
    let mut out = String::from("set -e\n");
    ssh_client_setup(&mut out, &[]);
    if !dns_wait_hosts.is_empty() {
        out.push_str(&dns_wait(dns_wait_hosts, DNS_WAIT_TIMEOUT_SECONDS));
    }
    out.push_str("allow_root=\nif [ \"$(id -u)\" = 0 ]; then allow_root=--allow-run-as-root; fi\n");
    out.push_str(&mpirun_command(launch)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_refs() {
        assert_eq!(
            to_shell_refs("$(LWS_LEADER_ADDRESS)"),
            "${LWS_LEADER_ADDRESS}"
        );
        let lws = "$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')";
        assert_eq!(to_shell_refs(lws), lws);
        assert_eq!(host_word(lws), format!("\"{lws}\""));
        assert_eq!(
            to_shell_refs("$((A + 1)) $(B) $(9) $("),
            "$((A + 1)) ${B} $(9) $("
        );
    }

    #[test]
    fn worker_script_shape() {
        let s = worker_script();
        assert!(
            s.starts_with(
                "set -e\nmkdir -p \"$HOME/.ssh\" \"$HOME/.ssh/host_keys\" \"$HOME/.ssh/run\"\n"
            ),
            "{s}"
        );
        assert!(
            s.contains("\nPort 2222\n") && s.contains("\nPasswordAuthentication no\n"),
            "{s}"
        );
        assert!(s.contains("ssh_host_${type}_key"), "{s}");
        assert!(
            s.ends_with("exec /usr/sbin/sshd -D -f \"$HOME/.ssh/sshd_config\"\n"),
            "{s}"
        );
        // The heredoc terminator must start its line.
        assert!(s.contains("\nEOF\n"), "{s}");
    }

    #[test]
    fn mpirun_line_shape() {
        let launch = Launch {
            hosts: vec!["$(LWS_LEADER_ADDRESS)".into(), "w1".into()],
            processes: 8,
            forwarded_env: ["PATH".to_owned(), "A B".to_owned()].into(),
            wrapper: vec!["trtllm-llmapi-launch".into()],
            argv: vec![
                "python3".into(),
                "-m".into(),
                "dynamo.trtllm".into(),
                "--x".into(),
                "a b".into(),
            ],
        };
        assert_eq!(
            mpirun_command(&launch).as_deref(),
            Ok(
                "exec mpirun $allow_root --oversubscribe -n 8 -H \"${LWS_LEADER_ADDRESS}\",\"w1\" --mca pml ob1 \
                --mca plm_rsh_args \"-p 2222 -o StrictHostKeyChecking=no -i $HOME/.ssh/id_rsa\" \
                -x 'A B' -x PATH bash -c \"trtllm-llmapi-launch python3 -m dynamo.trtllm --x 'a b'\"\n"
            )
        );
    }
}
