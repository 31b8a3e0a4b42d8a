//! Scalars as Go's `encoding/json` and the Kubernetes types print them.

use std::fmt::Write as _;

use serde_json::Value;

/// A JSON string as Go escapes it: `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes, control
/// characters as `\n`, `\r`, `\t` or `\u00xx`.
pub(super) fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Go prints it: shortest form, exponent notation below 1e-6 and from 1e21.
pub(super) fn go_float(f: f64, single: bool, out: &mut String) {
    let abs = f.abs();
    let text = if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let t = if single {
            format!("{:e}", f as f32)
        } else {
            format!("{f:e}")
        };
        // Rust prints 1e21 / 1.5e-7; Go prints 1e+21 / 1.5e-07 and then trims the zero.
        match t.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => t,
        }
    } else if single {
        format!("{}", f as f32)
    } else {
        format!("{f}")
    };
    out.push_str(&text);
}

/// The canonical JSON number of a float decoded into a Go `float32`/`float64`.
pub(super) fn float_value(f: f64, single: bool) -> Value {
    let f = if single {
        // Keep the shortest decimal that identifies the float32, as Go prints it.
        format!("{}", f as f32).parse::<f64>().unwrap_or(f)
    } else {
        f
    };
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Value::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Raw JSON embedded in Go output (compacted, with Go's string escaping, keys sorted).
pub(super) fn go_raw(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => go_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_raw(item, out);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_raw(item, out);
            }
            out.push('}');
        }
    }
}

/// `metav1.Time` / `metav1.MicroTime`: parse RFC 3339, print in UTC at second (or microsecond)
/// precision.
pub(super) fn time(text: &str, micro: bool) -> Result<String, String> {
    let ts: jiff::Timestamp = text
        .parse()
        .map_err(|e| format!("timestamp {text:?} is not RFC 3339: {e}"))?;
    let pattern = if micro {
        "%Y-%m-%dT%H:%M:%S%.6fZ"
    } else {
        "%Y-%m-%dT%H:%M:%SZ"
    };
    Ok(ts.strftime(pattern).to_string())
}

const UNITS: [(&str, i128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// `metav1.Duration`: parse with Go's `time.ParseDuration`, print with `Duration.String()`.
pub(super) fn duration(text: &str) -> Result<String, String> {
    let bad = || format!("time: invalid duration {text:?}");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok("0s".into());
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..num_end];
        if number.is_empty() || number == "." {
            return Err(bad());
        }
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, s)| *s)
            .ok_or_else(bad)?;
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let int: i128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        let mut value = int * scale;
        let mut place = scale;
        for d in frac.bytes() {
            place /= 10;
            value += i128::from(d - b'0') * place;
        }
        total += value;
    }
    Ok(format_duration(if negative { -total } else { total }))
}

fn format_duration(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("\u{b5}s", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", frac_text(u, div));
    }
    let hours = u / 3_600_000_000_000;
    let minutes = (u / 60_000_000_000) % 60;
    let seconds = u % 60_000_000_000;
    let mut out = sign.to_string();
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let _ = write!(out, "{}s", frac_text(seconds, 1_000_000_000));
    out
}

fn frac_text(value: u128, div: u128) -> String {
    let int = value / div;
    let frac = value % div;
    if frac == 0 {
        return int.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}
