//! Reading untrusted YAML: size and nesting caps before the parser runs, and values JSON cannot
//! hold (NaN, infinities) refused instead of silently becoming `null`.
//!
//! A YAML parser spends time and memory in proportion to nesting, and a flow collection costs one
//! byte per level (`[[[[...`), so a small document can be very deep: 100 000 brackets took the
//! parser 49 s to reject. The text is scanned once, cheaply, and refused when it is larger than
//! [`MAX_INPUT_BYTES`] or nests flow collections deeper than [`MAX_FLOW_DEPTH`]; block nesting
//! needs indentation, which the size cap bounds.

use serde::Deserialize as _;
use serde_json::{Map, Number, Value};

/// Largest input accepted: far above any real graph (the API server stores at most 1.5 MiB).
pub const MAX_INPUT_BYTES: usize = 8 << 20;
/// Deepest nesting of flow collections (`[` / `{`) accepted.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Every document of a YAML stream as JSON (empty documents skipped), or a one-line error naming
/// the document and, where there is one, the field.
pub fn documents(text: &str) -> Result<Vec<(usize, Value)>, String> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "the input is {} bytes; at most {MAX_INPUT_BYTES} are accepted",
            text.len()
        ));
    }
    if let Some((line, depth)) = too_deep(text) {
        return Err(format!(
            "line {line}: collections nest deeper than {MAX_FLOW_DEPTH} levels ({depth})"
        ));
    }
    let mut out = Vec::new();
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let at = format!("document {}", index + 1);
        let value = serde_yaml_ng::Value::deserialize(document)
            .map_err(|e| format!("{at}: invalid YAML: {e}"))?;
        let json = to_json(value, "").map_err(|e| format!("{at}: {e}"))?;
        if !json.is_null() {
            out.push((index + 1, json));
        }
    }
    Ok(out)
}

/// The line and depth where flow collections first nest deeper than [`MAX_FLOW_DEPTH`].
///
/// Quoted scalars and comments are skipped; brackets inside block scalars are counted, which can
/// only over-count, and only a document past the cap is refused.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth: usize = 0;
    let mut line = 1;
    let mut chars = text.chars().peekable();
    let mut previous = '\n';
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' if previous.is_whitespace() => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        line += 1;
                        break;
                    }
                }
                previous = '\n';
                continue;
            }
            '"' if previous.is_whitespace() || "[{,:".contains(previous) => {
                while let Some(next) = chars.next() {
                    match next {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '\'' if previous.is_whitespace() || "[{,:".contains(previous) => {
                while let Some(next) = chars.next() {
                    match next {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        '\'' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some((line, depth));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    None
}

/// Converts a YAML value to JSON, refusing what JSON cannot hold exactly.
fn to_json(value: serde_yaml_ng::Value, path: &str) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    let here = || {
        if path.is_empty() {
            "the document".to_owned()
        } else {
            path.to_owned()
        }
    };
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                Value::Number(Number::from_f64(f).ok_or_else(|| {
                    format!("{}: `{n}` is not a number Kubernetes accepts", here())
                })?)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, v) in entries {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(format!(
                            "{}: a map key must be a string, got {other:?}",
                            here()
                        ));
                    }
                };
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let converted = to_json(v, &child)?;
                map.insert(key, converted);
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => to_json(tagged.value, path)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        let text = format!("a: {}", "[".repeat(100_000));
        let start = std::time::Instant::now();
        let error = documents(&text).expect_err("too deep");
        assert!(error.contains("nest deeper than 64"), "{error}");
        // Only a sanity bound: the scan is linear and the parser never runs.
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn brackets_in_quotes_and_comments_do_not_count() {
        let text = format!(
            "a: \"{}\"\nb: '{}'\n# {}\nc: [[1]]\n",
            "[".repeat(100),
            "{".repeat(100),
            "[".repeat(100)
        );
        let docs = documents(&text).expect("parses");
        assert_eq!(docs[0].1["c"][0][0], 1);
    }

    #[test]
    fn non_finite_numbers_are_refused_with_their_path() {
        for value in [".nan", ".inf", "-.inf"] {
            let text = format!("spec:\n  services:\n    w:\n      replicas: {value}\n");
            let error = documents(&text).expect_err(value);
            assert!(
                error.contains("spec.services.w.replicas") && error.contains(value),
                "{error}"
            );
        }
    }

    #[test]
    fn oversized_input_is_refused() {
        let text = "a".repeat(MAX_INPUT_BYTES + 1);
        assert!(documents(&text).expect_err("too big").contains("bytes"));
    }

    #[test]
    fn ordinary_documents_convert() {
        let docs = documents("a: 1\n---\n---\nb: [x, 2.5, true, null]\n").expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].0, 3);
        assert_eq!(docs[1].1["b"][1], 2.5);
    }
}
