//! `echo`: a tiny plugin for testing the plugin pipeline end to end.
//!
//! `render` returns the pod template with the annotation `echo.plugins.dynamo.nvidia.com/service` set to the
//! service name and an `ECHO_SERVICE` variable on the main container (when there is one), and
//! reports the component's role as a warning. `validate` returns one warning when the service
//! name is empty. It handles the `echo` framework and the `dynamo.echo` Python module.

use dynamo_plugin_sdk::env::{env_var, set_env};
use dynamo_plugin_sdk::{
    Diagnostic, Metadata, Plugin, PluginError, PluginKind, PodTemplate, RenderInput, RenderOutput,
};

/// The annotation `render` sets.
pub const ANNOTATION: &str = "echo.plugins.dynamo.nvidia.com/service";

/// The echo plugin.
pub struct Echo;

impl Plugin for Echo {
    // `render` checks what it needs itself and reports its own warnings; `validate`'s findings
    // reach the user through admission and `render`'s check step. Running `validate` first would
    // change this built-in's render output (new errors, repeated warnings).
    const VALIDATE_BEFORE_RENDER: bool = false;

    fn metadata() -> Metadata {
        Metadata {
            name: "echo".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: PluginKind::Backend,
            frameworks: vec!["echo".into()],
            python_modules: vec!["dynamo.echo".into()],
            multinode_launcher: None,
            capabilities: Vec::new(),
            ..Metadata::default()
        }
    }

    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
        let mut pod = PodTemplate::from_input(input)?;
        let service = input.component.service_name.clone();
        pod.annotations_mut()
            .insert(ANNOTATION.into(), service.clone());
        if let Ok(main) = pod.main_container_mut() {
            set_env(main, [env_var("ECHO_SERVICE", service)]);
        }
        let mut out = RenderOutput::new(pod.to_json()?);
        out.warnings
            .push(format!("echo rendered role {:?}", input.placement.role));
        Ok(out)
    }

    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        if input.component.service_name.is_empty() {
            vec![Diagnostic::warning(
                "component.serviceName",
                "empty service name",
            )]
        } else {
            Vec::new()
        }
    }
}

dynamo_plugin_sdk::export_plugin!(Echo);

#[cfg(test)]
mod tests {
    use super::*;
    use dynamo_plugin_sdk::harness::pod_template_value;

    #[test]
    fn annotates_and_sets_env() {
        let input = RenderInput {
            component: dynamo_plugin_sdk::Component {
                service_name: "decode".into(),
                ..Default::default()
            },
            pod_template:
                r#"{"spec":{"containers":[{"name":"main","env":[{"name":"A","value":"1"}]}]}}"#
                    .into(),
            ..Default::default()
        };
        let out = Echo::render(&input).expect("renders");
        let pod = pod_template_value(&out);
        assert_eq!(pod["metadata"]["annotations"][ANNOTATION], "decode");
        assert_eq!(
            pod["spec"]["containers"][0]["env"][1]["name"],
            "ECHO_SERVICE"
        );
        assert_eq!(out.warnings, ["echo rendered role Main"]);
        assert!(Echo::validate(&input).is_empty());
        assert_eq!(Echo::metadata().name, "echo");
    }
}
