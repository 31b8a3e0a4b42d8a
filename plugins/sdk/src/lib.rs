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
//! `dynamo:backend@0.2.0` `plugin` world (wit-bindgen bindings, converted to and from the contract
//! types). Built natively it expands to nothing, so the same logic is unit-tested and benchmarked
//! as ordinary Rust; [`harness`] runs a plugin on a YAML or JSON fixture.
//!
//! The remaining modules are the utilities every backend needs: [`pod`] (typed access to the pod
//! template), [`flags`] (inject engine flags into a container command), [`shell`] (quoting),
//! [`python`] (recognising `python -m <module>` commands), [`args`] (the engine's words of a
//! command line) and [`env`](mod@env) (merging environment variables). The `testing` cargo feature
//! adds `testing`, helpers for plugins' native tests.

pub use dynamo_plugin_contract as contract;
pub use dynamo_plugin_contract::capability;
pub use dynamo_plugin_contract::{
    Capability, Component, Deployer, Diagnostic, ExtraObject, Graph, Infrastructure, KeyValue,
    Metadata, Placement, PluginError, PluginKind, RenderInput, RenderOutput, Role, Severity,
};
/// Kubernetes API types (`k8s-openapi`), re-exported so plugins use the same version as the SDK.
pub use k8s_openapi;

pub mod args;
pub mod context;
pub mod env;
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

    /// Renders the backend-specific parts of one pod template.
    ///
    /// Returning `Err` reports an ordinary, expected failure (invalid input, unsupported feature);
    /// a panic becomes a trap, which the host reports separately as a plugin bug.
    fn render(input: &RenderInput) -> Result<RenderOutput, PluginError>;

    /// Checks a component before admission; an empty list means valid. Default: always valid.
    fn validate(input: &RenderInput) -> Vec<Diagnostic> {
        let _ = input;
        Vec::new()
    }
}

/// Exports a [`Plugin`] implementation as the `plugin` world of `dynamo:backend@0.2.0`.
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
            path: "../../wit/dynamo-backend@0.2.0",
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
