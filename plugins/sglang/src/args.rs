//! Reading SGLang flags from the main container's command line.
//!
//! SGLang parses its flags with plain `argparse`: `--flag value` and `--flag=value` are the same,
//! the last occurrence wins, and a unique prefix of a long flag is accepted (the examples write
//! `--tp` for `--tp-size`). The words searched are the container's `command` followed by its
//! `args`; a `sh -c` script is split into words first, and only the words after
//! `python ... -m dynamo.sglang` count when that invocation is found.

#![forbid(unsafe_code)]

use std::fmt;

/// One engine flag and the other spellings SGLang accepts for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// The canonical spelling, e.g. `--tensor-parallel-size`.
    pub long: &'static str,
    /// Other accepted spellings, e.g. `--tp-size`.
    pub aliases: &'static [&'static str],
}

/// `--tensor-parallel-size` (`--tp-size`, or its prefix `--tp`).
pub const TENSOR_PARALLEL_SIZE: Flag = Flag {
    long: "--tensor-parallel-size",
    aliases: &["--tp-size", "--tp"],
};
/// `--pipeline-parallel-size` (`--pp-size`).
pub const PIPELINE_PARALLEL_SIZE: Flag = Flag {
    long: "--pipeline-parallel-size",
    aliases: &["--pp-size"],
};
/// `--dist-init-addr`, set by this plugin on multi-node components.
pub const DIST_INIT_ADDR: Flag = Flag {
    long: "--dist-init-addr",
    aliases: &[],
};
/// `--nnodes`, set by this plugin on multi-node components.
pub const NNODES: Flag = Flag {
    long: "--nnodes",
    aliases: &[],
};
/// `--node-rank`, set by this plugin on multi-node components.
pub const NODE_RANK: Flag = Flag {
    long: "--node-rank",
    aliases: &[],
};

pub use dynamo_plugin_sdk::args::engine_words;

/// The last occurrence of `flag` in `words`: the spelling used and its value, if any.
pub fn find<'a>(words: &'a [String], flag: &Flag) -> Option<(&'a str, Option<&'a str>)> {
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (word.as_str(), None),
        };
        if name == flag.long || flag.aliases.contains(&name) {
            found = Some((
                name,
                inline.or_else(|| words.get(i + 1).map(String::as_str)),
            ));
        }
    }
    found
}

/// A size flag whose value is not a positive integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// The flag as the user spelled it.
    pub flag: String,
    /// The offending value (empty when the flag had none).
    pub value: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` must be a literal positive integer, got `{}`",
            self.flag, self.value
        )
    }
}

impl std::error::Error for ArgError {}

/// The value of size flag `flag`; `None` when absent.
pub fn size(words: &[String], flag: &Flag) -> Result<Option<u32>, ArgError> {
    let Some((spelled, value)) = find(words, flag) else {
        return Ok(None);
    };
    let value = value.unwrap_or_default();
    match value.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(ArgError {
            flag: spelled.to_owned(),
            value: value.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn spellings() {
        for argv in [
            &["--tp-size", "8"][..],
            &["--tp-size=8"],
            &["--tp", "8"],
            &["--tensor-parallel-size", "8"],
            &["--tp", "1", "--tensor-parallel-size=8"],
        ] {
            assert_eq!(
                size(&words(argv), &TENSOR_PARALLEL_SIZE),
                Ok(Some(8)),
                "{argv:?}"
            );
        }
        assert_eq!(
            size(&words(&["--tp-sizes", "8"]), &TENSOR_PARALLEL_SIZE),
            Ok(None)
        );
        let err = size(&words(&["--pp-size", "x"]), &PIPELINE_PARALLEL_SIZE).expect_err("bad");
        assert_eq!((err.flag.as_str(), err.value.as_str()), ("--pp-size", "x"));
        assert!(err.to_string().contains("`--pp-size`"));
    }

    #[test]
    fn engine_words_of_scripts() {
        let argv = words(&[
            "sh",
            "-c",
            "python3 -m dynamo.sglang --tp-size 4 --nnodes=2",
        ]);
        let w = engine_words(&argv, &["dynamo.sglang"]);
        assert_eq!(w, words(&["--tp-size", "4", "--nnodes=2"]));
        assert_eq!(find(&w, &NNODES), Some(("--nnodes", Some("2"))));
        assert_eq!(find(&w, &NODE_RANK), None);
    }
}
