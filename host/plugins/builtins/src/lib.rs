//! The built-in plugins, as WebAssembly component bytes embedded in the operator binary.
//!
//! `build.rs` compiles each built-in plugin crate for `wasm32-wasip2` with a nested cargo build
//! (see `dynamo-plugin-build`); this crate only exposes the bytes. The runtime
//! (`dynamo-plugin-runtime`) compiles them, reads their metadata and registers them by the name
//! they report, so the list here needs no names of its own.

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// One embedded built-in plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// Cargo package that produced it, e.g. `dynamo-plugin-echo`.
    pub package: &'static str,
    /// The component bytes.
    pub wasm: &'static [u8],
}

/// Every built-in plugin, in build order.
pub fn all() -> impl ExactSizeIterator<Item = Builtin> {
    PLUGINS
        .iter()
        .map(|&(package, wasm)| Builtin { package, wasm })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_is_a_component() {
        assert!(super::all().len() > 0);
        for builtin in super::all() {
            // A component starts with the wasm magic and the component-model layer (version 0xd, layer 1).
            assert_eq!(&builtin.wasm[..4], b"\0asm", "{}", builtin.package);
            assert_eq!(
                &builtin.wasm[4..8],
                &[0x0d, 0x00, 0x01, 0x00],
                "{}",
                builtin.package
            );
        }
    }
}
