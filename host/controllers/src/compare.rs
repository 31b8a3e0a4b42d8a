//! Does a live object already hold everything we would apply? A semantic subset check, so an
//! unchanged graph costs no write.
//!
//! The API server adds fields (defaults, `status`, other managers' labels) and rewrites some of
//! ours without changing their meaning: empty strings, lists and maps are dropped (Go's
//! `omitempty`), quantities are canonicalised (`1000m` becomes `1`), `nil` fields vanish. So
//! `desired ⊆ live` is checked with those equivalences:
//!
//! - an object matches when every field of `desired` matches in `live` (extra live fields are
//!   fine); a missing field matches an empty value;
//! - a list of objects that all have a `name` matches item by item by name (other managers may
//!   add items: an injected sidecar); any other list matches position by position, same length;
//! - two strings match when equal, or when both are Kubernetes quantities of the same value.
//!
//! What the subset check cannot see (a field we stopped applying) is caught by the hash of the
//! whole applied object, kept in an annotation (`crate::apply`).

use serde_json::Value;

/// True when `live` holds every field of `desired` (see the module docs).
pub fn contains(live: &Value, desired: &Value) -> bool {
    match (desired, live) {
        (d, l) if is_empty(d) => is_empty(l),
        (Value::Object(d), Value::Object(l)) => d.iter().all(|(key, dv)| match l.get(key) {
            Some(lv) => contains(lv, dv),
            None => is_empty(dv),
        }),
        (Value::Array(d), Value::Array(l)) => {
            if let (Some(d_names), Some(l_names)) = (names(d), names(l)) {
                d_names.iter().zip(d).all(|(name, dv)| {
                    l_names
                        .iter()
                        .position(|n| n == name)
                        .is_some_and(|i| contains(&l[i], dv))
                })
            } else {
                d.len() == l.len() && d.iter().zip(l).all(|(dv, lv)| contains(lv, dv))
            }
        }
        (Value::String(d), Value::String(l)) => d == l || same_quantity(d, l),
        (Value::Number(d), Value::String(l)) | (Value::String(l), Value::Number(d)) => {
            same_quantity(&d.to_string(), l)
        }
        (Value::Number(d), Value::Number(l)) => d.as_f64() == l.as_f64(),
        (d, l) => d == l,
    }
}

/// Null, `""`, `[]` and `{}`: what Go's `omitempty` drops.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The `name` of every item, when every item is an object with one.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    items
        .iter()
        .map(|v| v.get("name").and_then(Value::as_str))
        .collect()
}

/// True when `a` and `b` are both quantities with the same value (`1000m` and `1`, `1Gi` and
/// `1024Mi`).
pub fn same_quantity(a: &str, b: &str) -> bool {
    match (Quantity::parse(a), Quantity::parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// An exact quantity value: `mantissa × 10^exponent`, normalised so equal values compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quantity {
    negative: bool,
    mantissa: u128,
    exponent: i32,
}

impl Quantity {
    /// Parses `<sign><digits>[.<digits>]<suffix>`, where the suffix is a binary SI (`Ki`..`Ei`),
    /// a decimal SI (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`) or an exponent (`e3`, `E-2`).
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{whole}{fraction}");
        let mut mantissa: u128 = digits.parse().ok()?;
        let mut exponent = -i32::try_from(fraction.len()).ok()?;
        let (decimal, binary): (i32, u32) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            other => {
                let exp = other.strip_prefix(['e', 'E'])?;
                (exp.parse().ok()?, 0)
            }
        };
        exponent = exponent.checked_add(decimal)?;
        mantissa = mantissa.checked_mul(1u128.checked_shl(binary)?)?;
        if mantissa == 0 {
            return Some(Self {
                negative: false,
                mantissa: 0,
                exponent: 0,
            });
        }
        while mantissa.is_multiple_of(10) {
            mantissa /= 10;
            exponent += 1;
        }
        Some(Self {
            negative,
            mantissa,
            exponent,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn quantities_compare_by_value() {
        for (a, b) in [
            ("1000m", "1"),
            ("1Gi", "1024Mi"),
            ("0.5", "500m"),
            ("8Gi", "8Gi"),
            ("1e3", "1k"),
            ("0", "0m"),
        ] {
            assert!(same_quantity(a, b), "{a} = {b}");
        }
        for (a, b) in [
            ("1", "2"),
            ("1Gi", "1G"),
            ("abc", "abc"),
            ("1.2.3", "1"),
            ("-1", "1"),
        ] {
            assert!(!same_quantity(a, b), "{a} != {b}");
        }
    }

    #[test]
    fn extra_live_fields_and_omitted_empties_match() {
        let desired = json!({"metadata": {"labels": {"a": "b"}, "annotations": {}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "main", "args": [], "env": [{"name": "E", "value": ""}],
                 "resources": {"limits": {"cpu": "1000m"}}}]}}}});
        let live = json!({"metadata": {"labels": {"a": "b", "other": "x"}, "uid": "u"},
            "spec": {"replicas": 1, "revisionHistoryLimit": 10, "template": {"spec": {"containers": [
                {"name": "sidecar-injected"},
                {"name": "main", "env": [{"name": "E"}], "imagePullPolicy": "Always",
                 "resources": {"limits": {"cpu": "1"}}}]}}},
            "status": {"readyReplicas": 1}});
        assert!(contains(&live, &desired));
    }

    #[test]
    fn a_changed_or_missing_field_does_not_match() {
        let desired = json!({"spec": {"replicas": 2, "args": ["a", "b"], "containers": [{"name": "main", "image": "x"}]}});
        for live in [
            json!({"spec": {"replicas": 1, "args": ["a", "b"], "containers": [{"name": "main", "image": "x"}]}}),
            json!({"spec": {"replicas": 2, "args": ["b", "a"], "containers": [{"name": "main", "image": "x"}]}}),
            json!({"spec": {"replicas": 2, "args": ["a", "b"], "containers": [{"name": "main", "image": "y"}]}}),
            json!({"spec": {"replicas": 2, "args": ["a", "b"], "containers": [{"name": "other", "image": "x"}]}}),
            json!({"spec": {"replicas": 2, "args": ["a"], "containers": [{"name": "main", "image": "x"}]}}),
        ] {
            assert!(!contains(&live, &desired), "{live}");
        }
    }
}
