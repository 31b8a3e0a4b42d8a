//! Shell quoting for arguments that end up inside a `sh -c` script.
//!
//! Quoting is delegated to the `shlex` crate (POSIX `sh` rules: single quotes where needed, words
//! that need no quoting stay bare). [`ShellArg`] separates literal words, which are quoted so the
//! shell sees them verbatim, from expressions the host hands a plugin (`$(LWS_WORKER_INDEX)`,
//! `$((LWS_WORKER_INDEX + 1))`), which must still expand in the shell.
//!
//! [`quote_portable`] and [`append_to_script`] quote the way every plugin SDK does (Rust, Python,
//! JavaScript), byte for byte, as Python's `shlex.quote` does: plugins written in different
//! languages that append the same words to the same script produce the same text.

use std::borrow::Cow;

/// A shell word cannot be quoted (it contains a NUL byte, which no shell can pass on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot shell-quote {word:?}: it contains a NUL byte")]
pub struct QuoteError {
    /// The offending word.
    pub word: String,
}

/// Quotes one word for a POSIX shell; words that need no quoting are returned unchanged.
pub fn quote(word: &str) -> Result<Cow<'_, str>, QuoteError> {
    shlex::try_quote(word).map_err(|_| QuoteError {
        word: word.to_owned(),
    })
}

/// Quotes every word and joins them with single spaces.
pub fn join<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<String, QuoteError> {
    let mut out = String::new();
    for (i, word) in words.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote(word)?);
    }
    Ok(out)
}

/// Characters a word may hold and still be written bare by [`quote_portable`]: ASCII letters and
/// digits and `_./:=@%+,-` (the set of Python's `shlex.quote`).
pub fn is_portable_bare(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '_' | '.' | '/' | ':' | '=' | '@' | '%' | '+' | ',' | '-')
}

/// Quotes one word for a POSIX shell the way every plugin SDK does (Python's `shlex.quote`).
///
/// A non-empty word made only of [`is_portable_bare`] characters is returned unchanged; any other
/// word is wrapped in single quotes, each `'` inside written as `'"'"'`; the empty word is `''`.
/// A word holding a NUL byte cannot be passed to a program and is an error.
pub fn quote_portable(word: &str) -> Result<Cow<'_, str>, QuoteError> {
    if word.contains('\0') {
        return Err(QuoteError {
            word: word.to_owned(),
        });
    }
    if !word.is_empty() && word.chars().all(is_portable_bare) {
        return Ok(Cow::Borrowed(word));
    }
    Ok(Cow::Owned(format!("'{}'", word.replace('\'', "'\"'\"'"))))
}

/// Appends `words` to a shell script, each preceded by one space and quoted with
/// [`quote_portable`]: `append_to_script("exec server", ["--name", "a b"])` is
/// `exec server --name 'a b'`.
pub fn append_to_script<S: AsRef<str>>(script: &str, words: &[S]) -> Result<String, QuoteError> {
    let mut out = String::with_capacity(script.len() + words.len() * 8);
    out.push_str(script);
    for word in words {
        out.push(' ');
        out.push_str(&quote_portable(word.as_ref())?);
    }
    Ok(out)
}

/// One argument to add to a command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ShellArg {
    /// A literal word: passed through unchanged in `args`, single-quoted inside a shell script.
    Literal(String),
    /// An expression that must expand (`$VAR`, `$(VAR)`, `$((...))`): passed unchanged in `args`
    /// (where kubelet expands `$(VAR)`), double-quoted inside a shell script so it expands but is
    /// not split into several words.
    Expr(String),
}

impl ShellArg {
    /// A literal word.
    pub fn literal(word: impl Into<String>) -> Self {
        Self::Literal(word.into())
    }

    /// An expression that must expand.
    pub fn expr(expr: impl Into<String>) -> Self {
        Self::Expr(expr.into())
    }

    /// The argument as it goes into a container's `args` (no quoting: there is no shell).
    pub fn as_arg(&self) -> &str {
        match self {
            Self::Literal(s) | Self::Expr(s) => s,
        }
    }

    /// The argument as a single word of a shell script.
    pub fn to_shell_word(&self) -> Result<String, QuoteError> {
        match self {
            Self::Literal(s) => Ok(quote(s)?.into_owned()),
            Self::Expr(s) => {
                if s.contains('\0') {
                    return Err(QuoteError { word: s.clone() });
                }
                let mut out = String::with_capacity(s.len() + 2);
                out.push('"');
                for ch in s.chars() {
                    // Inside double quotes only these keep a special meaning besides `$`, which
                    // is exactly the one we want to keep.
                    if matches!(ch, '"' | '\\' | '`') {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push('"');
                Ok(out)
            }
        }
    }
}

impl From<&str> for ShellArg {
    fn from(word: &str) -> Self {
        Self::Literal(word.to_owned())
    }
}

impl From<String> for ShellArg {
    fn from(word: String) -> Self {
        Self::Literal(word)
    }
}

/// Renders arguments as shell words joined by single spaces.
pub fn join_args(args: &[ShellArg]) -> Result<String, QuoteError> {
    let words: Vec<String> = args
        .iter()
        .map(ShellArg::to_shell_word)
        .collect::<Result<_, _>>()?;
    Ok(words.join(" "))
}

/// Rewrites every kubelet reference `$(NAME)` (NAME a shell variable name) to `${NAME}`.
///
/// Other text, including `$((...))` arithmetic and `$(command ...)` substitutions, is kept. The
/// kubelet reads a reference up to the first `)`, so one nested in another parenthesised
/// expression (`$(( 2 * $(LWS_WORKER_INDEX) ))`) would be swallowed; the shell expands `${NAME}`
/// from the same environment, so the rewrite is safe wherever the text runs in a shell.
pub fn kubelet_refs_to_shell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut rest = text;
    while let Some(at) = rest.find("$(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_len = after
            .char_indices()
            .take_while(|&(i, c)| {
                c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
            .count();
        if name_len > 0 && after[name_len..].starts_with(')') {
            out.push_str("${");
            out.push_str(&after[..name_len]);
            out.push('}');
            rest = &after[name_len + 1..];
        } else {
            out.push_str("$(");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("--model").as_deref(), Ok("--model"));
        assert_eq!(quote("Qwen/Qwen3-0.6B").as_deref(), Ok("Qwen/Qwen3-0.6B"));
        assert_eq!(quote("a b").as_deref(), Ok("'a b'"));
        assert_eq!(quote("").as_deref(), Ok("''"));
        assert_eq!(quote("it's").as_deref(), Ok("\"it's\""));
        assert_eq!(quote("$(rm -rf /)").as_deref(), Ok("'$(rm -rf /)'"));
        assert!(quote("a\0b").is_err());
    }

    #[test]
    fn portable_quoting_matches_python_shlex() {
        for bare in [
            "--port",
            "8080",
            "Qwen/Qwen2.5-7B",
            "a=b",
            "x@y%z+1,2:3",
            "_.-",
        ] {
            assert_eq!(quote_portable(bare).as_deref(), Ok(bare));
        }
        assert_eq!(quote_portable("a b").as_deref(), Ok("'a b'"));
        assert_eq!(quote_portable("").as_deref(), Ok("''"));
        assert_eq!(quote_portable("it's").as_deref(), Ok("'it'\"'\"'s'"));
        assert_eq!(quote_portable("$HOME").as_deref(), Ok("'$HOME'"));
        assert_eq!(quote_portable("é").as_deref(), Ok("'é'"));
        assert!(quote_portable("a\0b").is_err());
    }

    #[test]
    fn words_are_appended_to_a_script() {
        assert_eq!(
            append_to_script("exec server", &["--name", "a b", "it's"]).as_deref(),
            Ok("exec server --name 'a b' 'it'\"'\"'s'")
        );
        assert_eq!(append_to_script("x", &[] as &[&str]).as_deref(), Ok("x"));
        assert!(append_to_script("x", &["\0"]).is_err());
    }

    #[test]
    fn joins_words() {
        assert_eq!(
            join(["python3", "-c", "print('x')"]).as_deref(),
            Ok("python3 -c \"print('x')\"")
        );
        assert_eq!(join([]).as_deref(), Ok(""));
    }

    #[test]
    fn expressions_expand_but_do_not_split() {
        let e = ShellArg::expr("$((LWS_WORKER_INDEX + 1))");
        assert_eq!(
            e.to_shell_word().as_deref(),
            Ok("\"$((LWS_WORKER_INDEX + 1))\"")
        );
        let tricky = ShellArg::expr("a\"b`c\\d");
        assert_eq!(tricky.to_shell_word().as_deref(), Ok("\"a\\\"b\\`c\\\\d\""));
        assert_eq!(e.as_arg(), "$((LWS_WORKER_INDEX + 1))");
        assert_eq!(
            join_args(&[
                "--x".into(),
                ShellArg::literal("a b"),
                ShellArg::expr("$(H)")
            ])
            .as_deref(),
            Ok("--x 'a b' \"$(H)\"")
        );
    }

    #[test]
    fn kubelet_refs_become_shell_refs() {
        assert_eq!(
            kubelet_refs_to_shell("$(LWS_LEADER_ADDRESS)"),
            "${LWS_LEADER_ADDRESS}"
        );
        assert_eq!(
            kubelet_refs_to_shell("$(GROVE_PCSG_NAME)-$(GROVE_PCSG_INDEX)-svc.$(_X1)"),
            "${GROVE_PCSG_NAME}-${GROVE_PCSG_INDEX}-svc.${_X1}"
        );
        for kept in [
            "$((GROVE_PCLQ_POD_INDEX + 1))",
            "$(echo \"$LWS_LEADER_ADDRESS\" | sed 's/\\./-1./')",
            "$(1X)",
            "$(9)",
            "$()",
            "$(",
            "$(A",
            "$A ${B}",
            "plain",
            "",
        ] {
            assert_eq!(kubelet_refs_to_shell(kept), kept);
        }
        assert_eq!(
            kubelet_refs_to_shell("$(( 2 * $(LWS_WORKER_INDEX) ))"),
            "$(( 2 * ${LWS_WORKER_INDEX} ))"
        );
    }
}
