//! Plugin-supplied text made safe to print, and the label and annotation keys a plugin owns.

/// Domain under which each plugin owns label and annotation keys: plugin `vllm` owns
/// `vllm.plugins.dynamo.nvidia.com/<anything>`.
pub const PLUGIN_KEY_DOMAIN: &str = "plugins.dynamo.nvidia.com";

/// The label and annotation key prefix plugin `plugin` owns, e.g.
/// `mpi.plugins.dynamo.nvidia.com/`.
pub fn plugin_key_prefix(plugin: &str) -> String {
    format!("{plugin}.{PLUGIN_KEY_DOMAIN}/")
}

/// A key under plugin `plugin`'s prefix: `plugin_key("mpi", "export-env")` is
/// `mpi.plugins.dynamo.nvidia.com/export-env`.
pub fn plugin_key(plugin: &str, name: &str) -> String {
    format!("{}{name}", plugin_key_prefix(plugin))
}

/// `text` on one line and at most `max_bytes` long: control characters (newlines, escape
/// sequences' `ESC`, tabs) become spaces, runs of spaces shrink to one, and a cut ends with `…`.
///
/// Plugin warnings, diagnostics and error messages pass through this before they reach a
/// terminal, a log line or a Kubernetes condition, so a plugin cannot forge extra log lines or
/// drive the reader's terminal.
pub fn one_line(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes));
    let mut last_space = true;
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if out.len() + c.len_utf8() > max_bytes {
            // Leave room for the ellipsis.
            while out.len() + '…'.len_utf8() > max_bytes {
                if out.pop().is_none() {
                    break;
                }
            }
            out.push('…');
            return out;
        }
        out.push(c);
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_newlines_become_single_spaces() {
        assert_eq!(
            one_line("a\nb\r\n\tc\u{1b}[31mred\u{7}  d ", 100),
            "a b c [31mred d"
        );
        assert_eq!(one_line("\n\n", 10), "");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let cut = one_line(&"é".repeat(100), 11);
        assert!(cut.len() <= 11, "{cut}");
        assert!(cut.ends_with('…'));
        assert_eq!(one_line("short", 5), "short");
    }

    #[test]
    fn plugin_keys() {
        assert_eq!(plugin_key("mpi", "x"), "mpi.plugins.dynamo.nvidia.com/x");
    }
}
