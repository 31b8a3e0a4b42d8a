//! `llamacpp`: an example dynamo-operator backend plugin for a server that is **not** a Dynamo
//! engine, llama.cpp's `llama-server`, built on `dynamo-plugin-sdk` and loaded with
//! `--plugin-dir`.
//!
//! # Selecting it
//! llama.cpp is not Python, so no `python -m <module>` identifies it, and the CRD enum of
//! `spec.backendFramework` (`sglang|vllm|trtllm`) cannot name it. A worker opts in with the
//! service annotation `nvidia.com/backend-framework: llamacpp`, which the operator matches
//! against the `frameworks` this plugin reports ([`FRAMEWORK`]).
//!
//! # What `render` does to the main container
//! - **Command**: kept when its program is `llama-server` (any directory, e.g.
//!   `/app/llama-server`). When the service sets no command (the operator's default is
//!   `/bin/sh -c`) and the args are flags, the command is cleared so the image's entrypoint runs
//!   them: the official `ghcr.io/ggml-org/llama.cpp:server*` images start `llama-server`. Args
//!   that start with the `llama-server` program become the command.
//! - **Flags**, appended to `args` unless the container already sets them (as a flag or as the
//!   matching `LLAMA_ARG_*` environment variable, which llama-server reads too):
//!   `--host 0.0.0.0`, `--port 8080`, `--n-gpu-layers 999` when the service has GPUs, and
//!   `--parallel <n>` from the annotation [`PARALLEL_ANNOTATION`].
//! - **Port** `http` on the server port; the Dynamo worker ports the operator adds (`system`,
//!   `nixl`), which llama-server does not serve, are removed.
//! - **Probes**: HTTP `GET /health` on `http` for startup, readiness and liveness, replacing the
//!   operator's defaults (which target the Dynamo `system` port); probes the service sets itself
//!   are kept.
//! - **Environment**: [`DEFAULT_ENV`] merged in, the container's own values winning.
//!
//! # What `validate` rejects
//! - a multi-node service (`spec.services.<svc>.multinode`): llama-server runs on one node;
//! - no model (`spec.services.<svc>.extraPodSpec.mainContainer.args`): one of `--model`/`-m`,
//!   `--hf-repo`/`-hf`/`-hfr`, `--model-url`/`-mu`, `--docker-repo`/`-dr` or their `LLAMA_ARG_*`
//!   variables is required;
//! - a command that is not llama-server, an invalid `--port`, and an annotation
//!   [`PARALLEL_ANNOTATION`] that is not a positive whole number.

use dynamo_plugin_sdk::env::{env_var, set_env};
use dynamo_plugin_sdk::k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, HTTPGetAction, Probe,
};
use dynamo_plugin_sdk::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use dynamo_plugin_sdk::python::is_shell;
use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Plugin, PluginError, PluginKind, PodTemplate, RenderInput, RenderOutput,
    Role, Severity,
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
/// Name of the container port (and probe target) of the server.
pub const PORT_NAME: &str = "http";
/// Health endpoint of llama-server: 503 while the model loads, 200 once it serves.
pub const HEALTH_PATH: &str = "/health";
/// `--n-gpu-layers` value that offloads every layer to the GPU.
pub const ALL_LAYERS: &str = "999";
/// Environment defaults merged into the main container; a variable the container already has
/// wins. `LLAMA_ARG_ENDPOINT_METRICS=1` serves Prometheus metrics on `/metrics` of the server
/// port.
pub const DEFAULT_ENV: [(&str, &str); 1] = [("LLAMA_ARG_ENDPOINT_METRICS", "1")];

/// Ports the operator gives every worker for the Dynamo runtime, which llama-server does not serve.
const DYNAMO_PORTS: [(&str, i32); 2] = [("system", 9090), ("nixl", 19090)];

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

/// How the main container starts llama-server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Launch {
    /// The new `command` (`None`: the image's entrypoint).
    command: Option<Vec<String>>,
    /// The new `args`, before the injected flags.
    args: Vec<String>,
    /// Every word after the program (what llama-server parses).
    flags: Vec<String>,
}

/// Works out how `main` starts llama-server; the error says why it does not.
fn launch(main: &Container) -> Result<Launch, String> {
    let command = main.command.clone().unwrap_or_default();
    let args = main.args.clone().unwrap_or_default();
    let entrypoint = |args: Vec<String>| Launch {
        command: None,
        flags: args.clone(),
        args,
    };
    let program_in_args = |args: &[String]| match args.split_first() {
        Some((program, rest)) if is_server(program) => Some(Launch {
            command: Some(vec![program.clone()]),
            args: rest.to_vec(),
            flags: rest.to_vec(),
        }),
        _ => None,
    };
    match command.split_first() {
        Some((program, rest)) if is_server(program) => {
            let mut flags = rest.to_vec();
            flags.extend(args.iter().cloned());
            Ok(Launch {
                command: Some(command.clone()),
                args,
                flags,
            })
        }
        // No command, or a bare `sh -c` (the operator's default when the service sets none):
        // flags in args go to the image's entrypoint.
        None => Ok(program_in_args(&args).unwrap_or_else(|| entrypoint(args))),
        Some((shell, [dash_c])) if is_shell(shell) && dash_c == "-c" => {
            if let Some(launch) = program_in_args(&args) {
                Ok(launch)
            } else if args.first().is_none_or(|first| first.starts_with('-')) {
                Ok(entrypoint(args))
            } else {
                Err(format!(
                    "runs a shell script; set command to the {SERVER} program (e.g. \
                     /app/{SERVER}), or leave it unset to run the image's entrypoint, and pass \
                     its flags in args"
                ))
            }
        }
        Some((program, _)) => Err(format!(
            "runs `{program}`, not {SERVER}; set command to the {SERVER} program (e.g. \
             /app/{SERVER}) or leave it unset to run the image's entrypoint"
        )),
    }
}

/// What the plugin decides for one component.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    /// How the container starts llama-server.
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
    let service = format!("spec.services.{}", input.component.service_name);
    let container = format!("{service}.extraPodSpec.mainContainer");
    let args_field = format!("{container}.args");
    let mut diagnostics = Vec::new();
    let mut added: Vec<String> = Vec::new();

    let placement = &input.placement;
    if placement.node_count > 1 || placement.role != Role::Main {
        diagnostics.push(Diagnostic::error(
            format!("{service}.multinode"),
            format!(
                "llama.cpp runs on a single node, but the service asks for {} nodes per \
                 replica; remove multinode",
                placement.node_count
            ),
        ));
    }

    let launch = launch(main).unwrap_or_else(|message| {
        diagnostics.push(Diagnostic::error(format!("{container}.command"), message));
        let mut flags = main.command.clone().unwrap_or_default();
        flags.extend(main.args.iter().flatten().cloned());
        Launch {
            command: main.command.clone(),
            args: main.args.clone().unwrap_or_default(),
            flags,
        }
    });
    let flags = &launch.flags;

    if MODEL_SOURCES
        .iter()
        .all(|source| source.given(flags, main) == Given::No)
    {
        diagnostics.push(Diagnostic::error(
            &args_field,
            format!(
                "{SERVER} needs a model: pass `--model <path>` (`-m`), `--hf-repo <user>/<model>` \
                 or `--model-url <url>`"
            ),
        ));
    }

    if HOST.given(flags, main) == Given::No {
        added.extend(["--host".to_owned(), DEFAULT_HOST.to_owned()]);
    }

    let port = match PORT.given(flags, main) {
        // A port from a Secret or ConfigMap is unknown here; the flag overrides it, so the
        // probes and the container port stay right.
        Given::No | Given::Env(None) => {
            added.extend(["--port".to_owned(), DEFAULT_PORT.to_string()]);
            DEFAULT_PORT
        }
        Given::Flag(value) => parse_port(value, &args_field, "--port", &mut diagnostics),
        Given::Env(value) => parse_port(
            value,
            &format!("{service}.envs[{}]", PORT.env),
            PORT.env,
            &mut diagnostics,
        ),
    };

    if input.component.gpus_per_node > 0 && GPU_LAYERS.given(flags, main) == Given::No {
        added.extend(["--n-gpu-layers".to_owned(), ALL_LAYERS.to_owned()]);
    }

    if let Some(value) = input.graph.annotation(PARALLEL_ANNOTATION) {
        let field = format!("{service}.annotations[{PARALLEL_ANNOTATION}]");
        match value.trim().parse::<u32>() {
            Ok(slots) if slots > 0 => {
                if PARALLEL.given(flags, main) == Given::No {
                    added.extend(["--parallel".to_owned(), slots.to_string()]);
                } else {
                    diagnostics.push(Diagnostic::warning(
                        field,
                        format!(
                            "is ignored: the container sets `--parallel` (or {}) itself",
                            PARALLEL.env
                        ),
                    ));
                }
            }
            _ => diagnostics.push(Diagnostic::error(
                field,
                format!("must be a positive whole number of server slots, got `{value}`"),
            )),
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
    field: &str,
    what: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> u16 {
    match value.map(str::trim).map(str::parse::<u16>) {
        Some(Ok(port)) if port > 0 => port,
        _ => {
            diagnostics.push(Diagnostic::error(
                field,
                format!(
                    "{what} must be a port number from 1 to 65535, got `{}`",
                    value.unwrap_or("")
                ),
            ));
            DEFAULT_PORT
        }
    }
}

/// An HTTP `GET /health` probe on the server port.
fn health_probe(period: i32, timeout: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(HEALTH_PATH.to_owned()),
            port: IntOrString::String(PORT_NAME.to_owned()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// True when `probe` targets a Dynamo port (by name or number), which llama-server does not serve.
fn targets_dynamo_port(probe: &Probe) -> bool {
    let port = probe
        .http_get
        .as_ref()
        .map(|h| &h.port)
        .or_else(|| probe.tcp_socket.as_ref().map(|t| &t.port));
    port.is_some_and(|port| {
        DYNAMO_PORTS.iter().any(|(name, number)| match port {
            IntOrString::String(p) => p == name,
            IntOrString::Int(p) => p == number,
        })
    })
}

/// Replaces `probe` with `ours` when it is absent or targets a Dynamo port.
fn replace_probe(probe: &mut Option<Probe>, ours: Probe) {
    if probe.as_ref().is_none_or(targets_dynamo_port) {
        *probe = Some(ours);
    }
}

/// Applies `plan` to the main container.
fn apply(plan: Plan, main: &mut Container) {
    main.command = plan.launch.command;
    let mut args = plan.launch.args;
    args.extend(plan.added);
    main.args = (!args.is_empty()).then_some(args);

    let ports = main.ports.get_or_insert_with(Vec::new);
    ports.retain(|p| {
        let name = p.name.as_deref().unwrap_or_default();
        name != PORT_NAME && !DYNAMO_PORTS.iter().any(|(dynamo, _)| *dynamo == name)
    });
    ports.push(ContainerPort {
        name: Some(PORT_NAME.to_owned()),
        container_port: i32::from(plan.port),
        protocol: Some("TCP".to_owned()),
        ..ContainerPort::default()
    });

    // Loading a large model (or downloading it with --hf-repo) takes long: the startup probe
    // allows up to two hours (720 x 10 s) before liveness takes over.
    replace_probe(&mut main.startup_probe, health_probe(10, 5, 720));
    replace_probe(&mut main.readiness_probe, health_probe(10, 3, 3));
    replace_probe(&mut main.liveness_probe, health_probe(10, 5, 3));

    let present = |name: &str| main.env.iter().flatten().any(|v| v.name == name);
    let defaults: Vec<EnvVar> = DEFAULT_ENV
        .iter()
        .filter(|(name, _)| !present(name))
        .map(|(name, value)| env_var(*name, *value))
        .collect();
    set_env(main, defaults);
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
        }
    }

    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut pod = PodTemplate::from_input(input)?;
        let main = pod.main_container_mut()?;
        let plan = plan(input, main);
        if let Some(error) = plan
            .diagnostics
            .iter()
            .find(|d| d.severity == Severity::Error)
        {
            return Err(PluginError::InvalidInput(error.clone()));
        }
        // Warnings were reported by `validate` already; the host shows those.
        apply(plan, main);
        Ok(RenderOutput::new(pod.to_json()?))
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        let pod = match PodTemplate::from_input(input) {
            Ok(pod) => pod,
            Err(PluginError::InvalidInput(diagnostic)) => return vec![diagnostic],
            Err(other) => return vec![Diagnostic::error("", other.to_string())],
        };
        match pod.main_container() {
            Some(main) => plan(input, main).diagnostics,
            None => vec![Diagnostic::error(
                "podTemplate.spec.containers",
                "no container named `main`",
            )],
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
        assert_eq!(keep.flags, words(&["-m", "x", "--ctx-size", "4"]));

        let default_shell = launch(&container(&["/bin/sh", "-c"], &["-m", "x"])).expect("flags");
        assert_eq!(
            default_shell.command, None,
            "the image entrypoint runs the flags"
        );
        assert_eq!(default_shell.args, words(&["-m", "x"]));

        let in_args = launch(&container(&[], &["llama-server", "-m", "x"])).expect("program");
        assert_eq!(in_args.command, Some(words(&["llama-server"])));
        assert_eq!(in_args.args, words(&["-m", "x"]));

        let script = launch(&container(&["sh", "-c"], &["llama-server -m x"]));
        assert!(script.is_err_and(|e| e.contains("shell script")));
        let other = launch(&container(&["python3", "-m", "dynamo.vllm"], &[]));
        assert!(other.is_err_and(|e| e.contains("`python3`")));
    }

    #[test]
    fn dynamo_probes_are_replaced_and_user_probes_kept() {
        let dynamo = Probe {
            http_get: Some(HTTPGetAction {
                port: IntOrString::String("system".into()),
                ..HTTPGetAction::default()
            }),
            ..Probe::default()
        };
        let mut probe = Some(dynamo);
        replace_probe(&mut probe, health_probe(1, 1, 1));
        assert_eq!(probe, Some(health_probe(1, 1, 1)));

        let user = Probe {
            exec: Some(Default::default()),
            ..Probe::default()
        };
        let mut probe = Some(user.clone());
        replace_probe(&mut probe, health_probe(1, 1, 1));
        assert_eq!(probe, Some(user));
    }

    #[test]
    fn metadata_selects_by_framework_only() {
        let m = LlamaCpp::metadata();
        assert_eq!(m.name, "llamacpp");
        assert_eq!(m.kind, PluginKind::Backend);
        assert_eq!(m.frameworks, ["llamacpp"]);
        assert!(m.python_modules.is_empty());
        assert_eq!(m.multinode_launcher, None);
    }
}
