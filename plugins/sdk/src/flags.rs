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
//!
//! # Any command line
//!
//! [`inject_flags`] is for Dynamo's Python engines. For any other program, [`has_flag`],
//! [`append_words`] and [`append_missing_flags`] follow one simple rule that every plugin SDK
//! (Rust, Python, JavaScript) implements the same way:
//!
//! - a flag is present when the argv (`command` followed by `args`) holds it as a word or holds a
//!   word starting with `<flag>=`;
//! - when the argv runs a shell script ([`shell_script`]: a first word whose last path segment is
//!   `sh` or `bash`, then `-c`), words are appended to the script, the last word of the argv, each
//!   preceded by one space and quoted with [`shell::quote_portable`];
//! - otherwise they are appended to `args` as separate words (creating `args`).

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

/// True when `argv` holds `flag` as a word or a word starting with `<flag>=`.
///
/// `has_flag(&["server", "--port=9000"], "--port")` is true; `--port-range` is not `--port`.
pub fn has_flag<S: AsRef<str>>(argv: &[S], flag: &str) -> bool {
    argv.iter().any(|word| {
        let word = word.as_ref();
        word.strip_prefix(flag)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
    })
}

/// True when `container`'s argv (`command` followed by `args`) has `flag` (see [`has_flag`]).
pub fn container_has_flag(container: &Container, flag: &str) -> bool {
    has_flag(&crate::pod::container_argv(container), flag)
}

/// Where a container's shell script is: the slot of the last word of its argv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptSlot {
    /// The last word of `command` (the container has no `args`).
    Command(usize),
    /// The last word of `args`.
    Args(usize),
}

/// Where `container`'s shell script is, when its argv runs one: a first word whose last path
/// segment is `sh` or `bash` (`sh`, `/bin/bash`), then `-c`; the script is the last word of the
/// argv (of `args` when `args` is non-empty, else of `command`).
///
/// Narrower than [`python::shell_script_index`] on purpose: it is the rule every plugin SDK
/// shares, so plugins in any language treat the same command line the same way.
pub fn shell_script(container: &Container) -> Option<ScriptSlot> {
    let command = container.command.as_deref().unwrap_or_default();
    let args = container.args.as_deref().unwrap_or_default();
    let mut argv = command.iter().chain(args);
    let first = argv.next()?;
    let base = first.rsplit('/').next().unwrap_or(first);
    if !matches!(base, "sh" | "bash") || argv.next().map(String::as_str) != Some("-c") {
        return None;
    }
    Some(match args.len() {
        0 => ScriptSlot::Command(command.len() - 1),
        n => ScriptSlot::Args(n - 1),
    })
}

/// Where [`append_words`] put the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// No words were given: nothing changed.
    Nothing,
    /// Appended to `args` as separate words.
    Args,
    /// Appended to the shell script (see [`shell_script`]), quoted.
    Script,
}

/// Appends `words` to `container`'s command line: to its shell script when it runs one
/// ([`shell_script`]), each word preceded by one space and quoted with
/// [`shell::quote_portable`]; otherwise to `args` as separate words (creating `args`).
///
/// Fails only when a word cannot be quoted for a script (a NUL byte).
pub fn append_words<S: AsRef<str>>(
    container: &mut Container,
    words: &[S],
) -> Result<Appended, FlagError> {
    if words.is_empty() {
        return Ok(Appended::Nothing);
    }
    let slot = match shell_script(container) {
        Some(ScriptSlot::Command(i)) => container.command.as_mut().and_then(|c| c.get_mut(i)),
        Some(ScriptSlot::Args(i)) => container.args.as_mut().and_then(|a| a.get_mut(i)),
        None => None,
    };
    if let Some(script) = slot {
        *script = shell::append_to_script(script, words)?;
        return Ok(Appended::Script);
    }
    container
        .args
        .get_or_insert_with(Vec::new)
        .extend(words.iter().map(|w| w.as_ref().to_owned()));
    Ok(Appended::Args)
}

/// Appends each `(flag, value)` pair whose flag the container's argv does not have yet
/// ([`has_flag`], checked against the argv as it was before the call), in order, with
/// [`append_words`]. Returns the words appended (empty when every flag was present).
///
/// ```
/// use dynamo_plugin_sdk::flags::append_missing_flags;
/// use dynamo_plugin_sdk::k8s_openapi::api::core::v1::Container;
///
/// let mut c = Container {
///     args: Some(vec!["--port=9000".into()]),
///     ..Container::default()
/// };
/// let added = append_missing_flags(&mut c, &[("--port", "8080"), ("--num-shard", "2")])?;
/// assert_eq!(added, ["--num-shard", "2"]);
/// assert_eq!(c.args, Some(vec!["--port=9000".into(), "--num-shard".into(), "2".into()]));
/// # Ok::<(), dynamo_plugin_sdk::FlagError>(())
/// ```
pub fn append_missing_flags(
    container: &mut Container,
    flags: &[(&str, &str)],
) -> Result<Vec<String>, FlagError> {
    let argv = crate::pod::container_argv(container);
    let words: Vec<String> = flags
        .iter()
        .filter(|(flag, _)| !has_flag(&argv, flag))
        .flat_map(|(flag, value)| [(*flag).to_owned(), (*value).to_owned()])
        .collect();
    append_words(container, &words)?;
    Ok(words)
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

    #[test]
    fn has_flag_matches_the_word_or_its_equals_form() {
        let argv = ["server", "--port=9000", "--num-shard", "2", "--model-id-x"];
        assert!(has_flag(&argv, "--port"));
        assert!(has_flag(&argv, "--num-shard"));
        assert!(
            !has_flag(&argv, "--model-id"),
            "a longer flag is not the flag"
        );
        assert!(!has_flag(&argv, "--quantize"));
        assert!(!has_flag(&[] as &[&str], "--port"));
        assert!(container_has_flag(
            &container(&["server"], &["--port", "1"]),
            "--port"
        ));
    }

    #[test]
    fn shell_scripts_are_sh_or_bash_with_dash_c() {
        let script = |command: &[&str], args: &[&str]| shell_script(&container(command, args));
        assert_eq!(script(&["sh", "-c"], &["run"]), Some(ScriptSlot::Args(0)));
        assert_eq!(
            script(&["/bin/bash", "-c", "run"], &[]),
            Some(ScriptSlot::Command(2))
        );
        assert_eq!(
            script(&[], &["/bin/sh", "-c", "a", "b"]),
            Some(ScriptSlot::Args(3)),
            "the last word of the argv"
        );
        assert_eq!(script(&["sh"], &["-c", "x"]), Some(ScriptSlot::Args(1)));
        for (command, args) in [
            (&["bash", "-lc", "x"][..], &[][..]),
            (&["dash", "-c", "x"], &[]),
            (&["shell", "-c", "x"], &[]),
            (&["server"], &["-c", "x"]),
            (&["sh", "script.sh"], &[]),
            (&[], &[]),
        ] {
            assert_eq!(script(command, args), None, "{command:?} {args:?}");
        }
    }

    #[test]
    fn words_go_to_args_or_to_the_script() {
        let mut plain = container(&["server"], &[]);
        assert_eq!(
            append_words(&mut plain, &["--name", "a b"]),
            Ok(Appended::Args)
        );
        assert_eq!(plain.args, Some(vec!["--name".into(), "a b".into()]));
        assert_eq!(
            append_words(&mut plain, &[] as &[&str]),
            Ok(Appended::Nothing)
        );

        let mut script = container(&["sh", "-c"], &["exec server --x 'y z'"]);
        assert_eq!(
            append_words(&mut script, &["--name", "a b", "it's"]),
            Ok(Appended::Script)
        );
        assert_eq!(
            script.args,
            Some(vec![
                "exec server --x 'y z' --name 'a b' 'it'\"'\"'s'".into()
            ])
        );

        let mut in_command = container(&["/bin/bash", "-c", "server"], &[]);
        append_words(&mut in_command, &["--p", "1"]).expect("appends");
        assert_eq!(
            in_command.command,
            Some(vec!["/bin/bash".into(), "-c".into(), "server --p 1".into()])
        );
        assert_eq!(in_command.args, None);

        let mut nul = container(&["sh", "-c", "x"], &[]);
        assert!(matches!(
            append_words(&mut nul, &["a\0"]),
            Err(FlagError::Quote(_))
        ));
    }

    #[test]
    fn only_missing_flags_are_appended() {
        let mut c = container(&["server"], &["--port=9000"]);
        let added = append_missing_flags(&mut c, &[("--port", "8080"), ("--num-shard", "2")])
            .expect("appends");
        assert_eq!(added, ["--num-shard", "2"]);
        assert_eq!(
            c.args,
            Some(vec!["--port=9000".into(), "--num-shard".into(), "2".into()])
        );

        // A script is one word of the argv: flags written inside it are not seen.
        let mut script = container(&["sh", "-c"], &["server --port=9000"]);
        let added = append_missing_flags(&mut script, &[("--port", "8080")]).expect("appends");
        assert_eq!(added, ["--port", "8080"]);
        assert_eq!(
            script.args,
            Some(vec!["server --port=9000 --port 8080".into()])
        );

        let mut all_present = container(&["server", "--port", "1"], &[]);
        assert!(
            append_missing_flags(&mut all_present, &[("--port", "8080")])
                .expect("nothing to do")
                .is_empty()
        );
        assert_eq!(all_present.args, None, "args are not created for nothing");
    }
}
