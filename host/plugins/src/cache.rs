//! The on-disk cache of precompiled plugins.
//!
//! Compiling a component with Cranelift takes on the order of a second; loading a precompiled
//! artifact takes milliseconds. Artifacts are stored as
//! `<dir>/<sha256 of the component>-<engine compatibility hash>.cwasm`, with the SHA-256 of the
//! artifact itself in a `.sha256` file beside it. The key changes whenever the plugin bytes, the
//! wasmtime version or any compilation-relevant engine setting changes, so a stale artifact is
//! never even looked at.
//!
//! Loading an artifact means trusting it as native code (`Component::deserialize` is `unsafe`).
//! The only artifacts ever deserialized are files this cache wrote: before deserializing, the
//! artifact's digest is recomputed and compared with the stored one, and any mismatch (truncation,
//! bit rot, a concurrent half-written file) is treated as a miss: both files are deleted and the
//! plugin is compiled again. Writes go to a temporary file renamed into place, so readers never see
//! partial files. Cache I/O failures are logged and fall back to compiling; they never fail a load.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// What the cache did for one plugin load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheOutcome {
    /// No cache directory is configured: compiled in memory.
    Disabled,
    /// No artifact yet: compiled and stored.
    Miss,
    /// Loaded the stored artifact without compiling.
    Hit,
    /// The stored artifact failed its integrity check (or would not load): discarded, recompiled
    /// and stored again.
    Corrupt,
}

/// Hex-encoded SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Feeds `Hash` output into SHA-256, for a stable digest of wasmtime's compatibility hash.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        // Only `write` is used; the digest is read through `finalize` below.
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// A short, stable digest of the engine settings that make artifacts compatible.
pub(crate) fn engine_fingerprint(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = hex(&hasher.0.finalize());
    digest[..16].to_owned()
}

/// The cache for one engine.
#[derive(Debug, Clone)]
pub(crate) struct PrecompiledCache {
    dir: Option<PathBuf>,
    fingerprint: String,
}

impl PrecompiledCache {
    /// A cache in `dir` (disabled when `None`) for artifacts of `engine`.
    pub(crate) fn new(dir: Option<&Path>, engine: &Engine) -> Self {
        Self {
            dir: dir.map(Path::to_owned),
            fingerprint: engine_fingerprint(engine),
        }
    }

    /// Path of the artifact for a component with digest `sha256`, when caching is on.
    pub(crate) fn artifact_path(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{sha256}-{}.cwasm", self.fingerprint)))
    }

    /// Loads the component from the cache, or compiles (and stores) it.
    ///
    /// `label` names the plugin in log messages; compilation errors are returned as the message.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
        label: &str,
        timeout: Duration,
    ) -> Result<(Component, CacheOutcome), String> {
        let Some(path) = self.artifact_path(sha256) else {
            let component = compile(engine, wasm, timeout)?;
            return Ok((component, CacheOutcome::Disabled));
        };
        let digest_path = digest_path(&path);

        let mut outcome = CacheOutcome::Miss;
        if let Some(artifact) = read_if_exists(&path, label) {
            let stored = read_if_exists(&digest_path, label);
            let valid = stored
                .as_deref()
                .is_some_and(|d| d.trim_ascii() == sha256_hex(&artifact).as_bytes());
            if valid {
                match trusted::deserialize(engine, &artifact) {
                    Ok(component) => return Ok((component, CacheOutcome::Hit)),
                    Err(e) => tracing::warn!(
                        plugin = label,
                        path = %path.display(),
                        "precompiled plugin failed to load, recompiling: {e:#}"
                    ),
                }
            } else {
                tracing::warn!(
                    plugin = label,
                    path = %path.display(),
                    "precompiled plugin failed its integrity check, recompiling"
                );
            }
            outcome = CacheOutcome::Corrupt;
            let _ = fs::remove_file(&path);
            let _ = fs::remove_file(&digest_path);
        }

        let component = compile(engine, wasm, timeout)?;
        match component.serialize() {
            Ok(artifact) => {
                if let Err(e) = store(&path, &digest_path, &artifact) {
                    tracing::warn!(
                        plugin = label,
                        path = %path.display(),
                        "cannot write precompiled plugin: {e}"
                    );
                }
            }
            Err(e) => tracing::warn!(plugin = label, "cannot serialize compiled plugin: {e:#}"),
        }
        Ok((component, outcome))
    }
}

/// Compiles `wasm` on a thread of its own and waits at most `timeout` for it.
///
/// Cranelift cannot be interrupted, so a compilation past the timeout runs on until it ends and
/// its result is dropped; the caller gets its answer on time.
fn compile(engine: &Engine, wasm: &[u8], timeout: Duration) -> Result<Component, String> {
    let (tx, rx) = mpsc::sync_channel(1);
    let engine = engine.clone();
    let wasm = wasm.to_vec();
    std::thread::Builder::new()
        .name("dynamo-plugin-compile".into())
        .spawn(move || {
            let _ = tx.send(Component::new(&engine, &wasm).map_err(|e| format!("{e:#}")));
        })
        .map_err(|e| format!("cannot start a compile thread: {e}"))?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "compiling took longer than {timeout:?} (RuntimeConfig::compile_timeout)"
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("the compile thread panicked".into()),
    }
}

/// The digest file of an artifact: `<artifact>.sha256`.
pub(crate) fn digest_path(artifact: &Path) -> PathBuf {
    let mut name = artifact.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

fn read_if_exists(path: &Path, label: &str) -> Option<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(plugin = label, path = %path.display(), "cannot read plugin cache: {e}");
            None
        }
    }
}

/// Writes the artifact, then its digest, each atomically (temporary file + rename).
fn store(path: &Path, digest_path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    write_atomically(path, artifact)?;
    write_atomically(digest_path, sha256_hex(artifact).as_bytes())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The one place that deserializes precompiled code.
#[allow(unsafe_code)]
mod trusted {
    use wasmtime::Engine;
    use wasmtime::component::Component;

    /// Deserializes an artifact produced by `Component::serialize`.
    pub(super) fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
        // SAFETY: `Component::deserialize` requires bytes produced by `Component::serialize` (or
        // `Engine::precompile_component`) that nobody tampered with, because they are mapped as
        // executable code without validation. The only caller passes an artifact this cache wrote
        // (`store`) into a directory it created with owner-only permissions, and only after the
        // SHA-256 of the bytes matched the digest written beside it, so truncated or corrupted
        // files never get here. Wasmtime additionally checks the artifact header against the
        // engine's version and configuration and returns an error on mismatch.
        unsafe { Component::deserialize(engine, artifact) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digests() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digest_path(Path::new("/c/a-b.cwasm")),
            Path::new("/c/a-b.cwasm.sha256")
        );
    }

    #[test]
    fn fingerprint_is_stable_per_engine_config() {
        let engine = Engine::default();
        assert_eq!(engine_fingerprint(&engine), engine_fingerprint(&engine));
        assert_eq!(engine_fingerprint(&engine).len(), 16);
    }
}
