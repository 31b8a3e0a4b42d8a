//! Kubernetes name rules, and the check that every rendered object obeys them.
//!
//! The API server would reject a bad name anyway, but offline `render` output is piped into
//! `kubectl apply`, so the pipeline refuses it first, with the field at fault: a graph name,
//! namespace or service name that would produce an invalid object name, label or selector never
//! renders. [`check_objects`] is the last line: every object the pipeline produced is checked,
//! whatever produced it.

use serde_json::Value;

use crate::error::RenderError;
use crate::object::Object;

/// Longest DNS-1123 label (namespaces, Service names, label values).
pub const MAX_LABEL: usize = 63;
/// Longest DNS-1123 subdomain (most object names).
pub const MAX_SUBDOMAIN: usize = 253;

/// True for a DNS-1123 label: at most 63 characters of `[a-z0-9-]`, starting and ending with an
/// alphanumeric. Namespaces must be one.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LABEL
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// True for a DNS-1035 label: a DNS-1123 label that starts with a letter. Service names must be
/// one.
pub fn is_dns1035_label(s: &str) -> bool {
    is_dns_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// True for a DNS-1123 subdomain: at most 253 characters of dot-separated DNS-1123 labels.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SUBDOMAIN && s.split('.').all(is_dns_label_segment)
}

/// A subdomain segment: like a label, but its length is bounded by the whole name.
fn is_dns_label_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// True for a label value: empty, or at most 63 characters of `[A-Za-z0-9_.-]` starting and
/// ending with an alphanumeric.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= MAX_LABEL
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// True for a label or annotation key: an optional DNS subdomain prefix and `/`, then a name of
/// at most 63 characters of `[A-Za-z0-9_.-]` starting and ending with an alphanumeric.
pub fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, s),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

/// Describes what is wrong with `value` as a `what` (for messages), or `None` when it is valid.
pub fn problem(value: &str, rule: Rule) -> Option<String> {
    let ok = match rule {
        Rule::DnsLabel => is_dns_label(value),
        Rule::Dns1035Label => is_dns1035_label(value),
        Rule::DnsSubdomain => is_dns_subdomain(value),
        Rule::LabelValue => is_label_value(value),
    };
    (!ok).then(|| {
        format!(
            "`{}` is not a valid {} ({})",
            printable(value),
            rule.name(),
            rule.explain()
        )
    })
}

/// A naming rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// [`is_dns_label`].
    DnsLabel,
    /// [`is_dns1035_label`].
    Dns1035Label,
    /// [`is_dns_subdomain`].
    DnsSubdomain,
    /// [`is_label_value`].
    LabelValue,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Self::DnsLabel => "DNS-1123 label",
            Self::Dns1035Label => "DNS-1035 label",
            Self::DnsSubdomain => "DNS-1123 subdomain",
            Self::LabelValue => "label value",
        }
    }

    fn explain(self) -> &'static str {
        match self {
            Self::DnsLabel => {
                "at most 63 lowercase letters, digits and '-', starting and ending with a letter \
                 or digit"
            }
            Self::Dns1035Label => {
                "at most 63 lowercase letters, digits and '-', starting with a letter and ending \
                 with a letter or digit"
            }
            Self::DnsSubdomain => {
                "at most 253 lowercase letters, digits, '-' and '.', each dot-separated part \
                 starting and ending with a letter or digit"
            }
            Self::LabelValue => {
                "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter \
                 or digit"
            }
        }
    }
}

/// `value` with control characters escaped, so a message quoting it stays one line.
pub fn printable(value: &str) -> String {
    const MAX: usize = 80;
    let mut out: String = value
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// The rule an object's name must follow: Services are DNS-1035 labels; objects whose name is
/// also a selector label value (Deployments, LeaderWorkerSets) are label-safe DNS labels;
/// everything else, DynamoComponentDeployments included, is a DNS-1123 subdomain.
///
/// A DynamoComponentDeployment may be longer than its workload may: Dynamo 1.5 creates it under
/// the full `<graph>-<component>[-<hash>]` name, and the component's own render then reports
/// the Service or workload name Kubernetes would refuse, on the component's status.
pub fn rule_for_kind(kind: &str) -> Rule {
    match kind {
        "Service" => Rule::Dns1035Label,
        "Deployment" | "LeaderWorkerSet" => Rule::DnsLabel,
        _ => Rule::DnsSubdomain,
    }
}

/// Checks names, namespaces and every label and annotation key and label value of `objects`
/// (the objects' own metadata and their pod templates').
///
/// Services are checked first: when a long graph and component name make several names too
/// long, the Service's is the one users recognise (`<graph>-<component>`).
pub fn check_objects(objects: &[Object]) -> Result<(), RenderError> {
    let services_first = objects
        .iter()
        .filter(|o| o.kind() == "Service")
        .chain(objects.iter().filter(|o| o.kind() != "Service"));
    for object in services_first {
        let rule = rule_for_kind(object.kind());
        if let Some(problem) = problem(object.name(), rule) {
            let limit = match rule {
                Rule::DnsSubdomain => MAX_SUBDOMAIN,
                _ => MAX_LABEL,
            };
            let message = if object.name().len() > limit {
                format!(
                    "the rendered {} name `{}` is {} characters and Kubernetes allows {limit}: \
                     it is built from the graph's and the component's names (as Dynamo builds it, \
                     without shortening), so shorten either",
                    object.kind(),
                    printable(object.name()),
                    object.name().len()
                )
            } else {
                format!("the rendered {} name {problem}", object.kind())
            };
            return Err(RenderError::field("metadata.name", message));
        }
    }
    for object in objects {
        let id = format!("{} {}", object.kind(), printable(object.name()));
        if let Some(problem) = problem(object.namespace(), Rule::DnsLabel) {
            return Err(RenderError::field(
                "metadata.namespace",
                format!("the namespace of {id} {problem}"),
            ));
        }
        check_metadata_maps(object.manifest(), &id)?;
    }
    Ok(())
}

/// Checks every `metadata` map (labels, annotations) at any depth of `value`.
fn check_metadata_maps(value: &Value, id: &str) -> Result<(), RenderError> {
    match value {
        Value::Object(fields) => {
            if let Some(Value::Object(meta)) = fields.get("metadata") {
                for (map, values_are_labels) in [("labels", true), ("annotations", false)] {
                    let Some(Value::Object(entries)) = meta.get(map) else {
                        continue;
                    };
                    for (key, v) in entries {
                        if !is_qualified_name(key) {
                            return Err(RenderError::field(
                                format!("metadata.{map}"),
                                format!(
                                    "{id}: `{}` is not a valid {} key",
                                    printable(key),
                                    &map[..map.len() - 1]
                                ),
                            ));
                        }
                        if values_are_labels
                            && let Some(problem) =
                                v.as_str().and_then(|v| problem(v, Rule::LabelValue))
                        {
                            return Err(RenderError::field(
                                format!("metadata.labels[{}]", printable(key)),
                                format!("{id}: {problem}"),
                            ));
                        }
                    }
                }
            }
            fields
                .iter()
                .filter(|(k, _)| *k != "metadata")
                .try_for_each(|(_, v)| check_metadata_maps(v, id))
        }
        Value::Array(items) => items.iter().try_for_each(|v| check_metadata_maps(v, id)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_rules() {
        assert!(is_dns_label("vllm-agg"));
        assert!(is_dns_label("0abc"));
        assert!(!is_dns1035_label("0abc"));
        for bad in [
            "",
            "A",
            "a_b",
            "-a",
            "a-",
            "a.b",
            &"a".repeat(64),
            "a\n---",
            "é",
        ] {
            assert!(!is_dns_label(bad), "{bad:?}");
        }
        assert!(is_dns_subdomain("a.b-c.d"));
        assert!(!is_dns_subdomain("../../kube-system/x"));
        assert!(!is_dns_subdomain(&"a".repeat(254)));
        assert!(is_label_value("VllmDecodeWorker"));
        assert!(is_label_value(""));
        assert!(!is_label_value("a b"));
        assert!(is_qualified_name("nvidia.com/dynamo-component"));
        assert!(!is_qualified_name("Nvidia.com/x"));
        assert!(!is_qualified_name("a/b/c"));
    }

    #[test]
    fn messages_escape_control_characters() {
        let message = problem("ns\n---\nkind: X", Rule::DnsLabel).expect("invalid");
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("\\n---"), "{message}");
    }
}
