//! `crdgen`: writes the CRDs of `dynamo_api` as YAML files (or to standard output), or their
//! field reference as Markdown.
//!
//! Run from the workspace root to refresh the committed files in `crds/` and the reference in
//! `docs/crd-reference.md`:
//!
//! ```text
//! cargo run -p dynamo-operator -- crdgen
//! cargo run -p dynamo-operator -- crdgen --reference docs/crd-reference.md
//! ```

mod reference;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Options of `dynamo-operator crdgen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory the YAML files are written to (created if missing).
    #[arg(long, default_value = "crds")]
    pub out: PathBuf,

    /// Print all CRDs as one multi-document YAML stream instead of writing files.
    #[arg(long)]
    pub stdout: bool,

    /// Write the Markdown field reference of the CRDs to FILE (`-`: standard output) instead of
    /// the YAML files.
    #[arg(long, value_name = "FILE", conflicts_with = "stdout")]
    pub reference: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if let Some(path) = &args.reference {
        let text = reference::markdown()?;
        return write_or_print(path, &text);
    }
    if args.stdout {
        let stream = dynamo_api::crds::multi_document_yaml()?;
        return write_or_print(Path::new("-"), &stream);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for (name, yaml) in dynamo_api::crds::rendered()? {
        write_or_print(&args.out.join(&name), &yaml)?;
    }
    Ok(())
}

/// Writes `text` to `path` unless it already holds it (`-`: standard output).
fn write_or_print(path: &Path, text: &str) -> anyhow::Result<()> {
    if path == Path::new("-") {
        return std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("writing to standard output");
    }
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        eprintln!("unchanged {}", path.display());
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_committed_crd_reference_is_fresh() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/crd-reference.md");
        let generated = super::reference::markdown().unwrap_or_else(|e| panic!("{e:#}"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/crd-reference.md is stale (it differs from what the CRD schemas give); \
             regenerate it with `{}`",
            super::reference::REFERENCE_COMMAND
        );
    }
}
