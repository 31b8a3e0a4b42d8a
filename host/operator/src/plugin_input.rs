//! `render --plugin-input`: the exact inputs the host hands a backend plugin, for plugin authors.
//!
//! The graph is rendered as usual through a [`Recording`] plugin set, which passes every call on
//! to the loaded plugins and keeps the input of the first call per graph, service and role: the
//! backend plugin's `validate`, whose input is the host's base pod, as its `render` gets next.
//! (A launcher after it gets the backend's output, not the host's.) Because `validate` comes
//! first, a graph the plugin refuses still yields the input it refused. The recorded inputs are
//! the contract's `RenderInput` serialized as fixtures are written (camelCase, the pod template
//! embedded), so the plugin SDKs' harnesses read them as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use dynamo_plugin_runtime::contract::{
    Capability, Diagnostic, Metadata, RenderInput, RenderOutput, Role,
};
use dynamo_render::{PluginCallError, PluginSet};

/// Where one recorded input came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// The graph's name.
    pub graph: String,
    /// The service's name as written in `spec.services`.
    pub service: String,
    /// The pod template's role.
    pub role: &'static str,
}

/// One recorded backend input.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The plugin called.
    pub plugin: String,
    /// What it was given.
    pub input: RenderInput,
}

/// A [`PluginSet`] that forwards every call and records the first input per graph, service and
/// role.
pub struct Recording<'a> {
    inner: &'a dyn PluginSet,
    recorded: Mutex<BTreeMap<Origin, Recorded>>,
}

// === impl Recording ===

impl<'a> Recording<'a> {
    /// Records the calls made to `inner`.
    pub fn new(inner: &'a dyn PluginSet) -> Self {
        Self {
            inner,
            recorded: Mutex::new(BTreeMap::new()),
        }
    }

    /// Keeps `input` unless one was already kept for its graph, service and role: the first
    /// call is the backend's, the one that gets the host's base pod.
    fn record(&self, plugin: &str, input: &RenderInput) {
        let origin = Origin {
            graph: input.graph.name.clone(),
            service: input.component.service_name.clone(),
            role: role_name(input.placement.role),
        };
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(origin)
            .or_insert_with(|| Recorded {
                plugin: plugin.to_owned(),
                input: input.clone(),
            });
    }

    /// The recorded inputs, in graph, service and role order.
    pub fn into_recorded(self) -> BTreeMap<Origin, Recorded> {
        self.recorded
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PluginSet for Recording<'_> {
    fn metadata(&self) -> Vec<&Metadata> {
        self.inner.metadata()
    }

    fn render(&self, plugin: &str, input: &RenderInput) -> Result<RenderOutput, PluginCallError> {
        self.record(plugin, input);
        self.inner.render(plugin, input)
    }

    fn validate(
        &self,
        plugin: &str,
        input: &RenderInput,
    ) -> Result<Vec<Diagnostic>, PluginCallError> {
        // `validate` gets the backend's input before `render` does, so a graph the plugin
        // refuses still leaves its input behind: the fixture an author needs for that error.
        self.record(plugin, input);
        self.inner.validate(plugin, input)
    }

    fn granted(&self, plugin: &str) -> Vec<Capability> {
        self.inner.granted(plugin)
    }

    fn unavailable(&self) -> Vec<String> {
        self.inner.unavailable()
    }
}

/// The role as the contract spells it in fixtures.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Main => "main",
        Role::Leader => "leader",
        Role::Worker => "worker",
    }
}

/// Writes the recorded inputs: to `target` as one JSON file each, or, when `target` is `-`, to
/// standard output as a YAML stream with a comment naming each document's origin. Returns what
/// was written, one line each, for standard error.
pub fn write(recorded: &BTreeMap<Origin, Recorded>, target: &Path) -> anyhow::Result<Vec<String>> {
    if target == Path::new("-") {
        let mut stream = String::new();
        for (origin, entry) in recorded {
            if !stream.is_empty() {
                stream.push_str("---\n");
            }
            stream.push_str(&format!(
                "# graph {}, spec.services.{}, role {}: the input of plugin {}\n",
                origin.graph, origin.service, origin.role, entry.plugin
            ));
            stream.push_str(
                &serde_yaml_ng::to_string(&entry.input).context("serializing a plugin input")?,
            );
        }
        use std::io::Write as _;
        std::io::stdout()
            .lock()
            .write_all(stream.as_bytes())
            .context("writing to standard output")?;
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
    let mut written = Vec::new();
    for (origin, entry) in recorded {
        let path = target.join(file_name(origin));
        let mut text =
            serde_json::to_string_pretty(&entry.input).context("serializing a plugin input")?;
        text.push('\n');
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(format!(
            "wrote {}: the input of plugin {} for graph {}, spec.services.{}, role {}",
            path.display(),
            entry.plugin,
            origin.graph,
            origin.service,
            origin.role
        ));
    }
    Ok(written)
}

/// `<graph>.<service>.<role>.json`, with anything but ASCII letters, digits, `-` and `_` in the
/// names replaced by `-`, so a name never leaves the directory.
pub fn file_name(origin: &Origin) -> PathBuf {
    let clean = |name: &str| -> String {
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    PathBuf::from(format!(
        "{}.{}.{}.json",
        clean(&origin.graph),
        clean(&origin.service),
        origin.role
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_in_the_directory() {
        let origin = Origin {
            graph: "../g".into(),
            service: "a/b.c".into(),
            role: "leader",
        };
        assert_eq!(file_name(&origin), PathBuf::from("---g.a-b-c.leader.json"));
    }
}
