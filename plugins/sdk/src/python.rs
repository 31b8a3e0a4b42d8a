//! Recognising `python[0-9.]* ... -m <module>` in a container command or a shell script.
//!
//! The host uses this to detect a component's backend from its main container; plugins use it to
//! find where their engine's flags go. A Python invocation is a word whose file name matches
//! `python[0-9.]*` (`python`, `python3`, `/usr/bin/python3.12`), followed by interpreter options
//! and then `-m <module>` (or `-m<module>`). `python -c ...` and `python script.py` do not run a
//! module.

/// True when `program`'s file name is `python` followed only by digits and dots.
pub fn is_python(program: &str) -> bool {
    let base = program.rsplit('/').next().unwrap_or(program);
    base.strip_prefix("python")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// True when `program`'s file name is a POSIX-style shell (`sh`, `bash`, `dash`, `ash`, `zsh`, `ksh`).
pub fn is_shell(program: &str) -> bool {
    let base = program.rsplit('/').next().unwrap_or(program);
    matches!(base, "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh")
}

/// Where a `python ... -m <module>` invocation sits in an argument vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInvocation {
    /// Index of the Python interpreter word.
    pub python_index: usize,
    /// Index of the word holding the module name (the same word as `-m` for `-m<module>`).
    pub module_index: usize,
    /// The module name.
    pub module: String,
}

/// Interpreter options that take their value as the next word.
const OPTIONS_WITH_VALUE: [&str; 2] = ["-X", "-W"];

/// Given the words after a Python interpreter, returns (offset of module word, module name).
fn module_after_python<S: AsRef<str>>(words: &[S]) -> Option<(usize, String)> {
    let mut j = 0;
    while let Some(word) = words.get(j) {
        let word = word.as_ref();
        if word == "-m" {
            let module = words.get(j + 1)?.as_ref();
            return (!module.is_empty()).then(|| (j + 1, module.to_owned()));
        }
        if let Some(module) = word.strip_prefix("-m") {
            return Some((j, module.to_owned()));
        }
        if OPTIONS_WITH_VALUE.contains(&word) {
            j += 2;
        } else if word == "-c" || word == "-" || !word.starts_with('-') {
            // A command string, stdin or a script file: not a module.
            return None;
        } else {
            j += 1;
        }
    }
    None
}

fn matches_filter(module: &str, modules: &[impl AsRef<str>]) -> bool {
    modules.is_empty() || modules.iter().any(|m| m.as_ref() == module)
}

/// Finds the first `python ... -m <module>` in `argv` whose module is in `modules` (any module
/// when `modules` is empty).
pub fn find_module<S: AsRef<str>>(
    argv: &[S],
    modules: &[impl AsRef<str>],
) -> Option<ModuleInvocation> {
    argv.iter().enumerate().find_map(|(i, word)| {
        if !is_python(word.as_ref()) {
            return None;
        }
        let (offset, module) = module_after_python(&argv[i + 1..])?;
        matches_filter(&module, modules).then(|| ModuleInvocation {
            python_index: i,
            module_index: i + 1 + offset,
            module,
        })
    })
}

/// Index of the script word when `argv` runs a shell with `-c` (`sh -c`, `bash -lc`, `/bin/sh -ec`).
pub fn shell_script_index<S: AsRef<str>>(argv: &[S]) -> Option<usize> {
    let shell = argv.first()?;
    if !is_shell(shell.as_ref()) {
        return None;
    }
    for (i, word) in argv.iter().enumerate().skip(1) {
        let word = word.as_ref();
        match word.strip_prefix('-') {
            Some(opts) if !opts.starts_with('-') && opts.contains('c') => {
                return (i + 1 < argv.len()).then_some(i + 1);
            }
            Some(_) => {}
            // A script file or the first operand: no `-c` script.
            None => return None,
        }
    }
    None
}

/// A `python ... -m <module>` invocation found inside a shell script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptMatch {
    /// The module name.
    pub module: String,
    /// Byte offset just past the module word: where flags for the module go.
    pub insert_at: usize,
}

/// One word of a shell script, unquoted, with its byte span and command segment.
#[derive(Debug)]
struct Word {
    text: String,
    end: usize,
    segment: usize,
}

/// Splits a script into words. Understands quotes, backslash escapes (including line
/// continuations), comments and the operators that separate commands; it is not a full shell
/// parser, only enough to find `python ... -m <module>` reliably.
fn script_words(script: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut segment = 0;
    let mut current: Option<String> = None;
    let mut chars = script.char_indices().peekable();
    let mut finish = |current: &mut Option<String>, end: usize, segment: usize| {
        if let Some(text) = current.take() {
            words.push(Word { text, end, segment });
        }
    };
    while let Some((i, ch)) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some((_, '\n')) => {} // line continuation
                Some((_, escaped)) => current.get_or_insert_with(String::new).push(escaped),
                None => current.get_or_insert_with(String::new).push('\\'),
            },
            '\'' => {
                let text = current.get_or_insert_with(String::new);
                for (_, c) in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    text.push(c);
                }
            }
            '"' => {
                let text = current.get_or_insert_with(String::new);
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                if !matches!(escaped, '"' | '\\' | '$' | '`' | '\n') {
                                    text.push('\\');
                                }
                                if escaped != '\n' {
                                    text.push(escaped);
                                }
                            }
                        }
                        c => text.push(c),
                    }
                }
            }
            '#' if current.is_none() => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                segment += 1;
            }
            c if c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')') => {
                finish(&mut current, i, segment);
                if !c.is_whitespace() || c == '\n' {
                    segment += 1;
                }
            }
            c => current.get_or_insert_with(String::new).push(c),
        }
    }
    finish(&mut current, script.len(), segment);
    words
}

/// Finds the first `python ... -m <module>` inside a shell script whose module is in `modules`
/// (any module when `modules` is empty), and where to insert flags for it.
pub fn find_module_in_script(script: &str, modules: &[impl AsRef<str>]) -> Option<ScriptMatch> {
    let words = script_words(script);
    words.iter().enumerate().find_map(|(i, word)| {
        if !is_python(&word.text) {
            return None;
        }
        let rest: Vec<&str> = words[i + 1..]
            .iter()
            .take_while(|w| w.segment == word.segment)
            .map(|w| w.text.as_str())
            .collect();
        let (offset, module) = module_after_python(&rest)?;
        matches_filter(&module, modules).then(|| ScriptMatch {
            module,
            insert_at: words[i + 1 + offset].end,
        })
    })
}

/// Detects which module a container command runs: `python ... -m <module>` directly, or inside a
/// `sh -c` script. `argv` is the container's `command` followed by its `args`.
pub fn detect_module<S: AsRef<str>>(argv: &[S], modules: &[impl AsRef<str>]) -> Option<String> {
    if let Some(script) = shell_script_index(argv).and_then(|i| argv.get(i)) {
        return find_module_in_script(script.as_ref(), modules).map(|m| m.module);
    }
    find_module(argv, modules).map(|m| m.module)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: [&str; 0] = [];

    #[test]
    fn python_names() {
        for yes in [
            "python",
            "python3",
            "python3.12",
            "/usr/bin/python3",
            "python3.",
        ] {
            assert!(is_python(yes), "{yes}");
        }
        for no in ["pythonx", "ipython", "python-3", "py", "", "/usr/bin/"] {
            assert!(!is_python(no), "{no}");
        }
    }

    #[test]
    fn finds_modules_in_argv() {
        let argv = [
            "python3",
            "-u",
            "-X",
            "dev",
            "-m",
            "dynamo.vllm",
            "--model",
            "m",
        ];
        let m = find_module(&argv, &ANY).expect("found");
        assert_eq!((m.python_index, m.module_index), (0, 5));
        assert_eq!(m.module, "dynamo.vllm");

        let glued = ["env", "A=1", "/usr/bin/python3.11", "-mdynamo.sglang"];
        let m = find_module(&glued, &["dynamo.sglang"]).expect("found");
        assert_eq!((m.python_index, m.module_index), (2, 3));

        assert_eq!(find_module(&argv, &["dynamo.sglang"]), None);
        assert_eq!(find_module(&["python3", "serve.py", "-m", "x"], &ANY), None);
        assert_eq!(
            find_module(&["python3", "-c", "import x", "-m", "x"], &ANY),
            None
        );
        assert_eq!(find_module(&["python3", "-m"], &ANY), None);
        assert_eq!(find_module::<&str>(&[], &ANY), None);
    }

    #[test]
    fn finds_shell_scripts() {
        assert_eq!(shell_script_index(&["sh", "-c", "x"]), Some(2));
        assert_eq!(shell_script_index(&["/bin/bash", "-lc", "x"]), Some(2));
        assert_eq!(shell_script_index(&["bash", "-e", "-c", "x"]), Some(3));
        assert_eq!(shell_script_index(&["bash", "script.sh"]), None);
        assert_eq!(shell_script_index(&["bash", "-c"]), None);
        assert_eq!(shell_script_index(&["python3", "-c", "x"]), None);
    }

    #[test]
    fn finds_modules_in_scripts() {
        let script =
            "set -e; echo 'python3 -m nope'\nexec python3 -m dynamo.vllm --model m && true";
        let m = find_module_in_script(script, &ANY).expect("found");
        assert_eq!(m.module, "dynamo.vllm");
        assert_eq!(
            &script[..m.insert_at],
            "set -e; echo 'python3 -m nope'\nexec python3 -m dynamo.vllm"
        );

        let continued = "python3 \\\n  -m \\\n  dynamo.trtllm --x";
        let m = find_module_in_script(continued, &["dynamo.trtllm"]).expect("found");
        assert_eq!(&continued[m.insert_at..], " --x");

        let quoted = "\"python3\" -m 'dynamo.vllm'";
        let m = find_module_in_script(quoted, &ANY).expect("found");
        assert_eq!(m.insert_at, quoted.len());

        // `-m` in the next command does not belong to this python.
        assert_eq!(
            find_module_in_script("python3 x.py; ls -m dynamo.vllm", &ANY),
            None
        );
        assert_eq!(find_module_in_script("# python3 -m a\necho", &ANY), None);

        let two = "python -m dynamo.frontend & python -m dynamo.vllm";
        let m = find_module_in_script(two, &["dynamo.vllm"]).expect("found");
        assert_eq!(m.insert_at, two.len());
    }

    #[test]
    fn detects_through_shells() {
        assert_eq!(
            detect_module(&["sh", "-c", "exec python3 -m dynamo.vllm"], &ANY).as_deref(),
            Some("dynamo.vllm")
        );
        assert_eq!(
            detect_module(&["python3", "-m", "dynamo.sglang"], &["dynamo.sglang"]).as_deref(),
            Some("dynamo.sglang")
        );
        assert_eq!(detect_module(&["sh", "-c", "echo hi"], &ANY), None);
    }
}
