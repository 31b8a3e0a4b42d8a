//! Reading an engine's arguments from a container's command line.
//!
//! The words searched are the container's `command` followed by its `args`; a `sh -c` script is
//! split into words first, and only the words after `python ... -m <module>` count when that
//! invocation is found. Backends then read `--flag value` / `--flag=value` from these words with
//! their engine's own spelling rules.

use crate::python;

/// The words of `argv` (`command` then `args`) that are engine arguments for one of `modules`.
///
/// A `sh -c` script is split with POSIX shell rules (falling back to whitespace when the script
/// does not split cleanly, e.g. an unbalanced quote). When no `python -m <module>` invocation of
/// one of `modules` is found, all the words are returned.
pub fn engine_words(argv: &[String], modules: &[&str]) -> Vec<String> {
    let words: Vec<String> = match python::shell_script_index(argv).and_then(|i| argv.get(i)) {
        Some(script) => shlex::split(script)
            .unwrap_or_else(|| script.split_whitespace().map(str::to_owned).collect()),
        None => argv.to_vec(),
    };
    match python::find_module(&words, modules) {
        Some(found) => words
            .get(found.module_index + 1..)
            .unwrap_or_default()
            .to_vec(),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn words_after_the_module() {
        let argv = strings(&["python3", "-m", "dynamo.x", "--tp", "2"]);
        assert_eq!(engine_words(&argv, &["dynamo.x"]), strings(&["--tp", "2"]));
    }

    #[test]
    fn scripts_are_split_with_shell_rules() {
        let argv = strings(&["sh", "-c", "python3 -m dynamo.x --model 'a b' --tp=2"]);
        assert_eq!(
            engine_words(&argv, &["dynamo.x"]),
            strings(&["--model", "a b", "--tp=2"])
        );
    }

    #[test]
    fn unbalanced_scripts_fall_back_to_whitespace() {
        let argv = strings(&["sh", "-c", "python3 -m dynamo.x --model 'a"]);
        assert_eq!(
            engine_words(&argv, &["dynamo.x"]),
            strings(&["--model", "'a"])
        );
    }

    #[test]
    fn without_the_module_every_word_counts() {
        let argv = strings(&["engine", "--tp", "2"]);
        assert_eq!(engine_words(&argv, &["dynamo.x"]), argv);
    }
}
