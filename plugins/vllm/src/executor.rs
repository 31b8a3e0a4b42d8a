//! Choosing vLLM's multi-node executor: native multiprocessing (`mp`) or Ray.
//!
//! 1. The annotation `nvidia.com/vllm-distributed-executor-backend` (`mp` or `ray`, any case)
//!    decides when set. The host merges graph and service annotations (the service wins), so a
//!    plugin sees one value.
//! 2. Otherwise graphs created by operator 1.0.0 or later use `mp`: the annotation
//!    `nvidia.com/dynamo-operator-origin-version`, stamped when the graph is created, is a semantic
//!    version ≥ 1.0.0 (a pre-release such as `1.0.0-rc.1` is below 1.0.0).
//! 3. Otherwise Ray, so graphs that ran on Ray before the upgrade keep running on Ray.
//!
//! An unknown annotation value or an unparsable version is not an error (the host's admission
//! checks reject them on new graphs); the choice falls through to the next rule and a warning
//! says so.

#![forbid(unsafe_code)]

use std::cmp::Ordering;

use dynamo_plugin_sdk::Graph;

/// Annotation that picks the executor explicitly.
pub const EXECUTOR_ANNOTATION: &str = "nvidia.com/vllm-distributed-executor-backend";
/// Annotation holding the operator version that created the graph.
pub const ORIGIN_VERSION_ANNOTATION: &str = "nvidia.com/dynamo-operator-origin-version";
/// First operator version whose graphs default to `mp`.
pub const MP_DEFAULT_SINCE: Version = Version {
    major: 1,
    minor: 0,
    patch: 0,
    pre_release: false,
};

/// vLLM's distributed executor for a model that spans nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executor {
    /// vLLM's own multiprocessing executor (`--distributed-executor-backend mp`).
    Mp,
    /// A Ray cluster spanning the group (`--distributed-executor-backend ray`).
    Ray,
}

impl Executor {
    /// The value of `--distributed-executor-backend`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp => "mp",
            Self::Ray => "ray",
        }
    }
}

/// The executor chosen for a graph, with a warning when an annotation was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The executor.
    pub executor: Executor,
    /// Why an annotation was ignored, if one was.
    pub warnings: Vec<String>,
}

/// Chooses the executor from the graph's annotations (see the module docs).
pub fn choose(graph: &Graph) -> Choice {
    let mut warnings = Vec::new();
    if let Some(value) = graph.annotation(EXECUTOR_ANNOTATION) {
        match value.trim().to_ascii_lowercase().as_str() {
            "mp" => {
                return Choice {
                    executor: Executor::Mp,
                    warnings,
                };
            }
            "ray" => {
                return Choice {
                    executor: Executor::Ray,
                    warnings,
                };
            }
            _ => warnings.push(format!(
                "annotation {EXECUTOR_ANNOTATION}={value:?} is neither `mp` nor `ray`; ignored"
            )),
        }
    }
    let executor = match graph.annotation(ORIGIN_VERSION_ANNOTATION) {
        None => Executor::Ray,
        Some(text) => match Version::parse(text) {
            Some(version) if version >= MP_DEFAULT_SINCE => Executor::Mp,
            Some(_) => Executor::Ray,
            None => {
                warnings.push(format!(
                    "annotation {ORIGIN_VERSION_ANNOTATION}={text:?} is not a semantic version; \
                     using the Ray executor"
                ));
                Executor::Ray
            }
        },
    };
    Choice { executor, warnings }
}

/// The parts of a semantic version that order it (build metadata never does).
///
/// Pre-release identifiers are not compared among themselves: every pre-release of `x.y.z` sorts
/// below `x.y.z`, which is all the threshold check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// Major version.
    pub major: u64,
    /// Minor version (0 when omitted).
    pub minor: u64,
    /// Patch version (0 when omitted).
    pub patch: u64,
    /// True for a pre-release (`1.0.0-rc.1`).
    pub pre_release: bool,
}

impl Version {
    /// Parses `[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`; `None` when it is not of that form.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let text = text.split_once('+').map_or(text, |(core, _)| core);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        if pre.is_some_and(|p| p.is_empty() || p.split('.').any(str::is_empty)) {
            return None;
        }
        let mut parts = core.split('.');
        let mut number = |required: bool| -> Option<u64> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
                None if !required => Some(0),
                _ => None,
            }
        };
        let major = number(true)?;
        let minor = number(false)?;
        let patch = number(false)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            major,
            minor,
            patch,
            pre_release: pre.is_some(),
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            // A release sorts above its pre-releases.
            .then_with(|| other.pre_release.cmp(&self.pre_release))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynamo_plugin_sdk::KeyValue;

    fn graph(pairs: &[(&str, &str)]) -> Graph {
        Graph {
            annotations: pairs.iter().map(|(k, v)| KeyValue::new(*k, *v)).collect(),
            ..Graph::default()
        }
    }

    #[test]
    fn explicit_annotation_wins() {
        let g = graph(&[
            (EXECUTOR_ANNOTATION, "RAY"),
            (ORIGIN_VERSION_ANNOTATION, "1.2.0"),
        ]);
        assert_eq!(choose(&g).executor, Executor::Ray);
        let g = graph(&[
            (EXECUTOR_ANNOTATION, " mp "),
            (ORIGIN_VERSION_ANNOTATION, "0.9.0"),
        ]);
        assert_eq!(
            choose(&g),
            Choice {
                executor: Executor::Mp,
                warnings: vec![]
            }
        );
    }

    #[test]
    fn origin_version_gate() {
        for (version, expected) in [
            ("1.0.0", Executor::Mp),
            ("v1.1.0", Executor::Mp),
            ("2", Executor::Mp),
            ("1.0.1-rc.1", Executor::Mp),
            ("1.0.0+build.5", Executor::Mp),
            ("1.0.0-rc.1", Executor::Ray),
            ("0.9.9", Executor::Ray),
        ] {
            let choice = choose(&graph(&[(ORIGIN_VERSION_ANNOTATION, version)]));
            assert_eq!(choice.executor, expected, "{version}");
            assert!(choice.warnings.is_empty(), "{version}");
        }
        assert_eq!(choose(&Graph::default()).executor, Executor::Ray);
    }

    #[test]
    fn bad_values_warn_and_fall_through() {
        let choice = choose(&graph(&[
            (EXECUTOR_ANNOTATION, "nccl"),
            (ORIGIN_VERSION_ANNOTATION, "1.0.0"),
        ]));
        assert_eq!(choice.executor, Executor::Mp);
        assert_eq!(choice.warnings.len(), 1);
        assert!(choice.warnings[0].contains("nccl"), "{:?}", choice.warnings);

        let choice = choose(&graph(&[(ORIGIN_VERSION_ANNOTATION, "latest")]));
        assert_eq!(choice.executor, Executor::Ray);
        assert!(
            choice.warnings[0].contains("latest"),
            "{:?}",
            choice.warnings
        );
    }

    #[test]
    fn version_parsing() {
        assert_eq!(
            Version::parse("1.2.3-alpha.1+x"),
            Some(Version {
                major: 1,
                minor: 2,
                patch: 3,
                pre_release: true
            })
        );
        for bad in [
            "",
            "v",
            "1.2.3.4",
            "1..2",
            "a.b.c",
            "1.0.0-",
            "1.0.0-a..b",
            "-1.0.0",
            "1.+0",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(Version::parse("1.0.0").expect("v") > Version::parse("1.0.0-rc.9").expect("v"));
        assert!(Version::parse("0.99.0").expect("v") < MP_DEFAULT_SINCE);
    }
}
