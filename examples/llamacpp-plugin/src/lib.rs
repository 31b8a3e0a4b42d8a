//! `llamacpp`: an example dynamo-operator backend plugin that runs llama.cpp's `llama-server`, a
//! server that is **not** a Dynamo engine; built on `dynamo-plugin-sdk` and loaded with
//! `--plugin-dir`.
//!
//! # Selecting it
//! llama.cpp is not Python, so no `python -m <module>` identifies it, and the CRD enum of
//! `spec.backendFramework` (`sglang|vllm|trtllm`) cannot name it. A worker opts in with the
//! service annotation `nvidia.com/backend-framework: llamacpp`, which the operator matches
//! against the `frameworks` this plugin reports ([`FRAMEWORK`]).
//!
//! # What the operator builds for it
//! The plugin declares [`Metadata::serving`]: not a Dynamo runtime, one port `http` 8080, health
//! path `/health`. So the pod the operator hands it is a plain one: the service's own command and
//! args, no Dynamo environment or ports, the container port `http` 8080, and startup, readiness
//! and liveness probes `GET /health` on `http` (unless the service sets its own). The component's
//! Service exposes `http`. The plugin adds only what is specific to llama-server.
//!
//! # What `render` does to the main container
//! - **Command**: kept when its program is `llama-server` (any directory, e.g.
//!   `/app/llama-server`). With no command, the image's entrypoint runs the args (the official
//!   `ghcr.io/ggml-org/llama.cpp:server*` images start `llama-server`); args that start with the
//!   `llama-server` program become the command.
//! - **Flags**, appended to `args` unless the container already sets them (as a flag or as the
//!   matching `LLAMA_ARG_*` environment variable, which llama-server reads too):
//!   `--host 0.0.0.0` (llama-server binds to 127.0.0.1 by default), `--port 8080`,
//!   `--n-gpu-layers 999` when the service has GPUs, and `--parallel <n>` from the annotation
//!   [`PARALLEL_ANNOTATION`].
//! - **Port**: `http` is set to the port llama-server listens on, so a `--port` of the service's
//!   own is followed by the probes and the Service, which target `http` by name.
//! - **Environment**: [`DEFAULT_ENV`] added, the container's own values winning.
//!
//! # What `validate` rejects
//! `render` runs `validate` first (the SDK default), so these checks are written once and
//! `render` only runs on a valid input.
//!
//! - a multi-node service (`spec.services.<svc>.multinode`): llama-server runs on one node;
//! - no model (`spec.services.<svc>.extraPodSpec.mainContainer.args`): one of `--model`/`-m`,
//!   `--hf-repo`/`-hf`/`-hfr`, `--model-url`/`-mu`, `--docker-repo`/`-dr` or their `LLAMA_ARG_*`
//!   variables is required;
//! - a command that is not llama-server (a shell script included: its flags could be neither read
//!   nor added), an invalid `--port`, and an annotation [`PARALLEL_ANNOTATION`] that is not a
//!   positive whole number.

use dynamo_plugin_sdk::field::Field;
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{Container, ContainerPort};
use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Plugin, PluginError, PluginKind, PodTemplate, RenderInput, RenderOutput,
    Role, Serving, ServingPort,
};

/// Plugin name (metadata `name`); a `--plugin-dir` plugin of the same name would replace it.
pub const NAME: &str = "llamacpp";
/// The backend framework this plugin handles; select it with
/// `nvidia.com/backend-framework: llamacpp` on a worker service.
pub const FRAMEWORK: &str = "llamacpp";
/// File name of the llama.cpp server program.
pub const SERVER: &str = "llama-server";
/// Service (or graph) annotation whose value becomes `--parallel <n>` (server slots).
pub const PARALLEL_ANNOTATION: &str = "nvidia.com/llamacpp-parallel";
/// Address llama-server binds to unless the container sets one.
pub const DEFAULT_HOST: &str = "0.0.0.0";
/// Port llama-server listens on unless the container sets one.
pub const DEFAULT_PORT: u16 = 8080;
/// Name of the server's container port, which the operator's probes and Service target.
pub const PORT_NAME: &str = "http";
/// Health endpoint of llama-server: 503 while the model loads, 200 once it serves.
pub const HEALTH_PATH: &str = "/health";
/// `--n-gpu-layers` value that offloads every layer to the GPU.
pub const ALL_LAYERS: &str = "999";
/// Environment defaults added to the main container; a variable the container already has
/// wins. `LLAMA_ARG_ENDPOINT_METRICS=1` serves Prometheus metrics on `/metrics` of the server
/// port.
pub const DEFAULT_ENV: [(&str, &str); 1] = [("LLAMA_ARG_ENDPOINT_METRICS", "1")];

/// A llama-server setting: the flags that set it and the environment variable it also reads.
struct Setting {
    flags: &'static [&'static str],
    env: &'static str,
}

const HOST: Setting = Setting {
    flags: &["--host"],
    env: "LLAMA_ARG_HOST",
};
const PORT: Setting = Setting {
    flags: &["--port"],
    env: "LLAMA_ARG_PORT",
};
const GPU_LAYERS: Setting = Setting {
    flags: &["-ngl", "--gpu-layers", "--n-gpu-layers"],
    env: "LLAMA_ARG_N_GPU_LAYERS",
};
const PARALLEL: Setting = Setting {
    flags: &["-np", "--parallel"],
    env: "LLAMA_ARG_N_PARALLEL",
};
/// Any one of these names the model to serve.
const MODEL_SOURCES: [Setting; 4] = [
    Setting {
        flags: &["-m", "--model"],
        env: "LLAMA_ARG_MODEL",
    },
    Setting {
        flags: &["-hf", "-hfr", "--hf-repo"],
        env: "LLAMA_ARG_HF_REPO",
    },
    Setting {
        flags: &["-mu", "--model-url"],
        env: "LLAMA_ARG_MODEL_URL",
    },
    Setting {
        flags: &["-dr", "--docker-repo"],
        env: "LLAMA_ARG_DOCKER_REPO",
    },
];

/// Where a container sets a [`Setting`], if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Given<'a> {
    /// Not set.
    No,
    /// Set by a flag (the last one wins, as in llama-server); `None` when the flag has no value.
    Flag(Option<&'a str>),
    /// Set by the environment variable; `None` when it comes from `valueFrom`.
    Env(Option<&'a str>),
}

impl Setting {
    /// Where `flags` (the words after the program) or the container's env set this.
    fn given<'a>(&self, flags: &'a [String], main: &'a Container) -> Given<'a> {
        if let Some(value) = flag_value(flags, self.flags) {
            return Given::Flag(value);
        }
        match main
            .env
            .iter()
            .flatten()
            .rev()
            .find(|var| var.name == self.env)
        {
            Some(var) if var.value_from.is_none() => Given::Env(var.value.as_deref()),
            Some(_) => Given::Env(None),
            None => Given::No,
        }
    }
}

/// The value of the last occurrence of any of `names` in `words` (llama-server takes a flag's
/// value as the next word, and reads `_` as `-` in long flags): `None` when absent, `Some(None)`
/// when the last occurrence has no value.
fn flag_value<'a>(words: &'a [String], names: &[&str]) -> Option<Option<&'a str>> {
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        let word = if word.starts_with("--") {
            word.replace('_', "-")
        } else {
            word.clone()
        };
        if names.contains(&word.as_str()) {
            found = Some(words.get(i + 1).map(String::as_str));
        }
    }
    found
}

/// True when the file name of `program` is `llama-server`.
fn is_server(program: &str) -> bool {
    program.rsplit('/').next() == Some(SERVER)
}

/// The main container's command line as it will be written back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Launch {
    /// The `command` (`None`: the image's entrypoint).
    command: Option<Vec<String>>,
    /// The `args`, before the added flags.
    args: Vec<String>,
}

impl Launch {
    /// Every word after the program: what llama-server parses.
    fn flags(&self) -> Vec<String> {
        let after_program = self.command.iter().flatten().skip(1);
        after_program.chain(&self.args).cloned().collect()
    }
}

/// Works out how `main` starts llama-server; the error says why it does not.
fn launch(main: &Container) -> Result<Launch, String> {
    let command = main.command.clone().unwrap_or_default();
    let args = main.args.clone().unwrap_or_default();
    match command.first() {
        Some(program) if is_server(program) => Ok(Launch {
            command: Some(command),
            args,
        }),
        Some(program) => Err(format!(
            "runs `{program}`, not {SERVER}; set command to the {SERVER} program (e.g. \
             /app/{SERVER}), or leave it unset to run the image's entrypoint, and pass its flags \
             in args (not in a shell script, where they can be neither checked nor added)"
        )),
        // No command: the program named first in args becomes the command (an entrypoint of
        // llama-server would take it for a flag); otherwise the image's entrypoint runs the args.
        None => Ok(match args.split_first() {
            Some((program, rest)) if is_server(program) => Launch {
                command: Some(vec![program.clone()]),
                args: rest.to_vec(),
            },
            _ => Launch {
                command: None,
                args,
            },
        }),
    }
}

/// What the plugin decides for one component.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// The command line before the added flags.
    launch: Launch,
    /// Flags to append to `args`.
    added: Vec<String>,
    /// Port llama-server listens on.
    port: u16,
    /// Findings; errors block rendering.
    diagnostics: Vec<Diagnostic>,
}

/// Plans the main container `main` of `input`'s component.
fn plan(input: &RenderInput, main: &Container) -> Plan {
    let args_field = Field::main_container_args(input);
    let mut diagnostics = Vec::new();
    let mut added: Vec<String> = Vec::new();

    let placement = &input.placement;
    if placement.node_count > 1 || placement.role != Role::Main {
        diagnostics.push(Field::multinode(input).error(format!(
            "llama.cpp runs on a single node, but the service asks for {} nodes per replica; \
             remove multinode",
            placement.node_count
        )));
    }

    let launch = launch(main).unwrap_or_else(|message| {
        diagnostics.push(Field::main_container_command(input).error(message));
        // Keep checking the rest, reading whatever follows the first word as flags.
        Launch {
            command: main.command.clone(),
            args: main.args.clone().unwrap_or_default(),
        }
    });
    let flags = &launch.flags();

    if MODEL_SOURCES
        .iter()
        .all(|source| source.given(flags, main) == Given::No)
    {
        diagnostics.push(args_field.error(format!(
            "{SERVER} needs a model: pass `--model <path>` (`-m`), `--hf-repo <user>/<model>` \
             or `--model-url <url>`"
        )));
    }

    if HOST.given(flags, main) == Given::No {
        added.extend(["--host".to_owned(), DEFAULT_HOST.to_owned()]);
    }

    let port = match PORT.given(flags, main) {
        // A port from a Secret or ConfigMap is unknown here; the flag overrides it, so the
        // container port `http` stays right.
        Given::No | Given::Env(None) => {
            added.extend(["--port".to_owned(), DEFAULT_PORT.to_string()]);
            DEFAULT_PORT
        }
        Given::Flag(value) => parse_port(value, &args_field, "--port", &mut diagnostics),
        Given::Env(value) => parse_port(
            value,
            &Field::env(input, PORT.env),
            PORT.env,
            &mut diagnostics,
        ),
    };

    if input.component.gpus_per_node > 0 && GPU_LAYERS.given(flags, main) == Given::No {
        added.extend(["--n-gpu-layers".to_owned(), ALL_LAYERS.to_owned()]);
    }

    if let Some(value) = input.graph.annotation(PARALLEL_ANNOTATION) {
        let field = Field::annotation(input, PARALLEL_ANNOTATION);
        match value.trim().parse::<u32>() {
            Ok(slots) if slots > 0 => {
                if PARALLEL.given(flags, main) == Given::No {
                    added.extend(["--parallel".to_owned(), slots.to_string()]);
                } else {
                    diagnostics.push(field.warning(format!(
                        "is ignored: the container sets `--parallel` (or {}) itself",
                        PARALLEL.env
                    )));
                }
            }
            _ => diagnostics.push(field.error(format!(
                "must be a positive whole number of server slots, got `{value}`"
            ))),
        }
    }

    Plan {
        launch,
        added,
        port,
        diagnostics,
    }
}

/// Parses a port value, reporting a bad one at `field` (and falling back to the default).
fn parse_port(
    value: Option<&str>,
    field: &Field,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> u16 {
    match value.map(str::trim).map(str::parse::<u16>) {
        Some(Ok(port)) if port > 0 => port,
        _ => {
            diagnostics.push(field.error(format!(
                "{what} must be a port number from 1 to 65535, got `{}`",
                value.unwrap_or("")
            )));
            DEFAULT_PORT
        }
    }
}

/// Applies `plan` to the main container of `pod`.
fn apply(plan: Plan, pod: &mut PodTemplate) -> Result<(), PluginError> {
    let main = pod.main_container_mut()?;
    main.command = plan.launch.command;
    let mut args = plan.launch.args;
    args.extend(plan.added);
    main.args = (!args.is_empty()).then_some(args);

    // The operator declared `http` on the default port; the probes and the Service follow it by
    // name, so moving it to the port llama-server listens on is all a `--port` of its own needs.
    pod.set_port(ContainerPort {
        name: Some(PORT_NAME.to_owned()),
        container_port: i32::from(plan.port),
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    })?;
    for (name, value) in DEFAULT_ENV {
        pod.set_env_if_absent(name, value)?;
    }
    Ok(())
}

/// The llama.cpp backend plugin.
pub struct LlamaCpp;

impl Plugin for LlamaCpp {
    fn metadata() -> Metadata {
        Metadata {
            name: NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec![FRAMEWORK.into()],
            // Not Python: selected by the `nvidia.com/backend-framework` annotation instead.
            python_modules: Vec::new(),
            multinode_launcher: None,
            capabilities: Vec::new(),
            // Not a Dynamo engine: the operator builds a plain pod around llama-server, with
            // the port `http`, probes on its health path, and the component's Service on it.
            serving: Some(Serving {
                dynamo_runtime: false,
                ports: vec![ServingPort::new(PORT_NAME, DEFAULT_PORT)],
                health_path: Some(HEALTH_PATH.into()),
            }),
            // Only `nvidia.com/` annotations are read, which every plugin gets.
            annotation_prefixes: Vec::new(),
        }
    }

    // `VALIDATE_BEFORE_RENDER` keeps its default: the SDK runs `validate` first, so `render`
    // only sees inputs without errors, and `validate`'s warnings join the render output.
    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut pod = PodTemplate::from_input(input)?;
        let plan = plan(input, pod.main_container_mut()?);
        apply(plan, &mut pod)?;
        Ok(RenderOutput::new(pod.to_json()?))
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        let pod = match PodTemplate::from_input(input) {
            Ok(pod) => pod,
            Err(PluginError::InvalidInput(diagnostic)) => return vec![diagnostic],
            Err(other) => return vec![Field::pod_template().error(other.to_string())],
        };
        match pod.main_container() {
            Some(main) => plan(input, main).diagnostics,
            None => vec![Field::pod_containers().error("no container named `main`")],
        }
    }
}

dynamo_plugin_sdk::export_plugin!(LlamaCpp);

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    fn container(command: &[&str], args: &[&str]) -> Container {
        Container {
            name: "main".into(),
            command: (!command.is_empty()).then(|| words(command)),
            args: (!args.is_empty()).then(|| words(args)),
            ..Container::default()
        }
    }

    #[test]
    fn flag_values_are_the_next_word_and_the_last_wins() {
        let flags = words(&["--port", "1", "-m", "a", "--port", "2", "-mu", "u"]);
        assert_eq!(flag_value(&flags, &["--port"]), Some(Some("2")));
        assert_eq!(
            flag_value(&flags, &["-m"]),
            Some(Some("a")),
            "-mu is not -m"
        );
        assert_eq!(flag_value(&words(&["--host"]), &["--host"]), Some(None));
        assert_eq!(flag_value(&flags, &["--host"]), None);
        assert_eq!(
            flag_value(&words(&["--n_gpu_layers", "5"]), &["--n-gpu-layers"]),
            Some(Some("5")),
            "`_` reads as `-` in long flags"
        );
        assert_eq!(
            flag_value(&words(&["--port=9"]), &["--port"]),
            None,
            "llama-server has no `--flag=value` form"
        );
    }

    #[test]
    fn launch_forms() {
        let keep = launch(&container(
            &["/app/llama-server", "-m", "x"],
            &["--ctx-size", "4"],
        ))
        .expect("llama-server");
        assert_eq!(keep.command, Some(words(&["/app/llama-server", "-m", "x"])));
        assert_eq!(keep.args, words(&["--ctx-size", "4"]));
        assert_eq!(keep.flags(), words(&["-m", "x", "--ctx-size", "4"]));

        let entrypoint = launch(&container(&[], &["-m", "x"])).expect("flags");
        assert_eq!(entrypoint.command, None, "the image's entrypoint runs");
        assert_eq!(entrypoint.flags(), words(&["-m", "x"]));

        let in_args = launch(&container(&[], &["llama-server", "-m", "x"])).expect("program");
        assert_eq!(in_args.command, Some(words(&["llama-server"])));
        assert_eq!(in_args.args, words(&["-m", "x"]));

        let script = launch(&container(&["sh", "-c"], &["llama-server -m x"]));
        assert!(script.is_err_and(|e| e.contains("`sh`") && e.contains("shell script")));
        let other = launch(&container(&["python3", "-m", "dynamo.vllm"], &[]));
        assert!(other.is_err_and(|e| e.contains("`python3`")));
    }

    #[test]
    fn metadata_selects_by_framework_and_declares_a_plain_server() {
        let m = LlamaCpp::metadata();
        assert_eq!(m.name, "llamacpp");
        assert_eq!(m.kind, PluginKind::Backend);
        assert_eq!(m.frameworks, ["llamacpp"]);
        assert!(m.python_modules.is_empty());
        assert_eq!(m.multinode_launcher, None);
        let serving = m.serving.expect("declares what it serves");
        assert!(!serving.dynamo_runtime);
        assert_eq!(serving.ports, [ServingPort::new("http", 8080)]);
        assert_eq!(serving.health_path.as_deref(), Some("/health"));
        assert!(m.annotation_prefixes.is_empty());
        const { assert!(LlamaCpp::VALIDATE_BEFORE_RENDER) };
    }
}
