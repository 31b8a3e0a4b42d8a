//! `legacy-v2`: a plugin built against `dynamo:backend@0.2.0` (capabilities, but no serving
//! declaration, annotation prefixes or GPU resource name), with wit-bindgen directly since the
//! SDK speaks the newest contract. The host must still load and call it, reading it as a Dynamo
//! engine. It adds the annotation `legacy-v2.plugins.dynamo.nvidia.com/rendered` to the pod; on
//! non-wasm targets it is empty.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({ path: "../../../wit/dynamo-backend@0.2.0", world: "plugin" });

    use dynamo::backend::types::PluginKind;

    struct Legacy;

    impl Guest for Legacy {
        fn metadata() -> Metadata {
            Metadata {
                name: "legacy-v2".into(),
                version: "0.2.0".into(),
                kind: PluginKind::Backend,
                frameworks: vec!["legacy-v2".into()],
                python_modules: vec!["dynamo.legacy_v2".into()],
                multinode_launcher: None,
                capabilities: vec!["privileged".into()],
            }
        }

        fn render(input: RenderInput) -> Result<RenderOutput, PluginError> {
            // A string edit keeps this crate free of JSON dependencies: the host's templates
            // always start with `{"metadata":{`.
            let marker = r#"{"metadata":{"#;
            let pod_template = match input.pod_template.strip_prefix(marker) {
                Some(rest) if rest.starts_with("\"annotations\":{") => format!(
                    "{marker}\"annotations\":{{\"legacy-v2.plugins.dynamo.nvidia.com/rendered\":\"yes\",{}",
                    &rest["\"annotations\":{".len()..]
                ),
                _ => input.pod_template,
            };
            Ok(RenderOutput {
                pod_template,
                extra_objects: Vec::new(),
                warnings: vec!["rendered by a 0.2.0 plugin".into()],
            })
        }

        fn validate(_input: RenderInput) -> Vec<Diagnostic> {
            Vec::new()
        }
    }

    export!(Legacy);
}
