//! Injecting engine flags into a container's command line.
//!
//! [`inject_flags`] looks at the container's `command` followed by its `args` (its argv) and picks
//! one of three strategies:
//!
//! 1. **Shell script** — the argv runs a shell with `-c` (`sh -c '...'`): the flags are inserted,
//!    shell-quoted, right after the first `python ... -m <module>` inside the script (the module
//!    filtered by `modules`), so they reach the engine even when the script runs other commands
//!    after it. A script without such an invocation is an error: appending at the end of an
//!    arbitrary script would not reach the engine.
//! 2. **Wrap in a shell** — the caller says a shell is needed (a flag uses shell arithmetic such as
//!    `$((LWS_WORKER_INDEX + 1))`) and the argv is not a shell: the container becomes
//!    `["sh", "-c"]` with args `["exec <quoted argv> <flags>"]`. `exec` keeps the engine as the
//!    container's main process, so it receives signals.
//! 3. **Append** — otherwise (including the usual `python3 -m dynamo.vllm ...`): the flags are
//!    appended to `args` unquoted; kubelet expands `$(VAR)` references there itself.

use k8s_openapi::api::core::v1::Container;

use crate::python;
use crate::shell::{self, QuoteError, ShellArg};

/// How [`inject_flags`] changed the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    /// Nothing to inject: no flags were given.
    Unchanged,
    /// Flags appended to `args`.
    Appended,
    /// Flags inserted into an existing `sh -c` script after the Python module invocation.
    InsertedInScript,
    /// The argv was rewritten into `/bin/sh -c "exec <argv> <flags>"`.
    WrappedInShell,
}

/// Why flags could not be injected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// The container has neither `command` nor `args`, so the image entrypoint is unknown.
    #[error("container {container:?} has no command or args to add flags to")]
    NoCommand {
        /// Container name.
        container: String,
    },
    /// The container runs a shell script without a `python ... -m <module>` invocation.
    #[error("container {container:?} runs a shell script without `python -m {modules}`")]
    NoModuleInScript {
        /// Container name.
        container: String,
        /// The modules looked for, comma separated (`<any>` when none was given).
        modules: String,
    },
    /// A flag cannot be shell-quoted.
    #[error(transparent)]
    Quote(#[from] QuoteError),
}

impl From<FlagError> for crate::PluginError {
    fn from(e: FlagError) -> Self {
        match e {
            FlagError::NoCommand { .. } | FlagError::NoModuleInScript { .. } => {
                crate::PluginError::unsupported(e.to_string())
            }
            FlagError::Quote(_) => crate::PluginError::invalid_input("", e.to_string()),
        }
    }
}

/// The shell a container is wrapped in when a shell is required (`sh` from the image's `PATH`,
/// as Dynamo's operator writes it).
pub const SHELL: [&str; 2] = ["sh", "-c"];

/// Adds `flags` to `container`'s command line; see the module docs for the three strategies.
///
/// `modules` selects which `python -m <module>` a shell script's flags follow (empty: the first
/// one). `needs_shell` is typically [`crate::Placement::needs_shell`] when a flag uses its
/// expressions.
pub fn inject_flags(
    container: &mut Container,
    modules: &[impl AsRef<str>],
    flags: &[ShellArg],
    needs_shell: bool,
) -> Result<Injection, FlagError> {
    if flags.is_empty() {
        return Ok(Injection::Unchanged);
    }
    let command = container.command.clone().unwrap_or_default();
    let args = container.args.clone().unwrap_or_default();
    let argv: Vec<&str> = command.iter().chain(&args).map(String::as_str).collect();
    if argv.is_empty() {
        return Err(FlagError::NoCommand {
            container: container.name.clone(),
        });
    }

    if let Some(index) = python::shell_script_index(&argv) {
        let script = argv[index];
        let Some(found) = python::find_module_in_script(script, modules) else {
            let names: Vec<&str> = modules.iter().map(AsRef::as_ref).collect();
            return Err(FlagError::NoModuleInScript {
                container: container.name.clone(),
                modules: if names.is_empty() {
                    "<any>".to_owned()
                } else {
                    names.join(", ")
                },
            });
        };
        let words = shell::join_args(flags)?;
        let mut new_script = String::with_capacity(script.len() + words.len() + 1);
        new_script.push_str(&script[..found.insert_at]);
        new_script.push(' ');
        new_script.push_str(&words);
        new_script.push_str(&script[found.insert_at..]);
        if index < command.len() {
            if let Some(slot) = container.command.as_mut().and_then(|c| c.get_mut(index)) {
                *slot = new_script;
            }
        } else if let Some(slot) = container
            .args
            .as_mut()
            .and_then(|a| a.get_mut(index - command.len()))
        {
            *slot = new_script;
        }
        return Ok(Injection::InsertedInScript);
    }

    if needs_shell {
        let script = format!("exec {} {}", shell::join(argv)?, shell::join_args(flags)?);
        container.command = Some(SHELL.iter().map(|s| (*s).to_owned()).collect());
        container.args = Some(vec![script]);
        return Ok(Injection::WrappedInShell);
    }

    container
        .args
        .get_or_insert_with(Vec::new)
        .extend(flags.iter().map(|f| f.as_arg().to_owned()));
    Ok(Injection::Appended)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: [&str; 0] = [];

    fn container(command: &[&str], args: &[&str]) -> Container {
        let owned = |v: &[&str]| (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect());
        Container {
            name: "main".into(),
            command: owned(command),
            args: owned(args),
            ..Container::default()
        }
    }

    fn flags() -> Vec<ShellArg> {
        vec![
            "--tensor-parallel-size".into(),
            "2".into(),
            ShellArg::literal("a b"),
            ShellArg::expr("$((LWS_WORKER_INDEX + 1))"),
        ]
    }

    #[test]
    fn python_command_gets_flags_appended_to_args() {
        let mut c = container(&["python3", "-m", "dynamo.vllm"], &["--model", "m"]);
        assert_eq!(
            inject_flags(&mut c, &ANY, &flags(), false),
            Ok(Injection::Appended)
        );
        assert_eq!(
            c.command,
            Some(vec!["python3".into(), "-m".into(), "dynamo.vllm".into()])
        );
        assert_eq!(
            c.args,
            Some(vec![
                "--model".into(),
                "m".into(),
                "--tensor-parallel-size".into(),
                "2".into(),
                "a b".into(),
                "$((LWS_WORKER_INDEX + 1))".into(),
            ])
        );

        let mut no_args = container(&["python3", "-m", "dynamo.vllm"], &[]);
        inject_flags(&mut no_args, &ANY, &["--x".into()], false).expect("injects");
        assert_eq!(no_args.args, Some(vec!["--x".into()]));
    }

    #[test]
    fn shell_required_wraps_with_exec() {
        let mut c = container(&["python3", "-m", "dynamo.vllm"], &["--model", "a b"]);
        assert_eq!(
            inject_flags(&mut c, &ANY, &flags(), true),
            Ok(Injection::WrappedInShell)
        );
        assert_eq!(c.command, Some(vec!["sh".into(), "-c".into()]));
        assert_eq!(
            c.args,
            Some(vec![
                "exec python3 -m dynamo.vllm --model 'a b' --tensor-parallel-size 2 'a b' \"$((LWS_WORKER_INDEX + 1))\""
                    .into()
            ])
        );
    }

    #[test]
    fn shell_script_gets_flags_after_the_module() {
        let mut c = container(
            &["sh", "-c"],
            &["echo start && python3 -m dynamo.vllm --model m; echo done"],
        );
        assert_eq!(
            inject_flags(&mut c, &["dynamo.vllm"], &flags(), true),
            Ok(Injection::InsertedInScript)
        );
        assert_eq!(c.command, Some(vec!["sh".into(), "-c".into()]));
        assert_eq!(
            c.args,
            Some(vec![
                "echo start && python3 -m dynamo.vllm --tensor-parallel-size 2 'a b' \"$((LWS_WORKER_INDEX + 1))\" --model m; echo done"
                    .into()
            ])
        );

        // Script in `command` itself.
        let mut c = container(&["/bin/bash", "-lc", "python -m x"], &[]);
        inject_flags(&mut c, &ANY, &["--y".into()], false).expect("injects");
        assert_eq!(
            c.command,
            Some(vec![
                "/bin/bash".into(),
                "-lc".into(),
                "python -m x --y".into()
            ])
        );
    }

    #[test]
    fn errors_are_reported() {
        let mut c = container(&[], &[]);
        assert!(matches!(
            inject_flags(&mut c, &ANY, &["--x".into()], false),
            Err(FlagError::NoCommand { .. })
        ));
        let mut c = container(&["sh", "-c", "echo hi"], &[]);
        let err =
            inject_flags(&mut c, &["dynamo.vllm"], &["--x".into()], false).expect_err("no module");
        assert!(err.to_string().contains("dynamo.vllm"), "{err}");
        let plugin_error: crate::PluginError = err.into();
        assert!(matches!(plugin_error, crate::PluginError::Unsupported(_)));

        let mut c = container(&["python3"], &[]);
        assert!(matches!(
            inject_flags(&mut c, &ANY, &["a\0b".into()], true),
            Err(FlagError::Quote(_))
        ));
        // Nothing to do is not an error, even without a command.
        let mut c = container(&[], &[]);
        assert_eq!(
            inject_flags(&mut c, &ANY, &[], false),
            Ok(Injection::Unchanged)
        );
    }

    #[test]
    fn entrypoint_args_only() {
        let mut c = container(&[], &["python3", "-m", "dynamo.sglang"]);
        inject_flags(&mut c, &ANY, &["--tp".into(), "4".into()], false).expect("injects");
        assert_eq!(c.command, None);
        assert_eq!(
            c.args,
            Some(vec![
                "python3".into(),
                "-m".into(),
                "dynamo.sglang".into(),
                "--tp".into(),
                "4".into()
            ])
        );
    }
}
