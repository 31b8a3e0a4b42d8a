//! Reading vLLM's parallelism flags from the main container's command line.
//!
//! The operator needs three numbers the user already gave the engine: the tensor-, pipeline- and
//! data-parallel sizes. They are read the way vLLM's argument parser reads them:
//!
//! - `--flag value` and `--flag=value` are the same;
//! - vLLM's short aliases count (`-tp`, `-pp`, `-dp`, `-dpl`), in both spellings;
//! - long flags may use underscores (`--tensor_parallel_size`), which vLLM's parser accepts;
//! - the last occurrence wins.
//!
//! The words searched are the container's `command` followed by its `args`; when that runs a
//! shell script (`sh -c '...'`), the script is split into words first. Only the words after
//! `python ... -m dynamo.vllm` are engine arguments; when that invocation is not found, every word
//! is searched.

#![forbid(unsafe_code)]

use std::fmt;

/// One engine flag: its long spelling and vLLM's short alias, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// The long spelling, e.g. `--tensor-parallel-size`.
    pub long: &'static str,
    /// The short alias vLLM also accepts, e.g. `-tp`.
    pub alias: Option<&'static str>,
}

/// `--tensor-parallel-size` (`-tp`).
pub const TENSOR_PARALLEL_SIZE: Flag = Flag {
    long: "--tensor-parallel-size",
    alias: Some("-tp"),
};
/// `--pipeline-parallel-size` (`-pp`).
pub const PIPELINE_PARALLEL_SIZE: Flag = Flag {
    long: "--pipeline-parallel-size",
    alias: Some("-pp"),
};
/// `--data-parallel-size` (`-dp`).
pub const DATA_PARALLEL_SIZE: Flag = Flag {
    long: "--data-parallel-size",
    alias: Some("-dp"),
};

/// How a flag appeared on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence<'a> {
    /// The spelling used (`--tensor-parallel-size`, `-tp`, `--tensor_parallel_size`).
    pub spelled: &'a str,
    /// Its value; `None` when the flag is the last word and has no `=value`.
    pub value: Option<&'a str>,
}

pub use dynamo_plugin_sdk::args::engine_words;

/// Splits `word` into its flag part and the `=value` part, if any.
fn split_word(word: &str) -> (&str, Option<&str>) {
    match word.split_once('=') {
        Some((name, value)) if name.starts_with('-') => (name, Some(value)),
        _ => (word, None),
    }
}

/// True when `name` (without `=value`) spells `flag`.
fn spells(name: &str, flag: &Flag) -> bool {
    if flag.alias == Some(name) {
        return true;
    }
    name.strip_prefix("--").is_some_and(|rest| {
        flag.long
            .strip_prefix("--")
            .is_some_and(|long| rest.len() == long.len() && rest.replace('_', "-") == long)
    })
}

/// The last occurrence of `flag` in `words`, if any.
pub fn find<'a>(words: &'a [String], flag: &Flag) -> Option<Occurrence<'a>> {
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        let (name, inline) = split_word(word);
        if !spells(name, flag) {
            continue;
        }
        let value = inline.or_else(|| words.get(i + 1).map(String::as_str));
        found = Some(Occurrence {
            spelled: name,
            value,
        });
    }
    found
}

/// True when `flag` appears in `words`.
pub fn has(words: &[String], flag: &Flag) -> bool {
    find(words, flag).is_some()
}

/// A parallelism flag whose value is not a positive integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// The flag as the user spelled it.
    pub flag: String,
    /// The offending value (empty when the flag had none).
    pub value: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(
                f,
                "`{}` has no value; expected a positive integer",
                self.flag
            )
        } else {
            write!(
                f,
                "`{}` must be a literal positive integer, got `{}`",
                self.flag, self.value
            )
        }
    }
}

impl std::error::Error for ArgError {}

/// The value of `flag` as a positive integer; `None` when the flag is absent.
fn positive(words: &[String], flag: &Flag) -> Result<Option<u32>, ArgError> {
    let Some(found) = find(words, flag) else {
        return Ok(None);
    };
    let value = found.value.unwrap_or_default();
    match value.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(ArgError {
            flag: found.spelled.to_owned(),
            value: value.to_owned(),
        }),
    }
}

/// The parallelism the engine was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallelism {
    /// `--tensor-parallel-size` (1 when absent).
    pub tensor: u32,
    /// `--pipeline-parallel-size` (1 when absent).
    pub pipeline: u32,
    /// `--data-parallel-size` (1 when absent).
    pub data: u32,
    /// True when `--data-parallel-size` was given.
    pub data_given: bool,
}

impl Default for Parallelism {
    /// No parallelism: every size 1.
    fn default() -> Self {
        Self {
            tensor: 1,
            pipeline: 1,
            data: 1,
            data_given: false,
        }
    }
}

impl Parallelism {
    /// Reads the three sizes from engine words; a present but non-numeric or zero size is an error.
    pub fn from_words(words: &[String]) -> Result<Self, ArgError> {
        let tensor = positive(words, &TENSOR_PARALLEL_SIZE)?;
        let pipeline = positive(words, &PIPELINE_PARALLEL_SIZE)?;
        let data = positive(words, &DATA_PARALLEL_SIZE)?;
        Ok(Self {
            tensor: tensor.unwrap_or(1),
            pipeline: pipeline.unwrap_or(1),
            data: data.unwrap_or(1),
            data_given: data.is_some(),
        })
    }

    /// GPUs one engine instance spans: tensor × pipeline parallel size.
    pub fn world(&self) -> u64 {
        u64::from(self.tensor) * u64::from(self.pipeline)
    }

    /// GPUs all data-parallel ranks span together: world × data-parallel size.
    pub fn total(&self) -> u64 {
        self.world() * u64::from(self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| (*w).to_owned()).collect()
    }

    const MODULES: [&str; 1] = ["dynamo.vllm"];

    #[test]
    fn both_spellings_aliases_and_underscores() {
        for argv in [
            &["--tensor-parallel-size", "4"][..],
            &["--tensor-parallel-size=4"],
            &["-tp", "4"],
            &["-tp=4"],
            &["--tensor_parallel_size", "4"],
            &["--tensor_parallel_size=4"],
            &["--tensor-parallel-size", "2", "--tensor-parallel-size", "4"],
        ] {
            let p = Parallelism::from_words(&words(argv)).expect("parses");
            assert_eq!(p.tensor, 4, "{argv:?}");
        }
        // Prefixes and look-alikes are other flags.
        let p = Parallelism::from_words(&words(&["--tensor-parallel-size-x", "9", "-tpx", "9"]))
            .expect("parses");
        assert_eq!(p, Parallelism::default());
    }

    #[test]
    fn world_and_total() {
        let p = Parallelism::from_words(&words(&[
            "-tp",
            "2",
            "--pipeline-parallel-size=3",
            "-dp",
            "4",
        ]))
        .expect("parses");
        assert_eq!((p.world(), p.total(), p.data_given), (6, 24, true));
        assert_eq!(Parallelism::default().world(), 1);
    }

    #[test]
    fn bad_values_name_the_flag() {
        let err =
            Parallelism::from_words(&words(&["--tensor-parallel-size", "two"])).expect_err("bad");
        assert_eq!(err.flag, "--tensor-parallel-size");
        assert!(err.to_string().contains("got `two`"), "{err}");
        let err = Parallelism::from_words(&words(&["-pp=0"])).expect_err("zero");
        assert_eq!((err.flag.as_str(), err.value.as_str()), ("-pp", "0"));
        let err = Parallelism::from_words(&words(&["--data-parallel-size"])).expect_err("missing");
        assert!(err.to_string().contains("no value"), "{err}");
        let err = Parallelism::from_words(&words(&["-tp", "$(TP)"])).expect_err("variable");
        assert_eq!(err.value, "$(TP)");
    }

    #[test]
    fn engine_words_skip_the_interpreter_and_read_scripts() {
        let argv = words(&["python3", "-m", "dynamo.vllm", "--model", "m", "-tp", "2"]);
        assert_eq!(
            engine_words(&argv, &MODULES),
            words(&["--model", "m", "-tp", "2"])
        );

        let script = words(&[
            "sh",
            "-c",
            "cd /x && python3 -m dynamo.vllm --kv-transfer-config '{\"a\": 1}' --tensor-parallel-size 8",
        ]);
        let w = engine_words(&script, &MODULES);
        assert_eq!(w[..2], words(&["--kv-transfer-config", "{\"a\": 1}"])[..]);
        assert_eq!(Parallelism::from_words(&w).map(|p| p.tensor), Ok(8));

        // Unbalanced quotes fall back to whitespace splitting.
        let broken = words(&["sh", "-c", "python3 -m dynamo.vllm -tp 2 'oops"]);
        assert_eq!(
            Parallelism::from_words(&engine_words(&broken, &MODULES)).map(|p| p.tensor),
            Ok(2)
        );

        // No module found: every word is searched.
        let other = words(&["/entrypoint", "-tp", "2"]);
        assert_eq!(engine_words(&other, &MODULES), other);
    }

    #[test]
    fn find_reports_spelling() {
        let w = words(&["--x", "-dp=3"]);
        assert_eq!(
            find(&w, &DATA_PARALLEL_SIZE),
            Some(Occurrence {
                spelled: "-dp",
                value: Some("3")
            })
        );
        assert!(has(&w, &DATA_PARALLEL_SIZE));
        assert!(!has(&w, &TENSOR_PARALLEL_SIZE));
    }
}
