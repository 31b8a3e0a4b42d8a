//! Placing the host's placement expressions into command lines and shell scripts.
//!
//! The host hands out expressions such as `$(LWS_LEADER_ADDRESS)` (expanded by the kubelet before
//! the container starts) and `$((GROVE_PCLQ_POD_INDEX + 1))` (shell arithmetic). Two details
//! matter when a plugin builds on them:
//!
//! - The kubelet expands `$(NAME)` by reading up to the *first* `)`. Nested in another
//!   parenthesised expression (`$(( 2 * $(LWS_WORKER_INDEX) ))`) the reference is swallowed and
//!   the shell later runs `LWS_WORKER_INDEX` as a command. [`to_shell_refs`] rewrites `$(NAME)` to
//!   `${NAME}`, which the shell expands from the same environment, wherever such nesting happens
//!   or the text only ever runs in a shell.
//! - A word without `$` needs no expansion and is passed as a literal ([`word`]).

#![forbid(unsafe_code)]

use dynamo_plugin_sdk::ShellArg;

/// A literal word, or an expression when it contains `$`.
pub fn word(text: &str) -> ShellArg {
    if text.contains('$') {
        ShellArg::expr(text)
    } else {
        ShellArg::literal(text)
    }
}

/// Rewrites kubelet references `$(NAME)` to shell references `${NAME}` (see the SDK function).
pub use dynamo_plugin_sdk::shell::kubelet_refs_to_shell as to_shell_refs;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_variable_references() {
        assert_eq!(
            to_shell_refs("$(LWS_LEADER_ADDRESS)"),
            "${LWS_LEADER_ADDRESS}"
        );
        assert_eq!(
            to_shell_refs(
                "$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-svc-ldr-0.$(GROVE_HEADLESS_SERVICE)"
            ),
            "${GROVE_PCSG_NAME}-${GROVE_PCSG_INDEX}-svc-ldr-0.${GROVE_HEADLESS_SERVICE}"
        );
        for kept in [
            "$((GROVE_PCLQ_POD_INDEX + 1))",
            "$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')",
            "$(1X)",
            "$(",
            "$(A",
            "plain",
            "",
        ] {
            assert_eq!(to_shell_refs(kept), kept);
        }
        assert_eq!(
            to_shell_refs("$(( 2 * $(LWS_WORKER_INDEX) ))"),
            "$(( 2 * ${LWS_WORKER_INDEX} ))"
        );
    }

    #[test]
    fn words_with_dollars_are_expressions() {
        assert_eq!(word("0"), ShellArg::literal("0"));
        assert_eq!(
            word("$(LWS_WORKER_INDEX)"),
            ShellArg::expr("$(LWS_WORKER_INDEX)")
        );
    }
}
