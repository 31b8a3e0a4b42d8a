//! What plugin authors use to write a dynamo-operator backend or launcher plugin.
//!
//! A plugin is a Rust crate (`crate-type = ["cdylib", "rlib"]`) that implements [`Plugin`] on the
//! plain contract types and calls [`export_plugin!`]:
//!
//! ```
//! use dynamo_plugin_sdk::{Metadata, Plugin, PluginError, PluginKind, PodTemplate, RenderInput, RenderOutput};
//!
//! struct Echo;
//!
//! impl Plugin for Echo {
//!     fn metadata() -> Metadata {
//!         Metadata {
//!             name: "echo".into(),
//!             version: "0.1.0".into(),
//!             kind: PluginKind::Backend,
//!             frameworks: vec!["echo".into()],
//!             ..Metadata::default()
//!         }
//!     }
//!
//!     fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
//!         let mut pod = PodTemplate::from_input(input)?;
//!         // A plugin may set labels and annotations under its own prefix only.
//!         let key = dynamo_plugin_sdk::contract::text::plugin_key("echo", "service");
//!         pod.annotations_mut().insert(key, input.component.service_name.clone());
//!         Ok(RenderOutput::new(pod.to_json()?))
//!     }
//! }
//!
//! dynamo_plugin_sdk::export_plugin!(Echo);
//! # fn main() {}
//! ```
//!
//! Built for `wasm32-wasip2`, [`export_plugin!`] generates the WebAssembly component glue for the
//! `dynamo:backend@0.3.0` `plugin` world (wit-bindgen bindings, converted to and from the contract
//! types). Built natively it expands to nothing, so the same logic is unit-tested and benchmarked
//! as ordinary Rust; [`harness`] runs a plugin on a YAML or JSON fixture (including the inputs
//! `dynamo-operator render --plugin-input` dumps) or on conformance vectors.
//!
//! # Validation runs before rendering
//!
//! The exported `render` (and [`harness::render`]) run the plugin's own [`Plugin::validate`]
//! first ([`render_checked`]): the first error diagnostic is returned as
//! [`PluginError::InvalidInput`] without calling [`Plugin::render`], and every warning is
//! appended to the output's warnings as `<fieldPath>: <message>`. So a check is written once, in
//! `validate`, and `render` may assume a valid input. A plugin whose `render` does its own checks
//! sets [`Plugin::VALIDATE_BEFORE_RENDER`] to `false`.
//!
//! The remaining modules are the utilities every backend needs: [`pod`] (typed access to the pod
//! template, and helpers that edit the main container and the pod together), [`field`] (typed
//! field paths for diagnostics), [`flags`] (add engine flags to a container command: for Dynamo's
//! Python engines, or for any program), [`shell`] (quoting), [`python`] (recognising
//! `python -m <module>` commands), [`args`] (the engine's words of a command line),
//! [`env`](mod@env) (merging environment variables) and [`context`] (questions about the render
//! input). The `testing` cargo feature adds `testing`, helpers for plugins' native tests.

pub use dynamo_plugin_contract as contract;
pub use dynamo_plugin_contract::capability;
pub use dynamo_plugin_contract::{
    Capability, Component, Deployer, Diagnostic, ExtraObject, Graph, Infrastructure, KeyValue,
    Metadata, Placement, PluginError, PluginKind, RenderInput, RenderOutput, Role, Serving,
    ServingPort, Severity,
};
/// Kubernetes API types (`k8s-openapi`), re-exported so plugins use the same version as the SDK.
pub use k8s_openapi;

pub mod args;
pub mod context;
pub mod env;
pub mod field;
pub mod flags;
#[cfg(not(target_arch = "wasm32"))]
pub mod harness;
pub mod pod;
pub mod python;
pub mod shell;
#[cfg(all(any(test, feature = "testing"), not(target_arch = "wasm32")))]
pub mod testing;

pub use context::{is_multinode, service_field};
pub use env::merge_env;
pub use field::Field;
pub use flags::{FlagError, Injection, inject_flags};
pub use pod::{MAIN_CONTAINER, PodTemplate};
pub use shell::ShellArg;

/// The behaviour of a plugin, written against the plain contract types.
///
/// Every call gets a fresh WebAssembly instance, so implementations keep no state: the functions
/// are associated functions, not methods.
pub trait Plugin {
    /// Describes the plugin; the host calls it once when loading the plugin.
    fn metadata() -> Metadata;

    /// Whether the exported `render` runs [`Plugin::validate`] first ([`render_checked`]).
    ///
    /// `true` (the default): `render` is only called when `validate` finds no error, and the
    /// warnings `validate` finds are added to the render output. Set it to `false` when `render`
    /// checks its input itself and reports its own warnings.
    const VALIDATE_BEFORE_RENDER: bool = true;

    /// Renders the backend-specific parts of one pod template.
    ///
    /// Returning `Err` reports an ordinary, expected failure (invalid input, unsupported feature);
    /// a panic becomes a trap, which the host reports separately as a plugin bug. Unless
    /// [`Plugin::VALIDATE_BEFORE_RENDER`] is `false`, the host only gets here for an input
    /// [`Plugin::validate`] found no error in (see [`render_checked`]); calling this function
    /// directly skips that check.
    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError>;

    /// Checks a component before admission; an empty list means valid. Default: always valid.
    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        let _ = input;
        Vec::new()
    }
}

/// What the host gets when it calls the `render` export of plugin `P`.
///
/// With [`Plugin::VALIDATE_BEFORE_RENDER`] (the default), runs [`Plugin::validate`] first: the
/// first error diagnostic becomes [`PluginError::InvalidInput`] and [`Plugin::render`] is not
/// called; otherwise the render output gets one warning per warning diagnostic, in order, after
/// its own ([`warning_text`]). Without it, this is [`Plugin::render`].
pub fn render_checked<P: Plugin>(input: &RenderInput) -> Result<RenderOutput, PluginError> {
    if !P::VALIDATE_BEFORE_RENDER {
        return P::render(input);
    }
    let diagnostics = P::validate(input);
    if let Some(error) = diagnostics.iter().find(|d| d.severity == Severity::Error) {
        return Err(PluginError::InvalidInput(error.clone()));
    }
    let mut output = P::render(input)?;
    output.warnings.extend(
        diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(warning_text),
    );
    Ok(output)
}

/// A warning diagnostic as a render warning: `<fieldPath>: <message>`, or the message alone when
/// the diagnostic names no field.
pub fn warning_text(diagnostic: &Diagnostic) -> String {
    if diagnostic.field_path.is_empty() {
        diagnostic.message.clone()
    } else {
        format!("{}: {}", diagnostic.field_path, diagnostic.message)
    }
}

/// Exports a [`Plugin`] implementation as the `plugin` world of `dynamo:backend@0.3.0`.
///
/// Call it once per plugin crate, at the crate root. On `wasm32` targets it generates the
/// component exports (`metadata`, `render`, `validate`) that convert between the WIT bindings
/// and the contract types; on other targets it expands to nothing.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            struct DynamoPluginExports;

            impl $crate::__private::Guest for DynamoPluginExports {
                fn metadata() -> $crate::__private::wit::Metadata {
                    $crate::__private::metadata::<$plugin>()
                }

                fn render(
                    input: $crate::__private::wit::RenderInput,
                ) -> ::core::result::Result<
                    $crate::__private::wit::RenderOutput,
                    $crate::__private::wit::PluginError,
                > {
                    $crate::__private::render::<$plugin>(input)
                }

                fn validate(
                    input: $crate::__private::wit::RenderInput,
                ) -> ::std::vec::Vec<$crate::__private::wit::Diagnostic> {
                    $crate::__private::validate::<$plugin>(input)
                }
            }

            $crate::__export_plugin_impl!(DynamoPluginExports with_types_in $crate::__private::bindings);
        };
    };
}

/// The raw wit-bindgen guest bindings of the `plugin` world (wasm32 only); plugins rarely need
/// them, since [`export_plugin!`] converts everything to the contract types.
#[cfg(target_arch = "wasm32")]
pub use __private::bindings;

/// Implementation details of [`export_plugin!`]; not a stable API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __private {
    pub use crate::glue::{metadata, render, validate};
    pub use bindings::Guest;
    pub use bindings::dynamo::backend::types as wit;
    pub use wit_bindgen;

    /// The wit-bindgen guest bindings of the `plugin` world.
    #[allow(unsafe_code, missing_docs, clippy::all)]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit/dynamo-backend@0.3.0",
            world: "plugin",
            pub_export_macro: true,
            default_bindings_module: "::dynamo_plugin_sdk::__private::bindings",
            runtime_path: "::dynamo_plugin_sdk::__private::wit_bindgen::rt",
        });
    }
}

#[cfg(target_arch = "wasm32")]
extern crate self as dynamo_plugin_sdk;

#[cfg(target_arch = "wasm32")]
mod glue;

#[cfg(test)]
mod tests {
    use super::*;

    /// Validates: service `bad` is an error, an empty image a warning; renders with a warning of
    /// its own. `CHECK` selects validate-first.
    struct Checked<const CHECK: bool>;

    impl<const CHECK: bool> Plugin for Checked<CHECK> {
        const VALIDATE_BEFORE_RENDER: bool = CHECK;

        fn metadata() -> Metadata {
            Metadata::default()
        }

        fn render(input: &RenderInput) -> Result<RenderOutput, PluginError> {
            let mut out = RenderOutput::new(input.pod_template.clone());
            out.warnings.push("own".into());
            Ok(out)
        }

        fn validate(input: &RenderInput) -> Vec<Diagnostic> {
            let mut found = vec![Diagnostic::warning("", "no field")];
            if input.component.service_name == "bad" {
                found.push(Field::service(input).error("first"));
                found.push(Field::service(input).error("second"));
            }
            found.push(Field::new("x").warning("w"));
            found
        }
    }

    fn input(service: &str) -> RenderInput {
        let mut input = RenderInput::default();
        input.component.service_name = service.into();
        input.pod_template = "{}".into();
        input
    }

    #[test]
    fn validation_runs_first_by_default() {
        let out = render_checked::<Checked<true>>(&input("ok")).expect("renders");
        assert_eq!(out.warnings, ["own", "no field", "x: w"]);
        let err = render_checked::<Checked<true>>(&input("bad")).expect_err("invalid");
        assert_eq!(
            err,
            PluginError::InvalidInput(Diagnostic::error("spec.services.bad", "first"))
        );
    }

    #[test]
    fn a_plugin_can_opt_out() {
        let out = render_checked::<Checked<false>>(&input("bad")).expect("renders");
        assert_eq!(out.warnings, ["own"]);
    }

    struct Defaults;

    impl Plugin for Defaults {
        fn metadata() -> Metadata {
            Metadata::default()
        }

        fn render(_: &RenderInput) -> Result<RenderOutput, PluginError> {
            Ok(RenderOutput::default())
        }
    }

    #[test]
    fn the_default_is_to_validate_and_the_default_validate_finds_nothing() {
        const { assert!(Defaults::VALIDATE_BEFORE_RENDER) };
        assert!(Defaults::validate(&input("x")).is_empty());
        assert_eq!(
            render_checked::<Defaults>(&input("x")),
            Ok(RenderOutput::default())
        );
    }
}
