//! Field-by-field compatibility check between two CRDs.
//!
//! The question answered is: *would every object the reference CRD accepts be stored unchanged
//! by the candidate CRD?* [`compare_schemas`] walks the reference ("theirs") schema and, at every
//! node, looks at the candidate ("ours") node at the same path. A [`Finding`] is recorded when
//! ours would
//!
//! - **prune** data theirs keeps: a property ours does not declare (and ours does not preserve
//!   unknown fields there), a map ours declares as a fixed object, unknown fields theirs
//!   preserves;
//! - **reject** data theirs accepts: a different `type`, a missing int-or-string, a narrower
//!   `enum`, an extra `required` entry without a default, a tighter bound (`minimum`,
//!   `maxLength`, `maxItems`, `maxProperties`, ...), an added `pattern` or `format`, an extra CEL
//!   rule, a lost `nullable`.
//!
//! Those findings are [`Severity::Breaking`]. Differences that do not change what is accepted —
//! defaults, a CEL rule ours lacks, list/map merge metadata — are [`Severity::Informational`].
//! Running the walk the other way round (`compare_schemas(ours, theirs)`) lists what ours accepts
//! and theirs does not.
//!
//! [`compare_crds`] adds the CRD-level facts: group, names, scope, the versions (which are
//! served, which is stored, which are deprecated and with what warning), subresources, printer
//! columns and the conversion strategy (with the webhook's path and review versions; the Service
//! it points at is an installation detail and not compared). Every version either side serves is
//! compared with the same version of the other. Everything works on `serde_json::Value`, so
//! either side can come from YAML files or from [`crate::crds`].
//!
//! Enumerations are read the way the apiserver applies them: a value must be in the node's own
//! `enum` and in the `enum` of every `allOf` branch (controller-gen writes some enums that way).

use std::fmt;

use serde_json::Value;

/// How much a difference matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Objects valid for theirs would be pruned or rejected by ours.
    Breaking,
    /// A difference that changes no accept/reject decision (defaults, metadata, missing rules).
    Informational,
}

/// One difference found at one path.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Location, such as `.spec.services{}.replicas` (`{}`: any map key, `[]`: any list item)
    /// or `names.shortNames` for CRD-level facts.
    pub path: String,
    /// What differs.
    pub problem: Problem,
}

impl Finding {
    /// Severity of the finding's problem.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.problem.severity()
    }

    /// Whether ours would prune or reject something theirs accepts.
    #[must_use]
    pub fn is_breaking(&self) -> bool {
        self.severity() == Severity::Breaking
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// The kinds of difference [`compare_schemas`] and [`compare_crds`] report.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// Theirs declares the property; ours neither declares nor preserves it.
    Pruned,
    /// Theirs preserves unknown fields here; ours prunes them.
    UnknownFieldsPruned,
    /// The `type`s differ.
    TypeMismatch {
        /// Their type (or `int-or-string`).
        theirs: String,
        /// Our type (or `int-or-string`, or `<none>`).
        ours: String,
    },
    /// Ours allows fewer `enum` values.
    EnumNarrower {
        /// Values theirs accepts and ours does not.
        missing: Vec<Value>,
    },
    /// Ours requires a property theirs does not, and does not default it.
    ExtraRequired(String),
    /// Ours has a tighter numeric, length, item-count or property-count bound.
    TighterBound {
        /// The JSON-schema keyword (`minimum`, `maxItems`, ...).
        keyword: &'static str,
        /// Their value, if any.
        theirs: Option<Value>,
        /// Our value.
        ours: Value,
    },
    /// Ours has a `pattern` theirs does not have.
    PatternAdded {
        /// Our pattern.
        ours: String,
    },
    /// Ours has a `format` theirs does not have.
    FormatAdded {
        /// Our format.
        ours: String,
    },
    /// Ours has a CEL rule theirs does not have.
    ExtraValidationRule(String),
    /// Theirs allows `null` here and ours does not.
    NullableMissing,
    /// Theirs has a CEL rule ours lacks (ours accepts more).
    ValidationRuleMissing(String),
    /// The same CEL rule reports a different message.
    ValidationMessageDiffers {
        /// The rule.
        rule: String,
        /// Their message.
        theirs: Option<String>,
        /// Our message.
        ours: Option<String>,
    },
    /// The same CEL rule is evaluated differently (`optionalOldSelf`, `reason`, `fieldPath` or
    /// `messageExpression` differ), which can change what it accepts or whether the CRD is valid.
    ValidationRuleDiffers {
        /// The rule.
        rule: String,
        /// The key whose value differs.
        key: &'static str,
        /// Their value.
        theirs: Option<Value>,
        /// Our value.
        ours: Option<Value>,
    },
    /// The `default`s differ.
    DefaultDiffers {
        /// Their default.
        theirs: Option<Value>,
        /// Our default.
        ours: Option<Value>,
    },
    /// A `x-kubernetes-*` merge/metadata extension differs (list type, map type, ...).
    ExtensionDiffers {
        /// The extension keyword.
        keyword: &'static str,
        /// Their value.
        theirs: Option<Value>,
        /// Our value.
        ours: Option<Value>,
    },
    /// A CRD-level fact (names, scope, versions, subresources, printer columns) differs.
    CrdFieldDiffers {
        /// Their value.
        theirs: Option<Value>,
        /// Our value.
        ours: Option<Value>,
    },
}

impl Problem {
    /// Severity of this problem.
    #[must_use]
    pub fn severity(&self) -> Severity {
        match self {
            Self::ValidationRuleMissing(_)
            | Self::ValidationMessageDiffers { .. }
            | Self::DefaultDiffers { .. }
            | Self::ExtensionDiffers { .. } => Severity::Informational,
            _ => Severity::Breaking,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: &Option<Value>| {
            v.as_ref()
                .map_or_else(|| "<none>".to_owned(), Value::to_string)
        };
        match self {
            Self::Pruned => f.write_str("pruned (property not declared)"),
            Self::UnknownFieldsPruned => {
                f.write_str("unknown fields pruned (theirs preserves them)")
            }
            Self::TypeMismatch { theirs, ours } => write!(f, "type {ours}, theirs {theirs}"),
            Self::EnumNarrower { missing } => write!(f, "enum lacks {missing:?}"),
            Self::ExtraRequired(p) => write!(f, "requires `{p}` (theirs does not)"),
            Self::TighterBound {
                keyword,
                theirs,
                ours,
            } => write!(f, "{keyword} {ours}, theirs {}", opt(theirs)),
            Self::PatternAdded { ours } => write!(f, "pattern {ours:?} added"),
            Self::FormatAdded { ours } => write!(f, "format {ours:?} added"),
            Self::ExtraValidationRule(r) => write!(f, "extra CEL rule {r:?}"),
            Self::NullableMissing => f.write_str("not nullable (theirs is)"),
            Self::ValidationRuleMissing(r) => write!(f, "CEL rule {r:?} missing"),
            Self::ValidationRuleDiffers {
                rule,
                key,
                theirs,
                ours,
            } => write!(
                f,
                "CEL rule {rule:?}: {key} {}, theirs {}",
                opt(ours),
                opt(theirs)
            ),
            Self::ValidationMessageDiffers { rule, theirs, ours } => {
                write!(f, "CEL rule {rule:?}: message {ours:?}, theirs {theirs:?}")
            }
            Self::DefaultDiffers { theirs, ours } => {
                write!(f, "default {}, theirs {}", opt(ours), opt(theirs))
            }
            Self::ExtensionDiffers {
                keyword,
                theirs,
                ours,
            } => write!(f, "{keyword} {}, theirs {}", opt(ours), opt(theirs)),
            Self::CrdFieldDiffers { theirs, ours } => {
                write!(f, "{}, theirs {}", opt(ours), opt(theirs))
            }
        }
    }
}

/// Compares two OpenAPI v3 CRD schemas (see the module docs). `path` prefixes every finding.
#[must_use]
pub fn compare_schemas(theirs: &Value, ours: &Value, path: &str) -> Vec<Finding> {
    let mut walker = Walker::default();
    walker.walk(theirs, ours, path);
    walker.findings
}

/// Compares two whole CRDs (as JSON values): CRD-level facts, then each version's schema.
#[must_use]
pub fn compare_crds(theirs: &Value, ours: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut schema_findings = Vec::new();
    let mut same = |path: &str, t: Option<&Value>, o: Option<&Value>| {
        if t != o {
            findings.push(Finding {
                path: path.to_owned(),
                problem: Problem::CrdFieldDiffers {
                    theirs: t.cloned(),
                    ours: o.cloned(),
                },
            });
        }
    };
    same(
        "spec.group",
        theirs.pointer("/spec/group"),
        ours.pointer("/spec/group"),
    );
    same(
        "spec.scope",
        theirs.pointer("/spec/scope"),
        ours.pointer("/spec/scope"),
    );
    for key in [
        "kind",
        "listKind",
        "plural",
        "singular",
        "shortNames",
        "categories",
    ] {
        let pointer = format!("/spec/names/{key}");
        same(
            &format!("spec.names.{key}"),
            theirs.pointer(&pointer),
            ours.pointer(&pointer),
        );
    }

    for pointer in [
        "/spec/conversion/strategy",
        "/spec/conversion/webhook/conversionReviewVersions",
        "/spec/conversion/webhook/clientConfig/service/path",
    ] {
        same(
            &pointer[1..].replace('/', "."),
            theirs.pointer(pointer),
            ours.pointer(pointer),
        );
    }

    let versions = |crd: &Value| -> Vec<Value> {
        crd.pointer("/spec/versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (their_versions, our_versions) = (versions(theirs), versions(ours));
    let names = |vs: &[Value]| -> Value {
        Value::Array(vs.iter().filter_map(|v| v.get("name").cloned()).collect())
    };
    same(
        "spec.versions[].name",
        Some(&names(&their_versions)),
        Some(&names(&our_versions)),
    );
    for their_version in &their_versions {
        let name = their_version
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(our_version) = our_versions
            .iter()
            .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
        else {
            continue;
        };
        let at = |key: &str| format!("spec.versions[{name}].{key}");
        for key in ["served", "storage", "deprecated", "deprecationWarning"] {
            same(&at(key), their_version.get(key), our_version.get(key));
        }
        for key in [
            "status",
            "scale/specReplicasPath",
            "scale/statusReplicasPath",
            "scale/labelSelectorPath",
        ] {
            let pointer = format!("/subresources/{key}");
            same(
                &at(&format!("subresources.{}", key.replace('/', "."))),
                their_version.pointer(&pointer),
                our_version.pointer(&pointer),
            );
        }
        let columns = |v: &Value| -> Value {
            let list = v
                .get("additionalPrinterColumns")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            Value::Array(
                list.iter()
                    .map(|c| {
                        serde_json::json!({
                            "name": c.get("name"),
                            "type": c.get("type"),
                            "jsonPath": c.get("jsonPath"),
                            "priority": c.get("priority"),
                            "format": c.get("format"),
                        })
                    })
                    .collect(),
            )
        };
        same(
            &at("additionalPrinterColumns"),
            Some(&columns(their_version)),
            Some(&columns(our_version)),
        );
        let schema = |v: &Value| {
            v.pointer("/schema/openAPIV3Schema")
                .cloned()
                .unwrap_or(Value::Null)
        };
        schema_findings.extend(compare_schemas(
            &schema(their_version),
            &schema(our_version),
            &format!("spec.versions[{name}].schema"),
        ));
    }
    findings.extend(schema_findings);
    findings
}

/// State of one schema walk.
#[derive(Default)]
struct Walker {
    findings: Vec<Finding>,
}

/// Lower bounds: ours is tighter when larger.
const LOWER_BOUNDS: &[&str] = &["minimum", "minLength", "minItems", "minProperties"];
/// Upper bounds: ours is tighter when smaller.
const UPPER_BOUNDS: &[&str] = &["maximum", "maxLength", "maxItems", "maxProperties"];
/// Extensions that only steer merging or embedding, not validation, with the value the
/// apiserver assumes when one is absent (lists are atomic, objects granular).
const METADATA_EXTENSIONS: &[(&str, Option<&str>)] = &[
    ("x-kubernetes-list-type", Some("atomic")),
    ("x-kubernetes-list-map-keys", None),
    ("x-kubernetes-map-type", Some("granular")),
    ("x-kubernetes-embedded-resource", None),
];

impl Walker {
    fn report(&mut self, path: &str, problem: Problem) {
        self.findings.push(Finding {
            path: if path.is_empty() {
                ".".into()
            } else {
                path.into()
            },
            problem,
        });
    }

    fn walk(&mut self, theirs: &Value, ours: &Value, path: &str) {
        let flag = |v: &Value, key: &str| v.get(key).is_some_and(|f| f == true);
        let their_ios = flag(theirs, "x-kubernetes-int-or-string");
        let our_ios = flag(ours, "x-kubernetes-int-or-string");
        let our_preserve = flag(ours, "x-kubernetes-preserve-unknown-fields");
        let their_type = theirs.get("type").and_then(Value::as_str);
        let our_type = ours.get("type").and_then(Value::as_str);

        // Type.
        let describe = |ios: bool, ty: Option<&str>| {
            if ios {
                "int-or-string".to_owned()
            } else {
                ty.unwrap_or("<none>").to_owned()
            }
        };
        let type_ok = match (their_ios, their_type) {
            (true, _) => our_ios || (our_type.is_none() && our_preserve),
            (false, None) => {
                our_type.is_none()
                    && (our_preserve || !flag(theirs, "x-kubernetes-preserve-unknown-fields"))
            }
            (false, Some(t)) => match our_type {
                Some(o) => o == t || (o == "number" && t == "integer"),
                None if our_ios => t == "integer" || t == "string",
                None => our_preserve,
            },
        };
        if !type_ok {
            self.report(
                path,
                Problem::TypeMismatch {
                    theirs: describe(their_ios, their_type),
                    ours: describe(our_ios, our_type),
                },
            );
            return;
        }
        if flag(theirs, "nullable") && !flag(ours, "nullable") {
            self.report(path, Problem::NullableMissing);
        }
        if flag(theirs, "x-kubernetes-preserve-unknown-fields") && !our_preserve {
            self.report(path, Problem::UnknownFieldsPruned);
        }

        self.compare_constraints(theirs, ours, path);
        self.compare_rules(theirs, ours, path);
        for (keyword, implied) in METADATA_EXTENSIONS {
            let effective = |v: &Value| -> Option<Value> {
                v.get(*keyword).cloned().or_else(|| {
                    let applies = match *keyword {
                        "x-kubernetes-list-type" => v.get("type").is_some_and(|t| t == "array"),
                        "x-kubernetes-map-type" => v.get("type").is_some_and(|t| t == "object"),
                        _ => false,
                    };
                    implied.filter(|_| applies).map(Value::from)
                })
            };
            if effective(theirs) != effective(ours) {
                self.report(
                    path,
                    Problem::ExtensionDiffers {
                        keyword,
                        theirs: theirs.get(*keyword).cloned(),
                        ours: ours.get(*keyword).cloned(),
                    },
                );
            }
        }

        // Children.
        let our_props = ours.get("properties").and_then(Value::as_object);
        let our_additional = ours.get("additionalProperties").filter(|a| a.is_object());
        if let Some(their_props) = theirs.get("properties").and_then(Value::as_object) {
            for (name, their_child) in their_props {
                let child_path = format!("{path}.{name}");
                match (our_props.and_then(|p| p.get(name)), our_additional) {
                    (Some(our_child), _) => self.walk(their_child, our_child, &child_path),
                    (None, Some(our_values)) => self.walk(their_child, our_values, &child_path),
                    (None, None) if our_preserve => {}
                    (None, None) => self.report(&child_path, Problem::Pruned),
                }
            }
        }
        if let Some(their_values) = theirs.get("additionalProperties").filter(|a| a.is_object()) {
            let child_path = format!("{path}{{}}");
            match our_additional {
                Some(our_values) => self.walk(their_values, our_values, &child_path),
                None if our_preserve => {}
                None => self.report(&child_path, Problem::Pruned),
            }
        }
        if let Some(their_items) = theirs.get("items") {
            if let Some(our_items) = ours.get("items") {
                self.walk(their_items, our_items, &format!("{path}[]"));
            } else if !our_preserve {
                self.report(&format!("{path}[]"), Problem::Pruned);
            }
        }
    }

    /// Enum, required, bounds, pattern, format and default.
    fn compare_constraints(&mut self, theirs: &Value, ours: &Value, path: &str) {
        if let Some(our_enum) = effective_enum(ours) {
            let missing: Vec<Value> = match effective_enum(theirs) {
                Some(their_enum) => their_enum
                    .into_iter()
                    .filter(|v| !our_enum.contains(v))
                    .collect(),
                None => vec![Value::String("<any value>".into())],
            };
            if !missing.is_empty() {
                self.report(path, Problem::EnumNarrower { missing });
            }
        }

        let strings = |v: &Value, key: &str| -> Vec<String> {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let their_required = strings(theirs, "required");
        for required in strings(ours, "required") {
            let defaulted = ours
                .pointer(&format!("/properties/{required}/default"))
                .is_some();
            if !their_required.contains(&required) && !defaulted {
                self.report(path, Problem::ExtraRequired(required));
            }
        }

        let number = |v: &Value, key: &str| v.get(key).and_then(Value::as_f64);
        for (keywords, tighter) in [
            (
                LOWER_BOUNDS,
                (|o: f64, t: f64| o > t) as fn(f64, f64) -> bool,
            ),
            (UPPER_BOUNDS, |o: f64, t: f64| o < t),
        ] {
            for keyword in keywords {
                let Some(our_bound) = number(ours, keyword) else {
                    continue;
                };
                let is_tighter = number(theirs, keyword).is_none_or(|t| tighter(our_bound, t));
                if is_tighter {
                    self.report(
                        path,
                        Problem::TighterBound {
                            keyword,
                            theirs: theirs.get(*keyword).cloned(),
                            ours: ours.get(*keyword).cloned().unwrap_or(Value::Null),
                        },
                    );
                }
            }
        }
        for keyword in [
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
            "uniqueItems",
        ] {
            if let Some(ours_value) = ours.get(keyword)
                && ours_value != &Value::Bool(false)
                && theirs.get(keyword) != Some(ours_value)
            {
                self.report(
                    path,
                    Problem::TighterBound {
                        keyword,
                        theirs: theirs.get(keyword).cloned(),
                        ours: ours_value.clone(),
                    },
                );
            }
        }
        if let Some(pattern) = ours.get("pattern").and_then(Value::as_str)
            && theirs.get("pattern").and_then(Value::as_str) != Some(pattern)
        {
            self.report(
                path,
                Problem::PatternAdded {
                    ours: pattern.to_owned(),
                },
            );
        }
        if let Some(format) = ours.get("format").and_then(Value::as_str)
            && theirs.get("format").and_then(Value::as_str) != Some(format)
        {
            self.report(
                path,
                Problem::FormatAdded {
                    ours: format.to_owned(),
                },
            );
        }
        if theirs.get("default") != ours.get("default") {
            self.report(
                path,
                Problem::DefaultDiffers {
                    theirs: theirs.get("default").cloned(),
                    ours: ours.get("default").cloned(),
                },
            );
        }
    }

    /// CEL rules (`x-kubernetes-validations`), matched by rule text.
    fn compare_rules(&mut self, theirs: &Value, ours: &Value, path: &str) {
        let rules = |v: &Value| -> Vec<Value> {
            v.get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let text = |r: &Value| {
            r.get("rule")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (their_rules, our_rules) = (rules(theirs), rules(ours));
        for our_rule in &our_rules {
            let rule = text(our_rule);
            let Some(their_rule) = their_rules.iter().find(|r| text(r) == rule) else {
                self.report(path, Problem::ExtraValidationRule(rule));
                continue;
            };
            let message = |r: &Value| r.get("message").and_then(Value::as_str).map(str::to_owned);
            if message(their_rule) != message(our_rule) {
                self.report(
                    path,
                    Problem::ValidationMessageDiffers {
                        rule: rule.clone(),
                        theirs: message(their_rule),
                        ours: message(our_rule),
                    },
                );
            }
            for key in RULE_OPTIONS {
                // `optionalOldSelf: false` is what an absent key means.
                let option = |r: &Value| r.get(key).filter(|v| **v != Value::Bool(false)).cloned();
                if option(their_rule) != option(our_rule) {
                    self.report(
                        path,
                        Problem::ValidationRuleDiffers {
                            rule: rule.clone(),
                            key,
                            theirs: option(their_rule),
                            ours: option(our_rule),
                        },
                    );
                }
            }
        }
        for their_rule in &their_rules {
            let rule = text(their_rule);
            if !our_rules.iter().any(|r| text(r) == rule) {
                self.report(path, Problem::ValidationRuleMissing(rule));
            }
        }
    }
}

/// Keys of a CEL rule besides `rule` and `message` that change how it is evaluated or reported.
const RULE_OPTIONS: [&str; 4] = [
    "optionalOldSelf",
    "reason",
    "fieldPath",
    "messageExpression",
];

/// The values a node admits by enumeration: its own `enum` intersected with the `enum` of every
/// `allOf` branch; `None` when nothing restricts it.
fn effective_enum(node: &Value) -> Option<Vec<Value>> {
    let mut lists = node.get("enum").into_iter().chain(
        node.get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|branch| branch.get("enum")),
    );
    let first = lists.next()?.as_array()?.clone();
    Some(lists.fold(first, |acc, list| {
        let list = list.as_array().cloned().unwrap_or_default();
        acc.into_iter().filter(|v| list.contains(v)).collect()
    }))
}
