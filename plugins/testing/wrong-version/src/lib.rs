//! `wrong-version`: a plugin built against a copy of the contract at `dynamo:backend@9.0.0`.
//!
//! Structurally it is identical to a `0.1.0` plugin; the host must still reject it with a version
//! mismatch, because nothing but the version says the two contracts mean the same thing. It uses
//! wit-bindgen directly (the SDK only speaks `0.1.0`); on non-wasm targets it is empty.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "plugin" });

    use dynamo::backend::types::PluginKind;

    struct WrongVersion;

    impl Guest for WrongVersion {
        fn metadata() -> Metadata {
            Metadata {
                name: "wrong-version".into(),
                version: "9.0.0".into(),
                kind: PluginKind::Backend,
                frameworks: vec!["wrong-version".into()],
                python_modules: Vec::new(),
                multinode_launcher: None,
            }
        }

        fn render(input: RenderInput) -> Result<RenderOutput, PluginError> {
            Ok(RenderOutput {
                pod_template: input.pod_template,
                extra_objects: Vec::new(),
                warnings: Vec::new(),
            })
        }

        fn validate(_input: RenderInput) -> Vec<Diagnostic> {
            Vec::new()
        }
    }

    export!(WrongVersion);
}
